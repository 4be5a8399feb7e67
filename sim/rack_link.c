/* SPDX-License-Identifier: MPL-2.0 */
/*
 * rack_link: tc rate caps, netem impairments, partitions and flapping of a
 * netns rack's sled links. See rack_link.h. Main thread only.
 */
#include "sim/rack_link.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "sim/rack_net.h"
#include "sim/rack_proc.h"
#include "sim/rack_state.h"
#include "sim/rack_up.h"

#define FLAP_STOP_MS 5000
#define NETEM_LIMIT 100000 /* packets; a delayed fast link queues many */
#define BURST_MIN 65536u   /* bytes; at least one GSO packet */
#define LEAF_QUEUE_MS 100u /* a capped link's queue, at its rate */
#define LEAF_QUEUE_MIN (256u << 10) /* bytes */

/* Digits with an optional fraction of up to 3 places: value x 1000. */
/* The decimal digits at *p (at least one) into *out; *p past them. */
static int parse_digits(uint64_t *out, const char **p)
{
    uint64_t v = 0;
    const char *q = *p;

    if (*q < '0' || *q > '9')
        return ERR_INVAL;
    for (; *q >= '0' && *q <= '9'; q++) {
        if (v > UINT64_MAX / 10 - 10)
            return ERR_INVAL;
        v = v * 10 + (uint64_t)(*q - '0');
    }
    *out = v;
    *p = q;
    return 0;
}

static int parse_milli(uint64_t *out, const char **s)
{
    uint64_t v = 0, frac = 0, scale = 1000;
    const char *p = *s;

    if (parse_digits(&v, &p) < 0)
        return ERR_INVAL;
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9')
            return ERR_INVAL;
        for (; *p >= '0' && *p <= '9'; p++) {
            if (scale == 1)
                return ERR_INVAL;
            scale /= 10;
            frac += (uint64_t)(*p - '0') * scale;
        }
    }
    if (v > UINT64_MAX / 1000 - 1)
        return ERR_INVAL;
    *out = v * 1000 + frac;
    *s = p;
    return 0;
}

int rack_link_parse_rate(uint64_t *out, const char *s)
{
    uint64_t v = 0, mul = 1;
    const char *p = s;

    if (parse_digits(&v, &p) < 0)
        return ERR_INVAL;
    if (*p == 'K' || *p == 'k')
        mul = 1ull << 10;
    else if (*p == 'M' || *p == 'm')
        mul = 1ull << 20;
    else if (*p == 'G' || *p == 'g')
        mul = 1ull << 30;
    if (mul > 1)
        p++;
    if (*p || v == 0 || v > (1ull << 40) / mul)
        return ERR_INVAL;
    *out = v * mul;
    return 0;
}

int rack_link_parse_us(unsigned *out, const char *s)
{
    uint64_t m;
    const char *p = s;

    if (parse_milli(&m, &p) < 0)
        return ERR_INVAL;
    /* m is the number x 1000: ms -> us as is. */
    if (!strcmp(p, "us"))
        m /= 1000;
    else if (!strcmp(p, "s"))
        m *= 1000;
    else if (*p && strcmp(p, "ms"))
        return ERR_INVAL;
    if (m > 60000000u)
        return ERR_INVAL;
    *out = (unsigned)m;
    return 0;
}

int rack_link_parse_loss(unsigned *out, const char *s)
{
    uint64_t m;
    const char *p = s;

    if (parse_milli(&m, &p) < 0 || (*p && strcmp(p, "%")) || m > 100000)
        return ERR_INVAL;
    *out = (unsigned)m;
    return 0;
}

/* The two ends of member kind/i's link (a sled 's' or a replicator
 * 'r'): namespace and device. End 0 is the member's eth0 (out of it), end
 * 1 the bridge port (into it). */
static void member_end(char ns[RACK_NET_NAME_MAX], char dev[16],
                       const struct rack *r, char kind, size_t i, int end)
{
    rack_net_ns(ns, RACK_NET_NAME_MAX, r, end == 0 ? kind : 'k', i);
    if (end == 0)
        snprintf(dev, 16, "eth0");
    else
        snprintf(dev, 16, "%c%zu", kind, i);
}

/* As member_end for sled k. */
static void link_end(char ns[RACK_NET_NAME_MAX], char dev[16],
                     const struct rack *r, size_t k, int end)
{
    member_end(ns, dev, r, 's', k, end);
}

