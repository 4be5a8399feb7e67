/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Unit tests for common/zipread: the real tufaceous zip reads back with
 * correct CRCs and hashes; malformed zips, built here with libzip's writer
 * and byte surgery in a private temp directory, are refused by the check
 * that names their defect.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <zip.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/mem.h"
#include "common/sha256.h"
#include "common/zipread.h"
#include "tests/support/testutil.h"

struct fx {
    char dir[64];
    char path[128];
};

struct ent {
    const char *name;
    const void *data;
    size_t len;
    int method;
};

static int setup(void **state)
{
    struct fx *f = mem_calloc(1, sizeof(*f));

    if (!f)
        return -1;
    snprintf(f->dir, sizeof(f->dir), "/tmp/test_zipread.XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof(f->path), "%s/t.zip", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;

    unlink(f->path);
    rmdir(f->dir);
    mem_free(f);
    return 0;
}

/* Write a zip with libzip; attrs (Unix mode) applied to entry attr_idx. */
static void make_zip(const char *path, const struct ent *e, size_t n,
                     const char *comment, int attr_idx, uint32_t mode)
{
    int zerr = 0;
    zip_t *za = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &zerr);

    assert_non_null(za);
    for (size_t i = 0; i < n; i++) {
        zip_source_t *src = zip_source_buffer(za, e[i].data, e[i].len, 0);
        zip_int64_t idx;

        assert_non_null(src);
        idx = zip_file_add(za, e[i].name, src, ZIP_FL_ENC_UTF_8);
        assert_true(idx >= 0);
        assert_int_equal(zip_set_file_compression(za, (zip_uint64_t)idx,
                                                  e[i].method, 0),
                         0);
        if ((int)i == attr_idx)
            assert_int_equal(zip_file_set_external_attributes(
                                 za, (zip_uint64_t)idx, 0, ZIP_OPSYS_UNIX,
                                 mode << 16),
                             0);
    }
    if (comment)
        assert_int_equal(zip_set_archive_comment(za, comment,
                                                 (zip_uint16_t)strlen(comment)),
                         0);
    assert_int_equal(zip_close(za), 0);
}

static void patch(const char *path, uint64_t off, const void *b, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT, 0644);

    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, b, n, (off_t)off), (ssize_t)n);
    close(fd);
}

static void pread_at(const char *path, uint64_t off, void *b, size_t n)
{
    int fd = open(path, O_RDONLY);

    assert_true(fd >= 0);
    assert_int_equal(pread(fd, b, n, (off_t)off), (ssize_t)n);
    close(fd);
}

static void put_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void open_fails(const char *path, int code, const char *needle)
{
    struct zipread *zr = (struct zipread *)1;
    struct err e = ERR_INIT;

    assert_int_equal(zipread_open(&zr, path, &e), code);
    assert_null(zr);
    if (!strstr(e.msg, needle))
        fail_msg("message \"%s\" lacks \"%s\"", e.msg, needle);
}

static const struct zipread_entry *entry_named(struct zipread *zr,
                                               const char *name)
{
    for (size_t i = 0; i < zipread_count(zr); i++)
        if (strcmp(zipread_entry_at(zr, i)->name, name) == 0)
            return zipread_entry_at(zr, i);
    fail_msg("no entry %s", name);
    return NULL;
}

static const char A[] = "alpha alpha alpha alpha alpha";
static const char B[] = "bravo bravo bravo bravo bravo";

static void test_zipread__tufaceous_zip(void **state)
{
    const char *vec = getenv("TUF_VECTORS_DIR");
    char path[512];
    struct zipread *zr = NULL;
    struct err e = ERR_INIT;
    size_t targets = 0;

    (void)state;
    snprintf(path, sizeof(path), "%s/tufaceous-v1-fake/zip/v1-fake.zip",
             vec ? vec : "/nonexistent");
    if (access(path, R_OK) != 0) {
        TESTUTIL_SKIP("%s absent (set TUF_VECTORS_DIR)", path);
    }
    assert_int_equal(zipread_open(&zr, path, &e), 0);
    assert_int_equal(zipread_count(zr), 19);
    for (size_t i = 0; i < zipread_count(zr); i++) {
        const struct zipread_entry *z = zipread_entry_at(zr, i);
        struct buf b = BUF_INIT;
        struct sha256 h;
        char hex[SHA256_HEX_LEN + 1];

        assert_int_equal(z->method, ZIPREAD_STORED);
        assert_false(z->duplicate || z->symlink || z->directory);
        assert_int_equal(zipread_read_all(&b, zr, z->name, z->size, &e), 0);
        assert_int_equal(b.len, z->size);
        /* Consistent-snapshot target names start with their sha256. */
        if (strncmp(z->name, "repo/targets/", 13) == 0) {
            assert_int_equal(sha256_digest(&h, b.data, b.len), 0);
            sha256_to_hex(hex, &h);
            assert_memory_equal(z->name + 13, hex, SHA256_HEX_LEN);
            targets++;
        }
        buf_release(&b);
    }
    assert_int_equal(targets, 15);
    zipread_free(zr);
}

