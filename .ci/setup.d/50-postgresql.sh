#!/usr/bin/env bash
# PostgreSQL 15 (Debian): test/shipping/storage.test.ts runs the TimescaleDB image's read-only-role
# init script against a real server. Skipped when already installed.
set -euo pipefail
dpkg -s postgresql-15 >/dev/null 2>&1 && exit 0
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql-15 postgresql-client-15 >/dev/null
