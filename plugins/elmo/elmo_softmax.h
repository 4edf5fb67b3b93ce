/* The training softmax for a large vocabulary (elmo_softmax.c). */
#ifndef ZOO_ELMO_SOFTMAX_H
#define ZOO_ELMO_SOFTMAX_H

#include "elmo.h"

/* Sampled softmax, as bilm-tf trains ELMo: both directions' rows h[d]
 * [N,P] with targets[d] [N] (ZOO_IGNORE where none) are scored against one
 * candidate set per batch, every word that is some row's target plus
 * m->samples words drawn from the unigram distribution, each candidate's
 * logit lowered by the log of its probability to be drawn (the correction
 * that makes the sampled partition sum an estimate of the full one).
 * ce[d] receives direction d's mean cross-entropy over its candidates.
 * Returns ZOO_OK or the graph's status. */
int elmo_sampled_softmax(zoo_model *m, zoo_graph *g, zoo_tensor *const h[2],
                         const int32_t *const targets[2], int64_t N, zoo_rng *rng,
                         zoo_tensor *ce[2]);

/* Frees the sampling table the first sampled step built. */
void elmo_softmax_free(zoo_model *m);

#endif
