/* The key/value cache of incremental decoding (see zoo/kv_cache.h). */
#include "zoo/kv_cache.h"

#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct zoo_kv_cache {
    int n_layer;
    int64_t B, max_len, C, len;
    float *data; // (n_layer, 2, B, max_len, C): per layer its keys, then its values
};

int zoo_kv_cache_new(int n_layer, int64_t B, int64_t max_len, int64_t C, zoo_kv_cache **out) {
    *out = NULL;
    if (n_layer < 1 || B < 1 || max_len < 1 || C < 1)
        return zoo_error(ZOO_ERR_ARG,
                         "zoo_kv_cache_new: n_layer %d, B %lld, max_len %lld and C %lld must all "
                         "be at least 1",
                         n_layer, (long long)B, (long long)max_len, (long long)C);
    zoo_kv_cache *c = calloc(1, sizeof *c);
    size_t n = (size_t)n_layer * 2 * (size_t)B * (size_t)max_len * (size_t)C;
    if (c) c->data = malloc(n * sizeof(float));
    if (!c || !c->data) {
        free(c);
        return zoo_error(ZOO_ERR_NOMEM,
                         "zoo_kv_cache_new: no memory for %d layers of %lld x %lld positions of "
                         "width %lld",
                         n_layer, (long long)B, (long long)max_len, (long long)C);
    }
    c->n_layer = n_layer, c->B = B, c->max_len = max_len, c->C = C;
    *out = c;
    return ZOO_OK;
}

void zoo_kv_cache_free(zoo_kv_cache *c) {
    if (!c) return;
    free(c->data);
    free(c);
}

int64_t zoo_kv_cache_len(const zoo_kv_cache *c) {
    return c->len;
}

int64_t zoo_kv_cache_max_len(const zoo_kv_cache *c) {
    return c->max_len;
}

int64_t zoo_kv_cache_batch(const zoo_kv_cache *c) {
    return c->B;
}

void zoo_kv_cache_clear(zoo_kv_cache *c) {
    c->len = 0;
}

static float *layer_k(const zoo_kv_cache *c, int layer) {
    return c->data + (size_t)layer * 2 * (size_t)(c->B * c->max_len * c->C);
}

static float *layer_v(const zoo_kv_cache *c, int layer) {
    return layer_k(c, layer) + (size_t)(c->B * c->max_len * c->C);
}

static bool check_layer(zoo_graph *g, const char *op, const zoo_kv_cache *c, int layer) {
    if (layer >= 0 && layer < c->n_layer) return true;
    zoo_graph_fail(g, ZOO_ERR_ARG, "%s: layer %d is outside [0, %d)", op, layer, c->n_layer);
    return false;
}

int zoo_kv_cache_append(zoo_graph *g, zoo_kv_cache *c, int layer, const zoo_tensor *k,
                        const zoo_tensor *v) {
    const char *op = "zoo_kv_cache_append";
    if (!k || g->status) return zoo_graph_status(g);
    if (!check_layer(g, op, c, layer) || !zoo_check_f32(g, op, k, "k") ||
        (v && !zoo_check_f32(g, op, v, "v")))
        return zoo_graph_status(g);
    int64_t B = c->B, C = c->C, ld = v ? C : 3 * C;
    if (k->ndim != 3 || k->shape[0] != B || k->shape[2] != ld ||
        (v && !zoo_tensor_same_shape(k, v))) {
        char sk[64], sv[64] = "NULL";
        zoo_shape_str(k, sk, sizeof sk);
        if (v) zoo_shape_str(v, sv, sizeof sv);
        return zoo_graph_fail(g, ZOO_ERR_SHAPE,
                              "%s: k %s and v %s do not fit the cache: expected k and v "
                              "[%lld,Tn,%lld], or a packed k [%lld,Tn,%lld] and v NULL",
                              op, sk, sv, (long long)B, (long long)C, (long long)B,
                              (long long)(3 * C));
    }
    int64_t Tn = k->shape[1];
    if (c->len + Tn > c->max_len)
        return zoo_graph_fail(g, ZOO_ERR_ARG,
                              "%s: the cache is full: %lld positions held and %lld new exceed its "
                              "%lld",
                              op, (long long)c->len, (long long)Tn, (long long)c->max_len);
    const float *ks = zoo_f32(k) + (v ? 0 : C), *vs = v ? zoo_f32(v) : zoo_f32(k) + 2 * C;
    float *kd = layer_k(c, layer), *vd = layer_v(c, layer);
    for (int64_t b = 0; b < B; b++)
        for (int64_t t = 0; t < Tn; t++) {
            int64_t src = (b * Tn + t) * ld, dst = (b * c->max_len + c->len + t) * C;
            memcpy(kd + dst, ks + src, (size_t)C * sizeof(float));
            memcpy(vd + dst, vs + src, (size_t)C * sizeof(float));
        }
    return ZOO_OK;
}

int zoo_kv_cache_view(zoo_graph *g, zoo_kv_cache *c, int layer, zoo_tensor **k, zoo_tensor **v) {
    *k = *v = NULL;
    if (g->status || !check_layer(g, "zoo_kv_cache_view", c, layer)) return zoo_graph_status(g);
    *k = zoo_tensor_wrap(g, ZOO_F32, 3, ZOO_SHAPE(c->B, c->max_len, c->C), layer_k(c, layer));
    *v = zoo_tensor_wrap(g, ZOO_F32, 3, ZOO_SHAPE(c->B, c->max_len, c->C), layer_v(c, layer));
    return zoo_graph_status(g);
}

zoo_tensor *zoo_kv_cache_attend(zoo_graph *g, zoo_kv_cache *c, int layer, zoo_tensor *q,
                                zoo_tensor *k, zoo_tensor *v, int n_head) {
    if (!q || g->status) return NULL;
    if (!k != !v) {
        zoo_graph_fail(g, ZOO_ERR_ARG,
                       "zoo_kv_cache_attend: k and v must both be given, or both NULL with a "
                       "packed q|k|v");
        return NULL;
    }
    if (q->ndim != 3 || (k && (k->ndim != 3 || k->shape[1] != q->shape[1]))) {
        char sq[64], sk[64] = "NULL";
        zoo_shape_str(q, sq, sizeof sq);
        if (k) zoo_shape_str(k, sk, sizeof sk);
        zoo_graph_fail(g, ZOO_ERR_SHAPE,
                       "zoo_kv_cache_attend: q %s and k %s must be [B,Tn,...] with the same Tn", sq,
                       sk);
        return NULL;
    }
    zoo_tensor *ck, *cv;
    if (zoo_kv_cache_append(g, c, layer, k ? k : q, v) != ZOO_OK ||
        zoo_kv_cache_view(g, c, layer, &ck, &cv) != ZOO_OK)
        return NULL;
    int64_t Tn = q->shape[1];
    zoo_attention_args a = {.size = sizeof a,
                            .q = q,
                            .k = ck,
                            .v = cv,
                            .n_head = n_head,
                            .causal = true,
                            .q_offset = c->len,
                            .kv_len = c->len + Tn};
    return zoo_attention_ex(g, &a);
}

int zoo_kv_cache_advance(zoo_kv_cache *c, int64_t n) {
    if (n < 0 || c->len + n > c->max_len)
        return zoo_error(ZOO_ERR_ARG,
                         "zoo_kv_cache_advance: %lld positions held, %lld more exceed the cache's "
                         "%lld",
                         (long long)c->len, (long long)n, (long long)c->max_len);
    c->len += n;
    return ZOO_OK;
}
