#!/usr/bin/env bash
# Install code-server 4.100.3 (VS Code 1.100.3; the newest code-server that runs on Node 20) into
# e2e-server/node_modules for the end-to-end test, offline except for the npm registry.
#
# Quirks handled here, each observed on this project's Debian 12 / Node 20 / npm 11 machines:
# - npm >= 11.? blocks dependency install scripts unless allowed ("allowScripts"). e2e-server/package.json
#   allows argon2 and denies code-server's own postinstall, which is then run below by hand: run as a
#   lifecycle script, npm exports the allow-list as npm_config_allow_scripts, and the nested installs it
#   starts reject that ("--allow-scripts is not allowed in project-scoped installs"). The nested installs
#   (lib/vscode, lib/vscode/extensions) take their allow-list from a temporary user npmrc instead.
#   An older npm ignores allowScripts and runs the postinstall itself; the hand-run step is then skipped.
# - Running as root, code-server's postinstall insists on npm_config_unsafe_perm=true; node-pty's
#   post-install runs `npx node-gyp`, which needs npm_config_yes=true.
# - node-gyp downloads Node headers unless nodedir points at installed ones (Debian: /usr/include/node).
# - @vscode/ripgrep downloads rg from GitHub in its postinstall; its cache is seeded with Debian's rg.
# - kerberos builds against libkrb5-dev (apt).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="$here/e2e-server"
cs="$dir/node_modules/code-server"
marker="$dir/node_modules/.assist-e2e-installed"
stamp="$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)"

if [ -f "$marker" ] && [ "$(cat "$marker")" = "$stamp" ] && [ -f "$cs/out/node/entry.js" ]; then
  echo "code-server: already installed in $dir"
  exit 0
fi

# Pinned by code-server 4.100.3's lib/vscode/package-lock.json.
ripgrep_pkg_version="1.15.11"
ripgrep_asset="ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz"
if [ "$(uname -m)" != "x86_64" ]; then
  echo "install-code-server: only x86_64 Linux is prepared here (ripgrep cache seeding)" >&2
  exit 1
fi
rg_bin="$(command -v rg || true)"
if [ -z "$rg_bin" ]; then
  echo "install-code-server: ripgrep is missing; apt-get install ripgrep" >&2
  exit 1
fi
cache="${TMPDIR:-/tmp}/vscode-ripgrep-cache-$ripgrep_pkg_version"
if [ ! -s "$cache/$ripgrep_asset" ]; then
  mkdir -p "$cache"
  seed="$(mktemp -d)"
  cp "$rg_bin" "$seed/rg"
  tar -czf "$cache/$ripgrep_asset" -C "$seed" rg
  rm -rf "$seed"
fi

npmrc="$(mktemp)"
trap 'rm -f "$npmrc"' EXIT
{
  if [ -f "$HOME/.npmrc" ]; then cat "$HOME/.npmrc"; echo; fi
  echo "allow-scripts=@parcel/watcher,@vscode/deviceid,@vscode/ripgrep,@vscode/spdlog,kerberos,native-watchdog,node-pty,esbuild,argon2"
} > "$npmrc"

export NPM_CONFIG_USERCONFIG="$npmrc"
export npm_config_unsafe_perm=true
export npm_config_yes=true
export npm_config_audit=false
export npm_config_fund=false
if [ -f /usr/include/node/common.gypi ] && [ -z "${npm_config_nodedir:-}" ]; then
  export npm_config_nodedir=/usr
fi

rm -f "$marker"
echo "code-server: npm ci in $dir"
(cd "$dir" && npm ci --no-audit --no-fund)

if [ ! -e "$cs/lib/vscode/node_modules.asar" ] || [ ! -d "$cs/lib/vscode/extensions/node_modules" ]; then
  echo "code-server: running its postinstall (VS Code's native modules)"
  (cd "$cs" && npm_config_user_agent="npm/$(npm -v) node/$(node -v) linux x64" sh ./postinstall.sh)
fi

# XDG_CONFIG_HOME: --version writes a default config.yaml there.
xdg="$(mktemp -d)"
version="$(XDG_CONFIG_HOME="$xdg" "$cs/out/node/entry.js" --version | head -1)"
rm -rf "$xdg"
echo "$stamp" > "$marker"
echo "code-server: installed ($version)"
