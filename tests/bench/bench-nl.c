/* SPDX-License-Identifier: Apache-2.0 */

/* bench-nl: flow operations over weird's control socket, through
 * libweir's netlink provider, against a real weird process.
 *
 * usage: bench-nl WEIRD_BINARY [SIZES]
 *
 * Starts weird on a private socket (dummy local port, no state file), makes
 * a datapath with two dummy ports and prints:
 *
 *   BENCH nl_put_per_s N flows/s           one dpif_flow_put() at a time
 *   BENCH nl_put_batched_per_s N flows/s   dpif_operate(), 128 per batch
 *   BENCH nl_dump_full_<size>_per_s        whole flows (key, mask, actions)
 *   BENCH nl_dump_terse_<size>_per_s       UFID + stats only (seed 000)
 *   BENCH nl_dump_terse_vs_full_<size> X x the ratio, same run
 *
 * for sizes 10k, 100k and 1M flows (SIZES: a comma list of flow counts to
 * run instead, e.g. 10000,100000).  Flows are OVS-like megaflows: in_port,
 * Ethernet, IPv4 and TCP with the mask a revalidator would see, each with
 * a UFID.  Flows for the install figures are made (parsed from text)
 * before the clock starts.  Dumps are single-threaded, best of three (one
 * run at 1M). */

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench-util.h"
#include "weir/dpif.h"

#define KEY_MAX 512
#define BATCH 128

struct flow_buf {
    uint8_t key[KEY_MAX];
    uint8_t mask[KEY_MAX];
    size_t key_len, mask_len;
    struct dpif_ufid ufid;
};

static uint8_t actions[8];
static size_t actions_len;
static pid_t weird_pid;
static char work_dir[] = "/tmp/bench-nl-XXXXXX";

/* Stops weird and removes the work directory. */
static void
cleanup(void)
{
    static const char *files[] = { "weird.sock", "weird.pid", "weird.log",
                                   "weird.sock.lock" };
    char path[sizeof work_dir + 32];
    int status;

    if (weird_pid > 0) {
        kill(weird_pid, SIGTERM);
        waitpid(weird_pid, &status, 0);
        weird_pid = 0;
    }
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        snprintf(path, sizeof path, "%s/%s", work_dir, files[i]);
        unlink(path);
    }
    rmdir(work_dir);
}

static void
die(const char *what, int error)
{
    fprintf(stderr, "bench-nl: %s: %s (%s)\n", what, strerror(-error),
            dpif_last_error());
    cleanup();
    exit(1);
}

