-- SPDX-License-Identifier: MPL-2.0
-- 0006 repo progress (issue 12 item 7): the convergence clock of each
-- incomplete repository, kept in the database so that "no new copy for
-- stuck_after" is a fact about the rack, not about one process: a
-- replicator that restarts (or crash-loops) keeps the clock, and every
-- replicator of the rack reports the same since. copies_best is the most
-- (artifact, sled) copies ever seen held while incomplete, since_ms
-- (Unix epoch milliseconds) when that number last grew. A repository that
-- completes, or is no longer wanted, loses its row.

CREATE TABLE tuf_repo_progress (
    system_version TEXT PRIMARY KEY CHECK (system_version <> ''),
    copies_best INT8 NOT NULL CHECK (copies_best >= 0),
    since_ms INT8 NOT NULL CHECK (since_ms >= 0)
);
