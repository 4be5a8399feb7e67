/* SPDX-License-Identifier: MPL-2.0 */
/*
 * pgtest: one PostgreSQL fixture for the db and ingest tests (see
 * pgtest.h). Owns the group's server. Test main thread only.
 */
#include "tests/support/pgtest.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include <cmocka.h>

#include "common/err.h"
#include "common/mem.h"
#include "replicator/db/db.h"
#include "replicator/db/db_migrate.h"
#include "tests/support/pg.h"
#include "tests/support/proc.h"

static struct pg *g_pg;

int pgtest_group_setup(void **state)
{
    struct err e = ERR_INIT;

    (void)state;
    mem_init();
    if (pg_start(&g_pg, &e) < 0) {
        fprintf(stderr, "pg_start: %s\n", e.msg);
        return -1;
    }
    return 0;
}

int pgtest_group_teardown(void **state)
{
    (void)state;
    pg_stop(g_pg);
    g_pg = NULL;
    return 0;
}

struct pg *pgtest_pg(void)
{
    return g_pg;
}

struct db *pgtest_db(char **conninfo, const char *prefix, int64_t version)
{
    struct err e = ERR_INIT;
    struct db *db = NULL;
    char *ci = NULL;

    assert_int_equal(pg_create_db(&ci, g_pg, prefix, &e), 0);
    assert_int_equal(db_open(&db, ci, &e), 0);
    if (version != 0)
        assert_int_equal(db_migrate_to(NULL, db, version, &e), 0);
    if (conninfo)
        *conninfo = ci;
    else
        mem_free(ci);
    return db;
}

char *pgtest_db_migrated_by_cli(struct pg *pg, const char *prefix)
{
    struct err e = ERR_INIT;
    char *conninfo = NULL, *bin;
    int code = -1;

    assert_int_equal(pg_create_db(&conninfo, pg ? pg : g_pg, prefix, &e), 0);
    bin = proc_bin_path("replicator");
    assert_non_null(bin);
    {
        char *argv[] = {bin, "db", "migrate", "--db", conninfo, NULL};

        assert_int_equal(proc_run(&code, bin, argv, NULL, 60000), 0);
        assert_int_equal(code, 0);
    }
    mem_free(bin);
    return conninfo;
}
