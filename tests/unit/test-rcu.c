/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for lib/rcu.c, the liburcu QSBR wrappers: registration and
 * quiescent states, a deferred free that waits for a reader, synchronize
 * from a registered thread, and readers racing a writer that swaps a
 * pointer.  The last is the point of running this file under TSan (the
 * 'tsan' suite): it checks that the annotations in rcu.c give TSan the
 * grace-period ordering, so real datapath code does not drown in false
 * reports, and that a real bug (a reader outliving its object) would show
 * up under ASan. */

#include "lib/rcu.h"
#include "tests/unit/test-util.h"

#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

/* An RCU-protected object: 'a' + 'b' is always OBJ_SUM while published,
 * and the free callback poisons it first, so a reader that sees freed
 * memory sees a broken sum even without ASan. */
#define OBJ_SUM 1000000u

struct obj {
    uint32_t a, b;
    uint64_t gen;               /* Which write made it. */
    struct qsbr_head rcu;
};

static atomic_uint n_freed;

static void
obj_free_cb(struct qsbr_head *h)
{
    struct obj *o = QSBR_OBJ(h, struct obj, rcu);

    memset(o, 0xdd, offsetof(struct obj, rcu));
    free(o);
    atomic_fetch_add_explicit(&n_freed, 1, memory_order_relaxed);
}

static struct obj *
obj_new(uint64_t gen)
{
    struct obj *o = malloc(sizeof *o);

    assert_non_null(o);
    o->a = (uint32_t) (gen % OBJ_SUM);
    o->b = OBJ_SUM - o->a;
    o->gen = gen;
    return o;
}

/* --- Registration. ------------------------------------------------------ */

static void *
register_main(void *arg)
{
    (void) arg;
    qsbr_register();
    for (int i = 0; i < 100; i++) {
        qsbr_quiesce();
    }
    qsbr_offline();
    tu_sleep_ms(1);                /* Blocking is allowed offline. */
    qsbr_online();
    qsbr_quiesce();
    qsbr_unregister();
    return NULL;
}

static void
test_register(void **state)
{
    pthread_t th[3];

    (void) state;
    /* On this thread, and on several at once. */
    qsbr_register();
    qsbr_quiesce();
    qsbr_offline();
    for (int i = 0; i < 3; i++) {
        assert_int_equal(0, pthread_create(&th[i], NULL, register_main,
                                           NULL));
    }
    for (int i = 0; i < 3; i++) {
        assert_int_equal(0, pthread_join(th[i], NULL));
    }
    qsbr_online();
    qsbr_unregister();

    /* With no reader at all, a grace period is immediate. */
    qsbr_synchronize();
}

/* --- A deferred free waits for an online reader. ------------------------ */

struct holder {
    atomic_int phase;           /* 0 start, 1 online, 2 release, 3 done. */
};

static void *
holder_main(void *arg)
{
    struct holder *h = arg;

    qsbr_register();
    /* Online and not quiescing: a grace period cannot end. */
    atomic_store_explicit(&h->phase, 1, memory_order_release);
    while (atomic_load_explicit(&h->phase, memory_order_acquire) != 2) {
        sched_yield();
    }
    qsbr_quiesce();
    qsbr_unregister();
    atomic_store_explicit(&h->phase, 3, memory_order_release);
    return NULL;
}

static void
test_defer_waits(void **state)
{
    struct holder h;
    pthread_t th;
    unsigned int before;

    (void) state;
    atomic_init(&h.phase, 0);
    assert_int_equal(0, pthread_create(&th, NULL, holder_main, &h));
    while (atomic_load_explicit(&h.phase, memory_order_acquire) != 1) {
        sched_yield();
    }

    before = atomic_load(&n_freed);
    qsbr_defer(&obj_new(1)->rcu, obj_free_cb);

    /* The reader has not passed a quiescent state: nothing is freed,
     * however long we wait (50 ms is long for liburcu's call_rcu
     * thread, which otherwise runs a callback within microseconds). */
    tu_sleep_ms(50);
    assert_int_equal(before, atomic_load(&n_freed));

    /* It quiesces: the callback runs, and qsbr_barrier() waits for it. */
    atomic_store_explicit(&h.phase, 2, memory_order_release);
    qsbr_barrier();
    assert_int_equal(before + 1, atomic_load(&n_freed));
    assert_int_equal(0, pthread_join(th, NULL));
    assert_int_equal(3, atomic_load(&h.phase));
}

/* --- synchronize from a registered thread. ------------------------------ */

struct sync_args {
    atomic_bool stop;
    atomic_int n_sync;
};

/* A reader that quiesces often, until told to stop. */
static void *
quiescer_main(void *arg)
{
    struct sync_args *s = arg;

    qsbr_register();
    while (!atomic_load_explicit(&s->stop, memory_order_relaxed)) {
        qsbr_quiesce();
        sched_yield();
    }
    qsbr_unregister();
    return NULL;
}

/* A registered, online thread that synchronizes: it must not wait for
 * itself. */
