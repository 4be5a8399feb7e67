/* SPDX-License-Identifier: MPL-2.0 */
/*
 * rack_http: synchronous GETs with a total timeout for rack-sim, and a
 * Prometheus counter reader. See rack_http.h. Main thread only.
 */
#include "sim/rack_http.h"

#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "common/buf.h"
#include "common/err.h"

#define HTTP_MAX_BODY (16u << 20)

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
    struct buf *b = arg;
    size_t len = size * n;

    if (b->len + len > HTTP_MAX_BODY || buf_append(b, p, len) < 0)
        return 0;
    return len;
}

int rack_http_get(long *status, struct buf *body, const char *url,
                  long timeout_ms, struct err *err)
{
    CURL *c = curl_easy_init();
    CURLcode cc;
    int rc = 0;

    *status = 0;
    if (!c)
        return err_set(err, ERR_NOMEM, "out of memory");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    cc = curl_easy_perform(c);
    if (cc == CURLE_OPERATION_TIMEDOUT)
        rc = err_set(err, ERR_TIMEOUT, "GET %s: no answer within %ld ms", url,
                     timeout_ms);
    else if (cc == CURLE_WRITE_ERROR)
        rc = err_set(err, ERR_LIMIT, "GET %s: body over %u bytes", url,
                     HTTP_MAX_BODY);
    else if (cc != CURLE_OK)
        rc = err_set(err, ERR_UPSTREAM, "GET %s: %s", url,
                     curl_easy_strerror(cc));
    else
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    curl_easy_cleanup(c);
    return rc;
}

int rack_http_get_json(json_t **out, const char *url, long timeout_ms,
                       struct err *err)
{
    struct buf b = BUF_INIT;
    json_error_t je;
    long status = 0;
    int rc = rack_http_get(&status, &b, url, timeout_ms, err);

    *out = NULL;
    if (rc < 0)
        goto out;
    if (status != 200) {
        rc = err_set(err, ERR_UPSTREAM, "GET %s: %ld %.*s", url, status,
                     (int)(b.len > 160 ? 160 : b.len), b.data ? b.data : "");
        goto out;
    }
    *out = json_loadb(b.data ? b.data : "", b.len, 0, &je);
    if (!*out)
        rc = err_set(err, ERR_UPSTREAM, "GET %s: bad JSON: %s", url, je.text);
out:
    buf_release(&b);
    return rc;
}

uint64_t rack_metric_sum(const char *text, const char *name)
{
    size_t nl = strlen(name);
    uint64_t sum = 0;
    const char *p = text;

    while (p && *p) {
        const char *eol = strchr(p, '\n');

        if (*p != '#' && strncmp(p, name, nl) == 0 &&
            (p[nl] == ' ' || p[nl] == '{')) {
            const char *v = p + nl;

            if (*v == '{')
                v = strchr(v, '}');
            if (v && (!eol || v < eol)) {
                v++;
                sum += strtoull(v, NULL, 10);
            }
        }
        p = eol ? eol + 1 : NULL;
    }
    return sum;
}
