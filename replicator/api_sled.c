/* SPDX-License-Identifier: MPL-2.0 */
/*
 * api_sled: the sled registry endpoints (PUT /sled-agents/{id} as the
 * sledagent sends it at start and every 30 s, GET /sled-agents, POST
 * /sled-agents/{id}/expunge). Each one activates the task when it changes
 * what the task does (a registration: only for a new sled or a changed
 * address, not for the periodic refresh). Database work runs on the
 * task's jobs. A registration is validated before anything is stored
 * (api_address is an IP literal and a port, common/ipaddr.h; the depot
 * port is 1..65535), refused once the registry is full (sled_db.h), and
 * an address change of a registered id is logged (warn) and damped
 * (sled_flap.h). The generation endpoints are in api_generation.c, the
 * fleet query behind bump-past-fleet in task/fleet.c. Loop thread,
 * except *_work (worker).
 */
#include "replicator/api_task.h"

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
#include "common/ipaddr.h"
#include "common/mem.h"
#include "replicator/db/db.h"
#include "replicator/db/sled_db.h"
#include "replicator/sled_flap.h"
#include "replicator/task/status.h"
#include "replicator/task/task.h"

enum sled_op { OP_LIST, OP_UPSERT, OP_EXPUNGE };

struct sjob {
    struct task *t;
    struct httpd_req *r;
    enum sled_op op;
    struct sled_db_sled sled;
    char api_address[128];
    bool sled_changed;        /* upsert: new id, or a new address or port */
    bool moved;               /* upsert: a registered id, another address */
    char old_address[192];    /* upsert: "api_address depot_port" before */
    struct sled_db_list list;
    json_t *reply;
    int status;
};

static void sjob_free(struct sjob *j)
{
    if (!j)
        return;
    sled_db_list_release(&j->list);
    json_decref(j->reply);
    if (j->r)
        httpd_req_unref(j->r);
    mem_free(j);
}

static json_t *sled_json(const struct sled_db_sled *s)
{
    return json_pack("{s:s, s:s, s:i, s:I, s:I}", "id", s->id, "api_address",
                     s->api_address, "repo_depot_port",
                     (int)s->repo_depot_port, "time_registered",
                     (json_int_t)s->time_registered, "time_seen",
                     (json_int_t)s->time_seen);
}

/* "API_ADDRESS/DEPOT_PORT": what the flap damping compares. */
static void endpoint_text(char *out, size_t cap, const struct sled_db_sled *s)
{
    snprintf(out, cap, "%s/%u", s->api_address, (unsigned)s->repo_depot_port);
}

/*
 * Whether registering s changes what the task sees: an id not in
 * service yet, or a new API address or depot port; a change of a
 * registered id passes the flap damping first (ERR_BUSY). Two replicators
 * racing on one registration may both activate: harmless. Worker.
 */
static int upsert_changes(struct sjob *j, struct db *db, struct err *err)
{
    struct sled_db_sled cur;
    bool expunged = false;
    char now_text[192];
    unsigned retry = 0;
    int rc = sled_db_get(&cur, &expunged, db, j->sled.id, err);

    j->sled_changed = true;
    if (rc == ERR_NOTFOUND) {
        err_clear(err);
        return 0; /* new: sled_db_upsert applies the registry cap */
    }
    if (rc < 0 || expunged)
        goto out; /* expunged: the upsert refuses it */
    endpoint_text(j->old_address, sizeof(j->old_address), &cur);
    endpoint_text(now_text, sizeof(now_text), &j->sled);
    j->sled_changed = strcmp(j->old_address, now_text) != 0;
    j->moved = j->sled_changed;
    if (j->moved)
        rc = sled_flap_change(&retry, j->sled.id, j->old_address, now_text,
                              status_now_ms(), err);
out:
    mem_free(cur.api_address);
    return rc;
}

static int sjob_work(struct db *db, void *arg, struct err *err)
{
    struct sjob *j = arg;
    int rc = 0;

    switch (j->op) {
    case OP_LIST:
        rc = sled_db_list(&j->list, db, err);
        break;
    case OP_UPSERT:
        j->sled.api_address = j->api_address;
        rc = upsert_changes(j, db, err);
        if (rc == 0)
            rc = sled_db_upsert(db, &j->sled, err);
        break;
    case OP_EXPUNGE:
        rc = sled_db_expunge(db, j->sled.id, err);
        break;
    }
    return rc;
}

