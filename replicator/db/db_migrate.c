/* SPDX-License-Identifier: MPL-2.0 */
/*
 * db_migrate: applies the embedded schema migrations up or down, one
 * SERIALIZABLE transaction per step, each recording (or removing) its
 * schema_version row in the same transaction. The runner creates the
 * schema_version table itself (it precedes every migration). Worker
 * thread or command-line tool; see db.h.
 */
#include "replicator/db/db_migrate.h"

#include <inttypes.h>
#include <stdbool.h>
#include <string.h>

#include "common/err.h"
#include "replicator/db/db.h"
#include "replicator/db/db_internal.h"

static const char SQL_BOOTSTRAP[] =
    "CREATE TABLE IF NOT EXISTS schema_version ("
    " version INT8 PRIMARY KEY CHECK (version > 0),"
    " name TEXT NOT NULL,"
    " time_applied TIMESTAMPTZ NOT NULL DEFAULT now())";

static const char SQL_HAS_TABLE[] =
    "SELECT count(*) FROM information_schema.tables"
    " WHERE table_schema = current_schema()"
    " AND table_name = 'schema_version'";

static const char SQL_CURRENT[] =
    "SELECT coalesce(max(version), 0) FROM schema_version";

const struct db_migration *db_migrate_list(size_t *count)
{
    *count = db_migrate_embedded_count;
    return db_migrate_embedded;
}

int64_t db_migrate_latest(void)
{
    return (int64_t)db_migrate_embedded_count;
}

int db_migrate_current(int64_t *out, struct db *db, struct err *err)
{
    PGresult *res = NULL;
    int64_t n = 0;
    int rc;

    *out = 0;
    rc = db_exec(&res, db, "schema version", SQL_HAS_TABLE, 0, NULL, err);
    if (rc < 0)
        goto out;
    rc = db_col_i64(&n, res, 0, 0, err);
    if (rc < 0 || n == 0)
        goto out;
    PQclear(res);
    rc = db_exec(&res, db, "schema version", SQL_CURRENT, 0, NULL, err);
    if (rc < 0)
        goto out;
    rc = db_col_i64(out, res, 0, 0, err);
out:
    PQclear(res);
    return rc;
}

struct step {
    const struct db_migration *m;
    bool up;
    int64_t expect; /* version the database must be at when the step runs */
};

static int step_txn(struct db *db, void *arg, struct err *err)
{
    const struct step *st = arg;
    char ver[DB_INT_STR];
    const char *params[2];
    char what[96];
    int64_t cur = 0;
    int rc = db_migrate_current(&cur, db, err);

    if (rc < 0)
        goto out;
    if (cur != st->expect) {
        rc = err_set(err, ERR_CONFLICT, "schema version changed to %" PRId64
                     " during migration (expected %" PRId64 ")", cur,
                     st->expect);
        goto out;
    }
    snprintf(what, sizeof(what), "migration %04" PRId64 "_%s %s",
             st->m->version, st->m->name, st->up ? "up" : "down");
    rc = db_exec_script(db, what, st->up ? st->m->up : st->m->down, err);
    if (rc < 0)
        goto out;
    db_i64_str(ver, st->m->version);
    params[0] = ver;
    params[1] = st->m->name;
    if (st->up)
        rc = db_exec(NULL, db, what, "INSERT INTO schema_version "
                     "(version, name) VALUES ($1, $2)", 2, params, err);
    else
        rc = db_exec(NULL, db, what, "DELETE FROM schema_version "
                     "WHERE version = $1", 1, params, err);
out:
    return rc;
}

/* Every recorded version must be one of ours, under the same name. */
static int check_known(struct db *db, struct err *err)
{
    PGresult *res = NULL;
    int64_t v = 0;
    int rc, i;

    rc = db_exec(&res, db, "schema version", "SELECT version, name FROM "
                 "schema_version ORDER BY version", 0, NULL, err);
    for (i = 0; rc == 0 && i < PQntuples(res); i++) {
        rc = db_col_i64(&v, res, i, 0, err);
        if (rc < 0)
            break;
        if (v < 1 || v > db_migrate_latest()) {
            rc = err_set(err, ERR_CONFLICT, "database schema version %"
                         PRId64 " is unknown to this binary (latest %" PRId64
                         "): upgrade the replicator", v, db_migrate_latest());
        } else if (strcmp(PQgetvalue(res, i, 1),
                          db_migrate_embedded[v - 1].name) != 0) {
            rc = err_set(err, ERR_CONFLICT, "database schema version %"
                         PRId64 " is \"%s\", this binary's is \"%s\"", v,
                         PQgetvalue(res, i, 1),
                         db_migrate_embedded[v - 1].name);
        }
    }
    PQclear(res);
    return rc;
}

int db_migrate_to(int *applied, struct db *db, int64_t to, struct err *err)
{
    int64_t latest = db_migrate_latest();
    int64_t cur = 0;
    struct step st;
    int n = 0;
    int rc = 0;

    if (to == -1)
        to = latest;
    if (to < 0 || to > latest) {
        rc = err_set(err, ERR_INVAL, "no schema version %" PRId64
                     " (known: 0..%" PRId64 ")", to, latest);
        goto out;
    }
    rc = db_exec_script(db, "create schema_version", SQL_BOOTSTRAP, err);
    if (rc < 0)
        goto out;
    rc = check_known(db, err);
    if (rc < 0)
        goto out;
    rc = db_migrate_current(&cur, db, err);
    if (rc < 0)
        goto out;
    while (cur != to) {
        st.up = cur < to;
        st.m = &db_migrate_embedded[st.up ? cur : cur - 1];
        st.expect = cur;
        rc = db_txn(db, false, step_txn, &st, err);
        if (rc < 0)
            goto out;
        cur += st.up ? 1 : -1;
        n++;
    }
out:
    if (applied)
        *applied = n;
    return rc;
}
