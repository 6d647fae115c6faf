/* SPDX-License-Identifier: Apache-2.0 */
/* The dpif front end (include/weir/dpif.h): argument checks, provider
 * dispatch, the calling thread's last error, port dump objects, the
 * one-operation forms of dpif_operate(), and the text helpers over the
 * codec.
 *
 * Every public function checks what it can without the provider (NULL
 * pointers, name lengths, flag combinations, UFID lengths, packet
 * lengths), so that both providers see only well-formed calls and
 * reject the same mistakes with the same errno.  A failing call always
 * leaves a reason for dpif_last_error(): the provider's, if it set one
 * (dpif_set_error()), else the errno's text.  -EAGAIN ("nothing yet")
 * is a normal answer of dpif_port_poll() and dpif_recv(), not a
 * failure: it leaves the last error alone.
 *
 * fork(): a child inherits the parent's dpifs, but not what they stand
 * for (the netlink provider's connections are shared with the parent,
 * their sequence numbers cloned, so replies would cross; the local
 * provider's datapaths have no threads in the child).  A pthread_atfork()
 * handler counts the forks of the process; every object records the count
 * when it is made, and every call on an object made before the last fork
 * fails with -ECHILD (check_gen()).  Closing or destroying such an object
 * in the child releases nothing: its locks may have been held by a thread
 * that does not exist in the child. */

#include "weir/dpif.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "codec/actions-text.h"
#include "codec/fkey-text.h"
#include "codec/ufid.h"
#include "dpif/dpif-provider.h"
#include "lib/errbuf.h"
#include "lib/text.h"
#include "weir/control.h"

/* ---- Last error. ---- */

/* The calling thread's last failure.  dpif_last_error() is errno-like,
 * a per-thread answer by definition, hence thread-local storage rather
 * than state passed around.  'seq' counts dpif_set_error() calls, so a
 * public function can tell whether its provider gave a reason. */
static _Thread_local struct {
    char msg[ERRBUF_SIZE];
    unsigned long seq;
} last_error;

void
dpif_set_error(const char *fmt, ...)
{
    va_list args;

    va_start(args, fmt);
    vsnprintf(last_error.msg, sizeof last_error.msg, fmt, args);
    va_end(args);
    last_error.seq++;
}

const char *
dpif_last_error(void)
{
    return last_error.msg;
}

/* Marks the start of a public call: see error_end(). */
static unsigned long
error_begin(void)
{
    return last_error.seq;
}

/* Ends a public call that returns 'error': a failure with no reason set
 * since 'mark' gets the errno's text.  Returns 'error'. */
static int
error_end(unsigned long mark, int error)
{
    if (error < 0 && error != -EAGAIN && last_error.seq == mark) {
        dpif_set_error("%s", strerror(-error));
    }
    return error;
}

/* ---- fork(). ---- */

/* Forks of this process since it started (in the child: the parent's
 * count plus one). */
static atomic_uint fork_gen;
static pthread_once_t fork_once = PTHREAD_ONCE_INIT;

static void
fork_child(void)
{
    atomic_fetch_add_explicit(&fork_gen, 1, memory_order_relaxed);
}

static void
fork_init(void)
{
    /* Fails only without memory: then a child is not caught. */
    (void) pthread_atfork(NULL, NULL, fork_child);
}

/* The fork count for an object being made.  Registers the handler on the
 * first call: there is nothing to catch before the first object. */
static unsigned int
gen_now(void)
{
    pthread_once(&fork_once, fork_init);
    return atomic_load_explicit(&fork_gen, memory_order_relaxed);
}

/* Whether an object made at fork count 'gen' belongs to this process. */
static bool
gen_ok(unsigned int gen)
{
    return gen == atomic_load_explicit(&fork_gen, memory_order_relaxed);
}

/* Returns 0, or -ECHILD with the reason if an object ('what') made at
 * fork count 'gen' is used in a child. */
static int
check_gen(unsigned int gen, const char *what)
{
    if (!gen_ok(gen)) {
        dpif_set_error("this %s was made before fork(): a child process "
                       "cannot use it (open a new one)", what);
        return -ECHILD;
    }
    return 0;
}

/* ---- Providers and argument checks. ---- */

static const struct dpif_class *const dpif_classes[] = {
    &dpif_local_class,
    &dpif_netlink_class,
};

/* Returns the provider named 'type' (NULL: "netlink"), or NULL with the
 * reason set. */
static const struct dpif_class *
class_find(const char *type)
{
    if (!type) {
        type = "netlink";
    }
    for (size_t i = 0; i < sizeof dpif_classes / sizeof *dpif_classes;
         i++) {
        if (!strcmp(dpif_classes[i]->type, type)) {
            return dpif_classes[i];
        }
    }
    dpif_set_error("unknown dpif provider \"%.32s\" (known: local, netlink)",
                   type);
    return NULL;
}

