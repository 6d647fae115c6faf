/* SPDX-License-Identifier: Apache-2.0 */
/* ovscompat: NETLINK_GENERIC sockets served by weird (ovscompat.h,
 * docs/design/ovscompat.md).
 *
 * The choices this file makes:
 *
 *   - The fd the program gets is the AF_UNIX SOCK_SEQPACKET socket
 *     connected to weird, so readiness, O_NONBLOCK, FD_CLOEXEC, SO_RCVTIMEO
 *     and epoll are the kernel's own and cost nothing.  The shim only
 *     changes what the socket calls mean on it.
 *   - Per-fd state sits in a two-level table indexed by fd: lookups are two
 *     atomic loads and no lock, so an fd the shim does not own pays that and
 *     nothing else.  A state is never given back to malloc: close() puts it
 *     on a free list that later sockets take from, so a thread that looked
 *     a state up just before another thread closed the fd (a race in the
 *     program, as using a closed fd number is) touches valid memory.
 *   - Senders are serialised by a per-fd send mutex, held over the real
 *     sendmsg() and the count of datagrams sent, so that count and weird's
 *     sync signals (one per datagram, in order) agree.  The state mutex
 *     guards the rest.  No mutex is held while waiting for weird (poll),
 *     but over the HELLO exchange (bounded by OVSC_HELLO_MS): a socket is
 *     bound once, by whichever call comes first.
 *   - Syncs: 'sent' counts the datagrams sent since HELLO, 'acked' the
 *     eventfd counts read, 'waived' the highest datagram the shim stopped
 *     waiting for (a bounded wait ran out).  Datagram N is synced when
 *     acked >= N or waived >= N; a sync is owed while sent is ahead of
 *     both.  Counts read late (after a waiver) still go to 'acked', which
 *     is exact, since weird signals in order.
 *   - Every wait is bounded and sliced (OVSC_SLICE_MS): another thread may
 *     consume the eventfd count, or the NLMSG_DONE, that this one waits
 *     for, so the state is re-checked after every slice instead of
 *     trusting poll() alone.
 *   - A receive goes through a thread's bounce buffer (OVSC_BOUNCE_SIZE)
 *     when a dump is open (so that the NLMSG_DONE is seen even when the
 *     caller's buffer truncates the datagram) or when the caller's buffer
 *     is shorter than an NLMSG_OVERRUN datagram (so that an overrun is
 *     never consumed unseen).  Otherwise the kernel fills the caller's
 *     buffers directly.
 */

#define _GNU_SOURCE

#include "compat/ovscompat.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/netlink.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "weir/control.h"

#define OVSC_HELLO_MS 5000      /* HELLO answer, control datagram room. */
#define OVSC_SEND_WAIT_MS 10000 /* Rule 1: a send waits this for its sync. */
#define OVSC_RECV_WAIT_MS 5000  /* Rules 2, 3: a receive waits this. */
#define OVSC_SLICE_MS 20        /* Re-check period of every wait. */
#define OVSC_MAX_DUMPS 16       /* Dumps tracked open per socket. */
#define OVSC_BOUNCE_SIZE (256 * 1024)
#define OVSC_MAX_GROUP 63       /* weird's highest group id. */
#define OVSC_NGROUPS 64         /* What NETLINK_LIST_MEMBERSHIPS covers. */
#define OVSC_WEIRD_RCVBUF 212992 /* weird's budget before any SO_RCVBUF. */
#define OVSC_MAX_ERRNO 4095

#define OVSC_CHUNK_BITS 10
#define OVSC_CHUNK (1u << OVSC_CHUNK_BITS)
#define OVSC_N_CHUNKS 4096u      /* fds 0 .. 4M-1 can be tracked. */

/* One NETLINK_GENERIC socket of the program's. */
struct ovsc_sock {
    pthread_mutex_t send_mutex; /* Senders, in order; before 'mutex'. */
    pthread_mutex_t mutex;      /* Everything below. */
    pthread_cond_t bound_cv;    /* Signalled when 'bound' becomes true
                                 * (CLOCK_MONOTONIC, for SO_RCVTIMEO). */
    uint64_t gen;               /* Bumped when the state is released: a
                                 * waiter whose socket was closed (and the
                                 * state reused) sees it changed. */
    int type;                   /* SOCK_RAW or SOCK_DGRAM, as asked. */
    int efd;                    /* Sync eventfd, -1 until the first HELLO. */
    bool bound;                 /* HELLO answered: 'pid' is ours. */
    uint32_t pid;
    uint32_t dst_pid;           /* connect(): destination port id. */
    uint32_t dst_groups;        /* connect(): its nl_groups. */
    uint64_t groups;            /* Bit g: multicast group g joined. */
    bool groups_touched;        /* A membership call was made. */
    bool ext_ack, cap_ack, strict_chk;  /* Sent to weird. */
    bool no_enobufs, bcast_error, all_nsid; /* The shim's own. */
    uint64_t sent, acked, waived;       /* Syncs (see the essay). */
    int pending_err;            /* The kernel's sk_err: an error that
                                 * recvmmsg() could not report, returned
                                 * by the next receive or SO_ERROR. */
    uint32_t dumps[OVSC_MAX_DUMPS];     /* Sequence numbers of open dumps. */
    size_t n_dumps;
    struct ovsc_sock *next_free;        /* On 'free_list'. */
};

typedef _Atomic(struct ovsc_sock *) ovsc_slot;

static struct ovsc_libc real_fns;
static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static pthread_key_t bounce_key;
static bool debug;

/* How long socket() waits for weird to accept the connection (ms). */
static atomic_int connect_timeout_ms = OVSC_HELLO_MS;

/* Chunks of OVSC_CHUNK slots, allocated on first use, never freed. */
static _Atomic(ovsc_slot *) fd_table[OVSC_N_CHUNKS];

/* Guards chunk allocation, slot writes and 'free_list'. */
static pthread_mutex_t global_mutex = PTHREAD_MUTEX_INITIALIZER;
static struct ovsc_sock *free_list;

/* Each stderr line is printed once per process. */
static atomic_flag warned_connect = ATOMIC_FLAG_INIT;
static atomic_flag warned_hello = ATOMIC_FLAG_INIT;
static atomic_flag warned_send = ATOMIC_FLAG_INIT;
static atomic_flag warned_recv = ATOMIC_FLAG_INIT;

static void atfork_prepare(void);
static void atfork_parent(void);
static void atfork_child(void);

/* ---- Initialisation. ---- */

/* Returns libc's 'name' as the next object after this one has it, or
 * aborts: a shim without one of its real functions cannot work. */
static void *
resolve(const char *name)
{
    void *p = dlsym(RTLD_NEXT, name);

    if (!p) {
        fprintf(stderr, "libweir-ovscompat: cannot find %s: %s\n", name,
                dlerror());
        abort();
    }
    return p;
}

/* Frees a thread's bounce buffer when the thread exits. */
static void
bounce_free(void *p)
{
    free(p);
}

/* Once per process: the real functions, the fork handlers, the bounce
 * buffers' key, WEIR_OVSCOMPAT_DEBUG. */
static void
init(void)
{
    const char *dbg = getenv("WEIR_OVSCOMPAT_DEBUG");

    real_fns.socket = resolve("socket");
    real_fns.bind = resolve("bind");
    real_fns.connect = resolve("connect");
    real_fns.getsockname = resolve("getsockname");
    real_fns.getpeername = resolve("getpeername");
    real_fns.setsockopt = resolve("setsockopt");
    real_fns.getsockopt = resolve("getsockopt");
    real_fns.send = resolve("send");
    real_fns.sendto = resolve("sendto");
    real_fns.sendmsg = resolve("sendmsg");
    real_fns.sendmmsg = resolve("sendmmsg");
    real_fns.recv = resolve("recv");
    real_fns.recvfrom = resolve("recvfrom");
    real_fns.recvmsg = resolve("recvmsg");
    real_fns.recvmmsg = resolve("recvmmsg");
    real_fns.read = resolve("read");
    real_fns.write = resolve("write");
    real_fns.close = resolve("close");
    real_fns.dup2 = resolve("dup2");
    real_fns.dup3 = resolve("dup3");
    if (pthread_key_create(&bounce_key, bounce_free)
        || pthread_atfork(atfork_prepare, atfork_parent, atfork_child)) {
        fprintf(stderr, "libweir-ovscompat: cannot initialise\n");
        abort();
    }
    debug = dbg && dbg[0] && strcmp(dbg, "0");
}

const struct ovsc_libc *
ovsc_real(void)
{
    pthread_once(&init_once, init);
    return &real_fns;
}

/* Initialises 'cv' on CLOCK_MONOTONIC, as wait_bound() times its waits
 * (SO_RCVTIMEO) on that clock. */
static void
cv_init(pthread_cond_t *cv)
{
    pthread_condattr_t attr;

    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(cv, &attr);
    pthread_condattr_destroy(&attr);
}

/* ---- The fd table. ---- */

/* Returns the state of 'fd', or NULL if the shim does not own it.  No
 * lock: the acquire loads pair with the release stores of table_set(). */
