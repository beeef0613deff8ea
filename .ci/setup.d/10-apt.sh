#!/usr/bin/env bash
# Debian packages: autotools and cmake build aws-lambda-ric's native part during npm ci; Prometheus
# is the local pipeline's metric store; zip packs the layer.
set -euo pipefail
apt-get update -qq
apt-get install -y -qq --no-install-recommends \
  autoconf automake libtool cmake make g++ python3 zip unzip curl ca-certificates prometheus >/dev/null
