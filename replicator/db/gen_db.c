/* SPDX-License-Identifier: MPL-2.0 */
/*
 * gen_db: the single-row artifact generation (tuf_generation). Bumps are
 * compare-and-swap so two replicators racing on one database can never
 * both move the generation from the same value. Worker thread; see db.h.
 */
#include "replicator/db/gen_db.h"

#include <inttypes.h>

#include "common/err.h"
#include "replicator/db/db.h"
#include "replicator/db/db_internal.h"

static const char SQL_GET[] =
    "SELECT generation FROM tuf_generation WHERE singleton";

static const char SQL_CAS[] =
    "UPDATE tuf_generation SET generation = $2"
    " WHERE singleton AND generation = $1";

int gen_db_get_locked(uint64_t *out, struct db *db, struct err *err)
{
    PGresult *res = NULL;
    int rc = db_exec(&res, db, "read generation", SQL_GET, 0, NULL, err);

    if (rc < 0)
        goto out;
    if (PQntuples(res) != 1) {
        rc = err_set(err, ERR_INTERNAL, "tuf_generation has no row");
        goto out;
    }
    rc = db_col_u64(out, res, 0, 0, err);
out:
    PQclear(res);
    return rc;
}

struct get_arg {
    uint64_t gen;
};

static int get_txn(struct db *db, void *arg, struct err *err)
{
    struct get_arg *a = arg;

    return gen_db_get_locked(&a->gen, db, err);
}

int gen_db_get(uint64_t *out, struct db *db, struct err *err)
{
    struct get_arg a = {0};
    int rc = db_txn(db, true, get_txn, &a, err);

    *out = rc < 0 ? 0 : a.gen;
    return rc;
}

/* Set the generation from old to new if it is still old. */
static int cas(struct db *db, uint64_t old, uint64_t new_gen, struct err *err)
{
    char from[DB_INT_STR], to[DB_INT_STR];
    const char *params[2] = {from, to};
    PGresult *res = NULL;
    int rc;

    db_i64_str(from, (int64_t)old);
    db_i64_str(to, (int64_t)new_gen);
    rc = db_exec(&res, db, "bump generation", SQL_CAS, 2, params, err);
    if (rc == 0 && PQcmdTuples(res)[0] != '1')
        rc = err_set(err, ERR_CONFLICT, "generation moved from %" PRIu64
                     " during the transaction", old);
    PQclear(res);
    return rc;
}

int gen_db_bump_locked(uint64_t *out, struct db *db, uint64_t old,
                       struct err *err)
{
    int rc;

    if (old >= INT64_MAX)
        return err_set(err, ERR_INTERNAL, "generation %" PRIu64
                       " cannot grow", old);
    rc = cas(db, old, old + 1, err);
    if (rc == 0)
        *out = old + 1;
    return rc;
}

struct past_arg {
    uint64_t fleet_max;
    uint64_t gen;
};

static int past_txn(struct db *db, void *arg, struct err *err)
{
    struct past_arg *a = arg;
    uint64_t cur = 0;
    uint64_t base;
    int rc = gen_db_get_locked(&cur, db, err);

    if (rc < 0)
        return rc;
    base = cur > a->fleet_max ? cur : a->fleet_max;
    rc = cas(db, cur, base + 1, err);
    if (rc == 0)
        a->gen = base + 1;
    return rc;
}

int gen_db_bump_past(uint64_t *out, struct db *db, uint64_t fleet_max,
                     struct err *err)
{
    struct past_arg a = {fleet_max, 0};
    int rc = 0;

    *out = 0;
    if (fleet_max >= INT64_MAX - 1) {
        rc = err_set(err, ERR_INVAL, "fleet generation %" PRIu64
                     " is too large to bump past: reset that sled's ledger "
                     "with `replicator sled reset-ledger ID`", fleet_max);
        goto out;
    }
    rc = db_txn(db, false, past_txn, &a, err);
    if (rc == 0)
        *out = a.gen;
out:
    return rc;
}
