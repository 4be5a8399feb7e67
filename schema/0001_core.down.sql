-- SPDX-License-Identifier: MPL-2.0
-- 0001 core, backward: drop every table 0001 created (children first).

DROP TABLE tuf_trust_root;
DROP TABLE tuf_generation;
DROP TABLE tuf_repo_artifact;
DROP TABLE tuf_artifact;
DROP TABLE tuf_repo;
DROP TABLE sled;
