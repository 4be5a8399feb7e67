/* SPDX-License-Identifier: MPL-2.0 */
/*
 * tuf_artifacts: the tufaceous artifacts document of a verified repository
 * (notes/tuf.md 2.2, 2.3): "artifacts-v2.json" if the targets list has it,
 * else v1 "artifacts.json". The document is itself a target, read and
 * verified through the provider. Each artifact is resolved to its signed
 * targets entry (length, sha256). Versions must match
 * ^[a-zA-Z0-9._+-]{1,63}$, system_version must be semver, target names must
 * be safe relative paths. Immutable once loaded; any thread may read it.
 */
#ifndef COMMON_TUF_ARTIFACTS_H
#define COMMON_TUF_ARTIFACTS_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

struct err;
struct tuf_artifacts;
struct tuf_provider;
struct tuf_repo;
struct tuf_target;

/* Whether s is a semantic version 2.0.0, MAJOR.MINOR.PATCH[-pre][+build],
 * of at most 127 bytes (a system version). Pure. */
bool tuf_semver_ok(const char *s);

/* Plain value; everything borrowed from the owning tuf_artifacts. */
struct tuf_artifact {
    const char *name;        /* v1 "name"; v2: the target name */
    const char *version;
    const char *kind;        /* v1 "kind"; v2 tags["kind"] */
    const json_t *tags;      /* v2 tags object, NULL for v1 */
    const char *target_name;
    const struct tuf_target *target; /* borrowed from the tuf_repo */
};

/*
 * Read, verify (length and hashes) and parse the artifacts document of
 * repo through p. *out (tuf_artifacts_free) borrows repo: free it first.
 * Returns 0; ERR_INVAL (no artifacts document, malformed document, bad
 * version or target name, an artifact whose target is not signed or has
 * no sha256); ERR_VERIFY (the document does not match its targets entry);
 * ERR_LIMIT (over LIMIT_ARTIFACTS_PER_REPO artifacts); ERR_NOTFOUND (the
 * document's file is missing); ERR_IO; ERR_NOMEM.
 */
int tuf_artifacts_load(struct tuf_artifacts **out, const struct tuf_repo *repo,
                       const struct tuf_provider *p, struct err *err);

/*
 * Parse an already verified document (data, len) of the given format
 * (1 or 2) against repo. Same ownership and codes as tuf_artifacts_load.
 */
int tuf_artifacts_parse(struct tuf_artifacts **out, const struct tuf_repo *repo,
                        const char *data, size_t len, int format,
                        struct err *err);

void tuf_artifacts_free(struct tuf_artifacts *a);

/* 1 (artifacts.json) or 2 (artifacts-v2.json). */
int tuf_artifacts_format(const struct tuf_artifacts *a);
const char *tuf_artifacts_system_version(const struct tuf_artifacts *a);
size_t tuf_artifacts_count(const struct tuf_artifacts *a);
/* The i-th artifact (borrowed), i < count. */
const struct tuf_artifact *tuf_artifacts_get(const struct tuf_artifacts *a,
                                             size_t i);

#endif
