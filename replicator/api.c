/* SPDX-License-Identifier: MPL-2.0 */
/*
 * api: the replicator API on common/httpd (see api.h): its lifecycle, the
 * job runner every small endpoint uses, and these endpoints:
 *   GET    /v1/system/update/repositories
 *   POST   /v1/system/update/repositories/{version}/prune
 *   GET    /v1/system/update/staged       (read-only view of staging)
 *   GET    /metrics
 * The whole API (uploads, trust roots, task, sleds too) is the route
 * table in api_routes.c. A job is parsed on the loop, runs on a worker of
 * the API's runner (jobs.h) with that worker's database connection, and
 * replies from its completion on the loop.
 * Loop thread, except the job functions (worker).
 */
#include "replicator/api.h"
#include "replicator/api_internal.h"

#include <string.h>

#include <jansson.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/httpd.h"
#include "common/httpd_route.h"
#include "common/httpd_tls.h"
#include "common/limits.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/prom.h"
#include "common/sha256.h"
#include "common/tuf_artifacts.h"
#include "common/workq.h"
#include "replicator/api_routes.h"
#include "replicator/api_task.h"
#include "replicator/api_tls.h"
#include "replicator/config.h"
#include "replicator/db/db.h"
#include "replicator/db/repo_db.h"
#include "replicator/ingest.h"
#include "replicator/jobs.h"
#include "replicator/staging.h"

struct job {
    struct api *api;
    struct httpd_req *req;
    api_job_fn fn;
    char *arg;
    size_t arglen;
    int status;
    json_t *result;
};

static int job_work(struct db *db, void *p, struct err *err) /* worker */
{
    struct job *j = p;

    return j->fn(&j->result, j->api, db, j->arg, j->arglen, err);
}

static void job_done(int rc, const struct err *err, void *p)
{
    struct job *j = p;

    if (rc < 0)
        httpd_reply_err(j->req, err);
    else
        httpd_reply_json(j->req, j->status, j->result);
    httpd_req_unref(j->req);
    json_decref(j->result);
    mem_free(j->arg);
    mem_free(j);
}

void api_job_start(struct api *a, struct httpd_req *r, api_job_fn fn,
                   bool needs_db, const char *arg, size_t arglen, int status)
{
    struct job *j = mem_calloc(1, sizeof(*j));

    if (!j || (arg && !(j->arg = mem_strndup(arg, arglen)))) {
        mem_free(j);
        httpd_reply_error(r, 500, NULL, "out of memory");
        return;
    }
    j->api = a;
    j->req = r;
    j->fn = fn;
    j->arglen = arglen;
    j->status = status;
    httpd_req_ref(r);
    if (jobs_submit(a->jobs, needs_db ? JOBS_DB_NEEDED : JOBS_DB_NONE,
                    job_work, job_done, j) < 0) {
        httpd_req_unref(r);
        mem_free(j->arg);
        mem_free(j);
        httpd_reply_error(r, 500, NULL, "out of memory");
    }
}

static json_t *repo_json(const struct repo_db_repo *r)
{
    char hex[SHA256_HEX_LEN + 1];

    sha256_to_hex(hex, &r->archive_sha256);
    return json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:b, s:b, s:b, s:I}",
                     "id", r->id, "system_version", r->system_version,
                     "sha256", hex, "file_name",
                     r->file_name ? r->file_name : "", "valid_until",
                     (json_int_t)r->valid_until, "time_created",
                     (json_int_t)r->time_created, "pruned", r->pruned,
                     "pinned", r->pinned, "failed", r->failed,
                     "artifact_count", (json_int_t)r->artifact_count);
}

