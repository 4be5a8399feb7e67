/* SPDX-License-Identifier: MPL-2.0 */
/*
 * db: the replicator's PostgreSQL connection (libpq), parameterised
 * statement execution, and SERIALIZABLE transactions that ride through a
 * failover: retried on SQLSTATE 40001/40P01, reconnected (every host of a
 * multi-host conninfo, target_session_attrs=read-write) and retried on a
 * lost connection, an administrator shutdown, a server in recovery or a
 * read-only server, and decided by an outcome marker when the connection
 * is lost during COMMIT. Every other replicator/db module runs its
 * statements through db_exec(), inside db_txn() or as a transaction of
 * their own.
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
/* How many times db_txn() reconnects for one transaction before giving up
 * with ERR_UNAVAIL (each reconnect itself waits up to the unavailable
 * wait). */
#define DB_TXN_MAX_RECONNECTS 5
/* Default bound on waiting for a read-write server (db_set_unavail_wait). */
#define DB_UNAVAIL_WAIT_MS 10000
/* Prefix of every ERR_UNAVAIL message of this module. */
#define DB_UNAVAIL_MSG "database unavailable"

/* What db_txn does about a failed statement. */
enum db_err_class {
    DB_ERR_FATAL = 0,  /* give up: a bug, bad input, a constraint */
    DB_ERR_RETRY,      /* 40001, 40P01: run the transaction again */
    DB_ERR_RECONNECT,  /* 08xxx, 57P01-57P03, 25006, 40003, or libpq lost the
                        * connection (no SQLSTATE): reconnect, run again */
};

/* The class of SQLSTATE state ("" or NULL: none) given whether the
 * connection is still up. Pure. */
enum db_err_class db_classify(const char *state, bool conn_ok);

/* Counters of one struct db since db_open (status, tests). */
struct db_stats {
    unsigned retries;        /* re-runs after 40001/40P01 */
    unsigned reconnects;     /* successful reconnects */
    unsigned unknown_commits;  /* COMMIT outcomes decided by the marker */
    unsigned unknown_done;   /* ... of which had committed */
};

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
 * means SQL NULL) and require PGRES_COMMAND_OK or PGRES_TUPLES_OK. Outside
 * db_txn the statement is a transaction of its own, run by db_txn (READ
 * ONLY when it starts with SELECT), so it is retried the same way. On
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
 * read_only). A DB_ERR_RETRY failure rolls back and runs it again, at most
 * DB_TXN_MAX_ATTEMPTS attempts in total, sleeping a jittered, exponentially
 * growing delay (1 ms .. 100 ms) in between. A DB_ERR_RECONNECT failure
 * (whatever fn made of it) reconnects (db_reconnect: until a read-write
 * server answers, bounded by the unavailable wait) and runs it again, at
 * most DB_TXN_MAX_RECONNECTS times. A write transaction inserts a random
 * token into txn_outcome before COMMIT (when the table exists); if the
 * connection is lost during COMMIT, db_txn reconnects and looks the token
 * up: found, the transaction committed and db_txn returns 0; not found, it
 * never happened and runs again. Returns fn's result (0 after a successful
 * COMMIT). Errors: whatever fn returns; ERR_DB (BEGIN/COMMIT failed, or
 * retries exhausted: the message says so and carries the last server
 * message); ERR_UNAVAIL (message starting DB_UNAVAIL_MSG: no read-write
 * server answered in time; nothing was committed, or for a write whose
 * COMMIT was lost without a marker table, "outcome unknown"). Worker
 * thread; db not inside another db_txn.
 */
int db_txn(struct db *db, bool read_only, db_txn_fn fn, void *arg,
           struct err *err);

/* Whether err says no database server could be reached (a db_open that
 * could not connect, or a db_txn that gave up waiting: DB_UNAVAIL_MSG), as
 * opposed to a refusal or a bug. Pure. */
bool db_err_unavailable(const struct err *err);

/* Bound on each wait for a read-write server (default DB_UNAVAIL_WAIT_MS). */
void db_set_unavail_wait(struct db *db, long ms);

/* Counters since db_open. */
struct db_stats db_get_stats(const struct db *db);

/* Test hook: the next COMMIT is sent and executed by the server, then its
 * reply is thrown away and the socket shut down, as when the network fails
 * right after the server committed (the unknown-outcome case). */
void db__lose_commit_reply(struct db *db);

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
