/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for port/port.c and its providers.
 *
 * port.c: opening and its errors, unique port names, the get_info
 * defaults.  The dummy provider (port/port-dummy.c): option parsing,
 * rx/tx in FIFO order with their counters, capture=false, loop mode with
 * its pool, closing with packets still out, n_rxq, the rx eventfd, and
 * concurrent inject/rx and tx/take (this file is in the TSan suite too).
 * The tap provider (port/port-tap.c): creating the device with its
 * options, refusing one that exists, frames both ways through AF_PACKET
 * sockets on the device, and a device moved into another network
 * namespace (these skip without /dev/net/tun and CAP_NET_ADMIN).  The
 * pcap provider (port/port-pcap.c): a round trip through a file, loop
 * mode, and files and options it refuses. */

#define _GNU_SOURCE             /* unshare(), setns(), CLONE_NEWNET. */

#include "port/port.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netpacket/packet.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <linux/if_tun.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <cmocka.h>

#include "lib/errbuf.h"
#include "packet/packet.h"
#include "port/port-dummy.h"
#include "tests/unit/test-util.h"

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
    assert_open_fails("nosuch", "p1", NULL, -EAFNOSUPPORT,
                      "unknown port type 'nosuch'");
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
    assert_int_equal(0, port_rx(port, 0, &b));
    assert_int_equal(0, b.n);

    for (uint16_t i = 0; i < 40; i++) {
        make_frame(frame, 60 + i, i);
        assert_int_equal(0, port_dummy_inject(port, frame, 60 + i));
        bytes += 60 + i;
    }

    /* A full batch, then the rest, in order. */
    assert_int_equal(PKT_BATCH_MAX, port_rx(port, 0, &b));
    assert_int_equal(PKT_BATCH_MAX, b.n);
    for (uint32_t i = 0; i < b.n; i++) {
        assert_int_equal(i, frame_id(b.pkts[i]));
        assert_int_equal(60 + i, b.pkts[i]->len);
        assert_int_equal(0, b.pkts[i]->md.in_port);
    }
    pkt_batch_free(&b);
    assert_int_equal(40 - PKT_BATCH_MAX, port_rx(port, 0, &b));
    assert_int_equal(PKT_BATCH_MAX, frame_id(b.pkts[0]));
    pkt_batch_free(&b);
    assert_int_equal(0, port_rx(port, 0, &b));

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
    assert_int_equal(0, port_rx(port, 0, &b));

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
        assert_int_equal(PKT_BATCH_MAX, port_rx(port, 0, &b));
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
        n = port_rx(port, 0, &held[n_held]);
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
    assert_int_equal(PKT_BATCH_MAX, port_rx(port, 0, &b));
    assert_int_equal(0, port_rx(port, 0, &held[n_held]));
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
        assert_int_equal(PKT_BATCH_MAX, port_rx(in, 0, &b));
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
    assert_int_equal(PKT_BATCH_MAX, port_rx(in, 0, &b));
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
        n = port_rx(port, 0, &b);
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

/* port.c: a port name is unique on the host, whatever the types. */
static void
test_unique_names(void **state)
{
    struct port *a, *b;

    (void) state;
    a = open_dummy("same", NULL);
    assert_open_fails("dummy", "same", NULL, -EEXIST,
                      "same: a port with this name is open already");
    assert_open_fails("pcap", "same", "tx=/nonexistent/x.pcap", -EEXIST,
                      "a port with this name is open already");
    b = open_dummy("other", NULL);
    port_close(a);

    /* Closing frees the name; a failed open does not hold it. */
    a = open_dummy("same", NULL);
    port_close(a);
    assert_open_fails("dummy", "same", "x=1", -EINVAL, "unknown option");
    a = open_dummy("same", NULL);
    port_close(a);
    port_close(b);
}

/* port_get_info() for a provider without get_info: the defaults. */
static void
test_info_defaults(void **state)
{
    struct port *port = open_dummy("info", NULL);
    struct port_info info;

    (void) state;
    memset(&info, 0xa5, sizeof info);
    port_get_info(port, &info);
    assert_int_equal(1500, info.mtu);
    assert_memory_equal("\0\0\0\0\0\0", info.mac, 6);
    assert_true(info.link_up);
    assert_int_equal(0, info.ifindex);
    port_close(port);
}

/* Dummy ports: n_rxq=N gives N queues, all draining the one FIFO. */
static void
test_dummy_n_rxq(void **state)
{
    struct port *port;
    struct pkt_batch b;
    uint8_t frame[60];

    (void) state;
    port = open_dummy("q", NULL);
    assert_int_equal(1, port->n_rxq);
    port_close(port);

    port = open_dummy("q", "n_rxq=4");
    assert_int_equal(4, port->n_rxq);
    for (uint16_t i = 0; i < 3; i++) {
        make_frame(frame, sizeof frame, i);
        assert_int_equal(0, port_dummy_inject(port, frame, sizeof frame));
    }
    pkt_batch_init(&b);
    assert_int_equal(3, port_rx(port, 3, &b));
    assert_int_equal(0, frame_id(b.pkts[0]));
    pkt_batch_free(&b);
    assert_int_equal(0, port_rx(port, 0, &b));
    port_close(port);

    port_close(open_dummy("q", "n_rxq=64,loop=true"));
    assert_open_fails("dummy", "q", "n_rxq=0", -EINVAL,
                      "n_rxq must be 1 to 64, not '0'");
    assert_open_fails("dummy", "q", "n_rxq=65", -EINVAL, "not '65'");
    assert_open_fails("dummy", "q", "n_rxq=two", -EINVAL, "not 'two'");
    assert_open_fails("dummy", "q", "n_rxq=", -EINVAL, "not ''");
    assert_open_fails("dummy", "q", "n_rxq=2,n_rxq=2", -EINVAL,
                      "option 'n_rxq' given twice");
}

/* Dummy ports: rx_fd is an eventfd readable while injected packets wait;
 * loop mode has none. */
