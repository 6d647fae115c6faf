/* SPDX-License-Identifier: Apache-2.0 */
#include "dp/emc.h"

#include <stdlib.h>
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "dp/flow-table.h"

/* Slot numbers are stored plus one, so that 0 marks a free way. */
struct emc_bucket {
    uint32_t hash[EMC_WAYS];
    uint32_t slot1[EMC_WAYS];           /* Flow's dump slot + 1; 0 free. */
};

_Static_assert(sizeof(struct emc_bucket) == 64, "one cache line");

struct emc {
    uint32_t inv_prob;
    uint32_t rng;                       /* xorshift32 state. */
    struct emc_bucket *b;               /* [EMC_BUCKETS], line-aligned. */
};

struct emc *
emc_create(uint32_t inv_prob)
{
    struct emc *emc = calloc(1, sizeof *emc);

    if (!emc) {
        return NULL;
    }
    emc->b = aligned_alloc(64, EMC_BUCKETS * sizeof *emc->b);
    if (!emc->b) {
        free(emc);
        return NULL;
    }
    emc->inv_prob = inv_prob ? inv_prob : EMC_DEFAULT_INV_PROB;
    emc->rng = 0x9e3779b9u;
    emc_clear(emc);
    return emc;
}

void
emc_destroy(struct emc *emc)
{
    if (emc) {
        free(emc->b);
        free(emc);
    }
}

void
emc_clear(struct emc *emc)
{
    memset(emc->b, 0, EMC_BUCKETS * sizeof *emc->b);
}

uint32_t
emc_hash(const struct flow_key *key)
{
    return (uint32_t) XXH3_64bits(key, FKEY_OFS_RESERVED);
}

static inline struct emc_bucket *
bucket(const struct emc *emc, uint32_t hash)
{
    return &emc->b[hash % EMC_BUCKETS];
}

void
emc_prefetch(const struct emc *emc, uint32_t hash)
{
    __builtin_prefetch(bucket(emc, hash));
}

struct dp_flow *
emc_lookup(const struct emc *emc, const struct ftbl *t,
           const struct flow_key *key, uint32_t hash)
{
    const struct emc_bucket *b = bucket(emc, hash);

    for (uint32_t w = 0; w < EMC_WAYS; w++) {
        if (b->hash[w] == hash && b->slot1[w]) {
            /* The only way with this hash (emc_insert()). */
            struct dp_flow *f = ftbl_slot_get(t, b->slot1[w] - 1);

            return f && ftbl_flow_matches(f, key) ? f : NULL;
        }
    }
    return NULL;
}

size_t
emc_lookup_batch(const struct emc *emc, const struct ftbl *t,
                 const struct flow_key *const keys[], const uint32_t *hashes,
                 size_t n, struct dp_flow *flows[])
{
    uint32_t way[PKT_BATCH_LOOKUP_MAX];
    size_t found = 0;

    /* Three passes, so that the misses of all packets overlap: find the
     * way whose hash matches and prefetch the flow's slot; load the flow
     * pointer and prefetch the flow; check the flow. */
    for (size_t i = 0; i < n; i++) {
        const struct emc_bucket *b = bucket(emc, hashes[i]);

        way[i] = EMC_WAYS;
        flows[i] = NULL;
        for (uint32_t w = 0; w < EMC_WAYS; w++) {
            if (b->hash[w] == hashes[i] && b->slot1[w]) {
                way[i] = w;
                ftbl_slot_prefetch(t, b->slot1[w] - 1);
                break;
            }
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (way[i] < EMC_WAYS) {
            const struct emc_bucket *b = bucket(emc, hashes[i]);

            flows[i] = ftbl_slot_get(t, b->slot1[way[i]] - 1);
            if (flows[i]) {
                __builtin_prefetch(flows[i]);
                __builtin_prefetch(flows[i]->mkey);
            }
        }
    }
    for (size_t i = 0; i < n; i++) {
        /* A bucket holds a hash at most once (emc_insert()), so a way
         * that does not match is the only candidate: a miss. */
        if (flows[i] && !ftbl_flow_matches(flows[i], keys[i])) {
            flows[i] = NULL;
        }
        found += flows[i] != NULL;
    }
    return found;
}

void
emc_insert(struct emc *emc, uint32_t hash, const struct dp_flow *flow)
{
    struct emc_bucket *b = bucket(emc, hash);
    uint32_t slot1 = flow->slot + 1;
    uint32_t x;

    for (uint32_t w = 0; w < EMC_WAYS; w++) {
        if (!b->slot1[w] || b->hash[w] == hash) {
            /* A free way, or the way this key used before. */
            b->hash[w] = hash;
            b->slot1[w] = slot1;
            return;
        }
    }
    /* Full: replace one way, one time in 'inv_prob' (xorshift32). */
    x = emc->rng;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    emc->rng = x;
    if (emc->inv_prob <= 1 || x % emc->inv_prob == 0) {
        uint32_t w = (x >> 16) % EMC_WAYS;

        b->hash[w] = hash;
        b->slot1[w] = slot1;
    }
}
