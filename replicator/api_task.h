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
 *   POST /generation/{generation}/confirm
 * api_task.c serves the task endpoints; api_sled.c the sled ones;
 * api_generation.c the generation ones. The routes themselves are
 * declared in the replicator's route table (api_routes.c), whose handlers
 * call these once the request matched (path and method known, {id} a valid UUID). Database work runs
 * on the task's workers (task_job). Loop thread only.
 */
#ifndef REPLICATOR_API_TASK_H
#define REPLICATOR_API_TASK_H

#include <stdbool.h>

struct buf;
struct httpd_req;
struct task;

/* GET /background-tasks/tuf_artifact_replication[?limit=N&offset=M] */
void api_task_status(struct task *t, struct httpd_req *r);

/* POST /background-tasks/tuf_artifact_replication/activate[?wait=1] */
void api_task_activate(struct task *t, struct httpd_req *r);

/* Task metrics for GET /metrics (Prometheus text appended to out).
 * Returns 0 or ERR_NOMEM. */
int api_task_metrics(struct task *t, struct buf *out);

/*
 * api_sled.c: GET /sled-agents, PUT /sled-agents/{id} (id: the UUID,
 * capture 0 of the request), POST /sled-agents/{id}/expunge.
 * api_generation.c: POST /generation/bump-past-fleet, POST
 * /generation/{generation}/confirm (capture 0). Each replies on every
 * path, now or later.
 */
void api_sled_list(struct task *t, struct httpd_req *r);
void api_sled_upsert(struct task *t, struct httpd_req *r);
void api_sled_expunge(struct task *t, struct httpd_req *r);
/* POST /sled-agents/{id}/reset-ledger (api_reset.c): the operator's
 * ledger reset of one sled, through the sled's reset endpoint. */
void api_sled_reset_ledger(struct task *t, struct httpd_req *r);
/* POST /sled-agents/{id}/resume (api_resume.c): the end of a sled's
 * out-of-band install hold, through the sled's override endpoint. */
void api_sled_resume(struct task *t, struct httpd_req *r);
void api_generation_bump(struct task *t, struct httpd_req *r);
void api_generation_confirm(struct task *t, struct httpd_req *r);

/* Small strict query helper shared by the api_*.c files: the value of
 * key as an unsigned integer. Returns 0, ERR_NOTFOUND, ERR_INVAL. */
int api_task_query_u64(unsigned long long *out, const char *query,
                       const char *key);

#endif
