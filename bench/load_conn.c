/* SPDX-License-Identifier: MPL-2.0 */
/*
 * load_conn: the load bench's plaintext and TLS client connections (see
 * load_conn.h). The SSL_CTX is set up once before any thread starts and
 * only read afterwards.
 */
#include "bench/load_conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

static SSL_CTX *ctx;

int lconn_tls_setup(const char *ca, const char *cert, const char *key)
{
    ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx || SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1 ||
        SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1 ||
        SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
        fprintf(stderr, "load_bench: TLS set-up failed (%s, %s)\n", ca,
                cert);
        ERR_print_errors_fp(stderr);
        return -1;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    return 0;
}

void lconn_tls_cleanup(void)
{
    SSL_CTX_free(ctx);
    ctx = NULL;
}

static int dial(int port, int from, long timeout_ms, int rcvbuf)
{
    struct sockaddr_in src = {0}, dst = {0};
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
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
    if (rcvbuf > 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    /* Linux applies SO_SNDTIMEO to connect() too */
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    dst.sin_family = AF_INET;
    dst.sin_port = htons((uint16_t)port);
    dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&dst, sizeof(dst)) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static SSL *ssl_on(int fd)
{
    SSL *s = ctx ? SSL_new(ctx) : NULL;

    if (!s)
        return NULL;
    if (SSL_set_fd(s, fd) != 1 || SSL_set1_host(s, "127.0.0.1") != 1) {
        SSL_free(s);
        return NULL;
    }
    return s;
}

int lconn_open_rcvbuf(struct lconn *c, int port, int from, bool tls,
                      long timeout_ms, int rcvbuf)
{
    c->fd = dial(port, from, timeout_ms, rcvbuf);
    c->ssl = NULL;
    c->tls = false;
    if (c->fd < 0 || !tls)
        return c->fd < 0 ? -1 : 0;
    c->ssl = ssl_on(c->fd);
    c->tls = true;
    if (!c->ssl || SSL_connect(c->ssl) != 1) {
        lconn_close(c);
        return -1;
    }
    return 0;
}

int lconn_open(struct lconn *c, int port, int from, bool tls,
               long timeout_ms)
{
    return lconn_open_rcvbuf(c, port, from, tls, timeout_ms, 0);
}

int lconn_open_hello(struct lconn *c, int port, int from, long timeout_ms)
{
    int r;

    c->fd = dial(port, from, timeout_ms, 0);
    c->ssl = NULL;
    c->tls = false;
    if (c->fd < 0)
        return -1;
    c->ssl = ssl_on(c->fd);
    if (!c->ssl || fcntl(c->fd, F_SETFL, O_NONBLOCK) < 0) {
        lconn_close(c);
        return -1;
    }
    r = SSL_connect(c->ssl); /* the ClientHello goes out; never resumed */
    if (r == 1 || SSL_get_error(c->ssl, r) != SSL_ERROR_WANT_READ) {
        lconn_close(c);
        return -1;
    }
    return 0;
}

int lconn_send(struct lconn *c, const void *buf, size_t len)
{
    if (c->fd < 0)
        return -1;
    if (c->tls) {
        size_t done = 0;

        while (done < len) {
            size_t n = 0;

            if (SSL_write_ex(c->ssl, (const char *)buf + done, len - done,
                             &n) != 1)
                return -1;
            done += n;
        }
        return 0;
    }
    return send(c->fd, buf, len, MSG_NOSIGNAL) == (ssize_t)len ? 0 : -1;
}

ssize_t lconn_recv(struct lconn *c, void *buf, size_t cap)
{
    size_t n = 0;
    int r;

    if (c->fd < 0)
        return -1;
    if (!c->tls)
        return recv(c->fd, buf, cap, 0);
    r = SSL_read_ex(c->ssl, buf, cap, &n);
    if (r == 1)
        return (ssize_t)n;
    return SSL_get_error(c->ssl, r) == SSL_ERROR_ZERO_RETURN ? 0 : -1;
}

bool lconn_gone(struct lconn *c)
{
    struct pollfd p = {c->fd, POLLIN, 0};
    char b[4096];
    int fl;

    if (c->fd < 0)
        return true;
    if (poll(&p, 1, 0) <= 0)
        return false;
    if (p.revents & (POLLHUP | POLLERR))
        return true;
    fl = fcntl(c->fd, F_GETFL);
    fcntl(c->fd, F_SETFL, fl | O_NONBLOCK);
    for (;;) {
        ssize_t n;

        if (c->tls) {
            size_t got = 0;
            int r = SSL_read_ex(c->ssl, b, sizeof(b), &got);
            int e = r == 1 ? SSL_ERROR_NONE : SSL_get_error(c->ssl, r);

            /* a session ticket or a reply: read on; nothing more: alive */
            if (e == SSL_ERROR_NONE)
                continue;
            fcntl(c->fd, F_SETFL, fl);
            return e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE;
        }
        n = recv(c->fd, b, sizeof(b), MSG_DONTWAIT);
        if (n > 0)
            continue;
        fcntl(c->fd, F_SETFL, fl);
        return n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK);
    }
}

void lconn_close(struct lconn *c)
{
    if (c->ssl)
        SSL_free(c->ssl); /* no close_notify: a client that just leaves */
    if (c->fd >= 0)
        close(c->fd);
    c->ssl = NULL;
    c->fd = -1;
    c->tls = false;
}
