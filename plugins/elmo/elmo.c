/* elmo: the descriptor, the hyperparameters and the parameters (see elmo.h). */
#include "elmo.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elmo_model.h"
#include "elmo_softmax.h"

static const zoo_hparam_spec elmo_hparams[] = {
    {.name = "vocab_size",
     .type = ZOO_HP_INT,
     .help = "words of the output softmax (set from the tokenizer)",
     .default_number = 10000,
     .has_min = true,
     .min = 1},
    {.name = "char_dim",
     .type = ZOO_HP_INT,
     .help = "character embedding size",
     .default_number = 16,
     .has_min = true,
     .min = 1},
    {.name = "max_characters_per_token",
     .type = ZOO_HP_INT,
     .help = "characters a word is cut or padded to, its two marks included",
     .default_number = 50,
     .has_min = true,
     .min = 3,
     .has_max = true,
     .max = 256},
    {.name = "filters",
     .type = ZOO_HP_STRING,
     .help = "the char-CNN's banks, width:count pairs",
     .default_string = "1:32,2:32,3:64,4:128,5:256,6:512,7:1024"},
    {.name = "activation",
     .type = ZOO_HP_ENUM,
     .help = "after each bank's max-over-time pooling",
     .default_string = "relu",
     .choices = (const char *const[]){"relu", "tanh", NULL}},
    {.name = "n_highway",
     .type = ZOO_HP_INT,
     .help = "highway layers after the char-CNN",
     .default_number = 1,
     .has_min = true,
     .min = 0,
     .has_max = true,
     .max = ELMO_MAX_LAYERS},
    {.name = "projection_dim",
     .type = ZOO_HP_INT,
     .help = "word encoder output, LSTM projection and layer width per direction",
     .default_number = 128,
     .has_min = true,
     .min = 1},
    {.name = "dim",
     .type = ZOO_HP_INT,
     .help = "LSTM cell size",
     .default_number = 512,
     .has_min = true,
     .min = 1},
    {.name = "n_layers",
     .type = ZOO_HP_INT,
     .help = "LSTMP layers per direction",
     .default_number = 2,
     .has_min = true,
     .min = 1,
     .has_max = true,
     .max = ELMO_MAX_LAYERS},
    {.name = "cell_clip",
     .type = ZOO_HP_FLOAT,
     .help = "clip of the LSTM cell state (0: none)",
     .default_number = 3,
     .has_min = true,
     .min = 0},
    {.name = "proj_clip",
     .type = ZOO_HP_FLOAT,
     .help = "clip of the projected hidden state (0: none)",
     .default_number = 3,
     .has_min = true,
     .min = 0},
    {.name = "use_skip_connections",
     .type = ZOO_HP_BOOL,
     .help = "a residual around every LSTM layer past the first",
     .default_number = 1},
    {.name = "softmax",
     .type = ZOO_HP_BOOL,
     .help = "has trained softmax weights (false for published files: embed only)",
     .default_number = 1},
    {.name = "sampled_softmax",
     .type = ZOO_HP_INT,
     .help = "negative words per training batch (0, or >= vocab_size: the full softmax)",
     .default_number = 8192,
     .has_min = true,
     .min = 0},
    {.name = "dropout",
     .type = ZOO_HP_FLOAT,
     .help = "dropout on each LSTM layer's input in training",
     .default_number = 0.1,
     .has_min = true,
     .min = 0,
     .has_max = true,
     .max = 0.99},
    {.name = "init_std",
     .type = ZOO_HP_FLOAT,
     .help = "std of the initial weights (LSTM, highway and softmax: 1/sqrt(fan-in) when 0)",
     .default_number = 0,
     .has_min = true,
     .min = 0},
};

int elmo_parse_filters(const char *text, int64_t *widths, int64_t *counts) {
    int n = 0;
    const char *s = text;
    while (*s) {
        char *end;
        long w = strtol(s, &end, 10), c = 0;
        bool ok = end != s && *end == ':' && w >= 1 && w <= 1024;
        if (ok) {
            const char *cs = end + 1;
            c = strtol(cs, &end, 10);
            ok = end != cs && c >= 1 && c <= 1 << 20 && (*end == ',' || *end == 0);
        }
        if (!ok || n == ELMO_MAX_FILTERS)
            return zoo_error(ZOO_ERR_ARG,
                             n == ELMO_MAX_FILTERS
                                 ? "elmo: filters: more than %d banks in \"%s\""
                                 : "elmo: filters: bank %d of \"%s\" is not width:count "
                                   "(e.g. \"1:32,2:32,3:64\")",
                             n == ELMO_MAX_FILTERS ? ELMO_MAX_FILTERS : n + 1, text);
        widths[n] = w, counts[n] = c, n++;
        s = *end ? end + 1 : end;
    }
    if (n == 0) return zoo_error(ZOO_ERR_ARG, "elmo: filters: no bank in \"%s\"", text);
    return n;
}