static void
test_dummy_rx_fd(void **state)
{
    struct port *port = open_dummy("efd", NULL);
    struct pkt_batch b;
    uint8_t frame[60];
    int fd;

    (void) state;
    fd = port_rx_fd(port, 0);
    assert_true(fd >= 0);
    assert_false(tu_fd_readable(fd, 0));

    make_frame(frame, sizeof frame, 1);
    assert_int_equal(0, port_dummy_inject(port, frame, sizeof frame));
    assert_true(tu_fd_readable(fd, 0));
    assert_int_equal(0, port_dummy_inject(port, frame, sizeof frame));
    assert_true(tu_fd_readable(fd, 0));

    /* Drained: no longer readable. */
    pkt_batch_init(&b);
    assert_int_equal(2, port_rx(port, 0, &b));
    pkt_batch_free(&b);
    assert_false(tu_fd_readable(fd, 0));

    /* More than a batch: still readable after the first one. */
    for (int i = 0; i < PKT_BATCH_MAX + 1; i++) {
        assert_int_equal(0, port_dummy_inject(port, frame, sizeof frame));
    }
    assert_int_equal(PKT_BATCH_MAX, port_rx(port, 0, &b));
    pkt_batch_free(&b);
    assert_true(tu_fd_readable(fd, 0));
    assert_int_equal(1, port_rx(port, 0, &b));
    pkt_batch_free(&b);
    assert_false(tu_fd_readable(fd, 0));
    port_close(port);

    port = open_dummy("efd", "loop=true");
    assert_int_equal(-1, port_rx_fd(port, 0));
    port_close(port);
}

/* ---- tap ---------------------------------------------------------------
 *
 * These need /dev/net/tun and CAP_NET_ADMIN; without them they skip.  The
 * devices are named after the test's pid, so that two runs at once do not
 * collide. */

#define TEST_ETH_TYPE 0x88b5    /* IEEE local experimental. */

/* Skips the test unless a TAP device can be created. */
static void
require_tun(void)
{
    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);

    if (fd < 0) {
        skip();
    }
    close(fd);
}

/* Makes a device name "wt<pid><suffix>" in 'name' (IFNAMSIZ bytes). */
static void
tap_name(char *name, const char *suffix)
{
    snprintf(name, IFNAMSIZ, "wt%u%s", (unsigned) getpid() % 100000,
             suffix);
}

/* Opens a tap port, or skips the test without the privilege for it. */
static struct port *
open_tap(const char *name, const char *options)
{
    struct port *port = NULL;
    struct errbuf err;
    int error;

    require_tun();
    errbuf_clear(&err);
    error = port_open("tap", name, options, &port, &err);
    if (error == -EPERM) {
        skip();
    }
    if (error) {
        fail_msg("opening tap port %s: %s", name, err.msg);
    }
    assert_non_null(port);
    return port;
}

/* Reads the flags and MTU of device 'name' in the calling thread's
 * namespace; returns false if there is no such device. */
static bool
dev_query(const char *name, short *flags, int *mtu)
{
    int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct ifreq ifr;
    bool ok;

    assert_true(sock >= 0);
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
    ok = !ioctl(sock, SIOCGIFFLAGS, &ifr);
    if (ok && flags) {
        *flags = ifr.ifr_flags;
    }
    ok = ok && !ioctl(sock, SIOCGIFMTU, &ifr);
    if (ok && mtu) {
        *mtu = ifr.ifr_mtu;
    }
    close(sock);
    return ok;
}

/* Sets (or clears) IFF_UP and, if 'mtu' is nonzero, the MTU of device
 * 'name' in the calling thread's namespace. */
static void
dev_set(const char *name, bool up, int mtu)
{
    int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct ifreq ifr;

    assert_true(sock >= 0);
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
    if (mtu) {
        ifr.ifr_mtu = mtu;
        assert_int_equal(0, ioctl(sock, SIOCSIFMTU, &ifr));
    }
    assert_int_equal(0, ioctl(sock, SIOCGIFFLAGS, &ifr));
    if (up) {
        ifr.ifr_flags |= IFF_UP;
    } else {
        ifr.ifr_flags &= ~IFF_UP;
    }
    assert_int_equal(0, ioctl(sock, SIOCSIFFLAGS, &ifr));
    close(sock);
}

/* Opens an AF_PACKET socket on interface 'ifindex' (in the calling
 * thread's namespace) that receives frames of TEST_ETH_TYPE; it sends
 * too. */
static int
packet_socket(int ifindex)
{
    struct sockaddr_ll sll;
    int sock = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK,
                      htons(TEST_ETH_TYPE));

    assert_true(sock >= 0);
    memset(&sll, 0, sizeof sll);
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(TEST_ETH_TYPE);
    sll.sll_ifindex = ifindex;
    assert_int_equal(0, bind(sock, (struct sockaddr *) &sll, sizeof sll));
    return sock;
}

/* A broadcast frame of 'len' bytes of TEST_ETH_TYPE; 'id' follows the
 * Ethernet header, then a pattern. */
static void
make_eth_frame(uint8_t *buf, size_t len, uint16_t id)
{
    static const uint8_t src[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };

    for (size_t i = 0; i < len; i++) {
        buf[i] = (uint8_t) (i * 7);
    }
    memset(buf, 0xff, 6);
    memcpy(buf + 6, src, 6);
    buf[12] = TEST_ETH_TYPE >> 8;
    buf[13] = TEST_ETH_TYPE & 0xff;
    buf[14] = (uint8_t) (id >> 8);
    buf[15] = (uint8_t) id;
}

static bool
is_test_frame(const struct packet *p)
{
    return p->len >= 16 && p->data[12] == TEST_ETH_TYPE >> 8
           && p->data[13] == (TEST_ETH_TYPE & 0xff);
}

/* Receives from 'port' until 'n' frames of TEST_ETH_TYPE have come (other
 * frames, such as the host's IPv6 chatter, are dropped), waiting on its
 * rx fd for up to two seconds in all.  Returns them in 'out', oldest
 * first; the caller frees them. */
