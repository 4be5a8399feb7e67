/* SPDX-License-Identifier: MPL-2.0 */
/*
 * e2e_http: the e2e harness's own requests to the rack's services (the
 * replicator's URL and task status, a sled's metrics and depot), in the
 * rack's mode: URLs take its scheme (rack_url) and, on TLS, requests
 * present the operator's certificate (set by every state reload) or,
 * for the depot, which serves only sleds and controllers, replicator 0's.
 * Declared in e2e_util.h. cmocka main thread only.
 */
#include "tests/e2e/e2e_util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/err.h"
#include "sim/rack_http.h"
#include "sim/rack_pki.h"

void e2e_repl_url(char *out, size_t cap, const struct e2e *t, size_t i)
{
    rack_url(out, cap, &t->r, 'r', i, t->r.repls[i].port, "");
}

json_t *e2e_task(struct e2e *t, size_t i)
{
    char url[160];
    struct err err = ERR_INIT;
    json_t *doc = NULL;

    rack_url(url, sizeof(url), &t->r, 'r', i, t->r.repls[i].port,
             "/background-tasks/tuf_artifact_replication");
    if (rack_http_get_json(&doc, url, 10000, &err) < 0)
        fail_msg("task status of replicator %zu: %s", i, err.msg);
    return doc;
}

json_t *e2e_task_sled(json_t *st, const struct e2e *t, size_t k)
{
    json_t *e;
    size_t i;

    json_array_foreach(json_object_get(st, "sleds"), i, e) {
        const char *id = json_string_value(json_object_get(e, "id"));

        if (id && strcmp(id, t->r.sleds[k].id) == 0)
            return e;
    }
    return NULL;
}

uint64_t e2e_sled_metric(struct e2e *t, size_t k, const char *name)
{
    char url[128];
    struct buf b = BUF_INIT;
    struct err err = ERR_INIT;
    long status = 0;
    uint64_t v = 0;

    rack_url(url, sizeof(url), &t->r, 's', k, t->r.sleds[k].api_port,
             "/metrics");
    if (rack_http_get(&status, &b, url, 3000, &err) == 0 && status == 200 &&
        buf_putc(&b, '\0') == 0)
        v = rack_metric_sum(b.data, name);
    buf_release(&b);
    return v;
}

uint64_t e2e_rack_metric(struct e2e *t, const char *name)
{
    uint64_t v = 0;

    for (size_t k = 0; k < t->r.nsleds; k++)
        v += e2e_sled_metric(t, k, name);
    return v;
}

int e2e_depot_get(long *status, struct buf *body, struct e2e *t, size_t k,
                  const char *hash, struct err *err)
{
    char path[96], url[160];
    struct rack_cred c;
    int rc;

    snprintf(path, sizeof(path), "/artifact/sha256/%s", hash);
    rack_url(url, sizeof(url), &t->r, 's', k, t->r.sleds[k].depot_port,
             path);
    rack_cred_repl(&c, &t->r, 0);
    rack_pki_use_cred(&t->r, &c);
    rc = rack_http_get(status, body, url, 10000, err);
    rack_pki_use(&t->r);
    return rc;
}
