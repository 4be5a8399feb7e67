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
# Goal (the issue): an activation over 32 converged sleds under 100 ms.
#
# Usage: bench/activation_bench.sh
# Environment:
#   ACT_BIN       directory with rack-sim, replicator, sledagent, tuf-mkrepo
#                 (default build-task4-rel/bin, built RelWithDebInfo if missing)
#   ACT_SLEDS     N (default 32)
#   ACT_RUNS      measurements (default 5; medians kept)
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

cleanup() {
    if [ -n "${RACK:-}" ] && [ -f "$RACK/rack.json" ]; then
        timeout 60 "$BIN/rack-sim" --dir "$RACK" down --purge >/dev/null 2>&1 || true
    fi
    if [ -n "${T:-}" ] && [ -d "$T" ] && [ -z "${BENCH_KEEP:-}" ]; then
        rm -rf "$T"
    fi
}

# status FILE: the task status document into FILE.
status() {
    curl -sf "$URL/background-tasks/tuf_artifact_replication?limit=1" >"$1"
}

# field FILE EXPR: a Python expression over the status document `d`.
field() {
    python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"
}

need curl
need python3
find_bins
T=$(mktemp -d "${BENCH_TMPDIR:-/var/tmp}/rackdepot-bench-activation.XXXXXX")
chmod 755 "$T"
RACK=$T/rack
trap cleanup EXIT
trap 'exit 130' INT TERM
log "activation: N=$N sleds, $RUNS runs, repo of $K x $ART bytes, temp dir $T"
log "machine: $(machine)"

"$BIN/tuf-mkrepo" --out "$T/repo.zip" --system-version 1.0.0 \
    --random "$K:$ART" --generate-key "$T/key.pem" --print-root "$T/root.json" \
    >"$T/mkrepo.log" 2>&1 || { cat "$T/mkrepo.log" >&2; die "tuf-mkrepo failed"; }
timeout 180 "$BIN/rack-sim" up --sleds "$N" --period 3600 --no-blind-trust \
    --dir "$RACK" >"$T/up.log" 2>&1 || { cat "$T/up.log" >&2; die "rack-sim up failed"; }
URL=$(python3 -c "import json,sys; print('http://127.0.0.1:%d' % json.load(open(sys.argv[1]))['replicators'][0]['port'])" "$RACK/rack.json")
python3 -c "import json,sys; [print('url = \"http://127.0.0.1:%d/artifacts\"' % s['api_port']) for s in json.load(open(sys.argv[1]))['sleds']]" \
    "$RACK/rack.json" >"$T/lists.curl"
for i in $(seq 200); do
    [ "$(curl -s "$URL/sled-agents" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["sleds"]))' 2>/dev/null)" = "$N" ] && break
    sleep 0.1
done
timeout 60 "$BIN/replicator" --url "$URL" trust-root add "$T/root.json" >/dev/null
timeout 120 "$BIN/replicator" --url "$URL" repo upload "$T/repo.zip" \
    >"$T/upload.log" 2>&1 || { cat "$T/upload.log" >&2; die "upload failed"; }

# Converge: activate by hand until a run plans nothing and every sled
# lists the K artifacts with count 2.
conv=0
for i in $(seq 60); do
    timeout 120 "$BIN/replicator" --url "$URL" --json activate >"$T/conv.json" 2>&1 || true
    if python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d.get("converged") else 1)' "$T/conv.json" 2>/dev/null; then
        ok=$(python3 - "$RACK/rack.json" "$K" <<'EOF'
import http.client, json, sys
ports = [s["api_port"] for s in json.load(open(sys.argv[1]))["sleds"]]
k = int(sys.argv[2])
n = 0
for p in ports:
    c = http.client.HTTPConnection("127.0.0.1", p, timeout=5)
    c.request("GET", "/artifacts")
    l = json.loads(c.getresponse().read())["list"]
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
[ "$conv" != 0 ] || die "the rack did not converge in 60 activations (see $T)"
log "converged after $conv activations"

# Warm-up (connections, page cache), not measured.
timeout 60 "$BIN/replicator" --url "$URL" --json activate >/dev/null
curl -s --no-progress-meter --parallel --parallel-max "$N" --config "$T/lists.curl" >/dev/null

RUN_MS=() CLI_MS=() BASE_MS=()
for r in $(seq "$RUNS"); do
    t0=$(now)
    timeout 60 "$BIN/replicator" --url "$URL" --json activate >"$T/act-$r.json"
    t1=$(now)
    status "$T/status-$r.json"
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d["converged"] and d["plan"]["puts"] + d["plan"]["copies"] + d["plan"]["recopies"] == 0 and d["sleds_ok"] == int(sys.argv[2]) else 1)' \
        "$T/act-$r.json" "$N" || die "run $r: not a converged no-op run over $N sleds (see $T/act-$r.json)"
    run=$(field "$T/status-$r.json" 'd["last_run"]["duration_ms"]')
    cli=$(calc "($t1 - $t0) * 1000")
    t0=$(now)
    curl -sf --no-progress-meter --parallel --parallel-max "$N" --config "$T/lists.curl" >"$T/lists-$r.out"
    t1=$(now)
    base=$(calc "($t1 - $t0) * 1000")
    log "run $r: activation ${run} ms (run), ${cli} ms (replicator activate); baseline ${base} ms"
    RUN_MS+=("$run") CLI_MS+=("$cli") BASE_MS+=("$base")
done

mr=$(median "${RUN_MS[@]}")
mc=$(median "${CLI_MS[@]}")
mb=$(median "${BASE_MS[@]}")
rr=$(calc "$mr / $mb")
rc=$(calc "$mc / $mb")
vr=$(python3 -c "print('met' if $mr < 100 else 'MISSED')")
vc=$(python3 -c "print('met' if $mc < 100 else 'MISSED')")
printf '\n%-34s %10s %10s %8s %s\n' "activation over $N converged sleds" "ms" "baseline" "ratio" "goal < 100 ms"
printf '%-34s %10s %10s %8s %s\n' "run duration (status)" "$mr" "$mb" "$rr" "$vr"
printf '%-34s %10s %10s %8s %s\n' "replicator activate (wall)" "$mc" "$mb" "$rc" "$vc"
printf 'runs: %s | %s | baseline %s\n\n' "${RUN_MS[*]}" "${CLI_MS[*]}" "${BASE_MS[*]}"
printf 'SUMMARY|activation|run_ms_%s_sleds|%s|%s|%s|< 100 ms|%s\n' "$N" "$mr" "$mb" "$rr" "$vr"
printf 'SUMMARY|activation|activate_cli_ms_%s_sleds|%s|%s|%s|< 100 ms|%s\n' "$N" "$mc" "$mb" "$rc" "$vc"
