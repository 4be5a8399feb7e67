/* SPDX-License-Identifier: MPL-2.0 */
/*
 * listcache: the ArtifactListResponse (GET /artifacts), serialized without
 * jansson and cached.
 *
 * The body is a function of the current config (generation, hashes), the
 * inventory (which datasets hold a verified copy of each hash), dataset
 * health, the set of writes in progress and the set of restores from
 * trash/ pending. Whoever changes one of these calls
 * listcache_changed_locked() (st->mu held), which bumps st->list_version:
 * inventory.c when a copy appears or goes, store.c when the config
 * changes, writer.c when a write begins, completes or is aborted,
 * restore.c when a restore becomes pending or is done. Health is not
 * counted (dataset.c flips it): the cache also keys
 * on the bitmask of healthy datasets, read under st->mu on every request.
 * A request whose (version, health) matches the cached body's takes a
 * reference to it: no allocation, no serialization; otherwise the body is
 * rebuilt (memcpy of the 64-hex keys, one snprintf per number).
 *
 * Byte format (what jansson's JSON_COMPACT gave, members in this order):
 *   {"generation":G,"list":{"<hex>":n,...},"datasets":d,
 *    "in_progress":["<hex>",...],"features":["pieces"]}
 * list in config order, only hashes with a copy on a healthy dataset;
 * in_progress in st->writes order, without duplicates, aborted writes left
 * out, then the pending restores not already listed. Keys are lowercase
 * hex and need no escaping.
 *
 * Threading: loop thread only (the body's reference count is not atomic;
 * the evbuffer cleanup that drops a reply's reference runs on the loop).
 */
#include "sledagent/store/store_internal.h"

#include <stdio.h>
#include <string.h>

#include "common/buf.h"
#include "common/mem.h"

struct store_list_body {
    unsigned refs;
    size_t len;
    char data[]; /* len bytes + NUL */
};

void listcache_changed_locked(struct store *st)
{
    st->list_version++;
}

static unsigned health_mask_locked(const struct store *st)
{
    unsigned m = 0;

    for (int d = 0; d < STORE_DATASETS; d++)
        if (st->ds[d].healthy)
            m |= 1u << d;
    return m;
}

static unsigned popcount(unsigned m)
{
    unsigned n = 0;

    for (; m; m &= m - 1)
        n++;
    return n;
}

/* Append `"generation":G,"list":{...},"datasets":d`. st->mu held. */
static int put_list_locked(struct buf *b, const struct store *st,
                           unsigned mask)
{
    char num[48];
    bool first = true;
    int n = snprintf(num, sizeof(num), "{\"generation\":%llu,\"list\":{",
                     (unsigned long long)st->cfg.generation);
    int rc = buf_append(b, num, (size_t)n);

    /* one entry: quote, 64 hex, quote, colon, count (1 digit), comma */
    if (rc == 0)
        rc = buf_reserve(b, st->cfg.count * (SHA256_HEX_LEN + 6) + 64);
    for (size_t i = 0; rc == 0 && i < st->cfg.count; i++) {
        unsigned c = inventory_count_locked(st, &st->cfg.hashes[i]);
        char ent[SHA256_HEX_LEN + 24];
        size_t k = 0;

        if (!c)
            continue;
        if (!first)
            ent[k++] = ',';
        first = false;
        ent[k++] = '"';
        sha256_to_hex(ent + k, &st->cfg.hashes[i]);
        k += SHA256_HEX_LEN;
        k += (size_t)snprintf(ent + k, sizeof(ent) - k, "\":%u", c);
        rc = buf_append(b, ent, k);
    }
    if (rc == 0) {
        n = snprintf(num, sizeof(num), "},\"datasets\":%u", popcount(mask));
        rc = buf_append(b, num, (size_t)n);
    }
    return rc;
}

/*
 * Append `,"in_progress":[...],"features":["pieces"]}`: the writes, then
 * the restores (rs, the pending set's strings taken under st->mu) that no
 * write already lists.
 * Loop thread (st->writes).
 */
