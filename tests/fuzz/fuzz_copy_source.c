/* SPDX-License-Identifier: MPL-2.0 */
/*
 * fuzz_copy_source: harness for copy_source_parse (sledagent/
 * copy_source.c), the copy-from-depot body. The input is parsed as JSON
 * and also wrapped as {"depot_base_url": <input>}; both are tried with
 * TLS off and on. Properties: an accepted source has the scheme of the
 * mode, then only digits, dots, colons, brackets and hex letters, a port
 * after the last colon, no final '/', and a sled id that is empty or a
 * lowercase UUID; a refusal is ERR_INVAL with a message. Single-threaded.
 */
#include "tests/fuzz/fuzz.h"

#include <jansson.h>

#include "common/err.h"
#include "sledagent/copy_source.h"

static void check(const json_t *body, bool tls)
{
    struct copy_source s;
    struct err e = ERR_INIT;
    const char *scheme = tls ? "https://" : "http://";
    int rc = copy_source_parse(&s, body, tls, &e);
    size_t n;

    if (rc < 0) {
        FUZZ_CHECK(rc == ERR_INVAL && e.msg[0]);
        return;
    }
    FUZZ_CHECK(strncmp(s.base, scheme, strlen(scheme)) == 0);
    n = strlen(s.base);
    FUZZ_CHECK(n > strlen(scheme) && s.base[n - 1] >= '0' &&
               s.base[n - 1] <= '9');
    FUZZ_CHECK(strspn(s.base + strlen(scheme), "0123456789.:[]abcdefABCDEF")
               == n - strlen(scheme));
    FUZZ_CHECK(!s.sled_id[0] || tls_uuid_valid(s.sled_id));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text;
    json_t *j, *wrap;

    mem_init();
    text = fuzz_strndup(data, size);
    if (!text)
        return 0;
    j = json_loads(text, JSON_DECODE_ANY, NULL);
    if (j) {
        check(j, false);
        check(j, true);
    }
    wrap = json_pack("{s:s}", "depot_base_url", text);
    if (wrap) {
        check(wrap, false);
        check(wrap, true);
    }
    json_decref(j);
    json_decref(wrap);
    mem_free(text);
    return 0;
}
