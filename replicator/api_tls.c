/* SPDX-License-Identifier: MPL-2.0 */
/*
 * api_tls: mutual TLS of the replicator API (issue 9): the listener's
 * httpd_tls from --tls-ca/--tls-cert/--tls-key (a controller certificate;
 * the rack id is its), the revocation set loaded from the database
 * (table tls_revocation) at start and on SIGHUP together with the
 * certificate, key and CA, the daily expiry warning and the expiry gauge
 * of GET /metrics. With --insecure-plaintext: a loud warning, no TLS, no
 * roles. Loop thread (start: before the loop runs).
 *
 * The SIGHUP reload reads the revocations with a short synchronous query
 * on the loop thread: it is rare and operator-driven, and a failed read
 * keeps the previous set.
 */
#include "replicator/api_tls.h"

#include <jansson.h>

#include "common/err.h"
#include "common/httpc.h"
#include "common/httpd_tls.h"
#include "common/log.h"
#include "common/prom.h"
#include "replicator/config.h"
#include "replicator/db/db.h"
#include "replicator/db/tlsrev_db.h"

/* Revocations from the database into t. */
static int load_revoked(struct httpd_tls *t, const char *conninfo,
                        struct err *err)
{
    struct tls_revoked *set = NULL;
    struct db *db = NULL;
    int rc = db_open(&db, conninfo, err);

    if (rc == 0)
        rc = tlsrev_db_load(&set, db, err);
    if (rc == 0)
        rc = httpd_tls_set_revoked(t, set, err);
    if (rc == 0)
        log_info("tls_revoked_loaded", "{s:I}", "entries",
                 (json_int_t)tls_revoked_count(set));
    tls_revoked_free(set);
    db_close(db);
    return rc;
}

int api_tls_new(struct httpd_tls **out, struct event_base *base,
                const struct config *cfg, struct err *err)
{
    struct tls_files f = {cfg->tls_ca, cfg->tls_cert, cfg->tls_key};
    struct httpd_tls *t = NULL;
    const struct tls_identity *self;
    int rc;

    *out = NULL;
    if (!cfg->tls_cert) {
        httpd_tls_warn_plaintext("replicator");
        return 0;
    }
    rc = httpd_tls_new(&t, &f, err);
    if (rc < 0)
        return rc;
    self = httpd_tls_self(t);
    if (self->role != TLS_ROLE_CONTROLLER)
        rc = err_set(err, ERR_INVAL, "%s is a %s certificate, not a "
                     "controller's", cfg->tls_cert,
                     tls_role_name(self->role));
    if (rc == 0)
        rc = load_revoked(t, cfg->db, err);
    if (rc == 0)
        rc = httpd_tls_watch_expiry(t, base, err);
    if (rc < 0) {
        httpd_tls_free(t);
        return rc;
    }
    log_info("tls", "{s:s, s:s, s:s}", "rack_id", self->rack_id, "id",
             self->id, "certificate", cfg->tls_cert);
    *out = t;
    return 0;
}

int api_tls_reload(struct httpd_tls *t, const struct config *cfg,
                   struct err *err)
{
    int rc;

    if (!t)
        return 0;
    rc = httpd_tls_reload(t, err);
    if (rc == 0)
        rc = load_revoked(t, cfg->db, err);
    if (rc < 0) {
        log_error("tls_reload_failed", "{s:s}", "error", err->msg);
        return rc;
    }
    httpc_tls_reload(); /* our clients re-read the files too */
    log_info("tls_reloaded", "{s:s}", "certificate", cfg->tls_cert);
    return 0;
}

int api_tls_metrics(const struct httpd_tls *t, struct prom *p)
{
    if (!t)
        return 0;
    return httpd_tls_metrics(t, p,
                             "replicator_tls_cert_expiry_timestamp_seconds");
}
