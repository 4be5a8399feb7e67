/* SPDX-License-Identifier: MPL-2.0 */
/* err: error codes, their names and HTTP statuses (see err.h). */
#include "common/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void set_msg(struct err *err, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void set_msg(struct err *err, const char *fmt, va_list ap)
{
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    /* A message is one line: fold any newline a peer slipped into it. */
    for (char *p = err->msg; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
}

int err_set(struct err *err, int code, const char *fmt, ...)
{
    va_list ap;

    if (!err)
        return code;
    err->code = code;
    err->error_code[0] = '\0';
    va_start(ap, fmt);
    set_msg(err, fmt, ap);
    va_end(ap);
    return code;
}

int err_set_coded(struct err *err, int code, const char *error_code,
                  const char *fmt, ...)
{
    va_list ap;

    if (!err)
        return code;
    err->code = code;
    snprintf(err->error_code, sizeof(err->error_code), "%s",
             error_code ? error_code : "");
    va_start(ap, fmt);
    set_msg(err, fmt, ap);
    va_end(ap);
    return code;
}

void err_clear(struct err *err)
{
    if (err)
        memset(err, 0, sizeof(*err));
}

int err_http_status(int code)
{
    switch (code) {
    case ERR_OK: return 200;
    case ERR_INVAL: return 400;
    case ERR_LIMIT: return 400;
    case ERR_VERIFY: return 400;
    case ERR_NOTFOUND: return 404;
    case ERR_CONFLICT: return 409;
    case ERR_TOOBIG: return 413;
    case ERR_BUSY: return 429;
    case ERR_UPSTREAM: return 502;
    case ERR_DB: return 503;
    case ERR_UNAVAIL: return 503;
    case ERR_TIMEOUT: return 504;
    case ERR_NOSPACE: return 507;
    default: return 500;
    }
}

const char *err_name(int code)
{
    switch (code) {
    case ERR_OK: return "ok";
    case ERR_NOMEM: return "nomem";
    case ERR_IO: return "io";
    case ERR_INVAL: return "inval";
    case ERR_NOTFOUND: return "notfound";
    case ERR_CONFLICT: return "conflict";
    case ERR_LIMIT: return "limit";
    case ERR_TIMEOUT: return "timeout";
    case ERR_DB: return "db";
    case ERR_INTERNAL: return "internal";
    case ERR_NOSPACE: return "nospace";
    case ERR_UNAVAIL: return "unavail";
    case ERR_BUSY: return "busy";
    case ERR_TOOBIG: return "toobig";
    case ERR_VERIFY: return "verify";
    case ERR_UPSTREAM: return "upstream";
    default: return "unknown";
    }
}
