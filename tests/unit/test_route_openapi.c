/* SPDX-License-Identifier: MPL-2.0 */
/*
 * The route tables against the OpenAPI documents of docs/openapi/ (issue
 * 15 item 3): every route of sledagent's agent API (agent_api_routes) is
 * an operation of sledagent.json, of its depot (depot_routes) one of
 * depot.json, of the replicator API (api_routes) one of replicator.json
 * whose `x-listeners` names "api" (the default), and of the status page
 * listener (ui_routes) one whose `x-listeners` names "ui"; and every
 * operation is such a route: method, path and roles (`x-roles`: the
 * words "controller", "operator", "sled", "self", checked against the
 * table's role bits; none on the plaintext ui listener). `x-since` is the
 * route's `since`, `info.version` the service's latest API version.
 * Also the documents' OpenAPI 3 shape: `openapi` 3.x, `info`, `paths`,
 * each operation with a unique operationId and responses (a status code,
 * a range such as 4XX, or default, each with a description), each path
 * capture declared as a path parameter and no other, and every `$ref`
 * resolving inside the document. The documents are found through
 * RACKDEPOT_SOURCE_DIR (set by ctest); the Python side
 * (tests/openapi/test_openapi_live.py) checks them against the servers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "common/httpd.h"
#include "common/httpd_route.h"
#include "replicator/api_routes.h"
#include "replicator/ui.h"
#include "sledagent/agent_api.h"
#include "sledagent/depot.h"

#define MAX_ENTRIES 64
#define ENTRY_LEN 200

struct set {
    size_t n;
    char e[MAX_ENTRIES][ENTRY_LEN];
};

static const struct {
    enum httpd_method m;
    const char *s; /* the table's */
    const char *o; /* OpenAPI's */
} methods[] = {{HTTPD_GET, "GET", "get"},
               {HTTPD_HEAD, "HEAD", "head"},
               {HTTPD_PUT, "PUT", "put"},
               {HTTPD_POST, "POST", "post"},
               {HTTPD_DELETE, "DELETE", "delete"}};

#define NMETHODS (sizeof(methods) / sizeof(methods[0]))

static const struct {
    unsigned bit;
    const char *word;
} role_words[] = {{HTTPD_ROLE_CONTROLLER, "controller"},
                  {HTTPD_ROLE_OPERATOR, "operator"},
                  {HTTPD_ROLE_SLED, "sled"},
                  {HTTPD_ROLE_SELF, "self"}};

#define NROLES (sizeof(role_words) / sizeof(role_words[0]))

static bool set_has(const struct set *s, const char *e)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->e[i], e) == 0)
            return true;
    return false;
}

/* "GET /x [controller operator ] since 1.2.0" */
static void set_add(struct set *s, const char *method, const char *path,
                    unsigned roles, const char *since)
{
    char rt[64];
    size_t len = 0;

    rt[0] = '\0';
    for (size_t i = 0; i < NROLES; i++)
        if (roles & role_words[i].bit)
            len += (size_t)snprintf(rt + len, sizeof(rt) - len, "%s ",
                                    role_words[i].word);
    assert_true(s->n < MAX_ENTRIES);
    snprintf(s->e[s->n], ENTRY_LEN, "%s %s [%s] since %s", method, path, rt,
             since ? since : "-");
    for (size_t j = 0; j < s->n; j++)
        assert_string_not_equal(s->e[j], s->e[s->n]);
    s->n++;
}

static void add_table(struct set *s, const struct httpd_route *t, size_t n)
{
    for (size_t i = 0; i < n; i++)
        for (size_t m = 0; m < NMETHODS; m++)
            if (t[i].methods & HTTPD_M(methods[m].m))
                set_add(s, methods[m].s, t[i].pattern, t[i].roles,
                        t[i].since);
}

static json_t *load_doc(const char *name)
{
    const char *dir = getenv("RACKDEPOT_SOURCE_DIR");
    char path[4096];
    json_error_t je;
    json_t *doc;

    snprintf(path, sizeof(path), "%s/docs/openapi/%s", dir ? dir : ".",
             name);
    doc = json_load_file(path, 0, &je);
    if (!doc)
        fail_msg("%s: %s (line %d)", path, je.text, je.line);
    return doc;
}

/* Every {"$ref": "#/a/b"} under v names a member of doc. */
static void check_refs(json_t *doc, json_t *v, const char *name)
{
    const char *key;
    json_t *child;
    size_t i;

    if (json_is_object(v)) {
        json_t *ref = json_object_get(v, "$ref");

        if (ref) {
            char buf[256], *save = NULL, *tok;
            json_t *at = doc;

            assert_true(json_is_string(ref));
            if (strncmp(json_string_value(ref), "#/", 2) != 0)
                fail_msg("%s: $ref %s is not local", name,
                         json_string_value(ref));
            snprintf(buf, sizeof(buf), "%s", json_string_value(ref) + 2);
            for (tok = strtok_r(buf, "/", &save); tok && at;
                 tok = strtok_r(NULL, "/", &save))
                at = json_object_get(at, tok);
            if (!at)
                fail_msg("%s: $ref %s resolves to nothing", name,
                         json_string_value(ref));
        }
        json_object_foreach(v, key, child)
            check_refs(doc, child, name);
    } else if (json_is_array(v)) {
        json_array_foreach(v, i, child)
            check_refs(doc, child, name);
    }
}

