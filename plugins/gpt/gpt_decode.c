/* Generation with a key/value cache: each step runs one new position per
 * sequence through the blocks, attending to the keys and values cached for
 * the positions before it, so a token costs one position, not the context. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gpt.h"

typedef struct gpt_cache {
    int64_t B, max_len, pos;
    float *k, *v; // (n_layer, B, max_len, C) each
} gpt_cache;

int gpt_cache_new(zoo_model *m, int64_t B, int64_t max_len, void **out) {
    if (max_len > m->block_size)
        return zoo_error(ZOO_ERR_ARG, "gpt: %lld positions exceed the context of %lld (block_size)",
                         (long long)max_len, (long long)m->block_size);
    gpt_cache *c = calloc(1, sizeof *c);
    size_t n = (size_t)(m->n_layer * B * max_len * m->C);
    if (c) c->k = malloc(n * sizeof(float)), c->v = malloc(n * sizeof(float));
    if (!c || !c->k || !c->v) {
        gpt_cache_free(m, c);
        return zoo_error(ZOO_ERR_NOMEM, "gpt: no memory for a cache of %lld positions",
                         (long long)max_len);
    }
    c->B = B, c->max_len = max_len;
    *out = c;
    return ZOO_OK;
}

void gpt_cache_free(zoo_model *m, void *cache) {
    (void)m;
    gpt_cache *c = cache;
    if (!c) return;
    free(c->k), free(c->v), free(c);
}

/* Attention of one new position per sequence over the cache of layer l:
 * qkv (B,1,3C) -> out (B,1,C). Stores this position's key and value first. */
static zoo_tensor *cached_attention(zoo_model *m, zoo_graph *g, gpt_cache *c, int l,
                                    zoo_tensor *qkv) {
    int64_t B = c->B, C = m->C, NH = m->n_head, hs = C / NH, T = c->pos + 1;
    zoo_tensor *out = zoo_new(g, ZOO_F32, B, 1, C);
    float *scores = zoo_graph_alloc(g, (size_t)T * sizeof(float));
    if (!out || !scores) return NULL;
    float scale = 1.0f / sqrtf((float)hs);
    for (int64_t b = 0; b < B; b++) {
        const float *q = zoo_f32(qkv) + b * 3 * C;        // (3C) q|k|v
        float *K = c->k + ((l * B + b) * c->max_len) * C; // (max_len,C)
        float *V = c->v + ((l * B + b) * c->max_len) * C; // (max_len,C)
        memcpy(K + c->pos * C, q + C, (size_t)C * sizeof(float));
        memcpy(V + c->pos * C, q + 2 * C, (size_t)C * sizeof(float));
        float *o = zoo_f32(out) + b * C;
        for (int64_t h = 0; h < NH; h++) {
            const float *qh = q + h * hs;
            float mx = -INFINITY;
            for (int64_t t = 0; t < T; t++) {
                const float *kt = K + t * C + h * hs;
                float s = 0;
                for (int64_t i = 0; i < hs; i++) s += qh[i] * kt[i];
                scores[t] = s * scale;
                mx = scores[t] > mx ? scores[t] : mx;
            }
            float sum = 0;
            for (int64_t t = 0; t < T; t++) sum += scores[t] = expf(scores[t] - mx);
            float *oh = o + h * hs;
            memset(oh, 0, (size_t)hs * sizeof(float));
            for (int64_t t = 0; t < T; t++) {
                const float *vt = V + t * C + h * hs;
                float p = scores[t] / sum;
                for (int64_t i = 0; i < hs; i++) oh[i] += p * vt[i];
            }
        }
    }
    return out;
}

int gpt_decode_step(zoo_model *m, zoo_graph *g, void *cache, const int32_t *ids, int64_t B,
                    zoo_tensor **logits) {
    gpt_cache *c = cache;
    if (B != c->B)
        return zoo_error(ZOO_ERR_ARG, "gpt: a step of %lld sequences, the cache holds %lld",
                         (long long)B, (long long)c->B);
    if (c->pos >= c->max_len)
        return zoo_error(ZOO_ERR_ARG, "gpt: the cache is full (%lld positions)",
                         (long long)c->max_len);
    zoo_tensor *pos = zoo_new(g, ZOO_I32, B, 1);
    if (!pos) return zoo_graph_status(g);
    for (int64_t b = 0; b < B; b++) zoo_i32(pos)[b] = (int32_t)c->pos;
    zoo_tensor *id = zoo_tensor_wrap(g, ZOO_I32, 2, ZOO_SHAPE(B, 1), (void *)ids);
    zoo_tensor *x =
        zoo_add(g, zoo_embedding(g, m->wte, id), zoo_embedding(g, m->wpe, pos)); // (B,1,C)
    for (int l = 0; l < m->n_layer && x; l++) {
        gpt_block *b = &m->h[l];
        zoo_tensor *h = zoo_layernorm(g, x, b->ln_1_w, b->ln_1_b, m->eps);
        zoo_tensor *qkv = zoo_linear(g, h, b->attn_w, b->attn_b, ZOO_W_IN_OUT);
        zoo_tensor *a = qkv ? cached_attention(m, g, c, l, qkv) : NULL;
        x = zoo_add(g, x, zoo_linear(g, a, b->proj_w, b->proj_b, ZOO_W_IN_OUT));
        h = zoo_layernorm(g, x, b->ln_2_w, b->ln_2_b, m->eps);
        h = zoo_gelu_tanh(g, zoo_linear(g, h, b->fc_w, b->fc_b, ZOO_W_IN_OUT));
        x = zoo_add(g, x, zoo_linear(g, h, b->mlp_w, b->mlp_b, ZOO_W_IN_OUT));
    }
    x = zoo_layernorm(g, x, m->ln_f_w, m->ln_f_b, m->eps);
    zoo_tensor *out = zoo_linear(g, x, m->wte, NULL, ZOO_W_OUT_IN); // (B,1,V)
    *logits = out ? zoo_view(g, out, B, m->V) : NULL;
    if (zoo_graph_status(g) == ZOO_OK) c->pos++;
    return zoo_graph_status(g);
}
