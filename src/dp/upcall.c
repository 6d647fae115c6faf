/* SPDX-License-Identifier: Apache-2.0 */
/* Upcall channels (dp/upcall.h): a PID registry read under RCU, and per
 * channel one bounded FIFO per ingress port, read round robin.
 *
 * The registry
 * ============
 *
 * Channels are found by PID in an open-addressing hash table (linear
 * probing, power-of-2 capacity, at most half full counting tombstones)
 * that the packet threads read without a lock, as RCU readers.  Opens and
 * closes are rare and serialise on the registry's mutex.  A slot is
 * {pid, channel}; PID 0 never names a channel, so pid 0 marks a slot that
 * was never used.  The rules that make lock-free reading safe:
 *
 *   - In a given array, a slot's PID changes once at most, from 0 to its
 *     PID, and never back: a reader that finds a PID in a slot finds the
 *     same PID there whenever it looks again, and the first never-used
 *     slot of a probe sequence ends a search for good.
 *   - Opening stores the channel pointer, then the PID, both with release;
 *     a reader loads the PID, then the pointer, both with acquire, so it
 *     sees a fully built channel.
 *   - Closing stores NULL as the pointer and leaves the PID: a tombstone.
 *     Reopening that PID reuses its tombstone (a reader sees NULL or the
 *     new channel, both right); no other PID may take the slot, since a
 *     reader of the old PID could then pair it with the new pointer.
 *   - When an open would fill more than half of the slots, the table is
 *     rebuilt with the live entries only (at most a quarter full), the new
 *     array published with release and the old one freed after a grace
 *     period (qsbr_defer()).
 *
 * So a lookup is a hash and, on average, one or two probes, and takes no
 * lock.  Closing unpublishes the channel, waits for a grace period
 * (qsbr_synchronize(): no deliverer still holds the pointer) and only then
 * frees the channel with what it holds; closing never allocates, so it
 * cannot fail.
 *
 * Free PIDs (an open with PID 0) count up from UPCALL_AUTO_PID_BASE,
 * skipping PIDs in use and wrapping back to the base after UINT32_MAX, so
 * a PID just closed is not handed out again soon (a late upcall for it is
 * lost rather than misdelivered).  The base is above the PIDs processes
 * get (PID_MAX_LIMIT is 2^22) and below the range the kernel's netlink
 * autobind hands out (down from -4096), the two kinds of PID a netlink
 * client names, so a channel a protocol layer opens with its client's PID
 * seldom collides with an automatic one.
 *
 * A channel
 * =========
 *
 * Everything in a channel is guarded by its mutex, taken once per upcall
 * queued and once per upcall read.
 *
 *   - Port FIFOs: a ring of upcall pointers per ingress port
 *     (u->packet->md.in_port), made on the first upcall from that port and
 *     found through a small open-addressing map keyed by port number (at
 *     most half full, doubled when needed).  A ring starts with
 *     FIFO_MIN_CAP slots and doubles up to the channel's bound (the
 *     registry's queue length when the channel opened), so a port that
 *     upcalls little costs little; the bound, not the ring's size, decides
 *     overflow.  A FIFO stays until the channel closes: the datapath
 *     reuses port numbers (lowest free first), so a channel holds at most
 *     about as many FIFOs as ports ever existed at once.
 *   - Round robin: the non-empty FIFOs form a singly linked queue
 *     ('rr_head' .. 'rr_tail').  An upcall into an empty FIFO appends it
 *     at the tail; recv pops the oldest upcall of the head FIFO and moves
 *     that FIFO to the tail if it still holds some, or drops it from the
 *     queue if not.  Every operation is O(1) (but for the rare ring or map
 *     growth), and a port with k upcalls queued waits for at most one
 *     upcall of every other port between two of its own.
 *   - The eventfd (non-blocking, close-on-exec) holds 1 exactly while the
 *     channel holds upcalls: it is written when the channel goes from
 *     empty to non-empty and drained when it becomes empty, both under the
 *     mutex, so its counter is never more than 1 and poll() reports it
 *     readable exactly while there is something to read.
 *   - Statistics are plain counters under the mutex; reading them takes
 *     the mutex too, so a snapshot is consistent: queued = read + purged +
 *     pending at every instant.
 *
 * Failures on the upcall path (no memory for a FIFO, its ring or the port
 * map) refuse the upcall with -ENOBUFS and count it as an overflow: like
 * a full FIFO, it loses this upcall and nothing already queued.  Every
 * refused upcall is freed by upcall_deliver(), outside the mutex.
 *
 * Lock order: the registry's mutex is never held while a channel's is
 * taken, nor the other way round.  upcall_deliver() holds one channel's
 * mutex at a time and calls nothing that locks while holding it. */

