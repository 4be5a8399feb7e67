/* SPDX-License-Identifier: MPL-2.0 */
/*
 * writer_pieces: positional writes (issue 13, docs/REPLICATION.md
 * "Swarming copies"). A write begun with its piece manifest takes pieces
 * in any order: the loop queues each piece (the caller's buffer, owned
 * from then on) under w->mu; the write's task (one at a time, as for a
 * streamed write) checks it against the manifest, pwrite()s it at its
 * offset to every active temp file, and folds the pieces into the whole
 * sha256 in index order: the piece just written from its buffer, pieces
 * written earlier out of order read back from a temp file (page cache).
 * The completion (loop) sets the piece's bit in w->have and calls back.
 * The usual finish (writer.c: fsync, whole sha256 compared with the name,
 * rename, directory fsync) runs once every piece is folded, so nothing
 * partial ever appears under a final name (DESIGN.md section 3, 8.2).
 *
 * Memory: the queued pieces are the caller's (it bounds how many it has
 * in flight), the manifest (32 bytes a piece), three bitmaps and one
 * read-back buffer of WRITER_FOLD_READ bytes.
 */
#include "sledagent/store/writer_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/hex.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/pieces.h"

/* read-back chunk of the whole-sha256 fold */
#define WRITER_FOLD_READ (256u * 1024)

struct writer_piece {
    struct writer_piece *next;
    uint32_t i;
    void *buf;
    size_t len;
    store_piece_fn cb;
    void *arg;
    int rc;
    struct err err;
};

static bool bit(const uint8_t *b, uint64_t i)
{
    return (b[i / 8] >> (i % 8)) & 1u;
}

static void set_bit(uint8_t *b, uint64_t i, bool on)
{
    if (on)
        b[i / 8] |= (uint8_t)(1u << (i % 8));
    else
        b[i / 8] &= (uint8_t)~(1u << (i % 8));
}

static void piece_free(struct writer_piece *p)
{
    if (!p)
        return;
    mem_free(p->buf);
    mem_free(p);
}

static void list_free(struct writer_piece *p)
{
    while (p) {
        struct writer_piece *next = p->next;

        piece_free(p);
        p = next;
    }
}

void writer_pieces_free(struct store_write *w)
{
    list_free(w->pq_head);
    list_free(w->pd_head);
    w->pq_head = w->pq_tail = w->pd_head = w->pd_tail = NULL;
    if (w->pm) {
        pieces_release(w->pm);
        mem_free(w->pm);
        w->pm = NULL;
    }
    if (w->sm) {
        pieces_release(w->sm);
        mem_free(w->sm);
        w->sm = NULL;
    }
    if (w->psha_live)
        sha256_release(&w->psha);
    w->psha_live = false;
    for (int d = 0; d < STORE_DATASETS; d++) {
        mem_free(w->ptmp[d]);
        w->ptmp[d] = NULL;
    }
    mem_free(w->have);
    mem_free(w->sent_ms);
    w->sent_ms = NULL;
    mem_free(w->queued);
    mem_free(w->wbits);
    mem_free(w->rbuf);
    w->have = w->queued = w->wbits = w->rbuf = NULL;
}

/* A copy of m in *out (mem_alloc'd). 0 or ERR_NOMEM. */
static int copy_manifest(struct pieces **out, const struct pieces *m)
{
    struct pieces *c = mem_calloc(1, sizeof(*c));

    if (!c)
        return ERR_NOMEM;
    *c = *m;
    c->piece = NULL;
    if (m->count > 0) {
        c->piece = mem_calloc(m->count, sizeof(*c->piece));
        if (!c->piece) {
            mem_free(c);
            return ERR_NOMEM;
        }
        memcpy(c->piece, m->piece, m->count * sizeof(*c->piece));
    }
    *out = c;
    return 0;
}

int store_write_set_pieces(struct store_write *w, const struct pieces *m,
                          struct err *err)
{
    struct store *st = w->st;
    uint64_t count = 0;
    size_t nbytes;
    int rc;

