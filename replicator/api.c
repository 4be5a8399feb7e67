/* SPDX-License-Identifier: MPL-2.0 */
/*
 * api: routing and the small endpoints of the replicator API (see api.h):
 *   GET    /v1/system/update/repositories
 *   POST   /v1/system/update/repositories/{version}/prune
 *   GET    /v1/system/update/trust-roots
 *   POST   /v1/system/update/trust-roots          (body: root.json)
 *   DELETE /v1/system/update/trust-roots/{id}
 * Each runs as a job: parsed on the loop, one database connection and
 * transaction on a worker, the reply from the completion on the loop.
 */
#include "replicator/api.h"
#include "replicator/api_internal.h"

#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "common/err.h"
#include "common/jsonutil.h"
#include "common/limits.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/workq.h"
#include "replicator/apisrv.h"
#include "replicator/config.h"
#include "replicator/db/db.h"
#include "replicator/db/repo_db.h"
#include "replicator/db/trust_db.h"
#include "replicator/ingest.h"

#define PREFIX_REPOS "/v1/system/update/repositories"
#define PREFIX_TRUST "/v1/system/update/trust-roots"

struct job;
typedef int (*job_fn)(json_t **out, struct job *j, struct db *db,
                      struct err *err);

struct job {
    struct api *api;
    struct apisrv_req *req;
    job_fn fn;
    char *arg;      /* version, id or body */
    size_t arglen;
    int status;     /* success status */
    json_t *result;
    int rc;
    struct err err;
};

static void job_work(void *p)
{
    struct job *j = p;
    struct db *db = NULL;

    j->rc = db_open(&db, j->api->cfg->db, &j->err);
    if (j->rc == 0)
        j->rc = j->fn(&j->result, j, db, &j->err);
    db_close(db);
}

static void job_done(void *p)
{
    struct job *j = p;

    if (j->rc < 0)
        apisrv_reply_err(j->req, j->rc, &j->err);
    else
        apisrv_reply_json(j->req, j->status, j->result);
    json_decref(j->result);
    mem_free(j->arg);
    mem_free(j);
}

static void job_start(struct api *a, struct apisrv_req *req, job_fn fn,
                      const char *arg, size_t arglen, int status)
{
    struct job *j = mem_calloc(1, sizeof(*j));

    if (!j || (arg && !(j->arg = mem_strndup(arg, arglen)))) {
        mem_free(j);
        apisrv_reply_error(req, 500, NULL, "out of memory");
        return;
    }
    j->api = a;
    j->req = req;
    j->fn = fn;
    j->arglen = arglen;
    j->status = status;
    if (workq_submit(a->wq, job_work, job_done, j) < 0) {
        mem_free(j->arg);
        mem_free(j);
        apisrv_reply_error(req, 500, NULL, "out of memory");
    }
}

static json_t *repo_json(const struct repo_db_repo *r)
{
    char hex[SHA256_HEX_LEN + 1];

    sha256_to_hex(hex, &r->archive_sha256);
    return json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:b, s:b, s:I}", "id",
                     r->id, "system_version", r->system_version, "sha256", hex,
                     "file_name", r->file_name ? r->file_name : "",
                     "valid_until", (json_int_t)r->valid_until, "time_created",
                     (json_int_t)r->time_created, "pruned", r->pruned,
                     "failed", r->failed, "artifact_count",
                     (json_int_t)r->artifact_count);
}

static int do_list(json_t **out, struct job *j, struct db *db, struct err *err)
{
    struct repo_db_list l = REPO_DB_LIST_INIT;
    json_t *arr = json_array();
    int rc = repo_db_list(&l, db, err);

    (void)j;
    if (rc < 0)
        goto out;
    for (size_t i = 0; arr && i < l.count; i++)
        if (json_array_append_new(arr, repo_json(&l.repos[i])) < 0)
            break;
    *out = json_pack("{s:O}", "repositories", arr);
    if (!*out)
        rc = err_set(err, ERR_NOMEM, "out of memory");
out:
    json_decref(arr);
    repo_db_list_release(&l);
    return rc;
}

static int do_prune(json_t **out, struct job *j, struct db *db, struct err *err)
{
    struct repo_db_insert_result r;
    int rc;

    memset(&r, 0, sizeof(r));
    rc = repo_db_prune(&r, db, j->arg, err);
    if (rc < 0)
        return rc;
    log_info("repo_pruned", "{s:s, s:I, s:b}", "system_version", j->arg,
             "generation", (json_int_t)r.generation, "bumped", r.bumped);
    *out = json_pack("{s:s, s:s, s:b, s:I, s:b}", "system_version", j->arg,
                     "repo_id", r.repo_id, "pruned", 1, "generation",
                     (json_int_t)r.generation, "generation_bumped", r.bumped);
    return *out ? 0 : err_set(err, ERR_NOMEM, "out of memory");
}

static int do_trust_list(json_t **out, struct job *j, struct db *db,
                         struct err *err)
{
    struct trust_db_list l = TRUST_DB_LIST_INIT;
    json_t *arr = json_array();
    int rc = trust_db_list(&l, db, err);

    (void)j;
    if (rc < 0)
        goto out;
    for (size_t i = 0; arr && i < l.count; i++) {
        json_t *doc = json_loads(l.roots[i].root_json, 0, NULL);

        json_array_append_new(
            arr, json_pack("{s:s, s:I, s:o*}", "id", l.roots[i].id,
                           "time_created", (json_int_t)l.roots[i].time_created,
                           "root_role", doc));
    }
    *out = json_pack("{s:O}", "trust_roots", arr);
    if (!*out)
        rc = err_set(err, ERR_NOMEM, "out of memory");
out:
    json_decref(arr);
    trust_db_list_release(&l);
    return rc;
}