static void test_zipread__roundtrip_and_cap(void **state)
{
    struct fx *f = *state;
    static char big[200000];
    struct ent ents[] = {{"repo/a.txt", A, sizeof(A), ZIP_CM_STORE},
                         {"repo/big.bin", big, sizeof(big), ZIP_CM_DEFLATE}};
    struct zipread *zr = NULL;
    struct zipread_stream *s = NULL;
    struct err e = ERR_INIT;
    struct buf b = BUF_INIT;
    const struct zipread_entry *z;

    (void)state;
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (char)(i * 7 % 251);
    make_zip(f->path, ents, 2, NULL, -1, 0);
    assert_int_equal(zipread_open(&zr, f->path, &e), 0);
    z = entry_named(zr, "repo/big.bin");
    assert_int_equal(z->method, ZIPREAD_DEFLATE);
    assert_int_equal(z->size, sizeof(big));
    assert_true(z->comp_size < sizeof(big));
    assert_int_equal(zipread_read_all(&b, zr, "repo/big.bin", sizeof(big), &e),
                     0);
    assert_memory_equal(b.data, big, sizeof(big));
    buf_reset(&b);
    /* One byte under the signed length: refused before any data flows. */
    assert_int_equal(zipread_read_all(&b, zr, "repo/big.bin",
                                      sizeof(big) - 1, &e),
                     ERR_LIMIT);
    assert_non_null(strstr(e.msg, "over the cap of 199999"));
    assert_int_equal(b.len, 0);
    assert_int_equal(zipread_stream_open(&s, zr, "repo/a.txt", 10, &e),
                     ERR_LIMIT);
    assert_null(s);
    /* Absent and unsafe names. */
    assert_int_equal(zipread_find(&z, zr, "repo/none", &e), ERR_NOTFOUND);
    assert_non_null(strstr(e.msg, "no entry repo/none"));
    assert_int_equal(zipread_find(&z, zr, "/repo/a.txt", &e), ERR_INVAL);
    assert_non_null(strstr(e.msg, "leading '/'"));
    assert_int_equal(zipread_find(&z, zr, "repo\\a.txt", &e), ERR_INVAL);
    assert_non_null(strstr(e.msg, "backslash"));
    assert_int_equal(zipread_find(&z, zr, "repo//a.txt", &e), ERR_INVAL);
    assert_non_null(strstr(e.msg, "empty segment"));
    buf_release(&b);
    zipread_free(zr);
}

static void test_zipread__archive_comment(void **state)
{
    struct fx *f = *state;
    struct ent ents[] = {{"a", A, sizeof(A), ZIP_CM_STORE}};

    make_zip(f->path, ents, 1, "hello", -1, 0);
    open_fails(f->path, ERR_VERIFY, "archive comment (5 bytes)");
}

static void test_zipread__trailing_bytes(void **state)
{
    struct fx *f = *state;
    struct ent ents[] = {{"a", A, sizeof(A), ZIP_CM_STORE}};
    struct stat st;

    make_zip(f->path, ents, 1, NULL, -1, 0);
    assert_int_equal(stat(f->path, &st), 0);
    patch(f->path, (uint64_t)st.st_size, "JUNK!!!", 7);
    open_fails(f->path, ERR_VERIFY, "7 bytes of trailing data");
}

