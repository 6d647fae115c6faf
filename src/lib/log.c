/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE             /* dup3(). */
#include "lib/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "lib/mutex.h"

/* Levels are kept per module in a small fixed table: the names weir's
 * modules log under, and a "default" slot for any other name.  A table
 * (not a registry that grows) keeps wlog() free of locks and allocation:
 * a lookup is a few string compares and one relaxed atomic load.  A spec
 * naming a module outside the table is refused, so a typo in "-v" is
 * reported rather than silently ignored. */
static const char *const log_modules[] = {
    "weird", "ctl", "state", "genl", "dpif", "dp", "flow", "port", "pmd",
    "upcall", "ofproto", "shim", "weir", "log",
};
#define N_LOG_MODULES (sizeof log_modules / sizeof log_modules[0])

/* Index N_LOG_MODULES is the default.  Relaxed atomics: a level is one
 * independent value, and a change may take effect a few lines late. */
static _Atomic int log_levels[N_LOG_MODULES + 1] = {
    [0 ... N_LOG_MODULES] = WLOG_INFO,
};

static atomic_bool log_to_stderr = true;

/* The file descriptor of the log file, or -1.  wlog_reopen() replaces the
 * open file under the same descriptor number (dup3), so a thread that
 * loaded the number just before writes either to the old or the new
 * file, never to a closed or reused descriptor. */
static _Atomic int log_fd = -1;
static char *log_path;          /* Main thread only (configuration). */

/* One mutex for every rate limiter: they are touched only when a line is
 * about to be written, which is rare by design. */
static struct wmutex log_rl_mutex = { PTHREAD_MUTEX_INITIALIZER };

/* Longest line written, newline included; longer text is cut and ends in
 * "...".  It stays under PIPE_BUF so a line to a pipe is never
 * interleaved with another thread's. */
#define WLOG_LINE_MAX 2048

static const char *const level_names[] = {
    [WLOG_DBG] = "DBG",
    [WLOG_INFO] = "INFO",
    [WLOG_WARN] = "WARN",
    [WLOG_ERR] = "ERR",
    [WLOG_OFF] = "OFF",
};

const char *
wlog_level_name(enum wlog_level level)
{
    if ((unsigned int) level > WLOG_OFF) {
        return "?";
    }
    return level_names[level];
}

static int
level_from_name(const char *s, size_t len, enum wlog_level *level)
{
    static const struct {
        const char *name;
        enum wlog_level level;
    } names[] = {
        { "dbg", WLOG_DBG },   { "debug", WLOG_DBG }, { "info", WLOG_INFO },
        { "warn", WLOG_WARN }, { "err", WLOG_ERR },   { "off", WLOG_OFF },
    };

    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strlen(names[i].name) == len
            && !strncasecmp(names[i].name, s, len)) {
            *level = names[i].level;
            return 0;
        }
    }
    return -EINVAL;
}

/* Returns the table index of 'module' (N_LOG_MODULES for the default),
 * or -1 when 'module' (of 'len' bytes) is not in the table. */
static int
module_index(const char *module, size_t len)
{
    for (size_t i = 0; i < N_LOG_MODULES; i++) {
        if (strlen(log_modules[i]) == len
            && !strncmp(log_modules[i], module, len)) {
            return (int) i;
        }
    }
    return -1;
}

int
wlog_set_spec(const char *spec)
{
    enum wlog_level level;
    const char *colon;

    if (!spec) {
        return -EINVAL;
    }
    colon = strchr(spec, ':');
    if (!colon) {
        if (level_from_name(spec, strlen(spec), &level)) {
            return -EINVAL;
        }
        for (size_t i = 0; i <= N_LOG_MODULES; i++) {
            atomic_store_explicit(&log_levels[i], level,
                                  memory_order_relaxed);
        }
        return 0;
    }

    if (level_from_name(colon + 1, strlen(colon + 1), &level)) {
        return -EINVAL;
    }
    size_t mlen = (size_t) (colon - spec);
    if (mlen == 3 && !strncmp(spec, "any", 3)) {
        for (size_t i = 0; i <= N_LOG_MODULES; i++) {
            atomic_store_explicit(&log_levels[i], level,
                                  memory_order_relaxed);
        }
        return 0;
    }
    int idx = module_index(spec, mlen);
    if (idx < 0 && mlen == 7 && !strncmp(spec, "default", 7)) {
        idx = N_LOG_MODULES;
    }
    if (idx < 0) {
        return -EINVAL;
    }
    atomic_store_explicit(&log_levels[idx], level, memory_order_relaxed);
    return 0;
}

void
wlog_set_stderr(bool on)
{
    atomic_store_explicit(&log_to_stderr, on, memory_order_relaxed);
}

/* Opens 'path' for appending.  Returns the descriptor or -errno. */
static int
log_open(const char *path)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);

    return fd < 0 ? -errno : fd;
}

/* Makes 'fd' the log file's descriptor, in place of the one open now
 * (same number: see 'log_fd'). */
static int
log_install(int fd)
{
    int old = atomic_load_explicit(&log_fd, memory_order_relaxed);

    if (old < 0) {
        /* Release: nothing to order, but the descriptor must be open
         * before another thread can see its number. */
        atomic_store_explicit(&log_fd, fd, memory_order_release);
        return 0;
    }
    if (dup3(fd, old, O_CLOEXEC) < 0) {
        int error = -errno;

        close(fd);
        return error;
    }
    close(fd);
    return 0;
}

