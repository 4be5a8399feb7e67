/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Tests of common/httpc's mutual TLS (httpc_tls.c) against an in-process
 * TLS 1.3 server (a listening socket on port 0, one thread per
 * connection, common/tls's server context) with certificates from
 * replicator/pki: the right identity answers; a wrong role, a wrong id, a
 * certificate of another CA, an expired, a not yet valid and a revoked
 * one are refused with a message naming the peer or the reason; a
 * plaintext server behind an https URL and a TLS 1.2-only server fail;
 * http:// with TLS, incomplete or missing files and no expected role are
 * refused before anything is sent; on the event loop a kept-alive
 * connection serves requests of the same expectation and is refused to a
 * request expecting another sled. Also the users: the replicator's sled
 * requests (task/sledreq.c), sled registration, the tests' client.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>

#include <cmocka.h>
#include <event2/event.h>
#include <openssl/ssl.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/httpc.h"
#include "common/mem.h"
#include "common/tls.h"
#include "replicator/pki.h"
#include "replicator/task/sledreq.h"
#include "sledagent/registration.h"
#include "tests/support/http_client.h"
#include "tests/support/testutil.h"

#define RACK "6f1e0c1e-5a5b-4c1d-9e2f-0123456789ab"
#define SLED "11111111-2222-4333-8444-555555555555"
#define SLED2 "22222222-2222-4333-8444-555555555555"
#define DAY 86400
#define MAX_CONNS 16

struct tserver {
    int lfd, port;
    SSL_CTX *ctx; /* NULL: plaintext */
    pthread_t th;
    pthread_t conns[MAX_CONNS];
    int fds[MAX_CONNS];
    unsigned nconns;
    int served; /* requests answered (atomic) */
};

struct conn {
    struct tserver *s;
    int fd;
};

static char *dir;  /* CA of RACK */
static char *dir2; /* another CA, also claiming RACK */

static void issue(const char *d, enum tls_role role, const char *id,
                  const char *base, unsigned days)
{
    struct pki_leaf_req req = {role, id, days, NULL, 0, NULL, NULL};
    struct err e = ERR_INIT;
    struct buf c = BUF_INIT, k = BUF_INIT;

    assert_int_equal(buf_printf(&c, "%s/%s.pem", d, base), 0);
    assert_int_equal(buf_printf(&k, "%s/%s.key", d, base), 0);
    req.out_cert = c.data;
    req.out_key = k.data;
    if (pki_issue(NULL, d, &req, &e) < 0)
        fail_msg("issue %s: %s", base, e.msg);
    buf_release(&c);
    buf_release(&k);
}

static int group_setup(void **state)
{
    struct err e = ERR_INIT;

    (void)state;
    signal(SIGPIPE, SIG_IGN); /* the test servers write to refused peers */
    mem_init();
    httpc_global_init();
    if (testutil_tmpdir(&dir, "httpctls") < 0 ||
        testutil_tmpdir(&dir2, "httpctls2") < 0 ||
        pki_init(dir, RACK, 3650, &e) < 0 ||
        pki_init(dir2, RACK, 3650, &e) < 0) {
        fprintf(stderr, "fixture: %s\n", e.msg);
        return -1;
    }
    issue(dir, TLS_ROLE_CONTROLLER, "ctl-1", "ctl", 90);
    issue(dir, TLS_ROLE_SLED, SLED, "sled", 90);
    issue(dir2, TLS_ROLE_SLED, SLED, "sled", 90);
    pki__set_now(time(NULL) - 10 * DAY);
    issue(dir, TLS_ROLE_SLED, SLED, "expired", 1);
    pki__set_now(time(NULL) + 10 * DAY);
    issue(dir, TLS_ROLE_SLED, SLED, "future", 30);
    pki__set_now(0);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    httpc_global_cleanup();
    testutil_rmrf(dir);
    testutil_rmrf(dir2);
    mem_free(dir);
    mem_free(dir2);
    return 0;
}

/* Answer each request of a connection with "ok" until it closes. */
static void *conn_run(void *arg)
{
    struct conn *c = arg;
    SSL *ssl = NULL;
    char req[4096];
    size_t n = 0;
    static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

    if (c->s->ctx) {
        ssl = SSL_new(c->s->ctx);
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
        if (!ssl || strstr(req, "\r\n\r\n")) {
            __atomic_add_fetch(&c->s->served, 1, __ATOMIC_SEQ_CST);
            if (ssl)
                SSL_write(ssl, resp, (int)strlen(resp));
            else
                (void)!send(c->fd, resp, strlen(resp), MSG_NOSIGNAL);
            n = 0;
        }
        if (n >= sizeof(req) - 1)
            break;
    }
out:
    SSL_free(ssl);
    mem_free(c);
    return NULL;
}

static void *accept_run(void *arg)
{
    struct tserver *s = arg;

    for (;;) {
        int fd = accept(s->lfd, NULL, NULL);
        struct conn *c;

        if (fd < 0)
            return NULL;
        if (s->nconns == MAX_CONNS || !(c = mem_calloc(1, sizeof(*c)))) {
            close(fd);
            continue;
        }
        c->s = s;
        c->fd = fd;
        s->fds[s->nconns] = fd;
        pthread_create(&s->conns[s->nconns++], NULL, conn_run, c);
    }
}

static void server_start(struct tserver *s, SSL_CTX *ctx)
{
    memset(s, 0, sizeof(*s));
    s->ctx = ctx;
    s->lfd = http_client_listener(&s->port, 16);
    assert_int_equal(pthread_create(&s->th, NULL, accept_run, s), 0);
}

static void server_stop(struct tserver *s)
{
    shutdown(s->lfd, SHUT_RDWR);
    pthread_join(s->th, NULL);
    close(s->lfd);
    for (unsigned i = 0; i < s->nconns; i++) {
        shutdown(s->fds[i], SHUT_RDWR);
        pthread_join(s->conns[i], NULL);
        close(s->fds[i]);
    }
    SSL_CTX_free(s->ctx);
}

/* A server context presenting d/base.pem, verifying clients by dir's CA. */
static SSL_CTX *server_ctx(const char *d, const char *base,
                           const struct tls_revoked *rev)
{
    struct buf c = BUF_INIT, k = BUF_INIT, ca = BUF_INIT;
    struct err e = ERR_INIT;
    struct tls_files f;
    SSL_CTX *ctx = NULL;

    assert_int_equal(buf_printf(&c, "%s/%s.pem", d, base), 0);
    assert_int_equal(buf_printf(&k, "%s/%s.key", d, base), 0);
    assert_int_equal(buf_printf(&ca, "%s/ca.pem", dir), 0);
    f.ca = ca.data;
    f.cert = c.data;
    f.key = k.data;
    if (tls_server_ctx_new(&ctx, &f, RACK, rev, &e) < 0)
        fail_msg("server ctx: %s", e.msg);
    buf_release(&c);
    buf_release(&k);
    buf_release(&ca);
    return ctx;
}

/* The controller's TLS files in dir (paths live in the fixture). */
struct client {
    struct buf ca, cert, key, url;
};

static void client_init(struct client *cl, const struct tserver *s,
                        const char *scheme)
{
    memset(cl, 0, sizeof(*cl));
    assert_int_equal(buf_printf(&cl->ca, "%s/ca.pem", dir), 0);
    assert_int_equal(buf_printf(&cl->cert, "%s/ctl.pem", dir), 0);
    assert_int_equal(buf_printf(&cl->key, "%s/ctl.key", dir), 0);
    assert_int_equal(buf_printf(&cl->url, "%s://127.0.0.1:%d/x", scheme,
                                s ? s->port : 1), 0);
}

static void client_release(struct client *cl)
{
    buf_release(&cl->ca);
    buf_release(&cl->cert);
    buf_release(&cl->key);
    buf_release(&cl->url);
}

static void spec_of(struct httpc_spec *sp, const struct client *cl,
                    unsigned roles, const char *id)
{
    memset(sp, 0, sizeof(*sp));
    sp->api_version = HTTPC_API_VERSION_NONE;
    sp->url = cl->url.data;
    sp->connect_ms = 5000;
    sp->total_ms = 10000;
    sp->tls.ca_file = cl->ca.data;
    sp->tls.cert_file = cl->cert.data;
    sp->tls.key_file = cl->key.data;
    sp->tls.roles = roles;
    sp->tls.peer_id = id;
}

/* One blocking GET; returns its rc, err's text in e. */
static int get(struct tserver *s, unsigned roles, const char *id,
               const struct tls_revoked *rev, struct err *e)
{
    struct client cl;
    struct httpc_spec sp;
    struct httpc *h = NULL;
    int rc;

    client_init(&cl, s, "https");
    spec_of(&sp, &cl, roles, id);
    sp.tls.revoked = rev;
    rc = httpc_new(&h, &sp, e);
    if (rc == 0) {
        rc = httpc_run(h, e);
        if (rc == 0) {
            assert_int_equal(httpc_status(h), 200);
            assert_memory_equal(httpc_body(h)->data, "ok", 2);
        } else {
            assert_true(httpc_peer_failed(h));
        }
    }
    httpc_free(h);
    client_release(&cl);
    return rc;
}

#define SLED_ROLE HTTPC_ROLE(TLS_ROLE_SLED)

static void test_httpc_tls__right_identity(void **state)
{
    struct tserver s;
    struct err e = ERR_INIT;

    (void)state;
    server_start(&s, server_ctx(dir, "sled", NULL));
    assert_int_equal(get(&s, SLED_ROLE, SLED, NULL, &e), 0);
    assert_int_equal(get(&s, SLED_ROLE, NULL, NULL, &e), 0);
    assert_int_equal(get(&s, SLED_ROLE | HTTPC_ROLE(TLS_ROLE_CONTROLLER),
                         NULL, NULL, &e), 0);
    server_stop(&s);
}

static void test_httpc_tls__wrong_role_or_id(void **state)
{
    struct tserver s;
    struct err e = ERR_INIT;

    (void)state;
    server_start(&s, server_ctx(dir, "sled", NULL));
    assert_int_equal(get(&s, HTTPC_ROLE(TLS_ROLE_CONTROLLER), NULL, NULL, &e),
                     ERR_UPSTREAM);
    assert_non_null(strstr(e.msg, "peer is sled " SLED
                                  ", expected a controller"));
    assert_int_equal(get(&s, SLED_ROLE, SLED2, NULL, &e), ERR_UPSTREAM);
    assert_non_null(strstr(e.msg, "peer is sled " SLED
                                  ", expected sled " SLED2));
    server_stop(&s);
}

static void test_httpc_tls__bad_certificates(void **state)
{
    struct tserver s;
    struct err e = ERR_INIT;
    struct tls_revoked *rev = NULL;

    (void)state;
    server_start(&s, server_ctx(dir2, "sled", NULL));
    assert_int_equal(get(&s, SLED_ROLE, SLED, NULL, &e), ERR_UPSTREAM);
    assert_non_null(strstr(e.msg, "peer certificate refused: unable to get "
                                  "local issuer certificate"));
    server_stop(&s);

    server_start(&s, server_ctx(dir, "expired", NULL));
    assert_int_equal(get(&s, SLED_ROLE, SLED, NULL, &e), ERR_UPSTREAM);
    assert_non_null(strstr(e.msg, "certificate has expired"));
    server_stop(&s);

    server_start(&s, server_ctx(dir, "future", NULL));
    assert_int_equal(get(&s, SLED_ROLE, SLED, NULL, &e), ERR_UPSTREAM);
    assert_non_null(strstr(e.msg, "certificate is not yet valid"));
    server_stop(&s);

    assert_int_equal(tls_revoked_new(&rev, &e), 0);
    assert_int_equal(tls_revoked_add_id(rev, TLS_ROLE_SLED, SLED, &e), 0);
    server_start(&s, server_ctx(dir, "sled", NULL));
    assert_int_equal(get(&s, SLED_ROLE, SLED, rev, &e), ERR_UPSTREAM);
    assert_non_null(strstr(e.msg, "is revoked"));
    server_stop(&s);
    tls_revoked_free(rev);
}

static void test_httpc_tls__plaintext_and_tls12_servers(void **state)
{
    struct tserver s;
    struct err e = ERR_INIT;
    struct buf c = BUF_INIT, k = BUF_INIT;
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

    (void)state;
    server_start(&s, NULL);
    assert_int_equal(get(&s, SLED_ROLE, SLED, NULL, &e), ERR_UPSTREAM);
    server_stop(&s);

    assert_non_null(ctx);
    assert_int_equal(buf_printf(&c, "%s/sled.pem", dir), 0);
    assert_int_equal(buf_printf(&k, "%s/sled.key", dir), 0);
    assert_int_equal(SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION), 1);
    assert_int_equal(SSL_CTX_use_certificate_chain_file(ctx, c.data), 1);
    assert_int_equal(SSL_CTX_use_PrivateKey_file(ctx, k.data,
                                                 SSL_FILETYPE_PEM), 1);
    server_start(&s, ctx);
    assert_int_equal(get(&s, SLED_ROLE, SLED, NULL, &e), ERR_UPSTREAM);
    server_stop(&s);
    buf_release(&c);
    buf_release(&k);
}

