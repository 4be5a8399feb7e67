/* SPDX-License-Identifier: MPL-2.0 */
/*
 * piececache: the piece manifests of the artifacts this sled holds
 * (store_pieces, issue 13), kept in memory only.
 *
 * A manifest is a pure function of an artifact's bytes and of a piece
 * size, so it never goes stale and needs no file on disk: the verified
 * writer builds the manifest in the default piece size as the data passes
 * (writer.c feeds a pieces_builder next to the whole-file hash) and puts
 * it here once the hash matched; any other request (another piece size,
 * or after a restart or an eviction) re-reads a verified copy once on
 * wq_pieces, hashing it whole and in pieces in the same pass, and keeps
 * the result only if the whole sha256 still matches the name. The cache is
 * an LRU list bounded in entries and bytes (STORE_PIECES_CACHE_*), under
 * st->mu; the jobs (at most STORE_PIECES_JOBS, one per artifact and piece
 * size, later requests for the same one wait for it) are loop-thread
 * state. Nothing here touches the datasets' files but to read them, so the
 * DESIGN.md section 3 layout and the section 8 invariants are unchanged.
 */
#include "sledagent/store/store_internal.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/pieces.h"
#include "common/workq.h"

struct piececache_ent {
    struct piececache_ent *prev, *next;
    struct sha256 h;
    uint32_t piece_size;
    char *doc;
    size_t len;
};

struct pieces_waiter {
    struct pieces_waiter *next;
    store_pieces_fn cb;
    void *arg;
};

struct pieces_job {
    struct pieces_job *next;
    struct store *st;
    struct sha256 h;
    uint32_t piece_size;
    int fd;
    uint64_t size;
    struct pieces_waiter *waiters;
    /* result, written by the worker */
    int rc;
    struct err err;
    struct buf doc;
};

/* ---- the cache (st->mu held) -------------------------------------------- */

static struct piececache_ent *find_locked(struct store *st,
                                          const struct sha256 *h,
                                          uint32_t piece_size)
{
    for (struct piececache_ent *e = st->pc_head; e; e = e->next)
        if (e->piece_size == piece_size && sha256_eq(&e->h, h))
            return e;
    return NULL;
}

static void unlink_locked(struct store *st, struct piececache_ent *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        st->pc_head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        st->pc_tail = e->prev;
    e->prev = e->next = NULL;
}

static void push_front_locked(struct store *st, struct piececache_ent *e)
{
    e->next = st->pc_head;
    if (st->pc_head)
        st->pc_head->prev = e;
    st->pc_head = e;
    if (!st->pc_tail)
        st->pc_tail = e;
}

static void drop_locked(struct store *st, struct piececache_ent *e)
{
    unlink_locked(st, e);
    st->pc_count--;
    st->pc_bytes -= e->len;
    mem_free(e->doc);
    mem_free(e);
}

/* Keep a copy of doc (len bytes) for (h, piece_size), most recent first;
 * the least recently used go beyond the bounds. Memory only: on NOMEM
 * nothing is kept (the next request recomputes). */
static void put_locked(struct store *st, const struct sha256 *h,
                       uint32_t piece_size, const char *doc, size_t len)
{
    struct piececache_ent *e = find_locked(st, h, piece_size);

    if (e) {
        unlink_locked(st, e);
        push_front_locked(st, e);
        return;
    }
    if (len > STORE_PIECES_CACHE_BYTES)
        return;
    e = mem_calloc(1, sizeof(*e));
    if (e)
        e->doc = mem_alloc(len ? len : 1);
    if (!e || !e->doc) {
        if (e)
            mem_free(e);
        return;
    }
    memcpy(e->doc, doc, len);
    e->len = len;
    e->h = *h;
    e->piece_size = piece_size;
    push_front_locked(st, e);
    st->pc_count++;
    st->pc_bytes += len;
    while (st->pc_tail && (st->pc_count > STORE_PIECES_CACHE_ENTRIES ||
                           st->pc_bytes > STORE_PIECES_CACHE_BYTES))
        drop_locked(st, st->pc_tail);
}

void piececache_release(struct store *st)
{
    while (st->pc_head)
        drop_locked(st, st->pc_head);
}

/* Finish b (the bytes of h, verified) and encode its manifest into doc. */
static int finish(struct buf *doc, uint32_t *piece_size,
                  struct pieces_builder *b, const struct sha256 *h,
                  struct err *err)
{
    struct pieces m = PIECES_INIT;
    int rc = pieces_builder_finish(&m, b, h, err);

