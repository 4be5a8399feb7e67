/* SPDX-License-Identifier: MPL-2.0 */
/*
 * repo_db: TUF repositories, their artifacts (deduplicated by sha256) and
 * the links between them. Every change of the wanted set (the artifacts of
 * unpruned repos) bumps the generation with compare-and-swap in the same
 * SERIALIZABLE transaction: a change is detected as "this repo links at
 * least one artifact that no other unpruned repo links", evaluated before
 * pruning or after inserting/unpruning. Worker thread; see db.h.
 */
#include "replicator/db/repo_db.h"

#include <inttypes.h>
#include <string.h>

#include "common/err.h"
#include "common/jsonutil.h"
#include "common/limits.h"
#include "common/mem.h"
#include "replicator/db/db_internal.h"
#include "replicator/db/gen_db.h"

static const char SQL_BY_VERSION[] =
    "SELECT id, sha256, time_pruned IS NOT NULL FROM tuf_repo"
    " WHERE system_version = $1";

static const char SQL_BY_SHA[] =
    "SELECT system_version FROM tuf_repo WHERE sha256 = $1";

static const char SQL_INSERT_REPO[] =
    "INSERT INTO tuf_repo (id, system_version, sha256, file_name,"
    " targets_role_version, valid_until)"
    " VALUES (gen_random_uuid(), $1, $2, $3, $4, $5::TIMESTAMPTZ)"
    " RETURNING id";

static const char SQL_INSERT_ARTIFACT[] =
    "INSERT INTO tuf_artifact (id, sha256, length, name, version, kind, tags,"
    " piece_size, pieces_sha256, pieces_manifest)"
    " VALUES (gen_random_uuid(), $1, $2, $3, $4, $5, $6::JSONB, $7::INT8, $8,"
    " $9) ON CONFLICT (sha256) DO NOTHING RETURNING id";

/* A row recorded without a piece manifest (before schema 4) gets one. */
static const char SQL_FILL_PIECES[] =
    "UPDATE tuf_artifact SET piece_size = $2::INT8, pieces_sha256 = $3,"
    " pieces_manifest = $4 WHERE sha256 = $1 AND pieces_sha256 IS NULL";

static const char SQL_ARTIFACT_BY_SHA[] =
    "SELECT id, length FROM tuf_artifact WHERE sha256 = $1";

static const char SQL_LINK[] =
    "INSERT INTO tuf_repo_artifact (tuf_repo_id, tuf_artifact_id)"
    " VALUES ($1, $2) ON CONFLICT DO NOTHING";

/* Artifacts of repo $1 that no other unpruned repo links. */
static const char SQL_EXCLUSIVE[] =
    "SELECT count(*) FROM tuf_repo_artifact ra WHERE ra.tuf_repo_id = $1"
    " AND NOT EXISTS (SELECT 1 FROM tuf_repo_artifact ra2"
    " JOIN tuf_repo r2 ON r2.id = ra2.tuf_repo_id"
    " WHERE ra2.tuf_artifact_id = ra.tuf_artifact_id"
    " AND r2.id <> $1 AND r2.time_pruned IS NULL)";

static const char SQL_SET_PRUNED[] =
    "UPDATE tuf_repo SET time_pruned = now() WHERE id = $1";

/* An unpruning upload counts as the newest upload for the automatic
 * pruner (prune_db.h), which would otherwise take it back at once. */
static const char SQL_UNPRUNE[] =
    "UPDATE tuf_repo SET time_pruned = NULL, time_uploaded = now()"
    " WHERE id = $1";

static const char SQL_MARK_FAILED[] =
    "UPDATE tuf_repo SET time_failed = now(), failed_reason = $2"
    " WHERE system_version = $1";

#define REPO_COLUMNS \
    "r.id, r.system_version, r.sha256, r.file_name, r.targets_role_version," \
    " floor(extract(epoch FROM r.valid_until))::INT8," \
    " floor(extract(epoch FROM r.time_created))::INT8," \
    " r.time_pruned IS NOT NULL, r.failed_reason," \
    " (SELECT count(*) FROM tuf_repo_artifact ra WHERE ra.tuf_repo_id = r.id)," \
    " r.time_pinned IS NOT NULL"

