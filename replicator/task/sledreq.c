/* SPDX-License-Identifier: MPL-2.0 */
/*
 * sledreq: asynchronous HTTP requests to sleds over common/httpc's loop
 * driver (see sledreq.h). An upload body never touches the disk on the
 * loop: the staged file is opened and read on a worker (common/workq)
 * into one of two 64 KiB buffers while the request's read callback
 * drains the other; when both are empty the callback pauses the transfer
 * and the worker's completion resumes it. The request is handed to the
 * loop only once the file opened and its first piece was read, so an
 * unreadable file never reaches the sled. Memory per upload:
 * 2 x SLEDREQ_CHUNK. Loop thread only, except fill_work (worker).
 */
#include "replicator/task/sledreq.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/api_version.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/httpc.h"
#include "common/jsonutil.h"
#include "common/limits.h"
#include "common/mem.h"
#include "common/tls.h"
#include "common/workq.h"

#define SLEDREQ_ERR_MAX 256

/*
 * The body of an upload. The worker owns fd, off, eof, fill_errno and
 * next[] while `filling`; the loop owns the rest. Freed by the loop:
 * by sledreq_free when no fill is in flight, else by the fill's
 * completion once the request is gone (q NULL).
 */
struct upload {
    struct sledreq *q;       /* NULL: orphaned, free on fill completion */
    char *path;
    int fd;
    uint64_t len;            /* Content-Length */
    uint64_t off;            /* bytes read from the file (worker) */
    int fill_errno;          /* worker: open/read error, or -1 short */
    char *cur, *next;        /* SLEDREQ_CHUNK each */
    size_t cur_len, cur_pos, next_len;
    bool next_ready;         /* next[] holds next_len unread bytes */
    bool filling;            /* a fill job is in flight */
    bool paused;             /* curl's read callback returned PAUSE */
    bool failed;             /* fill_errno seen on the loop */
};

struct sledreq {
    struct httpc_loop *loop;
    struct workq *wq;
    struct httpc *h;
    struct upload *upload;
    char *body;              /* the JSON body httpc sends from memory */
    bool started;            /* handed to curl (or failed before) */
    bool running;
    long status;
    bool unreachable;        /* curl failed: no answer from the peer */
    unsigned retry_after;
    char error[SLEDREQ_ERR_MAX];
    char error_code[48];
    sledreq_done_fn done;
    void *arg;
};

static void upload_free(struct upload *u)
{
    if (!u)
        return;
    if (u->fd >= 0)
        close(u->fd);
    mem_free(u->path);
    mem_free(u->cur);
    mem_free(u->next);
    mem_free(u);
}

/* Worker: open on first use, then read the next piece into next[]. */
static void fill_work(void *arg)
{
    struct upload *u = arg;
    uint64_t left = u->len - u->off;
    size_t want = left < SLEDREQ_CHUNK ? (size_t)left : SLEDREQ_CHUNK;
    size_t got = 0;

    if (u->fd < 0) {
        u->fd = open(u->path, O_RDONLY | O_CLOEXEC);
        if (u->fd < 0) {
            u->fill_errno = errno;
            return;
        }
    }
    while (got < want) {
        ssize_t k = read(u->fd, u->next + got, want - got);

        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            u->fill_errno = errno;
            return;
        }
        if (k == 0) {
            u->fill_errno = -1; /* shorter than its recorded length */
            return;
        }
        got += (size_t)k;
    }
    u->next_len = got;
    u->off += got;
}

static void fill_done(void *arg);

static int fill_start(struct upload *u)
{
    if (u->filling || u->next_ready || u->off >= u->len || u->failed)
        return 0;
    u->filling = true;
    if (workq_submit(u->q->wq, fill_work, fill_done, u) < 0) {
        u->filling = false;
        return ERR_NOMEM;
    }
    return 0;
}

static void fail_now(struct sledreq *q, const char *msg);
static void on_done(struct httpc *h, void *arg);

