/* SPDX-License-Identifier: MPL-2.0 */
/*
 * agent_tls: the sledagent's mutual TLS (issue 9): one httpd_tls shared
 * by the agent API and the depot listeners, built from --tls-ca/-cert/-key
 * (the sled's id and rack id are its certificate's), the optional
 * --tls-revoked list, the SIGHUP reload of both, the daily expiry warning
 * and the expiry gauge. Without --tls-* the agent runs plaintext
 * (--insecure-plaintext) and says so loudly. Loop thread only.
 */
#include "sledagent/agent.h"

#include <string.h>

#include "common/err.h"
#include "common/httpc.h"
#include "common/httpd_tls.h"
#include "common/log.h"
#include "common/prom.h"
#include "common/tls_revfile.h"
#include "sledagent/agent_internal.h"

/* --tls-revoked (nothing without the flag), then the union of it and
 * the pushed list into the listeners and the copy client. */
static int load_revoked(struct agent *a, struct err *err)
{
    struct tls_revoked *set = NULL;
    int rc = 0;

    if (a->opts.tls_revoked) {
        rc = tls_revoked_load_file(&set, a->opts.tls_revoked, err);
        if (rc < 0)
            return rc;
        log_info("tls_revoked_loaded", "{s:s, s:I}", "file",
                 a->opts.tls_revoked, "entries",
                 (json_int_t)tls_revoked_count(set));
        tls_revoked_free(a->rev_file);
        a->rev_file = set;
    }
    return agent_revoke_apply(a, err);
}

int agent_tls_start(struct agent *a, struct err *err)
{
    const struct tls_identity *self;
    int rc;

    if (!a->opts.tls.cert) {
        httpd_tls_warn_plaintext("sledagent");
        return 0;
    }
    rc = httpd_tls_new(&a->tls, &a->opts.tls, err);
    if (rc < 0)
        return rc;
    self = httpd_tls_self(a->tls);
    if (self->role != TLS_ROLE_SLED)
        return err_set(err, ERR_INVAL, "%s is a %s certificate, not a sled's",
                       a->opts.tls.cert, tls_role_name(self->role));
    if (a->opts.id && strcmp(a->opts.id, self->id) != 0)
        return err_set(err, ERR_INVAL, "--id %s is not the id of the sled "
                       "certificate (%s)", a->opts.id, self->id);
    a->opts.id = self->id;
    rc = load_revoked(a, err);
    if (rc == 0)
        rc = httpd_tls_watch_expiry(a->tls, a->base, err);
    if (rc == 0)
        log_info("tls", "{s:s, s:s, s:s}", "rack_id", self->rack_id, "id",
                 self->id, "certificate", a->opts.tls.cert);
    return rc;
}

int agent_reload(struct agent *a, struct err *err)
{
    int rc;

    if (!a->tls)
        return 0;
    rc = httpd_tls_reload(a->tls, err);
    if (rc == 0)
        rc = load_revoked(a, err);
    if (rc == 0)
        rc = httpd_tls_watch_expiry(a->tls, a->base, err);
    if (rc < 0) {
        log_error("tls_reload_failed", "{s:s}", "error", err->msg);
        return rc;
    }
    httpc_tls_reload(); /* our clients re-read the files too */
    log_info("tls_reloaded", "{s:s}", "certificate", a->opts.tls.cert);
    return 0;
}

int agent_tls_metrics(const struct agent *a, struct prom *p)
{
    if (!a->tls)
        return 0;
    return httpd_tls_metrics(a->tls, p,
                             "sledagent_tls_cert_expiry_timestamp_seconds");
}
