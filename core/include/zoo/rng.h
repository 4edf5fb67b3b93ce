/* The one random number generator of zoo: xoshiro256** seeded through
 * splitmix64. Deterministic for a seed on every platform; a zoo_rng is a plain
 * value (copy it to fork a stream, save its four words in a checkpoint). */
#ifndef ZOO_RNG_H
#define ZOO_RNG_H

#include <stddef.h>
#include <stdint.h>

#include "zoo/export.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct zoo_rng {
    uint64_t s[4];
} zoo_rng;

ZOO_API void zoo_rng_seed(zoo_rng *rng, uint64_t seed);
ZOO_API uint64_t zoo_rng_u64(zoo_rng *rng);
/* Uniform in [0, n) without modulo bias; n > 0. */
ZOO_API uint64_t zoo_rng_below(zoo_rng *rng, uint64_t n);
/* Uniform float in [0, 1), 24 random bits. */
ZOO_API float zoo_rng_uniform(zoo_rng *rng);
/* Standard normal (Box-Muller; each call consumes two uniforms). */
ZOO_API float zoo_rng_normal(zoo_rng *rng);
ZOO_API void zoo_rng_fill_normal(zoo_rng *rng, float *out, size_t n, float mean, float std);
ZOO_API void zoo_rng_fill_uniform(zoo_rng *rng, float *out, size_t n, float lo, float hi);

#ifdef __cplusplus
}
#endif
#endif
