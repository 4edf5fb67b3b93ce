/* A model instance as the host holds it: the plugin that made it, its
 * hyperparameters and its parameter store. */
#ifndef ZOO_HOST_MODEL_H
#define ZOO_HOST_MODEL_H

#include "loader.h"

typedef struct zoo_host_model {
    zoo_loaded *plugin;
    zoo_model *model;
    zoo_params *params;
    zoo_hparams *hp;
} zoo_host_model;

/* Creates a model from hyperparameters (taking ownership of hp, freed on
 * failure too), initialised from a generator seeded with `seed`, and hands
 * it its tokenizer (NULL: none) when the plugin asks for one. The tokenizer
 * must outlive the model. */
int zoo_host_model_create(zoo_loaded *p, zoo_hparams *hp, uint64_t seed, const zoo_tokenizer *tok,
                          zoo_host_model **out);
/* The same for a model whose every parameter is then read from a
 * checkpoint: the plugin's initial values are not drawn
 * (zoo_params_skip_init), which saves the time and, for weights quantized
 * as they load, the float32 memory. */
int zoo_host_model_create_empty(zoo_loaded *p, zoo_hparams *hp, const zoo_tokenizer *tok,
                                zoo_host_model **out);
void zoo_host_model_destroy(zoo_host_model *m);

#endif
