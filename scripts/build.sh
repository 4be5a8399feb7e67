#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# Configures and builds rackdepot into build/ (or build-asan/ with
# SANITIZE=address,undefined). Prints the build directory on stdout.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
san=${SANITIZE:-}
dir="$root/build"
type=${BUILD_TYPE:-RelWithDebInfo}
if [ -n "$san" ]; then dir="$root/build-asan"; type=Debug; fi
cmake -S "$root" -B "$dir" -DCMAKE_BUILD_TYPE="$type" -DSANITIZE="$san" >&2
cmake --build "$dir" -j"$(nproc)" >&2
echo "$dir"
