/* SPDX-License-Identifier: MPL-2.0 */
/*
 * depot: the sledagent's repo depot (DESIGN.md section 2), the peers'
 * side of the node: its route table (routes[] below) and its one handler,
 * which sends a stored artifact zero-copy (sendfile), whole or one byte
 * range (206, 416). Loop thread only.
 */
#include "sledagent/depot.h"

#include <stdio.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "common/err.h"
#include "common/httpd.h"
#include "common/httpd_route.h"
#include "common/sha256.h"
#include "sledagent/agent_internal.h"
#include "sledagent/range.h"

static void depot_request(struct httpd_req *r, void *arg)
{
    struct agent *a = arg;
    struct err err = ERR_INIT;
    struct sha256 h;
    struct range rg;
    struct evbuffer *b = NULL;
    char cr[80];
    uint64_t size;
    int fd = -1;
    enum range_result rr;

    httpd_req_sha256(&h, r, 0);
    if (store_open_artifact(a->st, &h, &fd, &size, &err) < 0) {
        httpd_reply_err(r, &err);
        return;
    }
    httpd_req_add_header(r, "Accept-Ranges", "bytes");
    rr = range_parse(&rg, httpd_req_header(r, "Range"), size);
    if (rr == RANGE_UNSATISFIABLE) {
        snprintf(cr, sizeof(cr), "bytes */%llu", (unsigned long long)size);
        httpd_req_add_header(r, "Content-Range", cr);
        httpd_reply_error(r, 416, NULL, "range not satisfiable");
        close(fd);
        return;
    }
    b = evbuffer_new();
    /* evbuffer_add_file takes fd (closed when sent) and uses sendfile. */
    if (!b || (rg.len > 0 && evbuffer_add_file(b, fd, (ev_off_t)rg.start,
                                               (ev_off_t)rg.len) < 0)) {
        close(fd);
        httpd_reply_error(r, 500, NULL, "cannot queue the file");
        goto out;
    }
    if (rg.len == 0)
        close(fd);
    if (rr == RANGE_PARTIAL) {
        snprintf(cr, sizeof(cr), "bytes %llu-%llu/%llu",
                 (unsigned long long)rg.start,
                 (unsigned long long)(rg.start + rg.len - 1),
                 (unsigned long long)size);
        httpd_req_add_header(r, "Content-Range", cr);
    }
    httpd_reply_evbuffer(r, rr == RANGE_PARTIAL ? 206 : 200,
                         "application/octet-stream", b);
out:
    if (b)
        evbuffer_free(b);
}

/* The depot, whole: docs/API.md lists exactly this (test_route_docs). */
static const struct httpd_route routes[] = {
    {.name = "depot_get", .methods = HTTPD_M_GET | HTTPD_M_HEAD,
     .pattern = "/artifact/sha256/{sha256}", .on_request = depot_request,
     .roles = HTTPD_ROLE_SLED | HTTPD_ROLE_CONTROLLER},
};

const struct httpd_route *depot_routes(size_t *n)
{
    *n = sizeof(routes) / sizeof(routes[0]);
    return routes;
}
