/* SPDX-License-Identifier: MPL-2.0 */
/*
 * httpc_internal: the request object shared by httpc.c (spec, easy
 * handle, callbacks, result) and httpc_loop.c (the curl-multi driver).
 * Not for use outside those two files.
 */
#ifndef COMMON_HTTPC_INTERNAL_H
#define COMMON_HTTPC_INTERNAL_H

#include <curl/curl.h>

#include "common/buf.h"
#include "common/httpc.h"
#include "common/tls.h"

#define HTTPC_METHOD_MAX 16
#define HTTPC_API_VERSION_MAX 32 /* longest httpc_spec.api_version */
#define HTTPC_FAIL_MAX 160

struct httpc {
    CURL *easy;
    struct curl_slist *hdrs;
    struct httpc_spec s;       /* shallow copy; url and method owned */
    char method[HTTPC_METHOD_MAX];
    char *url;
    int body_fd;               /* FILE body: opened here */
    int sink_fd;               /* FILE sink: opened here */
    uint64_t body_pos;
    struct buf resp;
    struct buf raw_headers;
    uint64_t body_total;
    bool truncated;
    long status;
    int64_t content_length;
    uint64_t retry_after;
    CURLcode res;
    int fail_rc;               /* set by our callbacks; wins over res */
    char fail_msg[HTTPC_FAIL_MAX];
    char errbuf[CURL_ERROR_SIZE];
    /* TLS (httpc_tls.c): the material, the expected id, why refused. */
    struct httpc_tls_mat *mat;
    char peer_id[TLS_ID_MAX + 1];
    char tls_fail[HTTPC_FAIL_MAX];
    /* Loop driver (httpc_loop.c). */
    struct httpc_loop *loop;
    struct httpc *next, *prev;
    httpc_done_fn done;
    void *done_arg;
    bool running;
};

/* Record the transport result of a finished transfer (both drivers). */
void httpc__finish(struct httpc *h, CURLcode res);

/* Check spec->tls, load its material and set the TLS options of h's
 * easy handle (httpc_new). Returns 0, ERR_INVAL, ERR_IO or ERR_NOMEM. */
int httpc__tls_setup(struct httpc *h, struct err *err);

/* Drop h's reference to its TLS material (httpc_free). */
void httpc__tls_release(struct httpc *h);

/* Take h off its loop without a done call (httpc_free). */
void httpc__loop_remove(struct httpc *h);

#endif
