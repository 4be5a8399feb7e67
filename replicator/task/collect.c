/* SPDX-License-Identifier: MPL-2.0 */
/*
 * collect: sled inventory collection and the plan input (see collect.h).
 * Parsing and building are pure; collect_start/collect_free run on the
 * task's loop thread.
 */
#include "replicator/task/collect.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/ipaddr.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/parse.h"
#include "replicator/db/sled_db.h"
#include "replicator/db/wanted_db.h"
#include "replicator/staging.h"
#include "replicator/task/sledreq.h"
#include "replicator/task/status.h"

enum { STEP_CONFIG = 0, STEP_LIST, STEP_LEDGER, STEP_REVOKE, STEP_DONE };

struct collect {
    struct collect_opts o;
    struct collect_sled *sleds;
    size_t n, left;
    collect_done_fn done;
    void *arg;
};

void collect_sled_release(struct collect_sled *s)
{
    sledreq_free(s->req);
    s->req = NULL;
    mem_free(s->inventory);
    mem_free(s->in_progress);
    s->inventory = NULL;
    s->in_progress = NULL;
    s->n_inventory = s->n_in_progress = 0;
}

void collect_sleds_free(struct collect_sled *sleds, size_t n)
{
    for (size_t i = 0; sleds && i < n; i++)
        collect_sled_release(&sleds[i]);
    mem_free(sleds);
}

/* Sled s from row d: URLs (https:// when https), or state
 * COLLECT_INVALID_ADDRESS. */
static void sled_from_row(struct collect_sled *s, const struct sled_db_sled *d,
                          bool https)
{
    const char *scheme = https ? "https" : "http";
    char host[IPADDR_HOST_MAX];
    struct err why = ERR_INIT;
    uint16_t port = 0;
    bool v6 = false;

    snprintf(s->id, sizeof(s->id), "%s", d->id);
    if (ipaddr_parse_endpoint(host, &port, &v6, d->api_address, &why) < 0 ||
        !d->repo_depot_port) {
        s->state = COLLECT_INVALID_ADDRESS;
        snprintf(s->error, sizeof(s->error), "invalid registration: %s",
                 why.code ? why.msg : "depot port 0");
        log_warn("sled_invalid_address", "{s:s, s:s}", "sled", s->id,
                 "error", s->error);
        return;
    }
    snprintf(s->api_url, sizeof(s->api_url), "%s://%s%s%s:%u", scheme,
             v6 ? "[" : "", host, v6 ? "]" : "", (unsigned)port);
    snprintf(s->depot_url, sizeof(s->depot_url), "%s://%s%s%s:%u", scheme,
             v6 ? "[" : "", host, v6 ? "]" : "",
             (unsigned)d->repo_depot_port);
}

int collect_sleds_from_db(struct collect_sled **out,
                          const struct sled_db_list *l, bool https,
                          struct err *err)
{
    struct collect_sled *s = mem_calloc(l->count ? l->count : 1, sizeof(*s));

    *out = NULL;
    if (!s)
        return err_set(err, ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < l->count; i++)
        sled_from_row(&s[i], &l->sleds[i], https);
    *out = s;
    return 0;
}

static void log_bogus(const struct collect_sled *s, const char *what,
                      const char *key)
{
    char shown[80];

    /* Keep the log line bounded: a bogus key can be anything. */
    snprintf(shown, sizeof(shown), "%s", key);
    log_info("sled_bogus_hash", "{s:s, s:s, s:s}", "sled", s->id, "problem",
             what, "entry", shown);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

    return x < y ? -1 : x > y;
}

/* The "list" object: {"<hex>": count}, wanted hashes only. */
static int parse_inventory(struct collect_sled *s, const json_t *l,
                           const struct plan_artifact *arts, size_t n,
                           struct err *err)
{
    const char *key;
    const json_t *v;
    uint64_t cnt;
    size_t idx, k = 0;
    struct sha256 h;

