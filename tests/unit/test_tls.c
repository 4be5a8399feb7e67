/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Unit tests of common/tls (contexts, peer identity, revocation, expiry)
 * against certificates from replicator/pki: issued leaves verify against
 * the CA and name their role and id; certificates from another CA,
 * expired, not yet valid, revoked (serial or identity), of another rack,
 * or with a missing, duplicate or unknown-role URI SAN are refused; and
 * mutual TLS 1.3 over a socketpair succeeds with good certificates and
 * fails for a TLS 1.2-only client and a client without a certificate.
 * One group fixture (two CAs and their leaves) in a temporary directory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/jsonutil.h"
#include "common/mem.h"
#include "common/tls.h"
#include "common/tls_revfile.h"
#include "replicator/pki.h"
#include "tests/support/testutil.h"

#define RACK "6f1e0c1e-5a5b-4c1d-9e2f-0123456789ab"
#define RACK2 "0b7d5f55-1d6c-4f3a-8e9b-abcdefabcdef"
#define SLED "11111111-2222-4333-8444-555555555555"
#define DAY 86400

static char *dir;  /* CA of RACK */
static char *dir2; /* another CA, also claiming RACK */

/* dir/name as a new string. */
static char *path_of(const char *d, const char *name)
{
    char *p = testutil_join(d, name);

    assert_non_null(p);
    return p;
}

static void issue(const char *d, enum tls_role role, const char *id,
                  const char *base, unsigned days)
{
    struct pki_leaf_req req = {role, id, days, NULL, 0, NULL, NULL};
    struct err e = ERR_INIT;
    char *cert = NULL, *key = NULL;
    struct buf b = BUF_INIT;

    assert_int_equal(buf_printf(&b, "%s.pem", base), 0);
    cert = path_of(d, b.data);
    buf_reset(&b);
    assert_int_equal(buf_printf(&b, "%s.key", base), 0);
    key = path_of(d, b.data);
    req.out_cert = cert;
    req.out_key = key;
    if (pki_issue(NULL, d, &req, &e) < 0)
        fail_msg("issue %s: %s", base, e.msg);
    mem_free(cert);
    mem_free(key);
    buf_release(&b);
}

static int group_setup(void **state)
{
    struct err e = ERR_INIT;

    (void)state;
    mem_init();
    if (testutil_tmpdir(&dir, "tls") < 0 ||
        testutil_tmpdir(&dir2, "tls2") < 0 ||
        pki_init(dir, RACK, 3650, &e) < 0 ||
        pki_init(dir2, RACK, 3650, &e) < 0) {
        fprintf(stderr, "fixture: %s\n", e.msg);
        return -1;
    }
    issue(dir, TLS_ROLE_CONTROLLER, "ctl-1", "ctl", 90);
    issue(dir, TLS_ROLE_SLED, SLED, "sled", 90);
    issue(dir, TLS_ROLE_OPERATOR, "alice", "alice", 90);
    issue(dir2, TLS_ROLE_SLED, SLED, "sled", 90);
    /* 10 days ago for 1 day: expired; 10 days ahead: not yet valid */
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
    testutil_rmrf(dir);
    testutil_rmrf(dir2);
    mem_free(dir);
    mem_free(dir2);
    return 0;
}

static X509 *load_cert(const char *d, const char *name)
{
    char *p = path_of(d, name);
    FILE *f = fopen(p, "r");
    X509 *x;

    assert_non_null(f);
    x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    mem_free(p);
    assert_non_null(x);
    return x;
}

static EVP_PKEY *load_key(const char *d, const char *name)
{
    char *p = path_of(d, name);
    FILE *f = fopen(p, "r");
    EVP_PKEY *k;

    assert_non_null(f);
    k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    mem_free(p);
    assert_non_null(k);
    return k;
}

