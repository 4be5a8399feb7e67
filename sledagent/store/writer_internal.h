/* SPDX-License-Identifier: MPL-2.0 */
/*
 * writer_internal: the write object (struct store_write) shared by
 * writer.c (the write's lifecycle: loop-thread API, worker task, finish),
 * writer_space.c (space and quota reservation) and writer_file.c (the
 * per-dataset temp files and their write-back window). Not for other
 * files, not even the rest of sledagent/store/.
 */
#ifndef SLEDAGENT_STORE_WRITER_INTERNAL_H
#define SLEDAGENT_STORE_WRITER_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/sha256.h"
#include "sledagent/store/store_internal.h"

struct evbuffer;
struct iovec;
struct pieces;
struct pieces_builder;
struct writer_piece;

/* iovecs taken from the backlog per writev batch */
#define WRITER_IOV 256

struct store_write {
    struct store_write *next, *prev; /* st->writes (loop thread) */
    struct store *st;
    struct sha256 h;
    char hex[SHA256_HEX_LEN + 1];
    int64_t expected;
    /* loop thread */
    store_flow_fn flow;
    void *flow_arg;
    bool paused, task_running, finish_req, aborted, toobig;
    bool failed; /* the worker failed it before finish/abort (no space) */
    bool copy;   /* takes one of the copies' slots (max_copy_writes) */
    store_write_done_fn cb;
    void *cb_arg;
    uint64_t received;
    uint64_t reserve[STORE_DATASETS];
    bool use[STORE_DATASETS], purge[STORE_DATASETS];
    /* shared with the worker, under mu */
    pthread_mutex_t mu;
    struct evbuffer *backlog;
    size_t backlog_len;
    bool stop, stop_toobig, finish_flag, short_body, paused_shared;
    /* worker side (one task at a time) */
    bool started;
    struct sha256_ctx sha;
    struct pieces_builder *pb; /* the manifest in the default piece size,
                                  NULL when it cannot be built */
    struct evbuffer *work;
    int fd[STORE_DATASETS];
    char *tmp[STORE_DATASETS];
    bool active[STORE_DATASETS];
    uint64_t written, synced_to, prev_sync;
    /* result, written by the worker before finalized is set */
    bool finalized;
    int rc;
    int reason;
    struct err err;
    unsigned datasets, successful;
    /* positional mode (store_write_begin_pieces, writer_pieces.c); pm is
     * NULL for a streamed write */
    struct pieces *pm;         /* the manifest (owned copy) */
    char *ptmp[STORE_DATASETS]; /* temp paths, chosen at begin; loop-owned,
                                   read-only until complete() */
    uint8_t *have;             /* loop: pieces verified and on disk */
    uint8_t *queued;           /* loop: pieces handed over, not yet done */
    uint32_t have_count;
    struct writer_piece *pq_head, *pq_tail; /* under mu: to write */
    struct writer_piece *pd_head, *pd_tail; /* under mu: written/refused */
    uint8_t *wbits;            /* worker: pieces written */
    uint8_t *rbuf;             /* worker: read-back buffer of the fold */
    uint64_t folded;           /* worker: pieces in the whole sha256 */
    struct sha256 pm_id;       /* the manifest hash (loop, from begin) */
    /* a streamed write checked against a manifest as it passes
     * (store_write_stream_pieces, writer_pieces.c); sm is NULL otherwise,
     * pm is NULL when it is set; pm_id and ptmp are shared with the
     * positional mode */
    struct pieces *sm;         /* the manifest (owned copy) */
    struct sha256_ctx psha;    /* worker: the piece being received */
    bool psha_live;            /* worker: psha initialised */
    bool pbad;                 /* worker: a piece did not match: no more */
    uint64_t pgot;             /* worker: bytes of piece pnext so far */
    uint32_t pnext;            /* worker: the piece being received */
    uint32_t sm_done;          /* under mu: pieces 0..sm_done-1 matched
                                  and are written to every active file */
    int64_t *sent_ms;          /* loop: when the depot last began to send
                                  each piece (store_partial_sent),
                                  monotonic ms, 0 never; NULL: none yet */
};

/* --- writer_pieces.c: positional writes --------------------------------- */

/* Take the next queued piece, NULL if none (w->mu held). Worker. */
struct writer_piece *writer_pieces_pop_locked(struct store_write *w);
/*
 * Check piece p against the manifest, pwrite it to every active temp file
 * and fold what is now in order into the whole sha256; p records the
 * result (every dataset failing also fails the write). Worker.
 */
