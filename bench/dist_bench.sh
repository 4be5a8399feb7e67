#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# bench/dist_bench.sh: distribution at scale (DESIGN.md 4.2, epidemic copies).
#
# Every sled's link is capped at C (`rack-sim up --rate-limit C`, which also
# caps the replicator when `replicator serve --help` lists --rate-limit).
# One signed repository of S bytes (K artifacts of S/K) is built once with
# tuf-mkrepo and uploaded to a fresh rack of N sleds, for each N. Measured:
# T(N), from the start of `replicator repo upload` to the first poll (every
# DIST_POLL_MS) at which every sled's GET /artifacts lists K artifacts with
# count 2. Baseline: the lower bound S/C (each sled must receive S bytes
# through its own link). Also: the controller's share of the bytes moved
# (PUT bytes / (PUT bytes + bytes served by sled depots)), and from the
# replicator's log and status: runs, waves, data requests open (max/mean),
# copies served by a sled that got the artifact in the same run (epidemic),
# time with no data request open.
#
# Goals (the issue): T(4) <= 2 S/C; T(32) / T(4) <= 1.5 (a controller that
# pushes every byte itself: 8); on mutual TLS, T(N) <= 1.1 x the same on
# plaintext (issue 9).
#
# Modes: each rack runs in every mode of DIST_MODES (rack-sim's default,
# mutual TLS, and `--insecure-plaintext`), the modes interleaved per run and
# their order alternated (run 1: tls, plaintext; run 2: plaintext, tls; ...),
# so a loaded machine weighs on both alike. The benchmark's own requests
# (polls, /metrics, status) go as the operator over TLS, on kept-alive
# connections in both modes. With two modes, T(N) tls/plaintext is printed.
#
# Link caps: a mode with the suffix -tc (tls-tc, plaintext-tc; issue 14)
# runs the rack on a real network (`rack-sim up --net netns --link-rate C`,
# root only): every sled's and the controller's veth capped by the kernel
# (tc htb, both directions) instead of the in-process token buckets of
# --rate-limit. With tls and tls-tc both measured, T(N) tc/tb is printed.
#
# Before the racks, the machine's own capacity is measured (sha256 of
# 256 MiB from page cache; two parallel fsync'd dd copies of it) and N x C
# printed against it: the links, not the machine, must be the bottleneck.
#
# Usage: bench/dist_bench.sh [N...]          (default: 4 8 16 32)
# Environment:
#   DIST_BIN        directory with rack-sim, replicator, sledagent, tuf-mkrepo
#                   (default build-dist/bin, built RelWithDebInfo if missing)
#   DIST_RATE       C, bytes/s per link (default 4194304 = 4 MiB/s)
#   DIST_ARTIFACTS  K (default 8)
#   DIST_ART_BYTES  bytes per artifact (default 4194304; S = K x this)
#   DIST_PIECE_SIZE piece size of the manifests (`rack-sim up --piece-size`,
#                   default 262144; 0: the replicator's default, 4 MiB). The
#                   links here are ~1000x slower than a rack's, so the piece
#                   is scaled down too: what matters is the time of one
#                   piece at C against S/C (4 MiB at 1 MiB/s is 4 s a hop;
#                   4 MiB at 10 Gb/s is 3 ms)
#   DIST_RUNS       racks per N and mode (default 1; the median T is kept)
#   DIST_MODES      modes, in run 1's order (default "tls plaintext"; also
#                   tls-tc, plaintext-tc: kernel link caps on a netns rack)
#   DIST_PERIOD     replicator activation period, s (default 2, rack-sim's)
#   DIST_POLL_MS    sled poll interval (default 200)
#   DIST_TIMEOUT    seconds per rack before giving up (default 300)
#   BENCH_TMPDIR    parent of the temp dir (default /var/tmp)
#   BENCH_KEEP=1    keep the temp dir (per-rack logs, every sled's agent.log,
#                   status, poll results, and every sled's depot and copy
#                   bytes sampled once a second: bench/dist_util.py DIR C
#                   prints the uplink use over time and the 429 count)
# Output: a table, then SUMMARY|dist|... lines (bench/README.md format).

