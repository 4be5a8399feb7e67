#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# bench/agent_copy.sh: copy-from-depot pull of a 1 GiB artifact between two
# sledagents. Agent A holds the artifact; a fresh agent B (config set) gets
# POST /artifacts/H/copy-from-depot {"depot_base_url": A's depot}; the time
# runs from the POST to GET /artifacts on B listing H with count 2 (polled
# every 10 ms). Baseline, interleaved, same work (two durable copies on
# B's two dataset directories, hash verified):
#   curl -s A-depot/artifact/sha256/H | tee B1 B2 | sha256sum ; sync B1 B2
# (coreutils `sync FILE...` fsyncs each file) and the printed hash compared
# with H. Ratio = baseline time / agent time (medians); goal >= 2.
# Usage: bench/agent_copy.sh   (env: BENCH_RUNS, BENCH_SIZE)
. "$(dirname "$0")/lib.sh"

SIZE=${BENCH_SIZE:-$GIB}
bench_init copy
log "$(machine)"

SRC=$T/src.bin
log "creating $SIZE random bytes"
mkrandom "$SRC" "$SIZE"
H=$(sha256_of "$SRC")

agent_start src
put_config "$src_API" 1 "$H"
put_artifact "$src_API" 1 "$H" "$SRC" >/dev/null
rm -f "$SRC"
cat "$T/src/A/$H" >/dev/null
URL=http://127.0.0.1:$src_DEPOT/artifact/sha256/$H

baseline() {
    local d=$T/base got t0 t1
    mkdir -p "$d/A" "$d/B"
    t0=$(now)
    got=$(curl -sf "$URL" | tee "$d/A/$H.tmp" "$d/B/$H.tmp" | sha256sum | cut -d' ' -f1)
    sync "$d/A/$H.tmp" "$d/B/$H.tmp"
    t1=$(now)
    [ "$got" = "$H" ] || die "baseline hash mismatch: $got"
    rm -rf "$d"
    calc "$t1 - $t0"
}

agent_copy() {
    local t0 t1 code i
    agent_start dst
    put_config "$dst_API" 1 "$H"
    t0=$(now)
    code=$(curl -s -o "$T/copy.out" -w '%{http_code}' -X POST \
        -H 'Content-Type: application/json' \
        --data-binary "{\"depot_base_url\": \"http://127.0.0.1:$src_DEPOT\"}" \
        "http://127.0.0.1:$dst_API/artifacts/$H/copy-from-depot?generation=1")
    [ "$code" = 202 ] || die "copy-from-depot: $code $(cat "$T/copy.out")"
    for i in $(seq 30000); do
        curl -s "http://127.0.0.1:$dst_API/artifacts" | grep -q "\"$H\": *2" && break
        sleep 0.01
    done
    t1=$(now)
    curl -s "http://127.0.0.1:$dst_API/artifacts" | grep -q "\"$H\": *2" ||
        die "copy did not finish: $(curl -s "http://127.0.0.1:$dst_API/copies")"
    agent_stop dst rm
    calc "$t1 - $t0"
}

b_t=() a_t=() ratios=()
for i in $(seq "$BENCH_RUNS"); do
    b_t+=("$(baseline)")
    a_t+=("$(agent_copy)")
    ratios+=("$(calc "${b_t[-1]} / ${a_t[-1]}")")
    log "run $i: baseline ${b_t[-1]}s, agent ${a_t[-1]}s, ratio ${ratios[-1]}"
done
agent_stop src

b=$(median "${b_t[@]}")
a=$(median "${a_t[@]}")
ratio=$(calc "$b / $a")
echo "agent_copy: size=$SIZE runs=$BENCH_RUNS"
echo "  baseline s (curl|tee|sha256sum; sync): ${b_t[*]} -> median $b ($(mib "$SIZE / $b") MiB/s)"
echo "  agent copy-from-depot s:               ${a_t[*]} -> median $a ($(mib "$SIZE / $a") MiB/s)"
echo "  per-run ratios:                        ${ratios[*]}"
echo "  ratio baseline/agent (medians):        $ratio (goal >= 2)"
summary copy "copy s, baseline/agent" "$a" "$b" "$ratio" ">=" 2