/* A parameter "name.a.b" from N(0, std), or filled with `fill` when std < 0. */
static zoo_tensor *param(zoo_params *p, zoo_rng *rng, const char *name, int ndim,
                         const int64_t *shape, unsigned flags, float std, float fill) {
    return std >= 0 ? zoo_params_add_normal(p, name, ndim, shape, flags, rng, std)
                    : zoo_params_add_filled(p, name, ndim, shape, flags, fill);
}

#define P(name, flags, std, fill, ...)                                                             \
    param(params, rng, name, ZOO_NDIM(__VA_ARGS__), ZOO_SHAPE(__VA_ARGS__), flags, std, fill)

static float fan_in_std(float init_std, int64_t fan_in) {
    return init_std > 0 ? init_std : 1.0f / sqrtf((float)fan_in);
}

static bool create_params(zoo_model *m, zoo_params *params, zoo_rng *rng, float init_std) {
    const unsigned nd = ZOO_PARAM_NO_DECAY;
    char name[96];
    int64_t E = m->E, D = m->D, P = m->P, H = m->H;
    bool ok = (m->char_embed = P("char_embed", 0, 1.0f, 0, ELMO_N_CHARS, E)) != NULL;
    for (int i = 0; ok && i < m->n_filters; i++) {
        snprintf(name, sizeof name, "cnn.%d.weight", i);
        m->cnn_w[i] =
            P(name, 0, fan_in_std(init_std, m->widths[i] * E), 0, m->counts[i], m->widths[i], E);
        snprintf(name, sizeof name, "cnn.%d.bias", i);
        m->cnn_b[i] = P(name, nd, -1, 0, m->counts[i]);
        ok = m->cnn_w[i] && m->cnn_b[i];
    }
    for (int k = 0; ok && k < m->n_highway; k++) {
        snprintf(name, sizeof name, "highway.%d.weight", k);
        m->highway_w[k] = P(name, 0, fan_in_std(init_std, D), 0, 2 * D, D);
        /* the gate's bias starts at +1 on zoo_highway's keep-x half: a new
         * highway mostly carries its input, as bilm-tf initialises it (-1 on
         * its carry gate) */
        snprintf(name, sizeof name, "highway.%d.bias", k);
        m->highway_b[k] = P(name, nd, -1, 0, 2 * D);
        ok = m->highway_w[k] && m->highway_b[k];
        for (int64_t j = D; ok && j < 2 * D; j++) zoo_f32(m->highway_b[k])[j] = 1.0f;
    }
    ok = ok && (m->proj_w = P("proj.weight", 0, fan_in_std(init_std, D), 0, P, D)) &&
         (m->proj_b = P("proj.bias", nd, -1, 0, P));
    static const char *const dirs[2] = {"fw", "bw"};
    for (int d = 0; d < 2; d++)
        for (int l = 0; ok && l < m->n_layers; l++) {
            elmo_lstm_layer *L = &m->lstm[d][l];
            float s = fan_in_std(init_std, 2 * P);
            snprintf(name, sizeof name, "lstm.%s.%d.w_ih", dirs[d], l);
            L->w_ih = P(name, 0, s, 0, 4 * H, P);
            snprintf(name, sizeof name, "lstm.%s.%d.w_hh", dirs[d], l);
            L->w_hh = P(name, 0, s, 0, 4 * H, P);
            snprintf(name, sizeof name, "lstm.%s.%d.bias", dirs[d], l);
            L->bias = P(name, nd, -1, 0, 4 * H);
            snprintf(name, sizeof name, "lstm.%s.%d.w_proj", dirs[d], l);
            L->w_proj = P(name, 0, fan_in_std(init_std, H), 0, P, H);
            ok = L->w_ih && L->w_hh && L->bias && L->w_proj; /* forget_bias: elmo_model.c */
        }
    return ok && (m->softmax_w = P("softmax.weight", 0, fan_in_std(init_std, P), 0, m->V, P)) &&
           (m->softmax_b = P("softmax.bias", nd, -1, 0, m->V));
}

