/* HuggingFace GPT-2 directories: config.json (GPT2Config's names) and
 * model.safetensors, tensors named as GPT2LMHeadModel ("transformer.h.0...")
 * or GPT2Model (no prefix) saves them; lm_head.weight (tied to wte) and the
 * attn.bias / attn.masked_bias buffers are not parameters and are ignored. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "gpt.h"

static int set_from(zoo_json *cfg, zoo_hparams *hp, const char *key, const char *hparam,
                    const char *path) {
    double v;
    int st = zoo_json_number(cfg, key, &v);
    if (st) return st;
    st = zoo_hparams_set_float(hp, hparam, v);
    if (st) return zoo_error(st, "%s/config.json: %s: %s", path, key, zoo_error_message());
    return ZOO_OK;
}

int gpt_import_config(const char *path, zoo_hparams *hp) {
    char file[4096];
    snprintf(file, sizeof file, "%s/config.json", path);
    zoo_json *cfg = zoo_json_load(file);
    if (!cfg) return ZOO_ERR_FORMAT;
    const char *type = zoo_json_string(cfg, "model_type"),
               *act = zoo_json_string(cfg, "activation_function");
    int st = ZOO_OK;
    if (type && strcmp(type, "gpt2") != 0)
        st = zoo_error(ZOO_ERR_NOTFOUND, "%s: model_type is \"%s\", not \"gpt2\"", file, type);
    else if (!type && !zoo_json_has(cfg, "n_embd"))
        st = zoo_error(ZOO_ERR_NOTFOUND, "%s: not a GPT-2 config (no model_type, no n_embd)", file);
    else if (act && strcmp(act, "gelu_new") && strcmp(act, "gelu_pytorch_tanh") &&
             strcmp(act, "gelu_fast"))
        st = zoo_error(ZOO_ERR_FORMAT, "%s: activation_function \"%s\" is not GPT-2's tanh GELU",
                       file, act);
    const char *keys[][2] = {{"n_layer", "n_layer"},
                             {"n_head", "n_head"},
                             {"n_embd", "n_embd"},
                             {"n_positions", "block_size"},
                             {"vocab_size", "vocab_size"}};
    for (size_t i = 0; !st && i < sizeof keys / sizeof keys[0]; i++)
        st = set_from(cfg, hp, keys[i][0], keys[i][1], path);
    if (!st && zoo_json_has(cfg, "layer_norm_epsilon"))
        st = set_from(cfg, hp, "layer_norm_epsilon", "layer_norm_epsilon", path);
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
    zoo_st_file *f = NULL;
    int st = zoo_st_open_model_dir(path, &f);
    for (int i = 0; !st && i < zoo_params_count(params); i++) {
        zoo_param *p = zoo_params_at(params, i);
        char prefixed[256];
        snprintf(prefixed, sizeof prefixed, "transformer.%s", p->name);
        int k = zoo_st_find(f, prefixed);
        if (k < 0) k = zoo_st_find(f, p->name);
        st = k < 0 ? zoo_error(ZOO_ERR_FORMAT,
                               "%s/model.safetensors: tensor '%s' (or '%s') is missing", path,
                               prefixed, p->name)
                   : zoo_st_read_into(f, k, p->value);
    }
    zoo_st_close(f);
    return st;
}

int gpt_export(zoo_model *m, const zoo_params *params, const zoo_hparams *hp, const char *format,
               const char *path) {
    (void)hp;
    if (strcmp(format, "hf") != 0)
        return zoo_error(ZOO_ERR_ARG, "gpt: cannot export to \"%s\" (only hf)", format);
    if (!m->bias)
        return zoo_error(ZOO_ERR_ARG,
                         "gpt: a model without biases has no GPT-2 equivalent to export");
    if (mkdir(path, 0755) != 0 && errno != EEXIST)
        return zoo_error(ZOO_ERR_IO, "%s: %s", path, strerror(errno));
    char file[4096], config[1024];
    int n = snprintf(
        config, sizeof config,
        "{\n  \"model_type\": \"gpt2\",\n  \"architectures\": [\"GPT2LMHeadModel\"],\n"
        "  \"n_layer\": %lld,\n  \"n_head\": %lld,\n  \"n_embd\": %lld,\n  \"n_positions\": %lld,\n"
        "  \"n_ctx\": %lld,\n  \"vocab_size\": %lld,\n  \"layer_norm_epsilon\": %.9g,\n"
        "  \"activation_function\": \"gelu_new\",\n  \"tie_word_embeddings\": true\n}\n",
        (long long)m->n_layer, (long long)m->n_head, (long long)m->C, (long long)m->block_size,
        (long long)m->block_size, (long long)m->V, m->eps);
    snprintf(file, sizeof file, "%s/config.json", path);
    int st = zoo_write_file_atomic(file, config, (size_t)n);
    zoo_st_writer *w = st ? NULL : zoo_st_writer_new();
    if (!st && !w) st = ZOO_ERR_NOMEM;
    if (!st) st = zoo_st_writer_add_metadata(w, "format", "pt");
    for (int i = 0; !st && i < zoo_params_count(params); i++) {
        zoo_param *p = zoo_params_at((zoo_params *)params, i);
        char name[256];
        snprintf(name, sizeof name, "transformer.%s", p->name);
        st = zoo_st_writer_add(w, name, ZOO_F32, p->value->ndim, p->value->shape, p->value->data);
    }
    snprintf(file, sizeof file, "%s/model.safetensors", path);
    if (!st) st = zoo_st_writer_write(w, file);
    zoo_st_writer_free(w);
    return st;
}