static void
tap_receive(struct port *port, struct packet **out, size_t n)
{
    size_t got = 0;

    for (int waits = 0; got < n; waits++) {
        struct pkt_batch b;
        int r;

        if (waits > 200) {
            fail_msg("received %zu of %zu frames", got, n);
        }
        tu_fd_readable(port_rx_fd(port, 0), 10);
        pkt_batch_init(&b);
        r = port_rx(port, 0, &b);
        assert_true(r >= 0);
        assert_int_equal(r, b.n);
        for (uint32_t i = 0; i < b.n; i++) {
            if (is_test_frame(b.pkts[i]) && got < n) {
                out[got++] = b.pkts[i];
            } else {
                packet_free(b.pkts[i]);
            }
        }
    }
}

/* Creates, brings up, reports and removes a TAP device. */
static void
test_tap_open_info(void **state)
{
    struct port_info info;
    struct port_stats st;
    char name[IFNAMSIZ];
    struct port *port;
    short flags;
    int mtu;

    (void) state;
    tap_name(name, "a");
    assert_int_equal(0, if_nametoindex(name));
    port = open_tap(name, "mac=02:11:22:33:44:55,mtu=1400");
    assert_string_equal("tap", port_type(port));
    assert_int_equal(1, port->n_rxq);
    assert_true(port_rx_fd(port, 0) >= 0);

    /* The device exists, up, with the options applied. */
    assert_true(dev_query(name, &flags, &mtu));
    assert_true(flags & IFF_UP);
    assert_int_equal(1400, mtu);

    port_get_info(port, &info);
    assert_int_equal(1400, info.mtu);
    assert_memory_equal("\x02\x11\x22\x33\x44\x55", info.mac, 6);
    assert_true(info.link_up);
    assert_true(info.ifindex > 0);
    assert_int_equal(if_nametoindex(name), info.ifindex);

    /* The host brings it down: get_info sees it. */
    dev_set(name, false, 0);
    port_get_info(port, &info);
    assert_false(info.link_up);
    dev_set(name, true, 1280);
    port_get_info(port, &info);
    assert_true(info.link_up);
    assert_int_equal(1280, info.mtu);

    port_get_stats(port, &st);
    assert_int_equal(0, st.rx_errors);
    assert_int_equal(0, st.tx_packets);

    /* Closing removes the device. */
    port_close(port);
    assert_int_equal(0, if_nametoindex(name));

    /* Defaults: the kernel's MTU and a locally administered unicast MAC
     * address. */
    port = open_tap(name, NULL);
    port_get_info(port, &info);
    assert_int_equal(1500, info.mtu);
    assert_int_equal(0x02, info.mac[0] & 0x03);
    assert_true(info.link_up);
    port_close(port);
    assert_int_equal(0, if_nametoindex(name));
}

/* Option errors come before any device is made. */
static void
test_tap_options(void **state)
{
    char name[IFNAMSIZ];

    (void) state;
    tap_name(name, "o");
    assert_open_fails("tap", name, "speed=10", -EINVAL,
                      "unknown option 'speed' (tap ports know mac, mtu and up)");
    assert_open_fails("tap", name, "mac=02:11:22:33:44", -EINVAL,
                      "option 'mac': '02:11:22:33:44' is not a MAC address");
    assert_open_fails("tap", name, "mac=02:11:22:33:44:55:66", -EINVAL,
                      "is not a MAC address");
    assert_open_fails("tap", name, "mac=02:11:22:33:44:5", -EINVAL,
                      "is not a MAC address");
    assert_open_fails("tap", name, "mac=02-11-22-33-44-55", -EINVAL,
                      "is not a MAC address");
    assert_open_fails("tap", name, "mac=0g:11:22:33:44:55", -EINVAL,
                      "is not a MAC address");
    assert_open_fails("tap", name, "mac=01:00:5e:00:00:01", -EINVAL,
                      "01:00:5e:00:00:01 is a multicast address");
    assert_open_fails("tap", name, "mac=00:00:00:00:00:00", -EINVAL,
                      "must not be zero");
    assert_open_fails("tap", name, "mac=02:00:00:00:00:01,"
                      "mac=02:00:00:00:00:01", -EINVAL,
                      "option 'mac' given twice");
    assert_open_fails("tap", name, "mtu=67", -EINVAL,
                      "mtu must be 68 to 65535, not '67'");
    assert_open_fails("tap", name, "mtu=65536", -EINVAL, "not '65536'");
    assert_open_fails("tap", name, "mtu=-1500", -EINVAL, "not '-1500'");
    assert_open_fails("tap", name, "mtu=1500x", -EINVAL, "not '1500x'");
    assert_open_fails("tap", name, "mtu=", -EINVAL, "not ''");
    assert_open_fails("tap", name, "mtu=99999999999999999999", -EINVAL,
                      "not '99999999999999999999'");
    assert_open_fails("tap", name, "mtu=1500,mtu=1500", -EINVAL,
                      "option 'mtu' given twice");
    assert_open_fails("tap", name, "mtu", -EINVAL,
                      "option 'mtu' has no value");
    assert_open_fails("tap", name, "mtu=1500,", -EINVAL, "empty option");
    assert_open_fails("tap", "wt%d", NULL, -EINVAL, "'%' is not allowed");
    assert_int_equal(0, if_nametoindex(name));
}

/* A tap port never takes over a device that exists: neither another
 * kind of device nor a TAP device someone else made. */
