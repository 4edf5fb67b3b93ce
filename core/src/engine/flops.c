/* The products' FLOP count (zoo/flops.h). */
#include <cblas.h>

#include "internal.h"
#include "zoo/flops.h"

_Atomic uint64_t zoo_flop_count;

uint64_t zoo_flops(void) {
    return atomic_load_explicit(&zoo_flop_count, memory_order_relaxed);
}

const char *zoo_blas_config(void) {
    return openblas_get_config();
}
