/* SPDX-License-Identifier: MPL-2.0 */
/*
 * load_conn: the load bench's client connections (bench/load_bench.c),
 * plaintext or mutual TLS written directly on OpenSSL (one SSL_CTX for the
 * process: the rack CA and one client certificate), from a chosen
 * loopback source address. Blocking, with send/receive/connect timeouts,
 * for the legitimate clients and the hostile ones that finish their
 * handshake; and the hostile half-open kinds: a TCP connection that never
 * starts its handshake, one that sent its ClientHello and never goes on.
 */
#ifndef BENCH_LOAD_CONN_H
#define BENCH_LOAD_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct lconn {
    int fd;       /* -1: closed */
    void *ssl;    /* SSL *, NULL on plaintext */
    bool tls;     /* the exchange is over ssl */
};

#define LCONN_INIT {-1, NULL, false}

/* Set up TLS for every later lconn_open(.., tls=true): trust ca, present
 * cert/key. 0, or -1 with a message on stderr. */
int lconn_tls_setup(const char *ca, const char *cert, const char *key);
void lconn_tls_cleanup(void);

/*
 * Connect to 127.0.0.1:port from 127.0.0.(1 + from) (from 0: any) with
 * send/receive timeouts of timeout_ms (connect included), and on tls
 * finish the handshake. 0, or -1 (c stays closed).
 */
int lconn_open(struct lconn *c, int port, int from, bool tls,
               long timeout_ms);

/* The same with a receive buffer of rcvbuf bytes (0: the default), set
 * before the connect: a reader that never reads fills it quickly. */
int lconn_open_rcvbuf(struct lconn *c, int port, int from, bool tls,
                      long timeout_ms, int rcvbuf);

/* The same, but on tls only send the ClientHello: the handshake is never
 * finished (c->tls stays false; c->ssl is kept to be freed). */
int lconn_open_hello(struct lconn *c, int port, int from, long timeout_ms);

/* Send all of buf: 0, or -1. */
int lconn_send(struct lconn *c, const void *buf, size_t len);

/* Receive up to cap bytes: the count, 0 at the end, -1 on error. */
ssize_t lconn_recv(struct lconn *c, void *buf, size_t cap);

/* Whether the server closed c (without blocking: what it sent meanwhile
 * is read and discarded). A closed c (fd -1) is gone. */
bool lconn_gone(struct lconn *c);

void lconn_close(struct lconn *c);

#endif
