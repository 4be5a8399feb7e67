/* SPDX-License-Identifier: MPL-2.0 */
/* cjson: OLPC canonical JSON serializer (see cjson.h). */
#include "common/cjson.h"

#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/mem.h"

static int put_string(struct buf *out, const char *s, size_t n)
{
    int rc = buf_putc(out, '"');

    for (size_t i = 0; i < n && rc == 0; i++) {
        if (s[i] == '"' || s[i] == '\\')
            rc = buf_putc(out, '\\');
        if (rc == 0)
            rc = buf_putc(out, s[i]);
    }
    return rc ? rc : buf_putc(out, '"');
}

static int key_cmp(const void *a, const void *b)
{
    /* strcmp compares as unsigned char: UTF-8 byte order. */
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int encode(struct buf *out, const json_t *v, struct err *err,
                  int depth)
{
    int rc = 0;

    if (depth > 64)
        return err_set(err, ERR_INVAL, "canonical JSON: nesting too deep");
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        size_t n = json_object_size(v), i = 0;
        const char **keys = mem_calloc(n ? n : 1, sizeof(*keys));
        const char *k;
        json_t *member;

        if (!keys)
            return ERR_NOMEM;
        json_object_foreach((json_t *)v, k, member)
            keys[i++] = k;
        qsort(keys, n, sizeof(*keys), key_cmp);
        rc = buf_putc(out, '{');
        for (i = 0; i < n && rc == 0; i++) {
            if (i)
                rc = buf_putc(out, ',');
            if (rc == 0)
                rc = put_string(out, keys[i], strlen(keys[i]));
            if (rc == 0)
                rc = buf_putc(out, ':');
            if (rc == 0)
                rc = encode(out, json_object_get(v, keys[i]), err, depth + 1);
        }
        mem_free(keys);
        return rc ? rc : buf_putc(out, '}');
    }
    case JSON_ARRAY:
        rc = buf_putc(out, '[');
        for (size_t i = 0; i < json_array_size(v) && rc == 0; i++) {
            if (i)
                rc = buf_putc(out, ',');
            if (rc == 0)
                rc = encode(out, json_array_get(v, i), err, depth + 1);
        }
        return rc ? rc : buf_putc(out, ']');
    case JSON_STRING:
        return put_string(out, json_string_value(v), json_string_length(v));
    case JSON_INTEGER:
        return buf_printf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    case JSON_REAL:
        return err_set(err, ERR_INVAL, "canonical JSON: floats are not allowed");
    case JSON_TRUE:
        return buf_puts(out, "true");
    case JSON_FALSE:
        return buf_puts(out, "false");
    case JSON_NULL:
        return buf_puts(out, "null");
    }
    return err_set(err, ERR_INTERNAL, "canonical JSON: unknown value type");
}

int cjson_encode(struct buf *out, const json_t *v, struct err *err)
{
    int rc = encode(out, v, err, 0);

    if (rc == ERR_NOMEM)
        err_set(err, ERR_NOMEM, "canonical JSON: out of memory");
    return rc;
}
