/* The plugin ABI: what a model plugin exports and what the host calls.
 *
 * A plugin is a shared object that links only against libzoo, includes only
 * zoo's public headers, and exports one symbol,
 *
 *     const zoo_plugin *zoo_plugin_entry(void);
 *
 * (plus the extra functions its registry entry declares). The descriptor it
 * returns is static, constant data. The host checks the ABI version before it
 * reads anything else: a different major, or a minor newer than the host's,
 * is refused with a message naming both versions.
 *
 * Compatibility (docs/abi.md): every struct that crosses the boundary starts
 * with its size as the plugin was compiled (`size = sizeof(the struct)`) and
 * only ever grows at its end, so the host reads a field only when the
 * plugin's struct is long enough to hold it. A new field or operation bumps
 * the minor version; removing or changing one bumps the major.
 *
 * Errors: every operation returns ZOO_OK or a negative zoo_status and leaves
 * a message with zoo_error() (or in the graph: zoo_graph_fail). Operations
 * never print, exit or read files except through libzoo's helpers. */
#ifndef ZOO_PLUGIN_H
#define ZOO_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#include "zoo/hparams.h"
#include "zoo/params.h"
#include "zoo/rng.h"
#include "zoo/tensor.h"
#include "zoo/tokenizer.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ZOO_ABI_MAJOR 1
#define ZOO_ABI_MINOR 3

/* The name of the one symbol a plugin exports. */
#define ZOO_PLUGIN_ENTRY "zoo_plugin_entry"

/* The training objective a plugin implements: it tells the host's data
 * pipeline which batches to build. */
typedef enum zoo_objective {
    ZOO_OBJ_CAUSAL_LM = 1,        /* next token: ids [B,T], targets = ids shifted by one */
    ZOO_OBJ_MASKED_LM = 2,        /* masked tokens (+ next sentence): ids, targets, types, labels */
    ZOO_OBJ_BIDIRECTIONAL_LM = 3, /* forward and backward LM over the same window */
    ZOO_OBJ_WORD_VECTORS = 4,     /* skip-gram / CBOW over a token stream */
} zoo_objective;

/* Capability flags: an optional operation is present exactly when its flag is set. */
enum zoo_capability {
    ZOO_CAP_DECODE = 1u << 0,           /* cache_new, cache_free, decode_step (generation) */
    ZOO_CAP_FILL_MASK = 1u << 1,        /* fill_mask */
    ZOO_CAP_IMPORT = 1u << 2,           /* import_config, import_weights */
    ZOO_CAP_EXPORT = 1u << 3,           /* export_checkpoint */
    ZOO_CAP_SELF_UPDATE = 1u << 4,      /* train_step: the plugin updates its own parameters */
    ZOO_CAP_TOKENIZER = 1u << 5,        /* set_tokenizer (ABI 1.1) */
    ZOO_CAP_IMPORT_TOKENIZER = 1u << 6, /* import_tokenizer (ABI 1.2) */
};

/* A model instance; its layout is the plugin's own. */
typedef struct zoo_model zoo_model;

/* One batch, in the host's memory, valid for the duration of a call.
 * Arrays are row-major int32; an absent one is NULL. */
typedef struct zoo_batch {
    uint32_t size;          /* sizeof(zoo_batch) */
    int64_t B, T;           /* sequences and positions per sequence */
    const int32_t *ids;     /* [B,T] token ids */
    const int32_t *targets; /* [B,T] per-position targets, ZOO_IGNORE where none */
    const int32_t *mask;    /* [B,T] 1 = real token, 0 = padding */
    const int32_t *types;   /* [B,T] segment (token type) ids */
    const int32_t *labels;  /* [B] per-sequence labels (next sentence, classes) */

    /* --- ABI 1.3: only for a plugin whose descriptor asks (token_bytes > 0);
     * read them only when size covers them, and NULL otherwise --------- */

    /* [B,T,W] the UTF-8 bytes (0..255) of each position's token, truncated
     * to W bytes and padded with -1; W = the descriptor's token_bytes. The
     * bytes are the token's original text wherever the host has it: a word
     * encoded to [UNK] comes with its own bytes, a lowercasing tokenizer's
     * word with its case as written. Where the host has no text for a
     * token (a token it inserts: [CLS], [SEP]; one the masked LM replaces:
     * [MASK] or a random token; ids read from a file; a tokenizer type that
     * cannot say where its tokens are) they are the bytes of the token's
     * vocabulary string, and all -1 when there is no tokenizer. Padding
     * positions (mask 0) are all -1. */
    const int32_t *token_bytes;
    int64_t W; /* bytes per position in token_bytes */
} zoo_batch;

/* The target value that takes no loss. */
#define ZOO_IGNORE (-100)

