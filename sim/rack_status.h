/* SPDX-License-Identifier: MPL-2.0 */
/*
 * rack_status: what a rack looks like now. Collects, for every sled, its
 * process (pid, alive, state), ports, which dataset directories exist and
 * its inventory from GET /artifacts (generation and {hash: count}); for
 * every replicator its process and task status; and the database. Prints
 * it as a table or as one JSON document (`rack-sim status [--json]`),
 * with the mode, the service URLs and the PKI's paths; and the shell
 * exports of `rack-sim env`.
 * Main thread only.
 */
#ifndef SIM_RACK_STATUS_H
#define SIM_RACK_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

struct err;
struct rack;

/*
 * Sled k's GET /artifacts within timeout_ms. *out is a new reference to
 * the ArtifactListResponse. Errors: as rack_http_get_json.
 */
int rack_sled_inventory(json_t **out, const struct rack *r, size_t k,
                        long timeout_ms, struct err *err);

/*
 * The whole rack as a new JSON object (see docs/RACK-SIM.md for its
 * shape); NULL on ERR_NOMEM. Unreachable sleds carry an "error" member.
 */
json_t *rack_status_collect(const struct rack *r, long timeout_ms);

/* Print st (from rack_status_collect) as tables on f. */
void rack_status_print(FILE *f, const json_t *st, bool verbose);

/*
 * `rack-sim env`: the shell lines an operator pastes (or evals) to use
 * r with the replicator CLI: RACK_SIM_DIR, REPLICATOR_URL (its scheme is
 * the rack's mode) and, on TLS, RACKDEPOT_TLS_CA/CERT/KEY of the operator
 * (on plaintext an `unset` of them). Values are single-quoted. Returns 0.
 */
int rack_status_env(FILE *f, const struct rack *r);

#endif
