/* A model's card (registry.h's zoo_model_card) read against its
 * hyperparameters: the sizes a comparison table shows and the context a
 * long text is windowed by. */
#ifndef ZOO_HOST_MODEL_CARD_H
#define ZOO_HOST_MODEL_CARD_H

#include <stdbool.h>
#include <stdint.h>

#include "registry.h"
#include "zoo/hparams.h"

typedef struct zoo_card_sizes {
    int64_t layers;  /* -1: the card does not say */
    int64_t width;   /* -1: the card does not say */
    int64_t context; /* the most positions one forward takes; 0: any length */
} zoo_card_sizes;

/* The card's sizes for a model built with hp. A field naming a
 * hyperparameter that hp lacks, or one that is not an integer, is an error
 * naming the registry file and the field (the loader checks this against
 * the plugin's defaults, so a loaded plugin's card always resolves). */
int zoo_card_sizes_of(const zoo_reg_entry *e, const zoo_hparams *hp, zoo_card_sizes *out);

/* Whether a parameter belongs to a pretraining head (its name starts with
 * one of the card's heads). */
bool zoo_card_is_head(const zoo_reg_entry *e, const char *param_name);

#endif
