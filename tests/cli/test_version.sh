#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# test_version: every binary answers --version with "<binary> <version>"
# (the one project version, given by ctest as $1), exits 0 and writes
# nothing on stderr. Usage: test_version.sh BIN_DIR VERSION
set -u
bin=$1 want=$2 status=0
for b in sledagent replicator rack-sim tuf-mkrepo; do
    out=$("$bin/$b" --version 2>"${TMPDIR:-/tmp}/version.$$.err")
    rc=$?
    err=$(cat "${TMPDIR:-/tmp}/version.$$.err")
    rm -f "${TMPDIR:-/tmp}/version.$$.err"
    if [ "$rc" -ne 0 ]; then
        echo "FAIL: $b --version exited $rc"; status=1
    fi
    if [ "$out" != "$b $want" ]; then
        echo "FAIL: $b --version printed '$out', want '$b $want'"; status=1
    fi
    if [ -n "$err" ]; then
        echo "FAIL: $b --version wrote on stderr: $err"; status=1
    fi
done
[ "$status" -eq 0 ] && echo "ok: 4 binaries print their name and $want"
exit $status