static void test_zipread__duplicate_names(void **state)
{
    struct fx *f = *state;
    struct ent ents[] = {{"repo/a.txt", A, sizeof(A), ZIP_CM_STORE},
                         {"repo/b.txt", B, sizeof(B), ZIP_CM_STORE}};
    struct zipread *zr = NULL;
    struct err e = ERR_INIT;
    const struct zipread_entry *z = NULL, *b;
    uint64_t loc, cen;

    make_zip(f->path, ents, 2, NULL, -1, 0);
    assert_int_equal(zipread_open(&zr, f->path, &e), 0);
    b = entry_named(zr, "repo/b.txt");
    loc = b->header_offset;
    cen = b->central_offset;
    zipread_free(zr);
    patch(f->path, loc + 30, "repo/a.txt", 10);
    patch(f->path, cen + 46, "repo/a.txt", 10);
    assert_int_equal(zipread_open(&zr, f->path, &e), 0);
    assert_true(zipread_entry_at(zr, 0)->duplicate);
    assert_true(zipread_entry_at(zr, 1)->duplicate);
    assert_int_equal(zipread_find(&z, zr, "repo/a.txt", &e), ERR_VERIFY);
    assert_non_null(strstr(e.msg, "duplicate entry repo/a.txt"));
    assert_null(z);
    zipread_free(zr);
}

static void test_zipread__symlink_entry(void **state)
{
    struct fx *f = *state;
    struct ent ents[] = {{"repo/a.txt", A, sizeof(A), ZIP_CM_STORE},
                         {"repo/link", "/etc/passwd", 11, ZIP_CM_STORE}};
    struct zipread *zr = NULL;
    struct zipread_stream *s = NULL;
    struct err e = ERR_INIT;

    make_zip(f->path, ents, 2, NULL, 1, S_IFLNK | 0777);
    assert_int_equal(zipread_open(&zr, f->path, &e), 0);
    assert_true(entry_named(zr, "repo/link")->symlink);
    assert_false(entry_named(zr, "repo/a.txt")->symlink);
    assert_int_equal(zipread_stream_open(&s, zr, "repo/link", 100, &e),
                     ERR_VERIFY);
    assert_non_null(strstr(e.msg, "repo/link is a symlink entry"));
    zipread_free(zr);
}

static void test_zipread__directory_entry(void **state)
{
    struct fx *f = *state;
    struct ent ents[] = {{"repo/d", "", 0, ZIP_CM_STORE}};
    struct zipread *zr = NULL;
    struct err e = ERR_INIT;
    const struct zipread_entry *z;
    zip_t *za;
    int zerr = 0;

    make_zip(f->path, ents, 1, NULL, 0, S_IFDIR | 0755);
    za = zip_open(f->path, 0, &zerr);
    assert_non_null(za);
    assert_true(zip_dir_add(za, "repo/sub", ZIP_FL_ENC_UTF_8) >= 0);
    assert_int_equal(zip_close(za), 0);
    assert_int_equal(zipread_open(&zr, f->path, &e), 0);
    assert_true(entry_named(zr, "repo/sub/")->directory);
    assert_int_equal(zipread_find(&z, zr, "repo/d", &e), ERR_VERIFY);
    assert_non_null(strstr(e.msg, "repo/d is a directory entry"));
    assert_int_equal(zipread_find(&z, zr, "repo/sub/", &e), ERR_INVAL);
    zipread_free(zr);
}

static void test_zipread__flipped_byte_crc(void **state)
{
    struct fx *f = *state;
    static char data[100000];
    struct ent ents[] = {{"repo/t.bin", data, sizeof(data), ZIP_CM_STORE}};
    struct zipread *zr = NULL;
    struct zipread_stream *s = NULL;
    struct err e = ERR_INIT;
    struct buf b = BUF_INIT;
    uint8_t c;
    uint64_t off;
    size_t got = 0, total = 0;
    int rc = 0;

    memset(data, 'x', sizeof(data));
    make_zip(f->path, ents, 1, NULL, -1, 0);
    assert_int_equal(zipread_open(&zr, f->path, &e), 0);
    off = zipread_entry_at(zr, 0)->data_offset + 50000;
    zipread_free(zr);
    pread_at(f->path, off, &c, 1);
    assert_int_equal(c, 'x');
    c ^= 0x01;
    patch(f->path, off, &c, 1);
    assert_int_equal(zipread_open(&zr, f->path, &e), 0);
    assert_int_equal(zipread_read_all(&b, zr, "repo/t.bin", sizeof(data), &e),
                     ERR_VERIFY);
    assert_non_null(strstr(e.msg, "CRC mismatch"));
    assert_int_equal(b.len, 0);
    /* A reader that stops after exactly the declared bytes still fails. */
    assert_int_equal(zipread_stream_open(&s, zr, "repo/t.bin", sizeof(data),
                                         &e),
                     0);
    err_clear(&e);
    while (total < sizeof(data)) {
        rc = zipread_stream_read(&got, s, data, sizeof(data) - total, &e);
        if (rc < 0)
            break;
        assert_true(got > 0);
        total += got;
    }
    assert_int_equal(rc, ERR_VERIFY);
    assert_non_null(strstr(e.msg, "CRC mismatch"));
    zipread_stream_close(s);
    buf_release(&b);
    zipread_free(zr);
}

