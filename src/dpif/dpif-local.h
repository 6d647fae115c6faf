/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEIR_DPIF_DPIF_LOCAL_H
#define WEIR_DPIF_DPIF_LOCAL_H 1

/* The "local" dpif provider: datapaths in this process.
 *
 * What
 * ====
 *
 * dpif_local_class (dpif/dpif-provider.h) runs include/weir/dpif.h over
 * the datapath engine (dp/dp.h) in the calling process.  A datapath is
 * created by the first dpif_open(create) of its name and shared by every
 * later open of that name in the process; dpif_close() leaves it, and
 * dpif_delete() destroys it (its ports, flows, threads).  Each datapath
 * has one polling (PMD) thread and a local port, a TAP device named after
 * it; tests without root make that a "dummy" port with
 * dpif_local_set_local_type() below, the one knob this header adds.
 *
 * Design
 * ======
 *
 * A process-wide registry maps names to datapaths.  Each datapath has a
 * reader/writer lock: every dpif call holds it for reading while it uses
 * the datapath; dpif_delete(), dpif_handlers_set() and dpif_close() hold
 * it for writing, so a datapath (or a dpif's set of upcall handlers)
 * never goes away under a call on another thread, and calls on a deleted
 * datapath fail with -ENODEV.  dpif_recv_wait() waits in slices of at
 * most 100 ms, so none of them waits long for it.
 *
 * Upcall handlers belong to the dpif, as the netlink provider's do (each
 * handler is an upcall channel of the datapath with a PID of its own;
 * dpif-local-upcall.c says more): another dpif of the datapath has none
 * until it sets its own, and the misses go to the handlers of the dpif
 * that set them last.
 *
 * The datapath API wants its callers to be RCU readers.  A thread that
 * calls this provider is registered on its first call (and unregistered
 * when it exits, through a thread-specific-data destructor) and is online
 * only inside a call: it goes offline before it returns, so a client
 * thread that blocks or goes away never holds up grace periods.  A thread
 * that is already an online RCU reader (weird's own threads) stays one:
 * it goes offline while the call waits for a lock, and is online again
 * when the call returns.  A thread registered by someone else and offline
 * when it calls is not supported (it would be registered twice).
 *
 * Flow keys and masks are decoded with the codec's kernel rules
 * (codec/fkey-nl.h), and every errno is the one the netlink provider gets
 * from weird for the same request, so the two providers pass one
 * conformance suite (tests/unit/test-dpif.c).  What the netlink
 * provider's requests set, this provider sets too: a new datapath has the
 * user features OVS_DP_F_UNALIGNED and OVS_DP_F_VPORT_PIDS, and
 * dpif_handlers_set() turns OVS_DP_F_DISPATCH_UPCALL_PER_CPU on (off with
 * no handlers).  One difference remains: flow statistics keep all 12 TCP
 * flag bits (the kernel's wire format has 8).  dpif_execute() runs on
 * one of up to 4 dp_thread objects per datapath, taken from a pool (a
 * datapath has a fixed number of thread slots, so one per calling
 * thread would run out).  Port changes made through any dpif of a
 * datapath are queued, by name, on every dpif open on it, for
 * dpif_port_poll(); a queue that overflows reports -ENOBUFS once.
 *
 * A port's type and provider options, which the datapath engine does not
 * keep, are recorded when it is added (what the netlink provider gets
 * back from weird); dpif_port_set_options() answers -EOPNOTSUPP with
 * weird's words.  Monitors (dpif_monitor_create()) get the events of
 * every change made through any dpif of the process: each change makes
 * its event, shaped as weird's notification of the netlink provider's
 * request for the same change (a put is even carried out as those
 * requests are: NEW or SET, then the zeroing SET after the batch), and
 * queues it on every monitor, up to 1024 each (then DPIF_EV_LOST, as
 * dpif.h says).  dpif-local-private.h says how the provider's files
 * share the work.
 *
 * Thread-safety
 * =============
 *
 * As include/weir/dpif.h.  Lock order: a datapath's lock, then the
 * registry mutex, then a datapath's small mutexes (ports, port records,
 * port changes, execute pool), then the monitors' mutex; none is waited
 * for while online, except the port records' (held for a copy only).
 *
 * Ownership
 * =========
 *
 * The registry owns the datapaths; a dpif holds a reference that keeps
 * the datapath's record (not the datapath) alive after dpif_delete().
 */

/* Sets the port type of the local port of datapaths created from now on:
 * "tap" (the default, needs root), or "dummy" (tests).  NULL restores
 * the default.
 * Returns: 0; -EINVAL (a type name of 16 characters or more). */
int dpif_local_set_local_type(const char *type);

#endif /* dpif/dpif-local.h */
