/* SPDX-License-Identifier: MPL-2.0 */
/*
 * fuzz_range: harness for range_parse (sledagent/range.c), the HTTP Range
 * header of the depot. The first 8 input bytes (little-endian) are the
 * file size (several sizes, including 0 and the extremes, are tried too),
 * the rest is the header value. Properties: RANGE_PARTIAL lies inside the
 * file (start < size, 0 < len <= size - start); RANGE_FULL covers the
 * whole file; RANGE_UNSATISFIABLE only for a header that names bytes; a
 * missing header is always RANGE_FULL. Single-threaded.
 */
#include "tests/fuzz/fuzz.h"

#include "sledagent/range.h"

static void check(const char *h, uint64_t size)
{
    struct range r = {12345, 67890};
    enum range_result res = range_parse(&r, h, size);

    switch (res) {
    case RANGE_FULL:
        FUZZ_CHECK(r.start == 0 && r.len == size);
        break;
    case RANGE_PARTIAL:
        FUZZ_CHECK(r.start < size);
        FUZZ_CHECK(r.len > 0 && r.len <= size - r.start);
        break;
    case RANGE_UNSATISFIABLE:
        FUZZ_CHECK(h && strncmp(h, "bytes=", 6) == 0);
        break;
    default:
        FUZZ_CHECK(!"unknown range_result");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint64_t sizes[] = {0, 1, 2, 100, 1u << 20, UINT64_MAX - 1,
                                     UINT64_MAX};
    uint64_t fsize = 0;
    char *h;

    mem_init();
    for (size_t i = 0; i < 8 && i < size; i++)
        fsize |= (uint64_t)data[i] << (8 * i);
    h = fuzz_strndup(data + (size < 8 ? size : 8), size < 8 ? 0 : size - 8);
    if (!h)
        return 0;
    check(h, fsize);
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
        check(h, sizes[i]);
    check(NULL, fsize);
    mem_free(h);
    return 0;
}
