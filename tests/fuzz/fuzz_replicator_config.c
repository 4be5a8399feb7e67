/* SPDX-License-Identifier: MPL-2.0 */
/*
 * fuzz_replicator_config: harness for the config file of `replicator
 * serve` (replicator/config.c, config_parse with --config FILE). The
 * parser reads a path, so each input is written to one memfd reopened
 * through /proc/self/fd. Properties: a refusal carries a message; an
 * accepted config has a db and a staging directory, a listen host, workers
 * in 1..64, min_sled_replication in 1..LIMIT_SLEDS_PER_RACK and
 * max_upload_bytes in 1..LIMIT_REPO_ZIP; flags given after the file win
 * over it. config_release frees everything on every path (LSan checks).
 * Single-threaded.
 */
#include "tests/fuzz/fuzz.h"

#include <sys/mman.h>
#include <unistd.h>

#include "common/err.h"
#include "common/limits.h"
#include "replicator/config.h"

static int memfd = -1;
static char path[64];

static int put_input(const uint8_t *data, size_t size)
{
    size_t done = 0;

    if (memfd < 0) {
        memfd = memfd_create("fuzz_replicator_config", MFD_CLOEXEC);
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

static void check(struct config *c, int rc, const struct err *err)
{
    if (rc < 0) {
        FUZZ_CHECK(err->msg[0] != '\0');
        return;
    }
    FUZZ_CHECK(rc == 0);
    FUZZ_CHECK(c->db && c->staging && c->listen_host);
    FUZZ_CHECK(c->workers >= 1 && c->workers <= 64);
    FUZZ_CHECK(c->min_sled_replication >= 1 &&
               c->min_sled_replication <= LIMIT_SLEDS_PER_RACK);
    FUZZ_CHECK(c->max_upload_bytes >= 1 &&
               c->max_upload_bytes <= LIMIT_REPO_ZIP);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *file_only[] = {"serve", "--config", path, NULL};
    char *with_flags[] = {"serve", "--config", path, "--db", "flag-db",
                          "--staging", "/flag", "--workers", "7", NULL};
    struct config c;
    struct err err = ERR_INIT;
    int rc;

    mem_init();
    if (put_input(data, size) < 0)
        return 0;
    rc = config_parse(&c, 3, file_only, &err);
    check(&c, rc, &err);
    config_release(&c);

    err_clear(&err);
    rc = config_parse(&c, 9, with_flags, &err);
    check(&c, rc, &err);
    if (rc == 0)
        FUZZ_CHECK(strcmp(c.db, "flag-db") == 0 &&
                   strcmp(c.staging, "/flag") == 0 && c.workers == 7);
    config_release(&c);
    return 0;
}
