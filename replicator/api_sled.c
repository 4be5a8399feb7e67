/* SPDX-License-Identifier: MPL-2.0 */
/*
 * api_sled: the sled registry endpoints (PUT /sled-agents/{id} as the
 * sledagent sends it at start and every 30 s, GET /sled-agents, POST
 * /sled-agents/{id}/expunge) and the generation endpoints (POST
 * /generation/bump-past-fleet: ask every in-service sled for its ledger
 * generation, then raise the database generation past the highest in one
 * transaction; POST /generation/{G}/confirm: release a generation held by
 * the mass-deletion guard). Each one activates the task when it changes
 * what the task does (a registration: only for a new sled or a changed
 * address, not for the periodic refresh). Database work runs on the task's workers; sled
 * queries on the loop through common/httpc. Loop thread, except *_work
 * (worker).
 */
#include "replicator/api_task.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/httpd.h"
#include "common/jsonutil.h"
#include "common/limits.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/parse.h"
#include "replicator/db/db.h"
#include "replicator/db/gen_db.h"
#include "replicator/db/push_db.h"
#include "replicator/db/sled_db.h"
#include "replicator/task/collect.h"
#include "replicator/task/sledreq.h"
#include "replicator/task/task.h"

#define PATH_SLEDS "/sled-agents"
#define PATH_GEN "/generation/"

enum sled_op { OP_LIST, OP_UPSERT, OP_EXPUNGE, OP_CONFIRM, OP_FLEET_LIST,
               OP_BUMP };

struct sjob {
    struct task *t;
    struct httpd_req *r;
    enum sled_op op;
    struct sled_db_sled sled;
    char api_address[128];
    uint64_t generation;
    bool sled_changed;        /* upsert: new id, or a new address or port */
    struct sled_db_list list;
    json_t *reply;
    int status;
    /* bump-past-fleet */
    struct collect_sled *sleds;
    size_t n, left;
    uint64_t fleet_max;
    json_t *fleet;
};

