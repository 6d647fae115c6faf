/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target for packet/flow-extract.c.  The whole input is the frame,
 * so the seeds in corpus/packet/ are plain Ethernet frames; the metadata
 * is read from the input's first 20 bytes as well (zero-padded), so that
 * it varies too without eating into the frame.  Besides the sanitizers,
 * the target checks the parser's own promises and aborts if one breaks. */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "packet/flow-extract.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t md_bytes[sizeof(struct pkt_metadata)] = { 0 };
    struct pkt_metadata md;
    struct flow_key a, b;
    uint8_t *frame;
    int ra, rb;

    memcpy(md_bytes, data, size < sizeof md_bytes ? size : sizeof md_bytes);
    memcpy(&md, md_bytes, sizeof md);

    /* An exact-size copy, so that ASan sees any read past the end. */
    frame = malloc(size ? size : 1);
    if (!frame) {
        return 0;
    }
    memcpy(frame, data, size);

    memset(&a, 0x00, sizeof a);
    memset(&b, 0xff, sizeof b);
    ra = fkey_extract(frame, size, &md, &a);
    rb = fkey_extract(frame, size, &md, &b);

    /* Deterministic, and every byte of the key written. */
    if (ra != rb || memcmp(&a, &b, sizeof a)) {
        abort();
    }
    /* Fails exactly when there is no Ethernet header. */
    if ((ra != 0) != (size < 14)) {
        abort();
    }
    if (a.in_port != md.in_port || a.priority != md.priority
        || a.skb_mark != md.skb_mark || a.recirc_id != md.recirc_id
        || a.dp_hash != md.dp_hash) {
        abort();
    }
    /* Key invariants from packet/flow-key.h. */
    if (a.n_mpls > FKEY_MAX_MPLS || a.nw_frag > FKEY_FRAG_LATER
        || (a.n_mpls && !fkey_eth_type_is_mpls(a.eth_type))
        || (a.vlan[0].tci && !a.vlan[0].tpid)
        || (a.vlan[1].tpid && !(a.vlan[0].tci & htons(VLAN_CFI)))
        || (a.ipv6_exthdrs & ~0x1ffu)
        || (a.ipv6_exthdrs & FKEY_IPV6_EH_ESP)
        || (a.tcp_flags & htons(0xf000)) || a.pad_l4) {
        abort();
    }
    free(frame);
    return 0;
}