void writer_pieces_process(struct store_write *w, struct writer_piece *p);
/* Hand p to the loop's completion (w->mu held). Worker. */
void writer_pieces_done_locked(struct store_write *w, struct writer_piece *p);
/* Whether every piece is in the whole sha256. Worker. */
bool writer_pieces_all_folded(const struct store_write *w);
/* Whether pieces are queued (w->mu held). */
bool writer_pieces_queued_locked(const struct store_write *w);
/*
 * Loop: set the `have` bits of the pieces the worker finished and run
 * their callbacks; none after an abort.
 */
void writer_pieces_completed(struct store_write *w);
/* Free the positional state (queued pieces included). complete(). */
void writer_pieces_free(struct store_write *w);
/*
 * A streamed write with a manifest: hash the next n bytes of the stream
 * into the piece being received and check every piece it closes. Worker,
 * before the bytes are written.
 */
void writer_pieces_stream(struct store_write *w, const uint8_t *data,
                          size_t n);
/*
 * Publish the pieces checked so far as served, once their bytes are in
 * every active temp file. Worker, after the write.
 */
void writer_pieces_stream_written(struct store_write *w);

/* --- writer.c ------------------------------------------------------------ */

/* Record the write's result (the worker, before it returns). */
void writer_set_result(struct store_write *w, int reason, int rc);
/* Submit the write's task unless it runs already. Loop thread. */
void writer_kick(struct store_write *w);

/* --- writer_file.c: the per-dataset temp files --------------------------- */

/*
 * Dataset d failed with errno e during op: close and remove its temp file,
 * make it inactive, log; unless e is ENOSPC or EDQUOT, dataset_io_error
 * (which may mark it unhealthy). The write's task.
 */
void writer_file_drop(struct store_write *w, int d, int e, const char *op);
/* Number of datasets still taking the write. */
unsigned writer_file_active_count(const struct store_write *w);
/* Close and remove every temp file still open; none stays active. */
void writer_file_cleanup(struct store_write *w);
/*
 * Create d's temp file in its tmp/ and make d active. On failure d stays
 * inactive: dropped (logged, counted) if open failed, silently if the path
 * could not be allocated. The write's task.
 */
void writer_file_create(struct store_write *w, int d);
/*
 * writev the n (<= WRITER_IOV) iovecs, unchanged, to every active temp
 * file; a dataset whose write fails is dropped. The write's task.
 */
void writer_file_write(struct store_write *w, const struct iovec *iov, int n);
/*
 * Once w->written is a full window past the last call: queue write-back of
 * the new window on every active file, then wait for and drop from the
 * page cache the window before it. The write's task.
 */
void writer_file_sync_progress(struct store_write *w);
/* fsync every active temp file, dropping the datasets that fail. */
void writer_file_fsync(struct store_write *w);
/*
 * Close d's (active, fsynced) temp file, rename it to <root>/<hex> and
 * fsync the directory; d is no longer active. Returns 0 when the copy is
 * durable under its final name, -1 when d was dropped (after a failed
 * directory fsync the renamed file stays, uncounted). The write's task.
 */
int writer_file_commit(struct store_write *w, int d);

/* --- writer_space.c: space and quota reservation ------------------------- */

/*
 * Mark in w (use, purge, reserve) every healthy dataset that can take
 * need bytes within its quota and its free space minus the reserve (use),
 * if necessary after purging its trash (purge too). The datasets'
 * `reserved` is not changed (writer_space_hold_locked does that). Returns
 * 0 if at least one dataset can, else -1. Loop thread, st->mu held.
 */
int writer_space_check_locked(struct store *st, struct store_write *w,
                              uint64_t need);
/* Add w's reservations to its datasets' `reserved`. st->mu held. */
void writer_space_hold_locked(struct store *st, const struct store_write *w);
/* Take w's reservations off its datasets' `reserved`. st->mu held. */
void writer_space_drop_locked(struct store *st, const struct store_write *w);
/*
 * Replace w's reservations by len bytes on every dataset that can take
 * them (writer_space_check_locked). Returns 0, or -1 with w's
 * reservations unchanged when no dataset can. Loop thread; takes st->mu.
 */
int writer_space_set_len(struct store_write *w, uint64_t len);
/*
 * Unknown length: reserve the next len bytes on every active dataset
 * (quota and a fresh statvfs; the trash purged once if that may make
 * room), dropping those that cannot take them. Returns 0 while one is
 * left, else -1. The write's task; takes st->mu.
 */
int writer_space_grow(struct store_write *w, uint64_t len);

#endif
