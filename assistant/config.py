"""Settings in one place, loaded in one order.

Layers, later wins: built-in defaults < user config (``$XDG_CONFIG_HOME/assist/config.toml``, or
``$ASSIST_CONFIG``) < project ``.assist.toml`` (nearest one at or above the project root) <
environment (``OLLAMA_HOST``, ``ASSIST_*``) < command-line flags.

Every layer is validated against the dataclasses below: an unknown key or a value of the wrong type
is a ``ConfigError`` that names the file (or variable) and the dotted key, so a typo never silently
falls back to a default.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from assistant.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

DEFAULT_OLLAMA_HOST = "http://127.0.0.1:11434"
PROJECT_CONFIG_NAME = ".assist.toml"
Role = Literal["completion", "analysis"]
ROLES: tuple[Role, ...] = ("completion", "analysis")


@dataclass
class OllamaSettings:
    """How to reach the Ollama server(s)."""

    host: str = DEFAULT_OLLAMA_HOST
    # Extra HTTP headers for every request, e.g. {"Authorization": "Bearer …"} behind a proxy.
    headers: dict[str, str] = field(default_factory=dict)
    connect_timeout: float = 5.0
    # A cold 70B load on two MI50s takes well over a minute before the first token.
    first_token_timeout: float = 300.0
    # Between two streamed chunks once generation runs.
    idle_timeout: float = 60.0


@dataclass
class RoleSettings:
    """One model role: which model, on which host(s), with which extra request options."""

    model: str = ""
    # Several hosts: requests go to the first healthy one and fail over to the next. Empty: ollama.host.
    hosts: list[str] = field(default_factory=list)
    # Per-request options (temperature, top_p, …). Never num_ctx: a different num_ctx reloads the model.
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class RolesSettings:
    completion: RoleSettings = field(default_factory=lambda: RoleSettings(model="assist-completion"))
    analysis: RoleSettings = field(default_factory=lambda: RoleSettings(model="assist-coder"))

    def get(self, role: Role) -> RoleSettings:
        if role not in ROLES:
            raise ConfigError(f"unknown model role {role!r}; expected one of {', '.join(ROLES)}")
        return typing.cast(RoleSettings, getattr(self, role))


@dataclass
class FilesSettings:
    """Which files of a project are read at all."""

    # Larger files are skipped: they are nearly always data, vendored bundles or generated code.
    max_file_bytes: int = 1_000_000
    # Extra gitignore-style patterns, on top of .gitignore and .assistignore.
    exclude: list[str] = field(default_factory=list)
    # Opt-in only: let .env, keys and credential files into prompts.
    include_secrets: bool = False
    # Opt-out of line redaction (private keys, well-known token formats).
    redact: bool = True


@dataclass
class PackSettings:
    budget: int = 32768
    format: Literal["markdown", "xml", "json"] = "markdown"


@dataclass
class CompletionSettings:
    """Tab completion (language server)."""

    enabled: bool = True
    debounce_ms: int = 150
    # Completion must be short to be fast; multi-line completions still fit.
    max_tokens: int = 128
    # Token budget for the whole FIM prompt: local prefix/suffix plus cross-file context.
    context_tokens: int = 4096
    # languageId -> enabled; "*" is the default for languages not listed.
    languages: dict[str, bool] = field(default_factory=dict)


@dataclass
class ReviewSettings:
    fail_on: Literal["info", "warning", "error", "never"] = "error"
    format: Literal["text", "json", "sarif", "github"] = "text"


@dataclass
class GenerateSettings:
    # Raised above the Modelfile's default when a long file must be written.
    num_predict: int = 8192
    max_continuations: int = 8


@dataclass
class Settings:
    ollama: OllamaSettings = field(default_factory=OllamaSettings)
    roles: RolesSettings = field(default_factory=RolesSettings)
    files: FilesSettings = field(default_factory=FilesSettings)
    pack: PackSettings = field(default_factory=PackSettings)
    completion: CompletionSettings = field(default_factory=CompletionSettings)
    review: ReviewSettings = field(default_factory=ReviewSettings)
    generate: GenerateSettings = field(default_factory=GenerateSettings)
    # Where the index cache lives; default: the user cache dir (never inside the project).
    cache_dir: str = ""
    # Where each layer came from, for `assist doctor` and error messages.
    sources: list[str] = field(default_factory=list)

    def role(self, role: Role) -> RoleSettings:
        return self.roles.get(role)

    def hosts(self, role: Role) -> list[str]:
        """The hosts of a role in failover order, each normalised to ``http(s)://host:port``."""
        r = self.role(role)
        return [normalize_host(h) for h in (r.hosts or [self.ollama.host])]