/* Checks that 'name' (a datapath, port or port type name: 'what') has 1
 * to DPIF_NAME_MAX - 1 characters.  Returns 0 or -EINVAL. */
static int
check_name(const char *what, const char *name)
{
    size_t len;

    if (!name) {
        dpif_set_error("%s name missing", what);
        return -EINVAL;
    }
    len = strnlen(name, DPIF_NAME_MAX);
    if (!len || len >= DPIF_NAME_MAX) {
        dpif_set_error("%s name \"%.32s\" must be 1 to %d characters", what,
                       name, DPIF_NAME_MAX - 1);
        return -EINVAL;
    }
    return 0;
}

/* Checks provider options: NULL (if 'may_be_null') or a string shorter
 * than DPIF_OPTIONS_MAX.  Returns 0 or -EINVAL. */
static int
check_options(const char *options, bool may_be_null)
{
    if (!options) {
        if (may_be_null) {
            return 0;
        }
        dpif_set_error("no port options given");
        return -EINVAL;
    }
    if (strnlen(options, DPIF_OPTIONS_MAX) >= DPIF_OPTIONS_MAX) {
        dpif_set_error("port options of %d bytes or more", DPIF_OPTIONS_MAX);
        return -EINVAL;
    }
    return 0;
}

/* Returns -EINVAL (with the reason set) if 'dpif' is NULL, -ECHILD if it
 * was opened before a fork() (this is the child), else 0. */
static int
check_dpif(const struct dpif *dpif)
{
    if (!dpif) {
        dpif_set_error("no dpif given");
        return -EINVAL;
    }
    return check_gen(dpif->fork_gen, "dpif");
}

/* Checks a pointer/length pair: a length needs bytes. */
static int
check_bytes(const char *what, const void *p, size_t len)
{
    if (!p && len) {
        dpif_set_error("%s: %zu bytes at NULL", what, len);
        return -EINVAL;
    }
    return 0;
}

/* Returns true if 'ufid' names a flow (a UFID of length 1..16). */
static bool
ufid_given(const struct dpif_ufid *ufid)
{
    return ufid && ufid->len;
}

static int
check_ufid(const struct dpif_ufid *ufid)
{
    if (ufid && ufid->len > DPIF_UFID_LEN) {
        dpif_set_error("UFID of %u bytes: at most %d", ufid->len,
                       DPIF_UFID_LEN);
        return -EINVAL;
    }
    return 0;
}

/* ---- Control path. ---- */

/* Every path dpif_control_path() hands out is a copy kept for the life
 * of the process, one per distinct path: a caller may keep the pointer
 * while another thread sets another path (or changes the environment).
 * A program sets a handful of paths at most, so the list stays short. */
struct control_path {
    struct control_path *next;
    char path[];
};

static pthread_mutex_t control_mutex = PTHREAD_MUTEX_INITIALIZER;
static struct control_path *control_paths;  /* Under 'control_mutex'. */
static const char *control_path_set;        /* Same; NULL: not set. */

/* Returns the kept copy of 'path', making it if needed, or NULL if memory
 * ran out.  Context: 'control_mutex' held. */
static const char *
control_path_intern(const char *path)
{
    struct control_path *cp;
    size_t len = strlen(path);

    for (cp = control_paths; cp; cp = cp->next) {
        if (!strcmp(cp->path, path)) {
            return cp->path;
        }
    }
    cp = malloc(sizeof *cp + len + 1);
    if (!cp) {
        return NULL;
    }
    memcpy(cp->path, path, len + 1);
    cp->next = control_paths;
    control_paths = cp;
    return cp->path;
}

void
dpif_set_control_path(const char *path)
{
    pthread_mutex_lock(&control_mutex);
    if (path) {
        const char *kept = control_path_intern(path);

        /* Out of memory: "" connects nowhere (-ENOENT), rather than to a
         * path the caller did not ask for. */
        control_path_set = kept ? kept : "";
    } else {
        control_path_set = NULL;
    }
    pthread_mutex_unlock(&control_mutex);
}

const char *
dpif_control_path(void)
{
    const char *path;

    pthread_mutex_lock(&control_mutex);
    path = control_path_set;
    if (!path) {
        const char *env = getenv(WEIR_CONTROL_ENV);

        if (env && env[0]) {
            path = control_path_intern(env);
            if (!path) {
                path = env;     /* Out of memory: the best there is. */
            }
        } else {
            path = WEIR_CONTROL_DEFAULT;
        }
    }
    pthread_mutex_unlock(&control_mutex);
    return path;
}

/* ---- Datapaths. ---- */

int
dpif_open(const char *type, const char *name, bool create,
          struct dpif **dpifp)
{
    unsigned long mark = error_begin();
    const struct dpif_class *cls;
    unsigned int gen;
    int error;

