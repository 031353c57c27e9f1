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
