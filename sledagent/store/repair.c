/* SPDX-License-Identifier: MPL-2.0 */
/*
 * repair: local self-repair between the two datasets, and rate-limited
 * file hashing shared by the scrubber and the trash restore. A copy goes
 * through a unique temp file in the destination's tmp/, is hashed while
 * copied, fsync'd and renamed into place only if the source hashed to its
 * name, then the directory is fsync'd: the same guarantees as the writer.
 * Worker threads only (meta or scrub); no lock held across I/O.
 */
#include "sledagent/store/store_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "common/log.h"
#include "common/mem.h"

#define REPAIR_CHUNK (1u << 20)

static bool stopping(struct store *st)
{
    bool s;

    pthread_mutex_lock(&st->mu);
    s = st->stopping;
    pthread_mutex_unlock(&st->mu);
    return s;
}

static double now_secs(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Sleep until `bytes` at `rate` have taken their time; wakes on stop. */
static void throttle(struct store *st, double t0, uint64_t bytes,
                     uint64_t rate)
{
    double due = t0 + (double)bytes / (double)rate, now = now_secs();
    struct timespec abs;

    if (due <= now)
        return;
    clock_gettime(CLOCK_REALTIME, &abs);
    abs.tv_sec += (time_t)(due - now);
    abs.tv_nsec += (long)(((due - now) - (double)(time_t)(due - now)) * 1e9);
    if (abs.tv_nsec >= 1000000000L) {
        abs.tv_sec++;
        abs.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&st->mu);
    if (!st->stopping)
        pthread_cond_timedwait(&st->stop_cv, &st->mu, &abs);
    pthread_mutex_unlock(&st->mu);
}

int repair_hash_file(struct sha256 *out, uint64_t *size_out, int *errno_out,
                     struct store *st, const char *path, uint64_t rate)
{
    struct sha256_ctx ctx = SHA256_CTX_INIT;
    char *chunk = NULL;
    uint64_t total = 0;
    double t0 = now_secs();
    int fd = -1, rc = 0;

    *errno_out = 0;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        *errno_out = errno;
        rc = ERR_IO;
        goto out;
    }
    posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    chunk = mem_alloc(REPAIR_CHUNK);
    if (!chunk || sha256_init(&ctx) < 0) {
        rc = ERR_NOMEM;
        goto out;
    }
    for (;;) {
        ssize_t n = read(fd, chunk, REPAIR_CHUNK);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            *errno_out = errno;
            rc = ERR_IO;
            goto out;
        }
        if (n == 0)
            break;
        sha256_update(&ctx, chunk, (size_t)n);
        total += (uint64_t)n;
        if (stopping(st)) {
            *errno_out = ECANCELED;
            rc = ERR_IO;
            goto out;
        }
        if (rate)
            throttle(st, t0, total, rate);
    }
    if (sha256_final(&ctx, out) < 0) {
        rc = ERR_INTERNAL;
        goto out;
    }
    *size_out = total;
out:
    if (fd >= 0)
        close(fd);
    sha256_release(&ctx);
    mem_free(chunk);
    return rc;
}

/*
 * Whether dataset d can hold `extra` bytes beyond its reservations: the
 * quota counts stored, trash and reserved bytes, free space (fb) keeps
 * the reserve. With reclaim, the trash counts as room (it can be purged).
 * st->mu held.
 */
static bool room_locked(const struct store *st, int d, uint64_t fb,
                        uint64_t extra, bool reclaim)
{
    const struct dataset *ds = &st->ds[d];
    uint64_t trash = reclaim ? ds->trash_bytes : 0;
    uint64_t used = ds->artifact_bytes + ds->trash_bytes - trash +
                    ds->reserved + extra;

    if (store_quota(st, d) && used > store_quota(st, d))
        return false;
    return fb + trash >= st->opts.reserve_bytes + ds->reserved + extra;
}

/*
 * Reserve size bytes on dataset d for a repair, purging its trash
 * (oldest first) if only that makes room. Returns 0 (the caller gives the
 * bytes back with release_room), ERR_NOSPACE or ERR_IO. No lock held.
 */
static int reserve_room(struct store *st, int d, uint64_t size,
                        struct err *err)
{
    uint64_t fb = 0;
    bool ok, purge;

