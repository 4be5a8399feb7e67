/* SPDX-License-Identifier: MPL-2.0 */
/* jsonutil: strict JSON parsing and typed getters (see jsonutil.h). */
#include "common/jsonutil.h"

#include "common/err.h"

json_t *jsonu_loadb(const char *buf, size_t len, size_t cap, struct err *err)
{
    json_error_t jerr;
    json_t *v;

    if (len > cap) {
        err_set(err, ERR_TOOBIG, "JSON body of %zu bytes is over the %zu-byte cap",
                len, cap);
        return NULL;
    }
    v = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
    /* jansson reports some allocation failures with no error text at all. */
    if (!v && (json_error_code(&jerr) == json_error_out_of_memory ||
               jerr.text[0] == '\0'))
        err_set(err, ERR_NOMEM, "JSON: out of memory");
    else if (!v)
        err_set(err, ERR_INVAL, "invalid JSON at line %d column %d: %s",
                jerr.line, jerr.column, jerr.text);
    return v;
}

int jsonu_u64(uint64_t *out, const json_t *v)
{
    json_int_t i;

    if (!json_is_integer(v))
        return ERR_INVAL;
    i = json_integer_value(v);
    if (i < 0)
        return ERR_INVAL;
    *out = (uint64_t)i;
    return 0;
}

const char *jsonu_str(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);

    return json_is_string(v) ? json_string_value(v) : NULL;
}

char *jsonu_dumps(const json_t *v)
{
    return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
}