    if (w->pm || w->received > 0 || w->task_running || w->finish_req ||
        w->aborted)
        return err_set(err, ERR_INVAL, "the write already took data");
    if (!sha256_eq(&m->sha256, &w->h) || w->expected < 0 ||
        m->length != (uint64_t)w->expected ||
        pieces_count(&count, m->length, m->piece_size) < 0 ||
        count != m->count)
        return err_set(err, ERR_INVAL, "the piece manifest does not "
                       "describe this artifact");
    nbytes = count / 8 + 1;
    rc = copy_manifest(&w->pm, m);
    if (rc == 0)
        rc = pieces_id(&w->pm_id, m, NULL);
    if (rc == 0) {
        w->have = mem_calloc(1, nbytes);
        w->queued = mem_calloc(1, nbytes);
        w->wbits = mem_calloc(1, nbytes);
        if (!w->have || !w->queued || !w->wbits)
            rc = ERR_NOMEM;
    }
    /* the temp paths are chosen here so that the loop (the depot serving
     * verified pieces) can name them without racing the worker */
    for (int d = 0; rc == 0 && d < STORE_DATASETS; d++) {
        if (!w->use[d])
            continue;
        w->ptmp[d] = dataset_temp_path(st->ds[d].tmp, w->hex);
        if (!w->ptmp[d])
            rc = ERR_NOMEM;
    }
    if (rc < 0) {
        writer_pieces_free(w); /* a streamed write again, unchanged */
        return err_set(err, ERR_NOMEM, "store: out of memory");
    }
    return 0;
}

int store_write_stream_pieces(struct store_write *w, const struct pieces *m,
                              struct err *err)
{
    struct store *st = w->st;
    uint64_t count = 0;
    int rc;

    if (w->pm || w->sm || w->received > 0 || w->task_running ||
        w->finish_req || w->aborted)
        return err_set(err, ERR_INVAL, "the write already took data");
    if (!sha256_eq(&m->sha256, &w->h) || w->expected < 0 ||
        m->length != (uint64_t)w->expected ||
        pieces_count(&count, m->length, m->piece_size) < 0 ||
        count != m->count || count > UINT32_MAX)
        return err_set(err, ERR_INVAL, "the piece manifest does not "
                       "describe this artifact");
    rc = copy_manifest(&w->sm, m);
    if (rc == 0)
        rc = pieces_id(&w->pm_id, m, NULL);
    /* the loop opens the temp files by these names to serve pieces */
    for (int d = 0; rc == 0 && d < STORE_DATASETS; d++) {
        if (!w->use[d])
            continue;
        w->ptmp[d] = dataset_temp_path(st->ds[d].tmp, w->hex);
        if (!w->ptmp[d])
            rc = ERR_NOMEM;
    }
    if (rc < 0) {
        writer_pieces_free(w); /* a plain streamed write again */
        return err_set(err, ERR_NOMEM, "store: out of memory");
    }
    return 0;
}

void writer_pieces_stream(struct store_write *w, const uint8_t *data,
                          size_t n)
{
    while (n > 0 && !w->pbad && w->pnext < w->sm->count) {
        uint64_t off = 0, plen = 0;
        struct sha256 got;
        size_t take;

        if (pieces_range(&off, &plen, w->sm->length, w->sm->piece_size,
                         w->pnext) < 0) {
            w->pbad = true;
            return;
        }
        if (!w->psha_live) {
            if (sha256_init(&w->psha) < 0) {
                w->pbad = true; /* served only once complete */
                return;
            }
            w->psha_live = true;
            w->pgot = 0;
        }
        take = plen - w->pgot < n ? (size_t)(plen - w->pgot) : n;
        sha256_update(&w->psha, data, take);
        w->pgot += take;
        data += take;
        n -= take;
        if (w->pgot < plen)
            return;
        w->psha_live = false;
        /* a piece that does not match ends the serving for good: this
         * piece and every later one are never served from this write,
         * and the whole sha256 fails the write at finish */
        if (sha256_final(&w->psha, &got) < 0 ||
            !sha256_eq(&got, &w->sm->piece[w->pnext])) {
            sha256_release(&w->psha);
            w->pbad = true;
            log_warn("store_stream_piece_mismatch", "{s:s, s:I}", "sha256",
                     w->hex, "piece", (json_int_t)w->pnext);
            return;
        }
        sha256_release(&w->psha);
        w->pnext++;
    }
}

void writer_pieces_stream_written(struct store_write *w)
{
    /* no piece is served once every dataset failed */
    if (writer_file_active_count(w) == 0)
        return;
    pthread_mutex_lock(&w->mu);
    w->sm_done = w->pnext;
    pthread_mutex_unlock(&w->mu);
}

int store_write_begin_pieces(struct store *st, struct store_write **out,
                             const struct sha256 *h, uint64_t generation,
                             const struct pieces *m, struct err *err)
{
    struct store_write *w = NULL;
    int rc;

    *out = NULL;
    if (!sha256_eq(&m->sha256, h) || m->length > INT64_MAX)
        return err_set(err, ERR_INVAL, "the piece manifest does not "
                       "describe this artifact");
    rc = store_write_begin(st, &w, h, generation, (int64_t)m->length, err);
    if (rc < 0)
        return rc;
    rc = store_write_set_pieces(w, m, err);
    if (rc < 0) {
        store_write_abort(w);
        return rc;
    }
    *out = w;
    return 0;
}

