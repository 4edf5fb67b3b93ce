/* Choosing the next token from logits: temperature, top-k, top-p (nucleus),
 * drawn from zoo's seeded generator; temperature 0 is greedy (arg-max). */
#ifndef ZOO_HOST_SAMPLER_H
#define ZOO_HOST_SAMPLER_H

#include <stdint.h>

#include "zoo/rng.h"

typedef struct zoo_sampler {
    double temperature; /* 0: greedy */
    int64_t top_k;      /* 0: no limit */
    double top_p;       /* 1: no limit */
} zoo_sampler;

/* The next token from logits[0..V). scratch holds 2*V floats' worth (V
 * floats and V int32 indices). */
int32_t zoo_sample(const zoo_sampler *s, const float *logits, int64_t V, zoo_rng *rng, float *probs,
                   int32_t *order);

#endif
