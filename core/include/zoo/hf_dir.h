/* HuggingFace model directories, as transformers' save_pretrained writes
 * them: DIR/config.json (the configuration, one JSON object) and
 * DIR/model.safetensors (the weights under the names the modeling code
 * gives them). A plugin that imports or exports such a directory supplies
 * only what is its own, as data: which config.json keys are which
 * hyperparameters (a field table) and which tensors are which parameters (a
 * name map); this module does the rest, both ways. zoo never reads
 * pytorch_model.bin: it would have to unpickle it.
 *
 * Every message names the file and the key or tensor:
 * "DIR/config.json: n_embd: missing",
 * "DIR/model.safetensors: tensor 'transformer.wte.weight' (or 'wte.weight') is missing".
 * Nothing here keeps state: any number of threads may use it on different
 * objects. */
#ifndef ZOO_HF_DIR_H
#define ZOO_HF_DIR_H

#include <stddef.h>

#include "zoo/export.h"
#include "zoo/hparams.h"
#include "zoo/json.h"
#include "zoo/params.h"

#ifdef __cplusplus
extern "C" {
#endif

enum zoo_hf_flags {
    /* a field: a config.json without the key leaves the hyperparameter as it
     * is. A name rule: a file without any of its spellings leaves the
     * parameter as it is (BERT's pretraining heads, which a BertModel file lacks). */
    ZOO_HF_OPTIONAL = 1u << 0,
    /* a name rule: the file holds the 2-D parameter transposed, [out,in]
     * (nn.Linear) where zoo keeps [in,out] (GPT-2's Conv1D layout) or the
     * reverse; reading and writing transpose it */
    ZOO_HF_TRANSPOSED = 1u << 1,
};

/* --- config.json ------------------------------------------------------- */

/* DIR/config.json into *out (NULL on failure; free it with zoo_json_free).
 * ZOO_ERR_NOTFOUND when DIR has no config.json (not a HuggingFace
 * directory: an import_config passes it on, and the host asks the next
 * plugin), ZOO_ERR_IO when it is there but cannot be read, ZOO_ERR_FORMAT
 * when it is not JSON ("DIR/config.json:3:7: malformed JSON") or not an
 * object. */
ZOO_API int zoo_hf_config_load(const char *dir, zoo_json **out);

/* Whether the config is model_type's. ZOO_ERR_NOTFOUND when its model_type
 * is another ("DIR/config.json: model_type is \"bert\", not \"gpt2\"") or
 * absent ("model_type is missing, not \"bert\""): the host asks the next
 * plugin. Configs from before transformers wrote model_type are accepted
 * without one when legacy_key (a key only this model's configs have,
 * GPT-2's "n_embd") is not NULL and present. ZOO_ERR_FORMAT when
 * model_type is not a string. */
ZOO_API int zoo_hf_config_check_type(const zoo_json *cfg, const char *model_type,
                                     const char *legacy_key);

/* ZOO_OK when key is absent or its string is one of `allowed` (NULL-
 * terminated); ZOO_ERR_FORMAT otherwise, `what` completing the message:
 * "DIR/config.json: hidden_act \"relu\" is not BERT's exact (erf) GELU". */
ZOO_API int zoo_hf_config_check_choice(const zoo_json *cfg, const char *key,
                                       const char *const *allowed, const char *what);

/* One config.json key that holds one hyperparameter. A field table is an
 * array of these ending with {NULL}:
 *     {{"n_positions", "block_size"}, {"layer_norm_epsilon", "layer_norm_epsilon",
 *     ZOO_HF_OPTIONAL}, {NULL}} */
typedef struct zoo_hf_field {
    const char *key;    /* in config.json */
    const char *hparam; /* in the plugin's schema */
    unsigned flags;     /* ZOO_HF_OPTIONAL */
} zoo_hf_field;

/* Sets each field's hyperparameter from the config, as the schema types it:
 * a number for INT (a whole one) and FLOAT, true/false for BOOL, a string
 * for STRING and ENUM. ZOO_ERR_FORMAT for a required key that is missing,
 * a value of another JSON type or one the schema refuses (out of range), the
 * message naming the file and the key ("DIR/config.json: n_head: expected a
 * number"); ZOO_ERR_ARG for a field whose hyperparameter is not in the schema. */
ZOO_API int zoo_hf_config_to_hparams(const zoo_json *cfg, const zoo_hf_field *fields,
                                     zoo_hparams *hp);

/* The reverse, for export: each field's key set in cfg from its
 * hyperparameter (optional ones too). ZOO_ERR_ARG as above. */
ZOO_API int zoo_hf_config_from_hparams(zoo_json *cfg, const zoo_hf_field *fields,
                                       const zoo_hparams *hp);

/* --- model.safetensors ------------------------------------------------- */

#define ZOO_HF_MAX_SPELLINGS 8

/* One rule of a name map: which HuggingFace tensor a zoo parameter is. A
 * map is an array of rules ending with {NULL}; a parameter takes the first
 * rule whose pattern it matches. A pattern is text with at most one '*',
 * which matches any run of characters ("*", "cls.*", "*LayerNorm.weight",
 * "h.*.mlp.c_fc.weight"); without one it matches the name itself. `hf`
 * lists the spellings a file may use, tried in this order, NULL after the
 * last; a '*' in a spelling stands for what the pattern's '*' matched. The
 * first spelling is the one export writes. GPT-2, whose hub files come with
 * and without the "transformer." prefix:
 *     {{"*", {"transformer.*", "*"}}, {NULL}} */
typedef struct zoo_hf_name {
    const char *zoo;
    const char *hf[ZOO_HF_MAX_SPELLINGS];
    unsigned flags; /* ZOO_HF_OPTIONAL, ZOO_HF_TRANSPOSED */
} zoo_hf_name;

/* Spelling k (from 0) of parameter `name` under map, into buf. ZOO_OK;
 * ZOO_ERR_NOTFOUND when its rule has no spelling k; ZOO_ERR_ARG when no rule
 * matches the name, a rule is malformed (two '*' in a pattern or spelling, a
 * '*' in a spelling whose pattern has none, no spelling) or buf is too small. */
ZOO_API int zoo_hf_name_of(const zoo_hf_name *map, const char *name, int k, char *buf, size_t size);

/* Reads every parameter of params from DIR/model.safetensors: for each, the
 * first of its rule's spellings that the file holds. F32 is read as it is,
 * F16 and BF16 are widened exactly, F64 rounded. Tensors no parameter maps
 * to (GPT-2's lm_head.weight, tied to the embeddings; attention-mask
 * buffers) are ignored. Parameters are looked up by name in the file's
 * sorted index: O(P log N).
 * Errors: a directory with only pytorch_model.bin is refused
 * (zoo_st_open_model_dir, ZOO_ERR_FORMAT); a missing tensor is ZOO_ERR_FORMAT
 * naming every spelling ("DIR/model.safetensors: tensor 'bert.x' (or 'x') is
 * missing"), as is a shape other than the parameter's ("...: tensor 'x' has
 * shape [3,2], the model expects [2,3]"; reversed for ZOO_HF_TRANSPOSED); a
 * dtype that is not a float is ZOO_ERR_SHAPE; ZOO_ERR_ARG as for
 * zoo_hf_name_of, and for ZOO_HF_TRANSPOSED on a parameter that is not 2-D.
 * After an error some parameters may hold the file's values already. */
ZOO_API int zoo_hf_weights_load(const char *dir, const zoo_hf_name *map, zoo_params *params);

/* Writes a HuggingFace directory: creates DIR when it is absent (not its
 * parents), writes DIR/model.safetensors, every parameter under its rule's
 * first spelling as F32 (transposed back for ZOO_HF_TRANSPOSED) with the
 * metadata {"format": "pt"} that transformers writes and expects, then
 * config as DIR/config.json (zoo_json_write). Each file is replaced
 * atomically; the weights come first, so a new directory whose export
 * failed holds no config.json and is not taken for a model. ZOO_ERR_IO
 * naming the path;
 * ZOO_ERR_ARG as for zoo_hf_name_of, and for two parameters mapped to one name. */
ZOO_API int zoo_hf_dir_write(const char *dir, const zoo_json *config, const zoo_hf_name *map,
                             const zoo_params *params);

#ifdef __cplusplus
}
#endif
#endif
