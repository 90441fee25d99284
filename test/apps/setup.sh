#!/usr/bin/env bash
# Idempotent installer for the peer test applications (run by CI on a fresh machine).
#   test/apps/setup.sh [--force] [--js-only|--py-only]
# JS:     npm ci in test/apps (no install scripts run: package.json "allowScripts" denies the only
#         one, protobufjs' version-check postinstall, which nothing here needs).
# Python: venv at test/apps/agent-py/.venv + pip install -r agent-py/requirements.txt.
# Each part is skipped when its lock/requirements file is unchanged since the last install.
set -euo pipefail
cd "$(dirname "$0")"
FORCE=0; DO_JS=1; DO_PY=1
for a in "$@"; do
  case "$a" in
    --force) FORCE=1 ;;
    --js-only) DO_PY=0 ;;
    --py-only) DO_JS=0 ;;
    *) echo "unknown option $a" >&2; exit 2 ;;
  esac
done
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.1f", b-a}'; }
sha() { sha256sum "$1" | cut -d' ' -f1; }
T0=$(now)

if [ "$DO_JS" = 1 ]; then
  t=$(now)
  stamp=node_modules/.aibom-setup-stamp
  want="$(sha package-lock.json) $(node -v)"
  if [ "$FORCE" = 0 ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    echo "setup: js: node_modules up to date (skipped)"
  else
    npm ci --no-audit --no-fund --loglevel=error
    echo "$want" > "$stamp"
    echo "setup: js: npm ci done in $(elapsed "$t")s"
  fi
fi

if [ "$DO_PY" = 1 ]; then
  t=$(now)
  venv=agent-py/.venv
  stamp=$venv/.aibom-setup-stamp
  want="$(sha agent-py/requirements.txt) $(python3 --version 2>&1)"
  if [ "$FORCE" = 0 ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    echo "setup: py: venv up to date (skipped)"
  else
    [ "$FORCE" = 1 ] && rm -rf "$venv"
    [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r agent-py/requirements.txt
    echo "$want" > "$stamp"
    echo "setup: py: pip install done in $(elapsed "$t")s"
  fi
fi
echo "setup: total $(elapsed "$T0")s"
