#!/usr/bin/env bash
# pss-check (test/hosts/psscheck): evaluates the kubernetes host's pods against the Pod Security
# Standards with the upstream evaluator (k8s.io/pod-security-admission). Skipped when the binary exists.
set -euo pipefail
exec "$(dirname "$0")/../go-tool.sh" test/hosts/psscheck k8s.io/pod-security-admission pss-check
