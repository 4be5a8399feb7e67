/* SPDX-License-Identifier: MPL-2.0 */
/*
 * cli_omdb: the task status in the reference debugger's layout (see
 * cli_omdb.h). The operation line follows the reference's Rust Debug
 * rendering of its operation enum (PutConfig { generation:
 * Generation(G) }, List, Put { hash: ArtifactHash("..") }, Copy { hash:
 * .., source_sled: ID (sled) }); times are RFC 3339 in seconds, as the
 * reference prints them. Pure; any thread.
 */
#include "replicator/cli_omdb.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/jsonutil.h"

static json_int_t ival(const json_t *o, const char *k)
{
    return json_integer_value(json_object_get(o, k));
}

static const char *sval(const json_t *o, const char *k)
{
    const char *s = jsonu_str(o, k);

    return s ? s : "";
}

/* humantime's format_duration for whole seconds: "5m", "1h 30m", "0s". */
static void duration_str(char *out, size_t cap, json_int_t secs)
{
    static const struct {
        json_int_t n;
        const char *unit;
    } units[] = {{86400, "day"}, {3600, "h"}, {60, "m"}, {1, "s"}};
    size_t len = 0;

    out[0] = '\0';
    if (secs <= 0) {
        snprintf(out, cap, "0s");
        return;
    }
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        json_int_t q = secs / units[i].n;
        int n;

        if (!q)
            continue;
        secs -= q * units[i].n;
        n = snprintf(out + len, cap - len, "%s%" JSON_INTEGER_FORMAT "%s%s",
                     len ? " " : "", q, units[i].unit,
                     units[i].n == 86400 && q > 1 ? "s" : "");
        if (n < 0 || (size_t)n >= cap - len)
            return;
        len += (size_t)n;
    }
}

/* "YYYY-MM-DDTHH:MM:SS" + frac + "Z" of unix ms (clamped to 0..9999). */
static void time_str(char *out, size_t cap, json_int_t ms, bool millis)
{
    time_t secs;
    struct tm tm;

    if (ms < 0)
        ms = 0;
    if (ms > 253402300799999)
        ms = 253402300799999;
    secs = (time_t)(ms / 1000);
    memset(&tm, 0, sizeof(tm));
    gmtime_r(&secs, &tm);
    if (millis)
        snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                 (tm.tm_year + 1900) % 10000, (tm.tm_mon + 1) % 100,
                 tm.tm_mday % 100, tm.tm_hour % 100, tm.tm_min % 100,
                 tm.tm_sec % 100, (int)(ms % 1000));
    else
        snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02dZ",
                 (tm.tm_year + 1900) % 10000, (tm.tm_mon + 1) % 100,
                 tm.tm_mday % 100, tm.tm_hour % 100, tm.tm_min % 100,
                 tm.tm_sec % 100);
}

/* The reference's three activation reasons: ours map onto them. */
static const char *reason_str(const char *r)
{
    if (!strcmp(r, "periodic") || !strcmp(r, "startup"))
        return "a periodic timer firing";
    return "an explicit signal";
}

/* "2026-12-05T00:00:00Z" of a ringbuf "time" (RFC 3339 with millis). */
static void at_str(char *out, size_t cap, const char *t)
{
    const char *dot = strchr(t, '.');

    if (dot && dot - t < 40)
        snprintf(out, cap, "%.*sZ", (int)(dot - t), t);
    else
        snprintf(out, cap, "%s", t);
}

static int op_str(struct buf *b, const json_t *e)
{
    const char *op = sval(e, "operation");

    if (!strcmp(op, "put_config"))
        return buf_printf(b, "PutConfig { generation: Generation(%"
                          JSON_INTEGER_FORMAT ") }", ival(e, "generation"));
    if (!strcmp(op, "list"))
        return buf_puts(b, "List");
    if (!strcmp(op, "put"))
        return buf_printf(b, "Put { hash: ArtifactHash(\"%s\") }",
                          sval(e, "hash"));
    if (!strcmp(op, "copy"))
        return buf_printf(b, "Copy { hash: ArtifactHash(\"%s\"), "
                          "source_sled: %s (sled) }",
                          sval(e, "hash"), sval(e, "source_sled"));
    return buf_printf(b, "%s", op);
}

