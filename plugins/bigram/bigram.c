/* bigram: the baseline language model, P(next token | token). It ships with
 * zoo (the floor any real model must beat) and is also the SDK's example:
 * tests/sdk/test_sdk.sh builds this same file out of tree against an
 * installed zoo, to prove a plugin needs nothing but libzoo's public headers
 * and library.
 *
 * One parameter, logits.weight [V,V]: row a holds the logits of the token
 * that follows token a, so forward is a single embedding lookup. It exports
 * zoo_plugin_entry and the two extras its manifest (bigram.json) declares;
 * everything else is static. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "zoo/plugin.h"
#include "zoo/zoo.h"

struct zoo_model {
    int64_t V;
    zoo_tensor *weight; /* (V,V) logits.weight, owned by the host's store */
};

static const zoo_hparam_spec bigram_hparams[] = {
    {.name = "vocab_size",
     .type = ZOO_HP_INT,
     .help = "number of token ids",
     .default_number = 256,
     .has_min = true,
     .min = 2},
    {.name = "init_std",
     .type = ZOO_HP_FLOAT,
     .help = "standard deviation of the initial logits",
     .default_number = 0.02,
     .has_min = true,
     .min = 0},
};

static int bigram_create(const zoo_hparams *hp, zoo_params *params, zoo_rng *rng, zoo_model **out) {
    int64_t V = zoo_hparams_int(hp, "vocab_size");
    float std = (float)zoo_hparams_float(hp, "init_std");
    zoo_model *m = calloc(1, sizeof *m);
    if (!m) return zoo_error(ZOO_ERR_NOMEM, "bigram: out of memory");
    m->V = V;
    m->weight = zoo_params_add(params, "logits.weight", 2, ZOO_SHAPE(V, V), 0);
    if (!m->weight) {
        free(m);
        return ZOO_ERR_ARG; /* zoo_params_add left the message */
    }
    zoo_rng_fill_normal(rng, zoo_f32(m->weight), (size_t)m->weight->numel, 0.0f, std);
    *out = m;
    return ZOO_OK;
}

static void bigram_destroy(zoo_model *m) {
    free(m);
}

/* ids (B,T) -> logits (B,T,V) */
static zoo_tensor *bigram_logits(zoo_model *m, zoo_graph *g, const zoo_batch *batch) {
    zoo_tensor *ids =
        zoo_tensor_wrap(g, ZOO_I32, 2, ZOO_SHAPE(batch->B, batch->T), (void *)batch->ids);
    return zoo_embedding(g, m->weight, ids);
}

static int bigram_forward(zoo_model *m, zoo_graph *g, const zoo_batch *batch, zoo_outputs *out) {
    out->logits = bigram_logits(m, g, batch);
    return zoo_graph_status(g);
}

static int bigram_loss(zoo_model *m, zoo_graph *g, const zoo_batch *batch, zoo_rng *rng,
                       zoo_tensor **loss, zoo_metrics *metrics) {
    (void)rng;
    (void)metrics;
    if (!batch->targets) return zoo_error(ZOO_ERR_ARG, "bigram: the batch has no targets");
    zoo_tensor *logits = bigram_logits(m, g, batch);
    zoo_tensor *targets =
        zoo_tensor_wrap(g, ZOO_I32, 2, ZOO_SHAPE(batch->B, batch->T), (void *)batch->targets);
    *loss = zoo_cross_entropy(g, logits, targets, ZOO_IGNORE);
    return zoo_graph_status(g);
}

/* The model's only vectors are its rows: (B,T,V). */
static int bigram_embed(zoo_model *m, zoo_graph *g, const zoo_batch *batch, int layer,
                        zoo_tensor **out) {
    (void)layer;
    *out = bigram_logits(m, g, batch);
    return zoo_graph_status(g);
}

/* Generation: a bigram needs no history, so its "cache" is just the batch
 * size, and one step is one embedding lookup: ids (B) -> logits (B,V). */
typedef struct bigram_cache {
    int64_t B;
} bigram_cache;

static int bigram_cache_new(zoo_model *m, int64_t B, int64_t max_len, void **cache) {
    (void)m, (void)max_len;
    bigram_cache *c = malloc(sizeof *c);
    if (!c) return zoo_error(ZOO_ERR_NOMEM, "bigram: out of memory");
    c->B = B;
    *cache = c;
    return ZOO_OK;
}

static void bigram_cache_free(zoo_model *m, void *cache) {
    (void)m;
    free(cache);
}

static int bigram_decode_step(zoo_model *m, zoo_graph *g, void *cache, const int32_t *ids, int64_t B,
                              zoo_tensor **logits) {
    if (B != ((bigram_cache *)cache)->B)
        return zoo_error(ZOO_ERR_ARG, "bigram: decode_step for %lld sequences, the cache holds %lld",
                         (long long)B, (long long)((bigram_cache *)cache)->B);
    *logits = zoo_embedding(g, m->weight, zoo_tensor_wrap(g, ZOO_I32, 1, ZOO_SHAPE(B), (void *)ids));
    return zoo_graph_status(g);
}

static const zoo_plugin_ops bigram_ops = {
    .size = sizeof(zoo_plugin_ops),
    .create = bigram_create,
    .destroy = bigram_destroy,
    .forward = bigram_forward,
    .loss = bigram_loss,
    .embed = bigram_embed,
    .cache_new = bigram_cache_new,
    .cache_free = bigram_cache_free,
    .decode_step = bigram_decode_step,
};

static const zoo_plugin bigram_plugin = {
    .size = sizeof(zoo_plugin),
    .abi_major = ZOO_ABI_MAJOR,
    .abi_minor = ZOO_ABI_MINOR,
    .name = "bigram",
    .version = "1.0.0",
    .summary = "bigram language model: the baseline, and the SDK example",
    .objective = ZOO_OBJ_CAUSAL_LM,
    .hparams = bigram_hparams,
    .n_hparams = (int)(sizeof bigram_hparams / sizeof bigram_hparams[0]),
    .capabilities = ZOO_CAP_DECODE,
    .formats = NULL,
    .ops = &bigram_ops,
};

ZOO_PLUGIN_EXPORT const zoo_plugin *zoo_plugin_entry(void) {
    return &bigram_plugin;
}

/* --- extras, declared in bigram.json and called through libffi ---------- */

/* The most likely token after `token` (the first of equal logits), or -1
 * for a token outside [0, V). */
ZOO_PLUGIN_EXPORT int64_t bigram_argmax_next(void *model, int64_t token) {
    const zoo_model *m = model;
    if (!m || token < 0 || token >= m->V) return -1;
    const float *row = zoo_f32(m->weight) + token * m->V; // (V,)
    int64_t best = 0;
    for (int64_t b = 1; b < m->V; b++)
        if (row[b] > row[best]) best = b;
    return best;
}

/* The logit of token b following token a, or NaN outside [0, V). */
ZOO_PLUGIN_EXPORT double bigram_logit(void *model, int64_t a, int64_t b) {
    const zoo_model *m = model;
    if (!m || a < 0 || a >= m->V || b < 0 || b >= m->V) return NAN;
    return zoo_f32(m->weight)[a * m->V + b];
}
