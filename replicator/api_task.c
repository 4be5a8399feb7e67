/* SPDX-License-Identifier: MPL-2.0 */
/*
 * api_task: the task status and activation handlers (see api_task.h;
 * routed by the replicator's table in api_routes.c). Loop thread only.
 */
#include "replicator/api_task.h"

#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/httpd.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/parse.h"
#include "replicator/task/status.h"
#include "replicator/task/task.h"

#define RING_DEFAULT_LIMIT 256

int api_task_query_u64(unsigned long long *out, const char *query,
                       const char *key)
{
    size_t kl = strlen(key);
    const char *p = query;
    char val[24];
    uint64_t v;

    while (p && *p) {
        const char *end = strchr(p, '&');
        size_t n = end ? (size_t)(end - p) : strlen(p);

        if (n > kl && !strncmp(p, key, kl) && p[kl] == '=') {
            if (n - kl - 1 == 0 || n - kl - 1 >= sizeof(val))
                return ERR_INVAL;
            memcpy(val, p + kl + 1, n - kl - 1);
            val[n - kl - 1] = '\0';
            if (parse_u64(&v, val) < 0)
                return ERR_INVAL;
            *out = v;
            return 0;
        }
        p = end ? end + 1 : NULL;
    }
    return ERR_NOTFOUND;
}

static void on_run_done(const json_t *summary, void *arg)
{
    struct httpd_req *r = arg;

    if (summary)
        httpd_reply_json(r, 200, summary);
    else
        httpd_reply_error(r, 503, NULL, "the replicator is shutting down");
    httpd_req_unref(r);
}

void api_task_activate(struct task *t, struct httpd_req *r)
{
    unsigned long long wait = 0;
    int rc = api_task_query_u64(&wait, httpd_req_query(r), "wait");
    json_t *v;

    if (rc == ERR_INVAL || wait > 1) {
        httpd_reply_error(r, 400, NULL, "wait must be 0 or 1");
        return;
    }
    if (wait) {
        httpd_req_ref(r);
        rc = task_activate_wait(t, TASK_REASON_MANUAL, on_run_done, r);
        if (rc < 0) {
            httpd_req_unref(r);
            httpd_reply_error(r, rc == ERR_NOMEM ? 500 : 503, NULL,
                              rc == ERR_NOMEM ? "out of memory"
                                              : "the task is stopping");
        }
        return;
    }
    task_activate(t, TASK_REASON_MANUAL);
    v = json_pack("{s:b, s:s}", "activated", 1, "reason", "manual");
    httpd_reply_json(r, 202, v);
    json_decref(v);
}

void api_task_status(struct task *t, struct httpd_req *r)
{
    unsigned long long limit = RING_DEFAULT_LIMIT, offset = 0;
    const char *q = httpd_req_query(r);
    json_t *v;

    if (api_task_query_u64(&limit, q, "limit") == ERR_INVAL ||
        api_task_query_u64(&offset, q, "offset") == ERR_INVAL) {
        httpd_reply_error(r, 400, NULL, "limit and offset are integers");
        return;
    }
    if (limit > STATUS_RING_CAP)
        limit = STATUS_RING_CAP;
    v = task_status_json(t, (size_t)offset, (size_t)limit);
    if (!v) {
        httpd_reply_error(r, 500, NULL, "out of memory");
        return;
    }
    httpd_reply_json(r, 200, v);
    json_decref(v);
}

int api_task_metrics(struct task *t, struct buf *out)
{
    return task_metrics(t, out);
}
