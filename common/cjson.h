/* SPDX-License-Identifier: MPL-2.0 */
/*
 * cjson: OLPC canonical JSON, as TUF signs it (notes/tuf.md section 1.4):
 * object members sorted by UTF-8 bytes, no whitespace, strings escaping only
 * '\' and '"' (every other byte raw), integers only. Our own serializer, not
 * a library's sorted dump, which would escape control characters.
 * Pure function, any thread.
 */
#ifndef COMMON_CJSON_H
#define COMMON_CJSON_H

#include <jansson.h>

struct buf;
struct err;

/*
 * Append the canonical form of v to out. Returns 0, ERR_INVAL for a real
 * number (canonical JSON has none) or a value nested deeper than 64 levels
 * (no TUF document comes near it; the bound keeps the recursion short), or
 * ERR_NOMEM.
 */
int cjson_encode(struct buf *out, const json_t *v, struct err *err);

#endif
