#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# bench/agent_all.sh: run every sledagent benchmark in turn and print a
# summary table (one row per SUMMARY line). Each benchmark's full output is
# kept in OUTDIR (default: a temp dir, printed). Exit status 0 when all ran,
# whatever the verdicts (a missed goal is a finding, not a crash).
# Usage: bench/agent_all.sh [put rss get copy list]   (env as bench/lib.sh)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
benches=("$@")
[ ${#benches[@]} -gt 0 ] || benches=(put rss get copy list)
OUTDIR=${OUTDIR:-$(mktemp -d /var/tmp/rackdepot-bench-all.XXXXXX)}
mkdir -p "$OUTDIR"
echo "outputs in $OUTDIR" >&2
command -v column >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bsdextrautils >&2
failed=0
start=$(date +%s)
for b in "${benches[@]}"; do
    echo "=== agent_$b ===" >&2
    if ! "$here/agent_$b.sh" >"$OUTDIR/$b.out" 2>"$OUTDIR/$b.err"; then
        echo "agent_$b.sh failed (see $OUTDIR/$b.err)" >&2
        tail -5 "$OUTDIR/$b.err" >&2
        failed=1
    fi
    grep -v '^SUMMARY|' "$OUTDIR/$b.out" >&2
done
echo
echo "sledagent benchmarks, $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ), $(( $(date +%s) - start )) s"
{
    echo "bench|metric|agent|baseline|ratio|goal|verdict"
    for b in "${benches[@]}"; do
        sed -n 's/^SUMMARY|//p' "$OUTDIR/$b.out" 2>/dev/null
    done
} | column -t -s '|'
exit $failed
