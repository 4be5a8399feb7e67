/* SPDX-License-Identifier: MPL-2.0 */
/*
 * fuzz_parse: harness for the strict number and address parsers of
 * common/parse.c (parse_u64, parse_u64_range, parse_hostport), run on a
 * NUL-terminated copy of the input as their callers (flags, query strings,
 * headers) do. Properties: an accepted number printed with %llu gives back
 * the input exactly (no sign, no leading zero, no overflow slips through);
 * parse_u64_range agrees with parse_u64 plus the bounds; an accepted
 * HOST:PORT rebuilds to the input ("[host]:port" when the input was
 * bracketed), the host fits its buffer and holds no ':' unless bracketed.
 * Single-threaded.
 */
#include "tests/fuzz/fuzz.h"

#include <stdbool.h>

#include "common/buf.h"
#include "common/parse.h"

static void check_u64(const char *s)
{
    uint64_t v = 0, r = 0;
    char back[32];
    int rc = parse_u64(&v, s), rrc;

    if (rc == 0) {
        snprintf(back, sizeof(back), "%llu", (unsigned long long)v);
        FUZZ_CHECK(strcmp(back, s) == 0);
    }
    rrc = parse_u64_range(&r, s, 10, 65535);
    FUZZ_CHECK((rrc == 0) == (rc == 0 && v >= 10 && v <= 65535));
    if (rrc == 0)
        FUZZ_CHECK(r == v);
}

static void check_hostport(const char *s, unsigned hostcap)
{
    char host[64];
    uint16_t port = 0;
    struct buf back = BUF_INIT;
    bool bracket = s[0] == '[';

    memset(host, 'x', sizeof(host));
    if (parse_hostport(host, hostcap, &port, s) < 0)
        return;
    FUZZ_CHECK(strlen(host) < hostcap);
    FUZZ_CHECK(bracket || strchr(host, ':') == NULL);
    FUZZ_CHECK(buf_printf(&back, bracket ? "[%s]:%u" : "%s:%u", host,
                          (unsigned)port) == 0);
    FUZZ_CHECK(strcmp(back.data, s) == 0);
    buf_release(&back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s;

    mem_init();
    s = fuzz_strndup(data, size);
    if (!s)
        return 0;
    /* The parsers stop at the first NUL, as a C caller would. */
    check_u64(s);
    check_hostport(s, 64);
    check_hostport(s, 1 + (size % 16));
    mem_free(s);
    return 0;
}