/* What forward produces, each a tensor in the caller's graph, or NULL when
 * the model has no such output. */
typedef struct zoo_outputs {
    uint32_t size;      /* sizeof(zoo_outputs) */
    zoo_tensor *logits; /* [B,T,V] the language-model head */
    zoo_tensor *hidden; /* [B,T,C] the last hidden state */
    zoo_tensor *pooled; /* [B,C] one vector per sequence */
} zoo_outputs;

/* embed's layer for every layer at once: the plugin returns all the layers
 * it has, stacked, [L,B,T,C] with L >= 1, where layer i of the stack is what
 * embed gives for layer = i. A plugin with one set of vectors, or one built
 * before this value existed (which takes any negative layer for its
 * default), returns [B,T,C]; the host reads that as L = 1. So old plugins
 * keep working, and no ABI version marks the value (docs/abi.md). */
#define ZOO_EMBED_ALL_LAYERS (-2)

/* Named scalars a loss may report beside the loss (accuracy, the loss of a
 * part ...); the host logs them with the step and averages them over the
 * batches of an evaluation (zoo eval, train's evaluations), matching them by
 * name. Convention: a name ending in "_loss" is a mean cross-entropy in
 * nats, and wherever the host reports PREFIX_loss it also reports
 * PREFIX_perplexity = exp(PREFIX_loss), computed from the averaged loss,
 * never averaged over batches (docs/plugin-guide.md#metrics). */
#define ZOO_MAX_METRICS 8
typedef struct zoo_metrics {
    uint32_t size; /* sizeof(zoo_metrics) */
    int count;
    struct {
        const char *name; /* static string */
        double value;
    } items[ZOO_MAX_METRICS];
} zoo_metrics;

/* Adds a metric; ignored past ZOO_MAX_METRICS. */
ZOO_API void zoo_metrics_add(zoo_metrics *m, const char *name, double value);

/* What a self-updating training step reports. */
typedef struct zoo_step_stats {
    uint32_t size;  /* sizeof(zoo_step_stats) */
    double loss;    /* mean loss over the step */
    int64_t tokens; /* corpus tokens processed */
} zoo_step_stats;

typedef struct zoo_plugin_ops {
    uint32_t size; /* sizeof(zoo_plugin_ops) */

    /* --- required --------------------------------------------------- */

    /* Builds a model from validated hyperparameters, registering every
     * parameter in `params` by dotted name and initialising it from rng. */
    int (*create)(const zoo_hparams *hp, zoo_params *params, zoo_rng *rng, zoo_model **out);
    /* Frees the model (never the parameters: the host owns the store). */
    void (*destroy)(zoo_model *m);
    /* Inference outputs for a batch (ids, and mask/types when used). */
    int (*forward)(zoo_model *m, zoo_graph *g, const zoo_batch *batch, zoo_outputs *out);
    /* The training loss of a batch, built on g's tape (the host runs
     * backward and the optimizer). rng drives dropout; metrics may be NULL. */
    int (*loss)(zoo_model *m, zoo_graph *g, const zoo_batch *batch, zoo_rng *rng, zoo_tensor **loss,
                zoo_metrics *metrics);
    /* Vectors for every position [B,T,C]: the model's own idea of an
     * embedding. layer >= 0 picks one layer of a model with several (a
     * plugin refuses one it does not have); ZOO_EMBED_ALL_LAYERS asks for
     * all of them stacked, [L,B,T,C]; any other negative value means the
     * model's default. */
    int (*embed)(zoo_model *m, zoo_graph *g, const zoo_batch *batch, int layer, zoo_tensor **out);

    /* --- optional: NULL unless the capability flag is set ------------ */

    /* ZOO_CAP_DECODE: a key/value cache for B sequences of up to max_len
     * positions, and one decoding step: ids [B] at the next position ->
     * logits [B,V]. */
    int (*cache_new)(zoo_model *m, int64_t B, int64_t max_len, void **cache);
    void (*cache_free)(zoo_model *m, void *cache);
    int (*decode_step)(zoo_model *m, zoo_graph *g, void *cache, const int32_t *ids, int64_t B,
                       zoo_tensor **logits);

    /* ZOO_CAP_FILL_MASK: logits [N,V] for the N positions of the batch
     * whose id is mask_id, in row-major order. */
    int (*fill_mask)(zoo_model *m, zoo_graph *g, const zoo_batch *batch, int32_t mask_id,
                     zoo_tensor **logits);

    /* ZOO_CAP_IMPORT: a foreign model directory (a HuggingFace directory,
     * another tool's files ...). First its configuration into the
     * hyperparameters, then, once the host has created the model, its
     * weights. The host offers every directory that is not a zoo run to
     * every plugin with the flag, in registry order: import_config answers
     * ZOO_ERR_NOTFOUND, with a message, for a directory not in its format
     * (none of its files, another model type's), and the host asks the
     * next plugin; any other error stops there (the plugin's, but broken). */
    int (*import_config)(const char *path, zoo_hparams *hp);
    int (*import_weights)(zoo_model *m, zoo_params *params, const char *path);

    /* ZOO_CAP_EXPORT: writes the model in a foreign format (one of `formats`). */
    int (*export_checkpoint)(zoo_model *m, const zoo_params *params, const zoo_hparams *hp,
                             const char *format, const char *path);

    /* ZOO_CAP_SELF_UPDATE: one training step that updates the parameters
     * itself (sparse updates, its own threads from libzoo's pool) at
     * learning rate lr. */
    int (*train_step)(zoo_model *m, const zoo_batch *batch, float lr, zoo_rng *rng,
                      zoo_step_stats *stats);

    /* --- ABI 1.1 ------------------------------------------------------ */

    /* ZOO_CAP_TOKENIZER: the model's tokenizer, given once right after
     * create whenever the host has one (training, a checkpoint, an import
     * whose directory holds one). It outlives the model, so the plugin may
     * keep the pointer: for token strings and the corpus counts
     * (zoo_tokenizer_count), which word2vec's sampling tables need. */
    int (*set_tokenizer)(zoo_model *m, const zoo_tokenizer *tok);

    /* --- ABI 1.2 ------------------------------------------------------ */

    /* ZOO_CAP_IMPORT_TOKENIZER: the tokenizer of a foreign checkpoint at
     * path (a HuggingFace directory ...), read as this plugin's import
     * reads it: GPT-2's vocab.json + merges.txt, BERT's vocab.txt. It needs
     * no config.json (zoo tokenize reads a directory of tokenizer files
     * alone). ZOO_ERR_NOTFOUND, with a message, when path holds no tokenizer
     * this plugin reads: the host goes on without one (or asks another
     * plugin); any other error means the files are there but wrong. The
     * tokenizer must be of a type libzoo knows (built in, or one of this
     * plugin's `tokenizers`), or the host refuses it; the host frees it
     * before it unloads the plugin. */
    int (*import_tokenizer)(const char *path, zoo_tokenizer **out);
} zoo_plugin_ops;

