/* SPDX-License-Identifier: MPL-2.0 */
/*
 * db_migrate: the schema migrations embedded in the binary (generated at
 * build time from schema/NNNN_name.{up,down}.sql by cmake/EmbedSql.cmake)
 * and the runner that applies them, one transaction per step, recording
 * each applied version in the schema_version table. Version 0 is an empty
 * database. Worker thread or command-line tool; see db.h for threading.
 */
#ifndef REPLICATOR_DB_DB_MIGRATE_H
#define REPLICATOR_DB_DB_MIGRATE_H

#include <stddef.h>
#include <stdint.h>

struct db;
struct err;

/* One embedded migration (static data, never freed). */
struct db_migration {
    int64_t version; /* 1, 2, ... consecutive */
    const char *name; /* "core" for 0001_core */
    const char *up;   /* SQL of NNNN_name.up.sql */
    const char *down; /* SQL of NNNN_name.down.sql */
};

/* The embedded migrations, in version order, and how many there are. */
const struct db_migration *db_migrate_list(size_t *count);

/* Newest embedded version (0 when none are embedded). */
int64_t db_migrate_latest(void);

/*
 * Current schema version of the database: the highest version recorded in
 * schema_version, 0 if the table is absent or empty. Errors: ERR_DB.
 */
int db_migrate_current(int64_t *out, struct db *db, struct err *err);

/*
 * Move the schema to version `to` (-1 means db_migrate_latest()): apply
 * the pending up steps in order, or the down steps from the current
 * version down to `to`, each in its own transaction together with its
 * schema_version row. *applied (may be NULL) gets the number of steps run;
 * migrating to the current version is a no-op. Errors: ERR_INVAL (`to`
 * outside 0..latest), ERR_CONFLICT (the database is at a version this
 * binary does not know; nothing is changed), ERR_DB (a step failed: it was
 * rolled back, earlier steps stay applied; the message names the step).
 */
int db_migrate_to(int *applied, struct db *db, int64_t to, struct err *err);

#endif
