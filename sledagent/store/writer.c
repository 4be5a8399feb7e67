/* SPDX-License-Identifier: MPL-2.0 */
/*
 * writer: the streaming verified write of one artifact (store_write_*).
 *
 * The loop thread moves evbuffer chains into the write's backlog (no copy,
 * under w->mu) and never touches the disk. A task on st->wq_write drains
 * the backlog in batches: it hashes each batch (whole, and in pieces for
 * the piece manifest, piececache.c) and writev()s it to a
 * temp file (tmp/<hex>.<random>.tmp, O_EXCL|O_CLOEXEC) on every dataset
 * chosen at begin, starting write-back early with sync_file_range so the
 * final fsync is short. At most one task per write runs at a time; when
 * the backlog is empty the task returns and its completion (loop) decides
 * whether to resubmit, resume the source (flow control: pause above
 * STORE_WRITE_HIGH_WATER, resume at or below STORE_WRITE_LOW_WATER) or
 * complete the write. Finishing: fsync each temp file, compare the hash,
 * rename to <dataset>/<hex>, fsync the directory. A temp file is never
 * renamed unless its whole content hashed to the name, so nothing partial
 * ever appears under a final name, and concurrent writers of one hash
 * (each with its own temp file) cannot corrupt each other (omicron #7796):
 * a later rename replaces identical bytes. A dataset failing mid-write is
 * dropped from the write (and marked unhealthy if it is gone). The temp
 * files themselves (create, writev, write-back window, fsync, rename,
 * drop) are writer_file.c's; struct store_write is in writer_internal.h.
 *
 * Space: a write of known length reserves it at begin (or at
 * store_write_set_expected_len). A write of unknown length reserves each
 * batch on the worker just before writing it and drops every dataset that
 * cannot take it; with none left it fails with ERR_NOSPACE and removes its
 * temp files. The reservation rules are writer_space.c's.
 */
#include "sledagent/store/writer_internal.h"

#include <string.h>
#include <sys/uio.h>

#include <event2/buffer.h>

#include "common/buf.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/pieces.h"
#include "common/workq.h"

void writer_set_result(struct store_write *w, int reason, int rc)
{
    w->rc = rc;
    w->reason = reason;
    w->finalized = true;
}

static void start(struct store_write *w)
{
    struct store *st = w->st;
    uint32_t psize = 0;

    w->started = true;
    if (sha256_init(&w->sha) < 0) {
        err_set(&w->err, ERR_NOMEM, "sha256: out of memory");
        writer_set_result(w, WFAIL_OTHER, ERR_NOMEM);
        return;
    }
    /* The piece manifest is a by-product: without it (no memory, or
     * too many pieces) the write goes on and the manifest is computed
     * from the stored copy when asked for (piececache.c). */
    if (!w->pm &&
        pieces_size_for(&psize, w->expected > 0 ? (uint64_t)w->expected : 0,
                        PIECES_SIZE_DEFAULT) == 0)
        pieces_builder_new(&w->pb, psize, NULL);
    for (int d = 0; d < STORE_DATASETS; d++) {
        if (!w->use[d])
            continue;
        if (w->purge[d])
            trash_purge_for_space(st, d, w->reserve[d]);
        writer_file_create(w, d);
    }
}

/* Hash and write everything in w->work, then empty it. */
static void process(struct store_write *w)
{
    struct iovec iov[WRITER_IOV];

    if (w->expected < 0 && !w->finalized &&
        writer_space_grow(w, evbuffer_get_length(w->work)) < 0) {
        err_set(&w->err, ERR_NOSPACE, "no dataset has free space or quota "
                "for %s past %llu bytes", w->hex,
                (unsigned long long)w->written);
        writer_set_result(w, WFAIL_OTHER, ERR_NOSPACE);
        writer_file_cleanup(w);
    }

    while (evbuffer_get_length(w->work) > 0) {
        int n = evbuffer_peek(w->work, -1, NULL, iov, WRITER_IOV);
        size_t len = 0;

        if (n > WRITER_IOV)
            n = WRITER_IOV;
        for (int i = 0; i < n; i++) {
            len += iov[i].iov_len;
            if (w->finalized)
                continue;
            sha256_update(&w->sha, iov[i].iov_base, iov[i].iov_len);
            if (w->pb && pieces_builder_update(w->pb, iov[i].iov_base,
                                               iov[i].iov_len) < 0) {
                pieces_builder_free(w->pb);
                w->pb = NULL;
            }
            if (w->sm)
                writer_pieces_stream(w, iov[i].iov_base, iov[i].iov_len);
        }
        if (!w->finalized) {
            writer_file_write(w, iov, n);
            if (w->sm)
                writer_pieces_stream_written(w);
        }
        evbuffer_drain(w->work, len);
        w->written += len;
    }
    if (!w->finalized && writer_file_active_count(w) == 0) {
        err_set(&w->err, ERR_IO, "every dataset failed while writing %s",
                w->hex);
        writer_set_result(w, WFAIL_IO, ERR_IO);
        writer_file_cleanup(w);
    }
    if (!w->finalized)
        writer_file_sync_progress(w);
}

