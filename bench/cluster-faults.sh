#!/usr/bin/env bash
# The local cluster (deploy/local-cluster.sh: two silos, two API nodes, its own PostgreSQL 15 with
# max_connections = 100) under load, with rate limiting off:
#   1. the connection budget: 64 clients of each of read-list (issuer list), write-create (issuer
#      POST), upload (distinct PNGs) and media-get, --duration s each (after 2 s of warm-up),
#      spread over both API nodes. The bar: no error other than 503. PostgreSQL's client backends
#      are sampled every 0.5 s for the peak.
#   2. fault-writes (16 writers, every 4th an upload, 8 orgs, every acknowledged write read back):
#      a) silo-1 killed with SIGKILL at 8 s (then started again);
#      b) the cluster's PostgreSQL restarted (pg_ctl restart -m fast) at 8 s and every 10 s.
#
#   bash bench/cluster-faults.sh [--duration SECS] [--fault-duration SECS] [--parts LIST] [--out FILE]
#
#   --parts LIST   a comma list of budget, silo-kill, pg-restart (default: all three)
#
# Writes bench/results/cluster-faults-<UTC>.md; exit 1 if any part failed. The cluster, its
# PostgreSQL and state directory are this script's own and removed on exit (KEEP_CLUSTER=1 keeps them).
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$BENCH_DIR/.." && pwd)"
PG_BIN=/usr/lib/postgresql/15/bin
DURATION=10
FAULT_DURATION=40
PARTS="budget,silo-kill,pg-restart"
OUT=""
while [[ $# -gt 0 ]]; do
    case "$1" in
        --duration) DURATION="${2:?}"; shift 2 ;;
        --fault-duration) FAULT_DURATION="${2:?}"; shift 2 ;;
        --parts) PARTS="${2:?}"; shift 2 ;;
        --out) OUT="${2:?}"; shift 2 ;;
        -h|--help) sed -n '2,19p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "cluster-faults.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
    esac
