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

# The checksum database this machine reaches does not know signaltometricsconnector v0.145.0 (the module
# proxy serves it), so Go would refuse it on a cold module cache. Its hashes are pinned here instead, the
# way go.sum pins them: Go then verifies the download against these and never asks the database.
mkdir -p dist
for line in \
  "github.com/open-telemetry/opentelemetry-collector-contrib/connector/signaltometricsconnector v0.145.0 h1:j4qbh7KgRD4xia8EUr7tZJVGGRYE38lYv5SWHzJ/yBw=" \
  "github.com/open-telemetry/opentelemetry-collector-contrib/connector/signaltometricsconnector v0.145.0/go.mod h1:3YkvHc+JxKXM2M51nqHmiU3/MroPi8IR7f024w/EtH8="; do
  grep -qxF "$line" dist/go.sum 2>/dev/null || echo "$line" >>dist/go.sum
done

echo "collector: building v$version (first build fetches modules: a few minutes)"
start=$SECONDS
"$builder" --config manifest.yaml
touch "$binary"
echo "collector: built $binary in $((SECONDS - start)) s"
