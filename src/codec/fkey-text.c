/* SPDX-License-Identifier: Apache-2.0 */
/* OVS_KEY_ATTR_* streams <-> ovs-dpctl text.  The rules, and where they
 * differ from Open vSwitch 3.1, are in fkey-text.h.
 *
 * Most attributes are fixed structs of named fields (eth, ipv4, tcp, ...).
 * Those are described once, in the field tables below, and one formatter
 * and one parser serve them all.  The rest (single integers, vlan's bit
 * fields, mpls's array, flag sets, ct_label's 128 bits, encap's nesting)
 * have their own small functions. */

#include "codec/fkey-text.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <libmnl/libmnl.h>
#include <linux/openvswitch.h>

#include "codec/fkey-attrs.h"
#include "lib/errbuf.h"
#include "lib/text.h"

/* Not in every <linux/openvswitch.h>: OVS's layout for type 30. */
struct fkey_nd_ext {
    uint32_t nd_reserved;       /* be32. */
    uint8_t nd_options_type;
    uint8_t pad[3];
};

#define VLAN_VID_MASK 0x0fff
#define VLAN_PCP_SHIFT 13
#define VLAN_CFI 0x1000
#define IPV6_LABEL_MASK 0x000fffff
#define TCP_FLAGS_MASK 0x0fff
#define CT_STATE_ALLOWED 0xff   /* The eight OVS_CS_F_* flags OVS knows. */
#define MAX_MPLS_LSES 3         /* OVS's FLOW_MAX_MPLS_LABELS. */

/* ---------------------------------------------------------------------- */
/* Field tables.                                                           */

enum fkind {
    FK_ETH,         /* 6-byte MAC, "00:01:02:03:04:05". */
    FK_IPV4,        /* be32, dotted quad. */
    FK_IN6,         /* 16 bytes, inet_ntop(). */
    FK_U8U,         /* u8, decimal. */
    FK_U8X,         /* u8, hex. */
    FK_BE16U,       /* be16, decimal. */
    FK_BE16X,       /* be16, hex. */
    FK_LABEL,       /* be32 IPv6 flow label, hex, 20 significant bits. */
    FK_FRAG,        /* u8 OVS_FRAG_TYPE_*, "no", "first", "later". */
    FK_RSVD,        /* be32 nd_reserved: hex, printed whatever the mask. */
};

struct field {
    const char *name;           /* As printed. */
    const char *alias;          /* Also accepted when parsing, or NULL. */
    enum fkind kind;
    uint8_t ofs;                /* Offset in the attribute payload. */
};

struct struct_attr {
    uint16_t type;
    const struct field *fields;
    size_t n_fields;
};

#define F(NAME, KIND, STRUCT, MEMBER) \
    { NAME, NULL, KIND, offsetof(STRUCT, MEMBER) }

static const struct field eth_fields[] = {
    F("src", FK_ETH, struct ovs_key_ethernet, eth_src),
    F("dst", FK_ETH, struct ovs_key_ethernet, eth_dst),
};

static const struct field ipv4_fields[] = {
    F("src", FK_IPV4, struct ovs_key_ipv4, ipv4_src),
    F("dst", FK_IPV4, struct ovs_key_ipv4, ipv4_dst),
    F("proto", FK_U8U, struct ovs_key_ipv4, ipv4_proto),
    F("tos", FK_U8X, struct ovs_key_ipv4, ipv4_tos),
    F("ttl", FK_U8U, struct ovs_key_ipv4, ipv4_ttl),
    F("frag", FK_FRAG, struct ovs_key_ipv4, ipv4_frag),
};

static const struct field ipv6_fields[] = {
    F("src", FK_IN6, struct ovs_key_ipv6, ipv6_src),
    F("dst", FK_IN6, struct ovs_key_ipv6, ipv6_dst),
    F("label", FK_LABEL, struct ovs_key_ipv6, ipv6_label),
    F("proto", FK_U8U, struct ovs_key_ipv6, ipv6_proto),
    F("tclass", FK_U8X, struct ovs_key_ipv6, ipv6_tclass),
    F("hlimit", FK_U8U, struct ovs_key_ipv6, ipv6_hlimit),
    F("frag", FK_FRAG, struct ovs_key_ipv6, ipv6_frag),
};

/* tcp, udp and sctp share one layout. */
static const struct field ports_fields[] = {
    F("src", FK_BE16U, struct ovs_key_tcp, tcp_src),
    F("dst", FK_BE16U, struct ovs_key_tcp, tcp_dst),
};

/* icmp and icmpv6 share one layout. */
static const struct field icmp_fields[] = {
    F("type", FK_U8U, struct ovs_key_icmp, icmp_type),
    F("code", FK_U8U, struct ovs_key_icmp, icmp_code),
};

static const struct field arp_fields[] = {
    F("sip", FK_IPV4, struct ovs_key_arp, arp_sip),
    F("tip", FK_IPV4, struct ovs_key_arp, arp_tip),
    F("op", FK_BE16U, struct ovs_key_arp, arp_op),
    F("sha", FK_ETH, struct ovs_key_arp, arp_sha),
    F("tha", FK_ETH, struct ovs_key_arp, arp_tha),
};

static const struct field nd_fields[] = {
    F("target", FK_IN6, struct ovs_key_nd, nd_target),
    F("sll", FK_ETH, struct ovs_key_nd, nd_sll),
    F("tll", FK_ETH, struct ovs_key_nd, nd_tll),
};

static const struct field nd_ext_fields[] = {
    F("nd_reserved", FK_RSVD, struct fkey_nd_ext, nd_reserved),
    F("nd_options_type", FK_U8U, struct fkey_nd_ext, nd_options_type),
};

static const struct field ct4_fields[] = {
    F("src", FK_IPV4, struct ovs_key_ct_tuple_ipv4, ipv4_src),
    F("dst", FK_IPV4, struct ovs_key_ct_tuple_ipv4, ipv4_dst),
    F("proto", FK_U8U, struct ovs_key_ct_tuple_ipv4, ipv4_proto),
    F("tp_src", FK_BE16U, struct ovs_key_ct_tuple_ipv4, src_port),
    F("tp_dst", FK_BE16U, struct ovs_key_ct_tuple_ipv4, dst_port),
};

static const struct field ct6_fields[] = {
    F("src", FK_IN6, struct ovs_key_ct_tuple_ipv6, ipv6_src),
    F("dst", FK_IN6, struct ovs_key_ct_tuple_ipv6, ipv6_dst),
    F("proto", FK_U8U, struct ovs_key_ct_tuple_ipv6, ipv6_proto),
    { "src_port", "tp_src", FK_BE16U,
      offsetof(struct ovs_key_ct_tuple_ipv6, src_port) },
    { "dst_port", "tp_dst", FK_BE16U,
      offsetof(struct ovs_key_ct_tuple_ipv6, dst_port) },
};