    if (json_object_size(l)) {
        s->inventory = mem_calloc(json_object_size(l), sizeof(*s->inventory));
        if (!s->inventory)
            return err_set(err, ERR_NOMEM, "out of memory");
    }
    json_object_foreach((json_t *)l, key, v) {
        if (strlen(key) != SHA256_HEX_LEN || sha256_from_hex(&h, key) < 0) {
            log_bogus(s, "malformed hash", key);
            s->bogus++;
            continue;
        }
        if (plan_artifact_find(&idx, arts, n, &h) < 0) {
            log_bogus(s, "hash not in the wanted set", key);
            s->bogus++;
            continue;
        }
        if (jsonu_u64(&cnt, v) < 0 || cnt == 0 || cnt > PLAN_MAX_DATASETS) {
            log_bogus(s, "bad count", key);
            s->bogus++;
            continue;
        }
        s->inventory[k].artifact = (uint32_t)idx;
        s->inventory[k].count = (uint32_t)cnt;
        k++;
    }
    s->n_inventory = k;
    return 0;
}

/* The "in_progress" array (non-empty): wanted hashes, sorted, unique. */
static int parse_in_progress(struct collect_sled *s, const json_t *ip,
                             const struct plan_artifact *arts, size_t n,
                             struct err *err)
{
    const json_t *v;
    size_t i, idx, m = 0;
    struct sha256 h;

    s->in_progress = mem_calloc(json_array_size(ip), sizeof(uint32_t));
    if (!s->in_progress)
        return err_set(err, ERR_NOMEM, "out of memory");
    json_array_foreach(ip, i, v) {
        const char *hx = json_string_value(v);

        if (!hx || sha256_from_hex(&h, hx) < 0) {
            log_bogus(s, "malformed in_progress hash", hx ? hx : "?");
            s->bogus++;
            continue;
        }
        if (plan_artifact_find(&idx, arts, n, &h) < 0)
            continue; /* a write of another generation: not ours */
        s->in_progress[m++] = (uint32_t)idx;
    }
    qsort(s->in_progress, m, sizeof(uint32_t), cmp_u32);
    /* unique */
    for (size_t a = 0, b = 0; a < m; a++)
        if (!b || s->in_progress[b - 1] != s->in_progress[a])
            s->in_progress[b++] = s->in_progress[a], s->n_in_progress = b;
    return 0;
}

/* Whether the list's "features" array names feature (issue 13). */
static bool has_feature(const json_t *list, const char *feature)
{
    const json_t *f = json_object_get(list, "features"), *e;
    size_t i;

    json_array_foreach(f, i, e)
        if (json_is_string(e) && !strcmp(json_string_value(e), feature))
            return true;
    return false;
}

/* (ext) "copy_sources_failed": strings kept (at most the first
 * COLLECT_FAILED_SRC_MAX that fit), anything else ignored. */
static void parse_failed_sources(struct collect_sled *s, const json_t *arr)
{
    const json_t *v;
    size_t i;

    json_array_foreach(arr, i, v) {
        const char *u = json_string_value(v);

        if (s->n_failed_src == COLLECT_FAILED_SRC_MAX)
            break;
        if (u && strlen(u) < COLLECT_URL_MAX)
            snprintf(s->failed_src[s->n_failed_src++], COLLECT_URL_MAX, "%s",
                     u);
    }
}

int collect_parse_list(struct collect_sled *s, const json_t *list,
                       uint64_t G, const struct plan_artifact *arts, size_t n,
                       struct err *err)
{
    const json_t *l, *v, *ip;
    uint64_t gen, ds = PLAN_MAX_DATASETS;
    int rc;

    mem_free(s->inventory);
    mem_free(s->in_progress);
    s->inventory = NULL;
    s->in_progress = NULL;
    s->n_inventory = s->n_in_progress = 0;
    s->bogus = 0;
    s->pieces = false;
    s->space_known = false;
    s->writable_bytes = 0;
    s->n_failed_src = 0;
    if (!json_is_object(list) ||
        jsonu_u64(&gen, json_object_get(list, "generation")) < 0 ||
        !json_is_object(l = json_object_get(list, "list")))
        return err_set(err, ERR_INVAL, "sled %s: malformed artifact list",
                       s->id);
    s->generation = gen;
    if (gen > G)
        return err_set_coded(err, ERR_CONFLICT, "CONFIG_GENERATION",
                             "sled %s lists generation %" PRIu64
                             ", ahead of %" PRIu64, s->id, gen, G);
    if (gen < G)
        return err_set(err, ERR_INVAL,
                       "sled %s lists generation %" PRIu64 ", behind %" PRIu64,
                       s->id, gen, G);
    v = json_object_get(list, "datasets");
    if (v && (jsonu_u64(&ds, v) < 0 || ds > PLAN_MAX_DATASETS)) {
        log_bogus(s, "bad dataset count", "datasets");
        ds = PLAN_MAX_DATASETS;
    }
    s->datasets = (uint32_t)ds;
    s->pieces = has_feature(list, "pieces");
    v = json_object_get(list, "writable_bytes");
    s->space_known = v && jsonu_u64(&s->writable_bytes, v) == 0;
    if (v && !s->space_known)
        log_bogus(s, "bad writable_bytes", "writable_bytes");
    parse_failed_sources(s, json_object_get(list, "copy_sources_failed"));
    if ((rc = parse_inventory(s, l, arts, n, err)) < 0)
        return rc;
    ip = json_object_get(list, "in_progress");
    if (json_is_array(ip) && json_array_size(ip))
        return parse_in_progress(s, ip, arts, n, err);
    return 0;
}

