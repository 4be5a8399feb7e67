/* SPDX-License-Identifier: MPL-2.0 */
/*
 * httpd_tls: mutual TLS for httpd listeners. A struct httpd_tls holds a
 * service's current server SSL_CTX (common/tls.h: TLS 1.3 only, chain to
 * the rack CA), its own identity (the rack id is taken from its own
 * certificate's URI SAN) and the revocation set the listeners consult on
 * every request. Listeners given one (httpd_opts.tls) accept TLS only;
 * the handshake asks for a client certificate but completes without a
 * good one, so the HTTP layer answers 401/403 as JSON (httpd_route.h
 * roles). SIGHUP: httpd_tls_reload builds a new context for new
 * connections; open connections keep theirs. Everything else of httpd
 * works the same over TLS (streamed bodies and backpressure, lingering
 * close, now with a close_notify, rate-limit groups, idle timeouts, the
 * sent hook, file replies read in bounded chunks: httpd_file.c; checked
 * byte for byte by test_tls_agent).
 * Half-open handshakes are cut at LIMIT_TLS_HANDSHAKE_SECS. Loop thread
 * only.
 */
#ifndef COMMON_HTTPD_TLS_H
#define COMMON_HTTPD_TLS_H

#include <stdint.h>

#include "common/tls.h"

struct err;
struct event_base;
struct httpd_req;
struct prom;
struct httpd_tls;

/*
 * Load f (CA, certificate, key) into a server context; the rack id is
 * the one in f->cert's identity. Returns 0, ERR_IO (unreadable or
 * mismatched files), ERR_VERIFY (our certificate has no identity),
 * ERR_NOMEM; err says which.
 */
int httpd_tls_new(struct httpd_tls **out, const struct tls_files *f,
                  struct err *err);

/* Free t (after every listener using it). NULL is a no-op. */
void httpd_tls_free(struct httpd_tls *t);

/* Our own identity (from our certificate). */
const struct tls_identity *httpd_tls_self(const struct httpd_tls *t);

/* Our certificate's notBefore/notAfter (unix seconds). */
void httpd_tls_validity(const struct httpd_tls *t, int64_t *not_before,
                        int64_t *not_after);

/*
 * Re-read the files into a new context used by new connections. On
 * failure the old context stays. Same codes as httpd_tls_new.
 */
int httpd_tls_reload(struct httpd_tls *t, struct err *err);

/* Replace the revocation set by a copy of set (NULL: empty). 0/ERR_NOMEM. */
int httpd_tls_set_revoked(struct httpd_tls *t, const struct tls_revoked *set,
                          struct err *err);

/* The revocation set in force (never NULL). */
const struct tls_revoked *httpd_tls_revoked(const struct httpd_tls *t);

/*
 * The verified peer of r's connection, NULL on a plaintext listener or
 * when the client presented no good certificate.
 */
const struct tls_identity *httpd_req_peer(const struct httpd_req *r);

/* The peer certificate's serial (hex), "" when there is none. */
const char *httpd_req_peer_serial(const struct httpd_req *r);

/*
 * Log the loud start-up warning of a service running without TLS
 * (--insecure-plaintext).
 */
void httpd_tls_warn_plaintext(const char *service);

/*
 * Log tls_cert_expiring when our certificate is in the last third of its
 * lifetime at now (tls_expiry_warn). Returns whether it warned.
 */
bool httpd_tls_check_expiry(const struct httpd_tls *t, int64_t now);

/*
 * httpd_tls_check_expiry now and then once a day on base (the timer is
 * t's). Returns 0 or ERR_NOMEM.
 */
int httpd_tls_watch_expiry(struct httpd_tls *t, struct event_base *base,
                           struct err *err);

/* The gauge `name` (e.g. sledagent_tls_cert_expiry_timestamp_seconds):
 * our certificate's notAfter. Returns prom's code. */
int httpd_tls_metrics(const struct httpd_tls *t, struct prom *p,
                      const char *name);

#endif
