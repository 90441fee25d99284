#!/usr/bin/env bash
# Installs everything the tests need on a fresh Debian 12 machine: Debian packages, a real Jaeger v2
# and a real OpenTelemetry Collector built from the Go module proxy, the eBPF sensor, and the agent
# apps the end-to-end tests drive.
# Idempotent: what is already there at the right version is kept.
#
#   .ci/install-tools.sh           everything the tests need
#   .ci/install-tools.sh runtime   only what running the collector needs (packages + sensor)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
MODE=${1:-all}
TOOLS=$ROOT/.tools
mkdir -p "$TOOLS/bin"
step() { printf '\n== %s (%ss)\n' "$1" "$SECONDS"; }

step "Debian packages"
# chromium: the evidence report is checked in a real headless browser.
PKGS="clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev make gcc openssl python3-venv chromium"
missing=$(for p in $PKGS; do dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'install ok installed' || echo "$p"; done)
if [ -n "$missing" ]; then
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing
fi

# Jaeger v2 ships as github.com/jaegertracing/jaeger (no /v2 in the module path). The proxy serves
# its v1.76.0 tag, the same release as Jaeger v2.13.0, whose cmd/jaeger is the v2 binary. Its go.mod
# has a replace directive, which `go install pkg@version` refuses, so build it from a tiny module.
if [ "$MODE" = runtime ]; then
  step "eBPF sensor"
  make -C bpf -j2
  step "runtime ready"
  exit 0
fi

JAEGER_VERSION=v1.76.0
step "Jaeger v2 ($JAEGER_VERSION = v2.13.0)"
if [ "$(cat "$TOOLS/bin/jaeger.version" 2>/dev/null)" != "$JAEGER_VERSION" ]; then
  build=$TOOLS/jaeger-build
  mkdir -p "$build"
  cat > "$build/go.mod" <<GOMOD
module aibom/jaegerbuild

go 1.24

require github.com/jaegertracing/jaeger $JAEGER_VERSION

replace github.com/Shopify/sarama => github.com/Shopify/sarama v1.33.0
GOMOD
  printf '//go:build tools\n\npackage tools\n\nimport _ "github.com/jaegertracing/jaeger/cmd/jaeger"\n' > "$build/tools.go"
  # The public checksum database is not reachable from these machines; the module proxy is.
  (cd "$build" && GOSUMDB=off GOFLAGS=-mod=mod go mod tidy && GOSUMDB=off GOFLAGS=-mod=mod go build -o "$TOOLS/bin/jaeger" github.com/jaegertracing/jaeger/cmd/jaeger)
  echo "$JAEGER_VERSION" > "$TOOLS/bin/jaeger.version"
fi

# The OpenTelemetry Collector the topology and count-connector tests run, from the collector builder and the manifest
# kept in the repo (core + contrib modules, all at one release). The stamp holds the manifest's hash
# so an edited manifest rebuilds.
OTELCOL_VERSION=v0.161.0
OTELCOL_MANIFEST=.ci/otelcol-builder.yaml
step "OpenTelemetry Collector ($OTELCOL_VERSION, $OTELCOL_MANIFEST)"
otelcol_stamp="$OTELCOL_VERSION $(sha256sum "$OTELCOL_MANIFEST" | cut -c1-16)"
if [ "$(cat "$TOOLS/bin/otelcol.version" 2>/dev/null)" != "$otelcol_stamp" ]; then
  releases=$(grep -o ' v0\.[0-9]*\.[0-9]*' "$OTELCOL_MANIFEST" | sort -u | xargs)
  if [ "$releases" != "$OTELCOL_VERSION" ]; then
    echo "$OTELCOL_MANIFEST: every collector module must be at $OTELCOL_VERSION, found: $releases" >&2
    exit 1
  fi
  build=$TOOLS/otelcol-build
  mkdir -p "$build"
  cp "$OTELCOL_MANIFEST" "$build/manifest.yaml"
  (cd "$build" && GOBIN=$build GOSUMDB=off go install "go.opentelemetry.io/collector/cmd/builder@$OTELCOL_VERSION" \
    && GOSUMDB=off ./builder --config manifest.yaml)
  cp "$build/dist/otelcol" "$TOOLS/bin/otelcol"
  echo "$otelcol_stamp" > "$TOOLS/bin/otelcol.version"
fi

# Prometheus, promtool, Alertmanager and amtool for the alerting tests (otel-config/alerting/): promtool
# checks the rules, a real Prometheus scrapes the collector and a real Alertmanager delivers the
# alert to a webhook the test runs. `go install pkg@version` from the module proxy; one stamp per
# binary holds its version. Prometheus takes ~4 min on 2 cores.
PROMETHEUS_VERSION=v0.316.0
ALERTMANAGER_VERSION=v0.28.1
go_tool() { # name module-path version
  if [ "$(cat "$TOOLS/bin/$1.version" 2>/dev/null)" != "$3" ]; then
    GOBIN=$TOOLS/bin GOSUMDB=off nice -n 10 go install "$2@$3"
    echo "$3" > "$TOOLS/bin/$1.version"
  fi
}
step "Prometheus + promtool ($PROMETHEUS_VERSION), Alertmanager + amtool ($ALERTMANAGER_VERSION)"
go_tool promtool github.com/prometheus/prometheus/cmd/promtool "$PROMETHEUS_VERSION"
go_tool prometheus github.com/prometheus/prometheus/cmd/prometheus "$PROMETHEUS_VERSION"
go_tool alertmanager github.com/prometheus/alertmanager/cmd/alertmanager "$ALERTMANAGER_VERSION"
go_tool amtool github.com/prometheus/alertmanager/cmd/amtool "$ALERTMANAGER_VERSION"

if [ -f bpf/Makefile ]; then
  step "eBPF sensor"
  make -C bpf -j2
fi

# cdxgen, the static AI-BOM generator whose output `aibom diff` is tested against (offline, on
# test/apps' source). Its own npm prefix, so it never touches the collector's dependencies.
CDXGEN_VERSION=12.8.4
step "cdxgen $CDXGEN_VERSION"
if [ "$(cat "$TOOLS/cdxgen/version" 2>/dev/null)" != "$CDXGEN_VERSION" ]; then
  rm -rf "$TOOLS/cdxgen"
  npm install --prefix "$TOOLS/cdxgen" --no-audit --no-fund --save-exact "@cyclonedx/cdxgen@$CDXGEN_VERSION"
  echo "$CDXGEN_VERSION" > "$TOOLS/cdxgen/version"
fi

if [ -x test/apps/setup.sh ]; then
  step "agent apps (LangChain.js, LangChain Python, MCP)"
  test/apps/setup.sh
fi
step "tools ready"
