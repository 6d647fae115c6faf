/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for dp/pmd.c: polling threads forward packets between dummy
 * ports; receive queues are spread over the threads, pinned, and follow
 * ports that come and go and thread counts that change while traffic
 * flows; idle threads sleep (on the queues' fds or on a timer) and wake
 * up for traffic; CPU lists are checked and applied.
 *
 * Nothing here asserts on a fixed delay: every wait polls a condition
 * until a generous deadline. */

#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "dp/dp.h"
#include "dp/pmd.h"
#include "lib/errbuf.h"
#include "lib/rcu.h"
#include "packet/packet.h"
#include "port/port-dummy.h"
#include "port/port.h"
#include "tests/unit/dp-test-util.h"
#include "tests/unit/test-util.h"

#define DEADLINE_MS 30000       /* Sanitizers on a busy 2-core box. */

struct fixture {
    struct datapath *dp;
};

static int
setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof *fx);
    struct errbuf err;

    qsbr_register();
    assert_int_equal(dp_create("pmd0", NULL, &fx->dp, &err), 0);
    *state = fx;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *fx = *state;

    qsbr_offline();
    dp_destroy(fx->dp);
    qsbr_online();
    qsbr_unregister();
    free(fx);
    return 0;
}

/* Sleeps 'ms' milliseconds offline (RCU), so grace periods go on. */
static void
nap(unsigned int ms)
{
    struct timespec ts = { ms / 1000, (long) (ms % 1000) * 1000000 };

    qsbr_offline();
    nanosleep(&ts, NULL);
    qsbr_online();
}

static struct port *
add_port(struct datapath *dp, const char *name, const char *options,
         uint32_t no)
{
    struct errbuf err;

    errbuf_clear(&err);
    if (dp_port_add(dp, "dummy", name, options, &no, &err)) {
        fail_msg("adding port %s: %s", name, err.msg);
    }
    return dp_port_get(dp, no);
}

/* Installs a flow that sends the UDP frames of make_frame() from port
 * 'in' to port 'out'. */
static void
add_flow(struct datapath *dp, uint32_t in, uint32_t out)
{
    char text[256], acts_text[16];
    uint8_t acts[64];
    struct flow_key key;
    struct flow_mask mask;
    struct errbuf err;
    struct dp_flow_req r = { 0 };

    snprintf(text, sizeof text, "recirc_id(0),in_port(%u),eth(),"
             "eth_type(0x0800),ipv4(src=10.0.0.1,dst=10.0.0.2,proto=17,"
             "frag=no),udp()", in);
    snprintf(acts_text, sizeof acts_text, "%u", out);
    tu_parse_flow(text, &key, &mask);
    r.key = &key;
    r.mask = &mask;
    r.actions = acts;
    r.actions_len = tu_parse_actions(acts_text, acts, sizeof acts);
    r.has_actions = true;
    errbuf_clear(&err);
    if (dp_flow_new(dp, &r, 0, NULL, &err) < 0) {
        fail_msg("flow %u -> %u: %s", in, out, err.msg);
    }
}

static void
inject(struct port *port, int n)
{
    uint8_t frame[60];

    tu_udp_frame(frame, sizeof frame, 0x0a000001, 0x0a000002, 1000, 2000);
    for (int i = 0; i < n; i++) {
        assert_int_equal(port_dummy_inject(port, frame, sizeof frame), 0);
    }
}

/* Takes (and frees) what 'port' transmitted until 'n' packets came or
 * the deadline passed.  Returns the number taken. */
static int
take(struct port *port, int n)
{
    uint64_t deadline = tu_now_ms() + DEADLINE_MS;
    int got = 0;

    while (got < n && tu_now_ms() < deadline) {
        struct packet *p = port_dummy_take(port);

        if (p) {
            packet_free(p);
            got++;
        } else {
            nap(1);
        }
    }
    return got;
}

static uint64_t
tx_packets(struct port *port)
{
    struct port_stats st;

    port_get_stats(port, &st);
    return st.tx_packets;
}

/* Waits until 'port' transmitted 'more' packets beyond what it had.
 * Returns: true if it did before the deadline. */
static bool
tx_grows(struct port *port, uint64_t more)
{
    uint64_t deadline = tu_now_ms() + DEADLINE_MS;
    uint64_t target = tx_packets(port) + more;

    while (tx_packets(port) < target) {
        if (tu_now_ms() >= deadline) {
            return false;
        }
        nap(1);
    }
    return true;
}

