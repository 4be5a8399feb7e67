#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# bench/agent_chunked.sh: PUT of a 1 GiB artifact with a chunked body
# (`curl -T - -H 'Transfer-Encoding: chunked'`, curl's reads of stdin
# become the chunks, as a streamed body of the reference controller goes
# out) against the baseline of the same file PUT with a Content-Length
# (`curl -T FILE`) in the same run. Each run starts a fresh agent (same
# binary and flags, empty datasets) per PUT, so each PUT is a first write
# and its agent's peak RSS (VmHWM) belongs to that framing alone; the
# order of the two alternates between runs. Rates are artifact bytes per
# second to the 200 (verified, fsync'd, both datasets).
# Goal: chunked / Content-Length >= 0.9 (ratio of medians); VmHWM about
# the same. Also prints the CPU seconds (user + system) each agent used in
# all, which a loaded machine disturbs far less than the wall clock.
# Usage: bench/agent_chunked.sh   (env: BENCH_RUNS, BENCH_SIZE, see
# bench/lib.sh; BENCH_CHUNKED_PIPE=1 feeds curl through `cat |`)
. "$(dirname "$0")/lib.sh"

SIZE=${BENCH_SIZE:-$GIB}
bench_init chunked
log "$(machine)"

SRC=$T/src.bin
log "creating $SIZE random bytes"
mkrandom "$SRC" "$SIZE"
cat "$SRC" >/dev/null
H=$(sha256_of "$SRC")

# put_chunked API_PORT GEN HASH FILE: as put_artifact, body sent chunked.
put_chunked() {
    local out code t url="http://127.0.0.1:$1/artifacts/$3?generation=$2"
    if [ -n "${BENCH_CHUNKED_PIPE:-}" ]; then
        out=$(cat "$4" | curl -s -o "$T/put.out" -w '%{http_code} %{time_total}' \
            -T - -H 'Transfer-Encoding: chunked' \
            -H 'Content-Type: application/octet-stream' "$url")
    else
        out=$(curl -s -o "$T/put.out" -w '%{http_code} %{time_total}' \
            -T - -H 'Transfer-Encoding: chunked' \
            -H 'Content-Type: application/octet-stream' "$url" <"$4")
    fi
    code=${out% *}
    t=${out#* }
    [ "$code" = 200 ] || die "chunked PUT /artifacts/$3: $code $(cat "$T/put.out")"
    echo "$t"
}

# one MODE: a fresh agent, one PUT of SRC framed as MODE (cl|chunked);
# appends the rate and VmHWM to MODE's arrays.
cl_r=() ch_r=() cl_hwm=() ch_hwm=() cl_cpu=() ch_cpu=()
# cpu_s PID: CPU seconds (utime + stime) the process used so far.
cpu_s() {
    python3 -c 'import os,sys; f=open("/proc/%s/stat" % sys.argv[1]).read().rsplit(")",1)[1].split(); print("%.2f" % ((int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")))' "$1"
}
one() {
    local t
    agent_start ag
    put_config "$ag_API" 1 "$H"
    if [ "$1" = cl ]; then
        t=$(put_artifact "$ag_API" 1 "$H" "$SRC")
        cl_r+=("$(calc "$SIZE / $t")")
        cl_hwm+=("$(vmhwm_kib "$ag_PID")")
        cl_cpu+=("$(cpu_s "$ag_PID")")
    else
        t=$(put_chunked "$ag_API" 1 "$H" "$SRC")
        ch_r+=("$(calc "$SIZE / $t")")
        ch_hwm+=("$(vmhwm_kib "$ag_PID")")
        ch_cpu+=("$(cpu_s "$ag_PID")")
    fi
    [ -f "$T/ag/A/$H" ] && [ -f "$T/ag/B/$H" ] || die "artifact not on both datasets"
    agent_stop ag rm
    if [ "$1" = cl ]; then
        log "  cl: $(mib "$(calc "$SIZE / $t")") MiB/s (${t}s), VmHWM ${cl_hwm[-1]} KiB, agent CPU ${cl_cpu[-1]}s"
    else
        log "  chunked: $(mib "$(calc "$SIZE / $t")") MiB/s (${t}s), VmHWM ${ch_hwm[-1]} KiB, agent CPU ${ch_cpu[-1]}s"
    fi
}

for i in $(seq "$BENCH_RUNS"); do
    log "run $i"
    if [ $((i % 2)) = 1 ]; then one cl; one chunked; else one chunked; one cl; fi
done

cl=$(median "${cl_r[@]}")
ch=$(median "${ch_r[@]}")
ratios=()
for i in $(seq 0 $((BENCH_RUNS - 1))); do
    ratios+=("$(calc "${ch_r[$i]} / ${cl_r[$i]}")")
done
ratio=$(calc "$ch / $cl")
echo "agent_chunked: size=$SIZE runs=$BENCH_RUNS pipe=${BENCH_CHUNKED_PIPE:-0}"
echo "  Content-Length PUT B/s: ${cl_r[*]} -> median $(mib "$cl") MiB/s"
echo "  chunked PUT B/s:        ${ch_r[*]} -> median $(mib "$ch") MiB/s"
echo "  per-run ratios:         ${ratios[*]}"
echo "  ratio of medians:       $ratio (goal >= 0.9)"
echo "  VmHWM KiB Content-Length: ${cl_hwm[*]} (max $(maxof "${cl_hwm[@]}"))"
echo "  VmHWM KiB chunked:        ${ch_hwm[*]} (max $(maxof "${ch_hwm[@]}"))"
echo "  agent CPU s Content-Length: ${cl_cpu[*]} -> median $(median "${cl_cpu[@]}")"
echo "  agent CPU s chunked:        ${ch_cpu[*]} -> median $(median "${ch_cpu[@]}")"
echo "  load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
summary chunked "chunked PUT MiB/s vs Content-Length PUT" "$(mib "$ch")" "$(mib "$cl")" "$ratio" ">=" 0.9
