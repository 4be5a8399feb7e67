/* SPDX-License-Identifier: MPL-2.0 */
/*
 * sled_flap: address-change damping for the sled registry (see
 * sled_flap.h): a fixed table of the ids that changed address recently,
 * the oldest entry recycled when full. Any thread (one mutex).
 */
#include "replicator/sled_flap.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "common/limits.h"

#define FLAP_ID_MAX 40
#define FLAP_ADDR_MAX 192

struct flap {
    char id[FLAP_ID_MAX];
    char prev[FLAP_ADDR_MAX]; /* address before the last change; "" none */
    int64_t last_ms;          /* time of the last accepted change */
    int64_t hold_ms;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct flap table[LIMIT_SLEDS_PER_RACK];
static size_t used;

/* The entry of id, a free one, or the oldest one (recycled). mu held. */
static struct flap *slot_locked(const char *id)
{
    struct flap *oldest = NULL;

    for (size_t i = 0; i < used; i++) {
        if (!strcmp(table[i].id, id))
            return &table[i];
        if (!oldest || table[i].last_ms < oldest->last_ms)
            oldest = &table[i];
    }
    if (used < LIMIT_SLEDS_PER_RACK)
        oldest = &table[used++];
    memset(oldest, 0, sizeof(*oldest));
    snprintf(oldest->id, sizeof(oldest->id), "%s", id);
    return oldest;
}

int sled_flap_change(unsigned *retry_secs, const char *id,
                     const char *old_addr, const char *new_addr,
                     int64_t now_ms, struct err *err)
{
    const int64_t min_ms = SLED_FLAP_HOLD_MIN_SECS * 1000LL;
    struct flap *f;
    bool undo;
    int rc = 0;

    *retry_secs = 0;
    pthread_mutex_lock(&mu);
    f = slot_locked(id);
    undo = f->prev[0] && !strcmp(f->prev, new_addr);
    if (f->last_ms && now_ms - f->last_ms < f->hold_ms && !undo) {
        *retry_secs = (unsigned)((f->hold_ms - (now_ms - f->last_ms) + 999) /
                                 1000);
        rc = err_set_coded(err, ERR_BUSY, "SLED_ADDRESS_FLAPPING",
                           "sled %s changed its address %llds ago; another "
                           "change is accepted in %us", id,
                           (long long)((now_ms - f->last_ms) / 1000),
                           *retry_secs);
        goto out;
    }
    if (undo) {
        /* the impostor's address may not come back by "undoing" this */
        f->hold_ms = f->hold_ms * 2 > SLED_FLAP_HOLD_MAX_SECS * 1000LL
                         ? SLED_FLAP_HOLD_MAX_SECS * 1000LL
                         : f->hold_ms * 2;
        f->prev[0] = '\0';
    } else {
        /* quiet for four holds: forgiven */
        if (!f->last_ms || now_ms - f->last_ms > 4 * f->hold_ms)
            f->hold_ms = min_ms;
        snprintf(f->prev, sizeof(f->prev), "%s", old_addr);
    }
    f->last_ms = now_ms;
out:
    pthread_mutex_unlock(&mu);
    return rc;
}

void sled_flap__reset(void)
{
    pthread_mutex_lock(&mu);
    used = 0;
    pthread_mutex_unlock(&mu);
}
