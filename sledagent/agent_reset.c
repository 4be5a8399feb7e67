/* SPDX-License-Identifier: MPL-2.0 */
/*
 * agent_reset: POST /artifacts-config/reset on the agent API, the
 * recovery of a sled whose ledger holds an absurd generation (issue 9,
 * "no forever-brick"; docs/API.md). The controller sends
 * {"generation": G, "artifacts": [...], "reason": "...",
 * "requested_by": "..."}; the ledger is rewritten at G with that set
 * whatever the current generation (store_config_reset: the documented
 * exception to the monotonic ledger), unwanted artifacts go to trash/ and
 * wanted ones come back from it as for any config change; the reset is
 * logged at warn with who asked and why. Answers 200 {"generation": G,
 * "previous_generation": P|null}. Loop thread only.
 */
#include "sledagent/agent_internal.h"

#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "common/artifact_config.h"
#include "common/err.h"
#include "common/httpd.h"
#include "common/jsonutil.h"
#include "common/limits.h"
#include "common/log.h"
#include "common/mem.h"
#include "sledagent/store/store.h"

#define RESET_TEXT_MAX 200

struct reset {
    struct httpd_req *r;
    uint64_t generation;
    bool had_previous;
    uint64_t previous;
    char reason[RESET_TEXT_MAX];
    char requested_by[RESET_TEXT_MAX];
};

static void reset_done(int rc, const struct err *err, void *arg)
{
    struct reset *x = arg;
    json_t *v;

    if (rc < 0) {
        httpd_reply_err(x->r, err);
    } else {
        log_warn("config_reset", "{s:I, s:o, s:s, s:s, s:s}", "generation",
                 (json_int_t)x->generation, "previous_generation",
                 x->had_previous ? json_integer((json_int_t)x->previous)
                                 : json_null(),
                 "reason", x->reason, "requested_by", x->requested_by,
                 "request_id", httpd_req_id(x->r));
        v = json_pack("{s:I, s:o}", "generation", (json_int_t)x->generation,
                      "previous_generation",
                      x->had_previous ? json_integer((json_int_t)x->previous)
                                      : json_null());
        if (v)
            httpd_reply_json(x->r, 200, v);
        else
            httpd_reply_error(x->r, 500, NULL, "out of memory");
        json_decref(v);
    }
    httpd_req_unref(x->r);
    mem_free(x);
}

/* reason and requested_by: optional strings, kept short for the log. */
static int take_text(char *out, const json_t *body, const char *key,
                     const char *dflt, struct err *err)
{
    const json_t *v = json_object_get(body, key);

    if (v && !json_is_string(v))
        return err_set(err, ERR_INVAL, "%s must be a string", key);
    snprintf(out, RESET_TEXT_MAX, "%s", v ? json_string_value(v) : dflt);
    return 0;
}

/* The body into cfg and x. ERR_INVAL (400), ERR_NOMEM. */
static int parse_reset(struct artifact_config *cfg, struct reset *x,
                       const char *body, size_t len, struct err *err)
{
    json_t *v = jsonu_loadb(body ? body : "", len, LIMIT_CONFIG_BODY, err);
    int rc = 0;

    if (!v) {
        if (!err->code)
            err_set(err, ERR_INVAL, "the body is not JSON");
        else if (err->code != ERR_NOMEM)
            err->code = ERR_INVAL;
        return err->code;
    }
    if (!json_is_object(v)) {
        rc = err_set(err, ERR_INVAL, "the body must be an object");
        goto out;
    }
    rc = take_text(x->reason, v, "reason", "", err);
    if (rc == 0)
        rc = take_text(x->requested_by, v, "requested_by", "unknown", err);
    if (rc < 0)
        goto out;
    json_object_del(v, "reason");
    json_object_del(v, "requested_by");
    rc = artifact_config_from_json(cfg, v, err);
    if (rc == ERR_LIMIT || rc == ERR_TOOBIG)
        rc = err->code = ERR_INVAL;
out:
    json_decref(v);
    return rc;
}

void agent_reply_config_reset(struct httpd_req *r, void *arg)
{
    struct agent *a = arg;
    struct artifact_config cfg = ARTIFACT_CONFIG_INIT;
    struct artifact_config cur = ARTIFACT_CONFIG_INIT;
    struct err err = ERR_INIT, ignored = ERR_INIT;
    struct reset *x = mem_calloc(1, sizeof(*x));
    const char *body;
    size_t len = 0;

    if (!x) {
        httpd_reply_error(r, 500, NULL, "out of memory");
        return;
    }
    /* held for an out-of-band install: resume it first */
    if (agent_override_check(a, &err) < 0)
        goto fail;
    body = httpd_req_body(r, &len);
    if (parse_reset(&cfg, x, body, len, &err) < 0)
        goto fail;
    x->r = r;
    x->generation = cfg.generation;
    if (store_config_get(a->st, &cur, &ignored) == 0) {
        x->had_previous = true;
        x->previous = cur.generation;
    }
    httpd_req_ref(r);
    if (store_config_reset(a->st, &cfg, reset_done, x, &err) < 0) {
        httpd_req_unref(r);
        goto fail;
    }
    x = NULL; /* reset_done frees it */
    goto out;
fail:
    httpd_reply_err(r, &err);
out:
    mem_free(x);
    artifact_config_release(&cfg);
    artifact_config_release(&cur);
}
