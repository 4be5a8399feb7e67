/* SPDX-License-Identifier: MPL-2.0 */
/*
 * rack_status: collect and print the state of a rack. See rack_status.h.
 * Main thread only.
 */
#include "sim/rack_status.h"

#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "common/jsonutil.h"
#include "sim/rack_dbha.h"
#include "sim/rack_http.h"
#include "sim/rack_link.h"
#include "sim/rack_net.h"
#include "sim/rack_pki.h"
#include "sim/rack_proc.h"
#include "sim/rack_state.h"
#include "sim/rack_up.h"

int rack_sled_inventory(json_t **out, const struct rack *r, size_t k,
                        long timeout_ms, struct err *err)
{
    char url[96];

    rack_url(url, sizeof(url), r, 's', k, r->sleds[k].api_port,
             "/artifacts");
    return rack_http_get_json(out, url, timeout_ms, err);
}

static json_t *sled_json(const struct rack *r, size_t k, long timeout_ms)
{
    const struct rack_sled *s = &r->sleds[k];
    char a[PATH_MAX], b[PATH_MAX];
    bool alive = rack_proc_alive(s->p.pid, s->p.start);
    json_t *o, *inv = NULL;
    struct err err = ERR_INIT;
    char api[64], depot[64];

    rack_path_dataset(a, sizeof(a), r, k, 'A');
    rack_path_dataset(b, sizeof(b), r, k, 'B');
    o = json_pack("{s:I, s:s, s:I, s:b, s:s, s:I, s:I, s:{s:b, s:b}, s:I}",
                  "index", (json_int_t)k, "id", s->id, "pid",
                  (json_int_t)(alive ? s->p.pid : 0), "alive", alive, "state",
                  alive ? s->state : "down", "api_port",
                  (json_int_t)s->api_port, "depot_port",
                  (json_int_t)s->depot_port, "dataset_dirs", "A",
                  access(a, F_OK) == 0, "B", access(b, F_OK) == 0,
                  "quota_bytes", (json_int_t)s->quota_bytes);
    rack_url(api, sizeof(api), r, 's', k, s->api_port, "");
    rack_url(depot, sizeof(depot), r, 's', k, s->depot_port, "");
    if (o && r->netns) {
        rack_net_member_json(o, r, 's', k);
        json_object_set_new(o, "link", rack_link_json(r, k));
    }
    if (o) {
        json_object_set_new(o, "dataset_quota",
                            json_pack("[I,I]", (json_int_t)s->quota_ds[0],
                                      (json_int_t)s->quota_ds[1]));
        json_object_set_new(o, "api_url", json_string(api));
        json_object_set_new(o, "depot_url", json_string(depot));
    }
    if (!o || !alive || strcmp(s->state, "partitioned") == 0)
        return o;
    if (rack_sled_inventory(&inv, r, k, timeout_ms, &err) < 0) {
        /* 400 from GET /artifacts means no config was pushed yet. */
        json_object_set_new(o, "error", json_string(
            strstr(err.msg, ": 400 ") ? "no artifact config yet" : err.msg));
        return o;
    }
    json_object_set(o, "generation", json_object_get(inv, "generation"));
    json_object_set(o, "artifacts", json_object_get(inv, "list"));
    json_object_set(o, "datasets", json_object_get(inv, "datasets"));
    json_decref(inv);
    return o;
}

/* Replicator i: process, URL and (alive) the task's generation. */
static json_t *repl_json(const struct rack *r, size_t i, long timeout_ms)
{
    const struct rack_repl *p = &r->repls[i];
    bool alive = rack_proc_alive(p->p.pid, p->p.start);
    json_t *task = NULL, *o;
    char url[128], base[64];

    rack_url(base, sizeof(base), r, 'r', i, p->port, "");
    o = json_pack("{s:I, s:I, s:b, s:I, s:s, s:s}", "index", (json_int_t)i,
                  "pid", (json_int_t)(alive ? p->p.pid : 0), "alive", alive,
                  "port", (json_int_t)p->port, "url", base, "state",
                  alive ? p->state : "down");
    if (o && p->ui_port) {
        snprintf(url, sizeof(url), "http://127.0.0.1:%u/ui", p->ui_port);
        json_object_set_new(o, "ui_url", json_string(url));
    }
    if (o && r->netns)
        rack_net_member_json(o, r, 'r', i);
    snprintf(url, sizeof(url), "%s/background-tasks/"
             "tuf_artifact_replication", base);
    if (o && alive && rack_http_get_json(&task, url, timeout_ms, NULL) == 0)
        json_object_set_new(o, "generation",
                            json_deep_copy(json_object_get(task,
                                                           "generation")));
    json_decref(task);
    return o;
}

