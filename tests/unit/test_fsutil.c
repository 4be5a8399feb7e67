/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Unit tests of common/fsutil: atomic replacement never exposes a partial
 * file (a reader racing a writer, and a writer killed mid-way, see only
 * the old or the new content), errors name the path concerned, mkdir -p,
 * rm -rf (symbolic links not followed) and capped whole-file reads. Each
 * test works in its own temporary directory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/fsutil.h"
#include "common/mem.h"
#include "tests/support/testutil.h"

#define BIG (256u * 1024)

static int setup(void **state)
{
    char *dir = NULL;

    mem_init();
    if (testutil_tmpdir(&dir, "fsutil") < 0)
        return -1;
    *state = dir;
    return 0;
}

static int teardown(void **state)
{
    char *dir = *state;

    testutil_rmrf(dir);
    mem_free(dir);
    return 0;
}

/* The whole content of path, which must exist. */
static void read_all(struct buf *out, const char *path)
{
    struct err e = ERR_INIT;

    buf_reset(out);
    if (fsutil_read_file(out, path, 4 * BIG, &e) < 0)
        fail_msg("read %s: %s", path, e.msg);
}

/* out holds len copies of one byte, either a or b. */
static void assert_whole(const struct buf *b, char a, char c, size_t len)
{
    assert_int_equal(b->len, len);
    assert_true(b->data[0] == a || b->data[0] == c);
    for (size_t i = 1; i < len; i++)
        if (b->data[i] != b->data[0])
            fail_msg("mixed content at byte %zu", i);
}

static void test_fsutil__write_atomic_replaces(void **state)
{
    char *path = testutil_join(*state, "f.json");
    struct err e = ERR_INIT;
    struct buf b = BUF_INIT;

    assert_int_equal(fsutil_write_atomic(path, NULL, "old", 3, 0644, &e), 0);
    read_all(&b, path);
    assert_string_equal(b.data, "old");
    assert_int_equal(fsutil_write_atomic(path, NULL, "new!", 4, 0644, &e), 0);
    read_all(&b, path);
    assert_string_equal(b.data, "new!");
    /* the temp file was renamed: only f.json is left */
    assert_int_equal(testutil_dir_count(*state), 1);
    buf_release(&b);
    mem_free(path);
}

/* Rewrite path with BIG bytes of 'a', then of 'b', ... until killed. */
static void writer_loop(const char *path)
{
    char *data = mem_alloc(BIG);

    if (!data)
        _exit(1);
    for (unsigned i = 0;; i++) {
        memset(data, i % 2 ? 'b' : 'a', BIG);
        if (fsutil_write_atomic(path, NULL, data, BIG, 0644, NULL) < 0)
            _exit(1);
    }
}

