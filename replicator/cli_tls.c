/* SPDX-License-Identifier: MPL-2.0 */
/*
 * cli_tls: flags and environment for the CLI's mutual TLS (see
 * cli_tls.h). Main thread.
 */
#include "replicator/cli_tls.h"

#include <stdlib.h>

#include "common/err.h"
#include "replicator/cli.h"

const char *const cli_tls_env[CLI_TLS_N] = {
    "RACKDEPOT_TLS_CA", "RACKDEPOT_TLS_CERT", "RACKDEPOT_TLS_KEY"};

static const char *const flag_names[CLI_TLS_N] = {"--tls-ca", "--tls-cert",
                                                  "--tls-key"};

void cli_tls_getenv(const char *out[CLI_TLS_N])
{
    for (int i = 0; i < CLI_TLS_N; i++)
        out[i] = getenv(cli_tls_env[i]);
}

int cli_tls_resolve(struct cli *c, const char *const flags[CLI_TLS_N],
                    const char *const env[CLI_TLS_N], struct err *err)
{
    const char *v[CLI_TLS_N];
    int n = 0, missing = -1;

    for (int i = 0; i < CLI_TLS_N; i++) {
        v[i] = flags[i] && flags[i][0] ? flags[i]
               : env[i] && env[i][0]   ? env[i]
                                       : NULL;
        if (v[i])
            n++;
        else if (missing < 0)
            missing = i;
    }
    if (n != 0 && n != CLI_TLS_N)
        return err_set(err, ERR_INVAL, "TLS needs a CA, a certificate and a "
                       "key: %s (or %s) is not set", flag_names[missing],
                       cli_tls_env[missing]);
    c->tls_ca = v[CLI_TLS_CA];
    c->tls_cert = v[CLI_TLS_CERT];
    c->tls_key = v[CLI_TLS_KEY];
    return 0;
}