static void finalize(struct store_write *w, bool short_body)
{
    struct store *st = w->st;
    struct sha256 got;
    char ghex[SHA256_HEX_LEN + 1];

    if (w->finalized)
        return;
    if (short_body) {
        err_set(&w->err, ERR_INVAL, "body ended after %llu of %lld bytes",
                (unsigned long long)w->written, (long long)w->expected);
        writer_set_result(w, WFAIL_SHORT, ERR_INVAL);
        goto out;
    }
    writer_file_fsync(w);
    if (sha256_final(&w->sha, &got) < 0) {
        err_set(&w->err, ERR_INTERNAL, "sha256 failed");
        writer_set_result(w, WFAIL_OTHER, ERR_INTERNAL);
        goto out;
    }
    if (!sha256_eq(&got, &w->h)) {
        sha256_to_hex(ghex, &got);
        err_set(&w->err, ERR_VERIFY, "body sha256 %s does not match %s",
                ghex, w->hex);
        writer_set_result(w, WFAIL_VERIFY, ERR_VERIFY);
        goto out;
    }
    for (int d = 0; d < STORE_DATASETS; d++) {
        uint64_t fb = 0;

        if (!w->active[d] || writer_file_commit(w, d) < 0)
            continue;
        w->successful++;
        dataset_statfs(&fb, &st->ds[d]);
        pthread_mutex_lock(&st->mu);
        if (inventory_set_locked(st, &w->h, d, w->written, true) < 0)
            log_error("store_inventory_nomem", "{s:s}", "sha256", w->hex);
        if (fb)
            st->ds[d].free_bytes = fb;
        pthread_mutex_unlock(&st->mu);
    }
    if (w->successful == 0) {
        err_set(&w->err, ERR_IO, "no dataset could store %s", w->hex);
        writer_set_result(w, WFAIL_IO, ERR_IO);
        goto out;
    }
    writer_set_result(w, 0, 0);
    /* cached before the caller hears of the write: a GET of the manifest
     * right after the PUT's reply is answered from memory */
    if (w->pb)
        piececache_add_built(st, w->pb, &w->h);
    if (w->pm)
        piececache_add_manifest(st, w->pm);
    log_info("store_artifact_written", "{s:s, s:I, s:i}", "sha256", w->hex,
             "bytes", (json_int_t)w->written, "copies", (int)w->successful);
out:
    writer_file_cleanup(w);
    w->datasets = store_datasets(st);
}

/* Worker: drain the backlog; finalize or clean up when told to. */
static void write_task(void *arg)
{
    struct store_write *w = arg;

    if (!w->started)
        start(w);
    for (;;) {
        size_t n;
        bool fin, short_body;

        pthread_mutex_lock(&w->mu);
        if (w->stop) {
            pthread_mutex_unlock(&w->mu);
            if (!w->finalized && w->stop_toobig) {
                err_set(&w->err, ERR_TOOBIG, "body over its %llu-byte cap",
                        (unsigned long long)(w->expected >= 0
                                                 ? (uint64_t)w->expected
                                                 : w->st->opts.max_body_bytes));
                writer_set_result(w, WFAIL_TOOBIG, ERR_TOOBIG);
            } else if (!w->finalized) {
                err_set(&w->err, ERR_IO, "write of %s abandoned", w->hex);
                writer_set_result(w, WFAIL_ABORT, ERR_IO);
            }
            writer_file_cleanup(w);
            return;
        }
        if (w->pm) {
            /* positional: one piece per task, so its callback (and the
             * caller's next piece) comes without waiting for the rest */
            struct writer_piece *p = writer_pieces_pop_locked(w);

            fin = w->finish_flag;
            pthread_mutex_unlock(&w->mu);
            if (p) {
                writer_pieces_process(w, p);
                pthread_mutex_lock(&w->mu);
                writer_pieces_done_locked(w, p);
                pthread_mutex_unlock(&w->mu);
            } else if (fin) {
                finalize(w, !writer_pieces_all_folded(w));
            }
            return;
        }
        n = w->backlog_len < STORE_WRITE_BATCH ? w->backlog_len
                                               : STORE_WRITE_BATCH;
        if (n == 0) {
            fin = w->finish_flag;
            short_body = w->short_body;
            pthread_mutex_unlock(&w->mu);
            if (fin)
                finalize(w, short_body);
            return;
        }
        if (w->paused_shared && w->backlog_len <= STORE_WRITE_LOW_WATER) {
            /* let the loop resume the source while we keep going later */
            pthread_mutex_unlock(&w->mu);
            return;
        }
        evbuffer_remove_buffer(w->backlog, w->work, n);
        w->backlog_len -= n;
        pthread_mutex_unlock(&w->mu);
        process(w);
    }
}

