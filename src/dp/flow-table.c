/* SPDX-License-Identifier: Apache-2.0 */
#include "dp/flow-table.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dp/dp.h"

/* Subtables in probe order, replaced as a whole. */
struct ftbl_pvec {
    struct qsbr_head rcu;
    uint32_t n;
    struct ftbl_subtable *st[];
};

/* Flows by dump slot, replaced (grown) as a whole. */
struct ftbl_slots {
    struct qsbr_head rcu;
    uint32_t cap;
    _Atomic(struct dp_flow *) f[];
};

struct ftbl {
    _Atomic(struct ftbl_pvec *) pvec;
    _Atomic(struct ftbl_slots *) slots;
    struct findex ufids;                /* UFID flows by UFID hash. */
    uint32_t n_slots;                   /* Statistics slots per flow. */
    _Atomic uint32_t n_flows;           /* Written by the writer only. */
    _Atomic uint32_t n_masks;
    uint64_t *slot_used;                /* Bitmap of used dump slots. */
    uint32_t slot_low;                  /* No free slot below this. */
};

static inline const ftbl_key_word *
key_words(const struct flow_key *key)
{
    return (const ftbl_key_word *) (const void *) key;
}

/* Hashing of masked words: a multiply-xorshift step per word and a final
 * avalanche.  Cheap (a few cycles per word), and every input bit reaches
 * the low bits the index uses. */
static inline uint64_t
mhash_add(uint64_t h, uint64_t w)
{
    h ^= w;
    h *= 0x9e3779b97f4a7c15ULL;
    return h ^ (h >> 32);
}

static inline uint32_t
mhash_finish(uint64_t h)
{
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 32;
    return (uint32_t) h;
}

/* Computes the 'n' masked words of 'key' (words[i] masked with
 * mwords[i]) into 'out' and returns their hash.  The one definition of a
 * masked key and its hash, for flows and probes alike. */
static inline uint32_t
mask_key(const uint8_t *words, const uint64_t *mwords, uint32_t n,
         const struct flow_key *key, uint64_t *out)
{
    const ftbl_key_word *kw = key_words(key);
    uint64_t h = n;

    for (uint32_t i = 0; i < n; i++) {
        uint64_t w = kw[words[i]] & mwords[i];

        out[i] = w;
        h = mhash_add(h, w);
    }
    return mhash_finish(h);
}

static inline uint32_t
subtable_mask_key(const struct ftbl_subtable *st, const struct flow_key *key,
                  uint64_t *out)
{
    return mask_key(st->words, st->mwords, st->n_words, key, out);
}

static inline bool
mkey_equal(const uint64_t *a, const uint64_t *b, uint32_t n)
{
    uint64_t diff = 0;

    for (uint32_t i = 0; i < n; i++) {
        diff |= a[i] ^ b[i];
    }
    return !diff;
}

/* Looks up the masked words 'mk' (hash 'hash') in 'st'. */
static inline struct dp_flow *
subtable_find(const struct ftbl_subtable *st, const uint64_t *mk,
              uint32_t hash)
{
    struct findex_probe pr;
    struct dp_flow *f;

    findex_probe_start(&st->index, hash, &pr);
    while ((f = findex_probe_next(&pr))) {
        if (f->hash == hash && mkey_equal(f->mkey, mk, st->n_words)) {
            return f;
        }
    }
    return NULL;
}

static struct ftbl_pvec *
pvec_alloc(uint32_t n)
{
    struct ftbl_pvec *pv = malloc(sizeof *pv + n * sizeof pv->st[0]);

    if (pv) {
        pv->n = n;
    }
    return pv;
}

static void
pvec_free_cb(struct qsbr_head *h)
{
    free(QSBR_OBJ(h, struct ftbl_pvec, rcu));
}

static void
slots_free_cb(struct qsbr_head *h)
{
    free(QSBR_OBJ(h, struct ftbl_slots, rcu));
}

static void actions_free(struct ftbl_actions *a);

static void
actions_free_cb(struct qsbr_head *h)
{
    actions_free(QSBR_OBJ(h, struct ftbl_actions, rcu));
}

