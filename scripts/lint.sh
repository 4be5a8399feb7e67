#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# Banned calls (STYLE.md): sprintf strcpy strcat strtok atoi atol gets, and raw
# malloc/calloc/realloc/free outside common/mem.c; curl_easy_init and
# curl_multi_init outside common/httpc (the one HTTP client). Exits 1 on a hit.
set -uo pipefail
cd "$(dirname "$0")/.."
files=$(git ls-files '*.c' '*.h' | grep -v '^common/mem\.c$')
[ -n "$files" ] || { echo "lint: no files"; exit 0; }
hits=$(grep -nE '(^|[^_a-zA-Z0-9.>])(sprintf|vsprintf|strcpy|strcat|strtok|atoi|atol|gets|malloc|calloc|realloc|free)[[:space:]]*\(' $files \
  | grep -vE '^[^:]+:[0-9]+:[[:space:]]*(\*|/\*)' )
if [ -n "$hits" ]; then
  echo "banned calls:"; echo "$hits"; exit 1
fi
echo "lint: no banned calls"
# One HTTP client (common/httpc*): no other file creates curl handles.
curl_hits=$(git ls-files '*.c' '*.h' | grep -vE '^common/httpc(_loop|_internal)?\.[ch]$' \
  | xargs grep -nE '\bcurl_(easy|multi)_init[[:space:]]*\(' )
if [ -n "$curl_hits" ]; then
  echo "curl handles outside common/httpc:"; echo "$curl_hits"; exit 1
fi
echo "lint: curl handles only in common/httpc"