static void test_zipread__dotdot_name(void **state)
{
    struct fx *f = *state;
    struct ent ents[] = {{"repo/../evil", A, sizeof(A), ZIP_CM_STORE}};
    struct zipread *zr = NULL;
    struct err e = ERR_INIT;
    struct buf b = BUF_INIT;

    make_zip(f->path, ents, 1, NULL, -1, 0);
    assert_int_equal(zipread_open(&zr, f->path, &e), 0);
    assert_int_equal(zipread_read_all(&b, zr, "repo/../evil", 100, &e),
                     ERR_INVAL);
    assert_non_null(strstr(e.msg, "'..' segment"));
    zipread_free(zr);
}

static void test_zipread__overlapping_entries(void **state)
{
    struct fx *f = *state;
    struct ent ents[] = {{"repo/a.txt", A, sizeof(A), ZIP_CM_STORE},
                         {"repo/b.txt", B, sizeof(B), ZIP_CM_STORE}};
    struct zipread *zr = NULL;
    struct err e = ERR_INIT;
    uint64_t a_off, b_cen;
    uint8_t le[4];

    make_zip(f->path, ents, 2, NULL, -1, 0);
    assert_int_equal(zipread_open(&zr, f->path, &e), 0);
    a_off = entry_named(zr, "repo/a.txt")->header_offset;
    b_cen = entry_named(zr, "repo/b.txt")->central_offset;
    zipread_free(zr);
    /* b's central record now points at a's local header and data. */
    put_le32(le, (uint32_t)a_off);
    patch(f->path, b_cen + 42, le, 4);
    open_fails(f->path, ERR_VERIFY, "overlap");
}

static void test_zipread__local_name_and_count(void **state)
{
    struct fx *f = *state;
    struct ent ents[] = {{"repo/a.txt", A, sizeof(A), ZIP_CM_STORE},
                         {"repo/b.txt", B, sizeof(B), ZIP_CM_STORE}};
    struct zipread *zr = NULL;
    struct err e = ERR_INIT;
    uint64_t loc, cen;
    struct stat st;
    uint8_t two[2] = {3, 0}, m[2] = {12, 0};

    make_zip(f->path, ents, 2, NULL, -1, 0);
    assert_int_equal(zipread_open(&zr, f->path, &e), 0);
    loc = entry_named(zr, "repo/b.txt")->header_offset;
    cen = entry_named(zr, "repo/b.txt")->central_offset;
    zipread_free(zr);
    assert_int_equal(stat(f->path, &st), 0);
    /* EOCD claims 3 entries. */
    patch(f->path, (uint64_t)st.st_size - 22 + 8, two, 2);
    patch(f->path, (uint64_t)st.st_size - 22 + 10, two, 2);
    open_fails(f->path, ERR_VERIFY, "entry count mismatch");
    two[0] = 2;
    patch(f->path, (uint64_t)st.st_size - 22 + 8, two, 2);
    patch(f->path, (uint64_t)st.st_size - 22 + 10, two, 2);
    assert_int_equal(zipread_open(&zr, f->path, &e), 0);
    zipread_free(zr);
    /* Local header says another name. */
    patch(f->path, loc + 30, "repo/c", 6);
    open_fails(f->path, ERR_VERIFY, "local header name differs");
    patch(f->path, loc + 30, "repo/b", 6);
    /* Unsupported method (bzip2). */
    patch(f->path, cen + 10, m, 2);
    open_fails(f->path, ERR_VERIFY, "compression method 12");
}