/* Loop: a piece is in next[] (or the read failed). */
static void fill_done(void *arg)
{
    struct upload *u = arg;
    struct sledreq *q = u->q;

    u->filling = false;
    if (!q) {
        upload_free(u);
        return;
    }
    if (u->fill_errno) {
        u->failed = true;
        snprintf(q->error, sizeof(q->error), "cannot read the staged file: %s",
                 u->fill_errno > 0 ? strerror(u->fill_errno)
                                   : "shorter than its length");
    } else {
        u->next_ready = true;
    }
    if (!q->started) {
        /* The first piece: only now does the request go out. */
        q->started = true;
        if (u->failed)
            fail_now(q, NULL);
        else if (httpc_start(q->loop, q->h, on_done, q) < 0)
            fail_now(q, "curl refused the request");
        else
            q->running = true;
        return;
    }
    if (u->paused) {
        u->paused = false;
        /* The read callback runs again and sees next[] or the failure.
         * Nothing touches u after this: the transfer may end. */
        httpc_unpause(q->h);
    }
}

static int on_read(size_t *out, char *p, size_t room, void *arg)
{
    struct sledreq *q = arg;
    struct upload *u = q->upload;
    size_t k;
    char *tmp;

    *out = 0;
    if (u->cur_pos == u->cur_len && u->next_ready) {
        tmp = u->cur;
        u->cur = u->next;
        u->next = tmp;
        u->cur_len = u->next_len;
        u->cur_pos = 0;
        u->next_ready = false;
        u->next_len = 0;
        if (fill_start(u) < 0)
            return ERR_NOMEM;
    }
    if (u->cur_pos < u->cur_len) {
        k = u->cur_len - u->cur_pos;
        if (k > room)
            k = room;
        memcpy(p, u->cur + u->cur_pos, k);
        u->cur_pos += k;
        *out = k;
        return 0;
    }
    if (u->failed)
        return ERR_IO;
    if (u->off >= u->len && !u->filling)
        return 0; /* every byte went out */
    u->paused = true;
    return HTTPC_PAUSE;
}

static void describe(struct sledreq *q)
{
    json_t *j;
    const char *msg, *code;

    if (httpc_result(q->h, NULL) < 0) {
        snprintf(q->error, sizeof(q->error), "%s",
                 httpc_tls_refused(q->h) ? httpc_tls_refused(q->h)
                                         : httpc_curl_text(q->h));
        /* No answer at all, and not our own abort (memory, a callback). */
        q->unreachable = q->status == 0 && httpc_peer_failed(q->h);
        q->status = 0;
        return;
    }
    if (q->status >= 200 && q->status <= 299)
        return;
    j = sledreq_json(q);
    msg = j ? jsonu_str(j, "message") : NULL;
    code = j ? jsonu_str(j, "error_code") : NULL;
    if (code)
        snprintf(q->error_code, sizeof(q->error_code), "%s", code);
    snprintf(q->error, sizeof(q->error), "HTTP %ld%s%s%s%s", q->status,
             code ? " " : "", code ? code : "", msg ? ": " : "",
             msg ? msg : "");
    json_decref(j);
}

static void on_done(struct httpc *h, void *arg)
{
    struct sledreq *q = arg;
    uint64_t ra = httpc_retry_after(h);

    q->running = false;
    q->status = httpc_status(h);
    q->retry_after = ra > 3600 ? 3600 : (unsigned)ra;
    if (httpc_result(h, NULL) < 0 && q->upload && q->upload->failed)
        q->status = 0; /* keep "cannot read the staged file: ..." */
    else
        describe(q);
    q->done(q, q->arg);
}

/* End the request without a response (loop, never inside start). */
static void fail_now(struct sledreq *q, const char *msg)
{
    if (msg)
        snprintf(q->error, sizeof(q->error), "%s", msg);
    q->status = 0;
    q->done(q, q->arg);
}

static int upload_new(struct sledreq *q, const struct sledreq_opts *o)
{
    struct upload *u = mem_calloc(1, sizeof(*u));

    q->upload = u;
    if (!u)
        return ERR_NOMEM;
    q->wq = o->wq;
    u->fd = -1;
    u->q = q;
    u->len = o->upload_len;
    u->path = mem_strdup(o->upload_path);
    u->cur = mem_alloc(SLEDREQ_CHUNK);
    u->next = mem_alloc(SLEDREQ_CHUNK);
    if (!u->path || !u->cur || !u->next)
        return ERR_NOMEM;
    return 0;
}

