/* SPDX-License-Identifier: Apache-2.0 */
/* OVS_KEY_ATTR_* streams -> ovs-dpctl text: fkey_format(),
 * fkey_format_attr(), fkey_format_payload(), fkey_mask_is_exact() and
 * their helpers.  The rules, and where they differ from Open vSwitch 3.1,
 * are in fkey-text.h.
 *
 * Struct attributes (eth, ipv4, tcp, ...) are printed from the shared
 * field tables (fkey-text-tables.c) by format_struct().  The rest (single
 * integers, vlan's bit fields, mpls's array, flag sets, ct_label's 128
 * bits, encap's nesting) have their own small functions. */

#include "codec/fkey-text.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <libmnl/libmnl.h>
#include <linux/openvswitch.h>

#include "codec/fkey-attrs.h"
#include "codec/fkey-text-private.h"
#include "lib/byteorder.h"
#include "lib/text.h"

#define VLAN_VID_MASK 0x0fff
#define VLAN_PCP_SHIFT 13

/* ---------------------------------------------------------------------- */
/* Small helpers.                                                          */

static bool
all_bytes(const void *p_, size_t n, uint8_t c)
{
    const uint8_t *p = p_;

    for (size_t i = 0; i < n; i++) {
        if (p[i] != c) {
            return false;
        }
    }
    return true;
}

static void
chomp(struct sbuf *sb, char c)
{
    if (sb->len && sb->s[sb->len - 1] == c) {
        sbuf_chop(sb, 1);
    }
}

/* Prints the host-order integer of 'size' bytes (2 or 4) at 'k' as
 * "%#x" and, if 'm' is nonnull, "/" and the one at 'm' likewise. */
static void
put_hex_int(struct sbuf *sb, const uint8_t *k, const uint8_t *m,
            size_t size)
{
    sbuf_printf(sb, "%#" PRIx32, size == 2 ? load_u16(k) : load_u32(k));
    if (m) {
        sbuf_printf(sb, "/%#" PRIx32, size == 2 ? load_u16(m) : load_u32(m));
    }
}

/* Payload bytes of a netlink attribute, which may be unaligned. */
static const uint8_t *
payload(const struct nlattr *a)
{
    return (const uint8_t *) a + NLA_HDRLEN;
}

static size_t
payload_len(const struct nlattr *a)
{
    return a->nla_len - NLA_HDRLEN;
}

/* Prints 'n' bytes as OVS's ds_put_hex(): "0x" and the number without
 * leading zeros, or "0". */
static void
put_hex_number(struct sbuf *sb, const uint8_t *p, size_t n)
{
    bool printed = false;

    for (size_t i = 0; i < n; i++) {
        if (p[i] || printed) {
            if (printed) {
                sbuf_printf(sb, "%02x", p[i]);
            } else {
                sbuf_printf(sb, "0x%x", p[i]);
            }
            printed = true;
        }
    }
    if (!printed) {
        sbuf_putc(sb, '0');
    }
}

/* OVS's format_generic_odp_key(): bytes in hex separated by spaces. */
static void
put_spaced_hex(struct sbuf *sb, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        sbuf_printf(sb, i ? " %02x" : "%02x", p[i]);
    }
}

static void
put_name(struct sbuf *sb, uint16_t type)
{
    const char *name = fkey_attr_name(type);

    if (name) {
        sbuf_put(sb, name);
    } else {
        sbuf_printf(sb, "key%" PRIu16, type);
    }
}

/* ---------------------------------------------------------------------- */
/* Mask classification (OVS's odp_mask_is_constant__()).                   */

