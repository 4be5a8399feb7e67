#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# bench/agent_tls.sh: the cost of mutual TLS 1.3 (issue 9) on the two bulk
# paths of a sledagent, each against a baseline measured in the same run,
# interleaved:
#   1. PUT of a 1 GiB artifact (config first, as agent_put.sh) to an agent
#      started with --tls-ca/--tls-cert/--tls-key (sled certificate; curl
#      with the controller certificate) against the same PUT to an agent
#      started with --insecure-plaintext; fresh agent per PUT, datasets in
#      the same temp dir. BENCH_RUNS each (default 3), alternating which goes
#      first. Ratio = TLS MiB/s / plaintext MiB/s (medians), goal >= 0.8.
#   2. Depot GET of the same 1 GiB file (page cache) from the TLS agent
#      against nginx over TLS 1.3 (same sled certificate and key, sendfile
#      on, 1 worker, ssl_verify_client off) serving the same file from the
#      same dataset directory. BENCH_GET_RUNS each (default 5). Ratio = agent
#      / nginx (medians), goal >= 0.9.
# Certificates come from `replicator pki` (REPLICATOR, default
# build-bench/bin/replicator, built on demand). Whether the kernel has kTLS
# is printed (it is not enabled here: without it nginx encrypts in user
# space, sendfile off for TLS, as the agent does).
# Usage: bench/agent_tls.sh   (env: BENCH_RUNS, BENCH_GET_RUNS, BENCH_SIZE,
#                              REPLICATOR, see bench/lib.sh)
. "$(dirname "$0")/lib.sh"

SIZE=${BENCH_SIZE:-$GIB}
GET_RUNS=${BENCH_GET_RUNS:-5}
bench_init tls
need nginx
log "$(machine)"

REPLICATOR=${REPLICATOR:-$BENCH_ROOT/build-bench/bin/replicator}
if [ ! -x "$REPLICATOR" ]; then
    log "building replicator (RelWithDebInfo) in build-bench"
    cmake --build "$BENCH_ROOT/build-bench" -j2 --target replicator >&2
fi

# kTLS: informational only.
if grep -qw '^tls' /proc/modules 2>/dev/null || [ -e /proc/net/tls_stat ]; then
    KTLS="available (tls module or /proc/net/tls_stat present)"
else
    KTLS="not available (no tls module in /proc/modules, no /proc/net/tls_stat)"
fi
log "kTLS: $KTLS"

# PKI: rack CA, the agents' sled certificate, a second sled (depot GET
# client) and the controller (config and PUT client).
PKI=$T/pki
RACK=$(python3 -c 'import uuid; print(uuid.uuid4())')
SLED=$(python3 -c 'import uuid; print(uuid.uuid4())')
PEER=$(python3 -c 'import uuid; print(uuid.uuid4())')
"$REPLICATOR" pki init --dir "$PKI" --rack-id "$RACK" >"$T/pki.log" 2>&1 || { cat "$T/pki.log" >&2; die "pki init"; }
"$REPLICATOR" pki issue --dir "$PKI" --role sled --id "$SLED" --ip 127.0.0.1 >>"$T/pki.log" 2>&1 || { cat "$T/pki.log" >&2; die "pki issue sled"; }
"$REPLICATOR" pki issue --dir "$PKI" --role sled --id "$PEER" --ip 127.0.0.1 >>"$T/pki.log" 2>&1 || { cat "$T/pki.log" >&2; die "pki issue sled"; }
"$REPLICATOR" pki issue --dir "$PKI" --role controller --id replicator-0 >>"$T/pki.log" 2>&1 || { cat "$T/pki.log" >&2; die "pki issue controller"; }
CA=$PKI/ca.pem
[ -f "$CA" ] || CA=$(ls "$PKI"/ca*.pem | head -1)
SCERT=$PKI/sled-$SLED.pem SKEY=$PKI/sled-$SLED.key
for f in "$CA" "$SCERT" "$SKEY" "$PKI/controller-replicator-0.pem" "$PKI/sled-$PEER.pem"; do
    [ -f "$f" ] || die "pki: $f missing ($(ls "$PKI"))"