static struct ovsc_sock *
lookup(int fd)
{
    ovsc_slot *chunk;

    if (fd < 0 || (unsigned int) fd >= OVSC_N_CHUNKS * OVSC_CHUNK) {
        return NULL;
    }
    chunk = atomic_load_explicit(&fd_table[(unsigned int) fd
                                           >> OVSC_CHUNK_BITS],
                                 memory_order_acquire);
    if (!chunk) {
        return NULL;
    }
    return atomic_load_explicit(&chunk[(unsigned int) fd & (OVSC_CHUNK - 1)],
                                memory_order_acquire);
}

bool
ovsc_is_tracked(int fd)
{
    return lookup(fd) != NULL;
}

/* Takes a state from the free list or allocates one; every field but the
 * locks is reset.  Returns NULL if out of memory. */
static struct ovsc_sock *
state_new(int type)
{
    struct ovsc_sock *s;

    pthread_mutex_lock(&global_mutex);
    s = free_list;
    if (s) {
        free_list = s->next_free;
    }
    pthread_mutex_unlock(&global_mutex);
    if (!s) {
        s = calloc(1, sizeof *s);
        if (!s) {
            return NULL;
        }
        pthread_mutex_init(&s->send_mutex, NULL);
        pthread_mutex_init(&s->mutex, NULL);
        cv_init(&s->bound_cv);
    }
    pthread_mutex_lock(&s->mutex);
    s->type = type;
    s->efd = -1;
    s->bound = false;
    s->pid = 0;
    s->dst_pid = 0;
    s->dst_groups = 0;
    s->groups = 0;
    s->groups_touched = false;
    s->ext_ack = s->cap_ack = s->strict_chk = false;
    s->no_enobufs = s->bcast_error = s->all_nsid = false;
    s->sent = s->acked = s->waived = 0;
    s->pending_err = 0;
    s->n_dumps = 0;
    s->next_free = NULL;
    pthread_mutex_unlock(&s->mutex);
    return s;
}

/* Closes what 's' owns and puts it on the free list. */
static void
state_release(struct ovsc_sock *s)
{
    int efd;

    pthread_mutex_lock(&s->mutex);
    efd = s->efd;
    s->efd = -1;
    s->gen++;
    pthread_mutex_unlock(&s->mutex);
    /* Closed only once no thread can read it: drain_efd() reads 'efd'
     * under the mutex, and it is -1 from now on. */
    if (efd >= 0) {
        ovsc_real()->close(efd);
    }
    pthread_mutex_lock(&global_mutex);
    s->next_free = free_list;
    free_list = s;
    pthread_mutex_unlock(&global_mutex);
}

/* Makes 's' the state of 'fd' (NULL: none).  A state found there is
 * stale (its fd was closed behind the shim's back) and is released.
 * Returns 0, or -EMFILE (fd past the table) or -ENOMEM. */
static int
table_set(int fd, struct ovsc_sock *s)
{
    struct ovsc_sock *old;
    unsigned int ci, si;
    ovsc_slot *chunk;

    if (fd < 0 || (unsigned int) fd >= OVSC_N_CHUNKS * OVSC_CHUNK) {
        return s ? -EMFILE : 0;
    }
    ci = (unsigned int) fd >> OVSC_CHUNK_BITS;
    si = (unsigned int) fd & (OVSC_CHUNK - 1);
    pthread_mutex_lock(&global_mutex);
    chunk = atomic_load_explicit(&fd_table[ci], memory_order_relaxed);
    if (!chunk) {
        if (!s) {
            pthread_mutex_unlock(&global_mutex);
            return 0;
        }
        chunk = calloc(OVSC_CHUNK, sizeof *chunk);
        if (!chunk) {
            pthread_mutex_unlock(&global_mutex);
            return -ENOMEM;
        }
        /* Release: lookup() sees a zeroed chunk. */
        atomic_store_explicit(&fd_table[ci], chunk, memory_order_release);
    }
    /* Release: lookup() sees the state's fields as state_new() set them. */
    old = atomic_exchange_explicit(&chunk[si], s, memory_order_acq_rel);
    pthread_mutex_unlock(&global_mutex);
    if (old && old != s) {
        state_release(old);
    }
    return 0;
}

/* Drops the state of 'fd' if it is still 's'.  Returns true if it was. */
static bool
table_clear(int fd, struct ovsc_sock *s)
{
    ovsc_slot *chunk;
    struct ovsc_sock *expected = s;
    bool done;

    pthread_mutex_lock(&global_mutex);
    chunk = atomic_load_explicit(&fd_table[(unsigned int) fd
                                           >> OVSC_CHUNK_BITS],
                                 memory_order_relaxed);
    done = chunk && atomic_compare_exchange_strong_explicit(
        &chunk[(unsigned int) fd & (OVSC_CHUNK - 1)], &expected, NULL,
        memory_order_acq_rel, memory_order_relaxed);
    pthread_mutex_unlock(&global_mutex);
    return done;
}

/* ---- fork. ---- */

/* Calls 'fn' on every state in the table.  Context: 'global_mutex' held
 * (or the child's only thread). */
static void
for_each_state(void (*fn)(struct ovsc_sock *))
{
    for (unsigned int ci = 0; ci < OVSC_N_CHUNKS; ci++) {
        ovsc_slot *chunk = atomic_load_explicit(&fd_table[ci],
                                                memory_order_relaxed);

        for (unsigned int si = 0; chunk && si < OVSC_CHUNK; si++) {
            struct ovsc_sock *s = atomic_load_explicit(&chunk[si],
                                                       memory_order_relaxed);

            if (s) {
                fn(s);
            }
        }
    }
}

/* for_each_state() helpers. */
static void
state_lock(struct ovsc_sock *s)
{
    pthread_mutex_lock(&s->mutex);
}

static void
state_unlock(struct ovsc_sock *s)
{
    pthread_mutex_unlock(&s->mutex);
}

/* In the child: the locks nobody took in atfork_prepare() are re-created,
 * since a thread of the parent may have held them; the state mutex, taken
 * there by the forking thread, is released. */
static void
state_child(struct ovsc_sock *s)
{
    pthread_mutex_init(&s->send_mutex, NULL);
    cv_init(&s->bound_cv);
    pthread_mutex_unlock(&s->mutex);
}

/* The table's mutex, then every tracked socket's state mutex, are taken
 * over fork(), so that the child inherits each state whole: a HELLO in
 * flight in another thread (which holds the state mutex, for at most
 * OVSC_HELLO_MS) completes first, and the child never sees a socket whose
 * HELLO went out but whose answer was not read.  The send mutexes are not
 * taken (a send may block in one for as long as weird does not read): the
 * child re-creates them.  Order: 'global_mutex' before any state mutex,
 * which nothing else takes in the other order. */
static void
atfork_prepare(void)
{
    pthread_mutex_lock(&global_mutex);
    for_each_state(state_lock);
}

/* Releases what atfork_prepare() took. */
static void
atfork_parent(void)
{
    for_each_state(state_unlock);
    pthread_mutex_unlock(&global_mutex);
}

/* In the child: every lock free, as its only thread holds none.  States
 * on the free list may have been locked by a parent thread that was
 * closing a socket: their locks are re-created too. */
static void
atfork_child(void)
{
    for_each_state(state_child);
    for (struct ovsc_sock *s = free_list; s; s = s->next_free) {
        pthread_mutex_init(&s->send_mutex, NULL);
        pthread_mutex_init(&s->mutex, NULL);
        cv_init(&s->bound_cv);
    }
    pthread_mutex_init(&global_mutex, NULL);
}

/* ---- Small helpers. ---- */

