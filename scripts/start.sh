#!/usr/bin/env bash
# npm start: bootstrap what is missing, then run the whole service (see scripts/start.ts).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
exec node --import tsx scripts/start.ts
