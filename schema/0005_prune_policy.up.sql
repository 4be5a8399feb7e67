-- SPDX-License-Identifier: MPL-2.0
-- 0005 prune policy (issue 12 item 5, the reference's tuf_repo_pruner):
-- the automatic pruner's run-time switch, one row read by every
-- replicator of the rack, and per repository an operator's pin (a pinned
-- repository is never pruned automatically) and the time of its last
-- upload (the pruner keeps the newest K by this time; an upload that
-- unprunes a repository sets it, so the pruner does not take it back at
-- its next pass). last_prune_generation is the generation the last
-- automatic prune produced: no replicator prunes again until that
-- generation was pushed to the fleet (so the mass-deletion guard has seen
-- every automatic prune, and two replicators cannot stack prunes between
-- two pushes). Existing repositories start unpinned, uploaded when
-- they were created.

CREATE TABLE tuf_prune_policy (
    singleton BOOL PRIMARY KEY CHECK (singleton),
    enabled BOOL NOT NULL DEFAULT TRUE,
    reason TEXT NULL CHECK (reason <> ''),
    last_prune_generation INT8 NOT NULL DEFAULT 0
        CHECK (last_prune_generation >= 0),
    time_modified TIMESTAMPTZ NOT NULL DEFAULT now()
);

INSERT INTO tuf_prune_policy (singleton) VALUES (TRUE);

ALTER TABLE tuf_repo ADD COLUMN time_pinned TIMESTAMPTZ NULL;
ALTER TABLE tuf_repo ADD COLUMN time_uploaded TIMESTAMPTZ NULL;
UPDATE tuf_repo SET time_uploaded = time_created;
ALTER TABLE tuf_repo ALTER COLUMN time_uploaded SET DEFAULT now();
ALTER TABLE tuf_repo ALTER COLUMN time_uploaded SET NOT NULL;
