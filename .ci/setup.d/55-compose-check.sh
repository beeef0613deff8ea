#!/usr/bin/env bash
# compose-check (test/hosts/composecheck): loads the ec2 host's rendered Compose project with the
# library `docker compose` uses, since Compose itself is not installable here. ~10 s from a cold
# module cache; skipped when the binary exists.
set -euo pipefail
cd "$(dirname "$0")/../.."
out="$PWD/.firefly/tools/compose-check-$(sed -n 's#^require github.com/compose-spec/compose-go/v2 ##p' test/hosts/composecheck/go.mod)"
[[ -x "$out" ]] && exit 0
mkdir -p "$(dirname "$out")"
(cd test/hosts/composecheck && CGO_ENABLED=0 go build -trimpath -o "$out.tmp" .)
mv "$out.tmp" "$out"