static int elmo_create(const zoo_hparams *hp, zoo_params *params, zoo_rng *rng, zoo_model **out) {
    zoo_model *m = calloc(1, sizeof *m);
    if (!m) return zoo_error(ZOO_ERR_NOMEM, "elmo: out of memory");
    int n = elmo_parse_filters(zoo_hparams_string(hp, "filters"), m->widths, m->counts);
    if (n < 0) {
        free(m);
        return n;
    }
    m->n_filters = n;
    for (int i = 0; i < n; i++) m->D += m->counts[i];
    m->V = zoo_hparams_int(hp, "vocab_size"), m->E = zoo_hparams_int(hp, "char_dim");
    m->max_chars = zoo_hparams_int(hp, "max_characters_per_token");
    m->tanh_activation = strcmp(zoo_hparams_string(hp, "activation"), "tanh") == 0;
    m->n_highway = zoo_hparams_int(hp, "n_highway"), m->P = zoo_hparams_int(hp, "projection_dim");
    m->H = zoo_hparams_int(hp, "dim"), m->n_layers = zoo_hparams_int(hp, "n_layers");
    m->cell_clip = (float)zoo_hparams_float(hp, "cell_clip");
    m->proj_clip = (float)zoo_hparams_float(hp, "proj_clip");
    m->skip = zoo_hparams_bool(hp, "use_skip_connections");
    m->has_softmax = zoo_hparams_bool(hp, "softmax");
    m->samples = zoo_hparams_int(hp, "sampled_softmax");
    m->dropout = (float)zoo_hparams_float(hp, "dropout");
    for (int i = 0; i < n; i++)
        if (m->widths[i] > m->max_chars) {
            int st = zoo_error(ZOO_ERR_ARG,
                               "elmo: filters: width %lld is wider than "
                               "max_characters_per_token %lld",
                               (long long)m->widths[i], (long long)m->max_chars);
            free(m);
            return st;
        }
    if (!create_params(m, params, rng, (float)zoo_hparams_float(hp, "init_std"))) {
        free(m);
        return ZOO_ERR_NOMEM; /* zoo_params_add said why */
    }
    *out = m;
    return ZOO_OK;
}

static void elmo_destroy(zoo_model *m) {
    if (!m) return;
    elmo_softmax_free(m);
    free(m);
}

static int elmo_set_tokenizer(zoo_model *m, const zoo_tokenizer *tok) {
    m->tok = tok;
    return ZOO_OK;
}

static const char *const elmo_formats[] = {"allennlp", NULL};

static const zoo_plugin_ops elmo_ops = {
    .size = sizeof(zoo_plugin_ops),
    .create = elmo_create,
    .destroy = elmo_destroy,
    .forward = elmo_forward,
    .loss = elmo_loss,
    .embed = elmo_embed,
    .import_config = elmo_import_config,
    .import_weights = elmo_import_weights,
    .export_checkpoint = elmo_export,
    .set_tokenizer = elmo_set_tokenizer,
    .import_tokenizer = elmo_import_tokenizer,
};

static const zoo_plugin elmo_plugin = {
    .size = sizeof(zoo_plugin),
    .abi_major = ZOO_ABI_MAJOR,
    .abi_minor = ZOO_ABI_MINOR,
    .name = "elmo",
    .version = "0.1.0",
    .summary = "ELMo: char-CNN + biLSTM language model, contextual word vectors",
    .objective = ZOO_OBJ_BIDIRECTIONAL_LM,
    .hparams = elmo_hparams,
    .n_hparams = (int)(sizeof elmo_hparams / sizeof elmo_hparams[0]),
    .capabilities = ZOO_CAP_IMPORT | ZOO_CAP_EXPORT | ZOO_CAP_TOKENIZER | ZOO_CAP_IMPORT_TOKENIZER,
    .formats = elmo_formats,
    .ops = &elmo_ops,
    .token_bytes = 254, /* max_characters_per_token (at most 256) less the two marks */
};

ZOO_PLUGIN_EXPORT const zoo_plugin *zoo_plugin_entry(void) {
    return &elmo_plugin;
}
