#!/usr/bin/env bash
# openssl makes the self-signed peer certificate the gateway replica tests (test/hosts/replicas.ts)
# give their collectors, as ShippingPhase does with @pulumi/tls on Kubernetes. Seconds when missing.
set -euo pipefail
command -v openssl >/dev/null || apt-get install -y -qq --no-install-recommends openssl >/dev/null
