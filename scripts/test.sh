#!/usr/bin/env bash
# Runs every test project in Credentials.Orleans.sln against a throwaway PostgreSQL 15.
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
#
# The very last line of output is always `tests: N passed, M failed[, K skipped]`, summed from
# the TRX files; the exit code is non-zero on any failure, build failure or when no test ran.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"

RESULTS_DIR="$REPO_ROOT/TestResults"   # git-ignored
PG_VERSION=15
PG_BIN="/usr/lib/postgresql/$PG_VERSION/bin"
PG_TMP=""        # temp dir holding data dir, socket and log; set once we start a server
PG_STARTED=0

log() { echo "test.sh: $*" >&2; }
# The closing `tests: …` line: printed, or handed to .ci/run through TEST_SH_SUMMARY_FILE.
summary() {
    if [[ -n "${TEST_SH_SUMMARY_FILE:-}" ]]; then echo "$1" >"$TEST_SH_SUMMARY_FILE"; else echo "$1"; fi
}
die() { log "ERROR: $*"; exit 1; }

# Runs a command as root: directly, or through sudo (non-interactively, CI has no stdin).
as_root() {
    if [[ $EUID -eq 0 ]]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo -n "$@"
    else
        die "need root (or sudo) to run: $*"
    fi
}

apt_install() {
    log "installing $* with apt-get ..."
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    # The package's post-install tries to create/start a default cluster on 5432; without
    # systemd that may fail. We never use that cluster, so a non-zero status here is only a
    # warning; callers check afterwards that what they need is actually installed.
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        -o Dpkg::Use-Pty=0 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$@" \
        || log "warning: apt-get install $* exited non-zero (post-install scripts?); continuing"
}

# Stops the server we started and removes its files. Idempotent: called explicitly before the
# summary (so the summary stays the last line) and again from the EXIT trap.
cleanup() {
    if [[ $PG_STARTED -eq 1 ]]; then
        PG_STARTED=0
        as_pg "$PG_BIN/pg_ctl" stop -D "$PG_TMP/data" -m fast -w -t 30 >/dev/null 2>&1 \
            || as_pg "$PG_BIN/pg_ctl" stop -D "$PG_TMP/data" -m immediate -w -t 10 >/dev/null 2>&1 \
            || true
    fi
    if [[ -n "$PG_TMP" && -d "$PG_TMP" ]]; then
        rm -rf -- "$PG_TMP"
    fi
    PG_TMP=""
}
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
    command -v python3 >/dev/null 2>&1 || apt_install python3-minimal
    command -v python3 >/dev/null 2>&1 || die "python3 is required to read the test results"
    # The manifest tests render deploy/k8s with `kubectl kustomize` (kustomize v4 or later; Debian's
    # own kubernetes-client is too old to read it). The machine image ships kubectl.
    command -v kubectl >/dev/null 2>&1 || log "warning: kubectl is not on PATH: the Kubernetes manifest tests will fail"
fi

# ---------------------------------------------------------------------------------------------
# 2. PostgreSQL
# ---------------------------------------------------------------------------------------------
# The server must not run as root (PostgreSQL refuses to), so as root we use the `postgres`
# account; otherwise the current user. The cd matters: initdb/pg_ctl fail if they cannot
# read the current directory (e.g. a checkout under /root).
as_pg() {
    if [[ $EUID -eq 0 ]]; then
        (cd "$PG_TMP" && runuser -u postgres -- "$@")
    else
        (cd "$PG_TMP" && "$@")
    fi
}

port_is_free() {
    if command -v ss >/dev/null 2>&1; then
        [[ -z "$(ss -Hltn "sport = :$1")" ]]
    else
        # No ss: a refused connection means nobody listens there.
        ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
    fi
}

start_postgres() {
    if [[ ! -x "$PG_BIN/initdb" ]]; then
        apt_install postgresql-$PG_VERSION
        [[ -x "$PG_BIN/initdb" ]] || die "PostgreSQL $PG_VERSION binaries not found in $PG_BIN after apt-get install"
    fi
    if [[ $EUID -eq 0 ]] && ! id postgres >/dev/null 2>&1; then
        # Binaries present without the account (unusual); create it like postgresql-common does.
        useradd --system --user-group --home-dir /var/lib/postgresql --shell /bin/bash postgres
    fi

    local port=55432
    while ! port_is_free "$port"; do
        port=$((port + 1))
        (( port < 55532 )) || die "no free TCP port in 55432-55531 for PostgreSQL"
    done

    # Hex password: safe inside a connection string without quoting.
    local password
    password="$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')"

    # /tmp (not $TMPDIR) so that the postgres account can always reach it.
    PG_TMP="$(mktemp -d /tmp/credentials-pg.XXXXXX)"
    printf '%s\n' "$password" > "$PG_TMP/pwfile"
    if [[ $EUID -eq 0 ]]; then chown -R postgres: "$PG_TMP"; fi

    log "starting throwaway PostgreSQL $PG_VERSION on 127.0.0.1:$port (data in $PG_TMP)"
    # Socket connections are limited to our 0700 temp dir, so trust is fine there; TCP needs the
    # password. C locale: works on machines without generated locales.
    as_pg "$PG_BIN/initdb" -D "$PG_TMP/data" -U postgres --pwfile="$PG_TMP/pwfile" \
        --auth-local=trust --auth-host=scram-sha-256 --encoding=UTF8 --locale=C \
        >"$PG_TMP/initdb.log" 2>&1 \
        || { cat "$PG_TMP/initdb.log" >&2; die "initdb failed"; }
    rm -f "$PG_TMP/pwfile"

    cat >>"$PG_TMP/data/postgresql.conf" <<EOF

# --- scripts/test.sh: throwaway test server ---
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$PG_TMP'
# Several silos and client pools share this server during a test run.
max_connections = 200
EOF

    PG_STARTED=1   # from here on cleanup must try to stop it
    as_pg "$PG_BIN/pg_ctl" start -D "$PG_TMP/data" -l "$PG_TMP/server.log" -w -t 30 >/dev/null \
        || { cat "$PG_TMP/server.log" >&2; die "PostgreSQL did not start"; }

    # Readiness over TCP exactly as the tests will connect, with a deadline.
    local deadline=$((SECONDS + 30))
    until "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$port" -d postgres; do
        (( SECONDS < deadline )) || { cat "$PG_TMP/server.log" >&2; die "PostgreSQL not ready after 30 s"; }
        sleep 0.5
    done

    as_pg "$PG_BIN/createdb" -h "$PG_TMP" -p "$port" -U postgres credentials_test

    export CREDENTIALS_TEST_POSTGRES="Host=127.0.0.1;Port=$port;Database=credentials_test;Username=postgres;Password=$password;Pooling=true"
    # For the PG_ONLY self-check (and for humans debugging a failed run).
    PG_PORT="$port"
    PG_PASSWORD="$password"
}

if [[ -n "${CREDENTIALS_TEST_POSTGRES:-}" ]]; then
    log "using existing PostgreSQL from CREDENTIALS_TEST_POSTGRES"
else
    start_postgres
fi

if [[ -n "${TEST_SH_PG_ONLY:-}" ]]; then
    [[ -n "${PG_PORT:-}" ]] || die "TEST_SH_PG_ONLY=1 checks the server this script starts; unset CREDENTIALS_TEST_POSTGRES"
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
