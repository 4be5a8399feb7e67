/* SPDX-License-Identifier: MPL-2.0 */
/*
 * pki_index: the index.json of a rack CA directory (see pki_index.h). The
 * document is kept as jansson values, checked entry by entry on load so
 * the getters can trust it. Main thread of the command-line tool.
 */
#include "replicator/pki_index.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/fsutil.h"
#include "common/jsonutil.h"
#include "common/limits.h"
#include "common/mem.h"

#define INDEX_FORMAT 1
/* index.json size cap: a few hundred bytes per certificate */
#define INDEX_MAX_BYTES (LIMIT_PKI_INDEX_CERTS * 512u)

struct pki_index {
    json_t *doc;
    json_t *certs;       /* borrowed from doc */
    json_t *revoked_ids; /* borrowed from doc */
};

static int64_t int_of(const json_t *o, const char *key)
{
    return (int64_t)json_integer_value(json_object_get(o, key));
}

static int wrap(struct pki_index **out, json_t *doc, struct err *err)
{
    struct pki_index *idx = mem_calloc(1, sizeof(*idx));

    if (!idx) {
        json_decref(doc);
        return err_set(err, ERR_NOMEM, "out of memory");
    }
    idx->doc = doc;
    idx->certs = json_object_get(doc, "certs");
    idx->revoked_ids = json_object_get(doc, "revoked_ids");
    *out = idx;
    return 0;
}

int pki_index_new(struct pki_index **out, const char *rack_id,
                  const char *ca_serial, struct err *err)
{
    json_t *doc = json_pack("{s:i, s:s, s:s, s:[], s:[]}", "format",
                            INDEX_FORMAT, "rack_id", rack_id, "ca_serial",
                            ca_serial, "certs", "revoked_ids");

    *out = NULL;
    if (!doc)
        return err_set(err, ERR_NOMEM, "out of memory");
    return wrap(out, doc, err);
}

void pki_index_free(struct pki_index *idx)
{
    if (!idx)
        return;
    json_decref(idx->doc);
    mem_free(idx);
}

/* Entry e (of "certs" when cert, else "revoked_ids") is well formed. */
static bool entry_ok(const json_t *e, bool cert)
{
    enum tls_role role;
    const char *serial = jsonu_str(e, "serial");

    if (!json_is_object(e) || tls_role_parse(&role, jsonu_str(e, "role")) < 0
        || tls_id_check(role, jsonu_str(e, "id"), NULL) < 0)
        return false;
    if (!cert)
        return json_is_integer(json_object_get(e, "time_revoked")) &&
               json_is_string(json_object_get(e, "reason"));
    if (!serial || strlen(serial) == 0 ||
        strlen(serial) > TLS_SERIAL_HEX_MAX ||
        strspn(serial, "0123456789abcdef") != strlen(serial))
        return false;
    return json_is_integer(json_object_get(e, "not_before")) &&
           json_is_integer(json_object_get(e, "not_after")) &&
           json_is_boolean(json_object_get(e, "revoked"));
}

static int check_doc(const json_t *doc, const char *path, struct err *err)
{
    const json_t *certs = json_object_get(doc, "certs");
    const json_t *ids = json_object_get(doc, "revoked_ids");
    size_t i;

    if (int_of(doc, "format") != INDEX_FORMAT ||
        !tls_uuid_valid(jsonu_str(doc, "rack_id")) ||
        !jsonu_str(doc, "ca_serial") || !json_is_array(certs) ||
        !json_is_array(ids))
        return err_set(err, ERR_VERIFY, "%s: not a format %d PKI index",
                       path, INDEX_FORMAT);
    if (json_array_size(certs) > LIMIT_PKI_INDEX_CERTS ||
        json_array_size(ids) > LIMIT_PKI_INDEX_CERTS)
        return err_set(err, ERR_VERIFY, "%s: more than %d entries", path,
                       LIMIT_PKI_INDEX_CERTS);
    for (i = 0; i < json_array_size(certs); i++)
        if (!entry_ok(json_array_get(certs, i), true))
            return err_set(err, ERR_VERIFY, "%s: certs[%zu] is malformed",
                           path, i);
    for (i = 0; i < json_array_size(ids); i++)
        if (!entry_ok(json_array_get(ids, i), false))
            return err_set(err, ERR_VERIFY, "%s: revoked_ids[%zu] is "
                           "malformed", path, i);
    return 0;
}

