/* SPDX-License-Identifier: MPL-2.0 */
/*
 * cli_tls: the TLS settings of the `replicator` client commands: the
 * global flags --tls-ca/--tls-cert/--tls-key and the environment
 * variables RACKDEPOT_TLS_CA/_CERT/_KEY (a flag wins over its variable,
 * file by file), all three or none, and the base URL that follows from
 * them (https:// by default once TLS is on). The files themselves are
 * read by common/httpc on the first request, which says clearly which
 * one is missing or unreadable. Pure apart from getenv; main thread.
 */
#ifndef REPLICATOR_CLI_TLS_H
#define REPLICATOR_CLI_TLS_H

struct cli;
struct err;

/* The three files in the order ca, cert, key. */
enum { CLI_TLS_CA, CLI_TLS_CERT, CLI_TLS_KEY, CLI_TLS_N };

/* Environment variable names, in that order. */
extern const char *const cli_tls_env[CLI_TLS_N];

/*
 * Set c->tls_ca/cert/key from flags (NULL: not given) or else env (NULL
 * entries or empty strings: unset; pass cli_tls_getenv's result). Both
 * arrays are borrowed for c's life. Returns 0 or ERR_INVAL (only some of
 * the three given; err names the missing ones and where they come from).
 */
int cli_tls_resolve(struct cli *c, const char *const flags[CLI_TLS_N],
                    const char *const env[CLI_TLS_N], struct err *err);

/* env[i] = getenv(cli_tls_env[i]). */
void cli_tls_getenv(const char *out[CLI_TLS_N]);

#endif