done
CTL=(--tlsv1.3 --cacert "$CA" --cert "$PKI/controller-replicator-0.pem" --key "$PKI/controller-replicator-0.key")
SLC=(--tlsv1.3 --cacert "$CA" --cert "$PKI/sled-$PEER.pem" --key "$PKI/sled-$PEER.key")

# start NAME tls|plain: like agent_start (lib.sh), but the TLS agent runs
# with the sled certificate instead of --insecure-plaintext.
start() {
    local name=$1 pf i sec
    if [ "$2" = tls ]; then
        sec=(--tls-ca "$CA" --tls-cert "$SCERT" --tls-key "$SKEY" --id "$SLED")
    else
        sec=(--insecure-plaintext)
    fi
    mkdir -p "$T/$name/A" "$T/$name/B"
    pf=$T/$name/ports.json
    rm -f "$pf"
    # shellcheck disable=SC2086
    env ${BENCH_AGENT_ENV:-} "$SLEDAGENT" --dataset "$T/$name/A" --dataset "$T/$name/B" \
        --listen 127.0.0.1:0 --depot-listen 127.0.0.1:0 \
        --port-file "$pf" --log-level warn "${sec[@]}" \
        >"$T/$name/agent.log" 2>&1 &
    AGENT_PID=$!
    BENCH_PIDS+=("$AGENT_PID")
    for i in $(seq 200); do
        [ -s "$pf" ] && break
        kill -0 "$AGENT_PID" 2>/dev/null || { cat "$T/$name/agent.log" >&2; die "agent $name exited"; }
        sleep 0.05
    done
    [ -s "$pf" ] || die "agent $name: no port file after 10 s"
    printf -v "${name}_PID" '%s' "$AGENT_PID"
    printf -v "${name}_API" '%s' "$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['api'])" "$pf")"
    printf -v "${name}_DEPOT" '%s' "$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['depot'])" "$pf")"
}

# cfg MODE PORT GEN HASH: PUT /artifacts-config, expect 204.
cfg() {
    local mode=$1 port=$2 gen=$3 h=$4 code s=http c=()
    [ "$mode" = tls ] && s=https c=("${CTL[@]}")
    printf '{"generation": %d, "artifacts": ["%s"]}\n' "$gen" "$h" >"$T/config.json"
    code=$(curl -s ${c[@]+"${c[@]}"} -o "$T/config.out" -w '%{http_code}' -X PUT \
        -H 'Content-Type: application/json' --data-binary @"$T/config.json" \
        "$s://127.0.0.1:$port/artifacts-config") || true
    [ "$code" = 204 ] || die "$mode PUT /artifacts-config: $code $(cat "$T/config.out" 2>/dev/null)"
}

# put MODE PORT GEN HASH FILE: PUT, expect 200; prints curl time_total.
put() {
    local mode=$1 out code s=http c=()
    [ "$mode" = tls ] && s=https c=("${CTL[@]}")
    out=$(curl -s ${c[@]+"${c[@]}"} -o "$T/put.out" -w '%{http_code} %{time_total}' -T "$5" \
        -H 'Content-Type: application/octet-stream' \
        "$s://127.0.0.1:$2/artifacts/$4?generation=$3") || true
    code=${out% *}
    [ "$code" = 200 ] || die "$mode PUT /artifacts/$4: $out $(cat "$T/put.out" 2>/dev/null)"
    echo "${out#* }"
}

SRC=$T/src.bin
log "creating $SIZE random bytes"
mkrandom "$SRC" "$SIZE"
cat "$SRC" >/dev/null
H=$(sha256_of "$SRC")

# --- 1. PUT, TLS vs plaintext -------------------------------------------
# one_put MODE: fresh agent, config, PUT, check, stop; prints B/s.
one_put() {
    local t
    start pa "$1"
    cfg "$1" "$pa_API" 1 "$H"
    t=$(put "$1" "$pa_API" 1 "$H" "$SRC")
    [ -f "$T/pa/A/$H" ] && [ -f "$T/pa/B/$H" ] || die "$1: artifact not on both datasets"
    agent_stop pa rm
    calc "$SIZE / $t"
}
p_r=() t_r=() put_ratios=()
for i in $(seq "$BENCH_RUNS"); do
    if [ $((i % 2)) = 1 ]; then
        p_r+=("$(one_put plain)")
        t_r+=("$(one_put tls)")
    else
        t_r+=("$(one_put tls)")
        p_r+=("$(one_put plain)")
    fi
    put_ratios+=("$(calc "${t_r[-1]} / ${p_r[-1]}")")
    log "put run $i: TLS $(mib "${t_r[-1]}") MiB/s, plaintext $(mib "${p_r[-1]}") MiB/s, ratio ${put_ratios[-1]}"
