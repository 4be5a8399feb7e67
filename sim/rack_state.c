/* SPDX-License-Identifier: MPL-2.0 */
/*
 * rack_state: D/rack.json load/save, the directory layout and lookup of
 * the current rack. See rack_state.h. Main thread only.
 */
#include "sim/rack_state.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/fsutil.h"
#include "common/jsonutil.h"
#include "common/mem.h"
#include "common/parse.h"
#include "sim/rack_net.h"

#define STATE_NAME "rack.json"
#define STATE_MAX_BYTES (1u << 20)

void rack_init(struct rack *r)
{
    memset(r, 0, sizeof(*r));
    r->period = 2;
    r->min_repl = 3;
    r->blind_trust = true;
}

void rack_path_sled(char *out, size_t cap, const struct rack *r, size_t k)
{
    snprintf(out, cap, "%s/sled-%zu", r->dir, k);
}

void rack_path_dataset(char *out, size_t cap, const struct rack *r, size_t k,
                       char which)
{
    snprintf(out, cap, "%s/sled-%zu/%c", r->dir, k, which);
}

void rack_path_repl(char *out, size_t cap, const struct rack *r, size_t i)
{
    snprintf(out, cap, "%s/replicator-%zu", r->dir, i);
}

void rack_sled_uuid(char out[40], size_t k)
{
    snprintf(out, 40, "5ed00000-0000-4000-8000-%012zx", k);
}

static json_t *proc_json(const struct rack_proc_rec *p)
{
    return json_pack("{s:I, s:I}", "pid", (json_int_t)p->pid, "start",
                     (json_int_t)p->start);
}

static void proc_from(struct rack_proc_rec *p, const json_t *o)
{
    uint64_t v = 0;

    if (jsonu_u64(&v, json_object_get(o, "pid")) == 0)
        p->pid = (pid_t)v;
    if (jsonu_u64(&v, json_object_get(o, "start")) == 0)
        p->start = v;
}

static json_t *link_json(const struct rack_sled *s)
{
    json_t *cuts = json_array();

    for (size_t c = 0; cuts && c < s->ncuts; c++) {
        char dir[2] = {s->cuts[c].dir, '\0'};

        json_array_append_new(cuts, json_pack("{s:i, s:s}", "from",
                                              s->cuts[c].from, "dir", dir));
    }
    return json_pack("{s:I, s:I, s:I, s:I, s:o, s:o, s:I}", "rate",
                     (json_int_t)s->link.rate, "delay_us",
                     (json_int_t)s->link.delay_us, "jitter_us",
                     (json_int_t)s->link.jitter_us, "loss_milli",
                     (json_int_t)s->link.loss_milli, "cuts", cuts,
                     "flap", proc_json(&s->flap), "flap_secs",
                     (json_int_t)s->flap_secs);
}

static void link_from(struct rack_sled *s, const json_t *o)
{
    const json_t *cuts = json_object_get(o, "cuts");
    uint64_t u = 0;

    if (jsonu_u64(&u, json_object_get(o, "rate")) == 0)
        s->link.rate = u;
    s->link.delay_us = (unsigned)json_integer_value(json_object_get(o,
                                                                "delay_us"));
    s->link.jitter_us = (unsigned)json_integer_value(json_object_get(o,
                                                               "jitter_us"));
    s->link.loss_milli = (unsigned)json_integer_value(json_object_get(o,
                                                              "loss_milli"));
    s->flap_secs = (unsigned)json_integer_value(json_object_get(o,
                                                                "flap_secs"));
    proc_from(&s->flap, json_object_get(o, "flap"));
    s->ncuts = 0;
    for (size_t c = 0; c < json_array_size(cuts) && c < RACK_MAX_CUTS; c++) {
        const json_t *e = json_array_get(cuts, c);
        const char *d = jsonu_str(e, "dir");

        s->cuts[c].from = (int)json_integer_value(json_object_get(e, "from"));
        s->cuts[c].dir = d && (d[0] == 'i' || d[0] == 'o') ? d[0] : 'b';
        s->ncuts++;
    }
}

