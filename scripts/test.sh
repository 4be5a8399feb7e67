#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# The whole test suite: installs what is missing, builds, runs every ctest
# label (unit, integration, fault, e2e). With SANITIZE=address,undefined it
# builds and runs the same suite under ASan+UBSan. Ends with the list of
# the tests that did not run (skipped with exit code 77, or not runnable)
# and why, read from ctest's JUnit report; the exit status is ctest's.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/deps.sh"
dir=$("$root/scripts/build.sh")
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
cd "$dir"
junit="$dir/Testing/test-results.xml"
rm -f "$junit"
status=0
ctest --output-on-failure -j"${CTEST_JOBS:-2}" --output-junit "$junit" "$@" ||
  status=$?
if [ -f "$junit" ]; then
  # A testcase with status="notrun": its name, then the first "SKIP: "
  # line of its output (testutil_note_skip), else ctest's message.
  awk '
    /<testcase / {
      name = $0; sub(/.*<testcase name="/, "", name); sub(/".*/, "", name)
      notrun = ($0 ~ /status="notrun"/); why = ""; msg = ""; next
    }
    notrun && /<skipped message="/ {
      msg = $0; sub(/.*<skipped message="/, "", msg); sub(/"\/>.*/, "", msg)
    }
    notrun && why == "" && /SKIP: / { why = $0; sub(/.*SKIP: /, "", why) }
    /<\/testcase>/ {
      if (notrun) { n++; line[n] = "  " name ": " (why != "" ? why : msg) }
      notrun = 0
    }
    END {
      if (n == 0) { print "scripts/test.sh: no test was skipped"; exit }
      print "scripts/test.sh: " n " test(s) skipped or not run:"
      for (i = 1; i <= n; i++) print line[i]
    }' "$junit"
else
  echo "scripts/test.sh: ctest wrote no report ($junit): skipped tests unknown"
fi
exit "$status"