set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

MIB=1048576
RATE=${DIST_RATE:-$((4 * MIB))}
K=${DIST_ARTIFACTS:-8}
ART=${DIST_ART_BYTES:-$((4 * MIB))}
S=$((K * ART))
RUNS=${DIST_RUNS:-1}
PERIOD=${DIST_PERIOD:-2}
POLL_MS=${DIST_POLL_MS:-200}
PIECE=${DIST_PIECE_SIZE:-262144}
TIMEOUT=${DIST_TIMEOUT:-300}
read -r -a MODES <<<"${DIST_MODES:-tls plaintext}"
SLEDS=("$@")
[ ${#SLEDS[@]} -gt 0 ] || SLEDS=(4 8 16 32)

find_bins() {
    BIN=${DIST_BIN:-$BENCH_ROOT/build-dist/bin}
    local b missing=0
    for b in rack-sim replicator sledagent tuf-mkrepo; do
        [ -x "$BIN/$b" ] || missing=1
    done
    if [ $missing = 1 ] && [ -z "${DIST_BIN:-}" ]; then
        need cmake
        log "building rack-sim sledagent replicator tuf-mkrepo (RelWithDebInfo) in build-dist"
        cmake -S "$BENCH_ROOT" -B "$BENCH_ROOT/build-dist" \
            -DCMAKE_BUILD_TYPE=RelWithDebInfo >&2
        cmake --build "$BENCH_ROOT/build-dist" -j2 \
            --target rack-sim sledagent replicator tuf-mkrepo >&2
    fi
    for b in rack-sim replicator sledagent tuf-mkrepo; do
        [ -x "$BIN/$b" ] || die "$BIN/$b is missing"
    done
}

# Every rack still on disk is taken down (one_rack runs in a subshell, so
# its own variables are not visible here).
cleanup() {
    local d
    for d in "${T:-/nonexistent}"/rack-*; do
        [ -f "$d/rack.json" ] &&
            { timeout 60 "$BIN/rack-sim" --dir "$d" down --purge >/dev/null 2>&1 || true; }
    done
    if [ -n "${T:-}" ] && [ -d "$T" ] && [ -z "${BENCH_KEEP:-}" ] && [ ! -e "$T/.keep" ]; then
        rm -rf "$T"
    fi
}

# capacity: sha256 and two-copy fsync'd write rates of this machine (MiB/s),
# into CAP_HASH and CAP_WRITE.
capacity() {
    local f=$T/cap.bin t0 t1
    mkrandom "$f" $((256 * MIB))
    cat "$f" >/dev/null
    t0=$(now); openssl dgst -sha256 "$f" >/dev/null; t1=$(now)
    CAP_HASH=$(calc "256 / ($t1 - $t0)")
    t0=$(now)
    dd if="$f" of="$T/cap.a" bs=1M conv=fsync status=none &
    dd if="$f" of="$T/cap.b" bs=1M conv=fsync status=none
    wait
    t1=$(now)
    CAP_WRITE=$(calc "256 / ($t1 - $t0)")
    rm -f "$f" "$T/cap.a" "$T/cap.b"
}

# poll RACKDIR T0 OUTJSON: poll every sled until all hold K artifacts with
# count 2 (or DIST_TIMEOUT); write per-sled completion times.
poll() {
    python3 - "$1" "$2" "$3" "$K" "$POLL_MS" "$TIMEOUT" <<'EOF'
import http.client, json, os, sys, time
from benchconn import conn
rack, t0, out, k, poll_ms, timeout = sys.argv[1], float(sys.argv[2]), \
    sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6])
sl = json.load(open(rack + "/rack.json"))["sleds"]
ports = [s["api_port"] for s in sl]
hosts = [s.get("address", "127.0.0.1") for s in sl]
conns = {}
done = {}
last_print = last_metrics = 0.0
samples = []
metrics = []
keep = bool(os.environ.get("BENCH_KEEP"))
while True:
    tick = time.time()
    held = []
    for i, p in enumerate(ports):
        n = 0
        try:
            if i not in conns:
                conns[i] = conn(p, 2, hosts[i])
            conns[i].request("GET", "/artifacts")
            r = conns[i].getresponse()
            body = r.read()
            if r.status == 200:
                n = sum(1 for v in json.loads(body)["list"].values() if v >= 2)
        except (OSError, ValueError, KeyError, http.client.HTTPException):
            conns.pop(i).close() if i in conns else None
        held.append(n)
        if n >= k and i not in done:
            done[i] = time.time() - t0
    el = time.time() - t0
    samples.append([round(el, 3), sum(held)])
    if keep and el - last_metrics >= 1:
        # BENCH_KEEP: each sled's depot bytes sent and copy bytes received,
        # once a second (bench/dist_util.py: uplink use over time)
        last_metrics = el
        row = [round(el, 3), [], []]
        for i in range(len(ports)):
            d = c = 0.0
            try:
                conns[i].request("GET", "/metrics")
                for line in conns[i].getresponse().read().decode().splitlines():
                    if line.startswith("sledagent_depot_bytes_total "):
                        d = float(line.split()[-1])
                    elif line.startswith("sledagent_copy_bytes_total "):
                        c = float(line.split()[-1])
            except (OSError, KeyError, http.client.HTTPException):
                conns.pop(i).close() if i in conns else None
            row[1].append(d)
            row[2].append(c)
        metrics.append(row)
    if el - last_print >= 2:
        last_print = el
        print("  t=%5.1fs copies held %d/%d, sleds done %d/%d"
              % (el, sum(held), k * len(ports), len(done), len(ports)),
              file=sys.stderr)
    if len(done) == len(ports) or el > timeout:
        break
    time.sleep(max(0.0, poll_ms / 1000.0 - (time.time() - tick)))
res = {"converged": len(done) == len(ports),
       "T": max(done.values()) if len(done) == len(ports) else None,
       "sled_done": [done.get(i) for i in range(len(ports))],
       "samples": samples, "metrics": metrics}
json.dump(res, open(out, "w"))
EOF
}

