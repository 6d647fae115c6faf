/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEIR_DP_FLOW_INDEX_H
#define WEIR_DP_FLOW_INDEX_H 1

/* An RCU hash index: pointers by 32-bit hash, lock-free for readers.
 *
 * What
 * ====
 *
 * 'struct findex' maps a 32-bit hash to the objects stored under it (a
 * multimap: the caller compares the full key of each candidate).  It
 * backs every index of the flow table: one per subtable (flows by masked
 * key hash) and the UFID index.
 *
 * Design
 * ======
 *
 * Open addressing with linear probing over an array of slots, each a
 * 32-bit tag and an object pointer (16 bytes, four to a cache line).  A
 * lookup that misses, which is what most subtable probes do, reads tags
 * in one or two lines and no object; a hit finds its pointer in the line
 * it already read.  That is the reason this is not liburcu's cds_lfht,
 * whose probes walk list nodes (docs/design/flow-table.md).
 *
 *   - A tag is the hash with its low bit set, so 0 means "never used".
 *     Probing stops at a 0 tag.  The start slot comes from the tag's
 *     other bits (findex_start()), so a rebuild can place an entry from
 *     its tag alone.
 *   - Removal leaves the tag and clears the pointer (a tombstone): a
 *     slot that has been used never becomes 0 again, so a reader's probe
 *     sequence for an object that stays in the index is never cut short.
 *   - Insertion reuses the first tombstone or empty slot of the probe
 *     sequence, storing the pointer (release) before the tag.  A reader
 *     that pairs an old tag with a new pointer only sees a candidate that
 *     fails its key comparison.
 *   - When live entries plus tombstones pass half the capacity, or live
 *     entries fall below a sixteenth, the writer builds a new array (live
 *     entries only, load 1/4 to 1/2), publishes it and frees the old one
 *     after a grace period.  Readers on the old array still find every
 *     object that was in it.
 *
 * Thread-safety
 * =============
 *
 * Readers (findex_find_rcu and the iteration) are lock-free RCU readers;
 * writers (_locked) are serialised by the caller's mutex.
 *
 * Ownership
 * =========
 *
 * The index stores pointers; it never frees the objects.
 */

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/rcu.h"

struct findex_slot {
    _Atomic uint32_t tag;               /* 0 = never used. */
    _Atomic(void *) ptr;                /* NULL = free. */
};

struct findex_array {
    struct qsbr_head rcu;
    uint32_t mask;                      /* Capacity - 1 (power of 2). */
    struct findex_slot *slots;          /* [capacity] */
};

struct findex {
    _Atomic(struct findex_array *) arr;
    uint32_t n;                         /* Live entries (writer). */
    uint32_t n_used;                    /* Live + tombstones (writer). */
};

/* Initializes an empty index.  Returns 0 or -ENOMEM. */
int findex_init(struct findex *fi);

/* Frees the index's arrays at once (no reader may be using it). */
void findex_uninit(struct findex *fi);

/* Frees the index's array after a grace period (readers may still be
 * using it); 'fi' itself may be reused after findex_init(). */
void findex_uninit_deferred(struct findex *fi);

/* Adds 'p' under 'hash'.  Returns 0 or -ENOMEM (index unchanged).  Right
 * after a successful findex_reserve_locked() it cannot fail. */
int findex_insert_locked(struct findex *fi, uint32_t hash, void *p);

/* Makes sure that the next insertion needs no allocation, so that a
 * caller can prepare several inserts and then publish them all.
 * Returns: 0, or -ENOMEM (index unchanged). */
int findex_reserve_locked(struct findex *fi);

/* Removes 'p', stored under 'hash'.  Returns 0 or -ENOENT. */
int findex_remove_locked(struct findex *fi, uint32_t hash, void *p);

/* Returns the number of live entries. */
static inline uint32_t
findex_count(const struct findex *fi)
{
    return fi->n;
}

/* A probe in progress. */
struct findex_probe {
    const struct findex_array *arr;
    uint32_t tag;
    uint32_t i;
};

static inline uint32_t
findex_tag(uint32_t hash)
{
    return hash | 1;
}

/* The first slot of the probe sequence for 'tag' in an array of mask
 * 'mask'. */
static inline uint32_t
findex_start(uint32_t tag, uint32_t mask)
{
    return (tag >> 1) & mask;
}

/* Starts a probe for 'hash'.  Context: RCU reader (or the writer). */
static inline void
findex_probe_start(const struct findex *fi, uint32_t hash,
                   struct findex_probe *pr)
{
    /* Acquire: pairs with the release that published the array, so its
     * contents are visible. */
    pr->arr = atomic_load_explicit(&fi->arr, memory_order_acquire);
    pr->tag = findex_tag(hash);
    pr->i = findex_start(pr->tag, pr->arr->mask);
}

/* Returns the index of the first slot at or after 'i' (wrapping) of
 * array 'a' whose tag is 'tag', or UINT32_MAX if a never-used slot comes
 * first.  Reads tags only. */
static inline uint32_t
findex_scan(const struct findex_array *a, uint32_t tag, uint32_t i)
{
    for (;; i = (i + 1) & a->mask) {
        uint32_t t = atomic_load_explicit(&a->slots[i].tag,
                                          memory_order_relaxed);

        if (t == tag) {
            return i;
        }
        if (!t) {
            return UINT32_MAX;
        }
    }
}

/* Returns the object in slot 'i' of 'a' (NULL for a removed one). */
static inline void *
findex_slot_get(const struct findex_array *a, uint32_t i)
{
    /* Acquire: the object's contents were written before the pointer was
     * published with release. */
    return atomic_load_explicit(&a->slots[i].ptr, memory_order_acquire);
}

/* Returns the next object stored under the probe's hash (or a colliding
 * one: compare keys), or NULL when there is none. */
static inline void *
findex_probe_next(struct findex_probe *pr)
{
    for (;;) {
        uint32_t i = findex_scan(pr->arr, pr->tag, pr->i);
        void *p;

        if (i == UINT32_MAX) {
            return NULL;
        }
        pr->i = (i + 1) & pr->arr->mask;
        p = findex_slot_get(pr->arr, i);
        if (p) {
            return p;
        }
    }
}

/* Prefetches the cache line where a probe for 'hash' starts. */
static inline void
findex_prefetch(const struct findex *fi, uint32_t hash)
{
    const struct findex_array *a = atomic_load_explicit(
        &fi->arr, memory_order_acquire);

    __builtin_prefetch(&a->slots[findex_start(findex_tag(hash), a->mask)]);
}

#endif /* dp/flow-index.h */
