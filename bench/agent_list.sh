#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# bench/agent_list.sh: GET /artifacts requests/s on a sledagent holding 500
# artifacts (4 KiB random each, PUT after one config listing all 500), with
# keep-alive: wrk -t1 -c16 -dBENCH_LIST_SECS (default 10 s). Baseline,
# interleaved: nginx (sendfile on, worker_processes 1) serving a static file
# holding the agent's own /artifacts response body (same size). Ratio =
# agent rps / nginx rps (medians); goal >= 0.5.
# Usage: bench/agent_list.sh   (env: BENCH_RUNS, BENCH_LIST_N, BENCH_LIST_SECS)
. "$(dirname "$0")/lib.sh"

N=${BENCH_LIST_N:-500}
SECS=${BENCH_LIST_SECS:-10}
bench_init list
need wrk
need nginx
log "$(machine)"

mkdir -p "$T/arts"
log "creating $N artifacts of 4 KiB"
for i in $(seq "$N"); do
    head -c 4096 /dev/urandom >"$T/arts/$i"
done
(cd "$T/arts" && sha256sum -- *) >"$T/hashes"
agent_start ag
# shellcheck disable=SC2046
put_config "$ag_API" 1 $(cut -d' ' -f1 "$T/hashes")
log "PUT $N artifacts"
# each line: HASH  FILE
awk '{print $1, $2}' "$T/hashes" |
    xargs -P 4 -n 2 sh -c 'c=$(curl -s -o /dev/null -w "%{http_code}" -T "'"$T"'/arts/$1" \
        "http://127.0.0.1:'"$ag_API"'/artifacts/$0?generation=1"); [ "$c" = 200 ] || { echo "PUT $0: $c" >&2; exit 255; }'
mkdir -p "$T/www"
curl -sf -o "$T/www/artifacts" "http://127.0.0.1:$ag_API/artifacts"
COUNT=$(python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(sum(1 for v in d['list'].values() if v == 2))" "$T/www/artifacts")
[ "$COUNT" = "$N" ] || die "only $COUNT of $N artifacts listed with count 2"
BODY=$(stat -c %s "$T/www/artifacts")
log "/artifacts body: $BODY bytes"
nginx_start "$T/www"

# rps URL: wrk requests/s; dies on errors or non-2xx responses.
rps() {
    local out
    out=$(wrk -t1 -c16 -d"${SECS}s" "$1")
    if grep -q -E 'Non-2xx|Socket errors' <<<"$out"; then
        echo "$out" >&2
        die "wrk reported errors for $1"
    fi
    awk '/^Requests\/sec:/ {print $2}' <<<"$out"
}
AURL=http://127.0.0.1:$ag_API/artifacts
NURL=http://127.0.0.1:$NGINX_PORT/artifacts
a_r=() n_r=() ratios=()
for i in $(seq "$BENCH_RUNS"); do
    n_r+=("$(rps "$NURL")")
    a_r+=("$(rps "$AURL")")
    ratios+=("$(calc "${a_r[-1]} / ${n_r[-1]}")")
    log "run $i: agent ${a_r[-1]} req/s, nginx ${n_r[-1]} req/s, ratio ${ratios[-1]}"
done
nginx_stop
agent_stop ag

a=$(median "${a_r[@]}")
n=$(median "${n_r[@]}")
ratio=$(calc "$a / $n")
echo "agent_list: artifacts=$N body=$BODY bytes wrk -t1 -c16 -d${SECS}s runs=$BENCH_RUNS"
echo "  nginx req/s:       ${n_r[*]} -> median $n"
echo "  agent req/s:       ${a_r[*]} -> median $a"
echo "  per-run ratios:    ${ratios[*]}"
echo "  ratio of medians:  $ratio (goal >= 0.5)"
summary list "GET /artifacts req/s vs nginx (500 artifacts)" "$a" "$n" "$ratio" ">=" 0.5