#include "dp/upcall.h"

#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "dp/dp.h"
#include "lib/errbuf.h"
#include "lib/mutex.h"
#include "lib/rcu.h"
#include "packet/packet.h"

#define UPCALL_AUTO_PID_BASE 0x40000000u

#define TABLE_MIN_CAP 16u       /* Registry slots. */
#define PORT_MAP_MIN_CAP 8u     /* Port map slots of a channel. */
#define FIFO_MIN_CAP 16u        /* First ring size of a port FIFO. */

/* ---- The registry's table. ---- */

struct reg_slot {
    _Atomic uint32_t pid;                       /* 0: never used. */
    _Atomic(struct upcall_channel *) ch;        /* NULL: free/tombstone. */
};

struct reg_table {
    struct qsbr_head rcu;
    uint32_t mask;                              /* Slots - 1. */
    struct reg_slot slots[];
};

struct upcall_reg {
    struct wmutex mutex;        /* Guards all but 'table' readers. */
    _Atomic(struct reg_table *) table;  /* Written under 'mutex';
                                         * read by anyone under RCU. */
    uint32_t n_live;            /* Slots with a channel; 'mutex'. */
    uint32_t n_used;            /* Slots with a PID; 'mutex'. */
    uint32_t queue_len;         /* For channels opened next; 'mutex'. */
    uint32_t next_pid;          /* Next automatic PID to try; 'mutex'. */
};

/* ---- Channels. ---- */

/* The FIFO of one ingress port in one channel. */
struct upcall_fifo {
    uint32_t port_no;
    uint32_t head;              /* Oldest upcall's slot. */
    uint32_t n;                 /* Upcalls queued. */
    uint32_t cap;               /* Slots in 'ring', a power of 2. */
    struct dp_upcall **ring;
    struct upcall_fifo *rr_next;        /* In the round-robin queue. */
};

struct upcall_channel {
    struct upcall_reg *reg;
    uint32_t pid;
    int efd;                    /* Readable while 'pending' > 0. */
    uint32_t limit;             /* Upcalls per port FIFO. */

    struct wmutex mutex;        /* Guards every member below. */
    struct upcall_fifo **map;   /* Port map: 'map_mask' + 1 slots. */
    uint32_t map_mask;
    uint32_t n_fifos;
    struct upcall_fifo *rr_head;        /* Non-empty FIFOs, next first. */
    struct upcall_fifo *rr_tail;
    uint64_t queued, read, overflow, purged;
    uint32_t pending;
};

/* Spreads 32-bit keys (PIDs, port numbers) over a power-of-2 table:
 * Fibonacci hashing, the high bits folded down. */
static inline uint32_t
hash_u32(uint32_t x)
{
    uint32_t h = x * 0x9e3779b1u;

    return h ^ (h >> 16);
}

static struct reg_table *
table_create(uint32_t cap)
{
    struct reg_table *t = malloc(sizeof *t
                                 + (size_t) cap * sizeof t->slots[0]);

    if (!t) {
        return NULL;
    }
    t->mask = cap - 1;
    for (uint32_t i = 0; i < cap; i++) {
        atomic_init(&t->slots[i].pid, 0);
        atomic_init(&t->slots[i].ch, NULL);
    }
    return t;
}

static void
table_free_cb(struct qsbr_head *h)
{
    free(QSBR_OBJ(h, struct reg_table, rcu));
}

/* Returns the slot of 'pid' in 't' (live or tombstone), or NULL.  Any
 * thread (RCU reader) may call it. */
