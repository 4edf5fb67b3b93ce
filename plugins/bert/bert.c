/* bert: BERT built from libzoo's operators (see bert.h). */
#include "bert.h"

#include <stdio.h>
#include <stdlib.h>

static const zoo_hparam_spec bert_hparams[] = {
    {.name = "hidden_size",
     .type = ZOO_HP_INT,
     .help = "width of every layer",
     .default_number = 256,
     .has_min = true,
     .min = 1},
    {.name = "num_hidden_layers",
     .type = ZOO_HP_INT,
     .help = "encoder layers",
     .default_number = 4,
     .has_min = true,
     .min = 1},
    {.name = "num_attention_heads",
     .type = ZOO_HP_INT,
     .help = "attention heads (must divide hidden_size)",
     .default_number = 4,
     .has_min = true,
     .min = 1},
    {.name = "intermediate_size",
     .type = ZOO_HP_INT,
     .help = "width of the feed-forward layer",
     .default_number = 1024,
     .has_min = true,
     .min = 1},
    {.name = "max_position_embeddings",
     .type = ZOO_HP_INT,
     .help = "longest sequence (learned positions)",
     .default_number = 512,
     .has_min = true,
     .min = 1},
    {.name = "type_vocab_size",
     .type = ZOO_HP_INT,
     .help = "segment (token type) ids",
     .default_number = 2,
     .has_min = true,
     .min = 1},
    {.name = "vocab_size",
     .type = ZOO_HP_INT,
     .help = "vocabulary size (set from the tokenizer)",
     .default_number = 30522,
     .has_min = true,
     .min = 1},
    {.name = "hidden_dropout_prob",
     .type = ZOO_HP_FLOAT,
     .help =
         "dropout on embeddings and on each sublayer's output (attention probabilities take none)",
     .default_number = 0.1,
     .has_min = true,
     .min = 0,
     .has_max = true,
     .max = 0.99},
    {.name = "layer_norm_eps",
     .type = ZOO_HP_FLOAT,
     .help = "layer norm epsilon",
     .default_number = 1e-12,
     .has_min = true,
     .min = 0},
    {.name = "initializer_range",
     .type = ZOO_HP_FLOAT,
     .help = "std of the initial weights",
     .default_number = 0.02,
     .has_min = true,
     .min = 0},
    {.name = "nsp",
     .type = ZOO_HP_BOOL,
     .help = "train the next-sentence head too (loss = MLM + NSP)",
     .default_number = 1},
};

static zoo_tensor *param(zoo_params *p, zoo_rng *rng, const char *name, int ndim,
                         const int64_t *shape, unsigned flags, float std, float fill) {
    return std >= 0 ? zoo_params_add_normal(p, name, ndim, shape, flags, rng, std)
                    : zoo_params_add_filled(p, name, ndim, shape, flags, fill);
}

#define NAME(...) (snprintf(name, sizeof name, __VA_ARGS__), name)
#define W(nm, ...) param(params, rng, nm, ZOO_NDIM(__VA_ARGS__), ZOO_SHAPE(__VA_ARGS__), 0, std, 0)
#define B(nm, ...)                                                                                 \
    param(params, rng, nm, ZOO_NDIM(__VA_ARGS__), ZOO_SHAPE(__VA_ARGS__), ZOO_PARAM_NO_DECAY, -1, 0)
#define LN1(nm, ...)                                                                               \
    param(params, rng, nm, ZOO_NDIM(__VA_ARGS__), ZOO_SHAPE(__VA_ARGS__), ZOO_PARAM_NO_DECAY, -1, 1)

