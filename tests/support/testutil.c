/* SPDX-License-Identifier: MPL-2.0 */
/*
 * testutil: temp directories, recursive removal, polling with a timeout,
 * random and pattern data, file helpers and sha256 of files, for tests.
 * See testutil.h. No global state except a per-thread random generator.
 */
#include "tests/support/testutil.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>

#include "common/err.h"
#include "common/mem.h"

int testutil_tmpdir(char **out, const char *prefix)
{
    const char *base = getenv("TMPDIR");
    char path[4096];
    int n;

    *out = NULL;
    if (!base || !*base)
        base = "/tmp";
    n = snprintf(path, sizeof(path), "%s/rdtest-%s-XXXXXX", base,
                 prefix ? prefix : "t");
    if (n < 0 || (size_t)n >= sizeof(path))
        return ERR_INVAL;
    if (!mkdtemp(path))
        return ERR_IO;
    *out = mem_strdup(path);
    return *out ? 0 : ERR_NOMEM;
}

char *testutil_join(const char *dir, const char *name)
{
    size_t dl = strlen(dir), nl = strlen(name);
    char *p = mem_alloc(dl + nl + 2);

    if (!p)
        return NULL;
    memcpy(p, dir, dl);
    p[dl] = '/';
    memcpy(p + dl + 1, name, nl + 1);
    return p;
}

int testutil_rmrf(const char *path)
{
    struct stat st;
    DIR *d = NULL;
    struct dirent *de;
    int rc = 0;

    if (lstat(path, &st) < 0)
        return errno == ENOENT ? 0 : ERR_IO;
    if (!S_ISDIR(st.st_mode))
        return (unlink(path) < 0 && errno != ENOENT) ? ERR_IO : 0;
    /* A test may have removed write permission; give it back first. */
    (void)chmod(path, 0700);
    d = opendir(path);
    if (!d)
        return ERR_IO;
    while ((de = readdir(d)) != NULL) {
        char *child;
        int r;

        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        child = testutil_join(path, de->d_name);
        if (!child) {
            rc = ERR_NOMEM;
            goto out;
        }
        r = testutil_rmrf(child);
        mem_free(child);
        if (r < 0 && rc == 0)
            rc = r;
    }
    if (rmdir(path) < 0 && errno != ENOENT && rc == 0)
        rc = ERR_IO;
out:
    closedir(d);
    return rc;
}

int64_t testutil_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void testutil_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

bool testutil_wait_for(testutil_cond_fn cond, void *arg, long timeout_ms)
{
    int64_t deadline = testutil_now_ms() + timeout_ms;
    long pause = 10;

    for (;;) {
        if (cond(arg))
            return true;
        if (testutil_now_ms() >= deadline)
            return false;
        testutil_sleep_ms(pause);
        if (pause < 50)
            pause += 10;
    }
}

static _Thread_local uint64_t rng_state;

static uint64_t rng_next(void)
{
    if (rng_state == 0) {
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        rng_state = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec ^
                    ((uint64_t)getpid() << 40) ^ (uint64_t)(uintptr_t)&ts;
        if (rng_state == 0)
            rng_state = 0x9e3779b97f4a7c15ull;
    }
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

void testutil_random(void *buf, size_t n)
{
    uint8_t *p = buf;

    while (n > 0) {
        uint64_t v = rng_next();
        size_t k = n < 8 ? n : 8;

        memcpy(p, &v, k);
        p += k;
        n -= k;
    }
}

static uint64_t splitmix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

void testutil_pattern(void *buf, size_t n, uint64_t seed, uint64_t offset)
{
    uint8_t *p = buf;

    while (n > 0) {
        uint64_t word = offset / 8;
        size_t skip = (size_t)(offset % 8);
        uint64_t v = splitmix(seed ^ splitmix(word));
        size_t k = 8 - skip;

        if (k > n)
            k = n;
        memcpy(p, (uint8_t *)&v + skip, k);
        p += k;
        n -= k;
        offset += k;
    }
}

int testutil_write_file(const char *path, const void *data, size_t len)
{
    const uint8_t *p = data;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int rc = 0;

    if (fd < 0)
        return ERR_IO;
    while (len > 0) {
        ssize_t w = write(fd, p, len);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            rc = ERR_IO;
            goto out;
        }
        p += w;
        len -= (size_t)w;
    }
out:
    if (close(fd) < 0 && rc == 0)
        rc = ERR_IO;
    return rc;
}

