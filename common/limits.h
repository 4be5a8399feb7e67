/* SPDX-License-Identifier: MPL-2.0 */
/*
 * limits: every cap of rackdepot in one place. Exceeding one returns
 * ERR_LIMIT (or the specific code the API documents). Plain constants.
 */
#ifndef COMMON_LIMITS_H
#define COMMON_LIMITS_H

/* Artifact configs: at most this many hashes, and this many body bytes. */
#define LIMIT_CONFIG_ARTIFACTS 65536
#define LIMIT_CONFIG_BODY (8u * 1024 * 1024)
/* Any other JSON request body (copy-from-depot, registration, ...). */
#define LIMIT_JSON_BODY (64u * 1024)
/* Default cap on an artifact body (DESIGN.md section 2). */
#define LIMIT_ARTIFACT_BODY_DEFAULT (2ull * 1024 * 1024 * 1024)
/* Request header block size, and idle connection timeout in seconds. */
#define LIMIT_HTTP_HEADERS (16u * 1024)
#define LIMIT_HTTP_IDLE_SECS 60
/* A request head must be in this long after its first byte (a deadline,
 * not an idle timer: trickled bytes do not extend it). */
#define LIMIT_HTTP_HEAD_SECS 10
/* Request bodies and replies must average at least the minimum rate
 * (the services' default LIMIT_HTTP_MIN_RATE) over this window. */
#define LIMIT_HTTP_RATE_WINDOW_SECS 10
#define LIMIT_HTTP_MIN_RATE (64u * 1024)
/* A copy source must average this over the copy's stall window (issue
 * 10): low enough for a source whose link is shared by many readers, high
 * enough that a trickling source (2 bytes/s) loses its write slot within
 * the window. */
#define LIMIT_COPY_MIN_RATE (8u * 1024)
/* Default ceiling of connections per listener (each can hold a TLS
 * session's buffers), and the open descriptors kept out of the default
 * for files, the store, copies and the database. */
#define LIMIT_HTTP_CONNECTIONS 4096u
#define LIMIT_HTTP_FD_RESERVE 64u
/* A chunked body's chunk-size line, extensions included (its trailers
 * count against LIMIT_HTTP_HEADERS and HTTPD_MAX_HEADERS). */
#define LIMIT_HTTP_CHUNK_LINE 4096u
/* A TLS handshake must be done this long after accept (half-open
 * handshakes do not pile up). */
#define LIMIT_TLS_HANDSHAKE_SECS 10
/* Response bytes an HTTP client keeps in memory (common/httpc; a sled's
 * list of LIMIT_CONFIG_ARTIFACTS entries fits). */
#define LIMIT_HTTP_RESPONSE (16u * 1024 * 1024)
/* Repository zip upload cap (DESIGN.md 4.1). */
#define LIMIT_REPO_ZIP (4ull * 1024 * 1024 * 1024)
/* TUF metadata file size and root rotation chain length. */
#define LIMIT_TUF_METADATA (1u * 1024 * 1024)
#define LIMIT_TUF_ROOT_CHAIN 1024
/* Sleds in one rack and artifacts in one repository. */
#define LIMIT_SLEDS_PER_RACK 1024
#define LIMIT_ARTIFACTS_PER_REPO 4096
/* Log line size; longer lines are truncated. */
#define LIMIT_LOG_LINE 4096
/* TLS revocation set entries (serials plus identities), and certificates
 * recorded in one PKI index. */
#define LIMIT_TLS_REVOKED 65536
#define LIMIT_PKI_INDEX_CERTS 65536
/* PUT /tls-revocations body (a sled): LIMIT_TLS_REVOKED entries of at
 * most ~80 bytes each fit. */
#define LIMIT_TLS_REVOKED_BODY (8u * 1024 * 1024)
/* Leaf certificate lifetime bound in days (the CA/B forum's old 825). */
#define LIMIT_PKI_LEAF_DAYS 825
/* Pieces in one piece manifest (common/pieces.h): 256 GiB at the default
 * 4 MiB piece size; the document stays under 4.5 MB. */
#define LIMIT_PIECES 65536u

#endif