/* "rate Rbps ceil Rbps burst B cburst B" of l into out. */
static void htb_rate(char *out, size_t cap, const struct rack_link *l)
{
    uint64_t burst = l->rate / 100;

    if (burst < BURST_MIN)
        burst = BURST_MIN;
    if (l->rate)
        snprintf(out, cap, "rate %llubps ceil %llubps burst %llu cburst %llu",
                 (unsigned long long)l->rate, (unsigned long long)l->rate,
                 (unsigned long long)burst, (unsigned long long)burst);
    else
        snprintf(out, cap, "rate 100gbit ceil 100gbit");
}

/*
 * The leaf of class 1:10 as l says: netem for delay and jitter; else, on
 * a capped link, a byte fifo holding LEAF_QUEUE_MS at the rate (at least
 * LEAF_QUEUE_MIN), a switch port's buffer, where htb's default leaf
 * would queue txqueuelen (1000) packets of up to 64 KiB each: seconds of
 * queue at a few MiB/s; else (uncapped) htb's default.
 */
static int end_leaf(const struct rack *r, const char *ns, const char *dev,
                    const struct rack_link *l, struct err *err)
{
    uint64_t q = l->rate / 1000 * LEAF_QUEUE_MS;
    int rc;

    if (!l->delay_us && !l->jitter_us) {
        if (!l->rate) {
            rack_net_run(r, "tc", NULL, "-n %s qdisc del dev %s parent 1:10",
                         ns, dev);
            return 0;
        }
        return rack_net_run(r, "tc", err, "-n %s qdisc replace dev %s "
                            "parent 1:10 handle 10: bfifo limit %llu", ns,
                            dev, (unsigned long long)(q < LEAF_QUEUE_MIN ?
                                                      LEAF_QUEUE_MIN : q));
    }
    rc = rack_net_run(r, "tc", err, "-n %s qdisc replace dev %s parent 1:10 "
                      "handle 10: netem limit %d delay %uus %uus", ns, dev,
                      NETEM_LIMIT, l->delay_us, l->jitter_us);
    if (rc < 0)
        err_set(err, rc, "--delay/--jitter need the kernel's netem qdisc "
                "(CONFIG_NET_SCH_NETEM), which `tc` could not use here (see "
                "%s/net.log)", r->dir);
    return rc;
}

/* verb "add" (a new tree) or "change" the rate and delay of one end. */
static int end_shape(const struct rack *r, char kind, size_t i, int end,
                     const struct rack_link *l, const char *verb,
                     struct err *err)
{
    char ns[RACK_NET_NAME_MAX], dev[16], rate[128];
    int rc;

    member_end(ns, dev, r, kind, i, end);
    htb_rate(rate, sizeof(rate), l);
    rc = rack_net_run(r, "tc", err, "-n %s class %s dev %s parent 1: "
                      "classid 1:10 htb %s", ns, verb, dev, rate);
    if (rc == 0)
        rc = end_leaf(r, ns, dev, l, err);
    return rc;
}

/*
 * Random loss of sled k's link, both directions, on the wire: an nftables
 * table in the rack namespace on the bridge port sK (egress: into the
 * sled; ingress: out of it). ICMPv6 passes (neighbour discovery).
 */
static int end_loss(const struct rack *r, size_t k, struct err *err)
{
    static const char *const chains[2][2] = {{"into", "egress"},
                                             {"outof", "ingress"}};
    const struct rack_link *l = &r->sleds[k].link;
    char rk[RACK_NET_NAME_MAX];
    int rc = 0;

    rack_net_ns(rk, sizeof(rk), r, 'k', 0);
    rack_net_run(r, "ip", NULL, "netns exec %s nft delete table netdev "
                 "rdloss%zu", rk, k);
    if (!l->loss_milli)
        return 0;
    rc = rack_net_run(r, "ip", err, "netns exec %s nft add table netdev "
                      "rdloss%zu", rk, k);
    for (int c = 0; c < 2 && rc == 0; c++) {
        rc = rack_net_run(r, "ip", err, "netns exec %s nft add chain netdev "
                          "rdloss%zu %s { type filter hook %s device s%zu "
                          "priority 0 ; }", rk, k, chains[c][0], chains[c][1],
                          k);
        if (rc == 0)
            rc = rack_net_run(r, "ip", err, "netns exec %s nft add rule "
                              "netdev rdloss%zu %s meta protocol ip6 ip6 "
                              "nexthdr != ipv6-icmp numgen random mod 100000 "
                              "< %u counter drop", rk, k, chains[c][0],
                              l->loss_milli);
    }
    if (rc < 0)
        err_set(err, rc, "--loss needs nftables (Debian package nftables, "
                "kernel nf_tables with netdev egress; see %s/net.log)",
                r->dir);
    return rc;
}

