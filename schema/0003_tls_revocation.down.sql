-- SPDX-License-Identifier: MPL-2.0
-- 0003 TLS revocation, backward: drop what 0003 added; 0001 and 0002 data
-- is untouched.

DROP INDEX tls_revocation_ident;
DROP INDEX tls_revocation_serial;
DROP TABLE tls_revocation;
