/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Integration tests of replicator/db/prune_db (the automatic pruner,
 * issue 12 item 5) against a real PostgreSQL: keeps the newest K, pinned
 * repositories kept even when oldest, every repository pinned, the switch
 * off (with its reason) and on, at most one prune per pass and none until
 * the last automatic prune was pushed, nothing while the mass-deletion
 * guard holds a generation, a re-upload unprunes (and is not taken back),
 * bad input, and two replicators' passes at once pruning exactly one.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/err.h"
#include "common/mem.h"
#include "common/sha256.h"
#include "replicator/db/db.h"
#include "replicator/db/gen_db.h"
#include "replicator/db/prune_db.h"
#include "replicator/db/push_db.h"
#include "replicator/db/repo_db.h"
#include "tests/support/pgtest.h"

static char *new_db(void)
{
    char *conninfo = NULL;

    db_close(pgtest_db(&conninfo, "prune", -1));
    return conninfo;
}

static struct db *open_db(const char *conninfo)
{
    struct err e = ERR_INIT;
    struct db *db = NULL;

    assert_int_equal(db_open(&db, conninfo, &e), 0);
    return db;
}

static struct sha256 H(unsigned n)
{
    struct sha256 h;
    char s[32];

    snprintf(s, sizeof(s), "prune-artifact-%u", n);
    assert_int_equal(sha256_digest(&h, s, strlen(s)), 0);
    return h;
}

/* Upload "N.0.0" with artifacts 10N and 10N+1 (its own). */
static int upload(struct repo_db_insert_result *out, struct db *db,
                  unsigned n)
{
    struct repo_db_artifact a[2];
    struct repo_db_new r;
    struct err e = ERR_INIT;
    char version[16];

    snprintf(version, sizeof(version), "%u.0.0", n);
    memset(a, 0, sizeof(a));
    for (unsigned i = 0; i < 2; i++) {
        a[i].sha256 = H(10 * n + i);
        a[i].length = 100 + i;
        a[i].name = "zone";
        a[i].version = version;
        a[i].kind = "zone";
    }
    memset(&r, 0, sizeof(r));
    r.system_version = version;
    r.archive_sha256 = H(1000000 + n);
    r.file_name = "repo.zip";
    r.valid_until = 1893456000;
    r.targets_role_version = 1;
    r.nartifacts = 2;
    r.artifacts = a;
    return repo_db_insert(out, db, &r, &e);
}

/* A database with repos 1.0.0 .. n.0.0 uploaded in that order. */
static struct db *rack(char **ci, unsigned n)
{
    struct repo_db_insert_result r;
    struct db *db;

    *ci = new_db();
    db = open_db(*ci);
    for (unsigned i = 1; i <= n; i++)
        assert_int_equal(upload(&r, db, i), 0);
    return db;
}

/* The fleet took the current generation (as a task run records it). */
static void pushed(struct db *db)
{
    struct err e = ERR_INIT;
    uint64_t g = 0;

    assert_int_equal(gen_db_get(&g, db, &e), 0);
    assert_int_equal(push_db_record(db, g, 1, &e), 0);
}

static void assert_strv(char **v, size_t n, const char *want)
{
    char got[512] = "";
    size_t used = 0;

    for (size_t i = 0; i < n; i++)
        used += (size_t)snprintf(got + used, sizeof(got) - used, "%s%s",
                                 i ? "," : "", v[i]);
    assert_string_equal(got, want);
}

