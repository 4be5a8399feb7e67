/* SPDX-License-Identifier: MPL-2.0 */
/*
 * store: the sledagent's artifact store over two datasets (DESIGN.md
 * section 3). It owns the datasets (health, free space, quota), the ledgered
 * ArtifactConfig, the in-memory inventory (which verified copies exist on
 * which dataset, which writes are in progress), the streaming verified
 * writer, the delete reconciler with trash/, and the scrubber.
 *
 * Threading: every function here is called on the agent's loop thread.
 * Blocking work (disk, fsync, hashing, directory walks) runs on worker
 * threads; its results come back as callbacks on the loop thread. The one
 * exception is store_open(), which may block (it runs before serving).
 *
 * This header is the contract between the storage layer (sledagent/store/)
 * and the HTTP layer (the .c files of sledagent/).
 */
#ifndef SLEDAGENT_STORE_STORE_H
#define SLEDAGENT_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/artifact_config.h"
#include "common/sha256.h"

struct buf;
struct err;
struct evbuffer;
struct event_base;
struct pieces;
struct store;
struct store_write;

/* The two M.2-style datasets, by index. */
enum store_dataset { STORE_DATASET_A = 0, STORE_DATASET_B = 1, STORE_DATASETS = 2 };

struct store_opts {
    const char *dataset[STORE_DATASETS]; /* directory paths; one may be NULL */
    uint64_t max_body_bytes;       /* per-artifact cap (413 above) */
    uint64_t quota_bytes;          /* per dataset, 0 = no quota */
    uint64_t quota_bytes_ds[STORE_DATASETS]; /* dataset d's own quota,
                                      0 = quota_bytes (DESIGN.md 3) */
    uint64_t reserve_bytes;        /* free space kept back on each dataset */
    unsigned trash_retention_secs; /* default 86400 */
    unsigned quarantine_retention_secs; /* corrupt copies kept, default
                                           604800 (7 days) */
    uint64_t quarantine_max_bytes; /* quarantine/ cap per dataset, default
                                      1073741824 (oldest deleted first) */
    unsigned max_writes;           /* concurrent writes (PUT + copy), 429 above */
    unsigned max_copy_writes;      /* of which copies at most; 0: default
                                      max_writes - ceil(max_writes / 4)
                                      (at least 1): the rest is kept for
                                      the controller's PUTs */
    uint64_t scrub_bytes_per_sec;  /* background re-hash rate, 0 = off
                                      (no start-up pass either) */
    unsigned scrub_interval_secs;  /* pause between full scrub passes,
                                      0 = default 10: the scrub is a
                                      continuous pass at the rate */
    /* 0 in max_body_bytes, trash_retention_secs, max_writes,
     * quarantine_retention_secs or quarantine_max_bytes means the
     * default: LIMIT_ARTIFACT_BODY_DEFAULT, 86400, 8, 604800, 1 GiB. */
};

/*
 * Open the store: create missing tmp/ and trash/, purge tmp/, read both
 * ledgers (highest valid generation wins; a corrupt copy is reported and
 * never read as "no config"; if every present ledger is corrupt, the store
 * opens with config_state CORRUPT and refuses config-dependent requests
 * with 503, config puts included, until an operator repairs or removes the
 * ledger files and restarts: no generation is ever guessed), scan
 * artifact files into the inventory, run the delete reconciler once and
 * start the scrubber. A missing dataset directory is degraded mode, not an
 * error, unless both are missing (still opens: every request gets 503).
 * May block. Returns 0, ERR_NOMEM, ERR_IO, ERR_INVAL (bad options).
 */
int store_open(struct store **out, struct event_base *base,
               const struct store_opts *opts, struct err *err);

/*
 * Stop the scrubber and reconciler, settle every live write and free.
 * A write whose store_write_finish() was called completes (renamed if
 * verified) and its callback runs, inside store_close; a write not yet
 * finished is dropped (temp files removed, no callback) and its
 * store_write pointer becomes invalid. Queued config puts get
 * ERR_UNAVAIL. NULL is a no-op. Blocks.
 */
void store_close(struct store *st);

/* Number of healthy datasets now (0..2). */
unsigned store_datasets(const struct store *st);

/*
 * Copy the current config into *out (caller releases it).
 * ERR_NOTFOUND: no config yet; ERR_UNAVAIL: no dataset or ledgers corrupt.
 */
