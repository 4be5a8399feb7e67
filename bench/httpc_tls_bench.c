/* SPDX-License-Identifier: MPL-2.0 */
/*
 * httpc_tls_bench: the client side of "an activation over 32 sleds over
 * TLS within 1.5x plaintext". 32 in-process servers (one thread per
 * connection, answering each GET with a small JSON body, like a config
 * push or a list), and the replicator's pattern on one httpc loop: R
 * rounds, each one request to every server at once, connections kept
 * alive between rounds. Prints the time over plaintext, over mutual TLS
 * 1.3 (certificates from replicator/pki, peer id checked per request)
 * and their ratio. Usage: httpc_tls_bench [ROUNDS] (default 20).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <pthread.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <event2/event.h>
#include <openssl/ssl.h>

#include "common/api_version.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/httpc.h"
#include "common/mem.h"
#include "common/tls.h"
#include "replicator/pki.h"

#define RACK "6f1e0c1e-5a5b-4c1d-9e2f-0123456789ab"
#define SLEDS 32

struct srv {
    int lfd, port;
    SSL_CTX *ctx;
    char id[40];
};

struct conn {
    SSL_CTX *ctx;
    int fd;
};

static void *conn_run(void *arg)
{
    struct conn *c = arg;
    static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Type: "
                               "application/json\r\nContent-Length: 17\r\n"
                               "\r\n{\"generation\": 7}";
    SSL *ssl = NULL;
    char req[4096];
    size_t n = 0;

    if (c->ctx) {
        ssl = SSL_new(c->ctx);
        SSL_set_fd(ssl, c->fd);
        if (SSL_accept(ssl) != 1)
            goto out;
    }
    for (;;) {
        int k = ssl ? SSL_read(ssl, req + n, (int)(sizeof(req) - n - 1))
                    : (int)recv(c->fd, req + n, sizeof(req) - n - 1, 0);

        if (k <= 0)
            break;
        n += (size_t)k;
        req[n] = '\0';
        if (strstr(req, "\r\n\r\n")) {
            if (ssl)
                SSL_write(ssl, resp, (int)strlen(resp));
            else
                (void)!send(c->fd, resp, strlen(resp), MSG_NOSIGNAL);
            n = 0;
        }
    }
out:
    SSL_free(ssl);
    close(c->fd);
    mem_free(c);
    return NULL;
}

static void *accept_run(void *arg)
{
    struct srv *s = arg;

    for (;;) {
        int fd = accept(s->lfd, NULL, NULL);
        struct conn *c;
        pthread_t th;

        if (fd < 0)
            return NULL;
        c = mem_calloc(1, sizeof(*c));
        if (!c) {
            close(fd);
            continue;
        }
        c->ctx = s->ctx;
        c->fd = fd;
        pthread_create(&th, NULL, conn_run, c);
        pthread_detach(th);
    }
}

static void srv_start(struct srv *s)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    socklen_t len = sizeof(a);
    pthread_t th;

    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    s->lfd = socket(AF_INET, SOCK_STREAM, 0);
    if (bind(s->lfd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
        listen(s->lfd, 64) < 0 ||
        getsockname(s->lfd, (struct sockaddr *)&a, &len) < 0) {
        perror("server");
        exit(1);
    }
    s->port = ntohs(a.sin_port);
    pthread_create(&th, NULL, accept_run, s);
    pthread_detach(th);
}

struct run {
    struct event_base *base;
    unsigned left, failed;
};

static void on_done(struct httpc *h, void *arg)
{
    struct run *r = arg;

    if (httpc_result(h, NULL) < 0 || httpc_status(h) != 200)
        r->failed++;
    if (--r->left == 0)
        event_base_loopbreak(r->base);
}

/* R rounds of one GET per server; seconds. */
static double rounds(struct srv *s, unsigned nrounds, const struct tls_files *f)
{
    struct event_base *base = event_base_new();
    struct httpc_loop *l = NULL;
    struct httpc *h[SLEDS];
    struct timespec t0, t1;
    struct run r = {base, 0, 0};

    httpc_loop_new(&l, base);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (unsigned k = 0; k < nrounds; k++) {
        r.left = SLEDS;
        for (unsigned i = 0; i < SLEDS; i++) {
            struct httpc_spec sp = {0};
            char url[96];

            snprintf(url, sizeof(url), "%s://127.0.0.1:%d/artifacts",
                     f ? "https" : "http", s[i].port);
            sp.url = url;
            sp.api_version = API_VERSION_SLED_AGENT;
            sp.sink.kind = HTTPC_SINK_BUF;
            if (f) {
                sp.tls.ca_file = f->ca;
                sp.tls.cert_file = f->cert;
                sp.tls.key_file = f->key;
                sp.tls.roles = HTTPC_ROLE(TLS_ROLE_SLED);
                sp.tls.peer_id = s[i].id;
            }
            if (httpc_new(&h[i], &sp, NULL) < 0 ||
                httpc_start(l, h[i], on_done, &r) < 0)
                exit(1);
        }
        event_base_dispatch(base);
        for (unsigned i = 0; i < SLEDS; i++)
            httpc_free(h[i]);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (r.failed)
        fprintf(stderr, "%u requests failed\n", r.failed);
    httpc_loop_free(l);
    event_base_free(base);
    return (double)(t1.tv_sec - t0.tv_sec) +
           (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
}

int main(int argc, char **argv)
{
    unsigned nrounds = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 20;
    char dir[] = "/tmp/httpc_tls_bench.XXXXXX";
    static struct srv plain[SLEDS], tls[SLEDS];
    struct err e = ERR_INIT;
    struct buf ca = BUF_INIT, cert = BUF_INIT, key = BUF_INIT;
    struct tls_files cf;
    double tp, tt;

    mem_init();
    httpc_global_init();
    if (!mkdtemp(dir) || pki_init(dir, RACK, 30, &e) < 0) {
        fprintf(stderr, "pki: %s\n", e.msg);
        return 1;
    }
    buf_printf(&ca, "%s/ca.pem", dir);
    for (unsigned i = 0; i < SLEDS; i++) {
        struct pki_leaf_req req = {TLS_ROLE_SLED, NULL, 30, NULL, 0, NULL,
                                   NULL};
        struct tls_files f;

        snprintf(tls[i].id, sizeof(tls[i].id),
                 "11111111-2222-4333-8444-%012u", i);
        req.id = tls[i].id;
        buf_reset(&cert);
        buf_reset(&key);
        buf_printf(&cert, "%s/sled-%s.pem", dir, tls[i].id);
        buf_printf(&key, "%s/sled-%s.key", dir, tls[i].id);
        f.ca = ca.data;
        f.cert = cert.data;
        f.key = key.data;
        if (pki_issue(NULL, dir, &req, &e) < 0 ||
            tls_server_ctx_new(&tls[i].ctx, &f, RACK, NULL, &e) < 0) {
            fprintf(stderr, "sled %u: %s\n", i, e.msg);
            return 1;
        }
        srv_start(&tls[i]);
        srv_start(&plain[i]);
    }
    {
        struct pki_leaf_req req = {TLS_ROLE_CONTROLLER, "ctl-1", 30, NULL, 0,
                                   NULL, NULL};

        if (pki_issue(NULL, dir, &req, &e) < 0) {
            fprintf(stderr, "controller: %s\n", e.msg);
            return 1;
        }
    }
    buf_reset(&cert);
    buf_reset(&key);
    buf_printf(&cert, "%s/controller-ctl-1.pem", dir);
    buf_printf(&key, "%s/controller-ctl-1.key", dir);
    cf.ca = ca.data;
    cf.cert = cert.data;
    cf.key = key.data;
    rounds(plain, 1, NULL); /* warm up */
    tp = rounds(plain, nrounds, NULL);
    tt = rounds(tls, nrounds, &cf);
    printf("sleds %d rounds %u: plaintext %.3f s, mutual TLS %.3f s, "
           "ratio %.2f\n", SLEDS, nrounds, tp, tt, tt / tp);
    return 0;
}
