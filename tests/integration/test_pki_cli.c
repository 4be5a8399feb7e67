/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Integration tests of `replicator pki` through the real binary: init,
 * issue, list (text and --json) and revoke (by serial, by id, --db into a
 * real PostgreSQL), with the usage errors that exit 2 (no command, missing
 * flags, unknown role, a sled id that is not a UUID, --days over the
 * bound) and the failures that exit 1. Also tlsrev_db directly: recording
 * twice is a no-op, the loaded set refuses what was revoked.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "common/err.h"
#include "common/mem.h"
#include "common/tls.h"
#include "replicator/db/db.h"
#include "replicator/db/tlsrev_db.h"
#include "tests/support/pgtest.h"
#include "tests/support/proc.h"
#include "tests/support/testutil.h"

#define RACK "6f1e0c1e-5a5b-4c1d-9e2f-0123456789ab"
#define SLED "11111111-2222-4333-8444-555555555555"
#define OUT_MAX 8192

struct fx {
    char *tmp, *dir, *log, *bin;
    char out[OUT_MAX]; /* stdout and stderr of the last run */
};

static int setup(void **state)
{
    struct fx *f = mem_calloc(1, sizeof(*f));

    if (!f || testutil_tmpdir(&f->tmp, "pkicli") < 0)
        return -1;
    f->dir = testutil_join(f->tmp, "ca");
    f->log = testutil_join(f->tmp, "out.log");
    f->bin = proc_bin_path("replicator");
    *state = f;
    return f->dir && f->log && f->bin ? 0 : -1;
}

static int teardown(void **state)
{
    struct fx *f = *state;

    testutil_rmrf(f->tmp);
    mem_free(f->tmp);
    mem_free(f->dir);
    mem_free(f->log);
    mem_free(f->bin);
    mem_free(f);
    return 0;
}

/* Run `replicator pki ARGS...` (NULL-terminated); its output to f->out. */
static int run(struct fx *f, ...)
{
    char *argv[32] = {"replicator", "pki"};
    char *text = NULL;
    size_t n = 2, len = 0;
    int code = -1;
    va_list ap;

    va_start(ap, f);
    while (n < 31 && (argv[n] = va_arg(ap, char *)) != NULL)
        n++;
    va_end(ap);
    argv[n] = NULL;
    testutil_rmrf(f->log);
    assert_int_equal(proc_run(&code, f->bin, argv, f->log, 30000), 0);
    f->out[0] = '\0';
    if (testutil_read_file(&text, &len, f->log) == 0)
        snprintf(f->out, sizeof(f->out), "%s", text);
    mem_free(text);
    return code;
}

static void test_pki_cli__usage_errors(void **state)
{
    struct fx *f = *state;

    assert_int_equal(run(f, NULL), 2);
    assert_non_null(strstr(f->out, "expected init, issue, list or revoke"));
    assert_int_equal(run(f, "--help", NULL), 0);
    assert_non_null(strstr(f->out, "usage: replicator pki init"));
    assert_int_equal(run(f, "init", "--rack-id", RACK, NULL), 2);
    assert_non_null(strstr(f->out, "--dir DIR is required"));
    assert_int_equal(run(f, "init", "--dir", f->dir, NULL), 2);
    assert_int_equal(run(f, "init", "--dir", f->dir, "--rack-id", "nope",
                         NULL), 2);
    assert_non_null(strstr(f->out, "rack id nope is not a lowercase UUID"));
    assert_int_equal(run(f, "frob", "--dir", f->dir, NULL), 2);
    assert_int_equal(run(f, "list", "--dir", f->dir, "--bogus", NULL), 2);
    /* nothing was created by the refused commands */
    assert_false(testutil_exists(f->dir));
    assert_int_equal(run(f, "list", "--dir", f->dir, NULL), 1);
    assert_non_null(strstr(f->out, "no PKI index"));
    assert_int_equal(run(f, "list", "--dir", f->dir, "--json", NULL), 1);
    assert_non_null(strstr(f->out, "{\"status\":0,\"message\":\""));
    assert_int_equal(run(f, "init", "--dir", f->dir, "--rack-id", RACK,
                         NULL), 0);
    assert_int_equal(run(f, "init", "--dir", f->dir, "--rack-id", RACK,
                         NULL), 1);
    assert_non_null(strstr(f->out, "already holds a CA"));
    assert_int_equal(run(f, "issue", "--dir", f->dir, "--role", "king",
                         "--id", "x", NULL), 2);
    assert_non_null(strstr(f->out, "unknown role king"));
    assert_int_equal(run(f, "issue", "--dir", f->dir, "--role", "sled",
                         "--id", "not-a-uuid", NULL), 2);
    assert_non_null(strstr(f->out, "sled id not-a-uuid is not a lowercase "
                           "UUID"));
    assert_int_equal(run(f, "issue", "--dir", f->dir, "--role", "operator",
                         "--id", "alice", "--days", "826", NULL), 2);
    assert_non_null(strstr(f->out, "--days must be 1..825"));
    assert_int_equal(run(f, "issue", "--dir", f->dir, "--role", "operator",
                         "--id", "alice", "--out-cert", "x.pem", NULL), 2);
    assert_int_equal(run(f, "issue", "--dir", f->dir, "--role", "sled",
                         "--id", SLED, "--ip", "300.1.1.1", NULL), 2);
    assert_int_equal(run(f, "revoke", "--dir", f->dir, NULL), 2);
    assert_int_equal(run(f, "revoke", "--dir", f->dir, "nobody", NULL), 1);
    assert_non_null(strstr(f->out, "no certificate with serial or id "
                           "nobody"));
}

