/* SPDX-License-Identifier: Apache-2.0 */
/* The "dummy" port provider (port/port-dummy.h).
 *
 * Two queues of packets, each a growable ring under its own mutex: 'rxq'
 * (filled by port_dummy_inject(), drained by rx) and 'txq' (filled by tx,
 * drained by port_dummy_take()).  rx and tx take their queue's mutex once
 * per batch.
 *
 * In loop mode the receive queue is a playlist instead: rx never removes
 * anything from it; it copies the next injected frames into packets from
 * the port's own pool, as a NIC writes into the buffers of its ring, and
 * wraps around at the end.  The injected packets stay where they are until
 * the port closes, so rx copies them after dropping the mutex (a
 * concurrent inject may move the ring's slots, never the packets). */

#include "port/port-dummy.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "lib/errbuf.h"
#include "lib/options.h"
#include "packet/packet.h"
#include "port/port.h"
#include "port/port-provider.h"

/* Loop mode's pool: enough packets for a few batches in flight in every
 * stage of a datapath, buffers for a standard frame with two tags.  A
 * longer injected frame is cloned (malloc) instead, so loop mode never
 * refuses a frame. */
#define DUMMY_LOOP_POOL_SIZE 1024
#define DUMMY_LOOP_BUF_SIZE  (PKT_HEADROOM + 2048)

/* A FIFO of packets. */
struct dummy_queue {
    pthread_mutex_t mutex;
    struct packet **ring;       /* 'cap' slots; guarded by 'mutex'. */
    size_t cap;                 /* 0 or a power of 2. */
    size_t head;                /* Oldest packet; guarded by 'mutex'. */
    size_t n;                   /* Packets queued; guarded by 'mutex'. */
};

struct dummy {
    struct dummy_queue rxq;
    struct dummy_queue txq;
    bool capture;               /* tx queues (true) or frees (false). */
    bool loop;                  /* rx replays the injected packets. */
    size_t loop_next;           /* Loop: next index into 'rxq'; guarded by
                                 * 'rxq.mutex'. */
    struct pkt_pool *pool;      /* Loop: the buffers rx hands out. */
    int efd;                    /* Readable while 'rxq' holds packets
                                 * (not in loop mode). */
    uint32_t n_rxq;             /* Queues; all drain 'rxq'. */
};

static int
dq_init(struct dummy_queue *q)
{
    q->ring = NULL;
    q->cap = q->head = q->n = 0;
    return -pthread_mutex_init(&q->mutex, NULL);
}

/* Frees the packets left in 'q' and the queue. */
static void
dq_uninit(struct dummy_queue *q)
{
    for (size_t i = 0; i < q->n; i++) {
        packet_free(q->ring[(q->head + i) & (q->cap - 1)]);
    }
    free(q->ring);
    pthread_mutex_destroy(&q->mutex);
}

/* Makes room for 'more' packets in 'q'.  Returns 0 or -ENOMEM.
 * Context: 'q->mutex' held. */
static int
dq_reserve_locked(struct dummy_queue *q, size_t more)
{
    struct packet **ring;
    size_t cap = q->cap ? q->cap : 64;

    if (q->n + more <= q->cap) {
        return 0;
    }
    while (cap < q->n + more) {
        if (cap > SIZE_MAX / 2 / sizeof *ring) {
            return -ENOMEM;
        }
        cap *= 2;
    }
    ring = malloc(cap * sizeof *ring);
    if (!ring) {
        return -ENOMEM;
    }
    /* Unwrap: the oldest packet moves to slot 0. */
    for (size_t i = 0; i < q->n; i++) {
        ring[i] = q->ring[(q->head + i) & (q->cap - 1)];
    }
    free(q->ring);
    q->ring = ring;
    q->cap = cap;
    q->head = 0;
    return 0;
}

/* Appends 'p' to 'q', which has room.  Context: 'q->mutex' held. */
static void
dq_push_locked(struct dummy_queue *q, struct packet *p)
{
    q->ring[(q->head + q->n) & (q->cap - 1)] = p;
    q->n++;
}

