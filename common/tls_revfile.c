/* SPDX-License-Identifier: MPL-2.0 */
/*
 * tls_revfile: a revocation list kept in a file, for services that have
 * no database (the sledagent's --tls-revoked): a JSON array of strings,
 * each a certificate serial in hex or an identity "<role>:<id>" (what
 * `replicator pki revoke` takes). Any thread.
 */
#include "common/tls_revfile.h"

#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "common/err.h"
#include "common/jsonutil.h"
#include "common/limits.h"
#include "common/tls.h"

/* One entry: "role:id" or a serial. */
static int add_entry(struct tls_revoked *set, const char *s, struct err *err)
{
    const char *colon = strchr(s, ':');
    char role[16];
    enum tls_role r;

    if (!colon)
        return tls_revoked_add_serial(set, s, err);
    if ((size_t)(colon - s) >= sizeof(role))
        return err_set(err, ERR_INVAL, "revoked entry %.80s: bad role", s);
    memcpy(role, s, (size_t)(colon - s));
    role[colon - s] = '\0';
    if (tls_role_parse(&r, role) < 0)
        return err_set(err, ERR_INVAL, "revoked entry %.80s: unknown role",
                       s);
    return tls_revoked_add_id(set, r, colon + 1, err);
}

int tls_revoked_from_json(struct tls_revoked **out, const json_t *arr,
                          bool strict, struct err *err)
{
    struct tls_revoked *set = NULL;
    size_t i;
    int rc;

    *out = NULL;
    if (!json_is_array(arr))
        return err_set(err, ERR_INVAL, "not a JSON array of serials and "
                       "role:id strings");
    if (json_array_size(arr) > LIMIT_TLS_REVOKED)
        return err_set(err, ERR_LIMIT, "more than %d revoked entries",
                       LIMIT_TLS_REVOKED);
    rc = tls_revoked_new(&set, err);
    for (i = 0; rc == 0 && i < json_array_size(arr); i++) {
        const char *s = json_string_value(json_array_get(arr, i));

        rc = s ? add_entry(set, s, err)
               : err_set(err, ERR_INVAL, "entry %zu is not a string", i);
        if (rc == 0 && strict && tls_revoked_count(set) != i + 1)
            rc = err_set(err, ERR_INVAL, "entry %.80s is given twice", s);
    }
    if (rc < 0)
        tls_revoked_free(set);
    else
        *out = set;
    return rc;
}

json_t *tls_revoked_to_json(const struct tls_revoked *set)
{
    char e[TLS_REVOKED_ENTRY_MAX];
    json_t *arr = json_array();
    size_t i;

    for (i = 0; arr && i < tls_revoked_count(set); i++) {
        if (json_array_append_new(arr, json_string(tls_revoked_entry(
                                           e, set, i))) < 0) {
            json_decref(arr);
            arr = NULL;
        }
    }
    return arr;
}

int tls_revoked_load_file(struct tls_revoked **out, const char *path,
                          struct err *err)
{
    json_t *j = NULL;
    json_error_t je;
    struct err e = ERR_INIT;
    int rc;

    *out = NULL;
    j = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!j)
        return err_set(err, ERR_IO, "%s: %s", path, je.text);
    rc = tls_revoked_from_json(out, j, false, &e);
    if (rc < 0)
        err_set(err, rc, "%s: %s", path, e.msg);
    json_decref(j);
    return rc;
}
