/* SPDX-License-Identifier: MPL-2.0 */
/*
 * rack_net: namespaces, veths, bridge and addresses of a netns rack. See
 * rack_net.h. Main thread only (rack_net_enter: a forked child).
 */
#include "sim/rack_net.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/err.h"
#include "common/sha256.h"
#include "sim/rack_state.h"
#include "sim/rack_up.h"

#define NETNS_DIR "/run/netns"
#define NET_CMD_TIMEOUT_MS 20000
#define NET_MAX_ARGS 48

static void dir_hash(struct sha256 *h, const struct rack *r)
{
    if (sha256_digest(h, r->dir, strlen(r->dir)) < 0)
        memset(h, 0, sizeof(*h));
}

void rack_net_prefix(char out[RACK_NET_PFX_LEN + 1], const struct rack *r)
{
    struct sha256 h;

    dir_hash(&h, r);
    snprintf(out, RACK_NET_PFX_LEN + 1, "rs%02x%02x%02x%02x", h.b[0], h.b[1],
             h.b[2], h.b[3]);
}

/* "fdXX:XXXX:XXXX": the first 48 bits of the rack's ULA prefix. */
static void ula(char out[24], const struct rack *r)
{
    struct sha256 h;

    dir_hash(&h, r);
    /* Canonical text (RFC 5952: no leading zeros in a group). */
    snprintf(out, 24, "%x:%x:%x", 0xfd00u | h.b[4],
             (unsigned)h.b[5] << 8 | h.b[6], (unsigned)h.b[7] << 8 | h.b[8]);
}

void rack_net_prefix48(char *out, size_t cap, const struct rack *r)
{
    char u[24];

    ula(u, r);
    snprintf(out, cap, "%s::/48", u);
}

void rack_net_ns(char *out, size_t cap, const struct rack *r, char kind,
                 size_t i)
{
    char p[RACK_NET_PFX_LEN + 1];

    rack_net_prefix(p, r);
    if (kind == 'k')
        snprintf(out, cap, "%s-rack", p);
    else if (kind == 'd')
        snprintf(out, cap, "%s-db", p);
    else
        snprintf(out, cap, "%s-%c%zu", p, kind, i);
}

/* The member's /64 (the fourth group of the address). */
static unsigned subnet(char kind, size_t i)
{
    switch (kind) {
    case 's': return 0x101 + (unsigned)i;
    case 'r': return 0x201 + (unsigned)i;
    case 'd': return 0x301;
    default: return 0x1; /* 'h', the host end */
    }
}

void rack_net_addr(char *out, size_t cap, const struct rack *r, char kind,
                   size_t i)
{
    char u[24];

    ula(u, r);
    snprintf(out, cap, "%s:%x::1", u, subnet(kind, i));
}

void rack_net_host_link(char *out, size_t cap, const struct rack *r)
{
    char p[RACK_NET_PFX_LEN + 1];

    rack_net_prefix(p, r);
    snprintf(out, cap, "%s-h", p);
}

void rack_member_host(char *out, size_t cap, const struct rack *r, char kind,
                      size_t i, bool bracket)
{
    char a[RACK_NET_ADDR_MAX];

    if (!r->netns) {
        snprintf(out, cap, "127.0.0.1");
        return;
    }
    rack_net_addr(a, sizeof(a), r, kind, i);
    snprintf(out, cap, bracket ? "[%s]" : "%s", a);
}

/* Path of tool ("ip", "tc") in the usual places, "" if none. */
static void tool_path(char out[64], const char *tool)
{
    static const char *const dirs[] = {"/usr/sbin", "/sbin", "/usr/bin",
                                       "/bin"};

    for (size_t d = 0; d < sizeof(dirs) / sizeof(dirs[0]); d++) {
        snprintf(out, 64, "%s/%s", dirs[d], tool);
        if (access(out, X_OK) == 0)
            return;
    }
    out[0] = '\0';
}