static struct reg_slot *
table_find(struct reg_table *t, uint32_t pid)
{
    for (uint32_t i = hash_u32(pid) & t->mask;; i = (i + 1) & t->mask) {
        /* Acquire: pairs with the release in table_put(); the slot's
         * pointer, if this is 'pid', is then visible. */
        uint32_t p = atomic_load_explicit(&t->slots[i].pid,
                                          memory_order_acquire);

        if (p == pid) {
            return &t->slots[i];
        }
        if (!p) {
            return NULL;
        }
    }
}

/* Returns the channel with 'pid', or NULL.  Context: RCU reader, or the
 * registry's mutex held. */
static struct upcall_channel *
reg_lookup(struct upcall_reg *reg, uint32_t pid)
{
    /* Acquire: pairs with the release that published the array. */
    struct reg_table *t = atomic_load_explicit(&reg->table,
                                               memory_order_acquire);
    struct reg_slot *s = pid ? table_find(t, pid) : NULL;

    /* Acquire: the channel was fully built before it was stored. */
    return s ? atomic_load_explicit(&s->ch, memory_order_acquire) : NULL;
}

/* Stores 'ch' under 'pid' in the first never-used slot of its probe
 * sequence in 't', which has one and holds no slot for 'pid'.  Returns
 * the slot. */
static struct reg_slot *
table_put(struct reg_table *t, uint32_t pid, struct upcall_channel *ch)
{
    uint32_t i = hash_u32(pid) & t->mask;

    while (atomic_load_explicit(&t->slots[i].pid, memory_order_relaxed)) {
        i = (i + 1) & t->mask;
    }
    /* Release, pointer first: a reader that sees the PID sees the
     * pointer, and through it the built channel. */
    atomic_store_explicit(&t->slots[i].ch, ch, memory_order_release);
    atomic_store_explicit(&t->slots[i].pid, pid, memory_order_release);
    return &t->slots[i];
}

/* Returns the table capacity for 'n' live entries: at most a quarter
 * full, so that many opens follow before the next rebuild. */
static uint32_t
table_capacity_for(uint32_t n)
{
    uint32_t cap = TABLE_MIN_CAP;

    while (cap < 4 * (uint64_t) n) {
        cap *= 2;
    }
    return cap;
}

/* Replaces the table with one holding the live entries only, with room
 * for 'more' more.  Returns 0 or -ENOMEM.  Context: 'reg->mutex' held. */
static int
table_rebuild_locked(struct upcall_reg *reg, uint32_t more)
    WEIR_REQUIRES(&reg->mutex)
{
    struct reg_table *old = atomic_load_explicit(&reg->table,
                                                 memory_order_relaxed);
    struct reg_table *t;

    if ((uint64_t) reg->n_live + more > UINT32_MAX / 8) {
        return -ENOMEM;
    }
    t = table_create(table_capacity_for(reg->n_live + more));
    if (!t) {
        return -ENOMEM;
    }
    for (uint32_t i = 0; i <= old->mask; i++) {
        struct upcall_channel *ch = atomic_load_explicit(
            &old->slots[i].ch, memory_order_relaxed);

        if (ch) {
            table_put(t, ch->pid, ch);
        }
    }
    /* Release: readers that load the new array see its slots filled. */
    atomic_store_explicit(&reg->table, t, memory_order_release);
    reg->n_used = reg->n_live;
    qsbr_defer(&old->rcu, table_free_cb);
    return 0;
}

/* Publishes 'ch' under ch->pid, which no channel has.
 * Returns 0 or -ENOMEM.  Context: 'reg->mutex' held. */
static int
reg_insert_locked(struct upcall_reg *reg, struct upcall_channel *ch)
    WEIR_REQUIRES(&reg->mutex)
{
    struct reg_table *t = atomic_load_explicit(&reg->table,
                                               memory_order_relaxed);
    struct reg_slot *s = table_find(t, ch->pid);
    int error;

    if (s) {
        /* The PID's own tombstone: readers of it see NULL or 'ch'.
         * Release: publishes the built channel. */
        atomic_store_explicit(&s->ch, ch, memory_order_release);
        reg->n_live++;
        return 0;
    }
    if (2 * ((uint64_t) reg->n_used + 1) > (uint64_t) t->mask + 1) {
        error = table_rebuild_locked(reg, 1);
        if (error) {
            return error;
        }
        t = atomic_load_explicit(&reg->table, memory_order_relaxed);
    }
    table_put(t, ch->pid, ch);
    reg->n_used++;
    reg->n_live++;
    return 0;
}

