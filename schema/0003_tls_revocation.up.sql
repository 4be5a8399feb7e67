-- SPDX-License-Identifier: MPL-2.0
-- 0003 TLS revocation: certificates (by serial) and whole identities (role
-- and id, serial NULL) revoked by `replicator pki revoke --db`, for the
-- revocation set the TLS verify check consults (issue 9).

CREATE TABLE tls_revocation (
    id UUID PRIMARY KEY,
    -- lowercase hex serial of one certificate; NULL revokes the identity
    serial TEXT NULL CHECK (serial ~ '^[0-9a-f]{2,40}$'),
    role TEXT NOT NULL CHECK (role IN ('controller', 'sled', 'operator')),
    ident TEXT NOT NULL CHECK (length(ident) BETWEEN 1 AND 64),
    reason TEXT NOT NULL,
    time_revoked TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE UNIQUE INDEX tls_revocation_serial ON tls_revocation (serial)
    WHERE serial IS NOT NULL;
CREATE UNIQUE INDEX tls_revocation_ident ON tls_revocation (role, ident)
    WHERE serial IS NULL;