# analyse RACKDIR T0 STATUSJSON POLLJSON: one line of key=value figures from
# the replicator's log and status and the sleds' /metrics.
analyse() {
    python3 - "$1" "$2" "$3" "$4" "$ART" <<'EOF'
import datetime, http.client, json, sys
from benchconn import conn
rack, t0, stf, pollf, art = sys.argv[1], float(sys.argv[2]), sys.argv[3], \
    sys.argv[4], int(sys.argv[5])
st = json.load(open(stf))
poll = json.load(open(pollf))
rj = json.load(open(rack + "/rack.json"))
def ts(s):
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp() - t0
dead = []
def metric(i, port, name):
    try:
        c = conn(port, 5, rj["sleds"][i].get("address", "127.0.0.1"))
        c.request("GET", "/metrics")
        body = c.getresponse().read().decode()
        c.close()
    except (OSError, http.client.HTTPException):
        if i not in dead:
            dead.append(i)
        return 0
    tot = 0
    for line in body.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            tot += float(line.split()[-1])
    return tot
depot = sum(metric(i, s["api_port"], "sledagent_depot_bytes_total")
            for i, s in enumerate(rj["sleds"]))
copyb = sum(metric(i, s["api_port"], "sledagent_copy_bytes_total")
            for i, s in enumerate(rj["sleds"]))
lc = st["lifetime_counters"]
put = lc["put_ok"] * art
# log: runs that moved data, their waves, and every data request
plans, starts, ends = [], [], []
for line in open(rack + "/replicator-0/replicator.log"):
    try:
        e = json.loads(line)
    except ValueError:
        continue
    ev = e.get("event")
    if ev == "task_plan" and e.get("puts", 0) + e.get("copies", 0) \
            + e.get("recopies", 0) > 0:
        plans.append((ts(e["ts"]), e))
    elif ev == "sled_request" and e.get("operation") in ("put", "copy",
                                                         "recopy"):
        starts.append((ts(e["ts"]), e["sled"], e["operation"], e["hash"],
                       e.get("source", "")))
    elif ev == "sled_request_done" and e.get("operation") in ("put", "copy",
                                                              "recopy"):
        ends.append((ts(e["ts"]), e["sled"], e["operation"], e["hash"],
                     e.get("result")))
# match each start with the first later end of the same (sled, op, hash)
ivals, used = [], set()
for s in starts:
    for j, e in enumerate(ends):
        if j not in used and e[1:4] == s[1:4] and e[0] >= s[0]:
            used.add(j)
            ivals.append((s[0], e[0], s, e[4]))
            break
T = poll["T"] or poll["samples"][-1][0]
# in flight over [0, T]: max and time-weighted mean; time with none
ev = sorted([(a, 1) for a, b, _, _ in ivals] + [(b, -1) for a, b, _, _ in ivals])
cur = mx = 0; last = 0.0; area = 0.0; idle = 0.0
for t, d in ev:
    t = min(max(t, 0.0), T)
    area += cur * (t - last)
    if cur == 0:
        idle += t - last
    last = t
    cur += d
    mx = max(mx, cur)
if last < T:
    idle += T - last if cur == 0 else 0
mean = area / T if T else 0
# epidemic: copies whose source got that hash earlier in the same run
# (a request of this run ended ok on the source before the copy started)
got, got2 = {}, {}
for a, b, s, res in ivals:
    if res == "ok":
        got.setdefault((s[1], s[3]), []).append(b)
        if s[2] == "copy":
            got2.setdefault((s[1], s[3]), []).append(b)
runs_t = [p[0] for p in plans]
def run_of(t):
    r = -1
    for i, rt in enumerate(runs_t):
        if rt <= t:
            r = i
    return r
copies = [(a, s) for a, b, s, res in ivals if s[2] == "copy"]
def same_run(d, a, s):
    r = run_of(a)
    return any(b <= a and run_of(b) == r for b in d.get((s[4], s[3]), []))
epi = sum(1 for a, s in copies if same_run(got, a, s))
epi2 = sum(1 for a, s in copies if same_run(got2, a, s))
waves = [p[1]["waves"] for p in plans]
deferred = [p[1]["deferred"] for p in plans]
# first data request after the upload started, and the last one's end
first = min((a for a, _, _, _ in ivals), default=0)
out = {"put_bytes": put, "depot_bytes": int(depot), "copy_bytes": int(copyb),
       "share": put / (put + depot) if put + depot else 0,
       "put_ok": lc["put_ok"], "copy_ok": lc["copy_ok"],
       "put_err": lc["put_err"], "copy_err": lc["copy_err"],
       "data_runs": len(plans), "waves": "+".join(map(str, waves)) or "0",
       "deferred": "+".join(map(str, deferred)) or "0",
       "max_inflight": mx, "mean_inflight": round(mean, 2),
       "idle_s": round(idle, 2), "first_req_s": round(first, 2),
       "copies": len(copies), "epidemic": epi, "epidemic2": epi2,
       "sleds_not_answering": dead,
       "cfg": st.get("config", {})}
print(json.dumps(out))
EOF
}

