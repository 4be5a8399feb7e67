/* SPDX-License-Identifier: MPL-2.0 */
/*
 * mkrepo_internal: the types shared by the parts of tuf-mkrepo, the tool
 * that builds signed TUF repository zips in tufaceous's layout (and every
 * broken variant the tests need). The parts: mkrepo_keys (ed25519 keys,
 * key ids, signatures), mkrepo_artifacts (artifact files and the artifacts
 * document), mkrepo_meta (the four signed roles), mkrepo_zip (the archive),
 * mkrepo_break (the --break variants), mkrepo_main (the command line).
 * Single-threaded.
 */
#ifndef SIM_MKREPO_INTERNAL_H
#define SIM_MKREPO_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "common/buf.h"
#include "common/sha256.h"

struct err;

/* --break variants; each breaks exactly one thing (docs/TUF-MKREPO.md). */
enum mkrepo_break {
    MKREPO_BREAK_NONE = 0,
    MKREPO_BREAK_BAD_SIGNATURE,
    MKREPO_BREAK_NO_SIGNATURE,
    MKREPO_BREAK_WRONG_LENGTH,
    MKREPO_BREAK_WRONG_HASH,
    MKREPO_BREAK_UNKNOWN_HASH_ALG,
    MKREPO_BREAK_EXPIRED,
    MKREPO_BREAK_TRAILING_DATA,
    MKREPO_BREAK_ARCHIVE_COMMENT,
    MKREPO_BREAK_DUPLICATE_ENTRY,
    MKREPO_BREAK_CRC,
    MKREPO_BREAK_SYMLINK_ENTRY,
    MKREPO_BREAK_MISSING_TARGET,
    MKREPO_BREAK_SNAPSHOT_VERSION,
    MKREPO_BREAK_TARGETS_VERSION,
    MKREPO_BREAK_ROOT_VERSION,
    MKREPO_BREAK_KEYID_MISMATCH,
    MKREPO_BREAK_DELEGATIONS,
    MKREPO_BREAK_FLOAT,
    MKREPO_BREAK_DUPLICATE_KEY,
    MKREPO_BREAK_MISSING_ARTIFACTS_DOC,
    MKREPO_BREAK_BAD_ARTIFACTS_DOC,
    MKREPO_BREAK_SNAPSHOT_HASH,
    MKREPO_BREAK_WRONG_KEY,
    MKREPO_BREAK_TRAVERSAL_ENTRY,
    MKREPO_BREAK_ROOT_CHAIN_VERSION,
    MKREPO_BREAK__COUNT
};

/* An ed25519 signing key. */
struct mkrepo_key {
    void *pkey;                      /* EVP_PKEY * */
    char pub_hex[65];                /* raw 32-byte public key, hex */
    char keyid[SHA256_HEX_LEN + 1];  /* sha256(cjson(key object)) */
};

#define MKREPO_KEY_INIT {NULL, "", ""}

/* One TUF target: a file on disk that goes into the zip. */
struct mkrepo_target {
    char *name;       /* TUF target name */
    char *path;       /* where its bytes are */
    bool owned;       /* path is our temp file: unlink it at the end */
    uint64_t length;
    struct sha256 hash;
    char *art_name;   /* artifact fields; NULL for the artifacts document */
    char *art_version;
    char *kind;
};

struct mkrepo_opts {
    const char *out;
    const char *system_version;
    const char *from_dir;
    uint64_t random_count;
    uint64_t random_bytes;
    uint64_t seed;
    bool have_seed;
    const char *key_file;
    const char *generate_key_file;
    const char *print_root;
    const char *artifact_version; /* default: system_version */
    bool consistent;              /* consistent_snapshot (default on) */
    int artifacts_doc;            /* 1 or 2 */
    bool deflate_meta;            /* Deflate the metadata entries */
    char expires[32];             /* YYYY-MM-DDTHH:MM:SSZ */
    int64_t version;              /* timestamp/snapshot/targets version */
    enum mkrepo_break brk;
};

