/* SPDX-License-Identifier: MPL-2.0 */
/*
 * api_reset: POST /sled-agents/{id}/reset-ledger on the replicator API
 * (and `replicator sled reset-ledger ID [--generation G] [--reason T]`),
 * the recovery of a sled whose ledger holds an absurd generation (issue
 * 9, "no forever-brick", docs/OPERATOR.md). A worker reads the sled's row
 * and the wanted set with its generation G_db; the loop then sends the
 * sled POST /artifacts-config/reset {"generation": G (default G_db, at
 * most G_db), "artifacts": the wanted set, "reason", "requested_by"} and,
 * once the sled answered 200, logs sled_ledger_reset at warn and
 * activates the task (the sled converges as any other, its artifacts
 * restored from its trash/); refused (409) while the mass-deletion guard
 * holds the database's generation. requested_by is the operator's identity once
 * mutual TLS gives one; until then "operator (request <request id>)".
 * Operator role once roles exist. Calling the sled: api_sledcall.c.
 * Loop thread, except reset_work (worker).
 */
#include "replicator/api_task.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/httpd.h"
#include "common/httpd_route.h"
#include "common/jsonutil.h"
#include "common/limits.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/sha256.h"
#include "replicator/api_sledcall.h"
#include "replicator/db/push_db.h"
#include "replicator/db/wanted_db.h"

#define RESET_TEXT_MAX 200
#define RESET_MSG_MAX 320

struct rjob {
    struct sledcall call;
    uint64_t generation;      /* asked for; 0: the database's */
    char reason[RESET_TEXT_MAX];
    char requested_by[RESET_TEXT_MAX];
    struct wanted_db wanted;
};

static void rjob_free(struct rjob *j)
{
    if (!j)
        return;
    sledcall_release(&j->call);
    wanted_db_release(&j->wanted);
    mem_free(j);
}

static int reset_work(struct db *db, void *arg, struct err *err)
{
    struct rjob *j = arg;
    struct push_db_state push;
    int rc = sledcall_read_sled(&j->call, db, err);

    if (rc == 0)
        rc = wanted_db_read(&j->wanted, db, err);
    if (rc == 0)
        rc = push_db_get(&push, db, err);
    /* The reset sends the wanted set: never one the guard holds back. */
    if (rc == 0 && push.held && push.held_generation >= j->wanted.generation)
        rc = err_set(err, ERR_CONFLICT, "generation %" PRIu64 " is held by "
                     "the mass-deletion guard (%s): confirm it with "
                     "`replicator generation confirm %" PRIu64 "` first",
                     push.held_generation, push.held_reason,
                     push.held_generation);
    if (rc == 0 && j->generation > j->wanted.generation)
        rc = err_set(err, ERR_INVAL, "generation %" PRIu64 " is above the "
                     "database's %" PRIu64 ": the sled would be ahead "
                     "again", j->generation, j->wanted.generation);
    if (rc == 0 && j->generation == 0)
        j->generation = j->wanted.generation;
    if (rc == 0 && j->generation == 0)
        rc = err_set(err, ERR_CONFLICT, "the database has no generation "
                     "yet: nothing to reset to");
    return rc;
}

/* The sled's request body; NULL on ERR_NOMEM. */
static char *reset_body(const struct rjob *j)
{
    json_t *arts = json_array(), *v = NULL;
    char hex[SHA256_HEX_LEN + 1];
    char *text = NULL;

    for (size_t i = 0; arts && i < j->wanted.count; i++) {
        sha256_to_hex(hex, &j->wanted.artifacts[i].sha256);
        if (json_array_append_new(arts, json_string(hex)) < 0)
            goto out;
    }
    v = arts ? json_pack("{s:I, s:O, s:s, s:s}", "generation",
                         (json_int_t)j->generation, "artifacts", arts,
                         "reason", j->reason, "requested_by",
                         j->requested_by)
             : NULL;
    if (v)
        text = jsonu_dumps(v);
out:
    json_decref(arts);
    json_decref(v);
    return text;
}

