#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# Banned calls (STYLE.md): sprintf strcpy strcat strtok atoi atol gets, and raw
# malloc/calloc/realloc/free outside common/mem.c. Exits 1 on a hit.
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
