/* SPDX-License-Identifier: MPL-2.0 */
/*
 * load_bench: issue 10 deliver 6, "load that a rack really sees": the
 * legitimate clients, the runs and their figures. Three targets:
 * - sledagent (default): one sledagent on plaintext started here
 *   (tests/support/agentproc) with an 8 MiB artifact;
 * - sledagent --tls: sled 0 of a mutual-TLS rack (load_rack.c), as the
 *   controller;
 * - replicator [--tls]: the replicator of such a rack (TLS or plaintext),
 *   as the operator.
 * Legitimate clients on keep-alive connections from 127.0.0.1, L per kind
 * (default 4), each as fast as it is answered for S seconds (default 10):
 * on a sled GET /artifacts, GET /artifacts-config (API) and a 64 KiB Range
 * read of an 8 MiB artifact (depot); on the replicator the task status
 * (limit=50), the sled list and the repository list. Twice: clean, then
 * with the hostile clients of load_hostile.c running all along (I idle,
 * default 1000, half per listener; 50 slowloris heads; 20 readers of the
 * largest reply that never read). Prints requests/s, p50/p99/max latency
 * of each run and the ratio hostile p99 / clean p99 (issue goal <= 2).
 * After a 2 s warm-up, R rounds (default 3) of a clean run then a hostile
 * one; the medians of the rounds are reported with every round's figures.
 * Usage: load_bench [--tls] [--replicator] [SECS] [L] [IDLE] [R]
 *   (build/bin, next to sledagent, rack-sim, tuf-mkrepo and replicator)
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "bench/load_conn.h"
#include "bench/load_hostile.h"
#include "bench/load_rack.h"
#include "common/mem.h"
#include "tests/support/agentproc.h"
#include "tests/support/testutil.h"

#define ART_LEN (8u * 1024 * 1024)
#define RANGE_LEN (64u * 1024)
#define K_N 3
#define CONN_MS 10000

/* One kind of legitimate request. */
struct kind {
    const char *name;
    int port;
    char path[160];
    bool range; /* a random 64 KiB Range of the ART_LEN artifact */
};

struct cfg {
    bool tls;
    struct kind k[K_N];
    int secs;
};

struct worker {
    const struct cfg *c;
    const struct kind *k;
    unsigned seed;
    double *lat;           /* ms */
    size_t n, cap;
    size_t errors;
    pthread_t th;
};

