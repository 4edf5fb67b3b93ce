/* A run's data, from its config: the corpus read and checked, the tokenizer
 * trained on it (or restored from a checkpoint), every line encoded, and the
 * training and validation splits as batcher datasets. */
#ifndef ZOO_HOST_DATA_H
#define ZOO_HOST_DATA_H

#include "batcher.h"
#include "config.h"
#include "corpus_files.h"
#include "loader.h"
#include "zoo/tokenizer.h"

typedef struct zoo_text_ids {
    zoo_ids ids;
    int64_t *lines; /* where each line's ids start */
    int64_t n_lines, cap_lines;
    int64_t bytes; /* UTF-8 bytes of text encoded */
    int64_t replacements;
    /* Set keep_text before encoding to keep the text and each token's span
     * in it (zoo_tokenizer_encode_spans): what token bytes are cut from. */
    bool keep_text;
    char *text; /* every file encoded, one after the other */
    int64_t text_len, text_cap;
    zoo_spans spans; /* [ids.count], relative to text */
} zoo_text_ids;

/* The dataset of t (its lines when `lines`, its text and spans when kept). */
zoo_dataset zoo_text_dataset(const zoo_text_ids *t, bool lines);

typedef struct zoo_data {
    zoo_tokenizer *tok;
    zoo_loaded *provider;              /* the plugin providing tok's type, loaded for it; or NULL */
    zoo_text_ids train_text, val_text; /* val_text is empty when val is a split of train */
    zoo_dataset train, val;
    int64_t train_bytes, val_bytes;
} zoo_data;

/* Reads data.train (and data.val), builds or restores the tokenizer
 * (tokenizer_json from a checkpoint, or NULL to train or load one with
 * data.tokenizer), encodes, splits. A tokenizer type no plugin loaded so far
 * provides is provided by the plugin of r that declares it (tokenizers.h),
 * which zoo_data_free unloads. objective decides the special tokens a new
 * tokenizer gets; keep_text keeps the text and token spans (a plugin that
 * reads token bytes). NULL with a message naming the file. */
zoo_data *zoo_data_load(const zoo_config *c, const zoo_registry *r, const char *tokenizer_json,
                        zoo_objective objective, bool keep_text);
void zoo_data_free(zoo_data *d);

/* Encodes files with an existing tokenizer (zoo eval --data); lines as for training. */
int zoo_text_encode_files(const zoo_tokenizer *tok, const char *const *paths, int n,
                          zoo_utf8_policy policy, bool lines, zoo_text_ids *out);
void zoo_text_ids_free(zoo_text_ids *t);

#endif
