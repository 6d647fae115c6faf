/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEIR_DP_DROP_H
#define WEIR_DP_DROP_H 1

/* Why the datapath dropped a packet: one table for every drop.
 *
 * What
 * ====
 *
 * Every packet the datapath does not forward, queue or hand to userspace
 * is counted under exactly one reason from DP_DROP_REASONS, per thread
 * (struct dp_thread), and summed on read (dp_get_drops()).  The CLI shows
 * them by name.
 *
 * Design
 * ======
 *
 * One X-macro list generates the enum and the names, so adding a reason is
 * one line.  Names are lowercase with underscores, stable: scripts read
 * them.
 */

/* X(enum suffix, name, description) */
#define DP_DROP_REASONS(X)                                                  \
    X(TOO_SHORT, "too_short", "frame shorter than 14 bytes")                \
    X(ACTION_DROP, "action_drop", "flow actions end without output")        \
    X(NO_PORT, "no_port", "output to a port that does not exist")           \
    X(TX_FAILED, "tx_failed", "port failed to transmit")                    \
    X(UPCALL_LOST, "upcall_lost", "upcall could not be queued")             \
    X(TTL_EXPIRED, "ttl_expired", "dec_ttl reached zero")                   \
    X(RECIRC_DEPTH, "recirc_depth", "recirculation too deep")               \
    X(NOMEM, "nomem", "out of memory copying or growing a packet")          \
    X(MALFORMED, "malformed", "action needs a header the packet lacks")     \
    X(NO_ETHERNET, "no_ethernet", "no Ethernet header at output") \
    X(UNSUPPORTED, "unsupported", "action not implemented by this build")

enum dp_drop_reason {
#define DP_DROP_ENUM(E, NAME, DESC) DP_DROP_##E,
    DP_DROP_REASONS(DP_DROP_ENUM)
#undef DP_DROP_ENUM
    DP_N_DROP_REASONS
};

/* Returns the stable name of 'r' ("too_short"), or "unknown". */
const char *dp_drop_name(enum dp_drop_reason r);

/* Returns a one-line description of 'r', or "unknown". */
const char *dp_drop_description(enum dp_drop_reason r);

#endif /* dp/drop.h */
