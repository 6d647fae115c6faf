/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEIR_TESTS_UNIT_DP_TEST_UTIL_H
#define WEIR_TESTS_UNIT_DP_TEST_UTIL_H 1

/* Helpers for datapath tests and benchmarks: flows and actions from
 * ovs-dpctl text (through the codec, as a client would send them) and
 * Ethernet/IPv4/UDP frames built by hand.  Every helper aborts on bad
 * input: a test that passes bad text is wrong. */

#include <libmnl/libmnl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/actions-text.h"
#include "codec/fkey-nl.h"
#include "codec/fkey-text.h"
#include "lib/errbuf.h"
#include "packet/flow-key.h"

/* Parses flow text "in_port(1),eth(),..." (masks allowed) into 'key' and
 * 'mask'. */
static inline void
tu_parse_flow(const char *text, struct flow_key *key, struct flow_mask *mask)
{
    char kbuf[1024], mbuf[1024];
    struct nlmsghdr *k = mnl_nlmsg_put_header(kbuf);
    struct nlmsghdr *m = mnl_nlmsg_put_header(mbuf);
    struct errbuf err;
    size_t used;

    errbuf_clear(&err);
    if (fkey_parse(text, &used, k, sizeof kbuf, m, sizeof mbuf, &err)
        || fkey_from_nl(mnl_nlmsg_get_payload(k),
                        k->nlmsg_len - MNL_NLMSG_HDRLEN, key, &err)
           != FKEY_FIT_PERFECT
        || fmask_from_nl(mnl_nlmsg_get_payload(m),
                         m->nlmsg_len - MNL_NLMSG_HDRLEN, key, mask, &err)
           == FKEY_FIT_ERROR) {
        fprintf(stderr, "bad flow text \"%s\": %s\n", text, err.msg);
        abort();
    }
}

/* Parses action text into 'buf' (at least 'size' bytes); returns the
 * length of the attributes. */
static inline size_t
tu_parse_actions(const char *text, void *buf, size_t size)
{
    char nbuf[4096];
    struct nlmsghdr *n = mnl_nlmsg_put_header(nbuf);
    struct errbuf err;
    size_t used, len;

    errbuf_clear(&err);
    if (act_parse(text, &used, n, sizeof nbuf, &err)) {
        fprintf(stderr, "bad actions \"%s\": %s\n", text, err.msg);
        abort();
    }
    len = n->nlmsg_len - MNL_NLMSG_HDRLEN;
    if (len > size) {
        abort();
    }
    memcpy(buf, mnl_nlmsg_get_payload(n), len);
    return len;
}

/* Writes a 'len'-byte (>= 42) Ethernet/IPv4/UDP frame into 'f' with the
 * given addresses and ports; checksums are left zero (UDP checksum 0 is
 * valid, the IP checksum is not looked at by the datapath). */
static inline void
tu_udp_frame(uint8_t *f, size_t len, uint32_t src, uint32_t dst,
             uint16_t sport, uint16_t dport)
{
    static const uint8_t macs[12] = {
        0x00, 0x00, 0x00, 0x00, 0x00, 0x02,     /* dst */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x01,     /* src */
    };
    size_t ip_len = len - 14;

    memset(f, 0, len);
    memcpy(f, macs, 12);
    f[12] = 0x08;
    f[14] = 0x45;
    f[16] = (uint8_t) (ip_len >> 8);
    f[17] = (uint8_t) ip_len;
    f[22] = 64;
    f[23] = 17;
    for (int i = 0; i < 4; i++) {
        f[26 + i] = (uint8_t) (src >> (24 - 8 * i));
        f[30 + i] = (uint8_t) (dst >> (24 - 8 * i));
    }
    f[34] = (uint8_t) (sport >> 8);
    f[35] = (uint8_t) sport;
    f[36] = (uint8_t) (dport >> 8);
    f[37] = (uint8_t) dport;
    f[38] = (uint8_t) ((ip_len - 20) >> 8);
    f[39] = (uint8_t) (ip_len - 20);
}

#endif /* tests/unit/dp-test-util.h */
