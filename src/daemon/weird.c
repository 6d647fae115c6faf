/* SPDX-License-Identifier: Apache-2.0 */
/* weird: the weir daemon.  It runs the datapaths (with their PMD threads)
 * that clients make through the control socket, in one event loop that
 * serves the socket, the state file and signals.  man/weird.8 is the
 * user's documentation; this is the order of things:
 *
 *   start:    fds 0-2 opened on /dev/null if closed; options; refuse a
 *             pidfile naming a live weird; --detach forks (the parent
 *             waits on a pipe); log file; the open files limit raised to
 *             its hard limit; event loop and signal events; genl server;
 *             control socket listening (its lock taken); datapaths and
 *             ports re-created from the state file; pidfile written; the
 *             parent told "ready" (it exits 0) and stdio moved to
 *             /dev/null.
 *   run:      libevent; SIGHUP reopens the log file.
 *   SIGTERM,  stop accepting and close clients, write a pending state,
 *   SIGINT:   stop recording it, destroy the genl server (datapaths,
 *             ports, TAP devices, threads), remove socket and pidfile,
 *             exit 0.
 *
 * Exit status: 0 after a clean shutdown, 1 when weird cannot start or its
 * loop fails (the reason on stderr and in the log), 2 for a usage error.
 *
 * The main thread is a registered RCU reader (genl requires it), offline
 * while libevent sleeps: each callback goes online at entry and offline
 * at exit (ctl.c, state.c, and the signal callback here).
 */

#define _GNU_SOURCE             /* pipe2(). */

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <event2/event.h>

#include "daemon/ctl.h"
#include "daemon/state.h"
#include "genl/genl.h"
#include "lib/errbuf.h"
#include "lib/log.h"
#include "lib/rcu.h"
#include "weir/control.h"

#ifndef WEIR_VERSION
#define WEIR_VERSION "unknown"
#endif

#define WEIRD_PIDFILE_DEFAULT "/run/weir/weird.pid"
#define WEIRD_LOG_DEFAULT "/var/log/weir/weird.log"

struct weird_opts {
    const char *control;
    const char *state;          /* "" = no state file. */
    const char *pidfile;        /* NULL = none. */
    const char *log_file;       /* NULL = none. */
    bool detach;
    uint32_t pmd_threads;
    const char *pmd_cpus;
    const char *local_type;
    const char *system_type;
};

/* The running daemon: what the shutdown path takes apart. */
struct weird {
    struct weird_opts opts;
    struct event_base *base;
    struct event *ev_sig[3];
    struct state_file *state;
    struct genl_server *genl;
    struct ctl_server *ctl;
    bool pidfile_written;
    int stop_signal;
    int ready_fd;               /* --detach: pipe to the waiting parent. */
};

static void
usage(FILE *f)
{
    fprintf(f,
"Usage: weird [OPTION]...\n"
"The weir daemon: userspace datapaths behind the Open vSwitch kernel\n"
"module's generic-netlink protocol, on an AF_UNIX control socket.\n"
"\n"
"  --control=PATH        control socket (default: $" WEIR_CONTROL_ENV ",\n"
"                        else " WEIR_CONTROL_DEFAULT ")\n"
"  --state=PATH          state file: datapaths and ports across restarts\n"
"                        (default " STATE_DEFAULT_PATH "; empty: none)\n"
"  --pidfile[=PATH]      write the process id (default\n"
"                        " WEIRD_PIDFILE_DEFAULT ")\n"
"  --log-file[=PATH]     append log lines to PATH (default\n"
"                        " WEIRD_LOG_DEFAULT ")\n"
"  --detach              run in the background; return once listening\n"
"  -v, --verbose=SPEC    log level: LEVEL, MODULE:LEVEL or any:LEVEL\n"
"                        (dbg, info, warn, err, off); repeatable\n"
"  --pmd-threads=N       PMD threads per datapath (default 1)\n"
"  --pmd-cpus=LIST       CPUs for them, e.g. 2-3,6\n"
"  --local-type=TYPE     each datapath's local port: tap (default) or\n"
"                        dummy (no kernel device)\n"
"  --system-type=TYPE    provider of \"system\" ports: auto (default:\n"
"                        afpacket), afxdp or afpacket\n"
"  -h, --help            this help\n"
"  -V, --version         the version\n");
}

