/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEIR_LIB_LOG_H
#define WEIR_LIB_LOG_H 1

/* Logging: one line per event, "2026-11-21T08:30:01.123Z|genl|WARN|text",
 * to stderr and/or a log file, with a level per module.
 *
 * What
 * ====
 *
 * Each module logs under its name ("weird", "ctl", "genl", ...).  A
 * message is written if its level is at or above the module's level
 * (default: INFO; "-v module:level" or "-v level" for all).  Messages
 * caused by outside input are rate-limited with a 'struct wlog_rl' per
 * call site, so a client hammering bad requests cannot fill the disk.
 *
 * Thread-safety
 * =============
 *
 * wlog() may be called from any thread; each line is written with one
 * write().  Configuration calls (levels, file) are for the main thread
 * before other threads log, or at any time for levels (atomic).
 *
 * Ownership
 * =========
 *
 * The log owns its file descriptor. */

#include <stdbool.h>
#include <stdint.h>

enum wlog_level {
    WLOG_DBG,
    WLOG_INFO,
    WLOG_WARN,
    WLOG_ERR,
    WLOG_OFF,
};

/* Returns "DBG", "INFO", "WARN", "ERR", "OFF". */
const char *wlog_level_name(enum wlog_level level);

/* Applies "level", "module:level" or "any:level" (levels by name, case
 * insensitive: dbg/debug, info, warn, err, off).
 * Returns 0 or -EINVAL. */
int wlog_set_spec(const char *spec);

/* Sets where lines go: stderr on/off, and a file (appended; NULL closes
 * it).  Returns 0 or -errno from open(). */
void wlog_set_stderr(bool on);
int wlog_set_file(const char *path);

/* Reopens the log file (after rotation).  Returns 0 or -errno. */
int wlog_reopen(void);

bool wlog_enabled(const char *module, enum wlog_level level);

void wlog(const char *module, enum wlog_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A rate limit: at most 'burst' messages, then one per 'interval_ms',
 * counting what it suppressed (reported with the next line it lets
 * through). */
struct wlog_rl {
    uint32_t burst;
    uint32_t interval_ms;
    uint32_t tokens;
    uint64_t last_ms;
    uint64_t suppressed;
};

#define WLOG_RL_INIT(BURST, INTERVAL_MS) \
    { (BURST), (INTERVAL_MS), (BURST), 0, 0 }

/* Like wlog(), through rate limit 'rl' (one per call site, static). */
void wlog_rl(struct wlog_rl *rl, const char *module, enum wlog_level level,
             const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif /* lib/log.h */
