/* SPDX-License-Identifier: MPL-2.0 */
/*
 * db_cli: `replicator db migrate [--to N]` and `replicator db status
 * [--json]`, both taking --db URL (default $REPLICATOR_DB). Exit codes 0
 * ok, 1 failed, 2 usage. Main thread of the command-line tool.
 */
#include "replicator/db/db_cli.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/err.h"
#include "common/jsonutil.h"
#include "common/mem.h"
#include "common/parse.h"
#include "replicator/db/db.h"
#include "replicator/db/db_migrate.h"

static const char USAGE[] =
    "usage: replicator db migrate --db URL [--to N]\n"
    "       replicator db status --db URL [--json]\n"
    "  --db URL   libpq connection string or postgresql:// URL\n"
    "             (default: $REPLICATOR_DB)\n"
    "  --to N     migrate up or down to schema version N (default: latest)\n"
    "  --json     print the status as JSON\n";

struct opts {
    const char *cmd;
    const char *url;
    int64_t to;
    bool json;
};

/* Returns 0, or 2 after printing a usage error, or -1 for --help. */
static int parse_opts(struct opts *o, FILE *errf, int argc, char **argv)
{
    uint64_t v = 0;
    int i;

    o->cmd = NULL;
    o->url = getenv("REPLICATOR_DB");
    o->to = -1;
    o->json = false;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];

        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
            return -1;
        if (strcmp(a, "--db") == 0 && i + 1 < argc) {
            o->url = argv[++i];
        } else if (strcmp(a, "--to") == 0 && i + 1 < argc) {
            if (parse_u64_range(&v, argv[++i], 0, INT64_MAX) < 0) {
                fprintf(errf, "replicator db: --to: not a version: %s\n",
                        argv[i]);
                return 2;
            }
            o->to = (int64_t)v;
        } else if (strcmp(a, "--json") == 0) {
            o->json = true;
        } else if (a[0] != '-' && !o->cmd) {
            o->cmd = a;
        } else {
            fprintf(errf, "replicator db: unexpected argument %s\n%s", a,
                    USAGE);
            return 2;
        }
    }
    if (!o->cmd || (strcmp(o->cmd, "migrate") != 0 &&
                    strcmp(o->cmd, "status") != 0)) {
        fprintf(errf, "replicator db: expected migrate or status\n%s", USAGE);
        return 2;
    }
    if (!o->url || !*o->url) {
        fprintf(errf, "replicator db: --db URL is required\n%s", USAGE);
        return 2;
    }
    if (o->to != -1 && strcmp(o->cmd, "migrate") != 0) {
        fprintf(errf, "replicator db: --to applies to migrate only\n");
        return 2;
    }
    return 0;
}

static const char *state_name(int64_t cur, int64_t latest)
{
    if (cur == latest)
        return "current";
    return cur < latest ? "pending" : "newer";
}

static int print_status(FILE *out, struct db *db, bool as_json,
                        struct err *err)
{
    size_t n = 0, i;
    const struct db_migration *m = db_migrate_list(&n);
    int64_t cur = 0;
    json_t *doc = NULL, *arr = NULL;
    char *text = NULL;
    int rc = db_migrate_current(&cur, db, err);

    if (rc < 0)
        goto out;
    if (!as_json) {
        fprintf(out, "schema version %" PRId64 " (latest known %" PRId64
                ", %s)\n", cur, db_migrate_latest(),
                state_name(cur, db_migrate_latest()));
        for (i = 0; i < n; i++)
            fprintf(out, "  %04" PRId64 "_%-24s %s\n", m[i].version,
                    m[i].name, m[i].version <= cur ? "applied" : "pending");
        goto out;
    }
    arr = json_array();
    doc = json_pack("{s:I, s:I, s:s}", "version", (json_int_t)cur, "latest",
                    (json_int_t)db_migrate_latest(), "state",
                    state_name(cur, db_migrate_latest()));
    if (!arr || !doc) {
        rc = err_set(err, ERR_NOMEM, "out of memory");
        goto out;
    }
    for (i = 0; i < n; i++) {
        json_t *e = json_pack("{s:I, s:s, s:b}", "version",
                              (json_int_t)m[i].version, "name", m[i].name,
                              "applied", m[i].version <= cur);

        if (!e || json_array_append_new(arr, e) < 0) {
            rc = err_set(err, ERR_NOMEM, "out of memory");
            goto out;
        }
    }
    if (json_object_set(doc, "migrations", arr) == 0)
        text = jsonu_dumps(doc);
    if (!text) {
        rc = err_set(err, ERR_NOMEM, "out of memory");
        goto out;
    }
    fprintf(out, "%s\n", text);
out:
    mem_free(text);
    json_decref(arr);
    json_decref(doc);
    return rc;
}

int db_cli_run(FILE *out, FILE *errf, int argc, char **argv)
{
    struct err err = ERR_INIT;
    struct opts o;
    struct db *db = NULL;
    int64_t before = 0, after = 0;
    int applied = 0;
    int code = parse_opts(&o, errf, argc, argv);
    int rc;

    if (code == -1) {
        fputs(USAGE, out);
        code = 0;
        goto out;
    }
    if (code != 0)
        goto out;
    code = 1;
    rc = db_open(&db, o.url, &err);
    if (rc < 0)
        goto fail;
    if (strcmp(o.cmd, "status") == 0) {
        rc = print_status(out, db, o.json, &err);
        if (rc < 0)
            goto fail;
        code = 0;
        goto out;
    }
    rc = db_migrate_current(&before, db, &err);
    if (rc == 0)
        rc = db_migrate_to(&applied, db, o.to, &err);
    if (rc < 0)
        goto fail;
    rc = db_migrate_current(&after, db, &err);
    if (rc < 0)
        goto fail;
    if (applied == 0)
        fprintf(out, "schema already at version %" PRId64 "\n", after);
    else
        fprintf(out, "schema migrated from version %" PRId64 " to %" PRId64
                " (%d step%s)\n", before, after, applied,
                applied == 1 ? "" : "s");
    code = 0;
    goto out;
fail:
    fprintf(errf, "replicator db %s: %s\n", o.cmd, err.msg);
out:
    db_close(db);
    return code;
}

int db_cli_main(int argc, char **argv)
{
    return db_cli_run(stdout, stderr, argc, argv);
}
