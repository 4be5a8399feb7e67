#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# agent-demo.sh BINDIR: one sledagent on two temporary datasets, driven with
# curl: push a config, upload an artifact, list, fetch it back from the
# depot, show /copies and /metrics, then stop the agent with SIGTERM.
set -euo pipefail
bin=${1:?usage: agent-demo.sh BINDIR}
work=$(mktemp -d /tmp/agent-demo.XXXXXX)
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
step() { printf '\n== %s\n' "$*"; }

step "start sledagent on two datasets ($work/A, $work/B), ports picked by the OS"
mkdir -p "$work/A" "$work/B"
"$bin/sledagent" --dataset "$work/A" --dataset "$work/B" --listen 127.0.0.1:0 \
  --depot-listen 127.0.0.1:0 --port-file "$work/ports.json" --insecure-plaintext \
  2>"$work/agent.log" &
pid=$!
for _ in $(seq 1 100); do [ -s "$work/ports.json" ] && break; sleep 0.1; done
[ -s "$work/ports.json" ] || { cat "$work/agent.log"; echo "agent did not start"; exit 1; }
api=$(sed -E 's/.*"api": ([0-9]+).*/\1/' "$work/ports.json")
depot=$(sed -E 's/.*"depot": ([0-9]+).*/\1/' "$work/ports.json")
echo "agent API on 127.0.0.1:$api, depot on 127.0.0.1:$depot"

step "make a 4 MiB random artifact"
head -c $((4 * 1024 * 1024)) /dev/urandom >"$work/artifact.bin"
hash=$(sha256sum "$work/artifact.bin" | cut -d' ' -f1)
echo "sha256 $hash"

step "PUT /artifacts-config (generation 1 wants that artifact) -> 204"
curl -sS -o /dev/null -w 'HTTP %{http_code}\n' -X PUT -H 'Content-Type: application/json' \
  --data "{\"generation\": 1, \"artifacts\": [\"$hash\"]}" "http://127.0.0.1:$api/artifacts-config"

step "PUT /artifacts/{sha256}?generation=1 (streamed, verified, written to both datasets)"
curl -sS -w '\nHTTP %{http_code}\n' -X PUT --data-binary @"$work/artifact.bin" \
  "http://127.0.0.1:$api/artifacts/$hash?generation=1"

step "a stale controller (generation 0) is refused -> 409"
curl -sS -w '\nHTTP %{http_code}\n' -X PUT --data-binary @"$work/artifact.bin" \
  "http://127.0.0.1:$api/artifacts/$hash?generation=0"

step "GET /artifacts (count = datasets holding a verified copy)"
curl -sS "http://127.0.0.1:$api/artifacts"; echo

step "fetch it back from the depot and compare"
curl -sS -o "$work/back.bin" "http://127.0.0.1:$depot/artifact/sha256/$hash"
back=$(sha256sum "$work/back.bin" | cut -d' ' -f1)
[ "$back" = "$hash" ] && echo "depot copy matches: $back" || { echo "MISMATCH $back"; exit 1; }
echo -n "Range bytes=0-15 -> "; curl -sS -o /dev/null -w 'HTTP %{http_code}, %{size_download} bytes\n' \
  -H 'Range: bytes=0-15' "http://127.0.0.1:$depot/artifact/sha256/$hash"

step "copy-from-depot from itself (a real rack copies from a peer) and GET /copies"
curl -sS -w '\nHTTP %{http_code}\n' -X POST -H 'Content-Type: application/json' \
  --data "{\"depot_base_url\": \"http://127.0.0.1:$depot\"}" \
  "http://127.0.0.1:$api/artifacts/$hash/copy-from-depot?generation=1"
for _ in $(seq 1 50); do curl -sS "http://127.0.0.1:$api/copies" | grep -q running || break; sleep 0.1; done
curl -sS "http://127.0.0.1:$api/copies"; echo

step "GET /metrics (excerpt)"
curl -sS "http://127.0.0.1:$api/metrics" | grep -E '^sledagent_(http_requests_total|depot_bytes|copies)' | head -12

step "SIGTERM: clean shutdown"
kill -TERM "$pid"; wait "$pid" && echo "sledagent exited 0"; pid=""
echo; echo "last log lines:"; tail -n 3 "$work/agent.log"
