/* SPDX-License-Identifier: MPL-2.0 */
/*
 * agent_revoke: the revocation list the controller pushes to the sled
 * (issue 9, docs/API.md): PUT /tls-revocations {"version": N, "revoked":
 * [...]} (controller only) and GET /tls-revocations (controller or
 * operator). A push is validated strictly (revstate_parse: 400, nothing
 * changed), must not be older than the held version (409
 * REVOCATION_VERSION; the same version with the same list is an
 * idempotent 204, with another list 409), is written durably to every
 * dataset on a worker (revstate_write) and only then takes effect: the
 * union of it and the --tls-revoked file goes to both listeners (checked
 * on every request, so a kept-alive connection of a now-revoked peer gets
 * 401 on its next request), to the copy client (new connections and
 * requests to a source) and to the registration client (the replicator). One push is written at a time: another that
 * arrives meanwhile gets 503 with Retry-After. The held list is read back
 * at start (revstate_read). Loop thread only (the write runs on rev_wq).
 */
#include "sledagent/agent_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "common/err.h"
#include "common/httpd.h"
#include "common/httpd_tls.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/tls.h"
#include "common/workq.h"
#include "sledagent/copy.h"
#include "sledagent/registration.h"

/* One accepted push on its way to the disk. */
struct revput {
    struct agent *a;
    struct httpd_req *r;
    struct revstate next;
    const char *dirs[STORE_DATASETS];
    char peer[TLS_ID_MAX + 16];
    int rc;
    struct err err;
};

int agent_revoke_open(struct agent *a, struct err *err)
{
    int rc = revstate_read(&a->rev_pushed, a->opts.store.dataset,
                           STORE_DATASETS, err);

    if (rc == 0)
        rc = workq_new(&a->rev_wq, a->base, 1);
    if (rc < 0 && !err->code)
        err_set(err, rc, "cannot start the revocation writer");
    if (rc == 0 && a->rev_pushed.version)
        log_info("tls_revocations_held", "{s:I, s:I}", "version",
                 (json_int_t)a->rev_pushed.version, "entries",
                 (json_int_t)tls_revoked_count(a->rev_pushed.set));
    return rc;
}

void agent_revoke_close(struct agent *a)
{
    /* a write under way finishes and answers its request here */
    workq_free(a->rev_wq);
    a->rev_wq = NULL;
    revstate_release(&a->rev_pushed);
    tls_revoked_free(a->rev_file);
    a->rev_file = NULL;
}

int agent_revoke_apply(struct agent *a, struct err *err)
{
    struct tls_revoked *u = NULL;
    int rc = tls_revoked_dup(&u, a->rev_file, err);

    if (rc == 0)
        rc = tls_revoked_merge(u, a->rev_pushed.set, err);
    if (rc == 0 && a->tls)
        rc = httpd_tls_set_revoked(a->tls, u, err);
    if (rc == 0)
        a->rev_in_force = tls_revoked_count(u);
    if (rc == 0 && a->reg) {
        struct tls_revoked *r = NULL;

        rc = tls_revoked_dup(&r, u, err);
        if (rc == 0)
            registration_set_revoked(a->reg, r); /* takes r */
    }
    if (rc == 0 && agent_tls_on(&a->opts)) {
        rc = copies_set_revoked(a->copies, u); /* takes u */
        u = NULL;
        if (rc < 0)
            err_set(err, rc, "out of memory");
    }
    tls_revoked_free(u);
    return rc;
}

void agent_reply_revocations_get(struct httpd_req *r, void *arg)
{
    struct agent *a = arg;
    json_t *v = revstate_to_json(&a->rev_pushed);

    if (!v || json_object_set_new(v, "in_force",
                                  json_integer((json_int_t)
                                                   a->rev_in_force)) < 0)
        httpd_reply_error(r, 500, NULL, "out of memory");
    else
        httpd_reply_json(r, 200, v);
    json_decref(v);
}

