#!/usr/bin/env bash
# Builds a test tool from a Go module under test/ into .firefly/tools/<name>-<version>, where the tests
# look for it; the version is the one go.mod requires of <module>. Skipped when that binary exists and
# is newer than the tool's sources.
# Usage: .ci/go-tool.sh <dir under the repo> <module whose version names the binary> <name> [go build flags…]
set -euo pipefail
cd "$(dirname "$0")/.."
dir=$1 module=$2 name=$3
shift 3
out="$PWD/.firefly/tools/$name-$(sed -n "s#^require $module ##p" "$dir/go.mod")"
# Rebuilt when a source file is newer than the binary (a tool gained a kind), else kept.
[[ -x "$out" && -z "$(find "$dir" -name '*.go' -newer "$out")" ]] && exit 0
mkdir -p "$(dirname "$out")"
(cd "$dir" && CGO_ENABLED=0 go build -trimpath "$@" -o "$out.tmp" .)
mv "$out.tmp" "$out"
