/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEIR_CODEC_NL_ATTR_H
#define WEIR_CODEC_NL_ATTR_H 1

/* One bounded way to append a netlink attribute, shared by the codecs.
 *
 * What
 * ====
 *
 * codec_attr_put(): libmnl's mnl_attr_put_check() plus two guarantees,
 * used by every encoder in codec/ for every attribute it writes.
 *
 * Design
 * ======
 *
 * libmnl's mnl_attr_put_check() is bounded by the buffer, but (in libmnl
 * 1.0.4) it leaves the alignment padding after the payload as whatever the
 * buffer held, and it silently wraps the 16-bit nla_len for a payload
 * whose attribute would be 64 KiB or more.  Encoders here must produce the
 * same bytes for the same input, whatever the buffer's history, and never
 * a corrupt length.
 *
 * Thread-safety
 * =============
 *
 * Reentrant; touches only the caller's buffer.
 *
 * Ownership
 * =========
 *
 * The caller owns the buffer; 'data' is copied, not kept. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nlmsghdr;

/* Appends attribute 'type' with the 'len' bytes at 'data' to 'nlh', a
 * buffer of 'buflen' bytes, and zeroes its padding.
 *
 * Returns: true; false, leaving 'nlh' unchanged, if the attribute does not
 * fit in the buffer or 'len' does not fit in a netlink attribute. */
bool codec_attr_put(struct nlmsghdr *nlh, size_t buflen, uint16_t type,
                    size_t len, const void *data);

#endif /* codec/nl-attr.h */
