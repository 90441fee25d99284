#!/usr/bin/env bash
# Builds what bench/passthrough.ts needs besides the collector itself: the Go load generator and
# sink (bench/loadgen -> .tools/bin/otlpbench). Jaeger v2 comes from .ci/install-tools.sh. The bench
# is not run in CI, so CI does not build this. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .tools/bin
# The public checksum database is not reachable from these machines; the module proxy is.
(cd bench/loadgen && GOSUMDB=off GOFLAGS=-mod=mod go build -trimpath -o ../../.tools/bin/otlpbench .)
echo ".tools/bin/otlpbench built"
if [ ! -x .tools/bin/jaeger ]; then
  echo "note: .tools/bin/jaeger is missing; run .ci/install-tools.sh for the Jaeger v2 comparison" >&2
fi