static bool
mask_is_constant(uint16_t type, const uint8_t *m, size_t n, bool ones)
{
    uint8_t c = ones ? 0xff : 0;

    switch (type) {
    case OVS_KEY_ATTR_PRIORITY:
    case OVS_KEY_ATTR_IN_PORT:
    case OVS_KEY_ATTR_ETHERNET:
    case OVS_KEY_ATTR_VLAN:
    case OVS_KEY_ATTR_ETHERTYPE:
    case OVS_KEY_ATTR_IPV4:
    case OVS_KEY_ATTR_TCP:
    case OVS_KEY_ATTR_UDP:
    case OVS_KEY_ATTR_ICMP:
    case OVS_KEY_ATTR_ICMPV6:
    case OVS_KEY_ATTR_ND:
    case OVS_KEY_ATTR_ND_EXTENSIONS:
    case OVS_KEY_ATTR_SKB_MARK:
    case OVS_KEY_ATTR_TUNNEL:
    case OVS_KEY_ATTR_SCTP:
    case OVS_KEY_ATTR_DP_HASH:
    case OVS_KEY_ATTR_RECIRC_ID:
    case OVS_KEY_ATTR_MPLS:
    case OVS_KEY_ATTR_CT_STATE:
    case OVS_KEY_ATTR_CT_ZONE:
    case OVS_KEY_ATTR_CT_MARK:
    case OVS_KEY_ATTR_CT_LABELS:
    case OVS_KEY_ATTR_PACKET_TYPE:
    case OVS_KEY_ATTR_NSH:
    case OVS_KEY_ATTR_IPV6_EXTHDRS:
        return all_bytes(m, n, c);

    case OVS_KEY_ATTR_TCP_FLAGS:
        return n == 2
               && (ntohs(load_u16(m)) & TCP_FLAGS_MASK)
                  == (ones ? TCP_FLAGS_MASK : 0);

    case OVS_KEY_ATTR_IPV6: {
        const struct ovs_key_ipv6 *k = (const void *) m;
        uint32_t label;

        if (n != sizeof *k) {
            return false;
        }
        label = ntohl(load_u32(m + offsetof(struct ovs_key_ipv6,
                                           ipv6_label)));
        return (label & IPV6_LABEL_MASK) == (ones ? IPV6_LABEL_MASK : 0)
               && all_bytes(m, 32, c)
               && all_bytes(m + offsetof(struct ovs_key_ipv6, ipv6_proto),
                            4, c);
    }

    case OVS_KEY_ATTR_ARP:
        return n >= 22 && all_bytes(m, 22, c);

    case OVS_KEY_ATTR_CT_ORIG_TUPLE_IPV4:
        return n >= 13 && all_bytes(m, 13, c);

    case OVS_KEY_ATTR_CT_ORIG_TUPLE_IPV6:
        return n >= 37 && all_bytes(m, 37, c);

    case OVS_KEY_ATTR_ENCAP:
    default:
        return false;
    }
}

bool
fkey_mask_is_exact(uint16_t type, const void *mask, size_t len)
{
    return mask_is_constant(type, mask, len, true);
}

static bool
attr_mask_is_exact(const struct nlattr *ma)
{
    return mask_is_constant(attr_type(ma), payload(ma), payload_len(ma),
                            true);
}

static bool
attr_mask_is_wildcard(const struct nlattr *ma)
{
    return mask_is_constant(attr_type(ma), payload(ma), payload_len(ma),
                            false);
}

/* ---------------------------------------------------------------------- */
/* Formatting.                                                             */

static void format_stream(const uint8_t *key, size_t key_len,
                          const uint8_t *mask, size_t mask_len, bool verbose,
                          int depth, struct sbuf *out);

static const char *
frag_name(uint8_t frag)
{
    switch (frag) {
    case OVS_FRAG_TYPE_NONE:
        return "no";
    case OVS_FRAG_TYPE_FIRST:
        return "first";
    case OVS_FRAG_TYPE_LATER:
        return "later";
    default:
        return "<error>";
    }
}

static void
put_mac(struct sbuf *sb, const uint8_t *p)
{
    sbuf_printf(sb, "%02x:%02x:%02x:%02x:%02x:%02x",
                p[0], p[1], p[2], p[3], p[4], p[5]);
}

static void
put_ipv4(struct sbuf *sb, const uint8_t *p)
{
    sbuf_printf(sb, "%u.%u.%u.%u", p[0], p[1], p[2], p[3]);
}

static void
put_in6(struct sbuf *sb, const uint8_t *p)
{
    char buf[INET6_ADDRSTRLEN];

    inet_ntop(AF_INET6, p, buf, sizeof buf);
    sbuf_put(sb, buf);
}

/* Formats one field as "name=value[/mask]," following OVS's format_eth(),
 * format_ipv4(), format_u8u() and friends.  'm' is NULL for "exact". */
