/* SPDX-License-Identifier: MPL-2.0 */
/*
 * urlquery: percent-decoding of URL path segments and lookup of one
 * parameter in an application/x-www-form-urlencoded query string, for
 * HTTP handlers on common/httpd (which hands out the raw path and query).
 * Strict: malformed escapes and decoded NUL bytes are errors, never
 * silently passed through. Pure functions; any thread.
 */
#ifndef COMMON_URLQUERY_H
#define COMMON_URLQUERY_H

#include <stdbool.h>
#include <stddef.h>

struct err;

/*
 * Decode the n bytes at s ("%XX" escapes; '+' is a space only when
 * plus_space) into out (capacity cap, NUL-terminated). Returns 0;
 * ERR_INVAL (bad escape or a decoded NUL, err says so) or ERR_LIMIT
 * (does not fit in cap).
 */
int urlquery_decode(char *out, size_t cap, const char *s, size_t n,
                    bool plus_space, struct err *err);

/*
 * Find key in query ("a=1&b=2", may be NULL) and decode its value into
 * out (capacity cap). A key given twice is ERR_INVAL (ambiguous). Returns
 * 0, ERR_NOTFOUND (absent), ERR_INVAL or ERR_LIMIT (see urlquery_decode).
 */
int urlquery_get(char *out, size_t cap, const char *query, const char *key,
                 struct err *err);

#endif
