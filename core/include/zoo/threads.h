/* The thread pool of zoo, and the one place where thread counts are set.
 * Idle workers yield the CPU for 50 us (the next job of a training step is
 * usually there by then), then sleep on a condition variable: they never
 * spin, which on a shared 2-core machine collapses throughput. OpenBLAS is
 * kept single-threaded (its own threads yield-spin without end while they
 * wait); zoo shares big products out over this pool instead, so one pool
 * serves everything.
 *
 * The pool is process-global and created on first use. A forked child starts
 * with no pool and creates its own on first use (Check forks every test).
 * Calls from inside a pool task run serially on the calling thread, so
 * nested parallel loops cannot deadlock. */
#ifndef ZOO_THREADS_H
#define ZOO_THREADS_H

#include <stdint.h>

#include "zoo/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Sets the number of threads of zoo's pool (and OpenBLAS's to 1). n <= 0
 * means the number of online CPUs. Must not be called from inside a pool task. */
ZOO_API void zoo_threads_set(int n);
ZOO_API int zoo_threads_count(void);

/* Runs fn over [0, n) split into contiguous ranges of at least `grain`
 * elements, on up to zoo_threads_count() threads (the caller is one of them).
 * Returns when every range is done. */
typedef void (*zoo_range_fn)(void *ctx, int64_t begin, int64_t end);
ZOO_API void zoo_parallel_for(int64_t n, int64_t grain, zoo_range_fn fn, void *ctx);

/* Runs fn(ctx, i, n_workers) once for each i in [0, n_workers), concurrently
 * as far as the pool allows: for plugins with their own parallel loops
 * (word2vec's lock-free training). */
typedef void (*zoo_worker_fn)(void *ctx, int index, int n_workers);
ZOO_API void zoo_parallel_run(int n_workers, zoo_worker_fn fn, void *ctx);

#ifdef __cplusplus
}
#endif
#endif