static void
format_field(const struct fkey_field *f, const uint8_t *k, const uint8_t *m,
             bool verbose, struct sbuf *sb)
{
    size_t n = fkey_kind_size(f->kind);
    bool empty = m && all_bytes(m, n, 0);
    bool full = !m || all_bytes(m, n, 0xff);

    if (f->kind == FK_LABEL && m) {
        full = (ntohl(load_u32(m)) & IPV6_LABEL_MASK) == IPV6_LABEL_MASK;
    }

    if (f->kind == FK_FRAG) {
        /* An enumeration: partial masks make no sense, and even 'verbose'
         * does not show a wildcarded frag. */
        if (!empty && !full) {
            sbuf_printf(sb, "error: partial mask not supported for frag "
                        "(%#" PRIx8 "),", *m);
        } else if (!empty) {
            sbuf_printf(sb, "%s=%s,", f->name, frag_name(*k));
        }
        return;
    }
    if (f->kind == FK_RSVD) {
        sbuf_printf(sb, "%s=0x%" PRIx32 ",", f->name, ntohl(load_u32(k)));
        return;
    }
    if (!verbose && empty) {
        return;
    }

    sbuf_printf(sb, "%s=", f->name);
    switch (f->kind) {
    case FK_ETH:
        put_mac(sb, k);
        if (!full) {
            sbuf_putc(sb, '/');
            put_mac(sb, m);
        }
        break;
    case FK_IPV4:
        put_ipv4(sb, k);
        if (!full) {
            sbuf_putc(sb, '/');
            put_ipv4(sb, m);
        }
        break;
    case FK_IN6:
        put_in6(sb, k);
        if (!full) {
            sbuf_putc(sb, '/');
            put_in6(sb, m);
        }
        break;
    case FK_U8U:
    case FK_U8X:
        sbuf_printf(sb, f->kind == FK_U8U ? "%" PRIu8 : "%#" PRIx8, *k);
        if (!full) {
            sbuf_printf(sb, "/%#" PRIx8, *m);
        }
        break;
    case FK_BE16U:
    case FK_BE16X:
        sbuf_printf(sb, f->kind == FK_BE16U ? "%" PRIu16 : "%#" PRIx16,
                    ntohs(load_u16(k)));
        if (!full) {
            sbuf_printf(sb, "/%#" PRIx16, ntohs(load_u16(m)));
        }
        break;
    case FK_LABEL:
        sbuf_printf(sb, "%#" PRIx32, ntohl(load_u32(k)));
        if (!full) {
            sbuf_printf(sb, "/%#" PRIx32, ntohl(load_u32(m)));
        }
        break;
    case FK_FRAG:
    case FK_RSVD:
        break;
    }
    sbuf_putc(sb, ',');
}

static void
format_struct(const struct fkey_struct_attr *sa, const uint8_t *k,
              const uint8_t *m, bool verbose, struct sbuf *sb)
{
    for (size_t i = 0; i < sa->n_fields; i++) {
        const struct fkey_field *f = &sa->fields[i];

        format_field(f, k + f->ofs, m ? m + f->ofs : NULL, verbose, sb);
    }
    chomp(sb, ',');
}


/* OVS's format_flags(): "syn|ack", unnamed bits as one trailing hex
 * number, "0" for none.  Declared in fkey-text-private.h. */
void
fkey_format_flags(struct sbuf *sb, const char *(*name)(uint32_t),
                  uint32_t flags)
{
    uint32_t bad = 0;

    if (!flags) {
        sbuf_putc(sb, '0');
        return;
    }
    while (flags) {
        uint32_t bit = flags & -flags;
        const char *s = name(bit);

        if (s) {
            sbuf_printf(sb, "%s|", s);
        } else {
            bad |= bit;
        }
        flags &= ~bit;
    }
    if (bad) {
        sbuf_printf(sb, "0x%" PRIx32 "|", bad);
    }
    chomp(sb, '|');
}

/* OVS's format_flags_masked() without a name: "+trk-new", "0/0".
 * Declared in fkey-text-private.h. */
