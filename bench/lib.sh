# SPDX-License-Identifier: MPL-2.0
# bench/lib.sh: helpers shared by the sledagent benchmarks (bench/agent_*.sh).
# Sourced, never run. Provides: tool installation on a fresh Debian 12, a
# temp dir on the chosen filesystem with a cleanup trap, starting/stopping
# sledagents on port 0 (--port-file), config/PUT helpers, wall-clock timing,
# medians, nginx in the foreground, and the one-line result format that
# bench/agent_all.sh collects:
#   SUMMARY|<bench>|<metric>|<agent>|<baseline>|<ratio>|<goal>|<verdict>
#
# Environment:
#   SLEDAGENT     the binary (default: build-bench/bin/sledagent, built
#                 RelWithDebInfo on demand)
#   BENCH_TMPDIR  parent of the temp dir (default /var/tmp; datasets and
#                 baselines share this filesystem)
#   BENCH_RUNS    measurements per benchmark (default 3; the median is kept)
#   BENCH_KEEP=1  keep the temp dir for inspection
#   BENCH_AGENT_ENV  "VAR=value ..." added to every agent's environment
#                 (diagnostics, e.g. MALLOC_ARENA_MAX=1 or an LD_PRELOAD)

set -euo pipefail

BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_RUNS=${BENCH_RUNS:-3}
GIB=$((1024 * 1024 * 1024))

log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# need CMD [PKG]: install PKG (default CMD) with apt-get when CMD is missing.
need() {
    local cmd=$1 pkg=${2:-$1}
    command -v "$cmd" >/dev/null 2>&1 && return 0
    log "installing $pkg"
    if [ -z "${BENCH_APT_UPDATED:-}" ]; then
        DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
        BENCH_APT_UPDATED=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$pkg" >&2
    command -v "$cmd" >/dev/null 2>&1 || die "$cmd still missing after installing $pkg"
}

# find_sledagent: set SLEDAGENT, building build-bench if needed.
find_sledagent() {
    if [ -n "${SLEDAGENT:-}" ]; then
        [ -x "$SLEDAGENT" ] || die "SLEDAGENT=$SLEDAGENT is not executable"
        return 0
    fi
    SLEDAGENT=$BENCH_ROOT/build-bench/bin/sledagent
    if [ ! -x "$SLEDAGENT" ]; then
        need cmake
        log "building sledagent (RelWithDebInfo) in build-bench"
        cmake -S "$BENCH_ROOT" -B "$BENCH_ROOT/build-bench" \
            -DCMAKE_BUILD_TYPE=RelWithDebInfo -DENABLE_WERROR=OFF >&2
        cmake --build "$BENCH_ROOT/build-bench" -j2 --target sledagent >&2
    fi
}

# bench_init NAME: tools, binary, temp dir $T, cleanup trap.
BENCH_PIDS=()
AGENT_ENV=()
bench_init() {
    BENCH_NAME=$1
    [ "$(id -u)" = 0 ] || log "warning: not root; apt-get installs will fail"
    need curl
    need openssl
    need sha256sum coreutils
    need python3
    find_sledagent
    T=$(mktemp -d "${BENCH_TMPDIR:-/var/tmp}/rackdepot-bench-$1.XXXXXX")
    trap bench_cleanup EXIT
    trap 'exit 130' INT TERM
    log "$BENCH_NAME: temp dir $T, $BENCH_RUNS runs"
}

bench_cleanup() {
    local p
    for p in "${BENCH_PIDS[@]}"; do
        kill "$p" 2>/dev/null || true
    done
    for p in "${BENCH_PIDS[@]}"; do
        timeout 20 tail --pid="$p" -f /dev/null 2>/dev/null || kill -9 "$p" 2>/dev/null || true
    done
    if [ -n "${T:-}" ] && [ -d "$T" ] && [ -z "${BENCH_KEEP:-}" ]; then
        rm -rf "$T"
    fi
}