static void usage_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

static void
usage_error(const char *fmt, ...)
{
    va_list args;

    fprintf(stderr, "weird: ");
    va_start(args, fmt);
    vfprintf(stderr, fmt, args);
    va_end(args);
    fprintf(stderr, "\nTry 'weird --help'.\n");
    exit(2);
}

enum {
    OPT_CONTROL = 256,
    OPT_STATE,
    OPT_PIDFILE,
    OPT_LOG_FILE,
    OPT_DETACH,
    OPT_PMD_THREADS,
    OPT_PMD_CPUS,
    OPT_LOCAL_TYPE,
    OPT_SYSTEM_TYPE,
};

static void
parse_options(int argc, char *argv[], struct weird_opts *o)
{
    static const struct option longopts[] = {
        { "control", required_argument, NULL, OPT_CONTROL },
        { "state", required_argument, NULL, OPT_STATE },
        { "pidfile", optional_argument, NULL, OPT_PIDFILE },
        { "log-file", optional_argument, NULL, OPT_LOG_FILE },
        { "detach", no_argument, NULL, OPT_DETACH },
        { "verbose", required_argument, NULL, 'v' },
        { "pmd-threads", required_argument, NULL, OPT_PMD_THREADS },
        { "pmd-cpus", required_argument, NULL, OPT_PMD_CPUS },
        { "local-type", required_argument, NULL, OPT_LOCAL_TYPE },
        { "system-type", required_argument, NULL, OPT_SYSTEM_TYPE },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    int c;

    memset(o, 0, sizeof *o);
    o->state = STATE_DEFAULT_PATH;
    o->local_type = "tap";
    o->system_type = "auto";

    while ((c = getopt_long(argc, argv, "v:hV", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_CONTROL:
            if (!*optarg) {
                usage_error("--control needs a path");
            }
            o->control = optarg;
            break;
        case OPT_STATE:
            o->state = optarg;
            break;
        case OPT_PIDFILE:
            o->pidfile = optarg && *optarg ? optarg : WEIRD_PIDFILE_DEFAULT;
            break;
        case OPT_LOG_FILE:
            o->log_file = optarg && *optarg ? optarg : WEIRD_LOG_DEFAULT;
            break;
        case OPT_DETACH:
            o->detach = true;
            break;
        case 'v':
            if (wlog_set_spec(optarg)) {
                usage_error("bad -v '%s' (want LEVEL, MODULE:LEVEL or "
                            "any:LEVEL; levels dbg, info, warn, err, off)",
                            optarg);
            }
            break;
        case OPT_PMD_THREADS: {
            char *end;
            unsigned long n;

            errno = 0;
            n = strtoul(optarg, &end, 10);
            if (errno || end == optarg || *end || !n || n > 1024
                || optarg[0] == '-' || optarg[0] == '+') {
                usage_error("bad --pmd-threads '%s' (want 1 to 1024)",
                            optarg);
            }
            o->pmd_threads = (uint32_t) n;
            break;
        }
        case OPT_PMD_CPUS:
            o->pmd_cpus = optarg;
            break;
        case OPT_LOCAL_TYPE:
            if (strcmp(optarg, "tap") && strcmp(optarg, "dummy")) {
                usage_error("bad --local-type '%s' (want tap or dummy)",
                            optarg);
            }
            o->local_type = optarg;
            break;
        case OPT_SYSTEM_TYPE:
            if (strcmp(optarg, "auto") && strcmp(optarg, "afxdp")
                && strcmp(optarg, "afpacket")) {
                usage_error("bad --system-type '%s' (want auto, afxdp or "
                            "afpacket)", optarg);
            }
            o->system_type = optarg;
            break;
        case 'h':
            usage(stdout);
            exit(0);
        case 'V':
            printf("weird (weir) %s\n", WEIR_VERSION);
            exit(0);
        default:
            fprintf(stderr, "Try 'weird --help'.\n");
            exit(2);
        }
    }
    if (optind < argc) {
        usage_error("unexpected argument '%s'", argv[optind]);
    }
    if (!o->control) {
        const char *env = getenv(WEIR_CONTROL_ENV);

        o->control = env && *env ? env : WEIR_CONTROL_DEFAULT;
    }
    if (o->detach && !o->log_file) {
        /* Detached, stderr goes to /dev/null: the log needs a file. */
        o->log_file = WEIRD_LOG_DEFAULT;
    }
}

/* ---- The pidfile. ---- */

/* Reads the process id in 'path': > 0, 0 if there is no file or no
 * number in it. */
static pid_t
pidfile_read(const char *path)
{
    char buf[32];
    ssize_t n;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0) {
        return 0;
    }
    n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) {
        return 0;
    }
    buf[n] = '\0';
    long pid = strtol(buf, NULL, 10);
    return pid > 0 && pid <= INT_MAX ? (pid_t) pid : 0;
}