void
fkey_format_flags_masked(struct sbuf *sb, const char *(*name)(uint32_t),
                         uint32_t flags, uint32_t mask, uint32_t max_mask)
{
    if (mask == max_mask) {
        fkey_format_flags(sb, name, flags);
        return;
    }
    if (!mask) {
        sbuf_put(sb, "0/0");
        return;
    }
    while (mask) {
        uint32_t bit = mask & -mask;
        const char *s = name(bit);

        sbuf_printf(sb, "%c%s", flags & bit ? '+' : '-', s ? s : "[Unknown]");
        mask &= ~bit;
    }
}

static void
format_vlan(uint16_t tci, uint16_t mask, bool verbose, struct sbuf *sb)
{
    unsigned int vid = tci & VLAN_VID_MASK, vid_mask = mask & VLAN_VID_MASK;
    unsigned int pcp = tci >> VLAN_PCP_SHIFT, pcp_mask = mask >> 13;

    if (verbose || vid || vid_mask) {
        sbuf_printf(sb, "vid=%u", vid);
        if (vid_mask != VLAN_VID_MASK) {
            sbuf_printf(sb, "/0x%x", vid_mask);
        }
        sbuf_putc(sb, ',');
    }
    if (verbose || pcp || pcp_mask) {
        sbuf_printf(sb, "pcp=%u", pcp);
        if (pcp_mask != 7) {
            sbuf_printf(sb, "/0x%x", pcp_mask);
        }
        sbuf_putc(sb, ',');
    }
    if (!(tci & VLAN_CFI)) {
        sbuf_put(sb, "cfi=0,");
    }
    chomp(sb, ',');
}

static void
format_mpls(const uint8_t *k, const uint8_t *m, size_t n_lses,
            struct sbuf *sb)
{
    for (size_t i = 0; i < n_lses; i++) {
        uint32_t key = ntohl(load_u32(k + 4 * i));

        if (!m) {
            sbuf_printf(sb, "label=%" PRIu32 ",tc=%" PRIu32 ",ttl=%" PRIu32
                        ",bos=%" PRIu32 ",",
                        key >> 12, (key >> 9) & 7, key & 0xff,
                        (key >> 8) & 1);
        } else {
            uint32_t mask = ntohl(load_u32(m + 4 * i));

            sbuf_printf(sb, "label=%" PRIu32 "/0x%" PRIx32
                        ",tc=%" PRIu32 "/%" PRIx32
                        ",ttl=%" PRIu32 "/0x%" PRIx32
                        ",bos=%" PRIu32 "/%" PRIx32 ",",
                        key >> 12, mask >> 12,
                        (key >> 9) & 7, (mask >> 9) & 7,
                        key & 0xff, mask & 0xff,
                        (key >> 8) & 1, (mask >> 8) & 1);
        }
    }
    chomp(sb, ',');
}

/* OVS's format_u128() for ct_label. */
static void
format_u128(const uint8_t *k, const uint8_t *m, bool verbose,
            struct sbuf *sb)
{
    uint8_t be[16];

    if (verbose || (m && !all_bytes(m, 16, 0))) {
        u128_host_to_be(k, be);
        put_hex_number(sb, be, 16);
        if (m && !all_bytes(m, 16, 0xff)) {
            u128_host_to_be(m, be);
            sbuf_putc(sb, '/');
            put_hex_number(sb, be, 16);
        }
    }
}

/* Returns true if the payload lengths of 'a' and 'ma' suit their type;
 * otherwise prints the bad-length form and returns false. */
static bool
check_len(const struct nlattr *a, const struct nlattr *ma, struct sbuf *sb)
{
    int expected = fkey_attr_len(attr_type(a));
    bool bad_key, bad_mask;

    if (expected <= 0) {
        return true;
    }
    bad_key = payload_len(a) != (size_t) expected;
    bad_mask = ma && payload_len(ma) != (size_t) expected;
    if (!bad_key && !bad_mask) {
        return true;
    }

    put_name(sb, attr_type(a));
    if (bad_key) {
        sbuf_printf(sb, "(bad key length %zu, expected %d)(",
                    payload_len(a), expected);
    } else {
        sbuf_printf(sb, "(bad mask length %zu, expected %d)(",
                    payload_len(ma), expected);
    }
    put_spaced_hex(sb, payload(a), payload_len(a));
    if (ma) {
        sbuf_putc(sb, '/');
        put_spaced_hex(sb, payload(ma), payload_len(ma));
    }
    sbuf_putc(sb, ')');
    return false;
}