/* Statistics of thread 'id' (which must run). */
static struct dp_pmd_stats
stats_of(struct datapath *dp, uint32_t id)
{
    struct dp_pmd_stats st[DP_PMD_MAX];
    size_t n = dp_pmd_get_stats(dp, st, DP_PMD_MAX);

    assert_true(id < n);
    assert_int_equal(st[id].id, id);
    return st[id];
}

static void
configure(struct datapath *dp, uint32_t n, const char *cpus,
          uint32_t idle_us)
{
    struct dp_pmd_config cfg = {
        .n_threads = n, .cpus = cpus, .idle_us = idle_us,
    };
    struct errbuf err;

    errbuf_clear(&err);
    if (dp_pmd_configure(dp, &cfg, &err)) {
        fail_msg("configure %u threads: %s", n, err.msg);
    }
    assert_int_equal(dp_pmd_get_stats(dp, NULL, 0), n);
}

/* Copies the "Cpus_allowed_list" of this process's thread named 'name'
 * (from /proc) into 'buf'.  Returns: false if there is no such thread. */
static bool
thread_cpus(const char *name, char *buf, size_t size)
{
    DIR *dir = opendir("/proc/self/task");
    struct dirent *de;
    bool found = false;

    assert_non_null(dir);
    while (!found && (de = readdir(dir))) {
        char path[300], line[256];
        FILE *f;

        if (de->d_name[0] == '.') {
            continue;
        }
        snprintf(path, sizeof path, "/proc/self/task/%s/comm", de->d_name);
        f = fopen(path, "r");
        if (!f) {
            continue;           /* Exited meanwhile. */
        }
        found = fgets(line, sizeof line, f)
                && !strncmp(line, name, strlen(name))
                && line[strlen(name)] == '\n';
        fclose(f);
        if (!found) {
            continue;
        }
        snprintf(path, sizeof path, "/proc/self/task/%s/status", de->d_name);
        f = fopen(path, "r");
        found = false;
        while (f && fgets(line, sizeof line, f)) {
            if (!strncmp(line, "Cpus_allowed_list:", 18)) {
                snprintf(buf, size, "%s", line + 18 + strspn(line + 18,
                                                             " \t"));
                buf[strcspn(buf, "\n")] = '\0';
                found = true;
            }
        }
        if (f) {
            fclose(f);
        }
    }
    closedir(dir);
    return found;
}

/* ---- Tests. ---- */

/* One thread forwards what is injected into port 1 to port 2. */
static void
test_forward(void **state)
{
    struct fixture *fx = *state;
    struct port *p1 = add_port(fx->dp, "p1", NULL, 1);
    struct port *p2 = add_port(fx->dp, "p2", NULL, 2);
    struct dp_pmd_stats st;

    add_flow(fx->dp, 1, 2);
    configure(fx->dp, 1, NULL, 0);
    assert_int_equal(dp_pmd_rxq_owner(fx->dp, 0, 0), 0);
    assert_int_equal(dp_pmd_rxq_owner(fx->dp, 1, 0), 0);
    assert_int_equal(dp_pmd_rxq_owner(fx->dp, 2, 0), 0);
    assert_int_equal(dp_pmd_rxq_owner(fx->dp, 1, 1), -ENOENT);
    assert_int_equal(dp_pmd_rxq_owner(fx->dp, 7, 0), -ENOENT);

    inject(p1, 100);
    assert_int_equal(take(p2, 100), 100);
    st = stats_of(fx->dp, 0);
    assert_int_equal(st.packets, 100);
    assert_true(st.batches >= 4);       /* At most 32 to a batch. */
    assert_int_equal(st.n_rxq, 3);      /* pmd0, p1, p2. */
    assert_int_equal(st.cpu, -1);
    assert_true(st.busy_ns > 0);
}

/* Two threads share the queues of two 2-queue ports added while they
 * run; a pin moves a queue and traffic follows it. */
