/* SPDX-License-Identifier: MPL-2.0 */
/*
 * prune_db: the automatic pruner's switch, pins and pass (see prune_db.h
 * for the rules and the concurrency argument). Worker thread; see db.h.
 */
#include "replicator/db/prune_db.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "common/mem.h"
#include "replicator/db/db_internal.h"
#include "replicator/db/gen_db.h"
#include "replicator/db/push_db.h"
#include "replicator/db/repo_db.h"

static const char SQL_POLICY[] =
    "SELECT enabled, coalesce(reason, ''), last_prune_generation"
    " FROM tuf_prune_policy WHERE singleton";

/* Unpruned repositories, newest upload first. */
static const char SQL_REPOS[] =
    "SELECT system_version, time_pinned IS NOT NULL FROM tuf_repo"
    " WHERE time_pruned IS NULL"
    " ORDER BY time_uploaded DESC, time_created DESC, system_version DESC";

/* Compare-and-swap: only the pass that saw $2 records its prune. */
static const char SQL_RECORD_PRUNE[] =
    "UPDATE tuf_prune_policy SET last_prune_generation = $1"
    " WHERE singleton AND last_prune_generation = $2";

static const char SQL_PIN[] =
    "UPDATE tuf_repo SET time_pinned = coalesce(time_pinned, now())"
    " WHERE system_version = $1";

static const char SQL_UNPIN[] =
    "UPDATE tuf_repo SET time_pinned = NULL WHERE system_version = $1";

static const char SQL_SET_POLICY[] =
    "UPDATE tuf_prune_policy SET enabled = $1::BOOL, reason = $2,"
    " time_modified = now() WHERE singleton";

static void free_strv(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        mem_free(v[i]);
    mem_free(v);
}

void prune_db_report_release(struct prune_db_report *r)
{
    if (!r)
        return;
    free_strv(r->keep, r->n_keep);
    free_strv(r->eligible, r->n_eligible);
    free_strv(r->warnings, r->n_warnings);
    mem_free(r->next_prune);
    mem_free(r->pruned);
    memset(r, 0, sizeof(*r));
}

/* Append a copy of s to v (cap rows allocated by the caller). */
static int push_str(char **v, size_t *n, const char *s, struct err *err)
{
    if (!(v[*n] = mem_strdup(s)))
        return err_set(err, ERR_NOMEM, "out of memory");
    (*n)++;
    return 0;
}

static int add_warning(struct prune_db_report *r, struct err *err, const char *fmt,
                ...) __attribute__((format(printf, 3, 4)));

static int add_warning(struct prune_db_report *r, struct err *err, const char *fmt,
                ...)
{
    char line[512];
    char **v;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    v = mem_realloc(r->warnings, (r->n_warnings + 1) * sizeof(*v));
    if (!v)
        return err_set(err, ERR_NOMEM, "out of memory");
    r->warnings = v;
    return push_str(r->warnings, &r->n_warnings, line, err);
}

struct pass_arg {
    struct prune_db_report *out;
    uint32_t keep;
    bool apply;
};

static int read_policy(struct prune_db_report *r, uint64_t *last_prune,
                       struct db *db, struct err *err)
{
    PGresult *res = NULL;
    int rc = db_exec(&res, db, "read prune policy", SQL_POLICY, 0, NULL, err);

    if (rc == 0 && PQntuples(res) != 1)
        rc = err_set(err, ERR_INTERNAL, "tuf_prune_policy has no row");
    if (rc == 0) {
        r->enabled = PQgetvalue(res, 0, 0)[0] == 't';
        snprintf(r->reason, sizeof(r->reason), "%s", PQgetvalue(res, 0, 1));
        rc = db_col_u64(last_prune, res, 0, 2, err);
    }
    PQclear(res);
    return rc;
}

/* Split the unpruned repositories into keep and eligible (oldest first);
 * *pinned_beyond counts pinned ones past the newest K. */
