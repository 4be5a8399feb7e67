/* SPDX-License-Identifier: MPL-2.0 */
/*
 * fuzz_zipread: harness for the hardened zip reader (common/zipread.c)
 * that every uploaded repository goes through. zipread_open() takes a
 * path, so each input is written to one memfd reopened through
 * /proc/self/fd. Then every entry is listed, looked up by name and read
 * twice: whole with zipread_read_all (cap 1 MiB) and streamed in 13-byte
 * reads with a cap of 100 bytes. Properties: refusals carry a message;
 * lookups agree with the entry flags (bad names ERR_INVAL; duplicates,
 * symlinks and directories ERR_VERIFY; otherwise the entry itself); a
 * read never yields more than its cap nor more than the declared size, a
 * successful read yields exactly the declared size, and a failed
 * zipread_read_all leaves the buffer as it was. Single-threaded.
 */
#include "tests/fuzz/fuzz.h"

#include <stdbool.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/zipread.h"

#define READ_ALL_CAP (1u << 20)
#define STREAM_CAP 100u
#define STREAM_CHUNK 13u

static int memfd = -1;
static char path[64];

static int put_input(const uint8_t *data, size_t size)
{
    size_t done = 0;

    if (memfd < 0) {
        memfd = memfd_create("fuzz_zipread", MFD_CLOEXEC);
        if (memfd < 0)
            return -1;
        snprintf(path, sizeof(path), "/proc/self/fd/%d", memfd);
    }
    if (ftruncate(memfd, 0) < 0)
        return -1;
    while (done < size) {
        ssize_t n = pwrite(memfd, data + done, size - done, (off_t)done);

        if (n <= 0)
            return -1;
        done += (size_t)n;
    }
    return 0;
}

static void check_stream(struct zipread *zr, const struct zipread_entry *e)
{
    struct zipread_stream *s = NULL;
    struct err err = ERR_INIT;
    uint8_t chunk[STREAM_CHUNK];
    uint64_t total = 0;
    int rc = zipread_stream_open(&s, zr, e->name, STREAM_CAP, &err);

    if (rc < 0) {
        FUZZ_CHECK(s == NULL && err.msg[0] != '\0');
        FUZZ_CHECK(rc != ERR_LIMIT || e->size > STREAM_CAP);
        return;
    }
    FUZZ_CHECK(e->size <= STREAM_CAP);
    FUZZ_CHECK(zipread_stream_size(s) == e->size);
    for (;;) {
        size_t got = 12345;

        rc = zipread_stream_read(&got, s, chunk, sizeof(chunk), &err);
        if (rc < 0) {
            FUZZ_CHECK(err.msg[0] != '\0');
            /* Sticky: the same error again. */
            FUZZ_CHECK(zipread_stream_read(&got, s, chunk, sizeof(chunk),
                                           &err) == rc && got == 0);
            break;
        }
        FUZZ_CHECK(got <= sizeof(chunk));
        total += got;
        FUZZ_CHECK(total <= STREAM_CAP && total <= e->size);
        if (got == 0) {
            FUZZ_CHECK(total == e->size);
            break;
        }
    }
    zipread_stream_close(s);
}

static void check_entry(struct zipread *zr, const struct zipread_entry *e)
{
    const struct zipread_entry *hit = NULL;
    struct err err = ERR_INIT;
    struct buf out = BUF_INIT;
    int rc = zipread_find(&hit, zr, e->name, &err);

    if (zipread_check_name(e->name, NULL) < 0) {
        FUZZ_CHECK(rc == ERR_INVAL && hit == NULL);
        return;
    }
    if (rc < 0) {
        FUZZ_CHECK(rc == ERR_VERIFY && hit == NULL && err.msg[0] != '\0');
        FUZZ_CHECK(e->duplicate || e->symlink || e->directory);
        return;
    }
    FUZZ_CHECK(hit == e && !e->duplicate && !e->symlink && !e->directory);
    FUZZ_CHECK(buf_puts(&out, "x") == 0);
    err_clear(&err);
    rc = zipread_read_all(&out, zr, e->name, READ_ALL_CAP, &err);
    if (rc < 0) {
        FUZZ_CHECK(err.msg[0] != '\0');
        FUZZ_CHECK(out.len == 1 && out.data[1] == '\0');
    } else {
        FUZZ_CHECK(out.len - 1 == e->size && out.len - 1 <= READ_ALL_CAP);
    }
    buf_release(&out);
    check_stream(zr, e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct zipread *zr = NULL;
    struct err err = ERR_INIT;
    size_t n;
    int rc;

    mem_init();
    if (put_input(data, size) < 0)
        return 0;
    rc = zipread_open(&zr, path, &err);
    if (rc < 0) {
        FUZZ_CHECK(zr == NULL && err.code == rc && err.msg[0] != '\0');
        FUZZ_CHECK(rc == ERR_VERIFY || rc == ERR_LIMIT || rc == ERR_IO ||
                   rc == ERR_NOMEM);
        return 0;
    }
    n = zipread_count(zr);
    FUZZ_CHECK(n <= ZIPREAD_MAX_ENTRIES);
    FUZZ_CHECK(zipread_entry_at(zr, n) == NULL);
    for (size_t i = 0; i < n; i++) {
        const struct zipread_entry *e = zipread_entry_at(zr, i);

        FUZZ_CHECK(e && e->name);
        FUZZ_CHECK(e->method == ZIPREAD_STORED ||
                   e->method == ZIPREAD_DEFLATE);
        FUZZ_CHECK(e->data_offset >= e->header_offset &&
                   e->data_offset + e->comp_size <= (uint64_t)size);
        check_entry(zr, e);
    }
    zipread_free(zr);
    return 0;
}