/* packet_type's be32 is (namespace << 16 | type): two be16 halves. */
static const struct field packet_type_fields[] = {
    { "ns", NULL, FK_BE16U, 0 },
    { "id", NULL, FK_BE16X, 2 },
};

#undef F

#define SA(TYPE, FIELDS) { TYPE, FIELDS, sizeof FIELDS / sizeof FIELDS[0] }
static const struct struct_attr struct_attrs[] = {
    SA(OVS_KEY_ATTR_ETHERNET, eth_fields),
    SA(OVS_KEY_ATTR_IPV4, ipv4_fields),
    SA(OVS_KEY_ATTR_IPV6, ipv6_fields),
    SA(OVS_KEY_ATTR_TCP, ports_fields),
    SA(OVS_KEY_ATTR_UDP, ports_fields),
    SA(OVS_KEY_ATTR_SCTP, ports_fields),
    SA(OVS_KEY_ATTR_ICMP, icmp_fields),
    SA(OVS_KEY_ATTR_ICMPV6, icmp_fields),
    SA(OVS_KEY_ATTR_ARP, arp_fields),
    SA(OVS_KEY_ATTR_ND, nd_fields),
    SA(OVS_KEY_ATTR_ND_EXTENSIONS, nd_ext_fields),
    SA(OVS_KEY_ATTR_CT_ORIG_TUPLE_IPV4, ct4_fields),
    SA(OVS_KEY_ATTR_CT_ORIG_TUPLE_IPV6, ct6_fields),
    SA(OVS_KEY_ATTR_PACKET_TYPE, packet_type_fields),
};
#undef SA

static const struct struct_attr *
find_struct_attr(uint16_t type)
{
    for (size_t i = 0; i < sizeof struct_attrs / sizeof struct_attrs[0];
         i++) {
        if (struct_attrs[i].type == type) {
            return &struct_attrs[i];
        }
    }
    return NULL;
}

static size_t
fkind_size(enum fkind kind)
{
    switch (kind) {
    case FK_ETH:
        return 6;
    case FK_IN6:
        return 16;
    case FK_IPV4:
    case FK_LABEL:
    case FK_RSVD:
        return 4;
    case FK_BE16U:
    case FK_BE16X:
        return 2;
    case FK_U8U:
    case FK_U8X:
    case FK_FRAG:
    default:
        return 1;
    }
}

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

static uint16_t
get_u16(const void *p)
{
    uint16_t x;

    memcpy(&x, p, sizeof x);
    return x;
}

static uint32_t
get_u32(const void *p)
{
    uint32_t x;

    memcpy(&x, p, sizeof x);
    return x;
}

