/* SPDX-License-Identifier: MPL-2.0 */
/*
 * rack_pki: the rack PKI under D/pki (through `replicator pki`) and the
 * TLS mode's flags, URLs and credentials. See rack_pki.h. Main thread
 * only.
 */
#include "sim/rack_pki.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "common/jsonutil.h"
#include "sim/rack_http.h"
#include "sim/rack_net.h"
#include "sim/rack_state.h"
#include "sim/rack_up.h"

#define PKI_TOOL_TIMEOUT_MS 30000

void rack_pki_dir(char *out, size_t cap, const struct rack *r)
{
    snprintf(out, cap, "%s/" RACK_PKI_DIR, r->dir);
}

/* The files of identity role:id (the `replicator pki issue` defaults). */
static void cred_of(struct rack_cred *out, const struct rack *r,
                    const char *role, const char *id)
{
    char dir[PATH_MAX];

    rack_pki_dir(dir, sizeof(dir), r);
    snprintf(out->ca, sizeof(out->ca), "%.*s/ca.pem", PATH_MAX - 16, dir);
    snprintf(out->cert, sizeof(out->cert), "%.*s/%s-%s.pem", PATH_MAX - 128,
             dir, role, id);
    snprintf(out->key, sizeof(out->key), "%.*s/%s-%s.key", PATH_MAX - 128,
             dir, role, id);
}

void rack_repl_cert_id(char *out, size_t cap, size_t i)
{
    snprintf(out, cap, "replicator-%zu", i);
}

void rack_cred_operator(struct rack_cred *out, const struct rack *r)
{
    cred_of(out, r, "operator", RACK_OPERATOR_ID);
}

void rack_cred_repl(struct rack_cred *out, const struct rack *r, size_t i)
{
    char id[32];

    rack_repl_cert_id(id, sizeof(id), i);
    cred_of(out, r, "controller", id);
}

void rack_cred_sled(struct rack_cred *out, const struct rack *r, size_t k)
{
    cred_of(out, r, "sled", r->sleds[k].id);
}

/* A random (version 4) lowercase UUID. Errors: ERR_IO. */
static int new_uuid(char out[40], struct err *err)
{
    uint8_t b[16];
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, b, sizeof(b)) : -1;

    if (fd >= 0)
        close(fd);
    if (n != (ssize_t)sizeof(b))
        return err_set(err, ERR_IO, "/dev/urandom: %s", strerror(errno));
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
    snprintf(out, 40, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
             "%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3], b[4], b[5],
             b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
             b[15]);
    return 0;
}

/* Run `replicator pki ARGS...` (NULL-ended, at most 14) to success. */
static int pki_tool(const struct rack *r, const char *bin,
                    const char *const *args, struct err *err)
{
    char log[PATH_MAX + 16];
    char *argv[18];
    int n = 0, code = 0, rc;

    snprintf(log, sizeof(log), "%s/pki.log", r->dir);
    argv[n++] = (char *)bin;
    argv[n++] = "pki";
    for (size_t i = 0; args[i] && n < 17; i++)
        argv[n++] = (char *)args[i];
    argv[n] = NULL;
    rc = rack_run(&code, argv, log, PKI_TOOL_TIMEOUT_MS, err);
    if (rc == 0 && code != 0)
        rc = err_set(err, ERR_IO, "replicator pki %s exited %d (see %s)",
                     args[0], code, log);
    return rc;
}

/*
 * The CA: keep an existing one (and take its rack id from index.json),
 * else clear a half-made directory and create it for a new rack id.
 */
static int ensure_ca(struct rack *r, const char *bin, struct err *err)
{
    char dir[PATH_MAX], ca[PATH_MAX + 16], idx[PATH_MAX + 16];
    json_t *v;
    int rc;

    rack_pki_dir(dir, sizeof(dir), r);
    snprintf(ca, sizeof(ca), "%s/ca.pem", dir);
    snprintf(idx, sizeof(idx), "%s/index.json", dir);
    if (access(ca, F_OK) == 0) {
        v = json_load_file(idx, 0, NULL);
        rc = jsonu_str(v, "rack_id") ? 0 :
             err_set(err, ERR_IO, "%s: no rack_id (remove %s to start the "
                     "PKI again)", idx, dir);
        if (rc == 0)
            snprintf(r->rack_id, sizeof(r->rack_id), "%s",
                     jsonu_str(v, "rack_id"));
        json_decref(v);
        return rc;
    }
    rack_rmtree(dir); /* the remains of an interrupted init, if any */
    if (!r->rack_id[0] && (rc = new_uuid(r->rack_id, err)) < 0)
        return rc;
    {
        const char *a[] = {"init", "--dir", dir, "--rack-id", r->rack_id,
                           NULL};

        return pki_tool(r, bin, a, err);
    }
}

/*
 * Issue role:id's leaf unless both of its files exist. A service's leaf
 * (kind 's' or 'r', index i) names both addresses it may serve on: the
 * loopback one and its netns address (derived from the rack directory),
 * so one PKI serves the rack in either network mode.
 */
