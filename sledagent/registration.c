/* SPDX-License-Identifier: MPL-2.0 */
/*
 * registration: periodic PUT /sled-agents/{id} to the replicator (see
 * registration.h). Owns one curl easy handle at a time, the request body
 * and headers, and the period timer. Loop thread only.
 */
#include "sledagent/registration.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>
#include <event2/event.h>

#include "common/buf.h"
#include "common/curlev.h"
#include "common/err.h"
#include "common/log.h"
#include "common/mem.h"

#define REGISTRATION_DEFAULT_SECS 30

struct registration {
    struct curlev *cv;
    struct event *timer;
    CURL *easy;
    struct curl_slist *hdrs;
    char *body;
    char *url;
    char *replicator;
    unsigned interval;
};

static void schedule(struct registration *rg, unsigned secs)
{
    struct timeval tv = {(time_t)secs, 0};

    evtimer_add(rg->timer, &tv);
}

static void on_done(CURL *easy, CURLcode res, void *arg)
{
    struct registration *rg = arg;
    long code = 0;

    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
    if (res != CURLE_OK || code < 200 || code > 299)
        log_warn("registration_failed", "{s:s, s:s, s:i}", "replicator",
                 rg->replicator, "error", curl_easy_strerror(res),
                 "status", (int)code);
    else
        log_debug("registered", "{s:s}", "replicator", rg->replicator);
    curl_easy_cleanup(easy);
    rg->easy = NULL;
    schedule(rg, rg->interval);
}

static size_t discard(char *p, size_t sz, size_t n, void *arg)
{
    (void)p;
    (void)arg;
    return sz * n;
}

static void on_fire(evutil_socket_t fd, short what, void *arg)
{
    struct registration *rg = arg;
    long timeout = rg->interval < 20 ? (long)rg->interval : 20L;

    (void)fd;
    (void)what;
    if (rg->easy)
        return;
    rg->easy = curl_easy_init();
    if (!rg->easy) {
        schedule(rg, rg->interval);
        return;
    }
    /* An attempt never outlives the period, so a hung replicator delays
     * at most one registration. */
    if (timeout < 1)
        timeout = 1;
    curl_easy_setopt(rg->easy, CURLOPT_URL, rg->url);
    curl_easy_setopt(rg->easy, CURLOPT_CUSTOMREQUEST, "PUT");
    curl_easy_setopt(rg->easy, CURLOPT_POSTFIELDS, rg->body);
    curl_easy_setopt(rg->easy, CURLOPT_HTTPHEADER, rg->hdrs);
    curl_easy_setopt(rg->easy, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(rg->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(rg->easy, CURLOPT_CONNECTTIMEOUT, timeout < 10 ? timeout
                                                                    : 10L);
    curl_easy_setopt(rg->easy, CURLOPT_TIMEOUT, timeout);
    if (curlev_add(rg->cv, rg->easy, on_done, rg) < 0) {
        curl_easy_cleanup(rg->easy);
        rg->easy = NULL;
        schedule(rg, rg->interval);
    }
}

int registration_new(struct registration **out, struct event_base *base,
                     struct curlev *cv, const struct registration_opts *opts)
{
    struct registration *rg = mem_calloc(1, sizeof(*rg));
    struct buf b = BUF_INIT;
    bool v6 = strchr(opts->host, ':') != NULL;
    int rc = 0;

    *out = NULL;
    if (!rg)
        return ERR_NOMEM;
    rg->cv = cv;
    rg->interval = opts->interval_secs ? opts->interval_secs
                                       : REGISTRATION_DEFAULT_SECS;
    rc = buf_printf(&b, "{\"api_address\": \"%s%s%s:%u\", "
                        "\"repo_depot_port\": %u}",
                    v6 ? "[" : "", opts->host, v6 ? "]" : "",
                    (unsigned)opts->api_port, (unsigned)opts->depot_port);
    if (rc < 0)
        goto out;
    rg->body = buf_take(&b);
    rc = buf_printf(&b, "%s/sled-agents/%s", opts->replicator_url, opts->id);
    if (rc < 0)
        goto out;
    rg->url = buf_take(&b);
    rg->replicator = mem_strdup(opts->replicator_url);
    rg->hdrs = curl_slist_append(NULL, "Content-Type: application/json");
    rg->timer = evtimer_new(base, on_fire, rg);
    if (!rg->replicator || !rg->hdrs || !rg->timer) {
        rc = ERR_NOMEM;
        goto out;
    }
    schedule(rg, 0);
    *out = rg;
    rg = NULL;
out:
    buf_release(&b);
    registration_free(rg);
    return rc;
}

void registration_stop(struct registration *rg)
{
    if (rg && rg->timer)
        evtimer_del(rg->timer);
}

void registration_free(struct registration *rg)
{
    if (!rg)
        return;
    if (rg->easy) {
        curlev_remove(rg->cv, rg->easy);
        curl_easy_cleanup(rg->easy);
    }
    if (rg->timer)
        event_free(rg->timer);
    curl_slist_free_all(rg->hdrs);
    mem_free(rg->body);
    mem_free(rg->url);
    mem_free(rg->replicator);
    mem_free(rg);
}
