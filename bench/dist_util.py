#!/usr/bin/env python3
# SPDX-License-Identifier: MPL-2.0
# bench/dist_util.py: where a swarm's upload time went, from a kept
# bench/dist_bench.sh run (BENCH_KEEP=1): the poll's once-a-second
# samples of every sled's /metrics (depot bytes sent, copy bytes received)
# and the agents' logs (429 answers). Prints, per 5 s window: the uplink
# use (depot bytes / (N x C x window)), the sleds whose uplink sent under
# a tenth of C, the mean receive rate of the copies not yet done (in C),
# and the 429s; then the totals.
# Usage: bench/dist_util.py DIR RATE [ID]   (ID: e.g. 32-1-plaintext)
import glob, json, os, sys, datetime

d, rate = sys.argv[1], float(sys.argv[2])
ids = [sys.argv[3]] if len(sys.argv) > 3 else sorted(
    os.path.basename(p)[5:-5] for p in glob.glob(d + "/poll-*.json"))
for rid in ids:
    poll = json.load(open("%s/poll-%s.json" % (d, rid)))
    m = poll.get("metrics") or []
    if len(m) < 2:
        print("%s: no metrics samples (run with BENCH_KEEP=1)" % rid)
        continue
    n = len(m[0][1])
    done = poll["sled_done"]
    # 429s per second since the first log line of the rack
    t429 = []
    t0 = None
    for f in glob.glob("%s/agent-%s-sled-*.log" % (d, rid)):
        for line in open(f):
            if '"status":429' not in line:
                continue
            ts = json.loads(line)["ts"]
            t429.append(datetime.datetime.strptime(
                ts, "%Y-%m-%dT%H:%M:%S.%fZ").timestamp())
    print("%s: N=%d T=%.1f s, %d samples, %d 429s" %
          (rid, n, poll["T"] or -1, len(m), len(t429)))
    print("  window   uplink  idle-sleds  recv/C(copies running)")
    w0 = 0
    tot_sent = 0.0
    for j in range(1, len(m)):
        if m[j][0] - m[w0][0] < 5 and j != len(m) - 1:
            continue
        dt = m[j][0] - m[w0][0]
        sent = [m[j][1][i] - m[w0][1][i] for i in range(n)]
        got = [m[j][2][i] - m[w0][2][i] for i in range(n)
               if done[i] is None or done[i] > m[j][0]]
        got = [g for g in got if g > 0]
        tot_sent += sum(sent)
        idle = sum(1 for s in sent if s < 0.1 * rate * dt)
        print("  %5.1f-%5.1f  %5.2f  %3d        %5.2f (%d)" % (
            m[w0][0], m[j][0], sum(sent) / (n * rate * dt), idle,
            (sum(got) / len(got) / rate / dt) if got else 0, len(got)))
        w0 = j
    span = m[-1][0] - m[0][0]
    print("  total: uplink use %.2f over %.1f s" %
          (tot_sent / (n * rate * span), span))
