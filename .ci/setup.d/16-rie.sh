#!/usr/bin/env bash
# AWS's Lambda Runtime Interface Emulator (aws-lambda-rie): the layer's tests run the built zip under
# it because it serves the Extensions API, enforces timeouts and logs the runtime's part of each
# invocation. No release is on a package registry: it builds from the Go module proxy, from a copy of
# the module source (as 30-jaeger.sh builds Jaeger). Skipped when the binary exists; ~15 s cold.
set -euo pipefail
cd "$(dirname "$0")/../.."
version=v0.0.0-20261030222936-bef5c4ba774d
out="$PWD/.firefly/tools/aws-lambda-rie-${version##*-}"
[[ -x "$out" ]] && exit 0

command -v go >/dev/null || { echo "16-rie: Go is required to build aws-lambda-rie" >&2; exit 1; }
mkdir -p "$(dirname "$out")"
log="$(mktemp)"
work="$(mktemp -d)"
trap 'rm -rf "$work" "$log"' EXIT
src="$(go mod download -json "github.com/aws/aws-lambda-runtime-interface-emulator@$version" | sed -n 's/^\s*"Dir": "\(.*\)",$/\1/p')"
cp -r "$src/." "$work/"
chmod -R u+w "$work"
start=$SECONDS
if ! (cd "$work" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$out.tmp" ./cmd/aws-lambda-rie) >"$log" 2>&1; then
  tail -n 40 "$log" >&2
  exit 1
fi
mv "$out.tmp" "$out"
echo "16-rie: built $out in $((SECONDS - start)) s"
