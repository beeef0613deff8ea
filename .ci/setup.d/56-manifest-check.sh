#!/usr/bin/env bash
# manifest-check (test/hosts/manifestcheck): decodes the kubernetes host's rendered manifests strictly
# into the Kubernetes API's own Go types. ~20 s from a cold module cache; skipped when the binary exists.
set -euo pipefail
cd "$(dirname "$0")/../.."
out="$PWD/.firefly/tools/manifest-check-$(sed -n 's#^require k8s.io/api ##p' test/hosts/manifestcheck/go.mod)"
[[ -x "$out" ]] && exit 0
mkdir -p "$(dirname "$out")"
(cd test/hosts/manifestcheck && CGO_ENABLED=0 go build -trimpath -o "$out.tmp" .)
mv "$out.tmp" "$out"
