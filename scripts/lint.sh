#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# Lint, four checks; exits 1 if any fails.
# 1. Banned calls (STYLE.md): sprintf strcpy strcat strtok atoi atol gets,
#    and raw malloc/calloc/realloc/free outside common/mem.c.
# 2. Layer arrows (issue 8): the project #include lines of each layer name
#    only the layers it may use, as listed by the RD_LAYER_USES_<layer>
#    lines of cmake/Layers.cmake (the build enforces the same table):
#    common -> common; sledagent -> common, sledagent; replicator -> common,
#    replicator; sim -> common, sim. In those layers a project header is
#    included as "<layer>/path.h": no "..", no <...> form. tests/ and
#    bench/ may include anything.
# 3. No include cycle among the project's files (scripts/include_graph.sh).
# 4. One HTTP client: curl_easy_init and curl_multi_init only in
#    common/httpc*.
set -uo pipefail
cd "$(dirname "$0")/.."
status=0

# Tracked files and new ones not yet added (but not ignored ones).
all=$(git ls-files --cached --others --exclude-standard -- '*.c' '*.h' | sort -u)
[ -n "$all" ] || { echo "lint: no files"; exit 0; }

# 1. Banned calls.
files=$(printf '%s\n' "$all" | grep -v '^common/mem\.c$')
hits=$(grep -nE '(^|[^_a-zA-Z0-9.>])(sprintf|vsprintf|strcpy|strcat|strtok|atoi|atol|gets|malloc|calloc|realloc|free)[[:space:]]*\(' $files \
  | grep -vE '^[^:]+:[0-9]+:[[:space:]]*(\*|/\*)' )
if [ -n "$hits" ]; then
  echo "banned calls:"; echo "$hits"; status=1
else
  echo "lint: no banned calls"
fi

# 2. Layer arrows.
table=$(sed -nE 's/^[[:space:]]*set\(RD_LAYER_USES_([a-z]+)[[:space:]]+([a-z ]+)\)[[:space:]]*$/\1 \2/p' \
          cmake/Layers.cmake)
if [ -z "$table" ]; then
  echo "lint: no RD_LAYER_USES_<layer> lines in cmake/Layers.cmake"; exit 1
fi
layers=$(printf '%s\n' "$table" | awk '{print $1}' | tr '\n' ' ')
arrows=""
while read -r layer uses; do
  lf=$(printf '%s\n' "$all" | grep "^$layer/")
  [ -n "$lf" ] || continue
  out=$(grep -HnE '^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"]' $lf |
    awk -v layer="$layer" -v uses="$uses" -v layers="$layers tests bench" '
    BEGIN {
        n = split(uses, u, " ")
        for (i = 1; i <= n; i++) ok[u[i]] = 1
        n = split(layers, l, " ")
        for (i = 1; i <= n; i++) project[l[i]] = 1
        allowed = uses
        gsub(/ /, "/, ", allowed)
        allowed = allowed "/"
    }
    {
        where = $0
        sub(/:[[:space:]]*#.*$/, "", where)
        inc = $0
        sub(/^[^#]*#[[:space:]]*include[[:space:]]*/, "", inc)
        quoted = substr(inc, 1, 1) == "\""
        name = substr(inc, 2)
        sub(/[">].*$/, "", name)
        top = name
        sub(/\/.*$/, "", top)
        why = ""
        if (!quoted) {
            if (top in project && name ~ /\//)
                why = "a project header is included with quotes, as \"<layer>/path\""
        } else if (name ~ /(^|\/)\.\.(\/|$)/) {
            why = "no \"..\" in a project include"
        } else if (name !~ /\//) {
            why = "a project header is included as \"<layer>/path\""
        } else if (!(top in ok)) {
            why = layer "/ may include only " allowed
        }
        if (why != "")
            printf "%s: #include %s: %s\n", where, inc, why
    }')
  [ -n "$out" ] && arrows="$arrows$out"$'\n'
done <<<"$table"
if [ -n "$arrows" ]; then
  echo "layer arrows (cmake/Layers.cmake) broken:"; printf '%s' "$arrows"
  status=1
else
  echo "lint: layer arrows hold ($(printf '%s\n' "$table" |
    awk '{l=$1; $1=""; sub(/^ /, ""); gsub(/ /, ","); printf "%s%s -> %s", s, l, $0; s="; "}'))"
fi

# 3. Include cycles.
./scripts/include_graph.sh || status=1

# 4. One HTTP client (common/httpc*): no other file creates curl handles.
curl_hits=$(printf '%s\n' "$all" | grep -vE '^common/httpc(_loop|_internal)?\.[ch]$' \
  | xargs grep -nE '\bcurl_(easy|multi)_init[[:space:]]*\(' )
if [ -n "$curl_hits" ]; then
  echo "curl handles outside common/httpc:"; echo "$curl_hits"; status=1
else
  echo "lint: curl handles only in common/httpc"
fi

exit $status
