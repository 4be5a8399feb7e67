/* SPDX-License-Identifier: MPL-2.0 */
/*
 * mkrepo_break: the names and descriptions of tuf-mkrepo's --break
 * variants (the table of docs/TUF-MKREPO.md). Each variant breaks exactly
 * one thing; mkrepo_meta and mkrepo_zip apply them.
 */
#include "sim/mkrepo_internal.h"

#include <string.h>

#include "common/err.h"

struct variant {
    enum mkrepo_break id;
    const char *name;
    const char *help;
};

static const struct variant variants[] = {
    {MKREPO_BREAK_BAD_SIGNATURE, "bad-signature",
     "targets signature bytes flipped (signature does not verify)"},
    {MKREPO_BREAK_NO_SIGNATURE, "no-signature",
     "targets has no signature (threshold not met)"},
    {MKREPO_BREAK_WRONG_LENGTH, "wrong-length",
     "targets lists length+1 for one artifact"},
    {MKREPO_BREAK_WRONG_HASH, "wrong-hash",
     "one artifact's bytes differ from its listed sha256 (same length)"},
    {MKREPO_BREAK_UNKNOWN_HASH_ALG, "unknown-hash-alg",
     "targets lists an extra \"sha3-256\" hash for one artifact"},
    {MKREPO_BREAK_EXPIRED, "expired", "every role expired a day ago"},
    {MKREPO_BREAK_TRAILING_DATA, "trailing-data",
     "14 bytes after the end of central directory record"},
    {MKREPO_BREAK_ARCHIVE_COMMENT, "archive-comment",
     "the zip has an archive comment"},
    {MKREPO_BREAK_DUPLICATE_ENTRY, "duplicate-entry",
     "two entries named repo/metadata/timestamp.json"},
    {MKREPO_BREAK_CRC, "crc",
     "one byte of a Stored artifact flipped after the CRC was computed"},
    {MKREPO_BREAK_SYMLINK_ENTRY, "symlink-entry",
     "one artifact's entry has Unix mode symlink"},
    {MKREPO_BREAK_MISSING_TARGET, "missing-target",
     "one listed artifact is absent from the zip"},
    {MKREPO_BREAK_SNAPSHOT_VERSION, "snapshot-version",
     "snapshot's signed version is timestamp's + 1"},
    {MKREPO_BREAK_TARGETS_VERSION, "targets-version",
     "targets' signed version is snapshot's + 1"},
    {MKREPO_BREAK_ROOT_VERSION, "root-version",
     "1.root.json claims version 2"},
    {MKREPO_BREAK_KEYID_MISMATCH, "keyid-mismatch",
     "root lists (and every role signs with) a keyid that is not the key's "
     "hash"},
    {MKREPO_BREAK_DELEGATIONS, "delegations",
     "targets delegates to a role (non-empty delegations.roles)"},
    {MKREPO_BREAK_FLOAT, "float",
     "targets holds a float (custom.float 1.5), signed as a lenient "
     "signer would"},
    {MKREPO_BREAK_DUPLICATE_KEY, "duplicate-key",
     "targets file repeats \"_type\"; signed over the parsed document"},
    {MKREPO_BREAK_MISSING_ARTIFACTS_DOC, "missing-artifacts-doc",
     "no artifacts document at all"},
    {MKREPO_BREAK_BAD_ARTIFACTS_DOC, "bad-artifacts-doc",
     "the artifacts document names a target not in targets.json"},
    {MKREPO_BREAK_SNAPSHOT_HASH, "snapshot-hash",
     "timestamp lists a wrong sha256 for snapshot.json"},
    {MKREPO_BREAK_WRONG_KEY, "wrong-key",
     "targets signed by a key that root does not list"},
    {MKREPO_BREAK_TRAVERSAL_ENTRY, "traversal-entry",
     "an extra entry named repo/targets/../../escape.json"},
    {MKREPO_BREAK_ROOT_CHAIN_VERSION, "root-chain-version",
     "adds 2.root.json (same key, validly signed) claiming version 3"},
};

#define NVARIANTS (sizeof(variants) / sizeof(variants[0]))

int mkrepo_break_parse(enum mkrepo_break *out, const char *name,
                       struct err *err)
{
    for (size_t i = 0; i < NVARIANTS; i++) {
        if (strcmp(variants[i].name, name) == 0) {
            *out = variants[i].id;
            return 0;
        }
    }
    return err_set(err, ERR_INVAL, "unknown --break variant %s", name);
}

const char *mkrepo_break_name(enum mkrepo_break b)
{
    for (size_t i = 0; i < NVARIANTS; i++)
        if (variants[i].id == b)
            return variants[i].name;
    return "none";
}

void mkrepo_break_help(FILE *f)
{
    for (size_t i = 0; i < NVARIANTS; i++)
        fprintf(f, "  %-22s %s\n", variants[i].name, variants[i].help);
}
