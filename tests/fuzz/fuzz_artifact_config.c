/* SPDX-License-Identifier: MPL-2.0 */
/*
 * fuzz_artifact_config: harness for artifact_config_parse (common/
 * artifact_config.c), the ArtifactConfig JSON every sledagent accepts from
 * the replicator. Beyond "no crash": a refusal carries a message; an
 * accepted config serialises (artifact_config_to_json), and the
 * serialisation parses back to the same generation and the same set, with
 * every hash found by artifact_config_contains. Single-threaded.
 */
#include "tests/fuzz/fuzz.h"

#include <jansson.h>

#include "common/artifact_config.h"
#include "common/err.h"
#include "common/jsonutil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct artifact_config cfg = ARTIFACT_CONFIG_INIT;
    struct artifact_config again = ARTIFACT_CONFIG_INIT;
    struct err err = ERR_INIT;
    json_t *v = NULL;
    char *text = NULL;
    int rc;

    mem_init();
    rc = artifact_config_parse(&cfg, (const char *)data, size, &err);
    if (rc < 0) {
        FUZZ_CHECK(err.code == rc && err.msg[0] != '\0');
        goto out;
    }
    FUZZ_CHECK(cfg.count == 0 || cfg.hashes != NULL);
    for (size_t i = 1; i < cfg.count; i++)
        FUZZ_CHECK(sha256_cmp(&cfg.hashes[i - 1], &cfg.hashes[i]) < 0);
    v = artifact_config_to_json(&cfg);
    FUZZ_CHECK(v != NULL);
    text = jsonu_dumps(v);
    FUZZ_CHECK(text != NULL);
    err_clear(&err);
    rc = artifact_config_parse(&again, text, strlen(text), &err);
    if (rc < 0)
        fprintf(stderr, "re-parse of %s: %s\n", text, err.msg);
    FUZZ_CHECK(rc == 0);
    FUZZ_CHECK(again.generation == cfg.generation);
    FUZZ_CHECK(artifact_config_same_set(&again, &cfg));
    for (size_t i = 0; i < cfg.count; i++)
        FUZZ_CHECK(artifact_config_contains(&again, &cfg.hashes[i]));
out:
    mem_free(text);
    json_decref(v);
    artifact_config_release(&again);
    artifact_config_release(&cfg);
    return 0;
}
