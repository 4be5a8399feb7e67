-- SPDX-License-Identifier: MPL-2.0
-- 0002 push guard, backward: drop what 0002 added; 0001 data is untouched.

DROP INDEX sled_in_service;
DROP TABLE artifact_config_pushed;