static int end_tree(const struct rack *r, char kind, size_t i, int end,
                    const struct rack_link *l, struct err *err)
{
    char ns[RACK_NET_NAME_MAX], dev[16];
    int rc;

    member_end(ns, dev, r, kind, i, end);
    rack_net_run(r, "tc", NULL, "-n %s qdisc del dev %s root", ns, dev);
    rc = rack_net_run(r, "tc", err, "-n %s qdisc add dev %s root handle 1: "
                      "htb default 10", ns, dev);
    if (rc == 0)
        rc = end_shape(r, kind, i, end, l, "add", err);
    if (rc == 0)
        rc = rack_net_run(r, "tc", err, "-n %s class add dev %s parent 1: "
                          "classid 1:20 htb rate 1mbit", ns, dev);
    /* A fifo that holds nothing: everything classified here is dropped. */
    if (rc == 0)
        rc = rack_net_run(r, "tc", err, "-n %s qdisc add dev %s parent 1:20 "
                          "handle 20: pfifo limit 0", ns, dev);
    return rc;
}

/* Remove every filter of one end; then, when the link has cuts, let
 * neighbour discovery through (prio 1) ahead of them. */
static int end_clear(const struct rack *r, size_t k, int end, bool cuts,
                     struct err *err)
{
    char ns[RACK_NET_NAME_MAX], dev[16];
    int rc = 0;

    link_end(ns, dev, r, k, end);
    rack_net_run(r, "tc", NULL, "-n %s filter del dev %s parent 1:", ns, dev);
    for (int t = 135; cuts && rc == 0 && t <= 136; t++)
        rc = rack_net_run(r, "tc", err, "-n %s filter add dev %s parent 1: "
                          "protocol ipv6 prio 1 u32 match ip6 protocol 58 "
                          "0xff match u8 %d 0xff at 40 flowid 1:10", ns, dev,
                          t);
    return rc;
}

/* The filters of cut c on sled k. */
static int cut_filters(const struct rack *r, size_t k, const struct rack_cut *c,
                       struct err *err)
{
    char ns[RACK_NET_NAME_MAX], dev[16], peer[RACK_NET_ADDR_MAX];
    int rc = 0;

    if (c->from >= 0)
        rack_net_addr(peer, sizeof(peer), r, 's', (size_t)c->from);
    for (int end = 0; end < 2 && rc == 0; end++) {
        if ((c->dir == 'o' && end == 1) || (c->dir == 'i' && end == 0))
            continue;
        link_end(ns, dev, r, k, end);
        if (c->from < 0)
            rc = rack_net_run(r, "tc", err, "-n %s filter add dev %s "
                              "parent 1: protocol all prio 3 u32 match u32 "
                              "0 0 flowid 1:20", ns, dev);
        else
            rc = rack_net_run(r, "tc", err, "-n %s filter add dev %s "
                              "parent 1: protocol ipv6 prio 2 u32 match ip6 "
                              "%s %s/128 flowid 1:20", ns, dev,
                              end == 0 ? "dst" : "src", peer);
    }
    return rc;
}

/* Make the filters of both ends match r->sleds[k].cuts. */
static int cuts_apply(const struct rack *r, size_t k, struct err *err)
{
    const struct rack_sled *s = &r->sleds[k];
    int rc = 0;

    for (int end = 0; end < 2 && rc == 0; end++)
        rc = end_clear(r, k, end, s->ncuts > 0, err);
    for (size_t c = 0; c < s->ncuts && rc == 0; c++)
        rc = cut_filters(r, k, &s->cuts[c], err);
    return rc;
}

int rack_link_setup(const struct rack *r, size_t k, struct err *err)
{
    int rc = end_tree(r, 's', k, 0, &r->sleds[k].link, err);

    if (rc == 0)
        rc = end_tree(r, 's', k, 1, &r->sleds[k].link, err);
    if (rc == 0)
        rc = end_loss(r, k, err);
    if (rc == 0)
        rc = cuts_apply(r, k, err);
    return rc;
}

int rack_link_setup_repl(const struct rack *r, size_t i, struct err *err)
{
    struct rack_link l = {r->link_rate, r->link_delay_us, 0, 0};

    /* Out of the controller only, as --rate-limit caps its PUTs: the
     * operator's upload into it stays uncapped. */
    return end_tree(r, 'r', i, 0, &l, err);
}

int rack_link_apply(const struct rack *r, size_t k, struct err *err)
{
    int rc = end_shape(r, 's', k, 0, &r->sleds[k].link, "change", err);

    if (rc == 0)
        rc = end_shape(r, 's', k, 1, &r->sleds[k].link, "change", err);
    if (rc == 0)
        rc = end_loss(r, k, err);
    return rc;
}