/* Returns true if process 'pid' runs and (as far as /proc tells) is a
 * weird: a stale pidfile whose number was reused by another program does
 * not stop weird from starting. */
static bool
pid_is_live_weird(pid_t pid)
{
    char path[64], comm[32];
    ssize_t n;
    int fd;

    if (pid <= 0 || pid == getpid()) {
        return false;
    }
    if (kill(pid, 0) && errno == ESRCH) {
        return false;
    }
    snprintf(path, sizeof path, "/proc/%d/comm", (int) pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return true;            /* No /proc: trust kill(). */
    }
    n = read(fd, comm, sizeof comm - 1);
    close(fd);
    if (n <= 0) {
        return true;
    }
    comm[n] = '\0';
    return !strncmp(comm, "weird", 5);
}

/* Writes our pid to 'path' (through a temporary file and rename()).
 * Returns 0 or -errno. */
static int
pidfile_write(const char *path)
{
    char tmp[PATH_MAX], buf[32];
    int fd, error = 0;
    int len;

    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int) sizeof tmp) {
        return -ENAMETOOLONG;
    }
    error = state_make_dirs(path);
    if (error) {
        return error;
    }
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        return -errno;
    }
    len = snprintf(buf, sizeof buf, "%d\n", (int) getpid());
    if (write(fd, buf, (size_t) len) != len) {
        error = errno ? -errno : -EIO;
    }
    if (close(fd) && !error) {
        error = -errno;
    }
    if (!error && rename(tmp, path)) {
        error = -errno;
    }
    if (error) {
        unlink(tmp);
    }
    return error;
}

/* Removes the pidfile if it still names us. */
static void
pidfile_remove(const char *path)
{
    if (pidfile_read(path) == getpid()) {
        unlink(path);
    }
}

/* ---- Detaching. ---- */

/* Forks; the parent waits for the child to report (weird_ready()) and
 * exits with 0 if it did, 1 if it failed or died.  Returns, in the child,
 * the write end of the pipe. */
static int
detach_start(void)
{
    int fds[2];
    pid_t pid;

    if (pipe2(fds, O_CLOEXEC)) {
        fprintf(stderr, "weird: pipe: %s\n", strerror(errno));
        exit(1);
    }
    pid = fork();
    if (pid < 0) {
        fprintf(stderr, "weird: fork: %s\n", strerror(errno));
        exit(1);
    }
    if (pid > 0) {
        char status = 1;
        ssize_t n;

        close(fds[1]);
        do {
            n = read(fds[0], &status, 1);
        } while (n < 0 && errno == EINTR);
        if (n != 1) {
            fprintf(stderr, "weird: the daemon exited while starting\n");
            _exit(1);
        }
        _exit(status ? 1 : 0);
    }
    close(fds[0]);
    if (setsid() < 0) {
        fprintf(stderr, "weird: setsid: %s\n", strerror(errno));
        exit(1);
    }
    if (chdir("/")) {
        fprintf(stderr, "weird: chdir /: %s\n", strerror(errno));
        exit(1);
    }
    return fds[1];
}

/* Tells the waiting parent that weird runs, and moves stdio to
 * /dev/null. */
static void
detach_finish(struct weird *w)
{
    char ok = 0;
    int fd;

    if (w->ready_fd < 0) {
        return;
    }
    fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (fd >= 0) {
        dup2(fd, STDIN_FILENO);
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
        if (fd > STDERR_FILENO) {
            close(fd);
        }
    }
    wlog_set_stderr(false);
    if (write(w->ready_fd, &ok, 1) != 1) {
        wlog("weird", WLOG_WARN, "cannot tell the parent that weird runs: "
             "%s", strerror(errno));
    }
    close(w->ready_fd);
    w->ready_fd = -1;
}