static void
test_spread_and_pin(void **state)
{
    struct fixture *fx = *state;
    struct dp_pmd_stats a, b;
    struct errbuf err;
    int count[2] = { 0, 0 };
    struct port *p1, *p3;
    int owner;

    configure(fx->dp, 2, NULL, 0);
    p1 = add_port(fx->dp, "p1", "n_rxq=2", 1);
    add_port(fx->dp, "p2", "n_rxq=2", 2);
    p3 = add_port(fx->dp, "p3", NULL, 3);
    add_flow(fx->dp, 1, 3);
    for (uint32_t port = 1; port <= 2; port++) {
        for (uint32_t q = 0; q < 2; q++) {
            owner = dp_pmd_rxq_owner(fx->dp, port, q);
            assert_true(owner == 0 || owner == 1);
            count[owner]++;
        }
    }
    assert_int_equal(count[0], 2);
    assert_int_equal(count[1], 2);
    inject(p1, 50);
    assert_int_equal(take(p3, 50), 50);

    /* Pin both queues of port 1 to the thread that owns queue 0, then
     * to the other one: only that thread receives from port 1. */
    for (int round = 0; round < 2; round++) {
        int to = dp_pmd_rxq_owner(fx->dp, 1, round ? 1 : 0);

        to = round ? 1 - to : to;
        assert_int_equal(dp_pmd_rxq_assign(fx->dp, 1, 0, (uint32_t) to,
                                           &err), 0);
        assert_int_equal(dp_pmd_rxq_assign(fx->dp, 1, 1, (uint32_t) to,
                                           &err), 0);
        assert_int_equal(dp_pmd_rxq_owner(fx->dp, 1, 0), to);
        assert_int_equal(dp_pmd_rxq_owner(fx->dp, 1, 1), to);
        a = stats_of(fx->dp, (uint32_t) to);
        b = stats_of(fx->dp, (uint32_t) (1 - to));
        inject(p1, 64);
        assert_int_equal(take(p3, 64), 64);
        assert_int_equal(stats_of(fx->dp, (uint32_t) to).packets,
                         a.packets + 64);
        assert_int_equal(stats_of(fx->dp, (uint32_t) (1 - to)).packets,
                         b.packets);
    }

    /* Errors. */
    assert_int_equal(dp_pmd_rxq_assign(fx->dp, 1, 0, 2, &err), -EINVAL);
    assert_int_equal(dp_pmd_rxq_assign(fx->dp, 9, 0, 0, &err), -ENOENT);
    assert_int_equal(dp_pmd_rxq_assign(fx->dp, 1, 2, 0, &err), -ENOENT);

    /* Pins stay across a reconfiguration that keeps their thread. */
    assert_int_equal(dp_pmd_rxq_assign(fx->dp, 2, 0, 1, &err), 0);
    configure(fx->dp, 2, NULL, 50);
    assert_int_equal(dp_pmd_rxq_owner(fx->dp, 2, 0), 1);
    configure(fx->dp, 1, NULL, 0);
    assert_int_equal(dp_pmd_rxq_owner(fx->dp, 2, 0), 0);
    assert_int_equal(stats_of(fx->dp, 0).n_rxq, 6);
    configure(fx->dp, 2, NULL, 0);
    /* The pin went with thread 1; the queue stays where it is. */
    assert_int_equal(dp_pmd_rxq_owner(fx->dp, 2, 0), 0);
    inject(p1, 10);
    assert_int_equal(take(p3, 10), 10);
}

/* A port added while the threads run is polled. */
static void
test_port_added(void **state)
{
    struct fixture *fx = *state;
    struct port *p2 = add_port(fx->dp, "p2", NULL, 2);
    struct port *p5;

    configure(fx->dp, 2, NULL, 0);
    p5 = add_port(fx->dp, "p5", "n_rxq=3", 5);
    add_flow(fx->dp, 5, 2);
    for (uint32_t q = 0; q < 3; q++) {
        assert_true(dp_pmd_rxq_owner(fx->dp, 5, q) >= 0);
    }
    inject(p5, 200);
    assert_int_equal(take(p2, 200), 200);
}

/* Ports deleted (and added again) while traffic flows through them. */
static void
test_port_deleted(void **state)
{
    struct fixture *fx = *state;
    struct port *in, *out;

    configure(fx->dp, 2, NULL, 0);
    out = add_port(fx->dp, "out", "capture=false", 2);
    add_flow(fx->dp, 1, 2);
    for (int i = 0; i < 12; i++) {
        in = add_port(fx->dp, "in", "loop=true,n_rxq=4", 1);
        inject(in, 3);
        assert_true(tx_grows(out, 500));
        if (i % 3 == 2) {
            /* The output port goes too: packets to it are dropped. */
            assert_int_equal(dp_port_del(fx->dp, 2), 0);
            nap(2);
            out = add_port(fx->dp, "out", "capture=false", 2);
            assert_true(tx_grows(out, 500));
        }
        assert_int_equal(dp_port_del(fx->dp, 1), 0);
        assert_int_equal(dp_pmd_rxq_owner(fx->dp, 1, 0), -ENOENT);
    }
    assert_int_equal(stats_of(fx->dp, 0).n_rxq + stats_of(fx->dp, 1).n_rxq,
                     2);                /* pmd0 and out. */
}

