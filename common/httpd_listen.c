/* SPDX-License-Identifier: MPL-2.0 */
/*
 * httpd_listen: the listening socket of an httpd server: httpd_new (the
 * numeric listen address, the accept queue, the limits started),
 * httpd_port, httpd_stop_accepting and httpd_free (which closes every
 * connection). Accepting a connection is httpd_conn.c's. Loop thread only.
 */
#include "common/httpd.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <stdio.h>
#include <string.h>

#include <event2/listener.h>
#include <event2/util.h>

#include "common/err.h"
#include "common/httpd_conn.h"
#include "common/httpd_internal.h"
#include "common/limits.h"
#include "common/mem.h"

/*
 * Accept queue. With 128, a burst of 500 TLS handshakes filled it and a
 * legitimate client's SYN was dropped until its 1 s retransmit
 * (test_tls_agent__handshake_flood); the kernel caps it at somaxconn.
 */
#define HTTPD_LISTEN_BACKLOG 1024

int httpd_new(struct httpd **out, struct event_base *base,
              const struct httpd_opts *opts, const struct httpd_service *svc,
              struct err *err)
{
    struct httpd *h = mem_calloc(1, sizeof(*h));
    struct sockaddr_storage ss;
    int sl = (int)sizeof(ss);
    socklen_t gl = sizeof(ss);
    char spec[300];
    int rc = 0;

    *out = NULL;
    if (!h)
        return err_set(err, ERR_NOMEM, "out of memory");
    h->base = base;
    h->svc = *svc;
    h->rate_group = opts->rate_group;
    h->tls = opts->tls;
    h->handshake_secs = opts->handshake_secs ? opts->handshake_secs
                                             : LIMIT_TLS_HANDSHAKE_SECS;
    h->idle_secs = opts->idle_secs ? opts->idle_secs : LIMIT_HTTP_IDLE_SECS;
    h->max_body = opts->max_body_bytes ? opts->max_body_bytes
                                       : LIMIT_ARTIFACT_BODY_DEFAULT;
    snprintf(h->name, sizeof(h->name), "%s", opts->name ? opts->name : "http");
    snprintf(spec, sizeof(spec), strchr(opts->host, ':') ? "[%s]:%u" : "%s:%u",
             opts->host, (unsigned)opts->port);
    memset(&ss, 0, sizeof(ss));
    if (strchr(opts->host, ':')) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons(opts->port);
        sl = (int)sizeof(*s6);
        if (evutil_inet_pton(AF_INET6, opts->host, &s6->sin6_addr) != 1)
            rc = ERR_INVAL;
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

        s4->sin_family = AF_INET;
        s4->sin_port = htons(opts->port);
        sl = (int)sizeof(*s4);
        if (evutil_inet_pton(AF_INET, *opts->host ? opts->host : "0.0.0.0",
                             &s4->sin_addr) != 1)
            rc = ERR_INVAL;
    }
    if (rc < 0) {
        rc = err_set(err, ERR_INVAL, "bad listen address %s (numeric IP "
                     "expected)", spec);
        goto out;
    }
    h->lev = evconnlistener_new_bind(base, httpd__on_accept, h,
                                     LEV_OPT_CLOSE_ON_FREE |
                                         LEV_OPT_REUSEABLE |
                                         LEV_OPT_CLOSE_ON_EXEC,
                                     HTTPD_LISTEN_BACKLOG,
                                     (struct sockaddr *)&ss, sl);
    if (!h->lev) {
        rc = err_set(err, ERR_IO, "cannot listen on %s: %s", spec,
                     evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
        goto out;
    }
    if (getsockname(evconnlistener_get_fd(h->lev), (struct sockaddr *)&ss,
                    &gl) < 0) {
        rc = err_set(err, ERR_IO, "getsockname failed");
        goto out;
    }
    if (httpd__limits_start(h, opts) < 0) {
        rc = err_set(err, ERR_NOMEM, "out of memory");
        goto out;
    }
    h->port = ntohs(ss.ss_family == AF_INET
                        ? ((struct sockaddr_in *)&ss)->sin_port
                        : ((struct sockaddr_in6 *)&ss)->sin6_port);
    *out = h;
    h = NULL;
out:
    if (h) {
        if (h->lev)
            evconnlistener_free(h->lev);
        httpd__limits_stop(h);
        mem_free(h);
    }
    return rc;
}

uint16_t httpd_port(const struct httpd *h)
{
    return h->port;
}

void httpd_stop_accepting(struct httpd *h)
{
    if (h && h->lev) {
        h->stopped = true;
        evconnlistener_disable(h->lev);
    }
}

void httpd_free(struct httpd *h)
{
    if (!h)
        return;
    evconnlistener_free(h->lev);
    while (h->conns)
        httpd__conn_close(h->conns);
    httpd__limits_stop(h);
    mem_free(h);
}
