/* A key/value cache for decoding a causal model one step at a time.
 *
 * Per layer it holds the keys and values of every position computed so far,
 * k and v buffers [B,max_len,C] each, so that a step computes only its new
 * positions and attends over all of them (zoo_attention_ex with q_offset and
 * kv_len). A step of Tn new positions (1 when generating, the whole prompt
 * when prefilling) goes:
 *
 *     for each layer l:   a = zoo_kv_cache_attend(g, c, l, qkv, NULL, NULL, n_head);
 *     at the end:         zoo_kv_cache_advance(c, Tn);
 *
 * Every layer of a step writes at the same positions len..len+Tn-1; only
 * zoo_kv_cache_advance moves len, so a step that fails half way (a graph
 * error) leaves the cache as it was and the step can be retried.
 *
 * The cache is inference state: its buffers are plain memory outside any
 * graph, written by copy, and never take a gradient (attention over them
 * still passes gradients to q on a recording graph). Not thread-safe: one
 * cache belongs to one decoding loop. */
#ifndef ZOO_KV_CACHE_H
#define ZOO_KV_CACHE_H

#include "zoo/export.h"
#include "zoo/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct zoo_kv_cache zoo_kv_cache;

/* A cache for n_layer layers of B sequences of up to max_len positions of
 * width C (all >= 1), empty (len 0). ZOO_ERR_ARG for a size < 1,
 * ZOO_ERR_NOMEM; the message says which. */
ZOO_API int zoo_kv_cache_new(int n_layer, int64_t B, int64_t max_len, int64_t C,
                             zoo_kv_cache **out);
ZOO_API void zoo_kv_cache_free(zoo_kv_cache *c); /* NULL is fine */

/* Positions held (advanced past), the most it can hold, and its B. */
ZOO_API int64_t zoo_kv_cache_len(const zoo_kv_cache *c);
ZOO_API int64_t zoo_kv_cache_max_len(const zoo_kv_cache *c);
ZOO_API int64_t zoo_kv_cache_batch(const zoo_kv_cache *c);
/* Forgets every position (len = 0), keeping the memory: a new prompt. */
ZOO_API void zoo_kv_cache_clear(zoo_kv_cache *c);

/* Writes the keys and values of Tn new positions of `layer` at positions
 * len..len+Tn-1: k and v [B,Tn,C], or k = a packed q|k|v [B,Tn,3C] (GPT-2's
 * c_attn output) with v = NULL. Fails the graph (and returns its status) for
 * a layer out of range, shapes that do not fit the cache, or len+Tn > max_len
 * (the cache is full). A NULL k (an earlier failure) returns the graph's status. */
ZOO_API int zoo_kv_cache_append(zoo_graph *g, zoo_kv_cache *c, int layer, const zoo_tensor *k,
                                const zoo_tensor *v);

/* The whole k and v buffers of `layer` as tensors [B,max_len,C] of g (no
 * copy; positions past those written hold whatever was there): for a call
 * of zoo_attention_ex that zoo_kv_cache_attend does not cover (a key mask). */
ZOO_API int zoo_kv_cache_view(zoo_graph *g, zoo_kv_cache *c, int layer, zoo_tensor **k,
                              zoo_tensor **v);

/* One layer's attention of a step: appends k and v (as zoo_kv_cache_append;
 * with k = v = NULL, q is the packed q|k|v [B,Tn,3C]), then returns the causal
 * attention of the Tn queries, at positions len..len+Tn-1, over the len+Tn
 * positions cached -> [B,Tn,C]. Equal to the last Tn rows of zoo_attention
 * over the whole sequence. */
ZOO_API zoo_tensor *zoo_kv_cache_attend(zoo_graph *g, zoo_kv_cache *c, int layer, zoo_tensor *q,
                                        zoo_tensor *k, zoo_tensor *v, int n_head);

/* Ends a step: n more positions are held. ZOO_ERR_ARG when n < 0 or len+n
 * would exceed max_len. */
ZOO_API int zoo_kv_cache_advance(zoo_kv_cache *c, int64_t n);

#ifdef __cplusplus
}
#endif
#endif
