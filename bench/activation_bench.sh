#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# bench/activation_bench.sh: one activation of the reconciliation task over
# N converged sleds (DESIGN.md 4.2; docs/REPLICATION.md). Owns nothing but
# its temp dir and the rack it brings up.
#
# A rack of N sleds (`rack-sim up --sleds N --period 3600`: no periodic run
# interferes) gets one small signed repository (K artifacts of A bytes,
# tuf-mkrepo), activated by hand until a run reports converged. Then, RUNS
# times, interleaved:
#   - `replicator --json activate` (POST activate?wait=1): its wall time,
#     and the run's own duration from the status (last_run.duration_ms:
#     from the run's start to its summary). The run is a config push and a
#     list per sled: nothing to copy (asserted: plan empty, converged);
#   - the baseline: N concurrent GET /artifacts over the N list URLs with
#     `curl --parallel --parallel-max N` (the unavoidable network part).
# Medians are printed with the ratio activation / baseline.
#
# Goal (the issue): an activation over 32 converged sleds under 100 ms; on
# mutual TLS (the replicator's connections to the sleds kept alive between
# runs) at most 1.5 x the same on plaintext (issue 9).
#
# Modes: one rack per mode of ACT_MODES (rack-sim's default, mutual TLS, and
# `--insecure-plaintext`), all up at once (period 3600: idle between
# measurements); each measurement round takes every mode in turn, the order
# alternated from round to round, so a loaded machine weighs on both alike.
# The baseline's curl presents the operator's certificate on TLS (a new
# handshake per sled per round: it is the network part, not a target).
# With two modes, the activation's tls/plaintext ratio is printed. Mode
# `dbha` is mutual TLS on `rack-sim up --db-ha` (pg_auto_failover, a
# synchronous standby: issue 11); with tls and dbha, the dbha/tls ratio is
# printed (goal <= 1.2).
#
# Usage: bench/activation_bench.sh
# Environment:
#   ACT_BIN       directory with rack-sim, replicator, sledagent, tuf-mkrepo
#                 (default build-task4-rel/bin, built RelWithDebInfo if missing)
#   ACT_SLEDS     N (default 32)
#   ACT_RUNS      measurements per mode (default 5; medians kept)
#   ACT_MODES     modes, in round 1's order (default "tls plaintext")
#   ACT_ARTIFACTS K (default 4), ACT_ART_BYTES A (default 65536)
#   BENCH_TMPDIR  parent of the temp dir (default /var/tmp)
#   BENCH_KEEP=1  keep the temp dir (rack logs, status documents)
# Output: a table, then SUMMARY|activation|... lines (bench/README.md).

set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

N=${ACT_SLEDS:-32}
RUNS=${ACT_RUNS:-5}
K=${ACT_ARTIFACTS:-4}
ART=${ACT_ART_BYTES:-65536}
read -r -a MODES <<<"${ACT_MODES:-tls plaintext}"

find_bins() {
    BIN=${ACT_BIN:-$BENCH_ROOT/build-task4-rel/bin}
    local b missing=0
    for b in rack-sim replicator sledagent tuf-mkrepo; do
        [ -x "$BIN/$b" ] || missing=1
    done
    if [ $missing = 1 ] && [ -z "${ACT_BIN:-}" ]; then
        need cmake
        log "building rack-sim sledagent replicator tuf-mkrepo (RelWithDebInfo) in build-task4-rel"
        cmake -S "$BENCH_ROOT" -B "$BENCH_ROOT/build-task4-rel" \
            -DCMAKE_BUILD_TYPE=RelWithDebInfo >&2
        cmake --build "$BENCH_ROOT/build-task4-rel" -j2 \
            --target rack-sim sledagent replicator tuf-mkrepo >&2
    fi
    for b in rack-sim replicator sledagent tuf-mkrepo; do
        [ -x "$BIN/$b" ] || die "$BIN/$b is missing"
    done
}

SUMS=()
cleanup() {
    local d
    for d in "${T:-/nonexistent}"/rack-*; do
        [ -f "$d/rack.json" ] &&
            { timeout 60 "$BIN/rack-sim" --dir "$d" down --purge >/dev/null 2>&1 || true; }
    done
    if [ -n "${T:-}" ] && [ -d "$T" ] && [ -z "${BENCH_KEEP:-}" ]; then
        rm -rf "$T"
    fi
}

# status FILE: the task status document into FILE.
status() {
    curl -sf ${CURL_TLS[@]+"${CURL_TLS[@]}"} "$URL/background-tasks/tuf_artifact_replication?limit=1" >"$1"
}

# field FILE EXPR: a Python expression over the status document `d`.
field() {
    python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"
}

