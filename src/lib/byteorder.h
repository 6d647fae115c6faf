/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEIR_LIB_BYTEORDER_H
#define WEIR_LIB_BYTEORDER_H 1

/* Network-byte-order integer types.
 *
 * The 'be16'/'be32'/'be64' names carry no checking; they document, at each
 * declaration, that the value is stored as it is on the wire.  Convert with
 * the ntohs()/htonl() family (or be64_to_cpu()) at the point of use. */

#include <arpa/inet.h>
#include <endian.h>
#include <stdint.h>
#include <string.h>

typedef uint16_t be16;
typedef uint32_t be32;
typedef uint64_t be64;

static inline uint64_t
be64_to_cpu(be64 x)
{
    return be64toh(x);
}

static inline be64
cpu_to_be64(uint64_t x)
{
    return htobe64(x);
}

/* Loads and stores at any alignment (packet headers, netlink payloads),
 * without byte swapping: the value keeps the byte order it has in
 * memory. */
static inline uint16_t
load_u16(const void *p)
{
    uint16_t v;

    memcpy(&v, p, sizeof v);
    return v;
}

static inline uint32_t
load_u32(const void *p)
{
    uint32_t v;

    memcpy(&v, p, sizeof v);
    return v;
}

static inline void
store_u16(void *p, uint16_t v)
{
    memcpy(p, &v, sizeof v);
}

static inline void
store_u32(void *p, uint32_t v)
{
    memcpy(p, &v, sizeof v);
}

#endif /* lib/byteorder.h */
