/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEIR_DP_EMC_H
#define WEIR_DP_EMC_H 1

/* The exact-match cache: per thread, full flow key -> megaflow.
 *
 * What
 * ====
 *
 * Before the subtables are probed, a packet's whole flow key is looked up
 * in a small per-thread cache of keys seen recently.  A hit costs one
 * hash and one key comparison whatever the number of masks.
 *
 * Design
 * ======
 *
 *   - EMC_ENTRIES entries, two-way: a key may sit in one of two entries
 *     chosen by different bits of its hash.
 *   - The hash covers the key up to the reserved tunnel/conntrack room
 *     (XXH3); the comparison covers the whole key.
 *   - Insertion is probabilistic: a megaflow hit is cached only one time
 *     in 'inv_prob' (default 100), so that under many more flows than
 *     entries the cache keeps a stable set instead of evicting on every
 *     packet (thrashing).  A flow hit often gets in quickly; one seen
 *     once rarely does.  The victim is an entry whose flow is dead, else
 *     the one of the two with the smaller hash (an arbitrary but
 *     deterministic choice).
 *   - An entry holds a reference on its flow (dp/flow-table.h), so the
 *     flow's memory outlives its removal from the table; a hit on a dead
 *     flow counts as a miss and frees the entry.  emc_sweep() frees a few
 *     dead entries per call, so that removed flows do not linger.
 *
 * Thread-safety
 * =============
 *
 * One cache per thread; only its owner touches it.
 *
 * Ownership
 * =========
 *
 * The cache owns references to the flows in it; emc_destroy() drops
 * them.
 */

#include <stdbool.h>
#include <stdint.h>

#include "dp/flow-table.h"

#define EMC_ENTRIES 8192u
#define EMC_DEFAULT_INV_PROB 100u

struct emc_entry {
    struct dp_flow *flow;               /* NULL: free. */
    uint32_t hash;
    struct flow_key key;
};

struct emc {
    uint32_t inv_prob;                  /* Insert one time in this many. */
    uint32_t rng;                       /* xorshift state. */
    uint32_t sweep_pos;
    struct emc_entry e[EMC_ENTRIES];
};

/* Returns a cache that inserts one time in 'inv_prob' (0: default), or
 * NULL if out of memory. */
struct emc *emc_create(uint32_t inv_prob);

/* Drops every reference and frees the cache (NULL is a no-op). */
void emc_destroy(struct emc *emc);

/* Returns the hash emc_lookup() and emc_insert() want for 'key'. */
uint32_t emc_hash(const struct flow_key *key);

/* Returns the live flow cached for 'key', or NULL. */
struct dp_flow *emc_lookup(struct emc *emc, const struct flow_key *key,
                           uint32_t hash);

/* Maybe caches 'flow' for 'key' (see "Insertion" above). */
void emc_insert(struct emc *emc, const struct flow_key *key, uint32_t hash,
                struct dp_flow *flow);

/* Frees up to a few entries whose flows are dead. */
void emc_sweep(struct emc *emc);

/* Empties the cache. */
void emc_clear(struct emc *emc);

#endif /* dp/emc.h */
