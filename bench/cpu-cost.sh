#!/usr/bin/env bash
# CPU time per answer of one scenario, per process (service, PostgreSQL), for
# builds of several commits, alternating: a figure that other work on a shared machine disturbs far
# less than a rate does (not free of it: an idle .NET thread pool spins, and that counts as CPU time).
#
#   bash bench/cpu-cost.sh [--scenario upload] [--duration 16] [--rounds 2] [--no-sqlite|--no-postgres] REF [REF...]
#
# Each REF is built as bench/run.sh --ref builds it (Release, ReadyToRun, into bench/.artifacts/<sha>,
# reused when already there). One throwaway PostgreSQL (scripts/lib/postgres.sh) serves every run
# (none with --no-postgres: read scenarios such as read-list do not need one).
# Per run: a fresh service, the bench tool's scenario (2 s warm-up); CPU is sampled from /proc from
# 3 s into the measured window to 1 s before its end, and divided by the answers in that span (the
# window's rate × the span); the bench tool's own CPU per answer too (the load generator shares the cores). Prints one Markdown row per run.
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$BENCH_DIR/.." && pwd)"
cd "$REPO_ROOT"
# shellcheck source=../scripts/lib/postgres.sh
source "$REPO_ROOT/scripts/lib/postgres.sh"
PG_LOG_PREFIX=cpu-cost.sh
log() { echo "cpu-cost.sh: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

SCENARIO=upload DURATION=16 ROUNDS=2 BACKENDS="sqlite postgres" REFS=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        --scenario) SCENARIO="${2:?}"; shift 2 ;;
        --duration) DURATION="${2:?}"; shift 2 ;;
        --rounds) ROUNDS="${2:?}"; shift 2 ;;
        --no-sqlite) BACKENDS="postgres"; shift ;;
        --no-postgres) BACKENDS="sqlite"; shift ;;
        -h|--help) sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) REFS+=("$1"); shift ;;
    esac
