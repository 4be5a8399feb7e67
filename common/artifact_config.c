/* SPDX-License-Identifier: MPL-2.0 */
/* artifact_config: ArtifactConfig parse/serialise/membership. */
#include "common/artifact_config.h"

#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/jsonutil.h"
#include "common/limits.h"
#include "common/mem.h"

static int hash_cmp(const void *a, const void *b)
{
    return sha256_cmp(a, b);
}

static int sort_unique(struct sha256 *h, size_t n, struct err *err)
{
    if (n < 2)
        return 0; /* qsort(NULL, 0, ...) is undefined behaviour */
    qsort(h, n, sizeof(*h), hash_cmp);
    for (size_t i = 1; i < n; i++) {
        if (sha256_eq(&h[i - 1], &h[i])) {
            char hex[SHA256_HEX_LEN + 1];

            sha256_to_hex(hex, &h[i]);
            return err_set(err, ERR_INVAL,
                           "artifacts: duplicate hash %s (the list is a set)",
                           hex);
        }
    }
    return 0;
}

int artifact_config_build(struct artifact_config *out, uint64_t generation,
                          const struct sha256 *hashes, size_t count,
                          struct err *err)
{
    struct sha256 *h = NULL;
    int rc;

    if (count > LIMIT_CONFIG_ARTIFACTS)
        return err_set(err, ERR_LIMIT, "artifacts: %zu hashes, over the cap of %d",
                       count, LIMIT_CONFIG_ARTIFACTS);
    if (count) {
        h = mem_calloc(count, sizeof(*h));
        if (!h)
            return err_set(err, ERR_NOMEM, "artifacts: out of memory");
        memcpy(h, hashes, count * sizeof(*h));
    }
    rc = sort_unique(h, count, err);
    if (rc < 0) {
        mem_free(h);
        return rc;
    }
    out->generation = generation;
    out->count = count;
    out->hashes = h;
    return 0;
}

int artifact_config_from_json(struct artifact_config *out, const json_t *v,
                              struct err *err)
{
    const json_t *gen, *arr;
    struct sha256 *h = NULL;
    size_t n, i;
    uint64_t g;
    int rc = 0;

    if (!json_is_object(v))
        return err_set(err, ERR_INVAL, "artifact config must be a JSON object");
    gen = json_object_get(v, "generation");
    arr = json_object_get(v, "artifacts");
    if (!gen)
        return err_set(err, ERR_INVAL, "artifact config: missing \"generation\"");
    if (jsonu_u64(&g, gen) < 0)
        return err_set(err, ERR_INVAL,
                       "artifact config: \"generation\" must be a non-negative "
                       "integer below 2^63");
    if (!json_is_array(arr))
        return err_set(err, ERR_INVAL,
                       "artifact config: \"artifacts\" must be an array");
    if (json_object_size(v) != 2)
        return err_set(err, ERR_INVAL,
                       "artifact config: unknown member (only \"generation\" "
                       "and \"artifacts\" are allowed)");
    n = json_array_size(arr);
    if (n > LIMIT_CONFIG_ARTIFACTS)
        return err_set(err, ERR_LIMIT, "artifacts: %zu hashes, over the cap of %d",
                       n, LIMIT_CONFIG_ARTIFACTS);
    if (n) {
        h = mem_calloc(n, sizeof(*h));
        if (!h)
            return err_set(err, ERR_NOMEM, "artifact config: out of memory");
    }
    for (i = 0; i < n; i++) {
        const json_t *e = json_array_get(arr, i);

        if (!json_is_string(e) ||
            sha256_from_hexn(&h[i], json_string_value(e),
                             json_string_length(e)) < 0) {
            rc = err_set(err, ERR_INVAL,
                         "artifacts[%zu]: not a sha256 (64 lowercase hex "
                         "characters)", i);
            goto out;
        }
    }
    rc = sort_unique(h, n, err);
    if (rc < 0)
        goto out;
    out->generation = g;
    out->count = n;
    out->hashes = h;
    h = NULL;
out:
    mem_free(h);
    return rc;
}

int artifact_config_parse(struct artifact_config *out, const char *json,
                          size_t len, struct err *err)
{
    json_t *v = jsonu_loadb(json, len, LIMIT_CONFIG_BODY, err);
    int rc;

    if (!v)
        return err ? err->code : ERR_INVAL;
    rc = artifact_config_from_json(out, v, err);
    json_decref(v);
    return rc;
}

json_t *artifact_config_to_json(const struct artifact_config *cfg)
{
    json_t *arr = json_array();
    json_t *obj;

    if (!arr)
        return NULL;
    for (size_t i = 0; i < cfg->count; i++) {
        char hex[SHA256_HEX_LEN + 1];

        sha256_to_hex(hex, &cfg->hashes[i]);
        if (json_array_append_new(arr, json_string(hex)) < 0) {
            json_decref(arr);
            return NULL;
        }
    }
    obj = json_pack("{s:I, s:o}", "generation", (json_int_t)cfg->generation,
                    "artifacts", arr);
    return obj;
}

bool artifact_config_contains(const struct artifact_config *cfg,
                              const struct sha256 *h)
{
    if (!cfg->count)
        return false;
    return bsearch(h, cfg->hashes, cfg->count, sizeof(*h), hash_cmp) != NULL;
}

bool artifact_config_same_set(const struct artifact_config *a,
                              const struct artifact_config *b)
{
    return a->count == b->count &&
           (a->count == 0 ||
            memcmp(a->hashes, b->hashes, a->count * sizeof(*a->hashes)) == 0);
}

int artifact_config_copy(struct artifact_config *dst,
                         const struct artifact_config *src)
{
    struct sha256 *h = NULL;

    if (src->count) {
        h = mem_calloc(src->count, sizeof(*h));
        if (!h)
            return ERR_NOMEM;
        memcpy(h, src->hashes, src->count * sizeof(*h));
    }
    dst->generation = src->generation;
    dst->count = src->count;
    dst->hashes = h;
    return 0;
}

void artifact_config_release(struct artifact_config *cfg)
{
    mem_free(cfg->hashes);
    cfg->hashes = NULL;
    cfg->count = 0;
}
