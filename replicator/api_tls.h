/* SPDX-License-Identifier: MPL-2.0 */
/*
 * api_tls: the replicator API's mutual TLS: context, revocations from
 * the database, SIGHUP reload, expiry gauge (see api_tls.c). Loop thread.
 */
#ifndef REPLICATOR_API_TLS_H
#define REPLICATOR_API_TLS_H

struct config;
struct err;
struct event_base;
struct httpd_tls;
struct prom;

/*
 * The listener's TLS from cfg's --tls-* (a controller certificate) with
 * the database's revocations, and the daily expiry warning on base; *out
 * NULL (and a loud warning) without --tls-*. Returns 0, httpd_tls_new's
 * codes, ERR_INVAL (not a controller certificate) or the database's.
 */
int api_tls_new(struct httpd_tls **out, struct event_base *base,
                const struct config *cfg, struct err *err);

/* SIGHUP: reload t's files and the database's revocations; the old
 * context and set stay on failure. NULL t is a no-op. */
int api_tls_reload(struct httpd_tls *t, const struct config *cfg,
                   struct err *err);

/* The expiry gauge (nothing without TLS). prom's code. */
int api_tls_metrics(const struct httpd_tls *t, struct prom *p);

#endif
