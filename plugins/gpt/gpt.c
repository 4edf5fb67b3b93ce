/* gpt: GPT-2 (and GPT-1's post-LayerNorm blocks) built from libzoo's operators (see gpt.h). */
#include "gpt.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const ln_positions[] = {"pre", "post", NULL};

static const zoo_hparam_spec gpt_hparams[] = {
    {.name = "n_layer",
     .type = ZOO_HP_INT,
     .help = "transformer blocks",
     .default_number = 4,
     .has_min = true,
     .min = 1},
    {.name = "n_head",
     .type = ZOO_HP_INT,
     .help = "attention heads (must divide n_embd)",
     .default_number = 4,
     .has_min = true,
     .min = 1},
    {.name = "n_embd",
     .type = ZOO_HP_INT,
     .help = "width of the residual stream",
     .default_number = 128,
     .has_min = true,
     .min = 1},
    {.name = "block_size",
     .type = ZOO_HP_INT,
     .help = "context length (learned positions); defaults to data.seq_len",
     .default_number = 64,
     .has_min = true,
     .min = 1},
    {.name = "vocab_size",
     .type = ZOO_HP_INT,
     .help = "vocabulary size (set from the tokenizer)",
     .default_number = 50257,
     .has_min = true,
     .min = 1},
    {.name = "dropout",
     .type = ZOO_HP_FLOAT,
     .help = "dropout on embeddings, attention output and MLP output",
     .default_number = 0,
     .has_min = true,
     .min = 0,
     .has_max = true,
     .max = 0.99},
    {.name = "bias",
     .type = ZOO_HP_BOOL,
     .help = "biases in linear layers and layer norms",
     .default_number = 1},
    {.name = "layer_norm_epsilon",
     .type = ZOO_HP_FLOAT,
     .help = "layer norm epsilon",
     .default_number = 1e-5,
     .has_min = true,
     .min = 0},
    {.name = "init_std",
     .type = ZOO_HP_FLOAT,
     .help = "std of the initial weights (residual projections: "
             "init_std / sqrt(2 n_layer))",
     .default_number = 0.02,
     .has_min = true,
     .min = 0},
    {.name = "layer_norm_position",
     .type = ZOO_HP_ENUM,
     .help = "pre: GPT-2's blocks, x + f(ln(x)), and a final ln_f; post: GPT-1's, "
             "ln(x + f(x)), and no ln_f",
     .default_string = "pre",
     .choices = ln_positions},
};

/* A parameter "h.3.attn.c_attn.weight", filled from N(0, std), or with `fill` when std < 0. */
static zoo_tensor *param(zoo_params *p, zoo_rng *rng, int layer, const char *name, int ndim,
                         const int64_t *shape, unsigned flags, float std, float fill) {
    char full[128];
    if (layer >= 0)
        snprintf(full, sizeof full, "h.%d.%s", layer, name);
    else
        snprintf(full, sizeof full, "%s", name);
    return std >= 0 ? zoo_params_add_normal(p, full, ndim, shape, flags, rng, std)
                    : zoo_params_add_filled(p, full, ndim, shape, flags, fill);
}

#define P(layer, name, flags, std, fill, ...)                                                      \
    param(params, rng, layer, name, ZOO_NDIM(__VA_ARGS__), ZOO_SHAPE(__VA_ARGS__), flags, std, fill)

