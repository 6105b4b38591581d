#!/usr/bin/env bash
# Runs every test project in Credentials.Orleans.sln against a throwaway PostgreSQL (the highest
# major version installed, or PG_VERSION; see scripts/lib/postgres.sh), and builds bench/ too.
#
#   bash scripts/test.sh [extra dotnet test args, e.g. --filter Category=Unit]
#
# Environment:
#   CREDENTIALS_TEST_POSTGRES  Npgsql connection string to an existing server; when set, no
#                              server is started and this one is used as-is.
#   TEST_SH_PG_ONLY=1          Only start PostgreSQL, run `SELECT 1` through the exported
#                              connection settings, stop it again (to debug the set-up).
#   TEST_SH_SUMMARY_FILE       Write the summary line to this file instead of printing it
#                              (.ci/run prints it itself, last, whatever happened here).
#   PG_VERSION                 PostgreSQL major version to use (default: the highest installed
#                              under /usr/lib/postgresql; `postgresql` is apt-installed if none is).
#   TEST_SH_SKIP_BENCH=1       Do not build bench/ (quicker local runs; CI always builds it).
#   TEST_SH_PG_PORT            first port to try for the server (default 15432, below the
#                              kernel's ephemeral port range; taken ports are skipped).
#
# The very last line of output is always `tests: N passed, M failed[, K skipped]`, summed from
# the TRX files; the exit code is non-zero on any failure, build failure or when no test ran.
# A bench/ that does not build counts as one failure.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"

RESULTS_DIR="$REPO_ROOT/TestResults"   # git-ignored
# shellcheck source=lib/postgres.sh
source "$REPO_ROOT/scripts/lib/postgres.sh"
PG_LOG_PREFIX=test.sh

log() { echo "test.sh: $*" >&2; }
# The closing `tests: …` line: printed, or handed to .ci/run through TEST_SH_SUMMARY_FILE.
summary() {
    if [[ -n "${TEST_SH_SUMMARY_FILE:-}" ]]; then echo "$1" >"$TEST_SH_SUMMARY_FILE"; else echo "$1"; fi
}
die() { log "ERROR: $*"; exit 1; }

# Stops the server we started and removes its files. Idempotent: called explicitly before the
# summary (so the summary stays the last line) and again from the EXIT trap.
cleanup() { pg_throwaway_cleanup; }
trap cleanup EXIT
# Turn signals into a normal exit so the EXIT trap runs and the server never outlives us;
# pass them on to a running `dotnet test` first so it does not keep using a stopped server.
DOTNET_PID=""
on_signal() {
    if [[ -n "$DOTNET_PID" ]]; then kill -TERM "$DOTNET_PID" 2>/dev/null || true; fi
    exit "$1"
}
trap 'on_signal 130' INT
trap 'on_signal 143' TERM
trap 'on_signal 129' HUP

# ---------------------------------------------------------------------------------------------
# 1. Tooling
# ---------------------------------------------------------------------------------------------
if [[ -z "${TEST_SH_PG_ONLY:-}" ]]; then
    command -v dotnet >/dev/null 2>&1 \
        || die "the .NET SDK ('dotnet') is not on PATH; install the SDK pinned in global.json (https://dot.net) and re-run"
    # python3 parses the TRX result files; install it up front rather than fail after the tests.
    command -v python3 >/dev/null 2>&1 || pg_apt_install python3-minimal
    command -v python3 >/dev/null 2>&1 || die "python3 is required to read the test results"
    # The API reference page is rendered in headless Chromium (Debian's package; Playwright's own
    # browser download needs the internet). Installed once; later runs find it.
    [[ -x /usr/bin/chromium ]] || pg_apt_install chromium >/dev/null
    [[ -x /usr/bin/chromium ]] || log "warning: /usr/bin/chromium is missing: the reference page test will fail"
    # The manifest tests render deploy/k8s with `kubectl kustomize` (kustomize v4 or later; Debian's
    # own kubernetes-client is too old to read it). The machine image ships kubectl.
    command -v kubectl >/dev/null 2>&1 || log "warning: kubectl is not on PATH: the Kubernetes manifest tests will fail"
fi

# ---------------------------------------------------------------------------------------------
# 2. PostgreSQL
# ---------------------------------------------------------------------------------------------
start_postgres() {
    # Several silos and client pools share this server during a test run.
    pg_throwaway_start --base "${TEST_SH_PG_PORT:-15432}" --db credentials_test --set max_connections=200
    export CREDENTIALS_TEST_POSTGRES="$PG_CONN;Pooling=true"
}

if [[ -n "${CREDENTIALS_TEST_POSTGRES:-}" ]]; then
    log "using existing PostgreSQL from CREDENTIALS_TEST_POSTGRES"
else
    start_postgres
fi

