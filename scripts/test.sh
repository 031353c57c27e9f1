#!/usr/bin/env bash
# Runs the whole suite (unit, integration over real gRPC + Kestrel + the sandbox over HTTP + SQLite, the ledger on
# SQLite and on a throwaway PostgreSQL 15 cluster, security) and ends with one line: "tests: N passed, M failed".
# Exit code 0 only when everything built and passed.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# shellcheck source=scripts/lib.sh
source "$root/scripts/lib.sh"
require_dotnet

results="$root/artifacts/test-results"
rm -rf "$results"
mkdir -p "$results"

status=0
if ! bash "$root/scripts/lint-proto.sh"; then
  echo "proto lint failed" >&2
  status=1
fi

if ! dotnet build Tokenizer.sln -c Release --nologo -v quiet -clp:ErrorsOnly; then
  echo "build failed" >&2
  echo "tests: 0 passed, 1 failed"
  exit 1
fi

# The PostgreSQL ledger tests need a server: a throwaway cluster (scripts/postgres.sh: temp folder, loopback, a free
# port; apt-get installs the server where it is missing), stopped and removed on exit. If it cannot start, say so and
# run the suite anyway: those tests then fail with that reason (they never skip), and so does this script.
# shellcheck source=scripts/postgres.sh
source "$root/scripts/postgres.sh"
trap 'postgres_stop' EXIT
trap 'exit 130' INT TERM
if ! postgres_start; then
  echo "error: the throwaway PostgreSQL cluster did not start; the PostgreSQL ledger tests will fail" >&2
  unset TOKENIZER_TEST_POSTGRES TOKENIZER_TEST_POSTGRES_CA
  status=1
fi

# The HTML report is checked in a real browser (headless Chromium): install it where it is missing. If that fails the
# browser tests fail with that reason (they never skip), and so does this script.
if ! ensure_chromium; then
  echo "error: chromium could not be installed; the HTML report browser tests will fail" >&2
  status=1
fi

# Every sandbox the integration suite starts appends the requests it received (names, kinds and enum words only,
# never values) to artifacts/sandbox-requests (the suite sets TOKENIZER_SANDBOX_REQUEST_LOG_DIR for itself and the
# servers it runs; other projects' sandboxes, which send malformed requests on purpose, do not export). The
# conformance check judges them against Stripe's OpenAPI description after the suite.
rm -rf "$root/artifacts/sandbox-requests"

dotnet test Tokenizer.sln -c Release --no-build --nologo -v quiet --filter "Category!=SuiteConformance" \
  --logger "trx" --logger "console;verbosity=minimal" --results-directory "$results" || status=1

# Judge what was recorded (the test fails when nothing was). Its result is a .trx like the others, so it is counted in
# the line below.
dotnet test tests/Tokenizer.IntegrationTests -c Release --no-build --nologo -v quiet --filter "Category=SuiteConformance" \
  --logger "trx;LogFileName=suite-conformance.trx" --logger "console;verbosity=normal" --results-directory "$results" || status=1

# The reviewer's one command, on top of the suite that just ran: scanner, a real server over TLS, openssl, audit.
security_log="$results/security-check.log"
if bash "$root/scripts/security-check.sh" --no-suite >"$security_log" 2>&1; then
  security_failed=0
else
  security_failed=1
  status=1
fi
sed -n '/^| check /,$p' "$security_log"
security_rows=$(grep -cE '^\| [^|]+\| (PASS|FAIL) \|' "$security_log" || true)
security_fails=$(grep -cE '^\| [^|]+\| FAIL \|' "$security_log" || true)
if [ "$security_failed" -eq 1 ] && [ "$security_fails" -eq 0 ]; then
  tail -n 30 "$security_log" >&2
  security_fails=1
fi

passed=$(( ${security_rows:-0} - ${security_fails:-0} ))
failed=${security_fails:-0}
shopt -s nullglob
for trx in "$results"/*.trx; do
  counters=$(grep -o '<Counters [^>]*' "$trx" | head -n 1)
  p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters")
  f=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")
  passed=$((passed + ${p:-0}))
  failed=$((failed + ${f:-0}))
done

# A crashed test host or a failed lint leaves no failed test behind: count it, so the line never says all is well.
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  failed=1
fi
if [ "$passed" -eq 0 ]; then
  echo "no test ran" >&2
  status=1
  [ "$failed" -eq 0 ] && failed=1
fi

echo "tests: ${passed} passed, ${failed} failed"
exit "$status"
