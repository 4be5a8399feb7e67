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
 * fsync the copy (dfd), rename tmp to final on dataset dst, fsync the
 * directory and record the copy of h (total bytes) in the inventory.
 * Returns 0, ERR_IO or ERR_NOMEM. Worker, no lock held.
 */
static int commit_copy(struct store *st, const struct sha256 *h, int dst,
                       int dfd, const char *tmp, const char *final,
                       uint64_t total, struct err *err)
{
    int rc, e;

    if (fsync(dfd) < 0 || rename(tmp, final) < 0) {
        dataset_io_error(st, dst, errno, "repair commit");
        return err_set(err, ERR_IO, "commit %s: %s", final, strerror(errno));
    }
    e = dataset_fsync_dir(st->ds[dst].root);
    if (e < 0)
        return err_set(err, ERR_IO, "fsync %s: %s", st->ds[dst].root,
                       strerror(-e));
    pthread_mutex_lock(&st->mu);
    rc = inventory_set_locked(st, h, dst, total, true);
    pthread_mutex_unlock(&st->mu);
    if (rc < 0)
        err_set(err, rc, "repair: out of memory");
    return rc;
}

int repair_copy(struct store *st, const struct sha256 *h, int src, int dst,
                struct err *err)
{
    struct sha256_ctx ctx = SHA256_CTX_INIT;
    char hex[SHA256_HEX_LEN + 1];
    char *spath = NULL, *tmp = NULL, *final = NULL, *chunk = NULL;
    struct sha256 got;
    uint64_t total = 0;
    int sfd = -1, dfd = -1, rc = 0, e;

    sha256_to_hex(hex, h);
    spath = dataset_path(st->ds[src].root, hex);
    final = dataset_path(st->ds[dst].root, hex);
    tmp = dataset_temp_path(st->ds[dst].tmp, hex);
    chunk = mem_alloc(REPAIR_CHUNK);
    if (!spath || !final || !tmp || !chunk || sha256_init(&ctx) < 0) {
        rc = err_set(err, ERR_NOMEM, "repair: out of memory");
        goto out;
    }
    sfd = open(spath, O_RDONLY | O_CLOEXEC);
    if (sfd < 0) {
        rc = err_set(err, ERR_IO, "open %s: %s", spath, strerror(errno));
        goto out;
    }
    dfd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (dfd < 0) {
        dataset_io_error(st, dst, errno, "repair create");
        rc = err_set(err, ERR_IO, "create %s: %s", tmp, strerror(errno));
        goto out;
    }
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
    rc = commit_copy(st, h, dst, dfd, tmp, final, total, err);
    if (rc < 0)
        goto out;
    log_info("store_artifact_repaired", "{s:s, s:s, s:s}", "sha256", hex,
             "from", st->ds[src].root, "to", st->ds[dst].root);
out:
    if (sfd >= 0)
        close(sfd);
    if (dfd >= 0)
        close(dfd);
    if (rc < 0 && tmp)
        unlink(tmp);
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

        if (repair_copy(st, &todo[i].h, todo[i].src, todo[i].dst, &e) == 0) {
            copied++;
            continue;
        }
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
