#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# The whole test suite: installs what is missing, builds, runs every ctest
# label (unit, integration, fault, e2e). With SANITIZE=address,undefined it
# builds and runs the same suite under ASan+UBSan.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/deps.sh"
dir=$("$root/scripts/build.sh")
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
cd "$dir"
ctest --output-on-failure -j"${CTEST_JOBS:-2}" "$@"
