/* SPDX-License-Identifier: MPL-2.0 */
/*
 * api_generation: the generation endpoints of the replicator API (see
 * api_task.h): POST /generation/bump-past-fleet (the fleet query and the
 * bump are the task's, task/fleet.c) and POST /generation/{G}/confirm
 * (release a generation held by the mass-deletion guard). Both activate
 * the task. Routed by api_routes.c. Loop thread, except confirm_work
 * (worker).
 */
#include "replicator/api_task.h"

#include <stdint.h>
#include <string.h>

#include <jansson.h>

#include "common/err.h"
#include "common/httpd.h"
#include "common/httpd_route.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/parse.h"
#include "replicator/db/push_db.h"
#include "replicator/task/fleet.h"
#include "replicator/task/task.h"

struct confirm {
    struct task *t;
    struct httpd_req *r;
    uint64_t generation;
};

static int confirm_work(struct db *db, void *arg, struct err *err)
{
    struct confirm *c = arg;

    return push_db_confirm(db, c->generation, err);
}

static void confirm_done(int rc, const struct err *err, void *arg)
{
    struct confirm *c = arg;
    json_t *v = NULL;

    if (rc < 0) {
        httpd_reply_err(c->r, err);
        goto out;
    }
    log_info("generation_confirmed", "{s:I}", "generation",
             (json_int_t)c->generation);
    v = json_pack("{s:I, s:b}", "generation", (json_int_t)c->generation,
                  "confirmed", 1);
    task_activate(c->t, TASK_REASON_GENERATION);
    if (v)
        httpd_reply_json(c->r, 200, v);
    else
        httpd_reply_error(c->r, 500, NULL, "out of memory");
out:
    json_decref(v);
    httpd_req_unref(c->r);
    mem_free(c);
}

static void confirm_start(struct task *t, struct httpd_req *r, uint64_t g)
{
    struct confirm *c = mem_calloc(1, sizeof(*c));

    if (!c) {
        httpd_reply_error(r, 500, NULL, "out of memory");
        return;
    }
    c->t = t;
    c->r = r;
    c->generation = g;
    httpd_req_ref(r);
    if (task_job(t, confirm_work, confirm_done, c) < 0) {
        httpd_reply_error(r, 500, NULL, "out of memory");
        httpd_req_unref(r);
        mem_free(c);
    }
}

static void bumped(int rc, const struct err *err, uint64_t generation,
                   uint64_t fleet_max, json_t *sleds, void *arg)
{
    struct httpd_req *r = arg;
    json_t *v;

    if (rc < 0) {
        httpd_reply_err(r, err);
        httpd_req_unref(r);
        return;
    }
    v = json_pack("{s:I, s:I, s:O}", "generation", (json_int_t)generation,
                  "fleet_max", (json_int_t)fleet_max, "sleds", sleds);
    if (v)
        httpd_reply_json(r, 200, v);
    else
        httpd_reply_error(r, 500, NULL, "out of memory");
    json_decref(v);
    httpd_req_unref(r);
}

static void bump_start(struct task *t, struct httpd_req *r)
{
    httpd_req_ref(r);
    if (fleet_bump_start(t, bumped, r) < 0) {
        httpd_reply_error(r, 500, NULL, "out of memory");
        httpd_req_unref(r);
    }
}

void api_generation_bump(struct task *t, struct httpd_req *r)
{
    bump_start(t, r);
}

void api_generation_confirm(struct task *t, struct httpd_req *r)
{
    uint64_t g;

    if (parse_u64(&g, httpd_req_capture(r, 0)) < 0 || g == 0) {
        httpd_reply_error(r, 400, NULL,
                          "generation must be a positive integer");
        return;
    }
    confirm_start(t, r, g);
}
