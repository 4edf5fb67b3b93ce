/* A model brought back from a zoo checkpoint (a .safetensors file or a run
 * directory): its plugin loaded, its hyperparameters and tokenizer restored
 * from the metadata, its weights copied in. */
#ifndef ZOO_HOST_SAVED_MODEL_H
#define ZOO_HOST_SAVED_MODEL_H

#include "checkpoint.h"
#include "cli.h"
#include "config.h"
#include "zoo/tokenizer.h"

typedef struct zoo_saved_model {
    zoo_checkpoint *checkpoint;
    zoo_config *config; /* the run's resolved config */
    zoo_loaded *plugin;
    zoo_host_model *model;
    zoo_tokenizer *tokenizer; /* NULL when the checkpoint has none */
} zoo_saved_model;

/* True when MODEL names a checkpoint (an existing file or directory) rather
 * than a plugin. */
bool zoo_is_checkpoint_path(const char *model);

/* Opens MODEL with the plugins of r. Prints its own error; ZOO_OK or an exit status. */
int zoo_saved_model_open(const zoo_cli *cli, const zoo_registry *r, const char *model,
                         zoo_saved_model *out);
void zoo_saved_model_close(zoo_saved_model *m);

#endif
