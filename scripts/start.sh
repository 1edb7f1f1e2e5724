#!/usr/bin/env bash
# npm start: bootstrap what is missing, then run the whole service (see scripts/start.ts).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
# exec: npm (which passes SIGINT and SIGTERM on to its child) -> node scripts/start.ts, no shell between.
exec node --import tsx scripts/start.ts
