/* SPDX-License-Identifier: MPL-2.0 */
/*
 * agent_override: the running agent's side of the out-of-band install
 * hold (issue 12 item 6; override.h, docs/API.md "Out-of-band install
 * hold"). The override is read from the datasets at start and again
 * every second on a worker (the operator sets it with `sledagent override
 * set`, which writes the files, whether the agent runs or not); while one
 * is held the controller's changes are refused with 409 OVERRIDE_ACTIVE
 * (agent_override_check), GET /artifacts-config and GET /artifacts report
 * it, and DELETE /artifacts-override/{id} (the controller: `replicator
 * sled resume`) clears it on both datasets. Loop thread only (the reads
 * and the clear run on ov_wq).
 */
#include "sledagent/agent_internal.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <event2/event.h>
#include <jansson.h>

#include "common/err.h"
#include "common/httpd.h"
#include "common/httpd_route.h"
#include "common/httpd_tls.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/tls.h"
#include "common/workq.h"

#define OVERRIDE_POLL_MS 1000

/* One read (r NULL) or clear (of id, answering r) on the worker. */
struct ovjob {
    struct agent *a;
    struct httpd_req *r;
    const char *dirs[STORE_DATASETS];
    char id[37];
    char peer[TLS_ID_MAX + 16];
    unsigned epoch;
    int rc, removed;
    struct err err;
    struct override got;
};

/* Adopt a state read from the disk, logging a change. */
static void adopt(struct agent *a, const struct override *o)
{
    if (!strcmp(a->ov.id, o->id))
        return;
    if (override_active(o))
        log_warn("override_active", "{s:s, s:s, s:s}", "id", o->id,
                 "reason", o->reason, "set_at", o->set_at);
    else
        log_warn("override_gone", "{s:s}", "id", a->ov.id);
    a->ov = *o;
}

static void job_dirs(struct ovjob *j, struct agent *a)
{
    j->a = a;
    j->epoch = a->ov_epoch;
    for (int d = 0; d < STORE_DATASETS; d++)
        j->dirs[d] = a->opts.store.dataset[d];
}

static void read_work(void *arg) /* worker */
{
    struct ovjob *j = arg;

    j->rc = override_read(&j->got, j->dirs, STORE_DATASETS, &j->err);
}

static void read_done(void *arg)
{
    struct ovjob *j = arg;
    struct agent *a = j->a;

    a->ov_reading = false;
    /* a clear ran meanwhile: this read may predate it */
    if (j->rc == 0 && j->epoch == a->ov_epoch)
        adopt(a, &j->got);
    mem_free(j);
}

static void on_poll(evutil_socket_t fd, short what, void *arg)
{
    struct agent *a = arg;
    struct ovjob *j;

    (void)fd;
    (void)what;
    if (a->ov_reading || a->ov_clearing)
        return;
    j = mem_calloc(1, sizeof(*j));
    if (!j)
        return;
    job_dirs(j, a);
    if (workq_submit(a->ov_wq, read_work, read_done, j) < 0) {
        mem_free(j);
        return;
    }
    a->ov_reading = true;
}

int agent_override_open(struct agent *a, struct err *err)
{
    static const struct timeval every = {OVERRIDE_POLL_MS / 1000,
                                         (OVERRIDE_POLL_MS % 1000) * 1000};
    int rc = override_read(&a->ov, a->opts.store.dataset, STORE_DATASETS,
                           err);

    if (rc == 0)
        rc = workq_new(&a->ov_wq, a->base, 1);
    if (rc == 0) {
        a->ov_timer = event_new(a->base, -1, EV_PERSIST, on_poll, a);
        if (!a->ov_timer || event_add(a->ov_timer, &every) < 0)
            rc = ERR_NOMEM;
    }
    if (rc < 0 && !err->code)
        err_set(err, rc, "cannot start the override reader");
    if (rc == 0 && override_active(&a->ov))
        log_warn("override_active", "{s:s, s:s, s:s}", "id", a->ov.id,
                 "reason", a->ov.reason, "set_at", a->ov.set_at);
    return rc;
}

void agent_override_close(struct agent *a)
{
    if (a->ov_timer)
        event_free(a->ov_timer);
    a->ov_timer = NULL;
    /* a clear under way finishes and answers its request here */
    workq_free(a->ov_wq);
    a->ov_wq = NULL;
}