static void
test_tap_exists(void **state)
{
    short flags0, flags1;
    char name[IFNAMSIZ];
    struct ifreq ifr;
    int mtu0, mtu1;
    int fd;

    (void) state;
    require_tun();
    assert_true(dev_query("lo", &flags0, &mtu0));
    assert_open_fails("tap", "lo", "mtu=1280", -EEXIST,
                      "lo: a network device with this name exists");
    assert_true(dev_query("lo", &flags1, &mtu1));
    assert_int_equal(flags0, flags1);
    assert_int_equal(mtu0, mtu1);

    /* A TAP device of our own, down, with a MAC address we know. */
    tap_name(name, "x");
    fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    assert_true(fd >= 0);
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    if (ioctl(fd, TUNSETIFF, &ifr)) {
        assert_int_equal(EPERM, errno);
        close(fd);
        skip();
    }
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
    memcpy(ifr.ifr_hwaddr.sa_data, "\x02\x00\x00\x00\x00\x42", 6);
    assert_int_equal(0, ioctl(fd, SIOCSIFHWADDR, &ifr));
    assert_true(dev_query(name, &flags0, &mtu0));

    assert_open_fails("tap", name, "mtu=1280,mac=02:00:00:00:00:07",
                      -EEXIST, "a network device with this name exists");

    /* Nothing changed: still down, same MTU and MAC, still ours. */
    assert_true(dev_query(name, &flags1, &mtu1));
    assert_false(flags1 & IFF_UP);
    assert_int_equal(flags0, flags1);
    assert_int_equal(mtu0, mtu1);
    memset(&ifr, 0, sizeof ifr);
    assert_int_equal(0, ioctl(fd, SIOCGIFHWADDR, &ifr));
    assert_memory_equal("\x02\x00\x00\x00\x00\x42", ifr.ifr_hwaddr.sa_data,
                        6);
    memset(&ifr, 0, sizeof ifr);
    assert_int_equal(0, ioctl(fd, TUNGETIFF, &ifr));
    assert_string_equal(name, ifr.ifr_name);
    close(fd);
    assert_int_equal(0, if_nametoindex(name));

    /* The failed open did not keep the port name. */
    port_close(open_dummy(name, NULL));
}

/* Returns the interface flags of the host device 'name' (fails the test if
 * there is no such device). */
static int
host_if_flags(const char *name)
{
    struct ifreq ifr;
    int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

    assert_true(sock >= 0);
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
    assert_int_equal(0, ioctl(sock, SIOCGIFFLAGS, &ifr));
    close(sock);
    return ifr.ifr_flags;
}

/* The dpif port types: "internal" is a tap port that starts down;
 * "system" attaches to an existing device with AF_PACKET (AF_XDP carries
 * no checksum state: only by name); its errors (no device, bad options)
 * come straight back, and nothing is kept. */
static void
test_dpif_types(void **state)
{
    char name[IFNAMSIZ];
    struct port *port = NULL;
    struct errbuf err;
    struct ifreq ifr;
    int fd;

    (void) state;
    require_tun();
    tap_name(name, "i");
    errbuf_clear(&err);
    if (port_open("internal", name, NULL, &port, &err) == -EPERM) {
        skip();
    }
    assert_non_null(port);
    assert_string_equal("tap", port_type(port));
    /* An internal device starts down, as the kernel module's do. */
    assert_int_equal(0, host_if_flags(name) & IFF_UP);
    port_close(port);
    /* ... unless its options say up=true; a tap port starts up. */
    port = NULL;
    assert_int_equal(0, port_open("internal", name, "mtu=1400,up=true",
                                  &port, &err));
    assert_int_equal(IFF_UP, host_if_flags(name) & IFF_UP);
    port_close(port);
    port = NULL;
    assert_int_equal(0, port_open("tap", name, NULL, &port, &err));
    assert_int_equal(IFF_UP, host_if_flags(name) & IFF_UP);
    port_close(port);

    /* No such device: -ENODEV, from the first provider tried. */
    assert_open_fails("system", name, NULL, -ENODEV, "no such network");

    /* A host device (a TAP device made here, held by its fd). */
    fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    assert_true(fd >= 0);
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    assert_int_equal(0, ioctl(fd, TUNSETIFF, &ifr));

    /* Bad options are final: no fallback hides them. */
    assert_open_fails("system", name, "bogus=1", -EINVAL, "bogus");

    port = NULL;
    errbuf_clear(&err);
    assert_int_equal(0, port_open("system", name, NULL, &port, &err));
    assert_non_null(port);
    assert_string_equal("afpacket", port_type(port));
    port_close(port);

    /* Nothing was kept: the name opens again. */
    port_close(open_dummy(name, NULL));
    close(fd);
}

/* What the host sends on the device, rx receives: into pool packets, or
 * ordinary ones for frames longer than the MTU at open time. */
static void
test_tap_rx(void **state)
{
    static const size_t lens[] = { 60, 64, 100, 1000, 1514, 1400, 3000 };
    enum { N = sizeof lens / sizeof *lens, MANY = 2 * PKT_BATCH_MAX + 5 };
    struct packet *got[N], *many[MANY];
    struct port_stats st;
    char name[IFNAMSIZ];
    uint8_t frame[3000];
    struct port *port;
    struct pkt_batch b;
    int sock;

    (void) state;
    tap_name(name, "r");
    port = open_tap(name, NULL);
    sock = packet_socket((int) if_nametoindex(name));

    /* Larger frames than the pool's buffers: raise the MTU now. */
    dev_set(name, true, 4000);
    for (size_t i = 0; i < N; i++) {
        make_eth_frame(frame, lens[i], (uint16_t) i);
        assert_int_equal(lens[i], send(sock, frame, lens[i], 0));
    }
    tap_receive(port, got, N);
    for (size_t i = 0; i < N; i++) {
        make_eth_frame(frame, lens[i], (uint16_t) i);
        assert_int_equal(lens[i], got[i]->len);
        assert_memory_equal(frame, got[i]->data, lens[i]);
        assert_int_equal(0, got[i]->md.in_port);
        if (lens[i] > 1500 + 14 + 8) {
            assert_null(got[i]->pool);
        } else {
            assert_non_null(got[i]->pool);
        }
        packet_free(got[i]);
    }

    /* Nothing more of ours; rx never blocks. */
    pkt_batch_init(&b);
    assert_true(port_rx(port, 0, &b) >= 0);
    for (uint32_t i = 0; i < b.n; i++) {
        assert_false(is_test_frame(b.pkts[i]));
    }
    pkt_batch_free(&b);

    /* More than a batch at once. */
    for (uint16_t i = 0; i < MANY; i++) {
        make_eth_frame(frame, 80, i);
        assert_int_equal(80, send(sock, frame, 80, 0));
    }
    tap_receive(port, many, MANY);
    for (uint16_t i = 0; i < MANY; i++) {
        assert_int_equal(i, many[i]->data[14] << 8 | many[i]->data[15]);
        packet_free(many[i]);
    }

    port_get_stats(port, &st);
    assert_true(st.rx_packets >= N + MANY);
    assert_int_equal(0, st.rx_errors);
    close(sock);
    port_close(port);
}

