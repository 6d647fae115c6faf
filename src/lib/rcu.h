/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEIR_LIB_RCU_H
#define WEIR_LIB_RCU_H 1

/* Read-copy-update for weir: liburcu's QSBR flavour, plus what TSan needs.
 *
 * What
 * ====
 *
 * Readers of shared tables (flow lookups, dumps, port lookups) take no
 * locks.  A writer that unlinks an object frees it only after every
 * reader thread has passed a quiescent state, that is, a point where it
 * holds no pointer into shared data.  liburcu's QSBR flavour provides the
 * grace periods; these wrappers add the two rules weir relies on and
 * annotations that let ThreadSanitizer see the ordering that liburcu's
 * (uninstrumented) futex and barrier code provides.
 *
 * Design
 * ======
 *
 *   - Every thread that reads RCU-protected data calls qsbr_register()
 *     once and qsbr_unregister() before it exits.  A registered thread is
 *     "online": it must call qsbr_quiesce() regularly (a PMD after every
 *     batch, a handler after every request), and it must go offline
 *     (qsbr_offline()) before it blocks, or grace periods stall.
 *   - Between two quiescent states a registered thread may hold pointers
 *     it read from shared structures; nothing it can reach is freed.
 *   - Writers publish with release stores and readers load with acquire
 *     loads (C11 atomics at each site, commented); qsbr_defer() frees
 *     unlinked objects after a grace period; qsbr_synchronize() waits for
 *     one (it takes the caller offline while it waits, so a registered
 *     thread may call it).
 *
 * liburcu is used through its function-call API (no _LGPL_SOURCE): the
 * calls are once per batch, not per packet, and the library's internal
 * atomics then stay outside TSan's view.  For TSan, a quiescent state is a
 * release on one global sync object and the start of a deferred callback
 * (or the return of qsbr_synchronize()) an acquire on it; that is exactly
 * the happens-before edge a grace period guarantees.
 *
 * Thread-safety
 * =============
 *
 * Every function is for the calling thread, except qsbr_defer() and
 * qsbr_barrier(), which any thread may call.
 *
 * Ownership
 * =========
 *
 * qsbr_defer() takes the object; its callback frees it.
 */

#include <stddef.h>

#include <urcu-qsbr.h>
#include <urcu/rculist.h>

/* Makes the calling thread an RCU reader, online.  Call once per thread. */
void qsbr_register(void);

/* Ends the calling thread's reader role.  Call before the thread exits. */
void qsbr_unregister(void);

/* Reports a quiescent state: the calling (registered, online) thread holds
 * no pointer into RCU-protected data. */
void qsbr_quiesce(void);

/* Takes the calling registered thread offline (before blocking) and back
 * online.  Offline, it may not read RCU-protected data. */
void qsbr_offline(void);
void qsbr_online(void);

/* Waits for a grace period: every object unlinked before the call may be
 * freed when it returns.
 * Context: any thread; a registered one goes offline while waiting, so it
 * must hold no RCU-protected pointer across the call. */
void qsbr_synchronize(void);

/* Embedded in an object that is freed after a grace period. */
struct qsbr_head {
    struct rcu_head rh;                 /* liburcu's. */
    void (*fn)(struct qsbr_head *);     /* Set by qsbr_defer(). */
};

/* Calls 'fn(head)' after a grace period, from liburcu's call_rcu thread.
 * 'head' is embedded in the object to free; recover the object with
 * container_of-style pointer arithmetic (QSBR_OBJ).
 * Context: any thread. */
void qsbr_defer(struct qsbr_head *head, void (*fn)(struct qsbr_head *));

/* The object of type TYPE whose member MEMBER is the qsbr_head 'h'. */
#define QSBR_OBJ(h, TYPE, MEMBER) \
    ((TYPE *) (void *) ((char *) (h) - offsetof(TYPE, MEMBER)))

/* Waits until every callback deferred before the call has run (for
 * teardown and tests).
 * Context: a thread that is not registered, or that is offline. */
void qsbr_barrier(void);

#endif /* lib/rcu.h */
