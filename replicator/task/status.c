/* SPDX-License-Identifier: MPL-2.0 */
/*
 * status: counters and the request ring buffer of the reconciliation task
 * (see status.h). Pure data; the task's loop thread only.
 */
#include "replicator/task/status.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/err.h"
#include "common/mem.h"

static const char *const op_names[STATUS_OP_COUNT] = {
    "put_config", "list", "put", "copy", "recopy", "put_revocations"};

const char *status_op_name(enum status_op op)
{
    return (unsigned)op < STATUS_OP_COUNT ? op_names[op] : "unknown";
}

void status_counters_add(struct status_counters *c, enum status_op op,
                         bool ok)
{
    switch (op) {
    case STATUS_OP_PUT_CONFIG:
        ok ? c->put_config_ok++ : c->put_config_err++;
        break;
    case STATUS_OP_LIST:
        ok ? c->list_ok++ : c->list_err++;
        break;
    case STATUS_OP_PUT:
        ok ? c->put_ok++ : c->put_err++;
        break;
    case STATUS_OP_COPY:
    case STATUS_OP_RECOPY:
        ok ? c->copy_ok++ : c->copy_err++;
        break;
    case STATUS_OP_PUT_REVOCATIONS:
        ok ? c->put_revocations_ok++ : c->put_revocations_err++;
        break;
    default:
        break;
    }
}

void status_counters_sum(struct status_counters *dst,
                         const struct status_counters *src)
{
    dst->put_config_ok += src->put_config_ok;
    dst->put_config_err += src->put_config_err;
    dst->list_ok += src->list_ok;
    dst->list_err += src->list_err;
    dst->put_ok += src->put_ok;
    dst->put_err += src->put_err;
    dst->copy_ok += src->copy_ok;
    dst->copy_err += src->copy_err;
    dst->put_revocations_ok += src->put_revocations_ok;
    dst->put_revocations_err += src->put_revocations_err;
}

bool status_counters_ok(const struct status_counters *c)
{
    return !c->put_config_err && !c->list_err && !c->put_err &&
           !c->copy_err && !c->put_revocations_err;
}

json_t *status_counters_json(const struct status_counters *c)
{
    return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
                     "put_config_ok", (json_int_t)c->put_config_ok,
                     "put_config_err", (json_int_t)c->put_config_err,
                     "list_ok", (json_int_t)c->list_ok, "list_err",
                     (json_int_t)c->list_err, "put_ok", (json_int_t)c->put_ok,
                     "put_err", (json_int_t)c->put_err, "copy_ok",
                     (json_int_t)c->copy_ok, "copy_err",
                     (json_int_t)c->copy_err, "put_revocations_ok",
                     (json_int_t)c->put_revocations_ok, "put_revocations_err",
                     (json_int_t)c->put_revocations_err);
}

int status_ring_init(struct status_ring *r, size_t cap)
{
    memset(r, 0, sizeof(*r));
    if (cap == 0)
        cap = 1;
    r->entries = mem_calloc(cap, sizeof(*r->entries));
    if (!r->entries)
        return ERR_NOMEM;
    r->cap = cap;
    return 0;
}

void status_ring_release(struct status_ring *r)
{
    mem_free(r->entries);
    memset(r, 0, sizeof(*r));
}

void status_ring_push(struct status_ring *r, const struct status_entry *e)
{
    if (!r->cap)
        return;
    r->entries[r->head] = *e;
    r->head = (r->head + 1) % r->cap;
    if (r->count < r->cap)
        r->count++;
    r->total++;
}

const struct status_entry *status_ring_get(const struct status_ring *r,
                                           size_t i)
{
    if (i >= r->count)
        return NULL;
    return &r->entries[(r->head + r->cap - 1 - i) % r->cap];
}

static void copy_field(char *dst, size_t cap, const char *src)
{
    size_t n = src ? strnlen(src, cap - 1) : 0;

    if (n)
        memcpy(dst, src, n);
    dst[n] = '\0';
}

void status_entry_set(struct status_entry *e, int64_t time_ms,
                      const char *sled, enum status_op op,
                      const struct sha256 *hash, const char *source,
                      uint64_t generation, const char *error)
{
    memset(e, 0, sizeof(*e));
    e->time_ms = time_ms;
    copy_field(e->sled, sizeof(e->sled), sled);
    e->op = op;
    if (hash) {
        e->has_hash = true;
        e->hash = *hash;
    }
    copy_field(e->source, sizeof(e->source), source);
    e->generation = generation;
    copy_field(e->error, sizeof(e->error), error);
}

