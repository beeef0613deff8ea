#!/usr/bin/env bash
# compose-check (test/hosts/composecheck): loads the ec2 host's rendered Compose project with the
# library `docker compose` uses, since Compose itself is not installable here. ~10 s from a cold
# module cache; skipped when the binary exists.
set -euo pipefail
exec "$(dirname "$0")/../go-tool.sh" test/hosts/composecheck github.com/compose-spec/compose-go/v2 compose-check
