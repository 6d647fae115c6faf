/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEIR_LIB_ERRBUF_H
#define WEIR_LIB_ERRBUF_H 1

/* Human-readable error reasons.
 *
 * What
 * ====
 *
 * Decoders of outside bytes return a negative errno and, in a caller-owned
 * 'struct errbuf', a sentence that says what was wrong ("duplicate key
 * attribute 4", "unknown field 'foo' in ipv4()").  The buffer is fixed-size
 * so that filling it never allocates; a reason that does not fit is cut.
 *
 * Thread-safety
 * =============
 *
 * None needed: each caller owns its buffer.
 *
 * Ownership
 * =========
 *
 * Caller-owned, usually on the stack.  A NULL 'struct errbuf *' is accepted
 * everywhere and means "I don't want the reason".
 */

#include <stdarg.h>
#include <stdbool.h>

#define ERRBUF_SIZE 256

struct errbuf {
    char msg[ERRBUF_SIZE];      /* NUL-terminated; "" when no error. */
};

/* Clears 'eb' (may be NULL). */
void errbuf_clear(struct errbuf *eb);

/* Sets the reason in 'eb' (may be NULL), replacing any earlier one. */
void errbuf_set(struct errbuf *eb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prefixes the existing reason in 'eb' with a formatted context, e.g.
 * "in encap(): " + "duplicate key attribute 6". */
void errbuf_prefix(struct errbuf *eb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Returns true if 'eb' holds a reason. */
bool errbuf_is_set(const struct errbuf *eb);

#endif /* lib/errbuf.h */