static const char SQL_LIST[] =
    "SELECT " REPO_COLUMNS " FROM tuf_repo r ORDER BY r.system_version";

static const char SQL_GET[] =
    "SELECT " REPO_COLUMNS " FROM tuf_repo r WHERE r.system_version = $1";

static const char SQL_GET_ARTIFACTS[] =
    "SELECT a.id, a.sha256, a.length, a.name, a.version, a.kind, a.tags::TEXT"
    " FROM tuf_repo_artifact ra JOIN tuf_artifact a"
    " ON a.id = ra.tuf_artifact_id WHERE ra.tuf_repo_id = $1"
    " ORDER BY a.sha256";

/* Whether repo id (in a transaction) exclusively wants >= 1 artifact. */
static int wants_exclusive(bool *out, struct db *db, const char *id,
                           struct err *err)
{
    PGresult *res = NULL;
    int64_t n = 0;
    int rc = db_exec(&res, db, "wanted set change", SQL_EXCLUSIVE, 1, &id,
                     err);

    if (rc == 0)
        rc = db_col_i64(&n, res, 0, 0, err);
    *out = n > 0;
    PQclear(res);
    return rc;
}

/* Bump the generation (CAS) if changed, recording it in out. */
static int settle(struct repo_db_insert_result *out, struct db *db,
                  bool changed, struct err *err)
{
    uint64_t gen = 0;
    int rc = gen_db_get_locked(&gen, db, err);

    if (rc == 0 && changed)
        rc = gen_db_bump_locked(&gen, db, gen, err);
    if (rc == 0) {
        out->generation = gen;
        out->bumped = changed;
    }
    return rc;
}

static int check_new(const struct repo_db_new *n, struct err *err)
{
    size_t i;

    if (!n->system_version || !*n->system_version || !n->file_name)
        return err_set(err, ERR_INVAL, "repository needs a system version "
                       "and a file name");
    if (n->nartifacts > LIMIT_ARTIFACTS_PER_REPO)
        return err_set(err, ERR_LIMIT, "repository %s has %zu artifacts "
                       "(limit %d)", n->system_version, n->nartifacts,
                       LIMIT_ARTIFACTS_PER_REPO);
    if (n->targets_role_version > INT64_MAX)
        return err_set(err, ERR_INVAL, "targets version too large");
    for (i = 0; i < n->nartifacts; i++) {
        const struct repo_db_artifact *a = &n->artifacts[i];
        char hex[SHA256_HEX_LEN + 1];

        sha256_to_hex(hex, &a->sha256);
        if (a->length == 0 || a->length > INT64_MAX)
            return err_set(err, ERR_INVAL, "artifact %s: bad length %" PRIu64,
                           hex, a->length);
        if (!a->name || !*a->name || !a->version || !a->kind || !*a->kind)
            return err_set(err, ERR_INVAL, "artifact %s: name, version and "
                           "kind are required", hex);
        if (a->tags_json) {
            json_t *v = jsonu_loadb(a->tags_json, strlen(a->tags_json),
                                    LIMIT_JSON_BODY, err);
            bool obj = v && json_is_object(v);

            json_decref(v);
            if (!obj)
                return err_set(err, ERR_INVAL, "artifact %s: tags are not "
                               "a JSON object", hex);
        }
    }
    return 0;
}

struct insert_arg {
    const struct repo_db_new *n;
    struct repo_db_insert_result *out;
};

/* The piece parameters of a ($7..$9 of SQL_INSERT_ARTIFACT), NULL each
 * when a has no manifest; psize and phex are their text. */
static void pieces_params(const char *params[3], char psize[DB_INT_STR],
                          char phex[SHA256_HEX_LEN + 1],
                          const struct repo_db_artifact *a)
{
    params[0] = params[1] = params[2] = NULL;
    if (!a->pieces_manifest)
        return;
    db_i64_str(psize, (int64_t)a->piece_size);
    sha256_to_hex(phex, &a->pieces_sha256);
    params[0] = psize;
    params[1] = phex;
    params[2] = a->pieces_manifest;
}

