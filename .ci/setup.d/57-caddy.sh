#!/usr/bin/env bash
# Caddy (test/hosts/caddycheck), the ec2 host's HTTPS front with a domain: the tests validate the
# rendered Caddyfile and run it on loopback. ~100 s from a cold module cache on 2 cores; skipped when
# the binary exists.
set -euo pipefail
exec "$(dirname "$0")/../go-tool.sh" test/hosts/caddycheck github.com/caddyserver/caddy/v2 caddy -ldflags "-s -w"
