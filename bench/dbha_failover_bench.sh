#!/bin/bash
# SPDX-License-Identifier: MPL-2.0
# dbha_failover_bench: how long is the controller unable to write after it
# loses its database primary (issue 11)?
#
# Brings up `rack-sim up --db-ha --insecure-plaintext --period 3600` (3
# sleds, pg_auto_failover monitor + two synchronous nodes with rack-sim's
# tuned timeouts, docs/RACK-SIM.md), uploads one repository and converges.
# Then DBHA_RUNS times (default 5), with both nodes healthy (primary +
# secondary, checked before each round, outside the timing):
#
#   t0              `rack-sim db kill-primary` (SIGKILL of the primary's
#                   pg_autoctl and PostgreSQL: a lost server)
#   T_activation    until `replicator activate` first exits 0 (a run that
#                   read the database and planned), retried at once after
#                   each failure
#   T_upload        until `replicator repo upload` of a new repository
#                   first exits 0 (the CLI retries a 503 by itself every
#                   2 s; a nonzero exit is retried at once)
#
# both loops running concurrently from t0. Afterwards the killed node is
# restarted (`rack-sim db restart NODE`) and must rejoin as the secondary
# before the next round; that time is printed too (T_rejoin).
#
# Baseline: the time the monitor needs, by its settings, to decide
# (node_considered_unhealthy_timeout + primary_demote_timeout, read back
# from the monitor), so the ratio says how much the replicator adds to what
# pg_auto_failover costs anyway. Goal of the issue: T < 15 s.
#
# Usage: bench/dbha_failover_bench.sh
# Environment: DBHA_BIN (default build/bin), DBHA_RUNS (5),
#   BENCH_TMPDIR (default /var/tmp), BENCH_KEEP=1 keeps the temp dir.
# Output: one line per round, medians, and
#   SUMMARY|dbha_failover|first activation, s|T|baseline|ratio|< 15 s|verdict
#   SUMMARY|dbha_failover|first upload, s|T|baseline|ratio|< 15 s|verdict

set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BIN=${DBHA_BIN:-build/bin}
RUNS=${DBHA_RUNS:-5}
for b in rack-sim replicator tuf-mkrepo; do
    [ -x "$BIN/$b" ] || die "$BIN/$b not built"
done
BIN=$(cd "$BIN" && pwd)
T=$(mktemp -d "${BENCH_TMPDIR:-/var/tmp}/rackdepot-bench-dbha.XXXXXX")
chmod 755 "$T"
RACK=$T/rack
cleanup() {
    [ -f "$RACK/rack.json" ] &&
        { timeout 120 "$BIN/rack-sim" --dir "$RACK" down >/dev/null 2>&1 || true; }
    [ -n "${BENCH_KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

dbjson() { "$BIN/rack-sim" --dir "$RACK" db status --json; }

# healthy: a running primary in state primary and a secondary in secondary.
healthy() {
    dbjson | python3 -c '
import json, sys
d = json.load(sys.stdin)
s = sorted((n["state"], n["assigned_state"], n["running"])
           for n in d["nodes"] if n["name"] != "monitor")
sys.exit(0 if s == [("primary", "primary", True),
                    ("secondary", "secondary", True)] else 1)'
}

# until_ok CMD...: run CMD until it exits 0; prints the time of that exit.
until_ok() {
    until "$@" >/dev/null 2>&1; do sleep 0.1; done
    now
}

log "dbha_failover: temp dir $T, $RUNS runs"
timeout 300 "$BIN/rack-sim" up --sleds 3 --db-ha --insecure-plaintext \
    --period 3600 --dir "$RACK" >"$T/up.log" 2>&1 ||
    { cat "$T/up.log" >&2; die "rack-sim up --db-ha failed"; }
eval "$("$BIN/rack-sim" --dir "$RACK" env)"
for i in $(seq 0 "$RUNS"); do
    "$BIN/tuf-mkrepo" --out "$T/r$i.zip" --system-version "$((i + 1)).0.0" \
        --random 2:65536 --seed "$((i + 7))" >/dev/null
done
"$BIN/replicator" repo upload "$T/r0.zip" >/dev/null 2>&1 || die "first upload failed"
"$BIN/replicator" activate >/dev/null 2>&1 || true
MON_PORT=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["db"]["ha"][0]["port"])' "$RACK/rack.json")
BASE=$(psql -h 127.0.0.1 -p "$MON_PORT" -U postgres -d pg_auto_failover -Atc \
    "SELECT round(sum(setting::int) / 1000.0, 1) FROM pg_settings WHERE name IN
     ('pgautofailover.node_considered_unhealthy_timeout',
      'pgautofailover.primary_demote_timeout')")
log "baseline (monitor's unhealthy + demote timeouts): ${BASE} s"

TA=() TU=() TR=()
for i in $(seq 1 "$RUNS"); do
    for _ in $(seq 240); do healthy && break; sleep 0.5; done
    healthy || die "round $i: the database is not primary + secondary"
    t0=$(now)
    victim=$("$BIN/rack-sim" --dir "$RACK" db kill-primary | awk '{print $3}')
    until_ok "$BIN/replicator" activate >"$T/ta" &
    pa=$!
    until_ok "$BIN/replicator" repo upload "$T/r$i.zip" >"$T/tu" &
    pu=$!
    wait "$pa" "$pu"
    ta=$(calc "$(cat "$T/ta") - $t0")
    tu=$(calc "$(cat "$T/tu") - $t0")
    t1=$(now)
    "$BIN/rack-sim" --dir "$RACK" db restart "$victim" >/dev/null
    for _ in $(seq 240); do healthy && break; sleep 0.5; done
    tr=$(calc "$(now) - $t1")
    log "round $i: killed $victim; first activation ${ta} s, first upload ${tu} s; rejoined in ${tr} s"
    TA+=("$ta") TU+=("$tu") TR+=("$tr")
done
MA=$(median "${TA[@]}")
MU=$(median "${TU[@]}")
log "medians: activation $MA s, upload $MU s, rejoin $(median "${TR[@]}") s (load $(cut -d' ' -f1 /proc/loadavg))"
# The goal is on the time itself (< 15 s), the ratio is for reading.
for m in "first activation, s:$MA" "first upload, s:$MU"; do
    v=${m##*:}
    printf 'SUMMARY|dbha_failover|%s|%s|%s|%s|< 15 s|%s\n' "${m%:*}" "$v" \
        "$BASE" "$(calc "$v / $BASE")" "$(verdict "$v" "<" 15)"
done
