/* SPDX-License-Identifier: MPL-2.0 */
/*
 * tuf_key: one TUF public key (notes/tuf.md 1.3, 1.5): parsing of the key
 * object, the keyid check (sha256 of the canonical JSON of the whole key
 * object, unknown fields included), and signature verification with
 * OpenSSL 3 for ed25519 (raw hex key), ecdsa / ecdsa-sha2-nistp256 (PEM
 * SubjectPublicKeyInfo or the legacy 130-hex uncompressed point) and
 * rsassa-pss-sha256 (PEM, >= 2048 bits, salt length = digest length).
 * A key is immutable after parsing; verify may run on any thread.
 */
#ifndef COMMON_TUF_KEY_H
#define COMMON_TUF_KEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct err;
struct tuf_key;

/*
 * Parse the key object obj listed under keyid. With check_keyid, keyid must
 * equal hex(sha256(canonical JSON of obj)). A key of an unsupported type or
 * scheme, or whose key material does not load, is not an error: it is
 * returned as an unusable key whose signatures never count (python-tuf
 * semantics), and tuf_key_usable() says why. *out is owned by the caller
 * (tuf_key_free). Returns 0; ERR_INVAL when obj is not a key object
 * (missing or mistyped keytype/scheme/keyval.public); ERR_VERIFY when the
 * keyid check fails; ERR_NOMEM.
 */
int tuf_key_parse(struct tuf_key **out, const char *keyid, const json_t *obj,
                  bool check_keyid, struct err *err);

/*
 * Compute the keyid of obj (64 lowercase hex + NUL into out).
 * Returns 0, ERR_INVAL (floats inside) or ERR_NOMEM.
 */
int tuf_key_id(char out[65], const json_t *obj, struct err *err);

/* NULL if the key can verify signatures, else a short reason (static). */
const char *tuf_key_usable(const struct tuf_key *k);

/*
 * Whether sig (raw bytes, decoded from hex) is a valid signature of msg
 * under k. Never fails otherwise: errors count as an invalid signature and
 * the OpenSSL error queue is cleared.
 */
bool tuf_key_verify(const struct tuf_key *k, const uint8_t *sig,
                    size_t siglen, const void *msg, size_t msglen);

void tuf_key_free(struct tuf_key *k);

#endif
