//! Configuration loading for the daemon.

use std::collections::HashMap;
use std::{fmt, fs, path::{Path, PathBuf}};
use serde::Deserialize;
use crate::error::{Error, Result};

mod defaults;

/// Maximum size of a config file in bytes.
pub const MAX_CONFIG_BYTES: u64 = 1 << 20;

/// Where a setting came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Default,
    File,
    Env,
}

/// Daemon settings after merging all sources.
#[derive(Debug, Deserialize)]
pub struct Config {
    pub listen: String,
    pub workers: usize,
    #[serde(default)]
    pub labels: HashMap<String, String>,
}

pub trait Validate {
    /// Check invariants; the error names the offending key.
    fn validate(&self) -> Result<()>;

    fn is_valid(&self) -> bool {
        self.validate().is_ok()
    }
}

impl Config {
    /// Read and parse a TOML file.
    pub fn load(path: &Path) -> Result<Self> {
        let meta = fs::metadata(path).map_err(|e| Error::io(path, e))?;
        if meta.len() > MAX_CONFIG_BYTES {
            return Err(Error::TooLarge(path.to_path_buf()));
        }
        let text = fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let config: Config = toml::from_str(&text).map_err(|e| Error::parse(path, e))?;
        config.validate()?;
        Ok(config)
    }

    pub fn search_paths(home: &Path) -> Vec<PathBuf> {
        vec![home.join(".config/daemon.toml"), PathBuf::from("/etc/daemon.toml")]
    }
}

impl Validate for Config {
    fn validate(&self) -> Result<()> {
        if self.workers == 0 {
            return Err(Error::invalid("workers", "must be at least 1"));
        }
        Ok(())
    }
}

impl fmt::Display for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({} workers)", self.listen, self.workers)
    }
}

pub fn merge<T: Clone>(base: &HashMap<String, T>, over: &HashMap<String, T>) -> HashMap<String, T>
where
    T: fmt::Debug,
{
    let mut merged = base.clone();
    for (key, value) in over {
        merged.insert(key.clone(), value.clone());
    }
    merged
}