/* Give the known row of a its piece manifest if it has none yet. */
static int fill_pieces(struct db *db, const struct repo_db_artifact *a,
                       struct err *err)
{
    char hex[SHA256_HEX_LEN + 1], psize[DB_INT_STR];
    char phex[SHA256_HEX_LEN + 1];
    const char *params[4];

    if (!a->pieces_manifest)
        return 0;
    sha256_to_hex(hex, &a->sha256);
    params[0] = hex;
    pieces_params(params + 1, psize, phex, a);
    return db_exec(NULL, db, "fill piece manifest", SQL_FILL_PIECES, 4,
                   params, err);
}

/* Insert artifact a unless known; write its id into id. */
static int put_artifact(char id[DB_UUID_STR], size_t *inserted,
                        struct db *db, const struct repo_db_artifact *a,
                        struct err *err)
{
    char hex[SHA256_HEX_LEN + 1], len[DB_INT_STR], psize[DB_INT_STR];
    char phex[SHA256_HEX_LEN + 1];
    const char *params[9];
    PGresult *res = NULL;
    int64_t have = 0;
    int rc;

    sha256_to_hex(hex, &a->sha256);
    db_i64_str(len, (int64_t)a->length);
    params[0] = hex;
    params[1] = len;
    params[2] = a->name;
    params[3] = a->version;
    params[4] = a->kind;
    params[5] = a->tags_json ? a->tags_json : "{}";
    pieces_params(params + 6, psize, phex, a);
    rc = db_exec(&res, db, "insert artifact", SQL_INSERT_ARTIFACT, 9, params,
                 err);
    if (rc < 0)
        goto out;
    if (PQntuples(res) == 1) {
        (*inserted)++;
        rc = db_col_uuid(id, res, 0, 0, err);
        goto out;
    }
    PQclear(res);
    rc = db_exec(&res, db, "read artifact", SQL_ARTIFACT_BY_SHA, 1, params,
                 err);
    if (rc < 0)
        goto out;
    if (PQntuples(res) != 1) {
        rc = err_set(err, ERR_INTERNAL, "artifact %s vanished", hex);
        goto out;
    }
    rc = db_col_i64(&have, res, 0, 1, err);
    if (rc < 0)
        goto out;
    if ((uint64_t)have != a->length) {
        rc = err_set(err, ERR_CONFLICT, "artifact sha256 %s is already "
                     "recorded with length %" PRId64 ", this upload says %"
                     PRIu64, hex, have, a->length);
        goto out;
    }
    rc = db_col_uuid(id, res, 0, 0, err);
    if (rc == 0)
        rc = fill_pieces(db, a, err);
out:
    PQclear(res);
    return rc;
}

static int insert_new(struct insert_arg *a, struct db *db, struct err *err)
{
    const struct repo_db_new *n = a->n;
    char hex[SHA256_HEX_LEN + 1], tver[DB_INT_STR], until[DB_TIME_STR];
    char art[DB_UUID_STR];
    const char *params[5];
    PGresult *res = NULL;
    bool changed = false;
    size_t i;
    int rc;

    sha256_to_hex(hex, &n->archive_sha256);
    params[0] = hex;
    rc = db_exec(&res, db, "find archive", SQL_BY_SHA, 1, params, err);
    if (rc < 0)
        goto out;
    if (PQntuples(res) > 0) {
        rc = err_set(err, ERR_CONFLICT, "archive sha256 %s is already "
                     "recorded as system version %s, not %s", hex,
                     PQgetvalue(res, 0, 0), n->system_version);
        goto out;
    }
    PQclear(res);
    res = NULL;
    rc = db_time_str(until, n->valid_until, err);
    if (rc < 0)
        goto out;
    db_i64_str(tver, (int64_t)n->targets_role_version);
    params[0] = n->system_version;
    params[1] = hex;
    params[2] = n->file_name;
    params[3] = tver;
    params[4] = until;
    rc = db_exec(&res, db, "insert repository", SQL_INSERT_REPO, 5, params,
                 err);
    if (rc < 0)
        goto out;
    rc = db_col_uuid(a->out->repo_id, res, 0, 0, err);
    if (rc < 0)
        goto out;
    for (i = 0; i < n->nartifacts; i++) {
        rc = put_artifact(art, &a->out->new_artifacts, db, &n->artifacts[i],
                          err);
        if (rc < 0)
            goto out;
        params[0] = a->out->repo_id;
        params[1] = art;
        rc = db_exec(NULL, db, "link artifact", SQL_LINK, 2, params, err);
        if (rc < 0)
            goto out;
    }
    rc = wants_exclusive(&changed, db, a->out->repo_id, err);
    if (rc == 0)
        rc = settle(a->out, db, changed, err);
out:
    PQclear(res);
    return rc;
}

