/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Integration tests of replicator/db/stuck_db (issue 12 item 7): the stuck
 * report's clocks round-trip through tuf_repo_progress; a save drops the
 * rows of repositories no longer tracked; of two replicators writing the
 * same repository, the row with more copies, or the same copies since
 * earlier, wins whatever the order of the writes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/err.h"
#include "common/mem.h"
#include "replicator/db/db.h"
#include "replicator/db/stuck_db.h"
#include "tests/support/pgtest.h"

/* A tracker of n entries (names and values copied from the arrays). */
static void tracker(struct stuck_tracker *t, const char *const *names,
                    const uint64_t *best, const int64_t *since, size_t n)
{
    t->v = mem_calloc(n + 1, sizeof(*t->v));
    assert_non_null(t->v);
    for (size_t i = 0; i < n; i++) {
        t->v[i].name = mem_strdup(names[i]);
        assert_non_null(t->v[i].name);
        t->v[i].best = best[i];
        t->v[i].since_ms = since[i];
    }
    t->n = n;
}

/* The stored entry of name, or NULL (borrowed from t). */
static const struct stuck_entry *stored(struct stuck_tracker *t,
                                        struct db *db, const char *name)
{
    struct err e = ERR_INIT;

    stuck_release(t);
    assert_int_equal(stuck_db_load(t, db, &e), 0);
    return stuck_find(t, name);
}

static void test_db_stuck__round_trip_and_drop(void **state)
{
    struct stuck_tracker a = STUCK_TRACKER_INIT, got = STUCK_TRACKER_INIT;
    struct err e = ERR_INIT;
    char *ci = NULL;
    struct db *db = pgtest_db(&ci, "stuck", -1);
    const struct stuck_entry *x;

    (void)state;
    assert_int_equal(stuck_db_load(&got, db, &e), 0);
    assert_int_equal(got.n, 0);
    tracker(&a, (const char *[]){"1.0.0", "2.0.0"}, (uint64_t[]){4, 0},
            (int64_t[]){1796000000000, 1796000000500}, 2);
    assert_int_equal(stuck_db_save(db, &a, &e), 0);
    x = stored(&got, db, "1.0.0");
    assert_non_null(x);
    assert_int_equal(x->best, 4);
    assert_int_equal(x->since_ms, 1796000000000);
    x = stuck_find(&got, "2.0.0");
    assert_non_null(x);
    assert_int_equal(x->best, 0);
    assert_int_equal(got.n, 2);
    /* 1.0.0 completed: no longer tracked, its row goes */
    stuck_release(&a);
    tracker(&a, (const char *[]){"2.0.0"}, (uint64_t[]){3},
            (int64_t[]){1796000009000}, 1);
    assert_int_equal(stuck_db_save(db, &a, &e), 0);
    assert_null(stored(&got, db, "1.0.0"));
    x = stuck_find(&got, "2.0.0");
    assert_int_equal(x->best, 3);
    assert_int_equal(x->since_ms, 1796000009000);
    /* nothing tracked: nothing stored */
    stuck_release(&a);
    assert_int_equal(stuck_db_save(db, &a, &e), 0);
    assert_null(stored(&got, db, "2.0.0"));
    assert_int_equal(got.n, 0);
    stuck_release(&got);
    db_close(db);
    mem_free(ci);
}

static void test_db_stuck__two_writers_keep_the_oldest_best(void **state)
{
    struct stuck_tracker a = STUCK_TRACKER_INIT, b = STUCK_TRACKER_INIT;
    struct stuck_tracker got = STUCK_TRACKER_INIT;
    struct err e = ERR_INIT;
    char *ci = NULL;
    struct db *db = pgtest_db(&ci, "stuck", -1);
    const struct stuck_entry *x;

    (void)state;
    /* A saw 5 copies since t=100; B (a later view) the same 5 since 300 */
    tracker(&a, (const char *[]){"3.0.0"}, (uint64_t[]){5},
            (int64_t[]){100}, 1);
    tracker(&b, (const char *[]){"3.0.0"}, (uint64_t[]){5},
            (int64_t[]){300}, 1);
    assert_int_equal(stuck_db_save(db, &a, &e), 0);
    assert_int_equal(stuck_db_save(db, &b, &e), 0);
    x = stored(&got, db, "3.0.0");
    assert_int_equal(x->best, 5);
    assert_int_equal(x->since_ms, 100);
    /* the other order too */
    assert_int_equal(stuck_db_save(db, &b, &e), 0);
    assert_int_equal(stuck_db_save(db, &a, &e), 0);
    x = stored(&got, db, "3.0.0");
    assert_int_equal(x->since_ms, 100);
    /* more copies win, a stale writer with fewer does not take it back */
    stuck_release(&b);
    tracker(&b, (const char *[]){"3.0.0"}, (uint64_t[]){6},
            (int64_t[]){400}, 1);
    assert_int_equal(stuck_db_save(db, &b, &e), 0);
    assert_int_equal(stuck_db_save(db, &a, &e), 0);
    x = stored(&got, db, "3.0.0");
    assert_int_equal(x->best, 6);
    assert_int_equal(x->since_ms, 400);
    stuck_release(&a);
    stuck_release(&b);
    stuck_release(&got);
    db_close(db);
    mem_free(ci);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_db_stuck__round_trip_and_drop),
        cmocka_unit_test(test_db_stuck__two_writers_keep_the_oldest_best),
    };

    mem_init();
    return cmocka_run_group_tests(tests, pgtest_group_setup,
                                  pgtest_group_teardown);
}