static void *
syncer_main(void *arg)
{
    struct sync_args *s = arg;

    qsbr_register();
    for (int i = 0; i < 20; i++) {
        qsbr_synchronize();
        qsbr_quiesce();
        atomic_fetch_add(&s->n_sync, 1);
    }
    qsbr_unregister();
    return NULL;
}

static void
test_synchronize_registered(void **state)
{
    struct sync_args s;
    pthread_t q, w;

    (void) state;
    atomic_init(&s.stop, false);
    atomic_init(&s.n_sync, 0);
    assert_int_equal(0, pthread_create(&q, NULL, quiescer_main, &s));
    assert_int_equal(0, pthread_create(&w, NULL, syncer_main, &s));
    assert_int_equal(0, pthread_join(w, NULL));
    atomic_store(&s.stop, true);
    assert_int_equal(0, pthread_join(q, NULL));
    assert_int_equal(20, atomic_load(&s.n_sync));
}

/* --- Readers and a writer. ---------------------------------------------- */

#define N_READERS 4
#define RUN_MS 300              /* Wall-clock bound of the stress test. */

static _Atomic(struct obj *) shared;

struct stress {
    atomic_bool stop;
    atomic_ulong n_reads;
    atomic_ulong n_bad;
    atomic_ulong n_writes;
};

static void *
reader_main(void *arg)
{
    struct stress *s = arg;
    unsigned long reads = 0, bad = 0;
    uint64_t last_gen = 0;

    qsbr_register();
    while (!atomic_load_explicit(&s->stop, memory_order_relaxed)) {
        /* A few lookups between quiescent states, as a PMD does a batch.
         * Acquire pairs with the writer's release: the object's fields
         * are visible once its pointer is. */
        for (int i = 0; i < 16; i++) {
            struct obj *o = atomic_load_explicit(&shared,
                                                 memory_order_acquire);

            if (o->a + o->b != OBJ_SUM || o->gen < last_gen) {
                bad++;
            }
            last_gen = o->gen;
            reads++;
        }
        qsbr_quiesce();
    }
    qsbr_unregister();
    atomic_fetch_add(&s->n_reads, reads);
    atomic_fetch_add(&s->n_bad, bad);
    return NULL;
}

static void *
writer_main(void *arg)
{
    struct stress *s = arg;
    uint64_t gen = 1;

    /* The writer is not a reader: it never registers.  Old objects go
     * through qsbr_defer(), one in 16 through qsbr_synchronize() and an
     * immediate free instead: the two ways the datapath frees.  A grace
     * period lasts until every reader thread has been scheduled again
     * (milliseconds, with more threads than cores), so the synchronous
     * frees also keep the number of objects waiting for one small. */
    while (!atomic_load_explicit(&s->stop, memory_order_relaxed)) {
        struct obj *o = obj_new(++gen);
        /* Release: publishes o's fields with the pointer. */
        struct obj *old = atomic_exchange_explicit(&shared, o,
                                                   memory_order_acq_rel);

        if (gen % 16) {
            qsbr_defer(&old->rcu, obj_free_cb);
        } else {
            qsbr_synchronize();
            obj_free_cb(&old->rcu);
        }
        atomic_fetch_add(&s->n_writes, 1);
        if (gen % 64 == 0) {
            sched_yield();
        }
    }
    return NULL;
}

static void
test_readers_writer(void **state)
{
    struct stress s;
    pthread_t readers[N_READERS], writer;
    unsigned int freed_before;
    uint64_t start;

    (void) state;
    atomic_init(&s.stop, false);
    atomic_init(&s.n_reads, 0);
    atomic_init(&s.n_bad, 0);
    atomic_init(&s.n_writes, 0);
    atomic_store(&shared, obj_new(1));
    freed_before = atomic_load(&n_freed);

    for (int i = 0; i < N_READERS; i++) {
        assert_int_equal(0, pthread_create(&readers[i], NULL, reader_main,
                                           &s));
    }
    assert_int_equal(0, pthread_create(&writer, NULL, writer_main, &s));

    /* Bounded in time, and long enough for some writes to happen even on
     * a loaded machine under TSan. */
    start = tu_now_ms();
    while (tu_now_ms() - start < RUN_MS
           || atomic_load(&s.n_writes) < 10) {
        tu_sleep_ms(10);
        assert_true(tu_now_ms() - start < 20000);
    }
    atomic_store(&s.stop, true);
    for (int i = 0; i < N_READERS; i++) {
        assert_int_equal(0, pthread_join(readers[i], NULL));
    }
    assert_int_equal(0, pthread_join(writer, NULL));

    /* Every old object freed, exactly once; the current one remains. */
    qsbr_barrier();
    assert_int_equal(atomic_load(&s.n_writes),
                     atomic_load(&n_freed) - freed_before);
    assert_int_equal(0, atomic_load(&s.n_bad));
    assert_true(atomic_load(&s.n_reads) > 0);
    print_message("%lu reads, %lu writes in %llu ms\n",
                  atomic_load(&s.n_reads), atomic_load(&s.n_writes),
                  (unsigned long long) (tu_now_ms() - start));
    free(atomic_load(&shared));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_register),
        cmocka_unit_test(test_defer_waits),
        cmocka_unit_test(test_synchronize_registered),
        cmocka_unit_test(test_readers_writer),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