/* Unpublishes 'ch' (its slot becomes a tombstone).  Never fails.
 * Context: 'reg->mutex' held. */
static void
reg_remove_locked(struct upcall_reg *reg, struct upcall_channel *ch)
    WEIR_REQUIRES(&reg->mutex)
{
    struct reg_table *t = atomic_load_explicit(&reg->table,
                                               memory_order_relaxed);
    struct reg_slot *s = table_find(t, ch->pid);

    if (s && atomic_load_explicit(&s->ch, memory_order_relaxed) == ch) {
        /* Relaxed: readers still holding 'ch' are waited for by the
         * caller's grace period, not ordered by this store. */
        atomic_store_explicit(&s->ch, NULL, memory_order_relaxed);
        reg->n_live--;
    }
}

/* Returns a PID no channel has, never 0.  Context: 'reg->mutex' held. */
static uint32_t
reg_pick_pid_locked(struct upcall_reg *reg) WEIR_REQUIRES(&reg->mutex)
{
    /* Among n_live + 1 consecutive candidates one is free, and there are
     * far more than that between the base and UINT32_MAX. */
    for (;;) {
        uint32_t pid = reg->next_pid;

        reg->next_pid = pid == UINT32_MAX ? UPCALL_AUTO_PID_BASE : pid + 1;
        if (!reg_lookup(reg, pid)) {
            return pid;
        }
    }
}

struct upcall_reg *
upcall_reg_create(void)
{
    struct upcall_reg *reg = calloc(1, sizeof *reg);
    struct reg_table *t = table_create(TABLE_MIN_CAP);

    if (!reg || !t) {
        free(reg);
        free(t);
        return NULL;
    }
    wmutex_init(&reg->mutex);
    atomic_init(&reg->table, t);
    reg->queue_len = UPCALL_DEFAULT_QUEUE_LEN;
    reg->next_pid = UPCALL_AUTO_PID_BASE;
    return reg;
}

static void channel_free(struct upcall_channel *ch);

void
upcall_reg_destroy(struct upcall_reg *reg)
{
    struct reg_table *t;

    if (!reg) {
        return;
    }
    /* No thread queues any more (the contract): no grace period needed
     * for the channels or the array. */
    t = atomic_load_explicit(&reg->table, memory_order_relaxed);
    for (uint32_t i = 0; i <= t->mask; i++) {
        struct upcall_channel *ch = atomic_load_explicit(
            &t->slots[i].ch, memory_order_relaxed);

        if (ch) {
            channel_free(ch);
        }
    }
    free(t);
    wmutex_destroy(&reg->mutex);
    free(reg);
}

void
upcall_reg_set_queue_len(struct upcall_reg *reg, uint32_t len)
{
    wmutex_lock(&reg->mutex);
    reg->queue_len = len ? len : UPCALL_DEFAULT_QUEUE_LEN;
    wmutex_unlock(&reg->mutex);
}

/* ---- Port FIFOs. ---- */

static void
fifo_free(struct upcall_fifo *q)
{
    for (uint32_t i = 0; i < q->n; i++) {
        dp_upcall_free(q->ring[(q->head + i) & (q->cap - 1)]);
    }
    free(q->ring);
    free(q);
}

/* Returns the smallest power of 2 that is >= 'n' (>= 1), as a 64-bit
 * number so that it exists for every 32-bit 'n'. */
static uint64_t
pow2_ceil(uint32_t n)
{
    uint64_t p = 1;

    while (p < n) {
        p *= 2;
    }
    return p;
}

/* Returns a new empty FIFO for 'port_no' whose ring has room for its first
 * upcalls, or NULL if out of memory. */
static struct upcall_fifo *
fifo_create(uint32_t port_no, uint32_t limit)
{
    struct upcall_fifo *q = calloc(1, sizeof *q);
    uint64_t max = pow2_ceil(limit);

    if (!q) {
        return NULL;
    }
    q->port_no = port_no;
    q->cap = (uint32_t) (max < FIFO_MIN_CAP ? max : FIFO_MIN_CAP);
    q->ring = malloc((size_t) q->cap * sizeof *q->ring);
    if (!q->ring) {
        free(q);
        return NULL;
    }
    return q;
}

