/* The char-CNN as one operator of the plugin's own (elmo_charcnn.c). */
#ifndef ZOO_ELMO_CHARCNN_H
#define ZOO_ELMO_CHARCNN_H

#include "elmo.h"

/* Character ids [U, max_chars] (0..260) -> [U, D]: for each bank i and
 * filter f, max over the "valid" windows t of
 *   cnn_b[i][f] + sum_{k<K_i, e} cnn_w[i][f,k,e] * char_embed[ids[u, t+k], e],
 * banks side by side (before the activation, which commutes with the max).
 * The same as zoo_embedding + zoo_conv1d_maxpool per bank + zoo_concat. */
zoo_tensor *elmo_char_cnn(zoo_graph *g, zoo_model *m, zoo_tensor *ids);

#endif
