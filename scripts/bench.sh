#!/usr/bin/env bash
# Load benchmark: the Tokenizer server against the bare gRPC ceiling (an echo RPC behind the same TLS and client
# certificates), on this machine, in one run. Writes one JSON per scenario, latest.json and the Markdown table latest.md
# under tests/Tokenizer.LoadTests/results/ (README shows the table).
#
#   scripts/bench.sh                 all scenarios on the durable SQLite ledger (WAL, synchronous=FULL)
#   scripts/bench.sh --postgres      the same on a throwaway PostgreSQL 15 cluster (results in results/postgres/)
#   scripts/bench.sh --quick         short durations (a smoke run; figures not for publishing)
#   scripts/bench.sh --micro         also the BenchmarkDotNet micro-benchmarks (tests/Tokenizer.Benchmarks)
#
# Processes: the Stripe sandbox (its own process, in memory, a standing latency set per scenario through its control
# endpoint), the server (Release build, Development PKI under a temporary data directory, per-caller rate limit raised
# so the generator is not throttled), the echo ceiling, and the generator. Nothing else should run on the machine.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# shellcheck source=scripts/lib.sh
source "$root/scripts/lib.sh"
require_dotnet

postgres=false quick=false micro=false
for arg in "$@"; do
  case "$arg" in
    --postgres) postgres=true ;;
    --quick) quick=true ;;
    --micro) micro=true ;;
    *) echo "unknown argument: $arg" >&2; exit 2 ;;
  esac
done

scale() { if $quick; then echo "$2"; else echo "$1"; fi; }
results="$root/tests/Tokenizer.LoadTests/results"
if $postgres; then results="$results/postgres"; fi
work="$(mktemp -d /tmp/tokenizer-bench.XXXXXX)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if $postgres; then bash "$root/scripts/postgres.sh" stop >/dev/null 2>&1 || true; fi
  if [ -n "${BENCH_KEEP:-}" ]; then echo "kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
