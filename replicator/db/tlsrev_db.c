/* SPDX-License-Identifier: MPL-2.0 */
/*
 * tlsrev_db: the tls_revocation table (see tlsrev_db.h). Inserts are
 * idempotent through the table's two partial unique indexes (one per
 * serial, one per revoked identity) and ON CONFLICT DO NOTHING, which
 * CockroachDB accepts too. See db.h for threads.
 */
#include "replicator/db/tlsrev_db.h"

#include <string.h>

#include "common/err.h"
#include "replicator/db/db.h"
#include "replicator/db/db_internal.h"

static const char SQL_ADD[] =
    "INSERT INTO tls_revocation (id, serial, role, ident, reason)"
    " VALUES (gen_random_uuid(), $1, $2, $3, $4) ON CONFLICT DO NOTHING";

static const char SQL_LOAD[] =
    "SELECT serial, role, ident FROM tls_revocation ORDER BY id";

struct add_arg {
    const struct tlsrev_db_entry *e;
    bool added;
};

static int add_txn(struct db *db, void *arg, struct err *err)
{
    struct add_arg *a = arg;
    const char *params[4] = {a->e->serial, tls_role_name(a->e->role),
                             a->e->id, a->e->reason ? a->e->reason : ""};
    PGresult *res = NULL;
    int rc = db_exec(&res, db, "record TLS revocation", SQL_ADD, 4, params,
                     err);

    a->added = rc == 0 && strcmp(PQcmdTuples(res), "1") == 0;
    PQclear(res);
    return rc;
}

int tlsrev_db_add(bool *added, struct db *db, const struct tlsrev_db_entry *e,
                  struct err *err)
{
    struct add_arg a = {e, false};
    struct tls_revoked *check = NULL;
    int rc = tls_revoked_new(&check, err);

    /* validate exactly as the set will when it is loaded */
    if (rc == 0)
        rc = tls_revoked_add_id(check, e->role, e->id, err);
    if (rc == 0 && e->serial)
        rc = tls_revoked_add_serial(check, e->serial, err);
    tls_revoked_free(check);
    if (rc == 0)
        rc = db_txn(db, false, add_txn, &a, err);
    if (added)
        *added = rc == 0 && a.added;
    return rc;
}

struct load_arg {
    struct tls_revoked *set;
    uint64_t version;
};

static int load_txn(struct db *db, void *arg, struct err *err)
{
    struct load_arg *a = arg;
    struct tls_revoked **out = &a->set, *set = NULL;
    PGresult *res = NULL;
    enum tls_role role;
    struct err e = ERR_INIT;
    int rc, i;

    tls_revoked_free(*out);
    *out = NULL;
    rc = tls_revoked_new(&set, err);
    if (rc == 0)
        rc = db_exec(&res, db, "load TLS revocations", SQL_LOAD, 0, NULL,
                     err);
    for (i = 0; rc == 0 && i < PQntuples(res); i++) {
        if (tls_role_parse(&role, PQgetvalue(res, i, 1)) < 0)
            rc = err_set(err, ERR_DB, "tls_revocation: bad role %s",
                         PQgetvalue(res, i, 1));
        else if (!PQgetisnull(res, i, 0))
            rc = tls_revoked_add_serial(set, PQgetvalue(res, i, 0), &e);
        else
            rc = tls_revoked_add_id(set, role, PQgetvalue(res, i, 2), &e);
        if (rc < 0)
            rc = err_set(err, rc == ERR_INVAL ? ERR_DB : rc,
                         "tls_revocation: %s", e.msg);
    }
    a->version = rc == 0 ? (uint64_t)PQntuples(res) : 0;
    PQclear(res);
    if (rc < 0)
        tls_revoked_free(set);
    else
        *out = set;
    return rc;
}

int tlsrev_db_load_version(struct tls_revoked **out, uint64_t *version,
                           struct db *db, struct err *err)
{
    struct load_arg a = {NULL, 0};
    int rc = db_txn(db, true, load_txn, &a, err);

    *out = rc == 0 ? a.set : NULL;
    if (rc < 0)
        tls_revoked_free(a.set);
    if (version)
        *version = rc == 0 ? a.version : 0;
    return rc;
}

int tlsrev_db_load(struct tls_revoked **out, struct db *db, struct err *err)
{
    return tlsrev_db_load_version(out, NULL, db, err);
}
