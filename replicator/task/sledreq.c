/* SPDX-License-Identifier: MPL-2.0 */
/*
 * sledreq: asynchronous HTTP requests to sleds over curlev (see
 * sledreq.h). An upload body never touches the disk on the loop: the
 * staged file is opened and read on a worker (common/workq) into one of
 * two 64 KiB buffers while curl's read callback drains the other; when
 * both are empty the callback pauses the transfer and the worker's
 * completion resumes it. The request is handed to curl only once the
 * file opened and its first piece was read, so an unreadable file never
 * reaches the sled. Memory per upload: 2 x SLEDREQ_CHUNK. Loop thread
 * only, except fill_work (worker).
 */
#include "replicator/task/sledreq.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>

#include "common/buf.h"
#include "common/curlev.h"
#include "common/err.h"
#include "common/jsonutil.h"
#include "common/mem.h"
#include "common/parse.h"
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
    struct curlev *cv;
    struct workq *wq;
    CURL *easy;
    struct curl_slist *hdrs;
    struct upload *upload;
    char *url;
    char *body;
    struct buf resp;
    bool truncated;
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

static size_t on_write(char *p, size_t sz, size_t n, void *arg)
{
    struct sledreq *q = arg;
    size_t len = sz * n;

    if (q->resp.len + len > SLEDREQ_RESPONSE_MAX) {
        q->truncated = true;
        return len; /* drop the excess, keep the transfer alive */
    }
    if (buf_append(&q->resp, p, len) < 0)
        return 0;
    return len;
}

static size_t on_header(char *p, size_t sz, size_t n, void *arg)
{
    struct sledreq *q = arg;
    size_t len = sz * n;
    char val[32];
    uint64_t v;

    if (len > 12 && !strncasecmp(p, "Retry-After:", 12)) {
        size_t vl = len - 12, k = 0;
        const char *s = p + 12;

        while (vl && (*s == ' ' || *s == '\t')) {
            s++;
            vl--;
        }
        while (k < vl && k + 1 < sizeof(val) && s[k] >= '0' && s[k] <= '9') {
            val[k] = s[k];
            k++;
        }
        val[k] = '\0';
        if (k && parse_u64(&v, val) == 0)
            q->retry_after = v > 3600 ? 3600 : (unsigned)v;
    }
    return len;
}

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
static void on_done(CURL *easy, CURLcode res, void *arg);

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
        else if (curlev_add(q->cv, q->easy, on_done, q) < 0)
            fail_now(q, "curl refused the request");
        else
            q->running = true;
        return;
    }
    if (u->paused) {
        u->paused = false;
        /* The read callback runs again and sees next[] or the failure.
         * Nothing touches u after this: the transfer may end. */
        curlev_unpause(q->cv, q->easy);
    }
}

static size_t on_read(char *p, size_t sz, size_t n, void *arg)
{
    struct sledreq *q = arg;
    struct upload *u = q->upload;
    size_t room = sz * n, k;
    char *tmp;

    if (u->cur_pos == u->cur_len && u->next_ready) {
        tmp = u->cur;
        u->cur = u->next;
        u->next = tmp;
        u->cur_len = u->next_len;
        u->cur_pos = 0;
        u->next_ready = false;
        u->next_len = 0;
        if (fill_start(u) < 0)
            return CURL_READFUNC_ABORT;
    }
    if (u->cur_pos < u->cur_len) {
        k = u->cur_len - u->cur_pos;
        if (k > room)
            k = room;
        memcpy(p, u->cur + u->cur_pos, k);
        u->cur_pos += k;
        return k;
    }
    if (u->failed)
        return CURL_READFUNC_ABORT;
    if (u->off >= u->len && !u->filling)
        return 0; /* every byte went out */
    u->paused = true;
    return CURL_READFUNC_PAUSE;
}