static int put_in_progress(struct buf *b, const struct store *st,
                           const struct buf *rs)
{
    int rc = buf_puts(b, ",\"in_progress\":[");
    size_t start = b->len;
    const size_t q = SHA256_HEX_LEN + 2; /* one quoted hash */

    if (rc == 0)
        rc = writer_put_in_progress(b, st);
    for (size_t off = 0; rc == 0 && off + q <= rs->len; off += q) {
        const char *h = rs->data + off;

        /* a handful of writes at most (max_writes): a linear search */
        if (b->len > start && memmem(b->data + start, b->len - start, h, q))
            continue;
        if (b->len > start)
            rc = buf_puts(b, ",");
        if (rc == 0)
            rc = buf_append(b, h, q);
    }
    /* features: what this agent understands beyond the reference API
     * (issue 13: swarm copies and serving verified pieces) */
    return rc < 0 ? rc : buf_puts(b, "],\"features\":[\"pieces\"]}");
}

static void body_unref(struct store_list_body *lb)
{
    if (lb && --lb->refs == 0)
        mem_free(lb);
}

void store_list_body_unref(struct store_list_body *lb)
{
    body_unref(lb);
}

const char *store_list_body_data(const struct store_list_body *lb,
                                 size_t *len)
{
    *len = lb->len;
    return lb->data;
}

void listcache_release(struct store *st)
{
    body_unref(st->list_cache);
    st->list_cache = NULL;
}

int store_list_body(struct store *st, struct store_list_body **out,
                    struct err *err)
{
    struct buf b = BUF_INIT, rs = BUF_INIT;
    struct store_list_body *lb = NULL;
    uint64_t version;
    unsigned mask;
    int rc;

    *out = NULL;
    pthread_mutex_lock(&st->mu);
    rc = store_config_refused_locked(st, err);
    if (rc == 0 && st->cfg_state == STORE_CONFIG_NONE)
        rc = err_set(err, ERR_INVAL, "no artifact config yet");
    version = st->list_version;
    mask = health_mask_locked(st);
    if (rc == 0 && st->list_cache && st->list_cache_version == version &&
        st->list_cache_health == mask) {
        st->list_cache->refs++;
        *out = st->list_cache;
        pthread_mutex_unlock(&st->mu);
        return 0;
    }
    if (rc == 0)
        rc = put_list_locked(&b, st, mask);
    if (rc == 0)
        rc = restore_put_in_progress_locked(&rs, st);
    pthread_mutex_unlock(&st->mu);
    if (rc < 0)
        goto out;
    /* the writes list changes on this (the loop) thread only, and every
     * change bumps the version: no lock needed to read it */
    rc = put_in_progress(&b, st, &rs);
    if (rc == 0)
        lb = mem_alloc(sizeof(*lb) + b.len + 1);
    if (rc < 0 || !lb) {
        rc = err_set(err, ERR_NOMEM, "store: out of memory");
        goto out;
    }
    lb->refs = 2; /* the cache's and the caller's */
    lb->len = b.len;
    memcpy(lb->data, b.data, b.len + 1);
    listcache_release(st);
    st->list_cache = lb;
    st->list_cache_version = version;
    st->list_cache_health = mask;
    *out = lb;
out:
    buf_release(&b);
    buf_release(&rs);
    return rc;
}

int store_list(const struct store *st, json_t **out, struct err *err)
{
    struct store_list_body *lb = NULL;
    json_t *v = NULL;
    int rc;

    *out = NULL;
    /* the cache is the store's own memory, not its observable state */
    rc = store_list_body((struct store *)st, &lb, err);
    if (rc < 0)
        return rc;
    v = json_loadb(lb->data, lb->len, 0, NULL);
    body_unref(lb);
    if (!v)
        return err_set(err, ERR_NOMEM, "store: out of memory");
    *out = v;
    return 0;
}