static int gpt_create(const zoo_hparams *hp, zoo_params *params, zoo_rng *rng, zoo_model **out) {
    zoo_model *m = calloc(1, sizeof *m);
    if (!m) return zoo_error(ZOO_ERR_NOMEM, "gpt: out of memory");
    m->n_layer = zoo_hparams_int(hp, "n_layer"), m->n_head = zoo_hparams_int(hp, "n_head");
    m->C = zoo_hparams_int(hp, "n_embd"), m->block_size = zoo_hparams_int(hp, "block_size");
    m->V = zoo_hparams_int(hp, "vocab_size");
    m->dropout = (float)zoo_hparams_float(hp, "dropout"),
    m->eps = (float)zoo_hparams_float(hp, "layer_norm_epsilon");
    m->bias = zoo_hparams_bool(hp, "bias");
    m->post_ln = strcmp(zoo_hparams_string(hp, "layer_norm_position"), "post") == 0;
    if (m->C % m->n_head) {
        int st = zoo_error(ZOO_ERR_ARG, "gpt: n_embd %lld is not divisible by n_head %lld",
                           (long long)m->C, (long long)m->n_head);
        free(m);
        return st;
    }
    int64_t C = m->C;
    float std = (float)zoo_hparams_float(hp, "init_std"),
          proj_std = std / sqrtf(2.0f * (float)m->n_layer);
    const unsigned nd = ZOO_PARAM_NO_DECAY;
    /* the whole size first (in double: it may overflow int64), so that a model
     * too big for the machine is refused before any layer is initialised */
    double Cd = (double)C, bias = m->bias ? 1 : 0,
           block = 12 * Cd * Cd + 2 * Cd + bias * 11 * Cd, /* weights, norms, biases */
        total = ((double)m->V + (double)m->block_size) * Cd + (double)m->n_layer * block +
                (m->post_ln ? 0 : (1 + bias) * Cd);
    char what[96];
    snprintf(what, sizeof what, "gpt: %lld layers of width %lld", (long long)m->n_layer,
             (long long)C);
    int st = zoo_params_reserve(params, 4 * total, what);
    if (st) {
        free(m);
        return st;
    }
    m->h = calloc((size_t)m->n_layer, sizeof *m->h);
    bool ok = m->h != NULL;
    if (!ok) zoo_error(ZOO_ERR_NOMEM, "gpt: out of memory for %lld layers", (long long)m->n_layer);
    /* one at a time: the first refusal (zoo_params_add's memory limit) is the message */
    ok = ok && (m->wte = P(-1, "wte.weight", 0, std, 0, m->V, C));
    ok = ok && (m->wpe = P(-1, "wpe.weight", 0, std, 0, m->block_size, C));
    for (int l = 0; ok && l < m->n_layer; l++) {
        gpt_block *b = &m->h[l];
        ok = ok && (b->ln_1_w = P(l, "ln_1.weight", nd, -1, 1, C));
        ok = ok && (b->attn_w = P(l, "attn.c_attn.weight", 0, std, 0, C, 3 * C));
        ok = ok && (b->proj_w = P(l, "attn.c_proj.weight", 0, proj_std, 0, C, C));
        ok = ok && (b->ln_2_w = P(l, "ln_2.weight", nd, -1, 1, C));
        ok = ok && (b->fc_w = P(l, "mlp.c_fc.weight", 0, std, 0, C, 4 * C));
        ok = ok && (b->mlp_w = P(l, "mlp.c_proj.weight", 0, proj_std, 0, 4 * C, C));
        if (ok && m->bias) {
            ok = ok && (b->ln_1_b = P(l, "ln_1.bias", nd, -1, 0, C));
            ok = ok && (b->attn_b = P(l, "attn.c_attn.bias", nd, -1, 0, 3 * C));
            ok = ok && (b->proj_b = P(l, "attn.c_proj.bias", nd, -1, 0, C));
            ok = ok && (b->ln_2_b = P(l, "ln_2.bias", nd, -1, 0, C));
            ok = ok && (b->fc_b = P(l, "mlp.c_fc.bias", nd, -1, 0, 4 * C));
            ok = ok && (b->mlp_b = P(l, "mlp.c_proj.bias", nd, -1, 0, C));
        }
    }
    if (ok && !m->post_ln) { /* GPT-1's last block ends in its own layer norm */
        ok = ok && (m->ln_f_w = P(-1, "ln_f.weight", nd, -1, 1, C));
        if (m->bias) ok = ok && (m->ln_f_b = P(-1, "ln_f.bias", nd, -1, 0, C));
    }
    if (!ok) {
        free(m->h);
        free(m);
        return ZOO_ERR_NOMEM; /* zoo_params_add said why */
    }
    *out = m;
    return ZOO_OK;
}

