/* HuggingFace directories (zoo/hf_dir.h): a directory written by the helper
 * reads back to the same bits, config and weights; F16 and BF16 widening
 * against values computed here from the bit fields; the name map's fallback
 * order and rule order; every error names the file and the key or tensor. */
#include <math.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_util.h"

/* --- helpers ------------------------------------------------------------- */

static char dir[256];

static const char *in_dir(const char *name) {
    static char buf[512];
    snprintf(buf, sizeof buf, "%s/%s", dir, name);
    return buf;
}

static void write_text(const char *name, const char *text) {
    FILE *f = fopen(in_dir(name), "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    ck_assert_int_eq(fclose(f), 0);
}

/* DIR/model.safetensors from a header's text (padded here) and the data buffer. */
static void write_weights(const char *header, const void *data, size_t data_len) {
    size_t n = strlen(header), padded = (n + 7) / 8 * 8;
    unsigned char *buf = malloc(8 + padded + data_len);
    for (int k = 0; k < 8; k++) buf[k] = (unsigned char)((uint64_t)padded >> (8 * k));
    memcpy(buf + 8, header, n);
    memset(buf + 8 + n, ' ', padded - n);
    if (data_len) memcpy(buf + 8 + padded, data, data_len);
    FILE *f = fopen(in_dir("model.safetensors"), "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(buf, 1, 8 + padded + data_len, f), 8 + padded + data_len);
    ck_assert_int_eq(fclose(f), 0);
    free(buf);
}

/* The call failed with status and a message holding every one of `parts`. */
#define expect_error(call, status, ...)                                                            \
    expect_error_at(__LINE__, (call), (status), (const char *[]){__VA_ARGS__, NULL})
static void expect_error_at(int line, int got, int status, const char **parts) {
    const char *msg = zoo_error_message();
    ck_assert_msg(got == status, "line %d: status %d, expected %d: %s", line, got, status, msg);
    for (int i = 0; parts[i]; i++)
        ck_assert_msg(strstr(msg, parts[i]), "line %d: '%s' not in the message: %s", line, parts[i],
                      msg);
}

/* A schema with one hyperparameter of each type a config.json field can fill. */
static const char *const acts[] = {"gelu", "relu", NULL};
static const zoo_hparam_spec schema[] = {
    {.name = "layers", .type = ZOO_HP_INT, .default_number = 1, .has_min = true, .min = 1},
    {.name = "eps", .type = ZOO_HP_FLOAT, .default_number = 1e-5, .has_min = true, .min = 0},
    {.name = "bias", .type = ZOO_HP_BOOL, .default_number = 1},
    {.name = "act", .type = ZOO_HP_ENUM, .default_string = "gelu", .choices = acts},
    {.name = "note", .type = ZOO_HP_STRING, .default_string = ""},
};
enum { N_SCHEMA = sizeof schema / sizeof schema[0] };
static const zoo_hf_field fields[] = {
    {"num_layers", "layers", 0},       {"layer_norm_eps", "eps", ZOO_HF_OPTIONAL},
    {"use_bias", "bias", 0},           {"hidden_act", "act", 0},
    {"note", "note", ZOO_HF_OPTIONAL}, {NULL}};

/* --- a directory written by the helper reads back the same --------------- */

/* "tok" as is, prefixed by "model." on the hub; "proj" kept [in,out] by zoo,
 * [out,in] in the file; "norm" with a legacy spelling. */
static const zoo_hf_name map[] = {
    {"proj.weight", {"model.proj.weight", "proj.weight"}, ZOO_HF_TRANSPOSED},
    {"*norm.weight", {"model.*norm.weight", "model.*norm.gamma"}, 0},
    {"*", {"model.*", "*"}, 0},
    {NULL}};

static zoo_params *make_params(bool random) {
    zoo_params *p = zoo_params_new();
    zoo_rng rng;
    zoo_rng_seed(&rng, 7);
    if (random) {
        RAND_PARAM(p, &rng, "tok.weight", -1, 1, 5, 3);
        RAND_PARAM(p, &rng, "proj.weight", -1, 1, 3, 4);
        RAND_PARAM(p, &rng, "proj.bias", -1, 1, 4);
        RAND_PARAM(p, &rng, "final_norm.weight", -1, 1, 4);
    } else {
        zoo_params_add(p, "tok.weight", 2, ZOO_SHAPE(5, 3), 0);
        zoo_params_add(p, "proj.weight", 2, ZOO_SHAPE(3, 4), 0);
        zoo_params_add(p, "proj.bias", 1, ZOO_SHAPE(4), 0);
        zoo_params_add(p, "final_norm.weight", 1, ZOO_SHAPE(4), 0);
    }
    return p;
}

START_TEST(test_round_trip) {
    make_temp_dir(dir, sizeof dir, "zoo-hf-test");
    zoo_params *params = make_params(true);
    zoo_hparams *hp = zoo_hparams_new(schema, N_SCHEMA);
    ck_assert_int_eq(zoo_hparams_set_int(hp, "layers", 12), ZOO_OK);
    ck_assert_int_eq(zoo_hparams_set_float(hp, "eps", 1e-12), ZOO_OK);
    ck_assert_int_eq(zoo_hparams_set_bool(hp, "bias", false), ZOO_OK);
    ck_assert_int_eq(zoo_hparams_set_string(hp, "act", "relu"), ZOO_OK);
    ck_assert_int_eq(zoo_hparams_set_string(hp, "note", "tab\there \"quoted\""), ZOO_OK);
    zoo_json *cfg = zoo_json_new();
    ck_assert_int_eq(zoo_json_set_string(cfg, "model_type", "toy"), ZOO_OK);
    ck_assert_int_eq(zoo_hf_config_from_hparams(cfg, fields, hp), ZOO_OK);
    char sub[300];
    snprintf(sub, sizeof sub, "%s/out", dir); /* created by the write */
    ck_assert_msg(zoo_hf_dir_write(sub, cfg, map, params) == ZOO_OK, "%s", zoo_error_message());
    zoo_json_free(cfg);

    /* the file as HuggingFace expects it: first spellings, "format": "pt",
     * the transposed parameter transposed */
    char file[400];
    snprintf(file, sizeof file, "%s/model.safetensors", sub);
    zoo_st_file *f;
    ck_assert_int_eq(zoo_st_open(file, &f), ZOO_OK);
    ck_assert_str_eq(zoo_st_metadata(f, "format"), "pt");
    ck_assert_int_eq(zoo_st_count(f), 4);
    const char *names[] = {"model.tok.weight", "model.proj.weight", "model.proj.bias",
                           "model.final_norm.weight"};
    for (int i = 0; i < 4; i++) ck_assert_str_eq(zoo_st_name(f, i), names[i]);
    int ndim;
    int64_t shape[ZOO_MAX_DIMS];
    ck_assert_int_eq(zoo_st_info(f, 1, NULL, &ndim, shape), ZOO_OK);
    ck_assert_int_eq(ndim, 2);
    ck_assert_int_eq(shape[0], 4);
    ck_assert_int_eq(shape[1], 3);
    float stored[12];
    ck_assert_int_eq(zoo_st_read_f32(f, 1, stored, 12), ZOO_OK);
    const float *w = zoo_f32(zoo_params_get(params, "proj.weight")); /* [3,4] */
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 4; j++) ck_assert_float_eq(stored[j * 3 + i], w[i * 4 + j]);
    zoo_st_close(f);

    /* and back: every parameter to the bit, every hyperparameter */
    zoo_params *back = make_params(false);
    ck_assert_msg(zoo_hf_weights_load(sub, map, back) == ZOO_OK, "%s", zoo_error_message());
    for (int i = 0; i < zoo_params_count(params); i++) {
        const zoo_tensor *a = zoo_params_at(params, i)->value, *b = zoo_params_at(back, i)->value;
        ck_assert_int_eq(memcmp(a->data, b->data, (size_t)a->numel * 4), 0);
    }
    zoo_json *loaded;
    ck_assert_int_eq(zoo_hf_config_load(sub, &loaded), ZOO_OK);
    ck_assert_int_eq(zoo_hf_config_check_type(loaded, "toy", NULL), ZOO_OK);
    zoo_hparams *hp2 = zoo_hparams_new(schema, N_SCHEMA);
    ck_assert_msg(zoo_hf_config_to_hparams(loaded, fields, hp2) == ZOO_OK, "%s",
                  zoo_error_message());
    ck_assert_int_eq(zoo_hparams_int(hp2, "layers"), 12);
    ck_assert(zoo_hparams_float(hp2, "eps") == 1e-12);
    ck_assert(!zoo_hparams_bool(hp2, "bias"));
    ck_assert_str_eq(zoo_hparams_string(hp2, "act"), "relu");
    ck_assert_str_eq(zoo_hparams_string(hp2, "note"), "tab\there \"quoted\"");
    zoo_json_free(loaded);

    /* writing again over the directory replaces both files */
    zoo_f32(zoo_params_get(params, "proj.bias"))[0] = 42;
    cfg = zoo_json_new();
    ck_assert_int_eq(zoo_json_set_string(cfg, "model_type", "toy2"), ZOO_OK);
    ck_assert_int_eq(zoo_hf_dir_write(sub, cfg, map, params), ZOO_OK);
    zoo_json_free(cfg);
    ck_assert_int_eq(zoo_hf_weights_load(sub, map, back), ZOO_OK);
    ck_assert_float_eq(zoo_f32(zoo_params_get(back, "proj.bias"))[0], 42);
    ck_assert_int_eq(zoo_hf_config_load(sub, &loaded), ZOO_OK);
    expect_error(zoo_hf_config_check_type(loaded, "toy", NULL), ZOO_ERR_NOTFOUND,
                 "model_type is \"toy2\", not \"toy\"");
    zoo_json_free(loaded);

    zoo_hparams_free(hp2);
    zoo_hparams_free(hp);
    zoo_params_free(back);
    zoo_params_free(params);
    remove_temp_dir(dir);
}
END_TEST

/* A failed export leaves no config.json in a new directory (the weights come
 * first), and a directory that cannot be created is named. */
START_TEST(test_failed_write) {
    make_temp_dir(dir, sizeof dir, "zoo-hf-test");
    zoo_params *params = make_params(true);
    zoo_params_add(params, "stray", 1, ZOO_SHAPE(2), 0);
    static const zoo_hf_name narrow[] = {{"tok.*", {"*"}, 0}, {NULL}};
    zoo_json *cfg = zoo_json_new();
    char sub[300];
    snprintf(sub, sizeof sub, "%s/out", dir);
    expect_error(zoo_hf_dir_write(sub, cfg, narrow, params), ZOO_ERR_ARG, "'proj.weight'",
                 "matches no rule");
    ck_assert_int_ne(access(in_dir("out/config.json"), F_OK), 0);
    ck_assert_int_ne(access(in_dir("out/model.safetensors"), F_OK), 0);

    /* two parameters under one name */
    static const zoo_hf_name clash[] = {{"*", {"same"}, 0}, {NULL}};
    expect_error(zoo_hf_dir_write(sub, cfg, clash, params), ZOO_ERR_ARG, "'same'");
    ck_assert_int_ne(access(in_dir("out/config.json"), F_OK), 0);

    /* a transposed rule on a parameter that is not 2-D */
    static const zoo_hf_name flat[] = {{"*", {"*"}, ZOO_HF_TRANSPOSED}, {NULL}};
    expect_error(zoo_hf_dir_write(sub, cfg, flat, params), ZOO_ERR_ARG, "'proj.bias'", "not 2-D");

    snprintf(sub, sizeof sub, "%s/no/such", dir);
    expect_error(zoo_hf_dir_write(sub, cfg, map, params), ZOO_ERR_IO, sub);
    zoo_json_free(cfg);
    zoo_params_free(params);
    remove_temp_dir(dir);
}
END_TEST

/* --- widening ------------------------------------------------------------ */

/* IEEE half and bfloat16 from their bit fields, in double. */
static double half_value(uint16_t h) {
    int sign = h >> 15, exp = (h >> 10) & 0x1f, man = h & 0x3ff;
    double v = exp == 0 ? ldexp(man, -24) : ldexp(1024 + man, exp - 25);
    return sign ? -v : v;
}
static double bf16_value(uint16_t h) {
    int sign = h >> 15, exp = (h >> 7) & 0xff, man = h & 0x7f;
    double v = exp == 0 ? ldexp(man, -133) : ldexp(128 + man, exp - 134);
    return sign ? -v : v;
}

START_TEST(test_f16_bf16_widening) {
    make_temp_dir(dir, sizeof dir, "zoo-hf-test");
    /* 1, -2.5, the largest half, the smallest subnormal, -0, 0.1 rounded */
    const uint16_t half[6] = {0x3c00, 0xc100, 0x7bff, 0x0001, 0x8000, 0x2e66};
    /* 1, -2.5, the largest bfloat16, a subnormal, 3.140625, 1e-3 rounded */
    const uint16_t bf16[6] = {0x3f80, 0xc020, 0x7f7f, 0x0001, 0x4049, 0x3a83};
    unsigned char data[24 + 4];
    memcpy(data, half, 12);
    memcpy(data + 12, bf16, 12);
    memcpy(data + 24, &(int32_t){7}, 4);
    write_weights("{\"a\":{\"dtype\":\"F16\",\"shape\":[2,3],\"data_offsets\":[0,12]},"
                  "\"b\":{\"dtype\":\"BF16\",\"shape\":[6],\"data_offsets\":[12,24]},"
                  "\"c\":{\"dtype\":\"I32\",\"shape\":[1],\"data_offsets\":[24,28]}}",
                  data, sizeof data);
    static const zoo_hf_name as_is[] = {{"*", {"*"}, 0}, {NULL}};
    zoo_params *p = zoo_params_new();
    zoo_tensor *a = zoo_params_add(p, "a", 2, ZOO_SHAPE(2, 3), 0),
               *b = zoo_params_add(p, "b", 1, ZOO_SHAPE(6), 0);
    ck_assert_msg(zoo_hf_weights_load(dir, as_is, p) == ZOO_OK, "%s", zoo_error_message());
    for (int i = 0; i < 6; i++) {
        ck_assert_msg(zoo_f32(a)[i] == (float)half_value(half[i]), "F16 %04x: %g", half[i],
                      zoo_f32(a)[i]);
        ck_assert_msg(zoo_f32(b)[i] == (float)bf16_value(bf16[i]), "BF16 %04x: %g", bf16[i],
                      zoo_f32(b)[i]);
    }
    ck_assert(signbit(zoo_f32(a)[4]));
    ck_assert_float_eq(zoo_f32(a)[2], 65504.0f);

    /* the same transposed: a [2,3] in the file, [3,2] in zoo */
    static const zoo_hf_name flip[] = {{"a", {"a"}, ZOO_HF_TRANSPOSED}, {NULL}};
    zoo_params *q = zoo_params_new();
    zoo_tensor *at = zoo_params_add(q, "a", 2, ZOO_SHAPE(3, 2), 0);
    ck_assert_msg(zoo_hf_weights_load(dir, flip, q) == ZOO_OK, "%s", zoo_error_message());
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 3; j++)
            ck_assert(zoo_f32(at)[j * 2 + i] == (float)half_value(half[i * 3 + j]));

    /* an integer tensor is no float parameter */
    zoo_params_add(q, "c", 1, ZOO_SHAPE(1), 0);
    static const zoo_hf_name with_c[] = {{"a", {"a"}, ZOO_HF_TRANSPOSED}, {"c", {"c"}, 0}, {NULL}};
    expect_error(zoo_hf_weights_load(dir, with_c, q), ZOO_ERR_SHAPE, "model.safetensors",
                 "'c' is I32");
    zoo_params_free(q);
    zoo_params_free(p);
    remove_temp_dir(dir);
}
END_TEST

