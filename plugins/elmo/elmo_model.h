/* The elmo plugin's forward computation: the word encoder, the biLM and
 * its losses (elmo_model.c), called through the plugin's vtable. */
#ifndef ZOO_ELMO_MODEL_H
#define ZOO_ELMO_MODEL_H

#include "elmo.h"

int elmo_forward(zoo_model *m, zoo_graph *g, const zoo_batch *batch, zoo_outputs *out);
int elmo_loss(zoo_model *m, zoo_graph *g, const zoo_batch *batch, zoo_rng *rng, zoo_tensor **loss,
              zoo_metrics *metrics);
int elmo_embed(zoo_model *m, zoo_graph *g, const zoo_batch *batch, int layer, zoo_tensor **out);

#endif
