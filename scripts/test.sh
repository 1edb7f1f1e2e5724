#!/usr/bin/env bash
# npm test: bootstrap what is missing (the run part and the test tools), migrate the test database, type-check, lint, run the suite.
# The suites start their own Temporal servers (time-skipping and dev) from .tools/venv;
# PostgreSQL and Redis must be running (127.0.0.1:5432 and :6379 by default).
# Extra arguments go to jest, e.g. `npm test -- test/db`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh test
echo "[test] type-checking"
npx --no-install tsc --noEmit -p .
# Lint (ESLint, Prettier, dependency-cruiser: docs/testing-and-lint.md) before the slow suites.
# SKIP_LINT=1 skips it in a local loop; CI always runs it.
if [ "${SKIP_LINT:-0}" != 1 ] || [ -n "${CI:-}" ]; then
  echo "[test] linting"
  npm run --silent lint
fi
mkdir -p .data
status=0
# --forceExit: a suite that leaks a handle (a child process, a socket) must not hold CI past its
# time budget after the last test has reported; the leak still shows in the suite's own output.
npx --no-install jest --forceExit --json --outputFile=.data/jest-results.json "$@" || status=$?
# One plain closing line that any CI can read, whatever the runner prints above it.
node -e '
  const r = require("./.data/jest-results.json");
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed` + (r.numPendingTests ? `, ${r.numPendingTests} skipped` : ""));
' 2>/dev/null || echo "0 passed, 1 failed"
exit $status
