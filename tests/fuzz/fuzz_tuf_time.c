/* SPDX-License-Identifier: MPL-2.0 */
/*
 * fuzz_tuf_time: harness for tuf_time_parse and tuf_time_format (common/
 * tuf_time.c), the "expires" dates of TUF metadata, on a NUL-terminated
 * copy of the input, strict and lenient. Properties: whatever the strict
 * parser accepts the lenient one accepts with the same time; formatting a
 * strictly accepted date gives back the input byte for byte; formatting
 * any accepted time and parsing the result strictly gives the same time
 * (unless the year left 0000..9999 and the formatter clamped it); and
 * every formatted time, even of arbitrary values, parses strictly.
 * Single-threaded.
 */
#include "tests/fuzz/fuzz.h"

#include <stdbool.h>

#include "common/tuf_time.h"

#define MIN_T INT64_C(-62167219200) /* 0000-01-01T00:00:00Z */
#define MAX_T INT64_C(253402300799) /* 9999-12-31T23:59:59Z */

static void check_roundtrip(int64_t t)
{
    char s[TUF_TIME_STR_LEN];
    int64_t back = 0;

    tuf_time_format(s, t);
    FUZZ_CHECK(strlen(s) == TUF_TIME_STR_LEN - 1);
    FUZZ_CHECK(tuf_time_parse(&back, s, false) == 0);
    if (t >= MIN_T && t <= MAX_T)
        FUZZ_CHECK(back == t);
    else
        FUZZ_CHECK(back == (t < MIN_T ? MIN_T : MAX_T));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int64_t strict = 0, lenient = 0, raw = 0;
    int src, lrc;
    char *s;
    char fmt[TUF_TIME_STR_LEN];

    mem_init();
    s = fuzz_strndup(data, size);
    if (!s)
        return 0;
    src = tuf_time_parse(&strict, s, false);
    lrc = tuf_time_parse(&lenient, s, true);
    if (src == 0) {
        FUZZ_CHECK(lrc == 0 && lenient == strict);
        tuf_time_format(fmt, strict);
        FUZZ_CHECK(strcmp(fmt, s) == 0);
        check_roundtrip(strict);
    }
    if (lrc == 0)
        check_roundtrip(lenient);
    /* The first 8 bytes as an arbitrary time value. */
    for (size_t i = 0; i < 8 && i < size; i++)
        raw |= (int64_t)((uint64_t)data[i] << (8 * i));
    check_roundtrip(raw);
    mem_free(s);
    return 0;
}
