/* SPDX-License-Identifier: MPL-2.0 */
/*
 * load_hostile: the load bench's hostile clients (see load_hostile.h).
 * One thread owns every connection; the bench's main thread only starts
 * and stops it.
 */
#include "bench/load_hostile.h"

#include <poll.h>
#include <sys/resource.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bench/load_conn.h"
#include "common/mem.h"

#define HOSTILE_ADDRS 16
#define DIAL_MS 2000

enum hkind { H_TCP, H_HELLO, H_TLS_IDLE, H_HEAD, H_READER };

struct hconn {
    struct lconn c;
    enum hkind k;
    int port;
    size_t pos; /* heads: bytes sent */
};

struct hostile {
    struct hostile_cfg cfg;
    char head[256];
    size_t head_len;
    char reader_req[512];
    struct hconn *v;
    size_t n;
    int stop, ready; /* atomics */
    unsigned long reopened;
    double cpu_s; /* the thread's user + system time */
    pthread_t th;
};

static void hopen(struct hostile *h, struct hconn *x, size_t i)
{
    int from = 1 + (int)(i % HOSTILE_ADDRS);
    bool tls = h->cfg.tls;

    x->pos = 0;
    switch (x->k) {
    case H_TCP:
        (void)lconn_open(&x->c, x->port, from, false, DIAL_MS);
        break;
    case H_HELLO:
        (void)lconn_open_hello(&x->c, x->port, from, DIAL_MS);
        break;
    case H_TLS_IDLE:
    case H_HEAD:
        (void)lconn_open(&x->c, x->port, from, tls, DIAL_MS);
        break;
    case H_READER:
        if (lconn_open_rcvbuf(&x->c, x->port, from, tls, DIAL_MS, 4096) ==
                0 &&
            lconn_send(&x->c, h->reader_req, strlen(h->reader_req)) < 0)
            lconn_close(&x->c);
        break;
    }
}

/* A reader never reads: only a reset or hang-up tells it is closed. */
static bool reader_gone(const struct lconn *c)
{
    struct pollfd p = {c->fd, POLLIN, 0};

    return c->fd < 0 ||
           (poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLERR)));
}

static void tick(struct hostile *h, struct hconn *x, size_t i)
{
    bool gone = x->k == H_READER ? reader_gone(&x->c) : lconn_gone(&x->c);

    if (!gone && x->k == H_HEAD) {
        /* one byte a second; a whole head is answered: start over */
        gone = x->pos >= h->head_len ||
               lconn_send(&x->c, h->head + x->pos, 1) < 0;
        x->pos++;
    }
    if (!gone)
        return;
    h->reopened += x->c.fd >= 0;
    lconn_close(&x->c);
    hopen(h, x, i);
}

static void *hostile_run(void *arg)
{
    struct hostile *h = arg;
    struct rusage ru;

    for (size_t i = 0; i < h->n; i++)
        hopen(h, &h->v[i], i);
    __atomic_store_n(&h->ready, 1, __ATOMIC_RELEASE);
    while (!__atomic_load_n(&h->stop, __ATOMIC_ACQUIRE)) {
        for (size_t i = 0; i < h->n; i++)
            tick(h, &h->v[i], i);
        for (int k = 0; k < 10 && !__atomic_load_n(&h->stop,
                                                    __ATOMIC_ACQUIRE); k++)
            usleep(100 * 1000);
    }
    for (size_t i = 0; i < h->n; i++)
        lconn_close(&h->v[i].c);
    if (getrusage(RUSAGE_THREAD, &ru) == 0)
        h->cpu_s = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                   (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
    return NULL;
}

struct hostile *hostile_start(const struct hostile_cfg *c)
{
    struct hostile *h = mem_calloc(1, sizeof(*h));
    size_t k = 0;

    if (!h)
        return NULL;
    h->cfg = *c;
    h->n = (size_t)c->nidle + HOSTILE_HEADS + HOSTILE_READERS;
    h->v = mem_calloc(h->n, sizeof(*h->v));
    if (!h->v) {
        mem_free(h);
        return NULL;
    }
    h->head_len = (size_t)snprintf(h->head, sizeof(h->head),
                                   "GET %s HTTP/1.1\r\nHost: x\r\nX-Slow: "
                                   "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n",
                                   c->head_path);
    snprintf(h->reader_req, sizeof(h->reader_req),
             "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", c->reader_path);
    for (int i = 0; i < c->nidle; i++, k++) {
        h->v[k].k = !c->tls ? H_TCP : (enum hkind)(i % 3);
        h->v[k].port = c->ports[i % c->nports];
    }
    for (int i = 0; i < HOSTILE_HEADS; i++, k++) {
        h->v[k].k = H_HEAD;
        h->v[k].port = c->ports[i % c->nports];
    }
    for (int i = 0; i < HOSTILE_READERS; i++, k++) {
        h->v[k].k = H_READER;
        h->v[k].port = c->reader_port;
    }
    for (size_t i = 0; i < h->n; i++)
        h->v[i].c = (struct lconn)LCONN_INIT;
    if (pthread_create(&h->th, NULL, hostile_run, h) != 0) {
        mem_free(h->v);
        mem_free(h);
        return NULL;
    }
    while (!__atomic_load_n(&h->ready, __ATOMIC_ACQUIRE))
        usleep(50 * 1000);
    sleep(1); /* the server has accepted them */
    return h;
}

unsigned long hostile_stop(struct hostile *h, double *cpu_s)
{
    unsigned long n;

    __atomic_store_n(&h->stop, 1, __ATOMIC_RELEASE);
    pthread_join(h->th, NULL);
    n = h->reopened;
    *cpu_s += h->cpu_s;
    mem_free(h->v);
    mem_free(h);
    sleep(1); /* the server sees them closed */
    return n;
}