static void put_work(void *arg) /* worker */
{
    struct revput *p = arg;

    p->rc = revstate_write(p->dirs, STORE_DATASETS, &p->next, &p->err);
}

static void put_done(void *arg)
{
    struct revput *p = arg;
    struct agent *a = p->a;
    uint64_t previous = a->rev_pushed.version;
    struct revstate old = a->rev_pushed;

    a->rev_writing = false;
    if (p->rc < 0) {
        log_error("tls_revocations_refused", "{s:I, s:s, s:s}", "version",
                  (json_int_t)p->next.version, "error", p->err.msg,
                  "request_id", httpd_req_id(p->r));
        httpd_reply_err(p->r, &p->err);
        goto out;
    }
    /* durable: now in force */
    a->rev_pushed = p->next;
    p->next = (struct revstate)REVSTATE_INIT;
    if (agent_revoke_apply(a, &p->err) < 0) {
        /* memory: keep the old set in force; the file is written, so a
         * restart applies it. The controller's next push retries. */
        p->next = a->rev_pushed;
        a->rev_pushed = old;
        old = (struct revstate)REVSTATE_INIT;
        httpd_reply_err(p->r, &p->err);
        goto out;
    }
    log_warn("tls_revocations_updated", "{s:I, s:I, s:I, s:I, s:s, s:s}",
             "version", (json_int_t)a->rev_pushed.version,
             "previous_version", (json_int_t)previous, "entries",
             (json_int_t)tls_revoked_count(a->rev_pushed.set), "in_force",
             (json_int_t)a->rev_in_force, "requested_by", p->peer,
             "request_id", httpd_req_id(p->r));
    httpd_reply_json(p->r, 204, NULL);
out:
    revstate_release(&old);
    revstate_release(&p->next);
    httpd_req_unref(p->r);
    mem_free(p);
}

void agent_reply_revocations_put(struct httpd_req *r, void *arg)
{
    struct agent *a = arg;
    const struct tls_identity *peer = httpd_req_peer(r);
    struct revput *p = NULL;
    struct err err = ERR_INIT;
    const char *body;
    size_t len = 0;

    p = mem_calloc(1, sizeof(*p));
    if (!p) {
        httpd_reply_error(r, 500, NULL, "out of memory");
        return;
    }
    body = httpd_req_body(r, &len);
    if (revstate_parse(&p->next, body, len, &err) < 0)
        goto fail;
    if (p->next.version < a->rev_pushed.version) {
        err_set_coded(&err, ERR_CONFLICT, "REVOCATION_VERSION",
                      "version %" PRIu64 " is older than the held %" PRIu64,
                      p->next.version, a->rev_pushed.version);
        goto fail;
    }
    if (p->next.version == a->rev_pushed.version) {
        if (tls_revoked_equal(p->next.set, a->rev_pushed.set)) {
            httpd_reply_json(r, 204, NULL); /* idempotent */
            goto out;
        }
        err_set_coded(&err, ERR_CONFLICT, "REVOCATION_VERSION",
                      "version %" PRIu64 " is held with another list",
                      p->next.version);
        goto fail;
    }
    if (a->rev_writing) {
        httpd_req_add_header(r, "Retry-After", "1");
        err_set(&err, ERR_UNAVAIL, "another revocation list is being "
                "written");
        goto fail;
    }
    p->a = a;
    p->r = r;
    for (int d = 0; d < STORE_DATASETS; d++)
        p->dirs[d] = a->opts.store.dataset[d];
    snprintf(p->peer, sizeof(p->peer), "%s%s%s",
             peer ? tls_role_name(peer->role) : "plaintext",
             peer ? ":" : "", peer ? peer->id : "");
    httpd_req_ref(r);
    if (workq_submit(a->rev_wq, put_work, put_done, p) < 0) {
        httpd_req_unref(r);
        err_set(&err, ERR_NOMEM, "out of memory");
        goto fail;
    }
    a->rev_writing = true;
    return;
fail:
    httpd_reply_err(r, &err);
out:
    revstate_release(&p->next);
    mem_free(p);
}