struct ftbl *
ftbl_create(uint32_t n_slots)
{
    struct ftbl *t = calloc(1, sizeof *t);
    struct ftbl_slots *slots;
    struct ftbl_pvec *pv;

    if (!t) {
        return NULL;
    }
    t->n_slots = n_slots ? n_slots : 1;
    pv = pvec_alloc(0);
    slots = calloc(1, sizeof *slots + 64 * sizeof slots->f[0]);
    t->slot_used = calloc(1, sizeof(uint64_t));
    if (!pv || !slots || !t->slot_used || findex_init(&t->ufids)) {
        free(pv);
        free(slots);
        free(t->slot_used);
        free(t);
        return NULL;
    }
    slots->cap = 64;
    atomic_init(&t->pvec, pv);
    atomic_init(&t->slots, slots);
    return t;
}

static void subtable_unref(struct ftbl_subtable *st);

static void
actions_free(struct ftbl_actions *a)
{
    if (a && !a->embedded) {
        free(a);
    }
}

static void
flow_free(struct dp_flow *flow)
{
    actions_free(atomic_load_explicit(&flow->actions, memory_order_relaxed));
    if (flow->subtable) {
        subtable_unref((struct ftbl_subtable *) flow->subtable);
    }
    free(flow);
}

void
ftbl_destroy(struct ftbl *t)
{
    struct ftbl_slots *slots;
    struct ftbl_pvec *pv;

    if (!t) {
        return;
    }
    slots = atomic_load_explicit(&t->slots, memory_order_relaxed);
    pv = atomic_load_explicit(&t->pvec, memory_order_relaxed);
    for (uint32_t i = 0; i < slots->cap; i++) {
        struct dp_flow *f = atomic_load_explicit(&slots->f[i],
                                                 memory_order_relaxed);
        if (f) {
            flow_free(f);
        }
    }
    for (uint32_t i = 0; i < pv->n; i++) {
        subtable_unref(pv->st[i]);
    }
    free(pv);
    free(slots);
    findex_uninit(&t->ufids);
    free(t->slot_used);
    free(t);
}

uint32_t
ftbl_count(const struct ftbl *t)
{
    return atomic_load_explicit(&t->n_flows, memory_order_relaxed);
}

uint32_t
ftbl_count_masks(const struct ftbl *t)
{
    return atomic_load_explicit(&t->n_masks, memory_order_relaxed);
}

/* Fills the word list of a subtable for 'mask'.  Returns the count. */
static uint32_t
mask_words(const struct flow_mask *mask, uint8_t *words, uint64_t *mwords)
{
    const ftbl_key_word *mw = key_words(&mask->bits);
    uint32_t n = 0;

    for (uint32_t i = 0; i < FKEY_WORDS; i++) {
        if (mw[i]) {
            words[n] = (uint8_t) i;
            mwords[n] = mw[i];
            n++;
        }
    }
    return n;
}

_Static_assert(offsetof(struct ftbl_actions, data) % 8 == 0,
               "action lists must be aligned for netlink attributes");

static struct ftbl_actions *
actions_create(const void *acts, size_t len)
{
    struct ftbl_actions *a = malloc(sizeof *a + len);

    if (a) {
        a->len = (uint32_t) len;
        a->embedded = 0;
        if (len) {
            memcpy(a->data, acts, len);
        }
    }
    return a;
}

/* Rounds 'x' up to a multiple of 'a' (a power of 2). */
static size_t
align_up(size_t x, size_t a)
{
    return (x + a - 1) & ~(a - 1);
}