/* The serial of certificate i in `pki list --json` output f->out. */
static void serial_at(char *out, size_t cap, const struct fx *f, size_t i)
{
    json_t *j = json_loads(f->out, 0, NULL);
    json_t *c = json_array_get(json_object_get(j, "certificates"), i);

    assert_non_null(c);
    snprintf(out, cap, "%s", json_string_value(json_object_get(c,
                                                               "serial")));
    json_decref(j);
}

static void test_pki_cli__issue_list_revoke(void **state)
{
    struct fx *f = *state;
    char *cert = testutil_join(f->tmp, "alice.pem");
    char *key = testutil_join(f->tmp, "alice.key");
    char serial[64];

    assert_int_equal(run(f, "init", "--dir", f->dir, "--rack-id", RACK,
                         "--days", "30", "--json", NULL), 0);
    assert_non_null(strstr(f->out, "\"days\":30"));
    assert_int_equal(run(f, "issue", "--dir", f->dir, "--role", "sled",
                         "--id", SLED, "--ip", "10.0.0.5", "--ip", "fd00::5",
                         NULL), 0);
    assert_non_null(strstr(f->out, "urn:rackdepot:" RACK ":sled:" SLED));
    assert_true(testutil_exists(f->dir) && testutil_dir_count(f->dir) >= 5);
    assert_int_equal(run(f, "issue", "--dir", f->dir, "--role", "operator",
                         "--id", "alice", "--days", "825", "--out-cert", cert,
                         "--out-key", key, "--json", NULL), 0);
    assert_non_null(strstr(f->out, "\"uri\":\"urn:rackdepot:" RACK
                           ":operator:alice\""));
    assert_true(testutil_exists(cert) && testutil_exists(key));
    assert_int_equal(run(f, "list", "--dir", f->dir, NULL), 0);
    assert_int_equal(strncmp(f->out, "SERIAL", 6), 0);
    assert_non_null(strstr(f->out, " operator   alice "));
    assert_int_equal(run(f, "list", "--dir", f->dir, "--json", NULL), 0);
    serial_at(serial, sizeof(serial), f, 0);
    assert_int_equal(strlen(serial), 32);
    assert_int_equal(run(f, "revoke", "--dir", f->dir, serial, NULL), 0);
    assert_non_null(strstr(f->out, "(sled:" SLED ") revoked"));
    assert_int_equal(run(f, "revoke", "--dir", f->dir, "--reason", "left",
                         "alice", NULL), 0);
    assert_string_equal(f->out, "identity operator:alice revoked\n");
    assert_int_equal(run(f, "revoke", "--dir", f->dir, "alice", NULL), 0);
    assert_string_equal(f->out, "identity operator:alice was already "
                        "revoked\n");
    assert_int_equal(run(f, "revoke", "--dir", f->dir, "--json", serial,
                         NULL), 0);
    assert_non_null(strstr(f->out, "\"revoked\":\"certificate\""));
    assert_non_null(strstr(f->out, "\"already\":true"));
    assert_int_equal(run(f, "issue", "--dir", f->dir, "--role", "operator",
                         "--id", "alice", NULL), 1);
    assert_non_null(strstr(f->out, "identity operator:alice is revoked"));
    assert_int_equal(run(f, "list", "--dir", f->dir, "--json", NULL), 0);
    assert_non_null(strstr(f->out, "\"reason\":\"left\""));
    mem_free(cert);
    mem_free(key);
}