int store_config_get(const struct store *st, struct artifact_config *out,
                     struct err *err);

typedef void (*store_done_fn)(int rc, const struct err *err, void *arg);

/*
 * Accept cfg if its generation is higher than the current one, or equal
 * with the same set (no-op, cb called with 0). Otherwise returns
 * ERR_CONFLICT with error_code "CONFIG_GENERATION" at once (when a put is
 * already being written, the check is made when this one's turn comes and
 * its result goes to cb). ERR_UNAVAIL without a dataset or with every
 * ledger corrupt. cb is never called from inside this function. On 0, the ledger is written (temp, fsync, rename, dir
 * fsync) on both datasets in the background and cb(rc, err, arg) runs on
 * the loop when durable on at least one; the in-memory config changes only
 * then, and the delete reconciler starts. Config puts are serialised.
 */
int store_config_put(struct store *st, const struct artifact_config *cfg,
                     store_done_fn cb, void *arg, struct err *err);

/*
 * The one exception to the monotonic ledger (DESIGN.md 8.3, issue 9): an
 * operator-authorised reset rewrites the ledger on every healthy dataset
 * at cfg (any generation, lower included), serialised with config puts,
 * then the delete reconciler runs as for any config change (unwanted
 * artifacts go to trash/, wanted ones come back from it; nothing is
 * deleted). A dataset unhealthy during the reset keeps its old ledger
 * and, back, wins again if its generation is higher: reset again then.
 * Errors as store_config_put without ERR_CONFLICT; cb as there.
 */
int store_config_reset(struct store *st, const struct artifact_config *cfg,
                       store_done_fn cb, void *arg, struct err *err);

/*
 * The ArtifactListResponse: {"generation", "list": {hex: count},
 * "datasets": n, "in_progress": [hex...]}. Only artifacts of the current
 * config with a verified copy appear. in_progress lists the writes under
 * way and the wanted artifacts being restored from trash/ (from the
 * moment their config was accepted until the restore is done), each once. ERR_INVAL (400) with no config,
 * ERR_UNAVAIL with no dataset, ERR_NOMEM. *out is a new reference (parsed
 * from store_list_body's text). Memory only. Loop thread.
 */
int store_list(const struct store *st, json_t **out, struct err *err);

/*
 * The largest artifact a write could take now: the most, over the healthy
 * datasets, of free space (statvfs at the last check) plus trash, minus
 * the reserve and the writes' reservations, capped by the quota's room
 * (stored and reserved bytes). 0 with no healthy dataset. The controller
 * plans no write of a longer artifact to this sled (GET /artifacts
 * "writable_bytes", an extension). Takes st->mu; any thread.
 */
uint64_t store_writable_bytes(struct store *st);

/*
 * The same response as compact JSON text, cached by the store and rebuilt
 * only after the config, the inventory, dataset health or the writes in
 * progress changed (GET /artifacts sends these bytes). *out is a new
 * reference to an immutable body: read it with store_list_body_data(),
 * drop it with store_list_body_unref(); it may outlive the store. Same
 * codes as store_list. Loop thread only (the reference count is not
 * atomic), unref included.
 */
struct store_list_body;
int store_list_body(struct store *st, struct store_list_body **out,
                    struct err *err);
/* The body's bytes (NUL-terminated after *len bytes), valid while a
 * reference is held. */
const char *store_list_body_data(const struct store_list_body *lb,
                                 size_t *len);
/* Drop a reference; the last one frees the body. NULL is a no-op. */
void store_list_body_unref(struct store_list_body *lb);

/*
 * Start a verified write of artifact h for generation `generation`.
 * expected_len is the Content-Length (or the source's length for a copy),
 * or -1 if unknown. Checks, in order: dataset (ERR_UNAVAIL), config
 * present (ERR_INVAL), generation == current (ERR_CONFLICT), h in config
 * (ERR_INVAL), expected_len <= max_body_bytes (ERR_TOOBIG), free space and
 * quota on at least one healthy dataset (ERR_NOSPACE), concurrent writes
 * < max_writes (ERR_BUSY). On success the expected bytes are reserved on
 * every healthy dataset that can take them (free space minus reserve,
 * quota counting stored, trash and reserved bytes; trash is purged oldest
 * first when that makes room); a worker creates the temp files there on
 * the first data. Returns 0 and *out, or the code with err set.
 */