wait_port() {
  for _ in $(seq 1 300); do
    if (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.2
  done
  echo "error: nothing listening on port $1 (see $work/*.log)" >&2
  exit 1
}

echo "building (Release)..." >&2
build_quietly "$root/src/Tokenizer.Server/Tokenizer.Server.csproj"
build_quietly "$root/tests/Tokenizer.LoadTests/Tokenizer.LoadTests.csproj"
load="$root/tests/Tokenizer.LoadTests/bin/Release/net10.0/Tokenizer.LoadTests.dll"
server_dll="$root/src/Tokenizer.Server/bin/Release/net10.0/Tokenizer.Server.dll"

control_token="$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
sandbox_port="$(free_port)"
# The sandbox and the generator stand in for Stripe and the billing service, which run elsewhere in production: their
# thread pools do not spin waiting for work (DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=0), which halved the sandbox's
# CPU and leaves the 2 cores to the process being measured. The server and the echo keep the runtime's defaults.
harness_env=(env DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=0)
"${harness_env[@]}" dotnet "$load" sandbox --urls "http://127.0.0.1:$sandbox_port" --control-token "$control_token" >"$work/sandbox.log" 2>&1 &
pids+=("$!")
wait_port "$sandbox_port"
set_latency() {
  curl -fsS -X DELETE -H "Sandbox-Control-Token: $control_token" "http://127.0.0.1:$sandbox_port/_sandbox/faults" >/dev/null
  if [ "$1" -gt 0 ]; then
    curl -fsS -X POST -H "Sandbox-Control-Token: $control_token" -H 'Content-Type: application/json' \
      -d "[{\"match\":\"*\",\"action\":\"latency\",\"delay_ms\":$1,\"count\":0}]" \
      "http://127.0.0.1:$sandbox_port/_sandbox/faults" >/dev/null
  fi
}

ledger_args=()
ledger_name="SQLite (WAL, synchronous=FULL)"
if $postgres; then
  eval "$(bash "$root/scripts/postgres.sh" start)"
  ledger_args=(--Ledger:Provider=Postgres "--ConnectionStrings:Ledger=$TOKENIZER_TEST_POSTGRES")
  ledger_name="PostgreSQL 15 (synchronous_commit=on)"
fi

server_port="$(free_port)"
server_pid=""
start_server() {
  ASPNETCORE_ENVIRONMENT=Development dotnet "$server_dll" \
    --urls "https://127.0.0.1:$server_port" \
    --Tokenizer:DataDirectory="$work/data" \
    --Stripe:ApiKey=sk_test_bench --Stripe:ApiBase="http://127.0.0.1:$sandbox_port" \
    --Tokenizer:Limits:PermitsPerSecond=100000 --Tokenizer:Limits:Burst=100000 \
    --Tokenizer:Metrics:Urls= \
    "${ledger_args[@]}" >"$work/server.log" 2>&1 &
  server_pid="$!"
  pids+=("$server_pid")
  wait_port "$server_port"
}
stop_server() { kill -TERM "$server_pid"; wait "$server_pid" 2>/dev/null || true; }

start_server
pki="$work/data/pki"
echo_port="$(free_port)"
dotnet "$load" echo --urls "https://127.0.0.1:$echo_port" --pki "$pki" >"$work/echo.log" 2>&1 &
echo_pid="$!"
pids+=("$echo_pid")
wait_port "$echo_port"

rm -f "$results"/*.json "$results"/latest.md
mkdir -p "$results"
run() { # scenario target latency_ms extra-args...
  local scenario="$1" target="$2" latency="$3"; shift 3
  local address="https://127.0.0.1:$server_port" pid="$server_pid"
  if [ "$target" = echo ]; then address="https://127.0.0.1:$echo_port"; pid="$echo_pid"; fi
  set_latency "$latency"
  echo "scenario $scenario ($target, sandbox ${latency} ms)..." >&2
  "${harness_env[@]}" dotnet "$load" load --scenario "$scenario" --target "$target" --address "$address" --pki "$pki" \
    --server-pid "$pid" --sandbox-latency-ms "$latency" --out "$results/$scenario.json" "$@" >/dev/null
}

short="$(scale 30 5)" long="$(scale 60 10)" warm="$(scale 10 2)"
# Service cost: saturating closed loop, gateway latency 0; the echo ceiling the same way, minutes apart.
run ceiling-echo-closed echo 0 --concurrency 64 --connections 4 --duration "$short" --warmup "$warm"
run service-cost tokenizer 0 --concurrency 64 --connections 4 --duration "$short" --warmup "$warm"
# Added latency: 500/s open loop against a 100 ms gateway; the echo at the same rate for the ratio.
run ceiling-echo-500 echo 0 --rate 500 --connections 4 --duration "$short" --warmup "$warm"
run added-latency tokenizer 100 --rate 500 --connections 4 --duration "$short" --warmup "$warm"
# Many in flight: 1,000/s against a 300 ms gateway (about 300 calls in flight).
run ceiling-echo-1000 echo 0 --rate 1000 --connections 8 --duration "$short" --warmup "$warm"
run many-in-flight tokenizer 300 --rate 1000 --connections 8 --duration "$long" --warmup "$warm"

# Growth: the added-latency scenario again over a ledger of 1,000,000 more tokens (SQLite only: seeded offline).
if ! $postgres; then
  stop_server
  echo "seeding $(scale 1000000 100000) tokens..." >&2
  dotnet "$load" seed --ledger "$work/data/ledger/tokenizer.db" --count "$(scale 1000000 100000)" >"$work/seed.log"
  start_server
  # The restarted server is cold; the empty-ledger figure was taken after a minute of load, so warm it as long.
  run growth tokenizer 100 --rate 500 --connections 4 --duration "$short" --warmup "$(scale 60 5)"
fi

dotnet "$load" report --results "$results" --ledger "$ledger_name" \
  --machine "$(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr)" >/dev/null
echo "results: $results/latest.md" >&2
cat "$results/latest.md"

if $micro; then
  dotnet run -c Release --project "$root/tests/Tokenizer.Benchmarks" -- --filter '*' --exporters github \
    --artifacts "$results/micro"
fi
