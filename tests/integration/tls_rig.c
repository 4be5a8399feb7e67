/* SPDX-License-Identifier: MPL-2.0 */
/*
 * tls_rig: the PKI fixtures and the small OpenSSL client of the mutual-TLS
 * listener tests (see tls_rig.h). Blocking sockets with 20 s timeouts;
 * the handshake flood uses non-blocking ones and poll. Test thread only.
 */
#include "tests/integration/tls_rig.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/mem.h"
#include "replicator/pki.h"
#include "tests/support/testutil.h"

#define RIG_IO_SECS 20

struct tls_flood {
    SSL_CTX *ctx;
    size_t n;
    int *fd;
    SSL **ssl;
    char *done;
};

static char *joinf(const char *dir, const char *name, const char *ext)
{
    char tmp[256];

    snprintf(tmp, sizeof(tmp), "%s%s", name, ext);
    return testutil_join(dir, tmp);
}

struct tls_cred tls_rig_issue(struct tls_rig *g, const char *name,
                              enum tls_role role, const char *id,
                              int64_t now, unsigned days, int other)
{
    struct tls_cred c = {joinf(g->dir, name, ".pem"),
                         joinf(g->dir, name, ".key")};
    struct pki_leaf_req req = {role, id, days, NULL, 0, c.cert, c.key};
    static const char *const ips[] = {"127.0.0.1"};
    struct err err = ERR_INIT;

    req.ips = ips;
    req.nips = 1;
    pki__set_now(now);
    if (pki_issue(NULL, other ? g->other : g->pki, &req, &err) < 0)
        fail_msg("issue %s: %s", name, err.msg);
    pki__set_now(0);
    return c;
}

void tls_rig_init(struct tls_rig *g)
{
    struct err err = ERR_INIT;
    struct tls_cred c;

    memset(g, 0, sizeof(*g));
    assert_int_equal(testutil_tmpdir(&g->dir, "tlsrig"), 0);
    g->pki = testutil_join(g->dir, "pki");
    g->other = testutil_join(g->dir, "other");
    g->ca = testutil_join(g->pki, "ca.pem");
    if (pki_init(g->pki, TLS_RIG_RACK, 30, &err) < 0 ||
        pki_init(g->other, TLS_RIG_RACK, 30, &err) < 0)
        fail_msg("pki init: %s", err.msg);
    c = tls_rig_issue(g, "controller-ctl", TLS_ROLE_CONTROLLER, "ctl", 0, 30,
                      0);
    tls_cred_release(&c);
    c = tls_rig_issue(g, "operator-op", TLS_ROLE_OPERATOR, "op", 0, 30, 0);
    tls_cred_release(&c);
    c = tls_rig_issue(g, "sled-1", TLS_ROLE_SLED, TLS_RIG_SLED, 0, 30, 0);
    tls_cred_release(&c);
    c = tls_rig_issue(g, "sled-2", TLS_ROLE_SLED, TLS_RIG_SLED2, 0, 30, 0);
    tls_cred_release(&c);
}

void tls_rig_free(struct tls_rig *g)
{
    if (g->dir && !getenv("RD_KEEP_TEST_DIRS"))
        testutil_rmrf(g->dir);
    mem_free(g->dir);
    mem_free(g->pki);
    mem_free(g->other);
    mem_free(g->ca);
    memset(g, 0, sizeof(*g));
}

struct tls_cred tls_rig_cred(struct tls_rig *g, const char *name)
{
    struct tls_cred c = {joinf(g->dir, name, ".pem"),
                         joinf(g->dir, name, ".key")};

    return c;
}

void tls_cred_release(struct tls_cred *c)
{
    mem_free(c->cert);
    mem_free(c->key);
    c->cert = c->key = NULL;
}

static SSL_CTX *client_ctx(const char *ca, const struct tls_cred *cred,
                           int max_version)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

    assert_non_null(ctx);
    SSL_CTX_set_max_proto_version(ctx, max_version ? max_version
                                                   : TLS1_3_VERSION);
    assert_int_equal(SSL_CTX_load_verify_file(ctx, ca), 1);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    if (cred && cred->cert) {
        assert_int_equal(SSL_CTX_use_certificate_chain_file(ctx, cred->cert),
                         1);
        assert_int_equal(SSL_CTX_use_PrivateKey_file(ctx, cred->key,
                                                     SSL_FILETYPE_PEM),
                         1);
    }
    return ctx;
}

static int dial(uint16_t port, bool nonblock)
{
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons(port)};
    struct timeval tv = {RIG_IO_SECS, 0};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    assert_true(fd >= 0);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (nonblock)
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 &&
        errno != EINPROGRESS)
        fail_msg("connect to %u: %s", (unsigned)port, strerror(errno));
    return fd;
}

