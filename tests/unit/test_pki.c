/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Unit tests of replicator/pki and pki_index: the CA's key, extensions and
 * files; a leaf's extensions, SANs, serial and lifetime; the bounds and
 * refusals of init and issue; the index (entries, revocation by serial
 * and by identity, ambiguous ids, the revocation set, malformed files).
 * Each test works in its own temporary directory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <cmocka.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "common/err.h"
#include "common/mem.h"
#include "common/tls.h"
#include "replicator/pki.h"
#include "replicator/pki_index.h"
#include "tests/support/testutil.h"

#define RACK "6f1e0c1e-5a5b-4c1d-9e2f-0123456789ab"
#define SLED "11111111-2222-4333-8444-555555555555"
#define DAY 86400

static int setup(void **state)
{
    char *dir = NULL;

    mem_init();
    pki__set_now(0);
    if (testutil_tmpdir(&dir, "pki") < 0)
        return -1;
    *state = dir;
    return 0;
}

static int teardown(void **state)
{
    testutil_rmrf(*state);
    mem_free(*state);
    return 0;
}

static X509 *load(const char *dir, const char *name)
{
    char *p = testutil_join(dir, name);
    FILE *f = fopen(p, "r");
    X509 *x = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;

    if (f)
        fclose(f);
    mem_free(p);
    assert_non_null(x);
    return x;
}

static unsigned file_mode(const char *dir, const char *name)
{
    char *p = testutil_join(dir, name);
    struct stat st;

    assert_int_equal(stat(p, &st), 0);
    mem_free(p);
    return st.st_mode & 0777;
}

static void test_pki__init_creates_the_ca(void **state)
{
    const char *dir = *state;
    struct err e = ERR_INIT;
    X509 *ca;
    EVP_PKEY *pub;
    char curve[32];
    int64_t nb = 0, na = 0;

    assert_int_equal(pki_init(dir, RACK, PKI_CA_DAYS_DEFAULT, &e), 0);
    assert_int_equal(file_mode(dir, "ca.key"), 0600);
    assert_int_equal(file_mode(dir, "index.json"), 0644);
    ca = load(dir, "ca.pem");
    /* self-signed, CA:TRUE pathlen 0, keyCertSign + cRLSign */
    pub = X509_get0_pubkey(ca);
    assert_int_equal(X509_verify(ca, pub), 1);
    assert_int_equal(X509_check_ca(ca), 1);
    assert_int_equal(X509_get_pathlen(ca), 0);
    assert_int_equal(X509_get_key_usage(ca), KU_KEY_CERT_SIGN | KU_CRL_SIGN);
    assert_int_equal(X509_EXTENSION_get_critical(X509_get_ext(
                         ca, X509_get_ext_by_NID(ca, NID_basic_constraints,
                                                 -1))), 1);
    assert_int_equal(X509_EXTENSION_get_critical(X509_get_ext(
                         ca, X509_get_ext_by_NID(ca, NID_key_usage, -1))), 1);
    assert_int_equal(EVP_PKEY_get_group_name(pub, curve, sizeof(curve),
                                             NULL), 1);
    assert_string_equal(curve, "prime256v1");
    assert_int_equal(tls_cert_validity(&nb, &na, ca, &e), 0);
    assert_int_equal(na - nb, (int64_t)PKI_CA_DAYS_DEFAULT * DAY);
    X509_free(ca);
    /* twice is refused, bad values are refused */
    assert_int_equal(pki_init(dir, RACK, 10, &e), ERR_CONFLICT);
    assert_non_null(strstr(e.msg, "ca.key exists: "));
    assert_int_equal(pki_init(dir, "6F1E0C1E-5A5B-4C1D-9E2F-0123456789AB",
                              10, &e), ERR_INVAL);
    assert_int_equal(pki_init(dir, RACK, 0, &e), ERR_INVAL);
    assert_string_equal(e.msg, "CA lifetime must be 1..10950 days");
}

