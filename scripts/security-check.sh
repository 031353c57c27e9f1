#!/usr/bin/env bash
# The one command a security reviewer runs. It proves, on this machine and this checkout:
#   - the security test suite passes (auth matrix, scoping, limits, TLS, masking, leakage sweep, audit tampering);
#   - the repository holds no card data outside test fixtures (the card-data scanner);
#   - a real server, after tokenising distinctive cards and bank accounts, keeps none of them in its data directory or
#     its output (the scanner, plus an exact search for each value), while the token ids are there (positive control);
#   - the server lowers its own core-file limit to 0 (soft and hard) though started with it raised;
#   - TLS from outside: 1.0 and 1.1 refused, 1.2 and 1.3 accepted (openssl s_client);
#   - no client certificate: UNAUTHENTICATED; a certificate of the wrong role: PERMISSION_DENIED;
#   - the audit trail of that run verifies.
# It ends with a pass/fail table to paste into a report, and exits non-zero when any check fails.
#   scripts/security-check.sh              everything
#   scripts/security-check.sh --no-suite   skip the test suite (scripts/test.sh has just run it)
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# shellcheck source=scripts/lib.sh
source "$root/scripts/lib.sh"
require_dotnet

run_suite=1
[ "${1:-}" = "--no-suite" ] && run_suite=0

rows=()
failures=0
record() { # check, PASS|FAIL, detail
  rows+=("$1|$2|$3")
  [ "$2" = "PASS" ] || failures=$((failures + 1))
}

work=$(mktemp -d /tmp/tokenizer-security-XXXXXX)
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
  if [ -n "${TOKENIZER_KEEP_WORK:-}" ]; then echo "kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT

echo "building (Release)..." >&2
if ! log=$(dotnet build Tokenizer.sln -c Release --nologo -v quiet 2>&1); then
  echo "$log" >&2
  record "build" FAIL "the solution does not build"
  failures=99
fi