/* X509_verify_cert of name against d's CA (strict): the X509_V_* result. */
static int chain_verify(const char *d, const char *name)
{
    X509 *ca = load_cert(dir, "ca.pem"), *leaf = load_cert(d, name);
    X509_STORE *st = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    int result;

    assert_int_equal(X509_STORE_add_cert(st, ca), 1);
    X509_STORE_set_flags(st, X509_V_FLAG_X509_STRICT);
    assert_int_equal(X509_STORE_CTX_init(ctx, st, leaf, NULL), 1);
    X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_CLIENT);
    X509_verify_cert(ctx);
    result = X509_STORE_CTX_get_error(ctx);
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(st);
    X509_free(ca);
    X509_free(leaf);
    return result;
}

/* A leaf signed by dir's CA with a subjectAltName extension per entry of
 * sans (NULL-terminated; none when sans[0] is NULL). */
static X509 *odd_leaf_n(const char *const *sans)
{
    X509 *ca = load_cert(dir, "ca.pem"), *x = X509_new();
    EVP_PKEY *cakey = load_key(dir, "ca.key"), *key = EVP_EC_gen("P-256");
    X509V3_CTX v3;
    X509_EXTENSION *ext;

    assert_non_null(x);
    assert_non_null(key);
    X509_set_version(x, X509_VERSION_3);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 4242);
    X509_set_issuer_name(x, X509_get_subject_name(ca));
    X509_gmtime_adj(X509_getm_notBefore(x), -60);
    X509_gmtime_adj(X509_getm_notAfter(x), DAY);
    X509_set_pubkey(x, key);
    for (; *sans; sans++) {
        X509V3_set_ctx(&v3, ca, x, NULL, NULL, 0);
        ext = X509V3_EXT_nconf_nid(NULL, &v3, NID_subject_alt_name, *sans);
        assert_non_null(ext);
        X509_add_ext(x, ext, -1);
        X509_EXTENSION_free(ext);
    }
    assert_true(X509_sign(x, cakey, EVP_sha256()) > 0);
    EVP_PKEY_free(key);
    EVP_PKEY_free(cakey);
    X509_free(ca);
    return x;
}

/* odd_leaf_n with one extension holding san, or none when san is NULL. */
static X509 *odd_leaf(const char *san)
{
    const char *sans[2] = {san, NULL};

    return odd_leaf_n(sans);
}

static void test_tls__leaf_verifies_and_names_its_identity(void **state)
{
    X509 *x = load_cert(dir, "sled.pem");
    struct tls_identity id;
    struct err e = ERR_INIT;
    char serial[TLS_SERIAL_HEX_MAX + 1];

    (void)state;
    assert_int_equal(chain_verify(dir, "sled.pem"), X509_V_OK);
    assert_int_equal(chain_verify(dir, "alice.pem"), X509_V_OK);
    assert_int_equal(tls_peer_identity(&id, x, RACK, &e), 0);
    assert_string_equal(id.rack_id, RACK);
    assert_int_equal(id.role, TLS_ROLE_SLED);
    assert_string_equal(id.id, SLED);
    assert_int_equal(tls_cert_serial(serial, x, &e), 0);
    assert_int_equal(strlen(serial), 32);
    assert_int_equal(tls_peer_check(&id, x, RACK, NULL, &e), 0);
    X509_free(x);
    x = load_cert(dir, "ctl.pem");
    assert_int_equal(tls_peer_identity(&id, x, RACK, &e), 0);
    assert_int_equal(id.role, TLS_ROLE_CONTROLLER);
    assert_string_equal(id.id, "ctl-1");
    X509_free(x);
}

