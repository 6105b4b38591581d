#!/usr/bin/env bash
# PostgreSQL restarted under write load: the fault the CI suite cannot inject (its test server is
# shared by every test). Runs bench/run.sh twice on a throwaway PostgreSQL 15 and the embedded
# service: 16 writers (issuers, every 4th an image upload) over 8 orgs for --duration seconds, the
# server restarted at 8 s and then 10 s after each restart ended (`pg_ctl restart -m fast`, then a
# second run with `-m immediate`, i.e. crash recovery). Every acknowledged write is read back
# afterwards; the run fails on any lost write, any answer other than 2xx/503, or a connection failure.
#
#   bash bench/faults.sh [--duration SECS] [--out FILE]
#
# Writes bench/results/faults-<UTC>.md (machine, table rows, counts); exit 1 if a run failed.
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
DURATION=40
OUT=""
while [[ $# -gt 0 ]]; do
    case "$1" in
        --duration) DURATION="${2:?}"; shift 2 ;;
        --out) OUT="${2:?}"; shift 2 ;;
        -h|--help) sed -n '2,11p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "faults.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
    esac
done
if [[ -z "$OUT" ]]; then
    mkdir -p "$BENCH_DIR/results"
    OUT="$BENCH_DIR/results/faults-$(date -u +%Y%m%dT%H%M%SZ).md"
fi
TMP="$(mktemp -d /tmp/credentials-faults.XXXXXX)"
trap 'rm -rf -- "$TMP"' EXIT

rc=0
: >"$OUT"
for mode in fast immediate; do
    bash "$BENCH_DIR/run.sh" --no-sqlite --start-postgres --scenarios fault-writes --duration "$DURATION" \
        --concurrency 16 --out "$TMP/$mode.md" -- \
        --orgs 8 --fault-at 8 --fault-every 10 --label "postgres, pg_ctl restart -m $mode" \
        --fault-command "bash \"\$BENCH_PG_RESTART\" $mode" || rc=1
    if [[ -f "$TMP/$mode.md" ]]; then cat "$TMP/$mode.md" >>"$OUT"; echo >>"$OUT"; fi
done
echo "faults.sh: results in $OUT" >&2
exit "$rc"
