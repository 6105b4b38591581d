#!/usr/bin/env bash
# A cluster on this machine: PostgreSQL, two silos and two API nodes on loopback ports, run from
# the same binaries and with the same configuration keys as the Kubernetes manifests (deploy/k8s).
#
#   deploy/local-cluster.sh up       build, start everything, wait until every node is ready
#   deploy/local-cluster.sh status   what runs, and each node's /readyz
#   deploy/local-cluster.sh down     stop the API nodes, then the silos (gracefully), then PostgreSQL
#
# Environment (all optional):
#   LOCAL_CLUSTER_DIR          state: pid files, logs, PostgreSQL data, the admin token, the
#                              silos' webhook secret key (webhook-secret.key), and in
#                              tls/ a throwaway cluster CA and node certificate (mutual TLS between
#                              silos and from API nodes, as in Kubernetes)
#                              (default: ${TMPDIR:-/tmp}/credentials-local-cluster)
#   LOCAL_CLUSTER_POSTGRES     Npgsql connection string of a server to use; unset: start a local
#                              PostgreSQL with its data in LOCAL_CLUSTER_DIR (scripts/lib/postgres.sh:
#                              the highest major installed, or PG_VERSION, or the one the data was
#                              made with; `postgresql` is installed with apt-get when none is)
#   LOCAL_CLUSTER_PG_MAX_CONNECTIONS  that server's max_connections (default 100, PostgreSQL's own)
#   LOCAL_CLUSTER_PORT         first of nine consecutive loopback ports (default 7080):
#                              +0/+1 API nodes, +2/+3 silo probes, +4/+5 silo-to-silo,
#                              +6/+7 gateways, +8 PostgreSQL
#   LOCAL_CLUSTER_ID           Orleans cluster and service id (default credentials-local)
#   LOCAL_CLUSTER_ADMIN_TOKEN  super-admin token for both API nodes (default: generated once)
#   LOCAL_CLUSTER_BUILD=0      run the binaries already built instead of building first
#   LOCAL_CLUSTER_CONFIGURATION  Release (default) or Debug
#   LOCAL_CLUSTER_SILO_BIN, LOCAL_CLUSTER_API_BIN  folders of Credentials.Silo.dll and
#                              Credentials.Api.dll to run (default: Silo/bin/… and Api/bin/… of the
#                              configuration); set both with LOCAL_CLUSTER_BUILD=0 (bench/run.sh --cluster)
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIR="${LOCAL_CLUSTER_DIR:-${TMPDIR:-/tmp}/credentials-local-cluster}"
PORT="${LOCAL_CLUSTER_PORT:-7080}"
CLUSTER_ID="${LOCAL_CLUSTER_ID:-credentials-local}"
CONFIGURATION="${LOCAL_CLUSTER_CONFIGURATION:-Release}"
READY_TIMEOUT=120
# shellcheck source=../scripts/lib/postgres.sh
source "$REPO_ROOT/scripts/lib/postgres.sh"
PG_LOG_PREFIX=local-cluster

API_PORTS=($((PORT)) $((PORT + 1)))
SILO_HTTP_PORTS=($((PORT + 2)) $((PORT + 3)))
SILO_PORTS=($((PORT + 4)) $((PORT + 5)))
GATEWAY_PORTS=($((PORT + 6)) $((PORT + 7)))
PG_PORT=$((PORT + 8))