static void sjob_done(int rc, const struct err *err, void *arg)
{
    struct sjob *j = arg;
    char now_text[192];
    json_t *arr;

    if (rc < 0) {
        if (j->op == OP_UPSERT)
            log_warn("sled_register_refused", "{s:s, s:s}", "sled",
                     j->sled.id, "error", err->msg);
        httpd_reply_err(j->r, err);
        sjob_free(j);
        return;
    }
    switch (j->op) {
    case OP_LIST:
        arr = json_array();
        for (size_t i = 0; arr && i < j->list.count; i++)
            json_array_append_new(arr, sled_json(&j->list.sleds[i]));
        j->reply = json_pack("{s:o*}", "sleds", arr);
        j->status = 200;
        break;
    case OP_UPSERT:
        if (j->moved) {
            endpoint_text(now_text, sizeof(now_text), &j->sled);
            log_warn("sled_address_changed", "{s:s, s:s, s:s}", "sled",
                     j->sled.id, "old", j->old_address, "new", now_text);
        }
        log_info("sled_registered", "{s:s, s:s, s:i, s:b}", "sled",
                 j->sled.id, "api_address", j->api_address,
                 "repo_depot_port", (int)j->sled.repo_depot_port, "changed",
                 (int)j->sled_changed);
        j->reply = json_pack("{s:s}", "id", j->sled.id);
        j->status = 200;
        /* A new sled, or one at a new address, gets the wanted set now
         * rather than at the next period (coalesced like any other). */
        if (j->sled_changed)
            task_activate(j->t, TASK_REASON_SLED);
        break;
    case OP_EXPUNGE:
        log_info("sled_expunged", "{s:s}", "sled", j->sled.id);
        j->reply = json_pack("{s:s, s:b}", "id", j->sled.id, "expunged", 1);
        j->status = 200;
        task_activate(j->t, TASK_REASON_SLED);
        break;
    }
    if (j->reply)
        httpd_reply_json(j->r, j->status, j->reply);
    else
        httpd_reply_error(j->r, 500, NULL, "out of memory");
    sjob_free(j);
}

static void sjob_start(struct sjob *j)
{
    if (task_job(j->t, sjob_work, sjob_done, j) < 0) {
        httpd_reply_error(j->r, 500, NULL, "out of memory");
        sjob_free(j);
    }
}

/* ---- handlers (routed by api_routes.c) ---- */

static struct sjob *sjob_new(struct task *t, struct httpd_req *r,
                             enum sled_op op)
{
    struct sjob *j = mem_calloc(1, sizeof(*j));

    if (!j) {
        httpd_reply_error(r, 500, NULL, "out of memory");
        return NULL;
    }
    j->t = t;
    j->r = r;
    j->op = op;
    httpd_req_ref(r);
    return j;
}

static int parse_upsert(struct sjob *j, struct httpd_req *r, struct err *err)
{
    size_t len = 0;
    const char *body = httpd_req_body(r, &len);
    json_t *v = body ? jsonu_loadb(body, len, LIMIT_JSON_BODY, err) : NULL;
    const char *addr;
    char host[IPADDR_HOST_MAX];
    uint16_t api_port;
    struct err why = ERR_INIT;
    uint64_t port;
    bool v6;
    int rc = 0;

    if (!v)
        return err->code ? err->code
                         : err_set(err, ERR_INVAL, "a JSON body is required");
    addr = jsonu_str(v, "api_address");
    if (!addr) {
        rc = err_set(err, ERR_INVAL, "api_address must be \"IP:PORT\"");
        goto out;
    }
    if (ipaddr_parse_endpoint(host, &api_port, &v6, addr, &why) < 0 ||
        strlen(addr) >= sizeof(j->api_address)) {
        rc = err_set(err, ERR_INVAL, "api_address: %s",
                     why.code ? why.msg : "too long");
        goto out;
    }
    if (jsonu_u64(&port, json_object_get(v, "repo_depot_port")) < 0 ||
        port == 0 || port > 65535) {
        rc = err_set(err, ERR_INVAL, "repo_depot_port must be 1..65535");
        goto out;
    }
    snprintf(j->api_address, sizeof(j->api_address), "%s", addr);
    j->sled.repo_depot_port = (uint16_t)port;
out:
    json_decref(v);
    return rc;
}

void api_sled_list(struct task *t, struct httpd_req *r)
{
    struct sjob *j = sjob_new(t, r, OP_LIST);

    if (j)
        sjob_start(j);
}

void api_sled_upsert(struct task *t, struct httpd_req *r)
{
    struct err err = ERR_INIT;
    struct sjob *j = sjob_new(t, r, OP_UPSERT);

    if (!j)
        return;
    snprintf(j->sled.id, sizeof(j->sled.id), "%s", httpd_req_capture(r, 0));
    if (parse_upsert(j, r, &err) < 0) {
        httpd_reply_err(r, &err);
        sjob_free(j);
        return;
    }
    sjob_start(j);
}

void api_sled_expunge(struct task *t, struct httpd_req *r)
{
    struct sjob *j = sjob_new(t, r, OP_EXPUNGE);

    if (!j)
        return;
    snprintf(j->sled.id, sizeof(j->sled.id), "%s", httpd_req_capture(r, 0));
    sjob_start(j);
}
