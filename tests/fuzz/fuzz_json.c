/* SPDX-License-Identifier: MPL-2.0 */
/*
 * fuzz_json: harness for the strict JSON loader (jsonu_loadb, common/
 * jsonutil.c) and the canonical JSON encoder (cjson_encode, common/
 * cjson.c) that TUF signatures are computed over. Properties: a refusal
 * carries a message; cjson_encode succeeds unless the value holds a
 * real or a value (scalars count) nested deeper than cjson's 64 levels;
 * the canonical bytes have no whitespace outside strings; and when no
 * string holds a control byte
 * (canonical JSON leaves them raw, which strict JSON refuses) the
 * canonical bytes re-load to an equal value that re-encodes to identical
 * bytes. Single-threaded.
 */
#include "tests/fuzz/fuzz.h"

#include <stdbool.h>

#include <jansson.h>

#include "common/buf.h"
#include "common/cjson.h"
#include "common/err.h"
#include "common/jsonutil.h"

#define CAP (1u << 20)
#define CJSON_MAX_DEPTH 64 /* encode() in common/cjson.c */

struct shape {
    bool real;      /* a JSON real somewhere */
    bool ctl;       /* a key or string with a byte < 0x20 */
    int depth;      /* deepest value (scalars too), the top one being 0 */
};

static bool has_ctl(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20)
            return true;
    return false;
}

static void walk(struct shape *sh, const json_t *v, int depth)
{
    const char *k;
    json_t *m;

    /* cjson's encode() counts every value, a scalar in the 65th array
     * too, against its limit. */
    sh->depth = depth > sh->depth ? depth : sh->depth;
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        json_object_foreach((json_t *)v, k, m) {
            sh->ctl = sh->ctl || has_ctl(k, strlen(k));
            walk(sh, m, depth + 1);
        }
        break;
    case JSON_ARRAY:
        for (size_t i = 0; i < json_array_size(v); i++)
            walk(sh, json_array_get(v, i), depth + 1);
        break;
    case JSON_STRING:
        sh->ctl = sh->ctl ||
                  has_ctl(json_string_value(v), json_string_length(v));
        break;
    case JSON_REAL:
        sh->real = true;
        break;
    default:
        break;
    }
}

/* No whitespace between tokens: outside strings no byte is blank. */
static bool compact(const struct buf *b)
{
    bool in_str = false;

    for (size_t i = 0; i < b->len; i++) {
        char c = b->data[i];

        if (in_str && c == '\\')
            i++;
        else if (c == '"')
            in_str = !in_str;
        else if (!in_str && (c == ' ' || c == '\n' || c == '\t' || c == '\r'))
            return false;
    }
    return !in_str;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct buf canon = BUF_INIT, again = BUF_INIT;
    struct err err = ERR_INIT;
    struct shape sh = {false, false, 0};
    json_t *v = NULL, *back = NULL;
    int rc;

    mem_init();
    v = jsonu_loadb((const char *)data, size, CAP, &err);
    if (!v) {
        FUZZ_CHECK(err.code < 0 && err.msg[0] != '\0');
        goto out;
    }
    walk(&sh, v, 0);
    rc = cjson_encode(&canon, v, &err);
    if (sh.real || sh.depth > CJSON_MAX_DEPTH) {
        FUZZ_CHECK(rc == ERR_INVAL && err.msg[0] != '\0');
        goto out;
    }
    FUZZ_CHECK(rc == 0);
    FUZZ_CHECK(canon.len > 0 && compact(&canon));
    if (sh.ctl)
        goto out;
    err_clear(&err);
    back = jsonu_loadb(canon.data, canon.len, CAP * 8, &err);
    if (!back)
        fprintf(stderr, "canonical form does not re-load: %s\n", err.msg);
    FUZZ_CHECK(back != NULL);
    FUZZ_CHECK(json_equal(v, back));
    FUZZ_CHECK(cjson_encode(&again, back, &err) == 0);
    FUZZ_CHECK(again.len == canon.len &&
               memcmp(again.data, canon.data, canon.len) == 0);
out:
    buf_release(&again);
    buf_release(&canon);
    json_decref(back);
    json_decref(v);
    return 0;
}