/* --- the name map -------------------------------------------------------- */

static const zoo_hf_name bert_like[] = {
    {"cls.*", {"cls.*"}, ZOO_HF_OPTIONAL},
    {"*LayerNorm.weight",
     {"bert.*LayerNorm.weight", "bert.*LayerNorm.gamma", "*LayerNorm.weight", "*LayerNorm.gamma"},
     0},
    {"exact.name", {"renamed"}, 0},
    {"*", {"bert.*", "*"}, 0},
    {NULL}};

static void expect_name(const char *name, int k, const char *want) {
    char buf[128];
    ck_assert_msg(zoo_hf_name_of(bert_like, name, k, buf, sizeof buf) == ZOO_OK, "%s",
                  zoo_error_message());
    ck_assert_str_eq(buf, want);
}

START_TEST(test_name_map_spellings) {
    /* the first rule that matches, its spellings in order */
    expect_name("cls.predictions.bias", 0, "cls.predictions.bias");
    expect_name("cls.x.LayerNorm.weight", 0, "cls.x.LayerNorm.weight"); /* cls.* comes first */
    expect_name("emb.LayerNorm.weight", 0, "bert.emb.LayerNorm.weight");
    expect_name("emb.LayerNorm.weight", 1, "bert.emb.LayerNorm.gamma");
    expect_name("emb.LayerNorm.weight", 2, "emb.LayerNorm.weight");
    expect_name("emb.LayerNorm.weight", 3, "emb.LayerNorm.gamma");
    expect_name("LayerNorm.weight", 0, "bert.LayerNorm.weight"); /* '*' matches nothing */
    expect_name("exact.name", 0, "renamed");
    expect_name("exact.name.not", 0, "bert.exact.name.not");
    expect_name("pooler.dense.bias", 1, "pooler.dense.bias");
    char buf[8];
    expect_error(zoo_hf_name_of(bert_like, "pooler.dense.bias", 2, buf, sizeof buf),
                 ZOO_ERR_NOTFOUND, "no spelling 2");
    expect_error(zoo_hf_name_of(bert_like, "pooler.dense.bias", 0, buf, sizeof buf), ZOO_ERR_ARG,
                 "bert.pooler.dense.bias", "8 bytes");
    /* a pattern's prefix and suffix may not overlap in the name */
    static const zoo_hf_name aba[] = {{"ab*ba", {"x*"}, 0}, {NULL}};
    expect_error(zoo_hf_name_of(aba, "aba", 0, buf, sizeof buf), ZOO_ERR_ARG, "'aba'",
                 "matches no rule");
    static const zoo_hf_name bad1[] = {{"a*b*", {"*"}, 0}, {NULL}};
    expect_error(zoo_hf_name_of(bad1, "axbx", 0, buf, sizeof buf), ZOO_ERR_ARG, "'a*b*'",
                 "more than one");
    static const zoo_hf_name bad2[] = {{"a", {"*"}, 0}, {NULL}};
    expect_error(zoo_hf_name_of(bad2, "a", 0, buf, sizeof buf), ZOO_ERR_ARG, "no '*'");
    static const zoo_hf_name bad3[] = {{"*", {"*.*"}, 0}, {NULL}};
    expect_error(zoo_hf_name_of(bad3, "a", 0, buf, sizeof buf), ZOO_ERR_ARG, "'*.*'",
                 "more than one");
    static const zoo_hf_name gap[] = {{"*", {"a", NULL, "c"}, 0}, {NULL}};
    expect_error(zoo_hf_name_of(gap, "x", 2, buf, sizeof buf), ZOO_ERR_NOTFOUND, "no spelling 2");
    expect_error(zoo_hf_name_of(gap, "x", -1, buf, sizeof buf), ZOO_ERR_NOTFOUND, "no spelling -1");
    static const zoo_hf_name bad4[] = {{"*", {NULL}, 0}, {NULL}};
    expect_error(zoo_hf_name_of(bad4, "a", 0, buf, sizeof buf), ZOO_ERR_ARG, "no spelling");
}
END_TEST