/* ---- plan input ---- */

void collect_input_release(struct collect_input *ci)
{
    mem_free(ci->arts);
    mem_free(ci->art_repos);
    mem_free(ci->repos);
    mem_free(ci->repo_names);
    mem_free(ci->sleds);
    mem_free(ci->staged_path);
    memset(ci, 0, sizeof(*ci));
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int find_repo(char **names, size_t n, const char *name)
{
    char **p = bsearch(&name, names, n, sizeof(char *), cmp_str);

    return p ? (int)(p - names) : -1;
}

/* Repository names: the sorted unique system versions. Returns the count. */
static size_t build_repo_names(struct collect_input *out,
                               const struct wanted_db *w)
{
    size_t nnames = 0, k = 0;

    for (size_t i = 0; i < w->count; i++)
        for (size_t j = 0; j < w->artifacts[i].nrepos; j++)
            out->repo_names[nnames++] = w->artifacts[i].repos[j];
    qsort(out->repo_names, nnames, sizeof(char *), cmp_str);
    for (size_t i = 0; i < nnames; i++)
        if (!k || strcmp(out->repo_names[k - 1], out->repo_names[i]))
            out->repo_names[k++] = out->repo_names[i];
    for (size_t i = 0; i < k; i++)
        out->repos[i].name = out->repo_names[i];
    return k;
}

/* The staged file of artifact a (same hash and length), or NULL. */
static char *find_staged(const struct staging_repo *staged, size_t n_staged,
                         const struct wanted_db_artifact *a)
{
    for (size_t s = 0; s < n_staged; s++)
        for (size_t j = 0; j < staged[s].nartifacts; j++) {
            const struct staging_artifact *t = &staged[s].artifacts[j];

            if (sha256_eq(&t->sha256, &a->sha256) &&
                t->length == a->length && t->path)
                return t->path;
        }
    return NULL;
}

/* The planner's view of a collected sled. */
static void plan_sled_of(struct plan_sled *p, const struct collect_sled *c)
{
    p->id = c->id;
    p->healthy_datasets = c->datasets;
    p->untrusted = c->inventory_untrusted;
    p->pieces = c->pieces;
    p->space_known = c->space_known;
    p->writable_bytes = c->writable_bytes;
    p->avoid_source = c->avoid_source;
    switch (c->state) {
    case COLLECT_OK:
        p->state = PLAN_SLED_OK;
        p->inventory = c->inventory;
        p->n_inventory = c->n_inventory;
        p->in_progress = c->in_progress;
        p->n_in_progress = c->n_in_progress;
        break;
    case COLLECT_ISOLATED:
        p->state = PLAN_SLED_ISOLATED;
        p->healthy_datasets = 0;
        break;
    default:
        p->state = PLAN_SLED_UNREACHABLE;
        p->healthy_datasets = 0;
        break;
    }
}

int collect_build(struct collect_input *out, const struct wanted_db *w,
                  const struct staging_repo *staged, size_t n_staged,
                  const struct collect_sled *sleds, size_t n_sleds,
                  const struct plan_limits *limits, uint64_t seed,
                  struct err *err)
{
    size_t nlinks = 0, nnames = 0, k = 0;
    int rc = 0;

    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < w->count; i++)
        nlinks += w->artifacts[i].nrepos;
    out->arts = mem_calloc(w->count + 1, sizeof(*out->arts));
    out->staged_path = mem_calloc(w->count + 1, sizeof(char *));
    out->art_repos = mem_calloc(nlinks + 1, sizeof(uint32_t));
    out->repo_names = mem_calloc(nlinks + 1, sizeof(char *));
    out->repos = mem_calloc(nlinks + 1, sizeof(*out->repos));
    out->sleds = mem_calloc(n_sleds + 1, sizeof(*out->sleds));
    if (!out->arts || !out->staged_path || !out->art_repos ||
        !out->repo_names || !out->repos || !out->sleds) {
        rc = err_set(err, ERR_NOMEM, "out of memory");
        goto out;
    }
    nnames = build_repo_names(out, w);
    for (size_t i = 0; i < w->count; i++) {
        const struct wanted_db_artifact *a = &w->artifacts[i];
        struct plan_artifact *p = &out->arts[i];

        p->hash = a->sha256;
        p->length = a->length;
        p->has_pieces = a->has_pieces;
        p->piece_size = a->piece_size;
        p->pieces_sha256 = a->pieces_sha256;
        p->repos = &out->art_repos[k];
        for (size_t j = 0; j < a->nrepos; j++) {
            int r = find_repo(out->repo_names, nnames, a->repos[j]);

            if (r >= 0)
                out->art_repos[k + p->n_repos++] = (uint32_t)r;
        }
        k += p->n_repos;
        out->staged_path[i] = find_staged(staged, n_staged, a);
        p->staged = out->staged_path[i] != NULL;
    }
    for (size_t i = 0; i < n_sleds; i++)
        plan_sled_of(&out->sleds[i], &sleds[i]);
    out->in.generation = w->generation;
    out->in.artifacts = out->arts;
    out->in.n_artifacts = w->count;
    out->in.repos = out->repos;
    out->in.n_repos = nnames;
    out->in.sleds = out->sleds;
    out->in.n_sleds = n_sleds;
    out->in.limits = *limits;
    out->in.seed = seed;
out:
    if (rc < 0)
        collect_input_release(out);
    return rc;
}