static void sled_done(struct sledreq *q, void *arg)
{
    struct rjob *j = arg;
    long st = sledreq_status(q);
    json_t *v = st == 200 ? sledreq_json(q) : NULL, *reply;

    char msg[RESET_MSG_MAX];

    if (!v) {
        log_warn("sled_ledger_reset_failed", "{s:s, s:s}", "sled",
                 j->call.id, "error", sledreq_error(q));
        snprintf(msg, sizeof(msg), "sled %s: %s", j->call.id,
                 sledreq_error(q));
        httpd_reply_error(j->call.r, 502, "SLED_RESET_FAILED", msg);
        rjob_free(j);
        return;
    }
    log_warn("sled_ledger_reset", "{s:s, s:I, s:O, s:s, s:s}", "sled",
             j->call.id, "generation", (json_int_t)j->generation,
             "previous_generation", json_object_get(v, "previous_generation"),
             "reason", j->reason, "requested_by", j->requested_by);
    reply = json_pack("{s:s, s:I, s:O, s:I}", "id", j->call.id, "generation",
                      (json_int_t)j->generation, "previous_generation",
                      json_object_get(v, "previous_generation"), "artifacts",
                      (json_int_t)j->wanted.count);
    json_decref(v);
    sledcall_reply(&j->call, reply);
    json_decref(reply);
    rjob_free(j);
}

/* Send the reset to the sled (loop). 0 or a negative code with err. */
static int send_reset(struct rjob *j, struct err *err)
{
    char *body = reset_body(j);
    int rc;

    if (!body)
        return err_set(err, ERR_NOMEM, "out of memory");
    rc = sledcall_send(&j->call, "POST", "/artifacts-config/reset", body,
                       j->generation, sled_done, j, err);
    mem_free(body);
    return rc;
}

static void reset_done(int rc, const struct err *err, void *arg)
{
    struct rjob *j = arg;
    struct err e = ERR_INIT;

    if (rc == 0 && send_reset(j, &e) == 0)
        return; /* sled_done answers */
    httpd_reply_err(j->call.r, rc < 0 ? err : &e);
    rjob_free(j);
}

/* The optional body {"generation": G, "reason": "..."}. */
static int parse_reset(struct rjob *j, struct httpd_req *r, struct err *err)
{
    size_t len = 0;
    const char *body = httpd_req_body(r, &len);
    json_t *v = NULL, *g, *why;
    int rc = 0;

    if (!body || len == 0)
        return 0;
    if (!(v = jsonu_loadb(body, len, LIMIT_JSON_BODY, err)))
        return err->code ? err->code
                         : err_set(err, ERR_INVAL, "the body is not JSON");
    g = json_object_get(v, "generation");
    why = json_object_get(v, "reason");
    if (g && !json_is_null(g) &&
        (jsonu_u64(&j->generation, g) < 0 || j->generation == 0))
        rc = err_set(err, ERR_INVAL, "generation must be a positive "
                     "integer");
    else if (why && !json_is_string(why))
        rc = err_set(err, ERR_INVAL, "reason must be a string");
    else if (why)
        snprintf(j->reason, sizeof(j->reason), "%s", json_string_value(why));
    json_decref(v);
    return rc;
}

void api_sled_reset_ledger(struct task *t, struct httpd_req *r)
{
    struct err err = ERR_INIT;
    struct rjob *j = mem_calloc(1, sizeof(*j));

    if (!j) {
        httpd_reply_error(r, 500, NULL, "out of memory");
        return;
    }
    sledcall_init(&j->call, t, r);
    snprintf(j->reason, sizeof(j->reason), "operator reset");
    /* The operator's certificate identity replaces this once mTLS
     * exists (issue 9): today anyone who reaches the API is "operator". */
    snprintf(j->requested_by, sizeof(j->requested_by),
             "operator (request %s)", httpd_req_id(r));
    if (parse_reset(j, r, &err) < 0) {
        httpd_reply_err(r, &err);
        mem_free(j);
        return;
    }
    if (sledcall_job(&j->call, r, reset_work, reset_done, j) < 0)
        rjob_free(j);
}