# one_rack N RUN MODE: bring a rack up in MODE (tls, plaintext), upload,
# time convergence, take it down. Prints the analysis JSON with T added.
# Runs in a subshell: rack_client's exports stay in it.
one_rack() {
    local n=$1 run=$2 mode=$3 url t0 i res id=$1-$2-$3 flag=() cap
    local RACK=$T/rack-$id
    [ "${mode%-tc}" = plaintext ] && flag=(--insecure-plaintext)
    [ "$PIECE" != 0 ] && flag+=(--piece-size "$PIECE")
    cap=(--rate-limit "$RATE")
    [ "${mode%-tc}" != "$mode" ] && cap=(--net netns --link-rate "$RATE")
    log "N=$n run $run $mode: rack-sim up --sleds $n ${cap[*]} --period $PERIOD ${flag[*]}"
    timeout 180 "$BIN/rack-sim" up --sleds "$n" "${cap[@]}" \
        --period "$PERIOD" --no-blind-trust --dir "$RACK" ${flag[@]+"${flag[@]}"} \
        >"$T/up-$id.log" 2>&1 || { cat "$T/up-$id.log" >&2; die "rack-sim up failed"; }
    rack_client "$BIN/rack-sim" "$RACK"
    url=$REPLICATOR_URL
    # every sled registered before the upload (else the first run plans
    # for fewer sleds and a 'sled' activation follows)
    for i in $(seq 100); do
        [ "$(curl -s ${CURL_TLS[@]+"${CURL_TLS[@]}"} "$url/sled-agents" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["sleds"]))' 2>/dev/null)" = "$n" ] && break
        sleep 0.1
    done
    timeout 60 "$BIN/replicator" --url "$url" trust-root add "$T/root.json" >/dev/null
    t0=$(now)
    timeout 120 "$BIN/replicator" --url "$url" repo upload "$T/repo.zip" \
        >"$T/upload-$id.log" 2>&1 || { cat "$T/upload-$id.log" >&2; die "upload failed"; }
    poll "$RACK" "$t0" "$T/poll-$id.json"
    # was the controller's link capped? (the replicator's command line)
    python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); p=j["replicators"][0]["process"]["pid"]; print("tc" if j.get("net") == "netns" else "yes" if b"--rate-limit" in open("/proc/%d/cmdline" % p, "rb").read() else "no")' \
        "$RACK/rack.json" >"$T/ctrlcap-$id" 2>/dev/null || echo unknown >"$T/ctrlcap-$id"
    # the run that moved the data ends (its counters are added) after the
    # sleds converged: wait for a later, converged run (bounded)
    for i in $(seq 300); do
        curl -s ${CURL_TLS[@]+"${CURL_TLS[@]}"} "$url/background-tasks/tuf_artifact_replication?limit=4096" \
            >"$T/status-$id.json"
        python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d["state"] == "idle" and (d.get("last_run") or {}).get("converged") else 1)' \
            "$T/status-$id.json" 2>/dev/null && break
        sleep 0.2
    done
    res=$(analyse "$RACK" "$t0" "$T/status-$id.json" "$T/poll-$id.json")
    cp "$RACK/replicator-0/replicator.log" "$T/replicator-$id.log"
    # a sled that died: keep its log (the rack directory is purged)
    for i in $(seq 0 $((n - 1))); do
        curl -s ${CURL_TLS[@]+"${CURL_TLS[@]}"} -m 5 -o /dev/null "${url%%://*}://$(python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))["sleds"][int(sys.argv[2])]; a=s.get("address"); print(("[%s]" % a if a else "127.0.0.1") + ":%d" % s["api_port"])' "$RACK/rack.json" "$i")/artifacts" ||
            { cp "$RACK/sled-$i/agent.log" "$T/agent-$id-sled-$i.log"; touch "$T/.keep"; log "N=$n run $run: sled $i does not answer (log kept: $T/agent-$id-sled-$i.log)"; }
    done
    if [ -n "${BENCH_KEEP:-}" ]; then
        for i in $(seq 0 $((n - 1))); do
            cp "$RACK/sled-$i/agent.log" "$T/agent-$id-sled-$i.log" 2>/dev/null || true
        done
    fi
    timeout 60 "$BIN/rack-sim" --dir "$RACK" down --purge >/dev/null 2>&1 || true
    python3 -c 'import json,sys; a=json.loads(sys.argv[1]); p=json.load(open(sys.argv[2])); a["T"]=p["T"]; a["converged"]=p["converged"]; a["ctrl_cap"]=open(sys.argv[3]).read().strip(); print(json.dumps(a))' \
        "$res" "$T/poll-$id.json" "$T/ctrlcap-$id"
}

