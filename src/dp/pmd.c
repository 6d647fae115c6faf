/* SPDX-License-Identifier: Apache-2.0 */
/* PMD threads (dp/pmd.h): a set of polling threads per datapath, each
 * with an RCU-published poll list, and the control path that decides
 * which thread polls which receive queue.
 *
 * The assignment table
 * ====================
 *
 * Under its mutex the set keeps one entry per receive queue of every port
 * of the datapath, in increasing (port number, queue) order: the port
 * (its pointer is its identity: a port number reused by another port is
 * new queues), the thread that owns the queue, the thread it is pinned to
 * (dp_pmd_rxq_assign()) and the owner the threads were last told about.
 * Every change (a port added or deleted, threads started or stopped, a
 * pin) rebuilds the table from the datapath's ports in one pass, merging
 * with the old table: a queue keeps its pin if that thread still exists,
 * else its owner if that thread still exists, else goes to the thread
 * with the fewest queues (the lowest id among equals).  Queues are never
 * moved behind the user's back otherwise: a running thread keeps its
 * caches warm.  Pins to threads that stop are dropped, and so are pins of
 * queues that go away.
 *
 * Poll lists
 * ==========
 *
 * After each rebuild every thread gets a new poll list (port pointer,
 * number, queue, ready round; see below), published with a release store;
 * the old one is freed after a grace period (qsbr_defer()).  A thread
 * loads its list with acquire at the top of each loop and holds it only
 * until its quiescent state at the end of the loop, or until it goes
 * offline to sleep (it copies the fds it sleeps on first).  So a list is
 * never freed under a thread, and a port that dp.c unpublished is no
 * longer polled by anyone once dp.c's qsbr_synchronize() returns.
 *
 * Ports stay open while the set's mutex is held: dp.c closes a deleted
 * port only after pmd_set_ports_changed() returned, which waits for the
 * mutex.  That is why dp_pmd_configure() and dp_pmd_rxq_assign(), which
 * do not hold the datapath's writer mutex, may read the ports and publish
 * lists that point to them: if a port disappears meanwhile, its
 * pmd_set_ports_changed() runs after them and republishes without it,
 * before the port is closed.
 *
 * Handing a queue over
 * ====================
 *
 * A receive queue must be polled by one thread at a time
 * (port/port-provider.h).  When a pin moves a queue from one running
 * thread to another, the old owner may still be in the middle of a loop
 * over its old list.  The set does not wait for it (pmd_set_ports_changed()
 * runs under the datapath's writer mutex); the threads sort it out:
 *
 *   - Every publication is a numbered round: the new lists are stored,
 *     then the round number, with release.
 *   - A thread, at the top of each loop, loads the round (acquire), then
 *     its list, and stores the round in its 'seen' slot (release).  Having
 *     seen round R means it holds a list from round R or later, and all
 *     its receives from older lists are over.
 *   - A queue that changed owners in round R carries 'ready' R in its new
 *     owner's list, which skips it until every other thread has seen R.
 *     Stopped threads' slots hold UINT64_MAX; a thread being started gets
 *     the current round (it can only ever load lists from later rounds).
 *
 * Every round wakes every thread, so the wait is one loop of the old
 * owner.  Queues of threads that stop need no wait: those threads are
 * joined before their queues are given to others.  dp_pmd_rxq_assign(),
 * which does not run under the datapath's mutex, also waits (offline)
 * until every thread has seen its round before it returns: from then on
 * only the new owner polls the queue, which makes pins easy to observe.
 *
 * The thread loop
 * ===============
 *
 * Each loop receives a batch from every queue of the list, hands each
 * non-empty one to dp_input() and reports a quiescent state.  The loop's
 * time goes to 'busy' if it received something, to 'idle' otherwise (one
 * clock_gettime() per loop).  After 'idle_us' without packets the thread
 * builds a poll() set from its list (its wake-up eventfd first, then the
 * queues' fds), goes offline and blocks; when some queue has no fd, it
 * wakes up on a timer that starts at 1 ms and doubles to 8 ms while
 * nothing comes, and after a timer wake-up with nothing received it goes
 * straight back to sleep.  A thread that waits for a queue hand-over never
 * sleeps.  The control path writes the eventfd on every round and on
 * stop; the thread drains it before it loads its list again.
 *
 * A thread creates its dp_thread itself (dp.h: created and destroyed on
 * the thread that uses it; its exact-match cache is then touched first on
 * the thread's CPU) and reports success to dp_pmd_configure() through a
 * semaphore, so that hitting the datapath's max_threads is an error of
 * the configuration call.  New threads start on their CPU
 * (pthread_attr_setaffinity_np()); unpinned ones get the affinity the
 * creator of the datapath had.
 *
 * Statistics are relaxed atomics written by their thread only.  A sleep
 * in progress counts too: the thread stores when it fell asleep, and
 * dp_pmd_get_stats() adds the time since.
 *
 * Locking
 * =======
 *
 * The set's mutex guards the table, the thread array and the CPU list.
 * Lock order: the datapath's writer mutex, then the set's.  PMD threads
 * take neither (dp.c's periodic re-ranking only tries the writer mutex),
 * so joining or waiting for a thread under the set's mutex cannot
 * deadlock; the caller goes offline (RCU) while it waits.
 */

#define _GNU_SOURCE             /* pthread_*affinity_np(), CPU_SET(). */

#include "dp/pmd.h"

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
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
#include "port/port.h"

