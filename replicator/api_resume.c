/* SPDX-License-Identifier: MPL-2.0 */
/*
 * api_resume: POST /sled-agents/{id}/resume {"override": UUID} on the
 * replicator API (API 1.3.0; `replicator sled resume ID --override
 * UUID`), the end of a sled's out-of-band install hold (issue 12 item 6,
 * docs/OPERATOR.md "Holding a sled for an out-of-band install"). A worker
 * reads the sled's row; the loop sends the sled DELETE
 * /artifacts-override/{UUID} and, once it answered 200, logs sled_resumed
 * at warn and activates the task, whose next run converges the sled with
 * the rest. The sled's refusals come back as the sled said them: 409
 * OVERRIDE_MISMATCH (held by another override) or NO_OVERRIDE (none held),
 * nothing changed. Operator role. Calling the sled: api_sledcall.c.
 * Loop thread, except resume_work (worker).
 */
#include "replicator/api_task.h"

#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "common/err.h"
#include "common/httpd.h"
#include "common/httpd_route.h"
#include "common/httpd_tls.h"
#include "common/jsonutil.h"
#include "common/limits.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/tls.h"
#include "replicator/api_sledcall.h"

#define RESUME_MSG_MAX 400

struct sjob {
    struct sledcall call;
    char override[DB_UUID_STR];
    char requested_by[TLS_ID_MAX + 16];
};

static void sjob_free(struct sjob *j)
{
    if (!j)
        return;
    sledcall_release(&j->call);
    mem_free(j);
}

static int resume_work(struct db *db, void *arg, struct err *err)
{
    struct sjob *j = arg;

    return sledcall_read_sled(&j->call, db, err);
}

static void sled_done(struct sledreq *q, void *arg)
{
    struct sjob *j = arg;
    long st = sledreq_status(q);
    const char *code = sledreq_error_code(q);
    char msg[RESUME_MSG_MAX];
    json_t *reply;

    if (st != 200) {
        log_warn("sled_resume_failed", "{s:s, s:s, s:s}", "sled",
                 j->call.id, "override", j->override, "error",
                 sledreq_error(q));
        snprintf(msg, sizeof(msg), "sled %s: %s", j->call.id,
                 sledreq_error(q));
        if (st == 409 && !strcmp(code, "OVERRIDE_MISMATCH"))
            httpd_reply_error(j->call.r, 409, "OVERRIDE_MISMATCH", msg);
        else if (st == 404 && !strcmp(code, "NO_OVERRIDE"))
            httpd_reply_error(j->call.r, 409, "NO_OVERRIDE", msg);
        else
            httpd_reply_error(j->call.r, 502, "SLED_RESUME_FAILED", msg);
        sjob_free(j);
        return;
    }
    log_warn("sled_resumed", "{s:s, s:s, s:s, s:s}", "sled", j->call.id,
             "override", j->override, "requested_by", j->requested_by,
             "request_id", httpd_req_id(j->call.r));
    reply = json_pack("{s:s, s:s, s:b}", "id", j->call.id, "override",
                      j->override, "resumed", 1);
    sledcall_reply(&j->call, reply);
    json_decref(reply);
    sjob_free(j);
}

/* Send the clear to the sled (loop). 0 or a negative code with err. */
static int send_resume(struct sjob *j, struct err *err)
{
    char path[64];

    snprintf(path, sizeof(path), "/artifacts-override/%s", j->override);
    return sledcall_send(&j->call, "DELETE", path, NULL, 0, sled_done, j,
                         err);
}

static void resume_done(int rc, const struct err *err, void *arg)
{
    struct sjob *j = arg;
    struct err e = ERR_INIT;

    if (rc == 0 && send_resume(j, &e) == 0)
        return; /* sled_done answers */
    httpd_reply_err(j->call.r, rc < 0 ? err : &e);
    sjob_free(j);
}

/* The body {"override": UUID}, exactly. */
static int parse_resume(struct sjob *j, struct httpd_req *r, struct err *err)
{
    size_t len = 0;
    const char *body = httpd_req_body(r, &len);
    json_t *v;
    const char *id;
    int rc = 0;

    if (!body || len == 0)
        return err_set(err, ERR_INVAL, "the body must be {\"override\": "
                       "UUID}: the id `sledagent override set` printed "
                       "(see the sled in replicator status)");
    if (!(v = jsonu_loadb(body, len, LIMIT_JSON_BODY, err)))
        return err->code ? err->code
                         : err_set(err, ERR_INVAL, "the body is not JSON");
    id = jsonu_str(v, "override");
    if (!json_is_object(v) || json_object_size(v) != 1 || !id)
        rc = err_set(err, ERR_INVAL, "the body must be {\"override\": "
                     "UUID} and nothing else");
    else if (!db_uuid_valid(id))
        rc = err_set(err, ERR_INVAL, "override must be a UUID");
    else
        snprintf(j->override, sizeof(j->override), "%s", id);
    json_decref(v);
    return rc;
}

void api_sled_resume(struct task *t, struct httpd_req *r)
{
    const struct tls_identity *peer = httpd_req_peer(r);
    struct err err = ERR_INIT;
    struct sjob *j = mem_calloc(1, sizeof(*j));

    if (!j) {
        httpd_reply_error(r, 500, NULL, "out of memory");
        return;
    }
    sledcall_init(&j->call, t, r);
    snprintf(j->requested_by, sizeof(j->requested_by), "%s%s%s",
             peer ? tls_role_name(peer->role) : "plaintext",
             peer ? ":" : "", peer ? peer->id : "");
    if (parse_resume(j, r, &err) < 0) {
        httpd_reply_err(r, &err);
        mem_free(j);
        return;
    }
    if (sledcall_job(&j->call, r, resume_work, resume_done, j) < 0)
        sjob_free(j);
}