# use MODE: the operator's side of that mode's rack (URL, TLS files).
use() {
    RACK=$T/rack-$1
    rack_client "$BIN/rack-sim" "$RACK"
    URL=$REPLICATOR_URL
}

# rack_up MODE: bring the rack of MODE up, upload the repository and
# activate by hand until it is converged.
rack_up() {
    local mode=$1 flag=() conv=0 ok i
    [ "$mode" = plaintext ] && flag=(--insecure-plaintext)
    [ "$mode" = dbha ] && flag=(--db-ha)
    timeout 180 "$BIN/rack-sim" up --sleds "$N" --period 3600 --no-blind-trust \
        --dir "$T/rack-$mode" ${flag[@]+"${flag[@]}"} >"$T/up-$mode.log" 2>&1 ||
        { cat "$T/up-$mode.log" >&2; die "rack-sim up ($mode) failed"; }
    use "$mode"
    python3 -c "import json,sys; [print('url = \"%s://127.0.0.1:%d/artifacts\"' % (sys.argv[2], s['api_port'])) for s in json.load(open(sys.argv[1]))['sleds']]" \
        "$RACK/rack.json" "${URL%%://*}" >"$T/lists-$mode.curl"
    for i in $(seq 200); do
        [ "$(curl -s ${CURL_TLS[@]+"${CURL_TLS[@]}"} "$URL/sled-agents" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["sleds"]))' 2>/dev/null)" = "$N" ] && break
        sleep 0.1
    done
    timeout 60 "$BIN/replicator" --url "$URL" trust-root add "$T/root.json" >/dev/null
    timeout 120 "$BIN/replicator" --url "$URL" repo upload "$T/repo.zip" \
        >"$T/upload-$mode.log" 2>&1 || { cat "$T/upload-$mode.log" >&2; die "upload ($mode) failed"; }
    # Converge: activate by hand until a run plans nothing and every sled
    # lists the K artifacts with count 2.
    for i in $(seq 60); do
        timeout 120 "$BIN/replicator" --url "$URL" --json activate >"$T/conv.json" 2>&1 || true
        if python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d.get("converged") else 1)' "$T/conv.json" 2>/dev/null; then
            ok=$(python3 - "$RACK/rack.json" "$K" <<'EOF'
import json, sys
from benchconn import conn
ports = [s["api_port"] for s in json.load(open(sys.argv[1]))["sleds"]]
k = int(sys.argv[2])
n = 0
for p in ports:
    c = conn(p, 5)
    c.request("GET", "/artifacts")
    l = json.loads(c.getresponse().read())["list"]
    c.close()
    n += len(l) == k and all(v == 2 for v in l.values())
print(n)
EOF
)
            if [ "$ok" = "$N" ]; then
                conv=$i
                break
            fi
        fi
        sleep 0.2
    done
    [ "$conv" != 0 ] || die "the $mode rack did not converge in 60 activations (see $T)"
    log "$mode: converged after $conv activations"
    # Warm-up (connections, page cache), not measured.
    timeout 60 "$BIN/replicator" --url "$URL" --json activate >/dev/null
    curl -s ${CURL_TLS[@]+"${CURL_TLS[@]}"} --no-progress-meter --parallel --parallel-max "$N" --config "$T/lists-$mode.curl" >/dev/null
}

# measure MODE R: one activation and one baseline on MODE's rack; appends the
# figures (ms) to RUNL, CLIL and BASEL[MODE].
measure() {
    local mode=$1 r=$2 t0 t1 run cli base
    use "$mode"
    t0=$(now)
    timeout 60 "$BIN/replicator" --url "$URL" --json activate >"$T/act-$mode-$r.json"
    t1=$(now)
    status "$T/status-$mode-$r.json"
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d["converged"] and d["plan"]["puts"] + d["plan"]["copies"] + d["plan"]["recopies"] == 0 and d["sleds_ok"] == int(sys.argv[2]) else 1)' \
        "$T/act-$mode-$r.json" "$N" || die "$mode run $r: not a converged no-op run over $N sleds (see $T/act-$mode-$r.json)"
    run=$(field "$T/status-$mode-$r.json" 'd["last_run"]["duration_ms"]')
    cli=$(calc "($t1 - $t0) * 1000")
    t0=$(now)
    curl -sf ${CURL_TLS[@]+"${CURL_TLS[@]}"} --no-progress-meter --parallel --parallel-max "$N" --config "$T/lists-$mode.curl" >"$T/lists-$mode-$r.out"
    t1=$(now)
    base=$(calc "($t1 - $t0) * 1000")
    log "$mode run $r: activation ${run} ms (run), ${cli} ms (replicator activate); baseline ${base} ms"
    RUNL[$mode]="${RUNL[$mode]:-} $run"
    CLIL[$mode]="${CLIL[$mode]:-} $cli"
    BASEL[$mode]="${BASEL[$mode]:-} $base"
}