if [[ -n "${TEST_SH_PG_ONLY:-}" ]]; then
    [[ -n "$PG_PORT" ]] || die "TEST_SH_PG_ONLY=1 checks the server this script starts; unset CREDENTIALS_TEST_POSTGRES"
    log "CREDENTIALS_TEST_POSTGRES=$CREDENTIALS_TEST_POSTGRES"
    PGPASSWORD="$PG_PASSWORD" "$PG_BIN/psql" -X -w -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" \
        -U postgres -d credentials_test -At -c 'SELECT 1'
    exit 0
fi

# ---------------------------------------------------------------------------------------------
# 3. Tests
# ---------------------------------------------------------------------------------------------
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

# Old TRX files would be counted again.
mkdir -p "$RESULTS_DIR"
find "$RESULTS_DIR" -name '*.trx' -type f -delete

# bench/ is not in the solution (the tests need not wait for it), but it must not rot: build it
# here, so a bench that no longer compiles fails the run. Incremental, so usually a few seconds.
bench_rc=0
if [[ -z "${TEST_SH_SKIP_BENCH:-}" ]]; then
    log "building bench/Credentials.Bench ..."
    dotnet build bench/Credentials.Bench/Credentials.Bench.csproj -c Release -nologo -v q -clp:ErrorsOnly >&2 &
    DOTNET_PID=$!
    wait "$DOTNET_PID" || bench_rc=$?
    DOTNET_PID=""
    (( bench_rc == 0 )) || log "bench/Credentials.Bench did not build (exit $bench_rc); counting it as 1 failure"
fi

# In the background + wait: bash only runs signal traps between commands, so a foreground
# dotnet test would delay our clean-up on SIGTERM until the whole run finished.
dotnet_rc=0
dotnet test Credentials.Orleans.sln -c Release \
    --logger "trx;LogFilePrefix=results" --results-directory "$RESULTS_DIR" "$@" &
DOTNET_PID=$!
wait "$DOTNET_PID" || dotnet_rc=$?
DOTNET_PID=""

# ---------------------------------------------------------------------------------------------
# 4. Stop PostgreSQL now so nothing prints after the summary.
# ---------------------------------------------------------------------------------------------
cleanup
if [[ -n "${CI:-}" ]]; then
    # Lingering MSBuild/compiler server processes can keep CI log pipes open.
    dotnet build-server shutdown >/dev/null 2>&1 || true
fi

# ---------------------------------------------------------------------------------------------
# 5. Summary from all TRX files: "<passed> <failed> <skipped> <unreadable files>"
# ---------------------------------------------------------------------------------------------
mapfile -t trx_files < <(find "$RESULTS_DIR" -name '*.trx' -type f | sort)

if [[ ${#trx_files[@]} -eq 0 ]]; then
    log "no TRX results were produced (build failure?); dotnet test exit code $dotnet_rc"
    summary "tests: 0 passed, 1 failed"
    exit 1
fi

counts="$(python3 - "${trx_files[@]}" <<'PY'
import sys
import xml.etree.ElementTree as ET

def attr(el, name):
    try:
        return int(el.get(name, "0"))
    except ValueError:
        return 0

passed = failed = skipped = unreadable = 0
for path in sys.argv[1:]:
    try:
        root = ET.parse(path).getroot()
    except (ET.ParseError, OSError) as e:
        print(f"test.sh: cannot read {path}: {e}", file=sys.stderr)
        unreadable += 1
        continue
    # Element names carry the TeamTest namespace; match on the local name.
    counters = next((el for el in root.iter() if el.tag.rsplit('}', 1)[-1] == "Counters"), None)
    if counters is None:
        print(f"test.sh: no <Counters> in {path}", file=sys.stderr)
        unreadable += 1
        continue
    passed += attr(counters, "passed")
    failed += sum(attr(counters, a) for a in ("failed", "error", "timeout", "aborted"))
    skipped += attr(counters, "notExecuted") + attr(counters, "inconclusive")
print(passed, failed, skipped, unreadable)
PY
)" || counts=""
if [[ ! "$counts" =~ ^[0-9]+\ [0-9]+\ [0-9]+\ [0-9]+$ ]]; then
    log "could not parse the TRX files"
    summary "tests: 0 passed, 1 failed"
    exit 1
fi
read -r passed failed skipped unreadable <<<"$counts"

# An unreadable result file, or dotnet test failing although no test failed (e.g. one project
# did not build, or a test host crashed), is a failure the counters do not show: count it.
if (( unreadable > 0 )); then
    failed=$((failed + unreadable))
fi
if (( dotnet_rc != 0 && failed == 0 )); then
    log "dotnet test exited with $dotnet_rc although no test failed; counting it as 1 failure"
    failed=1
fi

if (( bench_rc != 0 )); then
    failed=$((failed + 1))
fi

status=0
(( failed == 0 )) || status=1
(( dotnet_rc == 0 )) || status=1
if (( passed + failed == 0 )); then
    log "no tests ran (check --filter?)"
    status=1
fi

summary="tests: $passed passed, $failed failed"
(( skipped > 0 )) && summary+=", $skipped skipped"
summary "$summary"
exit "$status"
