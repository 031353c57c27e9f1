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