/* Monotonic milliseconds. */
static int64_t
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Prints 'msg' (one line) to stderr if 'flag' was not set yet. */
static void
warn_once(atomic_flag *flag, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
warn_once(atomic_flag *flag, const char *fmt, ...)
{
    va_list args;

    if (atomic_flag_test_and_set(flag)) {
        return;
    }
    va_start(args, fmt);
    fputs("libweir-ovscompat: ", stderr);
    vfprintf(stderr, fmt, args);
    fputc('\n', stderr);
    va_end(args);
}

/* Returns true if the process has CAP_NET_ADMIN, which the kernel asks of
 * a NETLINK_GENERIC sender that names a destination port or group. */
static bool
have_net_admin(void)
{
    struct __user_cap_header_struct hdr = {
        .version = _LINUX_CAPABILITY_VERSION_3,
        .pid = 0,
    };
    struct __user_cap_data_struct data[2];

    if (syscall(SYS_capget, &hdr, data)) {
        return geteuid() == 0;
    }
    return (data[0].effective & (1u << CAP_NET_ADMIN)) != 0;
}

/* Where weird is: $WEIR_CONTROL, else the default path. */
static const char *
control_path(void)
{
    const char *p = getenv(WEIR_CONTROL_ENV);

    return p && p[0] ? p : WEIR_CONTROL_DEFAULT;
}

/* Sets the SO_SNDTIMEO of 'fd' to 'ms' milliseconds (0: none). */
static void
set_sndtimeo(int fd, int64_t ms)
{
    struct timeval tv = {
        .tv_sec = (time_t) (ms / 1000),
        .tv_usec = (suseconds_t) (ms % 1000) * 1000,
    };

    ovsc_real()->setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

int
ovsc_set_connect_timeout(int ms)
{
    return atomic_exchange(&connect_timeout_ms, ms > 0 ? ms : 1);
}

/* Returns a new AF_UNIX SOCK_SEQPACKET socket connected to weird, with
 * 'flags' (SOCK_NONBLOCK, SOCK_CLOEXEC), or -errno. */
static int
connect_weird(int flags)
{
    const struct ovsc_libc *R = ovsc_real();
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    const char *path = control_path();
    size_t plen = strlen(path);
    int64_t deadline;
    int fd, err;

    if (plen >= sizeof sun.sun_path) {
        return -ENAMETOOLONG;
    }
    memcpy(sun.sun_path, path, plen + 1);
    fd = R->socket(AF_UNIX, SOCK_SEQPACKET | (flags & SOCK_CLOEXEC), 0);
    if (fd < 0) {
        return -errno;
    }
    /* A listener whose backlog is full makes a non-blocking AF_UNIX
     * connect() fail at once (EAGAIN; there is no "in progress"), and a
     * blocking one wait for as long as weird does not accept.  So the
     * connect blocks with SO_SNDTIMEO, which bounds an AF_UNIX connect's
     * wait and wakes it as soon as there is room; after the bound it
     * fails with EAGAIN. */
    deadline = now_ms() + atomic_load(&connect_timeout_ms);
    for (;;) {
        int64_t left = deadline - now_ms();

        set_sndtimeo(fd, left > 0 ? left : 1);
        if (R->connect(fd, (const struct sockaddr *) &sun, sizeof sun) == 0
            || errno == EISCONN) {
            break;
        }
        err = errno;
        if ((err == EINTR || err == EAGAIN) && now_ms() < deadline) {
            continue;
        }
        R->close(fd);
        return -err;
    }
    set_sndtimeo(fd, 0);
    if ((flags & SOCK_NONBLOCK)
        && fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
        err = errno;
        R->close(fd);
        return -err;
    }
    return fd;
}

/* Gives 'to' the buffer size option 'name' ('force': its *FORCE twin) of
 * 'from', if they differ.  The kernel doubles what is set, so half the
 * figure read is set; the *FORCE name first, since the program may have
 * passed net.core.[rw]mem_max with it (weird's budget then comes from the
 * figure too), else the plain name, which the kernel caps (the figure was
 * capped the same way when it was set). */
static void
copy_bufsize(int from, int to, int name, int force)
{
    const struct ovsc_libc *R = ovsc_real();
    int have = 0, want = 0, half;
    socklen_t len = sizeof want;

    if (R->getsockopt(from, SOL_SOCKET, name, &want, &len) < 0) {
        return;
    }
    len = sizeof have;
    if (R->getsockopt(to, SOL_SOCKET, name, &have, &len) < 0
        || have == want) {
        return;
    }
    half = want / 2;
    if (R->setsockopt(to, SOL_SOCKET, force, &half, sizeof half) < 0) {
        R->setsockopt(to, SOL_SOCKET, name, &half, sizeof half);
    }
}

/* Gives 'to' the value of option 'name' (at most 'size' bytes: an int or
 * a struct timeval) of 'from', if they differ. */
static void
copy_sockopt(int from, int to, int name, socklen_t size)
{
    const struct ovsc_libc *R = ovsc_real();
    union {
        struct timeval tv;
        int i;
    } want, have;
    socklen_t wlen = size, hlen = size;

    memset(&want, 0, sizeof want);
    memset(&have, 0, sizeof have);
    if (R->getsockopt(from, SOL_SOCKET, name, &want, &wlen) < 0
        || R->getsockopt(to, SOL_SOCKET, name, &have, &hlen) < 0
        || (wlen == hlen && !memcmp(&want, &have, wlen))) {
        return;
    }
    R->setsockopt(to, SOL_SOCKET, name, &want, wlen);
}

/* Replaces the connection behind 'fd' by a new one to weird, keeping the
 * fd number, O_NONBLOCK, FD_CLOEXEC and the SOL_SOCKET options a netlink
 * program sets (SO_RCVBUF, SO_SNDBUF, SO_RCVTIMEO, SO_SNDTIMEO,
 * SO_PASSCRED): weird closes a connection whose HELLO it refused, and the
 * program may bind the same fd again.  An epoll registration of 'fd' is
 * lost (it belonged to the old connection; docs/design/ovscompat.md).
 * Nothing happens if weird cannot be reached (the fd keeps its dead
 * connection, and later calls fail on it). */
static void
reconnect(int fd)
{
    const struct ovsc_libc *R = ovsc_real();
    int fl = fcntl(fd, F_GETFL);
    int fdfl = fcntl(fd, F_GETFD);
    int nfd;

    if (fl < 0 || fdfl < 0) {
        return;
    }
    nfd = connect_weird(((fl & O_NONBLOCK) ? SOCK_NONBLOCK : 0)
                        | SOCK_CLOEXEC);
    if (nfd < 0) {
        return;
    }
    copy_bufsize(fd, nfd, SO_RCVBUF, SO_RCVBUFFORCE);
    copy_bufsize(fd, nfd, SO_SNDBUF, SO_SNDBUFFORCE);
    copy_sockopt(fd, nfd, SO_RCVTIMEO, sizeof(struct timeval));
    copy_sockopt(fd, nfd, SO_SNDTIMEO, sizeof(struct timeval));
    copy_sockopt(fd, nfd, SO_PASSCRED, sizeof(int));
    R->dup3(nfd, fd, (fdfl & FD_CLOEXEC) ? O_CLOEXEC : 0);
    R->close(nfd);
}

/* Sends one control datagram ('len' bytes at 'buf', with 'cfd' attached
 * if >= 0) on 'fd', waiting up to OVSC_HELLO_MS for room.  Returns 0 or
 * -errno. */
static int
send_ctl(int fd, const void *buf, size_t len, int cfd)
{
    const struct ovsc_libc *R = ovsc_real();
    struct iovec iov = { .iov_base = (void *) buf, .iov_len = len };
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } ctl;
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
    int64_t deadline = now_ms() + OVSC_HELLO_MS;

    if (cfd >= 0) {
        struct cmsghdr *cm;

        memset(&ctl, 0, sizeof ctl);
        msg.msg_control = ctl.buf;
        msg.msg_controllen = sizeof ctl.buf;
        cm = CMSG_FIRSTHDR(&msg);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof cfd);
        memcpy(CMSG_DATA(cm), &cfd, sizeof cfd);
    }
    for (;;) {
        struct pollfd pfd = { .fd = fd, .events = POLLOUT };
        int64_t left;

        if (R->sendmsg(fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL) >= 0) {
            return 0;
        }
        if (errno == EINTR) {
            continue;
        }
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            return -errno;
        }
        left = deadline - now_ms();
        if (left <= 0) {
            return -ETIMEDOUT;
        }
        poll(&pfd, 1, (int) left);
    }
}

/* Sends SOCKOPT 'op' = 'value' on 'fd'.  Returns 0 or -errno. */
static int
send_sockopt(int fd, uint32_t op, uint32_t value)
{
    struct {
        struct nlmsghdr nlh;
        struct weir_sockopt opt;
    } msg;

    memset(&msg, 0, sizeof msg);
    msg.nlh.nlmsg_len = sizeof msg;
    msg.nlh.nlmsg_type = WEIR_NLMSG_SOCKOPT;
    msg.nlh.nlmsg_flags = NLM_F_REQUEST;
    msg.opt.op = op;
    msg.opt.value = value;
    return send_ctl(fd, &msg, sizeof msg, -1);
}

/* Returns the receive buffer size of 'fd' as getsockopt(SO_RCVBUF) reads
 * it, or -1. */
static int
fd_rcvbuf(int fd)
{
    int v = 0;
    socklen_t len = sizeof v;

    if (ovsc_real()->getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, &len) < 0) {
        return -1;
    }
    return v;
}

/* ---- HELLO and options. ---- */

/* Sends weird, after HELLO, every option set before it: memberships and
 * flags, and the receive buffer if it is not weird's default.  Errors are
 * not reported: the connection is broken then, and the next call on the
 * socket says so. */
static void
flush_opts_locked(struct ovsc_sock *s, int fd)
{
    int rcvbuf = fd_rcvbuf(fd);

    if (s->ext_ack && !send_sockopt(fd, WEIR_SOCK_EXT_ACK, 1)) {
        s->sent++;
    }
    if (s->cap_ack && !send_sockopt(fd, WEIR_SOCK_CAP_ACK, 1)) {
        s->sent++;
    }
    if (s->strict_chk && !send_sockopt(fd, WEIR_SOCK_STRICT_CHK, 1)) {
        s->sent++;
    }
    if (rcvbuf > 0 && rcvbuf != OVSC_WEIRD_RCVBUF
        && !send_sockopt(fd, WEIR_SOCK_RCVBUF, (uint32_t) rcvbuf)) {
        s->sent++;
    }
    for (uint32_t g = 1; g <= OVSC_MAX_GROUP; g++) {
        if ((s->groups & (UINT64_C(1) << g))
            && !send_sockopt(fd, WEIR_SOCK_ADD_MEMBERSHIP, g)) {
            s->sent++;
        }
    }
}

/* Waits up to OVSC_HELLO_MS for the HELLO answer on 'fd' and checks it.
 * Returns 0 with '*ans' or -errno. */