/* ---- concurrent config push and list ---- */

static void sled_step(struct collect_sled *s);

static void record(struct collect *c, struct collect_sled *s,
                   enum status_op op, const char *error)
{
    struct status_entry e;

    status_entry_set(&e, status_now_ms(), s->id, op, NULL, NULL,
                     c->o.generation, error);
    status_record(c->o.ring, c->o.counters, &e);
}

static void finish(struct collect_sled *s, enum collect_sled_state st,
                   const char *error)
{
    struct collect *c = s->owner;

    s->state = st;
    s->step = STEP_DONE;
    if (error && error != s->error)
        snprintf(s->error, sizeof(s->error), "%s", error);
    if (st != COLLECT_OK)
        log_info("sled_collect", "{s:s, s:s, s:s}", "sled", s->id, "state",
                 st == COLLECT_ISOLATED ? "isolated"
                 : st == COLLECT_HELD   ? "held"
                                        : "unreachable",
                 "error", s->error);
    if (--c->left == 0)
        c->done(c, c->arg);
}

/* The sled's first step: the revocation push when it is behind. */
static int first_step(const struct collect *c, struct collect_sled *s)
{
    if (c->o.revocations_body &&
        revpush_needed(&s->rev, c->o.revocations_version))
        return STEP_REVOKE;
    return c->o.config_body ? STEP_CONFIG : STEP_LIST;
}

/* The held version reported by a list (absent: a sled without the
 * endpoint), then the late push if the list shows the sled behind.
 * Returns whether a push was started (the sled is not finished). */
static bool list_revocations(struct collect_sled *s, const json_t *list)
{
    struct collect *c = s->owner;
    const json_t *v = json_object_get(list, "tls_revocations_version");
    uint64_t held;

    if (v && jsonu_u64(&held, v) == 0) {
        s->rev.known = true;
        s->rev.unsupported = false;
        s->rev.version = held;
    } else {
        s->rev.known = false;
        s->rev.unsupported = true;
    }
    if (!c->o.revocations_body || s->rev_tried ||
        !revpush_needed(&s->rev, c->o.revocations_version))
        return false;
    s->rev_late = true;
    s->step = STEP_REVOKE;
    sled_step(s);
    return true;
}

