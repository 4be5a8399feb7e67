/* SPDX-License-Identifier: MPL-2.0 */
/*
 * inv_trust: whether the task believes a sled's inventory for the
 * replication counts (issue 9, docs/REPLICATION.md "Fake inventories").
 * A sled's list may drop staged copies (by counting toward
 * min_sled_replication) only when it came from that sled: over a
 * verified TLS connection whose peer identity (the URI SAN's id) equals
 * the sled's registered id. A replicator running without TLS (today:
 * every replicator; later only with --insecure-plaintext) has no
 * identities and trusts every inventory, as before. Untrusted holders
 * stay copy sources (copies are verified by hash on arrival). Pure, any
 * thread.
 */
#ifndef REPLICATOR_TASK_INV_TRUST_H
#define REPLICATOR_TASK_INV_TRUST_H

#include <stdbool.h>

struct collect_sled;

/*
 * true when s's inventory may count toward min_sled_replication:
 * peers_authenticated is false (plaintext mode), or s->peer_verified and
 * s->peer_id equals s->id.
 */
bool sled_inventory_trusted(const struct collect_sled *s,
                            bool peers_authenticated);

#endif