static int
recv_hello(int fd, struct weir_hello *ans)
{
    const struct ovsc_libc *R = ovsc_real();
    int64_t deadline = now_ms() + OVSC_HELLO_MS;
    union {
        unsigned char buf[256];
        struct nlmsghdr align;
    } u;
    struct nlmsghdr nlh;

    for (;;) {
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        ssize_t n = R->recv(fd, u.buf, sizeof u.buf, MSG_DONTWAIT);
        int64_t left;

        if (n > 0) {
            if ((size_t) n < NLMSG_LENGTH(sizeof *ans)) {
                return -EPROTO;
            }
            memcpy(&nlh, u.buf, sizeof nlh);
            if (nlh.nlmsg_type != WEIR_NLMSG_HELLO
                || nlh.nlmsg_len < NLMSG_LENGTH(sizeof *ans)
                || nlh.nlmsg_len > (size_t) n) {
                return -EPROTO;
            }
            memcpy(ans, u.buf + NLMSG_HDRLEN, sizeof *ans);
            return 0;
        }
        if (n == 0) {
            return -ECONNRESET;
        }
        if (errno == EINTR) {
            continue;
        }
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            return errno == EPIPE ? -ECONNRESET : -errno;
        }
        left = deadline - now_ms();
        if (left <= 0) {
            return -ETIMEDOUT;
        }
        poll(&pfd, 1, (int) left);
    }
}

/* Binds 's' (fd 'fd') to port id 'pid' (0: weird chooses) with a HELLO,
 * then sends the options set before.  On a refusal or a broken exchange
 * the fd gets a fresh connection, so that the program can try again.
 * Returns 0 or -errno (-EADDRINUSE: 'pid' is taken).
 * Context: both mutexes of 's' held. */
static int
hello_locked(struct ovsc_sock *s, int fd, uint32_t pid)
{
    struct {
        struct nlmsghdr nlh;
        struct weir_hello hello;
    } req;
    struct weir_hello ans;
    int r;

    if (s->efd < 0) {
        s->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (s->efd < 0) {
            return -errno;
        }
    }
    memset(&req, 0, sizeof req);
    req.nlh.nlmsg_len = sizeof req;
    req.nlh.nlmsg_type = WEIR_NLMSG_HELLO;
    req.nlh.nlmsg_flags = NLM_F_REQUEST;
    req.hello.version = WEIR_HELLO_VERSION;
    req.hello.pid = pid;
    req.hello.flags = WEIR_HELLO_F_SYNC;
    r = send_ctl(fd, &req, sizeof req, s->efd);
    if (!r) {
        r = recv_hello(fd, &ans);
    }
    if (!r && ans.error) {
        r = (ans.error > 0 || ans.error < -OVSC_MAX_ERRNO ? -EPROTO
             : ans.error);
    } else if (!r && (ans.version != WEIR_HELLO_VERSION || !ans.pid)) {
        r = -EPROTO;
    }
    if (r) {
        if (r != -EADDRINUSE) {
            warn_once(&warned_hello, "HELLO with weird at %s failed: %s",
                      control_path(), strerror(-r));
        }
        reconnect(fd);
        return r;
    }
    s->pid = ans.pid;
    s->bound = true;
    s->sent = s->acked = s->waived = 0;
    pthread_cond_broadcast(&s->bound_cv);
    flush_opts_locked(s, fd);
    return 0;
}

/* ---- Syncs (rule 1). ---- */

/* Reads the sync eventfd of 's' (if any count is there) into 'acked'.
 * The read (non-blocking) is made under the mutex, so that a concurrent
 * close() cannot close the eventfd and let its number be reused in
 * between: another file's bytes would be taken. */
static void
drain_efd(struct ovsc_sock *s)
{
    uint64_t v;

    pthread_mutex_lock(&s->mutex);
    if (s->efd >= 0 && ovsc_real()->read(s->efd, &v, sizeof v) == sizeof v) {
        s->acked += v;
    }
    pthread_mutex_unlock(&s->mutex);
}

/* Returns true if datagram 'target' (counted from HELLO) is synced. */
static bool
synced_locked(const struct ovsc_sock *s, uint64_t target)
{
    return s->acked >= target || s->waived >= target;
}

/* Returns true if a datagram sent has no sync yet. */
static bool
owed_locked(const struct ovsc_sock *s)
{
    return s->sent > s->acked && s->sent > s->waived;
}

/* Rule 1: after sending datagram 'target', waits until weird has queued
 * what it owes for it (its sync) or the socket becomes readable (the
 * program may have to read before the rest can come: the sync stays
 * owed).  Gives up after OVSC_SEND_WAIT_MS, once noted on stderr, and at
 * once if the socket is closed meanwhile ('gen', read with 'target',
 * changed; or poll() says an fd is gone).  The eventfd number polled may
 * have been closed and reused by then: that costs at most one slice. */
static void
wait_sync(struct ovsc_sock *s, int fd, uint64_t target, uint64_t gen)
{
    int64_t start = now_ms();

    for (;;) {
        struct pollfd pfd[2];
        int64_t left;
        bool done;
        int efd;

        drain_efd(s);
        pthread_mutex_lock(&s->mutex);
        done = synced_locked(s, target) || s->gen != gen || s->efd < 0;
        efd = s->efd;
        pthread_mutex_unlock(&s->mutex);
        if (done) {
            return;
        }
        left = OVSC_SEND_WAIT_MS - (now_ms() - start);
        if (left <= 0) {
            pthread_mutex_lock(&s->mutex);
            if (s->waived < target) {
                s->waived = target;
            }
            pthread_mutex_unlock(&s->mutex);
            warn_once(&warned_send, "weird at %s did not answer a request "
                      "within %d ms; going on without its sync",
                      control_path(), OVSC_SEND_WAIT_MS);
            return;
        }
        pfd[0] = (struct pollfd) { .fd = fd, .events = POLLIN };
        pfd[1] = (struct pollfd) { .fd = efd, .events = POLLIN };
        if (poll(pfd, 2, left < OVSC_SLICE_MS ? (int) left : OVSC_SLICE_MS)
            > 0 && ((pfd[0].revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL))
                    || (pfd[1].revents & POLLNVAL))) {
            return;
        }
    }
}

/* Applies a netlink socket option to 's': updates the state with 'op'
 * and 'value' (the state is what getsockopt reads and what HELLO sends)
 * and, once bound, sends it to weird and waits for its sync, so that it
 * is in force when the call returns.  Returns 0 or -1 with errno. */
static int
apply_opt(struct ovsc_sock *s, int fd, uint32_t op, uint32_t value)
{
    uint64_t target = 0, gen;
    int r;

    pthread_mutex_lock(&s->send_mutex);
    pthread_mutex_lock(&s->mutex);
    gen = s->gen;
    switch (op) {
    case WEIR_SOCK_ADD_MEMBERSHIP:
        s->groups |= UINT64_C(1) << value;
        s->groups_touched = true;
        break;
    case WEIR_SOCK_DROP_MEMBERSHIP:
        s->groups &= ~(UINT64_C(1) << value);
        s->groups_touched = true;
        break;
    case WEIR_SOCK_EXT_ACK:
        s->ext_ack = value;
        break;
    case WEIR_SOCK_CAP_ACK:
        s->cap_ack = value;
        break;
    case WEIR_SOCK_STRICT_CHK:
        s->strict_chk = value;
        break;
    default:
        break;
    }
    if (!s->bound) {
        /* Sent with HELLO (flush_opts_locked()). */
        pthread_mutex_unlock(&s->mutex);
        pthread_mutex_unlock(&s->send_mutex);
        return 0;
    }
    pthread_mutex_unlock(&s->mutex);
    r = send_sockopt(fd, op, value);
    pthread_mutex_lock(&s->mutex);
    if (!r) {
        target = ++s->sent;
    }
    pthread_mutex_unlock(&s->mutex);
    pthread_mutex_unlock(&s->send_mutex);
    if (r) {
        errno = r == -EPIPE ? ECONNRESET : -r;
        return -1;
    }
    wait_sync(s, fd, target, gen);
    return 0;
}

/* ---- socket, bind, connect, names. ---- */

