/* SPDX-License-Identifier: MPL-2.0 */
/*
 * err: the error codes every rackdepot function returns, and the optional
 * detail record (struct err) that carries a one-line message and, for HTTP
 * APIs, a machine-readable error_code. err_http_status() is the only place
 * an error code is mapped to an HTTP status. No allocation; any thread.
 */
#ifndef COMMON_ERR_H
#define COMMON_ERR_H

#include <stddef.h>

enum {
    ERR_OK = 0,
    ERR_NOMEM = -1,      /* allocation failed */
    ERR_IO = -2,         /* local I/O failed */
    ERR_INVAL = -3,      /* bad input from a caller or peer (HTTP 400) */
    ERR_NOTFOUND = -4,   /* (404) */
    ERR_CONFLICT = -5,   /* generation or content conflict (409) */
    ERR_LIMIT = -6,      /* a cap of limits.h was exceeded (400 unless mapped) */
    ERR_TIMEOUT = -7,    /* no progress within the allowed time */
    ERR_DB = -8,         /* database trouble (503) */
    ERR_INTERNAL = -9,   /* a bug or an impossible state (500) */
    ERR_NOSPACE = -10,   /* not enough free space or quota (507) */
    ERR_UNAVAIL = -11,   /* the resource is not there now: no dataset (503) */
    ERR_BUSY = -12,      /* too many operations in flight; retry later (429) */
    ERR_TOOBIG = -13,    /* body over its cap (413) */
    ERR_VERIFY = -14,    /* signature, hash or length verification failed (400) */
    ERR_UPSTREAM = -15,  /* a peer we depend on failed or said 404 (502) */
};

#define ERR_MSG_MAX 320
#define ERR_CODE_MAX 40

struct err {
    int code;                     /* one of ERR_*, 0 when unset */
    char error_code[ERR_CODE_MAX]; /* API error_code, "" when none */
    char msg[ERR_MSG_MAX];        /* one line, no trailing newline */
};

#define ERR_INIT {0, "", ""}

/*
 * Record code and a printf-style message in err (which may be NULL) and
 * return code unchanged, so callers can write `rc = err_set(err, ...)`.
 */
int err_set(struct err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Like err_set, also recording the API error_code (e.g. "CONFIG_GENERATION"). */
int err_set_coded(struct err *err, int code, const char *error_code,
                  const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Reset err to the unset state. err may be NULL. */
void err_clear(struct err *err);

/* HTTP status for an ERR_* code (500 for codes without a mapping). */
int err_http_status(int code);

/* Stable lower-case name of an ERR_* code ("nomem", "inval", ...). */
const char *err_name(int code);

#endif