int testutil_read_file(char **out, size_t *len_out, const char *path)
{
    struct stat st;
    char *data = NULL;
    size_t len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    int rc = 0;

    *out = NULL;
    if (len_out)
        *len_out = 0;
    if (fd < 0)
        return errno == ENOENT ? ERR_NOTFOUND : ERR_IO;
    if (fstat(fd, &st) < 0) {
        rc = ERR_IO;
        goto out;
    }
    data = mem_alloc((size_t)st.st_size + 1);
    if (!data) {
        rc = ERR_NOMEM;
        goto out;
    }
    while (len < (size_t)st.st_size) {
        ssize_t r = read(fd, data + len, (size_t)st.st_size - len);

        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = ERR_IO;
            goto out;
        }
        if (r == 0)
            break;
        len += (size_t)r;
    }
    data[len] = '\0';
    *out = data;
    data = NULL;
    if (len_out)
        *len_out = len;
out:
    mem_free(data);
    close(fd);
    return rc;
}

bool testutil_exists(const char *path)
{
    struct stat st;

    return lstat(path, &st) == 0;
}

long testutil_file_size(const char *path)
{
    struct stat sb;

    return stat(path, &sb) == 0 ? (long)sb.st_size : -1;
}

long testutil_cpu_ticks(pid_t pid)
{
    char path[64], buf[1024];
    unsigned long ut = 0, st = 0;
    const char *p;
    FILE *fp;
    size_t n;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    fp = fopen(path, "r");
    if (!fp)
        return -1;
    n = fread(buf, 1, sizeof(buf) - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    p = strrchr(buf, ')');
    /* after ")": state ppid pgrp session tty tpgid flags minflt cminflt
     * majflt cmajflt utime stime (fields 3..15) */
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
                            "%lu %lu", &ut, &st) != 2)
        return -1;
    return (long)(ut + st);
}

long testutil_dir_count(const char *path)
{
    DIR *d = opendir(path);
    struct dirent *de;
    long n = 0;

    if (!d)
        return -1;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
            n++;
    }
    closedir(d);
    return n;
}

int testutil_sha256_file(struct sha256 *out, const char *path)
{
    struct sha256_ctx ctx = SHA256_CTX_INIT;
    char *chunk = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    int rc;

    if (fd < 0)
        return errno == ENOENT ? ERR_NOTFOUND : ERR_IO;
    chunk = mem_alloc(1 << 16);
    if (!chunk) {
        rc = ERR_NOMEM;
        goto out;
    }
    rc = sha256_init(&ctx);
    if (rc < 0)
        goto out;
    for (;;) {
        ssize_t r = read(fd, chunk, 1 << 16);

        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = ERR_IO;
            goto out;
        }
        if (r == 0)
            break;
        rc = sha256_update(&ctx, chunk, (size_t)r);
        if (rc < 0)
            goto out;
    }
    rc = sha256_final(&ctx, out);
out:
    sha256_release(&ctx);
    mem_free(chunk);
    close(fd);
    return rc;
}

void testutil_sha256_hex(char out[SHA256_HEX_LEN + 1], const void *data,
                         size_t len)
{
    struct sha256 h;

    if (sha256_digest(&h, data, len) < 0) {
        out[0] = '\0';
        return;
    }
    sha256_to_hex(out, &h);
}

bool testutil_is_hex64(const char *name)
{
    size_t i;

    for (i = 0; name[i]; i++) {
        char c = name[i];

        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
    }
    return i == SHA256_HEX_LEN;
}

void testutil_print_tail(const char *label, const char *path,
                         size_t max_bytes)
{
    char *data = NULL;
    size_t len = 0;

    if (testutil_read_file(&data, &len, path) < 0) {
        fprintf(stderr, "---- %s: %s unreadable ----\n", label, path);
        return;
    }
    fprintf(stderr, "---- %s: last %zu bytes of %s ----\n", label,
            len < max_bytes ? len : max_bytes, path);
    fwrite(len > max_bytes ? data + len - max_bytes : data, 1,
           len < max_bytes ? len : max_bytes, stderr);
    fprintf(stderr, "\n---- end of %s ----\n", label);
    mem_free(data);
}

static int skipped;

void testutil_note_skip(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fputs("SKIP: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    skipped++;
}

int testutil_exit(int cmocka_rc)
{
    return cmocka_rc == 0 && skipped ? 77 : cmocka_rc;
}