#define PMD_DEFAULT_IDLE_US 200
#define PMD_TIMER_MIN_MS 1      /* Sleep of a thread with fd-less queues. */
#define PMD_TIMER_MAX_MS 8
#define PMD_NONE (-1)           /* No thread. */
#define PMD_PORTS_CHUNK 64      /* Port numbers read per dp_port_list(). */

/* One receive queue of a poll list. */
struct pmd_pollq {
    struct port *port;
    uint32_t port_no;
    uint32_t qid;
    int fd;                     /* port_rx_fd(), or -1. */
    uint64_t ready;             /* Poll once every thread saw this round. */
};

/* What one thread polls.  Immutable once published. */
struct pmd_list {
    struct qsbr_head rcu;
    uint64_t max_ready;         /* Largest 'ready' of the queues. */
    uint32_t n;
    struct pmd_pollq q[];
};

/* The list of a thread without queues; never freed. */
static struct pmd_list no_queues;

/* Written by their thread only (relaxed), read by anyone. */
struct pmd_counters {
    _Atomic uint64_t packets;
    _Atomic uint64_t batches;
    _Atomic uint64_t busy_ns;
    _Atomic uint64_t idle_ns;
    _Atomic uint64_t sleep_ns;
    _Atomic uint64_t wakeups;
    _Atomic uint64_t asleep_since;      /* Blocked since (ns); 0: awake. */
};

struct pmd {
    struct pmd_set *set;
    uint32_t id;
    int cpu;                    /* Pinned CPU or -1; guarded by the set's
                                 * mutex. */
    pthread_t thread;
    int wake_fd;                /* eventfd: written on changes and stop. */
    sem_t started;              /* Posted once 'start_ok' is set. */
    bool start_ok;              /* The thread runs (has its dp_thread). */
    _Atomic(struct pmd_list *) list;
    _Atomic bool stop;
    struct pmd_counters c;
};

/* One receive queue in the assignment table. */
struct pmd_rxq {
    struct port *port;
    uint32_t port_no;
    uint32_t qid;
    int fd;
    int owner;                  /* Thread id, or PMD_NONE. */
    int pin;                    /* Pinned to this thread, or PMD_NONE. */
    int published;              /* Owner in the published lists. */
    uint64_t ready;             /* Round of its last hand-over. */
};

/* A request of dp_pmd_rxq_assign() for rebuild_locked(). */
struct pmd_pin {
    uint32_t port_no;
    uint32_t qid;
    int pmd_id;
    bool applied;               /* The queue was found. */
};

struct pmd_set {
    struct datapath *dp;
    struct wmutex mutex;

    /* Guarded by 'mutex'. */
    struct pmd *pmds[DP_PMD_MAX];       /* Ids 0 .. n_pmds - 1. */
    uint32_t n_pmds;
    struct pmd_rxq *rxqs;               /* The assignment table. */
    size_t n_rxqs;
    int cpus[DP_PMD_MAX];               /* The CPU list (its first
                                         * DP_PMD_MAX entries). */
    uint32_t n_cpus;
    cpu_set_t unpinned;                 /* Affinity of unpinned threads;
                                         * empty: leave it alone. */

    /* Read by the threads. */
    _Atomic uint32_t idle_us;
    _Atomic uint64_t round;             /* Last round published; written
                                         * under 'mutex'. */
    _Atomic uint64_t seen[DP_PMD_MAX];  /* Per thread id: the last round it
                                         * saw; UINT64_MAX: none runs. */
};

/* Adds 'n' to a counter only its owner writes. */
static inline void
ctr_add(_Atomic uint64_t *c, uint64_t n)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed)
                          + n, memory_order_relaxed);
}

static uint64_t
now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

static void
list_free_cb(struct qsbr_head *h)
{
    free(QSBR_OBJ(h, struct pmd_list, rcu));
}

/* Frees 'list' after a grace period (unless it is 'no_queues'). */
static void
list_retire(struct pmd_list *list)
{
    if (list != &no_queues) {
        qsbr_defer(&list->rcu, list_free_cb);
    }
}

/* Wakes 'pmd' up if it sleeps, or makes its next sleep return at once. */
static void
pmd_kick(struct pmd *pmd)
{
    uint64_t one = 1;

    if (write(pmd->wake_fd, &one, sizeof one) < 0) {
        /* EAGAIN: the counter is full, so a wake-up is pending anyway. */
    }
}

/* ---- The thread. ---- */

/* Returns the oldest round that every thread but 'self' has seen. */
static uint64_t
pmd_min_seen(struct pmd_set *set, uint32_t self)
{
    uint64_t min = UINT64_MAX;

    for (uint32_t i = 0; i < DP_PMD_MAX; i++) {
        if (i != self) {
            /* Acquire: pairs with the release in pmd_loop(); the other
             * thread's receives from older lists are over. */
            uint64_t s = atomic_load_explicit(&set->seen[i],
                                              memory_order_acquire);

            if (s < min) {
                min = s;
            }
        }
    }
    return min;
}

/* What a thread knows about the fds of its queues' errors, by position
 * in its poll list.  A queue whose fd polls in error is "suspect": its
 * socket error is read (which clears one a link flap left, ENETDOWN);
 * if it polls in error again before the queue receives anything, the
 * device is gone for good (a deleted interface, a TAP whose namespace
 * died: such fds poll in error forever) and the queue is "muted": the
 * thread polls it on its timer instead of sleeping on its fd.  A sleep
 * without an error, or packets, clear a queue's state; a new poll list
 * starts afresh. */
enum pmd_qstate { PMD_Q_OK, PMD_Q_SUSPECT, PMD_Q_MUTED };

