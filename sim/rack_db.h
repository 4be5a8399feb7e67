/* SPDX-License-Identifier: MPL-2.0 */
/*
 * rack_db: `rack-sim db snapshot|restore NAME`. A snapshot is a pg_dump
 * custom-format archive of the rack's database in D/db-snapshots/NAME.dump;
 * restore runs pg_restore --clean --if-exists --single-transaction into the
 * live database while the replicators keep running (the fault being
 * simulated: a controller database restored from an earlier backup).
 * The client tools come from the same PostgreSQL installation as pgembed's
 * server and connect over the cluster's Unix socket as the postgres role
 * (on a --db-ha rack: with the multi-host URL, to the primary).
 * Main thread only.
 */
#ifndef SIM_RACK_DB_H
#define SIM_RACK_DB_H

#include <stddef.h>

struct err;
struct rack;

/*
 * bindir of the PostgreSQL installation, as pgembed chooses it
 * ($RACKDEPOT_PG_BINDIR, else the newest /usr/lib/postgresql/N/bin).
 * Errors: ERR_UNAVAIL.
 */
int rack_pg_bindir(char *out, size_t cap, struct err *err);

/*
 * Dump the database to D/db-snapshots/NAME.dump (NAME: [A-Za-z0-9_.-]).
 * Errors: ERR_INVAL (bad name), ERR_IO (pg_dump failed: see the log named
 * in the message), ERR_TIMEOUT.
 */
int rack_db_snapshot(const struct rack *r, const char *name, struct err *err);

/*
 * Restore snapshot NAME over the live database. Errors: ERR_NOTFOUND (no
 * such snapshot), ERR_INVAL, ERR_IO, ERR_TIMEOUT.
 */
int rack_db_restore(const struct rack *r, const char *name, struct err *err);

/*
 * Run one SQL statement with psql against the rack database (tests and
 * the demo's checks); output appended to D/psql.log, or the tuples only
 * into out (cap bytes, trimmed) when out is not NULL. Errors: ERR_IO.
 */
int rack_db_sql(const struct rack *r, const char *sql, char *out, size_t cap,
                struct err *err);

#endif