static int do_list(json_t **out, struct api *a, struct db *db,
                   const char *arg, size_t arglen, struct err *err)
{
    struct repo_db_list l = REPO_DB_LIST_INIT;
    json_t *arr = json_array();
    int rc = repo_db_list(&l, db, err);

    (void)a;
    (void)arg;
    (void)arglen;
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

/* GET .../repositories/{system_version}: the reference's TufRepo view
 * (issue 12) and ours: id, sha256, valid_until, pruned, failed,
 * failed_reason?, artifact_count and the artifacts. */
static int do_get(json_t **out, struct api *a, struct db *db,
                  const char *arg, size_t arglen, struct err *err)
{
    struct repo_db_repo g;
    char hex[SHA256_HEX_LEN + 1];
    json_t *arts = NULL, *o = NULL;
    int rc;

    (void)a;
    (void)arglen;
    memset(&g, 0, sizeof(g));
    rc = repo_db_get(&g, db, arg, err);
    if (rc < 0)
        goto out;
    arts = json_array();
    o = ingest_repo_view(&g.archive_sha256, g.system_version, g.file_name,
                         g.time_created);
    sha256_to_hex(hex, &g.archive_sha256);
    for (size_t i = 0; arts && i < g.nartifacts; i++) {
        const struct repo_db_artifact *t = &g.artifacts[i];
        char ahex[SHA256_HEX_LEN + 1];

        sha256_to_hex(ahex, &t->sha256);
        if (json_array_append_new(
                arts, json_pack("{s:s, s:s, s:s, s:s, s:I}", "name",
                                t->name ? t->name : "", "version",
                                t->version ? t->version : "", "kind",
                                t->kind ? t->kind : "", "sha256", ahex,
                                "length", (json_int_t)t->length)) < 0) {
            json_decref(arts);
            arts = NULL;
        }
    }
    if (!o || !arts ||
        json_object_update_missing_new(
            o, json_pack("{s:s, s:s, s:I, s:b, s:b, s:I, s:O}", "id", g.id,
                         "sha256", hex, "valid_until",
                         (json_int_t)g.valid_until, "pruned", g.pruned,
                         "failed", g.failed, "artifact_count",
                         (json_int_t)g.artifact_count, "artifacts",
                         arts)) < 0 ||
        (g.failed_reason &&
         json_object_set_new(o, "failed_reason",
                             json_string(g.failed_reason)) < 0)) {
        rc = err_set(err, ERR_NOMEM, "out of memory");
        goto out;
    }
    *out = o;
    o = NULL;
out:
    json_decref(o);
    json_decref(arts);
    repo_db_repo_release(&g);
    return rc;
}

static int do_prune(json_t **out, struct api *a, struct db *db,
                    const char *arg, size_t arglen, struct err *err)
{
    struct repo_db_insert_result r;
    int rc;

    (void)a;
    (void)arglen;
    memset(&r, 0, sizeof(r));
    rc = repo_db_prune(&r, db, arg, err);
    if (rc < 0)
        return rc;
    log_info("repo_pruned", "{s:s, s:I, s:b}", "system_version", arg,
             "generation", (json_int_t)r.generation, "bumped", r.bumped);
    *out = json_pack("{s:s, s:s, s:b, s:I, s:b}", "system_version", arg,
                     "repo_id", r.repo_id, "pruned", 1, "generation",
                     (json_int_t)r.generation, "generation_bumped", r.bumped);
    return *out ? 0 : err_set(err, ERR_NOMEM, "out of memory");
}

static json_t *staged_json(const struct staging_repo *s)
{
    char hex[SHA256_HEX_LEN + 1];
    json_t *arts = json_array(), *v;

    for (size_t i = 0; arts && i < s->nartifacts; i++) {
        const struct staging_artifact *t = &s->artifacts[i];

        sha256_to_hex(hex, &t->sha256);
        if (json_array_append_new(
                arts, json_pack("{s:s, s:s, s:s, s:s, s:I, s:s}", "name",
                                t->name, "version", t->version, "kind",
                                t->kind, "sha256", hex, "length",
                                (json_int_t)t->length, "path", t->path)) < 0)
            break;
    }
    sha256_to_hex(hex, &s->archive_sha256);
    v = json_pack("{s:s, s:s, s:s, s:O}", "repo_id", s->repo_id,
                  "system_version", s->system_version, "archive_sha256", hex,
                  "artifacts", arts);
    json_decref(arts);
    return v;
}

static int do_staged(json_t **out, struct api *a, struct db *db,
                     const char *arg, size_t arglen, struct err *err)
{
    struct staging_repo *repos = NULL;
    size_t count = 0;
    json_t *arr = json_array();
    int rc = staging_list(&repos, &count, a->staging, err);

    (void)db;
    (void)arg;
    (void)arglen;
    if (rc < 0)
        goto out;
    for (size_t i = 0; arr && i < count; i++)
        if (json_array_append_new(arr, staged_json(&repos[i])) < 0)
            break;
    *out = json_pack("{s:O}", "staged", arr);
    if (!*out)
        rc = err_set(err, ERR_NOMEM, "out of memory");
out:
    json_decref(arr);
    staging_list_free(repos, count);
    return rc;
}

/* GET /metrics: Prometheus text of the reconciliation task. */
static void reply_metrics(struct api *a, struct httpd_req *r)
{
    struct buf b = BUF_INIT;
    int rc = buf_puts(&b, "# rackdepot replicator\n");

    if (rc == 0 && a->task)
        rc = api_task_metrics(a->task, &b);
    if (rc == 0) {
        struct prom p;

        prom_init(&p, &b);
        rc = httpd_metrics(&p, (const struct httpd *const[]){a->srv}, 1);
        if (rc == 0 && a->tls)
            rc = api_tls_metrics(a->tls, &p);
    }
    if (rc < 0)
        httpd_reply_error(r, 500, NULL, "out of memory");
    else
        httpd_reply_data(r, 200, "text/plain; version=0.0.4", b.data, b.len);
    buf_release(&b);
}

void api_set_task(struct api *a, struct task *t)
{
    a->task = t;
}

void api_repo_list(struct httpd_req *r, void *arg)
{
    api_job_start(arg, r, do_list, true, NULL, 0, 200);
}

void api_repo_get(struct httpd_req *r, void *arg)
{
    const char *version = httpd_req_capture(r, 0);
    struct err err = ERR_INIT;

    /* as the reference: the path names a semver system version */
    if (!tuf_semver_ok(version)) {
        err_set(&err, ERR_INVAL, "system version in path must be a semantic "
                "version (MAJOR.MINOR.PATCH[-pre][+build])");
        httpd_reply_err(r, &err);
        return;
    }
    api_job_start(arg, r, do_get, true, version, strlen(version), 200);
}

void api_repo_prune(struct httpd_req *r, void *arg)
{
    const char *version = httpd_req_capture(r, 0);

    api_job_start(arg, r, do_prune, true, version, strlen(version), 200);
}

void api_staged_list(struct httpd_req *r, void *arg)
{
    api_job_start(arg, r, do_staged, false, NULL, 0, 200);
}

void api_metrics(struct httpd_req *r, void *arg)
{
    reply_metrics(arg, r);
}

int api_new(struct api **out, struct event_base *base, const struct config *cfg,
            struct staging *st, struct err *err)
{
    struct httpd_opts opts;
    struct httpd_service svc;
    struct api *a = mem_calloc(1, sizeof(*a));
    int rc;

    *out = NULL;
    if (!a)
        return err_set(err, ERR_NOMEM, "out of memory");
    a->base = base;
    a->cfg = cfg;
    a->staging = st;
    rc = jobs_new(&a->jobs, base, cfg->db, (unsigned)cfg->workers, err);
    if (rc < 0)
        goto out;
    a->wq = jobs_workq(a->jobs);
    rc = api_tls_new(&a->tls, base, cfg, err);
    if (rc < 0)
        goto out;
    memset(&opts, 0, sizeof(opts));
    opts.tls = a->tls;
    opts.host = cfg->listen_host;
    opts.port = cfg->listen_port;
    opts.name = "api";
    opts.max_body_bytes = cfg->max_upload_bytes;
    opts.limits.max_conns = (unsigned)cfg->max_connections;
    opts.limits.max_conns_per_peer = (unsigned)cfg->max_connections_per_peer;
    opts.limits.head_secs = (unsigned)cfg->head_timeout_secs;
    opts.limits.min_rate_bps = cfg->min_transfer_rate;
    opts.limits.rate_window_secs = (unsigned)cfg->transfer_rate_window_secs;
    opts.handshake_secs = (unsigned)cfg->tls_handshake_timeout_secs;
    memset(&svc, 0, sizeof(svc));
    svc.routes = api_routes(&svc.nroutes);
    svc.api_versions = api_versions(&svc.n_api_versions);
    svc.gate = api_gate;
    svc.arg = a;
    rc = httpd_new(&a->srv, base, &opts, &svc, err);
    if (rc < 0)
        goto out;
    *out = a;
    a = NULL;
out:
    api_free(a);
    return rc;
}

int api_reload(struct api *a, struct err *err)
{
    return api_tls_reload(a->tls, a->cfg, err);
}

uint16_t api_port(const struct api *a)
{
    return httpd_port(a->srv);
}

void api_shutdown(struct api *a)
{
    a->stopping = true;
    httpd_stop_accepting(a->srv);
}

bool api_idle(const struct api *a)
{
    return jobs_pending(a->jobs) == 0;
}

void api_free(struct api *a)
{
    if (!a)
        return;
    a->stopping = true;
    /* Close connections first: uploads still receiving get their abort
     * callback; requests held by jobs stay alive (replies become no-ops)
     * until the jobs' completions run in jobs_free. */
    httpd_free(a->srv);
    a->srv = NULL;
    jobs_free(a->jobs);
    a->jobs = NULL;
    a->wq = NULL;
    api_repo_free_all(a);
    httpd_tls_free(a->tls);
    mem_free(a);
}
