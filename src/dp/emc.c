/* SPDX-License-Identifier: Apache-2.0 */
#include "dp/emc.h"

#include <stdlib.h>
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#define EMC_MASK (EMC_ENTRIES - 1)
#define EMC_SWEEP_PER_CALL 4

struct emc *
emc_create(uint32_t inv_prob)
{
    struct emc *emc = aligned_alloc(64, (sizeof *emc + 63) & ~(size_t) 63);

    if (!emc) {
        return NULL;
    }
    memset(emc, 0, sizeof *emc);
    emc->inv_prob = inv_prob ? inv_prob : EMC_DEFAULT_INV_PROB;
    emc->rng = 0x9e3779b9u;
    return emc;
}

static void
entry_free(struct emc_entry *e)
{
    ftbl_flow_unref(e->flow);
    e->flow = NULL;
}

void
emc_clear(struct emc *emc)
{
    for (uint32_t i = 0; i < EMC_ENTRIES; i++) {
        if (emc->e[i].flow) {
            entry_free(&emc->e[i]);
        }
    }
}

void
emc_destroy(struct emc *emc)
{
    if (emc) {
        emc_clear(emc);
        free(emc);
    }
}

uint32_t
emc_hash(const struct flow_key *key)
{
    return (uint32_t) XXH3_64bits(key, FKEY_OFS_RESERVED);
}

static inline bool
entry_dead(const struct emc_entry *e)
{
    return atomic_load_explicit(&e->flow->dead, memory_order_relaxed);
}

struct dp_flow *
emc_lookup(struct emc *emc, const struct flow_key *key, uint32_t hash)
{
    struct emc_entry *ways[2] = {
        &emc->e[hash & EMC_MASK],
        &emc->e[(hash >> 16) & EMC_MASK],
    };

    for (int i = 0; i < 2; i++) {
        struct emc_entry *e = ways[i];

        if (e->flow && e->hash == hash && !memcmp(&e->key, key, sizeof *key)) {
            if (entry_dead(e)) {
                entry_free(e);
                continue;
            }
            return e->flow;
        }
    }
    return NULL;
}

void
emc_insert(struct emc *emc, const struct flow_key *key, uint32_t hash,
           struct dp_flow *flow)
{
    struct emc_entry *a = &emc->e[hash & EMC_MASK];
    struct emc_entry *b = &emc->e[(hash >> 16) & EMC_MASK];
    struct emc_entry *victim;
    uint32_t x = emc->rng;

    /* xorshift32: cheap per-thread randomness for the insertion draw. */
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    emc->rng = x;
    if (emc->inv_prob > 1 && x % emc->inv_prob) {
        return;
    }
    if (b->flow && b->hash == hash && !memcmp(&b->key, key, sizeof *key)) {
        victim = b;             /* Same key: replace, never duplicate. */
    } else if (!a->flow || entry_dead(a)
               || (a->hash == hash && !memcmp(&a->key, key, sizeof *key))) {
        victim = a;
    } else if (!b->flow || entry_dead(b)) {
        victim = b;
    } else {
        victim = a->hash <= b->hash ? a : b;
    }
    if (victim->flow) {
        entry_free(victim);
    }
    ftbl_flow_ref(flow);
    victim->flow = flow;
    victim->hash = hash;
    victim->key = *key;
}

void
emc_sweep(struct emc *emc)
{
    for (int i = 0; i < EMC_SWEEP_PER_CALL; i++) {
        struct emc_entry *e = &emc->e[emc->sweep_pos];

        emc->sweep_pos = (emc->sweep_pos + 1) & EMC_MASK;
        if (e->flow && entry_dead(e)) {
            entry_free(e);
        }
    }
}
