#!/usr/bin/env bash
# Builds the Api in Release, starts it embedded on free loopback ports with a throwaway data dir
# and a random super-admin token, runs every benchmark scenario against it, stops it, and writes
# the results (machine, command, table) to a Markdown file.
#
#   bash bench/run.sh [options] [-- extra Credentials.Bench options]
#
#   --postgres CONN     also measure the PostgreSQL backend at CONN (Npgsql syntax; loopback host)
#   --start-postgres    also measure PostgreSQL on a throwaway server started here (the highest
#                       major installed, or $PG_VERSION; as `postgres` on 127.0.0.1; scripts/lib/postgres.sh)
#   --no-sqlite         skip the embedded SQLite backend
#   --cluster           also measure the local cluster (deploy/local-cluster.sh: 2 silos + 2 API nodes in
#                       client mode, same build) on the same PostgreSQL, after the embedded backends; the
#                       bench spreads every scenario over both API nodes (ramp and activation are skipped
#                       there). Needs --start-postgres or --postgres; appends cluster / postgres ratios
#   --ref GIT_REF       build the Api from this commit (git archive) instead of the working tree
#   --duration SECS     measured seconds per scenario (default 10)
#   --warmup SECS       warm-up seconds per scenario (default 2)
#   --concurrency N     requests in flight (default 64)
#   --scenarios LIST    default: ceiling,read-list,read-search,image-search,write-create,write-create-20,svg-inspection,ramp
#                       (ramp starts fresh service processes of its own from the same build: bench/README.md)
#                       (the ceiling runs only with the first backend; image-search gives three rows:
#                       image-upload, image-search-rare, image-search-common); also upload, media-get,
#                       fault-writes, activation (cold orgs of 100k issuers/images in an in-process
#                       silo over the same backend; see bench/README.md). With --start-postgres, the bench's
#                       environment has BENCH_PG_RESTART: `bash "$BENCH_PG_RESTART" fast|immediate`
#                       restarts that server (bench/faults.sh passes it as --fault-command)
#   --out FILE          results file (default bench/results/<UTC timestamp>.md)
#   --no-ready-to-run   publish the Api without ReadyToRun code (A/B of ADR 0018's start-up half)
#
# Everything listens on 127.0.0.1 only; every process this script starts is stopped on exit.
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$BENCH_DIR/.." && pwd)"
cd "$REPO_ROOT"

# shellcheck source=../scripts/lib/postgres.sh
source "$REPO_ROOT/scripts/lib/postgres.sh"
PG_LOG_PREFIX=run.sh

log() { echo "run.sh: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# ---------------------------------------------------------------------------------------------
# Options
# ---------------------------------------------------------------------------------------------
POSTGRES_CONN=""
START_POSTGRES=0
RUN_SQLITE=1
RUN_CLUSTER=0
GIT_REF=""
DURATION=10
WARMUP=2
CONCURRENCY=64
SCENARIOS="ceiling,read-list,read-search,image-search,write-create,write-create-20,svg-inspection,ramp"
OUT=""
READY_TO_RUN=true
EXTRA=()
ORIGINAL_ARGS=("$@")
while [[ $# -gt 0 ]]; do
    case "$1" in
        --postgres) POSTGRES_CONN="${2:?--postgres needs a connection string}"; shift 2 ;;
        --start-postgres) START_POSTGRES=1; shift ;;
        --no-sqlite) RUN_SQLITE=0; shift ;;
        --cluster) RUN_CLUSTER=1; shift ;;
        --ref) GIT_REF="${2:?--ref needs a git ref}"; shift 2 ;;
        --duration) DURATION="${2:?}"; shift 2 ;;
        --warmup) WARMUP="${2:?}"; shift 2 ;;
        --concurrency) CONCURRENCY="${2:?}"; shift 2 ;;
        --scenarios) SCENARIOS="${2:?}"; shift 2 ;;
        --out) OUT="${2:?}"; shift 2 ;;
        --no-ready-to-run) READY_TO_RUN=false; shift ;;
        --) shift; EXTRA=("$@"); break ;;
        -h|--help) sed -n '2,31p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown option $1 (try --help)" ;;
    esac
done
[[ -n "$POSTGRES_CONN" && $START_POSTGRES -eq 1 ]] && die "use either --postgres or --start-postgres"
if [[ -n "$POSTGRES_CONN" ]]; then
    # The bench only ever aims at loopback; so does the database it makes the service write to.
    [[ "$POSTGRES_CONN" =~ (^|;)[[:space:]]*(Host|Server)[[:space:]]*=[[:space:]]*(127\.[0-9.]+|localhost|::1)[[:space:]]*(;|$) ]] \
        || die "--postgres must name a loopback Host (127.x.x.x, localhost or ::1)"
