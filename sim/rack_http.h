/* SPDX-License-Identifier: MPL-2.0 */
/*
 * rack_http: the few synchronous HTTP requests rack-sim makes itself (a
 * sled's GET /artifacts and /metrics, the replicator's task status), with
 * common/httpc's blocking driver and a hard total timeout: rack-sim is a command-line tool
 * and a partitioned (SIGSTOPped) sled must not hang it. Also a reader for
 * one counter of a Prometheus text page. On a TLS rack every request
 * presents the credentials set with rack_http_set_tls. Main thread only.
 */
#ifndef SIM_RACK_HTTP_H
#define SIM_RACK_HTTP_H

#include <stdint.h>

#include <jansson.h>

struct buf;
struct err;

/*
 * The PEM files every later request uses (copied): the rack CA to verify
 * the server, and the client certificate and key to present. All NULL:
 * no client certificate and curl's default trust (plaintext racks).
 */
void rack_http_set_tls(const char *ca, const char *cert, const char *key);

/*
 * GET url into body (appended). *status is the HTTP status. Errors:
 * ERR_TIMEOUT (no answer within timeout_ms), ERR_UPSTREAM (connection
 * refused or another transfer error), ERR_LIMIT (body over
 * LIMIT_HTTP_RESPONSE), ERR_NOMEM.
 */
int rack_http_get(long *status, struct buf *body, const char *url,
                  long timeout_ms, struct err *err);

/*
 * GET url and parse a JSON body of a 200 answer. *out is a new reference.
 * Errors: as rack_http_get, ERR_UPSTREAM for another status (message has
 * the status and body) or a body that is not JSON.
 */
int rack_http_get_json(json_t **out, const char *url, long timeout_ms,
                       struct err *err);

/*
 * Sum of the values of every sample of metric name (any labels) in a
 * Prometheus text page. 0 when absent.
 */
uint64_t rack_metric_sum(const char *text, const char *name);

#endif
