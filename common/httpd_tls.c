/* SPDX-License-Identifier: MPL-2.0 */
/*
 * httpd_tls: mutual TLS of httpd listeners (see httpd_tls.h): the
 * service's context and revocation set, the accepting SSL bufferevent of
 * a new connection, the peer of a finished handshake, the bytes OpenSSL
 * has decrypted but libevent not yet taken, and the per-route
 * authorisation (401 for no, a bad or a revoked certificate; 403 for a
 * role or id the route does not take). Loop thread only.
 */
#include "common/httpd_tls.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "common/err.h"
#include "common/httpd_internal.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/prom.h"

struct httpd_tls {
    SSL_CTX *ctx;                 /* for new connections */
    struct tls_revoked *revoked;  /* consulted on every request */
    char *cert;                   /* our certificate file (reload) */
    struct tls_identity self;
    int64_t not_before, not_after;
    struct event *daily;          /* expiry warning, once a day */
};

#define DAY_SECS (24 * 60 * 60)

/* Our identity and validity from f->cert. */
static int load_self(struct httpd_tls *t, const char *cert, struct err *err)
{
    int rc = tls_cert_file_identity(&t->self, cert, err);

    if (rc == 0)
        rc = tls_cert_file_validity(&t->not_before, &t->not_after, cert, err);
    return rc;
}

int httpd_tls_new(struct httpd_tls **out, const struct tls_files *f,
                  struct err *err)
{
    struct httpd_tls *t = mem_calloc(1, sizeof(*t));
    int rc;

    *out = NULL;
    if (!t)
        return err_set(err, ERR_NOMEM, "out of memory");
    if (!f || !f->ca || !f->cert || !f->key) {
        rc = err_set(err, ERR_INVAL, "CA, certificate and key files are all "
                     "required");
        goto out;
    }
    t->cert = mem_strdup(f->cert);
    rc = t->cert ? load_self(t, f->cert, err)
                 : err_set(err, ERR_NOMEM, "out of memory");
    if (rc == 0)
        rc = tls_revoked_new(&t->revoked, err);
    if (rc == 0)
        rc = tls_server_ctx_new(&t->ctx, f, t->self.rack_id, NULL, err);
out:
    if (rc < 0)
        httpd_tls_free(t);
    else
        *out = t;
    return rc;
}

void httpd_tls_free(struct httpd_tls *t)
{
    if (!t)
        return;
    if (t->daily)
        event_free(t->daily);
    SSL_CTX_free(t->ctx);
    tls_revoked_free(t->revoked);
    mem_free(t->cert);
    mem_free(t);
}

const struct tls_identity *httpd_tls_self(const struct httpd_tls *t)
{
    return &t->self;
}

void httpd_tls_validity(const struct httpd_tls *t, int64_t *not_before,
                        int64_t *not_after)
{
    if (not_before)
        *not_before = t->not_before;
    if (not_after)
        *not_after = t->not_after;
}

int httpd_tls_reload(struct httpd_tls *t, struct err *err)
{
    struct httpd_tls fresh = {0};
    SSL_CTX *ctx = NULL;
    int rc = tls_ctx_reload(&ctx, t->ctx, NULL, err);

    /* the new certificate must still name us in the same rack */
    if (rc == 0 && (rc = load_self(&fresh, t->cert, err)) == 0 &&
        (strcmp(fresh.self.rack_id, t->self.rack_id) != 0 ||
         fresh.self.role != t->self.role ||
         strcmp(fresh.self.id, t->self.id) != 0))
        rc = err_set(err, ERR_VERIFY, "reloaded certificate names %s:%s, "
                     "not %s:%s", tls_role_name(fresh.self.role),
                     fresh.self.id, tls_role_name(t->self.role), t->self.id);
    if (rc < 0) {
        SSL_CTX_free(ctx);
        return rc;
    }
    SSL_CTX_free(t->ctx); /* open connections hold their own reference */
    t->ctx = ctx;
    t->not_before = fresh.not_before;
    t->not_after = fresh.not_after;
    return 0;
}