static void test_httpc_tls__refused_before_sending(void **state)
{
    struct client cl;
    struct httpc_spec sp;
    struct httpc *h = NULL;
    struct err e = ERR_INIT;

    (void)state;
    client_init(&cl, NULL, "http");
    spec_of(&sp, &cl, SLED_ROLE, NULL);
    assert_int_equal(httpc_new(&h, &sp, &e), ERR_INVAL);
    assert_non_null(strstr(e.msg, "only https:// URLs with TLS"));
    buf_reset(&cl.url);
    assert_int_equal(buf_printf(&cl.url, "https://127.0.0.1:1/"), 0);
    spec_of(&sp, &cl, 0, NULL);
    assert_int_equal(httpc_new(&h, &sp, &e), ERR_INVAL);
    assert_non_null(strstr(e.msg, "without an expected peer role"));
    spec_of(&sp, &cl, SLED_ROLE, NULL);
    sp.tls.key_file = NULL;
    assert_int_equal(httpc_new(&h, &sp, &e), ERR_INVAL);
    spec_of(&sp, &cl, SLED_ROLE, NULL);
    sp.tls.cert_file = "/nonexistent/ctl.pem";
    assert_int_equal(httpc_new(&h, &sp, &e), ERR_IO);
    assert_non_null(strstr(e.msg, "/nonexistent/ctl.pem"));
    spec_of(&sp, &cl, SLED_ROLE, NULL);
    sp.tls.key_file = cl.ca.data; /* a certificate, not a key */
    assert_int_equal(httpc_new(&h, &sp, &e), ERR_IO);
    assert_non_null(strstr(e.msg, "no PEM private key"));
    assert_null(h);
    client_release(&cl);
}

