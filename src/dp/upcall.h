/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEIR_DP_UPCALL_H
#define WEIR_DP_UPCALL_H 1

/* Upcall queues: how "miss" and "action" upcalls reach the threads that
 * read them (seed 001 "Upcalls", "Upcall Queuing and Ordering").
 *
 * What
 * ====
 *
 * A channel is a receive endpoint named by a 32-bit PID, what a Netlink
 * socket is to the kernel module: every upcall carries a PID (the PID of
 * its port, chosen by a stable hash of the flow when the port has several,
 * or the PID of its PMD thread in per-CPU dispatch, or the PID named by a
 * userspace() action, unless per-CPU dispatch is on and no channel has
 * it: then its thread's per-CPU PID) and goes to the channel with that
 * PID.  An upcall
 * for a PID no channel has is lost (counted, like the kernel's
 * -ECONNREFUSED).
 *
 * Inside a channel every ingress port has its own bounded FIFO, so one
 * port flooding new flows cannot push out another port's upcalls; the
 * reader takes one upcall from each non-empty port queue in turn (round
 * robin).  "Miss" and "action" upcalls of one port to one channel share
 * that port's FIFO, so they come out in the order their packets arrived.
 * When a port's FIFO is full the new upcall is dropped and counted in the
 * datapath's n_lost; nothing already queued is lost.
 *
 * Two ways to read:
 *
 *   - By channel (upcall_channel_*): for a protocol layer that owns PIDs
 *     (the generic-netlink server gives each socket's PID a channel).
 *   - By handler id (dp_handlers_set(), dp_recv(), dp_recv_wait(),
 *     dp_recv_purge(): the dpif_recv() model of seed 001): the datapath
 *     makes 'n' channels, one per handler thread, gives every port all
 *     their PIDs (per-vport dispatch) or, with
 *     OVS_DP_F_DISPATCH_UPCALL_PER_CPU in the user features, makes them
 *     the per-CPU PIDs (one per PMD thread).  Handler 0 also reads the
 *     special channel (dp_special_pid()), in turn with its own; no port
 *     uses it: for userspace() actions whose packets must not be lost to
 *     port floods.
 *
 * Thread-safety
 * =============
 *
 * Each channel has a mutex, taken once per upcall by the thread that
 * queues it and once per upcall read.  Any thread may queue; one thread
 * at a time should read a channel (several may; each upcall goes to one).
 * Channels are found by PID through an RCU-protected table: queuing
 * threads are RCU readers.
 *
 * Ownership
 * =========
 *
 * A queued upcall belongs to its channel until read; the reader frees it
 * with dp_upcall_free().  Closing a channel frees what it holds.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct datapath;
struct dp_upcall;
struct errbuf;
struct upcall_channel;
struct upcall_reg;

#define UPCALL_DEFAULT_QUEUE_LEN 512    /* Per port, per channel. */

/* ---- The registry, owned by the datapath (dp.c). ---- */

struct upcall_reg *upcall_reg_create(void);

/* Frees 'reg' with every channel still open (their owners must be done
 * with them).  Context: no thread queues any more. */
void upcall_reg_destroy(struct upcall_reg *reg);

/* Queues 'u' on the channel with PID u->pid, in the FIFO of port
 * u->packet->md.in_port.  Takes ownership of 'u' whatever happens.
 * Returns: 0; -ECONNREFUSED (no channel has that PID); -ENOBUFS (that
 * FIFO is full).  Context: RCU reader.  Never blocks (but for the
 * channel's mutex). */
int upcall_deliver(struct upcall_reg *reg, struct dp_upcall *u);

/* Whether a channel has PID 'pid' now (it may close right after).
 * Context: RCU reader. */
bool upcall_reg_has_pid(struct upcall_reg *reg, uint32_t pid);

/* Sets the length of each port FIFO of channels opened afterwards
 * (0: UPCALL_DEFAULT_QUEUE_LEN). */
void upcall_reg_set_queue_len(struct upcall_reg *reg, uint32_t len);

/* ---- Channels. ---- */

/* Opens a channel with PID 'pid', or with a free PID chosen by the
 * registry if 'pid' is 0.
 * Returns: 0 and '*chp'; -EADDRINUSE (a channel has 'pid'); -ENOMEM. */
int upcall_channel_open(struct upcall_reg *reg, uint32_t pid,
                        struct upcall_channel **chp, struct errbuf *err);

/* Closes 'ch' (NULL is a no-op) and frees the upcalls it holds; later
 * upcalls for its PID are lost.  Waits for a grace period.
 * Context: not an online RCU reader (or one: qsbr_synchronize() takes it
 * offline while waiting). */
void upcall_channel_close(struct upcall_channel *ch);

uint32_t upcall_channel_pid(const struct upcall_channel *ch);

/* Takes the next upcall, round robin across the ports with queued ones.
 * Returns: 0 and '*up'; -EAGAIN if the channel is empty. */
int upcall_channel_recv(struct upcall_channel *ch, struct dp_upcall **up);

/* Waits until 'ch' holds an upcall or 'timeout_ms' pass (-1: forever).
 * Returns: 0 (something queued), -ETIMEDOUT.  Context: not an online RCU
 * reader (qsbr_offline() first). */
int upcall_channel_wait(struct upcall_channel *ch, int timeout_ms);

/* Returns an fd that poll() reports readable while 'ch' holds upcalls
 * (for event loops). */
int upcall_channel_fd(const struct upcall_channel *ch);

/* Frees every upcall queued on 'ch'; returns how many. */
size_t upcall_channel_purge(struct upcall_channel *ch);

struct upcall_channel_stats {
    uint64_t queued;            /* Upcalls accepted. */
    uint64_t read;              /* Upcalls taken by recv. */
    uint64_t overflow;          /* Refused: port FIFO full. */
    uint64_t purged;            /* Freed by purge or close. */
    uint32_t pending;           /* In the channel now. */
};

void upcall_channel_get_stats(const struct upcall_channel *ch,
                              struct upcall_channel_stats *stats);

#endif /* dp/upcall.h */
