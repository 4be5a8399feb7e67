/* SPDX-License-Identifier: MPL-2.0 */
/*
 * pgtest: the PostgreSQL fixture of the replicator's database and ingest
 * tests, on top of pg.h: cmocka group setup/teardown that start one
 * private server per test binary, and new databases, one per test,
 * migrated either in-process (db_migrate_to) or through the
 * `replicator db migrate` binary. Failures are cmocka assertions.
 * Test main thread only.
 */
#ifndef TESTS_SUPPORT_PGTEST_H
#define TESTS_SUPPORT_PGTEST_H

#include <stdint.h>

struct db;
struct pg;

/* cmocka group setup: mem_init() and start the group's server (-1 and a
 * message on stderr when it cannot start). */
int pgtest_group_setup(void **state);

/* cmocka group teardown: stop the group's server. */
int pgtest_group_teardown(void **state);

/* The server started by pgtest_group_setup (borrowed). */
struct pg *pgtest_pg(void);

/*
 * A new database on the group's server (name starting with prefix), open
 * and migrated to version (-1: latest; 0: left empty). Its conninfo goes
 * to *conninfo when that is not NULL (mem_free it). db_close the result.
 */
struct db *pgtest_db(char **conninfo, const char *prefix, int64_t version);

/*
 * A new database on pg (the group's when NULL) migrated to the latest
 * schema by `replicator db migrate`, as an operator would; returns its
 * conninfo (mem_free it).
 */
char *pgtest_db_migrated_by_cli(struct pg *pg, const char *prefix);

#endif
