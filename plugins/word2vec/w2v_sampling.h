/* Two structures over a fixed discrete distribution, both for word2vec's
 * output layers: an alias table draws a symbol with probability
 * proportional to its weight in constant time (negative samples from the
 * unigram counts^0.75, exactly, where word2vec.c quantises them into a
 * 1e8-entry table), and a Huffman code gives each symbol its path through a
 * binary tree (hierarchical softmax). */
#ifndef W2V_SAMPLING_H
#define W2V_SAMPLING_H

#include <stdint.h>

#include "zoo/rng.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct w2v_alias_table {
    int64_t n;
    float *accept;  /* [n] probability of keeping column i when it is drawn */
    int32_t *alias; /* [n] the symbol taken otherwise */
} w2v_alias_table;

/* weights[n], each finite and >= 0, summing to more than 0; n < 2^31.
 * ZOO_ERR_ARG otherwise (the message names the first bad weight). */
int w2v_alias_build(w2v_alias_table *t, const double *weights, int64_t n);
int32_t w2v_alias_draw(const w2v_alias_table *t, zoo_rng *rng);
void w2v_alias_free(w2v_alias_table *t);

/* Symbol i's path from the root: inner nodes points[offset[i] ..+ length[i]]
 * (numbered 0 .. n-2, the root n-2) and, at each, the branch taken,
 * codes[offset[i] ..+ length[i]] (0 or 1). Shorter paths for larger counts;
 * one symbol alone has an empty path. */
typedef struct w2v_huffman {
    int64_t n;
    int32_t *length, *points;
    int64_t *offset;
    uint8_t *codes;
} w2v_huffman;

/* counts[n] >= 0, 1 <= n < 2^31; ties broken by symbol index, so the code
 * is deterministic. */
int w2v_huffman_build(w2v_huffman *h, const int64_t *counts, int64_t n);
void w2v_huffman_free(w2v_huffman *h);

#ifdef __cplusplus
}
#endif

#endif
