/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEIR_LIB_MUTEX_H
#define WEIR_LIB_MUTEX_H 1

/* A pthread mutex that clang's -Wthread-safety analysis understands.
 *
 * What
 * ====
 *
 * 'struct wmutex' wraps pthread_mutex_t with the capability attributes, so
 * that clang checks at compile time that every path that locks also
 * unlocks (and does not lock twice), and that functions marked
 * WEIR_REQUIRES(m) are called with 'm' held.  (In C, clang cannot name
 * one struct member from another's attribute, so fields say in a comment
 * which mutex guards them.)  With gcc the attributes expand to nothing.  The clang build in 'make check' (the fuzz build) compiles
 * everything with -Wthread-safety -Werror.
 *
 * Thread-safety
 * =============
 *
 * That of pthread_mutex_t.
 */

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#if defined(__clang__)
#define WEIR_TSA(x) __attribute__((x))
#else
#define WEIR_TSA(x)
#endif

#define WEIR_CAPABILITY(x) WEIR_TSA(capability(x))
#define WEIR_REQUIRES(...) WEIR_TSA(requires_capability(__VA_ARGS__))
#define WEIR_ACQUIRES(...) WEIR_TSA(acquire_capability(__VA_ARGS__))
#define WEIR_RELEASES(...) WEIR_TSA(release_capability(__VA_ARGS__))
#define WEIR_TRY_ACQUIRES(...) WEIR_TSA(try_acquire_capability(__VA_ARGS__))
#define WEIR_EXCLUDES(...) WEIR_TSA(locks_excluded(__VA_ARGS__))
#define WEIR_NO_TSA WEIR_TSA(no_thread_safety_analysis)

struct WEIR_CAPABILITY("mutex") wmutex {
    pthread_mutex_t m;
};

static inline void
wmutex_init(struct wmutex *mu)
{
    pthread_mutex_init(&mu->m, NULL);
}

static inline void
wmutex_destroy(struct wmutex *mu)
{
    pthread_mutex_destroy(&mu->m);
}

/* Locks 'mu'.  A failure (EDEADLK, EINVAL) is a bug: abort. */
static inline void
wmutex_lock(struct wmutex *mu) WEIR_ACQUIRES(mu) WEIR_NO_TSA
{
    if (pthread_mutex_lock(&mu->m)) {
        abort();
    }
}

/* Returns true, holding 'mu', if it was free; false at once otherwise. */
static inline bool
wmutex_trylock(struct wmutex *mu) WEIR_TRY_ACQUIRES(true, mu) WEIR_NO_TSA
{
    return !pthread_mutex_trylock(&mu->m);
}

static inline void
wmutex_unlock(struct wmutex *mu) WEIR_RELEASES(mu) WEIR_NO_TSA
{
    pthread_mutex_unlock(&mu->m);
}

#endif /* lib/mutex.h */