int
wlog_set_file(const char *path)
{
    if (!path) {
        int old = atomic_exchange_explicit(&log_fd, -1, memory_order_relaxed);

        if (old >= 0) {
            close(old);
        }
        free(log_path);
        log_path = NULL;
        return 0;
    }

    char *copy = strdup(path);
    if (!copy) {
        return -ENOMEM;
    }
    int fd = log_open(path);
    if (fd < 0) {
        free(copy);
        return fd;
    }
    int error = log_install(fd);
    if (error) {
        free(copy);
        return error;
    }
    free(log_path);
    log_path = copy;
    return 0;
}

int
wlog_reopen(void)
{
    if (!log_path) {
        return 0;
    }
    int fd = log_open(log_path);
    if (fd < 0) {
        return fd;
    }
    return log_install(fd);
}

bool
wlog_enabled(const char *module, enum wlog_level level)
{
    int idx = module ? module_index(module, strlen(module)) : -1;

    if (idx < 0) {
        idx = N_LOG_MODULES;
    }
    if ((unsigned int) level >= WLOG_OFF) {
        return false;
    }
    return (int) level >= atomic_load_explicit(&log_levels[idx],
                                               memory_order_relaxed);
}

/* Writes all of 'len' bytes of 'buf' to 'fd' with one write() (retried on
 * EINTR).  A short write or an error is ignored: there is nowhere left to
 * report it. */
static void
write_line(int fd, const char *buf, size_t len)
{
    ssize_t n;

    do {
        n = write(fd, buf, len);
    } while (n < 0 && errno == EINTR);
}

/* Formats and writes one line; 'suffix' (may be NULL) follows the text. */
static void log_emit(const char *module, enum wlog_level level,
                     const char *suffix, const char *fmt, va_list args)
    __attribute__((format(printf, 4, 0)));

static void
log_emit(const char *module, enum wlog_level level, const char *suffix,
         const char *fmt, va_list args)
{
    char line[WLOG_LINE_MAX];
    struct timespec ts;
    struct tm tm;
    size_t len, start;
    int n;

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    len = strftime(line, sizeof line, "%Y-%m-%dT%H:%M:%S", &tm);
    n = snprintf(line + len, sizeof line - len, ".%03ldZ|%s|%s|",
                 ts.tv_nsec / 1000000L, module ? module : "-",
                 wlog_level_name(level));
    len += n > 0 ? (size_t) n : 0;
    if (len >= sizeof line - 1) {
        len = sizeof line - 2;
    }
    start = len;

    /* The text, then the suffix, leaving room for the newline. */
    n = vsnprintf(line + len, sizeof line - 1 - len, fmt, args);
    if (n > 0) {
        len += (size_t) n;
    }
    if (suffix && len < sizeof line - 1) {
        n = snprintf(line + len, sizeof line - 1 - len, "%s", suffix);
        if (n > 0) {
            len += (size_t) n;
        }
    }
    if (len > sizeof line - 2) {
        len = sizeof line - 2;
        memcpy(line + len - 3, "...", 3);
    }

    /* Text may carry bytes from outside (device names, client input): a
     * control character could forge a line of its own, so each one becomes
     * '?'. */
    for (size_t i = start; i < len; i++) {
        unsigned char c = (unsigned char) line[i];

        if (c < 0x20 || c == 0x7f) {
            line[i] = '?';
        }
    }
    line[len++] = '\n';

    if (atomic_load_explicit(&log_to_stderr, memory_order_relaxed)) {
        write_line(STDERR_FILENO, line, len);
    }
    /* Acquire: pairs with the release in log_install(). */
    int fd = atomic_load_explicit(&log_fd, memory_order_acquire);
    if (fd >= 0) {
        write_line(fd, line, len);
    }
}

void
wlog(const char *module, enum wlog_level level, const char *fmt, ...)
{
    va_list args;

    if (!wlog_enabled(module, level)) {
        return;
    }
    va_start(args, fmt);
    log_emit(module, level, NULL, fmt, args);
    va_end(args);
}

static uint64_t
monotonic_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

/* Takes a token from 'rl' at time 'now'.  Returns true if a line may be
 * written, with the number of lines suppressed before it in '*suppressed'
 * (and the count reset); false (counting the line) otherwise. */
static bool
rl_take(struct wlog_rl *rl, uint64_t now, uint64_t *suppressed)
{
    bool ok;

    wmutex_lock(&log_rl_mutex);
    if (!rl->interval_ms) {
        ok = true;
    } else {
        if (!rl->last_ms || now < rl->last_ms) {
            rl->last_ms = now;
        }
        uint64_t refill = (now - rl->last_ms) / rl->interval_ms;
        if (refill) {
            uint64_t tokens = rl->tokens + refill;

            rl->tokens = tokens > rl->burst ? rl->burst : (uint32_t) tokens;
            rl->last_ms += refill * rl->interval_ms;
        }
        ok = rl->tokens > 0;
        if (ok) {
            rl->tokens--;
        }
    }
    if (ok) {
        *suppressed = rl->suppressed;
        rl->suppressed = 0;
    } else {
        rl->suppressed++;
    }
    wmutex_unlock(&log_rl_mutex);
    return ok;
}

void
wlog_rl(struct wlog_rl *rl, const char *module, enum wlog_level level,
        const char *fmt, ...)
{
    char suffix[64];
    uint64_t suppressed;
    va_list args;

    if (!wlog_enabled(module, level)) {
        return;
    }
    if (!rl_take(rl, monotonic_ms(), &suppressed)) {
        return;
    }
    suffix[0] = '\0';
    if (suppressed) {
        snprintf(suffix, sizeof suffix, " (%llu similar messages suppressed)",
                 (unsigned long long) suppressed);
    }
    va_start(args, fmt);
    log_emit(module, level, suffix, fmt, args);
    va_end(args);
}