static void
chomp(struct sbuf *sb, char c)
{
    if (sb->len && sb->s[sb->len - 1] == c) {
        sbuf_chop(sb, 1);
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

static uint16_t
attr_type(const struct nlattr *a)
{
    return a->nla_type & NLA_TYPE_MASK;
}

/* Like mnl_attr_ok(), without assuming alignment of 'a'. */
static bool
attr_ok(const void *a, size_t left)
{
    struct nlattr h;

    if (left < sizeof h) {
        return false;
    }
    memcpy(&h, a, sizeof h);
    return h.nla_len >= sizeof h && h.nla_len <= left;
}

static size_t
attr_step(const void *a, size_t left)
{
    struct nlattr h;
    size_t step;

    memcpy(&h, a, sizeof h);
    step = NLA_ALIGN(h.nla_len);
    return step < left ? step : left;
}

/* The ct_label payload is OVS's ovs_u128 in host order; OVS prints it as
 * one big-endian 128-bit number. */
static void
u128_host_to_be(const uint8_t in[16], uint8_t out[16])
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    for (int i = 0; i < 16; i++) {
        out[i] = in[15 - i];
    }
#else
    memcpy(out, in, 16);
#endif
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
               && (ntohs(get_u16(m)) & TCP_FLAGS_MASK)
                  == (ones ? TCP_FLAGS_MASK : 0);

    case OVS_KEY_ATTR_IPV6: {
        const struct ovs_key_ipv6 *k = (const void *) m;
        uint32_t label;

        if (n != sizeof *k) {
            return false;
        }
        label = ntohl(get_u32(m + offsetof(struct ovs_key_ipv6,
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
format_field(const struct field *f, const uint8_t *k, const uint8_t *m,
             bool verbose, struct sbuf *sb)
{
    size_t n = fkind_size(f->kind);
    bool empty = m && all_bytes(m, n, 0);
    bool full = !m || all_bytes(m, n, 0xff);

    if (f->kind == FK_LABEL && m) {
        full = (ntohl(get_u32(m)) & IPV6_LABEL_MASK) == IPV6_LABEL_MASK;
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
        sbuf_printf(sb, "%s=0x%" PRIx32 ",", f->name, ntohl(get_u32(k)));
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
                    ntohs(get_u16(k)));
        if (!full) {
            sbuf_printf(sb, "/%#" PRIx16, ntohs(get_u16(m)));
        }
        break;
    case FK_LABEL:
        sbuf_printf(sb, "%#" PRIx32, ntohl(get_u32(k)));
        if (!full) {
            sbuf_printf(sb, "/%#" PRIx32, ntohl(get_u32(m)));
        }
        break;
    case FK_FRAG:
    case FK_RSVD:
        break;
    }
    sbuf_putc(sb, ',');
}

static void
format_struct(const struct struct_attr *sa, const uint8_t *k,
              const uint8_t *m, bool verbose, struct sbuf *sb)
{
    for (size_t i = 0; i < sa->n_fields; i++) {
        const struct field *f = &sa->fields[i];

        format_field(f, k + f->ofs, m ? m + f->ofs : NULL, verbose, sb);
    }
    chomp(sb, ',');
}

static const char *
tcp_flag_name(uint32_t bit)
{
    switch (bit) {
    case 0x001: return "fin";
    case 0x002: return "syn";
    case 0x004: return "rst";
    case 0x008: return "psh";
    case 0x010: return "ack";
    case 0x020: return "urg";
    case 0x040: return "ece";
    case 0x080: return "cwr";
    case 0x100: return "ns";
    case 0x200: return "[200]";
    case 0x400: return "[400]";
    case 0x800: return "[800]";
    default: return NULL;
    }
}

static const char *
ct_state_name(uint32_t bit)
{
    switch (bit) {
    case OVS_CS_F_REPLY_DIR: return "rpl";
    case OVS_CS_F_TRACKED: return "trk";
    case OVS_CS_F_NEW: return "new";
    case OVS_CS_F_ESTABLISHED: return "est";
    case OVS_CS_F_RELATED: return "rel";
    case OVS_CS_F_INVALID: return "inv";
    case OVS_CS_F_SRC_NAT: return "snat";
    case OVS_CS_F_DST_NAT: return "dnat";
    default: return NULL;
    }
}

/* OVS's format_flags(): "syn|ack", unnamed bits as one trailing hex
 * number, "0" for none. */
static void
format_flags(struct sbuf *sb, const char *(*name)(uint32_t), uint32_t flags)
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

/* OVS's format_flags_masked() without a name: "+trk-new", "0/0". */
static void
format_flags_masked(struct sbuf *sb, const char *(*name)(uint32_t),
                    uint32_t flags, uint32_t mask, uint32_t max_mask)
{
    if (mask == max_mask) {
        format_flags(sb, name, flags);
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
        uint32_t key = ntohl(get_u32(k + 4 * i));

        if (!m) {
            sbuf_printf(sb, "label=%" PRIu32 ",tc=%" PRIu32 ",ttl=%" PRIu32
                        ",bos=%" PRIu32 ",",
                        key >> 12, (key >> 9) & 7, key & 0xff,
                        (key >> 8) & 1);
        } else {
            uint32_t mask = ntohl(get_u32(m + 4 * i));

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
    const struct struct_attr *sa;

    put_name(sb, type);
    sbuf_putc(sb, '(');

    sa = find_struct_attr(type);
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
        sbuf_printf(sb, "%#" PRIx32, get_u32(k));
        if (!exact) {
            sbuf_printf(sb, "/%#" PRIx32, get_u32(m));
        }
        break;

    case OVS_KEY_ATTR_CT_MARK:
        if (verbose || !m_empty) {
            sbuf_printf(sb, "%#" PRIx32, get_u32(k));
            if (!exact) {
                sbuf_printf(sb, "/%#" PRIx32, get_u32(m));
            }
        }
        break;

    case OVS_KEY_ATTR_CT_ZONE:
        if (verbose || !m_empty) {
            sbuf_printf(sb, "%#" PRIx16, get_u16(k));
            if (!exact) {
                sbuf_printf(sb, "/%#" PRIx16, get_u16(m));
            }
        }
        break;

    case OVS_KEY_ATTR_CT_STATE:
        if (verbose) {
            sbuf_printf(sb, "%#" PRIx32, get_u32(k));
            if (!exact) {
                sbuf_printf(sb, "/%#" PRIx32, m_empty ? 0 : get_u32(m));
            }
        } else if (!exact) {
            format_flags_masked(sb, ct_state_name, get_u32(k),
                                m_empty ? 0 : get_u32(m), UINT32_MAX);
        } else {
            format_flags(sb, ct_state_name, get_u32(k));
        }
        break;

    case OVS_KEY_ATTR_CT_LABELS:
        format_u128(k, m, verbose, sb);
        break;

    case OVS_KEY_ATTR_IN_PORT:
        sbuf_printf(sb, "%" PRIu32, get_u32(k));
        if (!exact) {
            sbuf_printf(sb, "/%#" PRIx32, get_u32(m));
        }
        break;

    case OVS_KEY_ATTR_VLAN:
        format_vlan(ntohs(get_u16(k)), m ? ntohs(get_u16(m)) : 0xffff,
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
        sbuf_printf(sb, "0x%04" PRIx16, ntohs(get_u16(k)));
        if (!exact) {
            sbuf_printf(sb, "/0x%04" PRIx16, ntohs(get_u16(m)));
        }
        break;

    case OVS_KEY_ATTR_TCP_FLAGS:
        if (!exact) {
            format_flags_masked(sb, tcp_flag_name, ntohs(get_u16(k)),
                                ntohs(get_u16(m)) & TCP_FLAGS_MASK,
                                TCP_FLAGS_MASK);
        } else {
            format_flags(sb, tcp_flag_name, ntohs(get_u16(k)));
        }
        break;

    case OVS_KEY_ATTR_IPV6_EXTHDRS:
        /* Not known to OVS 3.1; printed like skb_mark. */
        sbuf_printf(sb, "%#" PRIx16, get_u16(k));
        if (!exact) {
            sbuf_printf(sb, "/%#" PRIx16, get_u16(m));
        }
        break;

    case OVS_KEY_ATTR_TUNNEL:
    case OVS_KEY_ATTR_NSH:
    default:
        /* Unknown, or nested attributes not decoded yet: hex. */
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
    if (attr_type(a) == OVS_KEY_ATTR_ENCAP) {
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

/* Returns the first attribute of 'type' in the stream, or NULL.  Stops at
 * the first malformed attribute. */
static const struct nlattr *
find_attr(const uint8_t *p, size_t left, uint16_t type)
{
    while (attr_ok(p, left)) {
        size_t step = attr_step(p, left);
        struct nlattr h;

        memcpy(&h, p, sizeof h);        /* 'p' may be unaligned. */
        if ((h.nla_type & NLA_TYPE_MASK) == type) {
            return (const struct nlattr *) p;
        }
        p += step;
        left -= step;
    }
    return NULL;
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

    if (!key_len) {
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
                sbuf_printf(sb, ",eth_type(0/0x%04" PRIx16 ")",
                            ntohs(get_u16((const uint8_t *) ma
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

/* ---------------------------------------------------------------------- */
/* Parsing.                                                                */

struct pctx {
    struct nlmsghdr *key;
    size_t key_buflen;
    struct nlmsghdr *mask;      /* NULL: no mask wanted. */
    size_t mask_buflen;
    struct errbuf *err;
    int depth;                  /* Current encap() nesting. */
};

/* Where a token ends, for error messages: up to ',', ')', '/' or blank. */
static int
token_len(const char *s)
{
    int n = 0;

    while (s[n] && !strchr(",)/( \t\r\n", s[n]) && n < 40) {
        n++;
    }
    return n;
}

static int
syntax_error(struct pctx *c, const char *attr, const char *what,
             const char *at)
{
    if (*at) {
        errbuf_set(c->err, "%s: %s at '%.*s'", attr, what,
                   token_len(at) ? token_len(at) : 1, at);
    } else {
        errbuf_set(c->err, "%s: %s at end of input", attr, what);
    }
    return -EINVAL;
}

static int
hex_digit(int ch)
{
    if (ch >= '0' && ch <= '9') {
        return ch - '0';
    } else if (ch >= 'a' && ch <= 'f') {
        return ch - 'a' + 10;
    } else if (ch >= 'A' && ch <= 'F') {
        return ch - 'A' + 10;
    }
    return -1;
}

/* Scans an unsigned integer as scanf's "%i" does (0x hex, 0 octal, else
 * decimal) no larger than 'max'.  Returns characters used, 0 if none. */
static int
scan_uint(const char *s, uint64_t max, uint64_t *valp)
{
    unsigned int base = 10;
    uint64_t val = 0;
    int n = 0;

    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')
        && hex_digit((unsigned char) s[2]) >= 0) {
        base = 16;
        n = 2;
    } else if (s[0] == '0') {
        base = 8;
    } else if (!isdigit((unsigned char) s[0])) {
        return 0;
    }
    for (;; n++) {
        int d = hex_digit((unsigned char) s[n]);

        if (d < 0 || (unsigned int) d >= base) {
            break;
        }
        if (val > (max - d) / base) {
            return 0;           /* Too large. */
        }
        val = val * base + d;
    }
    *valp = val;
    return n;
}

static int
scan_ipv4(const char *s, uint8_t out[4])
{
    int n = 0;

    for (int i = 0; i < 4; i++) {
        unsigned int v = 0;
        int digits = 0;

        if (i) {
            if (s[n] != '.') {
                return 0;
            }
            n++;
        }
        while (isdigit((unsigned char) s[n]) && digits < 3) {
            v = v * 10 + (s[n++] - '0');
            digits++;
        }
        if (!digits || v > 255 || isdigit((unsigned char) s[n])) {
            return 0;
        }
        out[i] = v;
    }
    return n;
}

static int
scan_in6(const char *s, uint8_t out[16])
{
    char buf[INET6_ADDRSTRLEN + 1];
    size_t n = strspn(s, "0123456789abcdefABCDEF:.");

    if (!n || n >= sizeof buf) {
        return 0;
    }
    memcpy(buf, s, n);
    buf[n] = '\0';
    return inet_pton(AF_INET6, buf, out) == 1 ? (int) n : 0;
}

static int
scan_mac(const char *s, uint8_t out[6])
{
    int n = 0;

    for (int i = 0; i < 6; i++) {
        int hi, lo;

        if (i) {
            if (s[n] != ':') {
                return 0;
            }
            n++;
        }
        hi = hex_digit((unsigned char) s[n]);
        if (hi < 0) {
            return 0;
        }
        n++;
        lo = hex_digit((unsigned char) s[n]);
        if (lo >= 0) {
            out[i] = hi << 4 | lo;
            n++;
        } else {
            out[i] = hi;
        }
    }
    return n;
}

static int
scan_frag(const char *s, uint8_t *out)
{
    static const char *const names[] = { "no", "first", "later" };

    for (uint8_t i = 0; i < 3; i++) {
        size_t len = strlen(names[i]);

        if (!strncasecmp(s, names[i], len) && !isalpha((unsigned char)
                                                       s[len])) {
            *out = i;
            return len;
        }
    }
    return 0;
}

/* Scans one value of 'kind' into 'out'.  Returns characters used or 0. */
static int
scan_value(enum fkind kind, const char *s, uint8_t *out)
{
    uint64_t v;
    int n;

    switch (kind) {
    case FK_ETH:
        return scan_mac(s, out);
    case FK_IPV4:
        return scan_ipv4(s, out);
    case FK_IN6:
        return scan_in6(s, out);
    case FK_FRAG:
        return scan_frag(s, out);
    case FK_U8U:
    case FK_U8X:
        n = scan_uint(s, UINT8_MAX, &v);
        if (n) {
            *out = v;
        }
        return n;
    case FK_BE16U:
    case FK_BE16X: {
        uint16_t x;

        n = scan_uint(s, UINT16_MAX, &v);
        if (n) {
            x = htons(v);
            memcpy(out, &x, 2);
        }
        return n;
    }
    case FK_LABEL:
    case FK_RSVD: {
        uint32_t x;

        n = scan_uint(s, kind == FK_LABEL ? IPV6_LABEL_MASK : UINT32_MAX,
                      &v);
        if (n) {
            x = htonl(v);
            memcpy(out, &x, 4);
        }
        return n;
    }
    }
    return 0;
}

/* Scans "value[/mask]" of 'kind' at 's' into 'k' and, if 'm' is nonnull,
 * 'm' (all-ones without "/mask").  FK_FRAG takes no mask.  Returns
 * characters used or a negative errno with the reason set. */
static int
scan_masked(struct pctx *c, const char *attr, const char *field,
            enum fkind kind, const char *s, uint8_t *k, uint8_t *m)
{
    size_t size = fkind_size(kind);
    int n, n2;

    n = scan_value(kind, s, k);
    if (!n) {
        errbuf_set(c->err, "%s: bad value for '%s' at '%.*s'", attr, field,
                   token_len(s), s);
        return -EINVAL;
    }
    if (s[n] != '/') {
        if (m) {
            if (kind == FK_LABEL) {
                uint32_t full = htonl(IPV6_LABEL_MASK);

                memcpy(m, &full, 4);
            } else {
                memset(m, 0xff, size);
            }
        }
        return n;
    }
    if (kind == FK_FRAG) {
        errbuf_set(c->err, "%s: '%s' cannot be masked", attr, field);
        return -EINVAL;
    }
    if (!m) {
        errbuf_set(c->err, "%s: mask on '%s' but no mask is being parsed",
                   attr, field);
        return -EINVAL;
    }
    n2 = scan_value(kind, s + n + 1, m);
    if (!n2) {
        errbuf_set(c->err, "%s: bad mask for '%s' at '%.*s'", attr, field,
                   token_len(s + n + 1), s + n + 1);
        return -EINVAL;
    }
    return n + 1 + n2;
}

/* mnl_attr_put_check(), then zeroes the alignment padding, which libmnl
 * 1.0.4 leaves as whatever the buffer held: the bytes we emit must not
 * depend on the buffer's history. */
static bool
put_attr(struct nlmsghdr *nlh, size_t buflen, uint16_t type, size_t len,
         const void *data)
{
    uint8_t *payload_start;

    if (!mnl_attr_put_check(nlh, buflen, type, len, data)) {
        return false;
    }
    payload_start = (uint8_t *) mnl_nlmsg_get_payload_tail(nlh)
                    - MNL_ALIGN(len);
    memset(payload_start + len, 0, MNL_ALIGN(len) - len);
    return true;
}

/* Appends the key and (if wanted) mask attribute.  On failure the caller
 * restores the buffers. */
static int
put_pair(struct pctx *c, uint16_t type, const void *k, const void *m,
         size_t len)
{
    if (!put_attr(c->key, c->key_buflen, type, len, k)) {
        errbuf_set(c->err, "key buffer too small");
        return -EMSGSIZE;
    }
    if (c->mask && !put_attr(c->mask, c->mask_buflen, type, len, m)) {
        errbuf_set(c->err, "mask buffer too small");
        return -EMSGSIZE;
    }
    return 0;
}

/* Parses the fields of a struct attribute; 's' points after "name(". */
static int
parse_struct(struct pctx *c, const char *name, const struct struct_attr *sa,
             const char *s)
{
    uint8_t k[64], m[64];
    int len = fkey_attr_len(sa->type);
    uint32_t seen = 0;
    const char *p = s;

    memset(k, 0, sizeof k);
    memset(m, 0, sizeof m);
    while (*p != ')') {
        const struct field *f = NULL;
        size_t i, idlen = 0;
        int n;

        if (p != s) {
            if (*p != ',') {
                return syntax_error(c, name, "expected ',' or ')'", p);
            }
            p++;
        }
        while (isalnum((unsigned char) p[idlen]) || p[idlen] == '_') {
            idlen++;
        }
        for (i = 0; i < sa->n_fields; i++) {
            const struct field *g = &sa->fields[i];

            if ((strlen(g->name) == idlen && !strncmp(p, g->name, idlen))
                || (g->alias && strlen(g->alias) == idlen
                    && !strncmp(p, g->alias, idlen))) {
                f = g;
                break;
            }
        }
        if (!f || p[idlen] != '=') {
            if (!idlen) {
                return syntax_error(c, name, "expected a field", p);
            }
            errbuf_set(c->err, "%s: unknown field '%.*s'", name, (int) idlen,
                       p);
            return -EINVAL;
        }
        if (seen & (1u << i)) {
            errbuf_set(c->err, "%s: duplicate field '%s'", name, f->name);
            return -EINVAL;
        }
        seen |= 1u << i;
        p += idlen + 1;
        n = scan_masked(c, name, f->name, f->kind, p, k + f->ofs,
                        c->mask ? m + f->ofs : NULL);
        if (n < 0) {
            return n;
        }
        p += n;
    }
    p++;
    {
        int error = put_pair(c, sa->type, k, m, len);

        return error ? error : p - s;
    }
}

/* Parses a single integer attribute "N[/M]" of 'width' bytes in host
 * order (ntoh 'be' for be16). */
static int
parse_int_attr(struct pctx *c, const char *name, uint16_t type, int width,
               bool be, bool maskable, const char *s)
{
    uint64_t max = width == 4 ? UINT32_MAX : UINT16_MAX;
    uint64_t kv, mv = max;
    uint8_t k[4], m[4];
    const char *p = s;
    int n;

    n = scan_uint(p, max, &kv);
    if (!n) {
        return syntax_error(c, name, "bad value", p);
    }
    p += n;
    if (*p == '/') {
        if (!maskable) {
            errbuf_set(c->err, "%s: cannot be masked", name);
            return -EINVAL;
        }
        if (!c->mask) {
            errbuf_set(c->err, "%s: mask given but no mask is being parsed",
                       name);
            return -EINVAL;
        }
        p++;
        n = scan_uint(p, max, &mv);
        if (!n) {
            return syntax_error(c, name, "bad mask", p);
        }
        p += n;
    }
    if (*p != ')') {
        return syntax_error(c, name, "expected ')'", p);
    }
    p++;
    if (width == 4) {
        uint32_t kx = kv, mx = mv;

        memcpy(k, &kx, 4);
        memcpy(m, &mx, 4);
    } else {
        uint16_t kx = be ? htons(kv) : kv, mx = be ? htons(mv) : mv;

        memcpy(k, &kx, 2);
        memcpy(m, &mx, 2);
    }
    n = put_pair(c, type, k, m, width);
    return n ? n : p - s;
}

/* OVS's parse_flags() with ')' as the end: "+a-b" (masked), "N/M"
 * (masked numbers), or "a|b|N" (exact).  Returns characters used. */
static int
scan_flags(struct pctx *c, const char *name, const char *s,
           const char *(*bit_name)(uint32_t), uint32_t allowed,
           uint32_t *flagsp, uint32_t *maskp)
{
    uint32_t flags = 0, mask = 0;
    uint64_t v, w;
    int n = 0, n1, n2;

    n1 = scan_uint(s, UINT32_MAX, &v);
    if (n1 && s[n1] == '/') {
        if (!c->mask) {
            errbuf_set(c->err, "%s: mask given but no mask is being parsed",
                       name);
            return -EINVAL;
        }
        n2 = scan_uint(s + n1 + 1, UINT32_MAX, &w);
        if (!n2) {
            return syntax_error(c, name, "bad mask", s + n1 + 1);
        }
        if ((v | w) & ~allowed) {
            return syntax_error(c, name, "unknown flag bits", s);
        }
        *flagsp = v;
        *maskp = w;
        return n1 + 1 + n2;
    }

    if (*s == '+' || *s == '-') {
        if (!c->mask) {
            errbuf_set(c->err, "%s: +/- flags need a mask", name);
            return -EINVAL;
        }
        while (s[n] != ')') {
            bool set = s[n] == '+';
            uint32_t bit;

            if (s[n] != '+' && s[n] != '-') {
                return syntax_error(c, name, "expected '+' or '-'", s + n);
            }
            n++;
            for (bit = 1; bit; bit <<= 1) {
                const char *fname = bit_name(bit);
                size_t len = fname ? strlen(fname) : 0;

                if (fname && !strncmp(s + n, fname, len)
                    && strchr("+-)", s[n + len])) {
                    break;
                }
            }
            if (!bit || !(bit & allowed)) {
                return syntax_error(c, name, "unknown flag", s + n);
            }
            if (mask & bit) {
                errbuf_set(c->err, "%s: flag '%s' given twice", name,
                           bit_name(bit));
                return -EINVAL;
            }
            mask |= bit;
            if (set) {
                flags |= bit;
            }
            n += strlen(bit_name(bit));
        }
        *flagsp = flags;
        *maskp = mask;
        return n;
    }

    while (s[n] != ')') {
        uint32_t bit;

        n1 = scan_uint(s + n, UINT32_MAX, &v);
        if (n1) {
            if (v & ~allowed) {
                return syntax_error(c, name, "unknown flag bits", s + n);
            }
            flags |= v;
            n += n1;
        } else {
            for (bit = 1; bit; bit <<= 1) {
                const char *fname = bit_name(bit);
                size_t len = fname ? strlen(fname) : 0;

                if (fname && !strncmp(s + n, fname, len)
                    && strchr("|)", s[n + len])) {
                    break;
                }
            }
            if (!bit || !(bit & allowed)) {
                return syntax_error(c, name, "unknown flag", s + n);
            }
            flags |= bit;
            n += strlen(bit_name(bit));
        }
        if (s[n] == '|' && s[n + 1] != ')') {
            n++;
        } else if (s[n] != ')') {
            return syntax_error(c, name, "expected '|' or ')'", s + n);
        }
    }
    *flagsp = flags;
    *maskp = UINT32_MAX;
    return n;
}

static int
parse_flags_attr(struct pctx *c, const char *name, uint16_t type,
                 const char *s)
{
    bool tcp = type == OVS_KEY_ATTR_TCP_FLAGS;
    uint32_t flags, mask;
    int n, error;

    n = scan_flags(c, name, s, tcp ? tcp_flag_name : ct_state_name,
                   tcp ? TCP_FLAGS_MASK : CT_STATE_ALLOWED, &flags, &mask);
    if (n < 0) {
        return n;
    }
    if (s[n] != ')') {
        return syntax_error(c, name, "expected ')'", s + n);
    }
    if (tcp) {
        uint16_t k = htons(flags), m = htons(mask);

        error = put_pair(c, type, &k, &m, 2);
    } else {
        error = put_pair(c, type, &flags, &mask, 4);
    }
    return error ? error : n + 1;
}

/* ct_label: a 128-bit number, "0x" hex or decimal (OVS's scan_u128()). */
static int
scan_u128(const char *s, uint8_t be[16])
{
    memset(be, 0, 16);
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        int n = 2, digits = 0;
        size_t start;

        while (s[n] == '0') {
            n++;
        }
        start = n;
        while (hex_digit((unsigned char) s[n]) >= 0) {
            n++;
            digits++;
        }
        if (digits > 32 || (n == 2)) {
            return 0;
        }
        for (int i = 0; i < digits; i++) {
            int d = hex_digit((unsigned char) s[start + digits - 1 - i]);

            be[15 - i / 2] |= i % 2 ? d << 4 : d;
        }
        return n;
    } else {
        uint64_t v;
        int n = scan_uint(s, UINT64_MAX, &v);

        for (int i = 15; n && i >= 8; i--) {
            be[i] = v;
            v >>= 8;
        }
        return n;
    }
}

static int
parse_ct_label(struct pctx *c, const char *name, const char *s)
{
    uint8_t kbe[16], mbe[16], k[16], m[16];
    const char *p = s;
    int n;

    n = scan_u128(p, kbe);
    if (!n) {
        return syntax_error(c, name, "bad value", p);
    }
    p += n;
    memset(mbe, 0xff, sizeof mbe);
    if (*p == '/') {
        if (!c->mask) {
            errbuf_set(c->err, "%s: mask given but no mask is being parsed",
                       name);
            return -EINVAL;
        }
        n = scan_u128(p + 1, mbe);
        if (!n) {
            return syntax_error(c, name, "bad mask", p + 1);
        }
        p += 1 + n;
    }
    if (*p != ')') {
        return syntax_error(c, name, "expected ')'", p);
    }
    /* Big-endian number to host-order ovs_u128: the same swap. */
    u128_host_to_be(kbe, k);
    u128_host_to_be(mbe, m);
    n = put_pair(c, OVS_KEY_ATTR_CT_LABELS, k, m, 16);
    return n ? n : p + 1 - s;
}

static int
parse_vlan(struct pctx *c, const char *name, const char *s)
{
    static const struct {
        const char *name;
        int bits, shift;
    } vfields[] = {
        { "vid", 12, 0 }, { "pcp", 3, 13 }, { "cfi", 1, 12 },
    };
    /* OVS starts from CFI set, and exact, as nearly every tag has it. */
    uint16_t tci = VLAN_CFI, mask = VLAN_CFI;
    unsigned int seen = 0;
    const char *p = s;

    while (*p != ')') {
        size_t i, idlen = 0;
        uint64_t v, mv;
        uint16_t bf;
        int n;

        if (p != s) {
            if (*p != ',') {
                return syntax_error(c, name, "expected ',' or ')'", p);
            }
            p++;
        }
        while (isalpha((unsigned char) p[idlen])) {
            idlen++;
        }
        for (i = 0; i < 3; i++) {
            if (idlen == 3 && !strncmp(p, vfields[i].name, 3)) {
                break;
            }
        }
        if (i == 3 || p[idlen] != '=') {
            if (!idlen) {
                return syntax_error(c, name, "expected a field", p);
            }
            errbuf_set(c->err, "%s: unknown field '%.*s'", name, (int) idlen,
                       p);
            return -EINVAL;
        }
        if (seen & (1u << i)) {
            errbuf_set(c->err, "%s: duplicate field '%s'", name,
                       vfields[i].name);
            return -EINVAL;
        }
        seen |= 1u << i;
        p += 4;
        bf = ((1u << vfields[i].bits) - 1) << vfields[i].shift;
        n = scan_uint(p, (1u << vfields[i].bits) - 1, &v);
        if (!n) {
            errbuf_set(c->err, "%s: bad value for '%s' at '%.*s'", name,
                       vfields[i].name, token_len(p), p);
            return -EINVAL;
        }
        p += n;
        mv = (1u << vfields[i].bits) - 1;
        if (*p == '/') {
            if (!c->mask) {
                errbuf_set(c->err, "%s: mask on '%s' but no mask is being "
                           "parsed", name, vfields[i].name);
                return -EINVAL;
            }
            n = scan_uint(p + 1, (1u << vfields[i].bits) - 1, &mv);
            if (!n) {
                errbuf_set(c->err, "%s: bad mask for '%s' at '%.*s'", name,
                           vfields[i].name, token_len(p + 1), p + 1);
                return -EINVAL;
            }
            p += 1 + n;
        }
        tci = (tci & ~bf) | (v << vfields[i].shift);
        mask = (mask & ~bf) | (mv << vfields[i].shift);
    }
    {
        uint16_t k = htons(tci), m = htons(mask);
        int error = put_pair(c, OVS_KEY_ATTR_VLAN, &k, &m, 2);

        return error ? error : p + 1 - s;
    }
}

static int
parse_mpls(struct pctx *c, const char *name, const char *s)
{
    static const struct {
        const char *name;
        int bits, shift;
    } mfields[] = {
        { "label", 20, 12 }, { "tc", 3, 9 }, { "ttl", 8, 0 },
        { "bos", 1, 8 },
    };
    uint32_t k[MAX_MPLS_LSES] = { 0 }, m[MAX_MPLS_LSES] = { 0 };
    unsigned int seen = 0;
    int idx = 0;
    const char *p = s;

    while (*p != ')') {
        size_t i, idlen = 0;
        uint64_t v, mv;
        uint32_t bf, max;
        int n;

        if (p != s) {
            if (*p != ',') {
                return syntax_error(c, name, "expected ',' or ')'", p);
            }
            p++;
        }
        while (isalpha((unsigned char) p[idlen])) {
            idlen++;
        }
        for (i = 0; i < 4; i++) {
            if (strlen(mfields[i].name) == idlen
                && !strncmp(p, mfields[i].name, idlen)) {
                break;
            }
        }
        if (i == 4 || p[idlen] != '=') {
            if (!idlen) {
                return syntax_error(c, name, "expected a field", p);
            }
            errbuf_set(c->err, "%s: unknown field '%.*s'", name, (int) idlen,
                       p);
            return -EINVAL;
        }
        if (seen & (1u << i)) {
            /* A field seen again starts the next label stack entry. */
            seen = 0;
            if (++idx == MAX_MPLS_LSES) {
                errbuf_set(c->err, "%s: more than %d label stack entries",
                           name, MAX_MPLS_LSES);
                return -EINVAL;
            }
        }
        seen |= 1u << i;
        p += idlen + 1;
        max = (1u << mfields[i].bits) - 1;
        bf = max << mfields[i].shift;
        n = scan_uint(p, max, &v);
        if (!n) {
            errbuf_set(c->err, "%s: bad value for '%s' at '%.*s'", name,
                       mfields[i].name, token_len(p), p);
            return -EINVAL;
        }
        p += n;
        mv = max;
        if (*p == '/') {
            if (!c->mask) {
                errbuf_set(c->err, "%s: mask on '%s' but no mask is being "
                           "parsed", name, mfields[i].name);
                return -EINVAL;
            }
            n = scan_uint(p + 1, max, &mv);
            if (!n) {
                errbuf_set(c->err, "%s: bad mask for '%s' at '%.*s'", name,
                           mfields[i].name, token_len(p + 1), p + 1);
                return -EINVAL;
            }
            p += 1 + n;
        }
        k[idx] = (k[idx] & ~bf) | (uint32_t) v << mfields[i].shift;
        m[idx] = (m[idx] & ~bf) | (uint32_t) mv << mfields[i].shift;
    }
    for (int i = 0; i <= idx; i++) {
        k[i] = htonl(k[i]);
        m[i] = htonl(m[i]);
    }
    {
        int error = put_pair(c, OVS_KEY_ATTR_MPLS, k, m, 4 * (idx + 1));

        return error ? error : p + 1 - s;
    }
}

/* "key<N>(01 02 03[/ff ff ff])": an attribute this build does not know. */
static int
parse_unknown(struct pctx *c, const char *name, uint16_t type,
              const char *s)
{
    uint8_t *k, *m;
    size_t nk = 0, nm = 0, cap = strlen(s) / 2 + 1;
    const char *p = s;
    bool in_mask = false;
    int error;

    k = malloc(cap);
    m = malloc(cap);
    if (!k || !m) {
        abort();
    }
    while (*p != ')') {
        int hi = hex_digit((unsigned char) p[0]);
        int lo = hi >= 0 ? hex_digit((unsigned char) p[1]) : -1;

        if (p == s && *p == '/' && p[1] == ')') {
            /* "key31(/)": an empty attribute with an empty mask. */
            if (!c->mask) {
                errbuf_set(c->err, "%s: mask given but no mask is being "
                           "parsed", name);
                error = -EINVAL;
                goto out;
            }
            in_mask = true;
            p++;
            continue;
        }
        if (lo < 0) {
            error = syntax_error(c, name, "expected two hex digits", p);
            goto out;
        }
        if (in_mask) {
            m[nm++] = hi << 4 | lo;
        } else {
            k[nk++] = hi << 4 | lo;
        }
        p += 2;
        if (*p == ' ' && p[1] != ')') {
            p++;
        } else if (*p == '/' && !in_mask) {
            if (!c->mask) {
                errbuf_set(c->err, "%s: mask given but no mask is being "
                           "parsed", name);
                error = -EINVAL;
                goto out;
            }
            in_mask = true;
            p++;
        } else if (*p != ')') {
            error = syntax_error(c, name, "expected ' ', '/' or ')'", p);
            goto out;
        }
    }
    if (in_mask && nm != nk) {
        errbuf_set(c->err, "%s: mask has %zu bytes, value %zu", name, nm,
                   nk);
        error = -EINVAL;
        goto out;
    }
    if (nk > UINT16_MAX - NLA_HDRLEN) {
        errbuf_set(c->err, "%s: too long", name);
        error = -EINVAL;
        goto out;
    }
    if (!in_mask) {
        memset(m, 0xff, nk);
    }
    error = put_pair(c, type, k, m, nk);
    if (!error) {
        error = p + 1 - s;
    }
out:
    free(k);
    free(m);
    return error;
}

static int parse_stream(struct pctx *c, const char *s, bool nested);

/* Opens a nest of 'type' at the tail of 'nlh', returning it or NULL if
 * there is no room.  Unlike mnl_attr_nest_start(), no NLA_F_NESTED flag:
 * OVS and the kernel's OVS datapath send key nests without it. */
static struct nlattr *
nest_start(struct nlmsghdr *nlh, size_t buflen, uint16_t type)
{
    struct nlattr *nest;

    if (nlh->nlmsg_len + NLA_HDRLEN > buflen) {
        return NULL;
    }
    nest = mnl_nlmsg_get_payload_tail(nlh);
    nest->nla_type = type;
    nest->nla_len = NLA_HDRLEN;
    nlh->nlmsg_len += NLA_HDRLEN;
    return nest;
}

/* Closes 'nest'; returns false if it grew past what nla_len can hold. */
static bool
nest_end(struct nlmsghdr *nlh, struct nlattr *nest)
{
    size_t len = (uint8_t *) mnl_nlmsg_get_payload_tail(nlh)
                 - (uint8_t *) nest;

    if (len > UINT16_MAX) {
        return false;
    }
    nest->nla_len = len;
    return true;
}

static int
parse_encap(struct pctx *c, const char *s)
{
    struct nlattr *kn, *mn = NULL;
    int n;

    if (c->depth >= FKEY_TEXT_MAX_DEPTH) {
        errbuf_set(c->err, "encap: nested more than %d deep",
                   FKEY_TEXT_MAX_DEPTH);
        return -EINVAL;
    }
    kn = nest_start(c->key, c->key_buflen, OVS_KEY_ATTR_ENCAP);
    if (!kn) {
        errbuf_set(c->err, "key buffer too small");
        return -EMSGSIZE;
    }
    if (c->mask) {
        mn = nest_start(c->mask, c->mask_buflen, OVS_KEY_ATTR_ENCAP);
        if (!mn) {
            errbuf_set(c->err, "mask buffer too small");
            return -EMSGSIZE;
        }
    }
    c->depth++;
    n = parse_stream(c, s, true);
    c->depth--;
    if (n < 0) {
        return n;
    }
    if (s[n] != ')') {
        return syntax_error(c, "encap", "expected ',' or ')'", s + n);
    }
    if (!nest_end(c->key, kn) || (mn && !nest_end(c->mask, mn))) {
        errbuf_set(c->err, "encap: longer than a netlink attribute allows");
        return -EMSGSIZE;
    }
    return n + 1;
}

/* Parses one attribute "name(...)" at 's'.  Returns characters used. */
static int
parse_attr(struct pctx *c, const char *s)
{
    char name[32];
    size_t idlen = 0;
    const struct struct_attr *sa;
    const char *body;
    int type = -1;
    int n;

    while (isalnum((unsigned char) s[idlen]) || s[idlen] == '_') {
        idlen++;
    }
    if (!idlen || s[idlen] != '(') {
        errbuf_set(c->err, "expected a key attribute at '%.*s'",
                   token_len(s) ? token_len(s) : 1, s);
        return -EINVAL;
    }
    if (idlen >= sizeof name) {
        errbuf_set(c->err, "unknown key attribute '%.*s'", (int) idlen, s);
        return -EINVAL;
    }
    memcpy(name, s, idlen);
    name[idlen] = '\0';
    body = s + idlen + 1;

    for (int t = 0; t <= OVS_KEY_ATTR_MAX; t++) {
        const char *tn = fkey_attr_name(t);

        if (tn && !strcmp(tn, name)) {
            type = t;
            break;
        }
    }
    if (type < 0 && !strncmp(name, "key", 3) && isdigit((unsigned char)
                                                         name[3])) {
        uint64_t v;

        n = scan_uint(name + 3, NLA_TYPE_MASK, &v);
        if (n && !name[3 + n] && (name[3] != '0' || !name[4])) {
            if (fkey_attr_name(v)) {
                errbuf_set(c->err, "%s: type %u is '%s'; use that name",
                           name, (unsigned int) v, fkey_attr_name(v));
                return -EINVAL;
            }
            type = v;
        }
    }
    if (type < 0) {
        errbuf_set(c->err, "unknown key attribute '%s'", name);
        return -EINVAL;
    }

    sa = find_struct_attr(type);
    if (sa) {
        n = parse_struct(c, name, sa, body);
    } else {
        switch (type) {
        case OVS_KEY_ATTR_PRIORITY:
        case OVS_KEY_ATTR_SKB_MARK:
        case OVS_KEY_ATTR_DP_HASH:
        case OVS_KEY_ATTR_CT_MARK:
        case OVS_KEY_ATTR_IN_PORT:
            n = parse_int_attr(c, name, type, 4, false, true, body);
            break;
        case OVS_KEY_ATTR_RECIRC_ID:
            n = parse_int_attr(c, name, type, 4, false, false, body);
            break;
        case OVS_KEY_ATTR_CT_ZONE:
        case OVS_KEY_ATTR_IPV6_EXTHDRS:
            n = parse_int_attr(c, name, type, 2, false, true, body);
            break;
        case OVS_KEY_ATTR_ETHERTYPE:
            n = parse_int_attr(c, name, type, 2, true, true, body);
            break;
        case OVS_KEY_ATTR_CT_STATE:
        case OVS_KEY_ATTR_TCP_FLAGS:
            n = parse_flags_attr(c, name, type, body);
            break;
        case OVS_KEY_ATTR_CT_LABELS:
            n = parse_ct_label(c, name, body);
            break;
        case OVS_KEY_ATTR_VLAN:
            n = parse_vlan(c, name, body);
            break;
        case OVS_KEY_ATTR_MPLS:
            n = parse_mpls(c, name, body);
            break;
        case OVS_KEY_ATTR_ENCAP:
            n = parse_encap(c, body);
            break;
        case OVS_KEY_ATTR_TUNNEL:
        case OVS_KEY_ATTR_NSH:
            errbuf_set(c->err, "%s(): not supported yet", name);
            return -EINVAL;
        default:
            n = parse_unknown(c, name, type, body);
            break;
        }
    }
    return n < 0 ? n : (int) (body - s) + n;
}

/* Returns true if 's' starts "identifier(". */
static bool
starts_attr(const char *s)
{
    size_t n = 0;

    while (isalnum((unsigned char) s[n]) || s[n] == '_') {
        n++;
    }
    return n && s[n] == '(';
}

/* Parses attributes separated by ','.  At top level stops before anything
 * that cannot continue a key; inside encap() stops at ')'.  Returns
 * characters used. */
static int
parse_stream(struct pctx *c, const char *s, bool nested)
{
    size_t level = c->key->nlmsg_len;
    const char *p = s;

    if (nested && *p == ')') {
        return 0;
    }
    for (;;) {
        size_t before = c->key->nlmsg_len;
        const struct nlattr *a;
        int n;

        n = parse_attr(c, p);
        if (n < 0) {
            return n;
        }

        /* A second attribute of one type at one level is an error. */
        a = (const struct nlattr *) ((const uint8_t *) c->key + before);
        if (find_attr((const uint8_t *) c->key + level, before - level,
                      attr_type(a))) {
            errbuf_set(c->err, "duplicate key attribute '%.*s'",
                       (int) strcspn(p, "("), p);
            return -EINVAL;
        }
        p += n;

        if (*p == ',') {
            size_t blanks = strspn(p + 1, " \t");

            if (starts_attr(p + 1 + blanks)) {
                p += 1 + blanks;
                continue;
            }
        }
        break;
    }
    return p - s;
}

static int
parse_begin(const char *s, struct nlmsghdr *key_nlh, size_t key_buflen,
            struct nlmsghdr *mask_nlh, size_t mask_buflen,
            struct errbuf *err, bool one, size_t *consumed)
{
    struct pctx c = {
        .key = key_nlh, .key_buflen = key_buflen,
        .mask = mask_nlh, .mask_buflen = mask_buflen,
        .err = err, .depth = 0,
    };
    uint32_t key_len0 = key_nlh->nlmsg_len;
    uint32_t mask_len0 = mask_nlh ? mask_nlh->nlmsg_len : 0;
    size_t skip = one ? 0 : strspn(s, " \t\r\n");
    int n;

    errbuf_clear(err);
    if (!one && !strncmp(s + skip, "<empty>", 7)) {
        *consumed = skip + 7;
        return 0;
    }
    if (!one && !s[skip]) {
        *consumed = skip;
        return 0;
    }
    n = one ? parse_attr(&c, s) : parse_stream(&c, s + skip, false);
    if (n < 0) {
        key_nlh->nlmsg_len = key_len0;
        if (mask_nlh) {
            mask_nlh->nlmsg_len = mask_len0;
        }
        *consumed = skip;
        return n;
    }
    *consumed = skip + n;
    return 0;
}

int
fkey_parse(const char *s, size_t *consumed, struct nlmsghdr *key_nlh,
           size_t key_buflen, struct nlmsghdr *mask_nlh, size_t mask_buflen,
           struct errbuf *err)
{
    size_t dummy;

    return parse_begin(s, key_nlh, key_buflen, mask_nlh, mask_buflen, err,
                       false, consumed ? consumed : &dummy);
}

int
fkey_parse_attr(const char *s, struct nlmsghdr *key_nlh, size_t key_buflen,
                struct nlmsghdr *mask_nlh, size_t mask_buflen,
                struct errbuf *err)
{
    size_t consumed;
    int error;

    error = parse_begin(s, key_nlh, key_buflen, mask_nlh, mask_buflen, err,
                        true, &consumed);
    return error ? error : (int) consumed;
}
