#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# The include graph of the project's own files: every #include "..." in
# common/ sledagent/ replicator/ sim/ tests/ bench/, resolved to a file of
# the tree (as "<layer>/path" from the top, else relative to the including
# file; anything else is a system or third-party header and not a node).
# Fails, printing each cycle, if a file includes itself through others.
# Called by scripts/lint.sh.
#   scripts/include_graph.sh          check for cycles
#   scripts/include_graph.sh --edges  print the edges "from -> to" too
set -uo pipefail
cd "$(dirname "$0")/.."
mode=${1:-}
files=$(git ls-files --cached --others --exclude-standard -- \
          common sledagent replicator sim tests bench | grep -E '\.(c|h)$' | sort -u)
[ -n "$files" ] || { echo "include graph: no files"; exit 0; }

{
  printf '%s\n' "$files" | sed 's/^/F /'
  # "path:line:text" of every quoted include
  grep -HnE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' $files | sed 's/^/I /'
} | awk -v mode="$mode" '
function dirname(p,    i) {
    i = match(p, /\/[^\/]*$/)
    return i ? substr(p, 1, i - 1) : ""
}
# Remove "." and "dir/.." parts.
function normalize(p,    n, parts, out, k, i) {
    n = split(p, parts, "/")
    k = 0
    for (i = 1; i <= n; i++) {
        if (parts[i] == "." || parts[i] == "")
            continue
        if (parts[i] == ".." && k > 0 && out[k] != "..") {
            k--
            continue
        }
        out[++k] = parts[i]
    }
    p = ""
    for (i = 1; i <= k; i++)
        p = p (i > 1 ? "/" : "") out[i]
    return p
}
function visit(u, depth,    i, v, j, cyc) {
    color[u] = 1
    stack[depth] = u
    at[u] = depth
    for (i = 1; i <= nadj[u]; i++) {
        v = adj[u, i]
        if (color[v] == 1) {
            cyc = v
            for (j = at[v] + 1; j <= depth; j++)
                cyc = cyc " -> " stack[j]
            print "include cycle: " cyc " -> " v
            ncycles++
        } else if (color[v] == 0) {
            visit(v, depth + 1)
        }
    }
    color[u] = 2
}
$1 == "F" { known[$2] = 1; order[++nfiles] = $2; next }
$1 == "I" {
    line = substr($0, 3)
    # path:line:   #include "target"
    from = line
    sub(/:[0-9]+:.*$/, "", from)
    target = line
    sub(/^[^"]*"/, "", target)
    sub(/".*$/, "", target)
    to = normalize(target)
    if (!(to in known))
        to = normalize(dirname(from) "/" target)
    if (!(to in known))
        next
    if (!((from, to) in seen)) {
        seen[from, to] = 1
        adj[from, ++nadj[from]] = to
        if (mode == "--edges")
            print from " -> " to
    }
}
END {
    for (k = 1; k <= nfiles; k++)
        if (color[order[k]] == 0)
            visit(order[k], 1)
    if (ncycles) {
        print "include graph: " ncycles " cycle(s) among the project files above"
        exit 1
    }
    if (mode != "--edges")
        print "include graph: " nfiles " files, no cycle"
}'
