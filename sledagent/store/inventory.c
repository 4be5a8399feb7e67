/* SPDX-License-Identifier: MPL-2.0 */
/*
 * inventory: the in-memory index of stored artifact copies, per sha256:
 * its size and which datasets hold a trusted copy. A chained hash table
 * keyed by the hash's first bytes (already uniform). Every function runs
 * with st->mu held (any thread); memory only. A copy appearing or going
 * invalidates the cached GET /artifacts body (listcache.c).
 */
#include "sledagent/store/store_internal.h"

#include <string.h>

#include "common/mem.h"

#define INV_INITIAL_BUCKETS 1024

static size_t bucket_of(const struct inventory *inv, const struct sha256 *h)
{
    uint64_t k;

    memcpy(&k, h->b, sizeof(k));
    return (size_t)(k & (inv->nbuckets - 1));
}

int inventory_init(struct inventory *inv)
{
    inv->buckets = mem_calloc(INV_INITIAL_BUCKETS, sizeof(*inv->buckets));
    if (!inv->buckets)
        return ERR_NOMEM;
    inv->nbuckets = INV_INITIAL_BUCKETS;
    inv->count = 0;
    return 0;
}

void inventory_release(struct inventory *inv)
{
    for (size_t i = 0; inv->buckets && i < inv->nbuckets; i++) {
        struct inv_entry *e = inv->buckets[i];

        while (e) {
            struct inv_entry *next = e->next;

            mem_free(e);
            e = next;
        }
    }
    mem_free(inv->buckets);
    memset(inv, 0, sizeof(*inv));
}

struct inv_entry *inventory_get_locked(const struct inventory *inv,
                                       const struct sha256 *h)
{
    struct inv_entry *e = inv->buckets[bucket_of(inv, h)];

    while (e && !sha256_eq(&e->h, h))
        e = e->next;
    return e;
}

static void grow(struct inventory *inv)
{
    size_t n = inv->nbuckets * 2;
    struct inv_entry **nb = mem_calloc(n, sizeof(*nb));
    struct inventory tmp = {nb, n, inv->count};

    if (!nb)
        return; /* keep the longer chains; still correct */
    for (size_t i = 0; i < inv->nbuckets; i++) {
        struct inv_entry *e = inv->buckets[i];

        while (e) {
            struct inv_entry *next = e->next;
            size_t b = bucket_of(&tmp, &e->h);

            e->next = nb[b];
            nb[b] = e;
            e = next;
        }
    }
    mem_free(inv->buckets);
    inv->buckets = nb;
    inv->nbuckets = n;
}

static void unlink_entry(struct inventory *inv, struct inv_entry *victim)
{
    struct inv_entry **pp = &inv->buckets[bucket_of(inv, &victim->h)];

    while (*pp != victim)
        pp = &(*pp)->next;
    *pp = victim->next;
    inv->count--;
    mem_free(victim);
}

int inventory_set_locked(struct store *st, const struct sha256 *h, int d,
                         uint64_t size, bool present)
{
    struct inventory *inv = &st->inv;
    struct inv_entry *e = inventory_get_locked(inv, h);

    if (!e) {
        size_t b;

        if (!present)
            return 0;
        if (inv->count >= inv->nbuckets)
            grow(inv);
        e = mem_calloc(1, sizeof(*e));
        if (!e)
            return ERR_NOMEM;
        e->h = *h;
        b = bucket_of(inv, h);
        e->next = inv->buckets[b];
        inv->buckets[b] = e;
        inv->count++;
    }
    if (e->on[d] != present)
        listcache_changed_locked(st); /* the copy count changes */
    if (e->on[d]) {
        st->ds[d].artifact_bytes -= e->size;
        e->on[d] = false;
    }
    if (present) {
        e->size = size;
        e->on[d] = true;
        st->ds[d].artifact_bytes += size;
        return 0;
    }
    for (int i = 0; i < STORE_DATASETS; i++)
        if (e->on[i])
            return 0;
    unlink_entry(inv, e);
    return 0;
}

void inventory_clear_dataset_locked(struct store *st, int d)
{
    struct inventory *inv = &st->inv;

    for (size_t i = 0; i < inv->nbuckets; i++) {
        struct inv_entry *e = inv->buckets[i];

        while (e) {
            struct inv_entry *next = e->next;

            if (e->on[d])
                inventory_set_locked(st, &e->h, d, 0, false);
            e = next;
        }
    }
    st->ds[d].artifact_bytes = 0;
}

unsigned inventory_count_locked(const struct store *st,
                                const struct sha256 *h)
{
    const struct inv_entry *e = inventory_get_locked(&st->inv, h);
    unsigned n = 0;

    for (int d = 0; e && d < STORE_DATASETS; d++)
        if (e->on[d] && st->ds[d].healthy)
            n++;
    return n;
}

int inventory_snapshot_locked(const struct store *st, struct inv_copy **out,
                              size_t *n)
{
    const struct inventory *inv = &st->inv;
    struct inv_copy *arr = NULL;
    size_t k = 0;

    *out = NULL;
    *n = 0;
    if (inv->count == 0)
        return 0;
    arr = mem_calloc(inv->count * STORE_DATASETS, sizeof(*arr));
    if (!arr)
        return ERR_NOMEM;
    for (size_t i = 0; i < inv->nbuckets; i++)
        for (struct inv_entry *e = inv->buckets[i]; e; e = e->next)
            for (int d = 0; d < STORE_DATASETS; d++)
                if (e->on[d]) {
                    arr[k].h = e->h;
                    arr[k].d = d;
                    arr[k].size = e->size;
                    k++;
                }
    *out = arr;
    *n = k;
    return 0;
}