static void write_done(void *arg);

void writer_kick(struct store_write *w)
{
    if (w->task_running || w->st->stopping)
        return;
    if (workq_submit(w->st->wq_write, write_task, write_done, w) == 0)
        w->task_running = true;
    /* on ERR_NOMEM the next data, finish or abort call retries */
}

static void complete(struct store_write *w)
{
    struct store *st = w->st;
    bool wanted;

    pthread_mutex_lock(&st->mu);
    writer_space_drop_locked(st, w);
    if (w->rc == 0) {
        st->ctr.writes_ok++;
        st->ctr.bytes_written += w->written * w->successful;
    } else {
        st->ctr.writes_failed[w->aborted ? WFAIL_ABORT : w->reason]++;
    }
    wanted = st->cfg_state == STORE_CONFIG_OK &&
             artifact_config_contains(&st->cfg, &w->h);
    listcache_changed_locked(st); /* leaves in_progress */
    pthread_mutex_unlock(&st->mu);
    if (w->prev)
        w->prev->next = w->next;
    else
        st->writes = w->next;
    if (w->next)
        w->next->prev = w->prev;
    st->nwrites--;
    if (w->copy)
        st->ncopywrites--;
    if (!w->aborted && w->rc != 0)
        log_warn("store_write_failed", "{s:s, s:s}", "sha256", w->hex,
                 "error", w->err.msg);
    if (!w->aborted && w->cb)
        w->cb(w->rc, w->rc ? &w->err : NULL, w->datasets, w->successful,
              w->cb_arg);
    if (w->rc == 0 && !wanted && !st->stopping)
        reconcile_kick(st); /* the config moved on while we wrote */
    sha256_release(&w->sha);
    pieces_builder_free(w->pb);
    evbuffer_free(w->backlog);
    evbuffer_free(w->work);
    for (int d = 0; d < STORE_DATASETS; d++)
        mem_free(w->tmp[d]);
    writer_pieces_free(w);
    pthread_mutex_destroy(&w->mu);
    mem_free(w);
}

static void write_done(void *arg)
{
    struct store_write *w = arg;
    bool more, low;

    w->task_running = false;
    writer_pieces_completed(w);
    if (w->task_running)
        return; /* a piece callback finished or fed w: its task runs */
    if (w->finalized && !w->finish_req && !w->aborted) {
        /* Failed on the worker (no space) while the caller still feeds
         * it: keep w until finish or abort; let a paused source run into
         * the error. */
        w->failed = true;
        if (w->paused) {
            w->paused = false;
            if (w->flow)
                w->flow(false, w->flow_arg);
        }
        return;
    }
    if (w->finalized) {
        complete(w);
        return;
    }
    if (w->st->stopping)
        return; /* writer_close_all settles it */
    pthread_mutex_lock(&w->mu);
    more = w->backlog_len > 0 || w->finish_flag || w->stop ||
           writer_pieces_queued_locked(w);
    low = w->backlog_len <= STORE_WRITE_LOW_WATER;
    if (w->paused && low)
        w->paused_shared = false;
    pthread_mutex_unlock(&w->mu);
    if (w->paused && low) {
        w->paused = false;
        if (w->flow)
            w->flow(false, w->flow_arg);
    }
    if (more)
        writer_kick(w);
}

/* ---- loop-thread API ---------------------------------------------------- */