/* ---- Start-up chores. ---- */

/* Makes sure that fds 0, 1 and 2 are open (on /dev/null when they were
 * not): started with one of them closed, weird would otherwise get it for
 * its log file or a socket, and detach_finish() would put /dev/null over
 * it.  Returns false if /dev/null cannot be opened. */
static bool
stdio_ensure_open(void)
{
    for (;;) {
        int fd = open("/dev/null", O_RDWR);

        if (fd < 0) {
            return false;
        }
        if (fd > STDERR_FILENO) {
            close(fd);
            return true;
        }
    }
}

/* Raises the soft limit on open files to the hard limit: each client
 * costs weird a socket, an epoll fd and an eventfd per datapath. */
static void
nofile_raise(void)
{
    struct rlimit rl;
    rlim_t old;

    if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur >= rl.rlim_max) {
        return;
    }
    old = rl.rlim_cur;
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl)) {
        wlog("weird", WLOG_DBG, "cannot raise the open files limit from "
             "%llu to %llu: %s", (unsigned long long) old,
             (unsigned long long) rl.rlim_max, strerror(errno));
        return;
    }
    wlog("weird", WLOG_DBG, "open files limit raised from %llu to %llu",
         (unsigned long long) old, (unsigned long long) rl.rlim_max);
}

/* ---- Signals. ---- */

static void
signal_cb(evutil_socket_t sig, short what, void *aux)
{
    struct weird *w = aux;

    qsbr_online();
    if (sig == SIGHUP) {
        int error = wlog_reopen();

        if (error) {
            wlog("weird", WLOG_ERR, "SIGHUP: cannot reopen the log file: %s",
                 strerror(-error));
        } else {
            wlog("weird", WLOG_INFO, "SIGHUP: log file reopened");
        }
    } else {
        w->stop_signal = (int) sig;
        event_base_loopbreak(w->base);
    }
    qsbr_offline();
}

/* ---- Start and stop. ---- */

/* Takes everything apart that weird_start() made, in the order that
 * leaves nothing behind: clients first, the state recorded before the
 * datapaths go, the datapaths, then the files. */
static void
weird_stop(struct weird *w)
{
    ctl_server_destroy(w->ctl);
    w->ctl = NULL;
    if (w->state) {
        state_file_flush(w->state);
        state_file_detach(w->state);
    }
    genl_server_destroy(w->genl);
    w->genl = NULL;
    state_file_destroy(w->state);
    w->state = NULL;
    for (size_t i = 0; i < sizeof w->ev_sig / sizeof w->ev_sig[0]; i++) {
        if (w->ev_sig[i]) {
            event_free(w->ev_sig[i]);
            w->ev_sig[i] = NULL;
        }
    }
    if (w->base) {
        event_base_free(w->base);
        w->base = NULL;
    }
    if (w->pidfile_written) {
        pidfile_remove(w->opts.pidfile);
        w->pidfile_written = false;
    }
}

/* Reports why weird cannot start: in the log, and on stderr also when
 * --detach keeps log lines off it (the parent's terminal must say why). */