static void test_zipread__lying_size(void **state)
{
    struct fx *f = *state;
    static char data[50000];
    struct ent ents[] = {{"repo/t.bin", data, sizeof(data), ZIP_CM_DEFLATE}};
    struct zipread *zr = NULL;
    struct err e = ERR_INIT;
    struct buf b = BUF_INIT;
    uint64_t loc, cen;
    uint8_t le[4];

    memset(data, 'z', sizeof(data));
    make_zip(f->path, ents, 1, NULL, -1, 0);
    assert_int_equal(zipread_open(&zr, f->path, &e), 0);
    loc = zipread_entry_at(zr, 0)->header_offset;
    cen = zipread_entry_at(zr, 0)->central_offset;
    zipread_free(zr);
    /* Both headers claim 100 bytes: a deflate bomb in miniature. */
    put_le32(le, 100);
    patch(f->path, loc + 22, le, 4);
    patch(f->path, cen + 24, le, 4);
    assert_int_equal(zipread_open(&zr, f->path, &e), 0);
    assert_int_equal(zipread_read_all(&b, zr, "repo/t.bin", 100, &e),
                     ERR_VERIFY);
    assert_true(strstr(e.msg, "CRC mismatch") != NULL ||
                strstr(e.msg, "declared") != NULL);
    assert_int_equal(b.len, 0);
    buf_release(&b);
    zipread_free(zr);
}

static void test_zipread__truncated(void **state)
{
    struct fx *f = *state;
    struct ent ents[] = {{"a", A, sizeof(A), ZIP_CM_STORE},
                         {"b", B, sizeof(B), ZIP_CM_STORE}};
    struct stat st;

    make_zip(f->path, ents, 2, NULL, -1, 0);
    assert_int_equal(stat(f->path, &st), 0);
    assert_int_equal(truncate(f->path, st.st_size - 30), 0);
    open_fails(f->path, ERR_VERIFY, "truncated");
}

static void test_zipread__not_a_zip(void **state)
{
    struct fx *f = *state;
    static const char text[] = "this is not a zip file, just some text\n";
    struct zipread *zr = NULL;
    struct err e = ERR_INIT;

    patch(f->path, 0, text, sizeof(text) - 1);
    open_fails(f->path, ERR_VERIFY, "not a zip file");
    assert_int_equal(truncate(f->path, 5), 0);
    open_fails(f->path, ERR_VERIFY, "too short");
    assert_int_equal(zipread_open(&zr, "/nonexistent/x.zip", &e), ERR_IO);
    assert_non_null(strstr(e.msg, "No such file"));
}

static void test_zipread__zip64(void **state)
{
    struct fx *f = *state;
    struct zipread *zr = NULL;
    struct err e = ERR_INIT;
    struct buf b = BUF_INIT;
    char name[32];
    int zerr = 0;
    zip_t *za = zip_open(f->path, ZIP_CREATE | ZIP_TRUNCATE, &zerr);
    uint8_t tail[20];
    struct stat st;

    /* 65536 entries (over 16 bits) force the zip64 EOCD records. */
    assert_non_null(za);
    for (unsigned i = 0; i < 0x10000; i++) {
        zip_source_t *src = zip_source_buffer(za, A, i == 77 ? sizeof(A) : 0,
                                              0);
        zip_int64_t idx;

        snprintf(name, sizeof(name), "repo/e%u", i);
        idx = zip_file_add(za, name, src, 0);
        assert_true(idx >= 0);
        zip_set_file_compression(za, (zip_uint64_t)idx, ZIP_CM_STORE, 0);
    }
    assert_int_equal(zip_close(za), 0);
    assert_int_equal(stat(f->path, &st), 0);
    pread_at(f->path, (uint64_t)st.st_size - 22 - 20, tail, 4);
    assert_memory_equal(tail, "PK\x06\x07", 4);
    assert_int_equal(zipread_open(&zr, f->path, &e), 0);
    assert_int_equal(zipread_count(zr), 0x10000);
    assert_int_equal(zipread_read_all(&b, zr, "repo/e77", 100, &e), 0);
    assert_string_equal(b.data, A);
    zipread_free(zr);
    buf_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_zipread__tufaceous_zip),
        cmocka_unit_test_setup_teardown(test_zipread__roundtrip_and_cap, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_zipread__archive_comment, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_zipread__trailing_bytes, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_zipread__duplicate_names, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_zipread__symlink_entry, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_zipread__directory_entry, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_zipread__flipped_byte_crc, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_zipread__dotdot_name, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_zipread__overlapping_entries,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_zipread__local_name_and_count,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_zipread__lying_size, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_zipread__truncated, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_zipread__not_a_zip, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_zipread__zip64, setup, teardown),
    };

    mem_init();
    return testutil_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
