/* SPDX-License-Identifier: MPL-2.0 */
/*
 * load_bench: issue 10 deliver 6, "load that a rack really sees", against
 * one sledagent (plaintext, started here from build/bin/sledagent through
 * tests/support/agentproc). Legitimate clients on keep-alive connections
 * from 127.0.0.1, L per kind (default 4): GET /artifacts, GET
 * /artifacts-config (API) and a 64 KiB Range read of an 8 MiB artifact
 * (depot; at most DEPOT_PIECE_STREAMS at once, so none is refused), each
 * as fast as it is answered for S seconds (default 10). Twice: clean, then
 * with hostile clients from 127.0.0.2-17 running all along (the issue's
 * list): I idle connections (default 1000, half per listener, reopened
 * when closed), slowloris heads on both listeners (50, one byte a second,
 * reopened) and readers that ask for the whole 8 MiB artifact and never
 * read (20, reopened). Prints requests/s, p50/p99/max latency of each run
 * and the ratio hostile p99 / clean p99 (issue goal <= 2). After a 2 s
 * warm-up, R rounds (default 3) of a clean run then a hostile one; the
 * medians of the rounds are reported with every round's figures.
 * Usage: load_bench [SECS] [L] [IDLE] [R]   (build/bin, next to sledagent)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/mem.h"
#include "tests/support/agentproc.h"
#include "tests/support/testutil.h"

#define ART_LEN (8u * 1024 * 1024)
#define RANGE_LEN (64u * 1024)
#define SLOW_HEADS 50
#define SLOW_READERS 20
#define HOSTILE_ADDRS 16
#define MAX_IDLE 4000

enum kind { K_LIST, K_CONFIG, K_RANGE, K_N };

struct cfg {
    int api, depot;
    char hex[65];
    int secs;
};

struct worker {
    const struct cfg *c;
    enum kind k;
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

/* A TCP connection to 127.0.0.1:port from 127.0.0.(1 + from) (0: any). */
static int dial(int port, int from)
{
    struct sockaddr_in src = {0}, dst = {0};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return -1;
    if (from > 0) {
        src.sin_family = AF_INET;
        src.sin_addr.s_addr = htonl(0x7f000001u + (uint32_t)from);
        if (bind(fd, (struct sockaddr *)&src, sizeof(src)) < 0) {
            close(fd);
            return -1;
        }
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){1}, sizeof(int));
    dst.sin_family = AF_INET;
    dst.sin_port = htons((uint16_t)port);
    dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&dst, sizeof(dst)) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* One request on a keep-alive connection: 0 on a 2xx with its whole
 * body read, -1 otherwise (the caller reconnects). */
static int exchange(int fd, const char *req, size_t len)
{
    static __thread char buf[RANGE_LEN + 8192];
    size_t have = 0, head, body;
    const char *e, *cl;

    if (send(fd, req, len, MSG_NOSIGNAL) != (ssize_t)len)
        return -1;
    for (;;) {
        ssize_t n = recv(fd, buf + have, sizeof(buf) - 1 - have, 0);

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
        n = recv(fd, buf + have, room, 0);
        if (n <= 0)
            return -1;
        have += (size_t)n;
    }
    return 0;
}

static void *worker_run(void *arg)
{
    struct worker *w = arg;
    const struct cfg *c = w->c;
    double end = now_ms() + 1000.0 * c->secs;
    int fd = -1;
    char req[512];

    while (now_ms() < end) {
        size_t len;
        double t0;

        if (w->k == K_RANGE) {
            unsigned long off = (unsigned long)(rand_r(&w->seed) %
                                                (ART_LEN / RANGE_LEN)) *
                                RANGE_LEN;

            len = (size_t)snprintf(req, sizeof(req),
                                   "GET /artifact/sha256/%s HTTP/1.1\r\n"
                                   "Host: x\r\nRange: bytes=%lu-%lu\r\n\r\n",
                                   c->hex, off, off + RANGE_LEN - 1);
        } else {
            len = (size_t)snprintf(req, sizeof(req),
                                   "GET %s HTTP/1.1\r\nHost: x\r\n\r\n",
                                   w->k == K_LIST ? "/artifacts"
                                                  : "/artifacts-config");
        }
        t0 = now_ms();
        if (fd < 0)
            fd = dial(w->k == K_RANGE ? c->depot : c->api, 0);
        if (fd < 0 || exchange(fd, req, len) < 0) {
            w->errors++;
            if (fd >= 0)
                close(fd);
            fd = -1;
            continue;
        }
        if (w->n == w->cap &&
            !(w->lat = mem_grow(w->lat, &w->cap, w->n + 1, sizeof(double),
                                4096)))
            abort();
        w->lat[w->n++] = now_ms() - t0;
    }
    if (fd >= 0)
        close(fd);
    return NULL;
}

