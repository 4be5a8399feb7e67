#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# bench/agent_get.sh: depot GET throughput of a 1 GiB artifact
# (GET /artifact/sha256/H on the depot port, curl -o /dev/null, file in page
# cache) against nginx (sendfile on, worker_processes 1, foreground) serving
# the same file from the same dataset directory on another loopback port.
# The two are interleaved, BENCH_GET_RUNS times each (default 5: each GET
# takes about a second). Ratio = agent rate / nginx rate (medians).
# Usage: bench/agent_get.sh   (env: BENCH_GET_RUNS, BENCH_SIZE)
. "$(dirname "$0")/lib.sh"

SIZE=${BENCH_SIZE:-$GIB}
RUNS=${BENCH_GET_RUNS:-5}
bench_init get
need nginx
log "$(machine)"

SRC=$T/src.bin
log "creating $SIZE random bytes"
mkrandom "$SRC" "$SIZE"
H=$(sha256_of "$SRC")

agent_start ag
put_config "$ag_API" 1 "$H"
put_artifact "$ag_API" 1 "$H" "$SRC" >/dev/null
rm -f "$SRC"
FILE=$T/ag/A/$H
[ -f "$FILE" ] || die "artifact missing on dataset A"
cat "$FILE" >/dev/null
nginx_start "$T/ag/A"

# get URL: prints bytes/s; checks the size.
get() {
    local out
    out=$(curl -s -o /dev/null -w '%{http_code} %{size_download} %{speed_download}' "$1")
    set -- $out
    [ "$1" = 200 ] && [ "$2" = "$SIZE" ] || die "GET: $out"
    echo "$3"
}

AURL=http://127.0.0.1:$ag_DEPOT/artifact/sha256/$H
NURL=http://127.0.0.1:$NGINX_PORT/$H
get "$AURL" >/dev/null # warm-up, both
get "$NURL" >/dev/null
a_r=() n_r=() ratios=()
for i in $(seq "$RUNS"); do
    n_r+=("$(get "$NURL")")
    a_r+=("$(get "$AURL")")
    ratios+=("$(calc "${a_r[-1]} / ${n_r[-1]}")")
    log "run $i: agent $(mib "${a_r[-1]}") MiB/s, nginx $(mib "${n_r[-1]}") MiB/s, ratio ${ratios[-1]}"
done
nginx_stop
agent_stop ag

a=$(median "${a_r[@]}")
n=$(median "${n_r[@]}")
ratio=$(calc "$a / $n")
echo "agent_get: size=$SIZE runs=$RUNS"
echo "  nginx GET B/s:     ${n_r[*]} -> median $(mib "$n") MiB/s"
echo "  agent depot B/s:   ${a_r[*]} -> median $(mib "$a") MiB/s"
echo "  per-run ratios:    ${ratios[*]}"
echo "  ratio of medians:  $ratio (goal >= 0.9)"
summary get "depot GET MiB/s vs nginx" "$(mib "$a")" "$(mib "$n")" "$ratio" ">=" 0.9
