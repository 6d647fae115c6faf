/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for dp/upcall.c, the upcall channels: PIDs (chosen, in use,
 * automatic, reopened), lost upcalls (unknown PID, full FIFO), FIFO order
 * within a port and round robin across ports, the eventfd and wait, purge
 * and close, statistics; then threads: a flooding port does not make a
 * slower port lose anything, and producers deliver while channels open
 * and close (the point of running this file under TSan too).
 *
 * Upcalls are built by hand; each carries a tag in 'egress_tun_port',
 * which the channels never look at, to check the order they come out
 * in.  Leaks (an upcall a refusal or a close did not free) are ASan's to
 * find. */

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "dp/dp.h"
#include "dp/upcall.h"
#include "lib/errbuf.h"
#include "lib/rcu.h"
#include "packet/packet.h"
#include "tests/unit/test-util.h"

/* ---- Helpers. ---- */

/* Returns a new upcall for 'pid' from port 'port' with tag 'tag'.  Aborts
 * if out of memory (cmocka's asserts are for the main thread only, and
 * threads use this too). */
static struct dp_upcall *
mk_upcall(uint32_t pid, uint32_t port, uint32_t tag)
{
    static const uint8_t frame[60] = { 0x00, 0x00, 0x00, 0x00, 0x00, 0x02 };
    struct dp_upcall *u = calloc(1, sizeof *u);

    if (!u || !(u->packet = packet_create(frame, sizeof frame))) {
        abort();
    }
    u->type = DP_UPCALL_MISS;
    u->packet->md.in_port = port;
    u->pid = pid;
    u->egress_tun_port = tag;
    return u;
}

/* Delivers an upcall from 'port' tagged 'tag' to 'pid'. */
static int
deliver(struct upcall_reg *reg, uint32_t pid, uint32_t port, uint32_t tag)
{
    return upcall_deliver(reg, mk_upcall(pid, port, tag));
}

/* Reads the next upcall of 'ch', checks that it comes from 'port' with
 * tag 'tag', and frees it. */
static void
expect(struct upcall_channel *ch, uint32_t port, uint32_t tag)
{
    struct dp_upcall *u = NULL;

    assert_int_equal(upcall_channel_recv(ch, &u), 0);
    assert_non_null(u);
    assert_int_equal(u->packet->md.in_port, port);
    assert_int_equal(u->egress_tun_port, tag);
    assert_int_equal(u->pid, upcall_channel_pid(ch));
    dp_upcall_free(u);
}

static void
expect_empty(struct upcall_channel *ch)
{
    struct dp_upcall *u = (struct dp_upcall *) &u;

    assert_int_equal(upcall_channel_recv(ch, &u), -EAGAIN);
    assert_null(u);
}

/* Every test gets a registry and an RCU-registered main thread. */
static int
setup(void **state)
{
    struct upcall_reg *reg;

    qsbr_register();
    reg = upcall_reg_create();
    assert_non_null(reg);
    *state = reg;
    return 0;
}

static int
teardown(void **state)
{
    upcall_reg_destroy(*state);
    qsbr_unregister();
    /* The registry's old tables are freed by deferred callbacks. */
    qsbr_barrier();
    return 0;
}

/* ---- Single-threaded tests. ---- */

