#include <math.h>

#include "zoo/rng.h"

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k) {
    return (x << k) | (x >> (64 - k));
}

void zoo_rng_seed(zoo_rng *rng, uint64_t seed) {
    for (int i = 0; i < 4; i++) rng->s[i] = splitmix64(&seed);
}

uint64_t zoo_rng_u64(zoo_rng *rng) {
    uint64_t *s = rng->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint64_t zoo_rng_below(zoo_rng *rng, uint64_t n) {
    /* Rejection of the short last bucket keeps every value equally likely. */
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do x = zoo_rng_u64(rng);
    while (x >= limit);
    return x % n;
}

float zoo_rng_uniform(zoo_rng *rng) {
    return (float)(zoo_rng_u64(rng) >> 40) * 0x1.0p-24f;
}

float zoo_rng_normal(zoo_rng *rng) {
    double u1 = ((zoo_rng_u64(rng) >> 11) + 1) * 0x1.0p-53; /* (0, 1]: log is finite */
    double u2 = (zoo_rng_u64(rng) >> 11) * 0x1.0p-53;
    return (float)(sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2));
}

void zoo_rng_fill_normal(zoo_rng *rng, float *out, size_t n, float mean, float std) {
    for (size_t i = 0; i < n; i++) out[i] = mean + std * zoo_rng_normal(rng);
}

void zoo_rng_fill_uniform(zoo_rng *rng, float *out, size_t n, float lo, float hi) {
    for (size_t i = 0; i < n; i++) out[i] = lo + (hi - lo) * zoo_rng_uniform(rng);
}