int rack_net_check(struct err *err)
{
    char ip[64], tc[64];

    if (geteuid() != 0)
        return err_set(err, ERR_INVAL, "--net netns needs root (network "
                       "namespaces, veth and tc); as another user the "
                       "loopback rack (the default, --net loopback) is the "
                       "only mode");
    tool_path(ip, "ip");
    tool_path(tc, "tc");
    if (!ip[0] || !tc[0])
        return err_set(err, ERR_INVAL, "--net netns needs `ip` and `tc` "
                       "(Debian package iproute2; scripts/deps.sh)");
    return 0;
}

int rack_net_run(const struct rack *r, const char *tool, struct err *err,
                 const char *fmt, ...)
{
    char line[1024], path[64], log[PATH_MAX + 16];
    char *argv[NET_MAX_ARGS], *save = NULL, *tok;
    va_list ap;
    int n = 0, code = 0, rc;
    FILE *f;

    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    tool_path(path, tool);
    if (!path[0])
        return err_set(err, ERR_IO, "%s: not installed (iproute2)", tool);
    snprintf(log, sizeof(log), "%s/net.log", r->dir);
    f = fopen(log, "a");
    if (f) {
        fprintf(f, "+ %s %s\n", tool, line);
        fclose(f);
    }
    {
        char copy[sizeof(line)];

        memcpy(copy, line, sizeof(copy));
        argv[n++] = path;
        for (tok = strtok_r(copy, " ", &save); tok && n < NET_MAX_ARGS - 1;
             tok = strtok_r(NULL, " ", &save))
            argv[n++] = tok;
        argv[n] = NULL;
        rc = rack_run(&code, argv, log, NET_CMD_TIMEOUT_MS, err);
    }
    if (rc == 0 && code != 0)
        rc = err_set(err, ERR_IO, "`%s %s` exited %d (see %s)", tool, line,
                     code, log);
    return rc;
}

int rack_net_enter(const char *name)
{
    char path[sizeof(NETNS_DIR) + RACK_NET_NAME_MAX + 2];
    size_t a = sizeof(NETNS_DIR) - 1, b = strlen(name);
    int fd, rc;

    if (b > RACK_NET_NAME_MAX) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(path, NETNS_DIR, a);
    path[a] = '/';
    memcpy(path + a + 1, name, b + 1);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    rc = setns(fd, CLONE_NEWNET);
    close(fd);
    return rc;
}

int rack_net_within(const char *name, int (*fn)(void *arg), void *arg,
                    struct err *err)
{
    int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC), rc;

    if (self < 0)
        return err_set(err, ERR_IO, "open /proc/self/ns/net: %s",
                       strerror(errno));
    if (rack_net_enter(name) < 0) {
        rc = err_set(err, ERR_IO, "cannot enter namespace %s: %s", name,
                     strerror(errno));
        close(self);
        return rc;
    }
    rc = fn(arg);
    if (setns(self, CLONE_NEWNET) < 0 && rc == 0)
        rc = err_set(err, ERR_IO, "cannot return to the root namespace: %s",
                     strerror(errno));
    close(self);
    return rc;
}

/* rack_net_within: no IPv6 in the rack namespace at all (the bridge
 * forwards frames; it needs no address, and gets no route). */
static int rack_ns_sysctls(void *arg)
{
    static const char *const keys[] = {
        "/proc/sys/net/ipv6/conf/default/disable_ipv6",
        "/proc/sys/net/ipv6/conf/all/disable_ipv6",
    };
    int rc = 0;

    (void)arg;
    for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
        int fd = open(keys[k], O_WRONLY | O_CLOEXEC);

        if (fd < 0 || write(fd, "1\n", 2) != 2)
            rc = ERR_IO;
        if (fd >= 0)
            close(fd);
    }
    return rc;
}

