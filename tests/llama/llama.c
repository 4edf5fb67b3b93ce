/* llama: the model (see llama.h) built from libzoo's operators and one of
 * its own. */
#include "llama.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const zoo_hparam_spec llama_hparams[] = {
    {.name = "n_layer",
     .type = ZOO_HP_INT,
     .help = "decoder layers",
     .default_number = 4,
     .has_min = true,
     .min = 1},
    {.name = "n_head",
     .type = ZOO_HP_INT,
     .help = "attention heads (must divide n_embd into an "
             "even head size)",
     .default_number = 4,
     .has_min = true,
     .min = 1},
    {.name = "n_embd",
     .type = ZOO_HP_INT,
     .help = "width of the residual stream",
     .default_number = 128,
     .has_min = true,
     .min = 2},
    {.name = "ffn_hidden",
     .type = ZOO_HP_INT,
     .help = "width of the SwiGLU MLP (0: 8 n_embd / 3, "
             "rounded: the parameters and FLOPs of a 4 n_embd GELU MLP)",
     .default_number = 0,
     .has_min = true,
     .min = 0},
    {.name = "block_size",
     .type = ZOO_HP_INT,
     .help = "longest context (no learned positions: "
             "it bounds windows and the generation cache); defaults to data.seq_len",
     .default_number = 64,
     .has_min = true,
     .min = 1},
    {.name = "vocab_size",
     .type = ZOO_HP_INT,
     .help = "vocabulary size (set from the tokenizer)",
     .default_number = 256,
     .has_min = true,
     .min = 1},
    {.name = "rope_theta",
     .type = ZOO_HP_FLOAT,
     .help = "base of the rotary frequencies",
     .default_number = 10000,
     .has_min = true,
     .min = 1},
    {.name = "rms_norm_eps",
     .type = ZOO_HP_FLOAT,
     .help = "RMSNorm epsilon",
     .default_number = 1e-5,
     .has_min = true,
     .min = 0},
    {.name = "init_std",
     .type = ZOO_HP_FLOAT,
     .help = "std of the initial weights (output "
             "projections: init_std / sqrt(2 n_layer))",
     .default_number = 0.02,
     .has_min = true,
     .min = 0},
};

/* "model.layers.3.self_attn.q_proj.weight" from N(0, std), or every element `fill` when std < 0 */
static zoo_tensor *param(zoo_params *p, zoo_rng *rng, int layer, const char *name, int ndim,
                         const int64_t *shape, float std, float fill) {
    char full[128];
    if (layer >= 0)
        snprintf(full, sizeof full, "model.layers.%d.%s", layer, name);
    else
        snprintf(full, sizeof full, "%s", name);
    return std >= 0 ? zoo_params_add_normal(p, full, ndim, shape, 0, rng, std)
                    : zoo_params_add_filled(p, full, ndim, shape, ZOO_PARAM_NO_DECAY, fill);
}

#define P(layer, name, std, fill, ...)                                                             \
    param(params, rng, layer, name, ZOO_NDIM(__VA_ARGS__), ZOO_SHAPE(__VA_ARGS__), std, fill)

static int llama_create(const zoo_hparams *hp, zoo_params *params, zoo_rng *rng, zoo_model **out) {
    zoo_model *m = calloc(1, sizeof *m);
    if (!m) return zoo_error(ZOO_ERR_NOMEM, "llama: out of memory");
    m->n_layer = zoo_hparams_int(hp, "n_layer"), m->n_head = zoo_hparams_int(hp, "n_head");
    m->C = zoo_hparams_int(hp, "n_embd"), m->block_size = zoo_hparams_int(hp, "block_size");
    m->V = zoo_hparams_int(hp, "vocab_size"), m->H = zoo_hparams_int(hp, "ffn_hidden");
    m->eps = (float)zoo_hparams_float(hp, "rms_norm_eps");
    m->theta = (float)zoo_hparams_float(hp, "rope_theta");
    if (m->H == 0) m->H = (8 * m->C + 1) / 3;
    if (m->C % m->n_head || (m->C / m->n_head) % 2) {
        int st =
            zoo_error(ZOO_ERR_ARG, "llama: n_embd %lld is not n_head %lld times an even head size",
                      (long long)m->C, (long long)m->n_head);
        free(m);
        return st;
    }
    int64_t C = m->C, H = m->H;
    float std = (float)zoo_hparams_float(hp, "init_std"),
          out_std = std / sqrtf(2.0f * (float)m->n_layer);
    m->layers = calloc((size_t)m->n_layer, sizeof *m->layers);
    m->embed = P(-1, "model.embed_tokens.weight", std, 0, m->V, C);
    bool ok = m->layers && m->embed;
    for (int l = 0; ok && l < m->n_layer; l++) {
        llama_layer *y = &m->layers[l];
        y->attn_norm = P(l, "input_layernorm.weight", -1, 1, C);
        y->wq = P(l, "self_attn.q_proj.weight", std, 0, C, C);
        y->wk = P(l, "self_attn.k_proj.weight", std, 0, C, C);
        y->wv = P(l, "self_attn.v_proj.weight", std, 0, C, C);
        y->wo = P(l, "self_attn.o_proj.weight", out_std, 0, C, C);
        y->mlp_norm = P(l, "post_attention_layernorm.weight", -1, 1, C);
        y->w_gate = P(l, "mlp.gate_proj.weight", std, 0, H, C);
        y->w_up = P(l, "mlp.up_proj.weight", std, 0, H, C);
        y->w_down = P(l, "mlp.down_proj.weight", out_std, 0, C, H);
        ok = y->attn_norm && y->wq && y->wk && y->wv && y->wo && y->mlp_norm && y->w_gate &&
             y->w_up && y->w_down;
    }
    if (ok) m->norm = P(-1, "model.norm.weight", -1, 1, C);
    if (!ok || !m->norm) {
        free(m->layers);
        free(m);
        return ZOO_ERR_NOMEM; /* zoo_params_add said why */
    }
    *out = m;
    return ZOO_OK;
}

