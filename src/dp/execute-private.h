/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEIR_DP_EXECUTE_PRIVATE_H
#define WEIR_DP_EXECUTE_PRIVATE_H 1

/* Inside the executor: what execute.c (the list walker and the actions
 * that move packets) shares with execute-edit.c (the actions that edit
 * headers, one packet at a time).
 *
 * An edit is a function of one packet and its flow key that returns
 * DPX_KEEP, or the reason to drop the packet; dpx_for_each() applies one
 * to a batch and drops the packets it refuses.  Edits keep the key
 * current: they update the fields they write, or parse the packet again
 * (dpx_reparse()) after changing which headers it has.
 */

#include <linux/netlink.h>
#include <stdint.h>
#include <string.h>

#include "dp/drop.h"
#include "dp/execute.h"
#include "packet/flow-key.h"
#include "packet/packet.h"

/* "Do not drop": a value past every real reason. */
#define DPX_KEEP DP_N_DROP_REASONS

/* State of one dpx_execute() call. */
struct dpx_ctx {
    const struct dpx_env *env;
    uint32_t drops[DP_N_DROP_REASONS];  /* Counted here, reported once. */
    uint32_t in_sample;                 /* sample() lists being run: a
                                         * packet whose list ends inside
                                         * one was observed, not dropped. */
};

typedef enum dp_drop_reason dpx_edit_fn(struct packet *, struct flow_key *,
                                        const void *arg);

/* Applies 'fn' with 'arg' to every packet of 'b' ('keys' in step);
 * packets for which it returns a reason are freed and counted, the rest
 * close up, keys with them. */
void dpx_for_each(struct dpx_ctx *x, struct pkt_batch *b,
                  struct flow_key *keys, dpx_edit_fn *fn, const void *arg);

/* Parses 'p' again into 'key', keeping its metadata (from p->md) and its
 * header type: a packet whose key says FKEY_MAC_NONE (no Ethernet header,
 * after pop_eth or add_mpls) is parsed as an L3 packet of type
 * 'key->eth_type', which p->md.l3_type records for later passes
 * (recirc()); an Ethernet one clears it.  Sets the packet's offsets.
 * Returns: DPX_KEEP, or DP_DROP_MALFORMED (cannot happen). */
enum dp_drop_reason dpx_reparse(struct packet *p, struct flow_key *key);

/* Where the packet's L2 header ends (the kernel's mac_len): 0 without an
 * Ethernet header, else the L3 or MPLS offset when known, else what the
 * VLAN tags say (packet-edit.h pedit_l2_len()). */
size_t dpx_l2_end(const struct packet *p, const struct flow_key *key);

/* The header-editing actions of execute-edit.c, on a whole batch.  'a' is
 * the action attribute. */
void dpx_do_set(struct dpx_ctx *x, struct pkt_batch *b,
                struct flow_key *keys, const struct nlattr *a);
void dpx_do_push_vlan(struct dpx_ctx *x, struct pkt_batch *b,
                      struct flow_key *keys, const struct nlattr *a);
void dpx_do_pop_vlan(struct dpx_ctx *x, struct pkt_batch *b,
                     struct flow_key *keys);
void dpx_do_push_mpls(struct dpx_ctx *x, struct pkt_batch *b,
                      struct flow_key *keys, const struct nlattr *a);
void dpx_do_pop_mpls(struct dpx_ctx *x, struct pkt_batch *b,
                     struct flow_key *keys, const struct nlattr *a);
void dpx_do_push_eth(struct dpx_ctx *x, struct pkt_batch *b,
                     struct flow_key *keys, const struct nlattr *a);
void dpx_do_pop_eth(struct dpx_ctx *x, struct pkt_batch *b,
                    struct flow_key *keys);

/* Netlink attribute access.  Action lists reach the executor validated
 * (act_validate()), so lengths are trusted; payloads are read with
 * memcpy() because nothing promises their alignment to the compiler. */
static inline uint16_t
dpx_attr_type(const struct nlattr *a)
{
    return a->nla_type & NLA_TYPE_MASK;
}

static inline const void *
dpx_attr_data(const struct nlattr *a)
{
    return a + 1;
}

static inline size_t
dpx_attr_len(const struct nlattr *a)
{
    return a->nla_len - NLA_HDRLEN;
}

static inline uint32_t
dpx_attr_u32(const struct nlattr *a)
{
    uint32_t v;

    memcpy(&v, dpx_attr_data(a), sizeof v);
    return v;
}

#endif /* dp/execute-private.h */