/* A file holding several spellings of one parameter, each with its own value:
 * the load takes the first in the rule's order that the file holds. */
START_TEST(test_fallback_order) {
    make_temp_dir(dir, sizeof dir, "zoo-hf-test");
    const char *spellings[] = {"bert.e.LayerNorm.weight", "bert.e.LayerNorm.gamma",
                               "e.LayerNorm.weight", "e.LayerNorm.gamma"};
    zoo_params *p = zoo_params_new();
    zoo_tensor *w = zoo_params_add(p, "e.LayerNorm.weight", 1, ZOO_SHAPE(1), 0);
    zoo_params_add_filled(p, "cls.head", 1, ZOO_SHAPE(1), 0, 5.0f);
    for (int first = 0; first < 4; first++) {
        /* spellings first..3 present, holding 1+their index */
        char header[1024] = "{";
        float values[4];
        for (int k = first; k < 4; k++) {
            size_t n = strlen(header);
            snprintf(header + n, sizeof header - n,
                     "%s\"%s\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[%d,%d]}",
                     k > first ? "," : "", spellings[k], 4 * (k - first), 4 * (k - first + 1));
            values[k - first] = (float)(k + 1);
        }
        strcat(header, "}");
        write_weights(header, values, 4 * (size_t)(4 - first));
        ck_assert_msg(zoo_hf_weights_load(dir, bert_like, p) == ZOO_OK, "%s", zoo_error_message());
        ck_assert_float_eq(zoo_f32(w)[0], (float)(first + 1));
        /* cls.head is optional: absent, it keeps its value */
        ck_assert_float_eq(zoo_f32(zoo_params_get(p, "cls.head"))[0], 5.0f);
    }
    /* none of them: the message names the file and every spelling */
    write_weights("{\"other\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}",
                  &(float){0}, 4);
    char file[600];
    snprintf(file, sizeof file,
             "%s/model.safetensors: tensor 'bert.e.LayerNorm.weight' (or "
             "'bert.e.LayerNorm.gamma', 'e.LayerNorm.weight', "
             "'e.LayerNorm.gamma') is missing",
             dir);
    expect_error(zoo_hf_weights_load(dir, bert_like, p), ZOO_ERR_FORMAT, file);
    zoo_params_free(p);
    remove_temp_dir(dir);
}
END_TEST