json_t *rack_status_collect(const struct rack *r, long timeout_ms)
{
    char url[128];
    json_t *st, *sleds, *repls;
    pid_t pgpid = r->pgdata[0] ? rack_pg_pid(r->pgdata) : 0;
    bool pgalive = pgpid > 0 && rack_proc_alive(pgpid, 0);

    rack_repl_url(url, sizeof(url), r);
    st = json_pack("{s:s, s:s, s:b, s:s, s:s, s:[], s:[], s:o}", "dir",
                   r->dir, "mode", r->tls ? "tls" : "plaintext", "tls",
                   r->tls, "rack_id", r->rack_id, "replicator_url", url,
                   "sleds", "replicators", "pki", rack_pki_json(r));
    if (st)
        json_object_set_new(st, "net", rack_net_json(r));
    if (!st)
        return NULL;
    sleds = json_object_get(st, "sleds");
    repls = json_object_get(st, "replicators");
    for (size_t k = 0; k < r->nsleds; k++)
        json_array_append_new(sleds, sled_json(r, k, timeout_ms));
    for (size_t i = 0; i < r->nrepls; i++)
        json_array_append_new(repls, repl_json(r, i, timeout_ms));
    /* the first replicator's status page (issue 15) */
    if (r->nrepls && r->repls[0].ui_port) {
        snprintf(url, sizeof(url), "http://127.0.0.1:%u/ui",
                 r->repls[0].ui_port);
        json_object_set_new(st, "ui_url", json_string(url));
    }
    json_object_set_new(st, "db", json_pack("{s:I, s:b, s:s, s:s}", "pid",
                                            (json_int_t)(pgalive ? pgpid : 0),
                                            "alive", pgalive, "conninfo",
                                            r->conninfo, "data", r->pgdata));
    if (r->db_ha) /* details: `rack-sim db status` */
        json_object_set_new(json_object_get(st, "db"), "ha",
                            json_boolean(rack_dbha_alive(r)));
    return st;
}

static long long int_of(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);

    return json_is_integer(v) ? (long long)json_integer_value(v) : -1;
}

/* A netns sled's link impairments and cuts, for the NOTE column. */
static void link_note(FILE *f, const json_t *l)
{
    const json_t *c;
    size_t i;

    if (!l)
        return;
    if (int_of(l, "rate") > 0)
        fprintf(f, "rate %lld B/s ", int_of(l, "rate"));
    if (int_of(l, "delay_us") > 0)
        fprintf(f, "delay %lld us ", int_of(l, "delay_us"));
    if (json_real_value(json_object_get(l, "loss_percent")) > 0)
        fprintf(f, "loss %.3f %% ",
                json_real_value(json_object_get(l, "loss_percent")));
    if (int_of(l, "flap_secs") > 0)
        fprintf(f, "flapping every %lld s ", int_of(l, "flap_secs"));
    json_array_foreach(json_object_get(l, "cuts"), i, c) {
        if (json_is_integer(json_object_get(c, "from")))
            fprintf(f, "cut %s from sled %lld ", jsonu_str(c, "dir"),
                    int_of(c, "from"));
        else
            fprintf(f, "cut %s ", jsonu_str(c, "dir"));
    }
}