# --------------------------------------------------------------------------- validation


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def _check_value(value: Any, tp: Any, where: str) -> Any:
    """Return ``value`` converted to ``tp`` or raise ConfigError naming ``where``."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp is Any:
        return value
    if origin is Literal:
        if value not in args:
            allowed = ", ".join(repr(a) for a in args)
            raise ConfigError(f"{where}: {value!r} is not one of {allowed}")
        return value
    if origin in (typing.Union, types.UnionType):
        errors = []
        for arg in args:
            try:
                return _check_value(value, arg, where)
            except ConfigError as exc:
                errors.append(str(exc))
        raise ConfigError(f"{where}: {value!r} is not a {_type_name(tp)}")
    if origin is list:
        if not isinstance(value, list):
            raise ConfigError(f"{where}: expected a list, got {type(value).__name__}")
        return [_check_value(v, args[0], f"{where}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, Mapping):
            raise ConfigError(f"{where}: expected a table, got {type(value).__name__}")
        return {str(k): _check_value(v, args[1], f"{where}.{k}") for k, v in value.items()}
    if tp is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("1", "true", "yes", "on", "0", "false", "no", "off"):
            return value.lower() in ("1", "true", "yes", "on")
        raise ConfigError(f"{where}: expected true or false, got {value!r}")
    if tp is int:
        if isinstance(value, bool):
            raise ConfigError(f"{where}: expected an integer, got {value!r}")
        if isinstance(value, int):
            if value < 0:
                raise ConfigError(f"{where}: must not be negative, got {value}")
            return value
        if isinstance(value, str):
            try:
                return _check_value(int(value.replace("_", "")), int, where)
            except ValueError:
                pass
        raise ConfigError(f"{where}: expected an integer, got {value!r}")
    if tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if value <= 0:
                raise ConfigError(f"{where}: must be positive, got {value}")
            return float(value)
        if isinstance(value, str):
            try:
                return _check_value(float(value), float, where)
            except ValueError:
                pass
        raise ConfigError(f"{where}: expected a number, got {value!r}")
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where}: expected a string, got {value!r}")
        return value
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, Mapping):
            raise ConfigError(f"{where}: expected a table, got {type(value).__name__}")
        return value
    raise ConfigError(f"{where}: unsupported setting type {_type_name(tp)}")  # pragma: no cover


def _merge(target: Any, data: Mapping[str, Any], source: str, prefix: str = "") -> None:
    """Validate ``data`` against dataclass instance ``target`` and overwrite its fields in place."""
    hints = typing.get_type_hints(type(target))
    names = {f.name for f in dataclasses.fields(target) if f.name != "sources"}
    for key, value in data.items():
        dotted = f"{prefix}{key}"
        if key not in names:
            known = ", ".join(sorted(names))
            raise ConfigError(f"{source}: unknown key '{dotted}' (known here: {known})")
        tp = hints[key]
        current = getattr(target, key)
        if dataclasses.is_dataclass(current):
            if not isinstance(value, Mapping):
                raise ConfigError(f"{source}: '{dotted}' must be a table, got {type(value).__name__}")
            _merge(current, value, source, f"{dotted}.")
        else:
            setattr(target, key, _check_value(value, tp, f"{source}: '{dotted}'"))


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from exc


# --------------------------------------------------------------------------- layers


def user_config_path() -> Path:
    explicit = os.environ.get("ASSIST_CONFIG")
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "assist" / "config.toml"


def find_project_config(start: Path) -> Path | None:
    """The nearest ``.assist.toml`` at or above ``start`` (a file or folder)."""
    here = start if start.is_dir() else start.parent
    for folder in (here, *here.parents):
        candidate = folder / PROJECT_CONFIG_NAME
        if candidate.is_file():
            return candidate
    return None


def normalize_host(host: str) -> str:
    """Accept what ``OLLAMA_HOST`` accepts (``0.0.0.0``, ``host:port``, ``https://h``) and return a URL."""
    value = host.strip().rstrip("/")
    if not value:
        raise ConfigError("ollama host is empty")
    scheme = "http"
    if "://" in value:
        scheme, value = value.split("://", 1)
        if scheme not in ("http", "https"):
            raise ConfigError(f"ollama host {host!r}: scheme must be http or https")
    hostport, _, path = value.partition("/")
    default_port = 443 if scheme == "https" else 11434
    if hostport.startswith("["):  # IPv6 literal
        end = hostport.find("]")
        name, rest = hostport[: end + 1], hostport[end + 1 :]
        port = rest[1:] if rest.startswith(":") else ""
    elif hostport.count(":") == 1:
        name, port = hostport.split(":")
    else:
        name, port = hostport, ""
    if name in ("", "0.0.0.0"):
        name = "127.0.0.1"
    if port and not port.isdigit():
        raise ConfigError(f"ollama host {host!r}: port must be a number")
    url = f"{scheme}://{name}:{port or default_port}"
    return f"{url}/{path}" if path else url


# Environment variables and the dotted setting each one sets.
ENV_VARS: dict[str, str] = {
    "OLLAMA_HOST": "ollama.host",
    "ASSIST_TIMEOUT": "ollama.first_token_timeout",
    "ASSIST_CONNECT_TIMEOUT": "ollama.connect_timeout",
    "ASSIST_IDLE_TIMEOUT": "ollama.idle_timeout",
    "ASSIST_COMPLETION_MODEL": "roles.completion.model",
    "ASSIST_ANALYSIS_MODEL": "roles.analysis.model",
    "ASSIST_BUDGET": "pack.budget",
    "ASSIST_CACHE_DIR": "cache_dir",
    "ASSIST_INCLUDE_SECRETS": "files.include_secrets",
    "ASSIST_DEBOUNCE_MS": "completion.debounce_ms",
}


def dotted_to_nested(values: Mapping[str, Any]) -> dict[str, Any]:
    """``{"a.b": 1}`` -> ``{"a": {"b": 1}}`` (used by env, flags and editor settings)."""
    nested: dict[str, Any] = {}
    for dotted, value in values.items():
        node = nested
        *parents, leaf = dotted.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return nested


def _env_layer(environ: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {dotted: environ[name] for name, dotted in ENV_VARS.items() if environ.get(name)}
    token = environ.get("ASSIST_OLLAMA_TOKEN")
    if token:
        values["ollama.headers"] = {"Authorization": f"Bearer {token}"}
    return dotted_to_nested(values)


def load_settings(
    project_root: Path | None = None,
    *,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    user_config: Path | None = None,
) -> Settings:
    """Build the effective settings.

    ``overrides`` are the CLI flags (or editor settings) as dotted keys, e.g. ``{"pack.budget": 8000}``;
    ``None`` values are ignored so argparse defaults can pass straight through.
    """
    env = os.environ if environ is None else environ
    settings = Settings()
    settings.sources.append("defaults")
    user_path = user_config or user_config_path()
    if user_path.is_file():
        _merge(settings, _read_toml(user_path), str(user_path))
        settings.sources.append(str(user_path))
    if project_root is not None:
        project_path = find_project_config(project_root)
        if project_path is not None:
            _merge(settings, _read_toml(project_path), str(project_path))
            settings.sources.append(str(project_path))
    env_layer = _env_layer(env)
    if env_layer:
        _merge(settings, env_layer, "environment")
        settings.sources.append("environment")
    if overrides:
        flags = {k: v for k, v in overrides.items() if v is not None}
        if flags:
            _merge(settings, dotted_to_nested(flags), "command line")
            settings.sources.append("command line")
    for role in ROLES:
        for host in settings.hosts(role):  # validate early, with the offending value named
            normalize_host(host)
    return settings


def cache_dir(settings: Settings) -> Path:
    """The user cache dir for indexes and tokenizers; never inside a project."""
    if settings.cache_dir:
        return Path(settings.cache_dir).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "assist"
