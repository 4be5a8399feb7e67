#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# by_hand: README.md's "A rack by hand", run verbatim. Extracts the shell
# blocks marked <!-- by-hand-rack --> and <!-- by-hand-stop --> and runs the
# first with `set -e` (any failing command fails the test) in a fresh
# directory on five free ports below the ephemeral range, so it runs beside
# other tests; the second runs from an EXIT trap, whatever happened. Then
# checks what the README promises: both sleds registered and the
# repository on all of them. Exit 77 (skipped) when not root or without
# the postgres user (the block needs both).
# Usage: by_hand.sh SOURCE_DIR BIN_DIR
set -euo pipefail
src=$1 bin=$2

block() {
  awk -v mark="<!-- $1:" '
    index($0, mark) == 1 { armed = 1; next }
    armed && !inside && /^```sh$/ { inside = 1; next }
    inside && /^```$/ { exit }
    inside { print }' "$src/README.md"
}
rack=$(block by-hand-rack)
stop=$(block by-hand-stop)
if [ -z "$rack" ] || [ -z "$stop" ]; then
  echo "FAIL: no by-hand-rack or by-hand-stop block in $src/README.md"; exit 1
fi
if [ "$(id -u)" != 0 ] || ! id postgres >/dev/null 2>&1; then
  echo "SKIP: the README block runs as root with a postgres user"; exit 77
fi

# Five consecutive free ports in 20000..32767 (no ephemeral port there).
PORT=$(python3 - <<'PY'
import random, socket
for _ in range(200):
    base = random.randrange(20000, 32760)
    socks = []
    try:
        for p in range(base, base + 5):
            s = socket.socket()
            s.bind(("127.0.0.1", p))
            socks.append(s)
    except OSError:
        continue
    finally:
        for s in socks:
            s.close()
    print(base)
    break
PY
)
[ -n "$PORT" ] || { echo "FAIL: no five free ports"; exit 1; }
# The postgres user must reach $RACK: a private TMPDIR may not let it.
parent=${TMPDIR:-/tmp}
runuser -u postgres -- test -x "$parent" || parent=/tmp
RACK=$(mktemp -d "$parent/by-hand.XXXXXX")
export PATH=$bin:$PATH RACK PORT
cleanup() {
  local rc=$?
  set +e
  eval "$stop" >/dev/null 2>&1
  wait
  if [ "$rc" != 0 ]; then
    for f in "$RACK"/replicator.log "$RACK"/sled*/agent.log "$RACK"/pg/log; do
      [ -f "$f" ] && { echo "---- tail of $f"; tail -n 20 "$f"; }
    done
  fi
  rm -rf "$RACK"
  exit "$rc"
}
trap cleanup EXIT
echo "by_hand: RACK=$RACK PORT=$PORT"
set -x
eval "$rack"
set +x

# What the README says the reader sees.
replicator --json sled list > "$RACK/sleds.json"
python3 - "$RACK/sleds.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert len(d["sleds"]) == 2, d
PY
converged=0
for _ in $(seq 60); do
  replicator --json activate > /dev/null
  replicator --json status > "$RACK/status.json"
  if python3 - "$RACK/status.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
r = d["repos"]
ok = (len(r) == 1 and r[0]["system_version"] == "1.0.0"
      and r[0]["artifacts"] == 3 and r[0]["on_all_sleds"] == 3
      and all(s["state"] == "ok" and s["artifacts_complete"] == 3
              for s in d["sleds"]) and len(d["sleds"]) == 2)
sys.exit(0 if ok else 1)
PY
  then converged=1; break; fi
  sleep 0.5
done
[ "$converged" = 1 ] || { echo "FAIL: the repository did not reach both sleds"; cat "$RACK/status.json"; exit 1; }
echo "ok: README 'A rack by hand' ran verbatim; 2 sleds hold repository 1.0.0"