    if (rc == 0)
        rc = pieces_encode(doc, &m, err);
    *piece_size = m.piece_size;
    pieces_release(&m);
    return rc;
}

void piececache_add_built(struct store *st, struct pieces_builder *b,
                          const struct sha256 *h)
{
    struct buf doc = BUF_INIT;
    struct err err = ERR_INIT;
    uint32_t psize = 0;

    if (finish(&doc, &psize, b, h, &err) == 0) {
        pthread_mutex_lock(&st->mu);
        put_locked(st, h, psize, doc.data, doc.len);
        pthread_mutex_unlock(&st->mu);
    }
    buf_release(&doc);
}

void piececache_add_manifest(struct store *st, const struct pieces *m)
{
    struct buf doc = BUF_INIT;

    if (pieces_encode(&doc, m, NULL) == 0) {
        pthread_mutex_lock(&st->mu);
        put_locked(st, &m->sha256, m->piece_size, doc.data, doc.len);
        pthread_mutex_unlock(&st->mu);
    }
    buf_release(&doc);
}

/* ---- recomputing from a stored copy (wq_pieces) ------------------------- */

/* Worker: hash the copy whole and in pieces in one read; keep the
 * manifest only if the whole sha256 is the artifact's name. */
static void job_task(void *arg)
{
    struct pieces_job *j = arg;
    struct store *st = j->st;
    struct sha256_ctx whole = SHA256_CTX_INIT;
    struct pieces_builder *b = NULL;
    char hex[SHA256_HEX_LEN + 1];
    struct sha256 got;
    uint32_t psize = 0;
    uint8_t *chunk = mem_alloc(STORE_PIECES_READ);
    uint64_t off = 0;
    int rc = chunk ? 0 : ERR_NOMEM;

    sha256_to_hex(hex, &j->h);
    if (rc == 0)
        rc = sha256_init(&whole);
    if (rc == 0)
        rc = pieces_builder_new(&b, j->piece_size, &j->err);
    while (rc == 0 && off < j->size) {
        size_t want = j->size - off < STORE_PIECES_READ
                          ? (size_t)(j->size - off)
                          : STORE_PIECES_READ;
        ssize_t n;

        if (store_stopping(st)) {
            rc = err_set(&j->err, ERR_UNAVAIL, "store closing");
            break;
        }
        n = pread(j->fd, chunk, want, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            rc = err_set(&j->err, ERR_IO, "read %s: %s", hex,
                         n < 0 ? strerror(errno) : "file shrank");
            break;
        }
        rc = sha256_update(&whole, chunk, (size_t)n);
        if (rc == 0)
            rc = pieces_builder_update(b, chunk, (size_t)n);
        off += (uint64_t)n;
    }
    if (rc == 0 && sha256_final(&whole, &got) < 0)
        rc = ERR_INTERNAL;
    if (rc == 0 && !sha256_eq(&got, &j->h))
        rc = err_set(&j->err, ERR_VERIFY, "the stored copy of %s no longer "
                     "hashes to its name", hex);
    if (rc == 0)
        rc = finish(&j->doc, &psize, b, &j->h, &j->err);
    pthread_mutex_lock(&st->mu);
    if (rc == 0) {
        put_locked(st, &j->h, psize, j->doc.data, j->doc.len);
        st->ctr.pieces_computed++;
    } else {
        st->ctr.pieces_failed++;
    }
    pthread_mutex_unlock(&st->mu);
    if (rc < 0 && !j->err.msg[0])
        err_set(&j->err, rc, "piece manifest of %s: %s", hex, err_name(rc));
    if (rc == ERR_VERIFY)
        log_warn("store_pieces_corrupt", "{s:s}", "sha256", hex);
    j->rc = rc;
    pieces_builder_free(b);
    sha256_release(&whole);
    mem_free(chunk);
}

/* Loop: answer every waiter, forget the job. */
static void job_done(void *arg)
{
    struct pieces_job *j = arg;
    struct store *st = j->st;

    for (struct pieces_job **pp = &st->pc_jobs; *pp; pp = &(*pp)->next) {
        if (*pp == j) {
            *pp = j->next;
            st->pc_njobs--;
            break;
        }
    }
    close(j->fd);
    while (j->waiters) {
        struct pieces_waiter *w = j->waiters;

        j->waiters = w->next;
        w->cb(j->rc, j->rc ? &j->err : NULL, j->rc ? NULL : j->doc.data,
              j->rc ? 0 : j->doc.len, w->arg);
        mem_free(w);
    }
    buf_release(&j->doc);
    mem_free(j);
}