static void llama_destroy(zoo_model *m) {
    if (!m) return;
    free(m->layers);
    free(m);
}

/* --- the cache: libzoo's, one layer of keys and values per decoder layer - */

int llama_cache_new(zoo_model *m, int64_t B, int64_t max_len, void **out) {
    if (max_len > m->block_size)
        return zoo_error(ZOO_ERR_ARG,
                         "llama: %lld positions exceed the context of %lld (block_size)",
                         (long long)max_len, (long long)m->block_size);
    return zoo_kv_cache_new((int)m->n_layer, B, max_len, m->C, (zoo_kv_cache **)out);
}

void llama_cache_free(zoo_model *m, void *cache) {
    (void)m;
    zoo_kv_cache_free(cache);
}

/* --- the network -------------------------------------------------------- */

zoo_tensor *llama_layer_forward(zoo_model *m, zoo_graph *g, int l, zoo_tensor *x,
                                int64_t pos_offset, zoo_kv_cache *cache) {
    llama_layer *y = &m->layers[l];
    int NH = (int)m->n_head;
    zoo_tensor *h = zoo_rmsnorm(g, x, y->attn_norm, m->eps);
    zoo_tensor *q = zoo_rope(g, zoo_linear(g, h, y->wq, NULL, ZOO_W_OUT_IN), NH, pos_offset,
                             m->theta, false); // (B,T,C)
    zoo_tensor *k =
        zoo_rope(g, zoo_linear(g, h, y->wk, NULL, ZOO_W_OUT_IN), NH, pos_offset, m->theta, false);
    zoo_tensor *v = zoo_linear(g, h, y->wv, NULL, ZOO_W_OUT_IN);
    zoo_tensor *a;
    if (cache) /* this step's keys and values join the cache; the queries attend over all of it */
        a = zoo_kv_cache_attend(g, cache, l, q, k, v, NH);
    else
        a = zoo_attention(g, q, k, v, NH, true, NULL);
    x = zoo_add(g, x, zoo_linear(g, a, y->wo, NULL, ZOO_W_OUT_IN));
    h = zoo_rmsnorm(g, x, y->mlp_norm, m->eps);
    zoo_tensor *gate = zoo_linear(g, h, y->w_gate, NULL, ZOO_W_OUT_IN); // (B,T,H)
    zoo_tensor *up = zoo_linear(g, h, y->w_up, NULL, ZOO_W_OUT_IN);
    return zoo_add(g, x, zoo_linear(g, llama_swiglu(g, gate, up), y->w_down, NULL, ZOO_W_OUT_IN));
}

/* The residual stream after `layers` layers (all when < 0), before the final norm. */
static zoo_tensor *trunk(zoo_model *m, zoo_graph *g, const zoo_batch *batch, int layers) {
    int64_t B = batch->B, T = batch->T;
    if (T > m->block_size) {
        zoo_graph_fail(g, ZOO_ERR_ARG,
                       "llama: %lld positions do not fit the context of %lld (block_size)",
                       (long long)T, (long long)m->block_size);
        return NULL;
    }
    zoo_tensor *ids = zoo_tensor_wrap(g, ZOO_I32, 2, ZOO_SHAPE(B, T), (void *)batch->ids);
    zoo_tensor *x = zoo_embedding(g, m->embed, ids); // (B,T,C)
    int n = layers < 0 || layers > m->n_layer ? (int)m->n_layer : layers;
    for (int l = 0; l < n; l++) x = llama_layer_forward(m, g, l, x, 0, NULL);
    return x;
}

