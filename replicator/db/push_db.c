/* SPDX-License-Identifier: MPL-2.0 */
/*
 * push_db: the artifact_config_pushed row used by the mass-deletion
 * guard. Each call is one statement (atomic on its own). Worker thread;
 * see db.h.
 */
#include "replicator/db/push_db.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "replicator/db/db.h"
#include "replicator/db/db_internal.h"

static const char SQL_GET[] =
    "SELECT pushed_generation, pushed_count, held_generation, held_reason,"
    " confirmed_generation FROM artifact_config_pushed WHERE singleton";

static const char SQL_RECORD[] =
    "UPDATE artifact_config_pushed SET pushed_generation = $1,"
    " pushed_count = $2, time_pushed = now()"
    " WHERE singleton AND pushed_generation <= $1";

static const char SQL_HOLD[] =
    "UPDATE artifact_config_pushed SET held_generation = $1,"
    " held_reason = $2, time_held = now() WHERE singleton";

static const char SQL_CONFIRM[] =
    "UPDATE artifact_config_pushed SET held_generation = NULL,"
    " held_reason = NULL, time_held = NULL, confirmed_generation = $1,"
    " time_confirmed = now() WHERE singleton AND held_generation = $1";

int push_db_get(struct push_db_state *out, struct db *db, struct err *err)
{
    PGresult *res = NULL;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = db_exec(&res, db, "read push state", SQL_GET, 0, NULL, err);
    if (rc < 0)
        goto out;
    if (PQntuples(res) != 1) {
        rc = err_set(err, ERR_INTERNAL, "artifact_config_pushed has no row");
        goto out;
    }
    rc = db_col_u64(&out->pushed_generation, res, 0, 0, err);
    if (rc == 0)
        rc = db_col_u64(&out->pushed_count, res, 0, 1, err);
    if (rc == 0 && !PQgetisnull(res, 0, 2)) {
        out->held = true;
        rc = db_col_u64(&out->held_generation, res, 0, 2, err);
        snprintf(out->held_reason, sizeof(out->held_reason), "%s",
                 PQgetvalue(res, 0, 3));
    }
    if (rc == 0)
        rc = db_col_u64(&out->confirmed_generation, res, 0, 4, err);
out:
    PQclear(res);
    if (rc < 0)
        memset(out, 0, sizeof(*out));
    return rc;
}

static int check_gen(uint64_t g, struct err *err)
{
    if (g == 0 || g > INT64_MAX)
        return err_set(err, ERR_INVAL, "bad generation %" PRIu64, g);
    return 0;
}

int push_db_record(struct db *db, uint64_t generation, uint64_t count,
                   struct err *err)
{
    char g[DB_INT_STR], n[DB_INT_STR];
    const char *params[2] = {g, n};
    int rc = check_gen(generation, err);

    if (rc == 0 && count > INT64_MAX)
        rc = err_set(err, ERR_INVAL, "bad count %" PRIu64, count);
    if (rc < 0)
        return rc;
    db_i64_str(g, (int64_t)generation);
    db_i64_str(n, (int64_t)count);
    return db_exec(NULL, db, "record pushed config", SQL_RECORD, 2, params,
                   err);
}

int push_db_hold(struct db *db, uint64_t generation, const char *reason,
                 struct err *err)
{
    char g[DB_INT_STR];
    const char *params[2] = {g, reason};
    int rc = check_gen(generation, err);

    if (rc == 0 && (!reason || !*reason))
        rc = err_set(err, ERR_INVAL, "a hold needs a reason");
    if (rc < 0)
        return rc;
    db_i64_str(g, (int64_t)generation);
    return db_exec(NULL, db, "hold generation", SQL_HOLD, 2, params, err);
}

int push_db_confirm(struct db *db, uint64_t generation, struct err *err)
{
    struct push_db_state st;
    char g[DB_INT_STR];
    const char *param = g;
    PGresult *res = NULL;
    int rc = check_gen(generation, err);

    if (rc < 0)
        goto out;
    db_i64_str(g, (int64_t)generation);
    rc = db_exec(&res, db, "confirm generation", SQL_CONFIRM, 1, &param, err);
    if (rc < 0 || strcmp(PQcmdTuples(res), "0") != 0)
        goto out;
    rc = push_db_get(&st, db, err);
    if (rc < 0)
        goto out;
    if (st.held)
        rc = err_set(err, ERR_NOTFOUND, "generation %" PRIu64 " is not held "
                     "(generation %" PRIu64 " is)", generation,
                     st.held_generation);
    else
        rc = err_set(err, ERR_NOTFOUND, "generation %" PRIu64 " is not held "
                     "(nothing is held)", generation);
out:
    PQclear(res);
    return rc;
}
