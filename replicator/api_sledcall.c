/* SPDX-License-Identifier: MPL-2.0 */
/*
 * api_sledcall: one sled's agent called on behalf of a replicator API
 * request, its answer passed back (see api_sledcall.h). Loop thread,
 * except sledcall_read_sled (worker).
 */
#include "replicator/api_sledcall.h"

#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "common/httpd.h"
#include "common/httpd_route.h"
#include "common/ipaddr.h"
#include "common/log.h"
#include "common/mem.h"

void sledcall_init(struct sledcall *s, struct task *t, struct httpd_req *r)
{
    s->t = t;
    snprintf(s->id, sizeof(s->id), "%s", httpd_req_capture(r, 0));
}

void sledcall_release(struct sledcall *s)
{
    sledreq_free(s->req);
    s->req = NULL;
    mem_free(s->sled.api_address);
    s->sled.api_address = NULL;
    if (s->r)
        httpd_req_unref(s->r);
    s->r = NULL;
}

int sledcall_job(struct sledcall *s, struct httpd_req *r, task_job_fn work,
                 task_job_done_fn done, void *arg)
{
    int rc;

    s->r = r;
    httpd_req_ref(r);
    rc = task_job(s->t, work, done, arg);
    if (rc < 0)
        httpd_reply_error(r, 500, NULL, "out of memory");
    return rc;
}

int sledcall_read_sled(struct sledcall *s, struct db *db, struct err *err)
{
    int rc = sled_db_get(&s->sled, &s->expunged, db, s->id, err);

    if (rc == 0 && s->expunged)
        return err_set(err, ERR_CONFLICT, "sled %s is expunged", s->id);
    return rc;
}

int sledcall_send(struct sledcall *s, const char *method, const char *path,
                  const char *json_body, uint64_t log_generation,
                  sledreq_done_fn done, void *arg, struct err *err)
{
    const struct task_config *c = task_config(s->t);
    char host[IPADDR_HOST_MAX], url[192];
    struct err why = ERR_INIT;
    struct sledreq_opts o;
    uint16_t port;
    bool v6;
    int rc = ipaddr_parse_endpoint(host, &port, &v6, s->sled.api_address,
                                   &why);

    if (rc < 0)
        return err_set(err, ERR_CONFLICT, "sled %s cannot be reached: its "
                       "registration is invalid (%s)", s->id, why.msg);
    snprintf(url, sizeof(url), "%s://%s%s%s:%u%s",
             c->tls.cert_file ? "https" : "http", v6 ? "[" : "", host,
             v6 ? "]" : "", (unsigned)port, path);
    memset(&o, 0, sizeof(o));
    o.method = method;
    o.url = url;
    o.json_body = json_body;
    o.connect_secs = c->connect_secs;
    o.stall_secs = c->stall_secs;
    o.total_secs = c->request_secs;
    if (c->tls.cert_file) {
        o.tls = &c->tls; /* the sled must present its own certificate */
        o.peer_id = s->id;
    }
    if (log_generation)
        log_info("sled_request", "{s:s, s:s, s:s, s:I}", "sled", s->id,
                 "method", method, "url", url, "generation",
                 (json_int_t)log_generation);
    else
        log_info("sled_request", "{s:s, s:s, s:s}", "sled", s->id,
                 "method", method, "url", url);
    rc = sledreq_start(&s->req, task_http_loop(s->t), &o, done, arg);
    return rc < 0 ? err_set(err, rc, "cannot start the sled request") : 0;
}

void sledcall_reply(struct sledcall *s, json_t *reply)
{
    if (reply)
        httpd_reply_json(s->r, 200, reply);
    else
        httpd_reply_error(s->r, 500, NULL, "out of memory");
    task_activate(s->t, TASK_REASON_SLED);
}
