#!/usr/bin/env bash
# Builds the Firefly collector distribution (collector/dist/firefly-otelcol) from manifest.yaml with the
# OpenTelemetry Collector Builder of the same version. Skips the build when the binary is newer than
# the manifest, so CI and `npm run pipeline:up` pay for it once. Modules come from GOPROXY as set in the
# environment (Go's default otherwise).
set -euo pipefail
cd "$(dirname "$0")"

version="$(awk '$1 == "version:" { print $2; exit }' manifest.yaml)"
binary="dist/firefly-otelcol"

if [[ -x "$binary" && "$binary" -nt manifest.yaml && "${FORCE:-}" != 1 ]]; then
  echo "collector: $binary is up to date (v$version); FORCE=1 rebuilds"
  exit 0
fi

command -v go >/dev/null || { echo "collector: Go is not installed; install Go ≥ 1.24 to build the collector" >&2; exit 1; }
builder="$(go env GOPATH)/bin/builder"
if ! "$builder" version 2>/dev/null | grep -q "v$version\$"; then
  echo "collector: installing builder v$version"
  go install "go.opentelemetry.io/collector/cmd/builder@v$version"
fi

echo "collector: building v$version (first build fetches modules: a few minutes)"
start=$SECONDS
"$builder" --config manifest.yaml
touch "$binary"
echo "collector: built $binary in $((SECONDS - start)) s"
