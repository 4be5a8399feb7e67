/* SPDX-License-Identifier: MPL-2.0 */
/*
 * api_task: the replicator API endpoints of the reconciliation task, the
 * sled registry and the generation commands, on common/httpd:
 *   GET  /background-tasks/tuf_artifact_replication[?limit=N&offset=M]
 *   POST /background-tasks/tuf_artifact_replication/activate[?wait=1]
 *   GET  /sled-agents
 *   PUT  /sled-agents/{id}   {"api_address": "IP:PORT", "repo_depot_port": P}
 *   POST /sled-agents/{id}/expunge
 *   POST /generation/bump-past-fleet
 *   POST /generation/{G}/confirm
 * api_task.c routes and serves the task endpoints; api_sled.c the sled
 * ones; api_generation.c the generation ones. The serving code (serve.c / api.c) calls
 * api_task_headers() from its on_headers and api_task_request() from its
 * on_request; both return false for paths that are not theirs. Database
 * work runs on the task's workers (task_job). Loop thread only.
 */
#ifndef REPLICATOR_API_TASK_H
#define REPLICATOR_API_TASK_H

#include <stdbool.h>

struct buf;
struct httpd_req;
struct task;

/* on_headers: claim the request (sets its route and body cap) if the path
 * is one of the above. */
bool api_task_headers(struct task *t, struct httpd_req *r);

/* on_request: serve the request if the path is one of the above (replies
 * on every path, now or later). */
bool api_task_request(struct task *t, struct httpd_req *r);

/* Task metrics for GET /metrics (Prometheus text appended to out).
 * Returns 0 or ERR_NOMEM. */
int api_task_metrics(struct task *t, struct buf *out);

/* api_sled.c: the sled endpoints (path already known to be under
 * /sled-agents). */
void api_sled_request(struct task *t, struct httpd_req *r);
/* api_generation.c: the generation endpoints (path already known to be
 * under /generation/). */
void api_generation_request(struct task *t, struct httpd_req *r);

/* Small strict query helper shared by the api_*.c files: the value of
 * key as an unsigned integer. Returns 0, ERR_NOTFOUND, ERR_INVAL. */
int api_task_query_u64(unsigned long long *out, const char *query,
                       const char *key);

#endif
