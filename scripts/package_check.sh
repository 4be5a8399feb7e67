#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# CI check of the Debian packages (issue 15 item 4; cmake/Packaging.cmake):
# builds them in build-pkg (shipped binaries only), installs them with
# dpkg -i (apt-get install -f for missing dependencies), checks each
# installed binary's --version, man page, the conffiles, the user and the
# state directories, that the shipped config files parse, verifies the
# units with systemd-analyze verify (no running systemd needed), starts a
# 3-sled rack from the installed binaries (rack-sim), and removes the
# packages again (purge). Run as root on a Debian 12 machine where no
# rackdepot package is installed. Takes about a minute after the build.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${PACKAGE_BUILD_DIR:-build-pkg}
pkgs=(rackdepot-sledagent rackdepot-replicator rackdepot-tools)
version=$(sed -nE 's/^project\(rackdepot VERSION ([0-9.]+).*/\1/p' CMakeLists.txt)
[ -n "$version" ] || { echo "package_check: no version in CMakeLists.txt"; exit 1; }
[ "$(id -u)" = 0 ] || { echo "package_check: run as root (dpkg -i)"; exit 1; }
for p in "${pkgs[@]}"; do
  if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q installed; then
    echo "package_check: $p is already installed here; not touching it"; exit 1
  fi
done
fail() { echo "package_check: FAIL: $*" >&2; exit 1; }

echo "== package_check: build the packages ($build)"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" --target package >"$build.log" 2>&1 ||
  { tail -40 "$build.log"; fail "cmake --build --target package"; }
debs=()
for p in "${pkgs[@]}"; do
  f="$build/${p}_${version}_$(dpkg --print-architecture).deb"
  [ -f "$f" ] || fail "$f was not built"
  debs+=("$f")
done

# What the packages create and purge keeps (the rackdepot user, the state
# directories): removed again at the end if this run created them.
user_existed=0
getent passwd rackdepot >/dev/null && user_existed=1
state_existed=0
[ -e /var/lib/rackdepot ] && state_existed=1