json_t *status_entry_json(const struct status_entry *e)
{
    char hex[SHA256_HEX_LEN + 1];
    json_t *o = json_pack("{s:I, s:s, s:s, s:I}", "time_ms",
                          (json_int_t)e->time_ms, "sled", e->sled,
                          "operation", status_op_name(e->op), "generation",
                          (json_int_t)e->generation);

    if (!o)
        return NULL;
    if (e->has_hash) {
        sha256_to_hex(hex, &e->hash);
        if (json_object_set_new(o, "hash", json_string(hex)) < 0)
            goto fail;
    }
    if (e->source[0] &&
        json_object_set_new(o, "source", json_string(e->source)) < 0)
        goto fail;
    if (e->error[0] &&
        json_object_set_new(o, "error", json_string(e->error)) < 0)
        goto fail;
    return o;
fail:
    json_decref(o);
    return NULL;
}

json_t *status_ring_json(const struct status_ring *r, size_t offset,
                         size_t limit)
{
    json_t *arr = json_array();

    for (size_t i = offset; arr && i < r->count && i - offset < limit; i++) {
        json_t *o = status_entry_json(status_ring_get(r, i));

        if (!o || json_array_append_new(arr, o) < 0) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

bool status_op_in_omicron(enum status_op op)
{
    return op == STATUS_OP_PUT_CONFIG || op == STATUS_OP_LIST ||
           op == STATUS_OP_PUT || op == STATUS_OP_COPY ||
           op == STATUS_OP_RECOPY;
}

void status_time_rfc3339(char out[STATUS_TIME_LEN], int64_t ms)
{
    /* 9999-12-31T23:59:59.999Z */
    static const int64_t max_ms = 253402300799999;
    struct tm tm;
    time_t secs;

    if (ms < 0)
        ms = 0;
    if (ms > max_ms)
        ms = max_ms;
    secs = (time_t)(ms / 1000);
    memset(&tm, 0, sizeof(tm));
    gmtime_r(&secs, &tm);
    snprintf(out, STATUS_TIME_LEN, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
             (tm.tm_year + 1900) % 10000, (tm.tm_mon + 1) % 100,
             tm.tm_mday % 100, tm.tm_hour % 100, tm.tm_min % 100,
             tm.tm_sec % 100, (int)(ms % 1000));
}

json_t *status_entry_omicron_json(const struct status_entry *e)
{
    char hex[SHA256_HEX_LEN + 1], when[STATUS_TIME_LEN];
    const char *op = e->op == STATUS_OP_RECOPY ? "copy"
                                               : status_op_name(e->op);
    json_t *o;
    int rc = 0;

    if (!status_op_in_omicron(e->op))
        return NULL;
    status_time_rfc3339(when, e->time_ms);
    o = json_pack("{s:s, s:s, s:s}", "time", when, "target_sled", e->sled,
                  "operation", op);
    if (!o)
        return NULL;
    if (e->op == STATUS_OP_PUT_CONFIG)
        rc = json_object_set_new(o, "generation",
                                 json_integer((json_int_t)e->generation));
    if (rc == 0 && e->has_hash &&
        (e->op == STATUS_OP_PUT || e->op == STATUS_OP_COPY ||
         e->op == STATUS_OP_RECOPY)) {
        sha256_to_hex(hex, &e->hash);
        rc = json_object_set_new(o, "hash", json_string(hex));
    }
    if (rc == 0 && (e->op == STATUS_OP_COPY || e->op == STATUS_OP_RECOPY))
        rc = json_object_set_new(o, "source_sled", json_string(e->source));
    if (rc == 0 && e->error[0])
        rc = json_object_set_new(o, "error", json_string(e->error));
    if (rc < 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

json_t *status_ring_omicron_json(const struct status_ring *r, size_t offset,
                                 size_t limit)
{
    json_t *arr = json_array();
    size_t end;

    if (!arr || offset >= r->count)
        return arr;
    end = r->count - offset > limit ? offset + limit : r->count;
    /* the window's oldest entry first */
    for (size_t i = end; arr && i-- > offset;) {
        const struct status_entry *e = status_ring_get(r, i);
        json_t *o;

        if (!status_op_in_omicron(e->op))
            continue;
        o = status_entry_omicron_json(e);
        if (!o || json_array_append_new(arr, o) < 0) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

void status_record(struct status_ring *ring, struct status_counters *c,
                   const struct status_entry *e)
{
    if (ring)
        status_ring_push(ring, e);
    if (c)
        status_counters_add(c, e->op, e->error[0] == '\0');
}

int64_t status_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