/* ---- hostile clients ---- */

struct hostile {
    const struct cfg *c;
    int nidle;
    int idle[MAX_IDLE];
    int heads[SLOW_HEADS];
    size_t head_pos[SLOW_HEADS];
    int readers[SLOW_READERS];
    volatile int stop;
    unsigned long reopened;
    pthread_t th;
};

static const char slow_head[] = "GET /artifacts HTTP/1.1\r\nHost: x\r\n"
                                "X-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n"
                                "\r\n";

/* Whether fd was closed by the server (without blocking). */
static bool gone(int fd)
{
    struct pollfd p = {fd, POLLIN, 0};
    char b[4096];

    if (fd < 0)
        return true;
    if (poll(&p, 1, 0) <= 0)
        return false;
    return recv(fd, b, sizeof(b), MSG_DONTWAIT) == 0 ||
           (p.revents & (POLLHUP | POLLERR));
}

static int reader_open(const struct cfg *c, int i)
{
    char req[256];
    int fd = dial(c->depot, 1 + i % HOSTILE_ADDRS);
    int small = 4096;
    int n;

    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    n = snprintf(req, sizeof(req), "GET /artifact/sha256/%s HTTP/1.1\r\n"
                 "Host: x\r\n\r\n", c->hex);
    (void)send(fd, req, (size_t)n, MSG_NOSIGNAL);
    return fd;
}

static void *hostile_run(void *arg)
{
    struct hostile *h = arg;
    const struct cfg *c = h->c;

    while (!h->stop) {
        for (int i = 0; i < h->nidle; i++)
            if (gone(h->idle[i])) {
                h->reopened += h->idle[i] >= 0;
                if (h->idle[i] >= 0)
                    close(h->idle[i]);
                h->idle[i] = dial(i % 2 ? c->depot : c->api,
                                  1 + i % HOSTILE_ADDRS);
            }
        for (int i = 0; i < SLOW_HEADS; i++) {
            if (h->heads[i] < 0 || gone(h->heads[i]) ||
                h->head_pos[i] >= sizeof(slow_head) - 1 ||
                send(h->heads[i], slow_head + h->head_pos[i]++, 1,
                     MSG_NOSIGNAL) < 0) {
                h->reopened += h->heads[i] >= 0;
                if (h->heads[i] >= 0)
                    close(h->heads[i]);
                h->heads[i] = dial(i % 2 ? c->depot : c->api,
                                   1 + i % HOSTILE_ADDRS);
                h->head_pos[i] = 0;
            }
        }
        for (int i = 0; i < SLOW_READERS; i++) {
            struct pollfd p = {h->readers[i], POLLIN, 0};

            /* never read the body: only look for the close */
            if (h->readers[i] >= 0 &&
                (poll(&p, 1, 0) <= 0 || !(p.revents & (POLLHUP | POLLERR))))
                continue;
            h->reopened += h->readers[i] >= 0;
            if (h->readers[i] >= 0)
                close(h->readers[i]);
            h->readers[i] = reader_open(c, i);
        }
        usleep(1000 * 1000);
    }
    for (int i = 0; i < h->nidle; i++)
        if (h->idle[i] >= 0)
            close(h->idle[i]);
    for (int i = 0; i < SLOW_HEADS; i++)
        if (h->heads[i] >= 0)
            close(h->heads[i]);
    for (int i = 0; i < SLOW_READERS; i++)
        if (h->readers[i] >= 0)
            close(h->readers[i]);
    return NULL;
}

