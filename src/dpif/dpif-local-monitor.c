/* SPDX-License-Identifier: Apache-2.0 */
/* dpif provider "local": event monitors (dpif_monitor_*() of
 * include/weir/dpif.h) over the changes made through any dpif of the
 * process.
 *
 * The provider's other files report each change as it happens
 * (dpif-local-private.h): they make an event, a reference-counted copy of
 * everything it says (the port, or the flow's key, mask and actions in
 * netlink attributes, as weird's notification would carry them), and
 * emit it.  Emitting queues a reference on every monitor of the process.
 * A monitor's queue holds LOCAL_MONITOR_MAX events; when it is full,
 * the monitor is "congested", as weird's connections are: it takes no
 * event at all until its reader has drained the queue and taken the
 * DPIF_EV_LOST that marks the place of the first event it missed.  An
 * eventfd is readable while the queue has something to report.
 *
 * Thread-safety: one mutex, 'monitors_mutex', guards the list of
 * monitors and their queues.  It is the last lock of the provider's
 * order: emitters hold their datapath's locks when they take it (so
 * that a datapath's events are queued in the order of its changes), and
 * nothing is taken under it.  It is taken offline (an emitter goes
 * offline first; a monitor's own calls bracket themselves with
 * dpif_local_call_begin() / _end()).  The event a reader was last given
 * ('cur') is its own, outside the mutex; references are atomic. */

#include "dpif/dpif-local-private.h"

#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "lib/mutex.h"

struct dpif_local_event {
    atomic_uint refs;
    struct dpif_event ev;           /* The flow points into 'data'. */
    uint8_t data[];                 /* Key, mask, actions (8-aligned). */
};

struct local_monitor {
    struct dpif_monitor up;
    struct local_monitor *next;     /* In 'monitors'. */

    /* Under 'monitors_mutex'. */
    struct dpif_local_event *ring[LOCAL_MONITOR_MAX];
    unsigned int head, n;
    bool congested;                 /* Missed events: LOST after 'ring'. */

    int fd;                         /* eventfd: readable while 'n' or
                                     * 'congested'. */
    struct dpif_local_event *cur;   /* Returned last (the reader's). */
};

static struct wmutex monitors_mutex = { PTHREAD_MUTEX_INITIALIZER };
static struct local_monitor *monitors;      /* Under 'monitors_mutex'. */
static atomic_uint n_monitors;              /* The length of 'monitors'. */

static struct local_monitor *
local_monitor_cast(const struct dpif_monitor *mon)
{
    return (struct local_monitor *) mon;
}

/* ---- Events. ---- */

bool
dpif_local_monitored(void)
{
    /* Relaxed: a hint, and what it guards is taken under the mutex. */
    return atomic_load_explicit(&n_monitors, memory_order_relaxed) != 0;
}

static size_t
event_room(size_t len)
{
    return (len + 7) & ~(size_t) 7;
}

/* Copies 'len' bytes at 'p' (NULL: absent, which stays NULL; a present
 * empty part gets a pointer all the same) to '*at', advancing it. */
static const void *
event_copy(uint8_t **at, const void *p, size_t len)
{
    uint8_t *dst = *at;

    if (!p) {
        return NULL;
    }
    if (len) {
        memcpy(dst, p, len);
    }
    *at += event_room(len);
    return dst;
}

struct dpif_local_event *
dpif_local_event_new(enum dpif_event_kind kind, enum dpif_event_op op,
                     const char *dp_name, const struct dpif_port *port,
                     const struct dpif_flow *flow)
{
    size_t size = 0;
    struct dpif_local_event *e;

    if (flow) {
        size = event_room(flow->key_len) + event_room(flow->mask_len)
               + event_room(flow->actions_len);
    }
    e = malloc(sizeof *e + size);
    if (!e) {
        return NULL;
    }
    atomic_init(&e->refs, 1);
    memset(&e->ev, 0, sizeof e->ev);
    e->ev.kind = kind;
    e->ev.op = op;
    snprintf(e->ev.dp_name, sizeof e->ev.dp_name, "%s", dp_name);
    if (port) {
        e->ev.port = *port;
    }
    if (flow) {
        uint8_t *at = e->data;

        e->ev.flow = *flow;
        e->ev.flow.key = event_copy(&at, flow->key, flow->key_len);
        e->ev.flow.mask = event_copy(&at, flow->mask, flow->mask_len);
        e->ev.flow.actions = event_copy(&at, flow->actions,
                                        flow->actions_len);
    }
    return e;
}

static void
event_unref(struct dpif_local_event *e)
{
    /* Release-acquire: whoever frees it sees every other holder done
     * with it. */
    if (e && atomic_fetch_sub_explicit(&e->refs, 1,
                                       memory_order_acq_rel) == 1) {
        free(e);
    }
}

/* Makes 'm''s eventfd readable.  Context: 'monitors_mutex' held. */
static void
monitor_signal(struct local_monitor *m) WEIR_REQUIRES(monitors_mutex)
{
    uint64_t one = 1;

    if (write(m->fd, &one, sizeof one) < 0) {
        /* Cannot fail: the counter is reset whenever the queue empties,
         * far below its limit. */
    }
}