need curl
need python3
find_bins
T=$(mktemp -d "${BENCH_TMPDIR:-/var/tmp}/rackdepot-bench-activation.XXXXXX")
chmod 755 "$T"
trap cleanup EXIT
trap 'exit 130' INT TERM
bench_py_conn "$T"
export PYTHONPATH=$T
log "activation: N=$N sleds, $RUNS runs per mode (${MODES[*]}), repo of $K x $ART bytes, temp dir $T"
log "machine: $(machine)"

"$BIN/tuf-mkrepo" --out "$T/repo.zip" --system-version 1.0.0 \
    --random "$K:$ART" --generate-key "$T/key.pem" --print-root "$T/root.json" \
    >"$T/mkrepo.log" 2>&1 || { cat "$T/mkrepo.log" >&2; die "tuf-mkrepo failed"; }
declare -A RUNL CLIL BASEL
for mode in "${MODES[@]}"; do
    rack_up "$mode"
done

for r in $(seq "$RUNS"); do
    order=("${MODES[@]}")
    if [ $((r % 2)) = 0 ]; then
        order=()
        for ((m = ${#MODES[@]} - 1; m >= 0; m--)); do order+=("${MODES[m]}"); done
    fi
    for mode in "${order[@]}"; do
        measure "$mode" "$r"
    done
done

declare -A MR MC
printf '\n%-34s %10s %10s %8s %s\n' "activation over $N converged sleds" "ms" "baseline" "ratio" "goal < 100 ms"
for mode in "${MODES[@]}"; do
    read -r -a runs <<<"${RUNL[$mode]}"
    read -r -a clis <<<"${CLIL[$mode]}"
    read -r -a bases <<<"${BASEL[$mode]}"
    mr=$(median "${runs[@]}")
    mc=$(median "${clis[@]}")
    mb=$(median "${bases[@]}")
    MR[$mode]=$mr MC[$mode]=$mc
    rr=$(calc "$mr / $mb")
    rc=$(calc "$mc / $mb")
    vr=$(python3 -c "print('met' if $mr < 100 else 'MISSED')")
    vc=$(python3 -c "print('met' if $mc < 100 else 'MISSED')")
    printf '%-34s %10s %10s %8s %s\n' "$mode: run duration (status)" "$mr" "$mb" "$rr" "$vr"
    printf '%-34s %10s %10s %8s %s\n' "$mode: replicator activate (wall)" "$mc" "$mb" "$rc" "$vc"
    printf '%s runs: %s | %s | baseline %s\n' "$mode" "${runs[*]}" "${clis[*]}" "${bases[*]}"
    m=""
    [ ${#MODES[@]} -gt 1 ] && m="_$mode"
    SUMS+=("$(printf 'SUMMARY|activation|run_ms_%s_sleds%s|%s|%s|%s|< 100 ms|%s' "$N" "$m" "$mr" "$mb" "$rr" "$vr")")
    SUMS+=("$(printf 'SUMMARY|activation|activate_cli_ms_%s_sleds%s|%s|%s|%s|< 100 ms|%s' "$N" "$m" "$mc" "$mb" "$rc" "$vc")")
done
echo
printf '%s\n' "${SUMS[@]}"
if [[ " ${MODES[*]} " == *" tls "* && " ${MODES[*]} " == *" dbha "* ]]; then
    summary activation "run_ms_${N}_sleds dbha/tls" "${MR[dbha]}" "${MR[tls]}" \
        "$(calc "${MR[dbha]} / ${MR[tls]}")" '<=' 1.2
    summary activation "activate_cli_ms_${N}_sleds dbha/tls" "${MC[dbha]}" "${MC[tls]}" \
        "$(calc "${MC[dbha]} / ${MC[tls]}")" '<=' 1.2
fi
if [[ " ${MODES[*]} " == *" tls "* && " ${MODES[*]} " == *" plaintext "* ]]; then
    summary activation "run_ms_${N}_sleds tls/plaintext" "${MR[tls]}" "${MR[plaintext]}" \
        "$(calc "${MR[tls]} / ${MR[plaintext]}")" '<=' 1.5
    summary activation "activate_cli_ms_${N}_sleds tls/plaintext" "${MC[tls]}" "${MC[plaintext]}" \
        "$(calc "${MC[tls]} / ${MC[plaintext]}")" '<=' 1.5
fi
