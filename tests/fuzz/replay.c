/* SPDX-License-Identifier: MPL-2.0 */
/*
 * replay: the main() that turns any fuzz harness of tests/fuzz into a plain
 * test program, so the committed corpus runs under ctest with gcc (and
 * under ASan+UBSan in CI) without clang or libFuzzer. Each argument is a
 * file or a directory; directories are walked recursively in name order
 * (hidden entries skipped) and every regular file is read into a buffer of
 * exactly its size and handed to LLVMFuzzerTestOneInput. Fails when an
 * argument cannot be read or no input was found at all, so a missing
 * corpus is a failure, not a silent pass. Single-threaded.
 */
#include "tests/fuzz/fuzz.h"

#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>

#include "common/buf.h"

/* Defined by harnesses that need one-time setup; optional. */
#pragma weak LLVMFuzzerInitialize

static int run_file(const char *path, size_t *count)
{
    FILE *f = fopen(path, "rb");
    uint8_t *data = NULL;
    struct stat st;
    size_t size;
    int rc = -1;

    if (!f || fstat(fileno(f), &st) < 0) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        goto out;
    }
    size = (size_t)st.st_size;
    /* Exactly size bytes (1 for an empty file), so over-reads are caught. */
    data = mem_alloc(size ? size : 1);
    if (!data || fread(data, 1, size, f) != size) {
        fprintf(stderr, "replay: %s: cannot read\n", path);
        goto out;
    }
    LLVMFuzzerTestOneInput(data, size);
    (*count)++;
    rc = 0;
out:
    mem_free(data);
    if (f)
        fclose(f);
    return rc;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Names in dir (hidden ones skipped), sorted; mem_* owned. */
static int list_dir(char ***out, size_t *n, const char *path)
{
    DIR *d = opendir(path);
    struct dirent *e;
    char **v = NULL;
    size_t cap = 0;
    int rc = 0;

    *out = NULL;
    *n = 0;
    if (!d) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        return -1;
    }
    while (rc == 0 && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        if (*n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            char **nv = mem_realloc(v, ncap * sizeof(*v));

            if (!nv) {
                rc = -1;
                break;
            }
            v = nv;
            cap = ncap;
        }
        v[*n] = mem_strdup(e->d_name);
        if (!v[*n])
            rc = -1;
        else
            (*n)++;
    }
    closedir(d);
    if (*n > 1)
        qsort(v, *n, sizeof(*v), by_name);
    *out = v;
    return rc;
}

static int run_path(const char *path, size_t *count)
{
    char **names = NULL;
    struct stat st;
    size_t n = 0;
    int rc;

    if (stat(path, &st) < 0) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode))
        return S_ISREG(st.st_mode) ? run_file(path, count) : 0;
    rc = list_dir(&names, &n, path);
    for (size_t i = 0; i < n; i++) {
        struct buf sub = BUF_INIT;

        if (rc == 0) {
            if (buf_printf(&sub, "%s/%s", path, names[i]) < 0)
                rc = -1;
            else
                rc = run_path(sub.data, count);
        }
        buf_release(&sub);
        mem_free(names[i]);
    }
    mem_free(names);
    return rc;
}

int main(int argc, char **argv)
{
    size_t count = 0;

    mem_init();
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
        return 2;
    }
    if (LLVMFuzzerInitialize)
        LLVMFuzzerInitialize(&argc, &argv);
    for (int i = 1; i < argc; i++)
        if (run_path(argv[i], &count) < 0)
            return 1;
    if (count == 0) {
        fprintf(stderr, "replay: no inputs under the given paths\n");
        return 1;
    }
    printf("replay: %zu inputs ran\n", count);
    return 0;
}