done

# --- 2. depot GET, agent TLS vs nginx TLS 1.3 ---------------------------
start ag tls
cfg tls "$ag_API" 1 "$H"
put tls "$ag_API" 1 "$H" "$SRC" >/dev/null
rm -f "$SRC"
FILE=$T/ag/A/$H
[ -f "$FILE" ] || die "artifact missing on dataset A"
cat "$FILE" >/dev/null

# nginx over TLS 1.3 with the sled's certificate and key, serving dataset A.
nginx_start "$T/ag/A" "$SCERT" "$SKEY" "$CA"

# cipher PORT: the negotiated protocol and cipher, for the report.
cipher() {
    timeout 5 openssl s_client -connect "127.0.0.1:$1" -CAfile "$CA" \
        -cert "$PKI/sled-$PEER.pem" -key "$PKI/sled-$PEER.key" </dev/null 2>/dev/null |
        awk '/^New,/ {sub(/^New, /, ""); print; exit}' || true
}
A_CIPHER=$(cipher "$ag_DEPOT")
N_CIPHER=$(cipher "$NGINX_PORT")
log "agent depot: $A_CIPHER; nginx: $N_CIPHER"

# get URL: prints bytes/s; checks the size. Both with the peer sled's
# client certificate (nginx does not ask for it).
get() {
    local out
    out=$(curl -s "${SLC[@]}" -o /dev/null -w '%{http_code} %{size_download} %{speed_download}' "$1") || true
    set -- $out
    [ "${1:-}" = 200 ] && [ "${2:-}" = "$SIZE" ] || die "GET: $out"
    echo "$3"
}
AURL=https://127.0.0.1:$ag_DEPOT/artifact/sha256/$H
NURL=https://127.0.0.1:$NGINX_PORT/$H
get "$AURL" >/dev/null # warm-up, both
get "$NURL" >/dev/null
a_r=() n_r=() get_ratios=()
for i in $(seq "$GET_RUNS"); do
    n_r+=("$(get "$NURL")")
    a_r+=("$(get "$AURL")")
    get_ratios+=("$(calc "${a_r[-1]} / ${n_r[-1]}")")
    log "get run $i: agent $(mib "${a_r[-1]}") MiB/s, nginx $(mib "${n_r[-1]}") MiB/s, ratio ${get_ratios[-1]}"
done
nginx_stop
agent_stop ag

tp=$(median "${t_r[@]}")
pp=$(median "${p_r[@]}")
put_ratio=$(calc "$tp / $pp")
a=$(median "${a_r[@]}")
n=$(median "${n_r[@]}")
get_ratio=$(calc "$a / $n")
echo "agent_tls: size=$SIZE put runs=$BENCH_RUNS get runs=$GET_RUNS"
echo "  kTLS: $KTLS"
echo "  agent depot TLS: $A_CIPHER"
echo "  nginx TLS:       $N_CIPHER"
echo "  PUT plaintext B/s:   ${p_r[*]} -> median $(mib "$pp") MiB/s"
echo "  PUT TLS B/s:         ${t_r[*]} -> median $(mib "$tp") MiB/s"
echo "  PUT per-run ratios:  ${put_ratios[*]}"
echo "  PUT ratio of medians: $put_ratio (goal >= 0.8)"
echo "  nginx TLS GET B/s:   ${n_r[*]} -> median $(mib "$n") MiB/s"
echo "  agent TLS GET B/s:   ${a_r[*]} -> median $(mib "$a") MiB/s"
echo "  GET per-run ratios:  ${get_ratios[*]}"
echo "  GET ratio of medians: $get_ratio (goal >= 0.9)"
summary tls "PUT MiB/s, TLS vs plaintext" "$(mib "$tp")" "$(mib "$pp")" "$put_ratio" ">=" 0.8
summary tls "depot GET MiB/s, TLS vs nginx TLS 1.3" "$(mib "$a")" "$(mib "$n")" "$get_ratio" ">=" 0.9
