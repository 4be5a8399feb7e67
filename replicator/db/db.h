/* SPDX-License-Identifier: MPL-2.0 */
/*
 * db: the replicator's PostgreSQL connection (libpq), parameterised
 * statement execution, and SERIALIZABLE transactions retried on SQLSTATE
 * 40001/40P01 with a bounded, jittered backoff. Every other replicator/db
 * module runs its statements through db_exec() inside db_txn().
 *
 * Threads: every call is synchronous and blocks on the network. The
 * replicator runs them on worker threads (common/workq.h), never on an
 * event loop. A struct db is used by one thread at a time (libpq
 * connections are not shareable); open one per worker that needs one.
 */
#ifndef REPLICATOR_DB_DB_H
#define REPLICATOR_DB_DB_H

#include <stdbool.h>
#include <stddef.h>

#include <libpq-fe.h>

struct err;
struct db;

/* Textual UUID "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" plus NUL. */
#define DB_UUID_STR 37
/* How many times db_txn() runs a transaction that keeps failing with a
 * serialization failure or deadlock before giving up with ERR_DB. */
#define DB_TXN_MAX_ATTEMPTS 10

/*
 * Connect to conninfo (a libpq "key=value" string or postgresql:// URL).
 * On success *out owns the connection (db_close it). Does not check the
 * schema version (see db_check_schema). Errors: ERR_DB (the server or
 * libpq message), ERR_NOMEM. Any thread.
 */
int db_open(struct db **out, const char *conninfo, struct err *err);

/* Close the connection and free db. NULL is a no-op. */
void db_close(struct db *db);

/* The libpq connection, borrowed while db lives (for tests and tools). */
PGconn *db_conn(struct db *db);

/*
 * Run one parameterised statement (PQexecParams, text parameters, NULL
 * means SQL NULL) and require PGRES_COMMAND_OK or PGRES_TUPLES_OK. On
 * success *out (may be NULL if the caller does not want the result) owns
 * the result: PQclear it. On failure *out is NULL, the SQLSTATE is kept for
 * db_txn's retry decision and the error is ERR_DB with the server message
 * ("<what>: <message> (SQLSTATE xxxxx)"). `what` names the statement in
 * messages. Errors: ERR_DB, ERR_NOMEM.
 */
int db_exec(PGresult **out, struct db *db, const char *what, const char *sql,
            int nparams, const char *const *params, struct err *err);

/*
 * Run a script of statements without parameters (PQexec). Only for static
 * SQL text (migrations, test fixtures); never for text built from values.
 * Errors: ERR_DB, ERR_NOMEM.
 */
int db_exec_script(struct db *db, const char *what, const char *sql,
                   struct err *err);

/* SQLSTATE of the last failed db_exec/db_exec_script, "" if none. */
const char *db_sqlstate(const struct db *db);

/*
 * Transaction body. Runs between BEGIN and COMMIT; returns 0 to commit or
 * a negative ERR_* to roll back. It may run several times (after a
 * serialization failure), so it must (re)initialise its outputs at entry
 * and have no side effects outside the database.
 */
typedef int (*db_txn_fn)(struct db *db, void *arg, struct err *err);

/*
 * Run fn in a transaction at ISOLATION LEVEL SERIALIZABLE (READ ONLY if
 * read_only). When fn or COMMIT fails with SQLSTATE 40001 or 40P01 the
 * transaction is rolled back and retried, at most DB_TXN_MAX_ATTEMPTS
 * attempts in total, sleeping a jittered, exponentially growing delay
 * (1 ms .. 100 ms) in between. Returns fn's result (0 after a successful
 * COMMIT). Errors: whatever fn returns; ERR_DB (BEGIN/COMMIT failed, or
 * retries exhausted: the message says so and carries the last server
 * message). Worker thread; db not inside another db_txn.
 */
int db_txn(struct db *db, bool read_only, db_txn_fn fn, void *arg,
           struct err *err);

/* Test hook: how many retries (attempts after the first) db_txn made on
 * this connection since it was opened. */
unsigned db__txn_retries(const struct db *db);

/*
 * Check that the database's schema version equals the newest migration
 * embedded in this binary. Errors: ERR_CONFLICT when the database is newer
 * than (or has a version unknown to) this binary, or older ("run
 * `replicator db migrate`"); both versions are named in the message.
 * ERR_DB, ERR_NOMEM. Worker thread.
 */
int db_check_schema(struct db *db, struct err *err);

/* Whether s is a textual UUID (8-4-4-4-12 hex digits, either case). */
bool db_uuid_valid(const char *s);

#endif