struct lreq {
    struct httpc *h;
    struct event_base *base;
    int rc;
    struct err e;
};

static void on_done(struct httpc *h, void *arg)
{
    struct lreq *r = arg;

    (void)h;
    r->rc = httpc_result(r->h, &r->e);
    event_base_loopbreak(r->base);
}

static int loop_get(struct httpc_loop *l, struct event_base *base,
                    const struct client *cl, const char *id, struct err *e)
{
    struct httpc_spec sp;
    struct lreq r = {NULL, base, 0, ERR_INIT};

    spec_of(&sp, cl, SLED_ROLE, id);
    assert_int_equal(httpc_new(&r.h, &sp, e), 0);
    assert_int_equal(httpc_start(l, r.h, on_done, &r), 0);
    event_base_dispatch(base);
    *e = r.e;
    httpc_free(r.h);
    return r.rc;
}

static void test_httpc_tls__loop_reuse_per_identity(void **state)
{
    struct tserver s;
    struct client cl;
    struct event_base *base = event_base_new();
    struct httpc_loop *l = NULL;
    struct err e = ERR_INIT;

    (void)state;
    assert_non_null(base);
    assert_int_equal(httpc_loop_new(&l, base), 0);
    server_start(&s, server_ctx(dir, "sled", NULL));
    client_init(&cl, &s, "https");
    assert_int_equal(loop_get(l, base, &cl, SLED, &e), 0);
    assert_int_equal(loop_get(l, base, &cl, SLED, &e), 0);
    assert_int_equal(s.nconns, 1); /* kept alive and reused */
    /* the same host:port and files, another expected sled: refused */
    assert_int_equal(loop_get(l, base, &cl, SLED2, &e), ERR_UPSTREAM);
    assert_non_null(strstr(e.msg, "expected sled " SLED2));
    assert_int_equal(loop_get(l, base, &cl, SLED, &e), 0);
    httpc_loop_free(l);
    event_base_free(base);
    client_release(&cl);
    server_stop(&s);
}

