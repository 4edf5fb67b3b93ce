/* HuggingFace BERT directories: config.json (BertConfig's names) and
 * model.safetensors, tensors named as BertForPreTraining / BertForMaskedLM /
 * BertModel save them: "bert." before the encoder's names or not, cls.* as
 * they are, and the legacy LayerNorm names gamma/beta. The decoder is the
 * word embeddings (tied); heads a file lacks keep their initial values. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bert.h"

int bert_import_config(const char *path, zoo_hparams *hp) {
    char file[4096];
    snprintf(file, sizeof file, "%s/config.json", path);
    zoo_json *cfg = zoo_json_load(file);
    if (!cfg) return ZOO_ERR_FORMAT;
    const char *type = zoo_json_string(cfg, "model_type"),
               *act = zoo_json_string(cfg, "hidden_act");
    int st = ZOO_OK;
    if (!type || strcmp(type, "bert") != 0)
        st = zoo_error(ZOO_ERR_NOTFOUND, "%s: model_type is %s%s%s, not \"bert\"", file,
                       type ? "\"" : "", type ? type : "missing", type ? "\"" : "");
    else if (act && strcmp(act, "gelu") != 0)
        st = zoo_error(ZOO_ERR_FORMAT, "%s: hidden_act \"%s\" is not BERT's exact (erf) GELU", file,
                       act);
    const char *keys[] = {"hidden_size",       "num_hidden_layers",       "num_attention_heads",
                          "intermediate_size", "max_position_embeddings", "type_vocab_size",
                          "vocab_size"};
    for (size_t i = 0; !st && i < sizeof keys / sizeof keys[0]; i++) {
        double v;
        st = zoo_json_number(cfg, keys[i], &v);
        if (!st && (st = zoo_hparams_set_float(hp, keys[i], v)))
            st = zoo_error(st, "%s: %s: %s", file, keys[i], zoo_error_message());
    }
    double eps;
    if (!st && zoo_json_number(cfg, "layer_norm_eps", &eps) == ZOO_OK)
        st = zoo_hparams_set_float(hp, "layer_norm_eps", eps);
    if (!st)
        st = zoo_hparams_set_float(hp, "hidden_dropout_prob",
                                   0); /* inference; a fine-tune config may set it */
    zoo_json_free(cfg);
    return st;
}

/* The file's index of parameter `name`, under any of the hub's spellings; -1 if absent. */
static int find(const zoo_st_file *f, const char *name) {
    char alt[300];
    bool head = strncmp(name, "cls.", 4) == 0;
    const char *prefixes[] = {head ? "" : "bert.", ""};
    for (int p = 0; p < 2; p++) {
        snprintf(alt, sizeof alt, "%s%s", prefixes[p], name);
        int k = zoo_st_find(f, alt);
        if (k >= 0) return k;
        /* legacy LayerNorm names: gamma for weight, beta for bias */
        size_t len = strlen(alt);
        if (strstr(alt, "LayerNorm.") && len > 7 && strcmp(alt + len - 7, ".weight") == 0)
            strcpy(alt + len - 7, ".gamma");
        else if (strstr(alt, "LayerNorm.") && len > 5 && strcmp(alt + len - 5, ".bias") == 0)
            strcpy(alt + len - 5, ".beta");
        else
            continue;
        if ((k = zoo_st_find(f, alt)) >= 0) return k;
    }
    return -1;
}

/* vocab.txt, lowercasing as tokenizer_config.json's do_lower_case says,
 * else when the vocabulary is uncased; ZOO_ERR_NOTFOUND without vocab.txt. */
int bert_import_tokenizer(const char *path, zoo_tokenizer **out) {
    return zoo_tokenizer_load_wordpiece(path, ZOO_WORDPIECE_LOWERCASE_AUTO, out);
}

int bert_import_weights(zoo_model *m, zoo_params *params, const char *path) {
    (void)m;
    zoo_st_file *f = NULL;
    int st = zoo_st_open_model_dir(path, &f);
    for (int i = 0; !st && i < zoo_params_count(params); i++) {
        zoo_param *p = zoo_params_at(params, i);
        int k = find(f, p->name);
        if (k >= 0)
            st = zoo_st_read_into(f, k, p->value);
        else if (strncmp(p->name, "cls.", 4) !=
                 0) /* a BertModel file has no heads; the encoder must be there */
            st = zoo_error(ZOO_ERR_FORMAT,
                           "%s/model.safetensors: tensor 'bert.%s' (or '%s') is missing", path,
                           p->name, p->name);
    }
    zoo_st_close(f);
    return st;
}

int bert_export(zoo_model *m, const zoo_params *params, const zoo_hparams *hp, const char *format,
                const char *path) {
    (void)hp;
    if (strcmp(format, "hf") != 0)
        return zoo_error(ZOO_ERR_ARG, "bert: cannot export to \"%s\" (only hf)", format);
    if (mkdir(path, 0755) != 0 && errno != EEXIST)
        return zoo_error(ZOO_ERR_IO, "%s: %s", path, strerror(errno));
    char file[4096], config[1024];
    int n = snprintf(
        config, sizeof config,
        "{\n  \"model_type\": \"bert\",\n  \"architectures\": [\"BertForPreTraining\"],\n"
        "  \"hidden_size\": %lld,\n  \"num_hidden_layers\": %lld,\n  \"num_attention_heads\": "
        "%lld,\n"
        "  \"intermediate_size\": %lld,\n  \"max_position_embeddings\": %lld,\n"
        "  \"type_vocab_size\": %lld,\n  \"vocab_size\": %lld,\n  \"layer_norm_eps\": %.9g,\n"
        "  \"hidden_act\": \"gelu\",\n  \"pad_token_id\": 0\n}\n",
        (long long)m->H, (long long)m->n_layer, (long long)m->n_head, (long long)m->I,
        (long long)m->max_pos, (long long)m->n_types, (long long)m->V, m->eps);
    snprintf(file, sizeof file, "%s/config.json", path);
    int st = zoo_write_file_atomic(file, config, (size_t)n);
    zoo_st_writer *w = st ? NULL : zoo_st_writer_new();
    if (!st && !w) st = ZOO_ERR_NOMEM;
    if (!st) st = zoo_st_writer_add_metadata(w, "format", "pt");
    for (int i = 0; !st && i < zoo_params_count(params); i++) {
        zoo_param *p = zoo_params_at((zoo_params *)params, i);
        char name[300];
        snprintf(name, sizeof name, "%s%s", strncmp(p->name, "cls.", 4) == 0 ? "" : "bert.",
                 p->name);
        st = zoo_st_writer_add(w, name, ZOO_F32, p->value->ndim, p->value->shape, p->value->data);
    }
    snprintf(file, sizeof file, "%s/model.safetensors", path);
    if (!st) st = zoo_st_writer_write(w, file);
    zoo_st_writer_free(w);
    return st;
}
