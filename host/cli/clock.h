/* Seconds on the monotonic clock, for the host's timings (progress, ETA,
 * benchmarks): only differences mean anything. */
#ifndef ZOO_HOST_CLOCK_H
#define ZOO_HOST_CLOCK_H

#include <time.h>

static inline double zoo_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

#endif
