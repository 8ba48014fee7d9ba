#!/usr/bin/env bash
# Installs SoftHSM2 when missing and initialises a token of its own in a fresh temp dir.
# Prints the environment for the PKCS#11 tests; use as:  eval "$(.ci/softhsm.sh)"
set -euo pipefail

MODULE=/usr/lib/softhsm/libsofthsm2.so
if [ ! -e "$MODULE" ] || ! command -v softhsm2-util >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get install -y softhsm2 >&2 || { $SUDO apt-get update >&2 && $SUDO apt-get install -y softhsm2 >&2; }
fi

DIR=$(mktemp -d "${TMPDIR:-/tmp}/clearguard-softhsm.XXXXXX")
mkdir -p "$DIR/tokens"
cat > "$DIR/softhsm2.conf" <<CONF
directories.tokendir = $DIR/tokens
objectstore.backend = file
log.level = ERROR
slots.removable = false
CONF

LABEL=${CLEARGUARD_TEST_PKCS11_TOKEN:-clearguard-test}
PIN=${CLEARGUARD_TEST_PKCS11_PIN:-1234}
SOPIN=${CLEARGUARD_TEST_PKCS11_SO_PIN:-12345678}
SOFTHSM2_CONF="$DIR/softhsm2.conf" softhsm2-util --init-token --free --label "$LABEL" \
  --pin "$PIN" --so-pin "$SOPIN" >&2

echo "export SOFTHSM2_CONF=$DIR/softhsm2.conf"
echo "export CLEARGUARD_TEST_PKCS11_MODULE=$MODULE"
echo "export CLEARGUARD_TEST_PKCS11_TOKEN=$LABEL"
echo "export CLEARGUARD_TEST_PKCS11_PIN=$PIN"
