#!/usr/bin/env bash
# The reconciliation benchmark: reconciles N tokens (default 100000, 50 per Customer) held by a standalone Stripe
# sandbox process and a SQLite ledger file, and prints one markdown row: tokens, customers, outcome, time, tokens/s,
# gateway pages, HTTP requests, pacing (requests/s), time spent in gateway calls, ledger reads and ledger writes, peak
# managed heap and peak working set of the reconciling process, discrepancies. Seeding runs in its own process, so the peaks are the reconciler's alone.
#   scripts/bench-reconcile.sh [TOKENS] [PER_CUSTOMER] [RPS]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# shellcheck source=scripts/lib.sh
source "$root/scripts/lib.sh"
require_dotnet

tokens="${1:-100000}"
per_customer="${2:-50}"
rps="${3:-1000}"

dotnet build src/Tokenizer.StripeSandbox -c Release --nologo -v quiet -clp:ErrorsOnly >/dev/null
dotnet build tools/Tokenizer.ReconcileBench -c Release --nologo -v quiet -clp:ErrorsOnly >/dev/null

work="$(mktemp -d)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
DOTNET_ENVIRONMENT=Development dotnet src/Tokenizer.StripeSandbox/bin/Release/net10.0/Tokenizer.StripeSandbox.dll \
  --urls "http://127.0.0.1:$port" >"$work/sandbox.log" 2>&1 &
sandbox_pid=$!
trap 'kill "$sandbox_pid" 2>/dev/null || true; wait "$sandbox_pid" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do
  if curl -s -o /dev/null "http://127.0.0.1:$port/v1/customers"; then break; fi
  sleep 0.1
done

bench=(dotnet tools/Tokenizer.ReconcileBench/bin/Release/net10.0/Tokenizer.ReconcileBench.dll)
"${bench[@]}" seed --sandbox "http://127.0.0.1:$port" --ledger "$work/ledger.db" --tokens "$tokens" --per-customer "$per_customer" >&2
echo "| tokens | customers | outcome | time | tokens/s | gateway pages | HTTP requests | pacing (req/s) | in gateway calls | in ledger reads | in ledger writes | peak managed heap | peak working set | discrepancies |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
"${bench[@]}" reconcile --sandbox "http://127.0.0.1:$port" --ledger "$work/ledger.db" --rps "$rps"
