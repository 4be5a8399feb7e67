/* SPDX-License-Identifier: MPL-2.0 */
/*
 * copy_source: the source of a copy-from-depot request, parsed from its
 * JSON body {"depot_base_url": "...", "source_sled_id": "...",
 * "length": N} (the last two optional, rackdepot extensions: the length
 * is the artifact's, known to the controller, and caps the copy). The URL is held to the one
 * form the replicator sends: "http://HOST:PORT" (plaintext) or
 * "https://HOST:PORT" (once TLS is on; nothing else then), an optional
 * final "/", HOST a literal dotted-quad IPv4 address (four decimal parts
 * 0..255 without leading zeros) or a bracketed IPv6 address without zone,
 * PORT 1..65535 in decimal without leading zeros. No names (localhost),
 * no decimal, hex or octal address forms, no userinfo, path, query or
 * fragment: the agent must not be a request forger or port scanner for
 * whoever may call it. Pure; any thread.
 */
#ifndef SLEDAGENT_COPY_SOURCE_H
#define SLEDAGENT_COPY_SOURCE_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "common/tls.h"

struct err;

/* "https://[" + 39 + "]:65535" and a NUL, rounded up. */
#define COPY_SOURCE_URL_MAX 64

/* A parsed source: plain value. */
struct copy_source {
    char base[COPY_SOURCE_URL_MAX]; /* "scheme://host:port", no final / */
    char sled_id[TLS_ID_MAX + 1];   /* "" when the request names none */
    int64_t length;                 /* the artifact's length, -1: unknown */
};

/*
 * Parse body (an object with depot_base_url and optionally
 * source_sled_id, a lowercase sled UUID, and length, an integer >= 0; no
 * other key) into *out; with
 * tls only https:// URLs, else only http://. Returns 0 or ERR_INVAL (err
 * says which rule failed, without echoing the URL).
 */
int copy_source_parse(struct copy_source *out, const json_t *body, bool tls,
                      struct err *err);

#endif
