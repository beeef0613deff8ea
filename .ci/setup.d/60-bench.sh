#!/usr/bin/env bash
# What the benchmark smoke test (test/bench/bench.test.ts) needs beyond the repo's own build: the npm
# packages of the rebuilt upstream OpenTelemetry layer (their own lock file, apart from the root's) and
# telemetrygen, the collector project's load generator, built from the Go module proxy into
# .firefly/tools. Both are skipped when present.
set -euo pipefail
cd "$(dirname "$0")/../.."
TELEMETRYGEN_VERSION=0.145.0

if [[ ! -d test/bench/upstream/node_modules/@opentelemetry/sdk-trace ]]; then
  npm ci --prefix test/bench/upstream --no-audit --no-fund --ignore-scripts --loglevel=error >/dev/null
fi

if [[ ! -x .firefly/tools/telemetrygen ]]; then
  command -v go >/dev/null || { echo "60-bench: Go is required to build telemetrygen" >&2; exit 1; }
  mkdir -p .firefly/tools
  GOBIN="$PWD/.firefly/tools" go install \
    "github.com/open-telemetry/opentelemetry-collector-contrib/cmd/telemetrygen@v$TELEMETRYGEN_VERSION"
fi
