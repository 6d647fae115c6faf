/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEIR_DP_FLOW_TABLE_H
#define WEIR_DP_FLOW_TABLE_H 1

/* The megaflow table: flows (key + mask + actions) in subtables by mask,
 * a UFID index, dump slots, per-thread statistics.
 *
 * What
 * ====
 *
 * ftbl_lookup_batch() finds, for packets' flow keys, the flow whose
 * masked key equals the packet's key under the flow's mask.  The writer
 * side inserts, finds (by UFID, by unmasked key), removes and flushes
 * flows; dp/dp.c layers the kernel's OVS_FLOW_CMD_* rules on top.
 *
 * Design
 * ======
 *
 * Subtables.  Flows that share a mask live in one subtable.  A mask is
 * reduced to the list of its nonzero 64-bit words (a typical L2-L4
 * megaflow mask has 3 to 8 of the key's words), and a flow stores its
 * masked key in that compact form.  A subtable probe ANDs those words
 * of the packet's key with the mask, hashes them and looks the hash up in
 * the subtable's index (dp/flow-index.h), then compares the words.
 *
 * Ranking.  The subtables are kept in an RCU-published array in order of
 * recent hits; a lookup probes them in that order and stops at the first
 * match (flows must not overlap: seed 004).  Hits are counted per
 * subtable (one relaxed add per batch per subtable that hit) and
 * ftbl_rerank_locked(), which the datapath calls about once a second,
 * sorts by an exponentially decaying hit count and publishes a new array
 * only if the order changed.
 *
 * Identity.  A flow with a UFID is also in the UFID index (its own
 * dp/flow-index.h, sized by the number of UFID flows alone).  A flow
 * without one is found by its unmasked key: probe every subtable with the
 * key, as a packet would, and compare the stored unmasked key (the
 * kernel's ovs_flow_tbl_lookup_exact()).
 *
 * Dumps.  Every flow also owns a slot number in a slot array.  A dump
 * walks the slots in increasing order with an atomic cursor, so a flow
 * present for the whole dump, whose slot never changes, is visited once
 * whatever else is added or removed, by however many threads share the
 * cursor.  Freed slot numbers are reused lowest first, keeping the array
 * dense.
 *
 * Statistics.  Each flow has one statistics slot per datapath thread
 * ('struct dp_thread'), written only by that thread with relaxed atomics
 * and summed on read.  Clearing bumps the flow's generation; a thread
 * that finds its slot's generation stale restarts the slot, and readers
 * ignore stale slots.  So no thread ever writes another thread's slot.
 *
 * Lifetime.  A removed flow is freed after a grace period.  Nothing else
 * holds flows: the exact-match cache (dp/emc.h) keeps slot numbers and
 * checks what it finds there.  A subtable lives until it is out of the
 * probe order and its last flow is freed (a reference count).
 *
 * Thread-safety
 * =============
 *
 * _locked functions run under the datapath's writer mutex; _rcu ones on
 * RCU reader threads, concurrently with the writer.
 *
 * Ownership
 * =========
 *
 * The table owns its flows and subtables.  Pointers returned by lookups
 * are valid until the caller's next quiescent state.
 */

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codec/ufid.h"
#include "dp/flow-index.h"
#include "lib/rcu.h"
#include "packet/flow-key.h"

#define FKEY_WORDS (sizeof(struct flow_key) / 8)

/* Most keys ftbl_lookup_batch() takes at once. */
#define PKT_BATCH_LOOKUP_MAX 32

_Static_assert(sizeof(struct flow_key) % 8 == 0,
               "flow_key must be a whole number of 64-bit words");

/* A flow's action list, replaced as a whole under RCU. */
struct ftbl_actions {
    struct qsbr_head rcu;
    uint32_t len;
    uint32_t embedded;          /* Nonzero: inside its flow's allocation
                                 * (freed with the flow). */
    uint8_t data[];             /* OVS_ACTION_ATTR_* attributes, 8-byte
                                 * aligned (netlink wants 4). */
};

/* One thread's statistics for one flow. */
struct ftbl_stats_slot {
    _Atomic uint64_t n_packets;
    _Atomic uint64_t n_bytes;
    _Atomic uint64_t used_ms;
    _Atomic uint16_t tcp_flags;
    _Atomic uint32_t gen;       /* == flow's clear_gen, or stale. */
};