    if (!dpifp) {
        dpif_set_error("no place for the dpif");
        return -EINVAL;
    }
    *dpifp = NULL;
    error = check_name("datapath", name);
    if (error) {
        return error;
    }
    cls = class_find(type);
    if (!cls) {
        return -EINVAL;
    }
    gen = gen_now();
    error = cls->open(cls, name, create, dpifp);
    if (error) {
        *dpifp = NULL;
    } else {
        (*dpifp)->cls = cls;
        (*dpifp)->fork_gen = gen;
        snprintf((*dpifp)->name, sizeof (*dpifp)->name, "%s", name);
    }
    return error_end(mark, error);
}

void
dpif_close(struct dpif *dpif)
{
    /* In a child, nothing: see the top of this file. */
    if (dpif && gen_ok(dpif->fork_gen)) {
        dpif->cls->close(dpif);
    }
}

int
dpif_delete(struct dpif *dpif)
{
    unsigned long mark = error_begin();
    int error = check_dpif(dpif);

    return error ? error : error_end(mark, dpif->cls->destroy(dpif));
}

const char *
dpif_name(const struct dpif *dpif)
{
    return dpif->name;
}

const char *
dpif_type(const struct dpif *dpif)
{
    return dpif->cls->type;
}

int
dpif_enumerate(const char *type, void (*cb)(const char *name, void *aux),
               void *aux)
{
    unsigned long mark = error_begin();
    const struct dpif_class *cls;

    if (!cb) {
        dpif_set_error("no callback given");
        return -EINVAL;
    }
    cls = class_find(type);
    if (!cls) {
        return -EINVAL;
    }
    return error_end(mark, cls->enumerate(cb, aux));
}

int
dpif_get_dp_stats(const struct dpif *dpif, struct dpif_dp_stats *stats)
{
    unsigned long mark = error_begin();
    int error = check_dpif(dpif);

    if (!error && !stats) {
        dpif_set_error("no place for the statistics");
        error = -EINVAL;
    }
    if (error) {
        return error;
    }
    memset(stats, 0, sizeof *stats);
    return error_end(mark, dpif->cls->get_stats(dpif, stats));
}

int
dpif_get_features(const struct dpif *dpif, uint32_t *features)
{
    unsigned long mark = error_begin();
    int error = check_dpif(dpif);

    if (!error && !features) {
        dpif_set_error("no place for the features");
        error = -EINVAL;
    }
    if (error) {
        return error;
    }
    *features = 0;
    return error_end(mark, dpif->cls->get_features(dpif, features));
}

int
dpif_set_features(struct dpif *dpif, uint32_t features)
{
    unsigned long mark = error_begin();
    int error = check_dpif(dpif);

    return error ? error
                 : error_end(mark, dpif->cls->set_features(dpif, features));
}

/* ---- Ports. ---- */

int
dpif_port_add(struct dpif *dpif, const char *name, const char *type,
              const char *options, uint32_t *port_no)
{
    unsigned long mark = error_begin();
    int error = check_dpif(dpif);

    if (!error) {
        error = check_name("port", name);
    }
    if (!error) {
        error = check_name("port type", type);
    }
    if (!error && !port_no) {
        dpif_set_error("no port number given");
        error = -EINVAL;
    }
    if (!error) {
        error = check_options(options, true);
    }
    if (error) {
        return error;
    }
    return error_end(mark, dpif->cls->port_add(dpif, name, type, options,
                                               port_no));
}

int
dpif_port_set_options(struct dpif *dpif, uint32_t port_no,
                      const char *options)
{
    unsigned long mark = error_begin();
    int error = check_dpif(dpif);

    if (!error) {
        error = check_options(options, false);
    }
    if (error) {
        return error;
    }
    return error_end(mark, dpif->cls->port_set_options(dpif, port_no,
                                                       options));
}

int
dpif_port_del(struct dpif *dpif, uint32_t port_no)
{
    unsigned long mark = error_begin();
    int error = check_dpif(dpif);

    return error ? error
                 : error_end(mark, dpif->cls->port_del(dpif, port_no));
}

int
dpif_port_query_by_number(const struct dpif *dpif, uint32_t port_no,
                          struct dpif_port *port)
{
    unsigned long mark = error_begin();
    int error = check_dpif(dpif);

    if (!error && !port) {
        dpif_set_error("no place for the port");
        error = -EINVAL;
    }
    if (error) {
        return error;
    }
    memset(port, 0, sizeof *port);
    return error_end(mark, dpif->cls->port_query(dpif, port_no, NULL,
                                                 port));
}

int
dpif_port_query_by_name(const struct dpif *dpif, const char *name,
                        struct dpif_port *port)
{
    unsigned long mark = error_begin();
    int error = check_dpif(dpif);