struct pmd_errs {
    const struct pmd_list *list;        /* The list 'state' is about. */
    uint8_t *state;                     /* enum pmd_qstate, per queue. */
    size_t cap;
};

/* Makes 'e' describe 'list' (all queues OK if it is a new list).
 * Returns false if out of memory (then no queue is muted). */
static bool
pmd_errs_track(struct pmd_errs *e, const struct pmd_list *list)
{
    if (e->list == list) {
        return true;
    }
    if (e->cap < list->n) {
        uint8_t *state = realloc(e->state, list->n);

        if (!state) {
            e->list = NULL;
            return false;
        }
        e->state = state;
        e->cap = list->n;
    }
    if (list->n) {
        memset(e->state, PMD_Q_OK, list->n);
    }
    e->list = list;
    return true;
}

/* Notes that queue 'i' of the tracked list polled in error. */
static void
pmd_errs_note(struct pmd_errs *e, uint32_t i, int fd)
{
    int err;
    socklen_t len = sizeof err;

    if (e->state[i] == PMD_Q_OK
        && !getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len)) {
        e->state[i] = PMD_Q_SUSPECT;
    } else {
        e->state[i] = PMD_Q_MUTED;
    }
}

/* Fills '*pfds' (capacity '*cap', grown as needed) with what the thread
 * sleeps on: its wake-up eventfd, then the fds of the queues of 'list'
 * but muted ones, and '*qidx' (same capacity) with the queue of each
 * entry.  Sets '*timer' if some queue has no fd or a muted one (or the
 * arrays could not grow: then the thread naps on the timer alone).
 * Returns: the number of entries. */
static nfds_t
pmd_pollfds(const struct pmd *pmd, const struct pmd_list *list,
            const struct pmd_errs *errs, struct pollfd **pfds,
            uint32_t **qidx, size_t *cap, bool *timer)
{
    nfds_t n = 0;

    *timer = false;
    if (*cap < (size_t) list->n + 1) {
        struct pollfd *p = realloc(*pfds, (list->n + 1) * sizeof *p);
        uint32_t *q;

        if (p) {
            *pfds = p;
        }
        q = p ? realloc(*qidx, (list->n + 1) * sizeof *q) : NULL;
        if (!q) {
            *timer = true;
            return 0;
        }
        *qidx = q;
        *cap = (size_t) list->n + 1;
    }
    (*pfds)[n++] = (struct pollfd) { .fd = pmd->wake_fd, .events = POLLIN };
    for (uint32_t i = 0; i < list->n; i++) {
        int fd = list->q[i].fd;

        if (fd < 0 || (errs->list == list
                       && errs->state[i] == PMD_Q_MUTED)) {
            *timer = true;
        } else if (fd != (*pfds)[n - 1].fd) {
            /* Queues of one port often share an fd: once is enough. */
            (*qidx)[n] = i;
            (*pfds)[n++] = (struct pollfd) { .fd = fd, .events = POLLIN };
        }
    }
    return n;
}

/* Blocks until a queue may have packets, a change or stop wakes the
 * thread up, or 'timer_ms' (-1: no timer) pass, offline.  Counts the
 * sleep.  Queue fds that report an error are noted in 'errs' ('qidx'
 * maps entries to queues).
 * Returns: true if the wake-up fd or a queue fd became readable, false
 * on the timer (or only errors). */
static bool
pmd_sleep(struct pmd *pmd, struct pollfd *pfds, nfds_t n, int timer_ms,
          struct pmd_errs *errs, const uint32_t *qidx, uint64_t *now)
{
    uint64_t start = *now, end;
    bool ready = false;
    int r;

    /* Release: a reader that sees this sees the total it adds to. */
    atomic_store_explicit(&pmd->c.asleep_since, start, memory_order_release);
    qsbr_offline();
    r = poll(n ? pfds : NULL, n, timer_ms);
    qsbr_online();
    end = now_ns();
    /* Awake first, then the total: a reader that sees the new total sees
     * that this sleep is over (dp_pmd_get_stats()). */
    atomic_store_explicit(&pmd->c.asleep_since, 0, memory_order_release);
    atomic_store_explicit(&pmd->c.sleep_ns,
                          atomic_load_explicit(&pmd->c.sleep_ns,
                                               memory_order_relaxed)
                          + (end - start), memory_order_release);
    ctr_add(&pmd->c.wakeups, 1);
    if (n && pfds[0].revents & POLLIN) {
        uint64_t count;

        if (read(pmd->wake_fd, &count, sizeof count) < 0) {
            /* EAGAIN: already drained. */
        }
        ready = true;
    }
    for (nfds_t i = 1; r >= 0 && i < n; i++) {
        if (pfds[i].revents & (POLLERR | POLLHUP | POLLNVAL)) {
            if (errs->list) {
                pmd_errs_note(errs, qidx[i], pfds[i].fd);
            }
            continue;
        }
        if (errs->list && errs->state[qidx[i]] == PMD_Q_SUSPECT) {
            /* No error this time: what was read was a passing one. */
            errs->state[qidx[i]] = PMD_Q_OK;
        }
        if (pfds[i].revents & POLLIN) {
            ready = true;
        }
    }
    *now = end;
    return ready;
}

