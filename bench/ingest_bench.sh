#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# ingest_bench: how much slower is `replicator repo upload` of a ~1 GiB
# repository than the floor any ingest must pay? Builds a repository with
# tuf-mkrepo --random 20:BYTES, starts a private PostgreSQL (initdb as the
# postgres user when run as root, Unix socket only) and `replicator serve`,
# then measures in the same run:
#   T_ingest = wall time of `replicator repo upload ZIP` until it returns 0
#   T_base   = `openssl dgst -sha256 ZIP` + writing the targets' total size
#              from the zip to a file in the staging filesystem with fsync
# and prints T_ingest / T_base (goal <= 1.5). Timings on a shared machine
# are noisy: run it more than once before drawing conclusions.
# Usage: bench/ingest_bench.sh [BUILD_DIR] [TOTAL_BYTES]
set -eu

BUILD=${1:-$(dirname "$0")/../build}
TOTAL=${2:-1073741824}
BIN=$(cd "$BUILD/bin" && pwd)
COUNT=20
EACH=$((TOTAL / COUNT))
PGBIN=${RACKDEPOT_PG_BINDIR:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)}
W=$(mktemp -d "${TMPDIR:-/tmp}/ingest-bench-XXXXXX")
chmod 755 "$W" # the postgres user must reach its data directory
SERVE_PID=

now() { date +%s.%N; }
as_pg() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
cleanup() {
    [ -n "$SERVE_PID" ] && kill "$SERVE_PID" 2>/dev/null && wait "$SERVE_PID" 2>/dev/null
    [ -d "$W/pg/data" ] && as_pg "$PGBIN/pg_ctl" -D "$W/pg/data" -m fast stop >/dev/null 2>&1
    rm -rf "$W"
}
trap cleanup EXIT INT TERM

echo "ingest_bench: $COUNT artifacts of $EACH bytes in $W"
"$BIN/tuf-mkrepo" --out "$W/repo.zip" --system-version 1.0.0 \
    --random "$COUNT:$EACH" --generate-key "$W/key.pem" \
    --print-root "$W/root.json" >/dev/null
ZIPSIZE=$(stat -c %s "$W/repo.zip")

mkdir -p "$W/pg"
[ "$(id -u)" = 0 ] && chown postgres "$W/pg"
as_pg "$PGBIN/initdb" -D "$W/pg/data" -A trust -U postgres >/dev/null
as_pg "$PGBIN/pg_ctl" -D "$W/pg/data" -l "$W/pg/log" -w \
    -o "-c listen_addresses= -k $W/pg -c fsync=on" start >/dev/null
as_pg "$PGBIN/createdb" -h "$W/pg" -U postgres bench
DB="host=$W/pg user=postgres dbname=bench"
"$BIN/replicator" db migrate --db "$DB" >/dev/null

"$BIN/replicator" serve --db "$DB" --staging "$W/staging" \
    --listen 127.0.0.1:0 --port-file "$W/port.json" --no-periodic \
    2>"$W/serve.log" &
SERVE_PID=$!
i=0
while [ ! -s "$W/port.json" ]; do
    i=$((i + 1)); [ $i -gt 300 ] && { echo "serve did not start"; cat "$W/serve.log"; exit 1; }
    sleep 0.1
done
PORT=$(sed 's/[^0-9]//g' "$W/port.json")
URL=http://127.0.0.1:$PORT
"$BIN/replicator" --url "$URL" trust-root add "$W/root.json" >/dev/null

sync
t0=$(now)
"$BIN/replicator" --url "$URL" --json repo upload "$W/repo.zip" \
    >"$W/upload.json" 2>"$W/upload.err"
t1=$(now)
TARGETS=$(grep -o '"length": [0-9]*' "$W/upload.json" | awk '{s += $2} END {print s}')

sync
t2=$(now)
openssl dgst -sha256 "$W/repo.zip" >/dev/null
dd if="$W/repo.zip" of="$W/staging/base.copy" bs=1M count="$TARGETS" \
    iflag=count_bytes conv=fsync status=none
t3=$(now)

awk -v ti="$(echo "$t1 - $t0" | bc)" -v tb="$(echo "$t3 - $t2" | bc)" \
    -v z="$ZIPSIZE" -v t="$TARGETS" 'BEGIN {
    printf "zip %d bytes, targets %d bytes\n", z, t
    printf "T_ingest %.2f s  T_base %.2f s  T_ingest/T_base %.2f (goal <= 1.5)\n", ti, tb, ti / tb
}'
