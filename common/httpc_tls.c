/* SPDX-License-Identifier: MPL-2.0 */
/*
 * httpc_tls: mutual TLS for common/httpc (see struct httpc_tls in
 * httpc.h). Owns a process-wide cache of client material (our leaf, its
 * key and the identity it names, one entry per CA/cert/key file set, read
 * once and shared by reference between requests; httpc_tls_reload retires
 * the entries) and the checks of the server: curl's OpenSSL context for
 * each new connection gets our certificate and key, TLS 1.3 only, the
 * rack CA (CURLOPT_CAINFO, read afresh by each new connection), no host name
 * check, and a verify callback that refuses the handshake unless the leaf
 * passes tls_peer_check and names an expected role and id. Because curl
 * keys kept-alive connections by host, port and TLS files only, a second
 * check runs before every request on whatever connection curl hands it
 * (CURLOPT_PREREQFUNCTION): a connection verified as sled A is never used
 * for a request that expects sled B; that request fails instead (the same
 * host:port would present the same certificate again). TLS session
 * resumption is off so every new connection is verified in full. The
 * cache is locked; the callbacks run on the thread running the request.
 */
#include "common/httpc.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "common/err.h"
#include "common/httpc_internal.h"
#include "common/mem.h"

/* Client material of one file set; shared, reference counted. */
struct httpc_tls_mat {
    char *ca, *cert, *key;
    X509 *leaf;
    EVP_PKEY *pkey;
    struct tls_identity self;
    unsigned refs;  /* requests holding it, plus 1 while in the cache */
    struct httpc_tls_mat *next;
};

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct httpc_tls_mat *cache;
static pthread_once_t idx_once = PTHREAD_ONCE_INIT;
static int ctx_idx = -1;

static void make_index(void)
{
    ctx_idx = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
}

static void mat_free(struct httpc_tls_mat *m)
{
    if (!m)
        return;
    X509_free(m->leaf);
    EVP_PKEY_free(m->pkey);
    mem_free(m->ca);
    mem_free(m->cert);
    mem_free(m->key);
    mem_free(m);
}

static void mat_put_locked(struct httpc_tls_mat *m)
{
    if (m && --m->refs == 0)
        mat_free(m);
}

/* The rack id of our own certificate: the one in its identity URI. */
static int self_identity(struct tls_identity *out, X509 *leaf,
                         const char *path, struct err *err)
{
    GENERAL_NAMES *sans = X509_get_ext_d2i(leaf, NID_subject_alt_name, NULL,
                                           NULL);
    char rack[TLS_RACK_ID_LEN + 1] = "";
    struct err e = ERR_INIT;
    size_t plen = strlen(TLS_URI_PREFIX);

    for (int i = 0; sans && i < sk_GENERAL_NAME_num(sans); i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(sans, i);
        const char *u;

        if (g->type != GEN_URI)
            continue;
        u = (const char *)ASN1_STRING_get0_data(g->d.uniformResourceIdentifier);
        if ((size_t)ASN1_STRING_length(g->d.uniformResourceIdentifier) >
                plen + TLS_RACK_ID_LEN &&
            strncmp(u, TLS_URI_PREFIX, plen) == 0) {
            memcpy(rack, u + plen, TLS_RACK_ID_LEN);
            rack[TLS_RACK_ID_LEN] = '\0';
            break;
        }
    }
    GENERAL_NAMES_free(sans);
    if (tls_peer_identity(out, leaf, rack, &e) < 0)
        return err_set(err, ERR_IO, "TLS certificate %s: %s", path, e.msg);
    return 0;
}

/* Read one PEM object of a file: a certificate (key false) or a key. */
static int read_pem(void **out, const char *path, bool key, struct err *err)
{
    FILE *f = fopen(path, "r");
    char why[160] = "";

    *out = NULL;
    if (!f)
        return err_set(err, ERR_IO, "TLS %s %s: %s", key ? "key" : "file",
                       path, strerror(errno));
    *out = key ? (void *)PEM_read_PrivateKey(f, NULL, NULL, NULL)
               : (void *)PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    if (*out)
        return 0;
    ERR_error_string_n(ERR_peek_last_error(), why, sizeof(why));
    ERR_clear_error();
    return err_set(err, ERR_IO, "TLS %s %s: no PEM %s in it (%s)",
                   key ? "key" : "file", path,
                   key ? "private key" : "certificate", why);
}

static int mat_load(struct httpc_tls_mat **out, const struct httpc_tls *t,
                    struct err *err)
{
    struct httpc_tls_mat *m = mem_calloc(1, sizeof(*m));
    void *ca = NULL, *leaf = NULL, *pkey = NULL;
    int rc;

