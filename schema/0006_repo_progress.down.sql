-- SPDX-License-Identifier: MPL-2.0
-- 0006 repo progress, backward: the clocks live in memory again.

DROP TABLE tuf_repo_progress;
