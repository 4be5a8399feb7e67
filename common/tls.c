/* SPDX-License-Identifier: MPL-2.0 */
/*
 * tls: TLS 1.3 contexts for mutual TLS inside the rack (see tls.h). Each
 * SSL_CTX made here carries, in its ex_data, what it was built from (kind,
 * file paths, rack id, a private copy of the revocation set); OpenSSL frees
 * that with the context, so a connection that outlives a reload keeps a
 * consistent context. The verify callback runs tls_peer_check on the leaf
 * after OpenSSL has verified the chain. Any thread.
 */
#include "common/tls.h"

#include <pthread.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "common/err.h"
#include "common/log.h"
#include "common/mem.h"

enum kind { KIND_SERVER = 1, KIND_CLIENT };

/* What a context was built from; owned by the SSL_CTX (ex_data). */
struct state {
    enum kind kind;
    char *ca, *cert, *key;
    char rack_id[TLS_RACK_ID_LEN + 1];
    struct tls_revoked *revoked;
};

static pthread_once_t idx_once = PTHREAD_ONCE_INIT;
static int ctx_idx = -1;

static void state_free(struct state *st)
{
    if (!st)
        return;
    mem_free(st->ca);
    mem_free(st->cert);
    mem_free(st->key);
    tls_revoked_free(st->revoked);
    mem_free(st);
}

static void on_ctx_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx,
                        long argl, void *argp)
{
    (void)parent;
    (void)ad;
    (void)idx;
    (void)argl;
    (void)argp;
    state_free(ptr);
}

static void make_index(void)
{
    ctx_idx = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, on_ctx_free);
}

static struct state *ctx_state(const SSL_CTX *ctx)
{
    if (ctx_idx < 0 || !ctx)
        return NULL;
    return SSL_CTX_get_ex_data(ctx, ctx_idx);
}

/* The first queued OpenSSL error as text ("" if none); clears the queue. */
static const char *ossl_reason(char *buf, size_t cap)
{
    unsigned long e = ERR_peek_last_error();

    buf[0] = '\0';
    if (e)
        ERR_error_string_n(e, buf, cap);
    ERR_clear_error();
    return buf;
}

static int on_verify(int ok, X509_STORE_CTX *xs)
{
    SSL *ssl = X509_STORE_CTX_get_ex_data(
        xs, SSL_get_ex_data_X509_STORE_CTX_idx());
    struct state *st = ssl ? ctx_state(SSL_get_SSL_CTX(ssl)) : NULL;
    struct err e = ERR_INIT;

    if (!ok) {
        log_warn("tls_peer_refused", "{s:i, s:s}", "depth",
                 X509_STORE_CTX_get_error_depth(xs), "reason",
                 X509_verify_cert_error_string(
                     X509_STORE_CTX_get_error(xs)));
        return 0;
    }
    if (X509_STORE_CTX_get_error_depth(xs) != 0)
        return 1;
    if (!st || tls_peer_check(NULL, X509_STORE_CTX_get_current_cert(xs),
                              st->rack_id, st->revoked, &e) < 0) {
        log_warn("tls_peer_refused", "{s:i, s:s}", "depth", 0, "reason",
                 st ? e.msg : "context not made by tls_*_ctx_new");
        X509_STORE_CTX_set_error(xs, X509_V_ERR_APPLICATION_VERIFICATION);
        return 0;
    }
    return 1;
}

static int state_new(struct state **out, enum kind kind,
                     const struct tls_files *f, const char *rack_id,
                     const struct tls_revoked *revoked, struct err *err)
{
    struct state *st;
    int rc;

    *out = NULL;
    if (!tls_uuid_valid(rack_id))
        return err_set(err, ERR_INVAL, "rack id %.80s is not a lowercase "
                       "UUID", rack_id ? rack_id : "");
    if (!f || !f->ca || !f->cert || !f->key)
        return err_set(err, ERR_INVAL, "CA, certificate and key files are "
                       "all required");
    st = mem_calloc(1, sizeof(*st));
    if (!st)
        return err_set(err, ERR_NOMEM, "out of memory");
    st->kind = kind;
    memcpy(st->rack_id, rack_id, TLS_RACK_ID_LEN + 1);
    st->ca = mem_strdup(f->ca);
    st->cert = mem_strdup(f->cert);
    st->key = mem_strdup(f->key);
    rc = tls_revoked_dup(&st->revoked, revoked, err);
    if (rc == 0 && (!st->ca || !st->cert || !st->key))
        rc = err_set(err, ERR_NOMEM, "out of memory");
    if (rc < 0)
        state_free(st);
    else
        *out = st;
    return rc;
}

