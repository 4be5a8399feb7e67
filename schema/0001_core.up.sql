-- SPDX-License-Identifier: MPL-2.0
-- 0001 core: sleds, TUF repositories, artifacts and their links, the
-- single-row artifact generation, trust roots. SQL kept to what PostgreSQL
-- and CockroachDB both accept (UUID keys, no triggers, no PL/pgSQL).
-- schema_version itself is created by the migration runner.

CREATE TABLE sled (
    id UUID PRIMARY KEY,
    api_address TEXT NOT NULL CHECK (api_address <> ''),
    -- 12348 is the real repo depot port of every sled agent (DESIGN.md 2);
    -- it is the default so no row ever holds a sentinel such as 0.
    repo_depot_port INT4 NOT NULL DEFAULT 12348
        CHECK (repo_depot_port BETWEEN 1 AND 65535),
    time_registered TIMESTAMPTZ NOT NULL DEFAULT now(),
    time_seen TIMESTAMPTZ NOT NULL DEFAULT now(),
    time_expunged TIMESTAMPTZ NULL
);

CREATE TABLE tuf_repo (
    id UUID PRIMARY KEY,
    system_version TEXT NOT NULL UNIQUE CHECK (system_version <> ''),
    -- sha256 of the uploaded archive (zip), lowercase hex
    sha256 CHAR(64) NOT NULL UNIQUE CHECK (length(sha256) = 64),
    file_name TEXT NOT NULL,
    targets_role_version INT8 NOT NULL CHECK (targets_role_version >= 0),
    valid_until TIMESTAMPTZ NOT NULL,
    time_created TIMESTAMPTZ NOT NULL DEFAULT now(),
    time_pruned TIMESTAMPTZ NULL,
    time_failed TIMESTAMPTZ NULL,
    failed_reason TEXT NULL,
    CHECK ((time_failed IS NULL) = (failed_reason IS NULL))
);

-- the unpruned repos define the wanted set
CREATE UNIQUE INDEX tuf_repo_unpruned ON tuf_repo (id)
    WHERE time_pruned IS NULL;

-- one row per artifact content: sha256 is unique, so one length per hash
-- (and the pagination key is unique)
CREATE TABLE tuf_artifact (
    id UUID PRIMARY KEY,
    sha256 CHAR(64) NOT NULL CHECK (length(sha256) = 64),
    length INT8 NOT NULL CHECK (length > 0),
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    kind TEXT NOT NULL,
    tags JSONB NOT NULL DEFAULT '{}',
    time_created TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE UNIQUE INDEX tuf_artifact_sha256 ON tuf_artifact (sha256);

CREATE TABLE tuf_repo_artifact (
    tuf_repo_id UUID NOT NULL REFERENCES tuf_repo (id),
    tuf_artifact_id UUID NOT NULL REFERENCES tuf_artifact (id),
    PRIMARY KEY (tuf_repo_id, tuf_artifact_id)
);

CREATE UNIQUE INDEX tuf_repo_artifact_by_artifact
    ON tuf_repo_artifact (tuf_artifact_id, tuf_repo_id);

CREATE TABLE tuf_generation (
    singleton BOOL PRIMARY KEY CHECK (singleton),
    generation INT8 NOT NULL CHECK (generation > 0)
);

INSERT INTO tuf_generation (singleton, generation) VALUES (TRUE, 1);

CREATE TABLE tuf_trust_root (
    id UUID PRIMARY KEY,
    root_json TEXT NOT NULL CHECK (root_json <> ''),
    time_created TIMESTAMPTZ NOT NULL DEFAULT now(),
    time_deleted TIMESTAMPTZ NULL
);

-- stable listing order
CREATE UNIQUE INDEX tuf_trust_root_order ON tuf_trust_root (time_created, id);