static void spec_init(struct httpc_spec *sp, struct sledreq *q,
                      const struct sledreq_opts *o)
{
    memset(sp, 0, sizeof(*sp));
    sp->method = o->method;
    sp->url = o->url;
    sp->api_version = API_VERSION_SLED_AGENT;
    sp->connect_ms = 1000L * (o->connect_secs > 0 ? o->connect_secs : 10L);
    /* No-progress bound, not a total timeout. */
    sp->stall_secs = o->stall_secs > 0 ? o->stall_secs : 30L;
    /* Small requests only: a sled that accepts the connection and never
     * answers (SIGSTOP, a partition) must not hold its caller for the
     * no-progress bound. */
    sp->total_ms = o->total_secs > 0 ? 1000L * o->total_secs : 0;
    sp->max_send_bps = o->send_bps;
    if (o->tls && o->tls->cert_file) {
        sp->tls = *o->tls;
        sp->tls.roles = HTTPC_ROLE(TLS_ROLE_SLED);
        sp->tls.peer_id = o->peer_id;
    }
    sp->sink.kind = HTTPC_SINK_BUF;
    sp->sink.cap = LIMIT_HTTP_RESPONSE;
    sp->sink.truncate = true; /* keep the transfer alive, report no JSON */
    sp->arg = q;
    if (q->body) {
        sp->body.kind = HTTPC_BODY_MEM;
        sp->body.data = q->body;
        sp->body.len = strlen(q->body);
        sp->body.content_type = "application/json";
    } else if (o->upload_path) {
        sp->body.kind = HTTPC_BODY_READ;
        sp->body.len = o->upload_len;
        sp->body.content_type = "application/octet-stream";
        sp->read = on_read;
    }
}

int sledreq_start(struct sledreq **out, struct httpc_loop *loop,
                  const struct sledreq_opts *o, sledreq_done_fn done,
                  void *arg)
{
    struct sledreq *q = mem_calloc(1, sizeof(*q));
    struct httpc_spec sp;
    int rc = 0;

    *out = NULL;
    if (!q)
        return ERR_NOMEM;
    q->loop = loop;
    q->done = done;
    q->arg = arg;
    if (o->json_body && !(q->body = mem_strdup(o->json_body))) {
        rc = ERR_NOMEM;
        goto out;
    }
    if (!q->body && o->upload_path) {
        rc = o->wq ? upload_new(q, o) : ERR_INTERNAL;
        if (rc < 0)
            goto out;
    }
    spec_init(&sp, q, o);
    if ((rc = httpc_new(&q->h, &sp, NULL)) < 0)
        goto out;
    /* With an upload, open and read the first piece on a worker first;
     * fill_done hands the request to the loop. */
    if (q->upload)
        rc = fill_start(q->upload);
    else if ((rc = httpc_start(loop, q->h, on_done, q)) == 0)
        q->started = q->running = true;
    if (rc < 0)
        goto out;
    *out = q;
    q = NULL;
out:
    sledreq_free(q);
    return rc;
}

long sledreq_status(const struct sledreq *q)
{
    return q->status;
}

const char *sledreq_error(const struct sledreq *q)
{
    return q->error;
}

const char *sledreq_error_code(const struct sledreq *q)
{
    return q->error_code;
}

json_t *sledreq_json(const struct sledreq *q)
{
    const struct buf *b = q->h ? httpc_body(q->h) : NULL;

    if (!b || !b->len || httpc_truncated(q->h))
        return NULL;
    return jsonu_loadb(b->data, b->len, LIMIT_HTTP_RESPONSE, NULL);
}

unsigned sledreq_retry_after(const struct sledreq *q)
{
    return q->retry_after;
}

bool sledreq_unreachable(const struct sledreq *q)
{
    return q->unreachable;
}

bool sledreq_running(const struct sledreq *q)
{
    return q->running;
}

void sledreq_set_send_bps(struct sledreq *q, uint64_t bps)
{
    httpc_set_send_bps(q->h, bps);
}

void sledreq_free(struct sledreq *q)
{
    if (!q)
        return;
    httpc_free(q->h); /* cancels it if running: no done call */
    if (q->upload && q->upload->filling)
        q->upload->q = NULL; /* the fill's completion frees it */
    else
        upload_free(q->upload);
    mem_free(q->body);
    mem_free(q);
}