    if (!error) {
        error = check_name("port", name);
    }
    if (!error && !port) {
        dpif_set_error("no place for the port");
        error = -EINVAL;
    }
    if (error) {
        return error;
    }
    memset(port, 0, sizeof *port);
    return error_end(mark, dpif->cls->port_query(dpif, 0, name, port));
}

int
dpif_port_get_stats(const struct dpif *dpif, uint32_t port_no,
                    struct dpif_port_stats *stats)
{
    unsigned long mark = error_begin();
    int error = check_dpif(dpif);

    if (!error && !stats) {
        dpif_set_error("no place for the statistics");
        error = -EINVAL;
    }
    if (error) {
        return error;
    }
    memset(stats, 0, sizeof *stats);
    return error_end(mark, dpif->cls->port_get_stats(dpif, port_no, stats));
}

struct dpif_port_dump {
    const struct dpif *dpif;
    void *state;                /* The provider's, while 'started'. */
    bool started;
    bool done;
    int error;                  /* What ended the dump early, or 0. */
};

/* What dpif_port_dump_start() returns when it cannot allocate a dump: an
 * ended one, never written (dpif_port_dump_next() reads 'done' only) nor
 * freed. */
static struct dpif_port_dump port_dump_nomem = {
    .done = true,
    .error = -ENOMEM,
};

struct dpif_port_dump *
dpif_port_dump_start(const struct dpif *dpif)
{
    unsigned long mark = error_begin();
    struct dpif_port_dump *dump = calloc(1, sizeof *dump);

    if (!dump) {
        dpif_set_error("out of memory");
        return &port_dump_nomem;
    }
    dump->dpif = dpif;
    dump->error = check_dpif(dpif);
    if (!dump->error) {
        dump->error = error_end(mark, dpif->cls->port_dump_start(
                                          dpif, &dump->state));
    }
    dump->started = !dump->error;
    dump->done = dump->error != 0;
    return dump;
}

bool
dpif_port_dump_next(struct dpif_port_dump *dump, struct dpif_port *port)
{
    unsigned long mark = error_begin();
    int ret;

    if (!dump || dump->done || !port) {
        return false;
    }
    memset(port, 0, sizeof *port);
    ret = check_dpif(dump->dpif);
    if (!ret) {
        ret = dump->dpif->cls->port_dump_next(dump->dpif, dump->state,
                                              port);
    }
    if (ret > 0) {
        return true;
    }
    dump->done = true;
    dump->error = error_end(mark, ret);
    return false;
}

int
dpif_port_dump_done(struct dpif_port_dump *dump)
{
    int error;

    if (!dump) {
        dpif_set_error("no port dump given");
        return -EINVAL;
    }
    if (dump == &port_dump_nomem) {
        dpif_set_error("out of memory for a port dump");
        return -ENOMEM;
    }
    if (dump->started) {
        if (!gen_ok(dump->dpif->fork_gen)) {
            /* A dump started before fork(): the child leaves it. */
            dpif_set_error("this port dump was started before fork()");
            return -ECHILD;
        }
        dump->dpif->cls->port_dump_done(dump->dpif, dump->state);
    }
    error = dump->error;
    free(dump);
    return error;
}

int
dpif_port_poll(const struct dpif *dpif, char **name)
{
    unsigned long mark = error_begin();
    int error = check_dpif(dpif);

    if (!error && !name) {
        dpif_set_error("no place for the name");
        error = -EINVAL;
    }
    if (error) {
        return error;
    }
    *name = NULL;
    error = dpif->cls->port_poll(dpif, name);
    if (error) {
        free(*name);
        *name = NULL;
    }
    return error_end(mark, error);
}

int
dpif_port_poll_fd(const struct dpif *dpif)
{
    unsigned long mark = error_begin();
    int error = check_dpif(dpif);

    return error ? error : error_end(mark, dpif->cls->port_poll_fd(dpif));
}

/* ---- Flows. ---- */

#define DPIF_FP_ALL (DPIF_FP_CREATE | DPIF_FP_MODIFY | DPIF_FP_ZERO_STATS \
                     | DPIF_FP_PROBE)

/* Checks 'op' and clears its outputs.  Returns 0 or -EINVAL with the
 * reason set. */