int store_write_piece(struct store_write *w, uint32_t i, void *buf,
                      size_t len, store_piece_fn cb, void *arg,
                      struct err *err)
{
    struct writer_piece *p = NULL;

    if (!w->pm || w->aborted || w->finish_req || w->failed) {
        mem_free(buf);
        return err_set(err, ERR_INVAL, "not a positional write in progress");
    }
    if (i >= w->pm->count || bit(w->have, i) || bit(w->queued, i)) {
        mem_free(buf);
        return err_set(err, ERR_INVAL, "piece %u out of range, written or "
                       "queued", (unsigned)i);
    }
    p = mem_calloc(1, sizeof(*p));
    if (!p) {
        mem_free(buf);
        return err_set(err, ERR_NOMEM, "store: out of memory");
    }
    p->i = i;
    p->buf = buf;
    p->len = len;
    p->cb = cb;
    p->arg = arg;
    set_bit(w->queued, i, true);
    pthread_mutex_lock(&w->mu);
    if (w->pq_tail)
        w->pq_tail->next = p;
    else
        w->pq_head = p;
    w->pq_tail = p;
    pthread_mutex_unlock(&w->mu);
    writer_kick(w);
    return 0;
}

bool store_write_has_piece(const struct store_write *w, uint32_t i)
{
    return w->pm && i < w->pm->count && bit(w->have, i);
}

uint32_t store_write_pieces_done(const struct store_write *w)
{
    return w->have_count;
}

bool writer_pieces_queued_locked(const struct store_write *w)
{
    return w->pq_head != NULL;
}

static int pwrite_all(int fd, const uint8_t *p, size_t n, uint64_t off)
{
    while (n > 0) {
        ssize_t k = pwrite(fd, p, n, (off_t)off);

        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return -errno;
        p += k;
        n -= (size_t)k;
        off += (uint64_t)k;
    }
    return 0;
}

/*
 * Fold piece i, written earlier, into the whole sha256 from a temp file.
 * A dataset whose read fails is dropped and the read goes on from the same
 * offset on another one (the bytes are the same). 0, or -1 with none left.
 */
static int fold_read_back(struct store_write *w, uint64_t i)
{
    uint64_t off = 0, len = 0, end;

    if (!w->rbuf) {
        w->rbuf = mem_alloc(WRITER_FOLD_READ);
        if (!w->rbuf)
            return -1;
    }
    pieces_range(&off, &len, w->pm->length, w->pm->piece_size, i);
    end = off + len;
    while (off < end) {
        size_t want = end - off < WRITER_FOLD_READ ? (size_t)(end - off)
                                                   : WRITER_FOLD_READ;
        ssize_t k = -1;
        int d = 0, e = EIO;

        while (d < STORE_DATASETS && !w->active[d])
            d++;
        if (d == STORE_DATASETS)
            return -1;
        do
            k = pread(w->fd[d], w->rbuf, want, (off_t)off);
        while (k < 0 && errno == EINTR);
        if (k <= 0) {
            if (k < 0)
                e = errno;
            writer_file_drop(w, d, e, "read back");
            continue;
        }
        sha256_update(&w->sha, w->rbuf, (size_t)k);
        off += (uint64_t)k;
    }
    return 0;
}

void writer_pieces_process(struct store_write *w, struct writer_piece *p)
{
    uint64_t off = 0, len = 0;

    if (w->finalized) {
        p->rc = err_set(&p->err, ERR_IO, "the write of %s failed", w->hex);
        return;
    }
    p->rc = pieces_verify(w->pm, p->i, p->buf, p->len, &p->err);
    if (p->rc < 0)
        return;
    pieces_range(&off, &len, w->pm->length, w->pm->piece_size, p->i);
    for (int d = 0; d < STORE_DATASETS; d++) {
        int e;

        if (!w->active[d])
            continue;
        e = pwrite_all(w->fd[d], p->buf, p->len, off);
        if (e < 0)
            writer_file_drop(w, d, -e, "write");
    }
    set_bit(w->wbits, p->i, true);
    w->written += len;
    while (writer_file_active_count(w) > 0 && w->folded < w->pm->count &&
           bit(w->wbits, w->folded)) {
        if (w->folded == p->i)
            sha256_update(&w->sha, p->buf, p->len);
        else if (fold_read_back(w, w->folded) < 0)
            break;
        w->folded++;
    }
    if (writer_file_active_count(w) == 0) {
        err_set(&w->err, ERR_IO, "every dataset failed while writing %s",
                w->hex);
        writer_set_result(w, WFAIL_IO, ERR_IO);
        writer_file_cleanup(w);
        p->rc = err_set(&p->err, ERR_IO, "%s", w->err.msg);
    }
}