static void test_fsutil__write_atomic_never_partial(void **state)
{
    char *path = testutil_join(*state, "big");
    char *data = mem_alloc(BIG);
    struct err e = ERR_INIT;
    struct buf b = BUF_INIT;
    int status = 0;
    pid_t pid;

    assert_non_null(data);
    memset(data, 'a', BIG);
    assert_int_equal(fsutil_write_atomic(path, NULL, data, BIG, 0644, &e), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        writer_loop(path);
    /* a reader racing the writer sees one whole version each time */
    for (int i = 0; i < 200; i++) {
        read_all(&b, path);
        assert_whole(&b, 'a', 'b', BIG);
    }
    /* a writer killed at any point leaves one whole version too */
    assert_int_equal(kill(pid, SIGKILL), 0);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    read_all(&b, path);
    assert_whole(&b, 'a', 'b', BIG);
    buf_release(&b);
    mem_free(data);
    mem_free(path);
}

static void test_fsutil__write_atomic_errors_name_path(void **state)
{
    char *missing = testutil_join(*state, "no/such/f");
    char *dir = testutil_join(*state, "d");
    char *tmp = testutil_join(*state, "d.tmp");
    char *file = testutil_join(*state, "keep");
    char *inner = testutil_join(*state, "d/inner");
    struct err e = ERR_INIT;
    struct buf b = BUF_INIT;

    /* the temp file cannot be created: the message names it */
    assert_int_equal(fsutil_write_atomic(missing, NULL, "x", 1, 0644, &e),
                     ERR_IO);
    assert_non_null(strstr(e.msg, "create "));
    assert_non_null(strstr(e.msg, missing));
    /* the rename fails (a directory is in the way): the message names the
     * target, the temp file is removed, the directory is untouched */
    assert_int_equal(mkdir(dir, 0755), 0);
    assert_int_equal(testutil_write_file(inner, "i", 1), 0);
    err_clear(&e);
    assert_int_equal(fsutil_write_atomic(dir, tmp, "x", 1, 0644, &e), ERR_IO);
    assert_non_null(strstr(e.msg, "rename "));
    assert_non_null(strstr(e.msg, dir));
    assert_false(testutil_exists(tmp));
    assert_true(testutil_exists(dir));
    /* a failed replacement leaves the old content in place */
    assert_int_equal(fsutil_write_atomic(file, NULL, "old", 3, 0644, &e), 0);
    err_clear(&e);
    assert_int_equal(fsutil_write_atomic(file, missing, "new", 3, 0644, &e),
                     ERR_IO);
    read_all(&b, file);
    assert_string_equal(b.data, "old");
    /* fsync of a missing directory */
    err_clear(&e);
    assert_int_equal(fsutil_fsync_dir(missing, &e), ERR_IO);
    assert_non_null(strstr(e.msg, missing));
    assert_int_equal(fsutil_fsync_dir(*state, &e), 0);
    buf_release(&b);
    mem_free(missing);
    mem_free(dir);
    mem_free(tmp);
    mem_free(file);
    mem_free(inner);
}

static void test_fsutil__mkdir_p_and_rmrf(void **state)
{
    char *deep = testutil_join(*state, "a/b/c");
    char *top = testutil_join(*state, "a");
    char *file = testutil_join(*state, "a/b/c/f");
    char *under = testutil_join(*state, "a/b/c/f/g");
    char *outside = testutil_join(*state, "outside");
    char *link = testutil_join(*state, "a/b/link");
    struct err e = ERR_INIT;

    assert_int_equal(fsutil_mkdir_p(deep, 0755, &e), 0);
    assert_int_equal(fsutil_mkdir_p(deep, 0755, &e), 0); /* exists: fine */
    assert_int_equal(fsutil_mkdir_p("", 0755, &e), ERR_INVAL);
    assert_int_equal(fsutil_write_atomic(file, NULL, "f", 1, 0644, &e), 0);
    err_clear(&e);
    assert_int_equal(fsutil_mkdir_p(under, 0755, &e), ERR_IO);
    assert_non_null(strstr(e.msg, "mkdir "));
    assert_non_null(strstr(e.msg, under));
    assert_int_equal(fsutil_write_atomic(outside, NULL, "o", 1, 0644, &e), 0);
    assert_int_equal(symlink(outside, link), 0);
    assert_int_equal(fsutil_rmrf(top), 0);
    assert_false(testutil_exists(top));
    assert_true(testutil_exists(outside)); /* the link was not followed */
    assert_int_equal(fsutil_rmrf(top), 0);  /* already gone */
    assert_int_equal(fsutil_rmrf(outside), 0); /* a plain file */
    assert_false(testutil_exists(outside));
    mem_free(deep);
    mem_free(top);
    mem_free(file);
    mem_free(under);
    mem_free(outside);
    mem_free(link);
}

static void test_fsutil__read_file_cap(void **state)
{
    char *path = testutil_join(*state, "small");
    char *missing = testutil_join(*state, "missing");
    struct err e = ERR_INIT;
    struct buf b = BUF_INIT;

    assert_int_equal(fsutil_write_atomic(path, NULL, "0123456789", 10, 0644,
                                         &e), 0);
    assert_int_equal(fsutil_read_file(&b, path, 10, &e), 0);
    assert_int_equal(b.len, 10);
    assert_string_equal(b.data, "0123456789");
    buf_reset(&b);
    assert_int_equal(fsutil_read_file(&b, path, 9, &e), ERR_LIMIT);
    assert_non_null(strstr(e.msg, path));
    assert_non_null(strstr(e.msg, "larger than 9 bytes"));
    err_clear(&e);
    assert_int_equal(fsutil_read_file(&b, missing, 10, &e), ERR_NOTFOUND);
    assert_non_null(strstr(e.msg, missing));
    buf_release(&b);
    mem_free(path);
    mem_free(missing);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fsutil__write_atomic_replaces,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_fsutil__write_atomic_never_partial, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_fsutil__write_atomic_errors_name_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fsutil__mkdir_p_and_rmrf, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_fsutil__read_file_cap, setup,
                                        teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