static void
pmd_loop(struct pmd *pmd, struct dp_thread *thr)
{
    struct pmd_set *set = pmd->set;
    struct pollfd *pfds = NULL;
    size_t pfds_cap = 0;
    uint64_t seen = 0, safe = 0;
    uint64_t now = now_ns(), last_rx = now;
    int timer_ms = PMD_TIMER_MIN_MS;
    bool drowsy = false;        /* The last sleep ended on the timer. */
    struct pmd_errs errs = { .list = NULL };
    uint32_t *qidx = NULL;

    while (!atomic_load_explicit(&pmd->stop, memory_order_acquire)) {
        /* Acquire: the round is stored after its lists, so the list
         * loaded next is from this round or a later one. */
        uint64_t round = atomic_load_explicit(&set->round,
                                              memory_order_acquire);
        /* Acquire: the list was fully built before it was published. */
        const struct pmd_list *list = atomic_load_explicit(
            &pmd->list, memory_order_acquire);
        uint32_t n_pkts = 0, n_batches = 0;
        uint64_t then = now, idle_ns;
        nfds_t n_fds;
        bool timer;

        if (round != seen) {
            seen = round;
            /* Release: every receive from older lists happened before. */
            atomic_store_explicit(&set->seen[pmd->id], round,
                                  memory_order_release);
        }
        if (list->max_ready > safe) {
            uint64_t min = pmd_min_seen(set, pmd->id);

            safe = min > safe ? min : safe;
        }
        for (uint32_t i = 0; i < list->n; i++) {
            const struct pmd_pollq *q = &list->q[i];
            struct pkt_batch batch;

            if (q->ready > safe) {
                continue;       /* Its previous owner may still poll it. */
            }
            pkt_batch_init(&batch);
            port_rx(q->port, q->qid, &batch);
            if (batch.n) {
                if (errs.list == list) {
                    errs.state[i] = PMD_Q_OK;
                }
                n_pkts += batch.n;
                n_batches++;
                dp_input(thr, q->port_no, &batch);
            }
        }
        now = now_ns();
        if (n_pkts) {
            ctr_add(&pmd->c.busy_ns, now - then);
            ctr_add(&pmd->c.packets, n_pkts);
            ctr_add(&pmd->c.batches, n_batches);
            last_rx = now;
            drowsy = false;
            timer_ms = PMD_TIMER_MIN_MS;
            dp_thread_quiesce(thr);
            continue;
        }
        ctr_add(&pmd->c.idle_ns, now - then);
        idle_ns = (uint64_t) atomic_load_explicit(&set->idle_us,
                                                  memory_order_relaxed)
                  * 1000;
        if (list->max_ready > safe || (!drowsy && now - last_rx < idle_ns)) {
            dp_thread_quiesce(thr);
            continue;
        }

        /* Nothing for a while: sleep.  Offline, 'list' may be freed: the
         * sleep uses a copy of its fds, and the next loop loads it again. */
        pmd_errs_track(&errs, list);
        n_fds = pmd_pollfds(pmd, list, &errs, &pfds, &qidx, &pfds_cap,
                            &timer);
        if (!pmd_sleep(pmd, pfds, n_fds, timer ? timer_ms : -1, &errs, qidx,
                       &now)) {
            drowsy = true;
            if (timer_ms < PMD_TIMER_MAX_MS) {
                timer_ms *= 2;
            }
        } else {
            drowsy = false;
            last_rx = now;
        }
    }
    free(pfds);
    free(qidx);
    free(errs.state);
}

static void *
pmd_main(void *arg)
{
    struct pmd *pmd = arg;
    struct dp_thread *thr;
    char name[16];

    snprintf(name, sizeof name, "pmd%u", pmd->id);
    pthread_setname_np(pthread_self(), name);
    qsbr_register();
    thr = dp_thread_create(pmd->set->dp, NULL);
    pmd->start_ok = thr != NULL;
    sem_post(&pmd->started);
    if (thr) {
        pmd_loop(pmd, thr);
        dp_thread_destroy(thr);
    }
    qsbr_unregister();
    return NULL;
}

/* ---- Starting and stopping threads. ---- */

/* Sets '*cs' to the affinity for 'cpu' (-1: unpinned).
 * Returns: false if the affinity should be left alone. */
static bool
pmd_cpuset(const struct pmd_set *set, int cpu, cpu_set_t *cs)
{
    if (cpu >= 0) {
        CPU_ZERO(cs);
        CPU_SET(cpu, cs);
        return true;
    }
    *cs = set->unpinned;
    return CPU_COUNT(cs) > 0;
}

/* Frees a thread that was joined (or never ran). */
static void
pmd_free(struct pmd *pmd)
{
    struct pmd_list *list = atomic_load_explicit(&pmd->list,
                                                 memory_order_relaxed);

    if (list != &no_queues) {
        free(list);
    }
    close(pmd->wake_fd);
    sem_destroy(&pmd->started);
    free(pmd);
}

/* Starts thread 'id' (== set->n_pmds) on 'cpu' (-1: unpinned), without
 * queues, and waits until it runs.
 * Returns: 0; -EINVAL (no dp_thread to be had: max_threads); -ENOMEM;
 * a pthread error.  Context: an online RCU reader. */
static int
pmd_start_locked(struct pmd_set *set, uint32_t id, int cpu,
                 struct errbuf *err) WEIR_REQUIRES(&set->mutex)
{
    /* Cache-line aligned: threads' counters never share a line. */
    size_t size = (sizeof(struct pmd) + 63) & ~(size_t) 63;
    struct pmd *pmd = aligned_alloc(64, size);
    pthread_attr_t attr;
    cpu_set_t cs;
    int error;