/* Receives one TEST_ETH_TYPE frame on 'sock' into 'buf' within a second;
 * returns its length. */
static size_t
sock_receive(int sock, uint8_t *buf, size_t size)
{
    ssize_t n;

    if (!tu_fd_readable(sock, 1000)) {
        fail_msg("no frame arrived on the packet socket");
    }
    n = recv(sock, buf, size, 0);
    assert_true(n > 0);
    return (size_t) n;
}

/* What tx sends, the host receives on the device; cutlen truncates; a
 * device that is down drops. */
static void
test_tap_tx(void **state)
{
    static const size_t lens[] = { 60, 64, 1514, 200 };
    enum { N = sizeof lens / sizeof *lens };
    uint8_t frame[2000], buf[2000];
    struct port_stats st;
    char name[IFNAMSIZ];
    struct port *port;
    socklen_t error_len = sizeof(int);
    struct pkt_batch b;
    int sock, error;

    (void) state;
    tap_name(name, "t");
    port = open_tap(name, NULL);
    sock = packet_socket((int) if_nametoindex(name));

    pkt_batch_init(&b);
    for (size_t i = 0; i < N; i++) {
        make_eth_frame(frame, lens[i], (uint16_t) i);
        pkt_batch_add(&b, packet_create(frame, lens[i]));
    }
    b.pkts[3]->cutlen = 100;            /* Sent as 100 bytes. */
    b.pkts[1]->cutlen = 1000;           /* Longer than the frame: no cut. */
    assert_int_equal(0, port_tx(port, &b));
    assert_int_equal(0, b.n);

    for (size_t i = 0; i < N; i++) {
        size_t len = i == 3 ? 100 : lens[i];

        make_eth_frame(frame, lens[i], (uint16_t) i);
        assert_int_equal(len, sock_receive(sock, buf, sizeof buf));
        assert_memory_equal(frame, buf, len);
    }
    port_get_stats(port, &st);
    assert_int_equal(N, st.tx_packets);
    assert_int_equal(60 + 64 + 1514 + 200, st.tx_bytes);
    assert_int_equal(0, st.tx_dropped);

    /* Down: nothing goes; every packet is still freed (ASan checks). */
    dev_set(name, false, 0);
    pkt_batch_init(&b);
    for (int i = 0; i < 3; i++) {
        make_eth_frame(frame, 64, 9);
        pkt_batch_add(&b, packet_create(frame, 64));
    }
    assert_int_equal(3, port_tx(port, &b));
    assert_int_equal(0, b.n);
    port_get_stats(port, &st);
    assert_int_equal(N, st.tx_packets);
    assert_int_equal(3, st.tx_dropped);

    /* A frame shorter than an Ethernet header is refused too.  (The
     * packet socket holds ENETDOWN from the device going down: clear it.) */
    dev_set(name, true, 0);
    assert_int_equal(0, getsockopt(sock, SOL_SOCKET, SO_ERROR, &error,
                                   &error_len));
    assert_int_equal(ENETDOWN, error);
    pkt_batch_init(&b);
    pkt_batch_add(&b, packet_create(frame, 10));
    make_eth_frame(frame, 64, 10);
    pkt_batch_add(&b, packet_create(frame, 64));
    assert_int_equal(1, port_tx(port, &b));
    assert_int_equal(64, sock_receive(sock, buf, sizeof buf));
    assert_int_equal(10, buf[15]);

    close(sock);
    port_close(port);
}

/* Moves device 'ifindex' into the namespace of 'nsfd' (rtnetlink
 * RTM_NEWLINK with IFLA_NET_NS_FD, as "ip link set DEV netns NS" does). */
static void
move_to_netns(int ifindex, int nsfd)
{
    struct {
        struct nlmsghdr nh;
        struct ifinfomsg ifi;
        struct rtattr rta;
        uint32_t fd;
    } req;
    struct {
        struct nlmsghdr nh;
        struct nlmsgerr err;
    } ack;
    int sock = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);

    assert_true(sock >= 0);
    memset(&req, 0, sizeof req);
    req.nh.nlmsg_len = sizeof req;
    req.nh.nlmsg_type = RTM_NEWLINK;
    req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
    req.nh.nlmsg_seq = 1;
    req.ifi.ifi_family = AF_UNSPEC;
    req.ifi.ifi_index = ifindex;
    req.rta.rta_type = IFLA_NET_NS_FD;
    req.rta.rta_len = RTA_LENGTH(sizeof req.fd);
    req.fd = (uint32_t) nsfd;
    assert_int_equal(sizeof req, send(sock, &req, sizeof req, 0));
    assert_true(recv(sock, &ack, sizeof ack, 0) >= (ssize_t) sizeof ack);
    assert_int_equal(NLMSG_ERROR, ack.nh.nlmsg_type);
    assert_int_equal(0, ack.err.error);
    close(sock);
}

/* Makes a new network namespace and returns an fd for it, leaving the
 * calling thread where it was; skips the test without the privilege. */
static int
make_netns(int home)
{
    int nsfd;

    if (unshare(CLONE_NEWNET)) {
        skip();
    }
    nsfd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    assert_true(nsfd >= 0);
    assert_int_equal(0, setns(home, CLONE_NEWNET));
    return nsfd;
}

/* The system tests move a tap port's device into a namespace of its own
 * to give that namespace an interface: rx, tx and get_info keep working
 * there, and closing the port removes the device from there. */