/* PUT /tls-revocations answered: 204 (in force), else recorded. */
static void on_revoke_reply(struct collect_sled *s, struct sledreq *q)
{
    struct collect *c = s->owner;
    long status = sledreq_status(q);
    bool ok = status == 204 || status == 200;

    s->rev_tried = true;
    record(c, s, STATUS_OP_PUT_REVOCATIONS, ok ? NULL : sledreq_error(q));
    if (ok) {
        s->rev.known = true;
        s->rev.unsupported = false;
        s->rev.version = c->o.revocations_version;
    } else {
        log_warn("sled_revocations_push_failed", "{s:s, s:I, s:s}", "sled",
                 s->id, "version", (json_int_t)c->o.revocations_version,
                 "error", sledreq_error(q));
    }
    if (s->rev_late) {
        finish(s, COLLECT_OK, NULL); /* its list is in */
        return;
    }
    if (!status) {
        /* no answer at all: the config would wait for nothing again */
        snprintf(s->error, sizeof(s->error), "tls-revocations: %s",
                 sledreq_error(q));
        finish(s, COLLECT_UNREACHABLE, NULL);
        return;
    }
    s->step = c->o.config_body ? STEP_CONFIG : STEP_LIST;
    sled_step(s);
}

/* The override a list names ("override": {"id", "reason", "set_at"}):
 * copied into s; whether there is one. */
static bool list_override(struct collect_sled *s, const json_t *list)
{
    const json_t *o = json_object_get(list, "override");
    const char *id = jsonu_str(o, "id");
    uint64_t g;

    if (!id)
        return false;
    snprintf(s->override_id, sizeof(s->override_id), "%s", id);
    snprintf(s->override_reason, sizeof(s->override_reason), "%s",
             jsonu_str(o, "reason") ? jsonu_str(o, "reason") : "");
    snprintf(s->override_set_at, sizeof(s->override_set_at), "%s",
             jsonu_str(o, "set_at") ? jsonu_str(o, "set_at") : "");
    if (jsonu_u64(&g, json_object_get(list, "generation")) == 0)
        s->generation = g;
    snprintf(s->error, sizeof(s->error), "held by override %s: %s",
             s->override_id, s->override_reason);
    return true;
}

static void on_reply(struct sledreq *q, void *arg)
{
    struct collect_sled *s = arg;
    struct collect *c = s->owner;
    long status = sledreq_status(q);
    struct err err = ERR_INIT;
    json_t *j = NULL;
    uint64_t g;
    int rc;

    switch (s->step) {
    case STEP_REVOKE:
        on_revoke_reply(s, q);
        return;
    case STEP_CONFIG:
        if (status == 409 &&
            !strcmp(sledreq_error_code(q), "OVERRIDE_ACTIVE")) {
            /* held: it changed nothing; its list says by what. Neither a
             * put_config_ok nor an error of this run. */
            s->state = COLLECT_HELD;
            s->step = STEP_LIST;
            sled_step(s);
            return;
        }
        if (status == 204 || status == 200) {
            record(c, s, STATUS_OP_PUT_CONFIG, NULL);
            s->step = STEP_LIST;
            sled_step(s);
            return;
        }
        record(c, s, STATUS_OP_PUT_CONFIG, sledreq_error(q));
        snprintf(s->error, sizeof(s->error), "config: %s", sledreq_error(q));
        if (status == 409) {
            /* Learn the sled's ledger generation for the report. */
            s->state = COLLECT_ISOLATED;
            s->step = STEP_LEDGER;
            sled_step(s);
            return;
        }
        finish(s, COLLECT_UNREACHABLE, NULL);
        return;
    case STEP_LIST:
        j = status == 200 ? sledreq_json(q) : NULL;
        if (!j) {
            record(c, s, STATUS_OP_LIST,
                   status == 200 ? "unparsable list" : sledreq_error(q));
            snprintf(s->error, sizeof(s->error), "list: %s",
                     status == 200 ? "unparsable list" : sledreq_error(q));
            finish(s, COLLECT_UNREACHABLE, NULL);
            return;
        }
        if (list_override(s, j)) {
            record(c, s, STATUS_OP_LIST, NULL);
            json_decref(j);
            finish(s, COLLECT_HELD, NULL);
            return;
        }
        rc = collect_parse_list(s, j, c->o.generation, c->o.arts, c->o.n_arts,
                                &err);
        record(c, s, STATUS_OP_LIST, rc < 0 ? err.msg : NULL);
        if (rc < 0) {
            json_decref(j);
            snprintf(s->error, sizeof(s->error), "list: %s", err.msg);
            finish(s, rc == ERR_CONFLICT ? COLLECT_ISOLATED
                                         : COLLECT_UNREACHABLE, NULL);
            return;
        }
        /* Over https the client refused any peer but the sled of this id
         * (httpc checks the URI SAN before each request): the inventory
         * is that sled's own (inv_trust.h). */
        if (strncmp(s->api_url, "https://", 8) == 0) {
            s->peer_verified = true;
            snprintf(s->peer_id, sizeof(s->peer_id), "%s", s->id);
        }
        if (list_revocations(s, j)) {
            json_decref(j);
            return;
        }
        json_decref(j);
        finish(s, COLLECT_OK, NULL);
        return;
    case STEP_LEDGER:
        j = status == 200 ? sledreq_json(q) : NULL;
        if (j && jsonu_u64(&g, json_object_get(j, "generation")) == 0)
            s->generation = g;
        json_decref(j);
        finish(s, COLLECT_ISOLATED, NULL);
        return;
    default:
        return;
    }
}

