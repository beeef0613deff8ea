#!/usr/bin/env bash
# VictoriaLogs (OTLP logs in, LogsQL out): the local pipeline's log store. No Debian package exists; it
# builds from the Go module proxy. Its go.mod has no replace directives, so `go install …@version`
# builds it straight from the module. Skipped when the binary exists.
set -euo pipefail
cd "$(dirname "$0")/../.."
version=1.52.1
out="$PWD/.firefly/tools/victoria-logs-$version"
[[ -x "$out" ]] && exit 0

command -v go >/dev/null || { echo "35-victorialogs: Go is required to build VictoriaLogs" >&2; exit 1; }
mkdir -p "$(dirname "$out")"
log="$(mktemp)"
bin="$(mktemp -d)"
trap 'rm -rf "$bin" "$log"' EXIT
start=$SECONDS
if ! GOBIN="$bin" CGO_ENABLED=0 go install -trimpath -ldflags "-s -w" \
  "github.com/VictoriaMetrics/VictoriaLogs/app/victoria-logs@v$version" >"$log" 2>&1; then
  tail -n 40 "$log" >&2
  exit 1
fi
mv "$bin/victoria-logs" "$out"
echo "35-victorialogs: built $out in $((SECONDS - start)) s"
