#!/usr/bin/env bash
# Lints proto/ with buf (STANDARD style), installing the pinned buf CLI from npm on first use.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="$root/tools/buf"
if [ ! -x "$tools/node_modules/.bin/buf" ]; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "error: npm is needed to install buf for the proto lint" >&2
    exit 2
  fi
  (cd "$tools" && npm ci --no-audit --no-fund --silent)
fi
cd "$root"
"$tools/node_modules/.bin/buf" lint
echo "buf lint: ok"
