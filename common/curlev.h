/* SPDX-License-Identifier: MPL-2.0 */
/*
 * curlev: a libcurl multi handle driven by a libevent event_base through
 * curl_multi_socket_action(): one event per socket curl asks about and one
 * event timer for curl's timeout, so transfers never block the loop. Used
 * by the sledagent (copy-from-depot, registration) and the replicator.
 *
 * Threading: loop thread only. Callbacks (the easy handle's own write and
 * header functions, and done) run on the loop thread, from inside
 * curl_multi_socket_action().
 */
#ifndef COMMON_CURLEV_H
#define COMMON_CURLEV_H

#include <curl/curl.h>

struct curlev;
struct event_base;

/*
 * Called once when the transfer ended (res is curl's result). The easy
 * handle is already removed from the multi handle; the callee owns it
 * again (typically curl_easy_cleanup()). May call curlev_add().
 */
typedef void (*curlev_done_fn)(CURL *easy, CURLcode res, void *arg);

/* New multi handle bound to base. Returns 0 or ERR_NOMEM. */
int curlev_new(struct curlev **out, struct event_base *base);

/*
 * Start easy (configured by the caller; its CURLOPT_PRIVATE is taken over
 * by curlev). done(easy, res, arg) runs exactly once unless the transfer is
 * cancelled with curlev_remove(). The caller keeps ownership of easy.
 * Returns 0, ERR_NOMEM or ERR_INTERNAL (curl refused the handle).
 */
int curlev_add(struct curlev *cv, CURL *easy, curlev_done_fn done, void *arg);

/*
 * Cancel a running transfer: it is removed and done is not called. Not to
 * be called from inside the handle's own write/header callbacks (pause
 * and abort from the callback's return value instead).
 */
void curlev_remove(struct curlev *cv, CURL *easy);

/*
 * Resume a transfer paused by CURL_WRITEFUNC_PAUSE (curl_easy_pause with
 * CURLPAUSE_CONT) and kick the multi handle so the unpause is acted upon.
 */
void curlev_unpause(struct curlev *cv, CURL *easy);

/* Number of transfers running. */
unsigned curlev_running(const struct curlev *cv);

/*
 * Cancel every transfer (no done callbacks), then free. NULL is a no-op.
 * The caller still owns and must clean up its easy handles.
 */
void curlev_free(struct curlev *cv);

#endif