/* Doubles the ring of 'q', which is full and below the bound 'limit'.
 * Returns 0 or -ENOBUFS. */
static int
fifo_grow(struct upcall_fifo *q, uint32_t limit)
{
    uint64_t max = pow2_ceil(limit);
    uint64_t cap = 2 * (uint64_t) q->cap;
    struct dp_upcall **ring;

    if (cap > max) {
        cap = max;
    }
    if (cap > UINT32_MAX || cap > SIZE_MAX / sizeof *ring) {
        return -ENOBUFS;
    }
    ring = malloc((size_t) cap * sizeof *ring);
    if (!ring) {
        return -ENOBUFS;
    }
    /* Unwrap: the oldest upcall moves to slot 0. */
    for (uint32_t i = 0; i < q->n; i++) {
        ring[i] = q->ring[(q->head + i) & (q->cap - 1)];
    }
    free(q->ring);
    q->ring = ring;
    q->cap = (uint32_t) cap;
    q->head = 0;
    return 0;
}

/* Returns the slot of the port map where port 'port_no's FIFO is, or
 * the empty slot where it would go.  Context: 'ch->mutex' held. */
static struct upcall_fifo **
map_slot_locked(struct upcall_channel *ch, uint32_t port_no)
    WEIR_REQUIRES(&ch->mutex)
{
    uint32_t i = hash_u32(port_no) & ch->map_mask;

    while (ch->map[i] && ch->map[i]->port_no != port_no) {
        i = (i + 1) & ch->map_mask;
    }
    return &ch->map[i];
}

/* Doubles the port map.  Returns 0 or -ENOBUFS.
 * Context: 'ch->mutex' held. */
static int
map_grow_locked(struct upcall_channel *ch) WEIR_REQUIRES(&ch->mutex)
{
    struct upcall_fifo **old = ch->map;
    uint32_t old_mask = ch->map_mask;
    uint64_t cap = 2 * ((uint64_t) old_mask + 1);

    if (cap > UINT32_MAX || cap > SIZE_MAX / sizeof *old) {
        return -ENOBUFS;
    }
    ch->map = calloc((size_t) cap, sizeof *ch->map);
    if (!ch->map) {
        ch->map = old;
        return -ENOBUFS;
    }
    ch->map_mask = (uint32_t) cap - 1;
    for (uint32_t i = 0; i <= old_mask; i++) {
        if (old[i]) {
            *map_slot_locked(ch, old[i]->port_no) = old[i];
        }
    }
    free(old);
    return 0;
}

/* Returns the FIFO of port 'port_no', made if needed, or NULL if out of
 * memory.  Context: 'ch->mutex' held. */
static struct upcall_fifo *
fifo_get_locked(struct upcall_channel *ch, uint32_t port_no)
    WEIR_REQUIRES(&ch->mutex)
{
    struct upcall_fifo **slot = map_slot_locked(ch, port_no);

    if (*slot) {
        return *slot;
    }
    if (2 * ((uint64_t) ch->n_fifos + 1) > (uint64_t) ch->map_mask + 1) {
        if (map_grow_locked(ch)) {
            return NULL;
        }
        slot = map_slot_locked(ch, port_no);
    }
    *slot = fifo_create(port_no, ch->limit);
    if (*slot) {
        ch->n_fifos++;
    }
    return *slot;
}

/* Sets the eventfd of 'ch': readable (counter 1) or not (0).  Called only
 * on the transitions, so the counter is never above 1.
 * Context: 'ch->mutex' held. */
static void
efd_set_locked(struct upcall_channel *ch, bool readable)
    WEIR_REQUIRES(&ch->mutex)
{
    uint64_t v = 1;
    ssize_t n;

    /* Neither can fail but for EINTR (the fd is ours, non-blocking, and
     * its counter 0 or 1): retry that. */
    do {
        n = readable ? write(ch->efd, &v, sizeof v)
                     : read(ch->efd, &v, sizeof v);
    } while (n < 0 && errno == EINTR);
}