work=$(mktemp -d "${TMPDIR:-/tmp}/package_check.XXXXXX")
chmod 0755 "$work" # rack-sim's PostgreSQL runs as postgres
cleanup() {
  if [ -n "${rack:-}" ] && [ -e "$rack/rack.json" ]; then
    env -u RACKDEPOT_BIN_DIR /usr/bin/rack-sim --dir "$rack" down --purge \
      >/dev/null 2>&1 || true
  fi
  dpkg --purge "${pkgs[@]}" >/dev/null 2>&1 || true
  if [ "$state_existed" = 0 ]; then
    for d in sledagent/a sledagent/b sledagent replicator/staging replicator ""; do
      rmdir "/var/lib/rackdepot/$d" 2>/dev/null || true
    done
  fi
  if [ "$user_existed" = 0 ] && getent passwd rackdepot >/dev/null; then
    userdel rackdepot 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

echo "== package_check: install"
export DEBIAN_FRONTEND=noninteractive
if ! dpkg -i "${debs[@]}" >"$work/dpkg.log" 2>&1; then
  apt-get install -f -y -qq --no-install-recommends >>"$work/dpkg.log" 2>&1 ||
    { cat "$work/dpkg.log"; fail "dpkg -i / apt-get install -f"; }
fi
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" | grep -q "install ok installed" ||
    { cat "$work/dpkg.log"; fail "$p is not installed"; }
done

echo "== package_check: binaries, man pages, conffiles"
for b in sledagent replicator rack-sim tuf-mkrepo; do
  out=$("/usr/bin/$b" --version) || fail "/usr/bin/$b --version exited $?"
  [ "$out" = "$b $version" ] || fail "/usr/bin/$b --version said '$out'"
  echo "$out"
  [ -s "/usr/share/man/man1/$b.1.gz" ] || fail "no man page for $b"
  zcat "/usr/share/man/man1/$b.1.gz" | grep -q "^\.TH" || fail "$b.1.gz is not a man page"
done
dpkg-query -W -f='${Conffiles}\n' rackdepot-sledagent | grep -q " /etc/rackdepot/sledagent.conf " ||
  fail "/etc/rackdepot/sledagent.conf is not a conffile"
dpkg-query -W -f='${Conffiles}\n' rackdepot-replicator | grep -q " /etc/rackdepot/replicator.json " ||
  fail "/etc/rackdepot/replicator.json is not a conffile"
getent passwd rackdepot >/dev/null || fail "no rackdepot user"
for d in /var/lib/rackdepot/sledagent/a /var/lib/rackdepot/sledagent/b /var/lib/rackdepot/replicator; do
  [ "$(stat -c %U "$d")" = rackdepot ] || fail "$d is missing or not rackdepot's"
done

echo "== package_check: the shipped config files parse"
# The sledagent's EnvironmentFile, as the unit expands it; --help last so
# every flag before it is parsed and nothing is started.
(
  set -a
  # shellcheck disable=SC1091
  . /etc/rackdepot/sledagent.conf
  set +a
  # shellcheck disable=SC2086
  /usr/bin/sledagent --dataset "$SLEDAGENT_DATASET_A" --dataset "$SLEDAGENT_DATASET_B" \
    $SLEDAGENT_OPTS --help >/dev/null
) || fail "sledagent rejects /etc/rackdepot/sledagent.conf"
# The replicator's --config: parsed, then the start stops at the database
# (none here), never at the config file.
rc=0
timeout 60 /usr/bin/replicator serve --config /etc/rackdepot/replicator.json \
  >"$work/serve.out" 2>&1 || rc=$?
if [ "$rc" != 1 ] || ! grep -q "replicator serve: database:" "$work/serve.out"; then
  cat "$work/serve.out"; fail "replicator serve --config (exit $rc)"
fi

echo "== package_check: systemd-analyze verify"
command -v systemd-analyze >/dev/null || fail "systemd-analyze missing (Debian: systemd)"
for u in rackdepot-sledagent rackdepot-replicator; do
  f=/lib/systemd/system/$u.service
  [ -f "$f" ] || fail "$f not installed"
  if ! grep -q '^Type=notify$' "$f" || ! grep -q '^WatchdogSec=' "$f"; then
    fail "$u: not Type=notify with WatchdogSec"
  fi
  # verify prints problems but may exit 0 for some; treat any output as one.
  if ! systemd-analyze verify "$f" >"$work/verify.out" 2>&1 || [ -s "$work/verify.out" ]; then
    cat "$work/verify.out"; fail "systemd-analyze verify $u.service"
  fi
  echo "$u.service: verified"
done

echo "== package_check: a rack from the installed binaries"
rack="$work/rack"
env -u RACKDEPOT_BIN_DIR /usr/bin/rack-sim up --sleds 3 --insecure-plaintext \
  --dir "$rack" >"$work/up.out" 2>&1 || { cat "$work/up.out"; fail "rack-sim up"; }
env -u RACKDEPOT_BIN_DIR /usr/bin/rack-sim --dir "$rack" status --json >"$work/status.json" ||
  fail "rack-sim status"
python3 - "$work/status.json" <<'PY' || fail "rack-sim status: the rack is not up from /usr/bin"
import json, os, sys
s = json.load(open(sys.argv[1]))
procs = [("sled", x) for x in s["sleds"]] + [("replicator", x) for x in s["replicators"]]
assert len(s["sleds"]) == 3 and len(s["replicators"]) >= 1, "wrong rack size"
for kind, x in procs:
    assert x["alive"], "%s %d is not alive" % (kind, x["index"])
    exe = os.readlink("/proc/%d/exe" % x["pid"])
    want = "/usr/bin/sledagent" if kind == "sled" else "/usr/bin/replicator"
    assert exe == want, "%s %d runs %s, not %s" % (kind, x["index"], exe, want)
print("rack from /usr/bin: %d sleds, %d replicator(s) alive" % (len(s["sleds"]), len(s["replicators"])))
PY
env -u RACKDEPOT_BIN_DIR /usr/bin/rack-sim --dir "$rack" down --purge >/dev/null ||
  fail "rack-sim down"

echo "== package_check: remove"
dpkg --purge "${pkgs[@]}" >"$work/purge.log" 2>&1 || { cat "$work/purge.log"; fail "dpkg --purge"; }
for b in sledagent replicator rack-sim tuf-mkrepo; do
  [ ! -e "/usr/bin/$b" ] || fail "/usr/bin/$b left behind"
done
echo "package_check: OK (rackdepot $version: ${pkgs[*]})"
