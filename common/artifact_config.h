/* SPDX-License-Identifier: MPL-2.0 */
/*
 * artifact_config: the ArtifactConfig type of DESIGN.md section 2,
 * {"generation": u64, "artifacts": ["<hex>", ...]}, with strict parsing
 * (the array is a set: duplicates, bad hashes and unknown shapes are
 * ERR_INVAL) and serialisation. Hashes are kept sorted for O(log n)
 * membership. Embedded value: ARTIFACT_CONFIG_INIT / artifact_config_release.
 */
#ifndef COMMON_ARTIFACT_CONFIG_H
#define COMMON_ARTIFACT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/sha256.h"

struct err;

struct artifact_config {
    uint64_t generation;
    size_t count;
    struct sha256 *hashes; /* sorted ascending, unique; NULL when count == 0 */
};

#define ARTIFACT_CONFIG_INIT {0, 0, NULL}

/*
 * Parse a JSON document (at most LIMIT_CONFIG_BODY bytes). On success *out
 * owns its hashes. Errors: ERR_INVAL (message says what is wrong),
 * ERR_TOOBIG, ERR_LIMIT (more than LIMIT_CONFIG_ARTIFACTS), ERR_NOMEM.
 */
int artifact_config_parse(struct artifact_config *out, const char *json,
                          size_t len, struct err *err);

/* As artifact_config_parse, from an already parsed value. */
int artifact_config_from_json(struct artifact_config *out, const json_t *v,
                              struct err *err);

/* New JSON object for cfg (hashes in sorted order), or NULL on ERR_NOMEM. */
json_t *artifact_config_to_json(const struct artifact_config *cfg);

/*
 * Build a config from hashes in any order; duplicates are ERR_INVAL.
 * Copies the array.
 */
int artifact_config_build(struct artifact_config *out, uint64_t generation,
                          const struct sha256 *hashes, size_t count,
                          struct err *err);

bool artifact_config_contains(const struct artifact_config *cfg,
                              const struct sha256 *h);

/* Whether a and b hold the same set of hashes (generation ignored). */
bool artifact_config_same_set(const struct artifact_config *a,
                              const struct artifact_config *b);

/* Deep copy. Returns 0 or ERR_NOMEM. */
int artifact_config_copy(struct artifact_config *dst,
                         const struct artifact_config *src);

void artifact_config_release(struct artifact_config *cfg);

#endif
