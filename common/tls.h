/* SPDX-License-Identifier: MPL-2.0 */
/*
 * tls: rackdepot's mutual TLS. TLS contexts (tls.c): a server and a client
 * SSL_CTX, TLS 1.3 only, both verifying the peer's chain to the rack CA and
 * the peer's identity; a reload that builds a fresh SSL_CTX from the same
 * files for SIGHUP. Peer identity (tls_peer.c): the one URI SAN
 * "urn:rackdepot:<rack-id>:<role>:<id>" parsed into a struct tls_identity,
 * the revocation set (serials and identities) the verify check consults,
 * and certificate validity times for the expiry metric and warning.
 *
 * The identity and time functions are pure (any thread). Contexts are
 * built on any thread; an SSL_CTX is reference counted by OpenSSL, so a
 * caller swaps in a reloaded one (under its own lock or an atomic pointer)
 * and connections already open keep the context they were made with.
 */
#ifndef COMMON_TLS_H
#define COMMON_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/types.h>

struct err;

#define TLS_URI_PREFIX "urn:rackdepot:"
/* A rack id is a UUID: 36 characters. */
#define TLS_RACK_ID_LEN 36
/* Controller and operator ids: [a-z0-9-], 1..TLS_ID_MAX; sleds: a UUID. */
#define TLS_ID_MAX 64
/* Certificate serials as lowercase hex, at most 20 bytes (RFC 5280). */
#define TLS_SERIAL_HEX_MAX 40
/* Longest identity URI, NUL included. */
#define TLS_URI_MAX (sizeof(TLS_URI_PREFIX) + TLS_RACK_ID_LEN + 12 + TLS_ID_MAX)

enum tls_role {
    TLS_ROLE_CONTROLLER = 1,
    TLS_ROLE_SLED,
    TLS_ROLE_OPERATOR,
};

/* A verified peer: plain value. */
struct tls_identity {
    char rack_id[TLS_RACK_ID_LEN + 1];
    enum tls_role role;
    char id[TLS_ID_MAX + 1];
};

/* PEM files of a context: the rack CA, our certificate and our key. */
struct tls_files {
    const char *ca;
    const char *cert;
    const char *key;
};

/* The revocation set: opaque, built once and then only read. */
struct tls_revoked;

/* "controller", "sled" or "operator" ("?" for anything else). */
const char *tls_role_name(enum tls_role role);

/* Parse a role name (exact, lower case). Returns 0 or ERR_INVAL. */
int tls_role_parse(enum tls_role *out, const char *s);

/* Whether s is a lowercase textual UUID (8-4-4-4-12). */
bool tls_uuid_valid(const char *s);

/*
 * Check id for role: a lowercase UUID for sleds, [a-z0-9-] of 1..TLS_ID_MAX
 * for controllers and operators. Returns 0 or ERR_INVAL (err says why).
 */
int tls_id_check(enum tls_role role, const char *id, struct err *err);

/*
 * Write the identity URI of (rack_id, role, id) into out (cap bytes).
 * Returns 0 or ERR_INVAL (bad rack id, role or id; too small a buffer).
 */
int tls_identity_uri(char *out, size_t cap, const char *rack_id,
                     enum tls_role role, const char *id, struct err *err);

/*
 * Parse an identity URI strictly (prefix, UUID rack id equal to rack_id,
 * known role, valid id, nothing else) into *out. Returns 0 or ERR_VERIFY
 * (err names what is wrong).
 */
int tls_identity_parse(struct tls_identity *out, const char *uri,
                       const char *rack_id, struct err *err);

/*
 * The identity of a certificate: it must carry exactly one URI SAN, and
 * that one must parse with tls_identity_parse. Does not verify the chain.
 * Returns 0, ERR_VERIFY or ERR_NOMEM.
 */
int tls_peer_identity(struct tls_identity *out, X509 *cert,
                      const char *rack_id, struct err *err);

/*
 * The certificate's serial as lowercase hex without leading zero bytes.
 * Returns 0 or ERR_VERIFY (negative, zero or over 20 bytes).
 */
int tls_cert_serial(char out[TLS_SERIAL_HEX_MAX + 1], const X509 *cert,
                    struct err *err);

/*
 * notBefore and notAfter as unix seconds (either out may be NULL).
 * Returns 0 or ERR_VERIFY (unparsable time).
 */
int tls_cert_validity(int64_t *not_before, int64_t *not_after,
                      const X509 *cert, struct err *err);

/* tls_cert_validity of the first certificate in a PEM file. ERR_IO too. */
int tls_cert_file_validity(int64_t *not_before, int64_t *not_after,
                           const char *path, struct err *err);

/*
 * The identity of the first certificate in a PEM file, whatever its rack
 * (a service takes its rack id from its own certificate). Returns 0,
 * ERR_IO (unreadable) or ERR_VERIFY (no single identity URI SAN).
 */
int tls_cert_file_identity(struct tls_identity *out, const char *path,
                           struct err *err);

