/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target for the action codec (codec/actions-nl.h, actions-text.h).
 *
 * The input is an OVS_ACTION_ATTR_* list.  It is validated twice, with a
 * fixed TCP/IPv4 flow key and with no key, and formatted (which must never
 * crash, whatever the bytes).  A list that validates without a key must
 * then round-trip through text:
 *
 *   t1 = format(input);  b2 = parse(t1)   -- must succeed, use all of t1;
 *   b2 must validate, format(b2) == t1, and parse(format(b2)) == b2
 *   byte for byte.
 *
 * b2 is compared with b2's own re-encoding rather than with the input:
 * OVS's text deliberately drops some bytes an accepted list may carry
 * (netlink padding contents, NLA_F_* flag bits, ct zone 0 and eventmask,
 * a set_masked whose mask is all ones reads back as set, sample
 * probabilities are printed to 0.1%), so only from b2 on are text and
 * bytes a fixed point.  Any broken property abort()s.
 *
 * Not yet round-tripped: set(nsh(...)), which the key text codec prints
 * in hex but cannot parse yet (codec/fkey-text.h); drop that exception
 * when it learns it. */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <libmnl/libmnl.h>

#include "codec/actions-nl.h"
#include "codec/actions-text.h"
#include "lib/errbuf.h"
#include "lib/text.h"
#include "packet/flow-key.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define BUF 70000

static size_t
parse_into(const char *s, uint8_t *buf, const uint8_t **out)
{
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
    struct errbuf eb;
    size_t used;

    if (act_parse(s, &used, nlh, BUF, &eb) || s[used]) {
        abort();
    }
    *out = mnl_nlmsg_get_payload(nlh);
    return nlh->nlmsg_len - MNL_NLMSG_HDRLEN;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t b2buf[BUF], b3buf[BUF];
    struct sbuf t1 = SBUF_INIT, t2 = SBUF_INIT;
    const uint8_t *b2, *b3;
    size_t n2, n3;
    struct flow_key key;
    struct errbuf eb;
    void *copy;

    if (size > 65535) {
        return 0;
    }
    /* An exact-size copy, so that ASan sees any read past the end. */
    copy = malloc(size ? size : 1);
    memcpy(copy, data, size);

    memset(&key, 0, sizeof key);
    key.eth_type = htons(ETH_TYPE_IP);
    key.nw_proto = 6;
    key.nw_ttl = 64;
    act_validate(copy, size, &key, &eb);

    act_format(copy, size, &t1);
    if (act_validate(copy, size, NULL, &eb)
        || strstr(sbuf_str(&t1), "set(nsh(")) {
        goto out;
    }

    n2 = parse_into(sbuf_str(&t1), b2buf, &b2);
    if (act_validate(b2, n2, NULL, &eb)
        && !strstr(sbuf_str(&t1), "set(ipv6(")) {
        /* (As in OVS, "set(ipv6(...))" reads back as set_masked, the
         * flow label mask being 20 bits; a set_masked may not write proto
         * or frag, which a key-less check of set lets through.) */
        abort();
    }
    act_format(b2, n2, &t2);
    if (strcmp(sbuf_str(&t1), sbuf_str(&t2))) {
        abort();
    }
    n3 = parse_into(sbuf_str(&t2), b3buf, &b3);
    if (n3 != n2 || memcmp(b2, b3, n2)) {
        abort();
    }

out:
    sbuf_uninit(&t1);
    sbuf_uninit(&t2);
    free(copy);
    return 0;
}