/* Formats attribute 'a' with mask 'ma' (may be NULL); lengths checked. */
static void
format_attr__(const struct nlattr *a, const struct nlattr *ma, bool verbose,
              int depth, struct sbuf *sb)
{
    uint16_t type = attr_type(a);
    const uint8_t *k = payload(a);
    const uint8_t *m = ma ? payload(ma) : NULL;
    size_t len = payload_len(a);
    bool exact = ma ? attr_mask_is_exact(ma) : true;
    bool m_empty = !ma || all_bytes(m, payload_len(ma), 0);
    const struct fkey_struct_attr *sa;

    put_name(sb, type);
    sbuf_putc(sb, '(');

    sa = fkey_find_struct_attr(type);
    if (sa) {
        format_struct(sa, k, m, verbose, sb);
        sbuf_putc(sb, ')');
        return;
    }

    switch (type) {
    case OVS_KEY_ATTR_ENCAP:
        if (depth >= FKEY_TEXT_MAX_DEPTH) {
            sbuf_put(sb, "too deeply nested: ");
            put_spaced_hex(sb, k, len);
        } else if (ma && payload_len(ma) && len) {
            format_stream(k, len, m, payload_len(ma), verbose, depth + 1,
                          sb);
        } else if (len) {
            format_stream(k, len, NULL, 0, verbose, depth + 1, sb);
        }
        break;

    case OVS_KEY_ATTR_PRIORITY:
    case OVS_KEY_ATTR_SKB_MARK:
    case OVS_KEY_ATTR_DP_HASH:
    case OVS_KEY_ATTR_RECIRC_ID:
        put_hex_int(sb, k, exact ? NULL : m, 4);
        break;

    case OVS_KEY_ATTR_CT_MARK:
    case OVS_KEY_ATTR_CT_ZONE:
        if (verbose || !m_empty) {
            put_hex_int(sb, k, exact ? NULL : m,
                        type == OVS_KEY_ATTR_CT_MARK ? 4 : 2);
        }
        break;

    case OVS_KEY_ATTR_CT_STATE:
        if (verbose) {
            sbuf_printf(sb, "%#" PRIx32, load_u32(k));
            if (!exact) {
                sbuf_printf(sb, "/%#" PRIx32, m_empty ? 0 : load_u32(m));
            }
        } else if (!exact) {
            fkey_format_flags_masked(sb, fkey_ct_state_name, load_u32(k),
                                     m_empty ? 0 : load_u32(m), UINT32_MAX);
        } else {
            fkey_format_flags(sb, fkey_ct_state_name, load_u32(k));
        }
        break;

    case OVS_KEY_ATTR_CT_LABELS:
        format_u128(k, m, verbose, sb);
        break;

    case OVS_KEY_ATTR_IN_PORT:
        sbuf_printf(sb, "%" PRIu32, load_u32(k));
        if (!exact) {
            sbuf_printf(sb, "/%#" PRIx32, load_u32(m));
        }
        break;

    case OVS_KEY_ATTR_VLAN:
        format_vlan(ntohs(load_u16(k)), m ? ntohs(load_u16(m)) : 0xffff,
                    verbose, sb);
        break;

    case OVS_KEY_ATTR_MPLS:
        if (!len || len % 4) {
            sbuf_printf(sb, "(bad key length %zu)", len);
        } else if (!exact && payload_len(ma) != len) {
            sbuf_printf(sb, "(key length %zu != mask length %zu)",
                        len, payload_len(ma));
        } else {
            format_mpls(k, exact ? NULL : m, len / 4, sb);
        }
        break;

    case OVS_KEY_ATTR_ETHERTYPE:
        sbuf_printf(sb, "0x%04" PRIx16, ntohs(load_u16(k)));
        if (!exact) {
            sbuf_printf(sb, "/0x%04" PRIx16, ntohs(load_u16(m)));
        }
        break;

    case OVS_KEY_ATTR_TCP_FLAGS:
        if (!exact) {
            fkey_format_flags_masked(sb, fkey_tcp_flag_name,
                                     ntohs(load_u16(k)),
                                     ntohs(load_u16(m)) & TCP_FLAGS_MASK,
                                     TCP_FLAGS_MASK);
        } else {
            fkey_format_flags(sb, fkey_tcp_flag_name, ntohs(load_u16(k)));
        }
        break;

    case OVS_KEY_ATTR_IPV6_EXTHDRS:
        /* Not known to OVS 3.1; printed like skb_mark. */
        put_hex_int(sb, k, exact ? NULL : m, 2);
        break;

    case OVS_KEY_ATTR_TUNNEL:
        fkey_tunnel_format(k, len, m, ma ? payload_len(ma) : 0, ma != NULL,
                           verbose, sb);
        break;

    case OVS_KEY_ATTR_NSH:
        fkey_nsh_format(k, len, m, ma ? payload_len(ma) : 0, ma != NULL,
                        sb);
        break;

    default:
        /* Unknown: hex. */
        put_spaced_hex(sb, k, len);
        if (!exact) {
            sbuf_putc(sb, '/');
            put_spaced_hex(sb, m, payload_len(ma));
        }
        break;
    }
    sbuf_putc(sb, ')');
}