need curl
need openssl
need python3
find_bins
T=$(mktemp -d "${BENCH_TMPDIR:-/var/tmp}/rackdepot-bench-dist.XXXXXX")
chmod 755 "$T"
trap cleanup EXIT
trap 'exit 130' INT TERM
bench_py_conn "$T"
export PYTHONPATH=$T

# A hint only: each rack's line says whether its replicator ran with the cap
# (rack-sim passes --rate-limit to `replicator serve` too since it has one).
CTRL_CAP=no
"$BIN/replicator" serve --help 2>&1 | grep -q -- '--rate-limit' && CTRL_CAP=yes
BOUND=$(calc "$S / $RATE")
log "dist: S = $K x $ART = $S bytes, C = $RATE bytes/s, piece size $PIECE, S/C = ${BOUND}s, controller capped: $CTRL_CAP, modes: ${MODES[*]}, temp dir $T"
log "machine: $(machine)"
capacity
log "capacity: sha256 ${CAP_HASH} MiB/s, two fsync'd copies ${CAP_WRITE} MiB/s; largest N x C = $(calc "${SLEDS[-1]} * $RATE / $MIB") MiB/s"

"$BIN/tuf-mkrepo" --out "$T/repo.zip" --system-version 1.0.0 \
    --random "$K:$ART" --generate-key "$T/key.pem" --print-root "$T/root.json" \
    >"$T/mkrepo.log" 2>&1 || { cat "$T/mkrepo.log" >&2; die "tuf-mkrepo failed"; }