struct dp_flow *
ftbl_flow_create(struct ftbl *t, const struct flow_key *key,
                 const struct flow_mask *mask, const struct ufid *ufid,
                 const void *acts, size_t len)
{
    uint8_t words[FKEY_WORDS];
    uint64_t mwords[FKEY_WORDS];
    uint32_t n = mask_words(mask, words, mwords);
    size_t acts_ofs = sizeof(struct dp_flow) + n * sizeof(uint64_t);
    size_t stats_ofs = align_up(acts_ofs + sizeof(struct ftbl_actions) + len,
                                8);
    size_t cold_ofs = align_up(stats_ofs + t->n_slots
                               * sizeof(struct ftbl_stats_slot), 8);
    size_t size = align_up(cold_ofs + sizeof(struct dp_flow_cold), 64);
    struct dp_flow *f = aligned_alloc(64, size);
    struct ftbl_actions *a;

    if (!f) {
        return NULL;
    }
    memset(f, 0, size);
    a = (struct ftbl_actions *) (void *) ((char *) f + acts_ofs);
    a->len = (uint32_t) len;
    a->embedded = 1;
    if (len) {
        memcpy(a->data, acts, len);
    }
    atomic_init(&f->actions, a);
    f->stats = (struct ftbl_stats_slot *) (void *) ((char *) f + stats_ofs);
    f->cold = (struct dp_flow_cold *) (void *) ((char *) f + cold_ofs);
    f->cold->flow = f;
    f->hash = mask_key(words, mwords, n, key, f->mkey);
    f->cold->key = *key;
    if (ufid && ufid->len) {
        f->has_ufid = true;
        f->cold->ufid = *ufid;
        f->ufid_hash = ufid_hash(ufid, 0);
    }
    /* 'subtable' stays NULL until insertion. */
    return f;
}

void
ftbl_flow_discard(struct ftbl *t, struct dp_flow *flow)
{
    (void) t;
    if (flow) {
        flow_free(flow);
    }
}

/* ---- Subtables. ---- */

static void
subtable_free(struct ftbl_subtable *st)
{
    findex_uninit(&st->index);
    free(st);
}

static void
subtable_unref(struct ftbl_subtable *st)
{
    /* Release/acquire: the last unref sees every earlier access. */
    if (atomic_fetch_sub_explicit(&st->refcnt, 1,
                                  memory_order_acq_rel) == 1) {
        subtable_free(st);
    }
}

static void
subtable_unrank_cb(struct qsbr_head *h)
{
    subtable_unref(QSBR_OBJ(h, struct ftbl_subtable, rcu));
}

static struct ftbl_subtable *
subtable_find_mask(const struct ftbl_pvec *pv, const struct flow_mask *mask)
{
    for (uint32_t i = 0; i < pv->n; i++) {
        if (!memcmp(&pv->st[i]->mask, mask, sizeof *mask)) {
            return pv->st[i];
        }
    }
    return NULL;
}

/* Publishes 'pv' and frees the old array after a grace period. */
static void
pvec_publish(struct ftbl *t, struct ftbl_pvec *pv)
{
    struct ftbl_pvec *old = atomic_load_explicit(&t->pvec,
                                                 memory_order_relaxed);

    /* Release: readers that load the array with acquire see its
     * entries and the subtables they point to fully built. */
    atomic_store_explicit(&t->pvec, pv, memory_order_release);
    atomic_store_explicit(&t->n_masks, pv->n, memory_order_relaxed);
    qsbr_defer(&old->rcu, pvec_free_cb);
}

static struct ftbl_subtable *
subtable_create(struct ftbl *t, const struct flow_mask *mask)
{
    struct ftbl_pvec *old = atomic_load_explicit(&t->pvec,
                                                 memory_order_relaxed);
    struct ftbl_subtable *st = aligned_alloc(64, (sizeof *st + 63)
                                                 & ~(size_t) 63);
    struct ftbl_pvec *pv;

    if (!st) {
        return NULL;
    }
    memset(st, 0, sizeof *st);
    st->mask = *mask;
    st->n_words = mask_words(mask, st->words, st->mwords);
    atomic_init(&st->refcnt, 1);
    pv = pvec_alloc(old->n + 1);
    if (!pv || findex_init(&st->index)) {
        free(pv);
        free(st);
        return NULL;
    }
    /* New subtables go last: they have no hits yet. */
    memcpy(pv->st, old->st, old->n * sizeof pv->st[0]);
    pv->st[old->n] = st;
    pvec_publish(t, pv);
    return st;
}

/* Takes the empty subtable 'st' out of the probe order. */
static void
subtable_unlink(struct ftbl *t, struct ftbl_subtable *st)
{
    struct ftbl_pvec *old = atomic_load_explicit(&t->pvec,
                                                 memory_order_relaxed);
    struct ftbl_pvec *pv = pvec_alloc(old->n - 1);
    uint32_t j = 0;

    if (!pv) {
        /* Out of memory: an empty subtable costs probes, not
         * correctness.  The next ftbl_rerank_locked() that can allocate
         * takes it out. */
        return;
    }
    for (uint32_t i = 0; i < old->n; i++) {
        if (old->st[i] != st) {
            pv->st[j++] = old->st[i];
        }
    }
    pvec_publish(t, pv);
    qsbr_defer(&st->rcu, subtable_unrank_cb);
}

