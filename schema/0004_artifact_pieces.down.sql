-- SPDX-License-Identifier: MPL-2.0
-- 0004 artifact pieces, backward: drop the manifest columns; every other
-- column and row of tuf_artifact is untouched.

ALTER TABLE tuf_artifact DROP CONSTRAINT tuf_artifact_pieces_all_or_none;
ALTER TABLE tuf_artifact DROP COLUMN pieces_manifest;
ALTER TABLE tuf_artifact DROP COLUMN pieces_sha256;
ALTER TABLE tuf_artifact DROP COLUMN piece_size;