static int write_begin(struct store *st, struct store_write **out,
                       const struct sha256 *h, uint64_t generation,
                       int64_t expected_len, bool copy, struct err *err)
{
    struct store_write *w = NULL;
    char hex[SHA256_HEX_LEN + 1];
    uint64_t need = expected_len > 0 ? (uint64_t)expected_len : 0;
    unsigned healthy = 0;
    int rc = 0;

    *out = NULL;
    sha256_to_hex(hex, h);
    w = mem_calloc(1, sizeof(*w));
    if (w) {
        w->backlog = evbuffer_new();
        w->work = evbuffer_new();
    }
    if (!w || !w->backlog || !w->work) {
        rc = err_set(err, ERR_NOMEM, "store: out of memory");
        goto fail;
    }
    pthread_mutex_lock(&st->mu);
    for (int d = 0; d < STORE_DATASETS; d++)
        healthy += st->ds[d].healthy;
    if (!healthy)
        rc = err_set(err, ERR_UNAVAIL, "no dataset available");
    else if (st->cfg_state == STORE_CONFIG_CORRUPT)
        rc = err_set(err, ERR_UNAVAIL,
                     "ledger corrupt on every dataset; operator repair "
                     "needed");
    else if (st->cfg_state == STORE_CONFIG_NONE)
        rc = err_set(err, ERR_INVAL, "no artifact config yet");
    else if (generation != st->cfg.generation)
        rc = err_set(err, ERR_CONFLICT,
                     "generation %llu is not the current %llu",
                     (unsigned long long)generation,
                     (unsigned long long)st->cfg.generation);
    else if (!artifact_config_contains(&st->cfg, h))
        rc = err_set(err, ERR_INVAL, "artifact %s is not in generation %llu",
                     hex, (unsigned long long)generation);
    else if (expected_len >= 0 &&
             (uint64_t)expected_len > st->opts.max_body_bytes)
        rc = err_set(err, ERR_TOOBIG, "%lld bytes is over the %llu cap",
                     (long long)expected_len,
                     (unsigned long long)st->opts.max_body_bytes);
    else if (writer_space_check_locked(st, w, need) < 0)
        rc = err_set(err, ERR_NOSPACE,
                     "no dataset has %llu bytes of free space and quota",
                     (unsigned long long)need);
    else if (st->nwrites >= st->opts.max_writes)
        rc = err_set(err, ERR_BUSY, "%u writes in flight", st->nwrites);
    else if (copy && st->ncopywrites >= st->opts.max_copy_writes)
        rc = err_set(err, ERR_BUSY, "%u copies in flight (the other "
                     "write slots are kept for PUTs)", st->ncopywrites);
    if (rc == 0) {
        writer_space_hold_locked(st, w);
        listcache_changed_locked(st); /* joins in_progress */
    }
    pthread_mutex_unlock(&st->mu);
    if (rc < 0)
        goto fail;
    pthread_mutex_init(&w->mu, NULL);
    w->st = st;
    w->h = *h;
    memcpy(w->hex, hex, sizeof(hex));
    w->expected = expected_len;
    for (int d = 0; d < STORE_DATASETS; d++)
        w->fd[d] = -1;
    w->next = st->writes;
    if (st->writes)
        st->writes->prev = w;
    st->writes = w;
    st->nwrites++;
    w->copy = copy;
    st->ncopywrites += copy;
    *out = w;
    return 0;
fail:
    if (w) {
        if (w->backlog)
            evbuffer_free(w->backlog);
        if (w->work)
            evbuffer_free(w->work);
        mem_free(w);
    }
    return rc;
}

int store_write_begin(struct store *st, struct store_write **out,
                      const struct sha256 *h, uint64_t generation,
                      int64_t expected_len, struct err *err)
{
    return write_begin(st, out, h, generation, expected_len, false, err);
}

int store_write_begin_copy(struct store *st, struct store_write **out,
                           const struct sha256 *h, uint64_t generation,
                           int64_t expected_len, struct err *err)
{
    return write_begin(st, out, h, generation, expected_len, true, err);
}

int store_write_set_expected_len(struct store_write *w, int64_t len,
                                 struct err *err)
{
    struct store *st = w->st;