    *out = NULL;
    if (!m)
        return err_set(err, ERR_NOMEM, "out of memory");
    m->refs = 1;
    m->ca = mem_strdup(t->ca_file);
    m->cert = mem_strdup(t->cert_file);
    m->key = mem_strdup(t->key_file);
    if (!m->ca || !m->cert || !m->key) {
        rc = err_set(err, ERR_NOMEM, "out of memory");
        goto out;
    }
    if ((rc = read_pem(&ca, t->ca_file, false, err)) < 0 ||
        (rc = read_pem(&leaf, t->cert_file, false, err)) < 0 ||
        (rc = read_pem(&pkey, t->key_file, true, err)) < 0)
        goto out;
    m->leaf = leaf;
    m->pkey = pkey;
    leaf = pkey = NULL;
    if (X509_check_private_key(m->leaf, m->pkey) != 1) {
        ERR_clear_error();
        rc = err_set(err, ERR_IO, "TLS key %s does not match certificate %s",
                     t->key_file, t->cert_file);
        goto out;
    }
    rc = self_identity(&m->self, m->leaf, t->cert_file, err);
out:
    X509_free(ca);
    X509_free(leaf);
    EVP_PKEY_free(pkey);
    if (rc < 0)
        mat_free(m);
    else
        *out = m;
    return rc;
}

/* A reference to the material of t's files, loaded on first use. */
static int mat_get(struct httpc_tls_mat **out, const struct httpc_tls *t,
                   struct err *err)
{
    struct httpc_tls_mat *m;
    int rc = 0;

    pthread_mutex_lock(&cache_lock);
    for (m = cache; m; m = m->next)
        if (!strcmp(m->ca, t->ca_file) && !strcmp(m->cert, t->cert_file) &&
            !strcmp(m->key, t->key_file))
            break;
    /* Loading under the lock: a few small files, once per process. */
    if (!m && (rc = mat_load(&m, t, err)) == 0) {
        m->next = cache;
        cache = m;
    }
    if (m)
        m->refs++;
    pthread_mutex_unlock(&cache_lock);
    *out = m;
    return rc;
}

void httpc_tls_reload(void)
{
    struct httpc_tls_mat *m, *next;

    pthread_mutex_lock(&cache_lock);
    for (m = cache; m; m = next) {
        next = m->next;
        m->next = NULL;
        mat_put_locked(m);
    }
    cache = NULL;
    pthread_mutex_unlock(&cache_lock);
}

void httpc__tls_release(struct httpc *h)
{
    if (!h->mat)
        return;
    pthread_mutex_lock(&cache_lock);
    mat_put_locked(h->mat);
    pthread_mutex_unlock(&cache_lock);
    h->mat = NULL;
}

/* "sled", "sled or controller", ... for the roles of mask. */
static void roles_text(char *out, size_t cap, unsigned mask)
{
    size_t n = 0;

    out[0] = '\0';
    for (int r = TLS_ROLE_CONTROLLER; r <= TLS_ROLE_OPERATOR; r++)
        if (mask & HTTPC_ROLE(r))
            n += (size_t)snprintf(out + n, n < cap ? cap - n : 0, "%s%s",
                                  n ? " or " : "",
                                  tls_role_name((enum tls_role)r));
}

/* The leaf against h's expectation; why into h->tls_fail. */
static int check_leaf(struct httpc *h, X509 *leaf)
{
    const struct httpc_tls *t = &h->s.tls;
    struct tls_identity id;
    struct err e = ERR_INIT;
    char want[48];

    if (!leaf) {
        snprintf(h->tls_fail, sizeof(h->tls_fail),
                 "peer presented no certificate");
        return -1;
    }
    if (tls_peer_check(&id, leaf, h->mat->self.rack_id, t->revoked, &e) < 0) {
        snprintf(h->tls_fail, sizeof(h->tls_fail), "peer refused: %s", e.msg);
        return -1;
    }
    roles_text(want, sizeof(want), t->roles);
    if (!(t->roles & HTTPC_ROLE(id.role))) {
        snprintf(h->tls_fail, sizeof(h->tls_fail),
                 "peer is %s %s, expected a %s", tls_role_name(id.role), id.id,
                 want);
        return -1;
    }
    if (h->peer_id[0] && strcmp(h->peer_id, id.id) != 0) {
        snprintf(h->tls_fail, sizeof(h->tls_fail),
                 "peer is %s %s, expected %s %s", tls_role_name(id.role),
                 id.id, tls_role_name(id.role), h->peer_id);
        return -1;
    }
    return 0;
}

static int on_verify(int ok, X509_STORE_CTX *xs)
{
    SSL *ssl = X509_STORE_CTX_get_ex_data(
        xs, SSL_get_ex_data_X509_STORE_CTX_idx());
    struct httpc *h = ssl ? SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ctx_idx)
                          : NULL;

    if (!h)
        return 0;
    if (!ok) {
        snprintf(h->tls_fail, sizeof(h->tls_fail),
                 "peer certificate refused: %s",
                 X509_verify_cert_error_string(X509_STORE_CTX_get_error(xs)));
        return 0;
    }
    if (X509_STORE_CTX_get_error_depth(xs) != 0)
        return 1;
    if (check_leaf(h, X509_STORE_CTX_get_current_cert(xs)) < 0) {
        X509_STORE_CTX_set_error(xs, X509_V_ERR_APPLICATION_VERIFICATION);
        return 0;
    }
    return 1;
}