static void gpt_destroy(zoo_model *m) {
    if (!m) return;
    free(m->h);
    free(m);
}

/* pre (GPT-2): x + attn(ln_1(x)), then x + mlp(ln_2(x)).
 * post (GPT-1): ln_1(x + attn(x)), then ln_2(x + mlp(x)). */
zoo_tensor *gpt_block_forward(zoo_model *m, zoo_graph *g, int l, zoo_tensor *x,
                              const zoo_tensor *key_mask, zoo_kv_cache *cache, zoo_rng *rng) {
    gpt_block *b = &m->h[l];
    int nh = (int)m->n_head;
    zoo_tensor *h = m->post_ln ? x : zoo_layernorm(g, x, b->ln_1_w, b->ln_1_b, m->eps);
    zoo_tensor *qkv = zoo_linear(g, h, b->attn_w, b->attn_b, ZOO_W_IN_OUT); // (B,T,3C)
    zoo_tensor *a = cache ? zoo_kv_cache_attend(g, cache, l, qkv, NULL, NULL, nh)
                          : zoo_attention(g, qkv, NULL, NULL, nh, true, (zoo_tensor *)key_mask);
    a = zoo_dropout(g, zoo_linear(g, a, b->proj_w, b->proj_b, ZOO_W_IN_OUT), m->dropout, rng);
    x = zoo_add(g, x, a);
    if (m->post_ln) x = zoo_layernorm(g, x, b->ln_1_w, b->ln_1_b, m->eps);
    h = m->post_ln ? x : zoo_layernorm(g, x, b->ln_2_w, b->ln_2_b, m->eps);
    h = zoo_gelu_tanh(g, zoo_linear(g, h, b->fc_w, b->fc_b, ZOO_W_IN_OUT)); // (B,T,4C)
    h = zoo_dropout(g, zoo_linear(g, h, b->mlp_w, b->mlp_b, ZOO_W_IN_OUT), m->dropout, rng);
    x = zoo_add(g, x, h);
    return m->post_ln ? zoo_layernorm(g, x, b->ln_2_w, b->ln_2_b, m->eps) : x;
}

zoo_tensor *gpt_trunk(zoo_model *m, zoo_graph *g, const int32_t *ids, const int32_t *mask,
                      int64_t B, int64_t T, zoo_kv_cache *cache, zoo_rng *rng, int layers) {
    int64_t start = cache ? zoo_kv_cache_len(cache) : 0;
    if (start + T > m->block_size) {
        zoo_graph_fail(g, ZOO_ERR_ARG,
                       "gpt: %lld positions do not fit the context of %lld (block_size)",
                       (long long)(start + T), (long long)m->block_size);
        return NULL;
    }
    zoo_tensor *id = zoo_tensor_wrap(g, ZOO_I32, 2, ZOO_SHAPE(B, T), (void *)ids);
    zoo_tensor *pos = zoo_new(g, ZOO_I32, B, T);
    if (!pos) return NULL;
    for (int64_t i = 0; i < B * T; i++) zoo_i32(pos)[i] = (int32_t)(start + i % T);
    zoo_tensor *key_mask =
        mask ? zoo_tensor_wrap(g, ZOO_I32, 2, ZOO_SHAPE(B, T), (void *)mask) : NULL;
    zoo_tensor *x =
        zoo_add(g, zoo_embedding(g, m->wte, id), zoo_embedding(g, m->wpe, pos)); // (B,T,C)
    x = zoo_dropout(g, x, m->dropout, rng);
    int n = layers < 0 || layers > m->n_layer ? (int)m->n_layer : layers;
    for (int l = 0; l < n; l++) x = gpt_block_forward(m, g, l, x, key_mask, cache, rng);
    return x;
}