int
ovsc_socket(int domain, int type, int protocol)
{
    const struct ovsc_libc *R = ovsc_real();
    int base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
    struct ovsc_sock *s;
    int fd, r;

    if (domain != AF_NETLINK || protocol != NETLINK_GENERIC
        || (base != SOCK_RAW && base != SOCK_DGRAM)) {
        return R->socket(domain, type, protocol);
    }
    fd = connect_weird(type & (SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (fd < 0) {
        warn_once(&warned_connect, "cannot reach weird at %s: %s",
                  control_path(), strerror(-fd));
        errno = -fd;
        return -1;
    }
    s = state_new(base);
    r = s ? table_set(fd, s) : -ENOMEM;
    if (r) {
        if (s) {
            state_release(s);
        }
        R->close(fd);
        errno = -r;
        return -1;
    }
    if (debug) {
        fprintf(stderr, "libweir-ovscompat: fd %d: NETLINK_GENERIC socket "
                "served by weird at %s\n", fd, control_path());
    }
    return fd;
}

/* Reads a sockaddr_nl of 'len' bytes at 'addr' as the kernel's netlink
 * bind, connect and sendmsg do.  Returns 0 or -EINVAL (-EFAULT). */
static int
get_nladdr(const struct sockaddr *addr, socklen_t len,
           struct sockaddr_nl *nl)
{
    if (len < (socklen_t) sizeof *nl) {
        return -EINVAL;
    }
    if (!addr) {
        return -EFAULT;
    }
    memcpy(nl, addr, sizeof *nl);
    return nl->nl_family == AF_NETLINK ? 0 : -EINVAL;
}

/* Binds 's' with a HELLO if it is not bound yet, then waits for the syncs
 * of the options sent with it.  Returns 0 or -errno. */
static int
autobind(struct ovsc_sock *s, int fd)
{
    uint64_t target = 0, gen;
    int r = 0;

    pthread_mutex_lock(&s->send_mutex);
    pthread_mutex_lock(&s->mutex);
    gen = s->gen;
    if (!s->bound) {
        r = hello_locked(s, fd, 0);
        target = s->sent;
    }
    pthread_mutex_unlock(&s->mutex);
    pthread_mutex_unlock(&s->send_mutex);
    if (!r && target) {
        wait_sync(s, fd, target, gen);
    }
    return r;
}

int
ovsc_bind(int fd, const struct sockaddr *addr, socklen_t len)
{
    struct ovsc_sock *s = lookup(fd);
    struct sockaddr_nl nl;
    uint64_t target = 0, gen;
    int r;

    if (!s) {
        return ovsc_real()->bind(fd, addr, len);
    }
    r = get_nladdr(addr, len, &nl);
    if (r) {
        errno = -r;
        return -1;
    }
    pthread_mutex_lock(&s->send_mutex);
    pthread_mutex_lock(&s->mutex);
    gen = s->gen;
    if (s->bound) {
        r = nl.nl_pid == s->pid ? 0 : -EINVAL;
    } else {
        r = hello_locked(s, fd, nl.nl_pid);
    }
    if (!r && (nl.nl_groups || (uint32_t) (s->groups >> 1))) {
        /* nl_groups replaces the memberships of groups 1 to 32, as the
         * kernel's netlink_bind() does. */
        for (uint32_t g = 1; g <= 32; g++) {
            bool want = nl.nl_groups & (1u << (g - 1));
            bool have = s->groups & (UINT64_C(1) << g);
            uint32_t op = want ? WEIR_SOCK_ADD_MEMBERSHIP
                               : WEIR_SOCK_DROP_MEMBERSHIP;

            if (want == have) {
                continue;
            }
            s->groups ^= UINT64_C(1) << g;
            if (!send_sockopt(fd, op, g)) {
                s->sent++;
            }
        }
        s->groups_touched = true;
    }
    target = s->sent;
    pthread_mutex_unlock(&s->mutex);
    pthread_mutex_unlock(&s->send_mutex);
    if (r) {
        errno = -r;
        return -1;
    }
    if (target) {
        wait_sync(s, fd, target, gen);
    }
    return 0;
}

int
ovsc_connect(int fd, const struct sockaddr *addr, socklen_t len)
{
    struct ovsc_sock *s = lookup(fd);
    struct sockaddr_nl nl;
    sa_family_t family;
    int r;

    if (!s) {
        return ovsc_real()->connect(fd, addr, len);
    }
    if (len < (socklen_t) sizeof family) {
        errno = EINVAL;
        return -1;
    }
    if (!addr) {
        errno = EFAULT;
        return -1;
    }
    memcpy(&family, addr, sizeof family);
    if (family == AF_UNSPEC) {
        /* Back to the kernel as the destination. */
        pthread_mutex_lock(&s->mutex);
        s->dst_pid = 0;
        s->dst_groups = 0;
        pthread_mutex_unlock(&s->mutex);
        return 0;
    }
    r = get_nladdr(addr, len, &nl);
    if (!r && (nl.nl_pid || nl.nl_groups) && !have_net_admin()) {
        r = -EPERM;
    }
    if (!r) {
        r = autobind(s, fd);
    }
    if (r) {
        errno = -r;
        return -1;
    }
    pthread_mutex_lock(&s->mutex);
    s->dst_pid = nl.nl_pid;
    /* The kernel keeps the lowest group only. */
    s->dst_groups = nl.nl_groups & -nl.nl_groups;
    pthread_mutex_unlock(&s->mutex);
    return 0;
}

/* Copies 'nl' to the caller's address buffer as the kernel does: as many
 * bytes as fit, and the full length in '*len'.  Returns 0 or -1. */
static int
put_nladdr(const struct sockaddr_nl *nl, struct sockaddr *addr,
           socklen_t *len)
{
    socklen_t n;

    if (!len || !addr) {
        errno = EFAULT;
        return -1;
    }
    if ((int) *len < 0) {
        errno = EINVAL;
        return -1;
    }
    n = *len < (socklen_t) sizeof *nl ? *len : (socklen_t) sizeof *nl;
    memcpy(addr, nl, n);
    *len = sizeof *nl;
    return 0;
}

int
ovsc_getsockname(int fd, struct sockaddr *addr, socklen_t *len)
{
    struct ovsc_sock *s = lookup(fd);
    struct sockaddr_nl nl = { .nl_family = AF_NETLINK };

    if (!s) {
        return ovsc_real()->getsockname(fd, addr, len);
    }
    pthread_mutex_lock(&s->mutex);
    nl.nl_pid = s->bound ? s->pid : 0;
    nl.nl_groups = (uint32_t) (s->groups >> 1);
    pthread_mutex_unlock(&s->mutex);
    return put_nladdr(&nl, addr, len);
}

int
ovsc_getpeername(int fd, struct sockaddr *addr, socklen_t *len)
{
    struct ovsc_sock *s = lookup(fd);
    struct sockaddr_nl nl = { .nl_family = AF_NETLINK };

    if (!s) {
        return ovsc_real()->getpeername(fd, addr, len);
    }
    pthread_mutex_lock(&s->mutex);
    nl.nl_pid = s->dst_pid;
    nl.nl_groups = s->dst_groups;
    pthread_mutex_unlock(&s->mutex);
    return put_nladdr(&nl, addr, len);
}

/* ---- Socket options. ---- */

/* setsockopt(SOL_NETLINK, ...), as the kernel's netlink_setsockopt(): a
 * value shorter than an int reads as 0. */
static int
nl_setsockopt(struct ovsc_sock *s, int fd, int name, const void *val,
              socklen_t len)
{
    unsigned int v = 0;

    if (len >= (socklen_t) sizeof(int)) {
        if (!val) {
            errno = EFAULT;
            return -1;
        }
        memcpy(&v, val, sizeof v);
    }
    switch (name) {
    case NETLINK_ADD_MEMBERSHIP:
    case NETLINK_DROP_MEMBERSHIP:
        /* The kernel makes room for the groups before it checks the
         * value: NETLINK_LIST_MEMBERSHIPS lists them from then on. */
        pthread_mutex_lock(&s->mutex);
        s->groups_touched = true;
        pthread_mutex_unlock(&s->mutex);
        if (!v || v > OVSC_MAX_GROUP) {
            errno = EINVAL;
            return -1;
        }
        return apply_opt(s, fd,
                         name == NETLINK_ADD_MEMBERSHIP
                         ? WEIR_SOCK_ADD_MEMBERSHIP
                         : WEIR_SOCK_DROP_MEMBERSHIP, v);
    case NETLINK_EXT_ACK:
        return apply_opt(s, fd, WEIR_SOCK_EXT_ACK, v != 0);
    case NETLINK_CAP_ACK:
        return apply_opt(s, fd, WEIR_SOCK_CAP_ACK, v != 0);
    case NETLINK_GET_STRICT_CHK:
        return apply_opt(s, fd, WEIR_SOCK_STRICT_CHK, v != 0);
    case NETLINK_NO_ENOBUFS:
    case NETLINK_BROADCAST_ERROR:
    case NETLINK_LISTEN_ALL_NSID:
        /* The shim's own business: NO_ENOBUFS hides overruns;
         * BROADCAST_ERROR is about sending to groups, which goes nowhere;
         * LISTEN_ALL_NSID adds nothing, every message being local. */
        pthread_mutex_lock(&s->mutex);
        if (name == NETLINK_NO_ENOBUFS) {
            s->no_enobufs = v != 0;
        } else if (name == NETLINK_BROADCAST_ERROR) {
            s->bcast_error = v != 0;
        } else {
            s->all_nsid = v != 0;
        }
        pthread_mutex_unlock(&s->mutex);
        return 0;
    default:
        /* NETLINK_PKTINFO included: no cmsg would carry it. */
        errno = ENOPROTOOPT;
        return -1;
    }
}

int
ovsc_setsockopt(int fd, int level, int name, const void *val,
                socklen_t len)
{
    const struct ovsc_libc *R = ovsc_real();
    struct ovsc_sock *s = lookup(fd);
    int rcvbuf;

    if (!s) {
        return R->setsockopt(fd, level, name, val, len);
    }
    if (level == SOL_NETLINK) {
        return nl_setsockopt(s, fd, name, val, len);
    }
    if (level != SOL_SOCKET) {
        errno = ENOPROTOOPT;
        return -1;
    }
    /* SOL_SOCKET options are the AF_UNIX socket's.  SO_RCVBUF and
     * SO_RCVBUFFORCE too: the kernel checks, caps and doubles the value
     * there exactly as for a netlink socket (an AF_UNIX socket's receive
     * buffer limits nothing of its own), and getsockopt reads it back;
     * the result is weird's budget for the connection. */
    if (R->setsockopt(fd, level, name, val, len) < 0) {
        return -1;
    }
    if (name != SO_RCVBUF && name != SO_RCVBUFFORCE) {
        return 0;
    }
    rcvbuf = fd_rcvbuf(fd);
    if (rcvbuf < 0) {
        return -1;
    }
    return apply_opt(s, fd, WEIR_SOCK_RCVBUF, (uint32_t) rcvbuf);
}

/* getsockopt(SOL_NETLINK, ...), as the kernel's netlink_getsockopt(). */
static int
nl_getsockopt(struct ovsc_sock *s, int name, void *val, socklen_t *len)
{
    uint64_t kbits;
    int v;

    if (!len) {
        errno = EFAULT;
        return -1;
    }
    if ((int) *len < 0) {
        errno = EINVAL;
        return -1;
    }
    pthread_mutex_lock(&s->mutex);
    switch (name) {
    case NETLINK_PKTINFO:
        v = 0;
        break;
    case NETLINK_BROADCAST_ERROR:
        v = s->bcast_error;
        break;
    case NETLINK_NO_ENOBUFS:
        v = s->no_enobufs;
        break;
    case NETLINK_LISTEN_ALL_NSID:
        v = s->all_nsid;
        break;
    case NETLINK_CAP_ACK:
        v = s->cap_ack;
        break;
    case NETLINK_EXT_ACK:
        v = s->ext_ack;
        break;
    case NETLINK_GET_STRICT_CHK:
        v = s->strict_chk;
        break;
    case NETLINK_LIST_MEMBERSHIPS: {
        /* Bit g-1 of a u32 array for group g, over the groups the socket
         * has room for: none until a membership call, as the kernel
         * allocates them then. */
        size_t need = s->groups_touched ? OVSC_NGROUPS / 8 : 0;

        kbits = s->groups >> 1;
        pthread_mutex_unlock(&s->mutex);
        for (size_t pos = 0; pos < need; pos += sizeof(uint32_t)) {
            uint32_t word = (uint32_t) (kbits >> (pos * 8));

            if ((size_t) *len - pos < sizeof word || (size_t) *len < pos) {
                break;
            }
            if (!val) {
                errno = EFAULT;
                return -1;
            }
            memcpy((char *) val + pos, &word, sizeof word);
        }
        *len = (socklen_t) need;
        return 0;
    }
    default:
        pthread_mutex_unlock(&s->mutex);
        errno = ENOPROTOOPT;
        return -1;
    }
    pthread_mutex_unlock(&s->mutex);
    if (*len < (socklen_t) sizeof v) {
        errno = EINVAL;
        return -1;
    }
    if (!val) {
        errno = EFAULT;
        return -1;
    }
    *len = sizeof v;
    memcpy(val, &v, sizeof v);
    return 0;
}

int
ovsc_getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
    const struct ovsc_libc *R = ovsc_real();
    struct ovsc_sock *s = lookup(fd);
    int v;

    if (!s) {
        return R->getsockopt(fd, level, name, val, len);
    }
    if (level == SOL_NETLINK) {
        return nl_getsockopt(s, name, val, len);
    }
    if (level != SOL_SOCKET) {
        errno = ENOPROTOOPT;
        return -1;
    }
    switch (name) {
    case SO_TYPE:
        pthread_mutex_lock(&s->mutex);
        v = s->type;
        pthread_mutex_unlock(&s->mutex);
        break;
    case SO_DOMAIN:
        v = AF_NETLINK;
        break;
    case SO_PROTOCOL:
        v = NETLINK_GENERIC;
        break;
    case SO_ERROR:
        /* The error recvmmsg() left, read and cleared as sk_err; else
         * the AF_UNIX socket's. */
        pthread_mutex_lock(&s->mutex);
        v = s->pending_err;
        s->pending_err = 0;
        pthread_mutex_unlock(&s->mutex);
        if (!v) {
            return R->getsockopt(fd, level, name, val, len);
        }
        break;
    default:
        /* SO_RCVBUF (see ovsc_setsockopt()), SO_SNDBUF, SO_ERROR, ...:
         * the AF_UNIX socket's. */
        return R->getsockopt(fd, level, name, val, len);
    }
    /* As sock_getsockopt(): as many bytes as asked, up to an int. */
    if (!len || !val) {
        errno = EFAULT;
        return -1;
    }
    if ((int) *len < 0) {
        errno = EINVAL;
        return -1;
    }
    if (*len > (socklen_t) sizeof v) {
        *len = sizeof v;
    }
    memcpy(val, &v, *len);
    return 0;
}

/* ---- Sending. ---- */

/* Records the dumps 'seqs' (n of them) as open.  When more than
 * OVSC_MAX_DUMPS are open the oldest is forgotten: the program is not
 * reading them (one dump runs per socket at a time in the kernel).
 * Context: 's->mutex' held. */
static void
add_dumps_locked(struct ovsc_sock *s, const uint32_t *seqs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s->n_dumps == OVSC_MAX_DUMPS) {
            memmove(s->dumps, s->dumps + 1,
                    (OVSC_MAX_DUMPS - 1) * sizeof s->dumps[0]);
            s->n_dumps--;
        }
        s->dumps[s->n_dumps++] = seqs[i];
    }
}

