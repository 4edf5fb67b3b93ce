/* exp, tanh and erfc for inner loops, the operators' and plugins': inline and
 * branch-free, so that GCC vectorises the loops that call them (libm's expf
 * and tanhf are calls the vectoriser cannot see through, and were half of a
 * GPT training step). Compile such loops with -fno-math-errno
 * -fno-trapping-math, as libzoo is.
 * Cephes' range reductions and minimax polynomials: exp and tanh within 2
 * ulp of libm on the whole float range (tests/test_activation.c checks them,
 * and the exact GELU built on the erfc). libm's erff was the largest cost of
 * a BERT step after the products. */
#ifndef ZOO_FASTMATH_H
#define ZOO_FASTMATH_H

#include <stdint.h>
#include <string.h>

/* Hot loops are compiled twice, for AVX2+FMA (8 floats at a time) and for
 * the baseline x86-64 (SSE2, 4), and the loader picks one at start-up.
 * ZOO_MATH_CLONES adds AVX-512 (16 at a time) for loops that are arithmetic
 * rather than memory traffic, the polynomials below: the exact GELU forward
 * and backward ran 1.3x faster with it on a Zen 4, where AdamW's update, a
 * stream over four arrays, ran 1.6x slower, so it is not the default. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) &&                             \
    !defined(__SANITIZE_ADDRESS__)
#define ZOO_VECTOR_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#define ZOO_MATH_CLONES                                                                            \
    __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define ZOO_VECTOR_CLONES
#define ZOO_MATH_CLONES
#endif

/* e^x; clamped below -87.33 (about 1.2e-38, float's smallest normal) and
 * infinity from 88.72 on (inputs of a softmax never get there: the max is
 * subtracted first). NaN gives NaN. */
static inline float zoo_expf(float x) {
    float in = x;
    /* clamped with comparisons a NaN fails, so NaN becomes -87.33: converting a
     * NaN n to int below would be undefined; the NaN is given back at the end */
    x = x > -87.33f ? x : -87.33f;
    x = x < 88.72f ? x : 88.72f;
    /* x = n ln2 + r, |r| <= ln2/2; n rounded with the 1.5*2^23 trick */
    float n = (x * 1.44269504089f + 12582912.0f) - 12582912.0f;
    float r = x - n * 0.693359375f + n * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    /* 2^n: n is in [-126, 128] here, so n + 127 is positive; shifted unsigned all the same */
    uint32_t bits = (uint32_t)((int32_t)n + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return in == in ? p * scale : in;
}

/* tanh(x): an odd polynomial near 0, 1 - 2/(e^{2|x|} + 1) elsewhere. */
static inline float zoo_tanhf(float x) {
    float a = x < 0 ? -x : x;
    float z = x * x;
    float small = ((((-5.70498872745e-3f * z + 2.06390887954e-2f) * z - 5.37397155531e-2f) * z +
                    1.33314422036e-1f) *
                       z -
                   3.33332819422e-1f) *
                      z * x +
                  x;
    float big = 1.0f - 2.0f / (zoo_expf(2.0f * a) + 1.0f);
    big = x < 0 ? -big : big;
    return a < 0.625f ? small : big;
}

/* erfc(a) for a >= 0, given e = e^{-a^2} (a caller that needs e too
 * computes it once): Abramowitz and Stegun 7.1.26, p(t) e with
 * t = 1 / (1 + 0.3275911 a), within 1.5e-7 absolute. */
static inline float zoo_erfc_given_exp(float a, float e) {
    float t = 1.0f / (1.0f + 0.3275911f * a);
    return ((((1.061405429f * t - 1.453152027f) * t + 1.421413741f) * t - 0.284496736f) * t +
            0.254829592f) *
           t * e;
}

#endif