static int classify(struct prune_db_report *r, size_t *pinned_beyond,
                    struct db *db, struct err *err)
{
    PGresult *res = NULL;
    int rc = db_exec(&res, db, "list repositories", SQL_REPOS, 0, NULL, err);
    int n;

    *pinned_beyond = 0;
    if (rc < 0)
        goto out;
    n = PQntuples(res);
    r->keep = mem_calloc((size_t)n + 1, sizeof(*r->keep));
    r->eligible = mem_calloc((size_t)n + 1, sizeof(*r->eligible));
    if (!r->keep || !r->eligible) {
        rc = err_set(err, ERR_NOMEM, "out of memory");
        goto out;
    }
    for (int i = 0; rc == 0 && i < n; i++) {
        const char *v = PQgetvalue(res, i, 0);
        bool pinned = PQgetvalue(res, i, 1)[0] == 't';

        if ((size_t)i < r->keep_newest || pinned) {
            rc = push_str(r->keep, &r->n_keep, v, err);
            if ((size_t)i >= r->keep_newest)
                (*pinned_beyond)++;
        }
    }
    /* eligible oldest first: walk the newest-first rows backwards */
    for (int i = n - 1; rc == 0 && i >= (int)r->keep_newest; i--)
        if (PQgetvalue(res, i, 1)[0] != 't')
            rc = push_str(r->eligible, &r->n_eligible, PQgetvalue(res, i, 0),
                          err);
out:
    PQclear(res);
    return rc;
}

static int pass_txn(struct db *db, void *p, struct err *err)
{
    struct pass_arg *a = p;
    struct prune_db_report *r = a->out;
    struct push_db_state push;
    struct repo_db_insert_result pr;
    PGresult *res = NULL;
    uint64_t last_prune = 0;
    size_t pinned_beyond = 0;
    bool blocked = false;
    char last[24];
    char now_gen[24];
    const char *params[2];
    int rc;

    prune_db_report_release(r);
    r->keep_newest = a->keep;
    rc = read_policy(r, &last_prune, db, err);
    if (rc == 0)
        rc = classify(r, &pinned_beyond, db, err);
    if (rc == 0)
        rc = push_db_get(&push, db, err);
    if (rc == 0)
        rc = gen_db_get_locked(&r->generation, db, err);
    if (rc < 0)
        return rc;
    if (r->n_eligible == 0 && pinned_beyond > 0)
        rc = add_warning(r, err, "every repository beyond the newest %" PRIu32
                  " is pinned (%zu): nothing can be pruned automatically;"
                  " unpin one with `replicator repo unpin VERSION`",
                  r->keep_newest, pinned_beyond);
    if (rc == 0 && push.held) {
        blocked = true;
        rc = add_warning(r, err, "generation %" PRIu64 " is held by the "
                  "mass-deletion guard (%s): nothing is pruned until "
                  "`replicator generation confirm %" PRIu64 "`",
                  push.held_generation, push.held_reason,
                  push.held_generation);
    }
    if (rc == 0 && !blocked && last_prune > push.pushed_generation) {
        blocked = true;
        rc = add_warning(r, err, "the last automatic prune (generation %" PRIu64
                  ") is not pushed to the fleet yet (pushed: %" PRIu64
                  "): the next prune waits for it",
                  last_prune, push.pushed_generation);
    }
    if (rc < 0 || !r->enabled || blocked || r->n_eligible == 0)
        return rc;
    if (!(r->next_prune = mem_strdup(r->eligible[0])))
        return err_set(err, ERR_NOMEM, "out of memory");
    if (!a->apply)
        return 0;
    rc = repo_db_prune_locked(&pr, db, r->next_prune, err);
    if (rc < 0)
        return rc;
    r->generation = pr.generation;
    r->bumped = pr.bumped;
    r->pruned = r->next_prune;
    r->next_prune = NULL;
    if (pr.bumped) {
        snprintf(now_gen, sizeof(now_gen), "%" PRIu64, pr.generation);
        snprintf(last, sizeof(last), "%" PRIu64, last_prune);
        params[0] = now_gen;
        params[1] = last;
        rc = db_exec(&res, db, "record automatic prune", SQL_RECORD_PRUNE, 2,
                     params, err);
        /* SERIALIZABLE makes a lost race a 40001 first; kept as a CAS so
         * it stays one under a weaker isolation too */
        if (rc == 0 && strcmp(PQcmdTuples(res), "1") != 0)
            rc = err_set(err, ERR_CONFLICT, "another replicator pruned "
                         "since generation %" PRIu64, last_prune);
        PQclear(res);
    }
    return rc;
}

