/* SPDX-License-Identifier: MPL-2.0 */
/*
 * api_internal: the api record, the job runner and the route handlers
 * shared by api.c (job runner, list, prune, staged, metrics), api_trust.c
 * (trust roots), api_repo.c (streamed uploads) and api_routes.c (the
 * route table). Loop thread only, except job functions
 * (worker).
 */
#ifndef REPLICATOR_API_INTERNAL_H
#define REPLICATOR_API_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "replicator/api.h"

struct db;
struct err;
struct httpd;
struct httpd_req;
struct jobs;
struct upload;
struct workq;

struct api {
    struct event_base *base;
    const struct config *cfg;
    struct staging *staging;
    struct httpd *srv;
    struct httpd_tls *tls;  /* NULL: --insecure-plaintext */
    struct jobs *jobs;      /* job runner: workers and their connections */
    struct workq *wq;       /* the runner's pool (jobs_workq), for uploads */
    bool stopping;
    struct upload *uploads; /* live uploads, for shutdown */
    struct task *task;      /* reconciliation task, or NULL (api_set_task) */
};

/*
 * A job's work, on a worker thread with that worker's database connection
 * (jobs.h: kept across jobs, outside any transaction; db is NULL for jobs
 * started with needs_db false). arg/arglen are the job's
 * copied argument. Sets *out (new reference) on success; returns 0 or an
 * ERR_* code with err set.
 */
typedef int (*api_job_fn)(json_t **out, struct api *a, struct db *db,
                          const char *arg, size_t arglen, struct err *err);

/*
 * Run fn on a worker and reply from its result on the loop: status with
 * the JSON on success, the error otherwise. arg (arglen bytes, may be
 * NULL) is copied. Holds a reference on r until the reply. Replies 500 on
 * ERR_NOMEM. Loop thread.
 */
void api_job_start(struct api *a, struct httpd_req *r, api_job_fn fn,
                   bool needs_db, const char *arg, size_t arglen, int status);

/*
 * Route handlers (arg: the struct api), declared in the replicator's
 * route table (api_routes.c). Each replies on every path, now or later.
 *
 * PUT /v1/system/update/repositories at header time (api_repo.c):
 * validates file_name and Content-Length (rejecting at once), then
 * streams the body to staging; api_repo_request runs once the body is
 * complete: hash, verify, record, reply.
 */
void api_repo_headers(struct httpd_req *r, void *arg);
void api_repo_request(struct httpd_req *r, void *arg);

/* Free uploads still alive at shutdown (their files are removed). */
void api_repo_free_all(struct api *a);

/* api.c: GET .../repositories, GET .../repositories/{system_version}
 * (capture 0: 400 unless semver, 404 unknown), POST
 * .../repositories/{version}/prune, GET .../staged, GET /metrics. */
void api_repo_list(struct httpd_req *r, void *arg);
void api_repo_get(struct httpd_req *r, void *arg);
void api_repo_prune(struct httpd_req *r, void *arg);

/* api_prune.c (API 1.2.0): POST .../repositories/{version}/pin and
 * /unpin (capture 0: 400 unless semver, 404 unknown); GET
 * .../prune-policy (the pruner's report, applying nothing); POST
 * .../prune-policy/enable and /disable (optional body {"reason": "..."},
 * 400 bad body or reason; the report after the switch). */
void api_repo_pin(struct httpd_req *r, void *arg);
void api_repo_unpin(struct httpd_req *r, void *arg);
void api_prune_policy_get(struct httpd_req *r, void *arg);
void api_prune_policy_enable(struct httpd_req *r, void *arg);
void api_prune_policy_disable(struct httpd_req *r, void *arg);
void api_staged_list(struct httpd_req *r, void *arg);
void api_metrics(struct httpd_req *r, void *arg);

/* api_trust.c: GET and POST .../trust-roots, DELETE .../trust-roots/{id}
 * (capture 0, a UUID). */
void api_trust_list(struct httpd_req *r, void *arg);
void api_trust_add(struct httpd_req *r, void *arg);
void api_trust_remove(struct httpd_req *r, void *arg);

/* api_pieces.c: GET /artifact/sha256/{sha256}/pieces (capture 0), the
 * artifact's piece manifest as recorded at ingest: 200 with the exact
 * canonical bytes, 404 (unknown artifact, or recorded without one). */
void api_pieces_get(struct httpd_req *r, void *arg);

/* The gate of the whole API: 503 while shutting down (api_routes.c). */
int api_gate(struct httpd_req *r, struct err *err, void *arg);

#endif
