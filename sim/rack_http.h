/* SPDX-License-Identifier: MPL-2.0 */
/*
 * rack_http: the few synchronous HTTP requests rack-sim makes itself (a
 * sled's GET /artifacts and /metrics, the replicator's task status), with
 * common/httpc's blocking driver and a hard total timeout: rack-sim is a command-line tool
 * and a partitioned (SIGSTOPped) sled must not hang it. Also a reader for
 * one counter of a Prometheus text page. Mutual TLS for all of them is
 * set once per process (rack_http_set_tls): rack-sim's own files and the
 * roles its peers may have. Main thread only.
 */
#ifndef SIM_RACK_HTTP_H
#define SIM_RACK_HTTP_H

#include <stdint.h>

#include <jansson.h>

struct buf;
struct err;

/*
 * From now on every request of this process uses mutual TLS with these
 * PEM files (copied) and accepts a peer of any role in roles (a mask of
 * HTTPC_ROLE(TLS_ROLE_...), common/httpc.h; 0: sled or controller); only
 * https:// URLs then. ca NULL: plaintext again. Before any request (not
 * while one runs). Returns 0, ERR_INVAL (only some files given) or
 * ERR_NOMEM. The files are read on the first request (httpc).
 */
int rack_http_set_tls(const char *ca, const char *cert, const char *key,
                      unsigned roles, struct err *err);

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
