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

#endif /* lib/byteorder.h */