/* Copy file a to b (a CA file replaced in place, as an operator would). */
static void copy_file(const char *a, const char *b)
{
    char *data = NULL;
    size_t len = 0;

    assert_int_equal(testutil_read_file(&data, &len, a), 0);
    assert_int_equal(testutil_write_file(b, data, len), 0);
    mem_free(data);
}

/*
 * CA rotation: the rack CA file is replaced in place and the service
 * reloads (SIGHUP calls httpc_tls_reload). The next new connection of the
 * same loop must trust the new CA at once; curl's multi handle would
 * otherwise keep the old CA store for 24 hours (CURLOPT_CA_CACHE_TIMEOUT).
 */
static void test_httpc_tls__ca_rotation(void **state)
{
    struct tserver s;
    struct client cl;
    struct event_base *base = event_base_new();
    struct httpc_loop *l = NULL;
    struct err e = ERR_INIT;
    struct buf ca = BUF_INIT, old = BUF_INIT, new_ca = BUF_INIT;

    (void)state;
    assert_non_null(base);
    assert_int_equal(httpc_loop_new(&l, base), 0);
    assert_int_equal(buf_printf(&ca, "%s/rotating-ca.pem", dir), 0);
    assert_int_equal(buf_printf(&old, "%s/ca.pem", dir), 0);
    assert_int_equal(buf_printf(&new_ca, "%s/ca.pem", dir2), 0);
    copy_file(old.data, ca.data);
    client_init(&cl, NULL, "https");

    /* the old CA: its sled is trusted, the new CA's sled is not */
    server_start(&s, server_ctx(dir, "sled", NULL));
    buf_reset(&cl.url);
    assert_int_equal(buf_printf(&cl.url, "https://127.0.0.1:%d/x", s.port), 0);
    buf_release(&cl.ca);
    assert_int_equal(buf_printf(&cl.ca, "%s", ca.data), 0);
    assert_int_equal(loop_get(l, base, &cl, SLED, &e), 0);
    server_stop(&s);
    server_start(&s, server_ctx(dir2, "sled", NULL));
    buf_reset(&cl.url);
    assert_int_equal(buf_printf(&cl.url, "https://127.0.0.1:%d/x", s.port), 0);
    assert_int_equal(loop_get(l, base, &cl, SLED, &e), ERR_UPSTREAM);

    /* the file now holds the new CA; after the reload it is trusted */
    copy_file(new_ca.data, ca.data);
    httpc_tls_reload();
    e = (struct err)ERR_INIT;
    if (loop_get(l, base, &cl, SLED, &e) != 0)
        fail_msg("after rotation: %s", e.msg);
    server_stop(&s);

    httpc_loop_free(l);
    event_base_free(base);
    client_release(&cl);
    buf_release(&ca);
    buf_release(&old);
    buf_release(&new_ca);
}

