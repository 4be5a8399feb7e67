/* SPDX-License-Identifier: MPL-2.0 */
/*
 * e2e_dbha: the --db-ha rack's database as the e2e scenarios see it (see
 * e2e_dbha.h).
 */
#include "tests/e2e/e2e_dbha.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/err.h"
#include "common/mem.h"
#include "sim/rack_db.h"
#include "tests/support/testutil.h"

long long e2e_db_value(struct e2e *t, const char *sql)
{
    int64_t deadline = testutil_now_ms() + 60000;
    struct err err = ERR_INIT;
    char out[64];

    while (testutil_now_ms() < deadline) {
        if (rack_db_sql(&t->r, sql, out, sizeof(out), &err) == 0)
            return strtoll(out, NULL, 10);
        testutil_sleep_ms(500);
    }
    fail_msg("database: %s: %s", sql, err.msg);
    return -1;
}

json_t *e2e_db_status(struct e2e *t)
{
    char *text = NULL;
    json_t *j;

    e2e_sim(t, &text, "db", "status", "--json", (char *)NULL);
    j = json_loads(text, 0, NULL);
    if (!j)
        fail_msg("db status --json: not JSON: %s", text);
    mem_free(text);
    return j;
}

json_t *e2e_db_node(json_t *st, const char *name)
{
    size_t i;
    json_t *n;

    json_array_foreach(json_object_get(st, "nodes"), i, n)
        if (!strcmp(json_string_value(json_object_get(n, "name")), name))
            return n;
    fail_msg("no node %s in db status", name);
    return NULL;
}

const char *e2e_db_primary(json_t *st)
{
    size_t i;
    json_t *n;

    json_array_foreach(json_object_get(st, "nodes"), i, n)
        if (!strcmp(json_string_value(json_object_get(n, "role")), "primary"))
            return json_string_value(json_object_get(n, "name"));
    return NULL;
}

/* Node n runs and reports and is assigned state want (a dead node's
 * reported state stays what it last reported). */
static bool settled(json_t *n, const char *want)
{
    return json_is_true(json_object_get(n, "running")) &&
           !strcmp(json_string_value(json_object_get(n, "state")), want) &&
           !strcmp(json_string_value(json_object_get(n, "assigned_state")),
                   want);
}

/* sec is the settled secondary and the other node the settled primary. */
static bool pair_ok(json_t *st, const char *sec)
{
    const char *other = strcmp(sec, "node1") ? "node1" : "node2";

    return settled(e2e_db_node(st, sec), "secondary") &&
           settled(e2e_db_node(st, other), "primary");
}

bool e2e_db_rejoined(struct e2e *t, void *arg)
{
    json_t *st = e2e_db_status(t);
    bool ok = pair_ok(st, arg);

    json_decref(st);
    return ok;
}

bool e2e_db_healthy(struct e2e *t, void *arg)
{
    json_t *st = e2e_db_status(t);
    bool ok = pair_ok(st, "node1") || pair_ok(st, "node2");

    (void)arg;
    json_decref(st);
    return ok;
}
