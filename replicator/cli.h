/* SPDX-License-Identifier: MPL-2.0 */
/*
 * cli: the `replicator` command line: global flags (--url, --json,
 * --help), dispatch to `serve` (serve.c), `db` (db/db_cli.c) and the
 * client commands (cli_repo.c, cli_trust.c), the local `pki` commands
 * (cli_pki.c), and the HTTP helpers the client commands share over
 * libcurl (blocking easy handles: a command-line tool has no event loop). Exit codes: 0 ok, 1 the operation failed (the message
 * says why), 2 usage error. With --json, stdout holds exactly one JSON
 * document: the server's reply on success, {"status", "message",
 * "request_id"?, "error_code"?} on failure. Main thread.
 */
#ifndef REPLICATOR_CLI_H
#define REPLICATOR_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

struct err;

#define CLI_EXIT_OK 0
#define CLI_EXIT_FAILED 1
#define CLI_EXIT_USAGE 2

struct cli {
    const char *url;  /* base URL, no trailing slash needed */
    bool json;        /* --json output */
    /* Mutual TLS to the API (cli_tls.c): all three or all NULL. The
     * server must present a controller certificate of the rack. */
    const char *tls_ca, *tls_cert, *tls_key;
};

/* Human rendering of a successful reply (stdout). */
typedef void (*cli_human_fn)(const json_t *reply);

/* The whole tool: argv[0] is the program. Returns the exit code. */
int cli_main(int argc, char **argv);

/*
 * One request to c->url + path: body (a NUL-terminated JSON string) or
 * upload (upload_len bytes streamed from the file, with progress on
 * stderr) or neither. *status and *out (parsed JSON reply or NULL; new
 * reference) on success. Returns 0, ERR_IO (transport failure, err says
 * why) or ERR_NOMEM.
 */
int cli_request(long *status, json_t **out, const struct cli *c,
                const char *method, const char *path, const char *body,
                FILE *upload, uint64_t upload_len, struct err *err);

/*
 * Print the outcome of a request (rc and err from cli_request) as text or
 * --json and return the exit code (0 or 1).
 */
int cli_report(const struct cli *c, long status, const json_t *reply, int rc,
               const struct err *err, cli_human_fn human);

/* cli_request without a body, then cli_report. Returns the exit code. */
int cli_simple(const struct cli *c, const char *method, const char *path,
               const char *body, cli_human_fn human);

/* A 503 (no database primary during a failover, a replicator shutting
 * down) is retried: 20 tries 2 s apart outlast a failover (~10 s). */
#define CLI_RETRY_TRIES 20
#define CLI_RETRY_SECS 2

/*
 * cli_request, tried again while the replicator answers 503: at most
 * CLI_RETRY_TRIES tries CLI_RETRY_SECS apart, each retry announced on
 * stderr as "replicator: <what>: the replicator answered 503 (<its
 * message>); retrying in 2 s (attempt n of 20)"; upload, if any, is
 * rewound before each retry. Only for requests that are harmless to
 * repeat (idempotent, or refused whole by a 503). Returns as cli_request,
 * with the last answer (a 503 after the last try).
 */
int cli_request_retrying(long *status, json_t **out, const struct cli *c,
                         const char *what, const char *method,
                         const char *path, const char *body, FILE *upload,
                         uint64_t upload_len, struct err *err);

/* cli_simple with cli_request_retrying (what names the command on the
 * retry lines). Returns the exit code. */
int cli_simple_retrying(const struct cli *c, const char *what,
                        const char *method, const char *path,
                        const char *body, cli_human_fn human);

/* Whether argv holds --help or -h. */
bool cli_wants_help(int argc, char **argv);

/* `repo ...` and `trust-root ...`: argv[0] is the command. Exit code. */
int cli_repo_main(const struct cli *c, int argc, char **argv);
int cli_trust_main(const struct cli *c, int argc, char **argv);

/* `prune-policy enable|disable [--reason TEXT]|show` (cli_prune.c):
 * argv[0] is "prune-policy". Exit code. */
int cli_prune_main(const struct cli *c, int argc, char **argv);

/*
 * `pki ...` (cli_pki.c): local commands on a rack CA directory; argv[0] is
 * "pki". c->json as --json. Returns the exit code. cli_pki_run writes to
 * out and errf instead of stdout and stderr (tests).
 */
int cli_pki_main(const struct cli *c, int argc, char **argv);
int cli_pki_run(FILE *out, FILE *errf, bool json, int argc, char **argv);

#endif
