/* HuggingFace GPT-2 directories: config.json (GPT2Config's names) and
 * model.safetensors, tensors named as GPT2LMHeadModel ("transformer.h.0...")
 * or GPT2Model (no prefix) saves them; lm_head.weight (tied to wte) and the
 * attn.bias / attn.masked_bias buffers are not parameters and are ignored.
 * A post-LN model is GPT-1's, HuggingFace's "openai-gpt": the same config
 * keys and block tensors, the embeddings named tokens_embed and
 * positions_embed, no ln_f.
 * The directory itself is libzoo's (zoo/hf_dir.h): what is here is GPT-2's. */
#include <stdio.h>
#include <stdlib.h>
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
    {0}};

/* Parameters already carry GPT2Model's names (Conv1D weights [in,out], as
 * the files hold them); GPT2LMHeadModel puts them under "transformer.". */
static const zoo_hf_name gpt_names[] = {{"*", {"transformer.*", "*"}, 0}, {0}};
/* OpenAIGPTModel's, under "transformer." in OpenAIGPTLMHeadModel's files */
static const zoo_hf_name gpt1_names[] = {
    {"wte.weight", {"transformer.tokens_embed.weight", "tokens_embed.weight"}, 0},
    {"wpe.weight", {"transformer.positions_embed.weight", "positions_embed.weight"}, 0},
    {"*", {"transformer.*", "*"}, 0},
    {0}};

/* the tanh approximation of GELU under transformers' names for it */
static const char *const tanh_gelu[] = {"gelu_new", "gelu_pytorch_tanh", "gelu_fast", NULL};
/* OpenAIGPTConfig's afn: its "gelu" is the same tanh GELU (modeling_openai maps it to gelu_new) */
static const char *const gpt1_gelu[] = {"gelu", "gelu_new", NULL};

/* Whether config.json is GPT-1's (model_type "openai-gpt"). */
static bool is_gpt1(const zoo_json *cfg) {
    int st = zoo_hf_config_check_type(cfg, "openai-gpt", NULL);
    zoo_error_clear();
    return st == ZOO_OK;
}

int gpt_import_config(const char *path, zoo_hparams *hp) {
    zoo_json *cfg;
    int st = zoo_hf_config_load(path, &cfg);
    bool gpt1 = !st && is_gpt1(cfg);
    if (!st && !gpt1) st = zoo_hf_config_check_type(cfg, "gpt2", "n_embd");
    if (!st && gpt1) st = zoo_hf_config_check_choice(cfg, "afn", gpt1_gelu, "GPT-1's tanh GELU");
    if (!st && !gpt1)
        st = zoo_hf_config_check_choice(cfg, "activation_function", tanh_gelu, "GPT-2's tanh GELU");
    if (!st) st = zoo_hf_config_to_hparams(cfg, gpt_fields, hp);
    if (!st) st = zoo_hparams_set_bool(hp, "bias", true);
    if (!st) st = zoo_hparams_set_string(hp, "layer_norm_position", gpt1 ? "post" : "pre");
    if (!st)
        st = zoo_hparams_set_float(hp, "dropout", 0); /* inference; a fine-tune config may set it */
    zoo_json_free(cfg);
    return st;
}

/* Whether DIR/merges.txt marks word ends with "</w>": GPT-1's own BPE
 * (over ftfy- and spaCy-split words), not GPT-2's byte-level one. */
static bool word_end_merges(const char *path) {
    char file[4096], line[512];
    snprintf(file, sizeof file, "%s/merges.txt", path);
    FILE *f = fopen(file, "r");
    bool found = false;
    while (f && !found && fgets(line, sizeof line, f)) found = strstr(line, "</w>") != NULL;
    if (f) fclose(f);
    return found;
}

/* vocab.json + merges.txt (HuggingFace's names) or encoder.json + vocab.bpe
 * (OpenAI's); ZOO_ERR_NOTFOUND when neither pair is complete, or when the
 * pair is GPT-1's word-end BPE, which zoo does not implement (the model
 * still loads, without a tokenizer). */
int gpt_import_tokenizer(const char *path, zoo_tokenizer **out) {
    if (word_end_merges(path))
        return zoo_error(ZOO_ERR_NOTFOUND, "%s/merges.txt: GPT-1's BPE, not a tokenizer zoo reads",
                         path);
    return zoo_tokenizer_load_gpt2(path, out);
}

int gpt_import_weights(zoo_model *m, zoo_params *params, const char *path) {
    return zoo_hf_weights_load(path, m->post_ln ? gpt1_names : gpt_names, params);
}

int gpt_export(zoo_model *m, const zoo_params *params, const zoo_hparams *hp, const char *format,
               const char *path) {
    if (strcmp(format, "hf") != 0)
        return zoo_error(ZOO_ERR_ARG, "gpt: cannot export to \"%s\" (only hf)", format);
    if (!m->bias)
        return zoo_error(ZOO_ERR_ARG,
                         "gpt: a model without biases has no GPT-2 equivalent to export");
    bool gpt1 = m->post_ln; /* GPT-1's blocks: HuggingFace's openai-gpt */
    zoo_json *cfg = zoo_json_new();
    int st = cfg ? ZOO_OK : ZOO_ERR_NOMEM;
    if (!st) st = zoo_json_set_string(cfg, "model_type", gpt1 ? "openai-gpt" : "gpt2");
    if (!st)
        st = zoo_json_set_strings(
            cfg, "architectures",
            (const char *[]){gpt1 ? "OpenAIGPTLMHeadModel" : "GPT2LMHeadModel"}, 1);
    if (!st) st = zoo_hf_config_from_hparams(cfg, gpt_fields, hp);
    if (!st) st = zoo_json_set_number(cfg, "n_ctx", (double)m->block_size);
    if (!st)
        st = zoo_json_set_string(cfg, gpt1 ? "afn" : "activation_function",
                                 gpt1 ? "gelu" : "gelu_new");
    if (!st) st = zoo_json_set_bool(cfg, "tie_word_embeddings", true);
    if (!st) st = zoo_hf_dir_write(path, cfg, gpt1 ? gpt1_names : gpt_names, params);
    zoo_json_free(cfg);
    return st;
}