static void test_tls__chain_refusals(void **state)
{
    (void)state;
    assert_int_equal(chain_verify(dir2, "sled.pem"),
                     X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
    assert_int_equal(chain_verify(dir, "expired.pem"),
                     X509_V_ERR_CERT_HAS_EXPIRED);
    assert_int_equal(chain_verify(dir, "future.pem"),
                     X509_V_ERR_CERT_NOT_YET_VALID);
}

static void test_tls__identity_refusals(void **state)
{
    X509 *x = load_cert(dir, "sled.pem");
    struct tls_identity id;
    struct err e = ERR_INIT;

    (void)state;
    assert_int_equal(tls_peer_check(&id, x, RACK2, NULL, &e), ERR_VERIFY);
    assert_string_equal(e.msg, "identity urn:rackdepot:" RACK ":sled:" SLED
                        ": rack " RACK " is not ours (" RACK2 ")");
    X509_free(x);
    x = odd_leaf(NULL);
    assert_int_equal(tls_peer_identity(&id, x, RACK, &e), ERR_VERIFY);
    assert_string_equal(e.msg, "certificate has 0 URI SANs, want exactly "
                        "one urn:rackdepot:...");
    X509_free(x);
    x = odd_leaf("IP:10.0.0.1,DNS:sled.example");
    assert_int_equal(tls_peer_identity(&id, x, RACK, &e), ERR_VERIFY);
    assert_string_equal(e.msg, "certificate has 0 URI SANs, want exactly "
                        "one urn:rackdepot:...");
    X509_free(x);
    x = odd_leaf("URI:urn:rackdepot:" RACK ":sled:" SLED
                 ",URI:urn:rackdepot:" RACK ":controller:ctl-1");
    assert_int_equal(tls_peer_identity(&id, x, RACK, &e), ERR_VERIFY);
    assert_string_equal(e.msg, "certificate has 2 URI SANs, want exactly "
                        "one urn:rackdepot:...");
    X509_free(x);
    {
        const char *two[] = {"URI:urn:rackdepot:" RACK ":sled:" SLED,
                             "URI:urn:rackdepot:" RACK ":sled:" SLED, NULL};

        x = odd_leaf_n(two);
    }
    assert_int_equal(tls_peer_identity(&id, x, RACK, &e), ERR_VERIFY);
    assert_string_equal(e.msg, "more than one subjectAltName extension");
    X509_free(x);
    x = odd_leaf("URI:urn:rackdepot:" RACK ":king:ctl-1");
    assert_int_equal(tls_peer_identity(&id, x, RACK, &e), ERR_VERIFY);
    assert_string_equal(e.msg, "identity urn:rackdepot:" RACK ":king:ctl-1: "
                        "unknown role king");
    X509_free(x);
    x = odd_leaf("URI:https://rack.example/sled");
    assert_int_equal(tls_peer_identity(&id, x, RACK, &e), ERR_VERIFY);
    assert_string_equal(e.msg, "URI SAN is not urn:rackdepot:...");
    X509_free(x);
}

static void test_tls__identity_uri_parse(void **state)
{
    struct tls_identity id;
    struct err e = ERR_INIT;
    char uri[TLS_URI_MAX];

    (void)state;
    assert_int_equal(tls_identity_uri(uri, sizeof(uri), RACK,
                                      TLS_ROLE_OPERATOR, "op-7", &e), 0);
    assert_string_equal(uri, "urn:rackdepot:" RACK ":operator:op-7");
    assert_int_equal(tls_identity_parse(&id, uri, RACK, &e), 0);
    assert_int_equal(id.role, TLS_ROLE_OPERATOR);
    assert_string_equal(id.id, "op-7");
    assert_int_equal(tls_identity_uri(uri, sizeof(uri), RACK, TLS_ROLE_SLED,
                                      "ctl-1", &e), ERR_INVAL);
    assert_string_equal(e.msg, "sled id ctl-1 is not a lowercase UUID");
    assert_int_equal(tls_identity_parse(&id, "urn:rackdepot:" RACK
                                        ":controller:Ctl", RACK, &e),
                     ERR_VERIFY);
    assert_string_equal(e.msg, "identity urn:rackdepot:" RACK
                        ":controller:Ctl: controller id Ctl: only a-z, 0-9 "
                        "and - are allowed");
    assert_int_equal(tls_identity_parse(&id, "urn:rackdepot:" RACK
                                        ":sled:" SLED ":x", RACK, &e),
                     ERR_VERIFY);
    assert_int_equal(tls_identity_parse(&id, "urn:rackdepot:" RACK
                                        ":operator:", RACK, &e), ERR_VERIFY);
    assert_int_equal(tls_identity_parse(&id, "urn:rackdepot:short:sled:x",
                                        RACK, &e), ERR_VERIFY);
    assert_int_equal(tls_id_check(TLS_ROLE_OPERATOR, "a", &e), 0);
    assert_int_equal(tls_id_check(TLS_ROLE_OPERATOR,
                                  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                                  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                                  &e), ERR_INVAL);
    assert_string_equal(e.msg, "operator id must be 1..64 characters");
}

static void test_tls__revocation_set(void **state)
{
    X509 *x = load_cert(dir, "sled.pem");
    struct tls_revoked *set = NULL, *copy = NULL;
    struct err e = ERR_INIT;
    char serial[TLS_SERIAL_HEX_MAX + 1], upper[TLS_SERIAL_HEX_MAX + 3];

    (void)state;
    assert_int_equal(tls_cert_serial(serial, x, &e), 0);
    assert_int_equal(tls_revoked_new(&set, &e), 0);
    assert_int_equal(tls_peer_check(NULL, x, RACK, set, &e), 0);
    /* serials compare case-insensitively, leading zero bytes ignored */
    snprintf(upper, sizeof(upper), "00%s", serial);
    for (char *p = upper; *p; p++)
        if (*p >= 'a' && *p <= 'f')
            *p = (char)(*p - 'a' + 'A');
    assert_int_equal(tls_revoked_add_serial(set, upper, &e), 0);
    assert_int_equal(tls_revoked_add_serial(set, upper, &e), 0);
    assert_int_equal(tls_revoked_count(set), 1);
    assert_int_equal(tls_peer_check(NULL, x, RACK, set, &e), ERR_VERIFY);
    assert_int_equal(strncmp(e.msg, "certificate ", 12), 0);
    assert_non_null(strstr(e.msg, " is revoked"));
    tls_revoked_free(set);
    assert_int_equal(tls_revoked_new(&set, &e), 0);
    assert_int_equal(tls_revoked_add_id(set, TLS_ROLE_CONTROLLER, SLED, &e),
                     0);
    assert_int_equal(tls_peer_check(NULL, x, RACK, set, &e), 0);
    assert_int_equal(tls_revoked_add_id(set, TLS_ROLE_SLED, SLED, &e), 0);
    assert_int_equal(tls_revoked_dup(&copy, set, &e), 0);
    assert_int_equal(tls_peer_check(NULL, x, RACK, copy, &e), ERR_VERIFY);
    assert_string_equal(e.msg, "identity sled:" SLED " is revoked");
    assert_int_equal(tls_revoked_add_serial(set, "xyz", &e), ERR_INVAL);
    assert_int_equal(tls_revoked_add_id(set, TLS_ROLE_SLED, "nope", &e),
                     ERR_INVAL);
    tls_revoked_free(set);
    tls_revoked_free(copy);
    X509_free(x);
}

/* Entries in file form, equality, merge, and the JSON list both ways
 * (strict: duplicates refused), as the sled's pushed list uses them. */
static void test_tls__revocation_set_json(void **state)
{
    struct tls_revoked *a = NULL, *b = NULL;
    struct err e = ERR_INIT;
    char ent[TLS_REVOKED_ENTRY_MAX], *text;
    json_t *j;

    (void)state;
    j = json_loads("[\"sled:" SLED "\", \"00AB\", \"operator:op\"]", 0,
                   NULL);
    assert_int_equal(tls_revoked_from_json(&a, j, true, &e), 0);
    json_decref(j);
    assert_int_equal(tls_revoked_count(a), 3);
    /* sorted, serials normalised, tags dropped */
    assert_string_equal(tls_revoked_entry(ent, a, 0), "operator:op");
    assert_string_equal(tls_revoked_entry(ent, a, 1), "sled:" SLED);
    assert_string_equal(tls_revoked_entry(ent, a, 2), "ab");
    assert_null(tls_revoked_entry(ent, a, 3));
    j = tls_revoked_to_json(a);
    text = jsonu_dumps(j);
    assert_string_equal(text, "[\"operator:op\",\"sled:" SLED "\",\"ab\"]");
    /* and back: the same set */
    assert_int_equal(tls_revoked_from_json(&b, j, true, &e), 0);
    assert_true(tls_revoked_equal(a, b));
    json_decref(j);
    mem_free(text);
    tls_revoked_free(b);
    /* merge: union, no duplicates; then no longer equal */
    assert_int_equal(tls_revoked_new(&b, &e), 0);
    assert_int_equal(tls_revoked_add_id(b, TLS_ROLE_CONTROLLER, "c", &e), 0);
    assert_int_equal(tls_revoked_add_serial(b, "ab", &e), 0);
    assert_false(tls_revoked_equal(a, b));
    assert_int_equal(tls_revoked_merge(b, a, &e), 0);
    assert_int_equal(tls_revoked_count(b), 4);
    assert_int_equal(tls_revoked_merge(b, NULL, &e), 0);
    assert_int_equal(tls_revoked_count(b), 4);
    assert_true(tls_revoked_equal(NULL, NULL));
    assert_false(tls_revoked_equal(NULL, b));
    tls_revoked_free(b);
    b = NULL;
    /* strict refuses a duplicate (after normalisation); lax does not */
    j = json_loads("[\"0a\", \"0A\"]", 0, NULL);
    assert_int_equal(tls_revoked_from_json(&b, j, true, &e), ERR_INVAL);
    assert_null(b);
    assert_non_null(strstr(e.msg, "given twice"));
    assert_int_equal(tls_revoked_from_json(&b, j, false, &e), 0);
    assert_int_equal(tls_revoked_count(b), 1);
    json_decref(j);
    tls_revoked_free(b);
    b = NULL;
    j = json_loads("{}", 0, NULL);
    assert_int_equal(tls_revoked_from_json(&b, j, true, &e), ERR_INVAL);
    json_decref(j);
    tls_revoked_free(a);
}

static void test_tls__expiry(void **state)
{
    X509 *x = load_cert(dir, "sled.pem");
    struct err e = ERR_INIT;
    int64_t nb = 0, na = 0, fnb = 0, fna = 0;
    char *p = path_of(dir, "sled.pem");
    int64_t now = (int64_t)time(NULL);

    (void)state;
    assert_int_equal(tls_cert_validity(&nb, &na, x, &e), 0);
    assert_true(nb <= now && nb >= now - PKI_BACKDATE_SECS - 120);
    assert_int_equal(na - nb, 90 * DAY);
    assert_int_equal(tls_cert_file_validity(&fnb, &fna, p, &e), 0);
    assert_int_equal(fnb, nb);
    assert_int_equal(fna, na);
    assert_false(tls_expiry_warn(now, nb, na));
    assert_false(tls_expiry_warn(na - 30 * DAY, nb, na));
    assert_true(tls_expiry_warn(na - 30 * DAY + 1, nb, na));
    assert_true(tls_expiry_warn(na + 1, nb, na));
    assert_true(tls_expiry_warn(now, na, nb));
    assert_int_equal(tls_cert_file_validity(&fnb, &fna, "/nonexistent", &e),
                     ERR_IO);
    mem_free(p);
    X509_free(x);
}

/* Files of a context from dir d with certificate base name base. */
struct files {
    char *ca, *cert, *key;
};

static struct tls_files files_of(struct files *f, const char *d,
                                 const char *base)
{
    struct tls_files t;
    struct buf b = BUF_INIT;

    f->ca = path_of(d, "ca.pem");
    assert_int_equal(buf_printf(&b, "%s.pem", base), 0);
    f->cert = path_of(d, b.data);
    buf_reset(&b);
    assert_int_equal(buf_printf(&b, "%s.key", base), 0);
    f->key = path_of(d, b.data);
    buf_release(&b);
    t.ca = f->ca;
    t.cert = f->cert;
    t.key = f->key;
    return t;
}

static void files_release(struct files *f)
{
    mem_free(f->ca);
    mem_free(f->cert);
    mem_free(f->key);
}

static SSL_CTX *server_ctx(const struct tls_revoked *revoked)
{
    struct files f;
    struct tls_files t = files_of(&f, dir, "ctl");
    struct err e = ERR_INIT;
    SSL_CTX *ctx = NULL;

    if (tls_server_ctx_new(&ctx, &t, RACK, revoked, &e) < 0)
        fail_msg("server ctx: %s", e.msg);
    files_release(&f);
    return ctx;
}

static SSL_CTX *client_ctx(const char *d, const char *base)
{
    struct files f;
    struct tls_files t = files_of(&f, d, base);
    struct err e = ERR_INIT;
    SSL_CTX *ctx = NULL;

    if (tls_client_ctx_new(&ctx, &t, RACK, NULL, &e) < 0)
        fail_msg("client ctx: %s", e.msg);
    files_release(&f);
    return ctx;
}

/* Why the server side of the last handshake() failed ("" if it did not). */
static char server_reason[256];

/* Step one side; 1 done, 0 wants more, -1 failed. */
static int step(SSL *ssl, int *done)
{
    int r;

    if (*done)
        return 1;
    r = SSL_do_handshake(ssl);
    if (r == 1) {
        *done = 1;
        return 1;
    }
    r = SSL_get_error(ssl, r);
    return r == SSL_ERROR_WANT_READ || r == SSL_ERROR_WANT_WRITE ? 0 : -1;
}

/*
 * Handshake sctx against cctx over a non-blocking socketpair in this
 * thread, then one byte from server to client (a TLS 1.3 client finishes
 * before the server has judged its certificate). Returns 0 when both ends
 * succeed; *cpeer (the client as the server saw it) may be NULL.
 */
static int handshake(SSL_CTX *sctx, SSL_CTX *cctx, struct tls_identity *cpeer,
                     struct tls_identity *speer)
{
    int sv[2], sdone = 0, cdone = 0, rs = 0, rc = 0, i;
    SSL *s = SSL_new(sctx), *c = SSL_new(cctx);
    struct err e = ERR_INIT;
    char byte = 0;

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    fcntl(sv[0], F_SETFL, O_NONBLOCK);
    fcntl(sv[1], F_SETFL, O_NONBLOCK);
    SSL_set_fd(s, sv[0]);
    SSL_set_fd(c, sv[1]);
    SSL_set_accept_state(s);
    SSL_set_connect_state(c);
    ERR_clear_error();
    server_reason[0] = '\0';
    for (i = 0; i < 1000 && rs >= 0 && rc >= 0 && !(sdone && cdone); i++) {
        rc = step(c, &cdone);
        ERR_clear_error();
        rs = step(s, &sdone);
        if (rs < 0 && ERR_peek_last_error())
            snprintf(server_reason, sizeof(server_reason), "%s",
                     ERR_reason_error_string(ERR_peek_last_error()));
    }
    if (rs == 1 && rc == 1 && SSL_write(s, "k", 1) == 1) {
        for (i = 0; i < 1000 && SSL_read(c, &byte, 1) != 1; i++)
            ;
    }
    if (byte == 'k' && cpeer)
        assert_int_equal(tls_ssl_peer(cpeer, s, &e), 0);
    if (byte == 'k' && speer)
        assert_int_equal(tls_ssl_peer(speer, c, &e), 0);
    SSL_free(s);
    SSL_free(c);
    close(sv[0]);
    close(sv[1]);
    return byte == 'k' ? 0 : -1;
}

static void test_tls__mutual_tls13(void **state)
{
    SSL_CTX *s = server_ctx(NULL), *c = client_ctx(dir, "sled");
    struct tls_identity cp, sp;

    (void)state;
    assert_int_equal(handshake(s, c, &cp, &sp), 0);
    assert_int_equal(cp.role, TLS_ROLE_SLED);
    assert_string_equal(cp.id, SLED);
    assert_int_equal(sp.role, TLS_ROLE_CONTROLLER);
    assert_string_equal(sp.id, "ctl-1");
    SSL_CTX_free(c);
    /* an operator too: authorisation by role is the caller's */
    c = client_ctx(dir, "alice");
    assert_int_equal(handshake(s, c, &cp, NULL), 0);
    assert_int_equal(cp.role, TLS_ROLE_OPERATOR);
    SSL_CTX_free(c);
    SSL_CTX_free(s);
}

static void test_tls__handshake_refusals(void **state)
{
    SSL_CTX *s = server_ctx(NULL), *c;
    const char *bad[] = {"expired", "future"};

    (void)state;
    for (size_t i = 0; i < 2; i++) {
        c = client_ctx(dir, bad[i]);
        assert_int_equal(handshake(s, c, NULL, NULL), -1);
        assert_string_equal(server_reason, "certificate verify failed");
        SSL_CTX_free(c);
    }
    /* another CA */
    c = client_ctx(dir2, "sled");
    assert_int_equal(handshake(s, c, NULL, NULL), -1);
    SSL_CTX_free(c);
    /* TLS 1.2 only */
    c = client_ctx(dir, "sled");
    SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
    SSL_CTX_set_max_proto_version(c, TLS1_2_VERSION);
    assert_int_equal(handshake(s, c, NULL, NULL), -1);
    assert_string_equal(server_reason, "unsupported protocol");
    SSL_CTX_free(c);
    /* no client certificate */
    c = SSL_CTX_new(TLS_client_method());
    assert_non_null(c);
    SSL_CTX_set_verify(c, SSL_VERIFY_NONE, NULL);
    assert_int_equal(handshake(s, c, NULL, NULL), -1);
    assert_string_equal(server_reason, "peer did not return a certificate");
    SSL_CTX_free(c);
    SSL_CTX_free(s);
}

static void test_tls__revoked_and_reload(void **state)
{
    SSL_CTX *s = server_ctx(NULL), *s2 = NULL, *s3 = NULL;
    SSL_CTX *c = client_ctx(dir, "sled"), *c2 = NULL;
    struct tls_revoked *set = NULL, *set2 = NULL;
    struct err e = ERR_INIT;
    char serial[TLS_SERIAL_HEX_MAX + 1];
    X509 *x = load_cert(dir, "sled.pem");

    (void)state;
    assert_int_equal(tls_cert_serial(serial, x, &e), 0);
    assert_int_equal(tls_revoked_new(&set, &e), 0);
    assert_int_equal(tls_revoked_add_serial(set, serial, &e), 0);
    /* SIGHUP: a new context refuses, the old one still works */
    assert_int_equal(tls_ctx_reload(&s2, s, set, &e), 0);
    assert_int_equal(handshake(s2, c, NULL, NULL), -1);
    assert_int_equal(handshake(s, c, NULL, NULL), 0);
    /* a reload without a set keeps the old context's set */
    assert_int_equal(tls_ctx_reload(&s3, s2, NULL, &e), 0);
    assert_int_equal(handshake(s3, c, NULL, NULL), -1);
    SSL_CTX_free(s3);
    tls_revoked_free(set);
    /* revoked identity */
    assert_int_equal(tls_revoked_new(&set, &e), 0);
    assert_int_equal(tls_revoked_add_id(set, TLS_ROLE_SLED, SLED, &e), 0);
    assert_int_equal(tls_ctx_reload(&s3, s, set, &e), 0);
    assert_int_equal(handshake(s3, c, NULL, NULL), -1);
    SSL_CTX_free(s3);
    /* the client refuses a revoked server just the same */
    assert_int_equal(tls_revoked_new(&set2, &e), 0);
    assert_int_equal(tls_revoked_add_id(set2, TLS_ROLE_CONTROLLER, "ctl-1",
                                        &e), 0);
    assert_int_equal(tls_ctx_reload(&c2, c, set2, &e), 0);
    assert_int_equal(handshake(s, c2, NULL, NULL), -1);
    SSL_CTX_free(c2);
    tls_revoked_free(set2);
    tls_revoked_free(set);
    SSL_CTX_free(s2);
    SSL_CTX_free(s);
    SSL_CTX_free(c);
    X509_free(x);
}

static void test_tls__context_errors(void **state)
{
    struct tls_files t = {"/nonexistent/ca.pem", "/nonexistent/c.pem",
                          "/nonexistent/k.pem"};
    struct files f;
    struct err e = ERR_INIT;
    SSL_CTX *ctx = (SSL_CTX *)&t, *plain = SSL_CTX_new(TLS_server_method());

    (void)state;
    assert_int_equal(tls_server_ctx_new(&ctx, &t, RACK, NULL, &e), ERR_IO);
    assert_null(ctx);
    assert_int_equal(strncmp(e.msg, "CA /nonexistent/ca.pem: ", 24), 0);
    assert_int_equal(tls_client_ctx_new(&ctx, &t, "rack", NULL, &e),
                     ERR_INVAL);
    assert_string_equal(e.msg, "rack id rack is not a lowercase UUID");
    /* certificate and key that do not match */
    t = files_of(&f, dir, "sled");
    mem_free(f.key);
    f.key = path_of(dir, "ctl.key");
    t.key = f.key;
    assert_int_equal(tls_client_ctx_new(&ctx, &t, RACK, NULL, &e), ERR_IO);
    assert_int_equal(strncmp(e.msg, "key ", 4), 0);
    files_release(&f);
    assert_int_equal(tls_ctx_reload(&ctx, plain, NULL, &e), ERR_INVAL);
    assert_string_equal(e.msg, "context not made by tls_*_ctx_new");
    SSL_CTX_free(plain);
}

static void test_tls__nomem(void **state)
{
    /* Every allocation of ours failing in turn (OpenSSL's are outside
     * injection): ERR_NOMEM or success, no leak (ASan builds). */
    struct tls_revoked *set = NULL;
    struct files f;
    struct tls_files t = files_of(&f, dir, "ctl");
    struct err e = ERR_INIT;
    SSL_CTX *ctx = NULL;
    long n;
    int rc = ERR_NOMEM;

    (void)state;
    assert_int_equal(tls_revoked_new(&set, &e), 0);
    for (n = 0; n < 40; n++) {
        char serial[8];

        snprintf(serial, sizeof(serial), "%04lx", (unsigned long)n + 1);
        assert_int_equal(tls_revoked_add_serial(set, serial, &e), 0);
    }
    assert_int_equal(tls_revoked_add_id(set, TLS_ROLE_SLED, SLED, &e), 0);
    for (n = 0; n < 200 && rc != 0; n++) {
        mem__fail_after(n, true);
        rc = tls_server_ctx_new(&ctx, &t, RACK, set, &e);
        mem__fail_after(-1, false);
        if (rc != 0 && rc != ERR_NOMEM)
            fail_msg("n=%ld rc=%d %s", n, rc, e.msg);
        if (rc == 0) {
            SSL_CTX *alice = client_ctx(dir, "alice"), *sl = NULL;

            sl = client_ctx(dir, "sled");
            assert_int_equal(handshake(ctx, alice, NULL, NULL), 0);
            assert_int_equal(handshake(ctx, sl, NULL, NULL), -1);
            SSL_CTX_free(alice);
            SSL_CTX_free(sl);
        }
        SSL_CTX_free(ctx);
    }
    assert_int_equal(rc, 0);
    tls_revoked_free(set);
    files_release(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tls__leaf_verifies_and_names_its_identity),
        cmocka_unit_test(test_tls__chain_refusals),
        cmocka_unit_test(test_tls__identity_refusals),
        cmocka_unit_test(test_tls__identity_uri_parse),
        cmocka_unit_test(test_tls__revocation_set),
        cmocka_unit_test(test_tls__revocation_set_json),
        cmocka_unit_test(test_tls__expiry),
        cmocka_unit_test(test_tls__mutual_tls13),
        cmocka_unit_test(test_tls__handshake_refusals),
        cmocka_unit_test(test_tls__revoked_and_reload),
        cmocka_unit_test(test_tls__context_errors),
        cmocka_unit_test(test_tls__nomem),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
