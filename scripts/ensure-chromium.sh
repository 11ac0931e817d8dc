#!/usr/bin/env bash
# Makes sure Debian's Chromium is installed at /usr/bin/chromium for the browser tests
# (test/ui/): they drive it with playwright-core, which never downloads its own browsers.
# Idempotent: does nothing when the binary is already there.
set -euo pipefail
# shellcheck source=infra/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/infra/lib.sh"

CHROMIUM=/usr/bin/chromium

if [[ -x $CHROMIUM ]]; then
  report chromium present "$("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"
  exit 0
fi
command -v apt-get >/dev/null || die "$CHROMIUM is missing and apt-get is not available: install Chromium so that $CHROMIUM exists"
apt_install chromium
[[ -x $CHROMIUM ]] || die "apt-get installed chromium but $CHROMIUM is still missing"
report chromium installed "$("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"