if [ "$failures" -eq 0 ]; then
  if [ "$run_suite" -eq 1 ]; then
    if out=$(dotnet test tests/Tokenizer.SecurityTests -c Release --no-build --nologo 2>&1); then
      record "security test suite" PASS "$(grep -Eo 'Passed: +[0-9]+' <<<"$out" | tail -n1 | tr -s ' ')"
    else
      echo "$out" >&2
      record "security test suite" FAIL "$(grep -Eo 'Failed: +[0-9]+' <<<"$out" | tail -n1 | tr -s ' ')"
    fi
  fi

  if out=$(bash scripts/scan-card-data.sh 2>&1); then
    record "card data in the repository" PASS "$(tail -n1 <<<"$out")"
  else
    echo "$out" >&2
    record "card data in the repository" FAIL "$(tail -n1 <<<"$out")"
  fi

  # A real server on a free loopback port, its own data directory, embedded defaults.
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
  data="$work/data"
  server_log="$work/server.log"
  # Started with the core-file limit raised as far as this shell may (exec keeps the pid): the server must lower its own to 0.
  bash -c 'ulimit -c "$(ulimit -Hc)"; exec "$@"' bash \
    dotnet src/Tokenizer.Server/bin/Release/net10.0/Tokenizer.Server.dll --urls "https://127.0.0.1:$port" \
    --Tokenizer:DataDirectory="$data" --environment Development >"$server_log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 60); do
    grep -q "Now listening on" "$server_log" 2>/dev/null && break
    sleep 1
  done
  cli() { dotnet src/Tokenizer.Cli/bin/Release/net10.0/tokenizer.dll --server "https://127.0.0.1:$port" --pki "$data/pki" "$@"; }

  if ! grep -q "Now listening on" "$server_log"; then
    record "server start" FAIL "did not listen within 60 s"
  else
    # The kernel's core dump: the server's RLIMIT_CORE (soft, hard) must read 0 0 whatever it was started with.
    inherited=$(bash -c 'ulimit -c "$(ulimit -Hc)"; ulimit -c')
    core=$(awk '/^Max core file size/ {print $5, $6}' "/proc/$server_pid/limits" 2>/dev/null)
    if [ "$core" = "0 0" ]; then
      record "kernel core dump off" PASS "RLIMIT_CORE 0/0 (started with $inherited)"
    else
      record "kernel core dump off" FAIL "RLIMIT_CORE ${core:-unknown} (started with $inherited)"
    fi
    # Distinctive values, fresh for this run, so a hit can only come from this run.
    read -r pan iban becs bacs ach < <(python3 - <<'PY'
import random
r = random.SystemRandom()
def digits(n): return "".join(r.choice("0123456789") for _ in range(n))
def luhn(body):
    s = 0
    for i, c in enumerate(reversed(body)):
        d = int(c)
        if i % 2 == 0:
            d *= 2
            d -= 9 if d > 9 else 0
        s += d
    return body + str((10 - s % 10) % 10)
basic = digits(18)
check = 98 - int(basic + "131400") % 97
print(luhn("4" + digits(14)), f"DE{check:02d}{basic}", "7" + digits(8), "8" + digits(7), "9" + digits(11))
PY
)
    billing='"billing_details":{"name":"Security Check","email":"check@example.com","address":{"line1":"1 Check Road","city":"London","postal_code":"EC1A 1BB","country":"GB"}}'
    # Every debit carries the customer's mandate acceptance (online: their IP address and browser).
    # The user agent carries a marker of this run: personal data, only ever encrypted under the subject's key here.
    agent="securitycheckagent$RANDOM$RANDOM"
    mandate="\"mandate_acceptance\":{\"accepted_at\":\"$(date -u +%FT%TZ)\",\"online\":{\"ip_address\":\"203.0.113.7\",\"user_agent\":\"$agent\"}}"
    tokens=()
    t=$(echo "{\"card\":{\"number\":\"$pan\",\"exp_month\":12,\"exp_year\":2031,\"cvc\":\"321\"},$billing}" | cli tokenize card --customer sec-check --json 2>>"$work/cli.err" | grep -o 'pm_[A-Za-z0-9]*' | head -n1) && tokens+=("$t")
    t=$(echo "{\"sepa_debit\":{\"iban\":\"$iban\"},$billing,$mandate}" | cli tokenize bank --customer sec-check --json 2>>"$work/cli.err" | grep -o 'pm_[A-Za-z0-9]*' | head -n1) && tokens+=("$t")
    t=$(echo "{\"au_becs_debit\":{\"bsb_number\":\"000000\",\"account_number\":\"$becs\"},$billing,$mandate}" | cli tokenize bank --customer sec-check --json 2>>"$work/cli.err" | grep -o 'pm_[A-Za-z0-9]*' | head -n1) && tokens+=("$t")
    t=$(echo "{\"bacs_debit\":{\"sort_code\":\"108800\",\"account_number\":\"$bacs\"},$billing,$mandate}" | cli tokenize bank --customer sec-check --json 2>>"$work/cli.err" | grep -o 'pm_[A-Za-z0-9]*' | head -n1) && tokens+=("$t")
    t=$(echo "{\"us_bank_account\":{\"routing_number\":\"110000000\",\"account_number\":\"$ach\",\"account_holder_type\":\"ACCOUNT_HOLDER_TYPE_INDIVIDUAL\",\"account_type\":\"ACCOUNT_TYPE_CHECKING\"},$billing,$mandate}" | cli tokenize bank --customer sec-check --json 2>>"$work/cli.err" | grep -o 'pm_[A-Za-z0-9]*' | head -n1) && tokens+=("$t")
    # An invalid card too, so error paths run.
    echo "{\"card\":{\"number\":\"${pan%?}$(( (${pan: -1} + 1) % 10 ))\",\"exp_month\":12,\"exp_year\":2031,\"cvc\":\"321\"}}" | cli tokenize card --customer sec-check >/dev/null 2>&1
    if [ "${#tokens[@]}" -eq 5 ]; then
      record "tokenisation run" PASS "5 tokens (card, SEPA, BECS, Bacs, ACH)"
    else
      record "tokenisation run" FAIL "${#tokens[@]} of 5 tokens; $(tail -n1 "$work/cli.err" 2>/dev/null)"
    fi

    for version in tls1 tls1_1 tls1_2 tls1_3; do
      out=$(openssl s_client -connect "127.0.0.1:$port" "-$version" -cipher 'DEFAULT:@SECLEVEL=0' -CAfile "$data/pki/ca.crt" -brief </dev/null 2>&1)
      if grep -q "Protocol version" <<<"$out"; then accepted=yes; else accepted=no; fi
      case "$version" in
        tls1|tls1_1) [ "$accepted" = no ] && record "TLS ${version#tls} refused" PASS "handshake refused" || record "TLS ${version#tls} refused" FAIL "handshake accepted" ;;
        *) [ "$accepted" = yes ] && record "TLS ${version#tls} accepted" PASS "$(grep -o 'Protocol version: .*' <<<"$out")" || record "TLS ${version#tls} accepted" FAIL "handshake refused" ;;
      esac
    done

    # gRPC without a client certificate: a trailers-only answer with grpc-status 16, or HTTP 401.
    status=$(printf '\0\0\0\0\0' | curl -s --http2 --cacert "$data/pki/ca.crt" -X POST -H 'content-type: application/grpc' -H 'te: trailers' \
      --data-binary @- -D - -o /dev/null "https://127.0.0.1:$port/tokenizer.v1.TokenizerService/GetToken" | tr -d '\r' | grep -Ei '^(HTTP/2 |grpc-status:)' | tr '\n' ' ')
    if grep -Eq 'HTTP/2 401|grpc-status: 16' <<<"$status"; then
      record "no client certificate" PASS "UNAUTHENTICATED ($status)"
    else
      record "no client certificate" FAIL "answered: $status"
    fi
    if out=$(cli token revoke "${tokens[0]:-pm_none}" --cert "$data/pki/finance.crt" --key "$data/pki/finance.key" 2>&1); then
      record "wrong role" FAIL "finance could revoke"
    elif grep -q "PermissionDenied" <<<"$out"; then
      record "wrong role" PASS "PERMISSION_DENIED"
    else
      record "wrong role" FAIL "$(head -n1 <<<"$out")"
    fi

    # Malformed protobuf (field 1 announces 10 bytes, 2 follow) as the billing caller: INVALID_ARGUMENT (3) with ErrorInfo
    # MALFORMED_REQUEST in grpc-status-details-bin, and a record in the audit trail (read back as admin).
    headers=$(printf '\0\0\0\0\4\n\nab' | curl -s --http2 --cacert "$data/pki/ca.crt" --cert "$data/pki/billing.crt" --key "$data/pki/billing.key" \
      -X POST -H 'content-type: application/grpc' -H 'te: trailers' --data-binary @- -D - -o /dev/null \
      "https://127.0.0.1:$port/tokenizer.v1.TokenizerService/GetToken" | tr -d '\r')
    details=$(grep -i '^grpc-status-details-bin:' <<<"$headers" | head -n1 | cut -d' ' -f2 | python3 -c 'import base64,sys; s=sys.stdin.read().strip(); print(base64.b64decode(s + "=" * (-len(s) % 4)).decode("latin-1"))' 2>/dev/null)
    audited=0
    if cli audit export --from "$(date -u +%F)" --to "$(date -u -d tomorrow +%F)" --out "$work/audit.jsonl" >/dev/null 2>&1; then
      audited=$(grep -c 'MALFORMED_REQUEST' "$work/audit.jsonl")
    fi
    if grep -qi '^grpc-status: 3' <<<"$headers" && grep -q 'MALFORMED_REQUEST' <<<"$details" && [ "$audited" -ge 1 ]; then
      record "malformed protobuf answered INVALID_ARGUMENT and audited" PASS "INVALID_ARGUMENT MALFORMED_REQUEST; $audited audit record(s)"
    else
      record "malformed protobuf answered INVALID_ARGUMENT and audited" FAIL "$(grep -i '^grpc-status:' <<<"$headers" | head -n1); details: ${details:+present}; $audited audit record(s)"
    fi

    if out=$(cli audit verify 2>&1); then
      record "audit trail verifies" PASS "$(head -n1 <<<"$out")"
    else
      record "audit trail verifies" FAIL "$(head -n1 <<<"$out")"
    fi

    # A self-signed client certificate whose subject carries a PAN written with dots and a marker no scrubber knows.
    marker="subjectmarker$RANDOM$RANDOM"
    subject_pan=$(sed 's/\(....\)/\1./g; s/\.$//' <<<"$pan")
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj "/CN=$subject_pan/O=$marker" \
      -keyout "$work/hostile.key" -out "$work/hostile.crt" >/dev/null 2>&1
    printf '\0\0\0\0\0' | curl -s --http2 --cacert "$data/pki/ca.crt" --cert "$work/hostile.crt" --key "$work/hostile.key" -X POST \
      -H 'content-type: application/grpc' -H 'te: trailers' --data-binary @- -o /dev/null "https://127.0.0.1:$port/tokenizer.v1.TokenizerService/GetToken"
    hostile_thumbprint=$(openssl x509 -in "$work/hostile.crt" -noout -fingerprint -sha256 | cut -d= -f2 | tr -d ':')

    kill -TERM "$server_pid" 2>/dev/null
    wait "$server_pid" 2>/dev/null
    server_pid=""

    # The data directory and everything the server printed: the scanner, and an exact search for each value.
    if out=$(bash scripts/scan-card-data.sh "$data" "$server_log" -- --no-allowlist 2>&1); then
      record "scanner: data directory and log" PASS "$(tail -n1 <<<"$out")"
    else
      echo "$out" >&2
      # The first finding (path:offset: KIND ****last4, masked) too, so a CI log that shows only this table says where.
      record "scanner: data directory and log" FAIL "$(tail -n1 <<<"$out"); first: $(head -n1 <<<"$out" | sed "s|$work/||")"
    fi
    hits=0
    for value in "$pan" "$iban" "$becs" "$bacs" "$ach"; do
      grep -rqa -- "$value" "$data" "$server_log" && hits=$((hits + 1))
    done
    controls=0
    for token in "${tokens[@]}"; do
      grep -rqa -- "$token" "$data" && controls=$((controls + 1))
    done
    if [ "$hits" -eq 0 ] && [ "$controls" -eq "${#tokens[@]}" ] && [ "$controls" -gt 0 ]; then
      record "exact values at rest or in output" PASS "0 of 5 values found; ${controls} token ids found (positive control)"
    else
      record "exact values at rest or in output" FAIL "$hits of 5 values found; $controls of ${#tokens[@]} token ids found"
    fi
    # The ledger (not the sandbox, which plays Stripe and keeps the mandate as Stripe does) and the server's output.
    if ! grep -rqa -- "$agent" "$data/ledger" "$server_log" && grep -qa -- "$agent" "$data/sandbox/state.json"; then
      record "mandate user agent never in clear in the ledger or logs" PASS "not in the ledger or the log; in the sandbox's Stripe-side mandate (control)"
    else
      record "mandate user agent never in clear in the ledger or logs" FAIL "in the ledger or the log, or not at the gateway either"
    fi
    subject_digits=$(tr -cd '0-9' <"$server_log" | grep -c -- "$pan" || true)
    if ! grep -qi -- "$marker" "$server_log" && [ "$subject_digits" -eq 0 ] && grep -qi -- "$hostile_thumbprint" "$server_log"; then
      record "certificate subject never logged" PASS "neither the marker nor the PAN's digits; the refused certificate's thumbprint is (control)"
    else
      record "certificate subject never logged" FAIL "marker or PAN digits in the log, or the refusal not logged by thumbprint"
    fi
  fi

  # Every string field of every request, from the proto descriptors, over real gRPC (tests/Tokenizer.IntegrationTests).
  if out=$(dotnet test tests/Tokenizer.IntegrationTests -c Release --no-build --nologo --filter "FullyQualifiedName~CardDataInEveryFieldTests" 2>&1); then
    record "separated and Unicode PANs refused in every field" PASS "$(grep -Eo 'Passed: +[0-9]+' <<<"$out" | tail -n1 | tr -s ' ') field calls over gRPC"
  else
    echo "$out" >&2
    record "separated and Unicode PANs refused in every field" FAIL "$(grep -Eo 'Failed: +[0-9]+' <<<"$out" | tail -n1 | tr -s ' ')"
  fi
  # The Production binary with the runtime's defaults (diagnostics port on) or dumps turned on must refuse to start.
  refusals=0
  for switches in "" "DOTNET_EnableDiagnostics=0 DOTNET_DbgEnableMiniDump=1"; do
    # shellcheck disable=SC2086
    if ! out=$(env -u DOTNET_EnableDiagnostics -u DOTNET_EnableDiagnostics_IPC -u DOTNET_EnableDiagnostics_Debugger -u DOTNET_DbgEnableMiniDump \
      $switches timeout 60 dotnet src/Tokenizer.Server/bin/Release/net10.0/Tokenizer.Server.dll --environment Production \
      --urls https://127.0.0.1:0 --Tokenizer:DataDirectory="$work/production" 2>&1); then
      grep -q "failed to start: DOTNET_EnableDiagnostics=0" <<<"$out" && refusals=$((refusals + 1))
    fi
  done
  if [ "$refusals" -eq 2 ]; then
    record "diagnostics off in Production" PASS "refused with the diagnostics port on and with dumps on, naming the variables"
  else
    record "diagnostics off in Production" FAIL "$refusals of 2 unsafe starts refused"
  fi
fi

# Restarts of a real server process over a changed data directory (tests/Tokenizer.SecurityTests/AuditStartupTests.cs).
if [ "$failures" -lt 99 ]; then
  for check in "audit truncation caught at start-up|Restart_NewestAuditRecordsDeleted_RefusesToStartNamingTruncation" \
               "middle audit record edited caught at start-up|Restart_MiddleAuditRecordEditedBehindRecreatedTrigger_RefusesToStartNamingTheRecord" \
               "middle audit record deleted caught at start-up|Restart_MiddleAuditRecordDeletedBehindRecreatedTrigger_RefusesToStartNamingTheRecord" \
               "dropped append-only trigger restored at start-up|Restart_AppendOnlyTriggerDropped_StartsWarningNamingItAndRestoresIt" \
               "wrong audit key caught at start-up|Restart_WrongAuditKey_RefusesToStartNamingTheSetting_RotationStartsAndVerifies" \
               "record signed by a retired audit key caught at start-up|Restart_RecordSignedWithARetiredKeyAfterTheRotation_RefusesToStartNamingIt" \
               "foreign trigger on the audit table caught at start-up and by offline verify|Restart_ForeignInsertTriggerOnTheAuditTable_RefusesToStartNamingIt" \
               "audit table definition changed (STRICT removed, time stored as BLOB) caught at start-up and by offline verify|Restart_AuditTableNoLongerStrictAndATimeStoredAsBlob_RefusesToStartAndOfflineVerifyNamesTheRecord" \
               "audit time index b-tree swapped under an unchanged schema caught at start-up and by offline verify|Restart_TimeIndexBTreeSwappedUnderAnUnchangedSchema_RefusesToStartNamingTheStorageProblem" \
               "audit guards moved to another table and a deleting trigger on another table caught at start-up and by offline verify|Restart_GuardsMovedToTokensAndADeletingTriggerOnIdempotencyRecords_RefusesToStartNamingEach" \
               "index or CHECK constraint planted on the audit table caught at start-up and by offline verify|Restart_IndexOrCheckPlantedOnTheAuditTable_RefusesToStartNamingIt"; do
    name=${check%%|*}
    test=${check#*|}
    if out=$(dotnet test tests/Tokenizer.SecurityTests -c Release --no-build --nologo --filter "FullyQualifiedName~AuditStartupTests.$test" 2>&1) \
      && grep -Eq 'Failed: +0, Passed: +[1-9]' <<<"$out"; then
      record "$name" PASS "real process restarted over the changed data directory, as the test requires; untouched restart as control ($test)"
    else
      echo "$out" >&2
      record "$name" FAIL "$test"
    fi
  done
fi

echo
echo "| check | result | detail |"
echo "|---|---|---|"
for row in "${rows[@]}"; do
  IFS='|' read -r check result detail <<<"$row"
  echo "| $check | $result | $detail |"
done
echo
if [ "$failures" -eq 0 ]; then
  echo "security check: all ${#rows[@]} checks passed"
else
  echo "security check: $failures of ${#rows[@]} checks FAILED"
  exit 1
fi