/* ---- Dump slots. ---- */

/* Reserves the lowest free slot number for 'flow' (growing the array if
 * needed) and sets flow->slot; slot_publish() then makes it visible.
 * Returns 0 or -ENOMEM. */
static int
slot_alloc(struct ftbl *t, struct dp_flow *flow)
{
    struct ftbl_slots *slots = atomic_load_explicit(&t->slots,
                                                    memory_order_relaxed);
    uint32_t i = t->slot_low;

    while (i < slots->cap && (t->slot_used[i / 64] & (1ULL << (i % 64)))) {
        i++;
        if (!(i % 64)) {
            while (i < slots->cap && t->slot_used[i / 64] == UINT64_MAX) {
                i += 64;
            }
        }
    }
    if (i >= slots->cap) {
        uint32_t cap = slots->cap * 2;
        struct ftbl_slots *ns = calloc(1, sizeof *ns + cap * sizeof ns->f[0]);
        uint64_t *used = realloc(t->slot_used, cap / 64 * sizeof *used);

        if (used) {
            t->slot_used = used;
        }
        if (!ns || !used) {
            free(ns);
            return -ENOMEM;
        }
        memset(used + slots->cap / 64, 0, slots->cap / 64 * sizeof *used);
        ns->cap = cap;
        for (uint32_t k = 0; k < slots->cap; k++) {
            atomic_init(&ns->f[k], atomic_load_explicit(
                            &slots->f[k], memory_order_relaxed));
        }
        /* Release: publishes the copied pointers. */
        atomic_store_explicit(&t->slots, ns, memory_order_release);
        qsbr_defer(&slots->rcu, slots_free_cb);
        slots = ns;
        i = slots->cap / 2;
    }
    t->slot_used[i / 64] |= 1ULL << (i % 64);
    t->slot_low = i + 1;
    flow->slot = i;
    return 0;
}

/* Makes 'flow', whose slot slot_alloc() reserved, visible to dumps and to
 * the exact-match cache. */
static void
slot_publish(struct ftbl *t, struct dp_flow *flow)
{
    struct ftbl_slots *slots = atomic_load_explicit(&t->slots,
                                                    memory_order_relaxed);

    /* Release: the flow is fully built before a reader can see it. */
    atomic_store_explicit(&slots->f[flow->slot], flow, memory_order_release);
}

static void
slot_free(struct ftbl *t, struct dp_flow *flow)
{
    struct ftbl_slots *slots = atomic_load_explicit(&t->slots,
                                                    memory_order_relaxed);
    uint32_t i = flow->slot;

    atomic_store_explicit(&slots->f[i], NULL, memory_order_relaxed);
    t->slot_used[i / 64] &= ~(1ULL << (i % 64));
    if (i < t->slot_low) {
        t->slot_low = i;
    }
}

uint64_t
ftbl_slot_claim(const struct ftbl *t, _Atomic uint64_t *cursor, uint32_t n)
{
    const struct ftbl_slots *slots = atomic_load_explicit(
        &t->slots, memory_order_acquire);
    uint64_t pos = atomic_fetch_add_explicit(cursor, n,
                                             memory_order_relaxed);

    return pos < slots->cap ? pos : UINT64_MAX;
}

struct dp_flow *
ftbl_slot_get(const struct ftbl *t, uint64_t slot)
{
    const struct ftbl_slots *slots = atomic_load_explicit(
        &t->slots, memory_order_acquire);

    if (slot >= slots->cap) {
        return NULL;
    }
    return atomic_load_explicit(&slots->f[slot], memory_order_acquire);
}

void
ftbl_slot_prefetch(const struct ftbl *t, uint64_t slot)
{
    const struct ftbl_slots *slots = atomic_load_explicit(
        &t->slots, memory_order_acquire);

    if (slot < slots->cap) {
        __builtin_prefetch(&slots->f[slot]);
    }
}

