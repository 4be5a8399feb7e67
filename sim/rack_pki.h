/* SPDX-License-Identifier: MPL-2.0 */
/*
 * rack_pki: the simulated rack's PKI and its TLS mode. `up` makes the rack
 * CA and one certificate per identity under D/pki by running the
 * `replicator pki` binary (sim/ may not link replicator code): the CA of
 * rack r->rack_id, a controller leaf `replicator-I` per replicator, a
 * sled leaf per sled (its UUID, IP SAN 127.0.0.1) and one operator leaf
 * `operator`, each at D/pki/<role>-<id>.pem and .key. It is idempotent: an
 * existing CA is kept (its rack id wins) and only missing leaves are
 * issued, so restarts and a later `up` in the same directory keep the CA.
 * Also what depends on the mode: the flags each service starts with, the
 * URL scheme, the credentials of rack-sim's own requests, and the pki
 * block of `status --json`. Main thread only.
 */
#ifndef SIM_RACK_PKI_H
#define SIM_RACK_PKI_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

struct err;
struct rack;

/*
 * The mode of `up` and `demo` without --tls or --insecure-plaintext. THE
 * one line to flip to true once the services serve TLS (the tls-server
 * and tls-client branches): until then the services accept --tls-* but
 * still serve plaintext, so a TLS rack could not answer.
 */
#define RACK_TLS_DEFAULT true

#define RACK_PKI_DIR "pki"
#define RACK_OPERATOR_ID "operator"

/* PEM files of one identity: the rack CA, its certificate and key. */
struct rack_cred {
    char ca[PATH_MAX];
    char cert[PATH_MAX];
    char key[PATH_MAX];
};

/* D/pki of r. */
void rack_pki_dir(char *out, size_t cap, const struct rack *r);

/* The files of the operator, of replicator i and of sled k. */
void rack_cred_operator(struct rack_cred *out, const struct rack *r);
void rack_cred_repl(struct rack_cred *out, const struct rack *r, size_t i);
void rack_cred_sled(struct rack_cred *out, const struct rack *r, size_t k);

/* The certificate id of replicator i: "replicator-I". */
void rack_repl_cert_id(char *out, size_t cap, size_t i);

/*
 * Make sure D/pki holds the CA (with a fresh rack id, kept in r->rack_id,
 * unless one exists: then r->rack_id is read from it) and a certificate
 * for every identity of r; tool output goes to D/pki.log. Errors:
 * ERR_NOTFOUND (replicator not built), ERR_IO (a tool failed), ERR_TIMEOUT.
 */
int rack_pki_ensure(struct rack *r, struct err *err);

/*
 * Append to argv at *n the mode flags of a service with identity c:
 * `--tls-ca CA --tls-cert CERT --tls-key KEY` (pointers into c, which
 * must outlive argv) or `--insecure-plaintext`. Adds at most 6 entries.
 */
void rack_tls_args(char **argv, int *n, const struct rack_cred *c,
                   const struct rack *r);

/* "https" or "http" for r's mode. */
const char *rack_scheme(const struct rack *r);

/*
 * scheme://HOST:port + path (path may be "") of member kind ('s' sled,
 * 'r' replicator) i: HOST 127.0.0.1, or on a netns rack the member's
 * bracketed IPv6 address (rack_net).
 */
void rack_url(char *out, size_t cap, const struct rack *r, char kind,
              size_t i, unsigned port, const char *path);

/*
 * Point rack-sim's own requests (rack_http) at r's mode: the operator's
 * credentials on TLS, none on plaintext.
 */
void rack_pki_use(const struct rack *r);

/* As rack_pki_use, with identity c instead of the operator (on TLS). */
void rack_pki_use_cred(const struct rack *r, const struct rack_cred *c);

/*
 * With on and a TLS rack, set RACKDEPOT_TLS_CA/CERT/KEY to the operator's
 * files in this process's environment, for a replicator CLI child to
 * inherit (as after `rack-sim env`); otherwise unset them. Set them only
 * around a CLI run: services started meanwhile would inherit them too.
 */
void rack_pki_cli_env(const struct rack *r, bool on);

/*
 * The pki block of `status --json` (paths only): {"dir", "ca", "rack_id",
 * "operator": {"cert", "key"}, "replicators": [{"index", "id", "cert",
 * "key"}], "sleds": [...]}. A new reference, NULL on ERR_NOMEM.
 */
json_t *rack_pki_json(const struct rack *r);

#endif
