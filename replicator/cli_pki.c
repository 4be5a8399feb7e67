/* SPDX-License-Identifier: MPL-2.0 */
/*
 * cli_pki: `replicator pki init | issue | list | revoke`, the rack CA on
 * the operator's disk (pki.c, pki_index.c) and, for revoke --db, the
 * database's record of revocations (db/tlsrev_db.c). Local commands: no
 * --url. Exit codes 0 ok, 1 failed, 2 usage (including values out of
 * range: unknown role, bad sled UUID, --days over the bound). Main thread.
 */
#include "replicator/cli.h"

#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/jsonutil.h"
#include "common/limits.h"
#include "common/mem.h"
#include "common/parse.h"
#include "common/tuf_time.h"
#include "replicator/db/db.h"
#include "replicator/db/tlsrev_db.h"
#include "replicator/pki.h"
#include "replicator/pki_index.h"

static const char pki_usage[] =
    "usage: replicator pki init --dir DIR --rack-id UUID [--days N]\n"
    "       replicator pki issue --dir DIR --role controller|sled|operator\n"
    "                  --id ID [--ip ADDR]... [--days N]\n"
    "                  [--out-cert FILE --out-key FILE] [--json]\n"
    "       replicator pki list --dir DIR [--json]\n"
    "       replicator pki revoke --dir DIR [--role ROLE] [--reason TEXT]\n"
    "                  [--db URL] SERIAL|ID\n"
    "  init    create the rack CA (ECDSA P-256, default 3650 days) in DIR:\n"
    "          ca.pem, ca.key (mode 0600), index.json.\n"
    "  issue   sign a leaf whose identity is the URI SAN\n"
    "          urn:rackdepot:<rack-id>:<role>:<id> (sled ids are UUIDs,\n"
    "          others [a-z0-9-]{1,64}); default 90 days, at most 825;\n"
    "          files default to DIR/<role>-<id>.pem and .key.\n"
    "  list    issued certificates: serial, role, id, validity, revoked.\n"
    "  revoke  mark a certificate (by serial) or an identity (by id, all\n"
    "          its certificates) revoked in the index; with --db URL also\n"
    "          in the database (table tls_revocation), from where the\n"
    "          reconciliation task pushes it to every sled at its next\n"
    "          activation (`replicator activate` for now).\n"
    "  --json  every command prints one JSON document on stdout.\n"
    "Exit codes: 0 success, 1 failed, 2 usage error. See docs/OPERATOR.md.\n";

struct pki_opts {
    const char *cmd, *dir, *rack_id, *role_s, *id, *out_cert, *out_key;
    const char *db, *reason, *what;
    const char *ips[PKI_IPS_MAX];
    size_t nips;
    const char *days_s;
    bool json;
};

/* The value of flag argv[*i] into *dst; false if it has none. */
static bool take(const char **dst, int argc, char **argv, int *i)
{
    if (*i + 1 >= argc)
        return false;
    *dst = argv[++*i];
    return true;
}

static bool parse_flag(struct pki_opts *o, int argc, char **argv, int *i)
{
    const char *a = argv[*i];

    if (!strcmp(a, "--json")) {
        o->json = true;
        return true;
    }
    if (!strcmp(a, "--ip")) {
        if (o->nips >= PKI_IPS_MAX)
            return false;
        return take(&o->ips[o->nips++], argc, argv, i);
    }
    return (!strcmp(a, "--dir") && take(&o->dir, argc, argv, i)) ||
           (!strcmp(a, "--rack-id") && take(&o->rack_id, argc, argv, i)) ||
           (!strcmp(a, "--role") && take(&o->role_s, argc, argv, i)) ||
           (!strcmp(a, "--id") && take(&o->id, argc, argv, i)) ||
           (!strcmp(a, "--days") && take(&o->days_s, argc, argv, i)) ||
           (!strcmp(a, "--out-cert") && take(&o->out_cert, argc, argv, i)) ||
           (!strcmp(a, "--out-key") && take(&o->out_key, argc, argv, i)) ||
           (!strcmp(a, "--db") && take(&o->db, argc, argv, i)) ||
           (!strcmp(a, "--reason") && take(&o->reason, argc, argv, i));
}

