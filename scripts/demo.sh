#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# The main job. Runs `rack-sim demo` when it is built; until then, a single
# sledagent on two temporary datasets (scripts/agent-demo.sh).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/deps.sh"
dir=$("$root/scripts/build.sh")
if [ -x "$dir/bin/rack-sim" ]; then
  exec "$dir/bin/rack-sim" demo "$@"
fi
exec "$root/scripts/agent-demo.sh" "$dir/bin"
