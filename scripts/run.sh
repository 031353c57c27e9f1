#!/usr/bin/env bash
# Runs Tokenizer on embedded defaults: SQLite ledger and the in-process Stripe sandbox, all state under ./data,
# gRPC over TLS (HTTP/2, client certificates) on https://127.0.0.1:5055. On first run it creates a development PKI
# under ./data/pki (CA, server, and billing/finance/admin client certificates). In Development on the embedded sandbox
# the Stripe webhook listener is on at https://127.0.0.1:5057 (registered with the sandbox, which delivers its events
# there) unless Tokenizer:Webhooks:Urls is given; `scripts/tokenizer.sh sandbox ...` then fires what Stripe does behind
# our back. Arguments pass through as in any ASP.NET Core app, e.g. a second instance:
#   scripts/run.sh --urls https://127.0.0.1:5056 --Tokenizer:Webhooks:Urls=https://127.0.0.1:0 --Tokenizer:DataDirectory=/tmp/tokenizer
# With --Stripe:ApiKey=sk_test_... (better: the environment variable Stripe__ApiKey) it talks to real Stripe.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# shellcheck source=scripts/lib.sh
source "$root/scripts/lib.sh"
require_dotnet

export ASPNETCORE_ENVIRONMENT="${ASPNETCORE_ENVIRONMENT:-Development}"
# The webhook listener for the embedded sandbox's deliveries: Development on embedded defaults only (no Stripe key, no
# Key Vault), and only when the caller chose no listener address of their own (--Tokenizer:Webhooks:Urls= turns it off).
webhooks=()
if [ "$ASPNETCORE_ENVIRONMENT" = "Development" ] && [ -z "${Stripe__ApiKey:-}" ] && [ -z "${KeyVault__Uri:-}" ] \
   && [ -z "${Tokenizer__Webhooks__Urls+set}" ]; then
  case " $* " in
    *Tokenizer:Webhooks:Urls*|*Stripe:ApiKey*|*KeyVault:Uri*) ;;
    *) webhooks=(--Tokenizer:Webhooks:Urls=https://127.0.0.1:5057) ;;
  esac
fi
echo "building Tokenizer.Server (Release)..." >&2
build_quietly "$root/src/Tokenizer.Server/Tokenizer.Server.csproj"
# Where the state goes, as the host reads it: the command line wins over the environment, which wins over ./data.
data="${Tokenizer__DataDirectory:-$root/data}"
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  case "${args[$i]}" in
    --Tokenizer:DataDirectory=*|--Tokenizer__DataDirectory=*) data="${args[$i]#*=}" ;;
    --Tokenizer:DataDirectory|--Tokenizer__DataDirectory) if [ $((i + 1)) -lt ${#args[@]} ]; then data="${args[$((i + 1))]}"; fi ;;
  esac
done
echo "starting (${ASPNETCORE_ENVIRONMENT}); state in ${data}" >&2
exec dotnet "$root/src/Tokenizer.Server/bin/Release/net10.0/Tokenizer.Server.dll" "${webhooks[@]}" "$@"