static json_t *to_json(const struct rack *r)
{
    json_t *root = json_pack(
        "{s:s, s:b, s:b, s:b, s:s, s:I, s:I, s:I, s:I, s:{s:s, s:s, s:s, "
        "s:o}}",
        "dir", r->dir, "foreground", r->foreground, "blind_trust",
        r->blind_trust, "tls", r->tls, "rack_id", r->rack_id,
        "rate_limit", (json_int_t)r->rate_limit, "piece_size",
        (json_int_t)r->piece_size, "period",
        (json_int_t)r->period, "min_sled_replication", (json_int_t)r->min_repl,
        "db", "conninfo", r->conninfo, "data", r->pgdata, "bindir",
        r->pgbindir, "postmaster", proc_json(&r->pg));
    json_t *sleds = json_array(), *repls = json_array();

    if (!root || !sleds || !repls)
        goto fail;
    for (size_t k = 0; k < r->nsleds; k++) {
        const struct rack_sled *s = &r->sleds[k];
        char a[PATH_MAX], b[PATH_MAX];
        json_t *o;

        rack_path_dataset(a, sizeof(a), r, k, 'A');
        rack_path_dataset(b, sizeof(b), r, k, 'B');
        o = json_pack("{s:I, s:s, s:o, s:I, s:I, s:I, s:[I,I], s:s, s:[s,s]}",
                      "index", (json_int_t)k, "id", s->id, "process",
                      proc_json(&s->p), "api_port", (json_int_t)s->api_port,
                      "depot_port", (json_int_t)s->depot_port, "quota_bytes",
                      (json_int_t)s->quota_bytes, "dataset_quota",
                      (json_int_t)s->quota_ds[0], (json_int_t)s->quota_ds[1],
                      "state", s->state, "datasets", a, b);
        if (o && r->netns) {
            char addr[RACK_NET_ADDR_MAX];

            rack_net_addr(addr, sizeof(addr), r, 's', k);
            json_object_set_new(o, "address", json_string(addr));
            json_object_set_new(o, "link", link_json(s));
        }
        if (!o || json_array_append_new(sleds, o) < 0)
            goto fail;
    }
    for (size_t i = 0; i < r->nrepls; i++) {
        const struct rack_repl *p = &r->repls[i];
        json_t *o = json_pack("{s:I, s:o, s:I, s:I, s:s}", "index",
                              (json_int_t)i, "process", proc_json(&p->p),
                              "port", (json_int_t)p->port, "ui_port",
                              (json_int_t)p->ui_port, "state", p->state);

        if (o && r->netns) {
            char addr[RACK_NET_ADDR_MAX];

            rack_net_addr(addr, sizeof(addr), r, 'r', i);
            json_object_set_new(o, "address", json_string(addr));
        }
        if (!o || json_array_append_new(repls, o) < 0)
            goto fail;
    }
    if (json_object_set_new(root, "net", json_string(r->netns ? "netns" :
                                                     "loopback")) < 0 ||
        json_object_set_new(root, "link_rate",
                            json_integer((json_int_t)r->link_rate)) < 0 ||
        json_object_set_new(root, "link_delay_us",
                            json_integer((json_int_t)r->link_delay_us)) < 0)
        goto fail;
    if (r->db_ha) {
        json_t *ha = json_array();

        for (size_t i = 0; ha && i < RACK_DB_NODES; i++)
            json_array_append_new(
                ha, json_pack("{s:o, s:I, s:s}", "process",
                              proc_json(&r->dbn[i].p), "port",
                              (json_int_t)r->dbn[i].port, "state",
                              r->dbn[i].state));
        if (!ha || json_object_set_new(json_object_get(root, "db"), "ha",
                                       ha) < 0)
            goto fail;
    }
    if (json_object_set_new(root, "sleds", sleds) < 0) {
        sleds = NULL;
        goto fail;
    }
    sleds = NULL;
    if (json_object_set_new(root, "replicators", repls) < 0) {
        repls = NULL;
        goto fail;
    }
    return root;
fail:
    json_decref(root);
    json_decref(sleds);
    json_decref(repls);
    return NULL;
}

int rack_state_save(const struct rack *r, struct err *err)
{
    char path[PATH_MAX + 16];
    json_t *v = to_json(r);
    char *text = v ? json_dumps(v, JSON_INDENT(2)) : NULL;
    struct buf b = BUF_INIT;
    int rc;

    if (!text || buf_printf(&b, "%s\n", text) < 0) {
        rc = err_set(err, ERR_NOMEM, "out of memory");
        goto out;
    }
    snprintf(path, sizeof(path), "%s/%s", r->dir, STATE_NAME);
    rc = fsutil_write_atomic(path, NULL, b.data, b.len, 0644, err);
out:
    buf_release(&b);
    json_decref(v);
    mem_free(text); /* jansson uses the C allocator, as mem_* does */
    return rc;
}

static void copy_str(char *out, size_t cap, const json_t *o, const char *key)
{
    const char *s = jsonu_str(o, key);

    snprintf(out, cap, "%s", s ? s : "");
}

static unsigned get_uint(const json_t *o, const char *key)
{
    uint64_t v = 0;

    jsonu_u64(&v, json_object_get(o, key));
    return (unsigned)v;
}

