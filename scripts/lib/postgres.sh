# shellcheck shell=bash
# PostgreSQL for this repository's scripts (scripts/test.sh, bench/run.sh, deploy/local-cluster.sh).
# Source it; it defines functions and a few PG_* variables and runs nothing by itself.
#
#   source scripts/lib/postgres.sh
#   PG_LOG_PREFIX=test.sh                       # prefix of its messages on stderr
#   trap pg_throwaway_cleanup EXIT              # or call it from the caller's own cleanup
#   pg_throwaway_start --db credentials_test --set max_connections=200
#   echo "$PG_CONN"                             # Host=127.0.0.1;Port=…;Database=…;Username=postgres;Password=…
#
# Which PostgreSQL: the highest major version installed under /usr/lib/postgresql/*/bin, or the one
# named by the environment variable PG_VERSION (a major version, e.g. 15). When none is installed,
# `postgresql` (the distribution's default major) is installed with apt-get (as root, or with sudo -n);
# PG_VERSION=N installs postgresql-N instead.
#
# The server runs as the `postgres` account when we are root (PostgreSQL refuses to run as root),
# else as the current user; it listens on 127.0.0.1 only, TCP needs the password, and the Unix
# socket lives in the server's private directory.
#
# Ports come from below the kernel's ephemeral range (/proc/sys/net/ipv4/ip_local_port_range):
# inside it, a client socket of any other program can hold a port nobody listens on, and the
# server then fails to bind. A failed bind is retried on the next port anyway.

PG_LOG_PREFIX="${PG_LOG_PREFIX:-postgres}"
PG_BIN=""         # .../bin of the PostgreSQL in use, set by pg_find_or_install
PG_MAJOR=""       # its major version
# Set by pg_throwaway_start:
PG_TMP=""         # private directory: data/, socket, server.log
PG_PORT=""
PG_PASSWORD=""
PG_DB=""
PG_CONN=""        # Npgsql connection string (callers append e.g. ;Pooling=true)
_PG_STARTED=0

_pg_log() { echo "$PG_LOG_PREFIX: $*" >&2; }
_pg_die() { _pg_log "ERROR: $*"; exit 1; }

# Runs a command as root: directly, or through sudo non-interactively (CI has no stdin).
pg_as_root() {
    if [[ $EUID -eq 0 ]]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo -n "$@"
    else
        _pg_die "need root (or sudo) to run: $*"
    fi
}

# Installs Debian packages; a non-zero exit is only a warning, callers check for what they need.
pg_apt_install() {
    _pg_log "installing $* with apt-get ..."
    pg_as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    # PostgreSQL's post-install tries to create and start a default cluster on 5432; without
    # systemd that may fail. We never use that cluster.
    pg_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        -o Dpkg::Use-Pty=0 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$@" \
        || _pg_log "warning: apt-get install $* exited non-zero (post-install scripts?); continuing"
}