    if (!pmd) {
        errbuf_set(err, "out of memory");
        return -ENOMEM;
    }
    memset(pmd, 0, size);
    pmd->set = set;
    pmd->id = id;
    pmd->cpu = cpu;
    atomic_init(&pmd->list, &no_queues);
    atomic_init(&pmd->stop, false);
    pmd->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (pmd->wake_fd < 0) {
        error = -errno;
        errbuf_set(err, "PMD thread %u: eventfd: %s", id, strerror(-error));
        free(pmd);
        return error;
    }
    if (sem_init(&pmd->started, 0, 0)) {
        error = -errno;
        errbuf_set(err, "PMD thread %u: sem_init: %s", id, strerror(-error));
        close(pmd->wake_fd);
        free(pmd);
        return error;
    }
    /* It will only ever load lists of later rounds. */
    atomic_store_explicit(&set->seen[id],
                          atomic_load_explicit(&set->round,
                                               memory_order_relaxed),
                          memory_order_relaxed);

    error = pthread_attr_init(&attr);
    if (!error) {
        if (pmd_cpuset(set, cpu, &cs)) {
            error = pthread_attr_setaffinity_np(&attr, sizeof cs, &cs);
        }
        if (!error) {
            error = pthread_create(&pmd->thread, &attr, pmd_main, pmd);
        }
        pthread_attr_destroy(&attr);
    }
    if (error) {
        if (cpu >= 0) {
            errbuf_set(err, "cannot start PMD thread %u on CPU %d: %s", id,
                       cpu, strerror(error));
        } else {
            errbuf_set(err, "cannot start PMD thread %u: %s", id,
                       strerror(error));
        }
        atomic_store_explicit(&set->seen[id], UINT64_MAX,
                              memory_order_relaxed);
        pmd_free(pmd);
        return -error;
    }

    qsbr_offline();
    while (sem_wait(&pmd->started) && errno == EINTR) {
        continue;
    }
    if (!pmd->start_ok) {
        pthread_join(pmd->thread, NULL);
    }
    qsbr_online();
    if (!pmd->start_ok) {
        errbuf_set(err, "cannot start PMD thread %u: datapath %s has "
                   "max_threads packet threads already (or memory ran "
                   "out)", id, dp_name(set->dp));
        atomic_store_explicit(&set->seen[id], UINT64_MAX,
                              memory_order_relaxed);
        pmd_free(pmd);
        return -EINVAL;
    }
    set->pmds[id] = pmd;
    set->n_pmds = id + 1;
    return 0;
}

/* Stops threads 'from' .. n_pmds - 1, waits for them to exit and frees
 * them.  Their queues have no owner until the next rebuild.
 * Context: 'online': the caller is an online RCU reader (it goes offline
 * while it waits); else it is offline or not registered. */
static void
pmd_stop_locked(struct pmd_set *set, uint32_t from, bool online)
    WEIR_REQUIRES(&set->mutex)
{
    uint32_t to = set->n_pmds;

    if (from >= to) {
        return;
    }
    for (uint32_t i = from; i < to; i++) {
        /* Release: nothing to publish, but keeps TSan's view simple. */
        atomic_store_explicit(&set->pmds[i]->stop, true,
                              memory_order_release);
        pmd_kick(set->pmds[i]);
    }
    if (online) {
        qsbr_offline();
    }
    for (uint32_t i = from; i < to; i++) {
        pthread_join(set->pmds[i]->thread, NULL);
    }
    if (online) {
        qsbr_online();
    }
    for (uint32_t i = from; i < to; i++) {
        pmd_free(set->pmds[i]);
        set->pmds[i] = NULL;
        atomic_store_explicit(&set->seen[i], UINT64_MAX,
                              memory_order_relaxed);
    }
    set->n_pmds = from;
}

/* Pins running thread 'pmd' to 'cpu' (-1: unpins it).
 * Returns 0 or a negative errno, with a reason. */
static int
pmd_repin_locked(struct pmd_set *set, struct pmd *pmd, int cpu,
                 struct errbuf *err) WEIR_REQUIRES(&set->mutex)
{
    cpu_set_t cs;
    int error;

    if (cpu == pmd->cpu) {
        return 0;
    }
    if (pmd_cpuset(set, cpu, &cs)) {
        error = pthread_setaffinity_np(pmd->thread, sizeof cs, &cs);
        if (error) {
            errbuf_set(err, "cannot pin PMD thread %u to CPU %d: %s",
                       pmd->id, cpu, strerror(error));
            return -error;
        }
    }
    pmd->cpu = cpu;
    return 0;
}

/* ---- Assignment. ---- */

/* Returns 'id' if thread 'id' runs, else PMD_NONE. */
static int
live_or_none(const struct pmd_set *set, int id) WEIR_REQUIRES(&set->mutex)
{
    return id >= 0 && (uint32_t) id < set->n_pmds ? id : PMD_NONE;
}

/* Appends the queues of port 'port_no' ('port') to the table 'tbl' of
 * '*n' entries (capacity '*cap'), carrying over what the old table knew
 * of them from position '*j' on, and applies 'pin' if it names one.
 * Returns 0 or -ENOMEM. */
