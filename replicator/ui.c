/* SPDX-License-Identifier: MPL-2.0 */
/*
 * ui: the status page's assets and its loopback listener (see ui.h). The
 * listener's route table (routes[] below; docs/OPERATOR.md "Status page"
 * lists it) has the page, its two files and the task status, all GET.
 * Loop thread.
 */
#include "replicator/ui.h"

#include <string.h>

#include "common/err.h"
#include "common/httpd.h"
#include "common/httpd_route.h"
#include "common/mem.h"
#include "replicator/api_task.h"

/* This origin only: no inline script or style, no other host, no frame
 * around the page (the operator's view cannot be overlaid by another
 * site). connect-src 'self' is the status poll. */
#define UI_CSP                                                               \
    "default-src 'none'; script-src 'self'; style-src 'self'; "              \
    "connect-src 'self'; img-src 'self' data:; base-uri 'none'; "            \
    "form-action 'none'; frame-ancestors 'none'"

struct ui_listener {
    struct httpd *srv;
    struct task *task;
};

const struct ui_asset *ui_asset_find(const char *path)
{
    if (!strcmp(path, "/"))
        path = "/ui";
    for (size_t i = 0; i < ui_assets_count; i++)
        if (!strcmp(ui_assets[i].path, path))
            return &ui_assets[i];
    return NULL;
}

void ui_reply_asset(struct httpd_req *r, void *arg)
{
    const struct ui_asset *a = ui_asset_find(httpd_req_path(r));

    (void)arg;
    if (!a) {
        httpd_reply_error(r, 404, NULL, "no such endpoint");
        return;
    }
    httpd_req_add_header(r, "Content-Security-Policy", UI_CSP);
    httpd_req_add_header(r, "X-Content-Type-Options", "nosniff");
    httpd_req_add_header(r, "X-Frame-Options", "DENY");
    httpd_req_add_header(r, "Referrer-Policy", "no-referrer");
    httpd_req_add_header(r, "Cache-Control", "no-store");
    httpd_reply_data(r, 200, a->ctype, a->data, a->len);
}

static void ui_status(struct httpd_req *r, void *arg)
{
    struct ui_listener *l = arg;

    if (!l->task) {
        httpd_reply_error(r, 404, NULL, "no such endpoint");
        return;
    }
    api_task_status(l->task, r);
}

/* Plaintext and loopback only: no role is checked (httpd_route.h). */
static const struct httpd_route routes[] = {
    {.name = "ui", .methods = HTTPD_M_GET, .pattern = "/",
     .on_request = ui_reply_asset},
    {.name = "ui", .methods = HTTPD_M_GET, .pattern = "/ui",
     .on_request = ui_reply_asset},
    {.name = "ui", .methods = HTTPD_M_GET, .pattern = "/ui/app.css",
     .on_request = ui_reply_asset},
    {.name = "ui", .methods = HTTPD_M_GET, .pattern = "/ui/app.js",
     .on_request = ui_reply_asset},
    {.name = "task_status", .methods = HTTPD_M_GET,
     .pattern = "/background-tasks/tuf_artifact_replication",
     .on_request = ui_status},
};

const struct httpd_route *ui_routes(size_t *n)
{
    *n = sizeof(routes) / sizeof(routes[0]);
    return routes;
}

int ui_listener_new(struct ui_listener **out, struct event_base *base,
                    const char *host, uint16_t port, struct err *err)
{
    static const char *const versions[] = {"1.0.0"};
    struct ui_listener *l = mem_calloc(1, sizeof(*l));
    struct httpd_opts opts;
    struct httpd_service svc;
    int rc;

    *out = NULL;
    if (!l)
        return err_set(err, ERR_NOMEM, "out of memory");
    memset(&opts, 0, sizeof(opts));
    opts.host = host;
    opts.port = port;
    opts.name = "ui";
    memset(&svc, 0, sizeof(svc));
    svc.routes = ui_routes(&svc.nroutes);
    svc.api_versions = versions;
    svc.n_api_versions = 1;
    svc.arg = l;
    rc = httpd_new(&l->srv, base, &opts, &svc, err);
    if (rc < 0) {
        mem_free(l);
        return rc;
    }
    *out = l;
    return 0;
}

void ui_listener_set_task(struct ui_listener *l, struct task *t)
{
    l->task = t;
}

uint16_t ui_listener_port(const struct ui_listener *l)
{
    return httpd_port(l->srv);
}

void ui_listener_stop_accepting(struct ui_listener *l)
{
    if (l)
        httpd_stop_accepting(l->srv);
}

void ui_listener_free(struct ui_listener *l)
{
    if (!l)
        return;
    httpd_free(l->srv);
    mem_free(l);
}
