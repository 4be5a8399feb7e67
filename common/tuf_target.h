/* SPDX-License-Identifier: MPL-2.0 */
/*
 * tuf_target: a signed file description (a targets.json entry, or a
 * snapshot/timestamp "meta" entry) and its streaming verification: the
 * signed length is enforced while bytes arrive (never more, never fewer)
 * and every listed hash is checked at the end; an unknown hash algorithm is
 * a verification failure (tuf-conformance). Also a reader that streams a
 * target out of a tuf_provider through the checker to a callback.
 * A check is used by one thread at a time.
 */
#ifndef COMMON_TUF_TARGET_H
#define COMMON_TUF_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/sha256.h"

struct err;
struct tuf_provider;

#define TUF_HASHES_MAX 4
#define TUF_HASH_ALG_MAX 16

struct tuf_hash {
    char alg[TUF_HASH_ALG_MAX]; /* "sha256", "sha512", or an unknown name */
    bool known;                 /* sha256 or sha512 */
    size_t len;                 /* digest bytes (0 when unknown) */
    uint8_t digest[64];
};

/* Plain value. Strings and JSON are borrowed from the owning document. */
struct tuf_target {
    const char *name;      /* target name, or the meta file name */
    uint64_t length;
    bool has_length;       /* always true for targets.json entries */
    size_t nhashes;
    struct tuf_hash hashes[TUF_HASHES_MAX];
    bool has_sha256;
    struct sha256 sha256;  /* valid if has_sha256 */
    const json_t *custom;  /* NULL if absent */
};

/*
 * Fill t from a targets entry or meta entry obj ({"length", "hashes",
 * "custom"}) named name (borrowed: must outlive t). need_length and
 * need_hashes make those members mandatory. Returns 0 or ERR_INVAL (with
 * "<what>: ..." in err) for a malformed entry: bad length, a hash value
 * that is not hex of the algorithm's size, more than TUF_HASHES_MAX hashes.
 */
int tuf_target_parse(struct tuf_target *out, const char *name,
                     const json_t *obj, bool need_length, bool need_hashes,
                     const char *what, struct err *err);

struct tuf_target_check {
    const struct tuf_target *t; /* borrowed */
    uint64_t seen;
    void *md[TUF_HASHES_MAX];   /* EVP_MD_CTX *, per hash */
};

#define TUF_TARGET_CHECK_INIT {NULL, 0, {NULL, NULL, NULL, NULL}}

/*
 * Start checking bytes against t (borrowed, must outlive c). Returns 0;
 * ERR_VERIFY for an unknown hash algorithm ("target X: unknown hash
 * algorithm "md5""); ERR_NOMEM. Release c in every case.
 */
int tuf_target_check_init(struct tuf_target_check *c,
                          const struct tuf_target *t, struct err *err);

/*
 * Feed n bytes. Returns 0, ERR_VERIFY if the total would exceed the
 * signed length (the bytes are not hashed), or ERR_INTERNAL.
 */
int tuf_target_check_update(struct tuf_target_check *c, const void *data,
                            size_t n, struct err *err);

/*
 * Finish: the total must equal the signed length (if any) and every hash
 * must match. Returns 0, ERR_VERIFY (short, or "sha256 mismatch"), or
 * ERR_INTERNAL.
 */
int tuf_target_check_final(struct tuf_target_check *c, struct err *err);

void tuf_target_check_release(struct tuf_target_check *c);

/* One-shot check of a whole buffer. Returns as init/update/final. */
int tuf_target_check_bytes(const struct tuf_target *t, const void *data,
                           size_t n, struct err *err);

/*
 * Called with each chunk read; the data is NOT verified until
 * tuf_target_read returns 0 (write it somewhere temporary). A non-zero
 * return aborts the read and is returned unchanged.
 */
typedef int (*tuf_target_chunk_fn)(const void *data, size_t n, void *arg);

/*
 * Stream the file at path (in the repository, e.g. from tuf_repo_path)
 * through the provider's open/read/close, checking it against t, and hand
 * each chunk to cb (may be NULL). Reads at most length + 1 bytes, so an
 * oversized file is refused without reading it all. Returns 0; ERR_VERIFY
 * (length or hash); ERR_NOTFOUND (no such file); the provider's ERR_IO /
 * ERR_INVAL / ERR_NOMEM; or cb's code.
 */
int tuf_target_read(const struct tuf_provider *p, const char *path,
                    const struct tuf_target *t, tuf_target_chunk_fn cb,
                    void *arg, struct err *err);

#endif
