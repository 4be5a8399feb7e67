/* SPDX-License-Identifier: MPL-2.0 */
/*
 * api_trust: the trust-root endpoints of the replicator API (DESIGN.md
 * 4.1, 6): the operator's TUF root documents that uploaded repositories
 * must chain to.
 *   GET    /v1/system/update/trust-roots       {"trust_roots": [...]}
 *   POST   /v1/system/update/trust-roots       body: a root.json -> 201 {id}
 *   DELETE /v1/system/update/trust-roots/{id}  -> {id, removed}
 * A posted root must verify against its own keys before it is stored.
 * Routed by api_routes.c ({id} is a valid UUID by then). Request
 * handling on the loop thread; the do_* jobs on a worker.
 */
#include "replicator/api_internal.h"

#include <string.h>

#include <jansson.h>

#include "common/err.h"
#include "common/httpd.h"
#include "common/httpd_route.h"
#include "common/log.h"
#include "replicator/db/db.h"
#include "replicator/db/trust_db.h"
#include "replicator/ingest.h"

static int do_list(json_t **out, struct api *a, struct db *db,
                   const char *arg, size_t arglen, struct err *err)
{
    struct trust_db_list l = TRUST_DB_LIST_INIT;
    json_t *arr = json_array();
    int rc = trust_db_list(&l, db, err);

    (void)a;
    (void)arg;
    (void)arglen;
    if (rc < 0)
        goto out;
    for (size_t i = 0; arr && i < l.count; i++) {
        json_t *doc = json_loads(l.roots[i].root_json, 0, NULL);

        if (json_array_append_new(
                arr, json_pack("{s:s, s:I, s:o*}", "id", l.roots[i].id,
                               "time_created",
                               (json_int_t)l.roots[i].time_created,
                               "root_role", doc)) < 0)
            break;
    }
    *out = json_pack("{s:O}", "trust_roots", arr);
    if (!*out)
        rc = err_set(err, ERR_NOMEM, "out of memory");
out:
    json_decref(arr);
    trust_db_list_release(&l);
    return rc;
}

static int do_add(json_t **out, struct api *a, struct db *db, const char *arg,
                  size_t arglen, struct err *err)
{
    char id[DB_UUID_STR];
    int rc = ingest_check_root(arg, arglen, err);

    (void)a;
    if (rc < 0) {
        /* a bad document is the caller's fault: 400, whatever failed */
        if (err)
            err->code = ERR_INVAL;
        return ERR_INVAL;
    }
    rc = trust_db_add(id, db, arg, err);
    if (rc < 0)
        return rc;
    log_info("trust_root_added", "{s:s}", "id", id);
    *out = json_pack("{s:s}", "id", id);
    return *out ? 0 : err_set(err, ERR_NOMEM, "out of memory");
}

static int do_remove(json_t **out, struct api *a, struct db *db,
                     const char *arg, size_t arglen, struct err *err)
{
    int rc = trust_db_remove(db, arg, err);

    (void)a;
    (void)arglen;
    if (rc < 0)
        return rc;
    log_info("trust_root_removed", "{s:s}", "id", arg);
    *out = json_pack("{s:s, s:b}", "id", arg, "removed", 1);
    return *out ? 0 : err_set(err, ERR_NOMEM, "out of memory");
}

void api_trust_list(struct httpd_req *r, void *arg)
{
    api_job_start(arg, r, do_list, true, NULL, 0, 200);
}

void api_trust_add(struct httpd_req *r, void *arg)
{
    size_t len;
    const char *body = httpd_req_body(r, &len);

    if (len == 0)
        httpd_reply_error(r, 400, NULL,
                          "the request body must be a TUF root.json");
    else
        api_job_start(arg, r, do_add, true, body, len, 201);
}

void api_trust_remove(struct httpd_req *r, void *arg)
{
    const char *id = httpd_req_capture(r, 0);

    api_job_start(arg, r, do_remove, true, id, strlen(id), 200);
}