/* Protocol, verification and our own certificate, from st's files. */
static int configure(SSL_CTX *ctx, const struct state *st, struct err *err)
{
    STACK_OF(X509_NAME) *cas = NULL;
    char why[256];
    int mode = SSL_VERIFY_PEER;

    if (!SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) ||
        !SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION))
        return err_set(err, ERR_INTERNAL, "TLS 1.3: %s",
                       ossl_reason(why, sizeof(why)));
    if (SSL_CTX_load_verify_file(ctx, st->ca) != 1)
        return err_set(err, ERR_IO, "CA %s: %s", st->ca,
                       ossl_reason(why, sizeof(why)));
    if (SSL_CTX_use_certificate_chain_file(ctx, st->cert) != 1)
        return err_set(err, ERR_IO, "certificate %s: %s", st->cert,
                       ossl_reason(why, sizeof(why)));
    if (SSL_CTX_use_PrivateKey_file(ctx, st->key, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1)
        return err_set(err, ERR_IO, "key %s: %s", st->key,
                       ossl_reason(why, sizeof(why)));
    X509_VERIFY_PARAM_set_flags(SSL_CTX_get0_param(ctx),
                                X509_V_FLAG_X509_STRICT);
    /* leaf directly under the rack CA (pathlen 0) */
    SSL_CTX_set_verify_depth(ctx, 1);
    if (st->kind == KIND_SERVER) {
        mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
        cas = SSL_load_client_CA_file(st->ca);
        if (!cas)
            return err_set(err, ERR_IO, "CA %s: no certificate names: %s",
                           st->ca, ossl_reason(why, sizeof(why)));
        SSL_CTX_set_client_CA_list(ctx, cas);
        /* no resumption: every connection is checked against the current
         * revocation set */
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
        SSL_CTX_set_num_tickets(ctx, 0);
        SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    }
    SSL_CTX_set_verify(ctx, mode, on_verify);
    return 0;
}

/* Build a context from st, which it takes (freed on failure too). */
static int build(SSL_CTX **out, struct state *st, struct err *err)
{
    SSL_CTX *ctx = NULL;
    char why[256];
    int rc = 0;

    *out = NULL;
    pthread_once(&idx_once, make_index);
    if (ctx_idx < 0) {
        rc = err_set(err, ERR_NOMEM, "SSL_CTX ex_data index: %s",
                     ossl_reason(why, sizeof(why)));
        goto out;
    }
    ctx = SSL_CTX_new(st->kind == KIND_SERVER ? TLS_server_method()
                                              : TLS_client_method());
    if (!ctx) {
        rc = err_set(err, ERR_NOMEM, "SSL_CTX_new: %s",
                     ossl_reason(why, sizeof(why)));
        goto out;
    }
    if (SSL_CTX_set_ex_data(ctx, ctx_idx, st) != 1) {
        rc = err_set(err, ERR_NOMEM, "SSL_CTX_set_ex_data: out of memory");
        goto out;
    }
    st = NULL; /* the context owns it now */
    rc = configure(ctx, ctx_state(ctx), err);
out:
    state_free(st);
    if (rc < 0)
        SSL_CTX_free(ctx);
    else
        *out = ctx;
    return rc;
}

int tls_server_ctx_new(SSL_CTX **out, const struct tls_files *f,
                       const char *rack_id, const struct tls_revoked *revoked,
                       struct err *err)
{
    struct state *st = NULL;
    int rc = state_new(&st, KIND_SERVER, f, rack_id, revoked, err);

    *out = NULL;
    return rc < 0 ? rc : build(out, st, err);
}

int tls_client_ctx_new(SSL_CTX **out, const struct tls_files *f,
                       const char *rack_id, const struct tls_revoked *revoked,
                       struct err *err)
{
    struct state *st = NULL;
    int rc = state_new(&st, KIND_CLIENT, f, rack_id, revoked, err);

    *out = NULL;
    return rc < 0 ? rc : build(out, st, err);
}

int tls_ctx_reload(SSL_CTX **out, SSL_CTX *old,
                   const struct tls_revoked *revoked, struct err *err)
{
    const struct state *o = ctx_state(old);
    struct state *st = NULL;
    struct tls_files f;
    int rc;

    *out = NULL;
    if (!o)
        return err_set(err, ERR_INVAL, "context not made by tls_*_ctx_new");
    f.ca = o->ca;
    f.cert = o->cert;
    f.key = o->key;
    rc = state_new(&st, o->kind, &f, o->rack_id,
                   revoked ? revoked : o->revoked, err);
    return rc < 0 ? rc : build(out, st, err);
}

int tls_ssl_peer(struct tls_identity *out, const SSL *ssl, struct err *err)
{
    const struct state *st = ctx_state(SSL_get_SSL_CTX(ssl));
    X509 *peer;

    memset(out, 0, sizeof(*out));
    if (!st)
        return err_set(err, ERR_INVAL, "connection not from a "
                       "tls_*_ctx_new context");
    peer = SSL_get0_peer_certificate(ssl);
    if (!peer)
        return err_set(err, ERR_VERIFY, "peer presented no certificate");
    if (SSL_get_verify_result(ssl) != X509_V_OK)
        return err_set(err, ERR_VERIFY, "peer certificate not verified: %s",
                       X509_verify_cert_error_string(
                           SSL_get_verify_result(ssl)));
    return tls_peer_identity(out, peer, st->rack_id, err);
}
