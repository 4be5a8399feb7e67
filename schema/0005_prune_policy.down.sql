-- SPDX-License-Identifier: MPL-2.0
-- 0005 prune policy, backward: drop the switch, the pins and the upload
-- times; every other column and row of tuf_repo is untouched.

ALTER TABLE tuf_repo DROP COLUMN time_uploaded;
ALTER TABLE tuf_repo DROP COLUMN time_pinned;
DROP TABLE tuf_prune_policy;
