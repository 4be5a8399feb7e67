/* SPDX-License-Identifier: MPL-2.0 */
/*
 * fleet: bump the database generation past every sled's ledger (see
 * fleet.h): sled list job, one GET /artifacts-config per sled, bump job.
 * Loop thread, except *_work (worker).
 */
#include "replicator/task/fleet.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "common/mem.h"
#include "replicator/db/gen_db.h"
#include "replicator/db/sled_db.h"
#include "replicator/db/tlsrev_db.h"
#include "replicator/task/collect.h"
#include "replicator/task/sledreq.h"
#include "replicator/task/task.h"

/* Generations from here on cannot be bumped past (gen_db_bump_past). */
#define FLEET_GENERATION_MAX ((uint64_t)INT64_MAX - 1)

struct fleet {
    struct task *t;
    fleet_done_fn done;
    void *arg;
    struct sled_db_list list;
    struct collect_sled *sleds;
    size_t n, left;
    uint64_t fleet_max;
    char max_id[COLLECT_ID_MAX];  /* a sled at fleet_max */
    uint64_t generation;
    json_t *reported;          /* per sled: generation or error */
    struct tls_revoked *revoked; /* with TLS: the database's revocations */
    struct httpc_tls tls;        /* the task's, plus revoked */
};

/* Report to the caller and free f. */
static void finish(struct fleet *f, int rc, const struct err *err)
{
    f->done(rc, err, f->generation, f->fleet_max, f->reported, f->arg);
    collect_sleds_free(f->sleds, f->n);
    sled_db_list_release(&f->list);
    tls_revoked_free(f->revoked);
    json_decref(f->reported);
    mem_free(f);
}

static int bump_work(struct db *db, void *arg, struct err *err)
{
    struct fleet *f = arg;

    return gen_db_bump_past(&f->generation, db, f->fleet_max, err);
}

static void bump_done(int rc, const struct err *err, void *arg)
{
    struct fleet *f = arg;

    if (rc == 0) {
        log_info("generation_bumped_past_fleet", "{s:I, s:I}", "generation",
                 (json_int_t)f->generation, "fleet_max",
                 (json_int_t)f->fleet_max);
        task_activate(f->t, TASK_REASON_GENERATION);
    }
    finish(f, rc, err);
}

/* One sled fewer to wait for; the last one starts the bump. */
static void one_less(struct fleet *f)
{
    struct err err = ERR_INIT;

    if (--f->left > 0)
        return;
    if (f->fleet_max >= FLEET_GENERATION_MAX) {
        /* No bump can pass it: the sled's ledger is the problem (issue 9,
         * an absurd generation pushed to it). */
        err_set(&err, ERR_INVAL, "fleet generation %llu (sled %s) is too "
                "large to bump past: run `replicator sled reset-ledger %s` "
                "to bring that sled back to the database's generation",
                (unsigned long long)f->fleet_max, f->max_id, f->max_id);
        finish(f, err.code, &err);
        return;
    }
    if (task_job(f->t, bump_work, bump_done, f) < 0)
        finish(f, err_set(&err, ERR_NOMEM, "out of memory"), &err);
}

static void one_done(struct sledreq *q, void *arg)
{
    struct collect_sled *s = arg;
    struct fleet *f = (struct fleet *)s->owner;
    long st = sledreq_status(q);
    json_t *v = st == 200 ? sledreq_json(q) : NULL, *o;
    uint64_t g = 0;

    if (v && jsonu_u64(&g, json_object_get(v, "generation")) == 0) {
        if (g > f->fleet_max) {
            f->fleet_max = g;
            snprintf(f->max_id, sizeof(f->max_id), "%s", s->id);
        }
        o = json_pack("{s:s, s:I}", "id", s->id, "generation",
                      (json_int_t)g);
    } else if (st == 404) {
        o = json_pack("{s:s, s:n}", "id", s->id, "generation");
    } else {
        o = json_pack("{s:s, s:s}", "id", s->id, "error", sledreq_error(q));
    }
    json_decref(v);
    if (o)
        json_array_append_new(f->reported, o);
    one_less(f);
}

/* GET /artifacts-config from every listed sled at once. */
static void query(struct fleet *f)
{
    const struct task_config *c = task_config(f->t);
    struct err err = ERR_INIT;
    struct sledreq_opts o;
    char url[COLLECT_URL_MAX + 32];

    if (collect_sleds_from_db(&f->sleds, &f->list, c->tls.cert_file != NULL,
                              &err) < 0) {
        finish(f, err.code, &err);
        return;
    }
    f->n = f->list.count;
    f->tls = c->tls;
    f->tls.revoked = f->revoked;
    f->left = f->n + 1;
    for (size_t i = 0; i < f->n; i++) {
        struct collect_sled *s = &f->sleds[i];
        json_t *bad;

        if (s->state == COLLECT_INVALID_ADDRESS) {
            /* never contacted: reported, and the others still count */
            bad = json_pack("{s:s, s:s}", "id", s->id, "error", s->error);
            if (bad)
                json_array_append_new(f->reported, bad);
            f->left--;
            continue;
        }
        s->owner = (struct collect *)f; /* sledreq passes s back */
        memset(&o, 0, sizeof(o));
        snprintf(url, sizeof(url), "%s/artifacts-config", s->api_url);
        o.method = "GET";
        o.url = url;
        o.connect_secs = c->connect_secs;
        o.stall_secs = c->stall_secs;
        o.total_secs = c->request_secs;
        o.tls = &f->tls;
        o.peer_id = s->id;
        log_info("sled_request", "{s:s, s:s, s:s}", "sled", s->id, "method",
                 "GET", "url", url);
        if (sledreq_start(&s->req, task_http_loop(f->t), &o, one_done, s) < 0)
            f->left--;
    }
    one_less(f);
}

static int list_work(struct db *db, void *arg, struct err *err)
{
    struct fleet *f = arg;
    int rc = sled_db_list(&f->list, db, err);

    if (rc == 0 && task_config(f->t)->tls.cert_file)
        rc = tlsrev_db_load(&f->revoked, db, err);
    return rc;
}

static void list_done(int rc, const struct err *err, void *arg)
{
    struct fleet *f = arg;

    if (rc < 0)
        finish(f, rc, err);
    else
        query(f);
}

int fleet_bump_start(struct task *t, fleet_done_fn done, void *arg)
{
    struct fleet *f = mem_calloc(1, sizeof(*f));

    if (!f || !(f->reported = json_array())) {
        mem_free(f);
        return ERR_NOMEM;
    }
    f->t = t;
    f->done = done;
    f->arg = arg;
    if (task_job(t, list_work, list_done, f) < 0) {
        json_decref(f->reported);
        mem_free(f);
        return ERR_NOMEM;
    }
    return 0;
}
