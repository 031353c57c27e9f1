#!/usr/bin/env bash
# The `tokenizer` CLI, built on first use; it presents the development PKI's client certificate for each command's
# role (billing, finance, admin) from $Tokenizer__DataDirectory/pki (the server's own variable), else ./data/pki,
# unless --pki or --cert/--key/--ca say otherwise. The server's start line prints a command that works. Example:
#   echo '{"card":{"number":"4242424242424242","exp_month":12,"exp_year":2030,"cvc":"123"}}' | scripts/tokenizer.sh tokenize card --customer cus-1
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/lib.sh
source "$root/scripts/lib.sh"
require_dotnet
dll="$root/src/Tokenizer.Cli/bin/Release/net10.0/tokenizer.dll"
# Build only when a source is newer than the built CLI (a no-op build still costs seconds per call).
# Core and Ledger too: the CLI runs their code (the detector; audit verify --offline reads the ledger).
cli_stale() {
  [ ! -f "$dll" ] || [ -n "$(find "$root/src/Tokenizer.Cli" "$root/src/Tokenizer.Contracts" "$root/src/Tokenizer.Core" "$root/src/Tokenizer.Ledger" "$root/proto" \
    -newer "$dll" \( -name '*.cs' -o -name '*.proto' -o -name '*.csproj' \) -not -path '*/obj/*' -print -quit)" ]
}
if cli_stale; then
  # Two first commands at once (the README's walkthrough opens two terminals) would collide in one build: one builds,
  # the other waits for the lock and then finds the CLI built (asked again under the lock), so it neither builds nor
  # rewrites files the first one is running.
  mkdir -p "$root/artifacts"
  { flock 9; if cli_stale; then build_quietly "$root/src/Tokenizer.Cli/Tokenizer.Cli.csproj"; fi; } 9>"$root/artifacts/cli-build.lock"
fi
# The development PKI that scripts/run.sh creates, unless the caller names certificates or another PKI, or names the
# server's data directory in Tokenizer__DataDirectory (the CLI reads it itself).
case " $* " in
  *" --pki "*|*" --pki="*|*" --cert "*|*" --cert="*) exec dotnet "$dll" "$@" ;;
  *) if [ -n "${Tokenizer__DataDirectory:-}" ]; then exec dotnet "$dll" "$@"; fi
     exec dotnet "$dll" "$@" --pki "$root/data/pki" ;;
esac