static void describe(struct sledreq *q, CURLcode res)
{
    json_t *j;
    const char *msg, *code;

    if (res != CURLE_OK) {
        snprintf(q->error, sizeof(q->error), "%s", curl_easy_strerror(res));
        /* No answer at all, and not our own abort (memory, a callback). */
        q->unreachable = q->status == 0 && res != CURLE_ABORTED_BY_CALLBACK &&
                         res != CURLE_WRITE_ERROR && res != CURLE_READ_ERROR &&
                         res != CURLE_OUT_OF_MEMORY;
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

static void on_done(CURL *easy, CURLcode res, void *arg)
{
    struct sledreq *q = arg;

    q->running = false;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &q->status);
    if (res != CURLE_OK && q->upload && q->upload->failed)
        q->status = 0; /* keep "cannot read the staged file: ..." */
    else
        describe(q, res);
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

int sledreq_start(struct sledreq **out, struct curlev *cv,
                  const struct sledreq_opts *o, sledreq_done_fn done,
                  void *arg)
{
    struct sledreq *q = mem_calloc(1, sizeof(*q));
    int rc = 0;

    *out = NULL;
    if (!q)
        return ERR_NOMEM;
    q->cv = cv;
    q->done = done;
    q->arg = arg;
    q->url = mem_strdup(o->url);
    q->easy = curl_easy_init();
    if (!q->url || !q->easy ||
        (o->json_body && !(q->body = mem_strdup(o->json_body)))) {
        rc = ERR_NOMEM;
        goto out;
    }
    curl_easy_setopt(q->easy, CURLOPT_URL, q->url);
    curl_easy_setopt(q->easy, CURLOPT_CUSTOMREQUEST, o->method);
    curl_easy_setopt(q->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(q->easy, CURLOPT_CONNECTTIMEOUT,
                     o->connect_secs > 0 ? o->connect_secs : 10L);
    /* No-progress bound, not a total timeout. */
    curl_easy_setopt(q->easy, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(q->easy, CURLOPT_LOW_SPEED_TIME,
                     o->stall_secs > 0 ? o->stall_secs : 30L);
    /* Small requests only: a sled that accepts the connection and never
     * answers (SIGSTOP, a partition) must not hold its caller for the
     * no-progress bound. */
    if (o->total_secs > 0)
        curl_easy_setopt(q->easy, CURLOPT_TIMEOUT, o->total_secs);
    if (o->send_bps)
        curl_easy_setopt(q->easy, CURLOPT_MAX_SEND_SPEED_LARGE,
                         (curl_off_t)o->send_bps);
    curl_easy_setopt(q->easy, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(q->easy, CURLOPT_WRITEDATA, q);
    curl_easy_setopt(q->easy, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(q->easy, CURLOPT_HEADERDATA, q);
    q->hdrs = curl_slist_append(q->hdrs, "Expect:");
    if (q->body) {
        q->hdrs = curl_slist_append(q->hdrs, "Content-Type: application/json");
        curl_easy_setopt(q->easy, CURLOPT_POSTFIELDS, q->body);
        curl_easy_setopt(q->easy, CURLOPT_POSTFIELDSIZE_LARGE,
                         (curl_off_t)strlen(q->body));
    } else if (o->upload_path) {
        if (!o->wq) {
            rc = ERR_INTERNAL;
            goto out;
        }
        q->wq = o->wq;
        q->upload = mem_calloc(1, sizeof(*q->upload));
        if (!q->upload) {
            rc = ERR_NOMEM;
            goto out;
        }
        q->upload->fd = -1;
        q->upload->q = q;
        q->upload->len = o->upload_len;
        q->upload->path = mem_strdup(o->upload_path);
        q->upload->cur = mem_alloc(SLEDREQ_CHUNK);
        q->upload->next = mem_alloc(SLEDREQ_CHUNK);
        if (!q->upload->path || !q->upload->cur || !q->upload->next) {
            rc = ERR_NOMEM;
            goto out;
        }
        q->hdrs = curl_slist_append(q->hdrs,
                                    "Content-Type: application/octet-stream");
        curl_easy_setopt(q->easy, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(q->easy, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(q->easy, CURLOPT_READDATA, q);
        curl_easy_setopt(q->easy, CURLOPT_INFILESIZE_LARGE,
                         (curl_off_t)o->upload_len);
    } else if (!strcmp(o->method, "POST") || !strcmp(o->method, "PUT")) {
        curl_easy_setopt(q->easy, CURLOPT_POSTFIELDS, "");
        curl_easy_setopt(q->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
    }
    if (!q->hdrs) {
        rc = ERR_NOMEM;
        goto out;
    }
    curl_easy_setopt(q->easy, CURLOPT_HTTPHEADER, q->hdrs);
    if (q->upload) {
        /* Open and read the first piece on a worker; fill_done hands the
         * request to curl. */
        rc = fill_start(q->upload);
        if (rc < 0)
            goto out;
    } else {
        rc = curlev_add(cv, q->easy, on_done, q);
        if (rc < 0)
            goto out;
        q->started = true;
        q->running = true;
    }
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
    if (!q->resp.len || q->truncated)
        return NULL;
    return jsonu_loadb(q->resp.data, q->resp.len, SLEDREQ_RESPONSE_MAX, NULL);
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
    curl_easy_setopt(q->easy, CURLOPT_MAX_SEND_SPEED_LARGE, (curl_off_t)bps);
}

void sledreq_free(struct sledreq *q)
{
    if (!q)
        return;
    if (q->running)
        curlev_remove(q->cv, q->easy);
    if (q->easy)
        curl_easy_cleanup(q->easy);
    curl_slist_free_all(q->hdrs);
    if (q->upload && q->upload->filling)
        q->upload->q = NULL; /* the fill's completion frees it */
    else
        upload_free(q->upload);
    buf_release(&q->resp);
    mem_free(q->url);
    mem_free(q->body);
    mem_free(q);
}
