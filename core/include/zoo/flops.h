/* What libzoo's products cost, and what runs them: a process-wide count of
 * their floating-point operations, and the BLAS library's own description.
 * Benchmarks (zoo bench) read the count before and after a pass and divide
 * the difference by the time.
 *
 * What is counted: every dense product core runs, 2·M·N·K for an [M,K] by
 * [K,N] product (a matrix-vector product 2·M·K), whatever the operator that
 * runs it: zoo_matmul and zoo_linear, and their backward products as they
 * run (a gradient that is not wanted costs nothing and counts nothing;
 * zoo_linear's bias gradient, a matrix-vector product, counts 2·rows·out),
 * attention's products (those it runs: a causal block only multiplies the
 * keys it can see), the LSTM's, the highway layer's, the char-CNN
 * convolution's forward (its backward adds over each output's winning
 * window: not a product, not counted) and the linear probe's. Element-wise
 * work, normalisations, softmax and whatever a plugin computes in its own
 * loops (word2vec's dot products) are not counted: the count is the work
 * that BLAS does, against which its speed can be judged.
 *
 * Each product is counted once, by the thread that starts it, with one
 * relaxed atomic add, not once per band it is shared out in. */
#ifndef ZOO_FLOPS_H
#define ZOO_FLOPS_H

#include <stdint.h>

#include "zoo/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The floating-point operations of every product libzoo has run since the
 * process started (a forked child inherits its parent's count). Callers
 * take differences. Thread-safe; a product running on another thread while
 * this is read is counted either wholly or not at all. */
ZOO_API uint64_t zoo_flops(void);

/* The BLAS library that runs the products, in its own words (OpenBLAS:
 * openblas_get_config(), "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Haswell
 * MAX_THREADS=64", which names the kernel it chose). Static storage. */
ZOO_API const char *zoo_blas_config(void);

#ifdef __cplusplus
}
#endif
#endif