/* Forgets the dumps 'seqs' (n of them), whose request was not sent.
 * Context: 's->mutex' held. */
static void
del_dumps_locked(struct ovsc_sock *s, const uint32_t *seqs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < s->n_dumps; j++) {
            if (s->dumps[j] == seqs[i]) {
                s->dumps[j] = s->dumps[--s->n_dumps];
                break;
            }
        }
    }
}

/* sendmsg() on the shim's socket 's' (fd 'fd'), as the kernel's
 * netlink_sendmsg() to the kernel, then rule 1. */
static ssize_t
sock_sendmsg(struct ovsc_sock *s, int fd, const struct msghdr *msg,
             int flags)
{
    const struct ovsc_libc *R = ovsc_real();
    uint32_t seqs[OVSC_MAX_DUMPS];
    struct sockaddr_nl nl;
    bool have_addr = false;
    uint64_t target = 0, gen;
    struct msghdr m;
    size_t n_seqs;
    uint32_t dst;
    ssize_t n;
    int r, err;

    if (flags & MSG_OOB) {
        errno = EOPNOTSUPP;
        return -1;
    }
    /* As the kernel's copy of a msghdr: no name, no name length; a
     * length above INT_MAX is negative there. */
    if (msg->msg_name && (int) msg->msg_namelen < 0) {
        errno = EINVAL;
        return -1;
    }
    if (msg->msg_name && msg->msg_namelen) {
        r = get_nladdr(msg->msg_name, msg->msg_namelen, &nl);
        if (!r && (nl.nl_pid || nl.nl_groups) && !have_net_admin()) {
            r = -EPERM;
        }
        if (r) {
            errno = -r;
            return -1;
        }
        have_addr = true;
    }
    n_seqs = ovsc_scan_dump_requests(msg->msg_iov, msg->msg_iovlen,
                                     ovsc_iov_len(msg->msg_iov,
                                                  msg->msg_iovlen),
                                     seqs, OVSC_MAX_DUMPS);
    if (n_seqs > OVSC_MAX_DUMPS) {
        n_seqs = OVSC_MAX_DUMPS;
    }

    pthread_mutex_lock(&s->send_mutex);
    pthread_mutex_lock(&s->mutex);
    gen = s->gen;
    r = s->bound ? 0 : hello_locked(s, fd, 0);
    dst = have_addr ? nl.nl_pid : s->dst_pid;
    if (!r && dst) {
        /* Another program's socket, which the kernel would reach and
         * weird cannot: refused as a port id nobody has. */
        r = -ECONNREFUSED;
    }
    if (r) {
        pthread_mutex_unlock(&s->mutex);
        pthread_mutex_unlock(&s->send_mutex);
        errno = -r;
        return -1;
    }
    /* Open before the request goes: a reader may see the end at once. */
    add_dumps_locked(s, seqs, n_seqs);
    pthread_mutex_unlock(&s->mutex);

    /* No address (the socket is connected) and no control data (the
     * kernel takes credentials and fds from it and drops them). */
    memset(&m, 0, sizeof m);
    m.msg_iov = msg->msg_iov;
    m.msg_iovlen = msg->msg_iovlen;
    do {
        n = R->sendmsg(fd, &m, flags | MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    err = errno;

    pthread_mutex_lock(&s->mutex);
    if (n < 0) {
        del_dumps_locked(s, seqs, n_seqs);
    } else {
        target = ++s->sent;
    }
    pthread_mutex_unlock(&s->mutex);
    pthread_mutex_unlock(&s->send_mutex);
    if (n < 0) {
        errno = err;
        return -1;
    }
    wait_sync(s, fd, target, gen);
    return n;
}

ssize_t
ovsc_sendmsg(int fd, const struct msghdr *msg, int flags)
{
    struct ovsc_sock *s = lookup(fd);

    if (!s) {
        return ovsc_real()->sendmsg(fd, msg, flags);
    }
    if (!msg) {
        errno = EFAULT;
        return -1;
    }
    return sock_sendmsg(s, fd, msg, flags);
}

ssize_t
ovsc_sendto(int fd, const void *buf, size_t len, int flags,
            const struct sockaddr *addr, socklen_t alen)
{
    struct ovsc_sock *s = lookup(fd);
    struct iovec iov = { .iov_base = (void *) buf, .iov_len = len };
    struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };

    if (!s) {
        return ovsc_real()->sendto(fd, buf, len, flags, addr, alen);
    }
    if (addr) {
        m.msg_name = (void *) addr;
        m.msg_namelen = alen;
    }
    return sock_sendmsg(s, fd, &m, flags);
}

ssize_t
ovsc_send(int fd, const void *buf, size_t len, int flags)
{
    struct ovsc_sock *s = lookup(fd);
    struct iovec iov = { .iov_base = (void *) buf, .iov_len = len };
    struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };

    if (!s) {
        return ovsc_real()->send(fd, buf, len, flags);
    }
    return sock_sendmsg(s, fd, &m, flags);
}

