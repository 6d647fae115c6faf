/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for port/port.c and the dummy provider (port/port-dummy.c):
 * opening and its errors, option parsing, rx/tx in FIFO order with their
 * counters, capture=false, loop mode with its pool, closing with packets
 * still out, and concurrent inject/rx and tx/take (this file is in the
 * TSan suite too). */

#include "port/port.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/errbuf.h"
#include "packet/packet.h"
#include "port/port-dummy.h"

/* Opens a dummy port, which must succeed. */
static struct port *
open_dummy(const char *name, const char *options)
{
    struct errbuf err;
    struct port *port = NULL;

    errbuf_clear(&err);
    assert_int_equal(0, port_open("dummy", name, options, &port, &err));
    assert_non_null(port);
    assert_false(errbuf_is_set(&err));
    return port;
}

/* Opening with these arguments fails with 'error' and a reason containing
 * 'reason'. */
static void
assert_open_fails(const char *type, const char *name, const char *options,
                  int error, const char *reason)
{
    struct errbuf err;
    struct port *port = (struct port *) &err;

    errbuf_clear(&err);
    assert_int_equal(error, port_open(type, name, options, &port, &err));
    assert_null(port);
    if (!strstr(err.msg, reason)) {
        fail_msg("reason '%s' lacks '%s'", err.msg, reason);
    }
}

/* A frame of 'len' bytes whose first two bytes are 'id'. */
static void
make_frame(uint8_t *buf, size_t len, uint16_t id)
{
    memset(buf, 0x5a, len);
    buf[0] = (uint8_t) (id >> 8);
    buf[1] = (uint8_t) id;
}

static uint16_t
frame_id(const struct packet *p)
{
    assert_true(p->len >= 2);
    return (uint16_t) (p->data[0] << 8 | p->data[1]);
}

static void
test_open_close(void **state)
{
    struct port *port;

    (void) state;
    port = open_dummy("p0", NULL);
    assert_string_equal("dummy", port_type(port));
    assert_string_equal("p0", port->name);
    port_close(port);

    port = open_dummy("exactly15chars_", "");
    port_close(port);
    port_close(NULL);

    assert_open_fails("dummy", "", NULL, -EINVAL, "1 to 15 characters");
    assert_open_fails("dummy", NULL, NULL, -EINVAL, "1 to 15 characters");
    assert_open_fails("dummy", "sixteen-chars-xx", NULL, -EINVAL,
                      "sixteen-chars-xx");
    assert_open_fails("afxdp", "p1", NULL, -EAFNOSUPPORT,
                      "unknown port type 'afxdp'");
    assert_open_fails(NULL, "p1", NULL, -EAFNOSUPPORT, "unknown port type");
}

static void
test_options(void **state)
{
    (void) state;
    port_close(open_dummy("a", "capture=false"));
    port_close(open_dummy("a", "loop=true"));
    port_close(open_dummy("a", "loop=false,capture=true"));
    port_close(open_dummy("a", "capture=false,loop=true"));

    assert_open_fails("dummy", "a", "speed=10", -EINVAL,
                      "unknown option 'speed'");
    assert_open_fails("dummy", "a", "capture=yes", -EINVAL,
                      "option 'capture': 'yes' is not true or false");
    assert_open_fails("dummy", "a", "capture=", -EINVAL,
                      "'' is not true or false");
    assert_open_fails("dummy", "a", "loop", -EINVAL,
                      "option 'loop' has no value");
    assert_open_fails("dummy", "a", "loop=true,,capture=false", -EINVAL,
                      "empty option");
    assert_open_fails("dummy", "a", "loop=true,", -EINVAL, "empty option");
    assert_open_fails("dummy", "a", ",", -EINVAL, "empty option");
    assert_open_fails("dummy", "a", "loop=true,loop=false", -EINVAL,
                      "option 'loop' given twice");
    assert_open_fails("dummy", "a", "=true", -EINVAL, "unknown option ''");
    /* The reason names the port too. */
    assert_open_fails("dummy", "eth7", "x=1", -EINVAL, "eth7: ");
}

