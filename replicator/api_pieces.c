/* SPDX-License-Identifier: MPL-2.0 */
/*
 * api_pieces: GET /artifact/sha256/{sha256}/pieces on the replicator API,
 * the piece manifest recorded for an artifact at ingest (issue 13,
 * common/pieces.h), sent as the exact stored bytes: the canonical
 * document whose sha256 is the manifest hash, so it cannot go through a
 * JSON value and back. The database read runs on a worker of the API's
 * job runner; the reply is sent from its completion. Loop thread, except
 * pieces_work (worker).
 */
#include "replicator/api_internal.h"

#include "common/err.h"
#include "common/httpd.h"
#include "common/httpd_route.h"
#include "common/mem.h"
#include "common/sha256.h"
#include "replicator/db/pieces_db.h"
#include "replicator/jobs.h"

struct pieces_job {
    struct httpd_req *req;
    struct sha256 h;
    char *doc;
    size_t len;
};

static int pieces_work(struct db *db, void *arg, struct err *err) /* worker */
{
    struct pieces_job *j = arg;

    return pieces_db_get(&j->doc, &j->len, NULL, db, &j->h, err);
}

static void pieces_done(int rc, const struct err *err, void *arg)
{
    struct pieces_job *j = arg;

    if (rc < 0)
        httpd_reply_err(j->req, err);
    else
        httpd_reply_data(j->req, 200, "application/json", j->doc, j->len);
    httpd_req_unref(j->req);
    mem_free(j->doc);
    mem_free(j);
}

void api_pieces_get(struct httpd_req *r, void *arg)
{
    struct api *a = arg;
    struct pieces_job *j = mem_calloc(1, sizeof(*j));

    if (!j) {
        httpd_reply_error(r, 500, NULL, "out of memory");
        return;
    }
    httpd_req_sha256(&j->h, r, 0); /* the route's {sha256}: checked */
    j->req = r;
    httpd_req_ref(r);
    if (jobs_submit(a->jobs, JOBS_DB_NEEDED, pieces_work, pieces_done, j) <
        0) {
        httpd_req_unref(r);
        mem_free(j);
        httpd_reply_error(r, 500, NULL, "out of memory");
    }
}