/* Queues 'u' on port 'port_no's FIFO of 'ch'.
 * Returns 0 or -ENOBUFS ('u' is then still the caller's).
 * Context: 'ch->mutex' held. */
static int
channel_push_locked(struct upcall_channel *ch, uint32_t port_no,
                    struct dp_upcall *u) WEIR_REQUIRES(&ch->mutex)
{
    struct upcall_fifo *q = fifo_get_locked(ch, port_no);

    if (!q || q->n >= ch->limit
        || (q->n == q->cap && fifo_grow(q, ch->limit))) {
        ch->overflow++;
        return -ENOBUFS;
    }
    q->ring[(q->head + q->n) & (q->cap - 1)] = u;
    if (!q->n++) {
        /* It was empty: it joins the round robin at the end. */
        q->rr_next = NULL;
        if (ch->rr_tail) {
            ch->rr_tail->rr_next = q;
        } else {
            ch->rr_head = q;
        }
        ch->rr_tail = q;
    }
    ch->queued++;
    if (!ch->pending++) {
        efd_set_locked(ch, true);
    }
    return 0;
}

/* Removes and returns the next upcall of 'ch' in round-robin order, or
 * NULL if it is empty.  Context: 'ch->mutex' held. */
static struct dp_upcall *
channel_pop_locked(struct upcall_channel *ch) WEIR_REQUIRES(&ch->mutex)
{
    struct upcall_fifo *q = ch->rr_head;
    struct dp_upcall *u;

    if (!q) {
        return NULL;
    }
    u = q->ring[q->head];
    q->head = (q->head + 1) & (q->cap - 1);
    q->n--;

    /* Off the head; back at the tail if it holds more. */
    ch->rr_head = q->rr_next;
    if (!ch->rr_head) {
        ch->rr_tail = NULL;
    }
    q->rr_next = NULL;
    if (q->n) {
        if (ch->rr_tail) {
            ch->rr_tail->rr_next = q;
        } else {
            ch->rr_head = q;
        }
        ch->rr_tail = q;
    }
    if (!--ch->pending) {
        efd_set_locked(ch, false);
    }
    return u;
}

/* ---- Channels. ---- */

/* Frees 'ch' with its FIFOs and the upcalls they still hold (close purges
 * first, so that those are counted; upcall_reg_destroy() does not need
 * to).  Context: 'ch' is unpublished and no thread uses it. */
static void
channel_free(struct upcall_channel *ch)
{
    for (uint32_t i = 0; i <= ch->map_mask; i++) {
        if (ch->map[i]) {
            fifo_free(ch->map[i]);
        }
    }
    free(ch->map);
    close(ch->efd);
    wmutex_destroy(&ch->mutex);
    free(ch);
}

int
upcall_channel_open(struct upcall_reg *reg, uint32_t pid,
                    struct upcall_channel **chp, struct errbuf *err)
{
    struct upcall_channel *ch = calloc(1, sizeof *ch);
    int error = 0;

    *chp = NULL;
    if (!ch) {
        errbuf_set(err, "out of memory");
        return -ENOMEM;
    }
    ch->map = calloc(PORT_MAP_MIN_CAP, sizeof *ch->map);
    if (!ch->map) {
        free(ch);
        errbuf_set(err, "out of memory");
        return -ENOMEM;
    }
    ch->map_mask = PORT_MAP_MIN_CAP - 1;
    ch->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (ch->efd < 0) {
        /* EMFILE, ENFILE, ENOMEM, ENODEV: out of a resource, which the
         * contract calls -ENOMEM; the reason says which. */
        errbuf_set(err, "upcall channel: eventfd: %s", strerror(errno));
        free(ch->map);
        free(ch);
        return -ENOMEM;
    }
    ch->reg = reg;
    wmutex_init(&ch->mutex);

    wmutex_lock(&reg->mutex);
    if (!pid) {
        pid = reg_pick_pid_locked(reg);
    } else if (reg_lookup(reg, pid)) {
        errbuf_set(err, "upcall PID %u is in use", pid);
        error = -EADDRINUSE;
    }
    if (!error) {
        ch->pid = pid;
        ch->limit = reg->queue_len;
        error = reg_insert_locked(reg, ch);
        if (error) {
            errbuf_set(err, "out of memory");
        }
    }
    wmutex_unlock(&reg->mutex);

