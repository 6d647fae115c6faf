/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEIR_TESTS_BENCH_UTIL_H
#define WEIR_TESTS_BENCH_UTIL_H 1

/* Small helpers shared by the benchmarks in tests/bench/. */

#include <time.h>

/* Returns the monotonic clock in seconds. */
static inline double
bench_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

#endif /* tests/bench/bench-util.h */
