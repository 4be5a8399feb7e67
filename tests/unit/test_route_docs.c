/* SPDX-License-Identifier: MPL-2.0 */
/*
 * The route tables against the docs: every route of the sledagent's agent
 * API and depot tables (agent_api_routes, depot_routes) is a row of the
 * endpoint table of docs/API.md and every row is a route; the same for
 * the replicator's table (api_routes) and the endpoint table of
 * docs/OPERATOR.md. A row's first cell names its method(s) and path in
 * backticks: "`GET /x`", "`PUT /a/{sha256}?generation=N`", "depot
 * `GET`/`HEAD /artifact/sha256/{sha256}`". The docs are found through
 * RACKDEPOT_SOURCE_DIR (set by ctest). Also checks each table's own
 * invariants: a label, a handler, a pattern starting with '/', no
 * pattern listed twice for one method. The second cell of a row is the
 * route's roles (mutual TLS, httpd_route.h): the words "controller",
 * "operator", "sled" and "own id" (HTTPD_ROLE_SELF), checked against the
 * table's role bits. The API versions (issue 12): each service's list
 * is well-formed and increasing, every route's `since` is one of them,
 * and the version table of docs/API.md lists exactly them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/api_version.h"
#include "common/httpd.h"
#include "common/httpd_route.h"
#include "replicator/api_routes.h"
#include "replicator/ui.h"
#include "sledagent/agent_api.h"
#include "sledagent/depot.h"

#define MAX_ENTRIES 64
#define ENTRY_LEN 160

struct set {
    size_t n;
    char e[MAX_ENTRIES][ENTRY_LEN];
};

static const struct { enum httpd_method m; const char *s; } methods[] = {
    {HTTPD_GET, "GET"}, {HTTPD_HEAD, "HEAD"}, {HTTPD_PUT, "PUT"},
    {HTTPD_POST, "POST"}, {HTTPD_DELETE, "DELETE"}};

#define NMETHODS (sizeof(methods) / sizeof(methods[0]))

static bool set_has(const struct set *s, const char *e)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->e[i], e) == 0)
            return true;
    return false;
}

/* Canonical text of a role set: "controller operator sled self". */
static void roles_text(char out[64], unsigned roles)
{
    snprintf(out, 64, "%s%s%s%s",
             roles & HTTPD_ROLE_CONTROLLER ? "controller " : "",
             roles & HTTPD_ROLE_OPERATOR ? "operator " : "",
             roles & HTTPD_ROLE_SLED ? "sled " : "",
             roles & HTTPD_ROLE_SELF ? "self" : "");
}

/* The role bits a docs cell names. */
static unsigned roles_of_cell(const char *cell, size_t len)
{
    char text[256];
    unsigned r = 0;

    snprintf(text, sizeof(text), "%.*s", (int)len, cell);
    if (strstr(text, "controller"))
        r |= HTTPD_ROLE_CONTROLLER;
    if (strstr(text, "operator"))
        r |= HTTPD_ROLE_OPERATOR;
    if (strstr(text, "sled"))
        r |= HTTPD_ROLE_SLED;
    if (strstr(text, "own id"))
        r |= HTTPD_ROLE_SELF;
    return r;
}

static void set_add(struct set *s, const char *method, const char *path,
                    size_t pathlen, unsigned roles)
{
    char rt[64];

    roles_text(rt, roles);
    assert_true(s->n < MAX_ENTRIES);
    snprintf(s->e[s->n], ENTRY_LEN, "%s %.*s [%s]", method, (int)pathlen,
             path, rt);
    s->n++;
}

/* A table's routes; every route names a role unless plaintext (a
 * listener without TLS, where no role is checked: the UI's). */
static void add_table_of(struct set *s, const struct httpd_route *t,
                         size_t n, bool plaintext)
{
    for (size_t i = 0; i < n; i++) {
        assert_non_null(t[i].name);
        assert_non_null(t[i].on_request);
        assert_true(t[i].pattern[0] == '/');
        assert_true(plaintext ? t[i].roles == 0
                              : (t[i].roles & HTTPD_ROLE_ALL) != 0);
        assert_int_equal(t[i].roles & ~(HTTPD_ROLE_ALL | HTTPD_ROLE_SELF), 0);
        assert_true(t[i].methods != 0);
        for (size_t m = 0; m < NMETHODS; m++) {
            if (!(t[i].methods & HTTPD_M(methods[m].m)))
                continue;
            set_add(s, methods[m].s, t[i].pattern, strlen(t[i].pattern),
                    t[i].roles);
            /* one route per method and pattern */
            for (size_t j = 0; j + 1 < s->n; j++)
                assert_string_not_equal(s->e[j], s->e[s->n - 1]);
        }
    }
}

static void add_table(struct set *s, const struct httpd_route *t, size_t n)
{
    add_table_of(s, t, n, false);
}

