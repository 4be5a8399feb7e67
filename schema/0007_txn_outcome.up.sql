-- SPDX-License-Identifier: MPL-2.0
-- 0006 transaction outcome markers (issue 11): every write transaction
-- that db_txn runs inserts one row keyed by a random token just before
-- COMMIT. When the connection dies during COMMIT (a failover, a server
-- crash) the outcome is unknown; after reconnecting db_txn looks the token
-- up on the new primary: present means committed, absent means the
-- transaction never happened and is run again. Rows older than a day are
-- deleted by the replicators (an unknown outcome is decided within
-- seconds).

CREATE TABLE txn_outcome (
    token UUID PRIMARY KEY,
    committed_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX txn_outcome_committed_at ON txn_outcome (committed_at);
