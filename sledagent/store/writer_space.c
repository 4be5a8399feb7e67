/* SPDX-License-Identifier: MPL-2.0 */
/*
 * writer_space: the space and quota reservation of a write (see writer.c).
 * It owns w->use, w->purge and w->reserve and the writes' share of each
 * dataset's `reserved`. A write of known length reserves it at begin (or
 * at store_write_set_expected_len) on every healthy dataset whose free
 * space minus the reserve, and whose quota (counting stored, trash and
 * reserved bytes), can take it, or could once its trash is purged (the
 * write's task purges it before creating the temp file there).
 * A write of unknown length reserves each batch on the worker just before
 * writing it (quota and fresh statvfs, purging trash if that makes room)
 * and drops every dataset that cannot take it; with none left it fails
 * with ERR_NOSPACE, so it can never eat into the reserve or pass the
 * quota. The reservation is given back when the write completes.
 * store_writable_bytes tells the controller what a write could take.
 * The _locked calls run on the loop thread with st->mu held;
 * writer_space_set_len on the loop thread, writer_space_grow on the
 * write's task (each takes st->mu itself).
 */
#include "sledagent/store/writer_internal.h"

#include <errno.h>
#include <string.h>

int writer_space_check_locked(struct store *st, struct store_write *w,
                              uint64_t need)
{
    unsigned ok = 0;

    for (int d = 0; d < STORE_DATASETS; d++) {
        struct dataset *ds = &st->ds[d];
        uint64_t used = ds->artifact_bytes + ds->trash_bytes + ds->reserved;
        uint64_t avail = ds->free_bytes > st->opts.reserve_bytes + ds->reserved
                             ? ds->free_bytes - st->opts.reserve_bytes -
                                   ds->reserved
                             : 0;
        bool fits = true, purge = false;

        if (!ds->healthy)
            continue;
        if (store_quota(st, d) && used + need > store_quota(st, d)) {
            if (used - ds->trash_bytes + need <= store_quota(st, d))
                purge = true;
            else
                fits = false;
        }
        if (avail < need) {
            if (avail + ds->trash_bytes >= need)
                purge = true;
            else
                fits = false;
        }
        if (!fits)
            continue;
        w->use[d] = true;
        w->purge[d] = purge;
        w->reserve[d] = need;
        ok++;
    }
    return ok ? 0 : -1;
}

void writer_space_hold_locked(struct store *st, const struct store_write *w)
{
    for (int d = 0; d < STORE_DATASETS; d++)
        st->ds[d].reserved += w->reserve[d];
}

void writer_space_drop_locked(struct store *st, const struct store_write *w)
{
    for (int d = 0; d < STORE_DATASETS; d++)
        st->ds[d].reserved -= w->reserve[d];
}

int writer_space_set_len(struct store_write *w, uint64_t len)
{
    struct store *st = w->st;
    bool use[STORE_DATASETS], purge[STORE_DATASETS];
    uint64_t reserve[STORE_DATASETS];
    bool ok;

    memcpy(use, w->use, sizeof(use));
    memcpy(purge, w->purge, sizeof(purge));
    memcpy(reserve, w->reserve, sizeof(reserve));
    pthread_mutex_lock(&st->mu);
    for (int d = 0; d < STORE_DATASETS; d++) {
        st->ds[d].reserved -= w->reserve[d];
        w->use[d] = w->purge[d] = false;
        w->reserve[d] = 0;
    }
    ok = writer_space_check_locked(st, w, len) == 0;
    if (!ok) {
        memcpy(w->use, use, sizeof(use));
        memcpy(w->purge, purge, sizeof(purge));
        memcpy(w->reserve, reserve, sizeof(reserve));
    }
    for (int d = 0; d < STORE_DATASETS; d++)
        st->ds[d].reserved += w->reserve[d];
    pthread_mutex_unlock(&st->mu);
    return ok ? 0 : -1;
}

/*
 * Whether dataset d can take len more bytes of w now (quota counting
 * stored, trash and reserved bytes; free space from statvfs minus the
 * reserve and the other writes' reservations); if so, reserve them.
 * Worker; takes st->mu.
 */
static bool reserve_more(struct store_write *w, int d, uint64_t fb,
                         uint64_t len, uint64_t *trash_out)
{
    struct store *st = w->st;
    struct dataset *ds = &st->ds[d];
    uint64_t used, others, avail;
    bool fits;

    pthread_mutex_lock(&st->mu);
    used = ds->artifact_bytes + ds->trash_bytes + ds->reserved;
    others = ds->reserved - w->reserve[d];
    avail = fb > st->opts.reserve_bytes + others
                ? fb - st->opts.reserve_bytes - others
                : 0;
    fits = (!store_quota(st, d) || used + len <= store_quota(st, d)) &&
           avail >= len;
    if (fits) {
        ds->reserved += len;
        w->reserve[d] += len;
        ds->free_bytes = fb;
    }
    *trash_out = ds->trash_bytes;
    pthread_mutex_unlock(&st->mu);
    return fits;
}

int writer_space_grow(struct store_write *w, uint64_t len)
{
    for (int d = 0; d < STORE_DATASETS; d++) {
        uint64_t fb = 0, trash = 0;
        bool fits;

        if (!w->active[d])
            continue;
        if (dataset_statfs(&fb, &w->st->ds[d]) < 0)
            fb = 0;
        fits = reserve_more(w, d, fb, len, &trash);
        if (!fits && trash > 0) {
            trash_purge_for_space(w->st, d, len);
            if (dataset_statfs(&fb, &w->st->ds[d]) < 0)
                fb = 0;
            fits = reserve_more(w, d, fb, len, &trash);
        }
        if (!fits)
            writer_file_drop(w, d, ENOSPC, "reserve space");
    }
    return writer_file_active_count(w) ? 0 : -1;
}

uint64_t store_writable_bytes(struct store *st)
{
    uint64_t best = 0;

    pthread_mutex_lock(&st->mu);
    for (int d = 0; d < STORE_DATASETS; d++) {
        const struct dataset *ds = &st->ds[d];
        uint64_t cut = st->opts.reserve_bytes + ds->reserved;
        uint64_t room = ds->free_bytes + ds->trash_bytes;
        uint64_t used = ds->artifact_bytes + ds->reserved;

        if (!ds->healthy)
            continue;
        room = room > cut ? room - cut : 0;
        if (store_quota(st, d)) {
            uint64_t q = store_quota(st, d), qroom = used < q ? q - used : 0;

            if (qroom < room)
                room = qroom;
        }
        if (room > best)
            best = room;
    }
    pthread_mutex_unlock(&st->mu);
    return best;
}