static void start_error(const struct weird *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
start_error(const struct weird *w, const char *fmt, ...)
{
    char msg[512];
    va_list args;

    va_start(args, fmt);
    vsnprintf(msg, sizeof msg, fmt, args);
    va_end(args);
    wlog("weird", WLOG_ERR, "%s", msg);
    if (w->ready_fd >= 0) {
        fprintf(stderr, "weird: %s\n", msg);
    }
}

/* Returns 0, or -1 after logging why weird cannot start. */
static int
weird_start(struct weird *w)
{
    static const int sigs[] = { SIGTERM, SIGINT, SIGHUP };
    struct genl_config cfg;
    struct errbuf err;
    int error;

    errbuf_clear(&err);
    w->base = event_base_new();
    if (!w->base) {
        start_error(w, "cannot create the event loop");
        return -1;
    }
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        w->ev_sig[i] = evsignal_new(w->base, sigs[i], signal_cb, w);
        if (!w->ev_sig[i] || event_add(w->ev_sig[i], NULL)) {
            start_error(w, "cannot handle signal %d", sigs[i]);
            return -1;
        }
    }

    if (*w->opts.state) {
        w->state = state_file_create(w->base, w->opts.state, &err);
        if (!w->state) {
            start_error(w, "%s", err.msg);
            return -1;
        }
    }

    memset(&cfg, 0, sizeof cfg);
    cfg.local_type = w->opts.local_type;
    cfg.system_type = w->opts.system_type;
    cfg.pmd_threads = w->opts.pmd_threads;
    cfg.pmd_cpus = w->opts.pmd_cpus;
    if (w->state) {
        cfg.changed = state_file_changed;
        cfg.changed_aux = w->state;
    }
    w->genl = genl_server_create(&cfg, &err);
    if (!w->genl) {
        start_error(w, "cannot start the datapath server: %s", err.msg);
        return -1;
    }

    /* The socket before the state: a second weird started by mistake on
     * the same paths must fail here, before it makes datapaths (and TAP
     * devices) that are the first one's.  Clients that connect now wait
     * in the backlog until the loop runs, after the restore. */
    w->ctl = ctl_server_create(w->base, w->genl, w->opts.control, &err);
    if (!w->ctl) {
        start_error(w, "cannot listen: %s", err.msg);
        return -1;
    }

    if (w->state) {
        error = state_file_restore(w->state, w->genl, &err);
        if (error < 0) {
            start_error(w, "%s", err.msg);
            return -1;
        }
    }

    if (w->opts.pidfile) {
        error = pidfile_write(w->opts.pidfile);
        if (error) {
            start_error(w, "cannot write the pidfile %s: %s",
                        w->opts.pidfile, strerror(-error));
            return -1;
        }
        w->pidfile_written = true;
    }
    return 0;
}

int
main(int argc, char *argv[])
{
    struct weird w;
    int status = 0;

    /* First of all: nothing of weird's may land on fds 0-2. */
    if (!stdio_ensure_open()) {
        return 1;
    }
    memset(&w, 0, sizeof w);
    w.ready_fd = -1;
    parse_options(argc, argv, &w.opts);

    if (w.opts.pidfile) {
        pid_t pid = pidfile_read(w.opts.pidfile);

        if (pid_is_live_weird(pid)) {
            fprintf(stderr, "weird: %s names a running weird (pid %d); "
                    "not starting\n", w.opts.pidfile, (int) pid);
            return 1;
        }
    }

    /* Before any thread exists (fork() keeps only the caller). */
    if (w.opts.detach) {
        w.ready_fd = detach_start();
    }
    signal(SIGPIPE, SIG_IGN);

    if (w.opts.log_file) {
        int error = state_make_dirs(w.opts.log_file);

        if (!error) {
            error = wlog_set_file(w.opts.log_file);
        }
        if (error) {
            fprintf(stderr, "weird: cannot open the log file %s: %s\n",
                    w.opts.log_file, strerror(-error));
            return 1;
        }
    }
    if (w.opts.detach) {
        /* Log lines go to the file only; start_error() tells the
         * terminal why weird could not start. */
        wlog_set_stderr(false);
    }

    nofile_raise();
    qsbr_register();
    if (weird_start(&w)) {
        weird_stop(&w);
        qsbr_unregister();
        wlog_set_file(NULL);
        return 1;
    }
    wlog("weird", WLOG_INFO, "weird %s started (pid %d), control socket %s",
         WEIR_VERSION, (int) getpid(), w.opts.control);
    detach_finish(&w);

    qsbr_offline();
    if (event_base_dispatch(w.base) < 0) {
        wlog("weird", WLOG_ERR, "the event loop failed");
        status = 1;
    }
    qsbr_online();

    if (w.stop_signal) {
        wlog("weird", WLOG_INFO, "%s: stopping",
             w.stop_signal == SIGTERM ? "SIGTERM" : "SIGINT");
    }
    weird_stop(&w);
    wlog("weird", WLOG_INFO, "weird stopped");
    qsbr_unregister();
    wlog_set_file(NULL);
    return status;
}
