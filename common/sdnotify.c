/* SPDX-License-Identifier: MPL-2.0 */
/*
 * sdnotify: READY=1 / WATCHDOG=1 / STOPPING=1 to the service manager
 * (see sdnotify.h). RD_HAVE_LIBSYSTEMD is defined for this file only by
 * common/CMakeLists.txt when libsystemd was found. Main (loop) thread.
 */
#include "common/sdnotify.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include <event2/event.h>
#include <jansson.h>

#include "common/err.h"
#include "common/log.h"
#include "common/mem.h"

#ifdef RD_HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#endif

struct sdnotify {
    struct event *watchdog; /* NULL when no watchdog was asked for */
    bool stopping;
};

/* One message; a failure is logged, never fatal (the manager may be gone). */
static void send_state(const char *state)
{
#ifdef RD_HAVE_LIBSYSTEMD
    int rc = sd_notify(0, state);

    if (rc < 0)
        log_warn("sd_notify_failed", "{s:s, s:i}", "state", state, "errno",
                 -rc);
#else
    (void)state;
#endif
}

static void on_watchdog(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    send_state("WATCHDOG=1");
}

/* The watchdog interval in microseconds, 0 when none was asked for. */
static uint64_t watchdog_usec(void)
{
#ifdef RD_HAVE_LIBSYSTEMD
    uint64_t usec = 0;

    if (sd_watchdog_enabled(0, &usec) > 0)
        return usec;
#endif
    return 0;
}

int sdnotify_ready(struct sdnotify **out, struct event_base *base)
{
    struct sdnotify *n;
    uint64_t usec;

    *out = NULL;
    if (!getenv("NOTIFY_SOCKET"))
        return 0;
    n = mem_calloc(1, sizeof(*n));
    if (!n)
        return ERR_NOMEM;
    usec = watchdog_usec();
    if (usec > 0) {
        /* Half the interval (systemd's advice), at least 1 ms. */
        uint64_t half = usec / 2 > 1000 ? usec / 2 : 1000;
        struct timeval tv = {(time_t)(half / 1000000),
                             (suseconds_t)(half % 1000000)};

        n->watchdog = event_new(base, -1, EV_PERSIST, on_watchdog, n);
        if (!n->watchdog || event_add(n->watchdog, &tv) < 0) {
            sdnotify_free(n);
            return ERR_NOMEM;
        }
    }
    send_state(usec > 0 ? "READY=1\nWATCHDOG=1" : "READY=1");
    log_info("sd_notify_ready", "{s:I}", "watchdog_usec", (json_int_t)usec);
    *out = n;
    return 0;
}

void sdnotify_stopping(struct sdnotify *n)
{
    if (!n || n->stopping)
        return;
    n->stopping = true;
    send_state("STOPPING=1");
}

void sdnotify_free(struct sdnotify *n)
{
    if (!n)
        return;
    if (n->watchdog)
        event_free(n->watchdog);
    mem_free(n);
}