int pki_index_load(struct pki_index **out, const char *dir, struct err *err)
{
    struct buf path = BUF_INIT, text = BUF_INIT;
    struct err e = ERR_INIT;
    json_t *doc = NULL;
    int rc = 0;

    *out = NULL;
    if (buf_printf(&path, "%s/" PKI_INDEX_FILE, dir) < 0) {
        rc = err_set(err, ERR_NOMEM, "out of memory");
        goto out;
    }
    rc = fsutil_read_file(&text, path.data, INDEX_MAX_BYTES, err);
    if (rc == ERR_NOTFOUND)
        rc = err_set(err, ERR_NOTFOUND, "%s: no PKI index (run `replicator "
                     "pki init` first)", path.data);
    if (rc < 0)
        goto out;
    doc = jsonu_loadb(text.data, text.len, INDEX_MAX_BYTES, &e);
    if (!doc) {
        rc = err_set(err, e.code == ERR_NOMEM ? ERR_NOMEM : ERR_VERIFY,
                     "%s: %s", path.data, e.msg);
        goto out;
    }
    rc = check_doc(doc, path.data, err);
    if (rc == 0) {
        rc = wrap(out, doc, err);
        doc = NULL;
    }
out:
    json_decref(doc);
    buf_release(&path);
    buf_release(&text);
    return rc;
}

int pki_index_save(const struct pki_index *idx, const char *dir,
                   struct err *err)
{
    struct buf path = BUF_INIT;
    char *text = json_dumps(idx->doc, JSON_INDENT(2) | JSON_SORT_KEYS);
    int rc = 0;

    if (!text || buf_printf(&path, "%s/" PKI_INDEX_FILE, dir) < 0) {
        rc = err_set(err, ERR_NOMEM, "out of memory");
        goto out;
    }
    rc = fsutil_write_atomic(path.data, NULL, text, strlen(text), 0644,
                             err);
out:
    mem_free(text); /* jansson allocates with the C library (mem.h) */
    buf_release(&path);
    return rc;
}

const char *pki_index_rack_id(const struct pki_index *idx)
{
    return jsonu_str(idx->doc, "rack_id");
}

size_t pki_index_count(const struct pki_index *idx)
{
    return json_array_size(idx->certs);
}

void pki_index_get(struct pki_cert *out, const struct pki_index *idx,
                   size_t i)
{
    const json_t *e = json_array_get(idx->certs, i);
    const char *reason = jsonu_str(e, "reason");

    out->serial = jsonu_str(e, "serial");
    tls_role_parse(&out->role, jsonu_str(e, "role"));
    out->id = jsonu_str(e, "id");
    out->not_before = int_of(e, "not_before");
    out->not_after = int_of(e, "not_after");
    out->revoked = json_is_true(json_object_get(e, "revoked"));
    out->time_revoked = int_of(e, "time_revoked");
    out->reason = reason ? reason : "";
}

int pki_index_add(struct pki_index *idx, const char *serial,
                  enum tls_role role, const char *id, int64_t not_before,
                  int64_t not_after, struct err *err)
{
    json_t *e;

    if (json_array_size(idx->certs) >= LIMIT_PKI_INDEX_CERTS)
        return err_set(err, ERR_LIMIT, "the index holds %d certificates "
                       "already", LIMIT_PKI_INDEX_CERTS);
    e = json_pack("{s:s, s:s, s:s, s:I, s:I, s:b}", "serial", serial, "role",
                  tls_role_name(role), "id", id, "not_before",
                  (json_int_t)not_before, "not_after", (json_int_t)not_after,
                  "revoked", 0);
    if (!e || json_array_append_new(idx->certs, e) < 0)
        return err_set(err, ERR_NOMEM, "out of memory");
    return 0;
}

static bool same_identity(const json_t *e, enum tls_role role, const char *id)
{
    const char *r = jsonu_str(e, "role"), *i = jsonu_str(e, "id");

    return r && i && strcmp(r, tls_role_name(role)) == 0 &&
           strcmp(i, id) == 0;
}

bool pki_index_id_revoked(const struct pki_index *idx, enum tls_role role,
                          const char *id)
{
    size_t i;

    for (i = 0; i < json_array_size(idx->revoked_ids); i++)
        if (same_identity(json_array_get(idx->revoked_ids, i), role, id))
            return true;
    return false;
}

/* Mark a certificate entry revoked (if it is not already). */
static int mark(json_t *e, const char *reason, int64_t now, bool *already)
{
    *already = json_is_true(json_object_get(e, "revoked"));
    if (*already)
        return 0;
    if (json_object_set_new(e, "revoked", json_true()) < 0 ||
        json_object_set_new(e, "time_revoked", json_integer(now)) < 0 ||
        json_object_set_new(e, "reason", json_string(reason)) < 0)
        return ERR_NOMEM;
    return 0;
}