typedef struct zoo_plugin {
    uint32_t size;                 /* sizeof(zoo_plugin) */
    uint16_t abi_major, abi_minor; /* ZOO_ABI_MAJOR, ZOO_ABI_MINOR as compiled */
    const char *name;              /* [a-z0-9_]+, the registry name */
    const char *version;           /* the plugin's own version, "1.2.0" */
    const char *summary;           /* one line */
    zoo_objective objective;
    const zoo_hparam_spec *hparams;
    int n_hparams;
    uint32_t capabilities;      /* zoo_capability flags */
    const char *const *formats; /* import/export formats, NULL-terminated, or NULL */
    const zoo_plugin_ops *ops;

    /* --- ABI 1.2 ------------------------------------------------------ */

    /* The tokenizer types this plugin provides (zoo/tokenizer.h: a name,
     * train, from_json, and optionally load and save), NULL-terminated, or
     * NULL. While the host has the plugin loaded they are registered with
     * libzoo (zoo_tokenizer_register_types), so configs
     * (data.tokenizer.type), checkpoints (zoo.tokenizer) and files name them
     * as they name the built-in ones. The registry entry must list exactly
     * these names under "tokenizers", which is how the host finds the plugin
     * to load for a type without opening every library. A name another type
     * already has is refused at load. The host unloads the plugin only when
     * no tokenizer of its types is alive. */
    const struct zoo_tokenizer_def *const *tokenizers; /* zoo/tokenizer_type.h */

    /* --- ABI 1.3 ------------------------------------------------------ */

    /* How many bytes of each token's text the plugin reads (zoo_batch's
     * token_bytes, W = this), 0 for none. A model that reads characters (a
     * character-level word encoder, which must see words outside its
     * vocabulary) asks here; the host then fills token_bytes in every
     * batch it builds from text, and pays nothing for plugins that do not
     * ask. At most 1024. */
    int32_t token_bytes;
} zoo_plugin;

typedef const zoo_plugin *(*zoo_plugin_entry_fn)(void);

/* An extra function declared with a "buffer" argument gets a host buffer of
 * this many bytes to fill with NUL-terminated text (see docs/plugin-guide.md). */
#define ZOO_EXTRA_BUFFER_BYTES 65536

/* A plugin defines its entry point with this, so its one exported symbol is
 * spelled and typed right:  ZOO_PLUGIN_EXPORT const zoo_plugin *zoo_plugin_entry(void) {...} */
#define ZOO_PLUGIN_EXPORT __attribute__((visibility("default")))

#ifdef __cplusplus
}
#endif
#endif