/* Flow 'i': a distinct source address and port. */
static void
make_flow(uint32_t i, struct flow_buf *f)
{
    char text[400];
    int n;

    snprintf(text, sizeof text,
             "ufid:%08" PRIx32 "-0000-4000-8000-%012" PRIx32 ","
             "in_port(1),eth(src=02:00:00:00:00:02,dst=02:00:00:00:00:01),"
             "eth_type(0x0800),ipv4(src=10.%u.%u.%u,dst=10.0.0.1,proto=6,"
             "tos=0/0,ttl=64/0,frag=no),tcp(src=%u,dst=80),tcp_flags(0/0)",
             i, i, (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff,
             1024 + (i % 60000));
    n = dpif_key_parse(text, f->key, sizeof f->key, f->mask,
                       sizeof f->mask, &f->mask_len, &f->ufid);
    if (n < 0) {
        die("key parse", n);
    }
    f->key_len = n;
}

static void
put_one(struct dpif *dpif, const struct flow_buf *f)
{
    int error = dpif_flow_put(dpif, DPIF_FP_CREATE, f->key, f->key_len,
                              f->mask, f->mask_len, &f->ufid, actions,
                              actions_len, NULL);
    if (error) {
        die("flow put", error);
    }
}

/* Installs flows [from, to) in batches, from 'pre' (flows made
 * beforehand, pre[k] is flow from + k) or made on the way if NULL. */
static void
put_batched(struct dpif *dpif, uint32_t from, uint32_t to,
            const struct flow_buf *pre)
{
    static struct flow_buf made[BATCH];
    struct dpif_op ops[BATCH], *opp[BATCH];

    for (uint32_t i = from; i < to; ) {
        const struct flow_buf *bufs;
        size_t n = 0;

        if (pre) {
            bufs = &pre[i - from];
        } else {
            for (uint32_t k = 0; k < BATCH && i + k < to; k++) {
                make_flow(i + k, &made[k]);
            }
            bufs = made;
        }
        for (; n < BATCH && i < to; n++, i++) {
            memset(&ops[n], 0, sizeof ops[n]);
            ops[n].type = DPIF_OP_FLOW_PUT;
            ops[n].u.flow_put = (struct dpif_flow_put) {
                .flags = DPIF_FP_CREATE,
                .key = bufs[n].key, .key_len = bufs[n].key_len,
                .mask = bufs[n].mask, .mask_len = bufs[n].mask_len,
                .ufid = &bufs[n].ufid,
                .actions = actions, .actions_len = actions_len,
            };
            opp[n] = &ops[n];
        }
        dpif_operate(dpif, opp, n);
        for (size_t k = 0; k < n; k++) {
            if (ops[k].error) {
                die("batched put", ops[k].error);
            }
        }
    }
}

/* Dumps every flow; returns flows per second and checks the count. */
static double
dump_rate(struct dpif *dpif, bool terse, uint64_t want)
{
    static struct dpif_flow flows[256];
    struct dpif_flow_dump *dump;
    struct dpif_flow_dump_thread *thr;
    uint64_t count = 0;
    double t0 = bench_now(), t1;
    int n, error;

    dump = dpif_flow_dump_create(dpif, terse);
    if (!dump) {
        die("dump create", -ENOMEM);
    }
    thr = dpif_flow_dump_thread_create(dump);
    while ((n = dpif_flow_dump_next(thr, flows, 256)) > 0) {
        count += n;
    }
    dpif_flow_dump_thread_destroy(thr);
    error = dpif_flow_dump_destroy(dump);
    t1 = bench_now();
    if (error) {
        die("dump", error);
    }
    if (count != want) {
        fprintf(stderr, "bench-nl: dump returned %" PRIu64 " flows, "
                "expected %" PRIu64 "\n", count, want);
        cleanup();
        exit(1);
    }
    return count / (t1 - t0);
}

static const char *
size_name(uint64_t n, char *buf, size_t size)
{
    if (n >= 1000000 && n % 1000000 == 0) {
        snprintf(buf, size, "%" PRIu64 "M", n / 1000000);
    } else if (n >= 1000 && n % 1000 == 0) {
        snprintf(buf, size, "%" PRIu64 "k", n / 1000);
    } else {
        snprintf(buf, size, "%" PRIu64, n);
    }
    return buf;
}

static pid_t
start_weird(const char *bin, const char *dir, char *control, size_t size)
{
    char arg_control[300], arg_pid[300], arg_log[300];
    pid_t pid;

    snprintf(control, size, "%s/weird.sock", dir);
    snprintf(arg_control, sizeof arg_control, "--control=%s", control);
    snprintf(arg_pid, sizeof arg_pid, "--pidfile=%s/weird.pid", dir);
    snprintf(arg_log, sizeof arg_log, "--log-file=%s/weird.log", dir);
    pid = fork();
    if (pid < 0) {
        perror("bench-nl: fork");
        exit(1);
    }
    if (!pid) {
        execl(bin, bin, arg_control, arg_pid, arg_log, "--state=",
              "--local-type=dummy", (char *) NULL);
        perror("bench-nl: exec weird");
        _exit(127);
    }
    for (int i = 0; i < 500; i++) {
        struct stat st;

        if (!stat(control, &st)) {
            return pid;
        }
        usleep(10000);
    }
    fprintf(stderr, "bench-nl: weird did not start\n");
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    exit(1);
}

int
main(int argc, char *argv[])
{
    uint64_t sizes[8] = { 10000, 100000, 1000000 };
    size_t n_sizes = 3;
    char control[256], name[32];
    struct dpif *dpif;
    uint32_t port_no;
    uint64_t have = 0;
    int error;

    if (argc < 2) {
        fprintf(stderr, "usage: bench-nl WEIRD_BINARY [SIZES]\n");
        return 2;
    }
    if (argc > 2) {
        char *s = argv[2], *end;

        n_sizes = 0;
        while (*s && n_sizes < 8) {
            sizes[n_sizes++] = strtoull(s, &end, 10);
            s = *end == ',' ? end + 1 : end;
            if (end == s && *s) {
                break;
            }
        }
    }
    if (!mkdtemp(work_dir)) {
        perror("bench-nl: mkdtemp");
        return 1;
    }
    weird_pid = start_weird(argv[1], work_dir, control, sizeof control);
    dpif_set_control_path(control);

    error = dpif_open("netlink", "bnl0", true, &dpif);
    if (error) {
        die("open", error);
    }
    for (int i = 1; i <= 2; i++) {
        char pname[16];

        snprintf(pname, sizeof pname, "bnlp%d", i);
        port_no = DPIF_PORT_ANY;
        error = dpif_port_add(dpif, pname, "dummy", NULL, &port_no);
        if (error) {
            die("port add", error);
        }
    }
    error = dpif_actions_parse("2", actions, sizeof actions);
    if (error < 0) {
        die("actions", error);
    }
    actions_len = error;

    /* Installs, one by one and batched. */
    {
        enum { N_SINGLE = 20000, N_BATCHED = 100000 };
        struct flow_buf *bufs = calloc(N_SINGLE, sizeof *bufs);
        double t0, t1;

        if (!bufs) {
            die("memory", -ENOMEM);
        }
        for (uint32_t i = 0; i < N_SINGLE; i++) {
            make_flow(i, &bufs[i]);
        }
        t0 = bench_now();
        for (uint32_t i = 0; i < N_SINGLE; i++) {
            put_one(dpif, &bufs[i]);
        }
        t1 = bench_now();
        printf("BENCH nl_put_per_s %.0f flows/s\n", N_SINGLE / (t1 - t0));
        free(bufs);
        dpif_flow_flush(dpif);

        bufs = calloc(N_BATCHED, sizeof *bufs);
        if (!bufs) {
            die("memory", -ENOMEM);
        }
        for (uint32_t i = 0; i < N_BATCHED; i++) {
            make_flow(i, &bufs[i]);
        }
        t0 = bench_now();
        put_batched(dpif, 0, N_BATCHED, bufs);
        t1 = bench_now();
        printf("BENCH nl_put_batched_per_s %.0f flows/s\n",
               N_BATCHED / (t1 - t0));
        free(bufs);
        have = N_BATCHED;
    }

    /* Dumps at each size. */
    for (size_t s = 0; s < n_sizes; s++) {
        uint64_t n = sizes[s];
        double full = 0, terse = 0;
        int rounds = n >= 1000000 ? 1 : 3;

        if (have > n) {
            dpif_flow_flush(dpif);
            have = 0;
        }
        put_batched(dpif, have, n, NULL);
        have = n;
        for (int r = 0; r < rounds; r++) {
            double f = dump_rate(dpif, false, n);
            double t = dump_rate(dpif, true, n);

            full = f > full ? f : full;
            terse = t > terse ? t : terse;
        }
        size_name(n, name, sizeof name);
        printf("BENCH nl_dump_full_%s_per_s %.0f flows/s\n", name, full);
        printf("BENCH nl_dump_terse_%s_per_s %.0f flows/s\n", name, terse);
        printf("BENCH nl_dump_terse_vs_full_%s %.2f x\n", name,
               terse / full);
        fflush(stdout);
    }

    dpif_delete(dpif);
    dpif_close(dpif);
    cleanup();
    return 0;
}