static void
test_tap_netns(void **state)
{
    uint8_t frame[200], buf[200];
    struct port_info info, info0;
    struct packet *got;
    char name[IFNAMSIZ];
    struct port *port;
    struct pkt_batch b;
    int home, nsfd, sock;

    (void) state;
    tap_name(name, "n");
    port = open_tap(name, "mac=02:00:00:00:aa:01,mtu=1450");
    port_get_info(port, &info0);

    home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    assert_true(home >= 0);
    nsfd = make_netns(home);
    move_to_netns(info0.ifindex, nsfd);
    assert_int_equal(0, if_nametoindex(name));

    /* Moved devices arrive down. */
    port_get_info(port, &info);
    assert_memory_equal(info0.mac, info.mac, 6);
    assert_int_equal(1450, info.mtu);
    assert_true(info.ifindex > 0);
    assert_false(info.link_up);

    /* Up, with a new MTU, over there: get_info reads it from there. */
    assert_int_equal(0, setns(nsfd, CLONE_NEWNET));
    dev_set(name, true, 1300);
    info0.ifindex = (int) if_nametoindex(name);
    sock = packet_socket(info0.ifindex);
    assert_int_equal(0, setns(home, CLONE_NEWNET));
    port_get_info(port, &info);
    assert_int_equal(1300, info.mtu);
    assert_true(info.link_up);
    assert_int_equal(info0.ifindex, info.ifindex);
    assert_memory_equal(info0.mac, info.mac, 6);

    /* Frames still flow both ways. */
    make_eth_frame(frame, sizeof frame, 77);
    assert_int_equal(sizeof frame, send(sock, frame, sizeof frame, 0));
    tap_receive(port, &got, 1);
    assert_int_equal(sizeof frame, got->len);
    assert_memory_equal(frame, got->data, sizeof frame);
    packet_free(got);

    make_eth_frame(frame, sizeof frame, 78);
    pkt_batch_init(&b);
    pkt_batch_add(&b, packet_create(frame, sizeof frame));
    assert_int_equal(0, port_tx(port, &b));
    assert_int_equal(sizeof frame, sock_receive(sock, buf, sizeof buf));
    assert_memory_equal(frame, buf, sizeof frame);
    close(sock);

    /* Closing removes it over there. */
    port_close(port);
    assert_int_equal(0, setns(nsfd, CLONE_NEWNET));
    assert_int_equal(0, if_nametoindex(name));
    assert_int_equal(0, setns(home, CLONE_NEWNET));
    close(nsfd);
    close(home);
}

/* When the namespace the device moved to goes away, the device goes with
 * it: get_info reports the last values it read and the link down, tx
 * drops, rx fails. */
static void
test_tap_netns_gone(void **state)
{
    struct port_info info, info0;
    char name[IFNAMSIZ];
    struct port *port;
    struct pkt_batch b;
    struct ifreq ifr;
    uint8_t frame[64];
    int home, nsfd, fd;
    int waits = 0;

    (void) state;
    tap_name(name, "g");
    port = open_tap(name, "mtu=1234");
    port_get_info(port, &info0);
    home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    assert_true(home >= 0);
    nsfd = make_netns(home);
    move_to_netns(info0.ifindex, nsfd);
    /* get_info queries the device over there, and must not keep the
     * namespace alive doing so. */
    port_get_info(port, &info);
    assert_int_equal(1234, info.mtu);
    close(nsfd);
    close(home);

    /* The namespace is dismantled in the background. */
    fd = port_rx_fd(port, 0);
    for (;;) {
        memset(&ifr, 0, sizeof ifr);
        if (ioctl(fd, TUNGETIFF, &ifr)) {
            break;
        }
        if (++waits > 1000) {
            fail_msg("the device outlived its namespace");
        }
        usleep(10000);
    }

    port_get_info(port, &info);
    assert_false(info.link_up);
    assert_int_equal(1234, info.mtu);
    assert_memory_equal(info0.mac, info.mac, 6);

    pkt_batch_init(&b);
    make_eth_frame(frame, sizeof frame, 1);
    pkt_batch_add(&b, packet_create(frame, sizeof frame));
    assert_int_equal(1, port_tx(port, &b));
    assert_true(port_rx(port, 0, &b) < 0);
    assert_int_equal(0, b.n);
    port_close(port);
}

/* ---- pcap -------------------------------------------------------------- */

/* Makes an empty file of a unique name in /tmp; returns the name in
 * 'path' (at least 64 bytes). */
static void
temp_path(char *path)
{
    int fd;

    snprintf(path, 64, "/tmp/weir-test-port-XXXXXX");
    fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
}