/* A chosen PID, a PID in use, automatic PIDs, a reopened PID. */
static void
test_pids(void **state)
{
    struct upcall_reg *reg = *state;
    struct upcall_channel *a, *b, *c, *d, *x;
    struct errbuf err;

    errbuf_clear(&err);
    assert_int_equal(upcall_channel_open(reg, 1001, &a, &err), 0);
    assert_non_null(a);
    assert_int_equal(upcall_channel_pid(a), 1001);
    x = (struct upcall_channel *) &x;
    assert_int_equal(upcall_channel_open(reg, 1001, &x, &err), -EADDRINUSE);
    assert_null(x);
    assert_true(errbuf_is_set(&err));

    /* Automatic PIDs: distinct, nonzero, not 1001. */
    assert_int_equal(upcall_channel_open(reg, 0, &b, NULL), 0);
    assert_int_equal(upcall_channel_open(reg, 0, &c, NULL), 0);
    assert_int_not_equal(upcall_channel_pid(b), 0);
    assert_int_not_equal(upcall_channel_pid(c), 0);
    assert_int_not_equal(upcall_channel_pid(b), upcall_channel_pid(c));
    assert_int_not_equal(upcall_channel_pid(b), 1001);
    assert_int_not_equal(upcall_channel_pid(c), 1001);

    /* The next automatic PID skips one that is taken by choice. */
    uint32_t taken = upcall_channel_pid(c) + 1;
    assert_int_equal(upcall_channel_open(reg, taken, &x, NULL), 0);
    assert_int_equal(upcall_channel_open(reg, 0, &d, NULL), 0);
    assert_int_not_equal(upcall_channel_pid(d), taken);
    assert_int_not_equal(upcall_channel_pid(d), 0);
    assert_int_not_equal(upcall_channel_pid(d), upcall_channel_pid(b));
    assert_int_not_equal(upcall_channel_pid(d), upcall_channel_pid(c));
    assert_int_not_equal(upcall_channel_pid(d), 1001);

    /* Each PID reaches its own channel. */
    assert_int_equal(deliver(reg, 1001, 1, 10), 0);
    assert_int_equal(deliver(reg, upcall_channel_pid(b), 1, 11), 0);
    assert_int_equal(deliver(reg, taken, 1, 12), 0);
    expect(a, 1, 10);
    expect(b, 1, 11);
    expect(x, 1, 12);
    expect_empty(c);
    expect_empty(d);

    /* Closed, a PID is free again, and a new channel has it. */
    upcall_channel_close(a);
    assert_int_equal(deliver(reg, 1001, 1, 13), -ECONNREFUSED);
    assert_int_equal(upcall_channel_open(reg, 1001, &a, NULL), 0);
    assert_int_equal(deliver(reg, 1001, 1, 14), 0);
    expect(a, 1, 14);
    expect_empty(a);

    upcall_channel_close(NULL);
    upcall_channel_close(a);
    upcall_channel_close(b);
    upcall_channel_close(c);
    upcall_channel_close(d);
    upcall_channel_close(x);
}

/* Many channels (the registry's table is rebuilt several times), each
 * found by its PID; closing half keeps the others reachable. */
static void
test_many_channels(void **state)
{
    enum { N = 600 };
    struct upcall_reg *reg = *state;
    struct upcall_channel **chs = calloc(N, sizeof *chs);

    assert_non_null(chs);
    for (int i = 0; i < N; i++) {
        assert_int_equal(upcall_channel_open(reg, i % 3 ? 0 : 5000 + i,
                                             &chs[i], NULL), 0);
        for (int j = 0; j < i; j += 97) {
            assert_int_not_equal(upcall_channel_pid(chs[i]),
                                 upcall_channel_pid(chs[j]));
        }
    }
    for (int i = 0; i < N; i++) {
        assert_int_equal(deliver(reg, upcall_channel_pid(chs[i]), 7, i), 0);
    }
    for (int i = 0; i < N; i++) {
        expect(chs[i], 7, i);
        expect_empty(chs[i]);
    }
    /* Close the even ones with an upcall queued (close frees it). */
    for (int i = 0; i < N; i += 2) {
        uint32_t pid = upcall_channel_pid(chs[i]);

        assert_int_equal(deliver(reg, pid, 7, i), 0);
        upcall_channel_close(chs[i]);
        assert_int_equal(deliver(reg, pid, 7, i), -ECONNREFUSED);
    }
    /* Reopen some chosen PIDs over their old slots, and more automatic
     * ones (another rebuild, dropping the closed slots). */
    for (int i = 0; i < N; i += 2) {
        assert_int_equal(upcall_channel_open(reg, i % 3 ? 0 : 5000 + i,
                                             &chs[i], NULL), 0);
    }
    for (int i = 0; i < N; i++) {
        assert_int_equal(deliver(reg, upcall_channel_pid(chs[i]), 8, i), 0);
    }
    for (int i = 0; i < N; i++) {
        expect(chs[i], 8, i);
        expect_empty(chs[i]);
        upcall_channel_close(chs[i]);
    }
    free(chs);
}

/* Upcalls nobody can take are refused and freed (ASan checks the
 * freeing). */
