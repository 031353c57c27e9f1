#!/usr/bin/env bash
# Runs Tokenizer on embedded defaults: SQLite ledger and the in-process Stripe sandbox, all state under ./data,
# gRPC over TLS (HTTP/2, client certificates) on https://127.0.0.1:5055. On first run it creates a development PKI
# under ./data/pki (CA, server, and billing/finance/admin client certificates). Arguments pass through as in any
# ASP.NET Core app, e.g.
#   scripts/run.sh --urls https://127.0.0.1:5056 --Tokenizer:DataDirectory=/tmp/tokenizer
# With --Stripe:ApiKey=sk_test_... (better: the environment variable Stripe__ApiKey) it talks to real Stripe.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# shellcheck source=scripts/lib.sh
source "$root/scripts/lib.sh"
require_dotnet

export ASPNETCORE_ENVIRONMENT="${ASPNETCORE_ENVIRONMENT:-Development}"
echo "building Tokenizer.Server (Release)..." >&2
build_quietly "$root/src/Tokenizer.Server/Tokenizer.Server.csproj"
echo "starting (${ASPNETCORE_ENVIRONMENT}); state in ${root}/data unless --Tokenizer:DataDirectory says otherwise" >&2
exec dotnet "$root/src/Tokenizer.Server/bin/Release/net10.0/Tokenizer.Server.dll" "$@"