struct writer_piece *writer_pieces_pop_locked(struct store_write *w)
{
    struct writer_piece *p = w->pq_head;

    if (p) {
        w->pq_head = p->next;
        if (!w->pq_head)
            w->pq_tail = NULL;
        p->next = NULL;
    }
    return p;
}

void writer_pieces_done_locked(struct store_write *w, struct writer_piece *p)
{
    if (w->pd_tail)
        w->pd_tail->next = p;
    else
        w->pd_head = p;
    w->pd_tail = p;
}

bool writer_pieces_all_folded(const struct store_write *w)
{
    return w->folded == w->pm->count;
}

void writer_pieces_completed(struct store_write *w)
{
    struct writer_piece *p;

    if (!w->pm)
        return;
    pthread_mutex_lock(&w->mu);
    p = w->pd_head;
    w->pd_head = w->pd_tail = NULL;
    pthread_mutex_unlock(&w->mu);
    while (p) {
        struct writer_piece *next = p->next;

        set_bit(w->queued, p->i, false);
        if (p->rc == 0) {
            set_bit(w->have, p->i, true);
            w->have_count++;
        }
        /* a callback may abort the write: none runs after that */
        if (!w->aborted && p->cb)
            p->cb(p->rc, p->rc ? &p->err : NULL, p->i, p->arg);
        piece_free(p);
        p = next;
    }
}

/* ---- serving what is verified so far (loop thread) ---------------------- */

/* The manifest a write checks pieces against, NULL for none. */
static const struct pieces *wman(const struct store_write *w)
{
    return w->pm ? w->pm : w->sm;
}

/* Pieces verified and on disk (positional: any, streamed: a prefix). */
static uint32_t done_count(struct store_write *w)
{
    uint32_t n;

    if (w->pm)
        return w->have_count;
    pthread_mutex_lock(&w->mu);
    n = w->sm_done;
    pthread_mutex_unlock(&w->mu);
    return n;
}

/* Whether piece i of a write with a manifest is verified and on disk. */
static bool has_piece(struct store_write *w, uint64_t i, uint32_t done)
{
    return w->pm ? bit(w->have, i) : i < done;
}

/* Whether w serves pieces of h. */
static bool serves(const struct store_write *w, const struct sha256 *h)
{
    return wman(w) && !w->aborted && !w->failed && sha256_eq(&w->h, h);
}

/* The write of h in progress here with a manifest and the most pieces. */
static struct store_write *partial_find(struct store *st,
                                        const struct sha256 *h)
{
    struct store_write *best = NULL;
    uint32_t bestn = 0;

    for (struct store_write *w = st->writes; w; w = w->next) {
        uint32_t n;

        if (!serves(w, h))
            continue;
        n = done_count(w);
        if (!best || n > bestn) {
            best = w;
            bestn = n;
        }
    }
    return best;
}

int store_partial_length(struct store *st, const struct sha256 *h,
                         uint64_t *length_out, struct err *err)
{
    struct store_write *w = partial_find(st, h);

    if (!w)
        return err_set(err, ERR_NOTFOUND, "no write of this artifact here");
    *length_out = wman(w)->length;
    return 0;
}

static bool covers(struct store_write *w, uint64_t off, uint64_t len)
{
    const struct pieces *m = wman(w);
    uint32_t done = done_count(w);
    uint64_t first, last;

    if (len == 0 || off + len > m->length || off + len < off)
        return false;
    first = off / m->piece_size;
    last = (off + len - 1) / m->piece_size;
    for (uint64_t i = first; i <= last; i++)
        if (!has_piece(w, i, done))
            return false;
    return true;
}

int store_partial_open(struct store *st, const struct sha256 *h,
                       uint64_t off, uint64_t len, int *fd_out,
                       struct err *err)
{
    bool any = false;

    *fd_out = -1;
    for (struct store_write *w = st->writes; w; w = w->next) {
        if (!serves(w, h))
            continue;
        any = true;
        if (!covers(w, off, len))
            continue;
        /* a dataset dropped since has no file (ENOENT): the other one */
        for (int d = 0; d < STORE_DATASETS; d++) {
            int fd;

            if (!w->ptmp[d])
                continue;
            fd = open(w->ptmp[d], O_RDONLY | O_CLOEXEC);
            if (fd >= 0) {
                *fd_out = fd;
                return 0;
            }
        }
    }
    if (!any)
        return err_set(err, ERR_NOTFOUND, "no write of this artifact here");
    return err_set(err, ERR_INVAL, "range not inside verified pieces");
}

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Whether the depot began to send piece i of streamed write w less than
 * STORE_PIECE_RESEND_MS before now. */
