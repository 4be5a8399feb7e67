#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# bench/agent_put.sh: PUT throughput of a 1 GiB artifact into a sledagent
# (verified, fsync'd, two datasets) as a ratio of this machine's limit,
# measured in the same run, interleaved with the agent runs:
#   limit = min(sha256 rate of `openssl dgst -sha256 FILE` (one core, file in
#               page cache), rate of two fsync'd dd copies written in parallel)
# The dd copies run in parallel because the agent writes both copies at once
# (one writev() per dataset per batch, fsync at the end): the disk sees two
# concurrent streams in both cases. Rates are artifact bytes per second.
# Also prints the agent's peak RSS (VmHWM) and the max latency of
# GET /artifacts while the PUT runs (the full check is bench/agent_rss.sh).
# Usage: bench/agent_put.sh   (env: BENCH_RUNS, BENCH_SIZE, see bench/lib.sh)
. "$(dirname "$0")/lib.sh"

SIZE=${BENCH_SIZE:-$GIB}
bench_init put
log "$(machine)"

SRC=$T/src.bin
log "creating $SIZE random bytes"
mkrandom "$SRC" "$SIZE"
cat "$SRC" >/dev/null
H=$(sha256_of "$SRC")

log "openssl speed (one core, 16 KiB blocks, informational)"
SPEED=$(openssl speed -bytes 16384 -seconds 3 sha256 2>/dev/null |
    awk '/^sha256/ {v=$2; sub(/k$/, "", v); print v * 1000}')

# poll_latency API OUT PID: GET /artifacts every 50 ms while PID lives.
poll_latency() {
    while kill -0 "$3" 2>/dev/null; do
        curl -s -o /dev/null -w '%{time_total} %{http_code}\n' --max-time 10 \
            "http://127.0.0.1:$1/artifacts" >>"$2" || echo "10 timeout" >>"$2"
        sleep 0.05
    done
}

sha_r=() dd_r=() agent_r=() hwm=() lat=()
for i in $(seq "$BENCH_RUNS"); do
    t0=$(now)
    openssl dgst -sha256 "$SRC" >/dev/null
    t1=$(now)
    sha_r+=("$(calc "$SIZE / ($t1 - $t0)")")

    rm -f "$T/ddA" "$T/ddB"
    t0=$(now)
    dd if="$SRC" of="$T/ddA" bs=1M conv=fsync status=none &
    p1=$!
    dd if="$SRC" of="$T/ddB" bs=1M conv=fsync status=none &
    p2=$!
    wait "$p1" "$p2"
    t1=$(now)
    dd_r+=("$(calc "$SIZE / ($t1 - $t0)")")
    rm -f "$T/ddA" "$T/ddB"

    agent_start ag
    put_config "$ag_API" 1 "$H"
    : >"$T/lat.txt"
    ( put_artifact "$ag_API" 1 "$H" "$SRC" >"$T/put.time" ) &
    pp=$!
    poll_latency "$ag_API" "$T/lat.txt" "$pp" &
    lp=$!
    wait "$pp" || die "PUT failed"
    wait "$lp" || true
    tput=$(cat "$T/put.time")
    agent_r+=("$(calc "$SIZE / $tput")")
    hwm+=("$(vmhwm_kib "$ag_PID")")
    lat+=("$(awk 'BEGIN {m=0} {if ($1 > m) m = $1} END {print m}' "$T/lat.txt")")
    nlat=$(wc -l <"$T/lat.txt")
    bad=$(awk '$2 != 200' "$T/lat.txt" | wc -l)
    [ -f "$T/ag/A/$H" ] && [ -f "$T/ag/B/$H" ] || die "artifact not on both datasets"
    agent_stop ag rm
    log "run $i: sha256 $(mib "${sha_r[-1]}") MiB/s, dd x2 $(mib "${dd_r[-1]}") MiB/s," \
        "agent $(mib "${agent_r[-1]}") MiB/s (${tput}s), VmHWM ${hwm[-1]} KiB," \
        "GET /artifacts max ${lat[-1]}s over $nlat requests ($bad non-200)"
done

sha=$(median "${sha_r[@]}")
dd=$(median "${dd_r[@]}")
agent=$(median "${agent_r[@]}")
limit=$(python3 -c "print(min($sha, $dd))")
ratios=()
for i in $(seq 0 $((BENCH_RUNS - 1))); do
    ratios+=("$(calc "${agent_r[$i]} / min(${sha_r[$i]}, ${dd_r[$i]})")")
done
ratio=$(calc "$agent / $limit")
echo "agent_put: size=$SIZE runs=$BENCH_RUNS"
echo "  openssl speed sha256 16KiB: $(mib "$SPEED") MiB/s (informational)"
echo "  sha256 dgst B/s:   ${sha_r[*]} -> median $(mib "$sha") MiB/s"
echo "  dd x2 fsync B/s:    ${dd_r[*]} -> median $(mib "$dd") MiB/s"
echo "  agent PUT B/s:      ${agent_r[*]} -> median $(mib "$agent") MiB/s"
echo "  per-run ratios:     ${ratios[*]}"
echo "  ratio of medians:   $ratio (goal >= 0.8)"
echo "  VmHWM KiB:          ${hwm[*]} (max $(maxof "${hwm[@]}"))"
echo "  GET /artifacts max latency s: ${lat[*]}"
summary put "PUT MiB/s vs min(sha256,dd x2)" "$(mib "$agent")" "$(mib "$limit")" "$ratio" ">=" 0.8
