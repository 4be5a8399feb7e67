/* SPDX-License-Identifier: MPL-2.0 */
/*
 * tls_peer: who a TLS peer is (see tls.h). Parses and formats the identity
 * URI "urn:rackdepot:<rack-id>:<role>:<id>", extracts it from a
 * certificate's one URI SAN, keeps the revocation set (a sorted array of
 * "s:<serial>" and "i:<role>:<id>" keys, searched by bisection), and reads
 * certificate serials and validity times. Pure functions apart from the
 * set's allocation; any thread.
 */
#include "common/tls.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/err.h"
#include "common/hex.h"
#include "common/limits.h"
#include "common/mem.h"

/* "i:" + role + ":" + id + NUL, or "s:" + serial + NUL */
#define KEY_MAX (2 + 10 + 1 + TLS_ID_MAX + 1)

struct tls_revoked {
    char **keys; /* sorted, owned */
    size_t count, cap;
};

static const char *const role_names[] = {
    [TLS_ROLE_CONTROLLER] = "controller",
    [TLS_ROLE_SLED] = "sled",
    [TLS_ROLE_OPERATOR] = "operator",
};

const char *tls_role_name(enum tls_role role)
{
    if (role < TLS_ROLE_CONTROLLER || role > TLS_ROLE_OPERATOR)
        return "?";
    return role_names[role];
}

int tls_role_parse(enum tls_role *out, const char *s)
{
    for (int r = TLS_ROLE_CONTROLLER; r <= TLS_ROLE_OPERATOR; r++) {
        if (s && strcmp(s, role_names[r]) == 0) {
            *out = (enum tls_role)r;
            return 0;
        }
    }
    return ERR_INVAL;
}