ssize_t
ovsc_write(int fd, const void *buf, size_t len)
{
    struct ovsc_sock *s = lookup(fd);
    struct iovec iov = { .iov_base = (void *) buf, .iov_len = len };
    struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };

    if (!s) {
        return ovsc_real()->write(fd, buf, len);
    }
    return sock_sendmsg(s, fd, &m, 0);
}

int
ovsc_sendmmsg(int fd, struct mmsghdr *vec, unsigned int n, int flags)
{
    struct ovsc_sock *s = lookup(fd);
    unsigned int i;

    if (!s) {
        return ovsc_real()->sendmmsg(fd, vec, n, flags);
    }
    if (n > IOV_MAX) {
        n = IOV_MAX;            /* The kernel's UIO_MAXIOV cap. */
    }
    for (i = 0; i < n; i++) {
        ssize_t r = sock_sendmsg(s, fd, &vec[i].msg_hdr, flags);

        if (r < 0) {
            /* As the kernel: what was sent counts, the error is lost. */
            return i ? (int) i : -1;
        }
        vec[i].msg_len = (unsigned int) r;
    }
    return (int) i;
}

/* ---- Receiving. ---- */

/* Returns this thread's bounce buffer (OVSC_BOUNCE_SIZE bytes), or NULL
 * if out of memory. */
static unsigned char *
bounce_buf(void)
{
    unsigned char *p = pthread_getspecific(bounce_key);

    if (!p) {
        p = malloc(OVSC_BOUNCE_SIZE);
        if (p && pthread_setspecific(bounce_key, p)) {
            free(p);
            p = NULL;
        }
    }
    return p;
}

/* Copies 'len' bytes from 'src' into the buffers of 'iov'.  Returns the
 * number copied (less if the buffers are shorter). */
static size_t
iov_scatter(const struct iovec *iov, size_t n_iov, const unsigned char *src,
            size_t len)
{
    size_t done = 0;

    for (size_t i = 0; i < n_iov && done < len; i++) {
        size_t n = iov[i].iov_len < len - done ? iov[i].iov_len
                                               : len - done;

        memcpy(iov[i].iov_base, src + done, n);
        done += n;
    }
    return done;
}

/* After a MSG_PEEK showed weird's NLMSG_OVERRUN, takes it off the socket:
 * the kernel clears a socket's overrun error when it reports it, peek or
 * not.  (Another thread may have taken it meanwhile: then this takes the
 * next datagram, which is lost; peeking while another thread reads the
 * same socket is the program's race.) */
static void
consume_overrun(int fd)
{
    unsigned char buf[64];

    ovsc_real()->recv(fd, buf, sizeof buf, MSG_DONTWAIT);
}

/* One receive from weird's socket into 'msg' (its name left alone), the
 * datagram checked for an overrun and scanned for dump ends.  'dumps':
 * whether a dump was open when the caller looked.  Returns the length
 * (recvmsg()'s value), or -1 with errno; '*overrun' says the datagram was
 * weird's NLMSG_OVERRUN (consumed, nothing passed up). */
static ssize_t
recv_once(struct ovsc_sock *s, int fd, struct msghdr *msg, int flags,
          bool dumps, bool *overrun)
{
    const struct ovsc_libc *R = ovsc_real();
    size_t ulen = ovsc_iov_len(msg->msg_iov, msg->msg_iovlen);
    bool peek = (flags & MSG_PEEK) != 0;
    struct msghdr m;
    size_t dlen;
    ssize_t n;

    *overrun = false;
    memset(&m, 0, sizeof m);
    m.msg_control = msg->msg_control;
    m.msg_controllen = msg->msg_controllen;

    if ((dumps && !peek && ulen < OVSC_BOUNCE_SIZE)
        || ulen < OVSC_OVERRUN_LEN) {
        unsigned char *buf = bounce_buf();
        struct iovec biov = { .iov_base = buf, .iov_len = OVSC_BOUNCE_SIZE };
        size_t have, copied;

        if (!buf) {
            errno = ENOMEM;
            return -1;
        }
        m.msg_iov = &biov;
        m.msg_iovlen = 1;
        n = R->recvmsg(fd, &m, flags | MSG_TRUNC);
        msg->msg_controllen = m.msg_controllen;
        msg->msg_flags = m.msg_flags;
        if (n <= 0) {
            goto eof_or_error;
        }
        dlen = (size_t) n;
        have = dlen < OVSC_BOUNCE_SIZE ? dlen : OVSC_BOUNCE_SIZE;
        biov.iov_len = have;
        if (ovsc_scan_overrun(&biov, 1, dlen)) {
            goto overrun;
        }
        if (!peek) {
            pthread_mutex_lock(&s->mutex);
            s->n_dumps = ovsc_scan_dump_ends(&biov, 1, have, s->dumps,
                                             s->n_dumps);
            pthread_mutex_unlock(&s->mutex);
        }
        copied = iov_scatter(msg->msg_iov, msg->msg_iovlen, buf,
                             have < ulen ? have : ulen);
        msg->msg_flags = ((m.msg_flags & ~MSG_TRUNC)
                          | (dlen > ulen ? MSG_TRUNC : 0));
        return (flags & MSG_TRUNC) ? n : (ssize_t) copied;
    }

    m.msg_iov = msg->msg_iov;
    m.msg_iovlen = msg->msg_iovlen;
    n = R->recvmsg(fd, &m, flags);
    msg->msg_controllen = m.msg_controllen;
    msg->msg_flags = m.msg_flags;
    if (n <= 0) {
        goto eof_or_error;
    }
    /* The datagram's length: n, unless cut short without MSG_TRUNC asked
     * (then longer than the buffers, and no overrun). */
    dlen = ((m.msg_flags & MSG_TRUNC) && !(flags & MSG_TRUNC) ? ulen + 1
            : (size_t) n);
    if (ovsc_scan_overrun(msg->msg_iov, msg->msg_iovlen, dlen)) {
        goto overrun;
    }
    if (!peek) {
        size_t have = (size_t) n < ulen ? (size_t) n : ulen;

        /* A dump opened by another thread since the caller looked. */
        pthread_mutex_lock(&s->mutex);
        if (s->n_dumps) {
            s->n_dumps = ovsc_scan_dump_ends(msg->msg_iov, msg->msg_iovlen,
                                             have, s->dumps, s->n_dumps);
        }
        pthread_mutex_unlock(&s->mutex);
    }
    return n;

overrun:
    if (peek) {
        consume_overrun(fd);
    }
    *overrun = true;
    return 0;

eof_or_error:
    if (n == 0) {
        /* weird hung up (it sends no empty datagrams).  The kernel never
         * ends a netlink socket; the program sees a reset. */
        errno = ECONNRESET;
    }
    return -1;
}

/* Fills the caller's msg_name, if any, with the kernel's address: port id
 * 0, the kernel's (the multicast group of a notification is not known
 * here, so nl_groups stays 0). */
static void
fill_name(void *name, socklen_t namelen, struct msghdr *msg)
{
    struct sockaddr_nl nl = { .nl_family = AF_NETLINK };

    msg->msg_name = name;
    if (!name) {
        msg->msg_namelen = 0;
        return;
    }
    memcpy(name, &nl, namelen < sizeof nl ? namelen : sizeof nl);
    msg->msg_namelen = sizeof nl;
}

/* Reads the SO_RCVTIMEO of 'fd' into '*deadline' (CLOCK_MONOTONIC, from
 * now).  Returns false if there is none (or it cannot be read): wait for
 * ever. */
static bool
rcvtimeo_deadline(int fd, struct timespec *deadline)
{
    struct timeval tv = { 0, 0 };
    socklen_t len = sizeof tv;

    if (ovsc_real()->getsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, &len) < 0
        || (!tv.tv_sec && !tv.tv_usec)) {
        return false;
    }
    clock_gettime(CLOCK_MONOTONIC, deadline);
    deadline->tv_sec += tv.tv_sec;
    deadline->tv_nsec += (long) tv.tv_usec * 1000;
    if (deadline->tv_nsec >= 1000000000L) {
        deadline->tv_sec++;
        deadline->tv_nsec -= 1000000000L;
    }
    return true;
}