static void sjob_free(struct sjob *j)
{
    if (!j)
        return;
    collect_sleds_free(j->sleds, j->n);
    sled_db_list_release(&j->list);
    json_decref(j->reply);
    json_decref(j->fleet);
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

/*
 * Whether registering s changes what the task sees: an id not in
 * service yet, or a new API address or depot port. Two replicators
 * racing on one registration may both activate: harmless. Worker.
 */
static int upsert_changes(bool *out, struct db *db,
                          const struct sled_db_sled *s, struct err *err)
{
    struct sled_db_list l = SLED_DB_LIST_INIT;
    int rc = sled_db_list(&l, db, err);

    *out = true;
    for (size_t i = 0; rc == 0 && i < l.count; i++) {
        const struct sled_db_sled *o = &l.sleds[i];

        if (strcmp(o->id, s->id) != 0)
            continue;
        *out = strcmp(o->api_address, s->api_address) != 0 ||
               o->repo_depot_port != s->repo_depot_port;
        break;
    }
    sled_db_list_release(&l);
    return rc;
}

static int sjob_work(struct db *db, void *arg, struct err *err)
{
    struct sjob *j = arg;
    uint64_t g = 0;
    int rc = 0;

    switch (j->op) {
    case OP_LIST:
    case OP_FLEET_LIST:
        rc = sled_db_list(&j->list, db, err);
        break;
    case OP_UPSERT:
        j->sled.api_address = j->api_address;
        rc = upsert_changes(&j->sled_changed, db, &j->sled, err);
        if (rc == 0)
            rc = sled_db_upsert(db, &j->sled, err);
        break;
    case OP_EXPUNGE:
        rc = sled_db_expunge(db, j->sled.id, err);
        break;
    case OP_CONFIRM:
        rc = push_db_confirm(db, j->generation, err);
        break;
    case OP_BUMP:
        rc = gen_db_bump_past(&g, db, j->fleet_max, err);
        j->generation = g;
        break;
    }
    return rc;
}

static void fleet_query(struct sjob *j);

static void sjob_done(int rc, const struct err *err, void *arg)
{
    struct sjob *j = arg;
    json_t *arr;

    if (rc < 0) {
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
    case OP_CONFIRM:
        log_info("generation_confirmed", "{s:I}", "generation",
                 (json_int_t)j->generation);
        j->reply = json_pack("{s:I, s:b}", "generation",
                             (json_int_t)j->generation, "confirmed", 1);
        j->status = 200;
        task_activate(j->t, TASK_REASON_GENERATION);
        break;
    case OP_FLEET_LIST:
        fleet_query(j);
        return;
    case OP_BUMP:
        log_info("generation_bumped_past_fleet", "{s:I, s:I}", "generation",
                 (json_int_t)j->generation, "fleet_max",
                 (json_int_t)j->fleet_max);
        j->reply = json_pack("{s:I, s:I, s:O}", "generation",
                             (json_int_t)j->generation, "fleet_max",
                             (json_int_t)j->fleet_max, "sleds", j->fleet);
        j->status = 200;
        task_activate(j->t, TASK_REASON_GENERATION);
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

/* ---- bump-past-fleet: GET /artifacts-config from every sled ---- */

static void fleet_one_done(struct sledreq *q, void *arg)
{
    struct collect_sled *s = arg;
    struct sjob *j = (struct sjob *)s->owner;
    long st = sledreq_status(q);
    json_t *v = st == 200 ? sledreq_json(q) : NULL, *o;
    uint64_t g = 0;

    if (v && jsonu_u64(&g, json_object_get(v, "generation")) == 0) {
        if (g > j->fleet_max)
            j->fleet_max = g;
        o = json_pack("{s:s, s:I}", "id", s->id, "generation",
                      (json_int_t)g);
    } else if (st == 404) {
        o = json_pack("{s:s, s:n}", "id", s->id, "generation");
    } else {
        o = json_pack("{s:s, s:s}", "id", s->id, "error", sledreq_error(q));
    }
    json_decref(v);
    if (o)
        json_array_append_new(j->fleet, o);
    if (--j->left == 0) {
        j->op = OP_BUMP;
        sjob_start(j);
    }
}

static void fleet_query(struct sjob *j)
{
    struct err err = ERR_INIT;
    struct sledreq_opts o;
    char url[COLLECT_URL_MAX + 32];

    j->fleet = json_array();
    if (!j->fleet ||
        collect_sleds_from_db(&j->sleds, &j->list, &err) < 0) {
        httpd_reply_err(j->r, &err);
        sjob_free(j);
        return;
    }
    j->n = j->list.count;
    j->left = j->n + 1;
    for (size_t i = 0; i < j->n; i++) {
        struct collect_sled *s = &j->sleds[i];

        s->owner = (struct collect *)j;
        memset(&o, 0, sizeof(o));
        snprintf(url, sizeof(url), "%s/artifacts-config", s->api_url);
        o.method = "GET";
        o.url = url;
        o.connect_secs = task_config(j->t)->connect_secs;
        o.stall_secs = task_config(j->t)->stall_secs;
        o.total_secs = task_config(j->t)->request_secs;
        log_info("sled_request", "{s:s, s:s, s:s}", "sled", s->id, "method",
                 "GET", "url", url);
        if (sledreq_start(&s->req, task_http_loop(j->t), &o, fleet_one_done,
                          s) < 0)
            j->left--;
    }
    if (--j->left == 0) {
        j->op = OP_BUMP;
        sjob_start(j);
    }
}

/* ---- routing ---- */

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
    uint64_t port;
    int rc = 0;

    if (!v)
        return err->code ? err->code
                         : err_set(err, ERR_INVAL, "a JSON body is required");
    addr = jsonu_str(v, "api_address");
    if (!addr || strlen(addr) >= sizeof(j->api_address)) {
        rc = err_set(err, ERR_INVAL, "api_address must be \"IP:PORT\"");
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

void api_sled_request(struct task *t, struct httpd_req *r)
{
    const char *path = httpd_req_path(r) + strlen(PATH_SLEDS);
    enum httpd_method m = httpd_req_method(r);
    struct err err = ERR_INIT;
    char id[DB_UUID_STR];
    const char *slash;
    size_t n;
    struct sjob *j;

    if (!*path) {
        if (m != HTTPD_GET) {
            httpd_req_add_header(r, "Allow", "GET");
            httpd_reply_error(r, 405, NULL, "method not allowed");
        } else if ((j = sjob_new(t, r, OP_LIST))) {
            sjob_start(j);
        }
        return;
    }
    path++; /* '/' */
    slash = strchr(path, '/');
    n = slash ? (size_t)(slash - path) : strlen(path);
    if (n != DB_UUID_STR - 1) {
        httpd_reply_error(r, 400, NULL, "sled id must be a UUID");
        return;
    }
    memcpy(id, path, n);
    id[n] = '\0';
    if (!db_uuid_valid(id)) {
        httpd_reply_error(r, 400, NULL, "sled id must be a UUID");
        return;
    }
    if (slash && strcmp(slash, "/expunge") != 0) {
        httpd_reply_error(r, 404, NULL, "no such endpoint");
        return;
    }
    if (slash && m != HTTPD_POST) {
        httpd_req_add_header(r, "Allow", "POST");
        httpd_reply_error(r, 405, NULL, "method not allowed");
        return;
    }
    if (!slash && m != HTTPD_PUT) {
        httpd_req_add_header(r, "Allow", "PUT");
        httpd_reply_error(r, 405, NULL, "method not allowed");
        return;
    }
    j = sjob_new(t, r, slash ? OP_EXPUNGE : OP_UPSERT);
    if (!j)
        return;
    snprintf(j->sled.id, sizeof(j->sled.id), "%s", id);
    if (!slash && parse_upsert(j, r, &err) < 0) {
        httpd_reply_err(r, &err);
        sjob_free(j);
        return;
    }
    sjob_start(j);
}

void api_generation_request(struct task *t, struct httpd_req *r)
{
    const char *path = httpd_req_path(r) + strlen(PATH_GEN);
    char num[24];
    const char *slash = strchr(path, '/');
    uint64_t g;
    struct sjob *j;

    if (httpd_req_method(r) != HTTPD_POST) {
        httpd_req_add_header(r, "Allow", "POST");
        httpd_reply_error(r, 405, NULL, "method not allowed");
        return;
    }
    if (!strcmp(path, "bump-past-fleet")) {
        if ((j = sjob_new(t, r, OP_FLEET_LIST)))
            sjob_start(j);
        return;
    }
    if (!slash || strcmp(slash, "/confirm") != 0 ||
        (size_t)(slash - path) >= sizeof(num)) {
        httpd_reply_error(r, 404, NULL, "no such endpoint");
        return;
    }
    memcpy(num, path, (size_t)(slash - path));
    num[slash - path] = '\0';
    if (parse_u64(&g, num) < 0 || g == 0) {
        httpd_reply_error(r, 400, NULL, "generation must be a positive integer");
        return;
    }
    if ((j = sjob_new(t, r, OP_CONFIRM))) {
        j->generation = g;
        sjob_start(j);
    }
}