/* Parse "HTTP/1.1 NNN ..." and split off the body. */
static long parse_reply(char **body, const struct buf *in)
{
    const char *hdr_end;
    long status;

    if (in->len < 12 || strncmp(in->data, "HTTP/1.", 7) != 0)
        return -1;
    status = strtol(in->data + 9, NULL, 10);
    hdr_end = strstr(in->data, "\r\n\r\n");
    if (body)
        *body = mem_strdup(hdr_end ? hdr_end + 4 : "");
    return status;
}

/* One exchange; the raw reply in *in. The status or -1. */
static long exchange(struct buf *in, const char *ca,
                     const struct tls_cred *cred, int max_version,
                     uint16_t port, const char *method, const char *path,
                     const char *data, size_t len)
{
    SSL_CTX *ctx = client_ctx(ca, cred, max_version);
    SSL *ssl = SSL_new(ctx);
    struct buf out = BUF_INIT;
    char chunk[16384];
    int fd = dial(port, false), n;
    long status = -1;

    SSL_set_fd(ssl, fd);
    if (SSL_connect(ssl) != 1)
        goto out;
    buf_printf(&out, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: "
               "%zu\r\nConnection: close\r\n\r\n", method, path, len);
    if (len)
        buf_append(&out, data, len);
    if (SSL_write(ssl, out.data, (int)out.len) != (int)out.len)
        goto out;
    while ((n = SSL_read(ssl, chunk, sizeof(chunk))) > 0)
        buf_append(in, chunk, (size_t)n);
    buf_append(in, "", 1);
    status = parse_reply(NULL, in);
out:
    ERR_clear_error();
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    close(fd);
    buf_release(&out);
    return status;
}

long tls_rig_request(char **body, const char *ca, const struct tls_cred *cred,
                     int max_version, uint16_t port, const char *method,
                     const char *path, const char *data, size_t len)
{
    struct buf in = BUF_INIT;
    long status = exchange(&in, ca, cred, max_version, port, method, path,
                           data, len);

    if (body)
        *body = NULL;
    if (status >= 0 && body)
        parse_reply(body, &in);
    buf_release(&in);
    return status;
}

long tls_rig_fetch_check(const char *ca, const struct tls_cred *cred,
                         uint16_t port, const char *path, const void *want,
                         size_t len)
{
    struct buf in = BUF_INIT;
    long status = exchange(&in, ca, cred, 0, port, "GET", path, NULL, 0);
    const char *end = status >= 0 ? strstr(in.data, "\r\n\r\n") : NULL;

    if (status >= 0) {
        size_t got = end ? in.len - 1 - (size_t)(end + 4 - in.data) : 0;

        if (!end || got != len || memcmp(end + 4, want, len) != 0) {
            fprintf(stderr, "tls_rig: body of %zu bytes, want %zu\n", got,
                    len);
            status = -2;
        }
    }
    buf_release(&in);
    return status;
}

long tls_rig_plain(uint16_t port, const char *path)
{
    struct buf in = BUF_INIT;
    char req[256], chunk[4096];
    int fd = dial(port, false);
    ssize_t n;
    long status;

    snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: x\r\n"
             "Connection: close\r\n\r\n", path);
    if (write(fd, req, strlen(req)) < 0) {
        close(fd);
        return -1;
    }
    while ((n = read(fd, chunk, sizeof(chunk))) > 0)
        buf_append(&in, chunk, (size_t)n);
    buf_append(&in, "", 1);
    status = parse_reply(NULL, &in);
    close(fd);
    buf_release(&in);
    return status;
}

struct tls_flood *tls_rig_flood_start(const char *ca,
                                      const struct tls_cred *cred,
                                      uint16_t port, size_t n)
{
    struct tls_flood *f = mem_calloc(1, sizeof(*f));

    assert_non_null(f);
    f->ctx = client_ctx(ca, cred, 0);
    f->n = n;
    f->fd = mem_calloc(n, sizeof(int));
    f->ssl = mem_calloc(n, sizeof(SSL *));
    f->done = mem_calloc(n, 1);
    assert_true(f->fd && f->ssl && f->done);
    for (size_t i = 0; i < n; i++) {
        f->fd[i] = dial(port, true);
        f->ssl[i] = SSL_new(f->ctx);
        SSL_set_fd(f->ssl[i], f->fd[i]);
        SSL_set_connect_state(f->ssl[i]);
        (void)SSL_do_handshake(f->ssl[i]); /* ClientHello, or later */
    }
    ERR_clear_error();
    return f;
}

size_t tls_rig_flood_finish(struct tls_flood *f, long timeout_ms)
{
    struct timespec t0, t;
    size_t ok = 0, left = f->n;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (left > 0) {
        for (size_t i = 0; i < f->n; i++) {
            int rc;

            if (f->done[i])
                continue;
            rc = SSL_do_handshake(f->ssl[i]);
            if (rc == 1 || (rc <= 0 && SSL_get_error(f->ssl[i], rc) !=
                                           SSL_ERROR_WANT_READ &&
                            SSL_get_error(f->ssl[i], rc) !=
                                SSL_ERROR_WANT_WRITE)) {
                f->done[i] = 1;
                ok += rc == 1;
                left--;
            }
        }
        ERR_clear_error();
        clock_gettime(CLOCK_MONOTONIC, &t);
        if ((t.tv_sec - t0.tv_sec) * 1000 +
                (t.tv_nsec - t0.tv_nsec) / 1000000 > timeout_ms)
            break;
        poll(NULL, 0, 5);
    }
    for (size_t i = 0; i < f->n; i++) {
        SSL_free(f->ssl[i]);
        close(f->fd[i]);
    }
    SSL_CTX_free(f->ctx);
    mem_free(f->fd);
    mem_free(f->ssl);
    mem_free(f->done);
    mem_free(f);
    return ok;
}

