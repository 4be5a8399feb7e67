/* SPDX-License-Identifier: MPL-2.0 */
/*
 * range: HTTP Range header parsing for the depot (see range.h). Pure
 * functions, any thread.
 */
#include "sledagent/range.h"

#include <stdbool.h>
#include <string.h>

#include "common/parse.h"

/* Parse digits [s, e) strictly (parse_u64 rules). */
static bool num(uint64_t *out, const char *s, const char *e)
{
    char tmp[24];
    size_t n = (size_t)(e - s);

    if (n == 0 || n >= sizeof(tmp))
        return false;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    return parse_u64(out, tmp) == 0;
}

enum range_result range_parse(struct range *out, const char *header,
                              uint64_t size)
{
    const char *spec, *dash, *end;
    uint64_t a = 0, b = 0;
    bool has_a, has_b;

    out->start = 0;
    out->len = size;
    if (!header || strncmp(header, "bytes=", 6) != 0)
        return RANGE_FULL;
    spec = header + 6;
    while (*spec == ' ')
        spec++;
    end = spec + strlen(spec);
    while (end > spec && end[-1] == ' ')
        end--;
    if (memchr(spec, ',', (size_t)(end - spec)))
        return RANGE_FULL; /* multi-range: ignored (documented) */
    dash = memchr(spec, '-', (size_t)(end - spec));
    if (!dash)
        return RANGE_FULL;
    has_a = dash > spec;
    has_b = dash + 1 < end;
    if (has_a && !num(&a, spec, dash))
        return RANGE_FULL;
    if (has_b && !num(&b, dash + 1, end))
        return RANGE_FULL;
    if (!has_a && !has_b)
        return RANGE_FULL;
    if (!has_a) {
        /* suffix: the last b bytes */
        if (b == 0 || size == 0)
            return RANGE_UNSATISFIABLE;
        if (b > size)
            b = size;
        out->start = size - b;
        out->len = b;
        return RANGE_PARTIAL;
    }
    if (has_b && b < a)
        return RANGE_FULL; /* invalid syntax per RFC: ignore */
    if (a >= size)
        return RANGE_UNSATISFIABLE;
    if (!has_b || b >= size)
        b = size - 1;
    out->start = a;
    out->len = b - a + 1;
    return RANGE_PARTIAL;
}