done
log() { echo "cluster-faults: $*" >&2; }
part() { [[ ",$PARTS," == *",$1,"* ]]; }
for p in ${PARTS//,/ }; do
    [[ "$p" =~ ^(budget|silo-kill|pg-restart)$ ]] || { log "unknown part $p (budget, silo-kill, pg-restart)"; exit 2; }
done
if [[ -z "$OUT" ]]; then
    mkdir -p "$BENCH_DIR/results"
    OUT="$BENCH_DIR/results/cluster-faults-$(date -u +%Y%m%dT%H%M%SZ).md"
fi
mkdir -p "$(dirname "$OUT")"
OUT="$(cd "$(dirname "$OUT")" && pwd)/$(basename "$OUT")"

port_is_free() { [[ -z "$(ss -Htan "sport = :$1")" ]]; }
first_port() {
    local tries=0 p i ok
    while (( tries++ < 100 )); do
        p=$((20000 + RANDOM % 30000)); ok=1
        for i in $(seq 0 8); do port_is_free $((p + i)) || { ok=0; break; }; done
        (( ok )) && { echo "$p"; return; }
    done
    log "no block of 9 free ports"; exit 1
}

export LOCAL_CLUSTER_DIR
LOCAL_CLUSTER_DIR="$(mktemp -d /tmp/credentials-cluster-faults.XXXXXX)"
[[ $EUID -eq 0 ]] && chmod 755 "$LOCAL_CLUSTER_DIR"
export LOCAL_CLUSTER_PORT; LOCAL_CLUSTER_PORT="$(first_port)"
export LOCAL_CLUSTER_ID="cluster-faults" LOCAL_CLUSTER_CONFIGURATION=Release LOCAL_CLUSTER_PG_MAX_CONNECTIONS=100
# Inherited by the API nodes: 64 clients on one credential are far above the per-credential limit.
export RateLimiting__Enabled=false
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
DIR="$LOCAL_CLUSTER_DIR"
PG_PORT=$((LOCAL_CLUSTER_PORT + 8))
NODES="http://127.0.0.1:$LOCAL_CLUSTER_PORT,http://127.0.0.1:$((LOCAL_CLUSTER_PORT + 1))"
SAMPLER=""

cleanup() {
    [[ -n "$SAMPLER" ]] && kill "$SAMPLER" 2>/dev/null || true
    bash "$REPO_ROOT/deploy/local-cluster.sh" down >/dev/null 2>&1 || true
    if [[ -n "${KEEP_CLUSTER:-}" ]]; then log "kept $DIR"; else rm -rf -- "$DIR"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

as_pg() { if [[ $EUID -eq 0 ]]; then (cd "$DIR" && runuser -u postgres -- "$@"); else (cd "$DIR" && "$@"); fi; }
psql_value() { as_pg "$PG_BIN/psql" -h "$DIR" -p "$PG_PORT" -U postgres -d postgres -Atqc "$1"; }

log "bringing the local cluster up in $DIR (ports $LOCAL_CLUSTER_PORT–$((LOCAL_CLUSTER_PORT + 8)))"
bash "$REPO_ROOT/deploy/local-cluster.sh" up >"$DIR/up.log" 2>&1 || { tail -30 "$DIR/up.log" >&2; exit 1; }
log "building bench/Credentials.Bench (Release)"
dotnet build "$BENCH_DIR/Credentials.Bench/Credentials.Bench.csproj" -c Release -nologo -v q -clp:ErrorsOnly
TOKEN="$(cat "$DIR/admin-token")"

{
    echo "# Cluster fault run $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
    echo
    echo "- command: \`bash bench/cluster-faults.sh --duration $DURATION --fault-duration $FAULT_DURATION --parts $PARTS\`"
    echo "- service: $(git -C "$REPO_ROOT" rev-parse --short HEAD) (+ uncommitted: $(git -C "$REPO_ROOT" status --porcelain -- Api Grains Grains.Interfaces Silo | wc -l) files), Release; deploy/local-cluster.sh: 2 silos + 2 API nodes (Orleans clients), RateLimiting off"
    echo "- PostgreSQL: $(psql_value 'SHOW server_version'), max_connections = $(psql_value 'SHOW max_connections')"
    echo "- CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//') — nproc $(nproc); memory $(free -h | awk '/^Mem:/ {print $2}')"
    echo "- .NET SDK $(dotnet --version), $(uname -sr); load generator on the same machine"
    echo "- load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
} >"$OUT"

# Peak client connections, sampled while everything runs.
( while true; do psql_value "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'" 2>/dev/null || echo "?"; sleep 0.5; done ) >"$DIR/connections.txt" &
SAMPLER=$!

bench() {
    CREDENTIALS_ADMIN_TOKEN="$TOKEN" dotnet run --no-build -c Release --project "$BENCH_DIR/Credentials.Bench" -- \
        --url "$NODES" --out "$OUT" "$@"
}

rc=0
if part budget; then
    log "1. connection budget: 64 clients per scenario, ${DURATION} s each"
    bench --label "cluster, budget" --scenarios read-list,write-create,upload,media-get --concurrency 64 \
        --duration "$DURATION" --warmup 2 || rc=1
    # The bar: every error is a 503 (the errors column lists the kinds: "12 (503×12)").
    bad="$(grep -F '| cluster, budget |' "$OUT" | awk -F'|' '{print $15}' | grep -oE '\([^)]*\)' | tr -d '()' | tr ',' '\n' | sed 's/^ *//' | grep -v '^503×' || true)"
    if [[ -n "$bad" ]]; then log "budget: errors other than 503: $(echo $bad)"; rc=1; fi
fi

if part silo-kill; then
    log "2a. fault-writes with silo-1 killed at 8 s"
    bench --label "cluster, silo-1 SIGKILL" --scenarios fault-writes --concurrency 16 --orgs 8 --duration "$FAULT_DURATION" \
        --fault-at 8 --fault-command "kill -9 \$(cat '$DIR/silo-1.pid') && echo killed silo-1" || rc=1
    LOCAL_CLUSTER_BUILD=0 bash "$REPO_ROOT/deploy/local-cluster.sh" up >>"$DIR/up.log" 2>&1 || { log "could not restart silo-1"; rc=1; }
fi

if part pg-restart; then
    log "2b. fault-writes with PostgreSQL restarted at 8 s and every 10 s"
    restart_pg="cd '$DIR' && $( [[ $EUID -eq 0 ]] && echo 'runuser -u postgres -- ' )'$PG_BIN/pg_ctl' restart -D '$DIR/pg' -l '$DIR/postgres.log' -m fast -w -t 60 >/dev/null && echo restarted PostgreSQL"
    bench --label "cluster, PostgreSQL restart" --scenarios fault-writes --concurrency 16 --orgs 8 --duration "$FAULT_DURATION" \
        --fault-at 8 --fault-every 10 --fault-command "$restart_pg" || rc=1
fi

kill "$SAMPLER" 2>/dev/null || true; SAMPLER=""
{
    echo
    echo "- peak PostgreSQL client backends (sampled every 0.5 s): $(grep -E '^[0-9]+$' "$DIR/connections.txt" | sort -n | tail -1) of max_connections $(psql_value 'SHOW max_connections')"
    echo "- 'too many clients' (53300) in the node logs: $(cat "$DIR"/silo-*.log "$DIR"/api-*.log | grep -c -E '53300|too many clients' || true)"
    echo "- 'Unhandled exception' (answered 500) in the API node logs: $(cat "$DIR"/api-*.log | grep -c 'Unhandled exception' || true)"
    echo "- exception types behind them: $(cat "$DIR"/api-*.log | grep -A1 'Unhandled exception' | grep -oE '^ *[A-Za-z.]+Exception[^ ]*( [^.]*)?' | sed 's/^ *//' | sort | uniq -c | sort -rn | head -5 | tr '\n' ';')"
    echo "- load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
} >>"$OUT"
log "results: $OUT"
cat "$OUT"
exit "$rc"