int agent_override_check(const struct agent *a, struct err *err)
{
    if (!override_active(&a->ov))
        return 0;
    return err_set_coded(err, ERR_CONFLICT, "OVERRIDE_ACTIVE",
                         "sled is held by override %s (%s, set %s): the "
                         "controller changes nothing here until `replicator "
                         "sled resume %s --override %s`",
                         a->ov.id, a->ov.reason, a->ov.set_at,
                         a->opts.id ? a->opts.id : "SLED", a->ov.id);
}

int agent_override_add(const struct agent *a, json_t *o)
{
    json_t *v;

    if (!override_active(&a->ov))
        return 0;
    v = override_to_json(&a->ov);
    return v && json_object_set_new(o, "override", v) == 0 ? 0 : ERR_NOMEM;
}

static void clear_work(void *arg) /* worker */
{
    struct ovjob *j = arg;

    j->removed = override_clear(j->dirs, STORE_DATASETS, j->id, &j->err);
    j->rc = override_read(&j->got, j->dirs, STORE_DATASETS, &j->err);
    if (j->removed < 0)
        j->rc = j->removed;
}

static void clear_done(void *arg)
{
    struct ovjob *j = arg;
    struct agent *a = j->a;
    json_t *v;

    a->ov_clearing = false;
    a->ov_epoch++;
    if (j->rc == 0 || j->rc == ERR_IO)
        adopt(a, &j->got);
    if (j->rc == 0 && j->removed == 0) {
        /* the files changed under the cached state: nothing removed */
        err_set_coded(&j->err, ERR_NOTFOUND, "NO_OVERRIDE", "override %s "
                      "is not recorded on any dataset", j->id);
        j->rc = ERR_NOTFOUND;
    }
    if (j->rc < 0) {
        log_error("override_clear_failed", "{s:s, s:s, s:s}", "id", j->id,
                  "error", j->err.msg, "request_id", httpd_req_id(j->r));
        httpd_reply_err(j->r, &j->err);
        goto out;
    }
    log_warn("override_cleared", "{s:s, s:i, s:s, s:s}", "id", j->id,
             "datasets", j->removed, "requested_by", j->peer, "request_id",
             httpd_req_id(j->r));
    v = json_pack("{s:s, s:o}", "cleared", j->id, "override",
                  override_active(&a->ov) ? override_to_json(&a->ov)
                                          : json_null());
    if (v)
        httpd_reply_json(j->r, 200, v);
    else
        httpd_reply_error(j->r, 500, NULL, "out of memory");
    json_decref(v);
out:
    httpd_req_unref(j->r);
    mem_free(j);
}

void agent_reply_override_delete(struct httpd_req *r, void *arg)
{
    struct agent *a = arg;
    const struct tls_identity *peer = httpd_req_peer(r);
    const char *id = httpd_req_capture(r, 0);
    struct err err = ERR_INIT;
    struct ovjob *j;

    if (!override_active(&a->ov)) {
        err_set_coded(&err, ERR_NOTFOUND, "NO_OVERRIDE",
                      "no override is held on this sled");
        goto fail;
    }
    if (strcasecmp(id, a->ov.id) != 0) {
        err_set_coded(&err, ERR_CONFLICT, "OVERRIDE_MISMATCH",
                      "the sled is held by override %s, not %s: nothing "
                      "changed", a->ov.id, id);
        goto fail;
    }
    if (a->ov_clearing) {
        httpd_req_add_header(r, "Retry-After", "1");
        err_set(&err, ERR_UNAVAIL, "the override is being cleared");
        goto fail;
    }
    j = mem_calloc(1, sizeof(*j));
    if (!j) {
        err_set(&err, ERR_NOMEM, "out of memory");
        goto fail;
    }
    job_dirs(j, a);
    j->r = r;
    snprintf(j->id, sizeof(j->id), "%s", a->ov.id);
    snprintf(j->peer, sizeof(j->peer), "%s%s%s",
             peer ? tls_role_name(peer->role) : "plaintext",
             peer ? ":" : "", peer ? peer->id : "");
    httpd_req_ref(r);
    if (workq_submit(a->ov_wq, clear_work, clear_done, j) < 0) {
        httpd_req_unref(r);
        mem_free(j);
        err_set(&err, ERR_NOMEM, "out of memory");
        goto fail;
    }
    a->ov_clearing = true;
    return;
fail:
    httpd_reply_err(r, &err);
}