static void test_db_prune__keeps_newest_one_per_pass(void **state)
{
    char *ci = NULL;
    struct db *db = rack(&ci, 5);
    struct prune_db_report r = PRUNE_DB_REPORT_INIT;
    struct err e = ERR_INIT;
    json_t *j;

    (void)state;
    /* show: nothing changes, the oldest is next */
    assert_int_equal(prune_db_pass(&r, db, 3, false, &e), 0);
    assert_true(r.enabled);
    assert_strv(r.keep, r.n_keep, "5.0.0,4.0.0,3.0.0");
    assert_strv(r.eligible, r.n_eligible, "1.0.0,2.0.0");
    assert_string_equal(r.next_prune, "1.0.0");
    assert_null(r.pruned);
    assert_int_equal(r.n_warnings, 0);
    j = prune_db_report_json(&r);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "status")),
                        "enabled");
    assert_string_equal(json_string_value(json_object_get(j, "next_prune")),
                        "1.0.0");
    assert_null(json_object_get(j, "reason"));
    assert_int_equal(json_array_size(json_object_get(j, "keep")), 3);
    json_decref(j);
    prune_db_report_release(&r);
    /* a pass prunes exactly one: the oldest, bumping the generation */
    assert_int_equal(prune_db_pass(&r, db, 3, true, &e), 0);
    assert_string_equal(r.pruned, "1.0.0");
    assert_true(r.bumped);
    assert_int_equal(r.generation, 7);
    prune_db_report_release(&r);
    /* not again until that generation reached the fleet */
    assert_int_equal(prune_db_pass(&r, db, 3, true, &e), 0);
    assert_null(r.pruned);
    assert_null(r.next_prune);
    assert_strv(r.eligible, r.n_eligible, "2.0.0");
    assert_int_equal(r.n_warnings, 1);
    assert_non_null(strstr(r.warnings[0], "not pushed to the fleet yet"));
    prune_db_report_release(&r);
    pushed(db);
    assert_int_equal(prune_db_pass(&r, db, 3, true, &e), 0);
    assert_string_equal(r.pruned, "2.0.0");
    prune_db_report_release(&r);
    pushed(db);
    /* the newest 3 stay */
    assert_int_equal(prune_db_pass(&r, db, 3, true, &e), 0);
    assert_null(r.pruned);
    assert_int_equal(r.n_eligible, 0);
    assert_int_equal(r.n_warnings, 0);
    prune_db_report_release(&r);
    /* K = 1 (a smaller K from the configuration) prunes the next */
    assert_int_equal(prune_db_pass(&r, db, 1, true, &e), 0);
    assert_string_equal(r.pruned, "3.0.0");
    prune_db_report_release(&r);
    db_close(db);
    mem_free(ci);
}

static void test_db_prune__pinned_kept(void **state)
{
    char *ci = NULL;
    struct db *db = rack(&ci, 5);
    struct prune_db_report r = PRUNE_DB_REPORT_INIT;
    struct err e = ERR_INIT;

    (void)state;
    assert_int_equal(prune_db_pin(db, "1.0.0", true, &e), 0);
    assert_int_equal(prune_db_pin(db, "1.0.0", true, &e), 0); /* idempotent */
    assert_int_equal(prune_db_pass(&r, db, 3, true, &e), 0);
    assert_strv(r.keep, r.n_keep, "5.0.0,4.0.0,3.0.0,1.0.0");
    assert_string_equal(r.pruned, "2.0.0");
    prune_db_report_release(&r);
    pushed(db);
    assert_int_equal(prune_db_pass(&r, db, 3, true, &e), 0);
    assert_null(r.pruned);
    assert_int_equal(r.n_warnings, 1);
    assert_non_null(strstr(r.warnings[0], "is pinned (1)"));
    prune_db_report_release(&r);
    /* unpinned, it is the next one */
    assert_int_equal(prune_db_pin(db, "1.0.0", false, &e), 0);
    assert_int_equal(prune_db_pass(&r, db, 3, true, &e), 0);
    assert_string_equal(r.pruned, "1.0.0");
    prune_db_report_release(&r);
    db_close(db);
    mem_free(ci);
}

static void test_db_prune__every_repo_pinned(void **state)
{
    char *ci = NULL;
    struct db *db = rack(&ci, 4);
    struct prune_db_report r = PRUNE_DB_REPORT_INIT;
    struct err e = ERR_INIT;
    json_t *j;

    (void)state;
    for (unsigned i = 1; i <= 4; i++) {
        char v[16];

        snprintf(v, sizeof(v), "%u.0.0", i);
        assert_int_equal(prune_db_pin(db, v, true, &e), 0);
    }
    assert_int_equal(prune_db_pass(&r, db, 3, true, &e), 0);
    assert_null(r.pruned);
    assert_false(r.bumped);
    assert_int_equal(r.n_keep, 4);
    assert_int_equal(r.n_eligible, 0);
    assert_int_equal(r.n_warnings, 1);
    assert_string_equal(r.warnings[0],
                        "every repository beyond the newest 3 is pinned (1):"
                        " nothing can be pruned automatically; unpin one"
                        " with `replicator repo unpin VERSION`");
    j = prune_db_report_json(&r);
    assert_non_null(j);
    assert_null(json_object_get(j, "next_prune"));
    assert_int_equal(json_array_size(json_object_get(j, "warnings")), 1);
    json_decref(j);
    prune_db_report_release(&r);
    db_close(db);
    mem_free(ci);
}

