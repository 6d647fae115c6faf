/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEIR_LIB_TEXT_H
#define WEIR_LIB_TEXT_H 1

/* Growable strings and small text helpers.
 *
 * What
 * ====
 *
 * 'struct sbuf' is the string builder every formatter writes into (flow
 * keys, masks, actions in the ovs-dpctl syntax).  hex_to_bytes() and
 * sbuf_put_hex() serve the CLI's netlink debugging commands;
 * hex_digit_value() serves every parser that reads hex digits itself
 * (UFIDs, MAC addresses, "key<N>(01 02)" bytes).
 *
 * Ownership
 * =========
 *
 * An sbuf owns its heap buffer; sbuf_uninit() frees it.  Allocation
 * failure aborts (formatting is never on the packet path).
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

struct sbuf {
    char *s;                    /* NUL-terminated once anything is put. */
    size_t len;                 /* strlen(s). */
    size_t cap;                 /* Bytes allocated for 's'. */
};

#define SBUF_INIT { NULL, 0, 0 }

void sbuf_init(struct sbuf *);
void sbuf_uninit(struct sbuf *);
void sbuf_clear(struct sbuf *);
void sbuf_put(struct sbuf *, const char *s);
void sbuf_putc(struct sbuf *, char c);
void sbuf_putn(struct sbuf *, const char *s, size_t n);
void sbuf_printf(struct sbuf *, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void sbuf_vprintf(struct sbuf *, const char *fmt, va_list)
    __attribute__((format(printf, 2, 0)));
/* Removes the last 'n' characters (at most all of them). */
void sbuf_chop(struct sbuf *, size_t n);
/* Returns the string, "" if nothing was put yet.  Borrowed. */
const char *sbuf_str(const struct sbuf *);

/* Formats 'n' bytes at 'p' as lowercase hex into 'sb'. */
void sbuf_put_hex(struct sbuf *, const void *p, size_t n);

/* Returns the value (0 to 15) of the hex digit 'c' ('0'-'9', 'a'-'f',
 * 'A'-'F'), or -1 if 'c' is anything else, including EOF and '\0'.  Pass
 * a char as (unsigned char), as for <ctype.h>.  Unlike isxdigit() it does
 * not depend on the locale.
 *
 * Context: any; reentrant. */
int hex_digit_value(int c);

/* Parses the hex string 's' (whitespace and an optional "0x" prefix are
 * ignored) into at most 'max' bytes at 'out'.
 *
 * Returns: the number of bytes written; -EINVAL for an odd number of hex
 * digits or a non-hex character; -EMSGSIZE if more than 'max' bytes. */
int hex_to_bytes(const char *s, uint8_t *out, size_t max);

#endif /* lib/text.h */
