/* SPDX-License-Identifier: MPL-2.0 */
/* parse: strict number and address parsing (see parse.h). */
#include "common/parse.h"

#include <stdio.h>
#include <string.h>

#include "common/err.h"

int parse_u64(uint64_t *out, const char *s)
{
    uint64_t v = 0;

    if (!s || !*s || (s[0] == '0' && s[1] != '\0'))
        return ERR_INVAL;
    for (const char *p = s; *p; p++) {
        unsigned d;

        if (*p < '0' || *p > '9')
            return ERR_INVAL;
        d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10)
            return ERR_INVAL;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

int parse_u64_range(uint64_t *out, const char *s, uint64_t lo, uint64_t hi)
{
    uint64_t v;

    if (parse_u64(&v, s) < 0 || v < lo || v > hi)
        return ERR_INVAL;
    *out = v;
    return 0;
}

int parse_hostport(char *host, unsigned hostcap, uint16_t *port,
                   const char *s)
{
    const char *colon, *h = s;
    size_t hlen;
    uint64_t p;

    if (s[0] == '[') {
        const char *close = strchr(s, ']');

        if (!close || close[1] != ':')
            return ERR_INVAL;
        h = s + 1;
        hlen = (size_t)(close - h);
        colon = close + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon)
            return ERR_INVAL;
        hlen = (size_t)(colon - s);
        if (memchr(s, ':', hlen))
            return ERR_INVAL; /* bare IPv6 needs brackets */
    }
    if (hlen + 1 > hostcap)
        return ERR_INVAL;
    if (parse_u64_range(&p, colon + 1, 0, 65535) < 0)
        return ERR_INVAL;
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    *port = (uint16_t)p;
    return 0;
}