static int
op_check(struct dpif_op *op)
{
    switch (op->type) {
    case DPIF_OP_FLOW_PUT: {
        struct dpif_flow_put *put = &op->u.flow_put;

        if (put->stats) {
            memset(put->stats, 0, sizeof *put->stats);
        }
        if (put->flags & ~DPIF_FP_ALL) {
            dpif_set_error("flow put: unknown flags %#x",
                           put->flags & ~DPIF_FP_ALL);
            return -EINVAL;
        }
        if (!(put->flags & (DPIF_FP_CREATE | DPIF_FP_MODIFY))) {
            dpif_set_error("flow put: neither DPIF_FP_CREATE nor "
                           "DPIF_FP_MODIFY");
            return -EINVAL;
        }
        if (!put->key || !put->key_len) {
            dpif_set_error("flow put: no key");
            return -EINVAL;
        }
        if (check_bytes("flow put: mask", put->mask, put->mask_len)
            || check_bytes("flow put: actions", put->actions,
                           put->actions_len)) {
            return -EINVAL;
        }
        return check_ufid(put->ufid);
    }
    case DPIF_OP_FLOW_DEL: {
        struct dpif_flow_del *del = &op->u.flow_del;

        if (del->stats) {
            memset(del->stats, 0, sizeof *del->stats);
        }
        if (!ufid_given(del->ufid) && (!del->key || !del->key_len)) {
            dpif_set_error("flow del: neither UFID nor key");
            return -EINVAL;
        }
        return check_ufid(del->ufid);
    }
    case DPIF_OP_FLOW_GET: {
        struct dpif_flow_get *get = &op->u.flow_get;

        if (!get->flow || !get->buf || !get->buf_size) {
            dpif_set_error("flow get: no flow or buffer for the reply");
            return -EINVAL;
        }
        memset(get->flow, 0, sizeof *get->flow);
        if (!ufid_given(get->ufid) && (!get->key || !get->key_len)) {
            dpif_set_error("flow get: neither UFID nor key");
            return -EINVAL;
        }
        return check_ufid(get->ufid);
    }
    case DPIF_OP_EXECUTE: {
        struct dpif_execute *exec = &op->u.execute;

        if (!exec->packet || exec->packet_len < 14) {
            dpif_set_error("execute: packet of %zu bytes, shorter than an "
                           "Ethernet header", exec->packet ? exec->packet_len
                                                           : 0);
            return -EINVAL;
        }
        if (exec->mru) {
            /* Both providers alike: neither datapath reassembles IP
             * fragments (no conntrack), so none can fragment again on
             * output as the kernel does for a packet with an MRU. */
            dpif_set_error("execute: mru %u: weir does not fragment on "
                           "output; leave mru 0", exec->mru);
            return -EOPNOTSUPP;
        }
        return check_bytes("execute: actions", exec->actions,
                           exec->actions_len);
    }
    }
    dpif_set_error("unknown operation type %d", (int) op->type);
    return -EINVAL;
}

void
dpif_operate(struct dpif *dpif, struct dpif_op **ops, size_t n)
{
    unsigned long mark = error_begin();
    struct dpif_op **valid;
    size_t n_valid = 0;
    int last_fail = 0;

    if (!ops || !n) {
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (ops[i]) {
            ops[i]->error = 0;
        }
    }
    last_fail = check_dpif(dpif);
    if (last_fail) {
        for (size_t i = 0; i < n; i++) {
            if (ops[i]) {
                ops[i]->error = last_fail;
            }
        }
        return;
    }
    valid = malloc(n * sizeof *valid);
    if (!valid) {
        dpif_set_error("out of memory");
        for (size_t i = 0; i < n; i++) {
            if (ops[i]) {
                ops[i]->error = -ENOMEM;
            }
        }
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (ops[i]) {
            ops[i]->error = op_check(ops[i]);
            if (!ops[i]->error) {
                valid[n_valid++] = ops[i];
            }
        }
    }
    if (n_valid) {
        /* The provider sets a reason for each failure it reports; the
         * calling thread keeps the last one. */
        dpif->cls->operate(dpif, valid, n_valid);
    }
    for (size_t i = 0; i < n; i++) {
        if (ops[i] && ops[i]->error < 0) {
            last_fail = ops[i]->error;
        }
    }
    error_end(mark, last_fail);
    free(valid);
}

/* Runs the single operation 'op' and returns its error. */
static int
operate1(struct dpif *dpif, struct dpif_op *op)
{
    struct dpif_op *ops[1] = { op };

    op->error = 0;
    dpif_operate(dpif, ops, 1);
    return op->error;
}

int
dpif_flow_put(struct dpif *dpif, unsigned int flags,
              const void *key, size_t key_len,
              const void *mask, size_t mask_len,
              const struct dpif_ufid *ufid,
              const void *actions, size_t actions_len,
              struct dpif_flow_stats *stats)
{
    struct dpif_op op = {
        .type = DPIF_OP_FLOW_PUT,
        .u.flow_put = {
            .flags = flags,
            .key = key, .key_len = key_len,
            .mask = mask, .mask_len = mask_len,
            .ufid = ufid,
            .actions = actions, .actions_len = actions_len,
            .stats = stats,
        },
    };

    return operate1(dpif, &op);
}