done
(( ${#REFS[@]} > 0 )) || die "name at least one git ref"
(( DURATION >= 6 )) || die "--duration must be at least 6 s"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

RUN_TMP="$(mktemp -d /tmp/cpu-cost.XXXXXX)"
API_PID=""
cleanup() {
    [[ -n "$API_PID" ]] && kill "$API_PID" 2>/dev/null && wait "$API_PID" 2>/dev/null || true
    pg_throwaway_cleanup
    rm -rf -- "$RUN_TMP"
}
trap cleanup EXIT

RID="linux-$(case "$(uname -m)" in aarch64|arm64) echo arm64 ;; *) echo x64 ;; esac)"
declare -A DLL
for ref in "${REFS[@]}"; do
    sha="$(git rev-parse --verify "$ref^{commit}")" || die "unknown git ref $ref"
    artifacts="$BENCH_DIR/.artifacts/${sha:0:12}"
    DLL[$ref]="$artifacts/publish/Api/release_$RID/Credentials.Api.dll"
    if [[ ! -f "${DLL[$ref]}" ]]; then
        log "publishing $ref (${sha:0:12}) ..."
        src="$RUN_TMP/src-${sha:0:12}"; mkdir -p "$src"
        git archive "$sha" | tar -x -C "$src"
        dotnet publish "$src/Api/Api.csproj" -c Release -r "$RID" --self-contained false -p:PublishReadyToRun=true \
            --artifacts-path "$artifacts" -nologo -v q -clp:ErrorsOnly || die "$ref did not build"
    fi
done
dotnet build "$BENCH_DIR/Credentials.Bench/Credentials.Bench.csproj" -c Release -nologo -v q -clp:ErrorsOnly || die "the bench tool did not build"
BENCH_DLL="$BENCH_DIR/Credentials.Bench/bin/Release/net10.0/Credentials.Bench.dll"

PG_MASTER=""
if [[ "$BACKENDS" == *postgres* ]]; then
    pg_throwaway_start --db credentials_bench --set max_connections=200
    PG_MASTER="$(head -1 "$PG_TMP/data/postmaster.pid")"
    POSTGRES_CONN="$PG_CONN;Pooling=true"
fi

TICKS="$(getconf CLK_TCK)"
# CPU ticks of a process and every descendant (exited children included, as the kernel sums them).
tree_ticks() {
    local pid="$1" total=0 child
    [[ -n "$pid" && -r /proc/$pid/stat ]] || { echo 0; return; }
    total=$(awk '{ sub(/^.*\) /, ""); print $12 + $13 + $14 + $15 }' "/proc/$pid/stat")
    for child in $(cat /proc/"$pid"/task/*/children 2>/dev/null); do
        total=$((total + $(tree_ticks "$child")))
    done
    echo "$total"
}
free_port() { local p; while :; do p=$((20000 + RANDOM % 10000)); [[ -z "$(ss -Htan "sport = :$p")" ]] && { echo "$p"; return; }; done; }

echo "| ref | backend | answers/s | load | service µs | PostgreSQL µs | total µs per answer | bench tool µs |"
echo "| --- | --- | ---: | --- | ---: | ---: | ---: | ---: |"
for round in $(seq 1 "$ROUNDS"); do
  for ref in "${REFS[@]}"; do
    for backend in $BACKENDS; do
        port="$(free_port)"; token="cro_admin_bench_$(od -An -tx1 -N12 /dev/urandom | tr -d ' \n')"
        data="$RUN_TMP/data-$round-$ref-$backend"; mkdir -p "$data"
        env_args=("Auth__AdminToken=$token")
        [[ "$backend" == postgres ]] && env_args+=("ConnectionStrings__PostgreSql=$POSTGRES_CONN")
        (cd "$RUN_TMP" && exec env "${env_args[@]}" dotnet "${DLL[$ref]}" "--Urls=http://127.0.0.1:$port" \
            "--Storage:DataDirectory=$data" --RateLimiting:Enabled=false "--Orleans:SiloPort=$(free_port)" \
            "--Orleans:GatewayPort=$(free_port)" "--Orleans:ClusterId=cpu-$port" "--Orleans:ServiceId=cpu-$port" \
            --Logging:LogLevel:Default=Warning) >"$RUN_TMP/api.log" 2>&1 &
        API_PID=$!
        deadline=$((SECONDS + 90))
        until curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$port/readyz" 2>/dev/null; do
            kill -0 "$API_PID" 2>/dev/null && (( SECONDS < deadline )) || die "the service did not start: $(tail -5 "$RUN_TMP/api.log")"
            sleep 0.5
        done
        out="$RUN_TMP/out-$round-$ref-$backend.md"
        env CREDENTIALS_ADMIN_TOKEN="$token" dotnet "$BENCH_DLL" --url "http://127.0.0.1:$port" --label "$backend" --out "$out" \
            --duration "$DURATION" --warmup 2 --concurrency 64 --scenarios "$SCENARIO" >"$RUN_TMP/bench.log" 2>&1 &
        bench_pid=$!
        # The scenario's set-up (a fresh org) takes well under a second; the window starts after the warm-up.
        sleep 5
        a0=$(tree_ticks "$API_PID"); p0=$(tree_ticks "$PG_MASTER"); b0=$(tree_ticks "$bench_pid"); t0=$(date +%s.%N)
        sleep $((DURATION - 4))
        a1=$(tree_ticks "$API_PID"); p1=$(tree_ticks "$PG_MASTER"); b1=$(tree_ticks "$bench_pid"); t1=$(date +%s.%N)
        wait "$bench_pid" || die "the bench failed: $(tail -5 "$RUN_TMP/bench.log")"
        kill "$API_PID"; wait "$API_PID" 2>/dev/null || true; API_PID=""
        rate="$(grep -m1 "| $backend | $SCENARIO |" "$out" | awk -F'|' '{ gsub(/ /, "", $10); print $10 }')"
        [[ "$backend" == sqlite ]] && p1=$p0
        awk -v r="$rate" -v a=$((a1 - a0)) -v p=$((p1 - p0)) -v b=$((b1 - b0)) -v t0="$t0" -v t1="$t1" -v hz="$TICKS" \
            -v ref="$ref" -v be="$backend" -v load="$(cut -d' ' -f1 /proc/loadavg)" 'BEGIN {
                n = r * (t1 - t0); f = 1e6 / hz / n
                printf "| %s | %s | %d | %s | %.0f | %.0f | %.0f | %.0f |\n", ref, be, r, load, a * f, p * f, (a + p) * f, b * f }'
    done
  done
done