static int do_trust_add(json_t **out, struct job *j, struct db *db,
                        struct err *err)
{
    char id[DB_UUID_STR];
    int rc = ingest_check_root(j->arg, j->arglen, err);

    if (rc < 0) {
        if (err)
            err->code = ERR_INVAL;
        return ERR_INVAL;
    }
    rc = trust_db_add(id, db, j->arg, err);
    if (rc < 0)
        return rc;
    log_info("trust_root_added", "{s:s}", "id", id);
    *out = json_pack("{s:s}", "id", id);
    return *out ? 0 : err_set(err, ERR_NOMEM, "out of memory");
}

static int do_trust_remove(json_t **out, struct job *j, struct db *db,
                           struct err *err)
{
    int rc = trust_db_remove(db, j->arg, err);

    if (rc < 0)
        return rc;
    log_info("trust_root_removed", "{s:s}", "id", j->arg);
    *out = json_pack("{s:s, s:b}", "id", j->arg, "removed", 1);
    return *out ? 0 : err_set(err, ERR_NOMEM, "out of memory");
}

static void trust_body(struct apisrv_req *req, const char *body, size_t len,
                       void *arg)
{
    job_start(arg, req, do_trust_add, body, len, 201);
}

/* "{rest}" has exactly one non-empty segment followed by suffix. */
static bool one_segment(char *seg, size_t cap, const char *rest,
                        const char *suffix)
{
    size_t sl = strlen(suffix), n = strlen(rest);

    if (rest[0] != '/' || n <= 1 + sl || strcmp(rest + n - sl, suffix) != 0)
        return false;
    n = n - 1 - sl;
    if (n >= cap || memchr(rest + 1, '/', n))
        return false;
    memcpy(seg, rest + 1, n);
    seg[n] = '\0';
    return true;
}

static void handle(struct apisrv_req *req, void *arg)
{
    struct api *a = arg;
    const char *m = apisrv_req_method(req);
    const char *path = apisrv_req_path(req);
    char seg[256];

    if (a->stopping) {
        apisrv_reply_error(req, 503, NULL, "the replicator is shutting down");
        return;
    }
    if (!strcmp(path, PREFIX_REPOS)) {
        if (!strcmp(m, "PUT"))
            api_repo_upload(a, req);
        else if (!strcmp(m, "GET"))
            job_start(a, req, do_list, NULL, 0, 200);
        else
            apisrv_reply_error(req, 405, NULL, "method not allowed");
        return;
    }
    if (!strncmp(path, PREFIX_REPOS "/", strlen(PREFIX_REPOS) + 1) &&
        one_segment(seg, sizeof(seg), path + strlen(PREFIX_REPOS), "/prune")) {
        if (!strcmp(m, "POST"))
            job_start(a, req, do_prune, seg, strlen(seg), 200);
        else
            apisrv_reply_error(req, 405, NULL, "method not allowed");
        return;
    }
    if (!strcmp(path, PREFIX_TRUST)) {
        if (!strcmp(m, "GET"))
            job_start(a, req, do_trust_list, NULL, 0, 200);
        else if (!strcmp(m, "POST"))
            apisrv_req_read_body(req, LIMIT_TUF_METADATA, trust_body, a);
        else
            apisrv_reply_error(req, 405, NULL, "method not allowed");
        return;
    }
    if (!strncmp(path, PREFIX_TRUST "/", strlen(PREFIX_TRUST) + 1) &&
        one_segment(seg, sizeof(seg), path + strlen(PREFIX_TRUST), "")) {
        if (!strcmp(m, "DELETE")) {
            if (!db_uuid_valid(seg))
                apisrv_reply_error(req, 400, NULL,
                                   "trust root id is not a UUID");
            else
                job_start(a, req, do_trust_remove, seg, strlen(seg), 200);
        } else {
            apisrv_reply_error(req, 405, NULL, "method not allowed");
        }
        return;
    }
    apisrv_reply_error(req, 404, NULL, "no such endpoint");
}

int api_new(struct api **out, struct event_base *base, const struct config *cfg,
            struct staging *st, struct err *err)
{
    struct api *a = mem_calloc(1, sizeof(*a));
    int rc;

    *out = NULL;
    if (!a)
        return err_set(err, ERR_NOMEM, "out of memory");
    a->base = base;
    a->cfg = cfg;
    a->staging = st;
    rc = workq_new(&a->wq, base, cfg->workers);
    if (rc < 0) {
        err_set(err, rc, "cannot start worker threads");
        goto out;
    }
    rc = apisrv_new(&a->srv, base, cfg->listen_host, cfg->listen_port, handle,
                    a, err);
    if (rc < 0)
        goto out;
    *out = a;
    a = NULL;
out:
    api_free(a);
    return rc;
}

uint16_t api_port(const struct api *a)
{
    return apisrv_port(a->srv);
}

void api_shutdown(struct api *a)
{
    a->stopping = true;
    apisrv_stop_listening(a->srv);
}

bool api_idle(const struct api *a)
{
    return workq_pending(a->wq) == 0;
}

void api_free(struct api *a)
{
    if (!a)
        return;
    a->stopping = true;
    workq_free(a->wq); /* completions reply to their requests */
    a->wq = NULL;
    api_repo_free_all(a);
    apisrv_free(a->srv);
    mem_free(a);
}