int httpd_tls_set_revoked(struct httpd_tls *t, const struct tls_revoked *set,
                          struct err *err)
{
    struct tls_revoked *copy = NULL;
    int rc = tls_revoked_dup(&copy, set, err);

    if (rc < 0)
        return rc;
    tls_revoked_free(t->revoked);
    t->revoked = copy;
    return 0;
}

const struct tls_revoked *httpd_tls_revoked(const struct httpd_tls *t)
{
    return t->revoked;
}

void httpd_tls_warn_plaintext(const char *service)
{
    log_warn("insecure_plaintext", "{s:s, s:s}", "service", service,
             "warning", "INSECURE: --insecure-plaintext: no TLS, every "
             "client is trusted and no role is checked; use only on a "
             "trusted underlay");
}

bool httpd_tls_check_expiry(const struct httpd_tls *t, int64_t now)
{
    if (!tls_expiry_warn(now, t->not_before, t->not_after))
        return false;
    log_warn("tls_cert_expiring", "{s:I, s:I, s:s}", "not_before",
             (json_int_t)t->not_before, "not_after", (json_int_t)t->not_after,
             "advice", "renew this service's certificate (replicator pki "
             "issue) and send SIGHUP");
    return true;
}

static void on_daily(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    httpd_tls_check_expiry(arg, (int64_t)time(NULL));
}

int httpd_tls_watch_expiry(struct httpd_tls *t, struct event_base *base,
                           struct err *err)
{
    struct timeval day = {DAY_SECS, 0};

    httpd_tls_check_expiry(t, (int64_t)time(NULL));
    if (t->daily)
        return 0;
    t->daily = event_new(base, -1, EV_PERSIST, on_daily, t);
    if (!t->daily || event_add(t->daily, &day) < 0)
        return err_set(err, ERR_NOMEM, "cannot start the expiry timer");
    return 0;
}

int httpd_tls_metrics(const struct httpd_tls *t, struct prom *p,
                      const char *name)
{
    return prom_gauge(p, name, "notAfter of this service's certificate "
                      "(unix seconds)",
                      t->not_after > 0 ? (uint64_t)t->not_after : 0);
}

/*
 * The handshake completes whatever the client's certificate: OpenSSL
 * still records the verification result (SSL_get_verify_result), which
 * httpd__tls_peer reads, so a refusal is an HTTP 401 the client can read
 * rather than a handshake alert.
 */
static int accept_any(int ok, X509_STORE_CTX *xs)
{
    (void)ok;
    (void)xs;
    return 1;
}

struct bufferevent *httpd__tls_accept(struct httpd *h, int fd)
{
    struct bufferevent *bev;
    SSL *ssl = SSL_new(h->tls->ctx);

    if (!ssl)
        return NULL;
    SSL_set_verify(ssl, SSL_VERIFY_PEER, accept_any);
    bev = bufferevent_openssl_socket_new(h->base, fd, ssl,
                                         BUFFEREVENT_SSL_ACCEPTING,
                                         BEV_OPT_CLOSE_ON_FREE);
    if (bev)
        bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
    return bev;
}

void httpd__tls_close_notify(struct bufferevent *bev)
{
    SSL *ssl = bufferevent_openssl_get_ssl(bev);

    /* our side is done (lingering close): say so inside TLS, so the
     * client reads a clean end rather than a truncation; a full socket
     * buffer just means it is not sent */
    if (ssl && SSL_is_init_finished(ssl))
        (void)SSL_shutdown(ssl);
    ERR_clear_error();
}