int rack_state_load(struct rack *r, const char *dir, struct err *err)
{
    char path[PATH_MAX + 16];
    json_error_t je;
    json_t *v = NULL, *db, *a;
    uint64_t u = 0;
    size_t i;
    int rc = 0;

    rack_init(r);
    snprintf(r->dir, sizeof(r->dir), "%s", dir);
    snprintf(path, sizeof(path), "%s/%s", dir, STATE_NAME);
    if (access(path, F_OK) < 0) {
        rc = err_set(err, ERR_NOTFOUND, "no rack in %s (no %s; run rack-sim "
                     "up)", dir, STATE_NAME);
        goto out;
    }
    v = json_load_file(path, 0, &je);
    if (!v || !json_is_object(v)) {
        rc = err_set(err, ERR_INVAL, "%s: %s", path, v ? "not an object" :
                     je.text);
        goto out;
    }
    r->foreground = json_is_true(json_object_get(v, "foreground"));
    r->blind_trust = json_is_true(json_object_get(v, "blind_trust"));
    /* A state file from before TLS has neither: a plaintext rack. */
    r->tls = json_is_true(json_object_get(v, "tls"));
    copy_str(r->rack_id, sizeof(r->rack_id), v, "rack_id");
    if (jsonu_u64(&u, json_object_get(v, "rate_limit")) == 0)
        r->rate_limit = u;
    if (jsonu_u64(&u, json_object_get(v, "piece_size")) == 0)
        r->piece_size = u;
    r->period = get_uint(v, "period");
    r->netns = jsonu_str(v, "net") && !strcmp(jsonu_str(v, "net"), "netns");
    if (jsonu_u64(&u, json_object_get(v, "link_rate")) == 0)
        r->link_rate = u;
    r->link_delay_us = get_uint(v, "link_delay_us");
    r->min_repl = get_uint(v, "min_sled_replication");
    db = json_object_get(v, "db");
    copy_str(r->conninfo, sizeof(r->conninfo), db, "conninfo");
    copy_str(r->pgdata, sizeof(r->pgdata), db, "data");
    copy_str(r->pgbindir, sizeof(r->pgbindir), db, "bindir");
    proc_from(&r->pg, json_object_get(db, "postmaster"));
    a = json_object_get(db, "ha");
    r->db_ha = json_array_size(a) == RACK_DB_NODES;
    for (i = 0; r->db_ha && i < RACK_DB_NODES; i++) {
        json_t *o = json_array_get(a, i);

        proc_from(&r->dbn[i].p, json_object_get(o, "process"));
        r->dbn[i].port = get_uint(o, "port");
        copy_str(r->dbn[i].state, sizeof(r->dbn[i].state), o, "state");
    }
    a = json_object_get(v, "sleds");
    for (i = 0; i < json_array_size(a) && i < RACK_MAX_SLEDS; i++) {
        json_t *o = json_array_get(a, i);
        struct rack_sled *s = &r->sleds[i];

        copy_str(s->id, sizeof(s->id), o, "id");
        copy_str(s->state, sizeof(s->state), o, "state");
        proc_from(&s->p, json_object_get(o, "process"));
        s->api_port = get_uint(o, "api_port");
        s->depot_port = get_uint(o, "depot_port");
        if (jsonu_u64(&u, json_object_get(o, "quota_bytes")) == 0)
            s->quota_bytes = u;
        for (size_t d = 0; d < 2; d++)
            if (jsonu_u64(&u, json_array_get(json_object_get(o,
                                                             "dataset_quota"),
                                             d)) == 0)
                s->quota_ds[d] = u;
        link_from(s, json_object_get(o, "link"));
    }
    r->nsleds = i;
    a = json_object_get(v, "replicators");
    for (i = 0; i < json_array_size(a) && i < RACK_MAX_REPLICATORS; i++) {
        json_t *o = json_array_get(a, i);

        proc_from(&r->repls[i].p, json_object_get(o, "process"));
        r->repls[i].port = get_uint(o, "port");
        r->repls[i].ui_port = get_uint(o, "ui_port");
        copy_str(r->repls[i].state, sizeof(r->repls[i].state), o, "state");
    }
    r->nrepls = i;
out:
    json_decref(v);
    return rc;
}

int rack_find_dir(char *out, size_t cap, const char *opt, struct err *err)
{
    const char *env = getenv("RACK_SIM_DIR");
    char link[PATH_MAX];
    ssize_t n;

    if (opt && *opt) {
        snprintf(out, cap, "%s", opt);
        return 0;
    }
    if (env && *env) {
        snprintf(out, cap, "%s", env);
        return 0;
    }
    n = readlink(RACK_CURRENT_LINK, link, sizeof(link) - 1);
    if (n <= 0)
        return err_set(err, ERR_NOTFOUND, "no rack given: use --dir D or "
                       "RACK_SIM_DIR (no %s)", RACK_CURRENT_LINK);
    link[n] = '\0';
    snprintf(out, cap, "%s", link);
    return 0;
}

int rack_sled_index(const struct rack *r, const char *arg, struct err *err)
{
    uint64_t k;
    const char *p = arg;

    if (strncmp(p, "sled-", 5) == 0)
        p += 5;
    if (parse_u64(&k, p) < 0 || k >= r->nsleds)
        return err_set(err, ERR_INVAL, "no sled %s in this rack (sleds 0..%zu)",
                       arg, r->nsleds ? r->nsleds - 1 : 0);
    return (int)k;
}

int rack_mkdirs(const char *path, struct err *err)
{
    return fsutil_mkdir_p(path, 0755, err);
}

int rack_rmtree(const char *path)
{
    return fsutil_rmrf(path);
}
