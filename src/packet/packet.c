/* SPDX-License-Identifier: Apache-2.0 */
/* Packet buffers, batches and packet pools.  The layout rules are in
 * packet.h; this file adds three details:
 *
 *   - A packet from packet_create() is one malloc(): the struct, then its
 *     buffer ("inline").  When packet_push() outgrows the headroom, the
 *     new buffer is a separate malloc() and the inline bytes go unused
 *     until packet_free(), which frees whichever buffer is current.
 *   - A pool is one allocation for all its packets, each a struct
 *     followed by its fixed buffer, plus an array used as a LIFO stack of
 *     free packets (the most recently freed packet, still warm in the
 *     cache, is the next one handed out).  Pooled packets never get a
 *     separate buffer: packet_push() fails instead, as packet.h says, so
 *     a pooled packet's memory is always inside its pool.
 *   - The pool's mutex is taken once per pkt_pool_get() and once per
 *     pool per pkt_batch_free(); only packet_free() of a single pooled
 *     packet takes it per packet.
 *   - pkt_pool_destroy() with packets still out (a port closed while its
 *     packets sit in another port's queue) marks the pool dying; the
 *     thread that returns the last packet frees it.  Which thread that is
 *     is decided under the mutex, so exactly one does. */

#include "packet/packet.h"

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(PKT_OFS_NONE == FKEY_OFS_NONE,
               "packet offsets and fkey_layout offsets share NONE");

struct pkt_pool {
    pthread_mutex_t mutex;
    size_t n_free;              /* Packets in 'free'; guarded by 'mutex'. */
    struct packet **free;       /* 'n' slots, LIFO; guarded by 'mutex'. */
    bool dying;                 /* Destroyed; guarded by 'mutex'. */
    size_t n;                   /* Packets owned by the pool. */
    size_t buf_size;            /* Buffer bytes per packet. */
    size_t stride;              /* Bytes from one packet to the next. */
    uint8_t *mem;               /* 'n' * 'stride' bytes of packets. */
};

/* Returns the buffer that follows 'p' in its own allocation. */
static inline uint8_t *
inline_buf(const struct packet *p)
{
    return (uint8_t *) (p + 1);
}

/* Resets 'p''s metadata, offsets and cut length to those of a fresh
 * packet; leaves the bytes and the buffer alone. */
static void
reset_meta(struct packet *p)
{
    memset(&p->md, 0, sizeof p->md);
    p->cutlen = 0;
    p->mpls_ofs = PKT_OFS_NONE;
    p->l3_ofs = PKT_OFS_NONE;
    p->l4_ofs = PKT_OFS_NONE;
    p->seq = 0;
}

struct packet *
packet_create(const void *data, size_t len)
{
    struct packet *p;

    if (len > UINT32_MAX - PKT_HEADROOM
        || len > SIZE_MAX - sizeof *p - PKT_HEADROOM) {
        return NULL;
    }
    p = malloc(sizeof *p + PKT_HEADROOM + len);
    if (!p) {
        return NULL;
    }
    p->buf = inline_buf(p);
    p->alloc_len = (uint32_t) (PKT_HEADROOM + len);
    p->data = p->buf + PKT_HEADROOM;
    p->len = (uint32_t) len;
    if (len) {
        memcpy(p->data, data, len);
    }
    p->pool = NULL;
    reset_meta(p);
    return p;
}

struct packet *
packet_fill(struct packet *p, const void *data, size_t len)
{
    if (len <= p->alloc_len - (size_t) (p->data - p->buf)) {
        memcpy(p->data, data, len);
        p->len = (uint32_t) len;
        return p;
    }
    packet_free(p);
    return packet_create(data, len);
}

struct packet *
packet_clone(const struct packet *p)
{
    struct packet *c = packet_create(p->data, p->len);

    if (c) {
        c->md = p->md;
        c->cutlen = p->cutlen;
        c->mpls_ofs = p->mpls_ofs;
        c->l3_ofs = p->l3_ofs;
        c->l4_ofs = p->l4_ofs;
        c->seq = p->seq;
    }
    return c;
}

static void pool_free(struct pkt_pool *);

/* Puts the 'n' packets in 'pkts', all from 'pool', back on its free
 * stack, and frees the pool if it was destroyed and these were the last
 * ones out. */
static void
pool_put(struct pkt_pool *pool, struct packet **pkts, size_t n)
{
    bool last;

    pthread_mutex_lock(&pool->mutex);
    assert(n <= pool->n - pool->n_free);
    memcpy(&pool->free[pool->n_free], pkts, n * sizeof *pkts);
    pool->n_free += n;
    last = pool->dying && pool->n_free == pool->n;
    pthread_mutex_unlock(&pool->mutex);
    if (last) {
        pool_free(pool);
    }
}

void
packet_free(struct packet *p)
{
    if (!p) {
        return;
    }
    if (p->pool) {
        pool_put(p->pool, &p, 1);
        return;
    }
    if (p->buf != inline_buf(p)) {
        free(p->buf);
    }
    free(p);
}

