/* SPDX-License-Identifier: MPL-2.0 */
/*
 * ui: the replicator's status page (issue 15; docs/OPERATOR.md "Status
 * page"). Its files (replicator/ui/: index.html, app.css, app.js) are
 * compiled into the binary (cmake/EmbedFiles.cmake -> ui_assets[]). The
 * API serves them to the operator role (api_routes.c); --ui-listen adds a
 * plaintext loopback-only listener that serves the page and the task
 * status it polls, and nothing else. Read-only. Loop thread.
 */
#ifndef REPLICATOR_UI_H
#define REPLICATOR_UI_H

#include <stddef.h>
#include <stdint.h>

struct err;
struct event_base;
struct httpd_req;
struct task;

struct ui_asset {
    const char *path;  /* "/ui", "/ui/app.js" */
    const char *ctype; /* Content-Type */
    const unsigned char *data;
    size_t len;
};

extern const struct ui_asset ui_assets[];
extern const size_t ui_assets_count;

/* The embedded file at path, or NULL. */
const struct ui_asset *ui_asset_find(const char *path);

/*
 * Route handler (GET): the asset at the request's path ("/" is the page),
 * with a Content-Security-Policy that allows this origin only, no
 * framing, no sniffing and no caching; 404 for any other path.
 */
void ui_reply_asset(struct httpd_req *r, void *arg);

/* The listener's route table (static), for docs checks. */
struct httpd_route;
const struct httpd_route *ui_routes(size_t *n);

struct ui_listener;

/*
 * Serve the page and GET /background-tasks/tuf_artifact_replication on
 * host:port (port 0 picks one; config.c checked host is loopback) until
 * ui_listener_free. The status answers 404 until ui_listener_set_task.
 * Returns 0, ERR_NOMEM or ERR_IO (bind failed; err says why).
 */
int ui_listener_new(struct ui_listener **out, struct event_base *base,
                    const char *host, uint16_t port, struct err *err);
void ui_listener_set_task(struct ui_listener *l, struct task *t);
uint16_t ui_listener_port(const struct ui_listener *l);
void ui_listener_stop_accepting(struct ui_listener *l);
void ui_listener_free(struct ui_listener *l);

#endif
