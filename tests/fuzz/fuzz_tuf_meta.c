/* SPDX-License-Identifier: MPL-2.0 */
/*
 * fuzz_tuf_meta: harness for the TUF metadata parsers of common/: the
 * envelope (tuf_meta_parse), root documents with their keys (tuf_meta_root_new,
 * tuf_key_parse over OpenSSL), signature thresholds (tuf_meta_check_sigs),
 * and the entries of timestamp/snapshot "meta" and targets "targets"
 * (tuf_target_parse, tuf_repo_name_ok). Input: when it starts with '{' it
 * is a whole document tried as each of the four roles (so real metadata
 * files work as seeds); otherwise the first byte picks the role (bits 0-1),
 * lenient dates (bit 2) and the keyid check (bit 3), and the rest is the
 * document. Properties: every refusal carries a message; at most one role
 * accepts a document, and it is the one its _type names; an accepted
 * envelope has version >= 1 and non-empty canonical bytes.
 * Single-threaded.
 */
#include "tests/fuzz/fuzz.h"

#include <stdbool.h>

#include <jansson.h>

#include "common/err.h"
#include "common/jsonutil.h"
#include "common/tuf_key.h"
#include "common/tuf_meta.h"
#include "common/tuf_repo.h"
#include "common/tuf_target.h"

static void check_entries(const json_t *obj, bool targets)
{
    const char *name;
    json_t *entry;

    json_object_foreach((json_t *)obj, name, entry) {
        struct tuf_target t;
        struct err err = ERR_INIT;
        int rc = tuf_target_parse(&t, name, entry, targets, targets, "entry",
                                  &err);

        if (rc < 0) {
            FUZZ_CHECK(err.msg[0] != '\0');
            continue;
        }
        FUZZ_CHECK(t.nhashes <= TUF_HASHES_MAX);
        FUZZ_CHECK(!targets || (t.has_length && t.nhashes > 0));
        (void)tuf_repo_name_ok(name);
    }
}

static void check_root(struct tuf_meta *m, bool check_keyid)
{
    struct tuf_meta_root *root = NULL;
    struct err err = ERR_INIT;
    const json_t *keys = json_object_get(m->signed_obj, "keys");
    const char *keyid;
    json_t *key;

    json_object_foreach((json_t *)keys, keyid, key) {
        char id[65];
        struct err kerr = ERR_INIT;

        if (tuf_key_id(id, key, &kerr) == 0)
            FUZZ_CHECK(strlen(id) == 64);
        else
            FUZZ_CHECK(kerr.msg[0] != '\0');
    }
    /* Takes ownership of m in every case. */
    if (tuf_meta_root_new(&root, m, check_keyid, &err) < 0) {
        FUZZ_CHECK(err.msg[0] != '\0' && root == NULL);
        return;
    }
    for (int role = 0; role < TUF_ROLE_COUNT; role++) {
        FUZZ_CHECK(root->roles[role].threshold >= 1);
        err_clear(&err);
        if (tuf_meta_check_sigs(root->meta, root, (enum tuf_role)role,
                                &err) < 0)
            FUZZ_CHECK(err.msg[0] != '\0');
    }
    tuf_meta_root_free(root);
}

/* Parse doc as role; returns whether it was accepted. */
static bool one(const char *doc, size_t len, enum tuf_role role, bool lenient,
                bool check_keyid)
{
    struct tuf_meta *m = NULL;
    struct err err = ERR_INIT;
    int rc = tuf_meta_parse(&m, "fuzz.json", doc, len, role, lenient, &err);

    if (rc < 0) {
        FUZZ_CHECK(m == NULL && err.code == rc && err.msg[0] != '\0');
        return false;
    }
    FUZZ_CHECK(m->type == role && m->version >= 1 && m->canon.len > 0);
    FUZZ_CHECK(strcmp(jsonu_str(m->signed_obj, "_type"),
                      tuf_meta_role_name(role)) == 0);
    switch (role) {
    case TUF_ROLE_ROOT:
        check_root(m, check_keyid);
        return true;
    case TUF_ROLE_TARGETS:
        check_entries(json_object_get(m->signed_obj, "targets"), true);
        break;
    default:
        check_entries(json_object_get(m->signed_obj, "meta"), false);
        break;
    }
    tuf_meta_free(m);
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int accepted = 0;

    mem_init();
    if (size == 0)
        return 0;
    if (data[0] == '{') {
        for (int role = 0; role < TUF_ROLE_COUNT; role++)
            accepted += one((const char *)data, size, (enum tuf_role)role,
                            true, true);
        FUZZ_CHECK(accepted <= 1);
        return 0;
    }
    one((const char *)data + 1, size - 1, (enum tuf_role)(data[0] & 3),
        (data[0] & 4) != 0, (data[0] & 8) != 0);
    return 0;
}