static int bert_create(const zoo_hparams *hp, zoo_params *params, zoo_rng *rng, zoo_model **out) {
    zoo_model *m = calloc(1, sizeof *m);
    if (!m) return zoo_error(ZOO_ERR_NOMEM, "bert: out of memory");
    m->H = zoo_hparams_int(hp, "hidden_size"),
    m->n_layer = zoo_hparams_int(hp, "num_hidden_layers");
    m->n_head = zoo_hparams_int(hp, "num_attention_heads"),
    m->I = zoo_hparams_int(hp, "intermediate_size");
    m->max_pos = zoo_hparams_int(hp, "max_position_embeddings"),
    m->n_types = zoo_hparams_int(hp, "type_vocab_size");
    m->V = zoo_hparams_int(hp, "vocab_size");
    m->dropout = (float)zoo_hparams_float(hp, "hidden_dropout_prob"),
    m->eps = (float)zoo_hparams_float(hp, "layer_norm_eps");
    m->nsp = zoo_hparams_bool(hp, "nsp");
    if (m->H % m->n_head) {
        int st = zoo_error(ZOO_ERR_ARG,
                           "bert: hidden_size %lld is not divisible by num_attention_heads %lld",
                           (long long)m->H, (long long)m->n_head);
        free(m);
        return st;
    }
    int64_t H = m->H, I = m->I;
    float std = (float)zoo_hparams_float(hp, "initializer_range");
    char name[128];
    m->layer = calloc((size_t)m->n_layer, sizeof *m->layer);
    m->word = W("embeddings.word_embeddings.weight", m->V, H);
    m->pos = W("embeddings.position_embeddings.weight", m->max_pos, H);
    m->type = W("embeddings.token_type_embeddings.weight", m->n_types, H);
    m->emb_ln_w = LN1("embeddings.LayerNorm.weight", H);
    m->emb_ln_b = B("embeddings.LayerNorm.bias", H);
    bool ok = m->layer && m->word && m->pos && m->type && m->emb_ln_w && m->emb_ln_b;
    for (int l = 0; ok && l < m->n_layer; l++) {
        bert_layer *y = &m->layer[l];
        const char *p = "encoder.layer";
        y->q_w = W(NAME("%s.%d.attention.self.query.weight", p, l), H, H);
        y->q_b = B(NAME("%s.%d.attention.self.query.bias", p, l), H);
        y->k_w = W(NAME("%s.%d.attention.self.key.weight", p, l), H, H);
        y->k_b = B(NAME("%s.%d.attention.self.key.bias", p, l), H);
        y->v_w = W(NAME("%s.%d.attention.self.value.weight", p, l), H, H);
        y->v_b = B(NAME("%s.%d.attention.self.value.bias", p, l), H);
        y->ao_w = W(NAME("%s.%d.attention.output.dense.weight", p, l), H, H);
        y->ao_b = B(NAME("%s.%d.attention.output.dense.bias", p, l), H);
        y->ao_ln_w = LN1(NAME("%s.%d.attention.output.LayerNorm.weight", p, l), H);
        y->ao_ln_b = B(NAME("%s.%d.attention.output.LayerNorm.bias", p, l), H);
        y->i_w = W(NAME("%s.%d.intermediate.dense.weight", p, l), I, H);
        y->i_b = B(NAME("%s.%d.intermediate.dense.bias", p, l), I);
        y->o_w = W(NAME("%s.%d.output.dense.weight", p, l), H, I);
        y->o_b = B(NAME("%s.%d.output.dense.bias", p, l), H);
        y->o_ln_w = LN1(NAME("%s.%d.output.LayerNorm.weight", p, l), H);
        y->o_ln_b = B(NAME("%s.%d.output.LayerNorm.bias", p, l), H);
        ok = y->q_w && y->q_b && y->k_w && y->k_b && y->v_w && y->v_b && y->ao_w && y->ao_b &&
             y->ao_ln_w && y->ao_ln_b && y->i_w && y->i_b && y->o_w && y->o_b && y->o_ln_w &&
             y->o_ln_b;
    }
    if (ok) {
        m->pool_w = W("pooler.dense.weight", H, H), m->pool_b = B("pooler.dense.bias", H);
        m->tr_w = W("cls.predictions.transform.dense.weight", H, H);
        m->tr_b = B("cls.predictions.transform.dense.bias", H);
        m->tr_ln_w = LN1("cls.predictions.transform.LayerNorm.weight", H);
        m->tr_ln_b = B("cls.predictions.transform.LayerNorm.bias", H);
        m->mlm_b = B("cls.predictions.bias", m->V);
        m->nsp_w = W("cls.seq_relationship.weight", 2, H),
        m->nsp_b = B("cls.seq_relationship.bias", 2);
        ok = m->pool_w && m->pool_b && m->tr_w && m->tr_b && m->tr_ln_w && m->tr_ln_b && m->mlm_b &&
             m->nsp_w && m->nsp_b;
    }
    if (!ok) {
        free(m->layer);
        free(m);
        return ZOO_ERR_NOMEM; /* zoo_params_add said why */
    }
    *out = m;
    return ZOO_OK;
}

