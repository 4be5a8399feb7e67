/* SPDX-License-Identifier: MPL-2.0 */
/*
 * httpd_conn (private): what the connection files of the httpd server
 * share: httpd_listen.c (the listener), httpd_conn.c (a connection's
 * life), httpd_head.c (a request's head), httpd_body.c (its body) and
 * httpd_send.c (its reply). Loop thread only.
 */
#ifndef COMMON_HTTPD_CONN_H
#define COMMON_HTTPD_CONN_H

#include <stdbool.h>

#include <event2/util.h>

#include "common/httpd_internal.h"

struct bufferevent;
struct evconnlistener;
struct sockaddr;

/*
 * TLS replies are handed to the SSL bufferevent this much at a time: it
 * passes each buffer chain whole to SSL_write, so a depot file segment
 * given at once bypassed the rate-limit group and max_single_write (a
 * 3 MB reply at 1 MB/s left in 36 ms).
 */
#define HTTPD_TLS_CHUNK (128 * 1024)

/* httpd_conn.c: the listener's callback: set up a connection for fd. */
void httpd__on_accept(struct evconnlistener *lev, evutil_socket_t fd,
                      struct sockaddr *sa, int salen, void *arg);
/* httpd_conn.c: the output of c (arg) drained: feed the rest of the
 * reply, or (the reply is out) keep-alive, close or linger. */
void httpd__on_written(struct bufferevent *bev, void *arg);

/*
 * httpd_head.c. Take: when c's input starts with a complete head, start
 * its request (body state, or dispatched) and return true; false: wait
 * for more bytes, or the head was refused (replied) or c freed.
 * Dispatch: the request of c is complete (or rejected): reply to a
 * rejection, else run its route's handler.
 */
bool httpd__head_take(struct httpd_conn *c);
void httpd__dispatch(struct httpd_conn *c);

/* httpd_body.c: read what arrived of the body of c's request (chunked
 * or Content-Length); dispatches once it is complete. */
void httpd__body_take(struct httpd_conn *c);

/* httpd_send.c: report the reply body bytes of r that left our buffers
 * (all of them when complete) to the sent hook. */
void httpd__report_sent(struct httpd_conn *c, struct httpd_req *r,
                        bool complete);

#endif