static void test_db_prune__disabled(void **state)
{
    char *ci = NULL;
    struct db *db = rack(&ci, 4);
    struct db *other;
    struct prune_db_report r = PRUNE_DB_REPORT_INIT;
    struct err e = ERR_INIT;
    json_t *j;

    (void)state;
    assert_int_equal(prune_db_policy_set(db, false, "change freeze", &e), 0);
    /* another replicator's connection honours it */
    other = open_db(ci);
    assert_int_equal(prune_db_pass(&r, other, 3, true, &e), 0);
    assert_false(r.enabled);
    assert_string_equal(r.reason, "change freeze");
    assert_null(r.pruned);
    assert_null(r.next_prune);
    assert_strv(r.eligible, r.n_eligible, "1.0.0");
    j = prune_db_report_json(&r);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "status")),
                        "disabled");
    assert_string_equal(json_string_value(json_object_get(j, "reason")),
                        "change freeze");
    json_decref(j);
    prune_db_report_release(&r);
    /* on again, without a reason: prunes */
    assert_int_equal(prune_db_policy_set(db, true, NULL, &e), 0);
    assert_int_equal(prune_db_pass(&r, other, 3, true, &e), 0);
    assert_true(r.enabled);
    assert_string_equal(r.reason, "");
    assert_string_equal(r.pruned, "1.0.0");
    prune_db_report_release(&r);
    db_close(other);
    db_close(db);
    mem_free(ci);
}

/* The guard holds a generation: the pruner adds nothing to it. */
static void test_db_prune__guard_held(void **state)
{
    char *ci = NULL;
    struct db *db = rack(&ci, 5);
    struct prune_db_report r = PRUNE_DB_REPORT_INIT;
    struct err e = ERR_INIT;
    uint64_t g = 0;

    (void)state;
    assert_int_equal(gen_db_get(&g, db, &e), 0);
    assert_int_equal(push_db_hold(db, g, "would remove 6 of 10", &e), 0);
    assert_int_equal(prune_db_pass(&r, db, 3, true, &e), 0);
    assert_null(r.pruned);
    assert_null(r.next_prune);
    assert_int_equal(r.n_warnings, 1);
    assert_non_null(strstr(r.warnings[0], "held by the mass-deletion guard"
                           " (would remove 6 of 10)"));
    prune_db_report_release(&r);
    assert_int_equal(push_db_confirm(db, g, &e), 0);
    assert_int_equal(prune_db_pass(&r, db, 3, true, &e), 0);
    assert_string_equal(r.pruned, "1.0.0");
    prune_db_report_release(&r);
    db_close(db);
    mem_free(ci);
}

static void test_db_prune__reupload_unprunes(void **state)
{
    char *ci = NULL;
    struct db *db = rack(&ci, 4);
    struct prune_db_report r = PRUNE_DB_REPORT_INIT;
    struct repo_db_insert_result ins;
    struct repo_db_repo got;
    struct err e = ERR_INIT;

    (void)state;
    assert_int_equal(prune_db_pass(&r, db, 3, true, &e), 0);
    assert_string_equal(r.pruned, "1.0.0");
    prune_db_report_release(&r);
    pushed(db);
    assert_int_equal(upload(&ins, db, 1), 0);
    assert_true(ins.existed);
    assert_true(ins.unpruned);
    assert_true(ins.bumped);
    assert_int_equal(repo_db_get(&got, db, "1.0.0", &e), 0);
    assert_false(got.pruned);
    repo_db_repo_release(&got);
    pushed(db);
    /* it counts as the newest upload: 2.0.0 goes, not 1.0.0 again */
    assert_int_equal(prune_db_pass(&r, db, 3, true, &e), 0);
    assert_strv(r.keep, r.n_keep, "1.0.0,4.0.0,3.0.0");
    assert_string_equal(r.pruned, "2.0.0");
    prune_db_report_release(&r);
    db_close(db);
    mem_free(ci);
}