static double now_ms(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* One request on a keep-alive connection: 0 on a 2xx with its whole
 * body read, -1 otherwise (the caller reconnects). */
static int exchange(struct lconn *c, const char *req, size_t len)
{
    static __thread char buf[RANGE_LEN + 8192];
    size_t have = 0, head, body;
    const char *e, *cl;

    if (lconn_send(c, req, len) < 0)
        return -1;
    for (;;) {
        ssize_t n = lconn_recv(c, buf + have, sizeof(buf) - 1 - have);

        if (n <= 0)
            return -1;
        have += (size_t)n;
        buf[have] = '\0';
        if ((e = strstr(buf, "\r\n\r\n")) != NULL)
            break;
        if (have >= sizeof(buf) - 1)
            return -1;
    }
    head = (size_t)(e - buf) + 4;
    cl = strcasestr(buf, "\r\nContent-Length:");
    if (!cl || buf[9] != '2')
        return -1;
    body = strtoul(cl + 17, NULL, 10);
    while (have - head < body) {
        size_t room = sizeof(buf) - have;
        ssize_t n;

        if (room < 4096) { /* keep the tail only: the body is discarded */
            body -= have - head;
            have = head = 0;
            room = sizeof(buf);
        }
        n = lconn_recv(c, buf + have, room);
        if (n <= 0)
            return -1;
        have += (size_t)n;
    }
    return 0;
}

static void *worker_run(void *arg)
{
    struct worker *w = arg;
    const struct kind *k = w->k;
    double end = now_ms() + 1000.0 * w->c->secs;
    struct lconn c = LCONN_INIT;
    char req[512];

    while (now_ms() < end) {
        size_t len;
        double t0;

        if (k->range) {
            unsigned long off = (unsigned long)(rand_r(&w->seed) %
                                                (ART_LEN / RANGE_LEN)) *
                                RANGE_LEN;

            len = (size_t)snprintf(req, sizeof(req),
                                   "GET %s HTTP/1.1\r\nHost: x\r\n"
                                   "Range: bytes=%lu-%lu\r\n\r\n", k->path,
                                   off, off + RANGE_LEN - 1);
        } else {
            len = (size_t)snprintf(req, sizeof(req),
                                   "GET %s HTTP/1.1\r\nHost: x\r\n\r\n",
                                   k->path);
        }
        t0 = now_ms();
        if (c.fd < 0)
            (void)lconn_open(&c, k->port, 0, w->c->tls, CONN_MS);
        if (c.fd < 0 || exchange(&c, req, len) < 0) {
            w->errors++;
            lconn_close(&c);
            continue;
        }
        if (w->n == w->cap &&
            !(w->lat = mem_grow(w->lat, &w->cap, w->n + 1, sizeof(double),
                                4096)))
            abort();
        w->lat[w->n++] = now_ms() - t0;
    }
    lconn_close(&c);
    return NULL;
}

/* ---- runs ---- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

struct result {
    double rps, p50, p99, max;
    size_t n, errors;
};

static void run(struct result *out, const struct cfg *c, int per_kind)
{
    int nw = per_kind * K_N;
    struct worker *w = mem_calloc((size_t)nw, sizeof(*w));
    double *all;
    size_t n = 0, k = 0;

    if (!w)
        abort();
    memset(out, 0, sizeof(*out));
    for (int i = 0; i < nw; i++) {
        w[i].c = c;
        w[i].k = &c->k[i % K_N];
        w[i].seed = (unsigned)i * 7919u + 1;
        pthread_create(&w[i].th, NULL, worker_run, &w[i]);
    }
    for (int i = 0; i < nw; i++) {
        pthread_join(w[i].th, NULL);
        n += w[i].n;
        out->errors += w[i].errors;
    }
    all = mem_alloc((n ? n : 1) * sizeof(double));
    if (!all)
        abort();
    for (int i = 0; i < nw; i++) {
        memcpy(all + k, w[i].lat, w[i].n * sizeof(double));
        k += w[i].n;
        mem_free(w[i].lat);
    }
    qsort(all, n, sizeof(double), cmp_double);
    out->n = n;
    out->rps = (double)n / c->secs;
    if (n) {
        out->p50 = all[n / 2];
        out->p99 = all[(size_t)((double)(n - 1) * 0.99)];
        out->max = all[n - 1];
    }
    mem_free(all);
    mem_free(w);
}

static void print(const char *name, const struct result *r)
{
    printf("  %-8s %8.0f req/s  p50 %7.2f ms  p99 %7.2f ms  max %8.2f ms  "
           "(%zu requests, %zu errors)\n", name, r->rps, r->p50, r->p99,
           r->max, r->n, r->errors);
}

static int cmp_result_p99(const void *a, const void *b)
{
    return cmp_double(&((const struct result *)a)->p99,
                      &((const struct result *)b)->p99);
}

/* ---- targets ---- */

static void kind_set(struct kind *k, const char *name, int port,
                     const char *path, const char *hex, bool range)
{
    k->name = name;
    k->port = port;
    snprintf(k->path, sizeof(k->path), "%s%s", path, hex ? hex : "");
    k->range = range;
}

/* The plaintext sledagent of agentproc with an 8 MiB artifact. */
static int agent_up(struct agentproc **a, char *hex)
{
    const char *hexes[1] = {hex};
    char *data = mem_alloc(ART_LEN);

    if (!data || agentproc_new(a, NULL) < 0 || agentproc_start(*a) < 0) {
        fprintf(stderr, "load_bench: cannot start the agent\n");
        return -1;
    }
    testutil_random(data, ART_LEN);
    testutil_sha256_hex(hex, data, ART_LEN);
    if (agentproc_put_config(*a, 1, hexes, 1) != 204 ||
        agentproc_put_artifact(*a, hex, 1, data, ART_LEN, NULL) != 200) {
        fprintf(stderr, "load_bench: cannot store the artifact\n");
        mem_free(data);
        return -1;
    }
    mem_free(data);
    return 0;
}

static void sled_target(struct cfg *c, struct hostile_cfg *h, int api,
                        int depot, const char *hex)
{
    kind_set(&c->k[0], "list", api, "/artifacts", NULL, false);
    kind_set(&c->k[1], "config", api, "/artifacts-config", NULL, false);
    kind_set(&c->k[2], "range", depot, "/artifact/sha256/", hex, true);
    h->ports[0] = api;
    h->ports[1] = depot;
    h->nports = 2;
    h->reader_port = depot;
    h->reader_path = c->k[2].path; /* the whole artifact */
    h->head_path = "/artifacts";
}

static void repl_target(struct cfg *c, struct hostile_cfg *h, int port)
{
    kind_set(&c->k[0], "status", port, "/background-tasks/"
             "tuf_artifact_replication?limit=50", NULL, false);
    kind_set(&c->k[1], "sleds", port, "/sled-agents", NULL, false);
    kind_set(&c->k[2], "repos", port, "/v1/system/update/repositories",
             NULL, false);
    h->ports[0] = port;
    h->nports = 1;
    h->reader_port = port;
    h->reader_path = "/background-tasks/tuf_artifact_replication?limit=200";
    h->head_path = "/sled-agents";
}

/* ---- main ---- */

#define MAX_ROUNDS 9

/* A decimal argument, -1 when it is not one. */
static int arg_int(const char *s)
{
    char *end;
    long v = strtol(s, &end, 10);

    return *s && !*end && v >= 0 && v <= 1000000 ? (int)v : -1;
}

static void report(const struct cfg *c, const struct hostile_cfg *hc,
                   const char *target, int per_kind, int rounds)
{
    struct result clean[MAX_ROUNDS], hostile[MAX_ROUNDS], warm;
    double ratio[MAX_ROUNDS], load[3] = {0};
    unsigned long reopened = 0;
    double hostile_cpu = 0, hostile_wall = 0;
    struct cfg cc = *c;

    cc.secs = 2;
    run(&warm, &cc, per_kind);
    printf("load_bench: %s (%s), %d s per run, %d legitimate clients "
           "(%d each: %s, %s, %s); hostile: %d idle%s, %d slowloris heads, "
           "%d non-reading readers\n", target, c->tls ? "mutual TLS" :
           "plaintext", c->secs, per_kind * K_N, per_kind, c->k[0].name,
           c->k[1].name, c->k[2].name, hc->nidle, c->tls ? " (a third each: no "
           "handshake, ClientHello only, after the handshake)" : "",
           HOSTILE_HEADS, HOSTILE_READERS);
    for (int i = 0; i < rounds; i++) {
        struct hostile *h;
        double t0;

        run(&clean[i], c, per_kind);
        t0 = now_ms();
        if (!(h = hostile_start(hc)))
            abort();
        run(&hostile[i], c, per_kind);
        reopened += hostile_stop(h, &hostile_cpu);
        hostile_wall += (now_ms() - t0) / 1e3;
        ratio[i] = clean[i].p99 > 0 ? hostile[i].p99 / clean[i].p99 : 0;
        printf(" round %d\n", i + 1);
        print("clean", &clean[i]);
        print("hostile", &hostile[i]);
        printf("  p99 ratio %.2f, throughput ratio %.2f\n", ratio[i],
               clean[i].rps > 0 ? hostile[i].rps / clean[i].rps : 0.0);
    }
    qsort(clean, (size_t)rounds, sizeof(clean[0]), cmp_result_p99);
    qsort(hostile, (size_t)rounds, sizeof(hostile[0]), cmp_result_p99);
    qsort(ratio, (size_t)rounds, sizeof(ratio[0]), cmp_double);
    (void)getloadavg(load, 3);
    printf("median of %d rounds: p99 clean %.2f ms, hostile %.2f ms; "
           "p99 ratio hostile/clean %.2f (goal <= 2); hostile connections "
           "closed by the server and reopened: %lu; the hostile clients' "
           "CPU: %.0f %% of a core; load average %.1f %.1f %.1f\n", rounds,
           clean[rounds / 2].p99, hostile[rounds / 2].p99, ratio[rounds / 2],
           reopened, hostile_wall > 0 ? 100.0 * hostile_cpu / hostile_wall
                                      : 0.0, load[0], load[1], load[2]);
}

int main(int argc, char **argv)
{
    struct cfg c = {0};
    struct hostile_cfg hc = {0};
    struct agentproc *a = NULL;
    struct lrack rack = {0};
    bool repl = false, rack_up = false;
    const char *target;
    struct rlimit rl;
    int per_kind, nidle, rounds, secs, rc = 0;
    char hex[65];

    mem_init();
    for (; argc > 1 && argv[1][0] == '-'; argc--, argv++) {
        if (!strcmp(argv[1], "--tls"))
            c.tls = true;
        else if (!strcmp(argv[1], "--replicator"))
            repl = true;
        else
            break;
    }
    secs = argc > 1 ? arg_int(argv[1]) : 10;
    per_kind = argc > 2 ? arg_int(argv[2]) : 4;
    nidle = argc > 3 ? arg_int(argv[3]) : 1000;
    rounds = argc > 4 ? arg_int(argv[4]) : 3;
    if (argc > 5 || secs < 1 || per_kind < 1 || per_kind > 4 || nidle < 0 ||
        nidle > HOSTILE_MAX_IDLE || rounds < 1 || rounds > MAX_ROUNDS) {
        fprintf(stderr, "usage: load_bench [--tls] [--replicator] [SECS>=1] "
                "[L 1..4] [IDLE 0..%d] [R 1..%d]\n", HOSTILE_MAX_IDLE,
                MAX_ROUNDS);
        return 2;
    }
    c.secs = secs;
    hc.tls = c.tls;
    hc.nidle = nidle;
    /* the hostile side needs its descriptors */
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    if (!c.tls && !repl) {
        target = "sledagent";
        if (agent_up(&a, hex) < 0) {
            agentproc_free(a);
            return 1;
        }
        sled_target(&c, &hc, agentproc_api_port(a), agentproc_depot_port(a),
                    hex);
    } else {
        target = repl ? "replicator of a 2-sled rack-sim rack"
                      : "sledagent of a 2-sled rack-sim rack";
        if (lrack_up(&rack, c.tls) < 0)
            return 1;
        rack_up = true;
        if (c.tls && lconn_tls_setup(rack.ca, repl ? rack.op_cert
                                                   : rack.ctl_cert,
                                     repl ? rack.op_key : rack.ctl_key) < 0)
            rc = 1;
        if (repl)
            repl_target(&c, &hc, rack.repl_port);
        else
            sled_target(&c, &hc, rack.sled_api, rack.sled_depot, rack.hex);
    }
    if (rc == 0)
        report(&c, &hc, target, per_kind, rounds);
    lconn_tls_cleanup();
    if (rack_up)
        lrack_down(&rack);
    agentproc_free(a);
    return rc;
}