static unsigned roles_of(json_t *arr, const char *where)
{
    unsigned r = 0;
    json_t *w;
    size_t i;

    if (!json_is_array(arr))
        fail_msg("%s: no x-roles array", where);
    json_array_foreach(arr, i, w) {
        size_t k;

        for (k = 0; k < NROLES; k++)
            if (json_is_string(w) &&
                strcmp(json_string_value(w), role_words[k].word) == 0)
                break;
        if (k == NROLES)
            fail_msg("%s: x-roles has an unknown role", where);
        r |= role_words[k].bit;
    }
    return r;
}

static bool listens_on(json_t *opn, const char *listener)
{
    json_t *l = json_object_get(opn, "x-listeners"), *v;
    size_t i;

    if (!l)
        return strcmp(listener, "api") == 0;
    assert_true(json_is_array(l) && json_array_size(l) > 0);
    json_array_foreach(l, i, v) {
        assert_true(json_is_string(v));
        if (strcmp(json_string_value(v), "api") != 0 &&
            strcmp(json_string_value(v), "ui") != 0)
            fail_msg("x-listeners names %s", json_string_value(v));
        if (strcmp(json_string_value(v), listener) == 0)
            return true;
    }
    return false;
}

/* The path's {captures} are exactly the operation's path parameters. */
static void check_params(const char *path, json_t *opn, const char *where)
{
    json_t *params = json_object_get(opn, "parameters"), *p;
    size_t i, declared = 0, captures = 0;

    json_array_foreach(params, i, p) {
        const char *in = json_string_value(json_object_get(p, "in"));
        const char *nm = json_string_value(json_object_get(p, "name"));
        char want[80];

        if (!in || !nm || !json_object_get(p, "schema"))
            fail_msg("%s: a parameter without in, name or schema", where);
        if (strcmp(in, "path") != 0)
            continue;
        declared++;
        snprintf(want, sizeof(want), "{%s}", nm);
        if (!strstr(path, want) ||
            !json_is_true(json_object_get(p, "required")))
            fail_msg("%s: path parameter %s is not a required capture",
                     where, nm);
    }
    for (const char *c = path; (c = strchr(c, '{')); c++)
        captures++;
    if (captures != declared)
        fail_msg("%s: %zu captures, %zu path parameters", where, captures,
                 declared);
}

static void check_responses(json_t *rs, const char *where)
{
    const char *code;
    json_t *r;

    if (!json_is_object(rs) || json_object_size(rs) == 0)
        fail_msg("%s: no responses", where);
    json_object_foreach(rs, code, r) {
        bool ok = strcmp(code, "default") == 0 ||
                  (strlen(code) == 3 && code[0] >= '1' && code[0] <= '5' &&
                   ((code[1] >= '0' && code[1] <= '9' && code[2] >= '0' &&
                     code[2] <= '9') ||
                    (code[1] == 'X' && code[2] == 'X')));

        if (!ok)
            fail_msg("%s: response key %s", where, code);
        if (!json_is_string(json_object_get(r, "description")))
            fail_msg("%s %s: no description", where, code);
    }
}

/* The operations of doc served on listener into s; shape checks on the
 * way. The first call per document (listener "api") checks the ids. */
static void add_doc(struct set *s, json_t *doc, const char *name,
                    const char *listener, bool plaintext)
{
    json_t *paths = json_object_get(doc, "paths"), *item, *seen;
    const char *path, *ver;

    ver = json_string_value(json_object_get(doc, "openapi"));
    if (!ver || strncmp(ver, "3.", 2) != 0)
        fail_msg("%s: openapi is not 3.x", name);
    if (!json_is_string(json_object_get(json_object_get(doc, "info"),
                                        "title")) ||
        !json_is_object(json_object_get(json_object_get(doc, "components"),
                                        "schemas")) ||
        !json_is_object(paths))
        fail_msg("%s: no info.title, paths or components.schemas", name);
    check_refs(doc, doc, name);
    seen = json_object();
    json_object_foreach(paths, path, item) {
        const char *key;
        json_t *opn;

        if (path[0] != '/')
            fail_msg("%s: path %s", name, path);
        json_object_foreach(item, key, opn) {
            char where[256];
            const char *id;
            size_t m;

            for (m = 0; m < NMETHODS; m++)
                if (strcmp(key, methods[m].o) == 0)
                    break;
            snprintf(where, sizeof(where), "%s %s %s", name, key, path);
            if (m == NMETHODS)
                fail_msg("%s: not a method the servers route", where);
            id = json_string_value(json_object_get(opn, "operationId"));
            if (!id || json_object_get(seen, id))
                fail_msg("%s: missing or repeated operationId", where);
            json_object_set_new(seen, id, json_true());
            check_params(path, opn, where);
            check_responses(json_object_get(opn, "responses"), where);
            if (!listens_on(opn, listener))
                continue;
            set_add(s, methods[m].s, path,
                    plaintext ? 0
                              : roles_of(json_object_get(opn, "x-roles"),
                                         where),
                    plaintext ? NULL
                              : json_string_value(
                                    json_object_get(opn, "x-since")));
        }
    }
    json_decref(seen);
}

