/* HuggingFace config.json (core/src/formats/hf_dir.c over json.c) in a
 * directory of its own, read as an import does: its model_type checked,
 * then GPT-2's keys taken into a schema like the gpt plugin's. */
#include "fuzz_util.h"
#include "zoo/hf_dir.h"

static const char *const acts[] = {"gelu", "gelu_new", "relu", NULL};

static const zoo_hparam_spec schema[] = {
    {"block_size", ZOO_HP_INT, "", 1024, NULL, true, true, 1, 1 << 20, NULL},
    {"n_embd", ZOO_HP_INT, "", 768, NULL, true, true, 1, 1 << 16, NULL},
    {"n_layer", ZOO_HP_INT, "", 12, NULL, true, false, 1, 0, NULL},
    {"dropout", ZOO_HP_FLOAT, "", 0.1, NULL, true, true, 0, 1, NULL},
    {"bias", ZOO_HP_BOOL, "", 1, NULL, false, false, 0, 0, NULL},
    {"act", ZOO_HP_ENUM, "", 0, "gelu", false, false, 0, 0, acts},
    {"name", ZOO_HP_STRING, "", 0, "", false, false, 0, 0, NULL},
};

static const zoo_hf_field fields[] = {
    {"n_positions", "block_size", 0},           {"n_embd", "n_embd", 0},
    {"n_layer", "n_layer", ZOO_HF_OPTIONAL},    {"resid_pdrop", "dropout", ZOO_HF_OPTIONAL},
    {"bias", "bias", ZOO_HF_OPTIONAL},          {"activation_function", "act", ZOO_HF_OPTIONAL},
    {"_name_or_path", "name", ZOO_HF_OPTIONAL}, {NULL, NULL, 0},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_write("config.json", data, size);
    zoo_json *cfg = NULL;
    if (zoo_hf_config_load(fuzz_dir(), &cfg) != ZOO_OK) return 0;
    zoo_hf_config_check_type(cfg, "gpt2", "n_embd");
    zoo_hf_config_check_choice(cfg, "activation_function", acts, "a GELU");
    double d;
    bool b;
    zoo_json_number(cfg, "n_head", &d);
    zoo_json_bool(cfg, "tie_word_embeddings", &b);
    zoo_json_string(cfg, "model_type");
    zoo_hparams *hp = zoo_hparams_new(schema, (int)(sizeof schema / sizeof *schema));
    if (hp) {
        zoo_hf_config_to_hparams(cfg, fields, hp);
        zoo_hparams_free(hp);
    }
    zoo_json_free(cfg);
    return 0;
}