/* The one role under which id appears in certs (role 0: any). */
static int find_role(enum tls_role *out, const struct pki_index *idx,
                     const char *id, enum tls_role role, struct err *err)
{
    enum tls_role r;
    size_t i;

    *out = 0;
    for (i = 0; i < json_array_size(idx->certs); i++) {
        const json_t *e = json_array_get(idx->certs, i);

        if (strcmp(jsonu_str(e, "id"), id) != 0 ||
            tls_role_parse(&r, jsonu_str(e, "role")) < 0 ||
            (role && r != role))
            continue;
        if (*out && *out != r)
            return err_set(err, ERR_CONFLICT, "id %s exists as %s and as %s: "
                           "give --role", id, tls_role_name(*out),
                           tls_role_name(r));
        *out = r;
    }
    if (!*out)
        return err_set(err, ERR_NOTFOUND, "no certificate with serial or id "
                       "%.80s in the index", id);
    return 0;
}

static int revoke_id(struct pki_revocation *out, struct pki_index *idx,
                     const char *reason, int64_t now, struct err *err)
{
    json_t *e;
    bool already;
    size_t i;

    out->already = pki_index_id_revoked(idx, out->role, out->id);
    for (i = 0; i < json_array_size(idx->certs); i++) {
        e = json_array_get(idx->certs, i);
        if (same_identity(e, out->role, out->id) &&
            mark(e, reason, now, &already) < 0)
            return err_set(err, ERR_NOMEM, "out of memory");
    }
    if (out->already)
        return 0;
    e = json_pack("{s:s, s:s, s:I, s:s}", "role", tls_role_name(out->role),
                  "id", out->id, "time_revoked", (json_int_t)now, "reason",
                  reason);
    if (!e || json_array_append_new(idx->revoked_ids, e) < 0)
        return err_set(err, ERR_NOMEM, "out of memory");
    return 0;
}

int pki_index_revoke(struct pki_revocation *out, struct pki_index *idx,
                     const char *what, enum tls_role role, const char *reason,
                     int64_t now, struct err *err)
{
    size_t i;
    int rc;

    memset(out, 0, sizeof(*out));
    if (!reason || strlen(reason) > PKI_REASON_MAX)
        return err_set(err, ERR_INVAL, "reason longer than %d bytes",
                       PKI_REASON_MAX);
    for (i = 0; i < json_array_size(idx->certs); i++) {
        json_t *e = json_array_get(idx->certs, i);

        if (strcasecmp(jsonu_str(e, "serial"), what) != 0)
            continue;
        out->by_serial = true;
        snprintf(out->serial, sizeof(out->serial), "%s",
                 jsonu_str(e, "serial"));
        tls_role_parse(&out->role, jsonu_str(e, "role"));
        snprintf(out->id, sizeof(out->id), "%s", jsonu_str(e, "id"));
        if (mark(e, reason, now, &out->already) < 0)
            return err_set(err, ERR_NOMEM, "out of memory");
        return 0;
    }
    rc = find_role(&out->role, idx, what, role, err);
    if (rc < 0)
        return rc;
    snprintf(out->id, sizeof(out->id), "%s", what);
    return revoke_id(out, idx, reason, now, err);
}

int pki_index_revoked_set(struct tls_revoked **out,
                          const struct pki_index *idx, struct err *err)
{
    enum tls_role role;
    size_t i;
    int rc = tls_revoked_new(out, err);

    for (i = 0; rc == 0 && i < json_array_size(idx->certs); i++) {
        const json_t *e = json_array_get(idx->certs, i);

        if (json_is_true(json_object_get(e, "revoked")))
            rc = tls_revoked_add_serial(*out, jsonu_str(e, "serial"), err);
    }
    for (i = 0; rc == 0 && i < json_array_size(idx->revoked_ids); i++) {
        const json_t *e = json_array_get(idx->revoked_ids, i);

        tls_role_parse(&role, jsonu_str(e, "role"));
        rc = tls_revoked_add_id(*out, role, jsonu_str(e, "id"), err);
    }
    if (rc < 0) {
        tls_revoked_free(*out);
        *out = NULL;
    }
    return rc;
}

json_t *pki_index_json(const struct pki_index *idx)
{
    return json_pack("{s:O, s:O, s:O}", "rack_id",
                     json_object_get(idx->doc, "rack_id"), "certificates",
                     idx->certs, "revoked_ids", idx->revoked_ids);
}