void rack_status_print(FILE *f, const json_t *st, bool verbose)
{
    const json_t *a = json_object_get(st, "sleds"), *db, *o;
    size_t i;

    fprintf(f, "rack %s\n", jsonu_str(st, "dir") ? jsonu_str(st, "dir") :
            "?");
    fprintf(f, "mode %s, replicator %s, CA %s\n",
            json_is_true(json_object_get(st, "tls")) ? "mutual TLS" :
            "plaintext", jsonu_str(st, "replicator_url"),
            jsonu_str(json_object_get(st, "pki"), "ca"));
    if (jsonu_str(st, "ui_url"))
        fprintf(f, "status page %s\n", jsonu_str(st, "ui_url"));
    fputc('\n', f);
    o = json_object_get(st, "net");
    if (jsonu_str(o, "mode") && !strcmp(jsonu_str(o, "mode"), "netns"))
        fprintf(f, "network: namespaces, prefix %s, rack namespace %s, host "
                "link %s\n\n", jsonu_str(o, "prefix"),
                jsonu_str(o, "rack_namespace"), jsonu_str(o, "host_link"));
    fprintf(f, "%-5s %-8s %-12s %-6s %-6s %-5s %-4s %-4s %s\n", "SLED", "PID",
            "STATE", "API", "DEPOT", "DIRS", "GEN", "ARTS", "NOTE");
    json_array_foreach(a, i, o) {
        const json_t *arts = json_object_get(o, "artifacts");
        const json_t *dirs = json_object_get(o, "dataset_dirs");
        char d[4] = "--";
        const char *note = jsonu_str(o, "error");
        long long gen = int_of(o, "generation");

        if (json_is_true(json_object_get(dirs, "A")))
            d[0] = 'A';
        if (json_is_true(json_object_get(dirs, "B")))
            d[1] = 'B';
        fprintf(f, "%-5lld %-8lld %-12s %-6lld %-6lld %-5s ",
                int_of(o, "index"), int_of(o, "pid"), jsonu_str(o, "state"),
                int_of(o, "api_port"), int_of(o, "depot_port"), d);
        if (gen >= 0)
            fprintf(f, "%-4lld %-4zu ", gen, json_object_size(arts));
        else
            fprintf(f, "%-4s %-4s ", "-", "-");
        if (int_of(o, "quota_bytes") > 0)
            fprintf(f, "filled (quota %lld) ", int_of(o, "quota_bytes"));
        for (size_t q = 0; q < 2; q++)
            if (json_integer_value(json_array_get(
                    json_object_get(o, "dataset_quota"), q)) > 0)
                fprintf(f, "dataset %c filled ", q == 0 ? 'A' : 'B');
        if (jsonu_str(o, "address"))
            fprintf(f, "[%s] ", jsonu_str(o, "address"));
        link_note(f, json_object_get(o, "link"));
        fprintf(f, "%s\n", note ? note : "");
        if (verbose && arts) {
            const char *h;
            json_t *c;

            json_object_foreach((json_t *)arts, h, c)
                fprintf(f, "      %s x%lld\n", h,
                        (long long)json_integer_value(c));
        }
    }
    fprintf(f, "\n%-5s %-8s %-8s %-6s %s\n", "REPL", "PID", "STATE", "PORT",
            "GEN");
    json_array_foreach(json_object_get(st, "replicators"), i, o) {
        long long gen = int_of(o, "generation");

        fprintf(f, "%-5lld %-8lld %-8s %-6lld ", int_of(o, "index"),
                int_of(o, "pid"), jsonu_str(o, "state"), int_of(o, "port"));
        if (gen >= 0)
            fprintf(f, "%lld\n", gen);
        else
            fprintf(f, "-\n");
    }
    db = json_object_get(st, "db");
    if (json_object_get(db, "ha")) {
        fprintf(f, "\ndb: pg_auto_failover (%s; see `rack-sim db status`), "
                "%s\n", json_is_true(json_object_get(db, "ha"))
                             ? "running" : "down",
                jsonu_str(db, "conninfo"));
        return;
    }
    fprintf(f, "\ndb: %s, pid %lld, %s\n",
            json_is_true(json_object_get(db, "alive")) ? "running" : "down",
            int_of(db, "pid"), jsonu_str(db, "conninfo"));
}

/* s in single quotes for a POSIX shell (' as '\''). */
static void put_quoted(FILE *f, const char *s)
{
    fputc('\'', f);
    for (; *s; s++) {
        if (*s == '\'')
            fputs("'\\''", f);
        else
            fputc(*s, f);
    }
    fputc('\'', f);
}

static void put_export(FILE *f, const char *name, const char *value)
{
    fprintf(f, "export %s=", name);
    put_quoted(f, value);
    fputc('\n', f);
}

int rack_status_env(FILE *f, const struct rack *r)
{
    struct rack_cred c;
    char url[128];

    rack_repl_url(url, sizeof(url), r);
    rack_cred_operator(&c, r);
    fprintf(f, "# rack-sim rack %s (%s); use: eval \"$(rack-sim env)\"\n",
            r->dir, r->tls ? "mutual TLS, as the operator" :
            "plaintext, --insecure-plaintext");
    put_export(f, "RACK_SIM_DIR", r->dir);
    put_export(f, "REPLICATOR_URL", url);
    if (!r->tls) {
        fprintf(f, "unset RACKDEPOT_TLS_CA RACKDEPOT_TLS_CERT "
                "RACKDEPOT_TLS_KEY\n");
        return 0;
    }
    put_export(f, "RACKDEPOT_TLS_CA", c.ca);
    put_export(f, "RACKDEPOT_TLS_CERT", c.cert);
    put_export(f, "RACKDEPOT_TLS_KEY", c.key);
    return 0;
}