static void bert_destroy(zoo_model *m) {
    if (!m) return;
    free(m->layer);
    free(m);
}

/* The last hidden state (B,T,H) after `layers` layers (all when < 0). When
 * `states` is not NULL it gets every hidden state on the way, n_layer + 1 of
 * them: the embeddings' output, then each layer's (HuggingFace's
 * output_hidden_states). */
static zoo_tensor *encode(zoo_model *m, zoo_graph *g, const zoo_batch *b, zoo_rng *rng, int layers,
                          zoo_tensor **states) {
    int64_t B = b->B, T = b->T;
    if (T > m->max_pos) {
        zoo_graph_fail(g, ZOO_ERR_ARG, "bert: %lld positions exceed max_position_embeddings %lld",
                       (long long)T, (long long)m->max_pos);
        return NULL;
    }
    zoo_tensor *ids = zoo_tensor_wrap(g, ZOO_I32, 2, ZOO_SHAPE(B, T), (void *)b->ids);
    zoo_tensor *pos = zoo_new(g, ZOO_I32, B, T), *types = NULL;
    if (!pos) return NULL;
    for (int64_t i = 0; i < B * T; i++) zoo_i32(pos)[i] = (int32_t)(i % T);
    if (b->types) {
        types = zoo_tensor_wrap(g, ZOO_I32, 2, ZOO_SHAPE(B, T), (void *)b->types);
    } else {
        types = zoo_zeros(g, ZOO_I32, B, T);
    }
    zoo_tensor *mask =
        b->mask ? zoo_tensor_wrap(g, ZOO_I32, 2, ZOO_SHAPE(B, T), (void *)b->mask) : NULL;
    zoo_tensor *x =
        zoo_add(g, zoo_add(g, zoo_embedding(g, m->word, ids), zoo_embedding(g, m->pos, pos)),
                zoo_embedding(g, m->type, types));
    x = zoo_dropout(g, zoo_layernorm(g, x, m->emb_ln_w, m->emb_ln_b, m->eps), m->dropout, rng);
    if (states) states[0] = x;
    int n = layers < 0 || layers > m->n_layer ? (int)m->n_layer : layers;
    for (int l = 0; l < n; l++) {
        bert_layer *y = &m->layer[l];
        zoo_tensor *q = zoo_linear(g, x, y->q_w, y->q_b, ZOO_W_OUT_IN);
        zoo_tensor *k = zoo_linear(g, x, y->k_w, y->k_b, ZOO_W_OUT_IN);
        zoo_tensor *v = zoo_linear(g, x, y->v_w, y->v_b, ZOO_W_OUT_IN);
        zoo_tensor *a = zoo_attention(g, q, k, v, (int)m->n_head, false, mask);
        a = zoo_dropout(g, zoo_linear(g, a, y->ao_w, y->ao_b, ZOO_W_OUT_IN), m->dropout, rng);
        x = zoo_layernorm(g, zoo_add(g, x, a), y->ao_ln_w, y->ao_ln_b, m->eps);
        zoo_tensor *h = zoo_gelu_erf(g, zoo_linear(g, x, y->i_w, y->i_b, ZOO_W_OUT_IN));
        h = zoo_dropout(g, zoo_linear(g, h, y->o_w, y->o_b, ZOO_W_OUT_IN), m->dropout, rng);
        x = zoo_layernorm(g, zoo_add(g, x, h), y->o_ln_w, y->o_ln_b, m->eps);
        if (states) states[l + 1] = x;
    }
    return x;
}

