#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# bench/agent_rss.sh: peak RSS of a sledagent during a 1 GiB PUT (VmHWM from
# /proc/PID/status once the PUT answered 200; goal < 32 MiB), and the
# latency of GET /artifacts on the agent API while the PUT runs (curl
# time_total every 50 ms; the max is reported). The RSS baseline measured in
# the same run is the idle agent's VmHWM just before the PUT (config set).
# With BENCH_ARENAS=1 each run is repeated with MALLOC_ARENA_MAX=1 in the
# agent's environment, interleaved (diagnostic: glibc malloc arenas per
# writer thread).
# Usage: bench/agent_rss.sh   (env: BENCH_RUNS, BENCH_SIZE, BENCH_ARENAS)
. "$(dirname "$0")/lib.sh"

SIZE=${BENCH_SIZE:-$GIB}
GOAL_KIB=$((32 * 1024))
bench_init rss
log "$(machine)"

SRC=$T/src.bin
log "creating $SIZE random bytes"
mkrandom "$SRC" "$SIZE"
cat "$SRC" >/dev/null
H=$(sha256_of "$SRC")

# sample PID OUT WATCH: VmRSS (KiB) every 20 ms while WATCH lives.
sample_rss() {
    while kill -0 "$3" 2>/dev/null; do
        awk '/^VmRSS:/ {print $2}' "/proc/$1/status" >>"$2" 2>/dev/null || true
        sleep 0.02
    done
}
poll_latency() {
    while kill -0 "$3" 2>/dev/null; do
        curl -s -o /dev/null -w '%{time_total} %{http_code}\n' --max-time 10 \
            "http://127.0.0.1:$1/artifacts" >>"$2" || echo "10 timeout" >>"$2"
        sleep 0.05
    done
}

# one_run LABEL [env...]: prints "idle_hwm peak_hwm max_rss_sampled max_lat n bad secs"
one_run() {
    local label=$1
    shift
    AGENT_ENV=("$@")
    agent_start ag
    AGENT_ENV=()
    put_config "$ag_API" 1 "$H"
    local idle
    idle=$(vmhwm_kib "$ag_PID")
    : >"$T/lat.txt"
    : >"$T/rss.txt"
    ( put_artifact "$ag_API" 1 "$H" "$SRC" >"$T/put.time" ) &
    local pp=$!
    poll_latency "$ag_API" "$T/lat.txt" "$pp" &
    local lp=$!
    sample_rss "$ag_PID" "$T/rss.txt" "$pp" &
    local sp=$!
    wait "$pp" || die "PUT failed"
    wait "$lp" "$sp" || true
    local peak maxrss maxlat n bad
    peak=$(vmhwm_kib "$ag_PID")
    maxrss=$(sort -n "$T/rss.txt" | tail -1)
    maxlat=$(awk 'BEGIN {m=0} {if ($1 > m) m = $1} END {print m}' "$T/lat.txt")
    n=$(wc -l <"$T/lat.txt")
    bad=$(awk '$2 != 200' "$T/lat.txt" | wc -l)
    [ -f "$T/ag/A/$H" ] && [ -f "$T/ag/B/$H" ] || die "artifact not on both datasets"
    agent_stop ag rm
    echo "$idle $peak $maxrss $maxlat $n $bad $(cat "$T/put.time")"
    log "$label: idle VmHWM $idle KiB, peak VmHWM $peak KiB, sampled max VmRSS" \
        "$maxrss KiB, GET /artifacts max ${maxlat}s ($n requests, $bad non-200)," \
        "PUT $(cat "$T/put.time")s"
}

idle=() peak=() lat=() apeak=()
for i in $(seq "$BENCH_RUNS"); do
    read -r a b _ d _ _ _ < <(one_run "run $i")
    idle+=("$a") peak+=("$b") lat+=("$d")
    if [ -n "${BENCH_ARENAS:-}" ]; then
        read -r _ b _ _ _ _ _ < <(one_run "run $i MALLOC_ARENA_MAX=1" MALLOC_ARENA_MAX=1)
        apeak+=("$b")
    fi
done

mpeak=$(median "${peak[@]}")
midle=$(median "${idle[@]}")
echo "agent_rss: size=$SIZE runs=$BENCH_RUNS"
echo "  idle VmHWM KiB (config set, before PUT): ${idle[*]} -> median $midle"
echo "  peak VmHWM KiB after PUT:               ${peak[*]} -> median $mpeak (max $(maxof "${peak[@]}"))"
echo "  growth during PUT KiB (median):          $((mpeak - midle))"
[ ${#apeak[@]} -gt 0 ] && echo "  peak VmHWM KiB with MALLOC_ARENA_MAX=1:  ${apeak[*]} -> median $(median "${apeak[@]}")"
echo "  GET /artifacts max latency s during PUT: ${lat[*]} -> max $(maxof "${lat[@]}")"
echo "  goal: peak < $GOAL_KIB KiB (32 MiB)"
summary rss "peak VmHWM KiB (1 GiB PUT)" "$mpeak" "$midle(idle)" \
    "$(calc "$mpeak / $GOAL_KIB")" "<" 1
summary rss "GET /artifacts max latency s during PUT" "$(maxof "${lat[@]}")" "-" \
    "$(maxof "${lat[@]}")" "<" 0.1
