/* SPDX-License-Identifier: MPL-2.0 */
/*
 * stuck_db: the stuck report's clocks in tuf_repo_progress (see
 * stuck_db.h). Worker thread.
 */
#include "replicator/db/stuck_db.h"

#include <stdbool.h>
#include <string.h>

#include "common/err.h"
#include "common/mem.h"
#include "replicator/db/db.h"
#include "replicator/db/db_internal.h"

static const char SQL_LOAD[] =
    "SELECT system_version, copies_best, since_ms FROM tuf_repo_progress"
    " ORDER BY system_version";

static const char SQL_UPSERT[] =
    "INSERT INTO tuf_repo_progress (system_version, copies_best, since_ms)"
    " VALUES ($1, $2, $3) ON CONFLICT (system_version) DO UPDATE"
    " SET copies_best = EXCLUDED.copies_best, since_ms = EXCLUDED.since_ms"
    " WHERE EXCLUDED.copies_best > tuf_repo_progress.copies_best"
    " OR (EXCLUDED.copies_best = tuf_repo_progress.copies_best"
    " AND EXCLUDED.since_ms < tuf_repo_progress.since_ms)";

static const char SQL_DELETE[] =
    "DELETE FROM tuf_repo_progress WHERE system_version = $1";

/* stuck.c's release and find, here so that the database library needs
 * only stuck.h's plain types. */
static void release(struct stuck_tracker *t)
{
    for (size_t i = 0; i < t->n; i++)
        mem_free(t->v[i].name);
    mem_free(t->v);
    t->v = NULL;
    t->n = 0;
}

static bool tracked(const struct stuck_tracker *t, const char *name)
{
    for (size_t i = 0; i < t->n; i++)
        if (!strcmp(t->v[i].name, name))
            return true;
    return false;
}

int stuck_db_load(struct stuck_tracker *out, struct db *db, struct err *err)
{
    PGresult *res = NULL;
    int rc, n;

    *out = (struct stuck_tracker)STUCK_TRACKER_INIT;
    rc = db_exec(&res, db, "read repo progress", SQL_LOAD, 0, NULL, err);
    if (rc < 0)
        return rc;
    n = PQntuples(res);
    out->v = mem_calloc((size_t)n + 1, sizeof(*out->v));
    if (!out->v) {
        rc = err_set(err, ERR_NOMEM, "out of memory");
        goto out;
    }
    for (int i = 0; rc == 0 && i < n; i++) {
        struct stuck_entry *e = &out->v[out->n];
        int64_t since = 0;

        rc = db_col_u64(&e->best, res, i, 1, err);
        if (rc == 0)
            rc = db_col_i64(&since, res, i, 2, err);
        if (rc == 0 && !(e->name = mem_strdup(PQgetvalue(res, i, 0))))
            rc = err_set(err, ERR_NOMEM, "out of memory");
        if (rc == 0) {
            e->since_ms = since;
            out->n++;
        }
    }
out:
    PQclear(res);
    if (rc < 0)
        release(out);
    return rc;
}

struct save {
    const struct stuck_tracker *t;
};

static int save_txn(struct db *db, void *arg, struct err *err)
{
    const struct stuck_tracker *t = ((struct save *)arg)->t;
    PGresult *res = NULL;
    int rc = db_exec(&res, db, "read repo progress", SQL_LOAD, 0, NULL, err);

    /* rows of repositories no longer tracked go */
    for (int i = 0; rc == 0 && i < PQntuples(res); i++) {
        const char *name = PQgetvalue(res, i, 0);

        if (!tracked(t, name))
            rc = db_exec(NULL, db, "delete repo progress", SQL_DELETE, 1,
                         (const char *const[]){name}, err);
    }
    PQclear(res);
    for (size_t i = 0; rc == 0 && i < t->n; i++) {
        char best[DB_INT_STR], since[DB_INT_STR];

        db_i64_str(best, (int64_t)t->v[i].best);
        db_i64_str(since, t->v[i].since_ms);
        rc = db_exec(NULL, db, "write repo progress", SQL_UPSERT, 3,
                     (const char *const[]){t->v[i].name, best, since}, err);
    }
    return rc;
}

int stuck_db_save(struct db *db, const struct stuck_tracker *t,
                  struct err *err)
{
    struct save s = {t};

    return db_txn(db, false, save_txn, &s, err);
}