/* tanh(dense(hidden at [CLS])): (B,H) */
static zoo_tensor *pool(zoo_model *m, zoo_graph *g, zoo_tensor *hidden, int64_t B) {
    zoo_tensor *cls = zoo_view(g, zoo_slice(g, hidden, 1, 0, 1), B, m->H);
    return zoo_tanh(g, zoo_linear(g, cls, m->pool_w, m->pool_b, ZOO_W_OUT_IN));
}

/* The masked-LM head over rows (N,H) -> (N,V). */
static zoo_tensor *mlm_head(zoo_model *m, zoo_graph *g, zoo_tensor *rows) {
    zoo_tensor *h = zoo_gelu_erf(g, zoo_linear(g, rows, m->tr_w, m->tr_b, ZOO_W_OUT_IN));
    h = zoo_layernorm(g, h, m->tr_ln_w, m->tr_ln_b, m->eps);
    return zoo_linear(g, h, m->word, m->mlm_b,
                      ZOO_W_OUT_IN); /* decoder tied to the word embeddings */
}

/* The hidden rows (N,H) of the positions listed in `at` (N flat indices into B*T). */
static zoo_tensor *gather(zoo_graph *g, zoo_tensor *hidden, zoo_tensor *at, int64_t BT, int64_t H) {
    return zoo_embedding(g, zoo_view(g, hidden, BT, H),
                         at); /* gradient goes back to those rows only */
}

static int bert_forward(zoo_model *m, zoo_graph *g, const zoo_batch *b, zoo_outputs *out) {
    out->hidden = encode(m, g, b, NULL, -1, NULL);
    out->pooled = pool(m, g, out->hidden, b->B);
    out->logits = mlm_head(m, g, out->hidden);
    return zoo_graph_status(g);
}

static int bert_loss(zoo_model *m, zoo_graph *g, const zoo_batch *b, zoo_rng *rng,
                     zoo_tensor **loss, zoo_metrics *metrics) {
    if (!b->targets) return zoo_error(ZOO_ERR_ARG, "bert: the batch has no masked-LM targets");
    int64_t BT = b->B * b->T, n = 0;
    for (int64_t i = 0; i < BT; i++) n += b->targets[i] != ZOO_IGNORE;
    zoo_tensor *hidden = encode(m, g, b, rng, -1, NULL);
    zoo_tensor *at = zoo_new(g, ZOO_I32, n > 0 ? n : 1), *want = zoo_new(g, ZOO_I32, n > 0 ? n : 1);
    if (!at || !want) return zoo_graph_status(g);
    n = 0;
    for (int64_t i = 0; i < BT; i++)
        if (b->targets[i] != ZOO_IGNORE)
            zoo_i32(at)[n] = (int32_t)i, zoo_i32(want)[n++] = b->targets[i];
    if (n == 0) zoo_i32(at)[0] = 0, zoo_i32(want)[0] = ZOO_IGNORE; /* nothing masked: a zero loss */
    /* only the masked positions go through the vocabulary-sized product */
    zoo_tensor *logits = mlm_head(m, g, gather(g, hidden, at, BT, m->H)); // (N,V)
    *loss = zoo_cross_entropy(g, logits, want, ZOO_IGNORE);
    if (metrics && logits && n > 0) {
        int64_t right = 0;
        for (int64_t r = 0; r < n; r++) {
            const float *row = zoo_f32(logits) + r * m->V;
            int64_t best = 0;
            for (int64_t v = 1; v < m->V; v++)
                if (row[v] > row[best]) best = v;
            right += best == zoo_i32(want)[r];
        }
        zoo_metrics_add(metrics, "mlm_accuracy", (double)right / (double)n);
    }
    if (m->nsp && b->labels) {
        zoo_tensor *nsp =
            zoo_linear(g, pool(m, g, hidden, b->B), m->nsp_w, m->nsp_b, ZOO_W_OUT_IN); // (B,2)
        zoo_tensor *labels = zoo_tensor_wrap(g, ZOO_I32, 1, ZOO_SHAPE(b->B), (void *)b->labels);
        *loss = zoo_add(g, *loss, zoo_cross_entropy(g, nsp, labels, ZOO_IGNORE));
        if (metrics && nsp) {
            int64_t right = 0;
            for (int64_t r = 0; r < b->B; r++)
                right += (zoo_f32(nsp)[2 * r + 1] > zoo_f32(nsp)[2 * r]) == (b->labels[r] == 1);
            zoo_metrics_add(metrics, "nsp_accuracy", (double)right / (double)b->B);
        }
    }
    return zoo_graph_status(g);
}