static int ensure_leaf(const struct rack *r, const char *bin,
                       const char *role, const char *id, char kind, size_t i,
                       const struct rack_cred *c, struct err *err)
{
    char dir[PATH_MAX], v6[RACK_NET_ADDR_MAX];
    const char *a[] = {"issue", "--dir", dir, "--role", role, "--id", id,
                       "--out-cert", c->cert, "--out-key", c->key,
                       kind ? "--ip" : NULL, "127.0.0.1", "--ip", v6, NULL};

    if (access(c->cert, F_OK) == 0 && access(c->key, F_OK) == 0)
        return 0;
    rack_net_addr(v6, sizeof(v6), r, kind, i);
    rack_pki_dir(dir, sizeof(dir), r);
    unlink(c->cert);
    unlink(c->key);
    return pki_tool(r, bin, a, err);
}

int rack_pki_ensure(struct rack *r, struct err *err)
{
    char bin[PATH_MAX], id[32];
    struct rack_cred c;
    int rc = rack_bin(bin, sizeof(bin), "replicator", err);

    if (rc == 0)
        rc = ensure_ca(r, bin, err);
    rack_cred_operator(&c, r);
    if (rc == 0)
        rc = ensure_leaf(r, bin, "operator", RACK_OPERATOR_ID, 0, 0, &c,
                         err);
    for (size_t i = 0; rc == 0 && i < r->nrepls; i++) {
        rack_repl_cert_id(id, sizeof(id), i);
        rack_cred_repl(&c, r, i);
        rc = ensure_leaf(r, bin, "controller", id, 'r', i, &c, err);
    }
    for (size_t k = 0; rc == 0 && k < r->nsleds; k++) {
        rack_cred_sled(&c, r, k);
        rc = ensure_leaf(r, bin, "sled", r->sleds[k].id, 's', k, &c,
                         err);
    }
    return rc;
}

void rack_tls_args(char **argv, int *n, const struct rack_cred *c,
                   const struct rack *r)
{
    if (!r->tls) {
        argv[(*n)++] = "--insecure-plaintext";
        return;
    }
    argv[(*n)++] = "--tls-ca";
    argv[(*n)++] = (char *)c->ca;
    argv[(*n)++] = "--tls-cert";
    argv[(*n)++] = (char *)c->cert;
    argv[(*n)++] = "--tls-key";
    argv[(*n)++] = (char *)c->key;
}

const char *rack_scheme(const struct rack *r)
{
    return r->tls ? "https" : "http";
}

void rack_url(char *out, size_t cap, const struct rack *r, char kind,
              size_t i, unsigned port, const char *path)
{
    char host[RACK_NET_ADDR_MAX + 2];

    rack_member_host(host, sizeof(host), r, kind, i, true);
    snprintf(out, cap, "%s://%s:%u%s", rack_scheme(r), host, port, path);
}

void rack_pki_use_cred(const struct rack *r, const struct rack_cred *c)
{
    struct err err = ERR_INIT;

    /* Peers: sleds and replicators (rack_http's default roles). */
    if (rack_http_set_tls(r->tls ? c->ca : NULL, r->tls ? c->cert : NULL,
                          r->tls ? c->key : NULL, 0, &err) < 0)
        fprintf(stderr, "rack-sim: %s\n", err.msg);
}

void rack_pki_use(const struct rack *r)
{
    struct rack_cred c;

    rack_cred_operator(&c, r);
    rack_pki_use_cred(r, &c);
}

void rack_pki_cli_env(const struct rack *r, bool on)
{
    struct rack_cred c;

    if (!on || !r->tls) {
        unsetenv("RACKDEPOT_TLS_CA");
        unsetenv("RACKDEPOT_TLS_CERT");
        unsetenv("RACKDEPOT_TLS_KEY");
        return;
    }
    rack_cred_operator(&c, r);
    setenv("RACKDEPOT_TLS_CA", c.ca, 1);
    setenv("RACKDEPOT_TLS_CERT", c.cert, 1);
    setenv("RACKDEPOT_TLS_KEY", c.key, 1);
}

/* {"index", "id", "cert", "key"} of one identity. */
static json_t *ident_json(size_t i, const char *id, const struct rack_cred *c)
{
    return json_pack("{s:I, s:s, s:s, s:s}", "index", (json_int_t)i, "id", id,
                     "cert", c->cert, "key", c->key);
}

json_t *rack_pki_json(const struct rack *r)
{
    char dir[PATH_MAX], id[32];
    struct rack_cred c;
    json_t *o, *repls, *sleds;

    rack_pki_dir(dir, sizeof(dir), r);
    rack_cred_operator(&c, r);
    o = json_pack("{s:s, s:s, s:s, s:{s:s, s:s}, s:[], s:[]}", "dir", dir,
                  "ca", c.ca, "rack_id", r->rack_id, "operator", "cert",
                  c.cert, "key", c.key, "replicators", "sleds");
    repls = json_object_get(o, "replicators");
    sleds = json_object_get(o, "sleds");
    for (size_t i = 0; o && i < r->nrepls; i++) {
        rack_repl_cert_id(id, sizeof(id), i);
        rack_cred_repl(&c, r, i);
        if (json_array_append_new(repls, ident_json(i, id, &c)) < 0)
            goto fail;
    }
    for (size_t k = 0; o && k < r->nsleds; k++) {
        rack_cred_sled(&c, r, k);
        if (json_array_append_new(sleds, ident_json(k, r->sleds[k].id, &c)) <
            0)
            goto fail;
    }
    return o;
fail:
    json_decref(o);
    return NULL;
}
