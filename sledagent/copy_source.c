/* SPDX-License-Identifier: MPL-2.0 */
/*
 * copy_source: the strict parse of a copy-from-depot body (see
 * copy_source.h). Addresses are checked by hand for IPv4 (inet_pton
 * would do, but the rule "no leading zeros" is ours to state) and by
 * inet_pton for IPv6 inside brackets. Pure; any thread.
 */
#include "sledagent/copy_source.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "common/jsonutil.h"

#define USAGE "body must be {\"depot_base_url\": \"%s://IP:PORT\"" \
              "[, \"source_sled_id\": \"UUID\"][, \"length\": N]}"

/* n decimal digits at p, no leading zero, value <= max. */
static bool decimal(const char *p, size_t n, unsigned long max)
{
    unsigned long v = 0;

    if (n == 0 || n > 5 || (n > 1 && p[0] == '0'))
        return false;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        v = v * 10 + (unsigned long)(p[i] - '0');
    }
    return v <= max;
}

static bool ipv4_literal(const char *p, size_t n)
{
    size_t start = 0, parts = 0;

    /* 0.x.x.x: "this network"; 0.0.0.0 reaches the local host */
    if (n >= 2 && p[0] == '0' && p[1] == '.')
        return false;

    for (size_t i = 0; i <= n; i++) {
        if (i < n && p[i] != '.')
            continue;
        if (!decimal(p + start, i - start, 255) || ++parts > 4)
            return false;
        start = i + 1;
    }
    return parts == 4;
}

static bool ipv6_literal(const char *p, size_t n)
{
    char s[INET6_ADDRSTRLEN];
    struct in6_addr a;

    if (n == 0 || n >= sizeof(s))
        return false;
    memcpy(s, p, n);
    s[n] = '\0';
    return inet_pton(AF_INET6, s, &a) == 1 && !IN6_IS_ADDR_UNSPECIFIED(&a);
}

/* "HOST:PORT" with an optional final "/": the part after the scheme. */
static bool hostport_ok(const char *hp)
{
    size_t n = strlen(hp);
    const char *colon;

    if (n && hp[n - 1] == '/')
        n--;
    if (n == 0)
        return false;
    if (hp[0] == '[') {
        const char *close = memchr(hp, ']', n);

        if (!close || close[1] != ':' ||
            !ipv6_literal(hp + 1, (size_t)(close - hp - 1)))
            return false;
        colon = close + 1;
    } else {
        colon = memchr(hp, ':', n);
        if (!colon || !ipv4_literal(hp, (size_t)(colon - hp)))
            return false;
    }
    return decimal(colon + 1, n - (size_t)(colon + 1 - hp), 65535) &&
           !decimal(colon + 1, n - (size_t)(colon + 1 - hp), 0);
}

static int parse_url(struct copy_source *out, const char *url, bool tls,
                     struct err *err)
{
    const char *scheme = tls ? "https://" : "http://";
    size_t sl = strlen(scheme), n;

    if (strncmp(url, scheme, sl) != 0)
        return err_set(err, ERR_INVAL, "depot_base_url must start with %s%s",
                       scheme, tls ? " (TLS is on)" : "");
    if (!hostport_ok(url + sl))
        return err_set(err, ERR_INVAL, "depot_base_url must be %sIP:PORT: a "
                       "literal IPv4 dotted quad or [IPv6] address and a "
                       "port 1..65535, nothing else", scheme);
    n = strlen(url);
    if (url[n - 1] == '/')
        n--;
    if (n >= sizeof(out->base))
        return err_set(err, ERR_INVAL, "depot_base_url too long");
    memcpy(out->base, url, n);
    out->base[n] = '\0';
    return 0;
}

int copy_source_parse(struct copy_source *out, const json_t *body, bool tls,
                      struct err *err)
{
    const char *scheme = tls ? "https" : "http";
    const char *url, *id = NULL;
    json_t *jid, *jlen;

    memset(out, 0, sizeof(*out));
    out->length = -1;
    if (!json_is_object(body) || !(url = jsonu_str(body, "depot_base_url")))
        return err_set(err, ERR_INVAL, USAGE, scheme);
    jid = json_object_get(body, "source_sled_id");
    if (jid && !(id = json_string_value(jid)))
        return err_set(err, ERR_INVAL, USAGE, scheme);
    jlen = json_object_get(body, "length");
    if (jlen && (!json_is_integer(jlen) || json_integer_value(jlen) < 0))
        return err_set(err, ERR_INVAL, "length must be a non-negative "
                       "integer");
    if (json_object_size(body) != 1u + (jid != NULL) + (jlen != NULL))
        return err_set(err, ERR_INVAL, USAGE, scheme);
    if (jlen)
        out->length = (int64_t)json_integer_value(jlen);
    if (id && !tls_uuid_valid(id))
        return err_set(err, ERR_INVAL, "source_sled_id must be a lowercase "
                       "sled UUID");
    if (id)
        snprintf(out->sled_id, sizeof(out->sled_id), "%s", id);
    return parse_url(out, url, tls, err);
}
