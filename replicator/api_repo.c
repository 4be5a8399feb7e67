/* SPDX-License-Identifier: MPL-2.0 */
/*
 * api_repo: PUT /v1/system/update/repositories?file_name=X. The body is
 * streamed to staging/uploads/<random>.zip with constant memory: the loop
 * moves received bytes into `pending`; one worker task at a time takes
 * them (`inflight`), hashes and writes them; reading from the socket pauses
 * while more than UPLOAD_PENDING_MAX bytes wait. At the end a worker
 * finishes the sha256 and runs ingest_zip(). The zip is not fsynced: it
 * lives only for this request, a crash leaves it in uploads/ for the next
 * start to purge, and nothing read from it is trusted unverified (the
 * metadata by its signatures, each target by its signed length and
 * hashes, every entry by its CRC-32), so durability is the staged files'
 * and the manifest's (ingest.c, staging.c), never the zip's; an fsync here
 * would double the disk writes of an upload. The upload file is always
 * removed afterwards; a client that disconnects mid-body leaves
 * nothing behind and nothing recorded. Served by common/httpd: the
 * request is routed at header time (api_repo_headers), body chunks arrive
 * in on_data, the end in api_repo_request. The upload holds a reference
 * on its request until it replied. Loop thread, plus the worker
 * functions marked as such.
 */
#include "replicator/api_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "common/err.h"
#include "common/httpd.h"
#include "common/limits.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/sha256.h"
#include "common/urlquery.h"
#include "common/workq.h"
#include "replicator/config.h"
#include "replicator/ingest.h"
#include "replicator/staging.h"
#include "replicator/task/task.h"

#define UPLOAD_PENDING_MAX (8u * 1024 * 1024)
#define UPLOAD_FILE_NAME_MAX 255
#define UPLOAD_IOV 64 /* evbuffer chains per writev */

struct upload {
    struct api *api;
    struct httpd_req *req;    /* referenced; NULL once replied */
    struct upload *prev, *next;
    int fd;
    char *path;
    char *file_name;
    struct sha256_ctx sha;
    struct sha256 digest;
    struct evbuffer *pending;  /* loop side */
    struct evbuffer *inflight; /* worker side while writing */
    uint64_t received;
    bool writing;              /* a worker task owns inflight */
    bool ended;                /* whole body received */
    bool aborted;              /* client went away or body stopped */
    bool paused;
    int rc;                    /* first failure, 0 if none */
    struct err err;
    json_t *result;
};

static void upload_free(struct upload *u)
{
    struct api *a = u->api;

    if (u->prev)
        u->prev->next = u->next;
    else if (a->uploads == u)
        a->uploads = u->next;
    if (u->next)
        u->next->prev = u->prev;
    if (u->req) {
        httpd_req_set_data(u->req, NULL);
        httpd_req_unref(u->req);
    }
    if (u->fd >= 0)
        close(u->fd);
    if (u->path)
        unlink(u->path); /* the zip itself is never kept */
    sha256_release(&u->sha);
    if (u->pending)
        evbuffer_free(u->pending);
    if (u->inflight)
        evbuffer_free(u->inflight);
    json_decref(u->result);
    mem_free(u->path);
    mem_free(u->file_name);
    mem_free(u);
}

static void fail(struct upload *u, int rc, const char *msg)
{
    if (u->rc == 0)
        u->rc = err_set(&u->err, rc, "%s", msg);
}

/* Reply (if the client is still owed one) and free. */
static void finish(struct upload *u)
{
    if (u->rc < 0) {
        httpd_reply_err(u->req, &u->err);
    } else {
        httpd_reply_json(u->req, 200, u->result);
        /* Recorded and staged (also on an idempotent re-upload, the
         * recovery path for lost artifacts): hand it to replication. */
        if (u->api->task)
            task_activate(u->api->task, TASK_REASON_UPLOAD);
    }
    upload_free(u);
}

static int write_all(struct upload *u, struct iovec *v, int n)
{
    while (n > 0) {
        ssize_t w = writev(u->fd, v, n);

        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return err_set(&u->err, errno == ENOSPC ? ERR_NOSPACE : ERR_IO,
                           "staging upload: %s", strerror(errno));
        while (n > 0 && (size_t)w >= v->iov_len) {
            w -= (ssize_t)v->iov_len;
            v++;
            n--;
        }
        if (n > 0) {
            v->iov_base = (char *)v->iov_base + w;
            v->iov_len -= (size_t)w;
        }
    }
    return 0;
}