static void hostile_start(struct hostile *h, const struct cfg *c, int nidle)
{
    memset(h, 0, sizeof(*h));
    h->c = c;
    h->nidle = nidle;
    for (int i = 0; i < nidle; i++)
        h->idle[i] = -1;
    for (int i = 0; i < SLOW_HEADS; i++)
        h->heads[i] = -1;
    for (int i = 0; i < SLOW_READERS; i++)
        h->readers[i] = -1;
    pthread_create(&h->th, NULL, hostile_run, h);
    sleep(2); /* the hostile connections are open */
}

static void hostile_stop(struct hostile *h)
{
    h->stop = 1;
    pthread_join(h->th, NULL);
    sleep(1); /* the agent sees them closed */
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
        w[i].k = (enum kind)(i % K_N);
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

#define MAX_ROUNDS 9

/* A decimal argument, -1 when it is not one. */
static int arg_int(const char *s)
{
    char *end;
    long v = strtol(s, &end, 10);

    return *s && !*end && v >= 0 && v <= 1000000 ? (int)v : -1;
}

int main(int argc, char **argv)
{
    static struct hostile h;
    struct cfg c = {0};
    struct agentproc *a = NULL;
    const char *hexes[1];
    struct result clean[MAX_ROUNDS], hostile[MAX_ROUNDS], warm;
    double ratio[MAX_ROUNDS];
    unsigned long reopened = 0;
    struct rlimit rl;
    char *data;
    int per_kind, nidle, rounds, secs;

    mem_init();
    secs = argc > 1 ? arg_int(argv[1]) : 10;
    per_kind = argc > 2 ? arg_int(argv[2]) : 4;
    nidle = argc > 3 ? arg_int(argv[3]) : 1000;
    rounds = argc > 4 ? arg_int(argv[4]) : 3;
    if (secs < 1 || per_kind < 1 || per_kind > 4 || nidle < 0 ||
        nidle > MAX_IDLE || rounds < 1 || rounds > MAX_ROUNDS) {
        fprintf(stderr, "usage: load_bench [SECS>=1] [L 1..4] [IDLE "
                "0..%d] [R 1..%d]\n", MAX_IDLE, MAX_ROUNDS);
        return 2;
    }
    /* the hostile side needs its descriptors */
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    data = mem_alloc(ART_LEN);
    if (!data || agentproc_new(&a, NULL) < 0 || agentproc_start(a) < 0) {
        fprintf(stderr, "load_bench: cannot start the agent\n");
        return 1;
    }
    testutil_random(data, ART_LEN);
    testutil_sha256_hex(c.hex, data, ART_LEN);
    hexes[0] = c.hex;
    if (agentproc_put_config(a, 1, hexes, 1) != 204 ||
        agentproc_put_artifact(a, c.hex, 1, data, ART_LEN, NULL) != 200) {
        fprintf(stderr, "load_bench: cannot store the artifact\n");
        return 1;
    }
    mem_free(data);
    c.api = agentproc_api_port(a);
    c.depot = agentproc_depot_port(a);
    c.secs = 2;
    run(&warm, &c, per_kind);
    c.secs = secs;
    printf("load_bench: sledagent, %d s per run, %d legitimate clients "
           "(%d each: list, config, 64 KiB depot range); hostile: %d idle, "
           "%d slowloris heads, %d non-reading depot readers\n", secs,
           per_kind * K_N, per_kind, nidle, SLOW_HEADS, SLOW_READERS);
    for (int i = 0; i < rounds; i++) {
        run(&clean[i], &c, per_kind);
        hostile_start(&h, &c, nidle);
        run(&hostile[i], &c, per_kind);
        hostile_stop(&h);
        reopened += h.reopened;
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
    printf("median of %d rounds: p99 clean %.2f ms, hostile %.2f ms; "
           "p99 ratio hostile/clean %.2f (goal <= 2); hostile connections "
           "closed by the agent and reopened: %lu\n", rounds,
           clean[rounds / 2].p99, hostile[rounds / 2].p99,
           ratio[rounds / 2], reopened);
    agentproc_free(a);
    return 0;
}