fi
BACKENDS=()
(( RUN_SQLITE )) && BACKENDS+=(sqlite)
[[ -n "$POSTGRES_CONN" || $START_POSTGRES -eq 1 ]] && BACKENDS+=(postgres)
if (( RUN_CLUSTER )); then
    [[ -n "$POSTGRES_CONN" || $START_POSTGRES -eq 1 ]] || die "--cluster needs --start-postgres or --postgres"
    BACKENDS+=(cluster)
fi
(( ${#BACKENDS[@]} > 0 )) || die "nothing to measure (--no-sqlite without --postgres/--start-postgres)"
command -v dotnet >/dev/null 2>&1 || die "the .NET SDK ('dotnet') is not on PATH"
command -v curl >/dev/null 2>&1 || die "curl is required (readiness checks)"

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

# ---------------------------------------------------------------------------------------------
# Clean-up: only the processes and files this script created.
# ---------------------------------------------------------------------------------------------
RUN_TMP="$(mktemp -d /tmp/credentials-bench.XXXXXX)"
API_PID=""
CLUSTER_DIR=""

stop_cluster() {
    [[ -n "$CLUSTER_DIR" ]] || return 0
    LOCAL_CLUSTER_DIR="$CLUSTER_DIR" bash "$REPO_ROOT/deploy/local-cluster.sh" down >/dev/null 2>&1 || true
    CLUSTER_DIR=""
}

stop_api() {
    [[ -n "$API_PID" ]] || return 0
    if kill -0 "$API_PID" 2>/dev/null; then
        kill -TERM "$API_PID" 2>/dev/null || true
        local deadline=$((SECONDS + 20))
        while kill -0 "$API_PID" 2>/dev/null && (( SECONDS < deadline )); do sleep 0.2; done
        kill -0 "$API_PID" 2>/dev/null && kill -KILL "$API_PID" 2>/dev/null || true
    fi
    wait "$API_PID" 2>/dev/null || true
    API_PID=""
}

stop_postgres() { pg_throwaway_cleanup; }

cleanup() {
    stop_api
    stop_cluster
    stop_postgres
    if [[ -n "${KEEP_BENCH_TMP:-}" ]]; then log "kept $RUN_TMP"; else rm -rf -- "$RUN_TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# ---------------------------------------------------------------------------------------------
# Free loopback ports, below the ephemeral range (there a client socket can hold a free-looking port)
# ---------------------------------------------------------------------------------------------
TAKEN_PORTS=" "
EPHEMERAL_START="$(pg_ephemeral_start)"
(( EPHEMERAL_START > 21024 )) || EPHEMERAL_START=32768
port_is_free() {
    if command -v ss >/dev/null 2>&1; then
        [[ -z "$(ss -Htan "sport = :$1")" ]]
    else
        ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
    fi
}
free_port() {
    local port tries=0
    while (( tries++ < 200 )); do
        port=$((20000 + RANDOM % (EPHEMERAL_START - 20000)))
        if [[ "$TAKEN_PORTS" != *" $port "* ]] && port_is_free "$port"; then
            TAKEN_PORTS+="$port "
            echo "$port"
            return 0
        fi
    done
    die "no free TCP port found"
}

random_hex() { od -An -tx1 -N"$1" /dev/urandom | tr -d ' \n'; }

# ---------------------------------------------------------------------------------------------
# Throwaway PostgreSQL (scripts/lib/postgres.sh, as scripts/test.sh)
# ---------------------------------------------------------------------------------------------
start_postgres() {
    # Durability settings stay at their defaults (fsync, synchronous_commit on): an acknowledged
    # write must be on disk, as in production.
    pg_throwaway_start --db credentials_bench --set max_connections=200
    POSTGRES_CONN="$PG_CONN;Pooling=true"
    # For fault runs (--fault-command 'bash "$BENCH_PG_RESTART" fast|immediate'): restart this server.
    cat >"$RUN_TMP/pg-restart.sh" <<EOF
#!/usr/bin/env bash
set -euo pipefail
cd "$PG_TMP"
run() { if [[ \$EUID -eq 0 ]]; then runuser -u postgres -- "\$@"; else "\$@"; fi; }
run "$PG_BIN/pg_ctl" restart -D "$PG_TMP/data" -l "$PG_TMP/server.log" -o "-p $PG_PORT" -m "\${1:-fast}" -w -t 60 >/dev/null
echo "PostgreSQL restarted (\${1:-fast})"
EOF
    export BENCH_PG_RESTART="$RUN_TMP/pg-restart.sh"
}

# ---------------------------------------------------------------------------------------------
# Build: the Api into bench/.artifacts (not Api/bin, which other builds use), and the bench tool.
# ---------------------------------------------------------------------------------------------
SRC="$REPO_ROOT"
SOURCE_DESC="working tree at $(git -C "$REPO_ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')"
if [[ -n "$(git -C "$REPO_ROOT" status --porcelain -- Api Grains Grains.Interfaces 2>/dev/null)" ]]; then
    SOURCE_DESC+=" (with uncommitted changes)"
fi
ARTIFACTS="$BENCH_DIR/.artifacts/worktree"
if [[ -n "$GIT_REF" ]]; then
    SHA="$(git -C "$REPO_ROOT" rev-parse --verify "$GIT_REF^{commit}")" || die "unknown git ref $GIT_REF"
    SRC="$RUN_TMP/src"
    mkdir -p "$SRC"
    git -C "$REPO_ROOT" archive "$SHA" | tar -x -C "$SRC"
    SOURCE_DESC="commit ${SHA:0:12} ($GIT_REF)"
    ARTIFACTS="$BENCH_DIR/.artifacts/${SHA:0:12}"
fi

# Published for this machine's runtime identifier, as the container image is (deploy/docker): with
# ReadyToRun code unless --no-ready-to-run.
RID="linux-$(case "$(uname -m)" in aarch64|arm64) echo arm64 ;; *) echo x64 ;; esac)"
[[ "$READY_TO_RUN" == true ]] || ARTIFACTS+="-jit"
log "publishing the Api (Release, $RID, ReadyToRun=$READY_TO_RUN) from $SOURCE_DESC ..."
dotnet publish "$SRC/Api/Api.csproj" -c Release -r "$RID" --self-contained false -p:PublishReadyToRun="$READY_TO_RUN" \
    --artifacts-path "$ARTIFACTS" -nologo -v q -clp:ErrorsOnly \
    || die "the Api did not build"
API_DLL="$ARTIFACTS/publish/Api/release_$RID/Credentials.Api.dll"
[[ -f "$API_DLL" ]] || die "no $API_DLL after the build"
if (( RUN_CLUSTER )); then
    log "building the Silo (Release) from $SOURCE_DESC ..."
    dotnet build "$SRC/Silo/Silo.csproj" -c Release --artifacts-path "$ARTIFACTS" -nologo -v q -clp:ErrorsOnly \
        || die "the Silo did not build"
    SILO_DLL="$ARTIFACTS/bin/Silo/release/Credentials.Silo.dll"
    [[ -f "$SILO_DLL" ]] || die "no $SILO_DLL after the build"
fi

log "building bench/Credentials.Bench (Release) ..."
dotnet build "$BENCH_DIR/Credentials.Bench/Credentials.Bench.csproj" -c Release -nologo -v q -clp:ErrorsOnly \
    || die "the bench tool did not build"

# ---------------------------------------------------------------------------------------------
# Results file: machine first, then the bench appends its table rows.
# ---------------------------------------------------------------------------------------------
if [[ -z "$OUT" ]]; then
    mkdir -p "$BENCH_DIR/results"
    OUT="$BENCH_DIR/results/$(date -u +%Y%m%dT%H%M%SZ).md"
fi
mkdir -p "$(dirname "$OUT")"
OUT="$(cd "$(dirname "$OUT")" && pwd)/$(basename "$OUT")"
{
    echo "# Benchmark run $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
    echo
    echo "- command: \`bash bench/run.sh ${ORIGINAL_ARGS[*]:-}\`"
    echo "- service: $SOURCE_DESC, Release ($RID, ReadyToRun=$READY_TO_RUN), embedded (API + silo in one process)$( (( RUN_CLUSTER )) && echo "; cluster: deploy/local-cluster.sh, 2 silos + 2 client-mode API nodes, mutual TLS, same build and PostgreSQL server")"
    echo "- CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//') — nproc $(nproc)"
    echo "- memory: $(free -h | awk '/^Mem:/ {print $2 " total, " $7 " available"}')"
    echo "- disk under /tmp: $(df -h /tmp | awk 'NR==2 {print $1 " (" $2 ")"}')"
    echo "- .NET SDK $(dotnet --version), $(uname -sr)"
    echo "- load generator: Credentials.Bench (HttpClient, closed loop) on the same machine"
    echo "- per scenario: ${WARMUP} s warm-up, ${DURATION} s measured, concurrency ${CONCURRENCY}"
    echo "- load average before: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine competes for the same cores)"
} > "$OUT"

# ---------------------------------------------------------------------------------------------
# One backend: start the service, wait for /readyz, run the scenarios, stop it.
# ---------------------------------------------------------------------------------------------
# Waits up to 60 s for /readyz; fails early when the service process has exited.
wait_ready() {
    local port="$1" deadline=$((SECONDS + 60))
    until curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$port/readyz" 2>/dev/null; do
        kill -0 "$API_PID" 2>/dev/null || return 1
        (( SECONDS < deadline )) || return 1
        sleep 0.5
    done
}

run_backend() {
    local backend="$1" scenarios="$2"
    local http_port silo_port gateway_port token data_dir logf
    http_port="$(free_port)"; silo_port="$(free_port)"; gateway_port="$(free_port)"
    token="cro_admin_bench_$(random_hex 24)"
    data_dir="$RUN_TMP/data-$backend"
    logf="$RUN_TMP/api-$backend.log"
    mkdir -p "$data_dir"

    local args=(
        "--Urls=http://127.0.0.1:$http_port"
        "--Storage:DataDirectory=$data_dir"
        "--RateLimiting:Enabled=false"
        "--Orleans:SiloPort=$silo_port"
        "--Orleans:GatewayPort=$gateway_port"
        "--Orleans:ClusterId=bench-$http_port"
        "--Orleans:ServiceId=bench-$(random_hex 4)"
        "--Logging:LogLevel:Default=Warning"
        # write-webhook delivers to a receiver inside the bench, on loopback.
        "--Webhooks:AllowInsecureTargets=true"
    )
    # Secrets go through the environment (Section__Key), not argv, so `ps` does not show them.
    local env_args=("Auth__AdminToken=$token")
    if [[ "$backend" == postgres ]]; then
        env_args+=("ConnectionStrings__PostgreSql=$POSTGRES_CONN")
    fi
    # BENCH_SERVICE_X=v is X=v for the service alone (runtime knobs for A/B runs; the bench's own
    # Kestrel ceiling keeps its settings).
    local name
    while IFS= read -r name; do
        env_args+=("${name#BENCH_SERVICE_}=${!name}")
    done < <(compgen -e | grep '^BENCH_SERVICE_' || true)

    # Two attempts: on a busy shared machine the silo's start-up can time out once.
    local attempt
    for attempt in 1 2; do
        log "[$backend] starting the service on 127.0.0.1:$http_port (silo $silo_port, gateway $gateway_port)"
        (cd "$RUN_TMP" && exec env "${env_args[@]}" dotnet "$API_DLL" "${args[@]}") >"$logf" 2>&1 &
        API_PID=$!
        if wait_ready "$http_port"; then break; fi
        tail -n 40 "$logf" >&2
        stop_api
        (( attempt == 1 )) || die "[$backend] the service did not become ready (log above)"
        log "[$backend] start-up failed; retrying once on new ports"
        http_port="$(free_port)"; silo_port="$(free_port)"; gateway_port="$(free_port)"
        args[0]="--Urls=http://127.0.0.1:$http_port"
        args[3]="--Orleans:SiloPort=$silo_port"
        args[4]="--Orleans:GatewayPort=$gateway_port"
    done
    log "[$backend] ready; running: $scenarios"

    local rc=0
    # ramp starts fresh processes of this build; activation hosts its own silo (on PostgreSQL the same
    # server under its own service id). Connection strings go through the environment, as the token does.
    local bench_env=()
    [[ "$backend" == postgres ]] && bench_env+=("ConnectionStrings__PostgreSql=$POSTGRES_CONN" "BENCH_ACTIVATION_POSTGRES=$POSTGRES_CONN")
    env "${bench_env[@]}" CREDENTIALS_ADMIN_TOKEN="$token" dotnet run --no-build -c Release --project "$BENCH_DIR/Credentials.Bench" -- \
        --url "http://127.0.0.1:$http_port" --label "$backend" --out "$OUT" \
        --duration "$DURATION" --warmup "$WARMUP" --concurrency "$CONCURRENCY" --scenarios "$scenarios" \
        --api-dll "$API_DLL" "${EXTRA[@]}" || rc=$?

    if grep -qE '^(fail|crit)' "$logf"; then
        log "[$backend] the service logged errors:"
        # head closes the pipe early: under pipefail grep's SIGPIPE would end the script.
        grep -E -A3 '^(fail|crit)' "$logf" | head -n 40 >&2 || true
        { echo; echo "[$backend] the service logged errors (first lines):"; echo '```'
          grep -E -A3 '^(fail|crit)' "$logf" | head -n 20 || true; echo '```'; } >> "$OUT"
    fi
    stop_api
    (( rc == 0 )) || die "[$backend] the bench failed (exit $rc); service log: $(tail -n 20 "$logf")"
}

# Nine consecutive free loopback ports for deploy/local-cluster.sh.
free_port_block() {
    local first tries=0 i ok
    while (( tries++ < 200 )); do
        first=$((20000 + RANDOM % (EPHEMERAL_START - 20000 - 9))); ok=1
        for i in $(seq 0 8); do
            if [[ "$TAKEN_PORTS" == *" $((first + i)) "* ]] || ! port_is_free $((first + i)); then ok=0; break; fi
        done
        if (( ok )); then
            for i in $(seq 0 8); do TAKEN_PORTS+="$((first + i)) "; done
            echo "$first"; return 0
        fi
    done
    die "no block of 9 free TCP ports found"
}

# The local cluster on the same PostgreSQL (its own service id), both API nodes given to the bench.
run_cluster() {
    local scenarios="$1" first token rc=0
    scenarios="$(tr ',' '\n' <<<"$scenarios" | grep -vxE 'ramp|activation' | paste -sd, -)"
    [[ -n "$scenarios" ]] || { log "[cluster] nothing to run (ramp and activation are embedded only)"; return 0; }
    first="$(free_port_block)"
    token="cro_admin_bench_$(random_hex 24)"
    CLUSTER_DIR="$RUN_TMP/cluster"
    mkdir -p "$CLUSTER_DIR"
    log "[cluster] starting 2 silos + 2 API nodes on 127.0.0.1:$first–$((first + 7))"
    if ! env LOCAL_CLUSTER_DIR="$CLUSTER_DIR" LOCAL_CLUSTER_PORT="$first" LOCAL_CLUSTER_ID="bench-cluster-$(random_hex 4)" \
        LOCAL_CLUSTER_POSTGRES="$POSTGRES_CONN" LOCAL_CLUSTER_ADMIN_TOKEN="$token" LOCAL_CLUSTER_BUILD=0 \
        LOCAL_CLUSTER_SILO_BIN="$(dirname "$SILO_DLL")" LOCAL_CLUSTER_API_BIN="$(dirname "$API_DLL")" \
        RateLimiting__Enabled=false Logging__LogLevel__Default=Warning \
        bash "$REPO_ROOT/deploy/local-cluster.sh" up >"$RUN_TMP/cluster-up.log" 2>&1; then
        tail -n 40 "$RUN_TMP/cluster-up.log" >&2
        die "[cluster] the local cluster did not come up"
    fi
    log "[cluster] ready; running: $scenarios"
    CREDENTIALS_ADMIN_TOKEN="$token" dotnet run --no-build -c Release --project "$BENCH_DIR/Credentials.Bench" -- \
        --url "http://127.0.0.1:$first,http://127.0.0.1:$((first + 1))" --label cluster --out "$OUT" \
        --duration "$DURATION" --warmup "$WARMUP" --concurrency "$CONCURRENCY" --scenarios "$scenarios" \
        "${EXTRA[@]}" || rc=$?
    if grep -qE '^(fail|crit)' "$CLUSTER_DIR"/*.log; then
        log "[cluster] a node logged errors:"
        grep -E -A3 '^(fail|crit)' "$CLUSTER_DIR"/*.log | head -n 40 >&2 || true
        { echo; echo "[cluster] a node logged errors (first lines):"; echo '```'
          grep -E -A3 '^(fail|crit)' "$CLUSTER_DIR"/*.log | head -n 20 || true; echo '```'; } >> "$OUT"
    fi
    stop_cluster
    (( rc == 0 )) || die "[cluster] the bench failed (exit $rc)"
}

if (( START_POSTGRES )); then start_postgres; fi

first=1
for backend in "${BACKENDS[@]}"; do
    scenarios="$SCENARIOS"
    if (( ! first )); then
        # The ceiling does not depend on the backend: measure it once.
        scenarios="$(tr ',' '\n' <<<"$scenarios" | grep -vx ceiling | paste -sd, -)"
        [[ -n "$scenarios" ]] || continue
    fi
    if [[ "$backend" == cluster ]]; then run_cluster "$scenarios"; else run_backend "$backend" "$scenarios"; fi
    first=0
done

stop_postgres
if (( ${#BACKENDS[@]} > 1 )); then
    dotnet run --no-build -c Release --project "$BENCH_DIR/Credentials.Bench" -- --ratios --out "$OUT" || log "could not append the ratios"
fi
echo "- load average after: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT"
log "results: $OUT"
cat "$OUT"
