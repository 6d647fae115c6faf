/* SPDX-License-Identifier: Apache-2.0 */
#include "lib/rcu.h"

#include <stddef.h>

/* TSan: one sync object stands for "grace period".  See rcu.h. */
#if defined(__SANITIZE_THREAD__)
#define WEIR_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define WEIR_TSAN 1
#endif
#endif

#ifdef WEIR_TSAN
#include <sanitizer/tsan_interface.h>
static char grace_sync;
#define GP_RELEASE() __tsan_release(&grace_sync)
#define GP_ACQUIRE() __tsan_acquire(&grace_sync)
#else
#define GP_RELEASE() ((void) 0)
#define GP_ACQUIRE() ((void) 0)
#endif

void
qsbr_register(void)
{
    rcu_register_thread();
}

void
qsbr_unregister(void)
{
    GP_RELEASE();
    rcu_unregister_thread();
}

void
qsbr_quiesce(void)
{
    GP_RELEASE();
    rcu_quiescent_state();
}

void
qsbr_offline(void)
{
    GP_RELEASE();
    rcu_thread_offline();
}

void
qsbr_online(void)
{
    rcu_thread_online();
}

void
qsbr_synchronize(void)
{
    GP_RELEASE();
    synchronize_rcu();
    GP_ACQUIRE();
}

/* Runs on liburcu's call_rcu thread once the grace period is over. */
static void
deferred_run(struct rcu_head *rh)
{
    struct qsbr_head *h = (struct qsbr_head *) (void *) rh;

    GP_ACQUIRE();
    h->fn(h);
}

void
qsbr_defer(struct qsbr_head *head, void (*fn)(struct qsbr_head *))
{
    head->fn = fn;
    GP_RELEASE();
    call_rcu(&head->rh, deferred_run);
}

void
qsbr_barrier(void)
{
    rcu_barrier();
    GP_ACQUIRE();
}