static void test_pki__issue_leaf(void **state)
{
    const char *dir = *state;
    const char *ips[] = {"10.0.0.5", "fd00::5"};
    struct pki_leaf_req req = {TLS_ROLE_SLED, SLED, 90, ips, 2, NULL, NULL};
    struct pki_issued iss;
    struct tls_identity id;
    struct err e = ERR_INIT;
    char serial[TLS_SERIAL_HEX_MAX + 1];
    GENERAL_NAMES *gns;
    X509 *x;

    assert_int_equal(pki_init(dir, RACK, 3650, &e), 0);
    pki__set_now(1800000000);
    assert_int_equal(pki_issue(&iss, dir, &req, &e), 0);
    pki__set_now(0);
    assert_string_equal(iss.uri, "urn:rackdepot:" RACK ":sled:" SLED);
    assert_int_equal(iss.not_before, 1800000000 - PKI_BACKDATE_SECS);
    assert_int_equal(iss.not_after - iss.not_before, 90 * DAY);
    assert_int_equal(file_mode(dir, "sled-" SLED ".key"), 0600);
    x = load(dir, "sled-" SLED ".pem");
    assert_int_equal(X509_check_ca(x), 0);
    assert_int_equal(X509_get_key_usage(x), KU_DIGITAL_SIGNATURE);
    assert_int_equal(X509_get_extended_key_usage(x),
                     XKU_SSL_SERVER | XKU_SSL_CLIENT);
    assert_int_equal(tls_cert_serial(serial, x, &e), 0);
    assert_string_equal(serial, iss.serial);
    assert_int_equal(strlen(serial), 32);
    assert_int_equal(tls_peer_identity(&id, x, RACK, &e), 0);
    assert_int_equal(id.role, TLS_ROLE_SLED);
    gns = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    assert_int_equal(sk_GENERAL_NAME_num(gns), 3);
    assert_int_equal(sk_GENERAL_NAME_value(gns, 1)->type, GEN_IPADD);
    assert_int_equal(sk_GENERAL_NAME_value(gns, 2)->type, GEN_IPADD);
    GENERAL_NAMES_free(gns);
    X509_free(x);
}

static void test_pki__issue_refusals(void **state)
{
    const char *dir = *state;
    const char *bad_ip[] = {"10.0.0.300"};
    struct pki_leaf_req req = {TLS_ROLE_CONTROLLER, "ctl-1", 826, NULL, 0,
                               NULL, NULL};
    struct err e = ERR_INIT;

    assert_int_equal(pki_issue(NULL, dir, &req, &e), ERR_INVAL);
    assert_string_equal(e.msg, "leaf lifetime must be 1..825 days");
    req.days = 825;
    assert_int_equal(pki_issue(NULL, dir, &req, &e), ERR_NOTFOUND);
    assert_non_null(strstr(e.msg, "no PKI index (run `replicator pki init` "
                           "first)"));
    assert_int_equal(pki_init(dir, RACK, 3650, &e), 0);
    assert_int_equal(pki_issue(NULL, dir, &req, &e), 0);
    req.days = 0;
    assert_int_equal(pki_issue(NULL, dir, &req, &e), ERR_INVAL);
    req.days = 1;
    req.id = "Ctl_1";
    assert_int_equal(pki_issue(NULL, dir, &req, &e), ERR_INVAL);
    assert_string_equal(e.msg, "controller id Ctl_1: only a-z, 0-9 and - "
                        "are allowed");
    req.role = TLS_ROLE_SLED;
    req.id = "ctl-1";
    assert_int_equal(pki_issue(NULL, dir, &req, &e), ERR_INVAL);
    assert_string_equal(e.msg, "sled id ctl-1 is not a lowercase UUID");
    req.id = SLED;
    req.ips = bad_ip;
    req.nips = 1;
    assert_int_equal(pki_issue(NULL, dir, &req, &e), ERR_INVAL);
    assert_string_equal(e.msg, "10.0.0.300 is not an IP address");
    req.role = (enum tls_role)9;
    assert_int_equal(pki_issue(NULL, dir, &req, &e), ERR_INVAL);
    assert_string_equal(e.msg, "unknown role");
}

static void issue_ok(const char *dir, enum tls_role role, const char *id,
                     struct pki_issued *out)
{
    struct pki_leaf_req req = {role, id, 30, NULL, 0, NULL, NULL};
    struct err e = ERR_INIT;

    if (pki_issue(out, dir, &req, &e) < 0)
        fail_msg("issue %s: %s", id, e.msg);
}