/* The whole batch, no cache. */
static zoo_tensor *trunk(zoo_model *m, zoo_graph *g, const zoo_batch *batch, zoo_rng *rng,
                         int layers) {
    return gpt_trunk(m, g, batch->ids, batch->mask, batch->B, batch->T, NULL, rng, layers);
}

zoo_tensor *gpt_final(zoo_model *m, zoo_graph *g, zoo_tensor *x) {
    return m->post_ln ? x : zoo_layernorm(g, x, m->ln_f_w, m->ln_f_b, m->eps);
}

zoo_tensor *gpt_head(zoo_model *m, zoo_graph *g, zoo_tensor *hidden) {
    return zoo_linear(g, hidden, m->wte, NULL, ZOO_W_OUT_IN); /* tied: wte is [V,C] = [out,in] */
}

static int gpt_forward(zoo_model *m, zoo_graph *g, const zoo_batch *batch, zoo_outputs *out) {
    out->hidden = gpt_final(m, g, trunk(m, g, batch, NULL, -1));
    out->logits = gpt_head(m, g, out->hidden);
    return zoo_graph_status(g);
}

static int gpt_loss(zoo_model *m, zoo_graph *g, const zoo_batch *batch, zoo_rng *rng,
                    zoo_tensor **loss, zoo_metrics *metrics) {
    (void)metrics;
    if (!batch->targets) return zoo_error(ZOO_ERR_ARG, "gpt: the batch has no targets");
    zoo_tensor *hidden = gpt_final(m, g, trunk(m, g, batch, rng, -1));
    zoo_tensor *targets =
        zoo_tensor_wrap(g, ZOO_I32, 2, ZOO_SHAPE(batch->B, batch->T), (void *)batch->targets);
    *loss = zoo_cross_entropy(g, gpt_head(m, g, hidden), targets, ZOO_IGNORE);
    return zoo_graph_status(g);
}

/* layer < 0: the last hidden state (after ln_f, if any); k in [0, n_layer]: the
 * residual stream after k blocks (0: the embeddings). */
static int gpt_embed(zoo_model *m, zoo_graph *g, const zoo_batch *batch, int layer,
                     zoo_tensor **out) {
    if (layer > m->n_layer)
        return zoo_error(ZOO_ERR_ARG, "gpt: layer %d: the model has %lld blocks", layer,
                         (long long)m->n_layer);
    zoo_tensor *x = trunk(m, g, batch, NULL, layer);
    *out = layer < 0 ? gpt_final(m, g, x) : x;
    return zoo_graph_status(g);
}

static const zoo_plugin_ops gpt_ops = {
    .size = sizeof(zoo_plugin_ops),
    .create = gpt_create,
    .destroy = gpt_destroy,
    .forward = gpt_forward,
    .loss = gpt_loss,
    .embed = gpt_embed,
    .cache_new = gpt_cache_new,
    .cache_free = gpt_cache_free,
    .decode_step = gpt_decode_step,
    .import_config = gpt_import_config,
    .import_weights = gpt_import_weights,
    .export_checkpoint = gpt_export,
    .import_tokenizer = gpt_import_tokenizer,
};

static const char *const gpt_formats[] = {"hf", NULL};

static const zoo_plugin gpt_plugin = {
    .size = sizeof(zoo_plugin),
    .abi_major = ZOO_ABI_MAJOR,
    .abi_minor = ZOO_ABI_MINOR,
    .name = "gpt",
    .version = "0.1.0",
    .summary = "GPT-2: transformer decoder, next-token language model",
    .objective = ZOO_OBJ_CAUSAL_LM,
    .hparams = gpt_hparams,
    .n_hparams = sizeof gpt_hparams / sizeof gpt_hparams[0],
    .capabilities = ZOO_CAP_DECODE | ZOO_CAP_IMPORT | ZOO_CAP_EXPORT | ZOO_CAP_IMPORT_TOKENIZER,
    .formats = gpt_formats,
    .ops = &gpt_ops,
};

ZOO_PLUGIN_EXPORT const zoo_plugin *zoo_plugin_entry(void) {
    return &gpt_plugin;
}