/*
 * Prunes or unprunes repository id with sql ($1 = id, what names it in
 * errors); *changed says whether the wanted set changes (wants_exclusive,
 * evaluated first: before pruning, or while the repo is still pruned).
 */
static int set_pruned(bool *changed, struct db *db, const char *id,
                      const char *what, const char *sql, struct err *err)
{
    int rc = wants_exclusive(changed, db, id, err);

    if (rc == 0)
        rc = db_exec(NULL, db, what, sql, 1, &id, err);
    return rc;
}

/* The row of system version `version` from sql ($1); ERR_NOTFOUND if none. */
static int find_version(PGresult **res, struct db *db, const char *what,
                        const char *sql, const char *version,
                        struct err *err)
{
    int rc = db_exec(res, db, what, sql, 1, &version, err);

    if (rc == 0 && PQntuples(*res) == 0)
        rc = err_set(err, ERR_NOTFOUND, "no repository with system version "
                     "%s", version);
    return rc;
}

static int insert_txn(struct db *db, void *arg, struct err *err)
{
    struct insert_arg *a = arg;
    char hex[SHA256_HEX_LEN + 1];
    const char *param = a->n->system_version;
    PGresult *res = NULL;
    bool changed = false;
    int rc;

    memset(a->out, 0, sizeof(*a->out));
    rc = db_exec(&res, db, "find repository", SQL_BY_VERSION, 1, &param, err);
    if (rc < 0)
        goto out;
    if (PQntuples(res) == 0) {
        rc = insert_new(a, db, err);
        goto out;
    }
    sha256_to_hex(hex, &a->n->archive_sha256);
    if (strcmp(PQgetvalue(res, 0, 1), hex) != 0) {
        rc = err_set(err, ERR_CONFLICT, "system version %s already exists "
                     "with archive sha256 %s, this upload is %s",
                     a->n->system_version, PQgetvalue(res, 0, 1), hex);
        goto out;
    }
    rc = db_col_uuid(a->out->repo_id, res, 0, 0, err);
    if (rc < 0)
        goto out;
    a->out->existed = true;
    /* the recovery path: rows from before schema 4 get their manifests */
    for (size_t i = 0; i < a->n->nartifacts; i++) {
        rc = fill_pieces(db, &a->n->artifacts[i], err);
        if (rc < 0)
            goto out;
    }
    if (PQgetvalue(res, 0, 2)[0] == 't') {
        rc = set_pruned(&changed, db, a->out->repo_id, "unprune repository",
                        SQL_UNPRUNE, err);
        if (rc < 0)
            goto out;
        a->out->unpruned = true;
    }
    rc = settle(a->out, db, changed, err);
out:
    PQclear(res);
    return rc;
}

int repo_db_insert(struct repo_db_insert_result *out, struct db *db,
                   const struct repo_db_new *repo, struct err *err)
{
    struct insert_arg a = {repo, out};
    int rc;

    memset(out, 0, sizeof(*out));
    rc = check_new(repo, err);
    if (rc == 0)
        rc = db_txn(db, false, insert_txn, &a, err);
    if (rc < 0)
        memset(out, 0, sizeof(*out));
    return rc;
}

