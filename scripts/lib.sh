#!/usr/bin/env bash
# Shared helpers for the scripts in this folder.

# The .NET SDK must be on PATH (it is on this project's machines); say so plainly when it is not.
require_dotnet() {
  if ! command -v dotnet >/dev/null 2>&1; then
    echo "error: the .NET 10 SDK (dotnet) is not on PATH" >&2
    exit 2
  fi
  export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
}

# Builds a project in Release, printing the build's output only when it fails.
build_quietly() {
  local log
  if ! log=$(dotnet build "$1" -c Release --nologo -v quiet 2>&1); then
    echo "$log" >&2
    echo "error: build failed: $1" >&2
    exit 1
  fi
}

# Makes sure a Chromium the browser tests can drive is installed (Debian's `chromium` package, headless): installs it
# with apt-get where it is missing. Returns non-zero (and says why) when it cannot; the browser tests then fail, never skip.
ensure_chromium() {
  if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || [ -n "${CHROMIUM_PATH:-}" ]; then
    return 0
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "error: chromium not found and apt-get is not available to install it" >&2
    return 1
  fi
  echo "chromium not found: installing it with apt-get" >&2
  { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; } >&2 || return 1
  command -v chromium >/dev/null 2>&1
}
