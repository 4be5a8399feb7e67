#!/bin/bash
# SPDX-License-Identifier: MPL-2.0
# dbha_ingest_bench: what does synchronous replication of the database
# cost an upload (issue 11)?
#
# Brings up two racks side by side, both `--insecure-plaintext --period
# 3600` with one sled, stopped at once (`rack-sim stop 0`) so the runs an
# upload activates distribute nothing and the timing is the ingest's alone:
#   single  the default single embedded PostgreSQL (fsync on);
#   ha      `--db-ha`: pg_auto_failover monitor + primary + synchronous
#           standby (every commit waits for the standby's flush).
# Then BENCH_RUNS times (default 3) it builds a fresh ~1 GiB repository
# (tuf-mkrepo --random 20:BYTES/20, a new seed each run, outside the
# timing) and uploads that same zip to both racks, order alternating,
# `sync` before each:
#
#   T = wall time of `replicator repo upload ZIP` until it exits 0 (the
#       CLI sending the zip over loopback, the replicator hashing, storing,
#       verifying, extracting every target durably, the database
#       transaction, the staging hand-over).
#
# The replicator's log line repo_ingested gives each ingest's database
# share: db_ms (trust roots read + repository recorded: connect,
# transaction, synchronous commit, read back) of total_ms (the whole
# ingest after the zip was received).
#
# Prints each run, the medians, and
#   SUMMARY|dbha_ingest|upload 1 GiB, s|T_ha|T_single|ratio|<= 1.2|verdict
#   SUMMARY|dbha_ingest|ingest (log), ms|total_ms_ha|total_ms_single|ratio|<= 1.2|verdict
#   SUMMARY|dbha_ingest|database share, ms|db_ms_ha|db_ms_single|ratio|-|-
# (medians each). The second line leaves out the CLI and the transfer of
# the zip, the noisiest part on a loaded machine.
#
# Usage: bench/dbha_ingest_bench.sh [TOTAL_BYTES]
# Environment: DBHA_BIN (default build/bin), BENCH_RUNS (3), BENCH_TMPDIR
#   (default /var/tmp), BENCH_KEEP=1 keeps the temp dir. About 3 GiB of
#   staging per rack plus one zip at a time.

set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BIN=${DBHA_BIN:-build/bin}
TOTAL=${1:-$GIB}
RUNS=${BENCH_RUNS:-3}
COUNT=20
for b in rack-sim replicator tuf-mkrepo; do
    [ -x "$BIN/$b" ] || die "$BIN/$b not built"
done
BIN=$(cd "$BIN" && pwd)
T=$(mktemp -d "${BENCH_TMPDIR:-/var/tmp}/rackdepot-bench-dbhaingest.XXXXXX")
chmod 755 "$T" # the postgres user must reach the racks' databases
cleanup() {
    local k
    for k in single ha; do
        [ -f "$T/$k/rack.json" ] &&
            { timeout 120 "$BIN/rack-sim" --dir "$T/$k" down >/dev/null 2>&1 || true; }
    done
    [ -n "${BENCH_KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# up KIND [flags]: a one-sled rack in $T/KIND, its sled stopped.
up() {
    local k=$1
    shift
    timeout 300 "$BIN/rack-sim" up --sleds 1 --insecure-plaintext \
        --period 3600 --dir "$T/$k" "$@" >"$T/up-$k.log" 2>&1 ||
        { cat "$T/up-$k.log" >&2; die "rack-sim up $k failed"; }
    "$BIN/rack-sim" --dir "$T/$k" stop 0 >/dev/null
}

# url KIND: the rack's replicator URL.
url() {
    (eval "$("$BIN/rack-sim" --dir "$T/$1" env)" && echo "$REPLICATOR_URL")
}

# upload KIND ZIP: prints "seconds db_ms total_ms".
upload() {
    local k=$1 zip=$2 t0 t1 line
    sync
    t0=$(now)
    "$BIN/replicator" --url "${URL[$k]}" --json repo upload "$zip" \
        >"$T/upload-$k.json" 2>"$T/upload-$k.err" ||
        { cat "$T/upload-$k.err" "$T/upload-$k.json" >&2; die "upload to $k failed"; }
    t1=$(now)
    line=$(grep '"event":"repo_ingested"' "$T/$k/replicator-0/replicator.log" | tail -1)
    python3 -c '
import json, sys
d = json.loads(sys.argv[1])
print(sys.argv[2], d["db_ms"], d["total_ms"])' "$line" "$(calc "$t1 - $t0")"
}

log "dbha_ingest: $COUNT artifacts, $TOTAL bytes, temp dir $T, $RUNS runs"
up single
up ha --db-ha
declare -A URL=([single]=$(url single) [ha]=$(url ha))

TS=() TH=() DS=() DH=() OS=() OH=() R=()
for i in $(seq "$RUNS"); do
    rm -f "$T/repo.zip"
    "$BIN/tuf-mkrepo" --out "$T/repo.zip" --system-version "$i.0.0" \
        --random "$COUNT:$((TOTAL / COUNT))" --seed "$((i + 40))" >/dev/null
    if [ $((i % 2)) = 1 ]; then
        s=$(upload single "$T/repo.zip"); h=$(upload ha "$T/repo.zip")
    else
        h=$(upload ha "$T/repo.zip"); s=$(upload single "$T/repo.zip")
    fi
    read -r ts ds tots <<<"$s"
    read -r th dh toth <<<"$h"
    r=$(calc "$th / $ts")
    log "run $i: single ${ts} s (db ${ds} of ${tots} ms), ha ${th} s (db ${dh} of ${toth} ms), ratio $r"
    TS+=("$ts") TH+=("$th") DS+=("$ds") DH+=("$dh") OS+=("$tots") OH+=("$toth")
    R+=("$r")
done
rm -f "$T/repo.zip"
MS=$(median "${TS[@]}") MH=$(median "${TH[@]}")
MDS=$(median "${DS[@]}") MDH=$(median "${DH[@]}")
MOS=$(median "${OS[@]}") MOH=$(median "${OH[@]}")
log "medians: single $MS s (ingest $MOS ms, db $MDS ms), ha $MH s (ingest $MOH ms, db $MDH ms), ratio of medians $(calc "$MH / $MS"), median ratio $(median "${R[@]}") (load $(cut -d' ' -f1 /proc/loadavg))"
summary dbha_ingest "upload $TOTAL bytes/$COUNT artifacts, s" "$MH" "$MS" \
    "$(calc "$MH / $MS")" "<=" 1.2
summary dbha_ingest "ingest (log total_ms), ms" "$MOH" "$MOS" \
    "$(calc "$MOH / $MOS")" "<=" 1.2
printf 'SUMMARY|dbha_ingest|database share, ms|%s|%s|%s|-|-\n' "$MDH" "$MDS" \
    "$(calc "$MDH / max($MDS, 1)")"
