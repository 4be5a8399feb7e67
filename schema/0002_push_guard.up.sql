-- SPDX-License-Identifier: MPL-2.0
-- 0002 push guard: what was last pushed to the fleet, and the generation
-- held back by the mass-deletion guard or confirmed by an operator
-- (DESIGN.md 4.2). One row.

CREATE TABLE artifact_config_pushed (
    singleton BOOL PRIMARY KEY CHECK (singleton),
    pushed_generation INT8 NOT NULL DEFAULT 0 CHECK (pushed_generation >= 0),
    pushed_count INT8 NOT NULL DEFAULT 0 CHECK (pushed_count >= 0),
    time_pushed TIMESTAMPTZ NULL,
    held_generation INT8 NULL CHECK (held_generation > 0),
    held_reason TEXT NULL,
    time_held TIMESTAMPTZ NULL,
    confirmed_generation INT8 NOT NULL DEFAULT 0
        CHECK (confirmed_generation >= 0),
    time_confirmed TIMESTAMPTZ NULL,
    CHECK ((held_generation IS NULL) = (held_reason IS NULL))
);

INSERT INTO artifact_config_pushed (singleton) VALUES (TRUE);

-- sleds are listed in service (not expunged) on every activation
CREATE INDEX sled_in_service ON sled (id) WHERE time_expunged IS NULL;