/* Waits until 's' is bound, as a receive on an unbound netlink socket
 * waits for messages that can only come after a bind: for ever, or as
 * long as SO_RCVTIMEO says.  Returns 0, or -1 with EAGAIN if the receive
 * must not block or its time ran out (the kernel's error for both). */
static int
wait_bound(struct ovsc_sock *s, int fd, int flags)
{
    struct timespec deadline;
    bool timed = false, looked = false;

    pthread_mutex_lock(&s->mutex);
    while (!s->bound) {
        int fl;

        if (flags & MSG_DONTWAIT) {
            goto eagain;
        }
        if (!looked) {
            pthread_mutex_unlock(&s->mutex);
            fl = fcntl(fd, F_GETFL);
            timed = rcvtimeo_deadline(fd, &deadline);
            looked = true;
            pthread_mutex_lock(&s->mutex);
            if (s->bound) {
                break;
            }
            if (fl < 0 || (fl & O_NONBLOCK)) {
                goto eagain;
            }
        }
        if (!timed) {
            pthread_cond_wait(&s->bound_cv, &s->mutex);
        } else if (pthread_cond_timedwait(&s->bound_cv, &s->mutex,
                                          &deadline) == ETIMEDOUT
                   && !s->bound) {
            goto eagain;
        }
    }
    pthread_mutex_unlock(&s->mutex);
    return 0;

eagain:
    pthread_mutex_unlock(&s->mutex);
    errno = EAGAIN;
    return -1;
}

/* recvmsg() on the shim's socket 's' (fd 'fd'): rules 2, 3 and 4. */
static ssize_t
sock_recvmsg(struct ovsc_sock *s, int fd, struct msghdr *msg, int flags)
{
    void *name = msg->msg_name;
    socklen_t namelen = msg->msg_namelen;
    int64_t start = 0;
    uint64_t gen;
    int err;

    /* An error recvmmsg() left is reported first, and once, peek or not,
     * as the kernel's sock_error(). */
    pthread_mutex_lock(&s->mutex);
    err = s->pending_err;
    s->pending_err = 0;
    gen = s->gen;
    pthread_mutex_unlock(&s->mutex);
    if (err) {
        errno = err;
        return -1;
    }
    if (wait_bound(s, fd, flags)) {
        return -1;
    }
    msg->msg_name = NULL;
    msg->msg_namelen = 0;
    for (;;) {
        bool dumps, owed, no_enobufs, overrun, closed;
        struct pollfd pfd[2];
        ssize_t n;
        int64_t now;
        int efd;

        pthread_mutex_lock(&s->mutex);
        dumps = s->n_dumps > 0;
        owed = owed_locked(s);
        no_enobufs = s->no_enobufs;
        pthread_mutex_unlock(&s->mutex);
        if (owed) {
            drain_efd(s);
        }

        n = recv_once(s, fd, msg, flags, dumps, &overrun);
        if (n >= 0 && overrun) {
            if (no_enobufs) {
                continue;
            }
            fill_name(name, namelen, msg);
            errno = ENOBUFS;
            return -1;
        }
        if (n >= 0) {
            fill_name(name, namelen, msg);
            return n;
        }
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            err = errno;
            fill_name(name, namelen, msg);
            errno = err;
            return -1;
        }

        /* Empty.  Rules 2 and 3: not while replies or dump parts are on
         * their way. */
        drain_efd(s);
        pthread_mutex_lock(&s->mutex);
        dumps = s->n_dumps > 0;
        owed = owed_locked(s);
        efd = s->efd;
        closed = s->gen != gen;
        pthread_mutex_unlock(&s->mutex);
        if (closed) {
            /* Another thread closed the socket under this one. */
            fill_name(name, namelen, msg);
            errno = EBADF;
            return -1;
        }
        if (!dumps && !owed) {
            break;
        }
        now = now_ms();
        if (!start) {
            start = now;
        } else if (now - start >= OVSC_RECV_WAIT_MS) {
            pthread_mutex_lock(&s->mutex);
            s->waived = s->sent;
            s->n_dumps = 0;
            pthread_mutex_unlock(&s->mutex);
            warn_once(&warned_recv, "weird at %s sent nothing for %d ms "
                      "while replies or a dump were due; going on",
                      control_path(), OVSC_RECV_WAIT_MS);
            break;
        }
        pfd[0] = (struct pollfd) { .fd = fd, .events = POLLIN };
        pfd[1] = (struct pollfd) { .fd = efd, .events = POLLIN };
        poll(pfd, owed ? 2 : 1, OVSC_SLICE_MS);
    }
    fill_name(name, namelen, msg);
    errno = EAGAIN;
    return -1;
}

ssize_t
ovsc_recvmsg(int fd, struct msghdr *msg, int flags)
{
    struct ovsc_sock *s = lookup(fd);

    if (!s) {
        return ovsc_real()->recvmsg(fd, msg, flags);
    }
    if (!msg) {
        errno = EFAULT;
        return -1;
    }
    return sock_recvmsg(s, fd, msg, flags);
}

ssize_t
ovsc_recvfrom(int fd, void *buf, size_t len, int flags,
              struct sockaddr *addr, socklen_t *alen)
{
    struct ovsc_sock *s = lookup(fd);
    struct iovec iov = { .iov_base = buf, .iov_len = len };
    struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
    ssize_t n;

    if (!s) {
        return ovsc_real()->recvfrom(fd, buf, len, flags, addr, alen);
    }
    if (addr) {
        if (!alen) {
            errno = EFAULT;
            return -1;
        }
        m.msg_name = addr;
        m.msg_namelen = *alen;
    }
    n = sock_recvmsg(s, fd, &m, flags);
    if (n >= 0 && addr) {
        *alen = m.msg_namelen;
    }
    return n;
}

ssize_t
ovsc_recv(int fd, void *buf, size_t len, int flags)
{
    struct ovsc_sock *s = lookup(fd);
    struct iovec iov = { .iov_base = buf, .iov_len = len };
    struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };

    if (!s) {
        return ovsc_real()->recv(fd, buf, len, flags);
    }
    return sock_recvmsg(s, fd, &m, flags);
}

ssize_t
ovsc_read(int fd, void *buf, size_t len)
{
    struct ovsc_sock *s = lookup(fd);
    struct iovec iov = { .iov_base = buf, .iov_len = len };
    struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };

    if (!s) {
        return ovsc_real()->read(fd, buf, len);
    }
    return sock_recvmsg(s, fd, &m, 0);
}

int
ovsc_recvmmsg(int fd, struct mmsghdr *vec, unsigned int n, int flags,
              struct timespec *timeout)
{
    struct ovsc_sock *s = lookup(fd);
    int64_t deadline = 0;
    unsigned int i;

    if (!s) {
        return ovsc_real()->recvmmsg(fd, vec, n, flags, timeout);
    }
    if (timeout) {
        if (timeout->tv_sec < 0 || timeout->tv_nsec < 0
            || timeout->tv_nsec >= 1000000000L) {
            errno = EINVAL;
            return -1;
        }
        deadline = now_ms() + (int64_t) timeout->tv_sec * 1000
                   + timeout->tv_nsec / 1000000;
    }
    for (i = 0; i < n; i++) {
        int fl = flags & ~MSG_WAITFORONE;
        ssize_t r;

        if (i && (flags & MSG_WAITFORONE)) {
            fl |= MSG_DONTWAIT;
        }
        r = sock_recvmsg(s, fd, &vec[i].msg_hdr, fl);
        if (r < 0) {
            if (i && errno != EAGAIN && errno != EWOULDBLOCK) {
                /* As the kernel: what was received counts, and the error
                 * goes to sk_err for the next receive (an overrun's
                 * ENOBUFS, consumed with its datagram, included). */
                pthread_mutex_lock(&s->mutex);
                s->pending_err = errno;
                pthread_mutex_unlock(&s->mutex);
            }
            return i ? (int) i : -1;
        }
        vec[i].msg_len = (unsigned int) r;
        /* As the kernel: the timeout is checked after each datagram. */
        if (timeout && now_ms() >= deadline) {
            i++;
            break;
        }
    }
    return (int) i;
}

/* ---- Closing. ---- */

int
ovsc_close(int fd)
{
    const struct ovsc_libc *R = ovsc_real();
    struct ovsc_sock *s = lookup(fd);
    int r, err;

    if (!s) {
        return R->close(fd);
    }
    /* Out of the table first: the fd number is free once closed.  If
     * another thread got there first (closing the same fd twice at once
     * is the program's race), it releases the state. */
    bool mine = table_clear(fd, s);

    r = R->close(fd);
    err = errno;
    if (mine) {
        state_release(s);
    }
    errno = err;
    return r;
}

int
ovsc_dup3(int oldfd, int newfd, int flags)
{
    struct ovsc_sock *s = lookup(newfd);
    int r = ovsc_real()->dup3(oldfd, newfd, flags);

    /* 'newfd' was the shim's socket and is now something else. */
    if (r >= 0 && s && oldfd != newfd && table_clear(newfd, s)) {
        state_release(s);
    }
    return r;
}

int
ovsc_dup2(int oldfd, int newfd)
{
    struct ovsc_sock *s = lookup(newfd);
    int r = ovsc_real()->dup2(oldfd, newfd);

    if (r >= 0 && s && oldfd != newfd && table_clear(newfd, s)) {
        state_release(s);
    }
    return r;
}
