/* SPDX-License-Identifier: Apache-2.0 */
#include "codec/fkey-attrs.h"

#include <stddef.h>

struct attr_info {
    int len;
    const char *name;
};

/* Lengths from the payload structs of <linux/openvswitch.h>; names as the
 * ovs-dpctl syntax spells them. */
static const struct attr_info attr_infos[OVS_KEY_ATTR_MAX + 1] = {
    [OVS_KEY_ATTR_ENCAP] = { FKEY_ATTR_NESTED, "encap" },
    [OVS_KEY_ATTR_PRIORITY] = { 4, "skb_priority" },
    [OVS_KEY_ATTR_IN_PORT] = { 4, "in_port" },
    [OVS_KEY_ATTR_ETHERNET] = { sizeof(struct ovs_key_ethernet), "eth" },
    [OVS_KEY_ATTR_VLAN] = { 2, "vlan" },
    [OVS_KEY_ATTR_ETHERTYPE] = { 2, "eth_type" },
    [OVS_KEY_ATTR_IPV4] = { sizeof(struct ovs_key_ipv4), "ipv4" },
    [OVS_KEY_ATTR_IPV6] = { sizeof(struct ovs_key_ipv6), "ipv6" },
    [OVS_KEY_ATTR_TCP] = { sizeof(struct ovs_key_tcp), "tcp" },
    [OVS_KEY_ATTR_UDP] = { sizeof(struct ovs_key_udp), "udp" },
    [OVS_KEY_ATTR_ICMP] = { sizeof(struct ovs_key_icmp), "icmp" },
    [OVS_KEY_ATTR_ICMPV6] = { sizeof(struct ovs_key_icmpv6), "icmpv6" },
    [OVS_KEY_ATTR_ARP] = { sizeof(struct ovs_key_arp), "arp" },
    [OVS_KEY_ATTR_ND] = { sizeof(struct ovs_key_nd), "nd" },
    [OVS_KEY_ATTR_SKB_MARK] = { 4, "skb_mark" },
    [OVS_KEY_ATTR_TUNNEL] = { FKEY_ATTR_NESTED, "tunnel" },
    [OVS_KEY_ATTR_SCTP] = { sizeof(struct ovs_key_sctp), "sctp" },
    [OVS_KEY_ATTR_TCP_FLAGS] = { 2, "tcp_flags" },
    [OVS_KEY_ATTR_DP_HASH] = { 4, "dp_hash" },
    [OVS_KEY_ATTR_RECIRC_ID] = { 4, "recirc_id" },
    [OVS_KEY_ATTR_MPLS] = { FKEY_ATTR_VARIABLE, "mpls" },
    [OVS_KEY_ATTR_CT_STATE] = { 4, "ct_state" },
    [OVS_KEY_ATTR_CT_ZONE] = { 2, "ct_zone" },
    [OVS_KEY_ATTR_CT_MARK] = { 4, "ct_mark" },
    [OVS_KEY_ATTR_CT_LABELS] = { 16, "ct_label" },
    [OVS_KEY_ATTR_CT_ORIG_TUPLE_IPV4] = {
        sizeof(struct ovs_key_ct_tuple_ipv4), "ct_tuple4" },
    [OVS_KEY_ATTR_CT_ORIG_TUPLE_IPV6] = {
        sizeof(struct ovs_key_ct_tuple_ipv6), "ct_tuple6" },
    [OVS_KEY_ATTR_NSH] = { FKEY_ATTR_NESTED, "nsh" },
    [OVS_KEY_ATTR_PACKET_TYPE] = { 4, "packet_type" },
    [OVS_KEY_ATTR_ND_EXTENSIONS] = { 8, "nd_ext" },
    [OVS_KEY_ATTR_IPV6_EXTHDRS] = {
        sizeof(struct ovs_key_ipv6_exthdrs), "ipv6_exthdrs" },
};

int
fkey_attr_len(uint16_t type)
{
    return type <= OVS_KEY_ATTR_MAX ? attr_infos[type].len
                                    : FKEY_ATTR_UNKNOWN;
}

const char *
fkey_attr_name(uint16_t type)
{
    return type <= OVS_KEY_ATTR_MAX ? attr_infos[type].name : NULL;
}