bool tls_uuid_valid(const char *s)
{
    size_t i;

    if (!s || strlen(s) != TLS_RACK_ID_LEN)
        return false;
    for (i = 0; i < TLS_RACK_ID_LEN; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;

        if (dash ? s[i] != '-'
                 : !((s[i] >= '0' && s[i] <= '9') ||
                     (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    }
    return true;
}

int tls_id_check(enum tls_role role, const char *id, struct err *err)
{
    size_t n = id ? strlen(id) : 0, i;

    if (role == TLS_ROLE_SLED) {
        if (!tls_uuid_valid(id))
            return err_set(err, ERR_INVAL, "sled id %.80s is not a lowercase "
                           "UUID", id ? id : "");
        return 0;
    }
    if (role != TLS_ROLE_CONTROLLER && role != TLS_ROLE_OPERATOR)
        return err_set(err, ERR_INVAL, "unknown role");
    if (n == 0 || n > TLS_ID_MAX)
        return err_set(err, ERR_INVAL, "%s id must be 1..%d characters",
                       tls_role_name(role), TLS_ID_MAX);
    for (i = 0; i < n; i++)
        if (!((id[i] >= 'a' && id[i] <= 'z') ||
              (id[i] >= '0' && id[i] <= '9') || id[i] == '-'))
            return err_set(err, ERR_INVAL, "%s id %.80s: only a-z, 0-9 and "
                           "- are allowed", tls_role_name(role), id);
    return 0;
}

int tls_identity_uri(char *out, size_t cap, const char *rack_id,
                     enum tls_role role, const char *id, struct err *err)
{
    int rc, n;

    if (!tls_uuid_valid(rack_id))
        return err_set(err, ERR_INVAL, "rack id %.80s is not a lowercase "
                       "UUID", rack_id ? rack_id : "");
    rc = tls_id_check(role, id, err);
    if (rc < 0)
        return rc;
    n = snprintf(out, cap, TLS_URI_PREFIX "%s:%s:%s", rack_id,
                 tls_role_name(role), id);
    if (n < 0 || (size_t)n >= cap)
        return err_set(err, ERR_INVAL, "identity URI longer than %zu bytes",
                       cap);
    return 0;
}

int tls_identity_parse(struct tls_identity *out, const char *uri,
                       const char *rack_id, struct err *err)
{
    size_t plen = sizeof(TLS_URI_PREFIX) - 1;
    char role[16];
    const char *p, *colon;
    struct err e = ERR_INIT;

    memset(out, 0, sizeof(*out));
    if (!uri || strncmp(uri, TLS_URI_PREFIX, plen) != 0)
        return err_set(err, ERR_VERIFY, "URI SAN is not " TLS_URI_PREFIX
                       "...");
    p = uri + plen;
    if (strlen(p) < TLS_RACK_ID_LEN + 1 || p[TLS_RACK_ID_LEN] != ':')
        return err_set(err, ERR_VERIFY, "identity %.120s: no rack id", uri);
    memcpy(out->rack_id, p, TLS_RACK_ID_LEN);
    out->rack_id[TLS_RACK_ID_LEN] = '\0';
    if (!tls_uuid_valid(out->rack_id))
        return err_set(err, ERR_VERIFY, "identity %.120s: rack id is not a "
                       "lowercase UUID", uri);
    if (!rack_id || strcmp(out->rack_id, rack_id) != 0)
        return err_set(err, ERR_VERIFY, "identity %.120s: rack %s is not "
                       "ours (%s)", uri, out->rack_id,
                       rack_id ? rack_id : "none");
    p += TLS_RACK_ID_LEN + 1;
    colon = strchr(p, ':');
    if (!colon || (size_t)(colon - p) >= sizeof(role))
        return err_set(err, ERR_VERIFY, "identity %.120s: no role", uri);
    memcpy(role, p, (size_t)(colon - p));
    role[colon - p] = '\0';
    if (tls_role_parse(&out->role, role) < 0)
        return err_set(err, ERR_VERIFY, "identity %.120s: unknown role %s",
                       uri, role);
    if (tls_id_check(out->role, colon + 1, &e) < 0)
        return err_set(err, ERR_VERIFY, "identity %.120s: %s", uri, e.msg);
    memcpy(out->id, colon + 1, strlen(colon + 1) + 1);
    return 0;
}

/* The one URI SAN of cert into uri (NUL-terminated). 0 or ERR_VERIFY. */
static int cert_uri(char uri[TLS_URI_MAX + 1], X509 *cert, struct err *err)
{
    GENERAL_NAMES *names = NULL;
    const ASN1_IA5STRING *found = NULL;
    int i, nuri = 0, rc = 0;

    names = X509_get_ext_d2i(cert, NID_subject_alt_name, &i, NULL);
    if (!names && i == -2) {
        rc = err_set(err, ERR_VERIFY, "more than one subjectAltName "
                     "extension");
        goto out;
    }
    if (!names && i != -1) {
        rc = err_set(err, ERR_VERIFY, "unreadable subjectAltName");
        goto out;
    }
    for (i = 0; i < sk_GENERAL_NAME_num(names); i++) {
        const GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, i);

        if (gn->type == GEN_URI) {
            nuri++;
            found = gn->d.uniformResourceIdentifier;
        }
    }
    if (nuri != 1) {
        rc = err_set(err, ERR_VERIFY, "certificate has %d URI SANs, "
                     "want exactly one " TLS_URI_PREFIX "...", nuri);
        goto out;
    }
    if (found->length <= 0 || (size_t)found->length > TLS_URI_MAX ||
        memchr(found->data, '\0', (size_t)found->length)) {
        rc = err_set(err, ERR_VERIFY, "URI SAN of %d bytes is not an "
                     "identity", found->length);
        goto out;
    }
    memcpy(uri, found->data, (size_t)found->length);
    uri[found->length] = '\0';
out:
    GENERAL_NAMES_free(names);
    return rc;
}

int tls_peer_identity(struct tls_identity *out, X509 *cert,
                      const char *rack_id, struct err *err)
{
    char uri[TLS_URI_MAX + 1];
    int rc;

    memset(out, 0, sizeof(*out));
    rc = cert_uri(uri, cert, err);
    return rc < 0 ? rc : tls_identity_parse(out, uri, rack_id, err);
}

int tls_cert_serial(char out[TLS_SERIAL_HEX_MAX + 1], const X509 *cert,
                    struct err *err)
{
    const ASN1_INTEGER *s = X509_get0_serialNumber(cert);
    const unsigned char *d = s ? ASN1_STRING_get0_data(s) : NULL;
    int n = s ? ASN1_STRING_length(s) : 0;

    out[0] = '\0';
    while (n > 0 && d[0] == 0) {
        d++;
        n--;
    }
    if (!s || ASN1_STRING_type(s) != V_ASN1_INTEGER || n <= 0 ||
        n > TLS_SERIAL_HEX_MAX / 2)
        return err_set(err, ERR_VERIFY, "certificate serial is not a "
                       "positive integer of at most 20 bytes");
    hex_encode(out, d, (size_t)n);
    return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (m 1..12). */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    int64_t era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int asn1_unix(int64_t *out, const ASN1_TIME *t, struct err *err)
{
    struct tm tm;

    if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
        return err_set(err, ERR_VERIFY, "unparsable certificate time");
    *out = days_from_civil(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday) *
               86400 + tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec;
    return 0;
}

int tls_cert_validity(int64_t *not_before, int64_t *not_after,
                      const X509 *cert, struct err *err)
{
    int64_t v;
    int rc = asn1_unix(&v, X509_get0_notBefore(cert), err);

    if (rc == 0 && not_before)
        *not_before = v;
    if (rc == 0)
        rc = asn1_unix(&v, X509_get0_notAfter(cert), err);
    if (rc == 0 && not_after)
        *not_after = v;
    return rc;
}

/* The first PEM certificate of the file at path into *out (X509_free). */
static int read_cert_file(X509 **out, const char *path, struct err *err)
{
    FILE *f = fopen(path, "re");

    if (!f)
        return err_set(err, ERR_IO, "%s: cannot open", path);
    *out = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    if (!*out)
        return err_set(err, ERR_IO, "%s: no PEM certificate", path);
    return 0;
}

int tls_cert_file_validity(int64_t *not_before, int64_t *not_after,
                           const char *path, struct err *err)
{
    X509 *x = NULL;
    int rc = read_cert_file(&x, path, err);

    if (rc < 0)
        return rc;
    rc = tls_cert_validity(not_before, not_after, x, err);
    X509_free(x);
    return rc;
}

int tls_cert_file_identity(struct tls_identity *out, const char *path,
                           struct err *err)
{
    char uri[TLS_URI_MAX + 1], rack[TLS_RACK_ID_LEN + 1] = "";
    size_t plen = sizeof(TLS_URI_PREFIX) - 1;
    X509 *x = NULL;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = read_cert_file(&x, path, err);
    if (rc < 0)
        return rc;
    rc = cert_uri(uri, x, err);
    /* our own rack is whatever our certificate names */
    if (rc == 0 && strlen(uri) > plen + TLS_RACK_ID_LEN)
        memcpy(rack, uri + plen, TLS_RACK_ID_LEN);
    if (rc == 0)
        rc = tls_identity_parse(out, uri, rack, err);
    X509_free(x);
    return rc;
}

bool tls_expiry_warn(int64_t now, int64_t not_before, int64_t not_after)
{
    int64_t life = not_after - not_before;

    if (life <= 0 || now >= not_after)
        return true;
    /* now > not_after - life/3, without overflow for sane inputs */
    return (not_after - now) * 3 < life;
}

int tls_revoked_new(struct tls_revoked **out, struct err *err)
{
    *out = mem_calloc(1, sizeof(**out));
    if (!*out)
        return err_set(err, ERR_NOMEM, "out of memory");
    return 0;
}

void tls_revoked_free(struct tls_revoked *set)
{
    size_t i;

    if (!set)
        return;
    for (i = 0; i < set->count; i++)
        mem_free(set->keys[i]);
    mem_free(set->keys);
    mem_free(set);
}

size_t tls_revoked_count(const struct tls_revoked *set)
{
    return set ? set->count : 0;
}

/* Index of key in set, or where it would go (*found false). */
static size_t find(const struct tls_revoked *set, const char *key,
                   bool *found)
{
    size_t lo = 0, hi = set ? set->count : 0;

    *found = false;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(set->keys[mid], key);

        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int add_key(struct tls_revoked *set, const char *key, struct err *err)
{
    bool found;
    size_t at = find(set, key, &found);
    char *dup;

    if (found)
        return 0;
    if (set->count >= LIMIT_TLS_REVOKED)
        return err_set(err, ERR_LIMIT, "more than %d revoked entries",
                       LIMIT_TLS_REVOKED);
    if (set->count == set->cap) {
        size_t cap = set->cap ? set->cap * 2 : 16;
        char **k = mem_realloc(set->keys, cap * sizeof(*k));

        if (!k)
            return err_set(err, ERR_NOMEM, "out of memory");
        set->keys = k;
        set->cap = cap;
    }
    dup = mem_strdup(key);
    if (!dup)
        return err_set(err, ERR_NOMEM, "out of memory");
    memmove(&set->keys[at + 1], &set->keys[at],
            (set->count - at) * sizeof(*set->keys));
    set->keys[at] = dup;
    set->count++;
    return 0;
}

/* "s:<lowercase serial>" into key; ERR_INVAL unless 1..40 hex digits. */
static int serial_key(char key[KEY_MAX], const char *serial, struct err *err)
{
    size_t n = serial ? strlen(serial) : 0, i, skip = 0;

    while (skip + 2 < n && serial[skip] == '0' && serial[skip + 1] == '0')
        skip += 2;
    if (n == 0 || n - skip > TLS_SERIAL_HEX_MAX || n % 2 != 0)
        return err_set(err, ERR_INVAL, "serial %.80s: want an even number "
                       "of hex digits, at most %d", serial ? serial : "",
                       TLS_SERIAL_HEX_MAX);
    key[0] = 's';
    key[1] = ':';
    for (i = skip; i < n; i++) {
        if (hex_digit(serial[i]) < 0)
            return err_set(err, ERR_INVAL, "serial %.80s: not hex", serial);
        key[2 + i - skip] = "0123456789abcdef"[hex_digit(serial[i])];
    }
    key[2 + n - skip] = '\0';
    return 0;
}

int tls_revoked_add_serial(struct tls_revoked *set, const char *serial,
                           struct err *err)
{
    char key[KEY_MAX];
    int rc = serial_key(key, serial, err);

    return rc < 0 ? rc : add_key(set, key, err);
}

int tls_revoked_add_id(struct tls_revoked *set, enum tls_role role,
                       const char *id, struct err *err)
{
    char key[KEY_MAX];
    int rc = tls_id_check(role, id, err);

    if (rc < 0)
        return rc;
    snprintf(key, sizeof(key), "i:%s:%s", tls_role_name(role), id);
    return add_key(set, key, err);
}

int tls_revoked_dup(struct tls_revoked **out, const struct tls_revoked *set,
                    struct err *err)
{
    size_t i;
    int rc = tls_revoked_new(out, err);

    for (i = 0; rc == 0 && set && i < set->count; i++)
        rc = add_key(*out, set->keys[i], err);
    if (rc < 0) {
        tls_revoked_free(*out);
        *out = NULL;
    }
    return rc;
}

const char *tls_revoked_entry(char out[TLS_REVOKED_ENTRY_MAX],
                              const struct tls_revoked *set, size_t i)
{
    if (!set || i >= set->count)
        return NULL;
    /* keys are "s:<serial>" or "i:<role>:<id>": drop the tag */
    snprintf(out, TLS_REVOKED_ENTRY_MAX, "%s", set->keys[i] + 2);
    return out;
}

bool tls_revoked_equal(const struct tls_revoked *a,
                       const struct tls_revoked *b)
{
    size_t i;

    if (tls_revoked_count(a) != tls_revoked_count(b))
        return false;
    for (i = 0; i < tls_revoked_count(a); i++)
        if (strcmp(a->keys[i], b->keys[i]) != 0)
            return false;
    return true;
}

int tls_revoked_merge(struct tls_revoked *dst, const struct tls_revoked *src,
                      struct err *err)
{
    size_t i;
    int rc = 0;

    for (i = 0; rc == 0 && src && i < src->count; i++)
        rc = add_key(dst, src->keys[i], err);
    return rc;
}

int tls_revoked_check(const struct tls_revoked *set, const char *serial,
                      const struct tls_identity *ident, struct err *err)
{
    char key[KEY_MAX];
    bool found = false;

    if (serial && serial_key(key, serial, NULL) == 0)
        find(set, key, &found);
    if (found)
        return err_set(err, ERR_VERIFY, "certificate %s is revoked", serial);
    if (ident) {
        snprintf(key, sizeof(key), "i:%s:%s", tls_role_name(ident->role),
                 ident->id);
        find(set, key, &found);
    }
    if (found)
        return err_set(err, ERR_VERIFY, "identity %s:%s is revoked",
                       tls_role_name(ident->role), ident->id);
    return 0;
}

int tls_peer_check(struct tls_identity *out, X509 *cert, const char *rack_id,
                   const struct tls_revoked *revoked, struct err *err)
{
    struct tls_identity ident;
    char serial[TLS_SERIAL_HEX_MAX + 1];
    int rc = tls_peer_identity(&ident, cert, rack_id, err);

    if (rc == 0)
        rc = tls_cert_serial(serial, cert, err);
    if (rc == 0)
        rc = tls_revoked_check(revoked, serial, &ident, err);
    if (rc == 0 && out)
        *out = ident;
    return rc;
}