static void
test_unknown_pid(void **state)
{
    struct upcall_reg *reg = *state;
    struct upcall_channel *ch;

    assert_int_equal(deliver(reg, 4242, 1, 0), -ECONNREFUSED);
    assert_int_equal(deliver(reg, 0, 1, 0), -ECONNREFUSED);
    assert_int_equal(upcall_channel_open(reg, 4242, &ch, NULL), 0);
    assert_int_equal(deliver(reg, 4243, 1, 0), -ECONNREFUSED);
    assert_int_equal(deliver(reg, 4242, 1, 0), 0);
    upcall_channel_close(ch);
    assert_int_equal(deliver(reg, 4242, 1, 0), -ECONNREFUSED);
}

/* One port: first in, first out, misses and actions alike. */
static void
test_fifo_order(void **state)
{
    struct upcall_reg *reg = *state;
    struct upcall_channel *ch;
    struct dp_upcall *u;

    assert_int_equal(upcall_channel_open(reg, 77, &ch, NULL), 0);
    /* More than the first ring holds, so it grows while queued. */
    for (uint32_t i = 0; i < 100; i++) {
        u = mk_upcall(77, 3, i);
        u->type = i % 2 ? DP_UPCALL_ACTION : DP_UPCALL_MISS;
        assert_int_equal(upcall_deliver(reg, u), 0);
    }
    for (uint32_t i = 0; i < 100; i++) {
        assert_int_equal(upcall_channel_recv(ch, &u), 0);
        assert_int_equal(u->egress_tun_port, i);
        assert_int_equal(u->type, i % 2 ? DP_UPCALL_ACTION : DP_UPCALL_MISS);
        dp_upcall_free(u);
    }
    expect_empty(ch);

    /* Interleaved writes and reads wrap the ring around. */
    uint32_t next_in = 0, next_out = 0;
    for (int round = 0; round < 50; round++) {
        for (int i = 0; i < 7; i++) {
            assert_int_equal(deliver(reg, 77, 3, next_in++), 0);
        }
        for (int i = 0; i < 5; i++) {
            expect(ch, 3, next_out++);
        }
    }
    while (next_out < next_in) {
        expect(ch, 3, next_out++);
    }
    expect_empty(ch);
    upcall_channel_close(ch);
}

/* Several ports: one upcall of each non-empty port in turn. */
static void
test_round_robin(void **state)
{
    struct upcall_reg *reg = *state;
    struct upcall_channel *ch;

    assert_int_equal(upcall_channel_open(reg, 5, &ch, NULL), 0);
    for (uint32_t i = 0; i < 100; i++) {
        assert_int_equal(deliver(reg, 5, 1, i), 0);        /* Port A. */
    }
    for (uint32_t i = 0; i < 3; i++) {
        assert_int_equal(deliver(reg, 5, 2, i), 0);        /* Port B. */
    }
    /* A, B, A, B, A, B. */
    for (uint32_t i = 0; i < 3; i++) {
        expect(ch, 1, i);
        expect(ch, 2, i);
    }
    /* B is empty: A alone, in order; a port that starts upcalling now
     * joins the turn at the end. */
    expect(ch, 1, 3);
    assert_int_equal(deliver(reg, 5, 0xfffffff0u, 0), 0);   /* Port C. */
    assert_int_equal(deliver(reg, 5, 0xfffffff0u, 1), 0);
    expect(ch, 1, 4);
    expect(ch, 0xfffffff0u, 0);
    expect(ch, 1, 5);
    expect(ch, 0xfffffff0u, 1);
    /* B comes back behind A. */
    assert_int_equal(deliver(reg, 5, 2, 3), 0);
    expect(ch, 1, 6);
    expect(ch, 2, 3);
    for (uint32_t i = 7; i < 100; i++) {
        expect(ch, 1, i);
    }
    expect_empty(ch);

    /* Many ports (the port map grows): one of each, then the second of
     * each, in the order they first upcalled. */
    for (uint32_t port = 100; port < 140; port++) {
        assert_int_equal(deliver(reg, 5, port * 1000, 0), 0);
        assert_int_equal(deliver(reg, 5, port * 1000, 1), 0);
    }
    for (uint32_t tag = 0; tag < 2; tag++) {
        for (uint32_t port = 100; port < 140; port++) {
            expect(ch, port * 1000, tag);
        }
    }
    expect_empty(ch);
    upcall_channel_close(ch);
}