struct sreq {
    struct event_base *base;
    bool done;
};

static void sreq_done(struct sledreq *q, void *arg)
{
    struct sreq *r = arg;

    (void)q;
    r->done = true;
    event_base_loopbreak(r->base);
}

/* The replicator's request to a sled (task/sledreq.c): the sled must
 * present the certificate of the id the database has for it. */
static void test_httpc_tls__controller_checks_sled_id(void **state)
{
    struct tserver s;
    struct client cl;
    struct event_base *base = event_base_new();
    struct httpc_loop *l = NULL;
    struct sledreq *q = NULL;
    struct sledreq_opts o;
    struct httpc_tls t = {0};
    struct sreq r = {base, false};

    (void)state;
    assert_int_equal(httpc_loop_new(&l, base), 0);
    server_start(&s, server_ctx(dir, "sled", NULL));
    client_init(&cl, &s, "https");
    t.ca_file = cl.ca.data;
    t.cert_file = cl.cert.data;
    t.key_file = cl.key.data;
    memset(&o, 0, sizeof(o));
    o.method = "GET";
    o.url = cl.url.data;
    o.total_secs = 10;
    o.tls = &t;
    o.peer_id = SLED2; /* the database says this address is SLED2 */
    assert_int_equal(sledreq_start(&q, l, &o, sreq_done, &r), 0);
    event_base_dispatch(base);
    assert_true(r.done);
    assert_int_equal(sledreq_status(q), 0);
    assert_true(sledreq_unreachable(q));
    assert_string_equal(sledreq_error(q), "peer is sled " SLED
                                          ", expected sled " SLED2);
    sledreq_free(q);
    o.peer_id = SLED;
    r.done = false;
    assert_int_equal(sledreq_start(&q, l, &o, sreq_done, &r), 0);
    event_base_dispatch(base);
    assert_int_equal(sledreq_status(q), 200);
    sledreq_free(q);
    httpc_loop_free(l);
    event_base_free(base);
    client_release(&cl);
    server_stop(&s);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    struct tserver *s = arg;

    (void)fd;
    (void)what;
    (void)s;
}

