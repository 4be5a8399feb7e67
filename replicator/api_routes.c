/* SPDX-License-Identifier: MPL-2.0 */
/*
 * api_routes: the replicator API, whole, as one route table (routes[]
 * below; docs/OPERATOR.md lists exactly these, checked by
 * test_route_docs): repositories and uploads, staging, trust roots, the
 * reconciliation task, the sled registry, the generation commands,
 * the metrics, the artifacts' piece manifests and the status page. Also the API's gate
 * (503 once shutting down) and the thin adapters from the table to the
 * task's handlers (api_task.h), which answer 404 while no task is
 * attached (api_set_task). Loop thread only.
 */
#include "replicator/api_routes.h"
#include "replicator/api_internal.h"

#include "common/err.h"
#include "common/httpd.h"
#include "common/httpd_route.h"
#include "common/limits.h"
#include "replicator/api_task.h"
#include "replicator/ui.h"

#define UPDATE "/v1/system/update"
#define TASK "/background-tasks/tuf_artifact_replication"

int api_gate(struct httpd_req *r, struct err *err, void *arg)
{
    struct api *a = arg;

    (void)r;
    if (a->stopping)
        return err_set(err, ERR_UNAVAIL, "the replicator is shutting down");
    return 0;
}

/* The task of a, or NULL after answering 404 (no task attached). */
static struct task *task_of(struct httpd_req *r, void *arg)
{
    struct api *a = arg;

    if (!a->task)
        httpd_reply_error(r, 404, NULL, "no such endpoint");
    return a->task;
}

#define TASK_HANDLER(name, fn)                                  \
    static void name(struct httpd_req *r, void *arg)            \
    {                                                           \
        struct task *t = task_of(r, arg);                       \
                                                                \
        if (t)                                                  \
            fn(t, r);                                           \
    }

TASK_HANDLER(task_status, api_task_status)
TASK_HANDLER(task_activate, api_task_activate)
TASK_HANDLER(sled_list, api_sled_list)
TASK_HANDLER(sled_upsert, api_sled_upsert)
TASK_HANDLER(sled_expunge, api_sled_expunge)
TASK_HANDLER(sled_reset_ledger, api_sled_reset_ledger)
TASK_HANDLER(sled_resume, api_sled_resume)
TASK_HANDLER(gen_bump, api_generation_bump)
TASK_HANDLER(gen_confirm, api_generation_confirm)

/* Reads and mutations alike are the operator's: no other replicator
 * reads this API today (docs/API.md). Sleds only register themselves. */
#define OP HTTPD_ROLE_OPERATOR

#define ROUTE(label, m, path, fn)                                      \
    {.name = (label), .methods = (m), .pattern = (path),              \
     .on_request = (fn), .roles = OP}