static void test_db_prune__bad_input(void **state)
{
    char *ci = NULL;
    struct db *db = rack(&ci, 1);
    struct prune_db_report r = PRUNE_DB_REPORT_INIT;
    struct err e = ERR_INIT;
    char longer[PRUNE_DB_REASON_MAX + 1];

    (void)state;
    assert_int_equal(prune_db_pin(db, "9.9.9", true, &e), ERR_NOTFOUND);
    assert_string_equal(e.msg, "no repository with system version 9.9.9");
    assert_int_equal(prune_db_pin(db, "9.9.9", false, &e), ERR_NOTFOUND);
    assert_int_equal(prune_db_pass(&r, db, 0, true, &e), ERR_INVAL);
    assert_string_equal(e.msg, "keep 0 is out of range (1..1000)");
    assert_int_equal(prune_db_pass(&r, db, PRUNE_KEEP_MAX + 1, false, &e),
                     ERR_INVAL);
    assert_null(r.keep);
    assert_int_equal(prune_db_policy_set(db, false, "a\nb", &e), ERR_INVAL);
    assert_string_equal(e.msg, "reason holds a control character");
    memset(longer, 'x', sizeof(longer) - 1);
    longer[sizeof(longer) - 1] = '\0';
    assert_int_equal(prune_db_policy_set(db, false, longer, &e), ERR_INVAL);
    /* nothing changed */
    assert_int_equal(prune_db_pass(&r, db, 3, false, &e), 0);
    assert_true(r.enabled);
    prune_db_report_release(&r);
    db_close(db);
    mem_free(ci);
}

struct racer {
    const char *ci;
    pthread_barrier_t *go;
    int rc;
    bool pruned;
};

static void *racer_main(void *p)
{
    struct racer *w = p;
    struct prune_db_report r = PRUNE_DB_REPORT_INIT;
    struct err e = ERR_INIT;
    struct db *db = NULL;

    w->rc = db_open(&db, w->ci, &e);
    pthread_barrier_wait(w->go);
    if (w->rc == 0)
        w->rc = prune_db_pass(&r, db, 3, true, &e);
    w->pruned = r.pruned != NULL;
    prune_db_report_release(&r);
    db_close(db);
    return NULL;
}

/* Two replicators' passes at once: exactly one prune between pushes. */
static void test_db_prune__two_replicators(void **state)
{
    char *ci = NULL;
    struct db *db = rack(&ci, 6);
    pthread_barrier_t go;
    pthread_t t[2];
    struct racer w[2];
    struct repo_db_list l = REPO_DB_LIST_INIT;
    struct err e = ERR_INIT;
    size_t n_pruned = 0;

    (void)state;
    for (int round = 0; round < 5; round++) {
        pushed(db);
        assert_int_equal(pthread_barrier_init(&go, NULL, 2), 0);
        for (int i = 0; i < 2; i++) {
            w[i] = (struct racer){ci, &go, 0, false};
            assert_int_equal(pthread_create(&t[i], NULL, racer_main, &w[i]),
                             0);
        }
        for (int i = 0; i < 2; i++)
            assert_int_equal(pthread_join(t[i], NULL), 0);
        pthread_barrier_destroy(&go);
        assert_int_equal(w[0].rc, 0);
        assert_int_equal(w[1].rc, 0);
        /* one of them, while something is eligible (3 were) */
        assert_int_equal(w[0].pruned + w[1].pruned, round < 3 ? 1 : 0);
    }
    assert_int_equal(repo_db_list(&l, db, &e), 0);
    for (size_t i = 0; i < l.count; i++)
        n_pruned += l.repos[i].pruned;
    assert_int_equal(n_pruned, 3);
    repo_db_list_release(&l);
    db_close(db);
    mem_free(ci);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_db_prune__keeps_newest_one_per_pass),
        cmocka_unit_test(test_db_prune__pinned_kept),
        cmocka_unit_test(test_db_prune__every_repo_pinned),
        cmocka_unit_test(test_db_prune__disabled),
        cmocka_unit_test(test_db_prune__guard_held),
        cmocka_unit_test(test_db_prune__reupload_unprunes),
        cmocka_unit_test(test_db_prune__bad_input),
        cmocka_unit_test(test_db_prune__two_replicators),
    };

    return cmocka_run_group_tests(tests, pgtest_group_setup,
                                  pgtest_group_teardown);
}
