/* SPDX-License-Identifier: MPL-2.0 */
/*
 * fuzz_tuf_artifacts: harness for tuf_artifacts_parse (common/
 * tuf_artifacts.c), the tufaceous artifacts document (v1 and v2) of an
 * uploaded repository. It needs a verified repository to resolve target
 * names against: at start-up it verifies the tufaceous-v1-fake vector
 * (read at run time from TUF_VECTORS_DIR, default the shared vectors
 * beside the project; without them every input is skipped). Input: a
 * document starting with '{' is tried as both formats; otherwise the first
 * byte picks the format (bit 0: v2) and the rest is the document.
 * Properties: every refusal carries a message; an accepted document has a
 * system_version, at most LIMIT_ARTIFACTS_PER_REPO artifacts, and each
 * artifact has a name, kind, version, a safe target name and the signed
 * target of that name, which has a sha256. Single-threaded.
 */
#include "tests/fuzz/fuzz.h"

#include <stdbool.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/limits.h"
#include "common/tuf_artifacts.h"
#include "common/tuf_repo.h"
#include "common/tuf_target.h"
#include "common/tuf_verify.h"
#include "tests/support/tuf_dir.h"

#ifndef RD_FUZZ_TUF_VECTORS
#define RD_FUZZ_TUF_VECTORS "../shared/tuf-vectors"
#endif

static struct tuf_repo *repo;
static bool tried;

static void load_repo(void)
{
    const char *dir = getenv("TUF_VECTORS_DIR");
    struct buf md = BUF_INIT, tg = BUF_INIT;
    struct tuf_dir *d = NULL;
    struct tuf_policy pol = TUF_POLICY_INIT;
    struct tuf_provider p;
    struct err err = ERR_INIT;

    tried = true;
    if (!dir || !*dir)
        dir = RD_FUZZ_TUF_VECTORS;
    if (buf_printf(&md, "%s/tufaceous-v1-fake/repo/metadata", dir) < 0 ||
        buf_printf(&tg, "%s/tufaceous-v1-fake/repo/targets", dir) < 0 ||
        tuf_dir_new(&d, md.data, tg.data, &err) < 0)
        goto out;
    p = tuf_dir_provider(d);
    pol.trust_repo_root = true;
    if (tuf_verify_repo(&repo, &p, NULL, 0, &pol, &err) < 0)
        fprintf(stderr, "fuzz_tuf_artifacts: no repository (%s): inputs are "
                "skipped\n", err.msg);
out:
    tuf_dir_free(d);
    buf_release(&tg);
    buf_release(&md);
}

static void one(const char *doc, size_t len, int format)
{
    struct tuf_artifacts *a = NULL;
    struct err err = ERR_INIT;
    size_t n;
    int rc = tuf_artifacts_parse(&a, repo, doc, len, format, &err);

    if (rc < 0) {
        FUZZ_CHECK(a == NULL && err.code == rc && err.msg[0] != '\0');
        return;
    }
    FUZZ_CHECK(tuf_artifacts_format(a) == format);
    FUZZ_CHECK(tuf_artifacts_system_version(a) != NULL);
    n = tuf_artifacts_count(a);
    FUZZ_CHECK(n <= LIMIT_ARTIFACTS_PER_REPO);
    for (size_t i = 0; i < n; i++) {
        const struct tuf_artifact *it = tuf_artifacts_get(a, i);

        FUZZ_CHECK(it && it->name && it->name[0] && it->kind &&
                   it->kind[0] && it->version && it->target_name);
        FUZZ_CHECK(tuf_repo_name_ok(it->target_name));
        FUZZ_CHECK(it->target &&
                   it->target == tuf_repo_find(repo, it->target_name));
        FUZZ_CHECK(it->target->has_sha256);
    }
    FUZZ_CHECK(tuf_artifacts_get(a, n) == NULL);
    tuf_artifacts_free(a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mem_init();
    if (!tried)
        load_repo();
    if (!repo || size == 0)
        return 0;
    if (data[0] == '{') {
        one((const char *)data, size, 1);
        one((const char *)data, size, 2);
        return 0;
    }
    one((const char *)data + 1, size - 1, (data[0] & 1) ? 2 : 1);
    return 0;
}