/* layer < 0: the last hidden state; k in [0, n_layer]: after k layers (0: the
 * embeddings); ZOO_EMBED_ALL_LAYERS: all n_layer + 1 of them, (L,B,T,H). */
static int bert_embed(zoo_model *m, zoo_graph *g, const zoo_batch *b, int layer, zoo_tensor **out) {
    if (layer > m->n_layer)
        return zoo_error(ZOO_ERR_ARG, "bert: layer %d: the model has %lld layers", layer,
                         (long long)m->n_layer);
    if (layer != ZOO_EMBED_ALL_LAYERS) {
        *out = encode(m, g, b, NULL, layer, NULL);
        return zoo_graph_status(g);
    }
    int L = (int)m->n_layer + 1;
    zoo_tensor **states = calloc((size_t)L, sizeof *states);
    if (!states) return zoo_error(ZOO_ERR_NOMEM, "out of memory");
    if (encode(m, g, b, NULL, -1, states))
        for (int l = 0; l < L; l++) states[l] = zoo_view(g, states[l], 1, b->B, b->T, m->H);
    *out = zoo_graph_status(g) ? NULL : zoo_concat(g, states, L, 0);
    free(states);
    return zoo_graph_status(g);
}

static int bert_fill_mask(zoo_model *m, zoo_graph *g, const zoo_batch *b, int32_t mask_id,
                          zoo_tensor **out) {
    int64_t BT = b->B * b->T, n = 0;
    for (int64_t i = 0; i < BT; i++) n += b->ids[i] == mask_id;
    if (n == 0) return zoo_error(ZOO_ERR_ARG, "bert: no [MASK] (id %d) in the batch", mask_id);
    zoo_tensor *hidden = encode(m, g, b, NULL, -1, NULL), *at = zoo_new(g, ZOO_I32, n);
    if (!at) return zoo_graph_status(g);
    n = 0;
    for (int64_t i = 0; i < BT; i++)
        if (b->ids[i] == mask_id) zoo_i32(at)[n++] = (int32_t)i;
    *out = mlm_head(m, g, gather(g, hidden, at, BT, m->H));
    return zoo_graph_status(g);
}

static const zoo_plugin_ops bert_ops = {
    .size = sizeof(zoo_plugin_ops),
    .create = bert_create,
    .destroy = bert_destroy,
    .forward = bert_forward,
    .loss = bert_loss,
    .embed = bert_embed,
    .fill_mask = bert_fill_mask,
    .import_config = bert_import_config,
    .import_weights = bert_import_weights,
    .export_checkpoint = bert_export,
    .import_tokenizer = bert_import_tokenizer,
};

static const char *const bert_formats[] = {"hf", NULL};

static const zoo_plugin bert_plugin = {
    .size = sizeof(zoo_plugin),
    .abi_major = ZOO_ABI_MAJOR,
    .abi_minor = ZOO_ABI_MINOR,
    .name = "bert",
    .version = "0.1.0",
    .summary = "BERT: transformer encoder, masked LM + next sentence",
    .objective = ZOO_OBJ_MASKED_LM,
    .hparams = bert_hparams,
    .n_hparams = sizeof bert_hparams / sizeof bert_hparams[0],
    .capabilities = ZOO_CAP_FILL_MASK | ZOO_CAP_IMPORT | ZOO_CAP_EXPORT | ZOO_CAP_IMPORT_TOKENIZER,
    .formats = bert_formats,
    .ops = &bert_ops,
};

ZOO_PLUGIN_EXPORT const zoo_plugin *zoo_plugin_entry(void) {
    return &bert_plugin;
}
