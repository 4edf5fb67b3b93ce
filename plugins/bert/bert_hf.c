/* HuggingFace BERT directories: config.json (BertConfig's names) and
 * model.safetensors, tensors named as BertForPreTraining / BertForMaskedLM /
 * BertModel save them: "bert." before the encoder's names or not, cls.* as
 * they are, and the legacy LayerNorm names gamma/beta. The decoder is the
 * word embeddings (tied); heads a file lacks keep their initial values.
 * The directory itself is libzoo's (zoo/hf_dir.h): what is here is BERT's. */
#include <string.h>

#include "bert.h"

/* config.json key -> hyperparameter: the schema uses BertConfig's names */
static const zoo_hf_field bert_fields[] = {
    {"hidden_size", "hidden_size", 0},
    {"num_hidden_layers", "num_hidden_layers", 0},
    {"num_attention_heads", "num_attention_heads", 0},
    {"intermediate_size", "intermediate_size", 0},
    {"max_position_embeddings", "max_position_embeddings", 0},
    {"type_vocab_size", "type_vocab_size", 0},
    {"vocab_size", "vocab_size", 0},
    {"layer_norm_eps", "layer_norm_eps", ZOO_HF_OPTIONAL},
    {0}};

/* Parameters carry BertForPreTraining's names without "bert." (dense
 * weights [out,in], as the files hold them). The heads (cls.*) are never
 * prefixed and a BertModel file has none; the encoder may or may not be
 * prefixed. LayerNorm weight and bias were once saved as gamma and beta:
 * each spelling is tried prefixed and legacy before unprefixed. */
static const zoo_hf_name bert_names[] = {
    {"cls.*LayerNorm.weight", {"cls.*LayerNorm.weight", "cls.*LayerNorm.gamma"}, ZOO_HF_OPTIONAL},
    {"cls.*LayerNorm.bias", {"cls.*LayerNorm.bias", "cls.*LayerNorm.beta"}, ZOO_HF_OPTIONAL},
    {"cls.*", {"cls.*"}, ZOO_HF_OPTIONAL},
    {"*LayerNorm.weight",
     {"bert.*LayerNorm.weight", "bert.*LayerNorm.gamma", "*LayerNorm.weight", "*LayerNorm.gamma"},
     0},
    {"*LayerNorm.bias",
     {"bert.*LayerNorm.bias", "bert.*LayerNorm.beta", "*LayerNorm.bias", "*LayerNorm.beta"},
     0},
    {"*", {"bert.*", "*"}, 0},
    {0}};

static const char *const erf_gelu[] = {"gelu", NULL};

int bert_import_config(const char *path, zoo_hparams *hp) {
    zoo_json *cfg;
    int st = zoo_hf_config_load(path, &cfg);
    if (!st) st = zoo_hf_config_check_type(cfg, "bert", NULL);
    if (!st)
        st = zoo_hf_config_check_choice(cfg, "hidden_act", erf_gelu, "BERT's exact (erf) GELU");
    if (!st) st = zoo_hf_config_to_hparams(cfg, bert_fields, hp);
    if (!st)
        st = zoo_hparams_set_float(hp, "hidden_dropout_prob",
                                   0); /* inference; a fine-tune config may set it */
    zoo_json_free(cfg);
    return st;
}

/* vocab.txt, lowercasing as tokenizer_config.json's do_lower_case says,
 * else when the vocabulary is uncased; ZOO_ERR_NOTFOUND without vocab.txt. */
int bert_import_tokenizer(const char *path, zoo_tokenizer **out) {
    return zoo_tokenizer_load_wordpiece(path, ZOO_WORDPIECE_LOWERCASE_AUTO, out);
}

int bert_import_weights(zoo_model *m, zoo_params *params, const char *path) {
    (void)m;
    return zoo_hf_weights_load(path, bert_names, params);
}

int bert_export(zoo_model *m, const zoo_params *params, const zoo_hparams *hp, const char *format,
                const char *path) {
    (void)m;
    if (strcmp(format, "hf") != 0)
        return zoo_error(ZOO_ERR_ARG, "bert: cannot export to \"%s\" (only hf)", format);
    zoo_json *cfg = zoo_json_new();
    int st = cfg ? ZOO_OK : ZOO_ERR_NOMEM;
    if (!st) st = zoo_json_set_string(cfg, "model_type", "bert");
    if (!st)
        st = zoo_json_set_strings(cfg, "architectures", (const char *[]){"BertForPreTraining"}, 1);
    if (!st) st = zoo_hf_config_from_hparams(cfg, bert_fields, hp);
    if (!st) st = zoo_json_set_string(cfg, "hidden_act", "gelu");
    if (!st) st = zoo_json_set_number(cfg, "pad_token_id", 0);
    if (!st) st = zoo_hf_dir_write(path, cfg, bert_names, params);
    zoo_json_free(cfg);
    return st;
}