struct dp_flow *
ftbl_slot_next(const struct ftbl *t, uint64_t *pos)
{
    const struct ftbl_slots *slots = atomic_load_explicit(
        &t->slots, memory_order_acquire);

    for (uint64_t i = *pos; i < slots->cap; i++) {
        struct dp_flow *f = atomic_load_explicit(&slots->f[i],
                                                 memory_order_acquire);
        if (f) {
            *pos = i + 1;
            return f;
        }
    }
    *pos = slots->cap;
    return NULL;
}

/* ---- Flows. ---- */

static void
flow_free_cb(struct qsbr_head *h)
{
    flow_free(QSBR_OBJ(h, struct dp_flow_cold, rcu)->flow);
}

int
ftbl_insert_locked(struct ftbl *t, struct dp_flow *flow,
                   const struct flow_mask *mask)
{
    struct ftbl_pvec *pv = atomic_load_explicit(&t->pvec,
                                                memory_order_relaxed);
    struct ftbl_subtable *st = subtable_find_mask(pv, mask);
    bool created = false;
    int error;

    if (!st) {
        st = subtable_create(t, mask);
        if (!st) {
            return -ENOMEM;
        }
        created = true;
    }
    /* Complete the flow (subtable, slot number) and reserve room in both
     * indexes before anything publishes it: once readers can see the
     * flow, nothing can fail, so a failed insert was never visible. */
    flow->subtable = st;
    atomic_fetch_add_explicit(&st->refcnt, 1, memory_order_relaxed);
    error = findex_reserve_locked(&st->index);
    if (!error && flow->has_ufid) {
        error = findex_reserve_locked(&t->ufids);
    }
    if (!error) {
        error = slot_alloc(t, flow);
    }
    if (error) {
        goto err_subtable;
    }
    if (findex_insert_locked(&st->index, flow->hash, flow)
        || (flow->has_ufid
            && findex_insert_locked(&t->ufids, flow->ufid_hash, flow))) {
        abort();                /* Reserved above: cannot happen. */
    }
    slot_publish(t, flow);
    atomic_store_explicit(&t->n_flows, ftbl_count(t) + 1,
                          memory_order_relaxed);
    return 0;

err_subtable:
    flow->subtable = NULL;
    atomic_fetch_sub_explicit(&st->refcnt, 1, memory_order_relaxed);
    if (created) {
        subtable_unlink(t, st);
    }
    return error;
}

void
ftbl_remove_locked(struct ftbl *t, struct dp_flow *flow)
{
    struct ftbl_subtable *st = (struct ftbl_subtable *) flow->subtable;

    findex_remove_locked(&st->index, flow->hash, flow);
    if (flow->has_ufid) {
        findex_remove_locked(&t->ufids, flow->ufid_hash, flow);
    }
    slot_free(t, flow);
    atomic_store_explicit(&t->n_flows, ftbl_count(t) - 1,
                          memory_order_relaxed);
    if (!findex_count(&st->index)) {
        subtable_unlink(t, st);
    }
    qsbr_defer(&flow->cold->rcu, flow_free_cb);
}

void
ftbl_flush_locked(struct ftbl *t)
{
    uint64_t pos = 0;
    struct dp_flow *f;

    while ((f = ftbl_slot_next(t, &pos))) {
        ftbl_remove_locked(t, f);
    }
}

int
ftbl_set_actions_locked(struct dp_flow *flow, const void *acts, size_t len)
{
    struct ftbl_actions *a = actions_create(acts, len);
    struct ftbl_actions *old;

    if (!a) {
        return -ENOMEM;
    }
    /* Release: packet threads load the list with acquire. */
    old = atomic_exchange_explicit(&flow->actions, a, memory_order_acq_rel);
    if (!old->embedded) {
        qsbr_defer(&old->rcu, actions_free_cb);
    }
    /* An embedded list lives as long as its flow, which outlives every
     * reader that could still hold the list. */
    return 0;
}

struct dp_flow *
ftbl_find_ufid(const struct ftbl *t, const struct ufid *ufid)
{
    uint32_t hash = ufid_hash(ufid, 0);
    struct findex_probe pr;
    struct dp_flow *f;

    findex_probe_start(&t->ufids, hash, &pr);
    while ((f = findex_probe_next(&pr))) {
        if (f->ufid_hash == hash && ufid_equal(&f->cold->ufid, ufid)) {
            return f;
        }
    }
    return NULL;
}