    if (len < 0 || w->expected >= 0 || w->received > 0 || w->task_running)
        return err_set(err, ERR_INVAL, "the write's length is already "
                       "known or data already arrived");
    if ((uint64_t)len > st->opts.max_body_bytes)
        return err_set(err, ERR_TOOBIG, "%lld bytes is over the %llu cap",
                       (long long)len,
                       (unsigned long long)st->opts.max_body_bytes);
    if (writer_space_set_len(w, (uint64_t)len) < 0)
        return err_set(err, ERR_NOSPACE, "no dataset has %lld bytes of free "
                       "space and quota", (long long)len);
    w->expected = len;
    return 0;
}

void store_write_set_flow(struct store_write *w, store_flow_fn fn, void *arg)
{
    w->flow = fn;
    w->flow_arg = arg;
}

int store_write_data(struct store_write *w, struct evbuffer *data)
{
    size_t n = evbuffer_get_length(data);
    bool high;

    if (w->pm) {
        evbuffer_drain(data, n);
        return ERR_INVAL; /* positional: store_write_piece */
    }
    if (w->toobig || w->aborted || w->finish_req || w->failed) {
        evbuffer_drain(data, n);
        return w->toobig ? ERR_TOOBIG : w->failed ? w->rc : 0;
    }
    w->received += n;
    if (w->received > w->st->opts.max_body_bytes ||
        (w->expected >= 0 && w->received > (uint64_t)w->expected)) {
        w->toobig = true;
        evbuffer_drain(data, n);
        return ERR_TOOBIG;
    }
    pthread_mutex_lock(&w->mu);
    evbuffer_add_buffer(w->backlog, data);
    w->backlog_len += n;
    high = w->backlog_len > STORE_WRITE_HIGH_WATER;
    if (high)
        w->paused_shared = true;
    pthread_mutex_unlock(&w->mu);
    writer_kick(w);
    if (high && !w->paused) {
        w->paused = true;
        if (w->flow)
            w->flow(true, w->flow_arg);
    }
    return 0;
}

void store_write_finish(struct store_write *w, store_write_done_fn cb,
                        void *arg)
{
    w->cb = cb;
    w->cb_arg = arg;
    w->finish_req = true;
    pthread_mutex_lock(&w->mu);
    if (w->toobig) {
        /* report the cap rather than a hash mismatch */
        w->stop = true;
        w->stop_toobig = true;
    }
    w->finish_flag = true;
    w->short_body = w->expected >= 0 && w->received < (uint64_t)w->expected;
    pthread_mutex_unlock(&w->mu);
    writer_kick(w);
}

void store_write_abort(struct store_write *w)
{
    if (w->aborted)
        return;
    w->aborted = true; /* no longer listed in in_progress */
    pthread_mutex_lock(&w->st->mu);
    listcache_changed_locked(w->st);
    pthread_mutex_unlock(&w->st->mu);
    pthread_mutex_lock(&w->mu);
    w->stop = true;
    pthread_mutex_unlock(&w->mu);
    writer_kick(w);
}

int writer_put_in_progress(struct buf *b, const struct store *st)
{
    int rc = 0;
    bool first = true;

    for (const struct store_write *w = st->writes; rc == 0 && w;
         w = w->next) {
        bool dup = false;

        if (w->aborted)
            continue;
        /* concurrent writers of one hash are listed once (a handful of
         * writes at most: max_writes) */
        for (const struct store_write *o = st->writes; o != w; o = o->next)
            if (!o->aborted && !strcmp(o->hex, w->hex))
                dup = true;
        if (dup)
            continue;
        rc = buf_printf(b, "%s\"%s\"", first ? "" : ",", w->hex);
        first = false;
    }
    return rc;
}

void writer_close_all(struct store *st)
{
    for (struct store_write *w = st->writes; w; w = w->next) {
        pthread_mutex_lock(&w->mu);
        if (!w->finish_flag) {
            w->stop = true;
            w->aborted = true; /* the caller gets no callback */
        }
        pthread_mutex_unlock(&w->mu);
    }
    workq_free(st->wq_write); /* completions of finished writes run here */
    st->wq_write = NULL;
    while (st->writes) {
        struct store_write *w = st->writes;

        write_task(w); /* finalizes a finished write, else cleans up */
        while (w->pm && !w->finalized)
            write_task(w); /* one piece per call */
        if (!w->finalized) {
            err_set(&w->err, ERR_UNAVAIL, "store closing");
            writer_set_result(w, WFAIL_ABORT, ERR_UNAVAIL);
        }
        complete(w);
    }
}