/* A full FIFO refuses new upcalls and keeps the old; other ports are not
 * affected; the length is the registry's at open time. */
static void
test_overflow(void **state)
{
    struct upcall_reg *reg = *state;
    struct upcall_channel_stats st;
    struct upcall_channel *ch, *ch2, *ch3;

    upcall_reg_set_queue_len(reg, 4);
    assert_int_equal(upcall_channel_open(reg, 9, &ch, NULL), 0);
    for (uint32_t i = 0; i < 6; i++) {
        assert_int_equal(deliver(reg, 9, 1, i), i < 4 ? 0 : -ENOBUFS);
    }
    assert_int_equal(deliver(reg, 9, 2, 0), 0);
    upcall_channel_get_stats(ch, &st);
    assert_int_equal(st.queued, 5);
    assert_int_equal(st.overflow, 2);
    assert_int_equal(st.pending, 5);
    assert_int_equal(st.read, 0);
    assert_int_equal(st.purged, 0);

    /* The first four survive, in order; then port 1 has room again. */
    expect(ch, 1, 0);
    expect(ch, 2, 0);
    assert_int_equal(deliver(reg, 9, 1, 6), 0);
    assert_int_equal(deliver(reg, 9, 1, 7), -ENOBUFS);
    for (uint32_t i = 1; i < 4; i++) {
        expect(ch, 1, i);
    }
    expect(ch, 1, 6);
    expect_empty(ch);
    upcall_channel_get_stats(ch, &st);
    assert_int_equal(st.queued, 6);
    assert_int_equal(st.read, 6);
    assert_int_equal(st.overflow, 3);
    assert_int_equal(st.pending, 0);

    /* A new length applies to channels opened afterwards only. */
    upcall_reg_set_queue_len(reg, 2);
    assert_int_equal(upcall_channel_open(reg, 10, &ch2, NULL), 0);
    for (uint32_t i = 0; i < 5; i++) {
        assert_int_equal(deliver(reg, 9, 1, i), i < 4 ? 0 : -ENOBUFS);
        assert_int_equal(deliver(reg, 10, 1, i), i < 2 ? 0 : -ENOBUFS);
    }
    /* 0: back to the default. */
    upcall_reg_set_queue_len(reg, 0);
    assert_int_equal(upcall_channel_open(reg, 11, &ch3, NULL), 0);
    for (uint32_t i = 0; i <= UPCALL_DEFAULT_QUEUE_LEN; i++) {
        assert_int_equal(deliver(reg, 11, 1, i),
                         i < UPCALL_DEFAULT_QUEUE_LEN ? 0 : -ENOBUFS);
    }
    upcall_channel_get_stats(ch3, &st);
    assert_int_equal(st.pending, UPCALL_DEFAULT_QUEUE_LEN);
    assert_int_equal(st.overflow, 1);

    /* Closing frees what the channels hold. */
    upcall_channel_close(ch);
    upcall_channel_close(ch2);
    upcall_channel_close(ch3);
}

/* The fd polls readable exactly while the channel holds upcalls. */
static void
test_eventfd(void **state)
{
    struct upcall_reg *reg = *state;
    struct upcall_channel *ch;
    int fd;

    assert_int_equal(upcall_channel_open(reg, 3, &ch, NULL), 0);
    fd = upcall_channel_fd(ch);
    assert_true(fd >= 0);
    assert_false(tu_fd_readable(fd, 0));
    assert_int_equal(deliver(reg, 3, 1, 0), 0);
    assert_true(tu_fd_readable(fd, 0));
    assert_int_equal(deliver(reg, 3, 2, 0), 0);
    assert_int_equal(deliver(reg, 3, 1, 1), 0);
    assert_true(tu_fd_readable(fd, 0));
    expect(ch, 1, 0);
    assert_true(tu_fd_readable(fd, 0));
    expect(ch, 2, 0);
    assert_true(tu_fd_readable(fd, 0));
    expect(ch, 1, 1);
    assert_false(tu_fd_readable(fd, 0));
    expect_empty(ch);
    assert_false(tu_fd_readable(fd, 0));

    /* Refused upcalls do not make it readable. */
    assert_int_equal(deliver(reg, 4, 1, 0), -ECONNREFUSED);
    assert_false(tu_fd_readable(fd, 0));

    /* Again, and purge empties it. */
    assert_int_equal(deliver(reg, 3, 1, 2), 0);
    assert_true(tu_fd_readable(fd, 0));
    assert_int_equal(upcall_channel_purge(ch), 1);
    assert_false(tu_fd_readable(fd, 0));
    assert_int_equal(deliver(reg, 3, 1, 3), 0);
    assert_true(tu_fd_readable(fd, 0));
    expect(ch, 1, 3);
    assert_false(tu_fd_readable(fd, 0));
    upcall_channel_close(ch);
}