int
dpif_flow_del(struct dpif *dpif, const void *key, size_t key_len,
              const struct dpif_ufid *ufid, struct dpif_flow_stats *stats)
{
    struct dpif_op op = {
        .type = DPIF_OP_FLOW_DEL,
        .u.flow_del = {
            .key = key, .key_len = key_len,
            .ufid = ufid,
            .terse = true,
            .stats = stats,
        },
    };

    return operate1(dpif, &op);
}

int
dpif_flow_get(struct dpif *dpif, const void *key, size_t key_len,
              const struct dpif_ufid *ufid, void *buf, size_t buf_size,
              struct dpif_flow *flow)
{
    struct dpif_op op = {
        .type = DPIF_OP_FLOW_GET,
        .u.flow_get = {
            .key = key, .key_len = key_len,
            .ufid = ufid,
            .buf = buf, .buf_size = buf_size,
            .flow = flow,
        },
    };

    return operate1(dpif, &op);
}

int
dpif_execute(struct dpif *dpif, const struct dpif_execute *exec)
{
    struct dpif_op op = { .type = DPIF_OP_EXECUTE };

    if (!exec) {
        dpif_set_error("execute: nothing to execute");
        return -EINVAL;
    }
    op.u.execute = *exec;
    return operate1(dpif, &op);
}

int
dpif_flow_flush(struct dpif *dpif)
{
    unsigned long mark = error_begin();
    int error = check_dpif(dpif);

    return error ? error : error_end(mark, dpif->cls->flow_flush(dpif));
}

struct dpif_flow_dump *
dpif_flow_dump_create(const struct dpif *dpif, bool terse)
{
    unsigned long mark = error_begin();
    struct dpif_flow_dump *dump = NULL;
    int error = check_dpif(dpif);

    if (!error) {
        error = error_end(mark, dpif->cls->flow_dump_create(dpif, terse,
                                                            &dump));
    }
    if (error) {
        errno = -error;
        return NULL;
    }
    dump->dpif = dpif;
    dump->terse = terse;
    return dump;
}

struct dpif_flow_dump_thread *
dpif_flow_dump_thread_create(struct dpif_flow_dump *dump)
{
    unsigned long mark = error_begin();
    struct dpif_flow_dump_thread *thread;

    if (!dump) {
        dpif_set_error("no flow dump given");
        return NULL;
    }
    if (check_dpif(dump->dpif)) {
        return NULL;
    }
    thread = dump->dpif->cls->flow_dump_thread_create(dump);
    if (thread) {
        thread->dump = dump;
    } else if (last_error.seq == mark) {
        dpif_set_error("out of memory");
    }
    return thread;
}

void
dpif_flow_dump_thread_destroy(struct dpif_flow_dump_thread *thread)
{
    if (thread && gen_ok(thread->dump->dpif->fork_gen)) {
        thread->dump->dpif->cls->flow_dump_thread_destroy(thread);
    }
}

int
dpif_flow_dump_next(struct dpif_flow_dump_thread *thread,
                    struct dpif_flow *flows, int max)
{
    if (!thread || !flows || max <= 0) {
        return 0;
    }
    memset(flows, 0, (size_t) max * sizeof *flows);
    if (check_dpif(thread->dump->dpif)) {
        return 0;
    }
    return thread->dump->dpif->cls->flow_dump_next(thread, flows, max);
}

int
dpif_flow_dump_destroy(struct dpif_flow_dump *dump)
{
    unsigned long mark = error_begin();
    int error;

    if (!dump) {
        return 0;
    }
    error = check_dpif(dump->dpif);
    return error ? error
                 : error_end(mark, dump->dpif->cls->flow_dump_destroy(dump));
}

/* ---- Upcalls. ---- */

int
dpif_handlers_set(struct dpif *dpif, uint32_t n)
{
    unsigned long mark = error_begin();
    int error = check_dpif(dpif);

    return error ? error
                 : error_end(mark, dpif->cls->handlers_set(dpif, n));
}

int
dpif_recv_set(struct dpif *dpif, bool enable)
{
    int error = check_dpif(dpif);

    if (error) {
        return error;
    }
    if (!enable) {
        return dpif_handlers_set(dpif, 0);
    }
    /* Enabling keeps the handlers there are, or makes one. */
    return dpif_handler_pid(dpif, 0) ? 0 : dpif_handlers_set(dpif, 1);
}

uint32_t
dpif_handler_pid(const struct dpif *dpif, uint32_t handler_id)
{
    return dpif && gen_ok(dpif->fork_gen)
           ? dpif->cls->handler_pid(dpif, handler_id) : 0;
}

int
dpif_recv(struct dpif *dpif, uint32_t handler_id,
          struct dpif_upcall *upcall)
{
    unsigned long mark = error_begin();
    int error = check_dpif(dpif);

