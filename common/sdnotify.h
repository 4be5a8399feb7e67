/* SPDX-License-Identifier: MPL-2.0 */
/*
 * sdnotify: the systemd service notifications of the daemons (Type=notify
 * units, docs/OPERATOR.md "Packages and services"): READY=1 once the
 * listeners are bound and the store or database is open, WATCHDOG=1 from
 * the event loop every half WatchdogSec (WATCHDOG_USEC), STOPPING=1 when a
 * shutdown begins. Sent through libsystemd's sd_notify(); where
 * NOTIFY_SOCKET is unset (not under systemd) or the build has no
 * libsystemd, every call is a no-op. Main (loop) thread.
 */
#ifndef COMMON_SDNOTIFY_H
#define COMMON_SDNOTIFY_H

struct event_base;
struct sdnotify;

/*
 * Send READY=1 and, when the service manager asked for a watchdog, start
 * the WATCHDOG=1 timer on base (the first ping goes with READY=1). *out
 * is NULL when there is nothing to send (no NOTIFY_SOCKET). Returns 0 or
 * ERR_NOMEM (no timer; the service would be killed by its watchdog, so
 * the caller fails the start).
 */
int sdnotify_ready(struct sdnotify **out, struct event_base *base);

/* Send STOPPING=1 (once). The watchdog timer runs on while the loop
 * drains in-flight work. NULL: no-op. */
void sdnotify_stopping(struct sdnotify *n);

/* Stop the timer and free. NULL is a no-op. */
void sdnotify_free(struct sdnotify *n);

#endif