int rack_link_cut(struct rack *r, size_t k, int from, char dir,
                  struct err *err)
{
    struct rack_sled *s = &r->sleds[k];

    if (from == (int)k)
        return err_set(err, ERR_INVAL, "sled %zu cannot be cut from itself",
                       k);
    if (s->ncuts >= RACK_MAX_CUTS)
        return err_set(err, ERR_INVAL, "sled %zu has %d cuts already (heal "
                       "it first)", k, RACK_MAX_CUTS);
    s->cuts[s->ncuts].from = from;
    s->cuts[s->ncuts].dir = dir;
    s->ncuts++;
    snprintf(s->state, sizeof(s->state), "partitioned");
    return cuts_apply(r, k, err);
}

void rack_link_flap_stop(struct rack *r, size_t k)
{
    struct rack_sled *s = &r->sleds[k];

    if (s->flap.pid)
        rack_proc_stop(s->flap.pid, s->flap.start, FLAP_STOP_MS);
    s->flap.pid = 0;
    s->flap.start = 0;
    s->flap_secs = 0;
}

int rack_link_heal(struct rack *r, size_t k, struct err *err)
{
    struct rack_sled *s = &r->sleds[k];

    rack_link_flap_stop(r, k);
    s->ncuts = 0;
    if (!strcmp(s->state, "partitioned"))
        snprintf(s->state, sizeof(s->state), "running");
    return cuts_apply(r, k, err);
}

int rack_link_flap(struct rack *r, size_t k, unsigned secs, struct err *err)
{
    struct rack_sled *s = &r->sleds[k];
    char self[PATH_MAX], log[PATH_MAX + 16], sled[24], n[24];
    char *argv[] = {self, "--dir", r->dir, "link-flap-run", sled, n, NULL};
    ssize_t len;
    pid_t pid = 0;
    int rc;

    rc = rack_link_heal(r, k, err);
    if (rc < 0 || secs == 0)
        return rc;
    len = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (len <= 0)
        return err_set(err, ERR_IO, "readlink /proc/self/exe: %s",
                       strerror(errno));
    self[len] = '\0';
    snprintf(sled, sizeof(sled), "%zu", k);
    snprintf(n, sizeof(n), "%u", secs);
    rack_path_sled(log, sizeof(log), r, k);
    strncat(log, "/flap.log", sizeof(log) - strlen(log) - 1);
    rc = rack_proc_spawn(&pid, argv, log, r->foreground, err);
    if (rc < 0)
        return rc;
    s->flap.pid = pid;
    s->flap.start = rack_proc_starttime(pid);
    s->flap_secs = secs;
    return 0;
}

int rack_link_flap_run(const struct rack *r, size_t k, unsigned secs)
{
    struct rack_cut whole = {-1, 'b'};
    struct err err = ERR_INIT;
    bool cut = false;

    while (!rack_interrupted()) {
        cut = !cut;
        end_clear(r, k, 0, cut, &err);
        end_clear(r, k, 1, cut, &err);
        if (cut)
            cut_filters(r, k, &whole, &err);
        printf("sled %zu link %s\n", k, cut ? "down" : "up");
        fflush(stdout);
        rack_sleep_ms((long)secs * 1000);
    }
    end_clear(r, k, 0, false, NULL);
    end_clear(r, k, 1, false, NULL);
    return 0;
}

json_t *rack_link_json(const struct rack *r, size_t k)
{
    const struct rack_sled *s = &r->sleds[k];
    json_t *cuts = json_array();
    bool flapping = s->flap.pid && rack_proc_alive(s->flap.pid, s->flap.start);

    for (size_t c = 0; cuts && c < s->ncuts; c++) {
        const char *dir = s->cuts[c].dir == 'i' ? "in" :
                          s->cuts[c].dir == 'o' ? "out" : "both";

        if (s->cuts[c].from < 0)
            json_array_append_new(cuts, json_pack("{s:s, s:n}", "dir", dir,
                                                  "from"));
        else
            json_array_append_new(cuts, json_pack("{s:s, s:i}", "dir", dir,
                                                  "from", s->cuts[c].from));
    }
    return json_pack("{s:I, s:I, s:I, s:f, s:o, s:I}", "rate",
                     (json_int_t)s->link.rate, "delay_us",
                     (json_int_t)s->link.delay_us, "jitter_us",
                     (json_int_t)s->link.jitter_us, "loss_percent",
                     (double)s->link.loss_milli / 1000.0, "cuts", cuts,
                     "flap_secs", (json_int_t)(flapping ? s->flap_secs : 0));
}