struct late {
    struct upcall_reg *reg;
    uint32_t pid;
    long delay_us;
};

/* Delivers one upcall after a delay. */
static void *
late_main(void *arg)
{
    struct late *l = arg;
    int error;

    qsbr_register();
    qsbr_offline();
    tu_sleep_us(l->delay_us);
    qsbr_online();
    error = deliver(l->reg, l->pid, 6, 66);
    qsbr_unregister();
    return (void *) (intptr_t) error;
}

/* wait: times out when nothing comes; returns when another thread
 * delivers; returns at once when something is queued. */
static void
test_wait(void **state)
{
    struct upcall_reg *reg = *state;
    struct upcall_channel *ch;
    struct late l = { reg, 21, 100 * 1000 };
    pthread_t th;
    int64_t t0;
    void *ret;

    assert_int_equal(upcall_channel_open(reg, 21, &ch, NULL), 0);
    qsbr_offline();
    t0 = tu_now_ms();
    assert_int_equal(upcall_channel_wait(ch, 50), -ETIMEDOUT);
    assert_true(tu_now_ms() - t0 >= 45);
    assert_int_equal(upcall_channel_wait(ch, 0), -ETIMEDOUT);

    /* Woken by a delivery from another thread (forever, and with a long
     * timeout). */
    assert_int_equal(pthread_create(&th, NULL, late_main, &l), 0);
    assert_int_equal(upcall_channel_wait(ch, -1), 0);
    assert_int_equal(pthread_join(th, &ret), 0);
    assert_int_equal((intptr_t) ret, 0);
    assert_int_equal(upcall_channel_wait(ch, 0), 0);
    expect(ch, 6, 66);

    assert_int_equal(pthread_create(&th, NULL, late_main, &l), 0);
    t0 = tu_now_ms();
    assert_int_equal(upcall_channel_wait(ch, 20000), 0);
    assert_true(tu_now_ms() - t0 < 20000);
    assert_int_equal(pthread_join(th, &ret), 0);
    expect(ch, 6, 66);
    assert_int_equal(upcall_channel_wait(ch, 10), -ETIMEDOUT);
    qsbr_online();
    upcall_channel_close(ch);
}

/* purge: frees and counts; the counters add up. */
static void
test_purge(void **state)
{
    struct upcall_reg *reg = *state;
    struct upcall_channel_stats st;
    struct upcall_channel *ch;

    assert_int_equal(upcall_channel_open(reg, 31, &ch, NULL), 0);
    assert_int_equal(upcall_channel_purge(ch), 0);
    for (uint32_t i = 0; i < 5; i++) {
        assert_int_equal(deliver(reg, 31, 1 + i % 2, i), 0);
    }
    expect(ch, 1, 0);
    assert_int_equal(upcall_channel_purge(ch), 4);
    expect_empty(ch);
    assert_int_equal(upcall_channel_purge(ch), 0);
    upcall_channel_get_stats(ch, &st);
    assert_int_equal(st.queued, 5);
    assert_int_equal(st.read, 1);
    assert_int_equal(st.purged, 4);
    assert_int_equal(st.pending, 0);
    assert_int_equal(st.overflow, 0);

    /* The channel works after a purge, order and all. */
    assert_int_equal(deliver(reg, 31, 2, 10), 0);
    assert_int_equal(deliver(reg, 31, 1, 11), 0);
    expect(ch, 2, 10);
    expect(ch, 1, 11);
    upcall_channel_close(ch);
}

/* Closing a channel, or destroying the registry, frees what is queued
 * (ASan would report a leak). */
