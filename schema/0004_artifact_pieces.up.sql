-- SPDX-License-Identifier: MPL-2.0
-- 0004 artifact pieces (issue 13): each artifact's piece manifest
-- (common/pieces.h), computed at ingest while the artifact is extracted:
-- its piece size, its manifest hash (sha256 of the canonical document,
-- the manifest's identity) and the canonical document itself, served
-- verbatim by GET /artifact/sha256/{sha256}/pieces. The document lives
-- here, not in staging/, because staging is per replicator and dropped
-- once an artifact is replicated, while every replicator of the rack must
-- serve the manifest for as long as the artifact exists. Rows recorded
-- before this migration have none (all three NULL) until their
-- repository is uploaded again.

ALTER TABLE tuf_artifact ADD COLUMN piece_size INT8 NULL
    CHECK (piece_size BETWEEN 65536 AND 67108864);
ALTER TABLE tuf_artifact ADD COLUMN pieces_sha256 CHAR(64) NULL
    CHECK (length(pieces_sha256) = 64);
ALTER TABLE tuf_artifact ADD COLUMN pieces_manifest TEXT NULL
    CHECK (pieces_manifest <> '');
ALTER TABLE tuf_artifact ADD CONSTRAINT tuf_artifact_pieces_all_or_none
    CHECK ((piece_size IS NULL) = (pieces_sha256 IS NULL)
           AND (piece_size IS NULL) = (pieces_manifest IS NULL));