# now: wall clock in seconds with ns resolution.
now() { date +%s.%N; }
# calc EXPR: floating point arithmetic.
calc() { python3 -c "print('%.6g' % ($1))"; }
# median V...: the median of the arguments.
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {
    if (NR % 2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2 }'; }
# max V...
maxof() { printf '%s\n' "$@" | sort -g | tail -1; }
# mib BYTES_PER_SEC: in MiB/s, 1 decimal.
mib() { python3 -c "print('%.1f' % ($1 / 1048576))"; }

# verdict RATIO OP GOAL: "met" or "MISSED".
verdict() {
    python3 -c "import sys; print('met' if $1 $2 $3 else 'MISSED')"
}

# summary BENCH METRIC AGENT BASELINE RATIO OP GOAL
summary() {
    local v
    v=$(verdict "$5" "$6" "$7")
    printf 'SUMMARY|%s|%s|%s|%s|%s|%s %s|%s\n' "$1" "$2" "$3" "$4" "$5" "$6" "$7" "$v"
}

# mkrandom FILE BYTES: incompressible file.
mkrandom() { head -c "$2" /dev/urandom >"$1"; }

# agent_start NAME [extra args]: run with the environment assignments in the
# array AGENT_ENV (if set) added; datasets $T/NAME/{A,B}; sets
# AGENT_PID, AGENT_API, AGENT_DEPOT (ports) and NAME_* copies of them.
agent_start() {
    local name=$1 pf i
    shift
    mkdir -p "$T/$name/A" "$T/$name/B"
    pf=$T/$name/ports.json
    rm -f "$pf"
    # shellcheck disable=SC2086
    env ${BENCH_AGENT_ENV:-} ${AGENT_ENV[@]+"${AGENT_ENV[@]}"} "$SLEDAGENT" --dataset "$T/$name/A" --dataset "$T/$name/B" \
        --listen 127.0.0.1:0 --depot-listen 127.0.0.1:0 \
        --port-file "$pf" --log-level warn --insecure-plaintext "$@" \
        >"$T/$name/agent.log" 2>&1 &
    AGENT_PID=$!
    BENCH_PIDS+=("$AGENT_PID")
    for i in $(seq 200); do
        [ -s "$pf" ] && break
        kill -0 "$AGENT_PID" 2>/dev/null || { cat "$T/$name/agent.log" >&2; die "agent $name exited"; }
        sleep 0.05
    done
    [ -s "$pf" ] || die "agent $name: no port file after 10 s"
    AGENT_API=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['api'])" "$pf")
    AGENT_DEPOT=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['depot'])" "$pf")
    printf -v "${name}_PID" '%s' "$AGENT_PID"
    printf -v "${name}_API" '%s' "$AGENT_API"
    printf -v "${name}_DEPOT" '%s' "$AGENT_DEPOT"
}

# agent_stop NAME [rm]: SIGTERM, wait (bounded), optionally delete its dir.
agent_stop() {
    local pidvar=${1}_PID
    local pid=${!pidvar}
    kill "$pid" 2>/dev/null || true
    timeout 30 tail --pid="$pid" -f /dev/null 2>/dev/null || kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    [ "${2:-}" = rm ] && rm -rf "${T:?}/$1"
    return 0
}

# put_config API_PORT GEN HASH...: PUT /artifacts-config, expect 204.
put_config() {
    local port=$1 gen=$2 code
    shift 2
    python3 -c 'import json,sys; print(json.dumps({"generation": int(sys.argv[1]), "artifacts": sys.argv[2:]}))' \
        "$gen" "$@" >"$T/config.json"
    code=$(curl -s -o "$T/config.out" -w '%{http_code}' -X PUT \
        -H 'Content-Type: application/json' --data-binary @"$T/config.json" \
        "http://127.0.0.1:$port/artifacts-config")
    [ "$code" = 204 ] || die "PUT /artifacts-config: $code $(cat "$T/config.out")"
}

