/* SPDX-License-Identifier: MPL-2.0 */
/* log: one JSON object per line (see log.h). */
#include "common/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "common/err.h"
#include "common/limits.h"
#include "common/mem.h"

static char component[32] = "rackdepot";
static atomic_int min_level = LOG_INFO;
static atomic_int out_fd = 2;

static const char *level_names[] = {"debug", "info", "warn", "error"};

void log_init(const char *name, enum log_level lvl, int fd)
{
    snprintf(component, sizeof(component), "%s", name ? name : "rackdepot");
    atomic_store(&min_level, (int)lvl);
    atomic_store(&out_fd, fd);
}

int log_level_parse(enum log_level *out, const char *s)
{
    for (int i = LOG_DEBUG; i <= LOG_ERROR; i++) {
        if (strcmp(s, level_names[i]) == 0) {
            *out = (enum log_level)i;
            return 0;
        }
    }
    return ERR_INVAL;
}

int log_enabled(enum log_level lvl)
{
    return (int)lvl >= atomic_load(&min_level);
}

static void write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);

        if (w < 0) {
            if (errno == EINTR)
                continue;
            return;
        }
        p += w;
        n -= (size_t)w;
    }
}

void log_emit(enum log_level lvl, const char *event, const char *fmt, ...)
{
    char line[LIMIT_LOG_LINE];
    char ts[40];
    struct timespec now;
    struct tm tm;
    json_t *obj = NULL;
    json_error_t jerr;
    char *fields = NULL;
    int n;

    if (!log_enabled(lvl))
        return;
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    n = (int)strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(ts + n, sizeof(ts) - (size_t)n, ".%03ldZ", now.tv_nsec / 1000000);

    if (fmt) {
        va_list ap;

        va_start(ap, fmt);
        obj = json_vpack_ex(&jerr, 0, fmt, ap);
        va_end(ap);
        if (obj)
            fields = json_dumps(obj, JSON_COMPACT);
    }
    /* fields is "{...}"; splice its members after ours. */
    if (fields && strlen(fields) > 2)
        n = snprintf(line, sizeof(line),
                     "{\"ts\":\"%s\",\"level\":\"%s\",\"component\":\"%s\","
                     "\"event\":\"%s\",%s\n",
                     ts, level_names[lvl], component, event, fields + 1);
    else
        n = snprintf(line, sizeof(line),
                     "{\"ts\":\"%s\",\"level\":\"%s\",\"component\":\"%s\","
                     "\"event\":\"%s\"%s}\n",
                     ts, level_names[lvl], component, event,
                     (fmt && !obj) ? ",\"log_error\":\"bad log fields\"" : "");
    if (n < 0 || n >= (int)sizeof(line))
        /* Too long: keep the line valid JSON by dropping the fields. */
        n = snprintf(line, sizeof(line),
                     "{\"ts\":\"%s\",\"level\":\"%s\",\"component\":"
                     "\"%s\",\"event\":\"%s\",\"truncated\":true}\n",
                     ts, level_names[lvl], component, event);
    write_all(atomic_load(&out_fd), line, (size_t)n);
    mem_free(fields); /* jansson allocates with malloc; mem_free is free */
    json_decref(obj);
}
