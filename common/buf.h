/* SPDX-License-Identifier: MPL-2.0 */
/*
 * buf: a growable byte buffer, always NUL-terminated after len bytes so it
 * can be used as a C string. Embedded value: BUF_INIT / buf_release().
 * Not thread-safe; one owner at a time.
 */
#ifndef COMMON_BUF_H
#define COMMON_BUF_H

#include <stddef.h>

struct buf {
    char *data; /* NULL until the first append */
    size_t len;
    size_t cap;
};

#define BUF_INIT {NULL, 0, 0}

/* Append n bytes. Returns 0 or ERR_NOMEM (buf unchanged). */
int buf_append(struct buf *b, const void *data, size_t n);
int buf_puts(struct buf *b, const char *s);
int buf_putc(struct buf *b, char c);
int buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Make room for at least n more bytes. Returns 0 or ERR_NOMEM. */
int buf_reserve(struct buf *b, size_t n);
/* Empty the buffer, keeping its memory. */
void buf_reset(struct buf *b);
/* Hand the data (NUL-terminated, maybe NULL when empty) to the caller. */
char *buf_take(struct buf *b);
void buf_release(struct buf *b);

#endif
