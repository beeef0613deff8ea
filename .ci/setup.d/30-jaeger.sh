#!/usr/bin/env bash
# Jaeger v2 (OTLP in, in-memory storage, query API out): the local pipeline's trace store. No Debian
# package exists; it builds from the Go module proxy. `go install …@version` refuses the module
# (its go.mod has replace directives), so it is built as the main module from a copy of the source.
# Skipped when the binary exists. Takes ~4 minutes on 2 cores when the module cache is cold.
set -euo pipefail
cd "$(dirname "$0")/../.."
version=1.76.0
out="$PWD/.firefly/tools/jaeger-$version"
[[ -x "$out" ]] && exit 0

command -v go >/dev/null || { echo "30-jaeger: Go is required to build Jaeger" >&2; exit 1; }
mkdir -p "$(dirname "$out")"
log="$(mktemp)"
work="$(mktemp -d)"
trap 'rm -rf "$work" "$log"' EXIT
src="$(go mod download -json "github.com/jaegertracing/jaeger@v$version" | sed -n 's/^\s*"Dir": "\(.*\)",$/\1/p')"
cp -r "$src/." "$work/"
chmod -R u+w "$work"
start=$SECONDS
if ! (cd "$work" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$out.tmp" ./cmd/jaeger) >"$log" 2>&1; then
  tail -n 40 "$log" >&2
  exit 1
fi
mv "$out.tmp" "$out"
echo "30-jaeger: built $out in $((SECONDS - start)) s"