static zoo_tensor *head(zoo_model *m, zoo_graph *g, zoo_tensor *hidden) {
    return zoo_linear(g, hidden, m->embed, NULL, ZOO_W_OUT_IN); /* tied: embed is [V,C] */
}

static int llama_forward(zoo_model *m, zoo_graph *g, const zoo_batch *batch, zoo_outputs *out) {
    if (batch->mask)
        return zoo_error(ZOO_ERR_ARG, "llama: padded batches are not supported (no mask)");
    out->hidden = zoo_rmsnorm(g, trunk(m, g, batch, -1), m->norm, m->eps);
    out->logits = head(m, g, out->hidden);
    return zoo_graph_status(g);
}

static int llama_loss(zoo_model *m, zoo_graph *g, const zoo_batch *batch, zoo_rng *rng,
                      zoo_tensor **loss, zoo_metrics *metrics) {
    (void)rng, (void)metrics;
    if (!batch->targets) return zoo_error(ZOO_ERR_ARG, "llama: the batch has no targets");
    zoo_tensor *hidden = zoo_rmsnorm(g, trunk(m, g, batch, -1), m->norm, m->eps);
    zoo_tensor *targets =
        zoo_tensor_wrap(g, ZOO_I32, 2, ZOO_SHAPE(batch->B, batch->T), (void *)batch->targets);
    *loss = zoo_cross_entropy(g, head(m, g, hidden), targets, ZOO_IGNORE);
    return zoo_graph_status(g);
}

/* layer < 0: the last hidden state (after the final norm); k in [0, n_layer]:
 * the residual stream after k layers (0: the embeddings). */
static int llama_embed(zoo_model *m, zoo_graph *g, const zoo_batch *batch, int layer,
                       zoo_tensor **out) {
    if (layer > m->n_layer)
        return zoo_error(ZOO_ERR_ARG, "llama: layer %d: the model has %lld layers", layer,
                         (long long)m->n_layer);
    zoo_tensor *x = trunk(m, g, batch, layer);
    *out = layer < 0 ? zoo_rmsnorm(g, x, m->norm, m->eps) : x;
    return zoo_graph_status(g);
}

int llama_decode_step(zoo_model *m, zoo_graph *g, void *cache, const int32_t *ids, int64_t B,
                      zoo_tensor **logits) {
    zoo_kv_cache *c = cache;
    int64_t pos = zoo_kv_cache_len(c);
    zoo_tensor *id = zoo_tensor_wrap(g, ZOO_I32, 2, ZOO_SHAPE(B, 1), (void *)ids);
    zoo_tensor *x = zoo_embedding(g, m->embed, id); // (B,1,C)
    for (int l = 0; l < m->n_layer; l++) x = llama_layer_forward(m, g, l, x, pos, c);
    zoo_tensor *out = head(m, g, zoo_rmsnorm(g, x, m->norm, m->eps)); // (B,1,V)
    *logits = out ? zoo_view(g, out, B, m->V) : NULL;
    if (zoo_graph_status(g) != ZOO_OK) return zoo_graph_status(g);
    return zoo_kv_cache_advance(c, 1);
}

static const zoo_plugin_ops llama_ops = {
    .size = sizeof(zoo_plugin_ops),
    .create = llama_create,
    .destroy = llama_destroy,
    .forward = llama_forward,
    .loss = llama_loss,
    .embed = llama_embed,
    .cache_new = llama_cache_new,
    .cache_free = llama_cache_free,
    .decode_step = llama_decode_step,
};

static const zoo_tokenizer_def *const llama_tokenizers[] = {&llama_bytes_type, NULL};

static const zoo_plugin llama_plugin = {
    .size = sizeof(zoo_plugin),
    .abi_major = ZOO_ABI_MAJOR,
    .abi_minor = ZOO_ABI_MINOR,
    .name = "llama",
    .version = "0.1.0",
    .summary = "LLaMA-style decoder: RMSNorm, rotary positions, SwiGLU; the drop-in example",
    .objective = ZOO_OBJ_CAUSAL_LM,
    .hparams = llama_hparams,
    .n_hparams = sizeof llama_hparams / sizeof llama_hparams[0],
    .capabilities = ZOO_CAP_DECODE,
    .ops = &llama_ops,
    .tokenizers = llama_tokenizers,
};

ZOO_PLUGIN_EXPORT const zoo_plugin *zoo_plugin_entry(void) {
    return &llama_plugin;
}
