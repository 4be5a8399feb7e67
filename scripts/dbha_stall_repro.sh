#!/bin/bash
# SPDX-License-Identifier: MPL-2.0
# dbha_stall_repro: reproduce the pg_auto_failover write stall of a
# `rack-sim up --db-ha` rack (docs/OPERATOR.md "A highly available
# database", "Writes stop after the standby is lost while rejoining").
#
# Kills the primary, restarts it, and kills it again (now the standby) in
# the second between its keeper reporting `secondary` and the primary's
# keeper completing `wait_primary` -> `primary` (the monitor polled every
# 50 ms). Then tries one INSERT every STALL_PROBE_SECS for STALL_SECS:
# with the stall, every INSERT hangs (the primary has set
# synchronous_standby_names for a standby that is gone and the monitor
# never moves it back to wait_primary). Then `rack-sim db restart` of the
# standby and the same probe: writes come back once its PostgreSQL runs.
# Prints the monitor's view and the last events at each step.
#
# Usage: scripts/dbha_stall_repro.sh   (as root, like rack-sim --db-ha)
# Environment: RS (rack-sim binary, default build/bin/rack-sim),
#   STALL_SECS (30), KEEP=1 leaves the rack up (its directory is printed),
#   AT_ONCE=1 restarts the standby right after the kill, before the
#   first probe.
set -uo pipefail

RS=${RS:-build/bin/rack-sim}
STALL_SECS=${STALL_SECS:-30}
D=$(mktemp -d "${TMPDIR:-/tmp}/dbha-stall.XXXXXX")
chmod 755 "$D" # the postgres user must reach the nodes' directories
D=$D/rack
[ -n "${KEEP:-}" ] || trap 'timeout 120 "$RS" --dir "$D" down >/dev/null 2>&1' EXIT
now() { date +%s.%N; }
since() { python3 -c "print(round($(now) - $1, 1))"; }
write() {
    timeout 5 "$RS" --dir "$D" db sql "INSERT INTO stall_probe VALUES (1)" \
        >/dev/null 2>&1
}
mon() { psql -h 127.0.0.1 -p "$MON" -U postgres -d pg_auto_failover -Atc "$1"; }
show() {
    mon "SELECT nodename, reportedstate, goalstate, health FROM pgautofailover.node ORDER BY nodeid" |
        sed 's/^/  node|reported|assigned|health: /'
}
# probe WHAT: one INSERT a second for STALL_SECS; prints the outcome.
probe() {
    local t0
    t0=$(now)
    while [ "$(since "$t0" | cut -d. -f1)" -lt "$STALL_SECS" ]; do
        if write; then
            echo "$1: a write committed after $(since "$t0") s"
            return 0
        fi
        sleep 1
    done
    echo "$1: NO write committed in $STALL_SECS s (stall)"
    return 1
}

echo "rack $D"
timeout 300 "$RS" up --sleds 1 --db-ha --insecure-plaintext --period 3600 \
    --dir "$D" >/dev/null || { echo "rack-sim up --db-ha failed"; exit 1; }
MON=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["db"]["ha"][0]["port"])' "$D/rack.json")
"$RS" --dir "$D" db sql "CREATE TABLE stall_probe (x int)" >/dev/null
v=$("$RS" --dir "$D" db kill-primary | awk '{print $3}')
until write; do sleep 0.2; done
echo "failover done; restarting $v"
"$RS" --dir "$D" db restart "$v" >/dev/null
for _ in $(seq 3000); do
    [ "$(mon "SELECT reportedstate FROM pgautofailover.node WHERE nodename = '$v'")" = secondary ] && break
    sleep 0.05
done
"$RS" --dir "$D" db kill-secondary
show
if [ -n "${AT_ONCE:-}" ]; then
    "$RS" --dir "$D" db restart "$v" >/dev/null
    echo "$v restarted at once"
fi
probe "standby killed right after it rejoined"
rc=$?
"$RS" --dir "$D" db status
tail -4 "$D/dbha/$([ "$v" = node1 ] && echo node2 || echo node1).log" | sed 's/^/  primary keeper: /'
"$RS" --dir "$D" db restart "$v" >/dev/null
probe "after db restart $v"
show
mon "SELECT to_char(eventtime, 'HH24:MI:SS.MS'), nodename, reportedstate, goalstate, left(description, 100) FROM pgautofailover.event ORDER BY eventid DESC LIMIT 8" |
    tac | sed 's/^/  event: /'
exit $rc
