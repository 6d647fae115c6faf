/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEIR_DP_EMC_H
#define WEIR_DP_EMC_H 1

/* The exact-match cache: per thread, full-key hash -> megaflow.
 *
 * What
 * ====
 *
 * Before the subtables are probed, a packet's flow key is hashed whole
 * and looked up in a per-thread cache of the flows recent packets
 * matched.  A hit costs one hash, one cache line of entries and one check
 * of the flow's masked key, whatever the number of masks; a miss falls
 * through to the subtables.
 *
 * Design
 * ======
 *
 * An entry is 8 bytes: the 32-bit hash of the packet's key and the dump
 * slot number of the flow it matched (dp/flow-table.h).  Eight entries
 * share a 64-byte bucket chosen by the hash, so the cache is eight-way
 * set-associative and holds EMC_ENTRIES (131,072) flows in 1 MiB.
 *
 * Entries are hints, not references.  A hit takes the flow now in that
 * slot and checks that the packet's key matches it under the flow's mask,
 * the same test a subtable probe makes; a flow removed since (slot empty)
 * or replaced by another one that does not match is a miss, and the entry
 * is overwritten later.  Flows do not overlap (seed 004), so any flow in
 * the table that matches the packet is the packet's flow: the check is
 * exact, not probabilistic, and the cache needs no reference counts and
 * no invalidation when flows go away.  That is why it stores no key:
 * OVS's EMC keeps a full key copy per entry (a few hundred bytes); this
 * one fits 40 times more flows in the same memory.
 *
 * Insertion.  A flow found in the subtables goes into a free way of its
 * bucket if there is one.  When the bucket is full, it replaces a way
 * only one time in 'inv_prob' (default 100): with many more active flows
 * than entries, the cache then keeps a stable set instead of evicting on
 * every packet (thrashing), and a flow seen often still gets in soon.
 *
 * Thread-safety
 * =============
 *
 * One cache per thread; only its owner touches it.  emc_lookup() is an
 * RCU read (the flow it returns is valid until the next quiescent state).
 *
 * Ownership
 * =========
 *
 * Plain memory; the cache holds no flow.
 */

#include <stddef.h>
#include <stdint.h>

struct dp_flow;
struct flow_key;
struct ftbl;

#define EMC_WAYS 8u
#define EMC_BUCKETS 16384u
#define EMC_ENTRIES (EMC_WAYS * EMC_BUCKETS)
#define EMC_DEFAULT_INV_PROB 100u

struct emc;

/* Returns a cache that replaces a way one time in 'inv_prob' (0:
 * default; 1: always), or NULL if out of memory. */
struct emc *emc_create(uint32_t inv_prob);

/* Frees the cache (NULL is a no-op). */
void emc_destroy(struct emc *emc);

/* Returns the hash emc_lookup() and emc_insert() want for 'key'. */
uint32_t emc_hash(const struct flow_key *key);

/* Starts loading the bucket for 'hash'. */
void emc_prefetch(const struct emc *emc, uint32_t hash);

/* Returns the flow of table 't' cached for 'key' (hash 'hash') if it
 * still matches 'key', else NULL.  Context: RCU reader. */
struct dp_flow *emc_lookup(const struct emc *emc, const struct ftbl *t,
                           const struct flow_key *key, uint32_t hash);

/* Looks up the 'n' keys 'keys[i]' with hashes 'hashes[i]' at once (the
 * cache misses overlap), setting flows[i] as emc_lookup() would.
 * Returns: the number found.  Context: RCU reader. */
size_t emc_lookup_batch(const struct emc *emc, const struct ftbl *t,
                        const struct flow_key *const keys[],
                        const uint32_t *hashes, size_t n,
                        struct dp_flow *flows[]);

/* Caches 'flow' for keys with 'hash' (see "Insertion" above). */
void emc_insert(struct emc *emc, uint32_t hash, const struct dp_flow *flow);

/* Empties the cache. */
void emc_clear(struct emc *emc);

#endif /* dp/emc.h */