/* Returns 0, or 2 after a usage message on errf. */
static int parse_opts(struct pki_opts *o, FILE *errf, int argc, char **argv)
{
    memset(o, 0, sizeof(*o));
    o->reason = "unspecified";
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] != '-' && !o->cmd) {
            o->cmd = argv[i];
        } else if (argv[i][0] != '-' && !o->what) {
            o->what = argv[i];
        } else if (!parse_flag(o, argc, argv, &i)) {
            fprintf(errf, "replicator pki: unexpected argument %s\n%s",
                    argv[i], pki_usage);
            return CLI_EXIT_USAGE;
        }
    }
    if (!o->cmd) {
        fprintf(errf, "replicator pki: expected init, issue, list or "
                "revoke\n%s", pki_usage);
        return CLI_EXIT_USAGE;
    }
    if (!o->dir) {
        fprintf(errf, "replicator pki %s: --dir DIR is required\n", o->cmd);
        return CLI_EXIT_USAGE;
    }
    if (o->what && strcmp(o->cmd, "revoke") != 0) {
        fprintf(errf, "replicator pki %s: unexpected argument %s\n", o->cmd,
                o->what);
        return CLI_EXIT_USAGE;
    }
    return 0;
}

/* Print j (stolen) on out as one compact JSON document. */
static void print_doc(FILE *out, json_t *j)
{
    char *text = j ? jsonu_dumps(j) : NULL;

    fprintf(out, "%s\n", text ? text : "{}");
    mem_free(text);
    json_decref(j);
}

/*
 * Report a failure on errf (and, with --json, as {"status": 0, "message"}
 * on out: no server is involved). Exit code 2 for ERR_INVAL (a bad
 * value), else 1.
 */
static int failed(FILE *out, FILE *errf, const struct pki_opts *o, int rc,
                  const char *msg)
{
    fprintf(errf, "replicator pki %s: %s\n", o->cmd, msg);
    if (o->json)
        print_doc(out, json_pack("{s:i, s:s}", "status", 0, "message", msg));
    return rc == ERR_INVAL ? CLI_EXIT_USAGE : CLI_EXIT_FAILED;
}

static int days_of(unsigned *out, const struct pki_opts *o, unsigned def,
                   unsigned max, FILE *errf)
{
    uint64_t v = def;

    if (o->days_s && parse_u64_range(&v, o->days_s, 1, max) < 0) {
        fprintf(errf, "replicator pki %s: --days must be 1..%u\n", o->cmd,
                max);
        return CLI_EXIT_USAGE;
    }
    *out = (unsigned)v;
    return 0;
}

static int run_init(FILE *out, FILE *errf, const struct pki_opts *o)
{
    struct err e = ERR_INIT;
    unsigned days = 0;
    int rc = days_of(&days, o, PKI_CA_DAYS_DEFAULT, PKI_CA_DAYS_MAX, errf);

    if (rc != 0)
        return rc;
    if (!o->rack_id || o->role_s || o->id || o->nips || o->db) {
        fprintf(errf, "replicator pki init: takes --dir, --rack-id and "
                "--days\n");
        return CLI_EXIT_USAGE;
    }
    rc = pki_init(o->dir, o->rack_id, days, &e);
    if (rc < 0)
        return failed(out, errf, o, rc, e.msg);
    if (o->json)
        print_doc(out, json_pack("{s:s, s:s, s:i}", "rack_id", o->rack_id,
                                 "dir", o->dir, "days", (int)days));
    else
        fprintf(out, "created the CA of rack %s in %s (%u days)\n",
                o->rack_id, o->dir, days);
    return CLI_EXIT_OK;
}

static void print_issued(FILE *out, const struct pki_opts *o,
                         const struct pki_issued *iss)
{
    char nb[TUF_TIME_STR_LEN], na[TUF_TIME_STR_LEN];

    tuf_time_format(nb, iss->not_before);
    tuf_time_format(na, iss->not_after);
    if (!o->json) {
        fprintf(out, "issued %s %s\n  valid %s .. %s\n", iss->serial,
                iss->uri, nb, na);
        return;
    }
    print_doc(out, json_pack("{s:s, s:s, s:s, s:s, s:I, s:I}", "serial",
                             iss->serial, "uri", iss->uri, "role", o->role_s,
                             "id", o->id, "not_before",
                             (json_int_t)iss->not_before, "not_after",
                             (json_int_t)iss->not_after));
}

