/* SPDX-License-Identifier: MPL-2.0 */
/*
 * log: structured logging, one JSON object per line on stderr (or a chosen
 * fd): {"ts":"...","level":"info","component":"sledagent","event":"...",...}.
 * Fields are given as a jansson json_pack() object format and arguments:
 *
 *     log_info("artifact_written", "{s:s, s:I}", "sha256", hex, "bytes", n);
 *
 * Pass NULL as the format for no fields. Each line is written with one
 * write(2), so lines from several threads never interleave. Thread-safe.
 */
#ifndef COMMON_LOG_H
#define COMMON_LOG_H

enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Set the component name (copied, at most 31 chars), minimum level, fd. */
void log_init(const char *component, enum log_level min_level, int fd);

/* Parse "debug|info|warn|error". Returns 0 or ERR_INVAL. */
int log_level_parse(enum log_level *out, const char *s);

/* Whether a line at lvl would be written (to skip costly field building). */
int log_enabled(enum log_level lvl);

void log_emit(enum log_level lvl, const char *event, const char *fmt, ...);

#define log_debug(event, ...) log_emit(LOG_DEBUG, (event), __VA_ARGS__)
#define log_info(event, ...) log_emit(LOG_INFO, (event), __VA_ARGS__)
#define log_warn(event, ...) log_emit(LOG_WARN, (event), __VA_ARGS__)
#define log_error(event, ...) log_emit(LOG_ERROR, (event), __VA_ARGS__)

#endif