static void
test_rx_fifo(void **state)
{
    struct port *port = open_dummy("rx", NULL);
    struct port_stats st;
    struct pkt_batch b;
    uint8_t frame[100];
    uint64_t bytes = 0;

    (void) state;
    /* Nothing injected: nothing received. */
    pkt_batch_init(&b);
    assert_int_equal(0, port_rx(port, &b));
    assert_int_equal(0, b.n);

    for (uint16_t i = 0; i < 40; i++) {
        make_frame(frame, 60 + i, i);
        assert_int_equal(0, port_dummy_inject(port, frame, 60 + i));
        bytes += 60 + i;
    }

    /* A full batch, then the rest, in order. */
    assert_int_equal(PKT_BATCH_MAX, port_rx(port, &b));
    assert_int_equal(PKT_BATCH_MAX, b.n);
    for (uint32_t i = 0; i < b.n; i++) {
        assert_int_equal(i, frame_id(b.pkts[i]));
        assert_int_equal(60 + i, b.pkts[i]->len);
        assert_int_equal(0, b.pkts[i]->md.in_port);
    }
    pkt_batch_free(&b);
    assert_int_equal(40 - PKT_BATCH_MAX, port_rx(port, &b));
    assert_int_equal(PKT_BATCH_MAX, frame_id(b.pkts[0]));
    pkt_batch_free(&b);
    assert_int_equal(0, port_rx(port, &b));

    port_get_stats(port, &st);
    assert_int_equal(40, st.rx_packets);
    assert_int_equal(bytes, st.rx_bytes);
    assert_int_equal(0, st.tx_packets);

    /* Left in the queue at close: freed (ASan checks). */
    assert_int_equal(0, port_dummy_inject(port, frame, 10));
    port_close(port);
}

static void
test_tx_capture(void **state)
{
    struct port *port = open_dummy("tx", NULL);
    struct port_stats st;
    struct pkt_batch b;
    uint8_t frame[64];
    struct packet *p;

    (void) state;
    assert_null(port_dummy_take(port));
    pkt_batch_init(&b);
    assert_int_equal(0, port_tx(port, &b));     /* Empty batch. */

    for (uint16_t round = 0; round < 3; round++) {
        pkt_batch_init(&b);
        for (uint16_t i = 0; i < 30; i++) {
            make_frame(frame, sizeof frame, (uint16_t) (round * 30 + i));
            pkt_batch_add(&b, packet_create(frame, sizeof frame));
        }
        assert_int_equal(0, port_tx(port, &b));
        assert_int_equal(0, b.n);
    }
    assert_int_equal(90, port_dummy_tx_queued(port));

    for (uint16_t i = 0; i < 50; i++) {
        p = port_dummy_take(port);
        assert_non_null(p);
        assert_int_equal(i, frame_id(p));
        packet_free(p);
    }
    assert_int_equal(40, port_dummy_tx_queued(port));

    port_get_stats(port, &st);
    assert_int_equal(90, st.tx_packets);
    assert_int_equal(90 * sizeof frame, st.tx_bytes);
    assert_int_equal(0, st.tx_dropped);
    assert_int_equal(0, st.rx_packets);

    port_close(port);           /* 40 still queued: freed. */
}

static void
test_tx_no_capture(void **state)
{
    struct port *port = open_dummy("sink", "capture=false");
    struct pkt_pool *pool = pkt_pool_create(PKT_BATCH_MAX, 512);
    struct port_stats st;
    struct pkt_batch b;

    (void) state;
    assert_non_null(pool);
    for (int round = 0; round < 100; round++) {
        pkt_batch_init(&b);
        assert_int_equal(PKT_BATCH_MAX,
                         pkt_pool_get(pool, &b, PKT_BATCH_MAX));
        for (uint32_t i = 0; i < b.n; i++) {
            b.pkts[i]->len = 64;
        }
        /* An ordinary packet among the pooled ones. */
        packet_free(b.pkts[--b.n]);
        pkt_batch_add(&b, packet_create("abc", 3));
        assert_int_equal(0, port_tx(port, &b));
        assert_int_equal(0, b.n);
    }
    assert_int_equal(0, port_dummy_tx_queued(port));
    assert_null(port_dummy_take(port));

    port_get_stats(port, &st);
    assert_int_equal(100 * PKT_BATCH_MAX, st.tx_packets);
    assert_int_equal(100 * ((PKT_BATCH_MAX - 1) * 64 + 3), st.tx_bytes);

    /* Every pooled packet came back. */
    pkt_batch_init(&b);
    assert_int_equal(PKT_BATCH_MAX, pkt_pool_get(pool, &b, PKT_BATCH_MAX));
    pkt_batch_free(&b);
    pkt_pool_destroy(pool);
    port_close(port);
}

