/* SPDX-License-Identifier: MPL-2.0 */
/*
 * api_prune: the automatic pruner's endpoints (issue 12 item 5; API
 * 1.2.0): pin and unpin a repository, and the rack-wide switch
 * (docs/OPERATOR.md "Automatic pruning"):
 *   POST /v1/system/update/repositories/{version}/pin    -> 200
 *   POST /v1/system/update/repositories/{version}/unpin  -> 200
 *   GET  /v1/system/update/prune-policy                  -> 200 the report
 *   POST /v1/system/update/prune-policy/enable|disable   -> 200 the report
 *        (optional body {"reason": "..."})
 * The report is prune_db_pass without applying it: what the next
 * periodic run of any replicator would do, with this replicator's
 * --prune-keep. Loop thread; the job functions run on a worker.
 */
#include "replicator/api_internal.h"

#include <string.h>

#include "common/err.h"
#include "common/httpd.h"
#include "common/httpd_route.h"
#include "common/jsonutil.h"
#include "common/limits.h"
#include "common/log.h"
#include "common/tuf_artifacts.h"
#include "replicator/config.h"
#include "replicator/db/prune_db.h"

/* The report as `prune-policy show` sees it. */
static int report(json_t **out, struct api *a, struct db *db,
                  struct err *err)
{
    struct prune_db_report r = PRUNE_DB_REPORT_INIT;
    int rc = prune_db_pass(&r, db, (uint32_t)a->cfg->prune_keep, false, err);

    if (rc == 0 && !(*out = prune_db_report_json(&r)))
        rc = err_set(err, ERR_NOMEM, "out of memory");
    prune_db_report_release(&r);
    return rc;
}

static int do_pin_set(json_t **out, struct db *db, const char *version,
                      bool pin, struct err *err)
{
    int rc = prune_db_pin(db, version, pin, err);

    if (rc < 0)
        return rc;
    log_info(pin ? "repo_pinned" : "repo_unpinned", "{s:s}",
             "system_version", version);
    *out = json_pack("{s:s, s:b}", "system_version", version, "pinned", pin);
    return *out ? 0 : err_set(err, ERR_NOMEM, "out of memory");
}

static int do_pin(json_t **out, struct api *a, struct db *db,
                  const char *arg, size_t arglen, struct err *err)
{
    (void)a;
    (void)arglen;
    return do_pin_set(out, db, arg, true, err);
}

static int do_unpin(json_t **out, struct api *a, struct db *db,
                    const char *arg, size_t arglen, struct err *err)
{
    (void)a;
    (void)arglen;
    return do_pin_set(out, db, arg, false, err);
}

static int do_show(json_t **out, struct api *a, struct db *db,
                   const char *arg, size_t arglen, struct err *err)
{
    (void)arg;
    (void)arglen;
    return report(out, a, db, err);
}

/* arg: "1" or "0" (enable or disable), then the reason (may be empty). */
static int do_switch(json_t **out, struct api *a, struct db *db,
                     const char *arg, size_t arglen, struct err *err)
{
    bool enable = arglen > 0 && arg[0] == '1';
    const char *reason = arglen > 1 ? arg + 1 : "";
    int rc = prune_db_policy_set(db, enable, reason, err);

    if (rc < 0)
        return rc;
    log_info("prune_policy", "{s:s, s:s}", "status",
             enable ? "enabled" : "disabled", "reason", reason);
    return report(out, a, db, err);
}

/* The capture, answering 400 unless it is semver (as GET of one repo). */
static const char *semver_capture(struct httpd_req *r)
{
    const char *version = httpd_req_capture(r, 0);
    struct err err = ERR_INIT;

    if (tuf_semver_ok(version))
        return version;
    err_set(&err, ERR_INVAL, "system version in path must be a semantic "
            "version (MAJOR.MINOR.PATCH[-pre][+build])");
    httpd_reply_err(r, &err);
    return NULL;
}

void api_repo_pin(struct httpd_req *r, void *arg)
{
    const char *version = semver_capture(r);

    if (version)
        api_job_start(arg, r, do_pin, true, version, strlen(version), 200);
}

void api_repo_unpin(struct httpd_req *r, void *arg)
{
    const char *version = semver_capture(r);

    if (version)
        api_job_start(arg, r, do_unpin, true, version, strlen(version), 200);
}

void api_prune_policy_get(struct httpd_req *r, void *arg)
{
    api_job_start(arg, r, do_show, true, NULL, 0, 200);
}

/* Parse the optional {"reason": "..."} body into buf[1..] after the
 * switch byte; 0 or ERR_INVAL. */
static int switch_arg(char *buf, size_t cap, bool enable,
                      struct httpd_req *r, struct err *err)
{
    size_t len = 0;
    const char *body = httpd_req_body(r, &len);
    json_t *v = NULL, *why;
    int rc = 0;

    buf[0] = enable ? '1' : '0';
    buf[1] = '\0';
    if (!body || len == 0)
        return 0;
    if (!(v = jsonu_loadb(body, len, LIMIT_JSON_BODY, err)))
        return err->code ? err->code
                         : err_set(err, ERR_INVAL, "the body is not JSON");
    why = json_object_get(v, "reason");
    if (!json_is_object(v))
        rc = err_set(err, ERR_INVAL, "the body must be a JSON object");
    else if (why && !json_is_null(why) && !json_is_string(why))
        rc = err_set(err, ERR_INVAL, "reason must be a string");
    else if (why && json_is_string(why) &&
             strlen(json_string_value(why)) >= PRUNE_DB_REASON_MAX)
        rc = err_set(err, ERR_INVAL, "reason is longer than %d bytes",
                     PRUNE_DB_REASON_MAX - 1);
    else if (why && json_is_string(why))
        snprintf(buf + 1, cap - 1, "%s", json_string_value(why));
    json_decref(v);
    return rc;
}

static void policy_switch(struct httpd_req *r, void *arg, bool enable)
{
    char buf[PRUNE_DB_REASON_MAX + 1];
    struct err err = ERR_INIT;

    if (switch_arg(buf, sizeof(buf), enable, r, &err) < 0) {
        httpd_reply_err(r, &err);
        return;
    }
    api_job_start(arg, r, do_switch, true, buf, strlen(buf), 200);
}

void api_prune_policy_enable(struct httpd_req *r, void *arg)
{
    policy_switch(r, arg, true);
}

void api_prune_policy_disable(struct httpd_req *r, void *arg)
{
    policy_switch(r, arg, false);
}
