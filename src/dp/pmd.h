/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEIR_DP_PMD_H
#define WEIR_DP_PMD_H 1

/* PMD threads: the threads that poll a datapath's ports.
 *
 * What
 * ====
 *
 * A datapath runs 0 or more polling ("PMD") threads.  Every receive queue
 * of every port is assigned to one of them; each thread loops over its
 * queues, receives a batch of up to PKT_BATCH_MAX packets from each,
 * runs it through the datapath (dp_input(): lookup, actions, upcalls;
 * outputs are sent in batches per port at the end of each batch) and
 * reports an RCU quiescent state once per loop.  Nothing on that path
 * blocks or allocates per packet.
 *
 * Queues are spread over the threads when ports come and go (a new queue
 * goes to the thread with the fewest); dp_pmd_rxq_assign() pins one to a
 * thread.  Threads can be pinned to CPUs ('cpus').
 *
 * A thread that has received nothing for 'idle_us' microseconds goes
 * offline (RCU) and blocks in poll() on its queues' fds (port_rx_fd())
 * and a wake-up eventfd, with a timeout when some queue has no fd; so an
 * idle datapath does not burn a core.  Each thread counts the time it
 * spent in loops that moved packets (busy), in loops that did not (idle)
 * and blocked (sleep).
 *
 * Thread-safety
 * =============
 *
 * The thread set has a mutex of its own for configuration, taken by
 * dp_pmd_configure(), dp_pmd_rxq_assign() and (inside the datapath's
 * writer mutex: lock order dp, then pmd) pmd_set_ports_changed().  Poll
 * lists are published with RCU, so PMD threads never wait for the control
 * path.  dp_pmd_get_stats() may run on any thread.
 */

#include <stddef.h>
#include <stdint.h>

struct datapath;
struct errbuf;

#define DP_PMD_MAX 64

struct dp_pmd_config {
    uint32_t n_threads;         /* 0: stop polling. */
    const char *cpus;           /* CPU list "0,2-3": thread i is pinned to
                                 * the i-th CPU of the list (modulo its
                                 * length); NULL or "": not pinned. */
    uint32_t idle_us;           /* Poll this long without packets before
                                 * blocking; 0: default (200 us). */
};

/* Starts or stops threads to match 'cfg' and spreads the receive queues
 * over them.  Existing pins to threads that remain are kept.
 * Returns: 0; -EINVAL (more than DP_PMD_MAX threads, bad CPU list, more
 * threads than the datapath's max_threads allows); -ENOMEM, or a
 * pthread error; the reason is in 'err'.  A bad configuration changes
 * nothing; failing to re-pin a running thread returns the error with the
 * rest of the configuration applied.
 * Context: an RCU reader thread (stopping a thread waits for a grace
 * period, offline). */
int dp_pmd_configure(struct datapath *dp, const struct dp_pmd_config *cfg,
                     struct errbuf *err);

/* Pins receive queue 'qid' of port 'port_no' to thread 'pmd_id', and
 * waits until the old owner has let go of it: after it returns only the
 * new owner receives from the queue.  A pin lasts until its thread stops
 * or its queue goes away.
 * Returns: 0; -ENOENT (no such port or queue); -EINVAL (no such thread). */
int dp_pmd_rxq_assign(struct datapath *dp, uint32_t port_no, uint32_t qid,
                      uint32_t pmd_id, struct errbuf *err);

struct dp_pmd_stats {
    uint32_t id;
    int cpu;                    /* Pinned CPU, or -1. */
    uint32_t n_rxq;             /* Queues it polls. */
    uint64_t packets;           /* Received. */
    uint64_t batches;           /* Non-empty receives. */
    uint64_t busy_ns;           /* In loops that received packets. */
    uint64_t idle_ns;           /* In loops that received none. */
    uint64_t sleep_ns;          /* Blocked in poll(). */
    uint64_t wakeups;           /* Returns from blocking. */
};

/* Fills up to 'max' entries of 'stats', one per running thread (a
 * stopped thread's counters go with it).
 * Returns: the number of threads. */
size_t dp_pmd_get_stats(struct datapath *dp, struct dp_pmd_stats *stats,
                        size_t max);

/* Which thread polls queue 'qid' of port 'port_no'.
 * Returns: the thread id, or -ENOENT. */
int dp_pmd_rxq_owner(struct datapath *dp, uint32_t port_no, uint32_t qid);

/* ---- For dp.c. ---- */

struct pmd_set;

/* The datapath's thread set (dp.c). */
struct pmd_set *dp_pmds(struct datapath *dp);

struct pmd_set *pmd_set_create(struct datapath *dp);

/* Stops every thread and frees 'set'.  Context: not an online RCU
 * reader. */
void pmd_set_destroy(struct pmd_set *set);

/* Re-reads the datapath's ports and republishes the poll lists: called
 * by dp.c after a port was added (after publishing it) or before a
 * deleted port is closed (after unpublishing it; the grace period that
 * precedes the close covers the old poll lists).
 * Context: the datapath's writer mutex held. */
void pmd_set_ports_changed(struct pmd_set *set);

#endif /* dp/pmd.h */
