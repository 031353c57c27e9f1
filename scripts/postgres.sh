#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster for the PostgreSQL ledger tests: a temporary folder, run as the `postgres` OS user,
# listening on 127.0.0.1 only on a free port, password authentication (a random password, scram-sha-256) and TLS with a
# self-signed certificate for 127.0.0.1. Durability is off (fsync, synchronous_commit): it lives for one test run.
#
#   source scripts/postgres.sh; postgres_start; ...; postgres_stop     (what scripts/test.sh does)
#   eval "$(bash scripts/postgres.sh start)"; dotnet test tests/Tokenizer.Ledger.PostgresTests; bash scripts/postgres.sh stop
#
# postgres_start exports:
#   TOKENIZER_TEST_POSTGRES      Npgsql connection string to the cluster's `postgres` database, as the superuser
#   TOKENIZER_TEST_POSTGRES_CA   the server's certificate (PEM), to verify TLS against (SSL Mode=VerifyFull)
#   TOKENIZER_TEST_POSTGRES_DIR  the temporary folder (data, socket, log); postgres_stop removes it
# Installs the server with apt-get when initdb/pg_ctl are missing. Returns non-zero (and says why) when it cannot start.

_pg_log() { echo "postgres.sh: $*" >&2; }

# Prints the folder holding initdb, pg_ctl and pg_isready; installs PostgreSQL 15 with apt-get when none is found.
_pg_bindir() {
  local candidate
  for candidate in "$(dirname "$(readlink -f "$(command -v pg_ctl 2>/dev/null || echo /nonexistent)")")" \
                   /usr/lib/postgresql/15/bin; do
    if [ -x "$candidate/initdb" ] && [ -x "$candidate/pg_ctl" ] && [ -x "$candidate/pg_isready" ]; then
      echo "$candidate"
      return 0
    fi
  done
  if ! command -v apt-get >/dev/null 2>&1; then
    _pg_log "initdb/pg_ctl not found and apt-get is not available to install PostgreSQL 15"
    return 1
  fi
  _pg_log "initdb/pg_ctl not found: installing PostgreSQL with apt-get"
  { apt-get update && { DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql-15 \
      || DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql; }; } >&2 || return 1
  candidate=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -n "$candidate" ] && [ -x "$candidate/initdb" ]; then
    echo "$candidate"
    return 0
  fi
  _pg_log "PostgreSQL was installed but initdb is still missing"
  return 1
}

# Runs a command as the cluster's OS user (postgres when we are root; ourselves otherwise).
_pg_as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

# Prints a TCP port on 127.0.0.1 that nothing listens on right now.
_pg_free_port() {
  local port attempt
  for attempt in $(seq 1 50); do
    port=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
  done
  return 1
}

postgres_start() {
  local bindir dir password port attempt
  bindir=$(_pg_bindir) || return 1
  if [ "$(id -u)" -eq 0 ] && ! id -u postgres >/dev/null 2>&1; then
    useradd --system --user-group --no-create-home --shell /usr/sbin/nologin postgres || return 1
  fi
  if ! command -v openssl >/dev/null 2>&1; then
    { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y openssl; } >&2 || return 1
  fi

  dir=$(mktemp -d "${TMPDIR:-/tmp}/tokenizer-postgres.XXXXXX") || return 1
  export TOKENIZER_TEST_POSTGRES_DIR="$dir"
  password=$(openssl rand -hex 24) || return 1
  (umask 077 && printf '%s\n' "$password" >"$dir/pwfile")
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=127.0.0.1" \
    -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
    -keyout "$dir/server.key" -out "$dir/server.crt" >/dev/null 2>&1 || { _pg_log "openssl could not make a certificate"; return 1; }
  chmod 600 "$dir/server.key"
  chmod 700 "$dir"
  if [ "$(id -u)" -eq 0 ]; then
    chown -R postgres:postgres "$dir"
  fi

  if ! _pg_as_owner "$bindir/initdb" -D "$dir/data" -U postgres --pwfile="$dir/pwfile" \
      --auth-local=scram-sha-256 --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1; then
    _pg_log "initdb failed:"; cat "$dir/initdb.log" >&2
    return 1
  fi
  rm -f "$dir/pwfile"

  for attempt in 1 2 3 4 5; do
    port=$(_pg_free_port) || { _pg_log "no free port found"; return 1; }
    if _pg_as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 start -o \
        "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir -c max_connections=300 \
         -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_wal_size=64MB -c min_wal_size=32MB \
         -c ssl=on -c ssl_cert_file=$dir/server.crt -c ssl_key_file=$dir/server.key" >/dev/null 2>&1; then
      break
    fi
    _pg_log "pg_ctl start on port $port failed (attempt $attempt)"
    port=""
  done
  if [ -z "$port" ]; then
    _pg_log "the cluster did not start; its log:"; tail -n 30 "$dir/postgres.log" >&2
    return 1
  fi

  # pg_ctl -w already waited; confirm over TCP, bounded to 30 s.
  for attempt in $(seq 1 60); do
    if "$bindir/pg_isready" -q -h 127.0.0.1 -p "$port" -t 1; then
      export TOKENIZER_TEST_POSTGRES="Host=127.0.0.1;Port=$port;Username=postgres;Password=$password;Database=postgres"
      export TOKENIZER_TEST_POSTGRES_CA="$dir/server.crt"
      _pg_log "PostgreSQL $("$bindir/pg_ctl" --version | awk '{print $3}') ready on 127.0.0.1:$port ($dir)"
      return 0
    fi
    sleep 0.5
  done
  _pg_log "the cluster started but does not answer on 127.0.0.1:$port"
  postgres_stop
  return 1
}

postgres_stop() {
  local dir="${1:-${TOKENIZER_TEST_POSTGRES_DIR:-}}" bindir pid
  if [ -z "$dir" ] || [ ! -d "$dir" ]; then
    return 0
  fi
  case "$dir" in
    "${TMPDIR:-/tmp}"/tokenizer-postgres.*) ;;
    *) _pg_log "refusing to remove $dir: not a folder this script made"; return 1 ;;
  esac
  if [ -f "$dir/data/postmaster.pid" ]; then
    bindir=$(_pg_bindir) || bindir=""
    if [ -z "$bindir" ] || ! _pg_as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null 2>&1; then
      # Only the postmaster this cluster recorded; its children exit with it.
      pid=$(head -n 1 "$dir/data/postmaster.pid" 2>/dev/null)
      [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null
      sleep 2
      [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
    fi
  fi
  rm -rf "$dir"
  unset TOKENIZER_TEST_POSTGRES TOKENIZER_TEST_POSTGRES_CA TOKENIZER_TEST_POSTGRES_DIR
  return 0
}

# Called as a command: `start` prints export lines to eval, `stop [DIR]` stops and removes a cluster.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -uo pipefail
  case "${1:-}" in
    start)
      postgres_start || exit 1
      printf 'export TOKENIZER_TEST_POSTGRES=%q TOKENIZER_TEST_POSTGRES_CA=%q TOKENIZER_TEST_POSTGRES_DIR=%q\n' \
        "$TOKENIZER_TEST_POSTGRES" "$TOKENIZER_TEST_POSTGRES_CA" "$TOKENIZER_TEST_POSTGRES_DIR"
      ;;
    stop) postgres_stop "${2:-}" ;;
    *) echo "usage: $0 start|stop [DIR]" >&2; exit 2 ;;
  esac
fi