/* Hash, then write with one writev, up to UPLOAD_IOV chains at a time. */
static void write_work(void *arg) /* worker */
{
    struct upload *u = arg;
    struct evbuffer_iovec vec[UPLOAD_IOV];
    struct iovec iov[UPLOAD_IOV];

    while (evbuffer_get_length(u->inflight) > 0 && u->rc == 0) {
        int n = evbuffer_peek(u->inflight, -1, NULL, vec, UPLOAD_IOV);
        size_t done = 0;

        if (n > UPLOAD_IOV)
            n = UPLOAD_IOV;
        for (int i = 0; i < n && u->rc == 0; i++) {
            if (sha256_update(&u->sha, vec[i].iov_base, vec[i].iov_len) < 0)
                u->rc = err_set(&u->err, ERR_INTERNAL, "sha256 failed");
            iov[i].iov_base = vec[i].iov_base;
            iov[i].iov_len = vec[i].iov_len;
            done += vec[i].iov_len;
        }
        if (u->rc == 0)
            u->rc = write_all(u, iov, n);
        evbuffer_drain(u->inflight, done);
    }
    evbuffer_drain(u->inflight, evbuffer_get_length(u->inflight));
}

static void ingest_work(void *arg) /* worker */
{
    struct upload *u = arg;
    struct ingest_opts o;

    if (sha256_final(&u->sha, &u->digest) < 0) {
        u->rc = err_set(&u->err, ERR_INTERNAL, "sha256 failed");
        return;
    }
    o.conninfo = u->api->cfg->db;
    o.staging = u->api->staging;
    o.blindly_trust_repo_root = u->api->cfg->blindly_trust_repo_root;
    o.piece_size = u->api->cfg->piece_size;
    u->rc = ingest_zip(&u->result, &o, u->path, &u->digest, u->file_name,
                       &u->err);
    if (u->rc < 0)
        log_info("repo_refused", "{s:s, s:s, s:s}", "file_name", u->file_name,
                 "error", err_name(u->rc), "message", u->err.msg);
}

static void ingest_done(void *arg)
{
    finish(arg);
}

static void kick(struct upload *u);

static void write_done(void *arg)
{
    struct upload *u = arg;

    u->writing = false;
    if (u->aborted) {
        upload_free(u); /* nobody to answer */
        return;
    }
    if (u->paused && evbuffer_get_length(u->pending) < UPLOAD_PENDING_MAX / 2) {
        u->paused = false;
        httpd_req_pause_read(u->req, false); /* resumes from the loop */
    }
    kick(u);
}

/* Start the next step: write pending bytes, or ingest after the end. */
static void kick(struct upload *u)
{
    if (u->writing)
        return;
    if (u->api->stopping && u->rc == 0)
        fail(u, ERR_UNAVAIL, "the replicator is shutting down");
    if (u->rc == 0 && evbuffer_get_length(u->pending) > 0) {
        evbuffer_add_buffer(u->inflight, u->pending);
        u->writing = true;
        if (workq_submit(u->api->wq, write_work, write_done, u) < 0) {
            u->writing = false;
            fail(u, ERR_NOMEM, "out of memory");
        }
        return;
    }
    if (!u->ended)
        return;
    if (u->rc == 0) {
        u->writing = true;
        if (workq_submit(u->api->wq, ingest_work, ingest_done, u) == 0)
            return;
        u->writing = false;
        fail(u, ERR_NOMEM, "out of memory");
    }
    finish(u);
}

static int on_data(struct httpd_req *req, struct evbuffer *in,
                   struct err *err, void *arg)
{
    struct upload *u = arg;
    size_t n = evbuffer_get_length(in);

    u->received += n;
    if (u->rc == 0 && u->api->stopping)
        fail(u, ERR_UNAVAIL, "the replicator is shutting down");
    if (u->rc < 0) {
        /* Stop reading: httpd replies with err and closes. */
        *err = u->err;
        u->aborted = true;
        if (!u->writing)
            upload_free(u);
        return u->rc;
    }
    if (evbuffer_add_buffer(u->pending, in) < 0)
        return err_set(err, ERR_NOMEM, "out of memory");
    if (evbuffer_get_length(u->pending) >= UPLOAD_PENDING_MAX && !u->paused) {
        u->paused = true;
        httpd_req_pause_read(req, true);
    }
    kick(u);
    return 0;
}

