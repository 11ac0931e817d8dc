#!/usr/bin/env bash
# Writes the credentials an overlay's secretGenerator reads, one file per secret in
# overlays/<overlay>/secrets/ (git-ignored, 0600), named as in a native run's .infra/secrets:
#
#   deploy/k8s/generate-secrets.sh dev       # everything the self-contained cluster needs
#   deploy/k8s/generate-secrets.sh managed   # the services' passwords only
#
# A secret that exists is kept, so running it again changes nothing; delete a file to get a new
# one. For the managed overlay, either set the generated passwords on your managed Kafka users,
# Postgres roles and Redis, or overwrite the files with the ones your provider gave you.
# OVERLAYS_DIR points it at another copy of the overlays (the test renders a copy).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
overlay="${1:-}"
case "$overlay" in
  dev | managed) ;;
  *)
    echo "usage: $0 dev|managed" >&2
    exit 2
    ;;
esac
overlays_dir="${OVERLAYS_DIR:-$here/overlays}"
[[ -d "$overlays_dir/$overlay" ]] || { echo "no overlay at $overlays_dir/$overlay" >&2; exit 2; }

# The same generator as `npm run infra:up` (secret NAME: 24 random URL-safe characters, made
# once, 0600), writing into this overlay's folder instead of .infra/secrets.
export SECRETS_DIR="$overlays_dir/$overlay/secrets"
(umask 077 && mkdir -p "$SECRETS_DIR")
INFRA_DIR="$SECRETS_DIR" source "$here/../../scripts/infra/lib.sh"

for name in kafka-order kafka-payment kafka-inventory postgres-order postgres-payment \
  postgres-inventory redis; do
  secret "$name" >/dev/null
done

if [[ "$overlay" == dev ]]; then
  # The in-cluster servers' own: Kafka's super user, the Postgres superuser (used only by the
  # image's initialisation), the issuer's client secret and the operator's /ui password.
  for name in kafka-admin postgres-superuser issuer-tools operator-password; do
    secret "$name" >/dev/null
  done
  # The issuer's signing key: a private JWKS (one RSA key, RS256), made with Node's crypto.
  jwks="$SECRETS_DIR/issuer-jwks.json"
  if [[ ! -s "$jwks" ]]; then
    (
      umask 077
      node --input-type=module -e '
        import { generateKeyPairSync, randomUUID } from "node:crypto";
        const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
        const key = { ...privateKey.export({ format: "jwk" }), kid: randomUUID(), alg: "RS256", use: "sig" };
        process.stdout.write(JSON.stringify({ keys: [key] }));
      ' >"$jwks.$$"
      mv "$jwks.$$" "$jwks"
    )
  fi
fi

echo "secrets for overlays/$overlay in $SECRETS_DIR"
