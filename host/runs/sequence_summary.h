/* One vector per sequence, what a classification head reads: a model's
 * pooled output (BERT's [CLS] through its pooler) or, for models without a
 * pooler, the mean of the hidden states over the real (unpadded) tokens. */
#ifndef ZOO_HOST_SEQUENCE_SUMMARY_H
#define ZOO_HOST_SEQUENCE_SUMMARY_H

#include "saved_model.h"

/* (B,C) in g, or NULL with the graph's (or plugin's) error set. */
zoo_tensor *zoo_sequence_summary(const zoo_saved_model *m, zoo_graph *g, const zoo_batch *b);

#endif