bool rack_net_ns_exists(const struct rack *r, char kind, size_t i)
{
    char ns[RACK_NET_NAME_MAX], path[sizeof(NETNS_DIR) + RACK_NET_NAME_MAX];

    rack_net_ns(ns, sizeof(ns), r, kind, i);
    snprintf(path, sizeof(path), "%s/%s", NETNS_DIR, ns);
    return access(path, F_OK) == 0;
}

/* One member: namespace, veth into the bridge, address and route. */
int rack_net_member_up(const struct rack *r, char kind, size_t i,
                       struct err *err)
{
    char rk[RACK_NET_NAME_MAX], ns[RACK_NET_NAME_MAX], port[16];
    char addr[RACK_NET_ADDR_MAX], p48[64];
    int rc;

    rack_net_ns(rk, sizeof(rk), r, 'k', 0);
    rack_net_ns(ns, sizeof(ns), r, kind, i);
    rack_net_addr(addr, sizeof(addr), r, kind, i);
    rack_net_prefix48(p48, sizeof(p48), r);
    if (kind == 'd')
        snprintf(port, sizeof(port), "db");
    else
        snprintf(port, sizeof(port), "%c%zu", kind, i);
    rc = rack_net_run(r, "ip", err, "netns add %s", ns);
    if (rc == 0)
        rc = rack_net_run(r, "ip", err, "-n %s link add %s type veth peer "
                          "name eth0 netns %s", rk, port, ns);
    if (rc == 0)
        rc = rack_net_run(r, "ip", err, "-n %s link set %s master br0 up",
                          rk, port);
    if (rc == 0)
        rc = rack_net_run(r, "ip", err, "-n %s link set lo up", ns);
    if (rc == 0)
        rc = rack_net_run(r, "ip", err, "-n %s link set eth0 up", ns);
    if (rc == 0)
        rc = rack_net_run(r, "ip", err, "-n %s addr add %s/64 dev eth0 nodad "
                          "noprefixroute", ns, addr);
    if (rc == 0)
        rc = rack_net_run(r, "ip", err, "-n %s -6 route add %s dev eth0", ns,
                          p48);
    return rc;
}

static int host_up(const struct rack *r, struct err *err)
{
    char rk[RACK_NET_NAME_MAX], hl[RACK_NET_NAME_MAX];
    char addr[RACK_NET_ADDR_MAX], p48[64];
    int rc;

    rack_net_ns(rk, sizeof(rk), r, 'k', 0);
    rack_net_host_link(hl, sizeof(hl), r);
    rack_net_addr(addr, sizeof(addr), r, 'h', 0);
    rack_net_prefix48(p48, sizeof(p48), r);
    rc = rack_net_run(r, "ip", err, "link add %s type veth peer name host "
                      "netns %s", hl, rk);
    if (rc == 0)
        rc = rack_net_run(r, "ip", err, "-n %s link set host master br0 up",
                          rk);
    if (rc == 0)
        rc = rack_net_run(r, "ip", err, "link set %s up", hl);
    if (rc == 0)
        rc = rack_net_run(r, "ip", err, "addr add %s/64 dev %s nodad "
                          "noprefixroute", addr, hl);
    if (rc == 0)
        rc = rack_net_run(r, "ip", err, "-6 route add %s dev %s", p48, hl);
    return rc;
}

int rack_net_up(const struct rack *r, struct err *err)
{
    char rk[RACK_NET_NAME_MAX];
    int rc = rack_net_check(err);

    if (rc == 0)
        rc = rack_net_down(r, err);
    if (rc < 0)
        return rc;
    rack_net_ns(rk, sizeof(rk), r, 'k', 0);
    rc = rack_net_run(r, "ip", err, "netns add %s", rk);
    if (rc == 0 && rack_net_within(rk, rack_ns_sysctls, NULL, err) != 0)
        rc = err_set(err, ERR_IO, "cannot disable IPv6 in %s", rk);
    if (rc == 0)
        rc = rack_net_run(r, "ip", err, "-n %s link add br0 type bridge "
                          "stp_state 0 forward_delay 0", rk);
    if (rc == 0)
        rc = rack_net_run(r, "ip", err, "-n %s link set br0 up", rk);
    if (rc == 0)
        rc = rack_net_member_up(r, 'd', 0, err);
    for (size_t i = 0; rc == 0 && i < r->nrepls; i++)
        rc = rack_net_member_up(r, 'r', i, err);
    for (size_t k = 0; rc == 0 && k < r->nsleds; k++)
        rc = rack_net_member_up(r, 's', k, err);
    if (rc == 0)
        rc = host_up(r, err);
    return rc;
}

