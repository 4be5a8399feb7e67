/* SPDX-License-Identifier: MPL-2.0 */
/*
 * load_rack: the load bench's rack-sim rack (see load_rack.h). Commands
 * run through the shell with single-quoted paths (a path holding a quote
 * is refused), their output appended to dir/tools.log.
 */
#include "bench/load_rack.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "common/mem.h"
#include "tests/support/proc.h"
#include "tests/support/testutil.h"

#define WAIT_SECS 180

static char *bin_rs, *bin_mk, *bin_repl;

/* Run a shell command line; 0 when it exited 0. */
static int sh(const struct lrack *r, const char *cmd)
{
    char line[8192];

    snprintf(line, sizeof(line), "( %s ) >>'%s/tools.log' 2>&1", cmd,
             r->dir);
    return system(line) == 0 ? 0 : -1;
}

static json_t *status(const struct lrack *r)
{
    char cmd[PATH_MAX * 2 + 64];
    json_t *st;
    FILE *f;

    snprintf(cmd, sizeof(cmd), "'%s' --dir '%s/rack' status --json "
             "2>>'%s/tools.log'", bin_rs, r->dir, r->dir);
    if (!(f = popen(cmd, "r")))
        return NULL;
    st = json_loadf(f, 0, NULL);
    pclose(f);
    return st;
}

static void copy_str(char *dst, json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));

    snprintf(dst, PATH_MAX, "%s", s ? s : "");
}

/* Fill r from a status where sled 0 holds an artifact on both datasets;
 * 1 when not yet. */
static int read_status(struct lrack *r, json_t *st)
{
    json_t *s0 = json_array_get(json_object_get(st, "sleds"), 0);
    json_t *arts = json_object_get(s0, "artifacts"), *pki, *v;
    const char *hex;

    json_object_foreach(arts, hex, v) {
        if (json_integer_value(v) == 2 && strlen(hex) == 64)
            break;
    }
    if (!hex || !v)
        return 1;
    snprintf(r->hex, sizeof(r->hex), "%s", hex);
    r->sled_api = (int)json_integer_value(json_object_get(s0, "api_port"));
    r->sled_depot =
        (int)json_integer_value(json_object_get(s0, "depot_port"));
    r->repl_port = (int)json_integer_value(json_object_get(
        json_array_get(json_object_get(st, "replicators"), 0), "port"));
    pki = json_object_get(st, "pki");
    copy_str(r->ca, pki, "ca");
    copy_str(r->op_cert, json_object_get(pki, "operator"), "cert");
    copy_str(r->op_key, json_object_get(pki, "operator"), "key");
    v = json_array_get(json_object_get(pki, "replicators"), 0);
    copy_str(r->ctl_cert, v, "cert");
    copy_str(r->ctl_key, v, "key");
    return 0;
}

int lrack_up(struct lrack *r, bool tls)
{
    char cmd[PATH_MAX * 4];
    json_t *st;
    int rc = 1;

    memset(r, 0, sizeof(*r));
    r->tls = tls;
    bin_rs = proc_bin_path("rack-sim");
    bin_mk = proc_bin_path("tuf-mkrepo");
    bin_repl = proc_bin_path("replicator");
    if (!bin_rs || !bin_mk || !bin_repl ||
        testutil_tmpdir(&r->dir, "load-bench") < 0 ||
        chmod(r->dir, 0755) < 0 || strchr(r->dir, '\'') ||
        strchr(bin_rs, '\'')) {
        fprintf(stderr, "load_bench: no temp directory or binaries\n");
        return -1;
    }
    snprintf(cmd, sizeof(cmd), "'%s' up --sleds 2 --dir '%s/rack' %s",
             bin_rs, r->dir, tls ? "--tls" : "--insecure-plaintext");
    if (sh(r, cmd) < 0)
        goto fail;
    snprintf(cmd, sizeof(cmd), "'%s' --out '%s/repo.zip' --system-version "
             "1.0.0 --random 2:8388608 --seed 1 && eval \"$('%s' --dir "
             "'%s/rack' env)\" && '%s' --url \"$REPLICATOR_URL\" repo upload "
             "'%s/repo.zip'", bin_mk, r->dir, bin_rs, r->dir, bin_repl,
             r->dir);
    if (sh(r, cmd) < 0)
        goto fail;
    for (int i = 0; i < WAIT_SECS && rc == 1; i++) {
        if ((st = status(r)) != NULL)
            rc = read_status(r, st);
        json_decref(st);
        if (rc == 1)
            sleep(1);
    }
    if (rc == 0 && r->repl_port > 0 && r->sled_api > 0 && r->sled_depot > 0)
        return 0;
fail:
    fprintf(stderr, "load_bench: the rack did not come up with its "
            "artifacts (see %s/tools.log)\n", r->dir);
    lrack_down(r);
    return -1;
}

void lrack_down(struct lrack *r)
{
    char cmd[PATH_MAX * 2];

    if (r->dir && bin_rs) {
        snprintf(cmd, sizeof(cmd), "'%s' --dir '%s/rack' down --purge",
                 bin_rs, r->dir);
        (void)sh(r, cmd);
        if (!getenv("RD_KEEP_TEST_DIRS"))
            testutil_rmrf(r->dir);
    }
    mem_free(r->dir);
    mem_free(bin_rs);
    mem_free(bin_mk);
    mem_free(bin_repl);
    r->dir = bin_rs = bin_mk = bin_repl = NULL;
}