static int counters(struct buf *b, const json_t *c)
{
    static const char *const rows[][2] = {
        {"put config ok:", "put_config_ok"},
        {"put config err:", "put_config_err"},
        {"list ok:", "list_ok"},
        {"list err:", "list_err"},
        {"put ok:", "put_ok"},
        {"put err:", "put_err"},
        {"copy ok:", "copy_ok"},
        {"copy err:", "copy_err"}};
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < sizeof(rows) / sizeof(rows[0]); i++)
        rc = buf_printf(b, "      %-15s %3" JSON_INTEGER_FORMAT "\n",
                        rows[i][0], ival(c, rows[i][1]));
    return rc;
}

static int ringbuf(struct buf *b, const json_t *rb)
{
    const json_t *e;
    char at[48];
    size_t i;
    int rc = buf_puts(b, "    request ringbuf:\n");

    if (rc == 0 && json_array_size(rb) == 0)
        rc = buf_puts(b, "      [no entries]\n");
    json_array_foreach(rb, i, e) {
        if (rc < 0)
            break;
        at_str(at, sizeof(at), sval(e, "time"));
        rc = buf_printf(b, "      - target sled: %s\n        operation: ",
                        sval(e, "target_sled"));
        if (rc == 0)
            rc = op_str(b, e);
        if (rc == 0)
            rc = buf_printf(b, "\n        at: %s\n", at);
        if (rc == 0 && jsonu_str(e, "error"))
            rc = buf_printf(b, "        error: %s\n", sval(e, "error"));
    }
    return rc;
}

int cli_omdb_render(struct buf *out, const json_t *st, int64_t now_ms)
{
    const json_t *cfg = json_object_get(st, "config");
    const json_t *last = json_object_get(st, "last_run");
    const json_t *la = json_object_get(st, "last_activation");
    char period[64], when[48];
    int rc;

    if (!json_is_object(st) ||
        !json_is_object(json_object_get(st, "last_run_counters")) ||
        !json_is_array(json_object_get(st, "request_debug_ringbuf")))
        return buf_puts(out, "task: \"tuf_artifact_replication\"\n"
                             "warning: failed to interpret task details\n");
    duration_str(period, sizeof(period), ival(cfg, "period_secs"));
    rc = buf_printf(out, "task: \"tuf_artifact_replication\"\n"
                    "  configured period: every %s\n"
                    "  currently executing: ", period);
    if (rc == 0 && !strcmp(sval(st, "state"), "idle"))
        rc = buf_puts(out, "no\n");
    else if (rc == 0) {
        time_str(when, sizeof(when), ival(la, "time_ms"), true);
        rc = buf_printf(out, "iter %" JSON_INTEGER_FORMAT ", triggered by %s\n"
                        "    started at %s, running for %" PRId64 "ms\n",
                        ival(st, "runs") + 1, reason_str(sval(la, "reason")),
                        when, now_ms - (int64_t)ival(la, "time_ms"));
    }
    if (rc == 0)
        rc = buf_puts(out, "  last completed activation: ");
    if (rc == 0 && !json_is_object(last))
        return buf_puts(out, "never\n");
    if (rc < 0)
        return rc;
    time_str(when, sizeof(when), ival(last, "started_ms"), true);
    rc = buf_printf(out, "iter %" JSON_INTEGER_FORMAT ", triggered by %s\n"
                    "    started at %s (%" PRId64 "s ago) and ran for %"
                    JSON_INTEGER_FORMAT "ms\n",
                    ival(last, "run"), reason_str(sval(last, "reason")), when,
                    (now_ms - (int64_t)ival(last, "started_ms")) / 1000,
                    ival(last, "duration_ms"));
    if (rc == 0 && jsonu_str(last, "error"))
        return buf_printf(out, "    last completion reported error: %s\n\n",
                          sval(last, "error"));
    if (rc == 0)
        rc = ringbuf(out, json_object_get(st, "request_debug_ringbuf"));
    if (rc == 0)
        rc = buf_puts(out, "    last run:\n");
    if (rc == 0)
        rc = counters(out, json_object_get(st, "last_run_counters"));
    if (rc == 0)
        rc = buf_puts(out, "    lifetime:\n");
    if (rc == 0)
        rc = counters(out, json_object_get(st, "lifetime_counters"));
    if (rc == 0)
        rc = buf_printf(out, "    local repos: %" JSON_INTEGER_FORMAT "\n\n",
                        ival(st, "local_repos"));
    return rc;
}