/* 2 -> 1 -> 0 -> 2 threads while traffic flows. */
static void
test_reconfigure(void **state)
{
    struct fixture *fx = *state;
    struct port *in = add_port(fx->dp, "in", "loop=true,n_rxq=2", 1);
    struct port *out = add_port(fx->dp, "out", "capture=false", 2);
    static const uint32_t steps[] = { 2, 1, 0, 2, 0, 1, 2 };
    uint64_t before;

    add_flow(fx->dp, 1, 2);
    inject(in, 4);
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        configure(fx->dp, steps[i], NULL, 0);
        if (steps[i]) {
            assert_true(tx_grows(out, 1000));
            assert_true(dp_pmd_rxq_owner(fx->dp, 1, 1) >= 0);
            continue;
        }
        /* No thread: nothing moves, and nothing is assigned. */
        assert_int_equal(dp_pmd_rxq_owner(fx->dp, 1, 0), -ENOENT);
        before = tx_packets(out);
        nap(30);
        assert_int_equal(tx_packets(out), before);
    }
}

/* An idle thread sleeps in poll() and wakes up when a packet comes. */
static void
test_sleep_and_wake(void **state)
{
    struct fixture *fx = *state;
    struct port *p1 = add_port(fx->dp, "p1", NULL, 1);
    struct port *p2 = add_port(fx->dp, "p2", NULL, 2);
    struct dp_pmd_stats s0, s1, s2;
    uint64_t deadline = tu_now_ms() + DEADLINE_MS;

    add_flow(fx->dp, 1, 2);
    configure(fx->dp, 1, NULL, 100);
    while (stats_of(fx->dp, 0).sleep_ns == 0) {
        assert_true(tu_now_ms() < deadline);
        nap(1);
    }
    s0 = stats_of(fx->dp, 0);
    nap(300);
    s1 = stats_of(fx->dp, 0);
    /* It slept most of the time (a sleep in progress counts) and did
     * no work. */
    assert_true(s1.sleep_ns - s0.sleep_ns >= 200000000u);
    assert_int_equal(s1.busy_ns, s0.busy_ns);
    assert_int_equal(s1.packets, 0);
    assert_true(s1.idle_ns - s0.idle_ns < 100000000u);

    inject(p1, 1);
    assert_int_equal(take(p2, 1), 1);
    s2 = stats_of(fx->dp, 0);
    assert_true(s2.wakeups > s1.wakeups);
    assert_int_equal(s2.packets, 1);
    assert_int_equal(s2.batches, 1);
    assert_true(s2.busy_ns > s1.busy_ns);
}

/* A queue without an fd (an empty loop port): the thread naps on a
 * timer, and traffic that appears is picked up. */
static void
test_sleep_on_timer(void **state)
{
    struct fixture *fx = *state;
    struct port *in = add_port(fx->dp, "in", "loop=true", 1);
    struct port *out = add_port(fx->dp, "out", "capture=false", 2);
    struct dp_pmd_stats s0, s1;

    add_flow(fx->dp, 1, 2);
    configure(fx->dp, 1, NULL, 0);
    nap(50);
    s0 = stats_of(fx->dp, 0);
    nap(200);
    s1 = stats_of(fx->dp, 0);
    /* Timer wake-ups (every 8 ms at most), mostly asleep. */
    assert_true(s1.wakeups - s0.wakeups >= 10);
    assert_true(s1.sleep_ns - s0.sleep_ns >= 100000000u);
    assert_int_equal(s1.packets, 0);

    inject(in, 1);
    assert_true(tx_grows(out, 100));
}

