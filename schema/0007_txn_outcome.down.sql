-- SPDX-License-Identifier: MPL-2.0
DROP TABLE txn_outcome;