static int run_issue(FILE *out, FILE *errf, const struct pki_opts *o)
{
    struct pki_leaf_req req;
    struct pki_issued iss;
    struct err e = ERR_INIT;
    int rc;

    memset(&req, 0, sizeof(req));
    rc = days_of(&req.days, o, PKI_LEAF_DAYS_DEFAULT, LIMIT_PKI_LEAF_DAYS,
                 errf);
    if (rc != 0)
        return rc;
    if (!o->role_s || !o->id || o->rack_id || o->db ||
        !o->out_cert != !o->out_key) {
        fprintf(errf, "replicator pki issue: needs --role and --id "
                "(--out-cert and --out-key go together)\n");
        return CLI_EXIT_USAGE;
    }
    if (tls_role_parse(&req.role, o->role_s) < 0) {
        fprintf(errf, "replicator pki issue: unknown role %s (controller, "
                "sled or operator)\n", o->role_s);
        return CLI_EXIT_USAGE;
    }
    req.id = o->id;
    req.ips = o->ips;
    req.nips = o->nips;
    req.out_cert = o->out_cert;
    req.out_key = o->out_key;
    rc = pki_issue(&iss, o->dir, &req, &e);
    if (rc < 0)
        return failed(out, errf, o, rc, e.msg);
    print_issued(out, o, &iss);
    return CLI_EXIT_OK;
}

static void print_table(FILE *out, const struct pki_index *idx)
{
    char nb[TUF_TIME_STR_LEN], na[TUF_TIME_STR_LEN];
    struct pki_cert c;

    fprintf(out, "%-32s %-10s %-36s %-20s %-20s %s\n", "SERIAL", "ROLE",
            "ID", "NOT-BEFORE", "NOT-AFTER", "REVOKED");
    for (size_t i = 0; i < pki_index_count(idx); i++) {
        pki_index_get(&c, idx, i);
        tuf_time_format(nb, c.not_before);
        tuf_time_format(na, c.not_after);
        fprintf(out, "%-32s %-10s %-36s %-20s %-20s %s\n", c.serial,
                tls_role_name(c.role), c.id, nb, na,
                c.revoked ? "yes" : "no");
    }
}

static int run_list(FILE *out, FILE *errf, const struct pki_opts *o)
{
    struct pki_index *idx = NULL;
    struct err e = ERR_INIT;
    json_t *j = NULL;
    char *text = NULL;
    int rc;

    if (o->rack_id || o->role_s || o->id || o->nips || o->db || o->days_s) {
        fprintf(errf, "replicator pki list: takes --dir and --json\n");
        return CLI_EXIT_USAGE;
    }
    rc = pki_index_load(&idx, o->dir, &e);
    if (rc < 0)
        return failed(out, errf, o, rc, e.msg);
    if (!o->json) {
        print_table(out, idx);
    } else {
        j = pki_index_json(idx);
        text = j ? jsonu_dumps(j) : NULL;
        if (text)
            fprintf(out, "%s\n", text);
        else
            rc = err_set(&e, ERR_NOMEM, "out of memory");
    }
    mem_free(text);
    json_decref(j);
    pki_index_free(idx);
    return rc < 0 ? failed(out, errf, o, rc, e.msg) : CLI_EXIT_OK;
}

/* Record r in the database at url; *added tells whether it was new. */
static int revoke_db(bool *added, const char *url,
                     const struct pki_revocation *r, const char *reason,
                     struct err *e)
{
    struct tlsrev_db_entry ent = {r->by_serial ? r->serial : NULL, r->role,
                                  r->id, reason};
    struct db *db = NULL;
    int rc = db_open(&db, url, e);

    if (rc == 0)
        rc = db_check_schema(db, e);
    if (rc == 0)
        rc = tlsrev_db_add(added, db, &ent, e);
    db_close(db);
    return rc;
}