void httpd__tls_read_pending(struct bufferevent *bev)
{
    SSL *ssl = bufferevent_openssl_get_ssl(bev);
    struct evbuffer *in = bufferevent_get_input(bev);
    struct evbuffer_iovec v;
    int n, got;

    if (!ssl || !SSL_is_init_finished(ssl))
        return;
    while ((n = SSL_pending(ssl)) > 0) {
        if (evbuffer_reserve_space(in, (ev_ssize_t)n, &v, 1) < 1)
            return;
        if (v.iov_len < (size_t)n)
            n = (int)v.iov_len;
        got = SSL_read(ssl, v.iov_base, n);
        if (got <= 0) {
            ERR_clear_error();
            return;
        }
        v.iov_len = (size_t)got;
        if (evbuffer_commit_space(in, &v, 1) < 0)
            return;
    }
}

void httpd__tls_peer(struct httpd_peer *out, struct bufferevent *bev)
{
    SSL *ssl = bufferevent_openssl_get_ssl(bev);
    X509 *cert = ssl ? SSL_get0_peer_certificate(ssl) : NULL;
    struct err e = ERR_INIT;

    memset(out, 0, sizeof(*out));
    out->tls = true;
    if (cert && tls_cert_serial(out->serial, cert, NULL) < 0)
        out->serial[0] = '\0';
    if (!ssl || tls_ssl_peer(&out->id, ssl, &e) < 0) {
        snprintf(out->why, sizeof(out->why), "%s",
                 ssl ? e.msg : "no TLS session");
        return;
    }
    out->verified = true;
}

const struct tls_identity *httpd_req_peer(const struct httpd_req *r)
{
    return r->peer.verified ? &r->peer.id : NULL;
}

const char *httpd_req_peer_serial(const struct httpd_req *r)
{
    return r->peer.serial;
}

/* Reject r with status, error_code and message, and log who it was. */
static void refuse(struct httpd_req *r, int status, const char *code,
                   const char *msg)
{
    const struct httpd_peer *p = &r->peer;

    err_set_coded(&r->reject, status == 401 ? ERR_VERIFY : ERR_INVAL, code,
                  "%s", msg);
    r->mode = BODY_REJECTED;
    r->reject_status = status;
    log_warn("http_refused", "{s:s, s:i, s:s, s:s, s:s, s:s, s:s, s:s, "
             "s:s}", "request_id", r->id, "status", status, "method",
             httpd_req_method_name(r), "path", httpd_req_path(r), "route",
             httpd_req_route(r), "role",
             p->verified ? tls_role_name(p->id.role) : "",
             "id", p->verified ? p->id.id : "", "serial", p->serial,
             "reason", msg);
}

bool httpd__tls_authenticate(struct httpd_req *r)
{
    struct err e = ERR_INIT;

    if (!r->peer.tls)
        return false; /* --insecure-plaintext: nothing is checked */
    if (!r->peer.verified) {
        refuse(r, 401, "UNAUTHENTICATED", r->peer.why[0]
                                              ? r->peer.why
                                              : "no client certificate");
        return true;
    }
    if (tls_revoked_check(r->h->tls->revoked, r->peer.serial, &r->peer.id,
                          &e) < 0) {
        refuse(r, 401, "UNAUTHENTICATED", e.msg);
        return true;
    }
    return false;
}

bool httpd__tls_authorize(struct httpd_req *r)
{
    const struct httpd_route *rt = r->match.route;
    const struct tls_identity *id = &r->peer.id;
    char msg[160];

    if (!r->peer.tls)
        return false;
    if (!(rt->roles & HTTPD_ROLE(id->role))) {
        snprintf(msg, sizeof(msg), "role %s may not use this endpoint",
                 tls_role_name(id->role));
        refuse(r, 403, "FORBIDDEN", msg);
        return true;
    }
    if ((rt->roles & HTTPD_ROLE_SELF) &&
        (r->match.ncap == 0 || strcmp(r->match.cap[0], id->id) != 0)) {
        snprintf(msg, sizeof(msg), "%s %s may act only for itself",
                 tls_role_name(id->role), id->id);
        refuse(r, 403, "FORBIDDEN", msg);
        return true;
    }
    return false;
}