uint8_t *
packet_push(struct packet *p, size_t n)
{
    size_t headroom = (size_t) (p->data - p->buf);
    size_t tailroom, new_head, new_alloc;
    uint8_t *nb;

    if (n <= headroom) {
        p->data -= n;
        p->len += (uint32_t) n;
        return p->data;
    }
    if (p->pool) {
        return NULL;            /* Fixed buffer (packet.h). */
    }

    /* A new buffer with 'n' bytes in front of the data and PKT_HEADROOM
     * to spare, so that a run of pushes reallocates once.  The tailroom
     * is kept as it was. */
    tailroom = p->alloc_len - headroom - p->len;
    if (n > (size_t) UINT32_MAX - PKT_HEADROOM
        || p->len + tailroom > (size_t) UINT32_MAX - PKT_HEADROOM - n) {
        return NULL;            /* 'alloc_len' would not fit in 32 bits. */
    }
    new_head = PKT_HEADROOM + n;
    new_alloc = new_head + p->len + tailroom;
    nb = malloc(new_alloc);
    if (!nb) {
        return NULL;
    }
    if (p->len) {
        memcpy(nb + new_head, p->data, p->len);
    }
    if (p->buf != inline_buf(p)) {
        free(p->buf);
    }
    p->buf = nb;
    p->alloc_len = (uint32_t) new_alloc;
    p->data = nb + PKT_HEADROOM;
    p->len += (uint32_t) n;
    return p->data;
}

void
packet_pull(struct packet *p, size_t n)
{
    assert(n <= p->len);
    p->data += n;
    p->len -= (uint32_t) n;
}

int
packet_parse(struct packet *p, struct flow_key *key)
{
    struct fkey_layout lo;
    int error;

    error = fkey_extract_layout(p->data, p->len, &p->md, key, &lo);
    p->mpls_ofs = lo.mpls_ofs;
    p->l3_ofs = lo.l3_ofs;
    p->l4_ofs = lo.l4_ofs;
    return error;
}

struct pkt_pool *
pkt_pool_create(size_t n, size_t buf_size)
{
    struct pkt_pool *pool;
    size_t stride;

    /* The buffer holds PKT_HEADROOM and then the frame; alloc_len is 32
     * bits.  Each packet starts on a cache line, so that two threads never
     * write to one line through neighbouring packets. */
    if (buf_size <= PKT_HEADROOM || buf_size > UINT32_MAX
        || buf_size > SIZE_MAX - sizeof(struct packet) - 63) {
        return NULL;
    }
    stride = (sizeof(struct packet) + buf_size + 63) & ~(size_t) 63;
    if (n && stride > SIZE_MAX / n) {
        return NULL;
    }

    pool = calloc(1, sizeof *pool);
    if (!pool) {
        return NULL;
    }
    pool->free = calloc(n ? n : 1, sizeof *pool->free);
    pool->mem = aligned_alloc(64, n ? n * stride : 64);
    if (!pool->free || !pool->mem || pthread_mutex_init(&pool->mutex, NULL)) {
        free(pool->free);
        free(pool->mem);
        free(pool);
        return NULL;
    }
    pool->n = n;
    pool->buf_size = buf_size;
    pool->stride = stride;
    for (size_t i = 0; i < n; i++) {
        struct packet *p = (struct packet *) (void *) (pool->mem + i * stride);

        p->buf = inline_buf(p);
        p->alloc_len = (uint32_t) buf_size;
        p->data = p->buf + PKT_HEADROOM;
        p->len = 0;
        p->pool = pool;
        reset_meta(p);
        /* Hand out the lowest addresses first. */
        pool->free[n - 1 - i] = p;
    }
    pool->n_free = n;
    return pool;
}

static void
pool_free(struct pkt_pool *pool)
{
    pthread_mutex_destroy(&pool->mutex);
    free(pool->free);
    free(pool->mem);
    free(pool);
}

void
pkt_pool_destroy(struct pkt_pool *pool)
{
    bool idle;

    if (!pool) {
        return;
    }
    pthread_mutex_lock(&pool->mutex);
    assert(!pool->dying);
    pool->dying = true;
    idle = pool->n_free == pool->n;
    pthread_mutex_unlock(&pool->mutex);
    if (idle) {
        pool_free(pool);
    }
}

size_t
pkt_pool_get(struct pkt_pool *pool, struct pkt_batch *b, size_t n)
{
    struct packet **out = &b->pkts[b->n];
    size_t got;

    if (n > PKT_BATCH_MAX - b->n) {
        n = PKT_BATCH_MAX - b->n;
    }
    pthread_mutex_lock(&pool->mutex);
    got = n < pool->n_free ? n : pool->n_free;
    pool->n_free -= got;
    memcpy(out, &pool->free[pool->n_free], got * sizeof *out);
    pthread_mutex_unlock(&pool->mutex);

    /* Outside the lock: the packets are ours now. */
    for (size_t i = 0; i < got; i++) {
        struct packet *p = out[i];

        p->data = p->buf + PKT_HEADROOM;
        p->len = 0;
        reset_meta(p);
    }
    b->n += (uint32_t) got;
    return got;
}

void
pkt_batch_free(struct pkt_batch *b)
{
    struct packet *pooled[PKT_BATCH_MAX];
    size_t n_pooled = 0;

    for (uint32_t i = 0; i < b->n; i++) {
        struct packet *p = b->pkts[i];

        if (p && p->pool) {
            pooled[n_pooled++] = p;
        } else {
            packet_free(p);
        }
    }

    /* Return the pooled packets, one lock per pool.  A batch almost always
     * comes from one pool; with several, each pass takes every packet of
     * the first pool left and keeps the others for the next pass. */
    while (n_pooled) {
        struct pkt_pool *pool = pooled[0]->pool;
        struct packet *mine[PKT_BATCH_MAX];
        size_t n_mine = 0, n_left = 0;

        for (size_t i = 0; i < n_pooled; i++) {
            if (pooled[i]->pool == pool) {
                mine[n_mine++] = pooled[i];
            } else {
                pooled[n_left++] = pooled[i];
            }
        }
        pool_put(pool, mine, n_mine);
        n_pooled = n_left;
    }
    b->n = 0;
}