/*
 * Whether a certificate valid from not_before to not_after is in the last
 * third of its lifetime at now (or expired): time to renew. Pure.
 */
bool tls_expiry_warn(int64_t now, int64_t not_before, int64_t not_after);

/* An empty set in *out (tls_revoked_free). Returns 0 or ERR_NOMEM. */
int tls_revoked_new(struct tls_revoked **out, struct err *err);

/* Free the set. NULL is a no-op. */
void tls_revoked_free(struct tls_revoked *set);

/*
 * Add a serial (hex, either case, normalised) or an identity. Adding what
 * is there already is a no-op. Returns 0, ERR_INVAL, ERR_LIMIT (more than
 * LIMIT_TLS_REVOKED entries) or ERR_NOMEM.
 */
int tls_revoked_add_serial(struct tls_revoked *set, const char *serial,
                           struct err *err);
int tls_revoked_add_id(struct tls_revoked *set, enum tls_role role,
                       const char *id, struct err *err);

/* Number of entries (serials plus identities). */
size_t tls_revoked_count(const struct tls_revoked *set);

/* A copy of set (NULL copies as an empty set). 0 or ERR_NOMEM. */
int tls_revoked_dup(struct tls_revoked **out, const struct tls_revoked *set,
                    struct err *err);

/*
 * Entry i (0..count, in the set's sorted order) in the file form of
 * tls_revfile.h: a serial in lowercase hex, or "<role>:<id>". Returns
 * out, or NULL when i is out of range.
 */
#define TLS_REVOKED_ENTRY_MAX (12 + TLS_ID_MAX + 1)
const char *tls_revoked_entry(char out[TLS_REVOKED_ENTRY_MAX],
                              const struct tls_revoked *set, size_t i);

/* Whether a and b hold the same entries (NULL is an empty set). */
bool tls_revoked_equal(const struct tls_revoked *a,
                       const struct tls_revoked *b);

/*
 * Add every entry of src (NULL: none) to dst. Returns 0, ERR_LIMIT (the
 * union is over LIMIT_TLS_REVOKED; dst then holds part of src) or
 * ERR_NOMEM.
 */
int tls_revoked_merge(struct tls_revoked *dst, const struct tls_revoked *src,
                      struct err *err);

/*
 * Whether serial or the identity is in set (NULL: an empty set). Returns 0
 * (not revoked) or ERR_VERIFY ("certificate <serial> is revoked" /
 * "identity <role>:<id> is revoked").
 */
int tls_revoked_check(const struct tls_revoked *set, const char *serial,
                      const struct tls_identity *ident, struct err *err);

/*
 * The verify check of a chain-verified leaf: identity (tls_peer_identity)
 * then revocation. *out may be NULL. Returns 0, ERR_VERIFY or ERR_NOMEM.
 */
int tls_peer_check(struct tls_identity *out, X509 *cert, const char *rack_id,
                   const struct tls_revoked *revoked, struct err *err);

/*
 * A server SSL_CTX (TLS 1.3 only) presenting f->cert/f->key, requiring a
 * client certificate that chains to f->ca and passes tls_peer_check
 * against rack_id and a copy of revoked (may be NULL). No session
 * tickets or cache, so every connection is verified in full. *out is
 * owned by the caller (SSL_CTX_free). Returns 0, ERR_IO (unreadable or
 * mismatched files), ERR_INVAL (bad rack id, a file not given),
 * ERR_INTERNAL (OpenSSL refused TLS 1.3) or ERR_NOMEM.
 */
int tls_server_ctx_new(SSL_CTX **out, const struct tls_files *f,
                       const char *rack_id, const struct tls_revoked *revoked,
                       struct err *err);

/*
 * A client SSL_CTX (TLS 1.3 only) presenting f->cert/f->key and verifying
 * the server's chain to f->ca and its identity as above. Peers are named
 * by their URI SAN, not by host name. Same codes as tls_server_ctx_new.
 */
int tls_client_ctx_new(SSL_CTX **out, const struct tls_files *f,
                       const char *rack_id, const struct tls_revoked *revoked,
                       struct err *err);

/*
 * SIGHUP: a new context of old's kind, files and rack id, re-read from
 * disk, with revoked (NULL: a copy of old's set). old is untouched; the
 * caller swaps the pointer and SSL_CTX_frees its reference to old. Same
 * codes as tls_server_ctx_new; ERR_INVAL if old was not made here.
 */
int tls_ctx_reload(SSL_CTX **out, SSL_CTX *old,
                   const struct tls_revoked *revoked, struct err *err);

/*
 * The identity of the peer of an established connection made from one
 * of these contexts. Returns 0, ERR_VERIFY (no peer certificate, or it
 * does not parse) or ERR_INVAL (ssl not from a tls_*_ctx_new context).
 */
int tls_ssl_peer(struct tls_identity *out, const SSL *ssl, struct err *err);

#endif