struct prune_arg {
    const char *version;
    struct repo_db_insert_result *out;
};

int repo_db_prune_locked(struct repo_db_insert_result *out, struct db *db,
                         const char *system_version, struct err *err)
{
    PGresult *res = NULL;
    bool changed = false;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = find_version(&res, db, "find repository", SQL_BY_VERSION,
                      system_version, err);
    if (rc == 0)
        rc = db_col_uuid(out->repo_id, res, 0, 0, err);
    if (rc < 0)
        goto out;
    out->existed = PQgetvalue(res, 0, 2)[0] == 't'; /* already pruned */
    if (!out->existed) {
        rc = set_pruned(&changed, db, out->repo_id, "prune repository",
                        SQL_SET_PRUNED, err);
        if (rc < 0)
            goto out;
    }
    rc = settle(out, db, changed, err);
out:
    PQclear(res);
    return rc;
}

static int prune_txn(struct db *db, void *arg, struct err *err)
{
    struct prune_arg *a = arg;

    return repo_db_prune_locked(a->out, db, a->version, err);
}

int repo_db_prune(struct repo_db_insert_result *out, struct db *db,
                  const char *system_version, struct err *err)
{
    struct repo_db_insert_result local;
    struct prune_arg a = {system_version, out ? out : &local};

    return db_txn(db, false, prune_txn, &a, err);
}

int repo_db_mark_failed(struct db *db, const char *system_version,
                        const char *reason, struct err *err)
{
    const char *params[2] = {system_version, reason};
    PGresult *res = NULL;
    int rc = 0;

    if (!reason || !*reason) {
        rc = err_set(err, ERR_INVAL, "a failure reason is required");
        goto out;
    }
    rc = db_exec(&res, db, "mark repository failed", SQL_MARK_FAILED, 2,
                 params, err);
    if (rc == 0 && strcmp(PQcmdTuples(res), "0") == 0)
        rc = err_set(err, ERR_NOTFOUND, "no repository with system version "
                     "%s", system_version);
out:
    PQclear(res);
    return rc;
}

void repo_db_repo_release(struct repo_db_repo *r)
{
    size_t i;

    if (!r)
        return;
    mem_free(r->system_version);
    mem_free(r->file_name);
    mem_free(r->failed_reason);
    for (i = 0; i < r->nartifacts; i++) {
        mem_free((char *)r->artifacts[i].name);
        mem_free((char *)r->artifacts[i].version);
        mem_free((char *)r->artifacts[i].kind);
        mem_free((char *)r->artifacts[i].tags_json);
    }
    mem_free(r->artifacts);
    memset(r, 0, sizeof(*r));
}

void repo_db_list_release(struct repo_db_list *l)
{
    size_t i;

    if (!l)
        return;
    for (i = 0; i < l->count; i++)
        repo_db_repo_release(&l->repos[i]);
    mem_free(l->repos);
    l->repos = NULL;
    l->count = 0;
}

/* Decode one row of REPO_COLUMNS into a struct repo_db_repo (zeroed by
 * the caller); a db_row_fn. */
static int decode_repo(void *elem, const PGresult *res, int row,
                       struct err *err)
{
    struct repo_db_repo *r = elem;
    int64_t n = 0;
    int rc = db_col_uuid(r->id, res, row, 0, err);

    if (rc == 0)
        rc = db_col_strdup(&r->system_version, res, row, 1, err);
    if (rc == 0)
        rc = db_col_sha256(&r->archive_sha256, res, row, 2, err);
    if (rc == 0)
        rc = db_col_strdup(&r->file_name, res, row, 3, err);
    if (rc == 0)
        rc = db_col_u64(&r->targets_role_version, res, row, 4, err);
    if (rc == 0)
        rc = db_col_i64(&r->valid_until, res, row, 5, err);
    if (rc == 0)
        rc = db_col_i64(&r->time_created, res, row, 6, err);
    if (rc == 0) {
        r->pruned = PQgetvalue(res, row, 7)[0] == 't';
        r->failed = !PQgetisnull(res, row, 8);
        rc = db_col_strdup(&r->failed_reason, res, row, 8, err);
    }
    if (rc == 0)
        rc = db_col_i64(&n, res, row, 9, err);
    r->artifact_count = (size_t)n;
    r->pinned = PQgetvalue(res, row, 10)[0] == 't';
    return rc;
}