/* Removes and returns the oldest packet of 'q', which is not empty.
 * Context: 'q->mutex' held. */
static struct packet *
dq_pop_locked(struct dummy_queue *q)
{
    struct packet *p = q->ring[q->head];

    q->head = (q->head + 1) & (q->cap - 1);
    q->n--;
    return p;
}

/* Returns the dummy state of 'port', or NULL if it is not a dummy port. */
static struct dummy *
dummy_cast(const struct port *port)
{
    return port && port->class == &port_dummy_class ? port->priv : NULL;
}

/* Parses 'options' (port-dummy.h) into 'd', which holds the defaults.
 * Returns 0, or -EINVAL (-ENOMEM) with a reason. */
static int
parse_options(struct dummy *d, const char *options, struct errbuf *err)
{
    const struct opt_def defs[] = {
        { .key = "capture", .type = OPT_BOOL, .b = &d->capture },
        { .key = "loop", .type = OPT_BOOL, .b = &d->loop },
        { .key = "n_rxq", .type = OPT_U32, .u32 = &d->n_rxq, .min = 1,
          .max = 64 },
    };

    return opts_parse(options, defs, sizeof defs / sizeof *defs,
                      "dummy ports", err);
}

static int
dummy_open(struct port *port, const char *options, struct errbuf *err)
{
    struct dummy *d = calloc(1, sizeof *d);
    int error;

    if (!d) {
        errbuf_set(err, "out of memory");
        return -ENOMEM;
    }
    d->capture = true;
    d->n_rxq = 1;
    error = parse_options(d, options, err);
    if (error) {
        free(d);
        return error;
    }
    d->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (d->efd < 0) {
        error = -errno;
        errbuf_set(err, "eventfd: %s", strerror(errno));
        free(d);
        return error;
    }
    if (d->loop) {
        d->pool = pkt_pool_create(DUMMY_LOOP_POOL_SIZE, DUMMY_LOOP_BUF_SIZE);
        if (!d->pool) {
            errbuf_set(err, "out of memory for the loop pool");
            close(d->efd);
            free(d);
            return -ENOMEM;
        }
    }
    error = dq_init(&d->rxq);
    if (!error) {
        error = dq_init(&d->txq);
        if (error) {
            pthread_mutex_destroy(&d->rxq.mutex);
        }
    }
    if (error) {
        errbuf_set(err, "cannot create a mutex (%s)", strerror(-error));
        pkt_pool_destroy(d->pool);
        close(d->efd);
        free(d);
        return error;
    }
    port->priv = d;
    port->n_rxq = d->n_rxq;
    return 0;
}

static void
dummy_close(struct port *port)
{
    struct dummy *d = port->priv;

    dq_uninit(&d->rxq);
    dq_uninit(&d->txq);
    /* Packets of the pool that are still elsewhere (queued on another
     * port, say) keep it alive until they come back (packet.h). */
    pkt_pool_destroy(d->pool);
    close(d->efd);
    free(d);
    port->priv = NULL;
}

/* Loop-mode rx: copies the next injected frames into pool packets.  Like
 * a NIC whose ring has run dry, it receives fewer packets (maybe none)
 * when the pool has fewer free. */
static int
dummy_rx_loop(struct dummy *d, struct pkt_batch *batch)
{
    const struct packet *src[PKT_BATCH_MAX];
    size_t n = pkt_pool_get(d->pool, batch, PKT_BATCH_MAX);

    if (!n) {
        return 0;
    }
    pthread_mutex_lock(&d->rxq.mutex);
    if (!d->rxq.n) {
        pthread_mutex_unlock(&d->rxq.mutex);
        pkt_batch_free(batch);
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        size_t k = (d->rxq.head + d->loop_next) & (d->rxq.cap - 1);

        src[i] = d->rxq.ring[k];
        d->loop_next = d->loop_next + 1 < d->rxq.n ? d->loop_next + 1 : 0;
    }
    pthread_mutex_unlock(&d->rxq.mutex);

    for (size_t i = 0; i < n; i++) {
        /* A frame too long for a pool buffer gets an ordinary packet. */
        batch->pkts[i] = packet_fill(batch->pkts[i], src[i]->data,
                                     src[i]->len);
        if (!batch->pkts[i]) {
            /* Out of memory: receive the packets made so far. */
            for (size_t j = i + 1; j < n; j++) {
                packet_free(batch->pkts[j]);
            }
            batch->n = (uint32_t) i;
            return (int) i;
        }
    }
    return (int) n;
}