    if (dataset_statfs(&fb, &st->ds[d]) < 0)
        return err_set(err, ERR_IO, "statvfs %s failed", st->ds[d].root);
    pthread_mutex_lock(&st->mu);
    st->ds[d].free_bytes = fb;
    ok = room_locked(st, d, fb, size, false);
    purge = !ok && room_locked(st, d, fb, size, true);
    if (ok || purge)
        st->ds[d].reserved += size;
    pthread_mutex_unlock(&st->mu);
    if (purge) {
        trash_purge_for_space(st, d, size);
        if (dataset_statfs(&fb, &st->ds[d]) < 0)
            fb = 0;
        pthread_mutex_lock(&st->mu);
        ok = room_locked(st, d, fb, 0, false);
        if (!ok)
            st->ds[d].reserved -= size;
        pthread_mutex_unlock(&st->mu);
    }
    if (!ok)
        return err_set(err, ERR_NOSPACE,
                       "%s: no room for %llu bytes (quota or reserve)",
                       st->ds[d].root, (unsigned long long)size);
    return 0;
}

static void release_room(struct store *st, int d, uint64_t size)
{
    pthread_mutex_lock(&st->mu);
    st->ds[d].reserved -= size;
    pthread_mutex_unlock(&st->mu);
}

/* A repair to d was skipped for lack of room: count it, log rarely. */
static void note_nospace(struct store *st, int d, const char *hex,
                         uint64_t size)
{
    struct timespec ts;
    uint64_t skipped = 0;
    bool log = false;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    pthread_mutex_lock(&st->mu);
    st->ctr.repair_nospace[d]++;
    st->repair_nospace_unlogged++;
    if (!st->repair_nospace_logged ||
        ts.tv_sec - st->repair_nospace_at >= STORE_REPAIR_LOG_SECS) {
        log = true;
        skipped = st->repair_nospace_unlogged;
        st->repair_nospace_unlogged = 0;
        st->repair_nospace_at = ts.tv_sec;
        st->repair_nospace_logged = true;
    }
    pthread_mutex_unlock(&st->mu);
    if (log)
        log_warn("store_repair_nospace", "{s:s, s:s, s:I, s:I, s:i}",
                 "dataset", st->ds[d].root, "sha256", hex, "size",
                 (json_int_t)size, "skipped", (json_int_t)skipped,
                 "log_interval_secs", STORE_REPAIR_LOG_SECS);
}

/* Opens the source copy and creates the temp file of a repair. */
static int open_pair(int *sfd, int *dfd, struct store *st, int dst,
                     const char *spath, const char *tmp, struct err *err)
{
    *sfd = open(spath, O_RDONLY | O_CLOEXEC);
    if (*sfd < 0)
        return err_set(err, ERR_IO, "open %s: %s", spath, strerror(errno));
    *dfd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (*dfd < 0) {
        dataset_io_error(st, dst, errno, "repair create");
        return err_set(err, ERR_IO, "create %s: %s", tmp, strerror(errno));
    }
    return 0;
}

/* Makes the verified temp file the copy: fsync, rename, fsync the dir. */
static int commit(struct store *st, int dst, int dfd, const char *tmp,
                  const char *final, struct err *err)
{
    int e;

    if (fsync(dfd) < 0 || rename(tmp, final) < 0) {
        dataset_io_error(st, dst, errno, "repair commit");
        return err_set(err, ERR_IO, "commit %s: %s", final, strerror(errno));
    }
    e = dataset_fsync_dir(st->ds[dst].root);
    if (e < 0)
        return err_set(err, ERR_IO, "fsync %s: %s", st->ds[dst].root,
                       strerror(-e));
    return 0;
}

int repair_copy(struct store *st, const struct sha256 *h, int src, int dst,
                struct err *err)
{
    struct sha256_ctx ctx = SHA256_CTX_INIT;
    char hex[SHA256_HEX_LEN + 1];
    char *spath = NULL, *tmp = NULL, *final = NULL, *chunk = NULL;
    struct sha256 got;
    const struct inv_entry *ie;
    uint64_t total = 0, size = 0;
    bool held = false;
    int sfd = -1, dfd = -1, rc = 0, e;

