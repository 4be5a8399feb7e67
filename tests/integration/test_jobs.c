/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Integration tests of replicator/jobs against a real PostgreSQL (one
 * private server per binary, one database per test): N jobs on W workers
 * open at most W connections (the runner's counter and pg_stat_activity
 * agree), connections are reused, a backend terminated while idle
 * (pg_terminate_backend from another session) is replaced by the next
 * job, a job whose statement keeps killing its own backend is reconnected
 * and retried a bounded number of times and then fails as "database
 * unavailable", and jobs_free closes every connection.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/event.h>
#include <libpq-fe.h>

#include "common/err.h"
#include "common/mem.h"
#include "replicator/db/db.h"
#include "replicator/jobs.h"
#include "tests/support/pgtest.h"
#include "tests/support/testutil.h"

enum { NJOBS = 24, NWORKERS = 3 };

struct probe {
    const char *sql;  /* run on the job's connection */
    long pid;         /* pg_backend_pid() of the job's connection */
    int rc;
    bool done;
    bool had_db;
    char msg[ERR_MSG_MAX];
};

static int probe_work(struct db *db, void *arg, struct err *err)
{
    struct probe *p = arg;
    PGresult *res = NULL;
    int rc;

    p->had_db = db != NULL;
    rc = db_exec(&res, db, "probe", p->sql, 0, NULL, err);
    if (rc == 0)
        p->pid = strtol(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return rc;
}

/* JOBS_DB_WANTED: runs even without a connection. */
static int want_work(struct db *db, void *arg, struct err *err)
{
    struct probe *p = arg;

    (void)err;
    p->had_db = db != NULL;
    return 0;
}

static void probe_done(int rc, const struct err *err, void *arg)
{
    struct probe *p = arg;

    p->rc = rc;
    p->done = true;
    snprintf(p->msg, sizeof(p->msg), "%s", err->msg);
}

#define SQL_PID "SELECT pg_backend_pid(), pg_sleep(0.01)"

/* Submit probes and run the loop until all completed (10 s at most). */
static void run_probes(struct event_base *base, struct jobs *js,
                       struct probe *p, size_t n)
{
    int64_t end = testutil_now_ms() + 10000;
    size_t done = 0;

    for (size_t i = 0; i < n; i++)
        assert_int_equal(jobs_submit(js, JOBS_DB_NEEDED, probe_work,
                                     probe_done, &p[i]), 0);
    while (done < n && testutil_now_ms() < end) {
        event_base_loop(base, EVLOOP_ONCE);
        done = 0;
        for (size_t i = 0; i < n; i++)
            done += p[i].done;
    }
    assert_int_equal(done, n);
}

/* Backends connected to the database of `db`, its own excluded. */
static long backends(struct db *db)
{
    struct err e = ERR_INIT;
    PGresult *res = NULL;
    long n;

    assert_int_equal(db_exec(&res, db, "count",
                             "SELECT count(*) FROM pg_stat_activity WHERE "
                             "datname = current_database() AND "
                             "pid <> pg_backend_pid()",
                             0, NULL, &e), 0);
    n = strtol(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return n;
}

struct gone {
    struct db *db;
    long expect;
};

static bool backends_are(void *arg)
{
    struct gone *g = arg;

    return backends(g->db) == g->expect;
}

static void test_jobs__at_most_one_connection_per_worker(void **state)
{
    struct event_base *base = event_base_new();
    struct err e = ERR_INIT;
    char *ci = NULL;
    struct db *probe_db = pgtest_db(&ci, "jobs", 0);
    struct jobs *js = NULL;
    struct probe p[NJOBS];
    long pids[NJOBS];
    size_t npids = 0;
    struct gone g = {probe_db, 0};

    (void)state;
    memset(p, 0, sizeof(p));
    assert_int_equal(jobs_new(&js, base, ci, NWORKERS, &e), 0);
    assert_int_equal(jobs__opened(js), 0); /* lazily */
    for (size_t i = 0; i < NJOBS; i++)
        p[i].sql = SQL_PID;
    run_probes(base, js, p, NJOBS);
    for (size_t i = 0; i < NJOBS; i++) {
        bool seen = false;

        assert_int_equal(p[i].rc, 0);
        for (size_t k = 0; k < npids; k++)
            seen = seen || pids[k] == p[i].pid;
        if (!seen)
            pids[npids++] = p[i].pid;
    }
    assert_true(npids >= 1 && npids <= NWORKERS);
    assert_true(jobs__opened(js) >= 1 && jobs__opened(js) <= NWORKERS);
    assert_int_equal(jobs__opened(js), npids);
    /* kept open between jobs, as the server sees it */
    assert_int_equal(backends(probe_db), (long)npids);
    jobs_free(js);
    g.expect = 0;
    assert_true(testutil_wait_for(backends_are, &g, 10000));
    db_close(probe_db);
    mem_free(ci);
    event_base_free(base);
}

static void test_jobs__terminated_backend_is_replaced(void **state)
{
    struct event_base *base = event_base_new();
    struct err e = ERR_INIT;
    char *ci = NULL;
    struct db *probe_db = pgtest_db(&ci, "jobs", 0);
    struct jobs *js = NULL;
    struct probe a, b, c, d;
    PGresult *res = NULL;
    char sql[128];
    struct gone g = {probe_db, 0};

    (void)state;
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    memset(&c, 0, sizeof(c));
    memset(&d, 0, sizeof(d));
    assert_int_equal(jobs_new(&js, base, ci, 1, &e), 0);
    a.sql = SQL_PID;
    run_probes(base, js, &a, 1);
    assert_int_equal(a.rc, 0);

    /* Killed while idle, by another session: the next job reconnects. */
    snprintf(sql, sizeof(sql), "SELECT pg_terminate_backend(%ld, 10000)",
             a.pid);
    assert_int_equal(db_exec(&res, probe_db, "kill", sql, 0, NULL, &e), 0);
    assert_string_equal(PQgetvalue(res, 0, 0), "t");
    PQclear(res);
    assert_true(testutil_wait_for(backends_are, &g, 10000));
    b.sql = SQL_PID;
    run_probes(base, js, &b, 1);
    assert_int_equal(b.rc, 0);
    assert_true(b.pid != a.pid);
    assert_int_equal(jobs__opened(js), 2);

    /* Killed during every attempt of a job: db_txn reconnects and runs it
     * again, DB_TXN_MAX_RECONNECTS times, then gives up; the next job
     * runs on a fresh connection. */
    c.sql = "SELECT pg_terminate_backend(pg_backend_pid())";
    run_probes(base, js, &c, 1);
    assert_int_equal(c.rc, ERR_UNAVAIL);
    assert_non_null(strstr(c.msg, DB_UNAVAIL_MSG ": the connection kept "
                                  "failing: probe: "));
    d.sql = SQL_PID;
    run_probes(base, js, &d, 1);
    assert_int_equal(d.rc, 0);
    assert_true(d.pid != b.pid);
    assert_int_equal(jobs__opened(js), 3);
    assert_int_equal(backends(probe_db), 1);
    jobs_free(js);
    db_close(probe_db);
    mem_free(ci);
    event_base_free(base);
}

static void test_jobs__no_server(void **state)
{
    struct event_base *base = event_base_new();
    struct err e = ERR_INIT;
    struct jobs *js = NULL;
    struct probe need, want;

    (void)state;
    memset(&need, 0, sizeof(need));
    memset(&want, 0, sizeof(want));
    assert_int_equal(jobs_new(&js, base,
                              "host=/nonexistent-rackdepot dbname=x "
                              "connect_timeout=2", 2, &e), 0);
    need.sql = SQL_PID;
    run_probes(base, js, &need, 1);
    assert_int_equal(need.rc, ERR_DB);
    assert_false(need.had_db); /* fn skipped */
    assert_non_null(strstr(need.msg, "database connection: "));
    assert_int_equal(jobs__opened(js), 0);
    assert_int_equal(jobs_submit(js, JOBS_DB_WANTED, want_work, probe_done,
                                 &want), 0);
    while (!want.done)
        event_base_loop(base, EVLOOP_ONCE);
    assert_int_equal(want.rc, 0);
    assert_false(want.had_db);
    jobs_free(js);
    assert_int_equal(jobs_new(&js, base, NULL, 0, &e), ERR_INVAL);
    assert_string_equal(e.msg, "jobs: 0 workers");
    event_base_free(base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jobs__at_most_one_connection_per_worker),
        cmocka_unit_test(test_jobs__terminated_backend_is_replaced),
        cmocka_unit_test(test_jobs__no_server),
    };

    return cmocka_run_group_tests(tests, pgtest_group_setup,
                                  pgtest_group_teardown);
}