static void
test_close_frees(void **state)
{
    struct upcall_reg *reg = *state;
    struct upcall_reg *reg2 = upcall_reg_create();
    struct upcall_channel *ch, *ch2, *ch3;

    assert_non_null(reg2);
    assert_int_equal(upcall_channel_open(reg, 41, &ch, NULL), 0);
    for (uint32_t i = 0; i < 50; i++) {
        assert_int_equal(deliver(reg, 41, i % 5, i), 0);
    }
    upcall_channel_close(ch);

    /* Channels still open when the registry goes: freed with it. */
    assert_int_equal(upcall_channel_open(reg2, 41, &ch2, NULL), 0);
    assert_int_equal(upcall_channel_open(reg2, 0, &ch3, NULL), 0);
    for (uint32_t i = 0; i < 50; i++) {
        assert_int_equal(deliver(reg2, 41, i % 5, i), 0);
        assert_int_equal(deliver(reg2, upcall_channel_pid(ch3), 1, i), 0);
    }
    /* Two registries are independent. */
    assert_int_equal(deliver(reg, 41, 1, 0), -ECONNREFUSED);
    upcall_reg_destroy(reg2);
    upcall_reg_destroy(NULL);
}

/* ---- Threads. ---- */

/* Fairness: port 1 floods, port 2 trickles, one reader drains. */
enum { SLOW_N = 1000 };

struct fair {
    struct upcall_reg *reg;
    struct upcall_channel *ch;
    atomic_bool slow_done;      /* Port 2's producer has finished. */
    atomic_bool flood_done;
    /* Written by the producers, read after they are joined. */
    uint64_t flood_sent, flood_refused, slow_refused;
    /* Written by the reader. */
    uint64_t flood_read, slow_read;
    bool slow_in_order;
    bool bad_port;
};

static void *
flood_main(void *arg)
{
    struct fair *f = arg;
    uint64_t i;

    qsbr_register();
    for (i = 0; !atomic_load(&f->slow_done); i++) {
        if (deliver(f->reg, upcall_channel_pid(f->ch), 1, (uint32_t) i)) {
            f->flood_refused++;
        }
        qsbr_quiesce();
    }
    f->flood_sent = i;
    atomic_store(&f->flood_done, true);
    qsbr_unregister();
    return NULL;
}

static void *
slow_main(void *arg)
{
    struct fair *f = arg;

    qsbr_register();
    for (uint32_t i = 0; i < SLOW_N; i++) {
        if (deliver(f->reg, upcall_channel_pid(f->ch), 2, i)) {
            f->slow_refused++;
        }
        qsbr_offline();
        tu_sleep_us(200);
        qsbr_online();
    }
    atomic_store(&f->slow_done, true);
    qsbr_unregister();
    return NULL;
}

/* Reads until both producers are done and the channel is empty.  It is
 * made slower than the flood on purpose (a pause every 64 upcalls), so
 * that port 1 overflows whatever the machine's speed. */
static void *
fair_reader_main(void *arg)
{
    struct fair *f = arg;
    uint32_t next_slow = 0, n = 0;
    struct dp_upcall *u;

    f->slow_in_order = true;
    for (;;) {
        bool done = atomic_load(&f->flood_done);

        if (upcall_channel_recv(f->ch, &u)) {
            if (done) {
                break;
            }
            upcall_channel_wait(f->ch, 10);
            continue;
        }
        if (u->packet->md.in_port == 1) {
            f->flood_read++;
        } else if (u->packet->md.in_port == 2) {
            f->slow_in_order &= u->egress_tun_port == next_slow++;
            f->slow_read++;
        } else {
            f->bad_port = true;
        }
        dp_upcall_free(u);
        if (++n % 64 == 0) {
            tu_sleep_us(2000);
        }
    }
    return NULL;
}

