/* SPDX-License-Identifier: MPL-2.0 */
/*
 * cli_watch: `replicator activate --watch` (issue 15): run the
 * reconciliation again and again and show each repository's progress
 * until the rack converges or a time limit passes. Main thread.
 */
#ifndef REPLICATOR_CLI_WATCH_H
#define REPLICATOR_CLI_WATCH_H

struct cli;

/* Default --timeout (seconds) and --interval (milliseconds). */
#define CLI_WATCH_TIMEOUT_S 600
#define CLI_WATCH_INTERVAL_MS 2000

/*
 * Loop: POST .../activate?wait=1, then GET the task status; print one
 * line per wanted repository (copies held / wanted, bytes held / wanted,
 * the rate its held bytes grew since the previous line); stop when the
 * run converged and every repository holds every wanted copy (exit 0),
 * when a run failed or a request did (1), or once timeout_s seconds have
 * passed (1, "not converged within"). With c->json, one document at the
 * end: {converged, reason, seconds, runs, repos[], error?}.
 */
int cli_watch(const struct cli *c, unsigned timeout_s, unsigned interval_ms);

#endif