/* curl made an SSL_CTX for a new connection of h: make it ours. */
static CURLcode on_ssl_ctx(CURL *easy, void *sslctx, void *arg)
{
    SSL_CTX *ctx = sslctx;
    struct httpc *h = arg;

    (void)easy;
    if (SSL_CTX_use_certificate(ctx, h->mat->leaf) != 1 ||
        SSL_CTX_use_PrivateKey(ctx, h->mat->pkey) != 1 ||
        !SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) ||
        !SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) ||
        SSL_CTX_set_ex_data(ctx, ctx_idx, h) != 1) {
        ERR_clear_error();
        snprintf(h->tls_fail, sizeof(h->tls_fail),
                 "cannot set up the TLS context");
        return CURLE_SSL_CERTPROBLEM;
    }
    X509_VERIFY_PARAM_set_flags(SSL_CTX_get0_param(ctx),
                                X509_V_FLAG_X509_STRICT);
    /* leaf directly under the rack CA (pathlen 0) */
    SSL_CTX_set_verify_depth(ctx, 1);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, on_verify);
    return CURLE_OK;
}

/* Before each request, on a new or a kept-alive connection. */
static int on_prereq(void *arg, char *ip, char *local_ip, int port,
                     int local_port)
{
    struct httpc *h = arg;
    struct curl_tlssessioninfo *info = NULL;
    SSL *ssl;

    (void)ip;
    (void)local_ip;
    (void)port;
    (void)local_port;
    if (curl_easy_getinfo(h->easy, CURLINFO_TLS_SSL_PTR, &info) !=
            CURLE_OK ||
        !info || info->backend != CURLSSLBACKEND_OPENSSL || !info->internals) {
        snprintf(h->tls_fail, sizeof(h->tls_fail), "no TLS connection");
        return CURL_PREREQFUNC_ABORT;
    }
    ssl = info->internals;
    if (SSL_get_verify_result(ssl) != X509_V_OK) {
        snprintf(h->tls_fail, sizeof(h->tls_fail), "peer not verified");
        return CURL_PREREQFUNC_ABORT;
    }
    if (check_leaf(h, SSL_get0_peer_certificate(ssl)) < 0)
        return CURL_PREREQFUNC_ABORT;
    return CURL_PREREQFUNC_OK;
}

static int check_tls_spec(const struct httpc_spec *s, struct err *err)
{
    const struct httpc_tls *t = &s->tls;
    unsigned all = HTTPC_ROLE(TLS_ROLE_CONTROLLER) |
                   HTTPC_ROLE(TLS_ROLE_SLED) | HTTPC_ROLE(TLS_ROLE_OPERATOR);

    if (!t->ca_file || !t->cert_file || !t->key_file)
        return err_set(err, ERR_INVAL, "%s: TLS needs a CA, a certificate "
                       "and a key file", s->url);
    if (!t->roles || (t->roles & ~all))
        return err_set(err, ERR_INVAL, "%s: TLS without an expected peer "
                       "role", s->url);
    if (t->peer_id && strlen(t->peer_id) > TLS_ID_MAX)
        return err_set(err, ERR_INVAL, "%s: expected peer id too long",
                       s->url);
    if (strncasecmp(s->url, "https://", 8) != 0)
        return err_set(err, ERR_INVAL, "%s: only https:// URLs with TLS",
                       s->url);
    return 0;
}

int httpc__tls_setup(struct httpc *h, struct err *err)
{
    const struct httpc_tls *t = &h->s.tls;
    CURL *e = h->easy;
    int rc;

    if (!t->ca_file && !t->cert_file && !t->key_file)
        return 0;
    if ((rc = check_tls_spec(&h->s, err)) < 0)
        return rc;
    pthread_once(&idx_once, make_index);
    if (ctx_idx < 0)
        return err_set(err, ERR_NOMEM, "out of memory");
    if ((rc = mat_get(&h->mat, t, err)) < 0)
        return rc;
    snprintf(h->peer_id, sizeof(h->peer_id), "%s",
             t->peer_id ? t->peer_id : "");
    h->s.tls.peer_id = h->peer_id;
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "https");
    curl_easy_setopt(e, CURLOPT_SSLVERSION,
                     (long)(CURL_SSLVERSION_TLSv1_3 |
                            CURL_SSLVERSION_MAX_TLSv1_3));
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
    curl_easy_setopt(e, CURLOPT_SSL_SESSIONID_CACHE, 0L);
    curl_easy_setopt(e, CURLOPT_CAINFO, h->mat->ca);
    /* curl would keep the CA store of a multi handle for 24 h by path:
     * a CA file rotated in place must count from the next connection on
     * (one small PEM read per new connection; connections are reused). */
    curl_easy_setopt(e, CURLOPT_CA_CACHE_TIMEOUT, 0L);
    curl_easy_setopt(e, CURLOPT_CAPATH, NULL);
    curl_easy_setopt(e, CURLOPT_SSL_CTX_FUNCTION, on_ssl_ctx);
    curl_easy_setopt(e, CURLOPT_SSL_CTX_DATA, h);
    curl_easy_setopt(e, CURLOPT_PREREQFUNCTION, on_prereq);
    curl_easy_setopt(e, CURLOPT_PREREQDATA, h);
    return 0;
}