struct list_arg {
    struct repo_db_list *out;
};

static int list_txn(struct db *db, void *arg, struct err *err)
{
    struct repo_db_list *out = ((struct list_arg *)arg)->out;
    PGresult *res = NULL;
    void *rows = NULL;
    int rc;

    repo_db_list_release(out);
    rc = db_exec(&res, db, "list repositories", SQL_LIST, 0, NULL, err);
    if (rc == 0) {
        rc = db_rows_decode(&rows, &out->count, res, sizeof(*out->repos),
                            decode_repo, err);
        out->repos = rows;
    }
    PQclear(res);
    return rc;
}

int repo_db_list(struct repo_db_list *out, struct db *db, struct err *err)
{
    struct list_arg a = {out};
    int rc;

    out->count = 0;
    out->repos = NULL;
    rc = db_txn(db, true, list_txn, &a, err);
    if (rc < 0)
        repo_db_list_release(out);
    return rc;
}

/* db_col_strdup into a const member (owned by the repo_db_repo). */
static int col_const(const char **out, const PGresult *res, int row, int col,
                     struct err *err)
{
    char *s = NULL;
    int rc = db_col_strdup(&s, res, row, col, err);

    *out = s;
    return rc;
}

/* A db_row_fn: one row of SQL_GET_ARTIFACTS into a repo_db_artifact. */
static int decode_artifact(void *elem, const PGresult *res, int row,
                           struct err *err)
{
    struct repo_db_artifact *a = elem;
    int64_t len = 0;
    int rc = db_col_uuid(a->id, res, row, 0, err);

    if (rc == 0)
        rc = db_col_sha256(&a->sha256, res, row, 1, err);
    if (rc == 0)
        rc = db_col_i64(&len, res, row, 2, err);
    a->length = (uint64_t)len;
    if (rc == 0)
        rc = col_const(&a->name, res, row, 3, err);
    if (rc == 0)
        rc = col_const(&a->version, res, row, 4, err);
    if (rc == 0)
        rc = col_const(&a->kind, res, row, 5, err);
    if (rc == 0)
        rc = col_const(&a->tags_json, res, row, 6, err);
    return rc;
}

struct get_arg {
    const char *version;
    struct repo_db_repo *out;
};

static int get_txn(struct db *db, void *arg, struct err *err)
{
    struct get_arg *a = arg;
    struct repo_db_repo *r = a->out;
    const char *param;
    PGresult *res = NULL;
    void *rows = NULL;
    int rc;

    repo_db_repo_release(r);
    rc = find_version(&res, db, "get repository", SQL_GET, a->version, err);
    if (rc == 0)
        rc = decode_repo(r, res, 0, err);
    if (rc < 0)
        goto out;
    PQclear(res);
    param = r->id;
    rc = db_exec(&res, db, "get repository artifacts", SQL_GET_ARTIFACTS, 1,
                 &param, err);
    if (rc == 0) {
        rc = db_rows_decode(&rows, &r->nartifacts, res,
                            sizeof(*r->artifacts), decode_artifact, err);
        r->artifacts = rows;
    }
out:
    PQclear(res);
    return rc;
}

int repo_db_get(struct repo_db_repo *out, struct db *db,
                const char *system_version, struct err *err)
{
    struct get_arg a = {system_version, out};
    int rc;

    memset(out, 0, sizeof(*out));
    rc = db_txn(db, true, get_txn, &a, err);
    if (rc < 0)
        repo_db_repo_release(out);
    return rc;
}
