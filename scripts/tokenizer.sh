#!/usr/bin/env bash
# The `tokenizer` CLI, built on first use. Example:
#   echo '{"card":{"number":"4242424242424242","exp_month":12,"exp_year":2030,"cvc":"123"}}' | scripts/tokenizer.sh tokenize card --customer cus-1
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/lib.sh
source "$root/scripts/lib.sh"
require_dotnet
dll="$root/src/Tokenizer.Cli/bin/Release/net10.0/tokenizer.dll"
build_quietly "$root/src/Tokenizer.Cli/Tokenizer.Cli.csproj"
exec dotnet "$dll" "$@"
