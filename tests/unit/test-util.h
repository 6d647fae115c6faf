/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEIR_TESTS_UNIT_TEST_UTIL_H
#define WEIR_TESTS_UNIT_TEST_UTIL_H 1

/* Helpers shared by the unit tests.
 *
 * What
 * ====
 *
 * A small builder of netlink attribute streams ("bb", byte builder), so
 * that tests write the bytes they expect by hand rather than with the
 * code under test; and the clock, sleep and poll helpers of the threaded
 * tests (tu_now_ms(), tu_sleep_ms(), tu_sleep_us(), tu_fd_readable()).
 *
 * Design
 * ======
 *
 * Attributes are appended to a fixed buffer in host byte order, each
 * padded to 4 bytes as netlink wants.  bb_open() and bb_close() bracket a
 * nested attribute; bb_close() writes its length.  There are no bounds
 * checks: a test that overflows 'b' or 'nests' is wrong.  Every helper is
 * static inline, so a test that does not use one does not warn.
 *
 * Thread-safety
 * =============
 *
 * None needed: each test owns its builders.
 *
 * Ownership
 * =========
 *
 * A struct bb is plain data the test owns; zero it (memset, or
 * "= { .len = 0 }") to start an empty stream.
 */

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>

/* Monotonic milliseconds. */
static inline uint64_t
tu_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

/* Sleeps 'us' microseconds, whatever signals arrive. */
static inline void
tu_sleep_us(long us)
{
    struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };

    while (nanosleep(&ts, &ts) && errno == EINTR) {
        continue;
    }
}

static inline void
tu_sleep_ms(long ms)
{
    tu_sleep_us(ms * 1000);
}

/* Returns true if 'fd' polls readable within 'ms' milliseconds (0: now). */
static inline bool
tu_fd_readable(int fd, int ms)
{
    struct pollfd pfd = { .fd = fd, .events = POLLIN };

    return poll(&pfd, 1, ms) == 1 && (pfd.revents & POLLIN);
}

/* An attribute stream under construction. */
struct bb {
    uint8_t b[4096];            /* The bytes, 'len' of them so far. */
    size_t len;
    size_t nests[32];           /* Offsets of the open nested attributes. */
    int depth;                  /* Number of open nested attributes. */
};

/* Appends an attribute whose header says 'nla_len', which need not match
 * the 'n' payload bytes at 'p' that follow it (for testing bad lengths),
 * then pads to 4 bytes. */
static inline void
bb_raw(struct bb *bb, uint16_t type, uint16_t nla_len, const void *p,
       size_t n)
{
    uint16_t hdr[2] = { nla_len, type };

    memcpy(bb->b + bb->len, hdr, 4);
    if (n) {
        memcpy(bb->b + bb->len + 4, p, n);
    }
    bb->len += 4 + n;
    while (bb->len % 4) {
        bb->b[bb->len++] = 0;
    }
}

/* Appends attribute 'type' with the 'n' bytes at 'p' as its payload. */
static inline void
bb_put(struct bb *bb, uint16_t type, const void *p, size_t n)
{
    bb_raw(bb, type, (uint16_t) (4 + n), p, n);
}

/* Appends attribute 'type' holding 'v' in host byte order. */
static inline void
bb_u32(struct bb *bb, uint16_t type, uint32_t v)
{
    bb_put(bb, type, &v, 4);
}

static inline void
bb_u16(struct bb *bb, uint16_t type, uint16_t v)
{
    bb_put(bb, type, &v, 2);
}

/* Appends attribute 'type' holding 'host' in network byte order. */
static inline void
bb_be16(struct bb *bb, uint16_t type, uint16_t host)
{
    uint16_t v = htons(host);

    bb_put(bb, type, &v, 2);
}

/* Starts nested attribute 'type'; the attributes appended until the
 * matching bb_close() go inside it. */
static inline void
bb_open(struct bb *bb, uint16_t type)
{
    bb->nests[bb->depth++] = bb->len;
    bb_put(bb, type, NULL, 0);
}

/* Ends the innermost open nested attribute, setting its length. */
static inline void
bb_close(struct bb *bb)
{
    size_t ofs = bb->nests[--bb->depth];
    uint16_t len = (uint16_t) (bb->len - ofs);

    memcpy(bb->b + ofs, &len, 2);
}

#endif /* tests/unit/test-util.h */