static void test_pki__index_and_revoke(void **state)
{
    const char *dir = *state;
    struct pki_issued a, b, c;
    struct pki_index *idx = NULL;
    struct pki_revocation r;
    struct pki_cert cert;
    struct tls_revoked *set = NULL;
    struct tls_identity ident = {RACK, TLS_ROLE_OPERATOR, "ops"};
    struct err e = ERR_INIT;

    assert_int_equal(pki_init(dir, RACK, 3650, &e), 0);
    issue_ok(dir, TLS_ROLE_SLED, SLED, &a);
    issue_ok(dir, TLS_ROLE_OPERATOR, "ops", &b);
    issue_ok(dir, TLS_ROLE_CONTROLLER, "ops", &c);
    assert_int_equal(pki_index_load(&idx, dir, &e), 0);
    assert_string_equal(pki_index_rack_id(idx), RACK);
    assert_int_equal(pki_index_count(idx), 3);
    pki_index_get(&cert, idx, 1);
    assert_string_equal(cert.serial, b.serial);
    assert_int_equal(cert.role, TLS_ROLE_OPERATOR);
    assert_string_equal(cert.id, "ops");
    assert_int_equal(cert.not_after, b.not_after);
    assert_false(cert.revoked);
    /* by serial, in any case; twice is "already" */
    assert_int_equal(pki_index_revoke(&r, idx, a.serial, 0, "lost", 5, &e),
                     0);
    assert_true(r.by_serial);
    assert_false(r.already);
    assert_int_equal(r.role, TLS_ROLE_SLED);
    assert_int_equal(pki_index_revoke(&r, idx, a.serial, 0, "lost", 6, &e),
                     0);
    assert_true(r.already);
    pki_index_get(&cert, idx, 0);
    assert_true(cert.revoked);
    assert_int_equal(cert.time_revoked, 5);
    assert_string_equal(cert.reason, "lost");
    /* "ops" is an operator and a controller: the role decides */
    assert_int_equal(pki_index_revoke(&r, idx, "ops", 0, "x", 7, &e),
                     ERR_CONFLICT);
    assert_string_equal(e.msg, "id ops exists as operator and as "
                        "controller: give --role");
    assert_int_equal(pki_index_revoke(&r, idx, "ops", TLS_ROLE_OPERATOR, "x",
                                      7, &e), 0);
    assert_false(r.by_serial);
    assert_true(pki_index_id_revoked(idx, TLS_ROLE_OPERATOR, "ops"));
    assert_false(pki_index_id_revoked(idx, TLS_ROLE_CONTROLLER, "ops"));
    assert_int_equal(pki_index_revoke(&r, idx, "nobody", 0, "x", 7, &e),
                     ERR_NOTFOUND);
    assert_int_equal(pki_index_save(idx, dir, &e), 0);
    /* the set: a's serial, b's serial and the identity operator:ops */
    assert_int_equal(pki_index_revoked_set(&set, idx, &e), 0);
    assert_int_equal(tls_revoked_count(set), 3);
    assert_int_equal(tls_revoked_check(set, c.serial, &ident, &e),
                     ERR_VERIFY);
    assert_string_equal(e.msg, "identity operator:ops is revoked");
    ident.role = TLS_ROLE_CONTROLLER;
    assert_int_equal(tls_revoked_check(set, c.serial, &ident, &e), 0);
    tls_revoked_free(set);
    pki_index_free(idx);
    /* a revoked identity gets no new certificate */
    {
        struct pki_leaf_req req = {TLS_ROLE_OPERATOR, "ops", 30, NULL, 0,
                                   NULL, NULL};

        assert_int_equal(pki_issue(NULL, dir, &req, &e), ERR_CONFLICT);
        assert_string_equal(e.msg, "identity operator:ops is revoked");
    }
}

static void test_pki__index_malformed(void **state)
{
    const char *dir = *state;
    char *p = testutil_join(dir, PKI_INDEX_FILE);
    struct pki_index *idx = NULL;
    struct err e = ERR_INIT;
    static const char bad_entry[] =
        "{\"format\":1,\"rack_id\":\"" RACK "\",\"ca_serial\":\"01\","
        "\"certs\":[{\"serial\":\"XYZ\",\"role\":\"sled\",\"id\":\"" SLED
        "\",\"not_before\":1,\"not_after\":2,\"revoked\":false}],"
        "\"revoked_ids\":[]}";

    assert_int_equal(testutil_write_file(p, "{", 1), 0);
    assert_int_equal(pki_index_load(&idx, dir, &e), ERR_VERIFY);
    assert_int_equal(testutil_write_file(p, "{\"format\":2}", 12), 0);
    assert_int_equal(pki_index_load(&idx, dir, &e), ERR_VERIFY);
    assert_non_null(strstr(e.msg, "index.json: not a format 1 PKI index"));
    assert_int_equal(testutil_write_file(p, bad_entry, strlen(bad_entry)),
                     0);
    assert_int_equal(pki_index_load(&idx, dir, &e), ERR_VERIFY);
    assert_non_null(strstr(e.msg, "index.json: certs[0] is malformed"));
    assert_null(idx);
    mem_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_pki__init_creates_the_ca, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_pki__issue_leaf, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_pki__issue_refusals, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_pki__index_and_revoke, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_pki__index_malformed, setup,
                                        teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
