#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# Installs the Debian 12 packages rackdepot builds, tests and runs with,
# skipping the apt round trip when everything is already there.
set -euo pipefail

PKGS=(build-essential cmake pkg-config git ca-certificates curl
      libevent-dev libcurl4-openssl-dev libpq-dev libssl-dev zlib1g-dev
      libzip-dev libjansson-dev libcmocka-dev
      libsystemd-dev  # common/sdnotify.c (Type=notify units)
      help2man systemd  # man pages; systemd-analyze (scripts/package_check.sh)
      postgresql postgresql-client procps zip unzip
      # rack-sim --db-ha (issue 11): pg_auto_failover monitor and keepers
      postgresql-15-auto-failover pg-auto-failover-cli util-linux
      iproute2 nftables  # rack-sim --net netns (docs/RACK-SIM.md)
      python3-jsonschema  # tests/integration/omicron, tests/openapi
      chromium chromium-driver python3-selenium) # tests/browser
if [ "${RACKDEPOT_BENCH_DEPS:-0}" = 1 ]; then
  PKGS+=(nginx wrk)
fi

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
echo "deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# postgresql's post-install starts a cluster service where systemd runs;
# rackdepot never uses it (tests and rack-sim run their own initdb).
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