static void
test_fairness(void **state)
{
    struct fair f = { .reg = *state };
    struct upcall_channel_stats st;
    pthread_t flood, slow, reader;

    upcall_reg_set_queue_len(f.reg, 256);
    assert_int_equal(upcall_channel_open(f.reg, 0, &f.ch, NULL), 0);
    atomic_init(&f.slow_done, false);
    atomic_init(&f.flood_done, false);
    qsbr_offline();
    assert_int_equal(pthread_create(&reader, NULL, fair_reader_main, &f), 0);
    assert_int_equal(pthread_create(&flood, NULL, flood_main, &f), 0);
    assert_int_equal(pthread_create(&slow, NULL, slow_main, &f), 0);
    assert_int_equal(pthread_join(slow, NULL), 0);
    assert_int_equal(pthread_join(flood, NULL), 0);
    assert_int_equal(pthread_join(reader, NULL), 0);
    qsbr_online();

    /* Port 2 lost nothing, in order; port 1 overflowed, and what it did
     * not lose was read. */
    assert_false(f.bad_port);
    assert_int_equal(f.slow_refused, 0);
    assert_int_equal(f.slow_read, SLOW_N);
    assert_true(f.slow_in_order);
    assert_true(f.flood_refused > 0);
    assert_int_equal(f.flood_read + f.flood_refused, f.flood_sent);
    upcall_channel_get_stats(f.ch, &st);
    assert_int_equal(st.overflow, f.flood_refused);
    assert_int_equal(st.queued, f.flood_read + f.slow_read);
    assert_int_equal(st.read, st.queued);
    assert_int_equal(st.pending, 0);
    printf("fairness: port 1 sent %llu, refused %llu; port 2 sent %d, "
           "read %llu\n", (unsigned long long) f.flood_sent,
           (unsigned long long) f.flood_refused, SLOW_N,
           (unsigned long long) f.slow_read);
    upcall_channel_close(f.ch);
}

/* Producers deliver to a channel that stays and to PIDs whose channels
 * the main thread opens and closes meanwhile (table rebuilds included);
 * a reader drains the one that stays. */
enum { MT_PRODUCERS = 2, MT_ITERS = 20000, MT_CHURN_PID = 777 };

struct mt {
    struct upcall_reg *reg;
    struct upcall_channel *stay;
    atomic_uint producers_left;
    uint32_t auto_pids[8];      /* PIDs the churn may have; set before
                                 * the threads start. */
    /* Per producer, read after the join. */
    uint64_t stay_ok[MT_PRODUCERS], stay_refused[MT_PRODUCERS];
    uint64_t churn_ok[MT_PRODUCERS];
    /* The reader's. */
    uint64_t stay_read[MT_PRODUCERS];
    bool in_order;
};

struct mt_producer {
    struct mt *mt;
    uint32_t id;
};

static void *
mt_producer_main(void *arg)
{
    struct mt_producer *p = arg;
    struct mt *mt = p->mt;
    uint32_t stay = upcall_channel_pid(mt->stay);

    qsbr_register();
    for (uint32_t i = 0; i < MT_ITERS; i++) {
        int error = deliver(mt->reg, stay, p->id, i);

        if (!error) {
            mt->stay_ok[p->id]++;
        } else if (error == -ENOBUFS) {
            mt->stay_refused[p->id]++;
        } else {
            abort();
        }
        error = deliver(mt->reg, i % 2 ? MT_CHURN_PID
                                       : mt->auto_pids[i / 2 % 8], p->id, i);
        if (!error) {
            mt->churn_ok[p->id]++;
        } else if (error != -ECONNREFUSED && error != -ENOBUFS) {
            abort();
        }
        qsbr_quiesce();
    }
    atomic_fetch_sub(&mt->producers_left, 1);
    qsbr_unregister();
    return NULL;
}

static void *
mt_reader_main(void *arg)
{
    struct mt *mt = arg;
    uint32_t next[MT_PRODUCERS] = { 0 };
    struct dp_upcall *u;

    mt->in_order = true;
    for (;;) {
        bool done = !atomic_load(&mt->producers_left);

        if (upcall_channel_recv(mt->stay, &u)) {
            if (done) {
                break;
            }
            upcall_channel_wait(mt->stay, 5);
            continue;
        }
        uint32_t id = u->packet->md.in_port;

        if (id >= MT_PRODUCERS) {
            abort();
        }
        /* Refusals leave gaps; what is read is increasing. */
        mt->in_order &= u->egress_tun_port >= next[id];
        next[id] = u->egress_tun_port + 1;
        mt->stay_read[id]++;
        dp_upcall_free(u);
    }
    return NULL;
}

