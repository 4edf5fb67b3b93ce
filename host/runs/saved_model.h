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
    /* the plugin providing the tokenizer's type, when plugin does not and it
     * had to be loaded for it (tokenizers.h); else NULL */
    zoo_loaded *tokenizer_plugin;
    zoo_registry *registry; /* zoo_cli_open_model's, which zoo_cli_close_model frees; else NULL */
    /* a foreign directory without a tokenizer: the importer's reason, naming
     * the files it looked for; else "" */
    char no_tokenizer[512];
} zoo_saved_model;

/* What a command needs of the model it opens. */
enum {
    ZOO_NEEDS_TOKENIZER = 1u << 0,    /* the model carries its tokenizer */
    ZOO_NEEDS_GENERATE = 1u << 1,     /* a decode step, or else a causal language model */
    ZOO_NEEDS_FILL_MASK = 1u << 2,    /* the fill-mask capability */
    ZOO_NEEDS_WORD_VECTORS = 1u << 3, /* a word-vector model: static vectors for its vocabulary */
};

/* How every command opens MODEL (a checkpoint, a run directory, or a
 * foreign model directory: any other directory, offered in registry order
 * to every plugin with ZOO_CAP_IMPORT until one's import_config accepts
 * it): the registry of the command line (zoo_cli_registry), the model (with
 * the tokenizer of cli->tokenizer's directory instead of its own when
 * --tokenizer DIR is given, read as zoo_foreign_tokenizer_open reads one),
 * refused when the tokenizer, wherever it came from (--tokenizer, the
 * checkpoint's zoo.tokenizer, a foreign directory's files), has more tokens
 * than the model's vocab_size (its ids would index past the embeddings and
 * sampling would read past the logits), then
 * what `needs` asks, checked in the
 * order above but capabilities first, each missing one refused with one
 * line that starts with MODEL and says what the model lacks:
 *   runs/a: plugin 'bigram' cannot fill masks (it is not a masked language model)
 *   gpt2-tiny: no tokenizer: no GPT-2 tokenizer files (vocab.json and merges.txt, or
 *     encoder.json and vocab.bpe); --tokenizer DIR reads them from another directory
 *   notes: no plugin imports this directory: it is not a zoo run (no
 *     latest.safetensors), and no plugin that imports models (a, b) reads its files
 * 0, or an exit status after printing; on failure nothing stays open.
 * Close with zoo_cli_close_model. */
int zoo_cli_open_model(const zoo_cli *cli, const char *model, unsigned needs, zoo_saved_model *out);
/* Closes what zoo_cli_open_model opened, its registry too; a zeroed m is a no-op. */
void zoo_cli_close_model(zoo_saved_model *m);

/* True when MODEL names a checkpoint (an existing file or directory) rather
 * than a plugin. */
bool zoo_is_checkpoint_path(const char *model);

/* True when path is a directory that is not a zoo run (no
 * latest.safetensors): a foreign checkpoint, or tokenizer files alone. */
bool zoo_is_foreign_directory(const char *path);

/* The tokenizer of a foreign directory alone, without its weights (zoo
 * tokenize): imported by the plugin that imports the directory, as opening
 * the model would; without one (or when that plugin finds no tokenizer), by
 * the first plugin of r whose import_tokenizer reads the directory
 * (tokenizer files alone: vocab.json + merges.txt, vocab.txt). *plugin is that plugin: unload it
 * after freeing *tok. Prints its own error; ZOO_OK or an exit status. */
int zoo_foreign_tokenizer_open(const zoo_cli *cli, const zoo_registry *r, const char *dir,
                               zoo_tokenizer **tok, zoo_loaded **plugin);

#endif
