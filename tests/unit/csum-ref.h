/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEIR_TESTS_UNIT_CSUM_REF_H
#define WEIR_TESTS_UNIT_CSUM_REF_H 1

/* Reference Internet checksums for tests and fuzz targets: written
 * plainly and separately from packet/packet-edit.c and
 * packet/packet-offload.c, so that a test checks the code under test
 * against something else.  Static inline: a user that needs one helper
 * does not warn about the others. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Reads a big-endian 16-bit word. */
static inline uint16_t
ref_r16(const uint8_t *p)
{
    return (uint16_t) (p[0] << 8 | p[1]);
}

/* Adds 'n' bytes at 'p' as big-endian 16-bit words to 'sum' (an odd last
 * byte as the high half of a word). */
static inline uint64_t
ref_sum_words(const uint8_t *p, size_t n, uint64_t sum)
{
    size_t i;

    for (i = 0; i + 1 < n; i += 2) {
        sum += ref_r16(p + i);
    }
    if (i < n) {
        sum += (uint64_t) p[i] << 8;
    }
    return sum;
}

/* Folds 'sum' to 16 bits, one's complement. */
static inline uint16_t
ref_fold(uint64_t sum)
{
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return (uint16_t) sum;
}

/* The pseudo-header sum for the IPv4 or IPv6 header at 'ip' (no extension
 * headers in between), transport 'proto' of 'l4_len' bytes. */
static inline uint64_t
ref_pseudo(const uint8_t *ip, bool ipv6, uint8_t proto, size_t l4_len)
{
    uint64_t sum = ipv6 ? ref_sum_words(ip + 8, 32, 0)
                        : ref_sum_words(ip + 12, 8, 0);

    return sum + proto + l4_len;
}

/* True if the transport checksum of the 'l4_len' bytes at 'l4' is right:
 * everything, pseudo header included, sums to 0xffff. */
static inline bool
ref_l4_csum_ok(const uint8_t *ip, bool ipv6, uint8_t proto,
               const uint8_t *l4, size_t l4_len)
{
    return ref_fold(ref_sum_words(l4, l4_len,
                                  ref_pseudo(ip, ipv6, proto, l4_len)))
           == 0xffff;
}

#endif /* tests/unit/csum-ref.h */
