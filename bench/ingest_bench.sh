#!/bin/bash
# SPDX-License-Identifier: MPL-2.0
# ingest_bench: how much slower is `replicator repo upload` of a ~1 GiB
# repository (20 artifacts) than the floor any careful ingest must pay?
#
# Builds a repository with tuf-mkrepo --random 20:BYTES/20, starts a private
# PostgreSQL (initdb as the postgres user when run as root, Unix socket
# only, fsync=on) and `replicator serve` with its staging directory in the
# temp dir, then measures BENCH_RUNS times (default 3), each run doing the
# baseline and the ingest back to back (interleaved, order alternating):
#
#   T_ingest = wall time of `replicator repo upload ZIP` (the CLI reading
#              the zip and sending it over loopback HTTP, the server
#              receiving, hashing and storing it, verifying it, extracting
#              every target durably, the database transaction, the
#              manifest) until it exits 0.
#   T_base   = `openssl dgst -sha256 ZIP`, then for every target a copy of
#              its bytes (found at its offset in the zip) into its own file
#              in the staging filesystem with `dd conv=fsync`, then `sync`
#              of the directory: the sha256 of the archive (recorded in the
#              database) plus the durable copy of the targets, which every
#              ingest must do whatever its design.
#
# What the baseline deliberately leaves out, so that the ratio charges the
# replicator for it: receiving the zip over loopback, and writing the zip
# itself into the page cache. The replicator keeps the uploaded zip only
# for the duration of the request and never fsyncs it (every byte it uses
# from it is verified again after reading: metadata by signatures, targets
# by their signed length and hashes, entries by CRC-32; a crash leaves an
# upload that the next start purges), so durable writes are the targets'
# bytes and the manifest in both cases. The page cache is warm for both
# sides (the zip was just written by tuf-mkrepo); `sync` runs before each
# timed step so neither pays for the other's dirty pages. Before each
# ingest the previous run's staged copy is removed (outside the timing), so
# every run extracts into an empty repos/ directory.
#
# Prints each run, the medians, and one line
#   SUMMARY|ingest|upload 1 GiB/20 artifacts, s|T_ingest|T_base|ratio|<= 1.5|verdict
# A missed goal is a finding, not a script failure.
#
# Usage: bench/ingest_bench.sh [BUILD_DIR] [TOTAL_BYTES]
# Environment: BENCH_RUNS (3), BENCH_TMPDIR (parent of the temp dir,
# default /var/tmp, on the same filesystem as a real staging directory),
# BENCH_KEEP=1 keeps the temp dir.
set -euo pipefail

BUILD=${1:-$(dirname "$0")/../build}
TOTAL=${2:-1073741824}
RUNS=${BENCH_RUNS:-3}
BIN=$(cd "$BUILD/bin" && pwd)
COUNT=20
EACH=$((TOTAL / COUNT))
PGBIN=${RACKDEPOT_PG_BINDIR:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)}
W=$(mktemp -d "${BENCH_TMPDIR:-/var/tmp}/ingest-bench-XXXXXX")
chmod 755 "$W" # the postgres user must reach its data directory
SERVE_PID=

