/* SPDX-License-Identifier: MPL-2.0 */
/*
 * tls_rig: fixtures of the mutual-TLS listener tests: a rack PKI in a
 * temp directory (replicator/pki.c: a CA and leaves, expired and future
 * ones through pki__set_now, a second CA for the same rack), and a small
 * blocking HTTPS/1.1 client written directly on OpenSSL (one request per
 * connection; any client certificate or none; a TLS version cap), plus
 * non-blocking handshakes in bulk. Test thread only.
 */
#ifndef TESTS_TLS_RIG_H
#define TESTS_TLS_RIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/tls.h"

#define TLS_RIG_RACK "6a1f2c3d-4e5f-4a6b-8c7d-8e9fa0b1c2d3"
#define TLS_RIG_SLED "11111111-2222-4333-8444-000000000001"
#define TLS_RIG_SLED2 "11111111-2222-4333-8444-000000000002"

struct tls_rig {
    char *dir;    /* the temp directory (removed by tls_rig_free) */
    char *pki;    /* dir/pki: the rack CA */
    char *other;  /* dir/other: another CA of the same rack id */
    char *ca;     /* dir/pki/ca.pem */
};

/* A client credential: files under the rig's directory (NULL: none). */
struct tls_cred {
    char *cert, *key;
};

/* PKI with a controller "ctl", operators "op", sleds TLS_RIG_SLED and
 * TLS_RIG_SLED2. Fails the test on error. */
void tls_rig_init(struct tls_rig *g);
void tls_rig_free(struct tls_rig *g);

/*
 * Issue a leaf (role, id) named `name` (files dir/name.pem, .key) with
 * the rig's CA (other: the second CA), its validity starting at now
 * (0: the real clock) for days. Fails the test on error.
 */
struct tls_cred tls_rig_issue(struct tls_rig *g, const char *name,
                              enum tls_role role, const char *id,
                              int64_t now, unsigned days, int other);

/* The files of a leaf issued by tls_rig_init: "controller-ctl" ... */
struct tls_cred tls_rig_cred(struct tls_rig *g, const char *name);
void tls_cred_release(struct tls_cred *c);

/*
 * One request to 127.0.0.1:port over TLS with cred (cert NULL: no client
 * certificate), max_version (0: TLS 1.3) and an optional body. Returns
 * the HTTP status, or -1 when the handshake or the exchange failed (no
 * status line). *body (may be NULL) gets the reply body (mem_free).
 */
long tls_rig_request(char **body, const char *ca, const struct tls_cred *cred,
                     int max_version, uint16_t port, const char *method,
                     const char *path, const char *data, size_t len);

/*
 * GET path and compare the reply body with want (len bytes): the status,
 * -1 without a reply, -2 when the body differs.
 */
long tls_rig_fetch_check(const char *ca, const struct tls_cred *cred,
                         uint16_t port, const char *path, const void *want,
                         size_t len);

/*
 * A kept-alive connection: open (NULL when the handshake fails), GET on
 * it (the status, -1 on failure; reads exactly the Content-Length body),
 * the server certificate's serial (hex, mem_free), close.
 */
struct tls_conn;
struct tls_conn *tls_rig_connect(const char *ca, const struct tls_cred *cred,
                                 uint16_t port);
long tls_rig_conn_get(struct tls_conn *c, const char *path);
char *tls_rig_conn_server_serial(struct tls_conn *c);
/* Send raw bytes on c (a slow client): 0, or -1 when the server is gone. */
int tls_rig_conn_send(struct tls_conn *c, const void *data, size_t len);
/* Whether the server closed c (EOF, reset, alert) within timeout_ms;
 * what it sends before is discarded. */
bool tls_rig_conn_closed(struct tls_conn *c, long timeout_ms);
/* The same, adding the bytes read meanwhile to *bytes (may be NULL). */
bool tls_rig_conn_drained(struct tls_conn *c, long timeout_ms,
                          uint64_t *bytes);
void tls_rig_conn_close(struct tls_conn *c);

/*
 * Connect and send nothing: 0 once the server closes (within timeout_ms),
 * -1 if it did not.
 */
long tls_rig_silent(uint16_t port, long timeout_ms);

/* A plaintext HTTP request to a TLS port: the status, or -1. */
long tls_rig_plain(uint16_t port, const char *path);

/*
 * Open n connections to port and start a TLS handshake on each
 * (ClientHello sent, nothing more); tls_rig_flood_finish drives them to
 * the end (at most timeout_ms) and returns how many completed.
 */
struct tls_flood;
struct tls_flood *tls_rig_flood_start(const char *ca,
                                      const struct tls_cred *cred,
                                      uint16_t port, size_t n);
size_t tls_rig_flood_finish(struct tls_flood *f, long timeout_ms);

#endif
