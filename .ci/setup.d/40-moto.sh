#!/usr/bin/env bash
# moto's server mode emulates the Lambda API on loopback; the existing-function provider's tests run
# against it (test/emit/moto.ts looks on PATH, then in this venv). Pinned so an emulator upgrade cannot
# change what the tests mean; a venv because Debian's Python refuses system-wide pip installs.
set -euo pipefail
MOTO_VERSION=5.2.1
VENV=/opt/firefly-moto
if [ -x "$VENV/bin/moto_server" ] && "$VENV/bin/python" -c \
  "import importlib.metadata as m, sys; sys.exit(m.version('moto') != '$MOTO_VERSION')" 2>/dev/null; then
  exit 0
fi
if ! python3 -c "import ensurepip" 2>/dev/null; then
  apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
fi
python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION"