struct ftbl_subtable {
    uint32_t n_words;                   /* Nonzero words of the mask. */
    uint8_t words[FKEY_WORDS];          /* Their indexes in the key. */
    uint64_t mwords[FKEY_WORDS];        /* Their mask values. */
    struct findex index;                /* Flows by masked-key hash. */
    _Atomic uint64_t hits;              /* Since the last rerank. */
    uint64_t score;                     /* Decayed hits (writer). */
    struct flow_mask mask;              /* The whole mask. */
    _Atomic uint32_t refcnt;            /* Flows + 1 while ranked. */
    struct qsbr_head rcu;
};

/* What a flow needs only for control operations. */
struct dp_flow_cold {
    struct qsbr_head rcu;
    struct dp_flow *flow;
    struct ufid ufid;                   /* If the flow has one. */
    struct flow_key key;                /* As installed (unmasked). */
};

/* A flow is one allocation, laid out for the packet path: this header and
 * the masked key first (one or two cache lines), then the action list it
 * was created with, the statistics slots, and the cold part last. */
struct dp_flow {
    const struct ftbl_subtable *subtable;
    _Atomic(struct ftbl_actions *) actions;
    struct ftbl_stats_slot *stats;      /* [n_slots] */
    struct dp_flow_cold *cold;
    uint32_t hash;                      /* Of the masked key. */
    _Atomic uint32_t clear_gen;         /* Statistics generation. */
    uint32_t slot;                      /* Dump slot. */
    uint32_t ufid_hash;
    bool has_ufid;
    uint64_t mkey[];                    /* Masked key, subtable words. */
};

struct ftbl;

/* Creates a table whose flows have 'n_slots' statistics slots.
 * Returns: the table or NULL. */
struct ftbl *ftbl_create(uint32_t n_slots);

/* Frees the table and every flow at once.  No reader may be running and
 * no cache may hold a flow reference. */
void ftbl_destroy(struct ftbl *t);

uint32_t ftbl_count(const struct ftbl *t);
uint32_t ftbl_count_masks(const struct ftbl *t);

/* Builds (but does not insert) a flow for the unmasked 'key', the
 * installed 'mask' and the action list 'acts' ('len' bytes), with 'ufid'
 * (NULL or len 0 for none).
 * Returns: the flow, or NULL if out of memory. */
struct dp_flow *ftbl_flow_create(struct ftbl *t, const struct flow_key *key,
                                 const struct flow_mask *mask,
                                 const struct ufid *ufid,
                                 const void *acts, size_t len);

/* Frees a flow that ftbl_flow_create() built and that was never
 * inserted. */
void ftbl_flow_discard(struct ftbl *t, struct dp_flow *flow);

/* Inserts 'flow' (from ftbl_flow_create() with the same 'mask') into the
 * subtable for 'mask', creating it if needed.  The caller has checked
 * that no flow has its UFID or its masked key.
 * Returns: 0, or -ENOMEM with no flow added (a subtable made for it may
 * stay, empty, until the next ftbl_rerank_locked()). */
int ftbl_insert_locked(struct ftbl *t, struct dp_flow *flow,
                       const struct flow_mask *mask);

/* Removes 'flow' from every index; it is freed once no reader or cache
 * can reach it. */
void ftbl_remove_locked(struct ftbl *t, struct dp_flow *flow);

/* Removes every flow. */
void ftbl_flush_locked(struct ftbl *t);

/* Replaces the actions of 'flow'; the old list is freed after a grace
 * period.  Returns 0 or -ENOMEM. */
int ftbl_set_actions_locked(struct dp_flow *flow, const void *acts,
                            size_t len);

/* Returns the flow with 'ufid', or NULL.  Context: RCU reader. */
struct dp_flow *ftbl_find_ufid(const struct ftbl *t,
                               const struct ufid *ufid);

/* Returns the flow without UFID whose unmasked key is 'key', or NULL.
 * Context: RCU reader. */
struct dp_flow *ftbl_find_key(const struct ftbl *t,
                              const struct flow_key *key);

/* Returns the flow that matches the packet key 'key', or NULL, adding
 * the number of subtables probed to '*n_mask_hit'.  Counts no hits for
 * ranking (for control-path lookups).  Context: RCU reader. */
struct dp_flow *ftbl_lookup(const struct ftbl *t, const struct flow_key *key,
                            uint32_t *n_mask_hit);

/* For every i < n with flows[i] == NULL, looks up keys[i] and sets
 * flows[i] to the matching flow or leaves it NULL; adds the subtables
 * probed to '*n_mask_hit' and counts hits for ranking.
 * Context: RCU reader (packet threads). */
