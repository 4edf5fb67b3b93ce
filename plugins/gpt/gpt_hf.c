/* HuggingFace GPT-2 directories: config.json (GPT2Config's names) and
 * model.safetensors, tensors named as GPT2LMHeadModel ("transformer.h.0...")
 * or GPT2Model (no prefix) saves them; lm_head.weight (tied to wte) and the
 * attn.bias / attn.masked_bias buffers are not parameters and are ignored.
 * The directory itself is libzoo's (zoo/hf_dir.h): what is here is GPT-2's. */
#include <string.h>

#include "gpt.h"

/* config.json key -> hyperparameter; n_ctx, older configs' copy of
 * n_positions, is written on export but not read */
static const zoo_hf_field gpt_fields[] = {
    {"n_layer", "n_layer", 0},
    {"n_head", "n_head", 0},
    {"n_embd", "n_embd", 0},
    {"n_positions", "block_size", 0},
    {"vocab_size", "vocab_size", 0},
    {"layer_norm_epsilon", "layer_norm_epsilon", ZOO_HF_OPTIONAL},
    {NULL}};

/* Parameters already carry GPT2Model's names (Conv1D weights [in,out], as
 * the files hold them); GPT2LMHeadModel puts them under "transformer.". */
static const zoo_hf_name gpt_names[] = {{"*", {"transformer.*", "*"}, 0}, {NULL}};

/* the tanh approximation of GELU under transformers' names for it */
static const char *const tanh_gelu[] = {"gelu_new", "gelu_pytorch_tanh", "gelu_fast", NULL};

int gpt_import_config(const char *path, zoo_hparams *hp) {
    zoo_json *cfg;
    int st = zoo_hf_config_load(path, &cfg);
    if (!st) st = zoo_hf_config_check_type(cfg, "gpt2", "n_embd");
    if (!st)
        st = zoo_hf_config_check_choice(cfg, "activation_function", tanh_gelu, "GPT-2's tanh GELU");
    if (!st) st = zoo_hf_config_to_hparams(cfg, gpt_fields, hp);
    if (!st) st = zoo_hparams_set_bool(hp, "bias", true);
    if (!st)
        st = zoo_hparams_set_float(hp, "dropout", 0); /* inference; a fine-tune config may set it */
    zoo_json_free(cfg);
    return st;
}

/* vocab.json + merges.txt (HuggingFace's names) or encoder.json + vocab.bpe
 * (OpenAI's); ZOO_ERR_NOTFOUND when neither pair is complete. */
int gpt_import_tokenizer(const char *path, zoo_tokenizer **out) {
    return zoo_tokenizer_load_gpt2(path, out);
}

int gpt_import_weights(zoo_model *m, zoo_params *params, const char *path) {
    (void)m;
    return zoo_hf_weights_load(path, gpt_names, params);
}

int gpt_export(zoo_model *m, const zoo_params *params, const zoo_hparams *hp, const char *format,
               const char *path) {
    if (strcmp(format, "hf") != 0)
        return zoo_error(ZOO_ERR_ARG, "gpt: cannot export to \"%s\" (only hf)", format);
    if (!m->bias)
        return zoo_error(ZOO_ERR_ARG,
                         "gpt: a model without biases has no GPT-2 equivalent to export");
    zoo_json *cfg = zoo_json_new();
    int st = cfg ? ZOO_OK : ZOO_ERR_NOMEM;
    if (!st) st = zoo_json_set_string(cfg, "model_type", "gpt2");
    if (!st)
        st = zoo_json_set_strings(cfg, "architectures", (const char *[]){"GPT2LMHeadModel"}, 1);
    if (!st) st = zoo_hf_config_from_hparams(cfg, gpt_fields, hp);
    if (!st) st = zoo_json_set_number(cfg, "n_ctx", (double)m->block_size);
    if (!st) st = zoo_json_set_string(cfg, "activation_function", "gelu_new");
    if (!st) st = zoo_json_set_bool(cfg, "tie_word_embeddings", true);
    if (!st) st = zoo_hf_dir_write(path, cfg, gpt_names, params);
    zoo_json_free(cfg);
    return st;
}
