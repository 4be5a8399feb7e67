/* SPDX-License-Identifier: MPL-2.0 */
/*
 * attacks: what the three files of test_e2e_attacks share: the
 * attacker's credential set and the scenario's state (struct att), the
 * rig (attacks_rig.c: ports, credentials, one request, one attack with
 * every credential, the rack's state snapshot) and the attacks
 * themselves (attacks_routes.c). test_e2e_attacks.c is the scenario.
 */
#ifndef TESTS_E2E_ATTACKS_H
#define TESTS_E2E_ATTACKS_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/sha256.h"
#include "common/tls.h"
#include "tests/e2e/e2e_util.h"
#include "tests/integration/tls_rig.h"

#define INT64_MAX_TEXT "9223372036854775807"
#define UPD "/v1/system/update"

/* Role bits of the route under attack: who may call it. */
#define R_OP 1u
#define R_CTL 2u
#define R_SLED 4u

/* One credential of the attacker's set. */
struct who {
    const char *name;
    struct tls_cred c;  /* c.cert NULL: no client certificate */
    unsigned role;      /* its role bit; 0: none */
    long want;          /* 401 (no good certificate) or 403 (wrong role) */
};

enum { W_NONE, W_FOREIGN_OP, W_FOREIGN_CTL, W_FOREIGN_SLED, W_OP, W_CTL,
       W_SLED1, W_COUNT };

struct att {
    struct e2e *t;
    char ca[PATH_MAX];
    struct who who[W_COUNT];
    char root_id[64];      /* the operator's trust root */
    char held[32];         /* the generation the guard holds */
    char gen[32];          /* the sleds' current ledger generation */
    char hash[SHA256_HEX_LEN + 1]; /* an artifact every sled holds */
    char *evil_root, *evil_zip;
    size_t evil_root_len, evil_zip_len;
    int trap_fd;           /* a listening port no source may reach */
    uint16_t trap;
    unsigned refused, handshakes, answered;
};

/* attacks_rig.c: the ports of the replicator, sled k's API and depot. */
uint16_t repl_port(const struct att *a);
uint16_t api_port(const struct att *a, size_t k);
uint16_t depot_port(const struct att *a, size_t k);
/* The R_* bit of a role (0: none). */
unsigned role_bit(enum tls_role r);
/* The attacker's credential set (another CA of the same rack id, the
 * rack's own operator, controller and sled 1); released. */
void creds_init(struct att *a);
void creds_release(struct att *a);
/* One request over TLS 1.3 as w: the status (-1: no reply) and body. */
long att_req(char **body, const struct att *a, const struct who *w,
             uint16_t port, const char *method, const char *path,
             const char *data, size_t len);
/* GET path as w: asserts 200 and returns the JSON body (new reference). */
json_t *get_json(const struct att *a, const struct who *w, uint16_t port,
                 const char *path);
/* A refusal (want 401, 403 or 400, as JSON with a request id), counted. */
void assert_refused(struct att *a, long st, const char *body, long want,
                    const char *what, const char *who);
/* One attack with every credential whose role is not in allowed; _s: a
 * string body (or none). */
void attack(struct att *a, unsigned allowed, uint16_t port,
            const char *method, const char *path, const char *data,
            size_t len);
void attack_s(struct att *a, unsigned allowed, uint16_t port,
              const char *method, const char *path, const char *data);
/* The rack's state that no attack may change; compared. */
json_t *snapshot(struct att *a);
void assert_same(json_t *before, json_t *after, const char *when);

/* attacks_routes.c: the sled agents' mutations, hostile copy sources,
 * the replicator's operator-only mutations, registrations, transport. */
void attack_sleds(struct att *a);
void hostile_sources(struct att *a);
void attack_replicator(struct att *a);
void attack_registry(struct att *a);
void attack_transport(struct att *a);
/* Each refused credential class answered where its role may go. */
void controls(struct att *a);
/* A listening loopback socket no source may reach (its fd; *port); no
 * connection ever came to it. */
int trap_open(uint16_t *port);
void trap_untouched(struct att *a);
/* The control copy of hostile_sources has ended, and well. */
void wait_copies(struct att *a);

#endif