/* Returns a copy of 'a' with every leaf payload zeroed: OVS's
 * generate_all_wildcard_mask(), for an attribute missing from the mask.
 * The caller frees it. */
static struct nlattr *
make_wildcard_mask(const struct nlattr *a)
{
    struct nlattr *ma = malloc(a->nla_len);

    if (!ma) {
        abort();
    }
    memcpy(ma, a, a->nla_len);
    if (attr_type(a) == OVS_KEY_ATTR_TUNNEL
        || attr_type(a) == OVS_KEY_ATTR_NSH) {
        /* An empty nest, as OVS's generate_all_wildcard_mask() makes it:
         * fkey_tunnel_format() wildcards every tunnel attribute that has
         * no mask, fkey_nsh_format() prints every NSH field exact. */
        ma->nla_len = NLA_HDRLEN;
    } else if (attr_type(a) == OVS_KEY_ATTR_ENCAP) {
        uint8_t *p = (uint8_t *) ma + NLA_HDRLEN;
        size_t left = payload_len(ma);

        /* Zero the payloads of the attributes inside, recursively. */
        while (attr_ok(p, left)) {
            struct nlattr *sub = (struct nlattr *) p;
            size_t step = attr_step(p, left);

            if (attr_type(sub) == OVS_KEY_ATTR_ENCAP) {
                struct nlattr *inner = make_wildcard_mask(sub);

                memcpy(sub, inner, sub->nla_len);
                free(inner);
            } else {
                memset(p + NLA_HDRLEN, 0, sub->nla_len - NLA_HDRLEN);
            }
            p += step;
            left -= step;
        }
    } else {
        memset((uint8_t *) ma + NLA_HDRLEN, 0, payload_len(ma));
    }
    return ma;
}

/* Copies the attribute at 'p' (already checked by attr_ok()) to aligned
 * heap memory, so that the formatters may read its header directly. */
static struct nlattr *
copy_attr(const void *p)
{
    struct nlattr h;
    struct nlattr *a;

    memcpy(&h, p, sizeof h);
    a = malloc(h.nla_len);
    if (!a) {
        abort();
    }
    memcpy(a, p, h.nla_len);
    return a;
}

