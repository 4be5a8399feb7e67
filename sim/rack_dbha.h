/* SPDX-License-Identifier: MPL-2.0 */
/*
 * rack_dbha: the highly available controller database of `rack-sim up
 * --db-ha` (issue 11), built on pg_auto_failover (Debian 12:
 * pg-auto-failover-cli, postgresql-15-auto-failover): a monitor and two
 * PostgreSQL nodes under D/dbha, each a `pg_autoctl run` of its own
 * (run as the postgres user when rack-sim is root: pg_autoctl and
 * PostgreSQL refuse root), listening on 127.0.0.1 only, trust
 * authentication, no TLS, no system service. Replication is synchronous
 * while the standby is healthy (pg_auto_failover's default for two nodes).
 * The detection and promotion timeouts are tuned down for the simulator
 * (RACK-SIM.md). Also `rack-sim db status` and the database faults.
 * Main thread only.
 */
#ifndef SIM_RACK_DBHA_H
#define SIM_RACK_DBHA_H

#include <stdbool.h>
#include <stdio.h>

struct err;
struct rack;

/*
 * Create and start the monitor and both nodes, wait until node1 is the
 * primary and node2 its synchronous secondary, create the rackdepot
 * database, and set r->conninfo to the multi-host URL
 * (target_session_attrs=read-write). Errors: ERR_UNAVAIL (pg_autoctl or
 * PostgreSQL not installed, no postgres user when root), ERR_IO,
 * ERR_TIMEOUT.
 */
int rack_dbha_up(struct rack *r, bool quiet, struct err *err);

/* Stop the three (SIGTERM, then SIGKILL). Returns 0 or ERR_TIMEOUT. */
int rack_dbha_down(struct rack *r, struct err *err);

/* Whether any of the three is still running. */
bool rack_dbha_alive(const struct rack *r);

/*
 * `rack-sim db status [--json]`: each node's name, address, role
 * (primary/secondary/monitor/down/unknown), pg_auto_failover state (reported
 * and assigned, from the monitor; "monitor down" without it), whether it
 * runs, and the primary's synchronous_standby_names. Errors: ERR_INVAL
 * (not a --db-ha rack).
 */
int rack_dbha_status(FILE *out, const struct rack *r, bool json,
                     struct err *err);

/*
 * `rack-sim db kill-primary|kill-secondary|kill-monitor` (SIGKILL of the
 * node's pg_autoctl and PostgreSQL: a lost server) and `db restart NODE`
 * (NODE: monitor, node1, node2). *name gets the node acted on. Errors:
 * ERR_INVAL, ERR_NOTFOUND (no node in that role now), ERR_IO.
 */
int rack_dbha_fault(struct rack *r, const char *op, const char *node,
                    const char **name, struct err *err);

#endif
