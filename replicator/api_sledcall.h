/* SPDX-License-Identifier: MPL-2.0 */
/*
 * api_sledcall: the part of a replicator API request that calls one
 * sled's agent and passes its answer back (api_resume.c, api_reset.c):
 * the sled's row read by a worker (an expunged sled: 409), the request
 * sent from the loop to the sled's registered api_address (https when the
 * replicator has TLS, and then the sled must present its own
 * certificate; the task's connect, stall and request timeouts; logged as
 * sled_request), and the 200 reply, after which the task is activated so
 * the sled converges. Loop thread, except sledcall_read_sled (worker).
 */
#ifndef REPLICATOR_API_SLEDCALL_H
#define REPLICATOR_API_SLEDCALL_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "replicator/db/sled_db.h"
#include "replicator/task/sledreq.h"
#include "replicator/task/task.h"

struct err;
struct httpd_req;

struct sledcall {
    struct task *t;
    struct httpd_req *r;      /* referenced once sledcall_job ran */
    char id[DB_UUID_STR];     /* the sled: capture 0 of the request */
    struct sled_db_sled sled; /* api_address owned */
    bool expunged;
    struct sledreq *req;
};

/* For request r of task t (the sled's id from its capture 0). */
void sledcall_init(struct sledcall *s, struct task *t, struct httpd_req *r);
/* Free what s holds (the request, the row, the reference to r). */
void sledcall_release(struct sledcall *s);

/* Hold r and run work then done on the task's workers (task_job, arg
 * passed on). On failure r got a 500; the caller frees its job. */
int sledcall_job(struct sledcall *s, struct httpd_req *r, task_job_fn work,
                 task_job_done_fn done, void *arg);

/* Worker: read the sled's row; ERR_CONFLICT when it is expunged. */
int sledcall_read_sled(struct sledcall *s, struct db *db, struct err *err);

/*
 * Loop: send method path (json_body: NULL for none) to the sled; done(q,
 * arg) gets the answer. log_generation, when not 0, is logged with the
 * request. 0, or a negative code with err (ERR_CONFLICT: the sled's
 * registration cannot be reached).
 */
int sledcall_send(struct sledcall *s, const char *method, const char *path,
                  const char *json_body, uint64_t log_generation,
                  sledreq_done_fn done, void *arg, struct err *err);

/* The sled did it: reply 200 with reply (500 when NULL: out of memory;
 * reply is not taken), then activate the task. */
void sledcall_reply(struct sledcall *s, json_t *reply);

#endif