static int add_waiter(struct pieces_job *j, store_pieces_fn cb, void *arg,
                      struct err *err)
{
    struct pieces_waiter *w = mem_calloc(1, sizeof(*w));

    if (!w)
        return err_set(err, ERR_NOMEM, "store: out of memory");
    w->cb = cb;
    w->arg = arg;
    w->next = j->waiters;
    j->waiters = w;
    return 0;
}

/* ---- the loop-thread API ------------------------------------------------ */

/* The size of h's verified copy; ERR_NOTFOUND when none is held. */
static int held_size(struct store *st, uint64_t *size, const struct sha256 *h,
                     struct err *err)
{
    char hex[SHA256_HEX_LEN + 1];
    bool held = false;

    pthread_mutex_lock(&st->mu);
    {
        const struct inv_entry *e = inventory_get_locked(&st->inv, h);

        for (int d = 0; e && d < STORE_DATASETS; d++)
            held |= e->on[d] && st->ds[d].healthy;
        if (held)
            *size = e->size;
    }
    pthread_mutex_unlock(&st->mu);
    if (held)
        return 0;
    sha256_to_hex(hex, h);
    return err_set(err, ERR_NOTFOUND, "artifact %s not stored here", hex);
}

int store_pieces(struct store *st, struct buf *out, bool *pending,
                 const struct sha256 *h, uint64_t piece_size,
                 store_pieces_fn cb, void *arg, struct err *err)
{
    struct pieces_job *j;
    struct piececache_ent *e;
    uint64_t size = 0, n;
    uint32_t psize = 0;
    int rc;

    *pending = false;
    if (piece_size && !pieces_size_valid(piece_size))
        return err_set(err, ERR_INVAL, "piece size %llu is not a power of "
                       "two in [%u, %u]", (unsigned long long)piece_size,
                       PIECES_SIZE_MIN, PIECES_SIZE_MAX);
    rc = held_size(st, &size, h, err);
    if (rc < 0)
        return rc;
    if (piece_size == 0) {
        rc = pieces_size_for(&psize, size, PIECES_SIZE_DEFAULT);
    } else {
        rc = pieces_count(&n, size, piece_size);
        psize = (uint32_t)piece_size;
    }
    if (rc < 0)
        return err_set(err, ERR_INVAL, "%llu bytes is over %u pieces",
                       (unsigned long long)size, LIMIT_PIECES);
    pthread_mutex_lock(&st->mu);
    e = find_locked(st, h, psize);
    if (e) {
        unlink_locked(st, e);
        push_front_locked(st, e);
        rc = buf_append(out, e->doc, e->len);
        st->ctr.pieces_hits++;
    }
    pthread_mutex_unlock(&st->mu);
    if (e)
        return rc < 0 ? err_set(err, ERR_NOMEM, "store: out of memory") : 0;
    for (j = st->pc_jobs; j; j = j->next)
        if (j->piece_size == psize && sha256_eq(&j->h, h))
            break;
    if (j) {
        rc = add_waiter(j, cb, arg, err);
        *pending = rc == 0;
        return rc;
    }
    if (st->pc_njobs >= STORE_PIECES_JOBS)
        return err_set(err, ERR_BUSY, "%u piece manifests being computed",
                       st->pc_njobs);
    j = mem_calloc(1, sizeof(*j));
    if (!j)
        return err_set(err, ERR_NOMEM, "store: out of memory");
    j->st = st;
    j->h = *h;
    j->piece_size = psize;
    rc = store_open_artifact(st, h, &j->fd, &j->size, err);
    if (rc == 0)
        rc = add_waiter(j, cb, arg, err);
    if (rc == 0 && workq_submit(st->wq_pieces, job_task, job_done, j) < 0)
        rc = err_set(err, ERR_NOMEM, "store: out of memory");
    if (rc < 0) {
        if (j->fd >= 0)
            close(j->fd);
        mem_free(j->waiters);
        mem_free(j);
        return rc;
    }
    j->next = st->pc_jobs;
    st->pc_jobs = j;
    st->pc_njobs++;
    *pending = true;
    return 0;
}