/* Run base for up to ms, or until s has answered a request. */
static int served_within(struct event_base *base, struct tserver *s, long ms)
{
    struct timeval tick = {0, 20000};
    struct event *ev = event_new(base, -1, EV_PERSIST, on_tick, s);

    event_add(ev, &tick);
    for (long t = 0; t < ms && !__atomic_load_n(&s->served, __ATOMIC_SEQ_CST);
         t += 20)
        event_base_loop(base, EVLOOP_ONCE);
    event_free(ev);
    return __atomic_load_n(&s->served, __ATOMIC_SEQ_CST);
}

/* A sled registers only with a replicator presenting a controller
 * certificate (sledagent/registration.c). */
static void test_httpc_tls__registration_expects_controller(void **state)
{
    const char *const bases[2] = {"ctl", "sled"};

    (void)state;
    for (int k = 0; k < 2; k++) {
        struct event_base *base = event_base_new();
        struct httpc_loop *l = NULL;
        struct registration *rg = NULL;
        struct registration_opts o = {0};
        struct tserver s;
        struct client cl;
        char url[64];

        assert_int_equal(httpc_loop_new(&l, base), 0);
        server_start(&s, server_ctx(dir, bases[k], NULL));
        client_init(&cl, &s, "https");
        /* the sled's own files: the controller's work as well here */
        snprintf(url, sizeof(url), "https://127.0.0.1:%d", s.port);
        o.replicator_url = url;
        o.id = SLED;
        o.host = "127.0.0.1";
        o.api_port = 1;
        o.depot_port = 2;
        o.interval_secs = 1;
        o.tls.ca_file = cl.ca.data;
        o.tls.cert_file = cl.cert.data;
        o.tls.key_file = cl.key.data;
        assert_int_equal(registration_new(&rg, base, l, &o), 0);
        if (k == 0)
            assert_true(served_within(base, &s, 5000) > 0);
        else
            assert_int_equal(served_within(base, &s, 1500), 0);
        registration_free(rg);
        httpc_loop_free(l);
        event_base_free(base);
        client_release(&cl);
        server_stop(&s);
    }
}

/* The tests' own client (tests/support/http_client.c): per request and
 * process-wide TLS. */
static void test_httpc_tls__test_client(void **state)
{
    struct tserver s;
    struct client cl;
    struct http_client_resp resp = HTTP_CLIENT_RESP_INIT;
    struct http_client_req req = {0};
    struct err e = ERR_INIT;

    (void)state;
    server_start(&s, server_ctx(dir, "sled", NULL));
    client_init(&cl, &s, "https");
    req.url = cl.url.data;
    req.tls.ca_file = cl.ca.data;
    req.tls.cert_file = cl.cert.data;
    req.tls.key_file = cl.key.data;
    req.tls.roles = SLED_ROLE;
    req.tls.peer_id = SLED;
    assert_int_equal(http_client_request(&resp, &req, &e), 0);
    assert_int_equal(resp.status, 200);
    http_client_resp_release(&resp);
    req.tls.peer_id = SLED2;
    assert_int_equal(http_client_request(&resp, &req, &e), ERR_IO);
    assert_non_null(strstr(e.msg, "expected sled " SLED2));
    http_client_resp_release(&resp);
    req.tls.peer_id = NULL;
    http_client_set_tls(&req.tls);
    assert_int_equal(http_client_get(&resp, cl.url.data), 0);
    assert_int_equal(resp.status, 200);
    http_client_resp_release(&resp);
    http_client_set_tls(NULL);
    client_release(&cl);
    server_stop(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_httpc_tls__right_identity),
        cmocka_unit_test(test_httpc_tls__wrong_role_or_id),
        cmocka_unit_test(test_httpc_tls__bad_certificates),
        cmocka_unit_test(test_httpc_tls__plaintext_and_tls12_servers),
        cmocka_unit_test(test_httpc_tls__refused_before_sending),
        cmocka_unit_test(test_httpc_tls__loop_reuse_per_identity),
        cmocka_unit_test(test_httpc_tls__ca_rotation),
        cmocka_unit_test(test_httpc_tls__test_client),
        cmocka_unit_test(test_httpc_tls__controller_checks_sled_id),
        cmocka_unit_test(test_httpc_tls__registration_expects_controller),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