static void
format_stream(const uint8_t *key, size_t key_len, const uint8_t *mask,
              size_t mask_len, bool verbose, int depth, struct sbuf *sb)
{
    bool has_ethtype = false, has_packet_type = false, first = true;
    const uint8_t *p = key;
    size_t left = key_len;

    /* OVS prints an empty key as "<empty>" and stops there; weir still
     * prints a mask-only eth_type(0/M) after it (below) so that the text
     * keeps what the bytes say (found by fuzz-text). */
    if (!key_len
        && !(mask && find_attr(mask, mask_len, OVS_KEY_ATTR_ETHERTYPE))) {
        sbuf_put(sb, "<empty>");
        return;
    }

    while (attr_ok(p, left)) {
        struct nlattr *a = copy_attr(p);
        uint16_t type = attr_type(a);
        const struct nlattr *ma_raw = mask && mask_len
                                      ? find_attr(mask, mask_len, type)
                                      : NULL;
        struct nlattr *ma = ma_raw ? copy_attr(ma_raw) : NULL;
        size_t step = attr_step(p, left);
        bool nested = fkey_attr_len(type) == FKEY_ATTR_NESTED;
        bool wildcard = false;

        p += step;
        left -= step;

        if (type == OVS_KEY_ATTR_ETHERTYPE) {
            has_ethtype = true;
        } else if (type == OVS_KEY_ATTR_PACKET_TYPE) {
            has_packet_type = true;
        }

        if (mask && mask_len) {
            wildcard = ma ? attr_mask_is_wildcard(ma) : true;
        }

        if (verbose || !wildcard || nested) {
            if (!first) {
                sbuf_putc(sb, ',');
            }
            first = false;
            if (check_len(a, ma, sb)) {
                if (wildcard && !ma) {
                    ma = make_wildcard_mask(a);
                }
                format_attr__(a, ma, verbose, depth, sb);
            }
        } else if (type == OVS_KEY_ATTR_ETHERNET && !has_packet_type) {
            /* A wildcarded eth() still says "this is an Ethernet packet"
             * (the kernel has no packet_type); see odp_flow_format(). */
            if (!first) {
                sbuf_putc(sb, ',');
            }
            first = false;
            sbuf_put(sb, "eth()");
        } else if (type == OVS_KEY_ATTR_PACKET_TYPE) {
            has_packet_type = false;
        }
        free(a);
        free(ma);
    }

    if (left) {
        if (left == key_len) {
            sbuf_put(sb, "<empty>");
        }
        sbuf_printf(sb, ",***%zu leftover bytes*** (", left);
        for (size_t i = 0; i < left; i++) {
            sbuf_printf(sb, "%02x", p[i]);
        }
        sbuf_putc(sb, ')');
    }

    if (!has_ethtype && mask) {
        const void *ma = find_attr(mask, mask_len, OVS_KEY_ATTR_ETHERTYPE);
        struct nlattr h;

        if (ma) {
            memcpy(&h, ma, sizeof h);   /* 'ma' may be unaligned. */
            if (h.nla_len == NLA_HDRLEN + 2) {
                /* No ',' when nothing came before (OVS puts one). */
                sbuf_printf(sb, "%seth_type(0/0x%04" PRIx16 ")",
                            first ? "" : ",",
                            ntohs(load_u16((const uint8_t *) ma
                                          + NLA_HDRLEN)));
            }
        }
    }
}

void
fkey_format(const void *key, size_t key_len, const void *mask,
            size_t mask_len, bool verbose, struct sbuf *out)
{
    if (!mask) {
        verbose = true;         /* As odp_flow_key_format(). */
    }
    format_stream(key, key_len, mask, mask_len, verbose, 0, out);
}

void
fkey_format_attr(const struct nlattr *a, const struct nlattr *ma,
                 bool verbose, struct sbuf *out)
{
    struct nlattr *ac = copy_attr(a);
    struct nlattr *mac = ma ? copy_attr(ma) : NULL;

    if (check_len(ac, mac, out)) {
        format_attr__(ac, mac, verbose, 0, out);
    }
    free(ac);
    free(mac);
}

void
fkey_format_payload(uint16_t type, const void *key, const void *mask,
                    size_t len, bool verbose, struct sbuf *out)
{
    struct nlattr *a, *ma = NULL;

    if (len > UINT16_MAX - NLA_HDRLEN) {
        sbuf_printf(out, "(payload of %zu bytes too long)", len);
        return;
    }
    a = malloc(NLA_HDRLEN + len);
    if (!a) {
        abort();
    }
    a->nla_type = type;
    a->nla_len = NLA_HDRLEN + len;
    memcpy((uint8_t *) a + NLA_HDRLEN, key, len);
    if (mask) {
        ma = malloc(NLA_HDRLEN + len);
        if (!ma) {
            abort();
        }
        *ma = *a;
        memcpy((uint8_t *) ma + NLA_HDRLEN, mask, len);
    }
    fkey_format_attr(a, ma, verbose, out);
    free(a);
    free(ma);
}
