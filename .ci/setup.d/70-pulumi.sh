#!/usr/bin/env bash
# What the real-engine tests (test/engine) need: the Pulumi CLI with its Node.js, Python and YAML
# language hosts (from PATH, else unpacked from ../shared/tools/pulumi into .firefly/tools/pulumi), a
# Python venv with the `pulumi` package for the Python consumer and the generated Python SDK, and gensdk
# (Pulumi's Go code generator: this CLI build has no Go language host). Each part is skipped when present.
# From cold: ~2 min for the venv, ~5 min for gensdk (Pulumi's pkg module from the Go module proxy).
set -euo pipefail
cd "$(dirname "$0")/../.."
PULUMI_PYTHON_VERSION=3.272.0

if ! command -v pulumi >/dev/null; then
  install=../shared/tools/pulumi/install.sh
  [[ -x $install ]] || { echo "70-pulumi: no pulumi on PATH and no $install" >&2; exit 1; }
  "$install" .firefly/tools/pulumi >/dev/null
fi

venv=.firefly/engine/venv
if ! "$venv/bin/python" -c "import sys, importlib.metadata as m; sys.exit(m.version('pulumi') != '$PULUMI_PYTHON_VERSION')" 2>/dev/null; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "pulumi==$PULUMI_PYTHON_VERSION"
fi

exec "$(dirname "$0")/../go-tool.sh" test/engine/gensdk github.com/pulumi/pulumi/pkg/v3 gensdk -ldflags "-s -w"