static int64_t count_rows(struct db *db, const char *sql)
{
    struct err e = ERR_INIT;
    PGresult *res = NULL;
    int64_t n;

    if (db_exec(&res, db, "probe", sql, 0, NULL, &e) < 0)
        fail_msg("%s: %s", sql, e.msg);
    n = (int64_t)strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return n;
}

static void test_pki_cli__revoke_db(void **state)
{
    struct fx *f = *state;
    char *ci = NULL;
    struct db *db = pgtest_db(&ci, "pki", -1);
    struct tls_revoked *set = NULL;
    struct tls_identity sled = {RACK, TLS_ROLE_SLED, SLED};
    struct tls_identity ctl = {RACK, TLS_ROLE_CONTROLLER, "ctl-1"};
    struct err e = ERR_INIT;
    char serial[64];

    assert_int_equal(run(f, "init", "--dir", f->dir, "--rack-id", RACK,
                         NULL), 0);
    assert_int_equal(run(f, "issue", "--dir", f->dir, "--role", "sled",
                         "--id", SLED, NULL), 0);
    assert_int_equal(run(f, "issue", "--dir", f->dir, "--role", "controller",
                         "--id", "ctl-1", NULL), 0);
    assert_int_equal(run(f, "list", "--dir", f->dir, "--json", NULL), 0);
    serial_at(serial, sizeof(serial), f, 0);
    assert_int_equal(run(f, "revoke", "--dir", f->dir, "--db", ci, "--reason",
                         "disk swap", serial, NULL), 0);
    assert_non_null(strstr(f->out, "\nrecorded in the database\n"));
    /* again: the index and the database both say "already" */
    assert_int_equal(run(f, "revoke", "--dir", f->dir, "--db", ci, serial,
                         NULL), 0);
    assert_non_null(strstr(f->out, "already recorded in the database"));
    assert_int_equal(run(f, "revoke", "--dir", f->dir, "--db", ci, "--role",
                         "controller", "ctl-1", NULL), 0);
    assert_int_equal(count_rows(db, "SELECT count(*) FROM tls_revocation"),
                     2);
    assert_int_equal(count_rows(db, "SELECT count(*) FROM tls_revocation "
                                "WHERE reason = 'disk swap' AND role = "
                                "'sled'"), 1);
    assert_int_equal(tlsrev_db_load(&set, db, &e), 0);
    assert_int_equal(tls_revoked_count(set), 2);
    assert_int_equal(tls_revoked_check(set, serial, &sled, &e), ERR_VERIFY);
    assert_int_equal(tls_revoked_check(set, "01", &sled, &e), 0);
    assert_int_equal(tls_revoked_check(set, "01", &ctl, &e), ERR_VERIFY);
    tls_revoked_free(set);
    /* a database that cannot be reached: the index keeps it, exit 1 */
    assert_int_equal(run(f, "revoke", "--dir", f->dir, "--db",
                         "host=/nonexistent-rackdepot", serial, NULL), 1);
    assert_non_null(strstr(f->out, "the index has it; the database does "
                           "not"));
    db_close(db);
    mem_free(ci);
}

static void test_pki_cli__tlsrev_db(void **state)
{
    struct db *db = pgtest_db(NULL, "tlsrev", -1);
    struct tlsrev_db_entry ent = {"00ab12", TLS_ROLE_SLED, SLED, "test"};
    struct err e = ERR_INIT;
    bool added = false;

    (void)state;
    assert_int_equal(tlsrev_db_add(&added, db, &ent, &e), 0);
    assert_true(added);
    assert_int_equal(tlsrev_db_add(&added, db, &ent, &e), 0);
    assert_false(added);
    ent.serial = NULL;
    assert_int_equal(tlsrev_db_add(&added, db, &ent, &e), 0);
    assert_true(added);
    ent.id = "not-a-uuid";
    assert_int_equal(tlsrev_db_add(&added, db, &ent, &e), ERR_INVAL);
    assert_false(added);
    ent.id = SLED;
    ent.serial = "zz";
    assert_int_equal(tlsrev_db_add(&added, db, &ent, &e), ERR_INVAL);
    /* the table's own checks hold against direct SQL */
    assert_int_equal(db_exec_script(db, "bad role", "INSERT INTO "
                                    "tls_revocation (id, role, ident, reason)"
                                    " VALUES (gen_random_uuid(), 'king', 'x',"
                                    " '')", &e), ERR_DB);
    db_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_pki_cli__usage_errors, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_pki_cli__issue_list_revoke,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_pki_cli__revoke_db, setup,
                                        teardown),
        cmocka_unit_test(test_pki_cli__tlsrev_db),
    };

    return cmocka_run_group_tests(tests, pgtest_group_setup,
                                  pgtest_group_teardown);
}