log() { echo "local-cluster: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# PostgreSQL refuses to run as root: as root we use the postgres account.
as_pg() { pg_as_postgres "$DIR" "$@"; }

# The PostgreSQL binaries: those of the major version the data directory was made with, if any.
find_postgres() {
    local major=""
    if [[ -f "$DIR/pg/PG_VERSION" ]]; then major="$(cat "$DIR/pg/PG_VERSION")"; fi
    pg_find_or_install "$major"
}

# A pid file names a process of ours only while that pid still runs one of our binaries.
running_pid() {
    local file="$DIR/$1.pid" pid
    [[ -f "$file" ]] || return 1
    pid="$(cat "$file")"
    [[ -r "/proc/$pid/cmdline" ]] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q 'Credentials\.' || return 1
    echo "$pid"
}

http_status() { curl -s -o /dev/null -m 3 -w '%{http_code}' "$1" 2>/dev/null || true; }

connection_string() {
    if [[ -n "${LOCAL_CLUSTER_POSTGRES:-}" ]]; then
        echo "$LOCAL_CLUSTER_POSTGRES"
    else
        echo "Host=127.0.0.1;Port=$PG_PORT;Database=credentials;Username=postgres;Password=$(cat "$DIR/pg-password")"
    fi
}

start_postgres() {
    if [[ -n "${LOCAL_CLUSTER_POSTGRES:-}" ]]; then
        log "using PostgreSQL from LOCAL_CLUSTER_POSTGRES"
        return
    fi
    find_postgres
    if [[ -f "$DIR/pg/postmaster.pid" ]] && as_pg "$PG_BIN/pg_ctl" status -D "$DIR/pg" >/dev/null 2>&1; then
        log "PostgreSQL already runs on 127.0.0.1:$PG_PORT"
        return
    fi
    if [[ ! -d "$DIR/pg" ]]; then
        pg_random_password >"$DIR/pg-password"
        chmod 600 "$DIR/pg-password"
        if [[ $EUID -eq 0 ]]; then chown postgres: "$DIR"; fi
        pg_initdb "$DIR/pg" "$DIR" "$(cat "$DIR/pg-password")" "max_connections=${LOCAL_CLUSTER_PG_MAX_CONNECTIONS:-100}"
    fi
    # The port is part of the LOCAL_CLUSTER_PORT block, so a taken port is an error, not a retry.
    log "starting PostgreSQL $PG_MAJOR on 127.0.0.1:$PG_PORT"
    local rc=0
    pg_start_at "$DIR/pg" "$PG_PORT" "$DIR/postgres.log" || rc=$?
    (( rc != 2 )) || die "127.0.0.1:$PG_PORT is taken; choose another LOCAL_CLUSTER_PORT (PostgreSQL uses it +8)"
    (( rc == 0 )) || die "PostgreSQL did not start (log: $DIR/postgres.log)"
    as_pg "$PG_BIN/psql" -h "$DIR" -p "$PG_PORT" -U postgres -d postgres -Atqc \
        "SELECT 1 FROM pg_database WHERE datname = 'credentials'" | grep -q 1 \
        || as_pg "$PG_BIN/createdb" -h "$DIR" -p "$PG_PORT" -U postgres credentials
}

# start NAME DIRECTORY ASSEMBLY KEY=VALUE... : one detached process, its output in NAME.log.
start() {
    local name="$1" directory="$2" assembly="$3"
    shift 3
    if pid="$(running_pid "$name")"; then
        log "$name already runs (pid $pid)"
        return
    fi
    (cd "$directory" && exec setsid env "$@" dotnet "$assembly") </dev/null >"$DIR/$name.log" 2>&1 &
    echo $! >"$DIR/$name.pid"
    log "started $name (pid $!)"
}

wait_ready() {
    local name="$1" url="$2" deadline=$((SECONDS + READY_TIMEOUT))
    until [[ "$(http_status "$url")" == 200 ]]; do
        if ! running_pid "$name" >/dev/null; then
            tail -30 "$DIR/$name.log" >&2
            die "$name exited before it was ready (log: $DIR/$name.log)"
        fi
        if (( SECONDS >= deadline )); then
            tail -30 "$DIR/$name.log" >&2
            die "$name not ready after $READY_TIMEOUT s at $url (log: $DIR/$name.log)"
        fi
        sleep 0.5
    done
    log "$name ready: $url"
}

up() {
    mkdir -p "$DIR"
    if [[ "${LOCAL_CLUSTER_BUILD:-1}" != 0 ]]; then
        log "building ($CONFIGURATION) ..."
        dotnet build "$REPO_ROOT/Silo/Silo.csproj" -c "$CONFIGURATION" -nologo -v q >"$DIR/build.log" 2>&1 \
            && dotnet build "$REPO_ROOT/Api/Api.csproj" -c "$CONFIGURATION" -nologo -v q >>"$DIR/build.log" 2>&1 \
            || { tail -30 "$DIR/build.log" >&2; die "build failed"; }
    fi
    local silo_bin="${LOCAL_CLUSTER_SILO_BIN:-$REPO_ROOT/Silo/bin/$CONFIGURATION/net10.0}" api_bin="${LOCAL_CLUSTER_API_BIN:-$REPO_ROOT/Api/bin/$CONFIGURATION/net10.0}"
    [[ -f "$silo_bin/Credentials.Silo.dll" && -f "$api_bin/Credentials.Api.dll" ]] \
        || die "no binaries in $silo_bin and $api_bin (build first, or drop LOCAL_CLUSTER_BUILD=0)"

    start_postgres
    local postgres token
    postgres="$(connection_string)"
    if [[ -n "${LOCAL_CLUSTER_ADMIN_TOKEN:-}" ]]; then
        printf '%s' "$LOCAL_CLUSTER_ADMIN_TOKEN" >"$DIR/admin-token"
    elif [[ ! -s "$DIR/admin-token" ]]; then
        printf 'cro_admin_%s' "$(od -An -tx1 -N24 /dev/urandom | tr -d ' \n')" >"$DIR/admin-token"
    fi
    chmod 600 "$DIR/admin-token"
    token="$(cat "$DIR/admin-token")"
    # The key every silo seals webhook signing secrets with (ADR 0019): made once, kept with the
    # data it opens, owner-only from the start (umask in a subshell, then moved into place).
    if [[ ! -s "$DIR/webhook-secret.key" ]]; then
        (umask 077 && head -c 32 /dev/urandom | base64 >"$DIR/webhook-secret.key.tmp") \
            && mv "$DIR/webhook-secret.key.tmp" "$DIR/webhook-secret.key"
    fi

    # A throwaway CA and one node certificate for every node, made once per state directory.
    [[ -s "$DIR/tls/ca.key" ]] || bash "$REPO_ROOT/deploy/cluster-certificates.sh" ca "$DIR/tls" 30
    [[ -s "$DIR/tls/tls.crt" ]] || bash "$REPO_ROOT/deploy/cluster-certificates.sh" node "$DIR/tls" 30

    # The keys the Kubernetes ConfigMap, Secrets and downward API set (deploy/k8s).
    local common=(
        "ConnectionStrings__PostgreSql=$postgres"
        "Orleans__ClusterId=$CLUSTER_ID"
        "Orleans__ServiceId=$CLUSTER_ID"
        "Orleans__Tls__CertificatePath=$DIR/tls/tls.crt"
        "Orleans__Tls__KeyPath=$DIR/tls/tls.key"
        "Orleans__Tls__CaPath=$DIR/tls/ca.crt"
        "DOTNET_gcServer=0"
    )
    # Silos and API nodes run no DDL: migrate the schema first, as the Kubernetes Job does.
    (cd "$api_bin" && env "ConnectionStrings__PostgreSql=$postgres" dotnet Credentials.Api.dll migrate) >"$DIR/migrate.log" 2>&1 \
        || { cat "$DIR/migrate.log" >&2; die "migrate failed (log: $DIR/migrate.log)"; }
    log "$(tail -1 "$DIR/migrate.log")"
    for i in 0 1; do
        start "silo-$((i + 1))" "$silo_bin" Credentials.Silo.dll "${common[@]}" \
            "Orleans__SiloName=silo-$((i + 1))" \
            "Orleans__AdvertisedIP=127.0.0.1" \
            "Orleans__SiloPort=${SILO_PORTS[$i]}" \
            "Orleans__GatewayPort=${GATEWAY_PORTS[$i]}" \
            "Webhooks__SecretKeyFile=$DIR/webhook-secret.key" \
            "Urls=http://127.0.0.1:${SILO_HTTP_PORTS[$i]}"
    done
    for i in 0 1; do
        start "api-$((i + 1))" "$api_bin" Credentials.Api.dll "${common[@]}" \
            "Orleans__Mode=Client" \
            "Auth__AdminToken=$token" \
            "Storage__DataDirectory=$DIR/api-$((i + 1))-data" \
            "Urls=http://127.0.0.1:${API_PORTS[$i]}"
    done
    for i in 0 1; do wait_ready "silo-$((i + 1))" "http://127.0.0.1:${SILO_HTTP_PORTS[$i]}/readyz"; done
    for i in 0 1; do wait_ready "api-$((i + 1))" "http://127.0.0.1:${API_PORTS[$i]}/readyz"; done

    cat <<EOF

The cluster is up: API nodes on http://127.0.0.1:${API_PORTS[0]} and http://127.0.0.1:${API_PORTS[1]}
(silos: probes on ${SILO_HTTP_PORTS[0]} and ${SILO_HTTP_PORTS[1]}; logs and pid files in $DIR;
silo and gateway ports speak mutual TLS with the certificates in $DIR/tls).

    TOKEN=\$(cat $DIR/admin-token)
    curl -X POST http://127.0.0.1:${API_PORTS[0]}/api/platforms/ -H "Authorization: Api-Token \$TOKEN" \\
         -H 'Content-Type: application/json' -d '{"key":"demo","name":"Demo Academy"}'
    curl http://127.0.0.1:${API_PORTS[1]}/api/platforms/demo/ -H "Authorization: Api-Token \$TOKEN"

Stop it with: deploy/local-cluster.sh down
EOF
}

# Graceful first (a silo hands its grains over and leaves the membership table), then KILL.
stop() {
    local name="$1" pid deadline
    pid="$(running_pid "$name")" || { rm -f "$DIR/$name.pid"; return 0; }
    kill -TERM "$pid" 2>/dev/null || true
    deadline=$((SECONDS + 40))
    while kill -0 "$pid" 2>/dev/null && (( SECONDS < deadline )); do sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then
        log "$name did not stop within 40 s; killing it"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$DIR/$name.pid"
    log "stopped $name"
}

down() {
    [[ -d "$DIR" ]] || { log "nothing runs ($DIR does not exist)"; return; }
    stop api-1 & stop api-2 & wait
    stop silo-1 & stop silo-2 & wait
    if [[ -z "${LOCAL_CLUSTER_POSTGRES:-}" && -f "$DIR/pg/postmaster.pid" ]]; then
        find_postgres
        pg_stop "$DIR/pg"
        log "stopped PostgreSQL"
    fi
}

status() {
    local i pid
    for i in 0 1; do
        for name in "silo-$((i + 1))" "api-$((i + 1))"; do
            local url
            if [[ $name == silo-* ]]; then url="http://127.0.0.1:${SILO_HTTP_PORTS[$i]}/readyz"; else url="http://127.0.0.1:${API_PORTS[$i]}/readyz"; fi
            if pid="$(running_pid "$name")"; then
                echo "$name: pid $pid, $url -> $(http_status "$url")"
            else
                echo "$name: not running"
            fi
        done
    done
}

case "${1:-}" in
    up) up ;;
    down) down ;;
    status) status ;;
    *) echo "usage: $0 up|status|down" >&2; exit 2 ;;
esac