static int
dummy_rx(struct port *port, uint32_t qid, struct pkt_batch *batch)
{
    struct dummy *d = port->priv;
    size_t n;

    (void) qid;
    if (d->loop) {
        return dummy_rx_loop(d, batch);
    }
    pthread_mutex_lock(&d->rxq.mutex);
    n = d->rxq.n < PKT_BATCH_MAX ? d->rxq.n : PKT_BATCH_MAX;
    for (size_t i = 0; i < n; i++) {
        pkt_batch_add(batch, dq_pop_locked(&d->rxq));
    }
    if (n && !d->rxq.n) {
        uint64_t count;

        /* Empty now: no longer readable. */
        if (read(d->efd, &count, sizeof count) < 0) {
            /* EAGAIN: nothing was signalled. */
        }
    }
    pthread_mutex_unlock(&d->rxq.mutex);
    return (int) n;
}

static int
dummy_rx_fd(struct port *port, uint32_t qid)
{
    struct dummy *d = port->priv;

    (void) qid;
    return d->loop ? -1 : d->efd;
}

static int
dummy_tx(struct port *port, struct pkt_batch *batch)
{
    struct dummy *d = port->priv;
    int dropped = 0;

    if (!d->capture) {
        pkt_batch_free(batch);
        return 0;
    }
    pthread_mutex_lock(&d->txq.mutex);
    if (dq_reserve_locked(&d->txq, batch->n)) {
        dropped = (int) batch->n;
    } else {
        for (uint32_t i = 0; i < batch->n; i++) {
            dq_push_locked(&d->txq, batch->pkts[i]);
        }
        pkt_batch_init(batch);
    }
    pthread_mutex_unlock(&d->txq.mutex);
    pkt_batch_free(batch);      /* Empty unless the queue could not grow. */
    return dropped;
}

const struct port_class port_dummy_class = {
    .type = "dummy",
    .open = dummy_open,
    .close = dummy_close,
    .rx = dummy_rx,
    .tx = dummy_tx,
    .rx_fd = dummy_rx_fd,
};

int
port_dummy_inject(struct port *port, const void *data, size_t len)
{
    struct dummy *d = dummy_cast(port);
    struct packet *p;
    int error;

    if (!d) {
        return -EINVAL;
    }
    p = packet_create(data, len);
    if (!p) {
        return -ENOMEM;
    }
    pthread_mutex_lock(&d->rxq.mutex);
    error = dq_reserve_locked(&d->rxq, 1);
    if (!error) {
        dq_push_locked(&d->rxq, p);
        if (d->rxq.n == 1 && !d->loop) {
            uint64_t one = 1;

            if (write(d->efd, &one, sizeof one) < 0) {
                /* Cannot fail: the counter is far from overflowing. */
            }
        }
    }
    pthread_mutex_unlock(&d->rxq.mutex);
    if (error) {
        packet_free(p);
    }
    return error;
}

struct packet *
port_dummy_take(struct port *port)
{
    struct dummy *d = dummy_cast(port);
    struct packet *p = NULL;

    if (!d) {
        return NULL;
    }
    pthread_mutex_lock(&d->txq.mutex);
    if (d->txq.n) {
        p = dq_pop_locked(&d->txq);
    }
    pthread_mutex_unlock(&d->txq.mutex);
    return p;
}

size_t
port_dummy_tx_queued(struct port *port)
{
    struct dummy *d = dummy_cast(port);
    size_t n;

    if (!d) {
        return 0;
    }
    pthread_mutex_lock(&d->txq.mutex);
    n = d->txq.n;
    pthread_mutex_unlock(&d->txq.mutex);
    return n;
}
