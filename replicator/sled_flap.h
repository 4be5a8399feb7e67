/* SPDX-License-Identifier: MPL-2.0 */
/*
 * sled_flap: damping of sled address changes in the registry. Without
 * authentication anyone can re-register a sled's id with another address
 * (issue 9); the newest registration wins (upsert semantics: a sled that
 * really moved, or restarted on another port, is adopted at once), but a
 * second change of one id within its hold window is refused (429) unless
 * it goes back to the address the sled had just before the change (the
 * real sled's periodic refresh undoing an impostor's change), and every
 * undo doubles that id's hold (SLED_FLAP_HOLD_MIN_SECS up to
 * SLED_FLAP_HOLD_MAX_SECS). An impostor changing the address every
 * second thus holds it for at most one refresh period (30 s) per hold
 * window, a fraction that halves with each round. The real fix is mTLS:
 * only the sled's own certificate may register its id.
 * State is per process (one registry per replicator), bounded by
 * LIMIT_SLEDS_PER_RACK entries, behind a mutex: any thread.
 */
#ifndef REPLICATOR_SLED_FLAP_H
#define REPLICATOR_SLED_FLAP_H

#include <stdint.h>

struct err;

#define SLED_FLAP_HOLD_MIN_SECS 60
#define SLED_FLAP_HOLD_MAX_SECS 3600

/*
 * Sled id wants to move from address old_addr to new_addr (both
 * "IP:PORT" with the depot port appended by the caller, any text) at
 * now_ms. Returns 0 (accepted, recorded) or ERR_BUSY with the seconds to
 * wait in *retry_secs and a one-line reason in err.
 */
int sled_flap_change(unsigned *retry_secs, const char *id,
                     const char *old_addr, const char *new_addr,
                     int64_t now_ms, struct err *err);

/* Test hook: forget every recorded change. */
void sled_flap__reset(void);

#endif