# Highest major version with an initdb under /usr/lib/postgresql, or nothing.
_pg_highest_installed() {
    local dir major best=""
    for dir in /usr/lib/postgresql/*/bin; do
        [[ -x "$dir/initdb" ]] || continue
        major="${dir#/usr/lib/postgresql/}"; major="${major%/bin}"
        [[ "$major" =~ ^[0-9]+(\.[0-9]+)?$ ]] || continue
        if [[ -z "$best" ]] || [[ "$(printf '%s\n%s\n' "$best" "$major" | sort -V | tail -n 1)" == "$major" ]]; then
            best="$major"
        fi
    done
    echo "$best"
}

# pg_find_or_install [MAJOR]: sets PG_BIN and PG_MAJOR. MAJOR (or else $PG_VERSION) pins the major
# version; without either, the highest installed one, installing `postgresql` if there is none.
pg_find_or_install() {
    local want="${1:-${PG_VERSION:-}}"
    # Accept "15" as well as a full version such as "15.4-1.pgdg120+1" (PostgreSQL images set that).
    if [[ -n "$want" && ! -d "/usr/lib/postgresql/$want" ]]; then want="${want%%[!0-9]*}"; fi
    if [[ -n "$want" ]]; then
        if [[ ! -x "/usr/lib/postgresql/$want/bin/initdb" ]]; then
            pg_apt_install "postgresql-$want"
            [[ -x "/usr/lib/postgresql/$want/bin/initdb" ]] \
                || _pg_die "PostgreSQL $want is not installed (/usr/lib/postgresql/$want/bin/initdb) and apt-get could not install postgresql-$want"
        fi
        PG_MAJOR="$want"
    else
        PG_MAJOR="$(_pg_highest_installed)"
        if [[ -z "$PG_MAJOR" ]]; then
            pg_apt_install postgresql
            PG_MAJOR="$(_pg_highest_installed)"
            [[ -n "$PG_MAJOR" ]] || _pg_die "no PostgreSQL under /usr/lib/postgresql after apt-get install postgresql"
        fi
    fi
    PG_BIN="/usr/lib/postgresql/$PG_MAJOR/bin"
    if [[ $EUID -eq 0 ]] && ! id postgres >/dev/null 2>&1; then
        # Binaries without the account (unusual); create it as postgresql-common does.
        useradd --system --user-group --home-dir /var/lib/postgresql --shell /bin/bash postgres
    fi
}

# pg_as_postgres DIR COMMAND...: runs COMMAND in DIR as the server's account. The cd matters:
# initdb and pg_ctl fail when they cannot read the current directory (e.g. a checkout under /root).
pg_as_postgres() {
    local dir="$1"; shift
    if [[ $EUID -eq 0 ]]; then
        (cd "$dir" && runuser -u postgres -- "$@")
    else
        (cd "$dir" && "$@")
    fi
}

pg_random_password() { od -An -tx1 -N16 /dev/urandom | tr -d ' \n'; }   # hex: no quoting needed

# pg_initdb DATADIR SOCKETDIR PASSWORD [NAME=VALUE...]: a new cluster owned by the server's account
# (the parent of DATADIR must be writable by it), superuser `postgres` with PASSWORD over TCP,
# trust on the Unix socket in SOCKETDIR, listening on 127.0.0.1 only, plus the given settings.
pg_initdb() {
    local data="$1" sockdir="$2" password="$3"; shift 3
    local parent pwfile
    parent="$(dirname "$data")"
    pwfile="$(mktemp "$parent/.pwfile.XXXXXX")"
    printf '%s\n' "$password" >"$pwfile"
    if [[ $EUID -eq 0 ]]; then chown postgres: "$pwfile"; fi
    # C locale: works on machines without generated locales.
    if ! pg_as_postgres "$parent" "$PG_BIN/initdb" -D "$data" -U postgres --pwfile="$pwfile" \
            --auth-local=trust --auth-host=scram-sha-256 --encoding=UTF8 --locale=C \
            >"$parent/initdb.log" 2>&1; then
        rm -f "$pwfile"
        cat "$parent/initdb.log" >&2
        _pg_die "initdb failed"
    fi
    rm -f "$pwfile"
    local setting
    {
        echo
        echo "# --- scripts/lib/postgres.sh ---"
        echo "listen_addresses = '127.0.0.1'"
        echo "unix_socket_directories = '$sockdir'"
        for setting in "$@"; do
            [[ "$setting" == *=* ]] || _pg_die "setting '$setting' is not NAME=VALUE"
            local value="${setting#*=}"
            echo "${setting%%=*} = '${value//\'/\'\'}'"
        done
    } >>"$data/postgresql.conf"
}

# pg_start_at DATADIR PORT LOGFILE: starts the server on 127.0.0.1:PORT and waits until it accepts
# TCP connections. Returns 0 when it runs, 2 when the port was taken (bind failed; nothing runs),
# 1 on any other failure (the log's tail printed).
pg_start_at() {
    local data="$1" port="$2" logfile="$3"
    local dir; dir="$(dirname "$data")"
    rm -f "$logfile"
    if ! pg_as_postgres "$dir" "$PG_BIN/pg_ctl" start -D "$data" -l "$logfile" -o "-p $port" -w -t 60 >/dev/null 2>&1; then
        if grep -qE 'could not bind|could not create any TCP/IP sockets|Address already in use' "$logfile" 2>/dev/null \
                && ! pg_as_postgres "$dir" "$PG_BIN/pg_ctl" status -D "$data" >/dev/null 2>&1; then
            return 2
        fi
        tail -n 30 "$logfile" >&2 2>/dev/null || true
        return 1
    fi
    # Readiness over TCP exactly as clients connect, with a deadline.
    local deadline=$((SECONDS + 30))
    until "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$port" -d postgres; do
        if (( SECONDS >= deadline )); then
            tail -n 30 "$logfile" >&2 2>/dev/null || true
            _pg_log "PostgreSQL not ready on 127.0.0.1:$port after 30 s"
            return 1
        fi
        sleep 0.5
    done
}

# pg_stop DATADIR: fast shutdown, immediate if that does not finish; never fails.
pg_stop() {
    local data="$1" dir; dir="$(dirname "$data")"
    pg_as_postgres "$dir" "$PG_BIN/pg_ctl" stop -D "$data" -m fast -w -t 30 >/dev/null 2>&1 \
        || pg_as_postgres "$dir" "$PG_BIN/pg_ctl" stop -D "$data" -m immediate -w -t 10 >/dev/null 2>&1 \
        || true
}

# First port of the kernel's ephemeral range (32768 if unreadable).
pg_ephemeral_start() {
    local lo _
    read -r lo _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || lo=32768
    [[ "$lo" =~ ^[0-9]+$ ]] || lo=32768
    echo "$lo"
}

# Someone listens on 127.0.0.1:PORT (or on every address). Only a hint: pg_start_at's bind is what counts.
_pg_port_listened() {
    if command -v ss >/dev/null 2>&1; then
        [[ -n "$(ss -Hltn "sport = :$1")" ]]
    else
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
    fi
}

# pg_throwaway_start [--base PORT] [--db NAME] [--set NAME=VALUE]...
# A fresh server in its own temp directory on the first port from PORT upwards (default 15432,
# below the ephemeral range) that it can bind, with database NAME created. Sets PG_TMP, PG_PORT,
# PG_PASSWORD, PG_DB and PG_CONN. Stop it with pg_throwaway_cleanup.
pg_throwaway_start() {
    local base=15432 db="" settings=()
    while [[ $# -gt 0 ]]; do
        case "$1" in
            --base) base="${2:?--base needs a port}"; shift 2 ;;
            --db) db="${2:?--db needs a name}"; shift 2 ;;
            --set) settings+=("${2:?--set needs NAME=VALUE}"); shift 2 ;;
            *) _pg_die "pg_throwaway_start: unknown option $1" ;;
        esac
    done
    [[ "$base" =~ ^[0-9]+$ ]] && (( base >= 1024 && base < 65536 )) || _pg_die "bad base port '$base'"
    local limit; limit="$(pg_ephemeral_start)"
    if (( base >= limit )); then
        _pg_log "warning: base port $base is inside the ephemeral range (from $limit); a client socket may hold it"
        limit=65536
    fi

    [[ -n "$PG_BIN" ]] || pg_find_or_install
    PG_PASSWORD="$(pg_random_password)"
    # /tmp (not $TMPDIR) so that the postgres account can always reach it.
    PG_TMP="$(mktemp -d /tmp/credentials-pg.XXXXXX)"
    if [[ $EUID -eq 0 ]]; then chown postgres: "$PG_TMP"; fi
    pg_initdb "$PG_TMP/data" "$PG_TMP" "$PG_PASSWORD" "${settings[@]}"

    local port=$base bind_failures=0 rc
    while :; do
        (( port < limit && port < base + 500 )) || _pg_die "no port PostgreSQL could bind in $base-$((port - 1))"
        if _pg_port_listened "$port"; then port=$((port + 1)); continue; fi
        _pg_log "starting throwaway PostgreSQL $PG_MAJOR on 127.0.0.1:$port (data in $PG_TMP)"
        _PG_STARTED=1   # from here on cleanup must try to stop it
        rc=0; pg_start_at "$PG_TMP/data" "$port" "$PG_TMP/server.log" || rc=$?
        (( rc == 0 )) && break
        if (( rc == 2 )); then
            _PG_STARTED=0   # the postmaster exited
            (( ++bind_failures < 20 )) || _pg_die "PostgreSQL could not bind 20 ports from $base on; giving up"
            _pg_log "127.0.0.1:$port is taken (bind failed); trying the next port"
            port=$((port + 1))
            continue
        fi
        _pg_die "PostgreSQL $PG_MAJOR did not start (log above)"
    done
    PG_PORT="$port"

    if [[ -n "$db" ]]; then
        pg_as_postgres "$PG_TMP" "$PG_BIN/createdb" -h "$PG_TMP" -p "$PG_PORT" -U postgres "$db" \
            || _pg_die "createdb $db failed"
    fi
    PG_DB="${db:-postgres}"
    PG_CONN="Host=127.0.0.1;Port=$PG_PORT;Database=$PG_DB;Username=postgres;Password=$PG_PASSWORD"
}

# Stops the throwaway server and removes its directory. Idempotent: safe to call from a trap and
# explicitly before a script's last line.
pg_throwaway_cleanup() {
    if [[ $_PG_STARTED -eq 1 ]]; then
        _PG_STARTED=0
        pg_stop "$PG_TMP/data"
    fi
    if [[ -n "$PG_TMP" && -d "$PG_TMP" ]]; then rm -rf -- "$PG_TMP"; fi
    PG_TMP=""
}