static int
rebuild_port_locked(struct pmd_set *set, uint32_t port_no,
                    struct port *port, struct pmd_rxq **tbl, size_t *n,
                    size_t *cap, size_t *j, struct pmd_pin *pin)
    WEIR_REQUIRES(&set->mutex)
{
    const struct pmd_rxq *old = set->rxqs;

    for (uint32_t qid = 0; qid < port->n_rxq; qid++) {
        struct pmd_rxq *e;

        if (*n == *cap) {
            size_t new_cap = *cap ? *cap * 2 : 16;
            struct pmd_rxq *t = realloc(*tbl, new_cap * sizeof *t);

            if (!t) {
                return -ENOMEM;
            }
            *tbl = t;
            *cap = new_cap;
        }
        e = &(*tbl)[(*n)++];
        *e = (struct pmd_rxq) {
            .port = port, .port_no = port_no, .qid = qid,
            .fd = port_rx_fd(port, qid),
            .owner = PMD_NONE, .pin = PMD_NONE, .published = PMD_NONE,
        };
        /* Both tables are in increasing (port number, queue) order. */
        while (*j < set->n_rxqs
               && (old[*j].port_no < port_no
                   || (old[*j].port_no == port_no && old[*j].qid < qid))) {
            (*j)++;
        }
        if (*j < set->n_rxqs && old[*j].port_no == port_no
            && old[*j].qid == qid && old[*j].port == port) {
            e->owner = live_or_none(set, old[*j].owner);
            e->pin = live_or_none(set, old[*j].pin);
            e->published = live_or_none(set, old[*j].published);
            e->ready = old[*j].ready;
        }
        if (pin && pin->port_no == port_no && pin->qid == qid) {
            e->pin = pin->pmd_id;
            pin->applied = true;
        }
    }
    return 0;
}

/* Rebuilds the assignment table from the datapath's ports: pins first,
 * then previous owners, then the thread with the fewest queues.
 * Returns 0, or -ENOMEM (the table is unchanged).
 * Context: an online RCU reader. */
static int
rebuild_locked(struct pmd_set *set, struct pmd_pin *pin)
    WEIR_REQUIRES(&set->mutex)
{
    struct pmd_rxq *tbl = NULL;
    size_t n = 0, cap = 0, j = 0;
    uint32_t load[DP_PMD_MAX] = { 0 };
    uint32_t nums[PMD_PORTS_CHUNK];
    uint32_t cursor = 0;
    size_t got;

    while ((got = dp_port_list(set->dp, &cursor, nums, PMD_PORTS_CHUNK))) {
        for (size_t k = 0; k < got; k++) {
            struct port *port = dp_port_get(set->dp, nums[k]);

            if (port && rebuild_port_locked(set, nums[k], port, &tbl, &n,
                                            &cap, &j, pin)) {
                free(tbl);
                return -ENOMEM;
            }
        }
    }

    for (size_t i = 0; i < n; i++) {
        if (tbl[i].pin != PMD_NONE) {
            tbl[i].owner = tbl[i].pin;
        }
        if (tbl[i].owner != PMD_NONE) {
            load[tbl[i].owner]++;
        }
    }
    for (size_t i = 0; i < n && set->n_pmds; i++) {
        if (tbl[i].owner == PMD_NONE) {
            uint32_t best = 0;

            for (uint32_t t = 1; t < set->n_pmds; t++) {
                if (load[t] < load[best]) {
                    best = t;
                }
            }
            tbl[i].owner = (int) best;
            load[best]++;
        }
    }
    free(set->rxqs);
    set->rxqs = tbl;
    set->n_rxqs = n;
    return 0;
}

/* Publishes a poll list per thread from the table, as a new round, and
 * wakes every thread up.  A thread whose list cannot be allocated polls
 * nothing until the next round.
 * Returns 0 or -ENOMEM. */
static int
publish_locked(struct pmd_set *set) WEIR_REQUIRES(&set->mutex)
{
    uint64_t round = atomic_load_explicit(&set->round,
                                          memory_order_relaxed) + 1;
    struct pmd_list *lists[DP_PMD_MAX];
    uint32_t count[DP_PMD_MAX] = { 0 };
    int error = 0;

    for (size_t i = 0; i < set->n_rxqs; i++) {
        struct pmd_rxq *e = &set->rxqs[i];

        if (e->owner != PMD_NONE) {
            count[e->owner]++;
        }
        if (e->published != PMD_NONE && e->published != e->owner) {
            /* Handed over between running threads. */
            e->ready = round;
        }
        e->published = e->owner;
    }
    for (uint32_t t = 0; t < set->n_pmds; t++) {
        lists[t] = &no_queues;
        if (count[t]) {
            struct pmd_list *l = malloc(sizeof *l
                                        + count[t] * sizeof l->q[0]);

            if (l) {
                l->n = 0;
                l->max_ready = 0;
                lists[t] = l;
            } else {
                error = -ENOMEM;
            }
        }
    }
    for (size_t i = 0; i < set->n_rxqs; i++) {
        const struct pmd_rxq *e = &set->rxqs[i];
        struct pmd_list *l;

        if (e->owner == PMD_NONE || (l = lists[e->owner]) == &no_queues) {
            continue;
        }
        l->q[l->n++] = (struct pmd_pollq) {
            .port = e->port, .port_no = e->port_no, .qid = e->qid,
            .fd = e->fd, .ready = e->ready,
        };
        if (e->ready > l->max_ready) {
            l->max_ready = e->ready;
        }
    }
    for (uint32_t t = 0; t < set->n_pmds; t++) {
        /* Release: publishes the list's contents. */
        list_retire(atomic_exchange_explicit(&set->pmds[t]->list, lists[t],
                                             memory_order_acq_rel));
    }
    /* Release: a thread that sees the round sees its lists. */
    atomic_store_explicit(&set->round, round, memory_order_release);
    for (uint32_t t = 0; t < set->n_pmds; t++) {
        pmd_kick(set->pmds[t]);
    }
    return error;
}