/* --- errors -------------------------------------------------------------- */

START_TEST(test_config_errors) {
    make_temp_dir(dir, sizeof dir, "zoo-hf-test");
    char file[300];
    snprintf(file, sizeof file, "%s/config.json", dir);
    zoo_json *cfg = (zoo_json *)&cfg;
    /* no config.json: not a HuggingFace directory, which importers pass on */
    expect_error(zoo_hf_config_load(dir, &cfg), ZOO_ERR_NOTFOUND, file, "No such file");
    ck_assert_ptr_null(cfg);
    write_text("config.json", "{\"model_type\": \"toy\",\n \"num_layers\": }");
    expect_error(zoo_hf_config_load(dir, &cfg), ZOO_ERR_FORMAT, file, ":2:", "malformed JSON");
    write_text("config.json", "[1, 2]");
    expect_error(zoo_hf_config_load(dir, &cfg), ZOO_ERR_FORMAT, file, "not a JSON object");

    /* model_type */
    write_text("config.json", "{\"model_type\": \"other\", \"n_embd\": 4}");
    ck_assert_int_eq(zoo_hf_config_load(dir, &cfg), ZOO_OK);
    ck_assert_str_eq(zoo_json_path(cfg), file);
    expect_error(zoo_hf_config_check_type(cfg, "toy", "n_embd"), ZOO_ERR_NOTFOUND, file,
                 "model_type is \"other\", not \"toy\"");
    zoo_json_free(cfg);
    write_text("config.json", "{\"n_embd\": 4}");
    ck_assert_int_eq(zoo_hf_config_load(dir, &cfg), ZOO_OK);
    ck_assert_int_eq(zoo_hf_config_check_type(cfg, "toy", "n_embd"), ZOO_OK);
    expect_error(zoo_hf_config_check_type(cfg, "toy", "hidden"), ZOO_ERR_NOTFOUND, file,
                 "model_type is missing and so is hidden");
    expect_error(zoo_hf_config_check_type(cfg, "toy", NULL), ZOO_ERR_NOTFOUND, file,
                 "model_type is missing, not \"toy\"");
    zoo_json_free(cfg);
    write_text("config.json", "{\"model_type\": 3}");
    ck_assert_int_eq(zoo_hf_config_load(dir, &cfg), ZOO_OK);
    expect_error(zoo_hf_config_check_type(cfg, "toy", NULL), ZOO_ERR_FORMAT, file,
                 "model_type: expected a string");
    zoo_json_free(cfg);

    /* choices */
    static const char *const gelus[] = {"gelu", "gelu_new", NULL};
    write_text("config.json", "{\"hidden_act\": \"relu\", \"other_act\": 1}");
    ck_assert_int_eq(zoo_hf_config_load(dir, &cfg), ZOO_OK);
    expect_error(zoo_hf_config_check_choice(cfg, "hidden_act", gelus, "a GELU"), ZOO_ERR_FORMAT,
                 file, "hidden_act \"relu\" is not a GELU");
    expect_error(zoo_hf_config_check_choice(cfg, "other_act", gelus, "a GELU"), ZOO_ERR_FORMAT,
                 file, "other_act: expected a string");
    ck_assert_int_eq(zoo_hf_config_check_choice(cfg, "absent", gelus, "a GELU"), ZOO_OK);
    zoo_json_free(cfg);

    /* fields into hyperparameters */
    zoo_hparams *hp = zoo_hparams_new(schema, N_SCHEMA);
    struct {
        const char *text, *part;
    } cases[] = {
        {"{\"use_bias\": true, \"hidden_act\": \"gelu\"}", "num_layers: missing"},
        {"{\"num_layers\": \"2\", \"use_bias\": true, \"hidden_act\": \"gelu\"}",
         "num_layers: expected a number"},
        {"{\"num_layers\": 0, \"use_bias\": true, \"hidden_act\": \"gelu\"}", "num_layers: layers"},
        {"{\"num_layers\": 2.5, \"use_bias\": true, \"hidden_act\": \"gelu\"}",
         "num_layers: layers"},
        {"{\"num_layers\": 2, \"use_bias\": 1, \"hidden_act\": \"gelu\"}",
         "use_bias: expected true or false"},
        {"{\"num_layers\": 2, \"use_bias\": true, \"hidden_act\": \"tanh\"}", "hidden_act: act"},
        {"{\"num_layers\": 2, \"use_bias\": true, \"hidden_act\": [\"gelu\"]}",
         "hidden_act: expected a string"},
        {"{\"num_layers\": 2, \"use_bias\": true, \"hidden_act\": \"gelu\", \"layer_norm_eps\": "
         "null}",
         "layer_norm_eps: expected a number"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        write_text("config.json", cases[i].text);
        ck_assert_int_eq(zoo_hf_config_load(dir, &cfg), ZOO_OK);
        expect_error(zoo_hf_config_to_hparams(cfg, fields, hp), ZOO_ERR_FORMAT, file,
                     cases[i].part);
        zoo_json_free(cfg);
    }
    /* optional keys absent: those hyperparameters keep their values */
    ck_assert_int_eq(zoo_hparams_set_float(hp, "eps", 0.25), ZOO_OK);
    write_text("config.json", "{\"num_layers\": 3, \"use_bias\": false, \"hidden_act\": \"relu\"}");
    ck_assert_int_eq(zoo_hf_config_load(dir, &cfg), ZOO_OK);
    ck_assert_msg(zoo_hf_config_to_hparams(cfg, fields, hp) == ZOO_OK, "%s", zoo_error_message());
    ck_assert_int_eq(zoo_hparams_int(hp, "layers"), 3);
    ck_assert(zoo_hparams_float(hp, "eps") == 0.25);
    /* a field naming no hyperparameter of the schema is the plugin's mistake */
    static const zoo_hf_field wrong[] = {{"num_layers", "n_layers", 0}, {NULL}};
    expect_error(zoo_hf_config_to_hparams(cfg, wrong, hp), ZOO_ERR_ARG, "num_layers", "'n_layers'");
    expect_error(zoo_hf_config_from_hparams(cfg, wrong, hp), ZOO_ERR_ARG, "'n_layers'");
    zoo_json_free(cfg);
    zoo_hparams_free(hp);
    remove_temp_dir(dir);
}
END_TEST

START_TEST(test_weight_errors) {
    make_temp_dir(dir, sizeof dir, "zoo-hf-test");
    char file[300], msg[600];
    snprintf(file, sizeof file, "%s/model.safetensors", dir);
    zoo_params *p = zoo_params_new();
    zoo_params_add(p, "proj.weight", 2, ZOO_SHAPE(3, 4), 0);

    /* no weights at all; only pytorch_model.bin, which zoo never unpickles */
    expect_error(zoo_hf_weights_load(dir, map, p), ZOO_ERR_IO, file, "No such file");
    write_text("pytorch_model.bin", "not read");
    expect_error(zoo_hf_weights_load(dir, map, p), ZOO_ERR_FORMAT, dir,
                 "only pytorch_model.bin, which zoo does not read");

    /* a missing tensor, both spellings named */
    write_weights("{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", &(float){0},
                  4);
    snprintf(msg, sizeof msg, "%s: tensor 'model.proj.weight' (or 'proj.weight') is missing", file);
    expect_error(zoo_hf_weights_load(dir, map, p), ZOO_ERR_FORMAT, msg);

    /* the wrong shape: transposed rule, the file holding zoo's own layout */
    float zeros[12] = {0};
    write_weights("{\"proj.weight\":{\"dtype\":\"F32\",\"shape\":[3,4],\"data_offsets\":[0,48]}}",
                  zeros, sizeof zeros);
    snprintf(msg, sizeof msg, "%s: tensor 'proj.weight' has shape [3,4], the model expects [4,3]",
             file);
    expect_error(zoo_hf_weights_load(dir, map, p), ZOO_ERR_FORMAT, msg, "transposed");
    /* and plainly: a [3,4] parameter, a [2,6] tensor */
    static const zoo_hf_name plain[] = {{"*", {"*"}, 0}, {NULL}};
    write_weights("{\"proj.weight\":{\"dtype\":\"F32\",\"shape\":[2,6],\"data_offsets\":[0,48]}}",
                  zeros, sizeof zeros);
    snprintf(msg, sizeof msg, "%s: tensor 'proj.weight' has shape [2,6], the model expects [3,4]",
             file);
    expect_error(zoo_hf_weights_load(dir, plain, p), ZOO_ERR_FORMAT, msg);

    /* a parameter no rule covers */
    static const zoo_hf_name none[] = {{"tok.*", {"*"}, 0}, {NULL}};
    expect_error(zoo_hf_weights_load(dir, none, p), ZOO_ERR_ARG, "'proj.weight'",
                 "matches no rule");
    zoo_params_free(p);
    remove_temp_dir(dir);
}
END_TEST

Suite *make_suite(void) {
    Suite *s = suite_create("hf_dir");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_round_trip);
    tcase_add_test(tc, test_failed_write);
    tcase_add_test(tc, test_f16_bf16_widening);
    tcase_add_test(tc, test_name_map_spellings);
    tcase_add_test(tc, test_fallback_order);
    tcase_add_test(tc, test_config_errors);
    tcase_add_test(tc, test_weight_errors);
    suite_add_tcase(s, tc);
    return s;
}