now() { date +%s.%N; }
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {
    if (NR % 2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2 }'; }
as_pg() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
cleanup() {
    if [ -n "$SERVE_PID" ]; then
        kill "$SERVE_PID" 2>/dev/null || true
        wait "$SERVE_PID" 2>/dev/null || true
    fi
    if [ -d "$W/pg/data" ]; then
        as_pg "$PGBIN/pg_ctl" -D "$W/pg/data" -m fast stop >/dev/null 2>&1 || true
    fi
    [ -n "${BENCH_KEEP:-}" ] || rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "ingest_bench: $COUNT artifacts of $EACH bytes in $W, $RUNS runs"
"$BIN/tuf-mkrepo" --out "$W/repo.zip" --system-version 1.0.0 \
    --random "$COUNT:$EACH" --generate-key "$W/key.pem" \
    --print-root "$W/root.json" >/dev/null
ZIPSIZE=$(stat -c %s "$W/repo.zip")
# "offset length" of every target (not metadata) in the zip: the local
# header's fixed 30 bytes, then its own name and extra field lengths.
python3 - "$W/repo.zip" >"$W/targets.txt" <<'EOF'
import struct, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
with open(sys.argv[1], "rb") as f:
    for i in z.infolist():
        if not i.filename.startswith("repo/targets/") or \
                i.filename.endswith("artifacts.json"):
            continue
        assert i.compress_type == zipfile.ZIP_STORED
        f.seek(i.header_offset)
        h = f.read(30)
        nlen, xlen = struct.unpack("<HH", h[26:30])
        print(i.header_offset + 30 + nlen + xlen, i.file_size)
EOF

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
    --insecure-plaintext \
    2>"$W/serve.log" &
SERVE_PID=$!
i=0
while [ ! -s "$W/port.json" ]; do
    i=$((i + 1))
    [ $i -gt 300 ] && { echo "serve did not start"; cat "$W/serve.log"; exit 1; }
    sleep 0.1
done
PORT=$(sed 's/[^0-9]//g' "$W/port.json")
URL=http://127.0.0.1:$PORT
"$BIN/replicator" --url "$URL" trust-root add "$W/root.json" >/dev/null
echo "SERVE_PID $SERVE_PID" # for profiling: perf record -g -p PID

base_run() {
    local t0 t1 n=0 off len
    rm -rf "$W/staging/base"
    mkdir -p "$W/staging/base"
    sync
    t0=$(now)
    openssl dgst -sha256 "$W/repo.zip" >/dev/null
    while read -r off len; do
        n=$((n + 1))
        dd if="$W/repo.zip" of="$W/staging/base/$n" bs=1M skip="$off" \
            count="$len" iflag=skip_bytes,count_bytes conv=fsync status=none
    done <"$W/targets.txt"
    sync "$W/staging/base" # fsync of the directory, as our manifest step
    t1=$(now)
    rm -rf "$W/staging/base"
    echo "$t1 - $t0" | bc
}

ingest_run() {
    local t0 t1
    rm -rf "$W/staging/repos/"*
    sync
    t0=$(now)
    "$BIN/replicator" --url "$URL" --json repo upload "$W/repo.zip" \
        >"$W/upload.json" 2>"$W/upload.err" ||
        { cat "$W/upload.err" "$W/upload.json" >&2; exit 1; }
    t1=$(now)
    echo "$t1 - $t0" | bc
}

TI=() TB=() R=()
for r in $(seq "$RUNS"); do
    if [ $((r % 2)) = 1 ]; then
        tb=$(base_run); ti=$(ingest_run)
    else
        ti=$(ingest_run); tb=$(base_run)
    fi
    ratio=$(echo "scale=4; $ti / $tb" | bc)
    TI+=("$ti") TB+=("$tb") R+=("$ratio")
    printf 'run %d: T_ingest %.2f s  T_base %.2f s  ratio %.2f\n' \
        "$r" "$ti" "$tb" "$ratio"
done
TARGETS=$(awk '{s += $2} END {print s}' "$W/targets.txt")
mi=$(median "${TI[@]}") mb=$(median "${TB[@]}") mr=$(median "${R[@]}")
printf 'zip %d bytes, targets %d bytes\n' "$ZIPSIZE" "$TARGETS"
printf 'median: T_ingest %.2f s  T_base %.2f s  T_ingest/T_base %.2f (goal <= 1.5)\n' \
    "$mi" "$mb" "$mr"
verdict=$(awk -v r="$mr" 'BEGIN { print (r <= 1.5) ? "met" : "MISSED" }')
printf 'SUMMARY|ingest|upload %d bytes/%d artifacts, s|%.2f|%.2f|%.2f|<= 1.5|%s\n' \
    "$TOTAL" "$COUNT" "$mi" "$mb" "$mr" "$verdict"
