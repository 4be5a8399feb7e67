/* SPDX-License-Identifier: MPL-2.0 */
/*
 * fuzz_staging_manifest: harness for the replicator's staged-repository
 * manifest (replicator/staging.c, read by staging_list). One staging
 * directory in $TMPDIR for the whole run holds one staged repository;
 * each input becomes its manifest.json and staging_list reads it.
 * Properties: staging_list itself succeeds (a bad manifest only skips its
 * repository); it lists at most that one repository, and a listed one has
 * a NUL-terminated repo_id under 40 bytes, a system_version, and every
 * artifact has name, version, kind and path. Single-threaded.
 */
#include "tests/fuzz/fuzz.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/log.h"
#include "replicator/staging.h"

static struct staging *st;
static struct buf manifest = BUF_INIT;
static char root[256];

static void cleanup(void)
{
    staging_free(st);
    st = NULL;
    if (root[0])
        staging_rmrf(root);
    buf_release(&manifest);
}

static int setup(void)
{
    const char *tmp = getenv("TMPDIR");
    struct buf repo = BUF_INIT;
    struct err err = ERR_INIT;
    int rc;

    log_init("fuzz", LOG_ERROR, 2);
    snprintf(root, sizeof(root), "%s/fuzz_staging.XXXXXX",
             tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(root)) {
        root[0] = '\0';
        return -1;
    }
    atexit(cleanup);
    rc = staging_open(&st, root, &err);
    if (rc == 0)
        rc = buf_printf(&repo, "%s/repos/0123abcd-ef", root);
    if (rc == 0 && mkdir(repo.data, 0700) < 0)
        rc = -1;
    if (rc == 0)
        rc = buf_printf(&manifest, "%s/manifest.json", repo.data);
    buf_release(&repo);
    if (rc < 0)
        fprintf(stderr, "fuzz_staging_manifest: setup failed: %s\n", err.msg);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    struct staging_repo *repos = NULL;
    struct err err = ERR_INIT;
    size_t count = 0;
    int fd;

    mem_init();
    if (!ready)
        ready = setup() == 0 ? 1 : -1;
    if (ready < 0)
        return 0;
    fd = open(manifest.data, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return 0;
    if (size && write(fd, data, size) != (ssize_t)size) {
        close(fd);
        return 0;
    }
    close(fd);
    FUZZ_CHECK(staging_list(&repos, &count, st, &err) == 0);
    FUZZ_CHECK(count <= 1);
    for (size_t i = 0; i < count; i++) {
        const struct staging_repo *r = &repos[i];

        FUZZ_CHECK(memchr(r->repo_id, '\0', sizeof(r->repo_id)) != NULL);
        FUZZ_CHECK(r->system_version != NULL);
        for (size_t j = 0; j < r->nartifacts; j++)
            FUZZ_CHECK(r->artifacts[j].name && r->artifacts[j].version &&
                       r->artifacts[j].kind && r->artifacts[j].path);
    }
    staging_list_free(repos, count);
    return 0;
}