static void
test_loop(void **state)
{
    struct port *port = open_dummy("loop", "loop=true");
    struct port_stats st;
    struct pkt_batch b;
    uint8_t frame[3000];

    (void) state;
    /* Nothing to loop over yet. */
    pkt_batch_init(&b);
    assert_int_equal(0, port_rx(port, &b));

    /* Three frames, the last longer than a pool buffer. */
    make_frame(frame, 64, 0);
    assert_int_equal(0, port_dummy_inject(port, frame, 64));
    make_frame(frame, 1514, 1);
    assert_int_equal(0, port_dummy_inject(port, frame, 1514));
    make_frame(frame, 3000, 2);
    assert_int_equal(0, port_dummy_inject(port, frame, 3000));

    /* The frames cycle 0, 1, 2, 0, ..., across batches. */
    for (int round = 0; round < 4; round++) {
        pkt_batch_init(&b);
        assert_int_equal(PKT_BATCH_MAX, port_rx(port, &b));
        for (uint32_t i = 0; i < b.n; i++) {
            size_t k = (size_t) round * PKT_BATCH_MAX + i;
            struct packet *p = b.pkts[i];

            assert_int_equal(k % 3, frame_id(p));
            assert_int_equal(k % 3 == 0 ? 64 : k % 3 == 1 ? 1514 : 3000,
                             p->len);
            assert_int_equal(0x5a, p->data[p->len - 1]);
            assert_int_equal(PKT_OFS_NONE, p->l3_ofs);
            if (k % 3 == 2) {
                assert_null(p->pool);           /* Too long: malloc. */
            } else {
                assert_non_null(p->pool);
            }
        }
        pkt_batch_free(&b);
    }
    /* The injected frames are still there. */
    port_get_stats(port, &st);
    assert_int_equal(4 * PKT_BATCH_MAX, st.rx_packets);
    port_close(port);
}

/* A loop port whose packets are all in flight receives nothing until some
 * come back. */
static void
test_loop_pool_dry(void **state)
{
    struct port *port = open_dummy("loop", "loop=true");
    struct pkt_batch *held;
    size_t n_held = 0, total = 0;
    struct pkt_batch b;
    uint8_t frame[60];

    (void) state;
    make_frame(frame, sizeof frame, 7);
    assert_int_equal(0, port_dummy_inject(port, frame, sizeof frame));

    held = calloc(64, sizeof *held);
    assert_non_null(held);
    for (;;) {
        int n;

        assert_true(n_held < 64);
        pkt_batch_init(&held[n_held]);
        n = port_rx(port, &held[n_held]);
        assert_true(n >= 0);
        if (!n) {
            break;
        }
        total += (size_t) n;
        n_held++;
    }
    assert_int_equal(1024, total);

    /* One batch back: one batch more. */
    pkt_batch_free(&held[--n_held]);
    pkt_batch_init(&b);
    assert_int_equal(PKT_BATCH_MAX, port_rx(port, &b));
    assert_int_equal(0, port_rx(port, &held[n_held]));
    pkt_batch_free(&b);

    /* Close with every other packet still out: the pool goes when the
     * last one is freed (ASan checks both ways). */
    port_close(port);
    while (n_held) {
        pkt_batch_free(&held[--n_held]);
    }
    free(held);
}

/* The benchmark shape: loop rx -> capture=false tx, no allocation per
 * packet, counters add up. */
static void
test_loop_to_sink(void **state)
{
    struct port *in = open_dummy("in", "loop=true");
    struct port *out = open_dummy("out", "capture=false");
    struct port_stats si, so;
    uint8_t frame[128];
    uint64_t n = 0;

    (void) state;
    for (uint16_t i = 0; i < 5; i++) {
        make_frame(frame, 64 + i, i);
        assert_int_equal(0, port_dummy_inject(in, frame, 64 + i));
    }
    for (int i = 0; i < 3000; i++) {
        struct pkt_batch b;

        pkt_batch_init(&b);
        assert_int_equal(PKT_BATCH_MAX, port_rx(in, &b));
        n += b.n;
        assert_int_equal(0, port_tx(out, &b));
    }
    port_get_stats(in, &si);
    port_get_stats(out, &so);
    assert_int_equal(n, si.rx_packets);
    assert_int_equal(n, so.tx_packets);
    assert_int_equal(si.rx_bytes, so.tx_bytes);
    /* 96,000 packets cycling through 5 frames of 64..68 bytes. */
    assert_int_equal(n / 5 * (64 + 65 + 66 + 67 + 68), si.rx_bytes);
    port_close(in);
    port_close(out);
}