/* Opens a pcap port with 'options' printf-formatted; it must succeed. */
static struct port *
open_pcap(const char *name, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static struct port *
open_pcap(const char *name, const char *fmt, ...)
{
    struct port *port = NULL;
    struct errbuf err;
    char options[256];
    va_list args;

    va_start(args, fmt);
    vsnprintf(options, sizeof options, fmt, args);
    va_end(args);
    errbuf_clear(&err);
    if (port_open("pcap", name, options, &port, &err)) {
        fail_msg("opening pcap port with '%s': %s", options, err.msg);
    }
    return port;
}

/* Writes a pcap file of link type 'dlt' holding 'n' frames, frame i being
 * make_eth_frame(lens[i], i). */
static void
write_pcap(const char *path, int dlt, const size_t *lens, size_t n)
{
    pcap_t *dead = pcap_open_dead(dlt, 262144);
    pcap_dumper_t *d;
    uint8_t frame[20000];

    assert_non_null(dead);
    d = pcap_dump_open(dead, path);
    assert_non_null(d);
    for (size_t i = 0; i < n; i++) {
        struct pcap_pkthdr hdr = { .caplen = (uint32_t) lens[i],
                                   .len = (uint32_t) lens[i] };

        assert_true(lens[i] <= sizeof frame);
        make_eth_frame(frame, lens[i], (uint16_t) i);
        pcap_dump((u_char *) d, &hdr, frame);
    }
    pcap_dump_close(d);
    pcap_close(dead);
}

/* tx writes a pcap file (readable while the port is open) that rx serves
 * back, byte for byte, once. */
static void
test_pcap_round_trip(void **state)
{
    static const size_t lens[] = { 60, 14, 1514, 9000, 64, 300 };
    enum { N = sizeof lens / sizeof *lens };
    char path[64], errbuf[PCAP_ERRBUF_SIZE];
    struct pcap_pkthdr *hdr;
    const u_char *data;
    struct port_info info;
    struct port_stats st;
    uint8_t frame[9000];
    struct timeval t0;
    struct port *port;
    struct pkt_batch b;
    pcap_t *pcap;

    (void) state;
    temp_path(path);
    gettimeofday(&t0, NULL);
    port = open_pcap("pc", "tx=%s", path);
    port_get_info(port, &info);
    assert_int_equal(65535, info.mtu);
    assert_memory_equal("\0\0\0\0\0\0", info.mac, 6);
    assert_true(info.link_up);
    assert_int_equal(0, info.ifindex);
    assert_int_equal(-1, port_rx_fd(port, 0));

    /* Without rx=, nothing to receive. */
    pkt_batch_init(&b);
    assert_int_equal(0, port_rx(port, 0, &b));

    for (size_t i = 0; i < N; i++) {
        make_eth_frame(frame, lens[i], (uint16_t) i);
        pkt_batch_add(&b, packet_create(frame, lens[i]));
    }
    b.pkts[5]->cutlen = 100;
    assert_int_equal(0, port_tx(port, &b));

    /* Readable now, with the port still open. */
    pcap = pcap_open_offline(path, errbuf);
    assert_non_null(pcap);
    assert_int_equal(DLT_EN10MB, pcap_datalink(pcap));
    for (size_t i = 0; i < N; i++) {
        size_t len = i == 5 ? 100 : lens[i];

        assert_int_equal(1, pcap_next_ex(pcap, &hdr, &data));
        assert_int_equal(len, hdr->caplen);
        assert_int_equal(len, hdr->len);
        assert_true(hdr->ts.tv_sec >= t0.tv_sec);
        assert_true(hdr->ts.tv_sec <= t0.tv_sec + 60);
        make_eth_frame(frame, lens[i], (uint16_t) i);
        assert_memory_equal(frame, data, len);
    }
    assert_int_equal(PCAP_ERROR_BREAK, pcap_next_ex(pcap, &hdr, &data));
    pcap_close(pcap);
    port_get_stats(port, &st);
    assert_int_equal(N, st.tx_packets);
    port_close(port);

    /* Served back, once, into pool packets except the jumbo one. */
    port = open_pcap("pc", "rx=%s,loop=false", path);
    assert_int_equal(N, port_rx(port, 0, &b));
    for (size_t i = 0; i < N; i++) {
        size_t len = i == 5 ? 100 : lens[i];

        make_eth_frame(frame, lens[i], (uint16_t) i);
        assert_int_equal(len, b.pkts[i]->len);
        assert_memory_equal(frame, b.pkts[i]->data, len);
        assert_int_equal(PKT_OFS_NONE, b.pkts[i]->l3_ofs);
        assert_non_null(b.pkts[i]->pool);
    }
    pkt_batch_free(&b);
    assert_int_equal(0, port_rx(port, 0, &b));
    assert_int_equal(0, port_rx(port, 0, &b));

    /* Without tx=, tx drops. */
    pkt_batch_add(&b, packet_create(frame, 60));
    assert_int_equal(1, port_tx(port, &b));
    assert_int_equal(0, b.n);
    port_get_stats(port, &st);
    assert_int_equal(N, st.rx_packets);
    assert_int_equal(1, st.tx_dropped);
    assert_int_equal(0, st.rx_errors);
    port_close(port);
    unlink(path);
}

/* loop=true cycles through the file across batches; frames longer than
 * a pool buffer come in ordinary packets; more frames than a batch. */
static void
test_pcap_loop(void **state)
{
    size_t lens[40];
    struct port_stats st;
    uint8_t frame[20000];
    struct port *port;
    struct pkt_batch b;
    char path[64];

    (void) state;
    for (size_t i = 0; i < 40; i++) {
        lens[i] = 60 + i;
    }
    lens[7] = 20000;            /* Longer than a jumbo frame. */
    temp_path(path);
    write_pcap(path, DLT_EN10MB, lens, 40);

    port = open_pcap("loop", "loop=true,rx=%s", path);
    for (int round = 0; round < 10; round++) {
        pkt_batch_init(&b);
        assert_int_equal(PKT_BATCH_MAX, port_rx(port, 0, &b));
        for (uint32_t i = 0; i < b.n; i++) {
            size_t k = ((size_t) round * PKT_BATCH_MAX + i) % 40;

            make_eth_frame(frame, lens[k], (uint16_t) k);
            assert_int_equal(lens[k], b.pkts[i]->len);
            assert_memory_equal(frame, b.pkts[i]->data, lens[k]);
            if (k == 7) {
                assert_null(b.pkts[i]->pool);
            } else {
                assert_non_null(b.pkts[i]->pool);
            }
        }
        pkt_batch_free(&b);
    }
    port_get_stats(port, &st);
    assert_int_equal(10 * PKT_BATCH_MAX, st.rx_packets);
    port_close(port);

    /* Without loop: 32, 8, then nothing. */
    port = open_pcap("once", "rx=%s", path);
    pkt_batch_init(&b);
    assert_int_equal(PKT_BATCH_MAX, port_rx(port, 0, &b));
    pkt_batch_free(&b);
    assert_int_equal(40 - PKT_BATCH_MAX, port_rx(port, 0, &b));
    assert_int_equal(PKT_BATCH_MAX, b.pkts[0]->data[15]);
    pkt_batch_free(&b);
    assert_int_equal(0, port_rx(port, 0, &b));
    port_close(port);

    /* An empty file, looping: nothing, forever. */
    write_pcap(path, DLT_EN10MB, lens, 0);
    port = open_pcap("empty", "rx=%s,loop=true", path);
    assert_int_equal(0, port_rx(port, 0, &b));
    assert_int_equal(0, port_rx(port, 0, &b));
    port_close(port);
    unlink(path);
}

/* A looping port whose packets are all in flight receives nothing until
 * some come back; closing with packets out is safe. */
static void
test_pcap_pool_dry(void **state)
{
    static const size_t len = 100;
    struct pkt_batch *held;
    size_t n_held = 0, total = 0;
    struct port *port;
    struct pkt_batch b;
    char path[64];

    (void) state;
    temp_path(path);
    write_pcap(path, DLT_EN10MB, &len, 1);
    port = open_pcap("dry", "rx=%s,loop=true", path);
    held = calloc(64, sizeof *held);
    assert_non_null(held);
    for (;;) {
        int n;

        assert_true(n_held < 64);
        pkt_batch_init(&held[n_held]);
        n = port_rx(port, 0, &held[n_held]);
        assert_true(n >= 0);
        if (!n) {
            break;
        }
        total += (size_t) n;
        n_held++;
    }
    assert_int_equal(1024, total);
    pkt_batch_free(&held[--n_held]);
    pkt_batch_init(&b);
    assert_int_equal(PKT_BATCH_MAX, port_rx(port, 0, &b));
    pkt_batch_free(&b);

    port_close(port);
    while (n_held) {
        pkt_batch_free(&held[--n_held]);
    }
    free(held);
    unlink(path);
}

/* Files that cannot be used, and option errors. */
static void
test_pcap_errors(void **state)
{
    static const size_t lens[] = { 60, 8, 100, 13, 14 };
    char path[64], opt[128];
    struct port_stats st;
    struct port *port;
    struct pkt_batch b;
    FILE *fp;

    (void) state;
    assert_open_fails("pcap", "pc", NULL, -EINVAL,
                      "needs rx=FILE or tx=FILE");
    assert_open_fails("pcap", "pc", "", -EINVAL, "needs rx=FILE or tx=FILE");
    assert_open_fails("pcap", "pc", "loop=true", -EINVAL,
                      "needs rx=FILE or tx=FILE");
    assert_open_fails("pcap", "pc", "speed=1", -EINVAL,
                      "unknown option 'speed' (pcap ports know rx, tx and "
                      "loop)");
    assert_open_fails("pcap", "pc", "rx=/a,rx=/b", -EINVAL,
                      "option 'rx' given twice");
    assert_open_fails("pcap", "pc", "tx=/a,tx=/b", -EINVAL,
                      "option 'tx' given twice");
    assert_open_fails("pcap", "pc", "rx=", -EINVAL,
                      "option 'rx' needs a file name");
    assert_open_fails("pcap", "pc", "tx=/tmp/x,loop=yes", -EINVAL,
                      "option 'loop': 'yes' is not true or false");
    assert_open_fails("pcap", "pc", "loop=true,loop=true,tx=/tmp/x",
                      -EINVAL, "option 'loop' given twice");
    assert_open_fails("pcap", "pc", "tx", -EINVAL,
                      "option 'tx' has no value");
    assert_open_fails("pcap", "pc", "tx=/tmp/x,", -EINVAL, "empty option");

    /* Files. */
    assert_open_fails("pcap", "pc", "rx=/nonexistent/in.pcap", -ENOENT,
                      "/nonexistent/in.pcap: No such file or directory");
    assert_open_fails("pcap", "pc", "tx=/nonexistent/out.pcap", -ENOENT,
                      "/nonexistent/out.pcap: No such file or directory");

    temp_path(path);
    snprintf(opt, sizeof opt, "rx=%s", path);
    assert_open_fails("pcap", "pc", opt, -EINVAL, "not a pcap file");
    fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("this is not a pcap file, as anyone can see\n", fp);
    fclose(fp);
    assert_open_fails("pcap", "pc", opt, -EINVAL, ": not a pcap file: ");

    write_pcap(path, DLT_RAW, lens, 1);
    assert_open_fails("pcap", "pc", opt, -EINVAL, "is not Ethernet");

    /* Cut in the middle of the last frame. */
    write_pcap(path, DLT_EN10MB, lens, 3);
    assert_int_equal(0, truncate(path, 24 + 16 + 60 + 16 + 8 + 16 + 50));
    assert_open_fails("pcap", "pc", opt, -EINVAL, "truncated or corrupt");

    /* The frames shorter than an Ethernet header are left out. */
    write_pcap(path, DLT_EN10MB, lens, 5);
    port = open_pcap("pc", "%s", opt);
    pkt_batch_init(&b);
    assert_int_equal(3, port_rx(port, 0, &b));
    assert_int_equal(60, b.pkts[0]->len);
    assert_int_equal(100, b.pkts[1]->len);
    assert_int_equal(14, b.pkts[2]->len);
    pkt_batch_free(&b);
    port_get_stats(port, &st);
    assert_int_equal(2, st.rx_errors);
    port_close(port);
    unlink(path);
}

/* The same file in and out: rx serves what the file held at open time,
 * and tx writes the file anew. */
static void
test_pcap_rx_and_tx(void **state)
{
    static const size_t lens[] = { 70, 80 };
    struct port *port;
    struct pkt_batch b;
    char path[64];

    (void) state;
    temp_path(path);
    write_pcap(path, DLT_EN10MB, lens, 2);
    port = open_pcap("pc", "rx=%s,tx=%s", path, path);
    pkt_batch_init(&b);
    assert_int_equal(2, port_rx(port, 0, &b));
    assert_int_equal(0, port_tx(port, &b));
    assert_int_equal(0, port_rx(port, 0, &b));
    port_close(port);

    /* What went out is what came in. */
    port = open_pcap("pc", "rx=%s", path);
    assert_int_equal(2, port_rx(port, 0, &b));
    assert_int_equal(70, b.pkts[0]->len);
    assert_int_equal(80, b.pkts[1]->len);
    assert_int_equal(1, b.pkts[1]->data[15]);
    pkt_batch_free(&b);
    assert_int_equal(0, port_rx(port, 0, &b));
    port_close(port);
    unlink(path);
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
        cmocka_unit_test(test_unique_names),
        cmocka_unit_test(test_info_defaults),
        cmocka_unit_test(test_dummy_n_rxq),
        cmocka_unit_test(test_dummy_rx_fd),
        cmocka_unit_test(test_tap_open_info),
        cmocka_unit_test(test_tap_options),
        cmocka_unit_test(test_tap_exists),
        cmocka_unit_test(test_dpif_types),
        cmocka_unit_test(test_tap_rx),
        cmocka_unit_test(test_tap_tx),
        cmocka_unit_test(test_tap_netns),
        cmocka_unit_test(test_tap_netns_gone),
        cmocka_unit_test(test_pcap_round_trip),
        cmocka_unit_test(test_pcap_loop),
        cmocka_unit_test(test_pcap_pool_dry),
        cmocka_unit_test(test_pcap_errors),
        cmocka_unit_test(test_pcap_rx_and_tx),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