/* Rebuilds the table and publishes it.  If the table cannot be rebuilt,
 * the threads poll nothing (rather than a port that may be closing) until
 * the next successful call.
 * Returns 0 or -ENOMEM.  Context: an online RCU reader. */
static int
refresh_locked(struct pmd_set *set, struct pmd_pin *pin)
    WEIR_REQUIRES(&set->mutex)
{
    int error = rebuild_locked(set, pin);
    int error2;

    if (error) {
        free(set->rxqs);
        set->rxqs = NULL;
        set->n_rxqs = 0;
    }
    error2 = publish_locked(set);
    return error ? error : error2;
}

/* Waits until every running thread has seen the last round, so that none
 * polls a queue it lost in it any more.  Threads answer within one loop
 * (the round woke them up).  Context: an online RCU reader (it goes
 * offline while it waits). */
static void
pmd_wait_round_locked(struct pmd_set *set) WEIR_REQUIRES(&set->mutex)
{
    uint64_t round = atomic_load_explicit(&set->round, memory_order_relaxed);

    qsbr_offline();
    for (uint32_t i = 0; i < set->n_pmds; i++) {
        /* Acquire: pairs with the release in pmd_loop(). */
        while (atomic_load_explicit(&set->seen[i], memory_order_acquire)
               < round) {
            struct timespec ts = { 0, 20000 };

            nanosleep(&ts, NULL);
        }
    }
    qsbr_online();
}

/* ---- CPU lists. ---- */

/* Parses a decimal CPU number at '*p' and moves '*p' past it.
 * Returns: false if there are no digits. */
static bool
parse_cpu_number(const char **p, long *value)
{
    const char *s = *p;
    long v = 0;

    if (*s < '0' || *s > '9') {
        return false;
    }
    for (; *s >= '0' && *s <= '9'; s++) {
        /* Saturate: any number this large names no CPU. */
        v = v < 1000000 ? v * 10 + (*s - '0') : v;
    }
    *value = v;
    *p = s;
    return true;
}

/* Parses the CPU list 'text' ("0,2-3"): keeps its first DP_PMD_MAX CPUs,
 * in order, in 'cpus' and their number in '*n'.
 * Returns 0, or -EINVAL with a reason (bad syntax, a backwards range, a
 * CPU this host does not have). */
static int
parse_cpus(const char *text, int cpus[DP_PMD_MAX], uint32_t *n,
           struct errbuf *err)
{
    long n_conf = sysconf(_SC_NPROCESSORS_CONF);
    const char *p = text;

    if (n_conf < 1) {
        n_conf = 1;
    }
    if (n_conf > CPU_SETSIZE) {
        n_conf = CPU_SETSIZE;
    }
    *n = 0;
    for (;;) {
        long lo, hi;

        if (!parse_cpu_number(&p, &lo)) {
            errbuf_set(err, "bad CPU list \"%.40s\": expected a CPU number "
                       "at \"%.20s\"", text, p);
            return -EINVAL;
        }
        hi = lo;
        if (*p == '-') {
            p++;
            if (!parse_cpu_number(&p, &hi)) {
                errbuf_set(err, "bad CPU list \"%.40s\": expected a CPU "
                           "number after '-'", text);
                return -EINVAL;
            }
            if (hi < lo) {
                errbuf_set(err, "bad CPU list \"%.40s\": range %ld-%ld "
                           "goes backwards", text, lo, hi);
                return -EINVAL;
            }
        }
        if (hi >= n_conf) {
            errbuf_set(err, "bad CPU list \"%.40s\": no CPU %ld (this host "
                       "has %ld)", text, hi, n_conf);
            return -EINVAL;
        }
        for (long c = lo; c <= hi && *n < DP_PMD_MAX; c++) {
            cpus[(*n)++] = (int) c;
        }
        if (!*p) {
            return 0;
        }
        if (*p != ',') {
            errbuf_set(err, "bad CPU list \"%.40s\": unexpected '%c'", text,
                       *p);
            return -EINVAL;
        }
        p++;
    }
}

/* ---- The API. ---- */

struct pmd_set *
pmd_set_create(struct datapath *dp)
{
    struct pmd_set *set = calloc(1, sizeof *set);

    if (!set) {
        return NULL;
    }
    set->dp = dp;
    wmutex_init(&set->mutex);
    atomic_init(&set->idle_us, PMD_DEFAULT_IDLE_US);
    atomic_init(&set->round, 0);
    for (uint32_t i = 0; i < DP_PMD_MAX; i++) {
        atomic_init(&set->seen[i], UINT64_MAX);
    }
    if (sched_getaffinity(0, sizeof set->unpinned, &set->unpinned)) {
        CPU_ZERO(&set->unpinned);
    }
    return set;
}

void
pmd_set_destroy(struct pmd_set *set)
{
    if (!set) {
        return;
    }
    wmutex_lock(&set->mutex);
    pmd_stop_locked(set, 0, false);
    free(set->rxqs);
    set->rxqs = NULL;
    set->n_rxqs = 0;
    wmutex_unlock(&set->mutex);
    wmutex_destroy(&set->mutex);
    free(set);
}

void
pmd_set_ports_changed(struct pmd_set *set)
{
    wmutex_lock(&set->mutex);
    /* -ENOMEM leaves the threads without queues: nothing else to do. */
    refresh_locked(set, NULL);
    wmutex_unlock(&set->mutex);
}

int
dp_pmd_configure(struct datapath *dp, const struct dp_pmd_config *cfg,
                 struct errbuf *err)
{
    struct pmd_set *set = dp_pmds(dp);
    int cpus[DP_PMD_MAX];
    uint32_t n_cpus = 0, old_n, n = cfg->n_threads;
    int error = 0;