/* CPU lists: syntax and range errors; pinning to CPU 0. */
static void
test_cpus(void **state)
{
    static const char *const bad[] = {
        "0-", "a", "999", "1-0", "0,", ",0", "0;1", "-1", " 0", "0-999",
        "99999999999999999999",
    };
    struct fixture *fx = *state;
    struct dp_pmd_config cfg = { .n_threads = 1 };
    char cpus[64], unpinned[64];
    struct errbuf err;

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cfg.cpus = bad[i];
        errbuf_clear(&err);
        assert_int_equal(dp_pmd_configure(fx->dp, &cfg, &err), -EINVAL);
        assert_true(errbuf_is_set(&err));
        assert_int_equal(dp_pmd_get_stats(fx->dp, NULL, 0), 0);
    }
    cfg.cpus = NULL;
    cfg.n_threads = DP_PMD_MAX + 1;
    assert_int_equal(dp_pmd_configure(fx->dp, &cfg, &err), -EINVAL);

    configure(fx->dp, 2, NULL, 0);
    assert_true(thread_cpus("pmd1", unpinned, sizeof unpinned));
    configure(fx->dp, 2, "0", 0);
    assert_int_equal(stats_of(fx->dp, 0).cpu, 0);
    assert_int_equal(stats_of(fx->dp, 1).cpu, 0);
    /* The kernel agrees: the existing thread was moved, the new one
     * started there. */
    assert_true(thread_cpus("pmd0", cpus, sizeof cpus));
    assert_string_equal(cpus, "0");
    assert_true(thread_cpus("pmd1", cpus, sizeof cpus));
    assert_string_equal(cpus, "0");
    configure(fx->dp, 2, "0,0-0", 0);
    assert_int_equal(stats_of(fx->dp, 1).cpu, 0);
    configure(fx->dp, 2, NULL, 0);
    assert_int_equal(stats_of(fx->dp, 0).cpu, -1);
    assert_true(thread_cpus("pmd1", cpus, sizeof cpus));
    assert_string_equal(cpus, unpinned);
    configure(fx->dp, 1, "", 0);
    assert_int_equal(stats_of(fx->dp, 0).cpu, -1);
    configure(fx->dp, 1, "0", 0);
    assert_int_equal(stats_of(fx->dp, 0).cpu, 0);

    /* A bad list changes nothing. */
    cfg.n_threads = 1;
    cfg.cpus = "0-";
    assert_int_equal(dp_pmd_configure(fx->dp, &cfg, &err), -EINVAL);
    assert_int_equal(stats_of(fx->dp, 0).cpu, 0);
}

/* The datapath's max_threads bounds the threads. */
static void
test_max_threads(void **state)
{
    struct dp_config dc = { .max_threads = 2 };
    struct dp_pmd_config cfg = { .n_threads = 3 };
    struct datapath *dp;
    struct dp_thread *thr;
    struct errbuf err;

    (void) state;
    assert_int_equal(dp_create("pmdmax", &dc, &dp, &err), 0);
    errbuf_clear(&err);
    assert_int_equal(dp_pmd_configure(dp, &cfg, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "max_threads"));
    assert_int_equal(dp_pmd_get_stats(dp, NULL, 0), 0);
    configure(dp, 2, NULL, 0);
    assert_null(dp_thread_create(dp, NULL));
    configure(dp, 1, NULL, 0);
    thr = dp_thread_create(dp, NULL);
    assert_non_null(thr);
    dp_thread_destroy(thr);
    qsbr_offline();
    dp_destroy(dp);
    qsbr_online();
}

/* Queues handed back and forth between running threads under traffic. */
static void
test_pin_stress(void **state)
{
    struct fixture *fx = *state;
    struct port *in = add_port(fx->dp, "in", "loop=true,n_rxq=2", 1);
    struct port *out = add_port(fx->dp, "out", "capture=false", 2);
    struct errbuf err;

    add_flow(fx->dp, 1, 2);
    inject(in, 2);
    configure(fx->dp, 2, NULL, 0);
    for (uint32_t i = 0; i < 200; i++) {
        assert_int_equal(dp_pmd_rxq_assign(fx->dp, 1, i % 2, (i / 2) % 2,
                                           &err), 0);
        if (i % 50 == 0) {
            assert_true(tx_grows(out, 100));
        }
        qsbr_quiesce();
    }
    assert_true(tx_grows(out, 100));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_forward, setup, teardown),
        cmocka_unit_test_setup_teardown(test_spread_and_pin, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_port_added, setup, teardown),
        cmocka_unit_test_setup_teardown(test_port_deleted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reconfigure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sleep_and_wake, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_sleep_on_timer, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_cpus, setup, teardown),
        cmocka_unit_test_setup_teardown(test_max_threads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pin_stress, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
