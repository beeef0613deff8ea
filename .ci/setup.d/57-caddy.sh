#!/usr/bin/env bash
# Caddy (test/hosts/caddycheck), the ec2 host's HTTPS front with a domain: the tests validate the
# rendered Caddyfile and run it on loopback. ~100 s from a cold module cache on 2 cores; skipped when
# the binary exists.
set -euo pipefail
cd "$(dirname "$0")/../.."
out="$PWD/.firefly/tools/caddy-$(sed -n 's#^require github.com/caddyserver/caddy/v2 ##p' test/hosts/caddycheck/go.mod)"
[[ -x "$out" ]] && exit 0
mkdir -p "$(dirname "$out")"
(cd test/hosts/caddycheck && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$out.tmp" .)
mv "$out.tmp" "$out"