static const struct httpd_route routes[] = {
    ROUTE("repositories", HTTPD_M_GET, UPDATE "/repositories",
          api_repo_list),
    {.name = "repositories", .methods = HTTPD_M_PUT,
     .pattern = UPDATE "/repositories", .body_cap = HTTPD_BODY_LISTENER,
     .stream = true, .on_headers = api_repo_headers,
     .on_request = api_repo_request, .roles = OP},
    ROUTE("repository", HTTPD_M_POST, UPDATE "/repositories/{version}/prune",
          api_repo_prune),
    /* issue 12 item 5: the automatic pruner (API 1.2.0) */
    {.name = "repository", .methods = HTTPD_M_POST,
     .pattern = UPDATE "/repositories/{version}/pin",
     .on_request = api_repo_pin, .roles = OP, .since = "1.2.0"},
    {.name = "repository", .methods = HTTPD_M_POST,
     .pattern = UPDATE "/repositories/{version}/unpin",
     .on_request = api_repo_unpin, .roles = OP, .since = "1.2.0"},
    {.name = "prune_policy", .methods = HTTPD_M_GET,
     .pattern = UPDATE "/prune-policy", .on_request = api_prune_policy_get,
     .roles = OP, .since = "1.2.0"},
    {.name = "prune_policy", .methods = HTTPD_M_POST,
     .pattern = UPDATE "/prune-policy/enable",
     .on_request = api_prune_policy_enable, .body_cap = LIMIT_JSON_BODY,
     .roles = OP, .since = "1.2.0"},
    {.name = "prune_policy", .methods = HTTPD_M_POST,
     .pattern = UPDATE "/prune-policy/disable",
     .on_request = api_prune_policy_disable, .body_cap = LIMIT_JSON_BODY,
     .roles = OP, .since = "1.2.0"},
    /* issue 12: the reference's GET of one repository (API 1.1.0) */
    {.name = "repository", .methods = HTTPD_M_GET,
     .pattern = UPDATE "/repositories/{system_version}",
     .on_request = api_repo_get, .roles = OP, .since = "1.1.0"},
    ROUTE("staged", HTTPD_M_GET, UPDATE "/staged", api_staged_list),
    ROUTE("trust_roots", HTTPD_M_GET, UPDATE "/trust-roots",
          api_trust_list),
    {.name = "trust_roots", .methods = HTTPD_M_POST,
     .pattern = UPDATE "/trust-roots", .body_cap = LIMIT_TUF_METADATA,
     .on_request = api_trust_add, .roles = OP},
    {.name = "trust_root", .methods = HTTPD_M_DELETE,
     .pattern = UPDATE "/trust-roots/{id}", .on_request = api_trust_remove,
     .bad_capture = "trust root id is not a UUID", .roles = OP},
    ROUTE("task_status", HTTPD_M_GET, TASK, task_status),
    ROUTE("task_activate", HTTPD_M_POST, TASK "/activate", task_activate),
    ROUTE("sled_agents", HTTPD_M_GET, "/sled-agents", sled_list),
    {.name = "sled_agents", .methods = HTTPD_M_PUT,
     .pattern = "/sled-agents/{id}", .on_request = sled_upsert,
     .bad_capture = "sled id must be a UUID",
     .roles = HTTPD_ROLE_SLED | HTTPD_ROLE_SELF},
    {.name = "sled_agents", .methods = HTTPD_M_POST,
     .pattern = "/sled-agents/{id}/expunge", .on_request = sled_expunge,
     .bad_capture = "sled id must be a UUID", .roles = OP},
    {.name = "sled_agents", .methods = HTTPD_M_POST,
     .pattern = "/sled-agents/{id}/reset-ledger",
     .on_request = sled_reset_ledger, .body_cap = LIMIT_JSON_BODY,
     .bad_capture = "sled id must be a UUID", .roles = OP},
    /* issue 12 item 6: the end of an out-of-band install hold (1.3.0) */
    {.name = "sled_agents", .methods = HTTPD_M_POST,
     .pattern = "/sled-agents/{id}/resume", .on_request = sled_resume,
     .body_cap = LIMIT_JSON_BODY, .bad_capture = "sled id must be a UUID",
     .roles = OP, .since = "1.3.0"},
    ROUTE("generation", HTTPD_M_POST, "/generation/bump-past-fleet",
          gen_bump),
    ROUTE("generation", HTTPD_M_POST, "/generation/{generation}/confirm",
          gen_confirm),
    ROUTE("metrics", HTTPD_M_GET, "/metrics", api_metrics),
    /* issue 15: the status page (replicator/ui.h), for operators */
    ROUTE("ui", HTTPD_M_GET, "/ui", ui_reply_asset),
    ROUTE("ui", HTTPD_M_GET, "/ui/app.css", ui_reply_asset),
    ROUTE("ui", HTTPD_M_GET, "/ui/app.js", ui_reply_asset),
    /* issue 13: sleds fetch manifests from the controller too */
    {.name = "pieces", .methods = HTTPD_M_GET,
     .pattern = "/artifact/sha256/{sha256}/pieces",
     .on_request = api_pieces_get,
     .roles = HTTPD_ROLE_SLED | HTTPD_ROLE_CONTROLLER | OP},
};

const char *const *api_versions(size_t *n)
{
    /* 1.1.0 (issue 12): GET .../repositories/{system_version}, and the
     * upload's reply gains the reference's repo and status */
    /* 1.2.0 (issue 12 item 5): pin, unpin and the prune policy */
    /* 1.3.0 (issue 12 item 6): POST /sled-agents/{id}/resume */
    static const char *const versions[] = {"1.0.0", "1.1.0", "1.2.0",
                                           "1.3.0"};

    *n = sizeof(versions) / sizeof(versions[0]);
    return versions;
}

const struct httpd_route *api_routes(size_t *n)
{
    *n = sizeof(routes) / sizeof(routes[0]);
    return routes;
}