    if (n > DP_PMD_MAX) {
        errbuf_set(err, "%u PMD threads requested, at most %d", n,
                   DP_PMD_MAX);
        return -EINVAL;
    }
    if (cfg->cpus && cfg->cpus[0]) {
        error = parse_cpus(cfg->cpus, cpus, &n_cpus, err);
        if (error) {
            return error;
        }
    }

    wmutex_lock(&set->mutex);
    old_n = set->n_pmds;
    pmd_stop_locked(set, n, true);
    for (uint32_t i = old_n; i < n; i++) {
        error = pmd_start_locked(set, i, n_cpus ? cpus[i % n_cpus] : -1,
                                 err);
        if (error) {
            /* Back to the threads there were. */
            pmd_stop_locked(set, old_n, true);
            goto out;
        }
    }
    for (uint32_t i = 0; i < old_n && i < n; i++) {
        int e = pmd_repin_locked(set, set->pmds[i],
                                 n_cpus ? cpus[i % n_cpus] : -1,
                                 error ? NULL : err);

        error = error ? error : e;
    }
    memcpy(set->cpus, cpus, n_cpus * sizeof cpus[0]);
    set->n_cpus = n_cpus;
    atomic_store_explicit(&set->idle_us,
                          cfg->idle_us ? cfg->idle_us : PMD_DEFAULT_IDLE_US,
                          memory_order_relaxed);
    if (refresh_locked(set, NULL) && !error) {
        errbuf_set(err, "out of memory: the PMD threads poll no queue");
        error = -ENOMEM;
    }
out:
    wmutex_unlock(&set->mutex);
    return error;
}

int
dp_pmd_rxq_assign(struct datapath *dp, uint32_t port_no, uint32_t qid,
                  uint32_t pmd_id, struct errbuf *err)
{
    struct pmd_set *set = dp_pmds(dp);
    struct pmd_pin pin = {
        .port_no = port_no, .qid = qid, .pmd_id = (int) pmd_id,
    };
    struct port *port;
    int error = 0;

    wmutex_lock(&set->mutex);
    port = dp_port_get(dp, port_no);
    if (pmd_id >= set->n_pmds) {
        errbuf_set(err, "no PMD thread %u (%u running)", pmd_id,
                   set->n_pmds);
        error = -EINVAL;
    } else if (!port || qid >= port->n_rxq) {
        errbuf_set(err, port ? "port %u has no receive queue %u"
                             : "no port %u", port_no, qid);
        error = -ENOENT;
    } else if (refresh_locked(set, &pin)) {
        errbuf_set(err, "out of memory: the PMD threads poll no queue");
        error = -ENOMEM;
    } else if (!pin.applied) {
        /* Deleted meanwhile. */
        errbuf_set(err, "no port %u", port_no);
        error = -ENOENT;
    } else {
        pmd_wait_round_locked(set);
    }
    wmutex_unlock(&set->mutex);
    return error;
}

size_t
dp_pmd_get_stats(struct datapath *dp, struct dp_pmd_stats *stats,
                 size_t max)
{
    struct pmd_set *set = dp_pmds(dp);
    size_t n;

    wmutex_lock(&set->mutex);
    n = set->n_pmds;
    for (size_t i = 0; i < n && i < max; i++) {
        const struct pmd *pmd = set->pmds[i];
        const struct pmd_counters *c = &pmd->c;
        struct dp_pmd_stats *s = &stats[i];
        uint64_t since, again;

        memset(s, 0, sizeof *s);
        s->id = pmd->id;
        s->cpu = pmd->cpu;
        for (size_t k = 0; k < set->n_rxqs; k++) {
            s->n_rxq += set->rxqs[k].owner == (int) pmd->id;
        }
        s->packets = atomic_load_explicit(&c->packets, memory_order_relaxed);
        s->batches = atomic_load_explicit(&c->batches, memory_order_relaxed);
        s->busy_ns = atomic_load_explicit(&c->busy_ns, memory_order_relaxed);
        s->idle_ns = atomic_load_explicit(&c->idle_ns, memory_order_relaxed);
        s->wakeups = atomic_load_explicit(&c->wakeups, memory_order_relaxed);
        /* A sleep in progress counts: retry until 'sleep_ns' was read
         * within one sleep (or one awake spell) of the thread. */
        do {
            since = atomic_load_explicit(&c->asleep_since,
                                         memory_order_acquire);
            s->sleep_ns = atomic_load_explicit(&c->sleep_ns,
                                               memory_order_acquire);
            again = atomic_load_explicit(&c->asleep_since,
                                         memory_order_acquire);
        } while (since != again);
        if (since) {
            uint64_t now = now_ns();

            s->sleep_ns += now > since ? now - since : 0;
        }
    }
    wmutex_unlock(&set->mutex);
    return n;
}

int
dp_pmd_rxq_owner(struct datapath *dp, uint32_t port_no, uint32_t qid)
{
    struct pmd_set *set = dp_pmds(dp);
    int owner = -ENOENT;

    wmutex_lock(&set->mutex);
    for (size_t i = 0; i < set->n_rxqs; i++) {
        const struct pmd_rxq *e = &set->rxqs[i];

        if (e->port_no == port_no && e->qid == qid) {
            owner = e->owner != PMD_NONE ? e->owner : -ENOENT;
            break;
        }
    }
    wmutex_unlock(&set->mutex);
    return owner;
}