    if (!error && !upcall) {
        dpif_set_error("no place for the upcall");
        error = -EINVAL;
    }
    if (error) {
        return error;
    }
    memset(upcall, 0, sizeof *upcall);
    return error_end(mark, dpif->cls->recv(dpif, handler_id, upcall));
}

int
dpif_recv_wait(struct dpif *dpif, uint32_t handler_id, int timeout_ms)
{
    unsigned long mark = error_begin();
    int error = check_dpif(dpif);

    if (!error && timeout_ms < -1) {
        dpif_set_error("timeout %d ms: -1 (forever) or more", timeout_ms);
        error = -EINVAL;
    }
    if (error) {
        return error;
    }
    return error_end(mark, dpif->cls->recv_wait(dpif, handler_id,
                                                timeout_ms));
}

int
dpif_recv_fd(struct dpif *dpif, uint32_t handler_id)
{
    unsigned long mark = error_begin();
    int error = check_dpif(dpif);

    return error ? error
                 : error_end(mark, dpif->cls->recv_fd(dpif, handler_id));
}

void
dpif_recv_purge(struct dpif *dpif)
{
    if (!check_dpif(dpif)) {
        dpif->cls->recv_purge(dpif);
    }
}

/* ---- Events. ---- */

int
dpif_monitor_create(const char *type, struct dpif_monitor **monp)
{
    unsigned long mark = error_begin();
    const struct dpif_class *cls;
    unsigned int gen;
    int error;

    if (!monp) {
        dpif_set_error("no place for the monitor");
        return -EINVAL;
    }
    *monp = NULL;
    cls = class_find(type);
    if (!cls) {
        return -EINVAL;
    }
    gen = gen_now();
    error = cls->monitor_create(cls, monp);
    if (error) {
        *monp = NULL;
    } else {
        (*monp)->cls = cls;
        (*monp)->fork_gen = gen;
    }
    return error_end(mark, error);
}

int
dpif_monitor_next(struct dpif_monitor *mon, struct dpif_event *event,
                  int timeout_ms)
{
    unsigned long mark = error_begin();

    if (!mon || !event) {
        dpif_set_error("no monitor or no place for the event");
        return -EINVAL;
    }
    memset(event, 0, sizeof *event);
    if (check_gen(mon->fork_gen, "monitor")) {
        return -ECHILD;
    }
    return error_end(mark, mon->cls->monitor_next(mon, event, timeout_ms));
}

int
dpif_monitor_fd(const struct dpif_monitor *mon)
{
    if (!mon) {
        dpif_set_error("no monitor given");
        return -EINVAL;
    }
    if (check_gen(mon->fork_gen, "monitor")) {
        return -ECHILD;
    }
    return mon->cls->monitor_fd(mon);
}

void
dpif_monitor_destroy(struct dpif_monitor *mon)
{
    if (mon && gen_ok(mon->fork_gen)) {
        mon->cls->monitor_destroy(mon);
    }
}

/* ---- Text. ---- */

/* Returns 's' past blanks. */
static const char *
skip_blanks(const char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') {
        s++;
    }
    return s;
}

/* A netlink message buffer of 'payload' bytes of attributes, for the
 * codec's parsers, which append to a message.  Returns NULL if out of
 * memory. */
static struct nlmsghdr *
scratch_msg(size_t payload, size_t *buflen)
{
    char *buf;

    *buflen = MNL_NLMSG_HDRLEN + payload;
    buf = malloc(*buflen);
    return buf ? mnl_nlmsg_put_header(buf) : NULL;
}

/* Copies the attributes of 'nlh' into 'out'. */
static size_t
scratch_copy(const struct nlmsghdr *nlh, void *out)
{
    size_t len = nlh->nlmsg_len - MNL_NLMSG_HDRLEN;

    if (len) {
        memcpy(out, mnl_nlmsg_get_payload(nlh), len);
    }
    return len;
}

int
dpif_key_parse(const char *text, void *key, size_t key_size,
               void *mask, size_t mask_size, size_t *mask_len,
               struct dpif_ufid *ufid)
{
    struct nlmsghdr *knl = NULL, *mnl = NULL;
    size_t kbuflen = 0, mbuflen = 0, used;
    struct ufid parsed = { .len = 0 };
    struct errbuf err;
    const char *s;
    int error;

    errbuf_clear(&err);
    if (ufid) {
        memset(ufid, 0, sizeof *ufid);
    }
    if (mask_len) {
        *mask_len = 0;
    }
    if (!text || !key || (mask && !mask_len)) {
        dpif_set_error("key parse: missing text, key buffer or mask "
                       "length");
        return -EINVAL;
    }
    s = skip_blanks(text);
    if (!strncmp(s, "ufid:", 5)) {
        if (ufid_parse(s, &used, &parsed, &err)) {
            dpif_set_error("%s", err.msg);
            return -EINVAL;
        }
        s = skip_blanks(s + used);
        if (*s != ',') {
            dpif_set_error("a ',' must follow the UFID");
            return -EINVAL;
        }
        s++;
    }