static bool sent_recently(const struct store_write *w, uint64_t i,
                          int64_t now)
{
    return w->sent_ms && w->sent_ms[i] &&
           now - w->sent_ms[i] < STORE_PIECE_RESEND_MS;
}

bool store_partial_sent(struct store *st, const struct sha256 *h,
                        uint64_t off, bool mark)
{
    for (struct store_write *w = st->writes; w; w = w->next) {
        int64_t now = mono_ms();
        uint64_t i;

        if (!serves(w, h) || !w->sm)
            continue;
        i = off / w->sm->piece_size;
        if (i >= w->sm->count)
            return false;
        if (sent_recently(w, i, now))
            return true;
        if (mark) {
            if (!w->sent_ms)
                w->sent_ms = mem_calloc(w->sm->count, sizeof(*w->sent_ms));
            if (w->sent_ms)
                w->sent_ms[i] = now;
        }
        return false;
    }
    return false;
}

bool store_partial_streamed(struct store *st, const struct sha256 *h)
{
    for (struct store_write *w = st->writes; w; w = w->next)
        if (serves(w, h) && w->sm)
            return true;
    return false;
}

int store_have_count(struct store *st, const struct sha256 *h,
                     uint32_t *count)
{
    struct store_write *w = partial_find(st, h);
    int64_t now = mono_ms();
    uint32_t n;

    if (!w)
        return ERR_NOTFOUND;
    n = done_count(w);
    *count = n;
    if (!w->pm)
        for (uint32_t i = 0; i < n; i++)
            *count -= sent_recently(w, i, now);
    return 0;
}

int store_have(struct store *st, const struct sha256 *h, struct buf *out,
               struct err *err)
{
    struct store_write *w;
    const struct pieces *m;
    char mhex[SHA256_HEX_LEN + 1];
    uint64_t size = 0;
    size_t nbytes;
    char *hx = NULL;
    int fd = -1, rc;

    if (store_open_artifact(st, h, &fd, &size, NULL) == 0) {
        close(fd);
        rc = buf_printf(out, "{\"complete\":true,\"length\":%llu}",
                        (unsigned long long)size);
        return rc < 0 ? err_set(err, ERR_NOMEM, "out of memory") : 0;
    }
    w = partial_find(st, h);
    if (!w)
        return err_set(err, ERR_NOTFOUND, "artifact neither held nor being "
                       "written here with a manifest");
    m = wman(w);
    nbytes = (m->count + 7) / 8;
    hx = mem_alloc(nbytes * 2 + 1);
    if (!hx)
        return err_set(err, ERR_NOMEM, "out of memory");
    if (w->pm) {
        hex_encode(hx, w->have, nbytes);
    } else {
        /* a streamed write has a verified prefix; the pieces its depot
         * sent in the last STORE_PIECE_RESEND_MS are left out: it would
         * refuse them (store_partial_sent), the peer that got one has it */
        uint8_t *bits = mem_calloc(1, nbytes + 1);
        uint32_t done = done_count(w);
        int64_t now = mono_ms();

        if (!bits) {
            mem_free(hx);
            return err_set(err, ERR_NOMEM, "out of memory");
        }
        for (uint32_t i = 0; i < done; i++)
            set_bit(bits, i, !sent_recently(w, i, now));
        hex_encode(hx, bits, nbytes);
        mem_free(bits);
    }
    sha256_to_hex(mhex, &w->pm_id);
    rc = buf_printf(out, "{\"complete\":false,\"have\":\"%s\",\"length\":"
                    "%llu,\"manifest_sha256\":\"%s\",\"piece_size\":%u,"
                    "\"pieces\":%llu}", hx,
                    (unsigned long long)m->length, mhex,
                    (unsigned)m->piece_size,
                    (unsigned long long)m->count);
    mem_free(hx);
    return rc < 0 ? err_set(err, ERR_NOMEM, "out of memory") : 0;
}

int store_partial_manifest(struct store *st, const struct sha256 *h,
                           uint64_t piece_size, struct buf *out,
                           struct err *err)
{
    for (struct store_write *w = st->writes; w; w = w->next)
        if (serves(w, h) &&
            (piece_size == 0 || piece_size == wman(w)->piece_size))
            return pieces_encode(out, wman(w), err);
    return err_set(err, ERR_NOTFOUND, "no write of this artifact here");
}
