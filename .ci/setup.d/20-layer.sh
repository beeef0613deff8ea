#!/usr/bin/env bash
# The layer's end-to-end test makes a throwaway TLS certificate with openssl to check export over
# HTTPS (zip and unzip, which build and unpack the layer, come from 10-apt.sh).
set -euo pipefail
command -v openssl >/dev/null && exit 0
apt-get install -y -qq --no-install-recommends openssl >/dev/null