static void
test_threads(void **state)
{
    struct mt mt = { .reg = *state };
    struct mt_producer prod[MT_PRODUCERS];
    pthread_t th[MT_PRODUCERS], reader;
    struct upcall_channel *churn[8], *extra[24];
    struct upcall_channel_stats st;
    uint64_t churn_read = 0;
    struct dp_upcall *u;
    int rounds = 0;

    upcall_reg_set_queue_len(mt.reg, 64);
    assert_int_equal(upcall_channel_open(mt.reg, 0, &mt.stay, NULL), 0);
    /* Learn eight automatic PIDs, then free them: the churn reopens them
     * by number. */
    for (int i = 0; i < 8; i++) {
        assert_int_equal(upcall_channel_open(mt.reg, 0, &churn[i], NULL), 0);
        mt.auto_pids[i] = upcall_channel_pid(churn[i]);
    }
    for (int i = 0; i < 8; i++) {
        upcall_channel_close(churn[i]);
    }
    atomic_init(&mt.producers_left, MT_PRODUCERS);
    assert_int_equal(pthread_create(&reader, NULL, mt_reader_main, &mt), 0);
    for (uint32_t i = 0; i < MT_PRODUCERS; i++) {
        prod[i] = (struct mt_producer) { &mt, i };
        assert_int_equal(pthread_create(&th[i], NULL, mt_producer_main,
                                        &prod[i]), 0);
    }

    /* Open and close while the producers run: the churn PIDs, and extra
     * automatic channels that make the table grow and be rebuilt. */
    while (atomic_load(&mt.producers_left) || rounds < 3) {
        struct upcall_channel *c777;

        assert_int_equal(upcall_channel_open(mt.reg, MT_CHURN_PID, &c777,
                                             NULL), 0);
        for (int i = 0; i < 8; i++) {
            assert_int_equal(upcall_channel_open(mt.reg, mt.auto_pids[i],
                                                 &churn[i], NULL), 0);
        }
        for (int i = 0; i < 24; i++) {
            assert_int_equal(upcall_channel_open(mt.reg, 0, &extra[i], NULL),
                             0);
        }
        qsbr_quiesce();
        for (int i = 0; i < 8; i++) {
            while (!upcall_channel_recv(churn[i], &u)) {
                dp_upcall_free(u);
                churn_read++;
            }
        }
        while (!upcall_channel_recv(c777, &u)) {
            dp_upcall_free(u);
            churn_read++;
        }
        /* Some are closed with upcalls queued. */
        upcall_channel_close(c777);
        for (int i = 0; i < 8; i++) {
            upcall_channel_close(churn[i]);
        }
        for (int i = 0; i < 24; i++) {
            upcall_channel_close(extra[i]);
        }
        rounds++;
    }
    qsbr_offline();
    for (uint32_t i = 0; i < MT_PRODUCERS; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
    }
    assert_int_equal(pthread_join(reader, NULL), 0);
    qsbr_online();

    assert_true(mt.in_order);
    upcall_channel_get_stats(mt.stay, &st);
    for (uint32_t i = 0; i < MT_PRODUCERS; i++) {
        assert_int_equal(mt.stay_ok[i] + mt.stay_refused[i], MT_ITERS);
        assert_int_equal(mt.stay_read[i], mt.stay_ok[i]);
    }
    assert_int_equal(st.queued, mt.stay_ok[0] + mt.stay_ok[1]);
    assert_int_equal(st.overflow, mt.stay_refused[0] + mt.stay_refused[1]);
    assert_int_equal(st.read, st.queued);
    assert_int_equal(st.pending, 0);
    assert_true(churn_read <= mt.churn_ok[0] + mt.churn_ok[1]);
    printf("threads: %d open/close rounds; stay channel %llu queued, "
           "%llu refused; churn %llu delivered, %llu read\n", rounds,
           (unsigned long long) st.queued,
           (unsigned long long) st.overflow,
           (unsigned long long) (mt.churn_ok[0] + mt.churn_ok[1]),
           (unsigned long long) churn_read);
    upcall_channel_close(mt.stay);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_pids, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_channels, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_unknown_pid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fifo_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_round_robin, setup, teardown),
        cmocka_unit_test_setup_teardown(test_overflow, setup, teardown),
        cmocka_unit_test_setup_teardown(test_eventfd, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wait, setup, teardown),
        cmocka_unit_test_setup_teardown(test_purge, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_frees, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fairness, setup, teardown),
        cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