struct tls_conn {
    SSL_CTX *ctx;
    SSL *ssl;
    int fd;
};

struct tls_conn *tls_rig_connect(const char *ca, const struct tls_cred *cred,
                                 uint16_t port)
{
    struct tls_conn *c = mem_calloc(1, sizeof(*c));

    assert_non_null(c);
    c->ctx = client_ctx(ca, cred, 0);
    c->ssl = SSL_new(c->ctx);
    c->fd = dial(port, false);
    SSL_set_fd(c->ssl, c->fd);
    if (SSL_connect(c->ssl) != 1) {
        tls_rig_conn_close(c);
        return NULL;
    }
    return c;
}

/* Read up to the end of the head into in; the Content-Length in *clen. */
static int read_head(struct tls_conn *c, struct buf *in, size_t *clen)
{
    char ch;
    const char *cl;

    while (in->len < 4 || memcmp(in->data + in->len - 4, "\r\n\r\n", 4)) {
        if (SSL_read(c->ssl, &ch, 1) != 1 || in->len > 16384)
            return -1;
        buf_append(in, &ch, 1);
    }
    buf_append(in, "", 1);
    cl = strcasestr(in->data, "\r\ncontent-length:");
    *clen = cl ? (size_t)strtoull(cl + 17, NULL, 10) : 0;
    return 0;
}

long tls_rig_conn_get(struct tls_conn *c, const char *path)
{
    struct buf out = BUF_INIT, in = BUF_INIT;
    char chunk[4096];
    size_t clen = 0;
    long status = -1;

    buf_printf(&out, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", path);
    if (SSL_write(c->ssl, out.data, (int)out.len) != (int)out.len ||
        read_head(c, &in, &clen) < 0)
        goto out;
    status = parse_reply(NULL, &in);
    while (clen > 0) {
        int n = SSL_read(c->ssl, chunk,
                         (int)(clen < sizeof(chunk) ? clen : sizeof(chunk)));

        if (n <= 0) {
            status = -1;
            break;
        }
        clen -= (size_t)n;
    }
out:
    ERR_clear_error();
    buf_release(&out);
    buf_release(&in);
    return status;
}

char *tls_rig_conn_server_serial(struct tls_conn *c)
{
    char serial[TLS_SERIAL_HEX_MAX + 1];
    X509 *x = SSL_get0_peer_certificate(c->ssl);

    assert_non_null(x);
    assert_int_equal(tls_cert_serial(serial, x, NULL), 0);
    return mem_strdup(serial);
}

int tls_rig_conn_send(struct tls_conn *c, const void *data, size_t len)
{
    int n = SSL_write(c->ssl, data, (int)len);

    ERR_clear_error();
    return n == (int)len ? 0 : -1;
}

bool tls_rig_conn_closed(struct tls_conn *c, long timeout_ms)
{
    return tls_rig_conn_drained(c, timeout_ms, NULL);
}

bool tls_rig_conn_drained(struct tls_conn *c, long timeout_ms,
                          uint64_t *bytes)
{
    int64_t end = testutil_now_ms() + timeout_ms;
    char buf[16384];

    for (;;) {
        struct pollfd pfd = {c->fd, POLLIN, 0};
        int64_t left = end - testutil_now_ms();
        int n;

        if (left <= 0)
            return false;
        if (SSL_pending(c->ssl) == 0 && poll(&pfd, 1, (int)left) <= 0)
            continue;
        n = SSL_read(c->ssl, buf, sizeof(buf));
        if (n > 0) {
            if (bytes)
                *bytes += (uint64_t)n;
            continue;
        }
        if (SSL_get_error(c->ssl, n) == SSL_ERROR_WANT_READ) {
            ERR_clear_error();
            continue;
        }
        ERR_clear_error();
        return true;
    }
}

void tls_rig_conn_close(struct tls_conn *c)
{
    if (!c)
        return;
    SSL_free(c->ssl);
    SSL_CTX_free(c->ctx);
    close(c->fd);
    mem_free(c);
}

long tls_rig_silent(uint16_t port, long timeout_ms)
{
    int fd = dial(port, false);
    struct pollfd pfd = {fd, POLLIN, 0};
    char ch;
    long rc = -1;

    if (poll(&pfd, 1, (int)timeout_ms) == 1 && read(fd, &ch, 1) <= 0)
        rc = 0;
    close(fd);
    return rc;
}