/* Calls fn on every /run/netns entry named with r's prefix. */
static size_t each_ns(const struct rack *r, int (*fn)(const struct rack *r,
                                                      const char *name,
                                                      struct err *err),
                      struct err *err, int *rc)
{
    char pfx[RACK_NET_PFX_LEN + 1], p[RACK_NET_PFX_LEN + 2];
    struct dirent *e;
    DIR *d = opendir(NETNS_DIR);
    size_t n = 0;

    if (!d)
        return 0;
    rack_net_prefix(pfx, r);
    snprintf(p, sizeof(p), "%s-", pfx);
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, p, strlen(p)) != 0)
            continue;
        n++;
        if (fn) {
            int e2 = fn(r, e->d_name, err);

            if (e2 < 0 && *rc == 0)
                *rc = e2;
        }
    }
    closedir(d);
    return n;
}

static int del_ns(const struct rack *r, const char *name, struct err *err)
{
    return rack_net_run(r, "ip", err, "netns del %s", name);
}

static bool host_link_exists(const struct rack *r)
{
    char hl[RACK_NET_NAME_MAX], path[64 + RACK_NET_NAME_MAX];

    rack_net_host_link(hl, sizeof(hl), r);
    snprintf(path, sizeof(path), "/sys/class/net/%s", hl);
    return access(path, F_OK) == 0;
}

int rack_net_down(const struct rack *r, struct err *err)
{
    char hl[RACK_NET_NAME_MAX];
    int rc = 0;

    if (host_link_exists(r)) {
        rack_net_host_link(hl, sizeof(hl), r);
        rc = rack_net_run(r, "ip", err, "link del %s", hl);
    }
    each_ns(r, del_ns, err, &rc);
    return rc;
}

size_t rack_net_leftovers(const struct rack *r)
{
    int rc = 0;

    return each_ns(r, NULL, NULL, &rc) + (host_link_exists(r) ? 1 : 0);
}

void rack_net_member_json(json_t *o, const struct rack *r, char kind,
                          size_t i)
{
    char ns[RACK_NET_NAME_MAX], addr[RACK_NET_ADDR_MAX];

    rack_net_ns(ns, sizeof(ns), r, kind, i);
    rack_net_addr(addr, sizeof(addr), r, kind, i);
    json_object_set_new(o, "namespace", json_string(ns));
    json_object_set_new(o, "address", json_string(addr));
}

json_t *rack_net_json(const struct rack *r)
{
    char p48[64], rk[RACK_NET_NAME_MAX], hl[RACK_NET_NAME_MAX];
    char ha[RACK_NET_ADDR_MAX], dbns[RACK_NET_NAME_MAX];
    char dba[RACK_NET_ADDR_MAX];

    if (!r->netns)
        return json_pack("{s:s}", "mode", "loopback");
    rack_net_prefix48(p48, sizeof(p48), r);
    rack_net_ns(rk, sizeof(rk), r, 'k', 0);
    rack_net_host_link(hl, sizeof(hl), r);
    rack_net_addr(ha, sizeof(ha), r, 'h', 0);
    rack_net_ns(dbns, sizeof(dbns), r, 'd', 0);
    rack_net_addr(dba, sizeof(dba), r, 'd', 0);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "mode", "netns",
                     "prefix", p48, "rack_namespace", rk, "host_link", hl,
                     "host_address", ha, "db_namespace", dbns, "db_address",
                     dba);
}