/* Loop packets queued on a capturing port when the loop port closes. */
static void
test_close_with_packets_elsewhere(void **state)
{
    struct port *in = open_dummy("in", "loop=true");
    struct port *out = open_dummy("out", NULL);
    struct pkt_batch b;
    uint8_t frame[64];

    (void) state;
    make_frame(frame, sizeof frame, 1);
    assert_int_equal(0, port_dummy_inject(in, frame, sizeof frame));
    pkt_batch_init(&b);
    assert_int_equal(PKT_BATCH_MAX, port_rx(in, &b));
    assert_int_equal(0, port_tx(out, &b));
    port_close(in);
    packet_free(port_dummy_take(out));
    port_close(out);            /* Frees the last ones, then the pool. */
}

static void
test_not_dummy(void **state)
{
    (void) state;
    assert_int_equal(-EINVAL, port_dummy_inject(NULL, "x", 1));
    assert_null(port_dummy_take(NULL));
    assert_int_equal(0, port_dummy_tx_queued(NULL));
}

/* Concurrency: a thread injects while another receives, and a thread
 * transmits while another takes; nothing is lost or duplicated.  cmocka's
 * assertions work only on the test's own thread, so the helper threads
 * report failure through their return value (NULL: all went well). */
#define N_CONCURRENT 20000

static void *
injector_main(void *arg)
{
    struct port *port = arg;
    uint8_t frame[60];

    for (uint32_t i = 0; i < N_CONCURRENT; i++) {
        make_frame(frame, sizeof frame, (uint16_t) i);
        if (port_dummy_inject(port, frame, sizeof frame)) {
            return "inject failed";
        }
    }
    return NULL;
}

static void *
taker_main(void *arg)
{
    struct port *port = arg;
    uint32_t next = 0;

    while (next < N_CONCURRENT) {
        struct packet *p = port_dummy_take(port);
        uint16_t id;

        if (!p) {
            sched_yield();
            continue;
        }
        id = (uint16_t) (p->data[0] << 8 | p->data[1]);
        packet_free(p);
        if (id != (uint16_t) next) {
            return "transmitted out of order";
        }
        next++;
    }
    return NULL;
}

static void
test_concurrent(void **state)
{
    struct port *port = open_dummy("c", NULL);
    pthread_t inj, tak;
    uint32_t next = 0;

    (void) state;
    assert_int_equal(0, pthread_create(&inj, NULL, injector_main, port));
    assert_int_equal(0, pthread_create(&tak, NULL, taker_main, port));

    /* This thread is the datapath: rx from the port, tx back to it. */
    while (next < N_CONCURRENT) {
        struct pkt_batch b;
        int n;

        pkt_batch_init(&b);
        n = port_rx(port, &b);
        assert_true(n >= 0);
        if (!n) {
            sched_yield();
            continue;
        }
        for (int i = 0; i < n; i++) {
            assert_int_equal((uint16_t) next, frame_id(b.pkts[i]));
            next++;
        }
        assert_int_equal(0, port_tx(port, &b));
    }
    for (int i = 0; i < 2; i++) {
        void *failure;

        assert_int_equal(0, pthread_join(i ? tak : inj, &failure));
        if (failure) {
            fail_msg("%s", (const char *) failure);
        }
    }
    port_close(port);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_close),
        cmocka_unit_test(test_options),
        cmocka_unit_test(test_rx_fifo),
        cmocka_unit_test(test_tx_capture),
        cmocka_unit_test(test_tx_no_capture),
        cmocka_unit_test(test_loop),
        cmocka_unit_test(test_loop_pool_dry),
        cmocka_unit_test(test_loop_to_sink),
        cmocka_unit_test(test_close_with_packets_elsewhere),
        cmocka_unit_test(test_not_dummy),
        cmocka_unit_test(test_concurrent),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