declare -A TN RES
for n in "${SLEDS[@]}"; do
    declare -A TS=()
    for run in $(seq "$RUNS"); do
        # run 1 in DIST_MODES' order, run 2 reversed, ...
        order=("${MODES[@]}")
        if [ $((run % 2)) = 0 ]; then
            order=()
            for ((m = ${#MODES[@]} - 1; m >= 0; m--)); do order+=("${MODES[m]}"); done
        fi
        for mode in "${order[@]}"; do
            r=$(one_rack "$n" "$run" "$mode")
            RES[$n-$run-$mode]=$r
            t=$(python3 -c 'import json,sys; t=json.loads(sys.argv[1])["T"]; print(t if t is not None else "nan")' "$r")
            log "N=$n run $run $mode: T = ${t}s; $r"
            if [ "$t" = nan ]; then
                log "N=$n run $run $mode: did not converge within ${TIMEOUT}s (left out of the median)"
            else
                TS[$mode]="${TS[$mode]:-} $t"
            fi
        done
    done
    for mode in "${MODES[@]}"; do
        TN[$n-$mode]=nan
        # shellcheck disable=SC2086
        [ -n "${TS[$mode]:-}" ] && TN[$n-$mode]=$(median ${TS[$mode]})
    done
    unset TS
done

NL=${SLEDS[-1]}
ratio() { python3 -c "import sys; a, b = float(sys.argv[1]), float(sys.argv[2]); print('%.6g' % (a / b))" "$1" "$2"; }
# dist_summary METRIC VALUE BASE RATIO GOAL: summary, or MISSED when a rack
# did not converge (ratio nan)
dist_summary() {
    if [ "$4" = nan ]; then
        printf 'SUMMARY|dist|%s|%s|%s|nan|<= %s|MISSED (did not converge)\n' "$1" "$2" "$3" "$5"
    else
        summary dist "$1" "$2" "$3" "$4" '<=' "$5"
    fi
}
for mode in "${MODES[@]}"; do
    T4=${TN[${SLEDS[0]}-$mode]}
    printf '\nDistribution (%s): S = %d bytes (%d x %d), C = %d bytes/s (%s MiB/s) per link, controller capped: %s\n' \
        "$mode" "$S" "$K" "$ART" "$RATE" "$(mib "$RATE")" "$CTRL_CAP"
    printf 'capacity: sha256 %s MiB/s, two-copy write %s MiB/s\n' "$CAP_HASH" "$CAP_WRITE"
    printf '%4s %8s %6s %7s %9s %6s %5s %6s %8s %11s %6s %7s\n' N 'T(N) s' 'S/C s' 'T/(S/C)' 'T(N)/T(N0)' ctrl% runs waves 'inflight' 'epi/epi2/copies' 'idle s' 'NxC/wr'
    for n in "${SLEDS[@]}"; do
        r=${RES[$n-1-$mode]}
        python3 - "$r" "$n" "${TN[$n-$mode]}" "$T4" "$BOUND" "$RATE" "$CAP_WRITE" <<'EOF'
import json, sys
a = json.loads(sys.argv[1]); n = int(sys.argv[2]); t = float(sys.argv[3])
t4 = float(sys.argv[4]); b = float(sys.argv[5]); rate = float(sys.argv[6])
cw = float(sys.argv[7])
print("%4d %8.2f %6.2f %7.2f %10.2f %5.1f%% %5d %6s %4d/%4.1f %3d/%3d/%-3d %6.2f %6.2f"
      % (n, t, b, t / b, t / t4, 100 * a["share"], a["data_runs"], a["waves"],
         a["max_inflight"], a["mean_inflight"], a["epidemic"], a["epidemic2"],
         a["copies"],
         a["idle_s"], n * rate / 1048576 / cw))
EOF
    done
done
printf '(inflight: max/mean data requests the replicator holds open (a copy nothing waits for ends when the sled accepts it, its transfer goes on); epi: copies served by a sled that got the artifact earlier in the same run (PUT or copy), epi2: by a copy, i.e. a second epidemic hop; idle: time with no data request open; NxC/wr: aggregate link rate over the two-copy write capacity)\n'
# per-run T of every mode, in the order run
for n in "${SLEDS[@]}"; do
    for run in $(seq "$RUNS"); do
        line="N=$n run $run:"
        for mode in "${MODES[@]}"; do
            line="$line $mode $(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["T"])' "${RES[$n-$run-$mode]}")"
        done
        printf '%s\n' "$line"
    done
done
for mode in "${MODES[@]}"; do
    T4=${TN[${SLEDS[0]}-$mode]}
    m=""
    [ ${#MODES[@]} -gt 1 ] && m=" $mode"
    dist_summary "T(${SLEDS[0]})/(S/C)$m" "$T4" "$BOUND" "$(ratio "$T4" "$BOUND")" 2
    [ ${#SLEDS[@]} -gt 1 ] &&
        dist_summary "T($NL)/T(${SLEDS[0]})$m" "${TN[$NL-$mode]}" "$T4" "$(ratio "${TN[$NL-$mode]}" "$T4")" 1.5
    for n in "${SLEDS[@]}"; do
        printf 'SUMMARY|dist|controller share N=%s%s|%s|-|-|-|-\n' "$n" "$m" \
            "$(python3 -c 'import json,sys; print("%.3f" % json.loads(sys.argv[1])["share"])' "${RES[$n-1-$mode]}")"
    done
done
# kernel link caps against token buckets, N by N (tls and tls-tc measured)
if [[ " ${MODES[*]} " == *" tls "* && " ${MODES[*]} " == *" tls-tc "* ]]; then
    for n in "${SLEDS[@]}"; do
        a=${TN[$n-tls-tc]} b=${TN[$n-tls]}
        if [ "$a" = nan ] || [ "$b" = nan ]; then
            printf 'SUMMARY|dist|T(%s) tc/tb|%s|%s|nan|-|-\n' "$n" "$a" "$b"
        else
            printf 'SUMMARY|dist|T(%s) tc/tb|%s|%s|%s|-|-\n' "$n" "$a" "$b" "$(ratio "$a" "$b")"
        fi
    done
fi
# TLS against plaintext, N by N (both modes measured)
if [[ " ${MODES[*]} " == *" tls "* && " ${MODES[*]} " == *" plaintext "* ]]; then
    for n in "${SLEDS[@]}"; do
        a=${TN[$n-tls]} b=${TN[$n-plaintext]}
        if [ "$a" = nan ] || [ "$b" = nan ]; then
            dist_summary "T($n) tls/plaintext" "$a" "$b" nan 1.1
        else
            dist_summary "T($n) tls/plaintext" "$a" "$b" "$(ratio "$a" "$b")" 1.1
        fi
    done
fi
