/* SPDX-License-Identifier: MPL-2.0 */
/*
 * httpd_file: file replies (httpd_reply_file). The file is read with
 * pread() in HTTPD_FILE_CHUNK pieces into the connection's output as it
 * drains (at most HTTPD_FILE_AHEAD queued), on TLS and plaintext alike:
 * never mapped (a mapping faults with SIGBUS in the TLS layer when the
 * file shrinks under it) and never handed to sendfile (libevent 2.1 takes
 * a sendfile that returns 0 for the end of the connection). A file that
 * ends early or fails to read stops the reply where it is: the queued
 * bytes leave, then the connection closes short of its Content-Length,
 * so no client sees a complete-looking body. Loop thread only.
 */
#include "common/httpd.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "common/httpd_internal.h"
#include "common/log.h"

/* One pread; the output is topped up to AHEAD once it drains below half. */
#define HTTPD_FILE_CHUNK (64 * 1024)
#define HTTPD_FILE_AHEAD (256 * 1024)

void httpd__file_set(struct httpd_conn *c, int fd, uint64_t off,
                     uint64_t len)
{
    c->file_fd = fd;
    c->file_open = true;
    c->file_off = off;
    c->file_left = len;
    c->file_bad = false;
    bufferevent_setwatermark(c->bev, EV_WRITE, HTTPD_FILE_AHEAD / 2, 0);
}

void httpd__file_drop(struct httpd_conn *c)
{
    if (c->file_open)
        close(c->file_fd);
    c->file_open = false;
    if (c->bev)
        bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
}

/* The file cannot give the promised bytes: no more of it, close after. */
static void file_fail(struct httpd_conn *c, int e)
{
    log_warn("httpd_file_short", "{s:s, s:I, s:s}", "listener", c->h->name,
             "bytes_missing", (json_int_t)c->file_left, "reason",
             e ? strerror(e) : "the file ended early");
    c->file_bad = true;
    c->close_after = true;
    c->linger = false;
    httpd__file_drop(c);
}

void httpd__file_feed(struct httpd_conn *c)
{
    struct evbuffer *out = bufferevent_get_output(c->bev);

    while (c->file_open && c->file_left > 0 &&
           evbuffer_get_length(out) < HTTPD_FILE_AHEAD) {
        size_t want = c->file_left < HTTPD_FILE_CHUNK
                          ? (size_t)c->file_left
                          : HTTPD_FILE_CHUNK;
        struct evbuffer_iovec v;
        ssize_t n;

        if (evbuffer_reserve_space(out, (ev_ssize_t)want, &v, 1) < 1) {
            file_fail(c, ENOMEM);
            return;
        }
        if (v.iov_len > want)
            v.iov_len = want;
        do
            n = pread(c->file_fd, v.iov_base, v.iov_len, (off_t)c->file_off);
        while (n < 0 && errno == EINTR);
        if (n <= 0) {
            v.iov_len = 0;
            evbuffer_commit_space(out, &v, 1);
            file_fail(c, n < 0 ? errno : 0);
            return;
        }
        v.iov_len = (size_t)n;
        if (evbuffer_commit_space(out, &v, 1) < 0) {
            file_fail(c, ENOMEM);
            return;
        }
        c->file_off += (uint64_t)n;
        c->file_left -= (uint64_t)n;
    }
    if (c->file_open && c->file_left == 0)
        httpd__file_drop(c);
}
