/* SPDX-License-Identifier: Apache-2.0 */
#include "dp/flow-index.h"

#include <errno.h>
#include <stdlib.h>

#define FINDEX_MIN_CAP 16u

static struct findex_array *
array_create(uint32_t cap)
{
    struct findex_array *a;
    size_t slots_size = (size_t) cap * sizeof *a->slots;

    /* One block: header, then the slots from a cache line boundary, four
     * to a line. */
    size_t hdr = (sizeof *a + 63) & ~(size_t) 63;
    char *block = aligned_alloc(64, hdr + slots_size);

    if (!block) {
        return NULL;
    }
    a = (struct findex_array *) (void *) block;
    a->mask = cap - 1;
    a->slots = (struct findex_slot *) (void *) (block + hdr);
    for (uint32_t i = 0; i < cap; i++) {
        atomic_init(&a->slots[i].tag, 0);
        atomic_init(&a->slots[i].ptr, NULL);
    }
    return a;
}

static void
array_free_cb(struct qsbr_head *h)
{
    free(QSBR_OBJ(h, struct findex_array, rcu));
}

int
findex_init(struct findex *fi)
{
    struct findex_array *a = array_create(FINDEX_MIN_CAP);

    if (!a) {
        return -ENOMEM;
    }
    atomic_init(&fi->arr, a);
    fi->n = 0;
    fi->n_used = 0;
    return 0;
}

void
findex_uninit(struct findex *fi)
{
    free(atomic_load_explicit(&fi->arr, memory_order_relaxed));
    atomic_init(&fi->arr, NULL);
}

void
findex_uninit_deferred(struct findex *fi)
{
    struct findex_array *a = atomic_load_explicit(&fi->arr,
                                                  memory_order_relaxed);

    if (a) {
        qsbr_defer(&a->rcu, array_free_cb);
    }
    atomic_init(&fi->arr, NULL);
}

/* Stores 'p' under 'hash' in the first free slot of its probe sequence.
 * Returns true if the slot had never been used. */
static bool
array_put(struct findex_array *a, uint32_t tag, void *p)
{
    for (uint32_t i = findex_start(tag, a->mask);; i = (i + 1) & a->mask) {
        uint32_t t = atomic_load_explicit(&a->slots[i].tag, memory_order_relaxed);

        if (!t || !atomic_load_explicit(&a->slots[i].ptr, memory_order_relaxed)) {
            /* Release: readers that load this pointer with acquire see
             * the object fully built.  The tag may follow: a reader that
             * sees the new tag before the pointer skips the slot, which
             * only a just-inserted object can suffer. */
            atomic_store_explicit(&a->slots[i].ptr, p, memory_order_release);
            atomic_store_explicit(&a->slots[i].tag, tag, memory_order_release);
            return !t;
        }
    }
}

/* Replaces the array with one of capacity 'cap' holding the live
 * entries, placed by their tags. */
static int
rebuild(struct findex *fi, uint32_t cap)
{
    struct findex_array *old = atomic_load_explicit(&fi->arr,
                                                    memory_order_relaxed);
    struct findex_array *a = array_create(cap);

    if (!a) {
        return -ENOMEM;
    }
    for (uint32_t i = 0; i <= old->mask; i++) {
        void *p = atomic_load_explicit(&old->slots[i].ptr, memory_order_relaxed);

        if (p) {
            array_put(a, atomic_load_explicit(&old->slots[i].tag,
                                              memory_order_relaxed), p);
        }
    }
    /* Release: publishes the filled array to readers. */
    atomic_store_explicit(&fi->arr, a, memory_order_release);
    fi->n_used = fi->n;
    qsbr_defer(&old->rcu, array_free_cb);
    return 0;
}

/* Returns the capacity for 'n' live entries: load between 1/4 and 1/2. */
static uint32_t
capacity_for(uint32_t n)
{
    uint32_t cap = FINDEX_MIN_CAP;

    while (cap < 4 * (uint64_t) n) {
        cap *= 2;
    }
    return cap;
}

int
findex_reserve_locked(struct findex *fi)
{
    struct findex_array *a = atomic_load_explicit(&fi->arr,
                                                  memory_order_relaxed);

    if (2 * ((uint64_t) fi->n_used + 1) > (uint64_t) a->mask + 1) {
        return rebuild(fi, capacity_for(fi->n + 1));
    }
    return 0;
}

int
findex_insert_locked(struct findex *fi, uint32_t hash, void *p)
{
    struct findex_array *a;
    int error = findex_reserve_locked(fi);

    if (error) {
        return error;
    }
    a = atomic_load_explicit(&fi->arr, memory_order_relaxed);
    if (array_put(a, findex_tag(hash), p)) {
        fi->n_used++;
    }
    fi->n++;
    return 0;
}

int
findex_remove_locked(struct findex *fi, uint32_t hash, void *p)
{
    struct findex_array *a = atomic_load_explicit(&fi->arr,
                                                  memory_order_relaxed);
    uint32_t tag = findex_tag(hash);

    for (uint32_t i = findex_start(tag, a->mask);; i = (i + 1) & a->mask) {
        uint32_t t = atomic_load_explicit(&a->slots[i].tag, memory_order_relaxed);

        if (!t) {
            return -ENOENT;
        }
        if (t == tag
            && atomic_load_explicit(&a->slots[i].ptr, memory_order_relaxed) == p) {
            /* Tombstone: the tag stays, so probes keep going past it. */
            atomic_store_explicit(&a->slots[i].ptr, NULL, memory_order_relaxed);
            break;
        }
    }
    fi->n--;
    if (a->mask + 1 > FINDEX_MIN_CAP && 16 * (uint64_t) fi->n < a->mask + 1) {
        /* Shrinking is an optimisation: on -ENOMEM keep the big array. */
        (void) rebuild(fi, capacity_for(fi->n));
    }
    return 0;
}