int prune_db_pass(struct prune_db_report *out, struct db *db, uint32_t keep,
                  bool apply, struct err *err)
{
    struct pass_arg a = {out, keep, apply};
    int rc;

    memset(out, 0, sizeof(*out));
    if (keep < 1 || keep > PRUNE_KEEP_MAX)
        return err_set(err, ERR_INVAL, "keep %" PRIu32 " is out of range "
                       "(1..%d)", keep, PRUNE_KEEP_MAX);
    rc = db_txn(db, !apply, pass_txn, &a, err);
    if (rc < 0)
        prune_db_report_release(out);
    return rc;
}

int prune_db_pin(struct db *db, const char *system_version, bool pin,
                 struct err *err)
{
    PGresult *res = NULL;
    int rc = db_exec(&res, db, pin ? "pin repository" : "unpin repository",
                     pin ? SQL_PIN : SQL_UNPIN, 1, &system_version, err);

    if (rc == 0 && strcmp(PQcmdTuples(res), "0") == 0)
        rc = err_set(err, ERR_NOTFOUND, "no repository with system version "
                     "%s", system_version);
    PQclear(res);
    return rc;
}

int prune_db_policy_set(struct db *db, bool enabled, const char *reason,
                        struct err *err)
{
    const char *params[2] = {enabled ? "true" : "false", NULL};

    if (reason && *reason) {
        if (strlen(reason) >= PRUNE_DB_REASON_MAX)
            return err_set(err, ERR_INVAL, "reason is longer than %d bytes",
                           PRUNE_DB_REASON_MAX - 1);
        for (const char *c = reason; *c; c++)
            if ((unsigned char)*c < 0x20 || *c == 0x7f)
                return err_set(err, ERR_INVAL, "reason holds a control "
                               "character");
        params[1] = reason;
    }
    return db_exec(NULL, db, "set prune policy", SQL_SET_POLICY, 2, params,
                   err);
}

static json_t *strv_json(char **v, size_t n)
{
    json_t *a = json_array();

    for (size_t i = 0; a && i < n; i++)
        if (json_array_append_new(a, json_string(v[i])) < 0) {
            json_decref(a);
            return NULL;
        }
    return a;
}

json_t *prune_db_report_json(const struct prune_db_report *r)
{
    json_t *o = json_pack("{s:s, s:I, s:o*, s:o*, s:o*}", "status",
                          r->enabled ? "enabled" : "disabled", "keep_newest",
                          (json_int_t)r->keep_newest, "keep",
                          strv_json(r->keep, r->n_keep), "eligible",
                          strv_json(r->eligible, r->n_eligible), "warnings",
                          strv_json(r->warnings, r->n_warnings));

    if (!o || !json_object_get(o, "keep") || !json_object_get(o, "eligible") ||
        !json_object_get(o, "warnings"))
        goto fail;
    if (r->reason[0] &&
        json_object_set_new(o, "reason", json_string(r->reason)) < 0)
        goto fail;
    if (r->next_prune &&
        json_object_set_new(o, "next_prune", json_string(r->next_prune)) < 0)
        goto fail;
    if (r->pruned &&
        json_object_set_new(o, "pruned", json_string(r->pruned)) < 0)
        goto fail;
    return o;
fail:
    json_decref(o);
    return NULL;
}
