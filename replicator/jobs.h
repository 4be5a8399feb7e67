/* SPDX-License-Identifier: MPL-2.0 */
/*
 * jobs: the replicator's worker-job runner. Blocking jobs (synchronous
 * libpq, disk) run on a common/workq pool and complete on its loop. The
 * runner keeps one database connection per worker: opened lazily by the
 * first job that needs one, reused by the following jobs, dropped after
 * a job left it broken (libpq CONNECTION_BAD, or inside a transaction)
 * and checked before reuse, so a connection the server closed (a killed
 * backend, a restart) is reopened by the next job instead of failing
 * every later one; all are closed by jobs_free. The API (api.c) and the
 * reconciliation task (task/task.c) each run one. Loop thread, except the
 * job functions (worker).
 */
#ifndef REPLICATOR_JOBS_H
#define REPLICATOR_JOBS_H

struct db;
struct err;
struct event_base;
struct jobs;
struct workq;

/* What a job needs from the runner's connections. */
enum jobs_db {
    JOBS_DB_NONE = 0, /* no connection: fn gets db NULL */
    JOBS_DB_NEEDED,   /* fn runs only with a connection; when none could
                         be opened done gets that error and fn is skipped */
    JOBS_DB_WANTED,   /* fn runs with a connection, or with db NULL when
                         none could be opened */
};

/*
 * A job's work, on a worker. db (borrowed for the call; do not close) is
 * the worker's connection, outside any transaction. Returns 0 or an
 * ERR_* code with err set.
 */
typedef int (*jobs_fn)(struct db *db, void *arg, struct err *err);

/* A job's completion, on the loop: fn's result (or the connection's
 * error), err borrowed for the call. */
typedef void (*jobs_done_fn)(int rc, const struct err *err, void *arg);

/*
 * Start nworkers (1..64) workers bound to base; conninfo (borrowed, may
 * be NULL when no job needs a connection) must outlive the runner. No
 * connection is opened yet. Returns 0, ERR_NOMEM, ERR_INVAL, ERR_INTERNAL
 * (see workq_new) with err set.
 */
int jobs_new(struct jobs **out, struct event_base *base, const char *conninfo,
             unsigned nworkers, struct err *err);

/*
 * Queue fn(db, arg, err) for a worker, then done(rc, err, arg) on the
 * loop. Returns 0 or ERR_NOMEM (nothing queued, done not called).
 */
int jobs_submit(struct jobs *js, enum jobs_db need, jobs_fn fn,
                jobs_done_fn done, void *arg);

/* The runner's pool (borrowed), for blocking work with its own
 * completion (uploads); such work never uses the connections. */
struct workq *jobs_workq(struct jobs *js);

/* Jobs queued or running whose completion has not run yet. */
unsigned jobs_pending(const struct jobs *js);

/*
 * Run every queued job to completion (their done callbacks included),
 * stop the workers, close the connections and free. NULL is a no-op.
 */
void jobs_free(struct jobs *js);

/* Test hook: connections opened since jobs_new (reopens included). */
unsigned jobs__opened(const struct jobs *js);

#endif