static void same(const struct set *code, const struct set *docs,
                 const char *doc)
{
    int missing = 0;

    for (size_t i = 0; i < code->n; i++)
        if (!set_has(docs, code->e[i])) {
            print_error("route %s is not in docs/openapi/%s\n", code->e[i],
                        doc);
            missing++;
        }
    for (size_t i = 0; i < docs->n; i++)
        if (!set_has(code, docs->e[i])) {
            print_error("docs/openapi/%s has %s, which no route serves\n",
                        doc, docs->e[i]);
            missing++;
        }
    assert_int_equal(missing, 0);
}

static void check_version(json_t *doc, const char *const *v, size_t n)
{
    const char *got = json_string_value(
        json_object_get(json_object_get(doc, "info"), "version"));

    assert_non_null(got);
    assert_string_equal(got, v[n - 1]);
}

/* One table, one document, one listener. */
static void check_service(const struct httpd_route *t, size_t n,
                          const char *name, const char *listener,
                          bool plaintext)
{
    static struct set code_set, docs_set;
    json_t *doc = load_doc(name);

    memset(&code_set, 0, sizeof(code_set));
    memset(&docs_set, 0, sizeof(docs_set));
    assert_true(n > 0);
    if (plaintext) {
        for (size_t i = 0; i < n; i++)
            for (size_t m = 0; m < NMETHODS; m++)
                if (t[i].methods & HTTPD_M(methods[m].m))
                    set_add(&code_set, methods[m].s, t[i].pattern, 0, NULL);
    } else {
        add_table(&code_set, t, n);
    }
    add_doc(&docs_set, doc, name, listener, plaintext);
    same(&code_set, &docs_set, name);
    json_decref(doc);
}

static void test_route_openapi__sledagent_json(void **state)
{
    const char *const *v;
    const struct httpd_route *t;
    size_t n, nv;
    json_t *doc;

    (void)state;
    t = agent_api_routes(&n);
    check_service(t, n, "sledagent.json", "api", false);
    doc = load_doc("sledagent.json");
    v = agent_api_versions(&nv);
    check_version(doc, v, nv);
    json_decref(doc);
}

static void test_route_openapi__depot_json(void **state)
{
    const char *const *v;
    const struct httpd_route *t;
    size_t n, nv;
    json_t *doc;

    (void)state;
    t = depot_routes(&n);
    check_service(t, n, "depot.json", "api", false);
    doc = load_doc("depot.json");
    v = depot_versions(&nv);
    check_version(doc, v, nv);
    json_decref(doc);
}

static void test_route_openapi__replicator_json(void **state)
{
    const char *const *v;
    const struct httpd_route *t;
    size_t n, nv;
    json_t *doc;

    (void)state;
    t = api_routes(&n);
    check_service(t, n, "replicator.json", "api", false);
    t = ui_routes(&n);
    check_service(t, n, "replicator.json", "ui", true);
    doc = load_doc("replicator.json");
    v = api_versions(&nv);
    check_version(doc, v, nv);
    json_decref(doc);
}

/* The comparison can fail: a document without one operation differs. */
static void test_route_openapi__a_missing_operation_is_found(void **state)
{
    static struct set code_set, docs_set;
    const struct httpd_route *t;
    json_t *doc = load_doc("sledagent.json");
    size_t n;

    (void)state;
    memset(&code_set, 0, sizeof(code_set));
    memset(&docs_set, 0, sizeof(docs_set));
    assert_int_equal(json_object_del(json_object_get(json_object_get(
                                         doc, "paths"), "/copies"),
                                     "get"), 0);
    t = agent_api_routes(&n);
    add_table(&code_set, t, n);
    add_doc(&docs_set, doc, "sledagent.json", "api", false);
    assert_int_equal(docs_set.n + 1, code_set.n);
    assert_false(set_has(&docs_set, "GET /copies [controller operator ] "
                                    "since -"));
    assert_true(set_has(&code_set, "GET /copies [controller operator ] "
                                   "since -"));
    json_decref(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_route_openapi__sledagent_json),
        cmocka_unit_test(test_route_openapi__depot_json),
        cmocka_unit_test(test_route_openapi__replicator_json),
        cmocka_unit_test(test_route_openapi__a_missing_operation_is_found),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