struct dp_flow *
ftbl_find_key(const struct ftbl *t, const struct flow_key *key)
{
    const struct ftbl_pvec *pv = atomic_load_explicit(&t->pvec,
                                                      memory_order_acquire);

    for (uint32_t i = 0; i < pv->n; i++) {
        const struct ftbl_subtable *st = pv->st[i];
        uint64_t mk[FKEY_WORDS];
        uint32_t hash = subtable_mask_key(st, key, mk);
        struct dp_flow *f = subtable_find(st, mk, hash);

        if (f && !f->has_ufid && !memcmp(&f->cold->key, key, sizeof *key)) {
            return f;
        }
    }
    return NULL;
}

struct dp_flow *
ftbl_lookup(const struct ftbl *t, const struct flow_key *key,
            uint32_t *n_mask_hit)
{
    const struct ftbl_pvec *pv = atomic_load_explicit(&t->pvec,
                                                      memory_order_acquire);

    for (uint32_t i = 0; i < pv->n; i++) {
        const struct ftbl_subtable *st = pv->st[i];
        uint64_t mk[FKEY_WORDS];
        uint32_t hash = subtable_mask_key(st, key, mk);
        struct dp_flow *f;

        ++*n_mask_hit;
        f = subtable_find(st, mk, hash);
        if (f) {
            return f;
        }
    }
    return NULL;
}

/* Probes one subtable for the 'n_todo' keys keys[todo[j]], software-
 * pipelined so that the cache misses of all keys overlap: (1) hash and
 * prefetch the index line; (2) find the first matching tag and prefetch
 * the flow its slot points to; (3) compare.
 * A candidate that fails the comparison continues on the ordinary probe
 * path.  Found flows go to flows[todo[j]]; returns how many keys are
 * left, compacted at the front of 'todo'. */
static size_t
subtable_lookup_batch(const struct ftbl_subtable *st,
                      const struct flow_key *const keys[], uint8_t *todo,
                      size_t n_todo, struct dp_flow *flows[],
                      uint64_t *n_hits)
{
    const struct findex_array *a = atomic_load_explicit(
        &st->index.arr, memory_order_acquire);
    uint64_t mk[PKT_BATCH_LOOKUP_MAX][FKEY_WORDS];
    uint32_t hashes[PKT_BATCH_LOOKUP_MAX];
    uint32_t slots[PKT_BATCH_LOOKUP_MAX];
    struct dp_flow *cand[PKT_BATCH_LOOKUP_MAX];
    size_t left = 0;

    for (size_t j = 0; j < n_todo; j++) {
        hashes[j] = subtable_mask_key(st, keys[todo[j]], mk[j]);
        __builtin_prefetch(&a->slots[findex_start(findex_tag(hashes[j]),
                                                 a->mask)]);
    }
    for (size_t j = 0; j < n_todo; j++) {
        uint32_t tag = findex_tag(hashes[j]);

        slots[j] = findex_scan(a, tag, findex_start(tag, a->mask));
        cand[j] = NULL;
        if (slots[j] != UINT32_MAX) {
            cand[j] = findex_slot_get(a, slots[j]);
            if (cand[j]) {
                __builtin_prefetch(cand[j]);
                __builtin_prefetch(cand[j]->mkey);
            }
        }
    }
    for (size_t j = 0; j < n_todo; j++) {
        struct dp_flow *f = cand[j];

        if (!f || f->hash != hashes[j]
            || !mkey_equal(f->mkey, mk[j], st->n_words)) {
            f = NULL;
            if (slots[j] != UINT32_MAX) {
                /* A removed entry or a tag collision: go on probing past
                 * the candidate. */
                struct findex_probe pr = {
                    .arr = a, .tag = findex_tag(hashes[j]),
                    .i = (slots[j] + 1) & a->mask,
                };
                struct dp_flow *g;

                while ((g = findex_probe_next(&pr))) {
                    if (g->hash == hashes[j]
                        && mkey_equal(g->mkey, mk[j], st->n_words)) {
                        f = g;
                        break;
                    }
                }
            }
        }
        if (f) {
            flows[todo[j]] = f;
            ++*n_hits;
        } else {
            todo[left++] = todo[j];
        }
    }
    return left;
}