static void on_abort(struct httpd_req *req, void *arg)
{
    struct upload *u = arg;

    (void)req;
    log_info("upload_aborted", "{s:s, s:I}", "file_name", u->file_name,
             "received", (json_int_t)u->received);
    u->aborted = true;
    fail(u, ERR_IO, "client disconnected");
    if (!u->writing)
        upload_free(u);
}

void api_repo_request(struct httpd_req *r, void *arg)
{
    struct upload *u = httpd_req_data(r);

    (void)arg;
    u->ended = true;
    kick(u);
}

static bool file_name_ok(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > UPLOAD_FILE_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return false;
    return true;
}

void api_repo_headers(struct httpd_req *req, void *arg)
{
    struct api *a = arg;
    char file_name[UPLOAD_FILE_NAME_MAX + 1];
    struct upload *u = NULL;
    struct err err = ERR_INIT;
    int64_t cl = 0;
    int rc;

    rc = urlquery_get(file_name, sizeof(file_name), httpd_req_query(req),
                      "file_name", &err);
    if (rc < 0 || !file_name_ok(file_name)) {
        err_set(&err, ERR_INVAL, "query parameter file_name is required "
                "(1 to %d printable bytes)", UPLOAD_FILE_NAME_MAX);
        goto reject;
    }
    /* chunked: cl is -1 and the server caps the decoded size at the
     * listener's max_body_bytes, which is max_upload_bytes */
    if (httpd_req_body_length(req, &cl) < 0) {
        err_set(&err, ERR_INVAL, "Content-Length (or Transfer-Encoding: "
                "chunked) is required");
        goto reject;
    }
    if (cl > 0 && (uint64_t)cl > a->cfg->max_upload_bytes) {
        err_set(&err, ERR_TOOBIG, "repository zip of %llu bytes is over the "
                "%llu-byte limit of this replicator (--max-upload-bytes)",
                (unsigned long long)cl,
                (unsigned long long)a->cfg->max_upload_bytes);
        goto reject;
    }
    u = mem_calloc(1, sizeof(*u));
    if (!u) {
        err_set(&err, ERR_NOMEM, "out of memory");
        goto reject;
    }
    u->api = a;
    u->fd = -1;
    u->next = a->uploads;
    if (a->uploads)
        a->uploads->prev = u;
    a->uploads = u;
    u->pending = evbuffer_new();
    u->inflight = evbuffer_new();
    u->file_name = mem_strdup(file_name);
    if (!u->pending || !u->inflight || !u->file_name ||
        sha256_init(&u->sha) < 0) {
        err_set(&err, ERR_NOMEM, "out of memory");
        goto fail;
    }
    rc = staging_tmp_path(&u->path, a->staging, "uploads", ".zip", &err);
    if (rc < 0)
        goto fail;
    /* opening a new file in a local directory does not block for long */
    u->fd = open(u->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
    if (u->fd < 0) {
        err_set(&err, ERR_IO, "staging upload: %s", strerror(errno));
        goto fail;
    }
    if (a->cfg->blindly_trust_repo_root)
        log_warn("blindly_trusting_repo_root", "{s:s, s:s}", "file_name",
                 file_name, "message",
                 "uploads are verified against their own root.json "
                 "(--blindly-trust-repo-root): tests and demos only");
    log_info("upload_started", "{s:s, s:I, s:s}", "file_name", file_name,
             "length", (json_int_t)cl, "request_id", httpd_req_id(req));
    httpd_req_ref(req);
    u->req = req;
    httpd_req_set_data(req, u);
    if (cl == 0) {
        u->ended = true; /* api_repo_request runs at once */
        return;
    }
    httpd_req_stream(req, on_data, on_abort, u);
    return;
fail:
    upload_free(u);
reject:
    httpd_req_reject(req, &err);
}

void api_repo_free_all(struct api *a)
{
    while (a->uploads) {
        struct upload *u = a->uploads;

        httpd_reply_error(u->req, 503, NULL,
                          "the replicator is shutting down");
        upload_free(u);
    }
}
