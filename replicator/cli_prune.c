/* SPDX-License-Identifier: MPL-2.0 */
/*
 * cli_prune: `replicator prune-policy enable [--reason TEXT] | disable
 * [--reason TEXT] | show`, the automatic pruner's rack-wide switch and
 * report (api_prune.c; docs/OPERATOR.md "Automatic pruning"). Main
 * thread.
 */
#include "replicator/cli.h"

#include <string.h>

#include <jansson.h>

#include "common/err.h"
#include "common/jsonutil.h"
#include "common/mem.h"

#define PATH_POLICY "/v1/system/update/prune-policy"

static const char prune_usage[] =
    "usage: replicator [--url URL] [--json] prune-policy show\n"
    "       replicator [--url URL] [--json] prune-policy enable "
    "[--reason TEXT]\n"
    "       replicator [--url URL] [--json] prune-policy disable "
    "[--reason TEXT]\n"
    "  show     the automatic pruner: on or off (and why), the repositories\n"
    "           it keeps (the newest --prune-keep uploads and the pinned\n"
    "           ones), those it may prune (oldest first), the next one,\n"
    "           and warnings.\n"
    "  enable   switch it on for every replicator of the rack.\n"
    "  disable  switch it off for every replicator (the reason is shown in\n"
    "           every status until it is switched on again).\n"
    "A 503 (e.g. no database primary during a failover) is retried every\n"
    "2 s, at most 20 times, each retry on stderr (switching twice is\n"
    "harmless).\n"
    "Pin a repository with `replicator repo pin VERSION`.\n"
    "Exit codes: 0 success, 1 refused or failed, 2 usage error.\n";

static void print_list(const char *label, const json_t *arr)
{
    printf("%s:", label);
    if (json_array_size(arr) == 0)
        printf(" (none)");
    for (size_t i = 0; i < json_array_size(arr); i++)
        printf(" %s", json_string_value(json_array_get(arr, i)));
    printf("\n");
}

static void human_report(const json_t *j)
{
    const json_t *w = json_object_get(j, "warnings");
    const char *reason = jsonu_str(j, "reason");
    const char *next = jsonu_str(j, "next_prune");

    printf("automatic pruning: %s%s%s%s\n", jsonu_str(j, "status"),
           reason ? " (" : "", reason ? reason : "", reason ? ")" : "");
    printf("keeps the newest %lld uploads and every pinned repository\n",
           (long long)json_integer_value(json_object_get(j, "keep_newest")));
    print_list("keep (newest first)", json_object_get(j, "keep"));
    print_list("eligible (oldest first)", json_object_get(j, "eligible"));
    printf("next prune: %s\n", next ? next : "(none)");
    for (size_t i = 0; i < json_array_size(w); i++)
        printf("warning: %s\n", json_string_value(json_array_get(w, i)));
}

static int set(const struct cli *c, bool enable, int argc, char **argv)
{
    const char *reason = NULL;
    json_t *body = NULL;
    char *text = NULL;
    int code;

    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--reason") && i + 1 < argc && !reason) {
            reason = argv[++i];
        } else {
            fputs(prune_usage, stderr);
            return CLI_EXIT_USAGE;
        }
    }
    body = reason ? json_pack("{s:s}", "reason", reason) : json_object();
    if (!body || !(text = jsonu_dumps(body))) {
        fprintf(stderr, "replicator: out of memory\n");
        json_decref(body);
        return CLI_EXIT_FAILED;
    }
    code = cli_simple_retrying(c, "prune-policy", "POST",
                               enable ? PATH_POLICY "/enable"
                                      : PATH_POLICY "/disable",
                               text, human_report);
    mem_free(text);
    json_decref(body);
    return code;
}

int cli_prune_main(const struct cli *c, int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        fputs(prune_usage, stdout);
        return CLI_EXIT_OK;
    }
    if (argc == 2 && !strcmp(argv[1], "show"))
        return cli_simple_retrying(c, "prune-policy", "GET", PATH_POLICY,
                                   NULL, human_report);
    if (argc >= 2 && !strcmp(argv[1], "enable"))
        return set(c, true, argc, argv);
    if (argc >= 2 && !strcmp(argv[1], "disable"))
        return set(c, false, argc, argv);
    fputs(prune_usage, stderr);
    return CLI_EXIT_USAGE;
}
