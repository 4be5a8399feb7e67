/* SPDX-License-Identifier: MPL-2.0 */
/*
 * sledreq: asynchronous HTTP requests to sleds over curlev (see
 * sledreq.h). Reading a staged file for an upload happens in curl's read
 * callback on the loop: reads of a local file in 64 KiB pieces, bounded
 * by curl's upload buffer. Loop thread only.
 */
#include "replicator/task/sledreq.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "common/buf.h"
#include "common/curlev.h"
#include "common/err.h"
#include "common/jsonutil.h"
#include "common/mem.h"
#include "common/parse.h"

#define SLEDREQ_ERR_MAX 256

struct sledreq {
    struct curlev *cv;
    CURL *easy;
    struct curl_slist *hdrs;
    FILE *upload;
    char *url;
    char *body;
    struct buf resp;
    bool truncated;
    bool running;
    long status;
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

static size_t on_read(char *p, size_t sz, size_t n, void *arg)
{
    struct sledreq *q = arg;
    size_t got = fread(p, 1, sz * n, q->upload);

    if (got == 0 && ferror(q->upload))
        return CURL_READFUNC_ABORT;
    return got;
}

static void describe(struct sledreq *q, CURLcode res)
{
    json_t *j;
    const char *msg, *code;

    if (res != CURLE_OK) {
        snprintf(q->error, sizeof(q->error), "%s", curl_easy_strerror(res));
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
    describe(q, res);
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
        q->upload = fopen(o->upload_path, "rbe");
        if (!q->upload) {
            rc = ERR_IO;
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
    rc = curlev_add(cv, q->easy, on_done, q);
    if (rc < 0)
        goto out;
    q->running = true;
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

void sledreq_free(struct sledreq *q)
{
    if (!q)
        return;
    if (q->running)
        curlev_remove(q->cv, q->easy);
    if (q->easy)
        curl_easy_cleanup(q->easy);
    curl_slist_free_all(q->hdrs);
    if (q->upload)
        fclose(q->upload);
    buf_release(&q->resp);
    mem_free(q->url);
    mem_free(q->body);
    mem_free(q);
}