/* The method and path spans in the first cell of a table row. */
static void add_row(struct set *s, const char *cell, size_t len,
                    unsigned roles)
{
    const char *end = cell + len, *p = cell, *path = NULL;
    const char *found[NMETHODS];
    size_t nfound = 0, pathlen = 0;

    while (p < end && (p = memchr(p, '`', (size_t)(end - p)))) {
        const char *q = memchr(p + 1, '`', (size_t)(end - p - 1));
        const char *w = p + 1;

        if (!q)
            break;
        while (w < q) {
            size_t wl = strcspn(w, " `");

            if (*w == '/' && !path) {
                path = w;
                pathlen = strcspn(w, "?[` ");
            }
            for (size_t m = 0; m < NMETHODS; m++)
                if (wl == strlen(methods[m].s) &&
                    memcmp(w, methods[m].s, wl) == 0 && nfound < NMETHODS)
                    found[nfound++] = methods[m].s;
            w += wl;
            while (w < q && *w == ' ')
                w++;
        }
        p = q + 1;
    }
    if (!path || nfound == 0)
        fail_msg("docs row without a method and a path: %.*s", (int)len,
                 cell);
    for (size_t i = 0; i < nfound; i++)
        set_add(s, found[i], path, pathlen, roles);
}

/* Rows of the first table of doc whose header starts with head. */
static void add_doc_table(struct set *s, const char *doc, const char *head)
{
    const char *dir = getenv("RACKDEPOT_SOURCE_DIR");
    char path[4096], line[2048];
    bool in_table = false, seen = false;
    FILE *f;

    snprintf(path, sizeof(path), "%s/docs/%s", dir ? dir : ".", doc);
    f = fopen(path, "r");
    if (!f)
        fail_msg("cannot open %s (RACKDEPOT_SOURCE_DIR)", path);
    while (fgets(line, sizeof(line), f)) {
        if (!in_table && strncmp(line, head, strlen(head)) == 0 && !seen) {
            in_table = seen = true;
            continue;
        }
        if (!in_table)
            continue;
        if (line[0] != '|') {
            in_table = false;
            continue;
        }
        if (strncmp(line, "|---", 4) == 0)
            continue;
        {
            size_t c1 = strcspn(line + 1, "|");
            const char *c2 = line + 1 + c1 + (line[1 + c1] ? 1 : 0);

            add_row(s, line + 1, c1, roles_of_cell(c2, strcspn(c2, "|")));
        }
    }
    fclose(f);
    if (!seen)
        fail_msg("%s has no \"%s\" table", doc, head);
}

/* Rows of the table whose header starts with "| endpoint" in doc. */
static void add_doc(struct set *s, const char *doc)
{
    add_doc_table(s, doc, "| endpoint |");
}

static void same(const struct set *code, const struct set *docs,
                 const char *doc)
{
    int missing = 0;

    for (size_t i = 0; i < code->n; i++)
        if (!set_has(docs, code->e[i])) {
            print_error("route %s is not in docs/%s\n", code->e[i], doc);
            missing++;
        }
    for (size_t i = 0; i < docs->n; i++)
        if (!set_has(code, docs->e[i])) {
            print_error("docs/%s lists %s, which no route serves\n", doc,
                        docs->e[i]);
            missing++;
        }
    assert_int_equal(missing, 0);
}

static void test_route_docs__sledagent_tables_are_api_md(void **state)
{
    static struct set code_set, docs_set;
    struct set *code = &code_set, *docs = &docs_set;
    const struct httpd_route *t;
    size_t n;

    (void)state;
    memset(code, 0, sizeof(*code));
    memset(docs, 0, sizeof(*docs));
    t = agent_api_routes(&n);
    assert_true(n > 0);
    add_table(code, t, n);
    t = depot_routes(&n);
    assert_true(n > 0);
    add_table(code, t, n);
    add_doc(docs, "API.md");
    same(code, docs, "API.md");
    assert_true(set_has(code, "HEAD /artifact/sha256/{sha256} "
                               "[controller sled ]"));
}

static void test_route_docs__replicator_table_is_operator_md(void **state)
{
    static struct set code_set, docs_set;
    struct set *code = &code_set, *docs = &docs_set;
    const struct httpd_route *t;
    size_t n;

    (void)state;
    memset(code, 0, sizeof(*code));
    memset(docs, 0, sizeof(*docs));
    t = api_routes(&n);
    assert_true(n > 0);
    add_table(code, t, n);
    add_doc(docs, "OPERATOR.md");
    same(code, docs, "OPERATOR.md");
}

/* The status page's loopback listener (--ui-listen): its own table in
 * docs/OPERATOR.md "Status page". */
static void test_route_docs__ui_table_is_operator_md(void **state)
{
    static struct set code_set, docs_set;
    struct set *code = &code_set, *docs = &docs_set;
    const struct httpd_route *t;
    size_t n;

    (void)state;
    memset(code, 0, sizeof(*code));
    memset(docs, 0, sizeof(*docs));
    t = ui_routes(&n);
    assert_true(n > 0);
    add_table_of(code, t, n, true);
    add_doc_table(docs, "OPERATOR.md", "| ui endpoint |");
    same(code, docs, "OPERATOR.md");
}