void
dpif_local_emit(struct dpif_local_event *ev)
{
    wmutex_lock(&monitors_mutex);
    for (struct local_monitor *m = monitors; m; m = m->next) {
        bool was_empty = !m->n && !m->congested;

        if (!ev || m->congested || m->n == LOCAL_MONITOR_MAX) {
            m->congested = true;
        } else {
            atomic_fetch_add_explicit(&ev->refs, 1, memory_order_relaxed);
            m->ring[(m->head + m->n++) % LOCAL_MONITOR_MAX] = ev;
        }
        if (was_empty) {
            monitor_signal(m);
        }
    }
    wmutex_unlock(&monitors_mutex);
    event_unref(ev);
}

void
dpif_local_emit_dp(enum dpif_event_op op, const char *dp_name)
{
    if (dpif_local_monitored()) {
        dpif_local_emit(dpif_local_event_new(DPIF_EV_DP, op, dp_name, NULL,
                                             NULL));
    }
}

void
dpif_local_emit_port(enum dpif_event_op op, const char *dp_name,
                     const struct dpif_port *port)
{
    if (dpif_local_monitored()) {
        dpif_local_emit(dpif_local_event_new(DPIF_EV_PORT, op, dp_name, port,
                                             NULL));
    }
}

/* ---- Monitors. ---- */

int
dpif_local_monitor_create(const struct dpif_class *cls,
                          struct dpif_monitor **monp)
{
    struct local_monitor *m = calloc(1, sizeof *m);
    struct local_call c;

    (void) cls;
    if (!m) {
        dpif_set_error("out of memory");
        return -ENOMEM;
    }
    m->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (m->fd < 0) {
        int error = -errno;

        dpif_set_error("monitor: eventfd: %s", strerror(-error));
        free(m);
        return error;
    }
    dpif_local_call_begin(&c);
    wmutex_lock(&monitors_mutex);
    m->next = monitors;
    monitors = m;
    atomic_fetch_add_explicit(&n_monitors, 1, memory_order_relaxed);
    wmutex_unlock(&monitors_mutex);
    dpif_local_call_end(&c);
    *monp = &m->up;
    return 0;
}

/* Takes the next item of 'm''s queue: 1 and '*evp' for an event, 2 for
 * the loss, 0 if there is nothing.  Context: 'monitors_mutex' held. */
static int
monitor_take(struct local_monitor *m, struct dpif_local_event **evp)
    WEIR_REQUIRES(monitors_mutex)
{
    int r = 0;

    if (m->n) {
        *evp = m->ring[m->head];
        m->head = (m->head + 1) % LOCAL_MONITOR_MAX;
        m->n--;
        r = 1;
    } else if (m->congested) {
        m->congested = false;
        r = 2;
    }
    if (!m->n && !m->congested) {
        uint64_t count;

        /* Nothing left to report: the fd stops being readable. */
        if (read(m->fd, &count, sizeof count) < 0) {
            /* EAGAIN: it was not. */
        }
    }
    return r;
}

int
dpif_local_monitor_next(struct dpif_monitor *mon, struct dpif_event *ev,
                        int timeout_ms)
{
    struct local_monitor *m = local_monitor_cast(mon);
    int64_t deadline = timeout_ms > 0 ? dpif_local_now_ms() + timeout_ms
                                      : 0;
    struct local_call c;
    int r;

    event_unref(m->cur);
    m->cur = NULL;
    /* Offline throughout: the call may block, and reads no RCU data. */
    dpif_local_call_begin(&c);
    for (;;) {
        struct dpif_local_event *e = NULL;
        struct pollfd pfd = { .fd = m->fd, .events = POLLIN };
        int wait = -1;

        wmutex_lock(&monitors_mutex);
        r = monitor_take(m, &e);
        wmutex_unlock(&monitors_mutex);
        if (r == 1) {
            *ev = e->ev;
            m->cur = e;
            r = 0;
            break;
        }
        if (r == 2) {
            ev->kind = DPIF_EV_LOST;
            r = 0;
            break;
        }
        r = -EAGAIN;
        if (!timeout_ms) {
            break;
        }
        if (timeout_ms > 0) {
            int64_t left = deadline - dpif_local_now_ms();

            if (left <= 0) {
                break;
            }
            wait = left < INT32_MAX ? (int) left : INT32_MAX;
        }
        if (poll(&pfd, 1, wait) < 0) {
            /* A signal ends the wait, as dpif.h says. */
            r = errno == EINTR ? -EAGAIN : -errno;
            break;
        }
    }
    dpif_local_call_end(&c);
    return r;
}

int
dpif_local_monitor_fd(const struct dpif_monitor *mon)
{
    return local_monitor_cast(mon)->fd;
}

void
dpif_local_monitor_destroy(struct dpif_monitor *mon)
{
    struct local_monitor *m = local_monitor_cast(mon);
    struct local_call c;

    dpif_local_call_begin(&c);
    wmutex_lock(&monitors_mutex);
    for (struct local_monitor **p = &monitors; *p; p = &(*p)->next) {
        if (*p == m) {
            *p = m->next;
            break;
        }
    }
    atomic_fetch_sub_explicit(&n_monitors, 1, memory_order_relaxed);
    wmutex_unlock(&monitors_mutex);
    dpif_local_call_end(&c);
    /* Out of the list: no emitter reaches it any more. */
    for (unsigned int i = 0; i < m->n; i++) {
        event_unref(m->ring[(m->head + i) % LOCAL_MONITOR_MAX]);
    }
    event_unref(m->cur);
    close(m->fd);
    free(m);
}