    knl = scratch_msg(key_size, &kbuflen);
    if (mask) {
        mnl = scratch_msg(mask_size, &mbuflen);
    }
    if (!knl || (mask && !mnl)) {
        dpif_set_error("out of memory");
        error = -ENOMEM;
        goto out;
    }
    error = fkey_parse(s, &used, knl, kbuflen, mnl, mbuflen, &err);
    if (error) {
        dpif_set_error("%s", error == -EMSGSIZE ? "key does not fit"
                                                : err.msg);
        goto out;
    }
    s = skip_blanks(s + used);
    if (*s) {
        dpif_set_error("unexpected text after the key: \"%.40s\"", s);
        error = -EINVAL;
        goto out;
    }
    error = (int) scratch_copy(knl, key);
    if (mask) {
        *mask_len = scratch_copy(mnl, mask);
    }
    if (ufid) {
        ufid->len = parsed.len;
        memcpy(ufid->id, parsed.id, sizeof ufid->id);
    }
out:
    free(knl);
    free(mnl);
    return error;
}

int
dpif_actions_parse(const char *text, void *actions, size_t size)
{
    struct nlmsghdr *nlh;
    struct errbuf err;
    size_t buflen, used;
    const char *s;
    int error;

    errbuf_clear(&err);
    if (!text || (!actions && size)) {
        dpif_set_error("actions parse: missing text or buffer");
        return -EINVAL;
    }
    nlh = scratch_msg(size, &buflen);
    if (!nlh) {
        dpif_set_error("out of memory");
        return -ENOMEM;
    }
    s = skip_blanks(text);
    error = act_parse(s, &used, nlh, buflen, &err);
    if (error) {
        dpif_set_error("%s", error == -EMSGSIZE ? "actions do not fit"
                                                : err.msg);
    } else if (*skip_blanks(s + used)) {
        dpif_set_error("unexpected text after the actions: \"%.40s\"",
                       skip_blanks(s + used));
        error = -EINVAL;
    } else {
        error = (int) scratch_copy(nlh, actions);
    }
    free((char *) nlh);
    return error;
}

/* OVS's letters for TCP flags, in its order (lib/packets.c). */
static void
format_tcp_flags(struct sbuf *sb, uint16_t flags)
{
    static const struct {
        uint16_t bit;
        const char *text;
    } names[] = {
        { 0x002, "S" }, { 0x001, "F" }, { 0x008, "P" }, { 0x004, "R" },
        { 0x020, "U" }, { 0x010, "." }, { 0x040, "E" }, { 0x080, "C" },
        { 0x100, "N" }, { 0x200, "[200]" }, { 0x400, "[400]" },
        { 0x800, "[800]" },
    };

    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        if (flags & names[i].bit) {
            sbuf_put(sb, names[i].text);
        }
    }
}

static int64_t
monotonic_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

size_t
dpif_flow_format(const struct dpif_flow *flow, bool verbose, char *out,
                 size_t size)
{
    struct sbuf sb = SBUF_INIT;
    size_t len;

    if (!flow) {
        sbuf_put(&sb, "<no flow>");
    } else {
        if (verbose && flow->ufid.len && flow->ufid.len <= DPIF_UFID_LEN) {
            struct ufid u = { .len = flow->ufid.len };

            memcpy(u.id, flow->ufid.id, flow->ufid.len);
            ufid_format(&u, &sb);
            sbuf_put(&sb, ", ");
        }
        fkey_format(flow->key ? flow->key : "", flow->key ? flow->key_len
                                                          : 0,
                    flow->mask, flow->mask ? flow->mask_len : 0, verbose,
                    &sb);
        sbuf_printf(&sb, ", packets:%llu, bytes:%llu, used:",
                    (unsigned long long) flow->stats.n_packets,
                    (unsigned long long) flow->stats.n_bytes);
        if (flow->stats.used_ms) {
            int64_t age = monotonic_ms() - flow->stats.used_ms;

            sbuf_printf(&sb, "%.3fs", (age > 0 ? age : 0) / 1000.0);
        } else {
            sbuf_put(&sb, "never");
        }
        if (flow->stats.tcp_flags) {
            sbuf_put(&sb, ", flags:");
            format_tcp_flags(&sb, flow->stats.tcp_flags);
        }
        sbuf_put(&sb, ", actions:");
        act_format(flow->actions ? flow->actions : "",
                   flow->actions ? flow->actions_len : 0, &sb);
    }
    len = sb.len;
    if (out && size) {
        size_t n = len < size - 1 ? len : size - 1;

        memcpy(out, sbuf_str(&sb), n);
        out[n] = '\0';
    }
    sbuf_uninit(&sb);
    return len;
}
