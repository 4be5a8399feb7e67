/* SPDX-License-Identifier: MPL-2.0 */
/*
 * jsonutil: strict JSON helpers over jansson used for every document that
 * crosses a trust boundary: duplicate object keys are rejected, a byte cap
 * is enforced, and typed getters refuse floats and out-of-range integers.
 * Pure functions, any thread.
 */
#ifndef COMMON_JSONUTIL_H
#define COMMON_JSONUTIL_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct err;

/*
 * Parse len bytes (at most cap) as one JSON value, rejecting duplicate keys
 * and NUL in strings. Returns a new reference, or NULL with err set
 * (ERR_INVAL for bad JSON, ERR_TOOBIG over cap, ERR_NOMEM).
 */
json_t *jsonu_loadb(const char *buf, size_t len, size_t cap, struct err *err);

/*
 * Read a non-negative JSON integer (never a real) into out.
 * Returns 0 or ERR_INVAL.
 */
int jsonu_u64(uint64_t *out, const json_t *v);

/* Object member that must be a string. Returns it or NULL. */
const char *jsonu_str(const json_t *obj, const char *key);

/*
 * Serialise v compactly into a new NUL-terminated string (mem_free it).
 * Returns NULL on ERR_NOMEM.
 */
char *jsonu_dumps(const json_t *v);

#endif
