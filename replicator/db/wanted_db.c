/* SPDX-License-Identifier: MPL-2.0 */
/*
 * wanted_db: reads the wanted set and its generation as one snapshot. The
 * whole read is one SERIALIZABLE READ ONLY transaction (retried by db_txn
 * on 40001), paging by the unique key (artifact sha256, repo system
 * version) so no single result holds the whole set. Since every change of
 * the set bumps the generation in the same transaction, the snapshot's G
 * always describes exactly the set read with it. Worker thread; see db.h.
 */
#include "replicator/db/wanted_db.h"

#include <string.h>

#include "common/err.h"
#include "common/limits.h"
#include "common/mem.h"
#include "replicator/db/db.h"
#include "replicator/db/db_internal.h"
#include "replicator/db/gen_db.h"

/* Rows per page; the literal is spelled twice: keep them equal. */
#define PAGE_ROWS 1000
#define PAGE_ROWS_SQL "1000"

static const char SQL_PAGE[] =
    "SELECT a.sha256, a.length, r.system_version, a.piece_size,"
    " a.pieces_sha256"
    " FROM tuf_repo_artifact ra"
    " JOIN tuf_artifact a ON a.id = ra.tuf_artifact_id"
    " JOIN tuf_repo r ON r.id = ra.tuf_repo_id"
    " WHERE r.time_pruned IS NULL"
    " AND (a.sha256, r.system_version) > ($1, $2)"
    " ORDER BY a.sha256, r.system_version LIMIT " PAGE_ROWS_SQL;

void wanted_db_release(struct wanted_db *w)
{
    size_t i, j;

    if (!w)
        return;
    for (i = 0; i < w->count; i++) {
        for (j = 0; j < w->artifacts[i].nrepos; j++)
            mem_free(w->artifacts[i].repos[j]);
        mem_free(w->artifacts[i].repos);
    }
    mem_free(w->artifacts);
    memset(w, 0, sizeof(*w));
}

/* Append repo version to the last artifact of w. */
static int add_repo(struct wanted_db_artifact *a, const char *version,
                    struct err *err)
{
    char **repos = mem_realloc(a->repos, (a->nrepos + 1) * sizeof(*repos));

    if (!repos)
        return err_set(err, ERR_NOMEM, "out of memory");
    a->repos = repos;
    repos[a->nrepos] = mem_strdup(version);
    if (!repos[a->nrepos])
        return err_set(err, ERR_NOMEM, "out of memory");
    a->nrepos++;
    return 0;
}

/* Fold one row (sha256, length, version, piece_size, pieces_sha256)
 * into w. */
static int add_row(struct wanted_db *w, size_t *cap, const PGresult *res,
                   int row, struct err *err)
{
    struct wanted_db_artifact *a;
    struct sha256 h;
    uint64_t len = 0;
    int rc = db_col_sha256(&h, res, row, 0, err);

    if (rc == 0)
        rc = db_col_u64(&len, res, row, 1, err);
    if (rc < 0)
        return rc;
    if (w->count == 0 || !sha256_eq(&w->artifacts[w->count - 1].sha256, &h)) {
        if (w->count == LIMIT_CONFIG_ARTIFACTS)
            return err_set(err, ERR_LIMIT, "wanted set exceeds %d artifacts",
                           LIMIT_CONFIG_ARTIFACTS);
        a = mem_grow(w->artifacts, cap, w->count, sizeof(*a), 64);
        if (!a)
            return err_set(err, ERR_NOMEM, "out of memory");
        w->artifacts = a;
        a = &w->artifacts[w->count++];
        memset(a, 0, sizeof(*a));
        a->sha256 = h;
        a->length = len;
        if (!PQgetisnull(res, row, 3) && !PQgetisnull(res, row, 4)) {
            uint64_t ps = 0;

            rc = db_col_u64(&ps, res, row, 3, err);
            if (rc == 0)
                rc = db_col_sha256(&a->pieces_sha256, res, row, 4, err);
            if (rc < 0)
                return rc;
            a->piece_size = (uint32_t)ps;
            a->has_pieces = true;
        }
    }
    return add_repo(&w->artifacts[w->count - 1], PQgetvalue(res, row, 2),
                    err);
}

static int read_txn(struct db *db, void *arg, struct err *err)
{
    struct wanted_db *w = arg;
    char last_sha[SHA256_HEX_LEN + 1] = "";
    char *last_ver = NULL;
    const char *params[2];
    PGresult *res = NULL;
    size_t cap = 0;
    int rc, i, n;

    wanted_db_release(w);
    rc = gen_db_get_locked(&w->generation, db, err);
    while (rc == 0) {
        params[0] = last_sha;
        params[1] = last_ver ? last_ver : "";
        rc = db_exec(&res, db, "read wanted set", SQL_PAGE, 2, params, err);
        if (rc < 0)
            goto out;
        n = PQntuples(res);
        for (i = 0; i < n && rc == 0; i++)
            rc = add_row(w, &cap, res, i, err);
        if (rc < 0 || n < PAGE_ROWS)
            goto out;
        snprintf(last_sha, sizeof(last_sha), "%s", PQgetvalue(res, n - 1, 0));
        mem_free(last_ver);
        last_ver = mem_strdup(PQgetvalue(res, n - 1, 2));
        if (!last_ver)
            rc = err_set(err, ERR_NOMEM, "out of memory");
        PQclear(res);
        res = NULL;
    }
out:
    PQclear(res);
    mem_free(last_ver);
    return rc;
}

int wanted_db_read(struct wanted_db *out, struct db *db, struct err *err)
{
    int rc;

    memset(out, 0, sizeof(*out));
    rc = db_txn(db, true, read_txn, out, err);
    if (rc < 0)
        wanted_db_release(out);
    return rc;
}
