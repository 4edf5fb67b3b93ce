/* Generation with a key/value cache: a step runs only its new positions
 * through the same blocks as training (gpt_block_forward with a cache),
 * attending over the keys and values cached for the positions before them,
 * so a token costs one position, not the context. */
#include "gpt.h"

int gpt_cache_new(zoo_model *m, int64_t B, int64_t max_len, void **cache) {
    if (max_len > m->block_size)
        return zoo_error(ZOO_ERR_ARG, "gpt: %lld positions exceed the context of %lld (block_size)",
                         (long long)max_len, (long long)m->block_size);
    return zoo_kv_cache_new((int)m->n_layer, B, max_len, m->C, (zoo_kv_cache **)cache);
}

void gpt_cache_free(zoo_model *m, void *cache) {
    (void)m;
    zoo_kv_cache_free(cache);
}

int gpt_decode(zoo_model *m, zoo_graph *g, zoo_kv_cache *cache, const int32_t *ids, int64_t B,
               int64_t T, zoo_tensor **logits) {
    *logits = NULL;
    int64_t held = zoo_kv_cache_len(cache), max_len = zoo_kv_cache_max_len(cache);
    if (B != zoo_kv_cache_batch(cache))
        return zoo_error(ZOO_ERR_ARG, "gpt: a step of %lld sequences, the cache holds %lld",
                         (long long)B, (long long)zoo_kv_cache_batch(cache));
    if (held == max_len)
        return zoo_error(ZOO_ERR_ARG, "gpt: the cache is full (%lld positions)",
                         (long long)max_len);
    if (T < 1 || held + T > max_len)
        return zoo_error(ZOO_ERR_ARG,
                         "gpt: a step of %lld positions, the cache has room for %lld more",
                         (long long)T, (long long)(max_len - held));
    zoo_tensor *x = gpt_trunk(m, g, ids, NULL, B, T, cache, NULL, -1);
    *logits = gpt_head(m, g, gpt_final(m, g, x)); // (B,T,V)
    int status = zoo_graph_status(g);
    return status ? status : zoo_kv_cache_advance(cache, T);
}

int gpt_decode_step(zoo_model *m, zoo_graph *g, void *cache, const int32_t *ids, int64_t B,
                    zoo_tensor **logits) {
    zoo_tensor *out = NULL;
    int status = gpt_decode(m, g, cache, ids, B, 1, &out);
    *logits = status ? NULL : zoo_view(g, out, B, m->V);
    return status ? status : zoo_graph_status(g);
}
