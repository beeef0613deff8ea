#!/usr/bin/env bash
# manifest-check (test/hosts/manifestcheck): decodes the kubernetes host's rendered manifests strictly
# into the Kubernetes API's own Go types. ~20 s from a cold module cache; skipped when the binary exists.
set -euo pipefail
exec "$(dirname "$0")/../go-tool.sh" test/hosts/manifestcheck k8s.io/api manifest-check