/* The backticked MAJOR.MINOR.PATCH tokens of the docs/API.md version
 * table row starting with "| " name " |", joined by spaces, into out. */
static void doc_versions(char *out, size_t cap, const char *name)
{
    const char *dir = getenv("RACKDEPOT_SOURCE_DIR");
    char path[4096], line[2048], head[128];
    size_t len = 0;
    FILE *f;

    out[0] = '\0';
    snprintf(path, sizeof(path), "%s/docs/API.md", dir ? dir : ".");
    snprintf(head, sizeof(head), "| %s |", name);
    f = fopen(path, "r");
    if (!f)
        fail_msg("cannot open %s (RACKDEPOT_SOURCE_DIR)", path);
    while (fgets(line, sizeof(line), f)) {
        const char *p = line + strlen(head), *end;

        if (strncmp(line, head, strlen(head)) != 0)
            continue;
        /* the second cell only */
        end = p + strcspn(p, "|");
        while ((p = strchr(p, '`')) && p < end) {
            size_t n = strcspn(p + 1, "`");
            char tok[64];
            const char *v;

            snprintf(tok, sizeof(tok), "%.*s", (int)(n < 63 ? n : 63),
                     p + 1);
            if (httpd_api_version_pick(&v, (const char *const[]){tok}, 1,
                                       tok, NULL) == 0)
                len += (size_t)snprintf(out + len, cap - len, "%s%s",
                                        len ? " " : "", tok);
            p += n + 2;
            if (len >= cap)
                break;
        }
        break;
    }
    fclose(f);
}

static void check_versions(const char *name, const char *const *v, size_t n,
                           const struct httpd_route *t, size_t nt)
{
    char code[256], docs[256];
    size_t len = 0;
    const char *got;

    assert_true(n > 0);
    code[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (httpd_api_version_pick(&got, v, n, v[i], NULL) != 0 ||
            got != v[i])
            fail_msg("%s: version %s is not MAJOR.MINOR.PATCH", name, v[i]);
        if (i && httpd_api_version_cmp(v[i - 1], v[i]) >= 0)
            fail_msg("%s: versions not increasing at %s", name, v[i]);
        len += (size_t)snprintf(code + len, sizeof(code) - len, "%s%s",
                                i ? " " : "", v[i]);
    }
    for (size_t i = 0; i < nt; i++)
        if (t[i].since &&
            (httpd_api_version_pick(&got, v, n, t[i].since, NULL) != 0 ||
             strcmp(got, t[i].since) != 0))
            fail_msg("%s: route %s since %s, a version not served", name,
                     t[i].pattern, t[i].since);
    doc_versions(docs, sizeof(docs), name);
    if (strcmp(code, docs) != 0)
        fail_msg("%s serves \"%s\", docs/API.md says \"%s\"", name, code,
                 docs);
}

static void test_route_docs__issue_12_api_versions(void **state)
{
    const char *const *v;
    const struct httpd_route *t;
    size_t n, nt;

    (void)state;
    v = agent_api_versions(&n);
    t = agent_api_routes(&nt);
    check_versions("sledagent agent API (`--listen`)", v, n, t, nt);
    v = depot_versions(&n);
    t = depot_routes(&nt);
    check_versions("sledagent depot (`--depot-listen`)", v, n, t, nt);
    v = api_versions(&n);
    t = api_routes(&nt);
    check_versions("replicator API (docs/OPERATOR.md)", v, n, t, nt);
}

/* Whether version is one of v[0..n). */
static bool served(const char *const *v, size_t n, const char *version)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(v[i], version))
            return true;
    return false;
}

/* Every version our clients name (common/api_version.h) is one the service
 * they send it to serves: a client never gets UNSUPPORTED_API_VERSION from
 * a server of the same build. The CLI speaks the replicator's latest. */
static void test_route_docs__client_versions_served(void **state)
{
    const char *const *v;
    size_t n;

    (void)state;
    v = agent_api_versions(&n);
    assert_true(served(v, n, API_VERSION_SLED_AGENT));
    assert_true(served(v, n, API_VERSION_FIRST));
    v = depot_versions(&n);
    assert_true(served(v, n, API_VERSION_DEPOT));
    assert_true(served(v, n, API_VERSION_FIRST));
    v = api_versions(&n);
    assert_true(served(v, n, API_VERSION_REPLICATOR_SLED));
    assert_true(served(v, n, API_VERSION_FIRST));
    assert_string_equal(v[n - 1], API_VERSION_REPLICATOR);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_route_docs__sledagent_tables_are_api_md),
        cmocka_unit_test(test_route_docs__replicator_table_is_operator_md),
        cmocka_unit_test(test_route_docs__ui_table_is_operator_md),
        cmocka_unit_test(test_route_docs__issue_12_api_versions),
        cmocka_unit_test(test_route_docs__client_versions_served),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
