/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEIR_DP_EXECUTE_H
#define WEIR_DP_EXECUTE_H 1

/* Action execution: runs an OVS_ACTION_ATTR_* list on a batch of packets.
 *
 * What
 * ====
 *
 * dpx_execute() applies a validated action list (codec/actions-nl.h) to
 * every packet of a batch, in order: output, trunc, userspace, set and
 * set_masked, push/pop VLAN, push/pop/add MPLS, push/pop Ethernet,
 * sample, recirc, hash, clone, check_pkt_len, dec_ttl.  ct, ct_clear,
 * meter and the NSH actions are refused at flow install
 * (dpx_check_supported()) and, should one reach the executor anyway,
 * dropped with DP_DROP_UNSUPPORTED.
 *
 * Design
 * ======
 *
 * The executor knows nothing of ports, flow tables or queues: what leaves
 * the action list goes through the callbacks in 'struct dpx_env', which the
 * datapath fills (dp/dp.c) and tests fill with recorders.  That keeps it
 * testable on its own, byte for byte against scapy-made golden packets.
 *
 *   - output(port): the batch goes to env->output.  A packet is copied only
 *     if actions follow the output that could still use it; the last
 *     output of a list hands the packets themselves.  trunc() is applied
 *     before (output gets at most cutlen bytes, with cutlen 0), and an
 *     output consumes the trunc() before it, as in the kernel.
 *   - userspace(): env->upcall sees the packet (trunc()ated if a trunc()
 *     came before), the flow key of its current headers, and the parsed
 *     action; the original goes on, or, if userspace() was the last
 *     action, is consumed (delivered, not dropped, as in the kernel).
 *   - recirc(id): the packets, with md.recirc_id = id, go to env->recirc,
 *     which looks them up again; the list ends there for them (the kernel
 *     allows actions after recirc on a copy: we do the same, copying only
 *     when actions follow).  Beyond DPX_MAX_RECIRC passes they are dropped
 *     (DP_DROP_RECIRC_DEPTH).
 *   - The list is walked once per batch, each action applied to every
 *     packet before the next action.  Nested lists (sample, clone,
 *     check_pkt_len, dec_ttl) run on copies, or on the packets themselves
 *     when the action is the last of its list.
 *   - Header edits keep the packet's header offsets and its flow key
 *     current where later actions need them (set, hash, userspace,
 *     check_pkt_len, recirc all see the edited packet).
 *   - Checksums: set(ipv4) updates the IPv4 header checksum and the L4
 *     checksum incrementally; set(tcp/udp) updates the L4 checksum (UDP
 *     checksum 0 stays 0); set(ipv6) addresses update the L4 checksum;
 *     set(sctp) recomputes the CRC32c.
 *   - Every packet that ends without output counts once under a
 *     'struct dp_drop_reason' through env->drop: DP_DROP_ACTION_DROP at
 *     the end of a list, DP_DROP_MALFORMED when an action needs a header
 *     the packet lacks (the kernel fails the action and drops), ...  Two
 *     ends are not drops, as in the kernel: a packet consumed by a last
 *     userspace(), and a sample() copy whose list ends.
 *   - After pop_eth (or add_mpls without the L3 flag) a packet has no
 *     Ethernet header; its key says so (mac_proto FKEY_MAC_NONE, eth_type
 *     the L3 protocol), and so does its metadata (md.l3_type), which
 *     recirc() passes on: the next pass parses it as an L3 packet, as the
 *     kernel does.  Every port is Ethernet, so outputting such a packet
 *     drops it (DP_DROP_NO_ETHERNET); push_eth makes it a frame again.
 *
 * Thread-safety
 * =============
 *
 * Reentrant; the environment's callbacks run on the calling thread.
 *
 * Ownership
 * =========
 *
 * dpx_execute() consumes every packet of the batch: each is output,
 * recirculated, consumed by a last userspace() or dropped (freed,
 * counted).
 */

#include <stddef.h>
#include <stdint.h>

#include "dp/drop.h"

struct act_userspace;
struct errbuf;
struct flow_key;
struct nlattr;
struct packet;
struct pkt_batch;

/* Deepest nesting of recirculation passes for one packet. */
#define DPX_MAX_RECIRC 6

/* What leaves the action list; filled by the caller. */
struct dpx_env {
    void *aux;                          /* Passed to every callback. */

    /* Transmits 'batch' on datapath port 'port'.  Consumes the packets
     * (sends, or drops and counts them itself).  trunc() has been applied:
     * every packet's cutlen is 0. */
    void (*output)(void *aux, uint32_t port, struct pkt_batch *batch);

    /* Queues an "action" upcall for 'p' (the callee copies what it keeps;
     * 'p' stays the caller's and may be a truncated view of a packet),
     * whose current flow key is 'key', for the userspace() action 'u';
     * 'actions'/'actions_len' are the action list being executed (the
     * nested one inside sample(), clone(), ..., as the kernel sends it)
     * when u->include_actions is set, else NULL/0.
     * Returns 0, or a negative errno if the upcall was lost (the callee
     * counts it). */
    int (*upcall)(void *aux, const struct packet *p,
                  const struct flow_key *key, const struct act_userspace *u,
                  const void *actions, size_t actions_len);

    /* Looks up and processes again the packets of 'batch', whose
     * md.recirc_id is set, at recirculation depth 'depth' (1 for the first
     * recirculation).  Consumes the packets. */
    void (*recirc)(void *aux, struct pkt_batch *batch, int depth);

    /* Counts 'n' packets dropped for 'reason'.  The executor has freed
     * them. */
    void (*drop)(void *aux, enum dp_drop_reason reason, uint32_t n);

    /* Returns a pseudo-random 32-bit value (sample()).  Per thread. */
    uint32_t (*random)(void *aux);

    int depth;                          /* Recirculation depth, 0 first. */
};

/* Runs the action list 'acts' ('len' bytes, validated by act_validate())
 * on every packet of 'batch'.  Each packet must have been parsed
 * (packet_parse(), so at least 14 bytes) and 'keys[i]' be the flow key of
 * 'batch->pkts[i]', its metadata equal to the packet's 'md'; keys may be
 * edited.  An empty list drops every packet (DP_DROP_ACTION_DROP).
 * Drops are reported through env->drop once per reason, at the end.
 * Context: the calling thread owns the batch.
 * Ownership: consumes every packet of 'batch'; 'batch' is empty after. */
void dpx_execute(const struct dpx_env *env, struct pkt_batch *batch,
                 struct flow_key *keys, const void *acts, size_t len);

/* Checks that every action in the validated list 'acts' (recursively) is
 * one this build executes.
 * Returns: 0, or -EOPNOTSUPP with the action's name in 'err' ("ct action
 * is not supported by this datapath yet"). */
int dpx_check_supported(const void *acts, size_t len, struct errbuf *err);

#endif /* dp/execute.h */
