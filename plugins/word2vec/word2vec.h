/* word2vec (Mikolov et al. 2013): one static vector per word, learned by
 * predicting words from their neighbours. Skip-gram predicts the centre word
 * from each context word, CBOW from the sum or mean of the context; the
 * prediction is trained by negative sampling (the true word against k words
 * drawn from the unigram counts^0.75) and/or hierarchical softmax (the
 * binary decisions along the word's Huffman path).
 *
 * Parameters, in word2vec.c's names: input [V,dim] (syn0, the word vectors),
 * output [V,dim] (syn1neg, with negative sampling) and output_hs [V-1,dim]
 * (syn1, one row per inner node of the Huffman tree, with hierarchical
 * softmax). A checkpoint holds them all, so training can go on.
 *
 * Training updates the parameters itself (ZOO_CAP_SELF_UPDATE): every step
 * is one chunk of the corpus, split at sentence ends among the pool's
 * threads, which update the shared matrices without locks (Hogwild, as
 * word2vec.c and gensim do). */
#ifndef ZOO_WORD2VEC_H
#define ZOO_WORD2VEC_H

#include <stdbool.h>
#include <stdint.h>

#include "w2v_sampling.h"
#include "zoo/zoo.h"

struct zoo_model {
    int64_t V, dim;
    bool cbow, cbow_mean, hs;
    int window, negative;
    double sample, ns_exponent;
    zoo_tensor *input, *output, *output_hs; /* owned by the host's store; output(_hs) may be NULL */
    /* From the tokenizer (set_tokenizer): */
    const zoo_tokenizer *tok;
    w2v_alias_table noise; /* counts^ns_exponent */
    w2v_huffman tree;
    /* keep[id]: the probability, times 2^32, that an occurrence of id is
     * trained (sub-sampling); 0 for ids never trained (specials, [UNK]) */
    uint64_t *keep;
};

/* The matrices and settings one update reads. */
typedef struct w2v_update {
    int64_t dim;
    float *input, *output, *output_hs;
    const w2v_huffman *tree; /* NULL without hierarchical softmax */
    bool cbow, cbow_mean;
} w2v_update;

/* One centre word: skip-gram (each context word in turn predicts it) or
 * CBOW (the context's sum, or mean, predicts it), at learning rate alpha.
 * Negative sampling trains against centre (label 1) and n_neg noise words
 * (label 0; one equal to the centre is skipped): skip-gram has a set per
 * context word, context j's at neg + j*n_neg (as word2vec.c and gensim draw
 * them per pair), CBOW one set, neg[0..n_neg). Hierarchical softmax follows
 * the centre's Huffman path, when u->tree is set. Each prediction's f is
 * computed from the values current at that moment (sequential SGD, as
 * word2vec.c), and a context word takes the accumulated error unscaled,
 * also for CBOW's mean. work holds 2*dim floats. Returns the summed loss,
 * -log sigmoid(+-f), and adds the number of binary predictions to
 * *predictions. (Training takes the loss of one centre word in eight only:
 * see w2v_train.c.) */
double w2v_update_centre(const w2v_update *u, int32_t centre, const int32_t *context, int n_context,
                         const int32_t *neg, int n_neg, float alpha, float *work,
                         int64_t *predictions);

/* One training step over a chunk (see word2vec.c). */
int w2v_train_chunk(zoo_model *m, const zoo_batch *batch, float alpha, zoo_rng *rng, bool update,
                    zoo_step_stats *stats);

#endif
