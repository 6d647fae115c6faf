/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEIR_CODEC_FKEY_ATTRS_H
#define WEIR_CODEC_FKEY_ATTRS_H 1

/* Facts about OVS_KEY_ATTR_* attribute types, shared by the netlink codec
 * (fkey-nl.c), the text codec (fkey-text.c) and the action codec
 * (actions-nl.c, for set and set_masked).
 *
 * The numeric values and payload structs come from <linux/openvswitch.h>;
 * this table is the one place that says how long each payload is. */

#include <stdint.h>
#include <linux/openvswitch.h>

/* Special values of fkey_attr_len(). */
#define FKEY_ATTR_UNKNOWN   0   /* Not understood by this build: skip it. */
#define FKEY_ATTR_NESTED   -1   /* Nested attributes (encap, tunnel, nsh). */
#define FKEY_ATTR_VARIABLE -2   /* Variable: MPLS, a multiple of 4 bytes. */

/* Returns the payload length of key attribute 'type' (> 0), or one of the
 * FKEY_ATTR_* values above. */
int fkey_attr_len(uint16_t type);

/* Returns the ovs-dpctl name of key attribute 'type' ("in_port", "eth",
 * "skb_priority", ...), or NULL if this build does not know 'type'. */
const char *fkey_attr_name(uint16_t type);

#endif /* codec/fkey-attrs.h */