static void sled_step(struct collect_sled *s)
{
    struct collect *c = s->owner;
    struct sledreq_opts o;
    struct buf url = BUF_INIT;
    const char *path = "/artifacts";
    int rc;

    memset(&o, 0, sizeof(o));
    o.connect_secs = c->o.connect_secs;
    o.stall_secs = c->o.stall_secs;
    o.total_secs = c->o.request_secs;
    o.tls = c->o.tls;
    o.peer_id = s->id; /* the id the database has for this sled */
    o.method = "GET";
    if (s->step == STEP_CONFIG) {
        o.method = "PUT";
        o.json_body = c->o.config_body;
        path = "/artifacts-config";
    } else if (s->step == STEP_LEDGER) {
        path = "/artifacts-config";
    } else if (s->step == STEP_REVOKE) {
        o.method = "PUT";
        o.json_body = c->o.revocations_body;
        path = "/tls-revocations";
    }
    sledreq_free(s->req);
    s->req = NULL;
    if (buf_printf(&url, "%s%s", s->api_url, path) < 0) {
        finish(s, s->state == COLLECT_ISOLATED ? COLLECT_ISOLATED
                                               : COLLECT_UNREACHABLE,
               "out of memory");
        return;
    }
    o.url = url.data;
    log_info("sled_request", "{s:s, s:s, s:s, s:I}", "sled", s->id, "method",
             o.method, "url", url.data, "generation",
             (json_int_t)c->o.generation);
    rc = sledreq_start(&s->req, c->o.cv, &o, on_reply, s);
    buf_release(&url);
    if (rc < 0) {
        if (s->step == STEP_CONFIG)
            record(c, s, STATUS_OP_PUT_CONFIG, "cannot start request");
        else if (s->step == STEP_LIST)
            record(c, s, STATUS_OP_LIST, "cannot start request");
        else if (s->step == STEP_REVOKE)
            record(c, s, STATUS_OP_PUT_REVOCATIONS, "cannot start request");
        if (s->step == STEP_REVOKE && s->rev_late)
            finish(s, COLLECT_OK, NULL); /* its list is in */
        else
            finish(s, s->state == COLLECT_ISOLATED ? COLLECT_ISOLATED
                                                   : COLLECT_UNREACHABLE,
                   "cannot start request");
    }
}

int collect_start(struct collect **out, const struct collect_opts *o,
                  struct collect_sled *sleds, size_t n, collect_done_fn done,
                  void *arg)
{
    struct collect *c = mem_calloc(1, sizeof(*c));

    *out = NULL;
    if (!c)
        return ERR_NOMEM;
    c->o = *o;
    c->sleds = sleds;
    c->n = n;
    c->left = n + 1; /* +1 until every sled was started */
    c->done = done;
    c->arg = arg;
    *out = c;
    for (size_t i = 0; i < n; i++) {
        sleds[i].owner = c;
        if (sleds[i].state == COLLECT_INVALID_ADDRESS) {
            c->left--; /* reported, never contacted */
            continue;
        }
        sleds[i].state = COLLECT_PENDING;
        sleds[i].error[0] = '\0';
        sleds[i].override_id[0] = '\0';
        sleds[i].rev_tried = sleds[i].rev_late = false;
        sleds[i].step = first_step(c, &sleds[i]);
        sled_step(&sleds[i]);
    }
    if (--c->left == 0)
        done(c, arg);
    return 0;
}

void collect_free(struct collect *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++) {
        sledreq_free(c->sleds[i].req);
        c->sleds[i].req = NULL;
    }
    mem_free(c);
}
