/* SPDX-License-Identifier: MPL-2.0 */
/*
 * fuzz_urlquery: harness for the URL helpers HTTP handlers use on raw
 * request targets: urlquery_decode and urlquery_get (common/urlquery.c)
 * and httpd_query_generation / httpd_path_sha256 (common/httpd.c), on a
 * NUL-terminated copy of the input. Properties: a decoded value fits its
 * buffer, holds no NUL, is never longer than its source, and equals the
 * source when that has no '%' or '+'; percent-encoding the decoded bytes
 * and decoding again gives them back; an accepted generation prints back
 * to the query's value; an accepted sha256 segment is 64 lowercase hex
 * characters that print back the same. Single-threaded.
 */
#include "tests/fuzz/fuzz.h"

#include <stdbool.h>

#include "common/err.h"
#include "common/httpd.h"
#include "common/sha256.h"
#include "common/urlquery.h"

#define OUT_CAP 256

static void check_decode(const char *s, size_t n, size_t cap, bool plus)
{
    char out[OUT_CAP], again[OUT_CAP];
    char enc[3 * OUT_CAP + 1];
    struct err err = ERR_INIT;
    size_t len;

    if (urlquery_decode(out, cap, s, n, plus, &err) < 0) {
        FUZZ_CHECK(err.msg[0] != '\0');
        return;
    }
    len = strlen(out);
    FUZZ_CHECK(len < cap && len <= n);
    if (!memchr(s, '%', n) && (!plus || !memchr(s, '+', n)))
        FUZZ_CHECK(len == n && memcmp(out, s, n) == 0);
    for (size_t i = 0; i < len; i++)
        snprintf(enc + 3 * i, 4, "%%%02X", (unsigned char)out[i]);
    FUZZ_CHECK(urlquery_decode(again, sizeof(again), enc, 3 * len, plus,
                               &err) == 0);
    FUZZ_CHECK(strcmp(again, out) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char out[OUT_CAP];
    struct err err = ERR_INIT;
    struct sha256 h;
    uint64_t gen = 0;
    const char *p;
    char *s;
    int rc;

    mem_init();
    s = fuzz_strndup(data, size);
    if (!s)
        return 0;
    /* Callers hand over C strings: decode up to the first NUL. */
    check_decode(s, strlen(s), OUT_CAP, true);
    check_decode(s, strlen(s), OUT_CAP, false);
    check_decode(s, strlen(s), 1 + size % 8, true);
    rc = urlquery_get(out, sizeof(out), s, "generation", &err);
    FUZZ_CHECK(rc == 0 || rc == ERR_NOTFOUND || rc == ERR_INVAL ||
               rc == ERR_LIMIT);
    if (rc == 0)
        FUZZ_CHECK(strlen(out) < sizeof(out));
    if (httpd_query_generation(&gen, s, &err) == 0) {
        char back[40];

        snprintf(back, sizeof(back), "generation=%llu",
                 (unsigned long long)gen);
        FUZZ_CHECK(strcmp(back, s) == 0 && gen <= INT64_MAX);
    }
    p = s;
    if (httpd_path_sha256(&h, &p, &err) == 0) {
        char hex[SHA256_HEX_LEN + 1];

        sha256_to_hex(hex, &h);
        FUZZ_CHECK(p == s + SHA256_HEX_LEN && (*p == '\0' || *p == '/'));
        FUZZ_CHECK(memcmp(hex, s, SHA256_HEX_LEN) == 0);
    }
    mem_free(s);
    return 0;
}