void
ftbl_lookup_batch(const struct ftbl *t, const struct flow_key *const keys[],
                  size_t n, struct dp_flow *flows[], uint64_t *n_mask_hit)
{
    const struct ftbl_pvec *pv = atomic_load_explicit(&t->pvec,
                                                      memory_order_acquire);
    uint8_t todo[PKT_BATCH_LOOKUP_MAX];
    uint64_t probes = 0;
    size_t n_todo = 0;

    for (size_t i = 0; i < n; i++) {
        if (!flows[i]) {
            todo[n_todo++] = (uint8_t) i;
        }
    }
    for (uint32_t s = 0; s < pv->n && n_todo; s++) {
        struct ftbl_subtable *st = pv->st[s];
        uint64_t hits = 0;

        probes += n_todo;
        n_todo = subtable_lookup_batch(st, keys, todo, n_todo, flows, &hits);
        if (hits) {
            atomic_fetch_add_explicit(&st->hits, hits, memory_order_relaxed);
        }
    }
    *n_mask_hit += probes;
}

void
ftbl_rerank_locked(struct ftbl *t)
{
    struct ftbl_pvec *old = atomic_load_explicit(&t->pvec,
                                                 memory_order_relaxed);
    struct ftbl_pvec *pv;
    bool changed = false;

    for (uint32_t i = 0; i < old->n; i++) {
        struct ftbl_subtable *st = old->st[i];
        uint64_t hits = atomic_exchange_explicit(&st->hits, 0,
                                                 memory_order_relaxed);

        st->score = st->score / 2 + hits;
    }
    pv = pvec_alloc(old->n);
    if (!pv) {
        return;
    }
    /* Empty subtables (left by a subtable_unlink() that ran out of memory)
     * leave the order here. */
    pv->n = 0;
    for (uint32_t i = 0; i < old->n; i++) {
        if (findex_count(&old->st[i]->index)) {
            pv->st[pv->n++] = old->st[i];
        } else {
            qsbr_defer(&old->st[i]->rcu, subtable_unrank_cb);
            changed = true;
        }
    }
    /* Insertion sort, stable, by descending score: few subtables, and
     * usually already in order. */
    for (uint32_t i = 1; i < pv->n; i++) {
        struct ftbl_subtable *st = pv->st[i];
        uint32_t j = i;

        while (j > 0 && pv->st[j - 1]->score < st->score) {
            pv->st[j] = pv->st[j - 1];
            j--;
        }
        if (j != i) {
            pv->st[j] = st;
            changed = true;
        }
    }
    if (changed) {
        pvec_publish(t, pv);
    } else {
        free(pv);
    }
}

void
ftbl_flow_get_stats(const struct ftbl *t, const struct dp_flow *flow,
                    struct dp_flow_stats *stats)
{
    uint32_t gen = atomic_load_explicit(&flow->clear_gen,
                                        memory_order_acquire);

    memset(stats, 0, sizeof *stats);
    for (uint32_t i = 0; i < t->n_slots; i++) {
        const struct ftbl_stats_slot *s = &flow->stats[i];
        uint64_t used;

        /* Acquire: pairs with the release in ftbl_flow_account() that
         * marked the slot current after restarting it. */
        if (atomic_load_explicit(&s->gen, memory_order_acquire) != gen) {
            continue;
        }
        stats->n_packets += atomic_load_explicit(&s->n_packets,
                                                 memory_order_relaxed);
        stats->n_bytes += atomic_load_explicit(&s->n_bytes,
                                               memory_order_relaxed);
        stats->tcp_flags |= atomic_load_explicit(&s->tcp_flags,
                                                 memory_order_relaxed);
        used = atomic_load_explicit(&s->used_ms, memory_order_relaxed);
        if (used > stats->used_ms) {
            stats->used_ms = used;
        }
    }
}

void
ftbl_flow_clear_stats(struct dp_flow *flow)
{
    /* Release: orders nothing the readers need; the generation alone
     * marks every slot stale. */
    atomic_fetch_add_explicit(&flow->clear_gen, 1, memory_order_release);
}
