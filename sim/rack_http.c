/* SPDX-License-Identifier: MPL-2.0 */
/*
 * rack_http: synchronous GETs with a total timeout for rack-sim, over
 * mutual TLS once set (the process-wide settings below), and a Prometheus
 * counter reader. See rack_http.h. Main thread only.
 */
#include "sim/rack_http.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/api_version.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/httpc.h"
#include "common/limits.h"
#include "common/mem.h"
#include "common/tls.h"

/* Process-wide TLS (rack_http_set_tls); no cert_file: plaintext. */
static struct httpc_tls tls;
static char *tls_files[3];

int rack_http_set_tls(const char *ca, const char *cert, const char *key,
                      unsigned roles, struct err *err)
{
    const char *in[3] = {ca, cert, key};
    struct httpc_tls none = {0};

    for (int i = 0; i < 3; i++) {
        mem_free(tls_files[i]);
        tls_files[i] = NULL;
    }
    tls = none;
    if (!ca && !cert && !key)
        return 0;
    if (!ca || !cert || !key)
        return err_set(err, ERR_INVAL, "TLS needs a CA, a certificate and a "
                       "key");
    for (int i = 0; i < 3; i++)
        if (!(tls_files[i] = mem_strdup(in[i])))
            return err_set(err, ERR_NOMEM, "out of memory");
    tls.ca_file = tls_files[0];
    tls.cert_file = tls_files[1];
    tls.key_file = tls_files[2];
    tls.roles = roles ? roles
                      : HTTPC_ROLE(TLS_ROLE_SLED) |
                            HTTPC_ROLE(TLS_ROLE_CONTROLLER);
    return 0;
}

int rack_http_get(long *status, struct buf *body, const char *url,
                  long timeout_ms, struct err *err)
{
    struct httpc_spec sp = {0};
    struct httpc *h = NULL;
    const struct buf *b;
    int rc;

    *status = 0;
    sp.url = url;
    sp.api_version = API_VERSION_FIRST;
    sp.total_ms = timeout_ms;
    sp.connect_ms = timeout_ms;
    sp.no_proxy = true;
    sp.tls = tls;
    if ((rc = httpc_new(&h, &sp, err)) < 0)
        return rc;
    rc = httpc_run(h, NULL);
    b = httpc_body(h);
    if (rc == ERR_TIMEOUT)
        rc = err_set(err, rc, "GET %s: no answer within %ld ms", url,
                     timeout_ms);
    else if (rc == ERR_LIMIT)
        rc = err_set(err, rc, "GET %s: body over %u bytes", url,
                     LIMIT_HTTP_RESPONSE);
    else if (rc == ERR_NOMEM)
        rc = err_set(err, rc, "out of memory");
    else if (rc < 0)
        rc = err_set(err, ERR_UPSTREAM, "GET %s: %s", url,
                     httpc_tls_refused(h) ? httpc_tls_refused(h)
                                          : httpc_curl_text(h));
    else if (buf_append(body, b->data, b->len) < 0)
        rc = err_set(err, ERR_NOMEM, "out of memory");
    else
        *status = httpc_status(h);
    httpc_free(h);
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
