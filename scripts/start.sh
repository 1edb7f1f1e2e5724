#!/usr/bin/env bash
# npm start: bootstrap what running needs (not the test tools), then run the whole service
# (see scripts/start.ts).
set -euo pipefail
cd "$(dirname "$0")/.."
# Milliseconds since the epoch (bash 5's EPOCHREALTIME; whole seconds with an older bash).
now_ms() {
  if [ -n "${EPOCHREALTIME:-}" ]; then
    local t=${EPOCHREALTIME/[.,]/}
    echo "${t:0:13}"
  else
    echo "$(date +%s)000"
  fi
}
# The banner's "ready in" counts from here, and says how much of it the bootstrap took.
export NPM_START_AT_MS=${NPM_START_AT_MS:-$(now_ms)}
bash scripts/bootstrap.sh run
BOOTSTRAP_DONE_AT_MS=$(now_ms)
export BOOTSTRAP_DONE_AT_MS
# exec: npm (which passes SIGINT and SIGTERM on to its child) -> node scripts/start.ts, no shell between.
exec node --import tsx scripts/start.ts