void ftbl_lookup_batch(const struct ftbl *t,
                       const struct flow_key *const keys[], size_t n,
                       struct dp_flow *flows[], uint64_t *n_mask_hit);

/* Re-ranks the subtables by recent hits (see the essay). */
void ftbl_rerank_locked(struct ftbl *t);

/* Dump: returns the flow in the first used slot >= '*pos', setting '*pos'
 * past it, or NULL at the end.  Context: RCU reader. */
struct dp_flow *ftbl_slot_next(const struct ftbl *t, uint64_t *pos);

/* Claims slot numbers for a shared cursor: returns the first of 'n'
 * consecutive slots taken from '*cursor', or UINT64_MAX when the cursor
 * is past the last slot. */
uint64_t ftbl_slot_claim(const struct ftbl *t, _Atomic uint64_t *cursor,
                         uint32_t n);

/* Returns the flow in slot 'slot', or NULL.  Context: RCU reader. */
struct dp_flow *ftbl_slot_get(const struct ftbl *t, uint64_t slot);

/* Starts loading the entry for slot 'slot'.  Context: RCU reader. */
void ftbl_slot_prefetch(const struct ftbl *t, uint64_t slot);

/* The key as 64-bit words.  may_alias: keys are read through this type
 * in the hash and compare loops. */
typedef uint64_t __attribute__((may_alias)) ftbl_key_word;

/* Returns true if the packet key 'key' matches 'flow' under its mask.
 * Context: RCU reader. */
static inline bool
ftbl_flow_matches(const struct dp_flow *flow, const struct flow_key *key)
{
    const struct ftbl_subtable *st = flow->subtable;
    const ftbl_key_word *kw = (const ftbl_key_word *) (const void *) key;
    uint64_t diff = 0;

    for (uint32_t i = 0; i < st->n_words; i++) {
        diff |= (kw[st->words[i]] & st->mwords[i]) ^ flow->mkey[i];
    }
    return !diff;
}

/* Adds one thread's batch of 'n_packets' and 'n_bytes' to slot 'slot' of
 * 'flow', at 'now_ms', with TCP flags 'tcp_flags'.  Context: the thread
 * that owns 'slot'. */
static inline void
ftbl_flow_account(struct dp_flow *flow, uint32_t slot, uint32_t n_packets,
                  uint32_t n_bytes, uint64_t now_ms, uint16_t tcp_flags)
{
    struct ftbl_stats_slot *s = &flow->stats[slot];
    uint32_t gen = atomic_load_explicit(&flow->clear_gen,
                                        memory_order_relaxed);

    if (atomic_load_explicit(&s->gen, memory_order_relaxed) != gen) {
        /* Cleared since we last wrote: restart the slot, then mark it
         * current.  Release: a reader that sees the new generation (with
         * acquire) sees the restarted counters. */
        atomic_store_explicit(&s->n_packets, n_packets,
                              memory_order_relaxed);
        atomic_store_explicit(&s->n_bytes, n_bytes, memory_order_relaxed);
        atomic_store_explicit(&s->tcp_flags, tcp_flags,
                              memory_order_relaxed);
        atomic_store_explicit(&s->used_ms, now_ms, memory_order_relaxed);
        atomic_store_explicit(&s->gen, gen, memory_order_release);
        return;
    }
    atomic_store_explicit(&s->n_packets,
                          atomic_load_explicit(&s->n_packets,
                                               memory_order_relaxed)
                          + n_packets, memory_order_relaxed);
    atomic_store_explicit(&s->n_bytes,
                          atomic_load_explicit(&s->n_bytes,
                                               memory_order_relaxed)
                          + n_bytes, memory_order_relaxed);
    if (tcp_flags) {
        atomic_store_explicit(&s->tcp_flags,
                              atomic_load_explicit(&s->tcp_flags,
                                                   memory_order_relaxed)
                              | tcp_flags, memory_order_relaxed);
    }
    atomic_store_explicit(&s->used_ms, now_ms, memory_order_relaxed);
}

struct dp_flow_stats;

/* Sums the statistics slots of 'flow' into 'stats'. */
void ftbl_flow_get_stats(const struct ftbl *t, const struct dp_flow *flow,
                         struct dp_flow_stats *stats);

/* Clears the statistics of 'flow' (see the essay). */
void ftbl_flow_clear_stats(struct dp_flow *flow);

/* Returns the flow's installed mask. */
static inline const struct flow_mask *
ftbl_flow_mask(const struct dp_flow *flow)
{
    return &flow->subtable->mask;
}

#endif /* dp/flow-table.h */
