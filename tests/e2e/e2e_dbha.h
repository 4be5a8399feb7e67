/* SPDX-License-Identifier: MPL-2.0 */
/*
 * e2e_dbha: the e2e harness's view of a `rack-sim up --db-ha` rack's
 * database (pg_auto_failover, issue 11): `rack-sim db status --json`, its
 * nodes and roles, the pair's health, and one value read through whichever
 * node is primary now. Used by test_e2e_db_ha*.c. cmocka main thread only.
 */
#ifndef TESTS_E2E_E2E_DBHA_H
#define TESTS_E2E_E2E_DBHA_H

#include <stdbool.h>

#include <jansson.h>

#include "tests/e2e/e2e_util.h"

/* One integer from sql, retried for up to 60 s while a failover runs;
 * fails the test after that. */
long long e2e_db_value(struct e2e *t, const char *sql);

/* `rack-sim db status --json` (new reference; fails the test if not JSON). */
json_t *e2e_db_status(struct e2e *t);

/* The node named name in a db status document (borrowed; fails if none). */
json_t *e2e_db_node(json_t *st, const char *name);

/* The name of the node whose role is primary, or NULL (borrowed). */
const char *e2e_db_primary(json_t *st);

/* e2e_wait condition: arg (a node name) runs as the settled secondary and
 * the other node as the settled primary: the pair is synchronous again. */
bool e2e_db_rejoined(struct e2e *t, void *arg);

/* e2e_wait condition: a settled primary and a settled secondary (either
 * way round); arg is unused. */
bool e2e_db_healthy(struct e2e *t, void *arg);

#endif
