#!/usr/bin/env bash
# CI for the VS Code extension, called by the repository's .ci/run.
#
# On a fresh Debian 12 machine as root with only the package registries reachable: installs what it needs
# (apt: chromium, libkrb5-dev, ripgrep; npm ci; code-server into e2e-server/), type-checks, builds,
# packages assist.vsix, runs the unit tests and the real VS Code end-to-end test.
#
# Environment: ASSIST_VENV  Python venv with assist installed (default: <repo>/.venv); the e2e test runs
#                           $ASSIST_VENV/bin/assist-lsp and $ASSIST_VENV/bin/python tests/ollama_fake.py.
# Prints "N passed, M failed" as its last line; exits non-zero if anything failed.
set -uo pipefail

ext_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
repo_dir="$(cd "$ext_dir/.." && pwd)"
export ASSIST_VENV="${ASSIST_VENV:-$repo_dir/.venv}"
cd "$ext_dir"

passed=0
failed=0
logdir="$(mktemp -d)"
trap 'rm -rf "$logdir"' EXIT

finish() {
  echo
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
  exit $?
}

# One build step: counts as one failure (and stops the run) if it fails.
stage() {
  local name="$1"
  shift
  echo "=== $name"
  local start=$SECONDS
  if "$@"; then
    echo "=== $name: ok ($((SECONDS - start)) s)"
  else
    echo "=== $name: FAILED ($((SECONDS - start)) s)"
    failed=$((failed + 1))
    finish
  fi
}

# A node:test run (name, time limit in seconds, test directory); its counts are added to the totals.
tests() {
  local name="$1" limit="$2" dir="$3"
  local out="$logdir/$name.tap"
  echo "=== $name"
  local start=$SECONDS
  timeout --kill-after=20 "$limit" node --test --test-concurrency=1 --test-reporter=tap "$dir" 2>&1 | tee "$out"
  local rc=${PIPESTATUS[0]}
  local p f
  p="$(grep -E '^# pass [0-9]+' "$out" | tail -1 | awk '{print $3}')"
  f="$(grep -E '^# fail [0-9]+' "$out" | tail -1 | awk '{print $3}')"
  p="${p:-0}"
  f="${f:-0}"
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
    f=1 # the runner failed without reporting a failed test (crash, time-out)
  fi
  if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
    f=1 # ran no test
  fi
  passed=$((passed + p))
  failed=$((failed + f))
  echo "=== $name: $p passed, $f failed ($((SECONDS - start)) s)"
}

apt_install() {
  local missing=()
  command -v chromium >/dev/null || missing+=(chromium)
  command -v rg >/dev/null || missing+=(ripgrep)
  dpkg -s libkrb5-dev >/dev/null 2>&1 || missing+=(libkrb5-dev)
  command -v make >/dev/null || missing+=(make)
  command -v g++ >/dev/null || missing+=(g++)
  if [ "${#missing[@]}" -eq 0 ]; then
    echo "apt: chromium, ripgrep, libkrb5-dev, make, g++ present"
    return 0
  fi
  echo "apt: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

check_venv() {
  if [ ! -x "$ASSIST_VENV/bin/assist-lsp" ]; then
    echo "ASSIST_VENV=$ASSIST_VENV has no bin/assist-lsp (create the venv and pip install -e . first)" >&2
    return 1
  fi
}

stage "apt packages" apt_install
stage "python venv with assist-lsp" check_venv
stage "npm ci" npm ci --no-audit --no-fund
stage "install code-server 4.100.3" bash scripts/install-code-server.sh
stage "type check (tsc --noEmit)" npm run --silent typecheck
stage "package assist.vsix (esbuild + vsce)" npm run --silent package
stage "compile tests" node esbuild.mjs --tests
tests unit 120 out/test/unit/
tests e2e 600 out/test/e2e/
finish
