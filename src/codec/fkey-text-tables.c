/* SPDX-License-Identifier: Apache-2.0 */
/* The tables the key text formatter and parser share: the fields of every
 * struct attribute (eth, ipv4, tcp, ...), the names of the tcp_flags and
 * ct_state bits.  See fkey-text-private.h. */

#include "codec/fkey-text-private.h"

#include <linux/openvswitch.h>

/* Not in every <linux/openvswitch.h>: OVS's layout for type 30. */
struct fkey_nd_ext {
    uint32_t nd_reserved;       /* be32. */
    uint8_t nd_options_type;
    uint8_t pad[3];
};

/* ---------------------------------------------------------------------- */
/* Field tables.                                                           */

#define F(NAME, KIND, STRUCT, MEMBER) \
    { NAME, NULL, KIND, offsetof(STRUCT, MEMBER) }

static const struct fkey_field eth_fields[] = {
    F("src", FK_ETH, struct ovs_key_ethernet, eth_src),
    F("dst", FK_ETH, struct ovs_key_ethernet, eth_dst),
};

static const struct fkey_field ipv4_fields[] = {
    F("src", FK_IPV4, struct ovs_key_ipv4, ipv4_src),
    F("dst", FK_IPV4, struct ovs_key_ipv4, ipv4_dst),
    F("proto", FK_U8U, struct ovs_key_ipv4, ipv4_proto),
    F("tos", FK_U8X, struct ovs_key_ipv4, ipv4_tos),
    F("ttl", FK_U8U, struct ovs_key_ipv4, ipv4_ttl),
    F("frag", FK_FRAG, struct ovs_key_ipv4, ipv4_frag),
};

static const struct fkey_field ipv6_fields[] = {
    F("src", FK_IN6, struct ovs_key_ipv6, ipv6_src),
    F("dst", FK_IN6, struct ovs_key_ipv6, ipv6_dst),
    F("label", FK_LABEL, struct ovs_key_ipv6, ipv6_label),
    F("proto", FK_U8U, struct ovs_key_ipv6, ipv6_proto),
    F("tclass", FK_U8X, struct ovs_key_ipv6, ipv6_tclass),
    F("hlimit", FK_U8U, struct ovs_key_ipv6, ipv6_hlimit),
    F("frag", FK_FRAG, struct ovs_key_ipv6, ipv6_frag),
};

/* tcp, udp and sctp share one layout. */
static const struct fkey_field ports_fields[] = {
    F("src", FK_BE16U, struct ovs_key_tcp, tcp_src),
    F("dst", FK_BE16U, struct ovs_key_tcp, tcp_dst),
};

/* icmp and icmpv6 share one layout. */
static const struct fkey_field icmp_fields[] = {
    F("type", FK_U8U, struct ovs_key_icmp, icmp_type),
    F("code", FK_U8U, struct ovs_key_icmp, icmp_code),
};

static const struct fkey_field arp_fields[] = {
    F("sip", FK_IPV4, struct ovs_key_arp, arp_sip),
    F("tip", FK_IPV4, struct ovs_key_arp, arp_tip),
    F("op", FK_BE16U, struct ovs_key_arp, arp_op),
    F("sha", FK_ETH, struct ovs_key_arp, arp_sha),
    F("tha", FK_ETH, struct ovs_key_arp, arp_tha),
};

static const struct fkey_field nd_fields[] = {
    F("target", FK_IN6, struct ovs_key_nd, nd_target),
    F("sll", FK_ETH, struct ovs_key_nd, nd_sll),
    F("tll", FK_ETH, struct ovs_key_nd, nd_tll),
};

static const struct fkey_field nd_ext_fields[] = {
    F("nd_reserved", FK_RSVD, struct fkey_nd_ext, nd_reserved),
    F("nd_options_type", FK_U8U, struct fkey_nd_ext, nd_options_type),
};

static const struct fkey_field ct4_fields[] = {
    F("src", FK_IPV4, struct ovs_key_ct_tuple_ipv4, ipv4_src),
    F("dst", FK_IPV4, struct ovs_key_ct_tuple_ipv4, ipv4_dst),
    F("proto", FK_U8U, struct ovs_key_ct_tuple_ipv4, ipv4_proto),
    F("tp_src", FK_BE16U, struct ovs_key_ct_tuple_ipv4, src_port),
    F("tp_dst", FK_BE16U, struct ovs_key_ct_tuple_ipv4, dst_port),
};

static const struct fkey_field ct6_fields[] = {
    F("src", FK_IN6, struct ovs_key_ct_tuple_ipv6, ipv6_src),
    F("dst", FK_IN6, struct ovs_key_ct_tuple_ipv6, ipv6_dst),
    F("proto", FK_U8U, struct ovs_key_ct_tuple_ipv6, ipv6_proto),
    { "src_port", "tp_src", FK_BE16U,
      offsetof(struct ovs_key_ct_tuple_ipv6, src_port) },
    { "dst_port", "tp_dst", FK_BE16U,
      offsetof(struct ovs_key_ct_tuple_ipv6, dst_port) },
};

/* packet_type's be32 is (namespace << 16 | type): two be16 halves. */
static const struct fkey_field packet_type_fields[] = {
    { "ns", NULL, FK_BE16U, 0 },
    { "id", NULL, FK_BE16X, 2 },
};

#undef F

#define SA(TYPE, FIELDS) { TYPE, FIELDS, sizeof FIELDS / sizeof FIELDS[0] }
static const struct fkey_struct_attr struct_attrs[] = {
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

const struct fkey_struct_attr *
fkey_find_struct_attr(uint16_t type)
{
    for (size_t i = 0; i < sizeof struct_attrs / sizeof struct_attrs[0];
         i++) {
        if (struct_attrs[i].type == type) {
            return &struct_attrs[i];
        }
    }
    return NULL;
}

size_t
fkey_kind_size(enum fkey_kind kind)
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
/* Flag names.                                                             */

const char *
fkey_tcp_flag_name(uint32_t bit)
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

const char *
fkey_ct_state_name(uint32_t bit)
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