static void print_revoked(FILE *out, const struct pki_opts *o,
                          const struct pki_revocation *r, bool added)
{
    const char *db = !o->db ? NULL : added ? "recorded" : "already recorded";
    const char *state = r->already ? "was already revoked" : "revoked";
    json_t *j;

    if (o->json) {
        j = json_pack("{s:s, s:s, s:s, s:b}", "revoked",
                      r->by_serial ? "certificate" : "identity", "role",
                      tls_role_name(r->role), "id", r->id, "already",
                      r->already);
        if (j && r->by_serial)
            json_object_set_new(j, "serial", json_string(r->serial));
        if (j && db)
            json_object_set_new(j, "database", json_string(db));
        print_doc(out, j);
        return;
    }
    if (r->by_serial)
        fprintf(out, "certificate %s (%s:%s) %s\n", r->serial,
                tls_role_name(r->role), r->id, state);
    else
        fprintf(out, "identity %s:%s %s\n", tls_role_name(r->role), r->id,
                state);
    if (db)
        fprintf(out, "%s in the database\n", db);
}

/* Mark o->what revoked in the index of o->dir. */
static int revoke_index(struct pki_revocation *r, const struct pki_opts *o,
                        enum tls_role role, struct err *e)
{
    struct pki_index *idx = NULL;
    int fd = -1;
    int rc = pki_lock(&fd, o->dir, e);

    if (rc == 0)
        rc = pki_index_load(&idx, o->dir, e);
    if (rc == 0)
        rc = pki_index_revoke(r, idx, o->what, role, o->reason, pki_now(),
                              e);
    if (rc == 0 && !r->already)
        rc = pki_index_save(idx, o->dir, e);
    pki_index_free(idx);
    pki_unlock(fd);
    return rc;
}

static int run_revoke(FILE *out, FILE *errf, const struct pki_opts *o)
{
    struct pki_revocation r;
    struct err e = ERR_INIT;
    char msg[ERR_MSG_MAX + 64];
    enum tls_role role = 0;
    bool added = false;
    int rc;

    if (!o->what || o->rack_id || o->id || o->nips || o->days_s) {
        fprintf(errf, "replicator pki revoke: needs SERIAL or ID\n%s",
                pki_usage);
        return CLI_EXIT_USAGE;
    }
    if (o->role_s && tls_role_parse(&role, o->role_s) < 0) {
        fprintf(errf, "replicator pki revoke: unknown role %s\n", o->role_s);
        return CLI_EXIT_USAGE;
    }
    rc = revoke_index(&r, o, role, &e);
    if (rc < 0)
        return failed(out, errf, o, rc, e.msg);
    if (o->db && revoke_db(&added, o->db, &r, o->reason, &e) < 0) {
        /* the index step is done; running the command again is safe */
        snprintf(msg, sizeof(msg), "the index has it; the database does "
                 "not: %s", e.msg);
        return failed(out, errf, o, ERR_DB, msg);
    }
    print_revoked(out, o, &r, added);
    return CLI_EXIT_OK;
}

int cli_pki_run(FILE *out, FILE *errf, bool json, int argc, char **argv)
{
    struct pki_opts o;
    int code;

    if (cli_wants_help(argc, argv)) {
        fputs(pki_usage, out);
        return CLI_EXIT_OK;
    }
    code = parse_opts(&o, errf, argc, argv);
    if (code != 0)
        return code;
    o.json = o.json || json;
    if (!strcmp(o.cmd, "init"))
        return run_init(out, errf, &o);
    if (!strcmp(o.cmd, "issue"))
        return run_issue(out, errf, &o);
    if (!strcmp(o.cmd, "list"))
        return run_list(out, errf, &o);
    if (!strcmp(o.cmd, "revoke"))
        return run_revoke(out, errf, &o);
    fprintf(errf, "replicator pki: unknown command %s\n%s", o.cmd, pki_usage);
    return CLI_EXIT_USAGE;
}

int cli_pki_main(const struct cli *c, int argc, char **argv)
{
    return cli_pki_run(stdout, stderr, c->json, argc, argv);
}
