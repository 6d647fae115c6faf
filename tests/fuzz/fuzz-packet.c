/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target for packet/flow-extract.c (and packet_parse(), which wraps
 * it).  The whole input is the frame, so the seeds in corpus/packet/ are
 * plain Ethernet frames; the metadata is read from the input's first 20
 * bytes as well (zero-padded), so that it varies too without eating into
 * the frame.  Each frame is parsed twice: as an Ethernet frame, then its
 * bytes after offset 14 as an L3 packet of the frame's Ethernet type
 * (md.l3_type, what pop_eth leaves), whose key must be the Ethernet one
 * but for the addresses when the frame has no tags or LLC.  Besides the
 * sanitizers, the target checks the parser's own promises and aborts if
 * one breaks: among them, that every header offset of
 * fkey_extract_layout() points at a complete header inside the frame,
 * present exactly when the key has that header's fields. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "packet/flow-extract.h"
#include "packet/packet.h"

/* Returns true if a header of 'n' bytes at 'ofs' lies inside 'size'. */
static bool
fits(uint16_t ofs, size_t n, size_t size)
{
    return ofs != FKEY_OFS_NONE && ofs <= size && n <= size - ofs;
}

/* Aborts unless 'lo' agrees with the key 'k' of the 'size'-byte 'frame'
 * (see struct fkey_layout), whose L2 header has 'l2' bytes (14, or 0 for
 * an L3 packet). */
static void
check_layout(const uint8_t *frame, size_t size, const struct flow_key *k,
             const struct fkey_layout *lo, size_t l2)
{
    static const uint8_t zero[16];
    uint16_t type = ntohs(k->eth_type);
    size_t l3_min = type == ETH_TYPE_IP ? 20 : type == ETH_TYPE_IPV6 ? 40
                    : 28;
    size_t l4_min = k->nw_proto == IPPROTO_TCP ? 20
                    : k->nw_proto == IPPROTO_SCTP ? 12 : 8;

    if (size < l2) {
        if (lo->mpls_ofs != FKEY_OFS_NONE || lo->l3_ofs != FKEY_OFS_NONE
            || lo->l4_ofs != FKEY_OFS_NONE) {
            abort();
        }
        return;
    }

    /* MPLS: exactly when the key has labels; no L3 beyond it. */
    if ((lo->mpls_ofs != FKEY_OFS_NONE) != (k->n_mpls > 0)) {
        abort();
    }
    if (lo->mpls_ofs != FKEY_OFS_NONE
        && (!fits(lo->mpls_ofs, 4 * (size_t) k->n_mpls, size)
            || lo->mpls_ofs < l2 || lo->l3_ofs != FKEY_OFS_NONE)) {
        abort();
    }

    /* L3: only for IPv4, IPv6 and ARP/RARP, complete, after the L2
     * header. */
    if (lo->l3_ofs != FKEY_OFS_NONE
        && (!fits(lo->l3_ofs, l3_min, size) || lo->l3_ofs < l2
            || (type != ETH_TYPE_IP && type != ETH_TYPE_IPV6
                && type != ETH_TYPE_ARP && type != ETH_TYPE_RARP))) {
        abort();
    }
    if (type == ETH_TYPE_IP && lo->l3_ofs != FKEY_OFS_NONE
        && !fits(lo->l3_ofs, (size_t) (frame[lo->l3_ofs] & 0x0f) * 4,
                 size)) {
        abort();
    }
    /* An IP key with any L3 field set has its header.  For IPv6 the
     * converse holds too: a parsed header always yields a protocol (59 at
     * least), never 0, which is hop-by-hop. */
    if ((type == ETH_TYPE_IP || type == ETH_TYPE_IPV6)
        && (k->nw_proto || k->nw_ttl || k->nw_tos
            || memcmp(&k->addr, zero, sizeof zero))
        && lo->l3_ofs == FKEY_OFS_NONE) {
        abort();
    }
    if (type == ETH_TYPE_IPV6
        && (lo->l3_ofs != FKEY_OFS_NONE) != (k->nw_proto != 0)) {
        abort();
    }

    /* L4: after a complete L3, never for a later fragment, and complete
     * for the key's protocol. */
    if (lo->l4_ofs != FKEY_OFS_NONE
        && (lo->l3_ofs == FKEY_OFS_NONE || lo->l4_ofs <= lo->l3_ofs
            || !fits(lo->l4_ofs, l4_min, size)
            || k->nw_frag == FKEY_FRAG_LATER
            || type == ETH_TYPE_ARP || type == ETH_TYPE_RARP)) {
        abort();
    }
    if (lo->l4_ofs == FKEY_OFS_NONE && (k->tp_src || k->tp_dst)
        && size <= FKEY_OFS_NONE) {
        abort();                /* Ports in the key without a header. */
    }
}

