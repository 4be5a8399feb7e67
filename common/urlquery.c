/* SPDX-License-Identifier: MPL-2.0 */
/*
 * urlquery: percent-decoding and query-parameter lookup (see urlquery.h).
 * No allocation; any thread.
 */
#include "common/urlquery.h"

#include <string.h>

#include "common/err.h"
#include "common/hex.h"

int urlquery_decode(char *out, size_t cap, const char *s, size_t n,
                    bool plus_space, struct err *err)
{
    size_t o = 0;

    for (size_t i = 0; i < n; i++) {
        char c = s[i];

        if (c == '%') {
            int hi = i + 2 < n ? hex_digit(s[i + 1]) : -1;
            int lo = i + 2 < n ? hex_digit(s[i + 2]) : -1;

            if (hi < 0 || lo < 0)
                return err_set(err, ERR_INVAL, "bad percent-escape in URL");
            c = (char)(hi * 16 + lo);
            if (c == '\0')
                return err_set(err, ERR_INVAL, "%%00 is not allowed in URL");
            i += 2;
        } else if (c == '+' && plus_space) {
            c = ' ';
        }
        if (o + 1 >= cap)
            return err_set(err, ERR_LIMIT, "URL component longer than %zu "
                           "bytes", cap ? cap - 1 : 0);
        out[o++] = c;
    }
    if (cap == 0)
        return err_set(err, ERR_LIMIT, "URL component buffer is empty");
    out[o] = '\0';
    return 0;
}

int urlquery_get(char *out, size_t cap, const char *query, const char *key,
                 struct err *err)
{
    size_t klen = strlen(key);
    const char *found = NULL;
    size_t flen = 0;

    for (const char *p = query; p && *p;) {
        const char *amp = strchr(p, '&');
        size_t len = amp ? (size_t)(amp - p) : strlen(p);

        if (len >= klen && strncmp(p, key, klen) == 0 &&
            (len == klen || p[klen] == '=')) {
            if (found)
                return err_set(err, ERR_INVAL, "query parameter %s given "
                               "more than once", key);
            found = len == klen ? p + len : p + klen + 1;
            flen = len == klen ? 0 : len - klen - 1;
        }
        p = amp ? amp + 1 : p + len;
    }
    if (!found)
        return ERR_NOTFOUND;
    return urlquery_decode(out, cap, found, flen, true, err);
}