struct mkrepo {
    struct mkrepo_opts o;
    char tmpdir[4096];
    struct mkrepo_key key;
    struct mkrepo_key other;      /* second key for wrong-key */
    struct mkrepo_target *targets;
    size_t ntargets;
    size_t victim;                /* index of the target a break acts on */
    struct buf root;              /* file bytes of each role */
    struct buf timestamp;
    struct buf snapshot;
    struct buf targets_json;
    struct buf root2;             /* 2.root.json (root-chain-version) */
};

/*
 * mkrepo_keys.c. generate/load fill *out (release it with
 * mkrepo_keys_release, also after an error): 0, ERR_IO (load: unreadable),
 * ERR_INVAL (load: not an ed25519 PKCS#8 PEM key), ERR_INTERNAL (OpenSSL),
 * ERR_NOMEM. save writes PKCS#8 PEM: 0 or ERR_IO.
 */
int mkrepo_keys_generate(struct mkrepo_key *out, struct err *err);
int mkrepo_keys_load(struct mkrepo_key *out, const char *path,
                     struct err *err);
int mkrepo_keys_save(const struct mkrepo_key *k, const char *path,
                     struct err *err);
/* The key object {"keytype","scheme","keyval"} (new reference or NULL). */
json_t *mkrepo_keys_json(const struct mkrepo_key *k);
/* Append the hex ed25519 signature of msg to out: 0, ERR_INTERNAL, ERR_NOMEM. */
int mkrepo_keys_sign(struct buf *out, const struct mkrepo_key *k,
                     const void *msg, size_t len, struct err *err);
/* Free the key (safe on an unused one). */
void mkrepo_keys_release(struct mkrepo_key *k);

/*
 * mkrepo_artifacts.c. from_dir/random append r->o's artifacts to
 * r->targets (hashed; random ones are temp files under r->tmpdir that
 * mkrepo_artifacts_release unlinks). All return 0, ERR_IO, ERR_INVAL
 * (from_dir: no regular file) or ERR_NOMEM.
 */
int mkrepo_artifacts_from_dir(struct mkrepo *r, struct err *err);
int mkrepo_artifacts_random(struct mkrepo *r, struct err *err);
/* Write the artifacts document and add it as the last target. */
int mkrepo_artifacts_doc(struct mkrepo *r, struct err *err);
/* Stream path into a new temp file with byte at off flipped. */
int mkrepo_artifacts_flipped_copy(char **out, const struct mkrepo *r,
                                  const char *path, uint64_t off,
                                  struct err *err);
int mkrepo_artifacts_add(struct mkrepo *r, const char *name, const char *path,
                         bool owned, const char *art_name,
                         const char *art_version, const char *kind,
                         struct err *err);
void mkrepo_artifacts_release(struct mkrepo *r);

/*
 * mkrepo_meta.c: build and sign targets, snapshot, timestamp and root into
 * r->targets_json, r->snapshot, r->timestamp, r->root (and r->root2),
 * applying the metadata-level breaks. 0, ERR_INTERNAL or ERR_NOMEM.
 */
int mkrepo_meta_build(struct mkrepo *r, struct err *err);

/*
 * mkrepo_zip.c: write r as a zip to r->o.out (temp file beside it, zip-level
 * breaks, fsync, rename). 0, ERR_IO, ERR_INVAL (a break that cannot apply)
 * or ERR_NOMEM; on error --out is untouched and the temp file removed.
 */
int mkrepo_zip_write(struct mkrepo *r, struct err *err);

/* mkrepo_break.c: parse gives 0 or ERR_INVAL (unknown variant). */
int mkrepo_break_parse(enum mkrepo_break *out, const char *name,
                       struct err *err);
const char *mkrepo_break_name(enum mkrepo_break b);
/* One help line per variant, for --help. */
void mkrepo_break_help(FILE *f);

#endif