int store_write_begin(struct store *st, struct store_write **out,
                      const struct sha256 *h, uint64_t generation,
                      int64_t expected_len, struct err *err);
/* The same for a copy: it also needs one of the max_copy_writes slots
 * (ERR_BUSY), so copies never take the slots kept for PUTs. */
int store_write_begin_copy(struct store *st, struct store_write **out,
                           const struct sha256 *h, uint64_t generation,
                           int64_t expected_len, struct err *err);

/*
 * Give a write begun with expected_len -1 its length once it is known (a
 * copy learns it from the source's Content-Length header). Must be called
 * before the first store_write_data(). Makes the checks store_write_begin
 * makes for a known length: len <= max_body_bytes (ERR_TOOBIG), free space
 * and quota on at least one of the write's datasets (ERR_NOSPACE), and on
 * success reserves len on every dataset that can take it and drops the
 * others from the write. From then on a short body is ERR_INVAL at finish
 * and a longer one ERR_TOOBIG, as for a PUT. ERR_INVAL if the length was
 * already known or data already arrived. On error the write is unchanged
 * (the caller aborts it). Loop thread.
 *
 * A write whose length stays unknown reserves nothing up front; instead its
 * worker checks quota and free space (minus the reserve) before each batch
 * and grows its reservation, and when no dataset can take the next batch
 * the write fails with ERR_NOSPACE: its temp files are removed,
 * store_write_data() returns ERR_NOSPACE and store_write_finish() reports
 * it.
 */
int store_write_set_expected_len(struct store_write *w, int64_t len,
                                 struct err *err);

/*
 * Called with pause=true when the write's backlog passed its high
 * watermark (stop reading the source) and pause=false once it drained
 * below the low watermark (resume). Runs on the loop thread.
 */
typedef void (*store_flow_fn)(bool pause, void *arg);
void store_write_set_flow(struct store_write *w, store_flow_fn fn, void *arg);

/*
 * Move all bytes of data (emptied) into the write's backlog; a worker
 * hashes and writes them to every dataset. Never blocks. Returns 0, or
 * ERR_TOOBIG when the total passes max_body_bytes or expected_len, or
 * ERR_NOSPACE when a write of unknown length ran out of space or quota on
 * the worker (the write is then failed; call store_write_abort, or
 * store_write_finish to get the error in its callback).
 */
int store_write_data(struct store_write *w, struct evbuffer *data);

typedef void (*store_write_done_fn)(int rc, const struct err *err,
                                    unsigned datasets,
                                    unsigned successful_writes, void *arg);

/*
 * The source ended: finish in the background (write the rest, fsync,
 * compare the hash, rename into place, fsync the directory on each
 * dataset) and call cb on the loop. rc is 0 if at least one dataset now
 * holds a verified copy; ERR_VERIFY if the hash differs (nothing kept);
 * ERR_INVAL if fewer bytes than expected_len arrived; ERR_IO if every
 * dataset failed. The store_write is freed after cb returns.
 */
void store_write_finish(struct store_write *w, store_write_done_fn cb,
                        void *arg);

/*
 * Abandon the write (client gone, source failed): temp files removed in
 * the background, nothing renamed. The store_write is freed; no callback.
 */
void store_write_abort(struct store_write *w);

/*
 * Start a positional write of h (issue 13; docs/REPLICATION.md "Swarming
 * copies"): pieces arrive in any order through store_write_piece into the
 * temp files at their offsets, each checked against the manifest m before
 * a byte of it is written, and store_write_finish then runs the usual
 * finish once every piece is written: fsync, the whole sha256 compared
 * with h, rename, directory fsync (DESIGN.md section 3; nothing partial
 * under a final name). m must name h (the caller checked m against its
 * manifest hash); it is copied. Checks and codes as store_write_begin
 * with expected_len = m->length (reserved at once), plus ERR_INVAL when m
 * names another artifact. store_write_data on such a write is ERR_INVAL.
 * Loop thread.
 */
int store_write_begin_pieces(struct store *st, struct store_write **out,
                             const struct sha256 *h, uint64_t generation,
                             const struct pieces *m, struct err *err);

/*
 * Make w, begun with its length and given no data yet, a positional write
 * of the manifest m (as store_write_begin_pieces): a copy can reserve the
 * space before it has the manifest. ERR_INVAL (data taken, or m does not
 * name w's artifact and length), ERR_NOMEM (w is unchanged on error).
 * Loop thread.
 */
