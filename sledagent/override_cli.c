/* SPDX-License-Identifier: MPL-2.0 */
/*
 * override_cli: `sledagent override set|show|clear` (see override_cli.h).
 * Main thread only.
 */
#include "sledagent/override_cli.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "common/err.h"
#include "common/log.h"
#include "common/mem.h"
#include "sledagent/override.h"

static const char usage[] =
    "usage: sledagent override set --dataset A --dataset B --reason TEXT\n"
    "       sledagent override show --dataset A --dataset B\n"
    "       sledagent override clear --dataset A --dataset B --id UUID\n"
    "\n"
    "  set    hold the sled for an out-of-band install: record a new\n"
    "         override id on both datasets; the agent then refuses every\n"
    "         change from the controller (409 OVERRIDE_ACTIVE) and the\n"
    "         replicator leaves the sled alone until\n"
    "         `replicator sled resume SLED --override ID`\n"
    "  show   print the override held ({\"override\": null} for none)\n"
    "  clear  remove override ID here (when no replicator can resume it)\n"
    "\n"
    "On success prints the override held as JSON: an object with\n"
    "\"override\": null, or its \"id\", \"reason\" and \"set_at\".\n"
    "Exit 0 done, 1 refused or failed, 2 bad usage.\n";

static int bad_usage(const char *msg, const char *arg)
{
    fprintf(stderr, "sledagent override: %s%s%s\n%s", msg, arg ? ": " : "",
            arg ? arg : "", usage);
    return 2;
}

/* {"override": o or null} on stdout. */
static int print_override(const struct override *o)
{
    json_t *v = json_pack("{s:o}", "override",
                          override_active(o) ? override_to_json(o)
                                             : json_null());
    char *text = v ? json_dumps(v, JSON_SORT_KEYS) : NULL;

    if (text)
        printf("%s\n", text);
    mem_free(text);
    json_decref(v);
    return text ? 0 : 1;
}

static int do_set(const char *const *ds, const char *reason)
{
    struct override cur, o;
    struct err err = ERR_INIT;
    int n;

    if (override_read(&cur, ds, 2, &err) < 0) {
        fprintf(stderr, "sledagent override: %s\n", err.msg);
        return 1;
    }
    if (override_active(&cur)) {
        fprintf(stderr, "sledagent override: override %s is already "
                "active (set %s: %s); resume it first: replicator sled "
                "resume SLED --override %s\n", cur.id, cur.set_at,
                cur.reason, cur.id);
        return 1;
    }
    if (override_new(&o, reason, &err) < 0) {
        fprintf(stderr, "sledagent override: %s\n", err.msg);
        return err.code == ERR_INVAL ? 2 : 1;
    }
    n = override_write(ds, 2, &o, &err);
    if (n < 0) {
        fprintf(stderr, "sledagent override: not recorded: %s\n", err.msg);
        return 1;
    }
    if (n < 2)
        fprintf(stderr, "sledagent override: recorded on one dataset only "
                "(%s); set it again once the other is back\n", err.msg);
    log_warn("override_set", "{s:s, s:s, s:s, s:i}", "id", o.id, "reason",
             o.reason, "set_at", o.set_at, "datasets", n);
    return print_override(&o);
}

static int do_clear(const char *const *ds, const char *id)
{
    struct override cur;
    struct err err = ERR_INIT;
    int n;

    if (override_read(&cur, ds, 2, &err) < 0) {
        fprintf(stderr, "sledagent override: %s\n", err.msg);
        return 1;
    }
    if (!override_active(&cur) || strcasecmp(cur.id, id) != 0) {
        fprintf(stderr, "sledagent override: %s is not the active "
                "override%s%s\n", id,
                override_active(&cur) ? ": the sled is held by " : ": none "
                "is held", override_active(&cur) ? cur.id : "");
        return 1;
    }
    n = override_clear(ds, 2, id, &err);
    if (n < 0) {
        fprintf(stderr, "sledagent override: %s\n", err.msg);
        return 1;
    }
    log_warn("override_cleared", "{s:s, s:s, s:i}", "id", id, "by",
             "sledagent override clear", "datasets", n);
    if (override_read(&cur, ds, 2, &err) < 0)
        return 1;
    return print_override(&cur);
}

int override_cli_main(int argc, char **argv)
{
    const char *ds[2] = {NULL, NULL}, *reason = NULL, *id = NULL, *cmd;
    struct override cur;
    struct err err = ERR_INIT;
    int nds = 0;

    log_init("sledagent", LOG_WARN, 2);
    if (argc < 2)
        return bad_usage("a command is required", NULL);
    cmd = argv[1];
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
        fputs(usage, stdout);
        return 0;
    }
    for (int i = 2; i < argc; i += 2) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

        if (!strcmp(o, "--help")) {
            fputs(usage, stdout);
            return 0;
        }
        if (!v)
            return bad_usage("option needs a value", o);
        if (!strcmp(o, "--dataset")) {
            if (nds == 2)
                return bad_usage("give exactly two --dataset", v);
            ds[nds++] = v;
        } else if (!strcmp(o, "--reason")) {
            reason = v;
        } else if (!strcmp(o, "--id")) {
            id = v;
        } else {
            return bad_usage("unknown option", o);
        }
    }
    if (nds != 2)
        return bad_usage("give exactly two --dataset", NULL);
    if (!strcmp(cmd, "set")) {
        if (!reason || id)
            return bad_usage("set takes --reason TEXT (and no --id)", NULL);
        if (override_reason_check(reason, &err) < 0)
            return bad_usage(err.msg, NULL);
        return do_set(ds, reason);
    }
    if (!strcmp(cmd, "clear")) {
        if (!id || reason)
            return bad_usage("clear takes --id UUID (and no --reason)", NULL);
        if (!override_uuid_ok(id))
            return bad_usage("--id must be a UUID", id);
        return do_clear(ds, id);
    }
    if (!strcmp(cmd, "show")) {
        if (id || reason)
            return bad_usage("show takes no --id or --reason", NULL);
        if (override_read(&cur, ds, 2, &err) < 0)
            return 1;
        return print_override(&cur);
    }
    return bad_usage("unknown command", cmd);
}