    if (error) {
        channel_free(ch);
        return error;
    }
    *chp = ch;
    return 0;
}

void
upcall_channel_close(struct upcall_channel *ch)
{
    struct upcall_reg *reg;

    if (!ch) {
        return;
    }
    reg = ch->reg;
    wmutex_lock(&reg->mutex);
    reg_remove_locked(reg, ch);
    wmutex_unlock(&reg->mutex);
    /* Deliverers found 'ch' under RCU: after a grace period none holds
     * it, and none can find it again. */
    qsbr_synchronize();
    upcall_channel_purge(ch);
    channel_free(ch);
}

uint32_t
upcall_channel_pid(const struct upcall_channel *ch)
{
    return ch->pid;
}

int
upcall_deliver(struct upcall_reg *reg, struct dp_upcall *u)
{
    struct upcall_channel *ch = reg_lookup(reg, u->pid);
    uint32_t port_no = u->packet ? u->packet->md.in_port : 0;
    int error;

    if (!ch) {
        dp_upcall_free(u);
        return -ECONNREFUSED;
    }
    wmutex_lock(&ch->mutex);
    error = channel_push_locked(ch, port_no, u);
    wmutex_unlock(&ch->mutex);
    if (error) {
        /* Freed outside the mutex: a pooled packet takes its pool's. */
        dp_upcall_free(u);
    }
    return error;
}

bool
upcall_reg_has_pid(struct upcall_reg *reg, uint32_t pid)
{
    return reg_lookup(reg, pid) != NULL;
}

int
upcall_channel_recv(struct upcall_channel *ch, struct dp_upcall **up)
{
    struct dp_upcall *u;

    wmutex_lock(&ch->mutex);
    u = channel_pop_locked(ch);
    if (u) {
        ch->read++;
    }
    wmutex_unlock(&ch->mutex);
    *up = u;
    return u ? 0 : -EAGAIN;
}

/* Returns CLOCK_MONOTONIC in milliseconds. */
static int64_t
monotonic_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
upcall_channel_wait(struct upcall_channel *ch, int timeout_ms)
{
    struct pollfd pfd = { .fd = ch->efd, .events = POLLIN };
    int64_t deadline = timeout_ms >= 0 ? monotonic_ms() + timeout_ms : 0;
    int ret, left = timeout_ms;

    for (;;) {
        ret = poll(&pfd, 1, left);
        if (ret >= 0 || errno != EINTR) {
            break;
        }
        /* A signal: wait for what is left of the timeout only. */
        if (timeout_ms >= 0) {
            int64_t now = monotonic_ms();

            left = now >= deadline ? 0 : (int) (deadline - now);
        }
    }
    /* A failed poll() (ENOMEM) is reported as a timeout: the caller then
     * tries recv and waits again, which is all it could do anyway. */
    return ret > 0 ? 0 : -ETIMEDOUT;
}

int
upcall_channel_fd(const struct upcall_channel *ch)
{
    return ch->efd;
}

size_t
upcall_channel_purge(struct upcall_channel *ch)
{
    size_t n = 0;
    struct dp_upcall *u;

    /* Freed under the mutex, unlike refused upcalls: purges are rare, and
     * the pool mutex a packet_free() may take never waits for ours. */
    wmutex_lock(&ch->mutex);
    while ((u = channel_pop_locked(ch)) != NULL) {
        dp_upcall_free(u);
        n++;
    }
    ch->purged += n;
    wmutex_unlock(&ch->mutex);
    return n;
}

void
upcall_channel_get_stats(const struct upcall_channel *cch,
                         struct upcall_channel_stats *stats)
{
    /* The mutex is taken for a consistent snapshot; nothing else of the
     * channel changes (and no channel is ever a const object). */
    struct upcall_channel *ch = (struct upcall_channel *) cch;

    wmutex_lock(&ch->mutex);
    stats->queued = ch->queued;
    stats->read = ch->read;
    stats->overflow = ch->overflow;
    stats->purged = ch->purged;
    stats->pending = ch->pending;
    wmutex_unlock(&ch->mutex);
}