    sha256_to_hex(hex, h);
    pthread_mutex_lock(&st->mu);
    ie = inventory_get_locked(&st->inv, h);
    if (ie)
        size = ie->size;
    pthread_mutex_unlock(&st->mu);
    if (!ie)
        return err_set(err, ERR_IO, "repair %s: not stored", hex);
    rc = reserve_room(st, dst, size, err);
    if (rc == ERR_NOSPACE)
        note_nospace(st, dst, hex, size);
    if (rc < 0)
        return rc;
    held = true;
    spath = dataset_path(st->ds[src].root, hex);
    final = dataset_path(st->ds[dst].root, hex);
    tmp = dataset_temp_path(st->ds[dst].tmp, hex);
    chunk = mem_alloc(REPAIR_CHUNK);
    if (!spath || !final || !tmp || !chunk || sha256_init(&ctx) < 0) {
        rc = err_set(err, ERR_NOMEM, "repair: out of memory");
        goto out;
    }
    rc = open_pair(&sfd, &dfd, st, dst, spath, tmp, err);
    if (rc < 0)
        goto out;
    for (;;) {
        ssize_t n = read(sfd, chunk, REPAIR_CHUNK);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = err_set(err, ERR_IO, "read %s: %s", spath, strerror(errno));
            goto out;
        }
        if (n == 0)
            break;
        if (total + (uint64_t)n > size) {
            /* never write past the room reserved: it cannot verify */
            rc = err_set(err, ERR_VERIFY, "source copy %s is longer than "
                         "%llu bytes", spath, (unsigned long long)size);
            goto out;
        }
        sha256_update(&ctx, chunk, (size_t)n);
        e = fsutil_write_full(dfd, chunk, (size_t)n);
        if (e < 0) {
            dataset_io_error(st, dst, -e, "repair write");
            rc = err_set(err, ERR_IO, "write %s: %s", tmp, strerror(-e));
            goto out;
        }
        total += (uint64_t)n;
    }
    if (sha256_final(&ctx, &got) < 0) {
        rc = err_set(err, ERR_INTERNAL, "sha256 failed");
        goto out;
    }
    if (!sha256_eq(&got, h)) {
        rc = err_set(err, ERR_VERIFY, "source copy %s is corrupt", spath);
        goto out;
    }
    rc = commit(st, dst, dfd, tmp, final, err);
    if (rc < 0)
        goto out;
    pthread_mutex_lock(&st->mu);
    rc = inventory_set_locked(st, h, dst, total, true);
    pthread_mutex_unlock(&st->mu);
    if (rc < 0) {
        err_set(err, rc, "repair: out of memory");
        goto out;
    }
    log_info("store_artifact_repaired", "{s:s, s:s, s:s}", "sha256", hex,
             "from", st->ds[src].root, "to", st->ds[dst].root);
out:
    if (sfd >= 0)
        close(sfd);
    if (dfd >= 0)
        close(dfd);
    if (rc < 0 && tmp)
        unlink(tmp);
    if (held)
        release_room(st, dst, size);
    sha256_release(&ctx);
    mem_free(spath);
    mem_free(final);
    mem_free(tmp);
    mem_free(chunk);
    return rc;
}

struct pair {
    struct sha256 h;
    int src, dst;
};

unsigned repair_missing(struct store *st)
{
    struct pair *todo = NULL;
    size_t n = 0;
    unsigned copied = 0;

    pthread_mutex_lock(&st->mu);
    if (st->cfg_state == STORE_CONFIG_OK && st->cfg.count &&
        st->ds[0].healthy && st->ds[1].healthy)
        todo = mem_calloc(st->cfg.count, sizeof(*todo));
    for (size_t i = 0; todo && i < st->cfg.count; i++) {
        const struct inv_entry *e =
            inventory_get_locked(&st->inv, &st->cfg.hashes[i]);

        if (!e || e->on[0] == e->on[1])
            continue;
        todo[n].h = e->h;
        todo[n].src = e->on[0] ? 0 : 1;
        todo[n].dst = e->on[0] ? 1 : 0;
        n++;
    }
    pthread_mutex_unlock(&st->mu);
    for (size_t i = 0; i < n && !stopping(st); i++) {
        struct err e = ERR_INIT;
        char hex[SHA256_HEX_LEN + 1];
        int rc = repair_copy(st, &todo[i].h, todo[i].src, todo[i].dst, &e);

        if (rc == 0) {
            copied++;
            continue;
        }
        if (rc == ERR_NOSPACE)
            continue; /* counted and logged by repair_copy */
        sha256_to_hex(hex, &todo[i].h);
        log_warn("store_repair_failed", "{s:s, s:s}", "sha256", hex,
                 "error", e.msg);
    }
    mem_free(todo);
    if (copied) {
        pthread_mutex_lock(&st->mu);
        st->ctr.scrub_repaired += copied;
        pthread_mutex_unlock(&st->mu);
    }
    return copied;
}