int store_write_set_pieces(struct store_write *w, const struct pieces *m,
                           struct err *err);

/*
 * Check a streamed write (store_write_begin with its length, fed by
 * store_write_data) against manifest m as its bytes pass: each piece is
 * served (store_partial_open, store_have, store_partial_manifest) once its
 * bytes matched m and are in every active temp file. Pieces close in
 * order, so what is served is a prefix; the first piece that does not
 * match ends the serving (it and every later piece are never served) and
 * the whole sha256 fails the write at finish as for any bad body. The
 * finish is the unchanged one. Before any data; m is copied. Returns 0,
 * ERR_INVAL (data taken already, or m does not name w's artifact and
 * length), ERR_NOMEM (w is unchanged on error). Loop thread.
 */
int store_write_stream_pieces(struct store_write *w, const struct pieces *m,
                              struct err *err);

typedef void (*store_piece_fn)(int rc, const struct err *err, uint32_t piece,
                               void *arg);

/*
 * Hand piece i (len bytes at buf, from mem_alloc; the store owns and frees
 * it on every path, error returns included) to a positional write. A
 * worker checks it (pieces_verify), pwrite()s it at its offset to every
 * active temp file and folds it into the whole sha256; then cb(rc, err,
 * i, arg) runs on the loop: 0 when the piece is verified and on disk
 * (store_write_has_piece is true from then on), ERR_VERIFY when it is not
 * piece i (nothing written; hand in another), ERR_IO when every dataset
 * failed (the write is failed: abort it). Returns 0, or at once without a
 * callback: ERR_INVAL (not a positional write, i out of range, piece i
 * already written or queued, the write finishing, aborted or failed),
 * ERR_NOMEM. No callback runs after store_write_abort. Memory: the caller
 * bounds the pieces in flight (each is held until its callback). Loop
 * thread.
 */
int store_write_piece(struct store_write *w, uint32_t i, void *buf,
                      size_t len, store_piece_fn cb, void *arg,
                      struct err *err);

/* Whether piece i of a positional write is verified and on disk. */
bool store_write_has_piece(const struct store_write *w, uint32_t i);
/* Pieces of a positional write verified and on disk so far. */
uint32_t store_write_pieces_done(const struct store_write *w);

/*
 * Serving what is verified so far (issue 13). The length of a positional
 * write of h in progress here (not aborted): 0, or ERR_NOTFOUND when
 * there is none. Loop thread.
 */
int store_partial_length(struct store *st, const struct sha256 *h,
                         uint64_t *length_out, struct err *err);
/*
 * Open for reading the temp file of a positional write of h whose
 * verified pieces cover [off, off + len) (len > 0): *fd_out (the caller
 * closes it). The bytes of a verified piece never change, and the fd stays
 * valid through the temp file's rename or unlink. ERR_NOTFOUND: no such
 * write; ERR_INVAL: the range is not inside verified pieces (or no temp
 * file could be opened). A quick open(2) on the loop thread.
 */
int store_partial_open(struct store *st, const struct sha256 *h,
                       uint64_t off, uint64_t len, int *fd_out,
                       struct err *err);
/*
 * Append the GET /have document of h to out (docs/API.md): for a complete
 * verified copy {"complete":true,"length":N}; for a positional write in
 * progress {"complete":false,"have":"<hex bitmap>","length":N,
 * "manifest_sha256":"<hex>","piece_size":P,"pieces":COUNT} (bit i is byte
 * i/8, bit i%8, LSB first; a PUT in progress leaves out the pieces its
 * depot sent in the last STORE_PIECE_RESEND_MS, see store_partial_sent).
 * ERR_NOTFOUND: neither; ERR_NOMEM. Loop thread.
 */
int store_have(struct store *st, const struct sha256 *h, struct buf *out,
               struct err *err);
/*
 * The bits store_have sets for the write of h in progress here with a
 * manifest: its pieces verified so far, less those a PUT's depot sent in
 * the last STORE_PIECE_RESEND_MS; ERR_NOTFOUND when there is no such
 * write (h is complete here, or neither). Cheap: no file is opened. Loop
 * thread.
 */
int store_have_count(struct store *st, const struct sha256 *h,
                     uint32_t *count);
/* Whether a streamed write of h (a PUT with manifest_sha256) is in
 * progress here: its depot is then the only holder of its newest pieces. */