# put_artifact API_PORT GEN HASH FILE: PUT, expect 200; prints seconds from
# the start of the request to the 200 response (curl time_total).
put_artifact() {
    local out code t
    out=$(curl -s -o "$T/put.out" -w '%{http_code} %{time_total}' -T "$4" \
        -H 'Content-Type: application/octet-stream' \
        "http://127.0.0.1:$1/artifacts/$3?generation=$2")
    code=${out% *}
    t=${out#* }
    [ "$code" = 200 ] || die "PUT /artifacts/$3: $code $(cat "$T/put.out")"
    echo "$t"
}

# sha256_of FILE
sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

# vmhwm_kib PID: peak RSS (VmHWM) in KiB.
vmhwm_kib() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status"; }

# nginx_start ROOT [CERT KEY CA]: serve ROOT on a loopback port (sendfile
# on, worker_processes 1, foreground); with CERT and KEY over TLS 1.3 only
# (CA verifies it in the readiness probe). Sets NGINX_PID, NGINX_PORT.
nginx_start() {
    local root=$1 cert=${2:-} key=${3:-} ca=${4:-} d=$T/nginx i
    local listen="" tls="" probe=(http)
    if [ -n "$cert" ]; then
        listen=" ssl"
        tls="ssl_protocols TLSv1.3; ssl_certificate $cert; ssl_certificate_key $key; ssl_verify_client off;"
        probe=(https --tlsv1.3 --cacert "$ca")
    fi
    need nginx
    mkdir -p "$d"
    NGINX_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    cat >"$d/nginx.conf" <<EOF
worker_processes 1;
daemon off;
master_process on;
user root;
pid $d/nginx.pid;
error_log $d/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    client_body_temp_path $d/body;
    proxy_temp_path $d/proxy;
    fastcgi_temp_path $d/fastcgi;
    uwsgi_temp_path $d/uwsgi;
    scgi_temp_path $d/scgi;
    default_type application/octet-stream;
    server {
        listen 127.0.0.1:$NGINX_PORT$listen;
        $tls
        root $root;
    }
}
EOF
    nginx -c "$d/nginx.conf" -p "$d" >"$d/stdout.log" 2>&1 &
    NGINX_PID=$!
    BENCH_PIDS+=("$NGINX_PID")
    for i in $(seq 100); do
        curl -s "${probe[@]:1}" -o /dev/null "${probe[0]}://127.0.0.1:$NGINX_PORT/" && return 0
        kill -0 "$NGINX_PID" 2>/dev/null || { cat "$d/error.log" "$d/stdout.log" >&2; die "nginx exited"; }
        sleep 0.05
    done
    die "nginx did not answer"
}

nginx_stop() {
    kill "$NGINX_PID" 2>/dev/null || true
    timeout 20 tail --pid="$NGINX_PID" -f /dev/null 2>/dev/null || kill -9 "$NGINX_PID" 2>/dev/null || true
    wait "$NGINX_PID" 2>/dev/null || true
}

# machine: one line describing the machine, for the report.
machine() {
    printf 'nproc=%s mem=%s disk=%s(%s) kernel=%s date=%s\n' "$(nproc)" \
        "$(free -g | awk '/^Mem:/ {print $2 "GiB"}')" \
        "$(df -P "${T:-/var/tmp}" | awk 'NR==2 {print $1}')" \
        "$(df -PT "${T:-/var/tmp}" | awk 'NR==2 {print $2}')" \
        "$(uname -r)" "$(date -u +%Y-%m-%dT%H:%MZ)"
}

# rack_client RACK_SIM RACKDIR: the operator's side of a rack-sim rack (either
# mode), from `rack-sim env`: REPLICATOR_URL; on TLS RACKDEPOT_TLS_CA/CERT/KEY
# exported (the replicator CLI and bench_py_conn read them), unset on
# plaintext; CURL_TLS, curl's arguments for the operator's certificate (empty
# on plaintext; the certificates name 127.0.0.1, so curl verifies as usual).
# RACKDIR absolute.
rack_client() {
    eval "$("$1" --dir "$2" env)"
    CURL_TLS=()
    if [ -n "${RACKDEPOT_TLS_CA:-}" ]; then
        CURL_TLS=(--tlsv1.3 --cacert "$RACKDEPOT_TLS_CA"
                  --cert "$RACKDEPOT_TLS_CERT" --key "$RACKDEPOT_TLS_KEY")
    fi
}

# bench_py_conn DIR: write DIR/benchconn.py, for the benchmarks' Python
# (PYTHONPATH=DIR; from benchconn import conn): conn(port, timeout[, host])
# is an http.client connection to host (127.0.0.1; an IPv6 literal without
# brackets on a netns rack):port, over mutual TLS 1.3 as the
# operator when RACKDEPOT_TLS_CA is set (rack_client), plain otherwise.
bench_py_conn() {
    cat >"$1/benchconn.py" <<'EOF'
import http.client, os, ssl
def conn(port, timeout, host="127.0.0.1"):
    ca = os.environ.get("RACKDEPOT_TLS_CA")
    if not ca:
        return http.client.HTTPConnection(host, port, timeout=timeout)
    ctx = ssl.create_default_context(cafile=ca)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_cert_chain(os.environ["RACKDEPOT_TLS_CERT"],
                        os.environ["RACKDEPOT_TLS_KEY"])
    return http.client.HTTPSConnection(host, port, timeout=timeout,
                                       context=ctx)
EOF
}
