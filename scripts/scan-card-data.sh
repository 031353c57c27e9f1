#!/usr/bin/env bash
# Scans for card and bank data at rest (PANs, CVCs near PANs, IBANs, labelled account numbers) with
# security/Tokenizer.Security.Scanner and exits with its exit code: 0 clean, 1 findings, 2 usage or I/O error.
#   scripts/scan-card-data.sh                 # the repository
#   scripts/scan-card-data.sh ./data /tmp/x   # any files or directories (e.g. a server's data directory)
# Excluded under every directory argument: tests/** (fixtures made of test numbers), bin, obj, node_modules, .git,
# artifacts. Published test numbers are allowlisted by security/card-data-allowlist.txt. Findings print as
# "path:offset: KIND ****last4", never the value. Extra scanner options go after "--", e.g. -- --no-allowlist.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/lib.sh
source "$root/scripts/lib.sh"
require_dotnet

paths=()
options=()
while [ "$#" -gt 0 ]; do
  if [ "$1" = "--" ]; then
    shift
    options=("$@")
    break
  fi
  paths+=("$1")
  shift
done
if [ "${#paths[@]}" -eq 0 ]; then
  paths=("$root")
fi

# The repository's allowlist, unless the caller chose another one or none.
allowlist=(--allowlist "$root/security/card-data-allowlist.txt")
for option in "${options[@]}"; do
  if [ "$option" = "--allowlist" ] || [ "$option" = "--no-allowlist" ]; then
    allowlist=()
  fi
done

project="$root/security/Tokenizer.Security.Scanner/Tokenizer.Security.Scanner.csproj"
if ! log=$(dotnet build "$project" -c Release --nologo -v quiet 2>&1); then
  echo "$log" >&2
  echo "error: build failed: $project" >&2
  exit 2
fi

dotnet "$root/security/Tokenizer.Security.Scanner/bin/Release/net10.0/Tokenizer.Security.Scanner.dll" \
  "${allowlist[@]}" \
  --exclude 'tests/**' --exclude '**/bin/**' --exclude '**/obj/**' --exclude '**/node_modules/**' \
  --exclude '.git/**' --exclude 'artifacts/**' \
  "${options[@]}" -- "${paths[@]}"
exit $?