bool store_partial_streamed(struct store *st, const struct sha256 *h);
/*
 * Whether the depot began to send the piece holding byte off of a
 * streamed write of h in progress (a PUT with manifest_sha256) less than
 * STORE_PIECE_RESEND_MS ago; with mark, record that it is being sent now.
 * False when there is no such write. The depot sends each piece of a PUT
 * in progress once in that time (depot.c). Loop thread.
 */
#define STORE_PIECE_RESEND_MS 2000
bool store_partial_sent(struct store *st, const struct sha256 *h,
                        uint64_t off, bool mark);
/*
 * Append the canonical manifest of a positional write of h in progress
 * here to out when its piece size is piece_size (0: any). ERR_NOTFOUND:
 * no such write; ERR_NOMEM. Loop thread.
 */
int store_partial_manifest(struct store *st, const struct sha256 *h,
                           uint64_t piece_size, struct buf *out,
                           struct err *err);

/*
 * A PUT or copy of h that must not download it again: if h sits in trash/
 * of a healthy dataset that lacks it, or is already being restored from
 * there (a config wanting it again started that), wait for the restore
 * instead. Checks first, as store_write_begin: ERR_UNAVAIL (no dataset,
 * ledgers corrupt), ERR_INVAL (no config, h not in it), ERR_CONFLICT
 * (generation != current). ERR_NOTFOUND: nothing to restore (write it
 * normally). ERR_NOMEM. On 0, cb(rc, err, datasets, copies, arg) runs
 * later on the loop (never from inside this call) once the reconciler
 * dealt with h: rc 0 with the number of verified copies now held (the
 * restored files were re-hashed before their rename back), ERR_IO if no
 * copy could be restored (the trashed file was corrupt or unreadable:
 * download it), ERR_UNAVAIL if the store closed first. No bytes are
 * written and no write slot (max_writes) is taken. Loop thread.
 */
int store_restore_wait(struct store *st, const struct sha256 *h,
                       uint64_t generation, store_write_done_fn cb,
                       void *arg, struct err *err);

/*
 * Open a verified copy of h for reading (depot GET): *fd_out (caller
 * closes) and *size_out. A copy whose file is not of the verified size
 * (truncated or grown since) or cannot be opened is skipped (the next
 * dataset's is tried) and handed to the scrubber to check now.
 * ERR_NOTFOUND if no dataset holds a verified copy, ERR_IO if each copy
 * held was skipped. A quick open(2) and fstat(2) on the loop thread.
 */
int store_open_artifact(struct store *st, const struct sha256 *h,
                        int *fd_out, uint64_t *size_out, struct err *err);

/*
 * A piece manifest (common/pieces.h, issue 13) of the verified copy of h
 * held here, in pieces of piece_size bytes (0: the default size,
 * pieces_size_for(length, PIECES_SIZE_DEFAULT)), as its canonical
 * document. From memory when the write that stored h or an earlier
 * request computed it: returns 0 with *pending false and the document
 * appended to out. Otherwise a worker re-reads a verified copy (hashing
 * it whole and in pieces; a copy that no longer hashes to h is
 * ERR_VERIFY) and cb(rc, err, doc, len, arg) runs later on the loop
 * (never from inside this call; doc is borrowed for the call): returns 0
 * with *pending true. Errors at once: ERR_NOTFOUND (no verified copy
 * here), ERR_INVAL (piece_size not a power of two in range, or too many
 * pieces), ERR_BUSY (STORE_PIECES_JOBS manifests being computed; a
 * request for one of them waits for it instead), ERR_NOMEM, and the
 * open errors of store_open_artifact. Loop thread.
 */
typedef void (*store_pieces_fn)(int rc, const struct err *err,
                                const char *doc, size_t len, void *arg);
int store_pieces(struct store *st, struct buf *out, bool *pending,
                 const struct sha256 *h, uint64_t piece_size,
                 store_pieces_fn cb, void *arg, struct err *err);

/* Append Prometheus text lines for the store's metrics to out. */
int store_metrics(const struct store *st, struct buf *out);

/* Test hook: run one full scrub pass now; cb when it finished. */
void store__scrub_now(struct store *st, store_done_fn cb, void *arg);

/*
 * Test hook: purge trash entries older than the retention as if the time
 * were `now` (seconds since the epoch), on the meta worker; cb when done.
 */
void store__purge_trash(struct store *st, int64_t now, store_done_fn cb,
                        void *arg);

#endif