/* Parses the 'size' bytes at 'data' with 'md' (Ethernet or, with
 * md->l3_type, L3) into '*key' and aborts if a promise of the parser
 * breaks.  Returns fkey_extract()'s result. */
static int
check_one(const uint8_t *data, size_t size, const struct pkt_metadata *md,
          struct flow_key *key)
{
    bool l3 = md->l3_type != 0;
    struct flow_key a, b;
    uint8_t *frame;
    int ra, rb;

    /* An exact-size copy, so that ASan sees any read past the end. */
    frame = malloc(size ? size : 1);
    if (!frame) {
        exit(0);
    }
    memcpy(frame, data, size);

    memset(&a, 0x00, sizeof a);
    memset(&b, 0xff, sizeof b);
    ra = fkey_extract(frame, size, md, &a);
    rb = fkey_extract(frame, size, md, &b);

    /* Deterministic, and every byte of the key written. */
    if (ra != rb || memcmp(&a, &b, sizeof a)) {
        abort();
    }
    /* Fails exactly when there is no Ethernet header (an Ethernet frame)
     * or the type is a VLAN type (an L3 packet). */
    if ((ra != 0)
        != (l3 ? fkey_eth_type_is_vlan(md->l3_type) : size < 14)) {
        abort();
    }
    if (a.in_port != md->in_port || a.priority != md->priority
        || a.skb_mark != md->skb_mark || a.recirc_id != md->recirc_id
        || a.dp_hash != md->dp_hash) {
        abort();
    }
    if (l3 && (a.mac_proto != FKEY_MAC_NONE || a.eth_type != md->l3_type
               || a.vlan[0].tpid)) {
        abort();
    }
    /* The layout variant: the same key, and offsets that agree with it;
     * packet_parse() (through a packet buffer) keeps the same offsets. */
    {
        struct fkey_layout lo;
        struct packet *p;
        int rc;

        memset(&b, 0x5a, sizeof b);
        memset(&lo, 0x5a, sizeof lo);
        rc = fkey_extract_layout(frame, size, md, &b, &lo);
        if (rc != ra || memcmp(&a, &b, sizeof a)) {
            abort();
        }
        check_layout(frame, size, &a, &lo, l3 ? 0 : 14);

        p = packet_create(frame, size);
        if (p) {
            p->md = *md;
            memset(&b, 0xa5, sizeof b);
            rc = packet_parse(p, &b);
            if (rc != ra || memcmp(&a, &b, sizeof a)
                || p->mpls_ofs != lo.mpls_ofs || p->l3_ofs != lo.l3_ofs
                || p->l4_ofs != lo.l4_ofs) {
                abort();
            }
            /* A push past the headroom reallocates; the frame survives. */
            if (!packet_push(p, PKT_HEADROOM + 1 + size % 7)) {
                abort();
            }
            packet_pull(p, PKT_HEADROOM + 1 + size % 7);
            if (p->len != size || (size && memcmp(p->data, frame, size))) {
                abort();
            }
            packet_free(p);
        }
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
    *key = a;
    return ra;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t md_len = offsetof(struct pkt_metadata, l3_type);
    uint8_t md_bytes[sizeof(struct pkt_metadata)] = { 0 };
    struct pkt_metadata md;
    struct flow_key ke, kl;
    be16 type;

    /* The metadata but the packet type comes from the input's first
     * bytes; the packet type from the frame itself (below). */
    memcpy(md_bytes, data, size < md_len ? size : md_len);
    memcpy(&md, md_bytes, sizeof md);
    md.l3_type = 0;
    if (check_one(data, size, &md, &ke) || size < 14) {
        return 0;
    }

    /* The same packet without its Ethernet header, as pop_eth leaves it:
     * the Ethernet key but for the addresses and mac_proto, unless the
     * frame had tags or LLC (then its type at offset 12 is not what the
     * key has).  A type below 0x600 is no Ethernet type: skipped. */
    memcpy(&type, data + 12, sizeof type);
    if (ntohs(type) < ETH_TYPE_MIN) {
        return 0;
    }
    md.l3_type = type;
    if (check_one(data + 14, size - 14, &md, &kl)) {
        return 0;
    }
    if (ke.eth_type == type && !ke.vlan[0].tpid) {
        ke.mac_proto = FKEY_MAC_NONE;
        memset(ke.eth_src, 0, sizeof ke.eth_src);
        memset(ke.eth_dst, 0, sizeof ke.eth_dst);
        if (memcmp(&ke, &kl, sizeof ke)) {
            abort();
        }
    }
    return 0;
}
