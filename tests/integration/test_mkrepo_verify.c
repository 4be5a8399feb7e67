/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Round trip of sim/tuf-mkrepo through the TUF verifier (common/tuf_*)
 * over a zipread-backed provider: valid repositories verify, targets and
 * the artifacts document load; each --break variant is refused by the
 * check that names its defect.
 */
#include <fcntl.h>
#include <stdbool.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/mem.h"
#include "common/tuf_artifacts.h"
#include "common/tuf_provider.h"
#include "common/tuf_repo.h"
#include "common/tuf_target.h"
#include "common/tuf_verify.h"
#include "common/zipread.h"

struct fx {
    char dir[64];
    char zip[128];
    char root[128];
};

static int setup(void **state)
{
    struct fx *f = mem_calloc(1, sizeof(*f));

    if (!f)
        return -1;
    snprintf(f->dir, sizeof(f->dir), "/tmp/test_mkrepo_verify.XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->zip, sizeof(f->zip), "%s/repo.zip", f->dir);
    snprintf(f->root, sizeof(f->root), "%s/root.json", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;

    unlink(f->zip);
    unlink(f->root);
    rmdir(f->dir);
    mem_free(f);
    return 0;
}

static int mkrepo(const char *zip, const char *root, const char *cs,
                  const char *doc, const char *brk)
{
    const char *bin = getenv("RACKDEPOT_BIN_DIR");
    char path[512];
    char *argv[24] = {path, "--out", (char *)zip, "--system-version", "1.0.0",
                      "--random", "2:30000", "--print-root", (char *)root,
                      "--consistent-snapshot", (char *)cs, "--artifacts-doc",
                      (char *)doc, NULL};
    int status = 0, n = 13;
    pid_t pid;

    snprintf(path, sizeof(path), "%s/tuf-mkrepo", bin ? bin : ".");
    if (brk) {
        argv[n++] = "--break";
        argv[n++] = (char *)brk;
        argv[n] = NULL;
    }
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);

        if (null >= 0)
            dup2(null, 1);
        execv(path, argv);
        _exit(127);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/* A tuf_provider over zipread: repository paths live under "repo/". */
static int name_of(char *out, size_t cap, const char *path, struct err *err)
{
    int n = snprintf(out, cap, "repo/%s", path);

    if (n < 0 || (size_t)n >= cap)
        return err_set(err, ERR_INVAL, "%s: path too long", path);
    return 0;
}

static int refused(int rc)
{
    return rc == ERR_VERIFY ? ERR_INVAL : rc;
}

static int zp_read_file(void *arg, const char *path, size_t cap,
                        struct buf *out, struct err *err)
{
    char name[1024];
    int rc = name_of(name, sizeof(name), path, err);

    return rc < 0 ? rc
                  : refused(zipread_read_all(out, arg, name, cap, err));
}

static int zp_open(void *arg, const char *path, void **out, struct err *err)
{
    char name[1024];
    struct zipread_stream *s = NULL;
    int rc = name_of(name, sizeof(name), path, err);

    if (rc == 0)
        rc = refused(zipread_stream_open(&s, arg, name, UINT64_MAX, err));
    *out = s;
    return rc;
}

static int zp_read(void *arg, void *stream, void *dst, size_t cap, size_t *got,
                   struct err *err)
{
    (void)arg;
    return refused(zipread_stream_read(got, stream, dst, cap, err));
}

static void zp_close(void *arg, void *stream)
{
    (void)arg;
    zipread_stream_close(stream);
}

static const struct tuf_provider_ops zp_ops = {zp_read_file, zp_open, zp_read,
                                               zp_close};

/* Ingest-style load: open, verify, read every target, the artifacts doc. */
static int load_repo(const char *zip, const char *rootfile, bool self_trust,
                     size_t *nart, struct err *err)
{
    struct zipread *zr = NULL;
    struct tuf_repo *repo = NULL;
    struct tuf_artifacts *arts = NULL;
    struct tuf_policy pol = TUF_POLICY_INIT;
    struct tuf_trust_root root;
    struct buf rb = BUF_INIT, path = BUF_INIT;
    struct tuf_provider p;
    FILE *f = fopen(rootfile, "r");
    char chunk[4096];
    size_t n;
    int rc;

    assert_non_null(f);
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        buf_append(&rb, chunk, n);
    fclose(f);
    root.data = rb.data;
    root.len = rb.len;
    pol.enforce_expiry = true;
    pol.now = (int64_t)time(NULL);
    rc = zipread_open(&zr, zip, err);
    if (rc < 0)
        goto out;
    p.ops = &zp_ops;
    p.arg = zr;
    /* self_trust: the repo's own 1.root.json, as tufaceous's
     * --blindly-trust does, so the verifier reads that file. */
    pol.trust_repo_root = self_trust;
    rc = tuf_verify_repo(&repo, &p, &root, self_trust ? 0 : 1, &pol, err);
    if (rc < 0)
        goto out;
    for (size_t i = 0; i < tuf_repo_ntargets(repo); i++) {
        const struct tuf_target *t = tuf_repo_target(repo, i);

        buf_reset(&path);
        rc = tuf_repo_path(&path, repo, t, err);
        if (rc == 0)
            rc = tuf_target_read(&p, path.data, t, NULL, NULL, err);
        if (rc < 0)
            goto out;
    }
    rc = tuf_artifacts_load(&arts, repo, &p, err);
    if (rc == 0)
        *nart = tuf_artifacts_count(arts);
out:
    tuf_artifacts_free(arts);
    tuf_repo_free(repo);
    zipread_free(zr);
    buf_release(&rb);
    buf_release(&path);
    return rc;
}

static void test_mkrepo_verify__valid(void **state)
{
    struct fx *f = *state;
    static const char *const modes[][2] = {
        {"on", "v1"}, {"on", "v2"}, {"off", "v1"}, {"off", "v2"}};

    for (size_t i = 0; i < 4; i++) {
        struct err e = ERR_INIT;
        size_t nart = 0;

        assert_int_equal(mkrepo(f->zip, f->root, modes[i][0], modes[i][1],
                                NULL),
                         0);
        if (load_repo(f->zip, f->root, false, &nart, &e) != 0 ||
            load_repo(f->zip, f->root, true, &nart, &e) != 0)
            fail_msg("consistent %s doc %s: %s", modes[i][0], modes[i][1],
                     e.msg);
        assert_int_equal(nart, 2);
    }
}

struct variant {
    const char *name;
    const char *needle; /* the check the message must name */
};

static const struct variant variants[] = {
    {"bad-signature", "0 of 1 valid signatures"},
    {"no-signature", "threshold"},
    {"wrong-length", "length"},
    {"wrong-hash", "sha256"},
    {"unknown-hash-alg", "sha3-256"},
    {"expired", "expired"},
    {"trailing-data", "trailing data"},
    {"archive-comment", "archive comment"},
    {"duplicate-entry", "duplicate entry"},
    {"crc", "CRC mismatch"},
    {"symlink-entry", "symlink entry"},
    {"missing-target", "no entry"},
    {"snapshot-version", "version"},
    {"targets-version", "version"},
    /* root-version (1.root.json claims 2) is refused only when the repo's
     * own root is trusted (test_mkrepo_verify__root_version): an operator's
     * trusted root may carry any version. */
    {"root-chain-version", "version"},
    {"keyid-mismatch", "keyid"},
    {"delegations", "delegat"},
    {"float", "floats are not allowed"},
    {"duplicate-key", "duplicate"},
    {"missing-artifacts-doc", "artifacts"},
    {"bad-artifacts-doc", "zone-not-in-targets"},
    {"snapshot-hash", "sha256"},
    {"wrong-key", "threshold"},
};

static void test_mkrepo_verify__break_variants(void **state)
{
    struct fx *f = *state;
    size_t failures = 0;

    for (size_t i = 0; i < sizeof(variants) / sizeof(variants[0]); i++) {
        for (int mode = 0; mode < 4; mode++) {
            bool cs = mode & 1, self = mode & 2;
            struct err e = ERR_INIT;
            size_t nart = 0;
            int rc;

            assert_int_equal(mkrepo(f->zip, f->root, cs ? "on" : "off", "v1",
                                    variants[i].name),
                             0);
            rc = load_repo(f->zip, f->root, self, &nart, &e);
            print_message("%-22s cs=%-3s %s rc=%d %s\n", variants[i].name,
                          cs ? "on" : "off", self ? "self" : "root", rc,
                          e.msg);
            if (rc == 0 || !strstr(e.msg, variants[i].needle))
                failures++;
        }
    }
    assert_int_equal(failures, 0);
}

/* Blind trust reads metadata/1.root.json, whose name promises version 1. */
static void test_mkrepo_verify__root_version(void **state)
{
    struct fx *f = *state;

    for (int cs = 0; cs < 2; cs++) {
        struct err e = ERR_INIT;
        size_t nart = 0;

        assert_int_equal(mkrepo(f->zip, f->root, cs ? "on" : "off", "v1",
                                "root-version"),
                         0);
        assert_int_equal(load_repo(f->zip, f->root, true, &nart, &e),
                         ERR_VERIFY);
        assert_non_null(strstr(e.msg, "1.root.json: version is 2, expected "
                                      "exactly 1"));
        /* The same root registered by an operator is accepted. */
        err_clear(&e);
        assert_int_equal(load_repo(f->zip, f->root, false, &nart, &e), 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_mkrepo_verify__valid, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_mkrepo_verify__break_variants,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_mkrepo_verify__root_version,
                                        setup, teardown),
    };

    mem_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
