/* llama: a small LLaMA-style decoder, zoo's example of a model that arrives
 * as a drop-in plugin built against the installed SDK alone. Pre-norm blocks
 * with RMSNorm, rotary position embeddings (no learned positions), causal
 * attention without biases, a SwiGLU MLP (gate and up projections, SiLU, down
 * projection) and an output head tied to the token embedding. Parameters
 * carry HuggingFace LlamaForCausalLM's names; linear weights are [out,in].
 *
 * It brings what core does not have: the fused SwiGLU gate, recorded on the
 * tape through zoo/op.h (llama_swiglu.c), and its own tokenizer type,
 * "llama_bytes" (llama_bytes.c). */
#ifndef LLAMA_H
#define LLAMA_H

#include "zoo/kv_cache.h"
#include "zoo/zoo.h"

typedef struct llama_layer {
    zoo_tensor *attn_norm;         // (C)    input_layernorm
    zoo_tensor *wq, *wk, *wv, *wo; // (C,C)  self_attn.{q,k,v,o}_proj
    zoo_tensor *mlp_norm;          // (C)    post_attention_layernorm
    zoo_tensor *w_gate, *w_up;     // (H,C)  mlp.{gate,up}_proj
    zoo_tensor *w_down;            // (C,H)  mlp.down_proj
} llama_layer;

struct zoo_model {
    int64_t n_layer, n_head, C, H, block_size, V;
    float eps, theta;
    zoo_tensor *embed;   // (V,C) model.embed_tokens, also the output head
    llama_layer *layers; // n_layer
    zoo_tensor *norm;    // (C) model.norm
};

/* x (B,T,C), the positions pos_offset.. through layer l. With a cache, this
 * step's keys and values are appended to it (libzoo's key/value cache) and
 * the queries attend over all of it; without one (training, a whole window),
 * over the window alone. */
zoo_tensor *llama_layer_forward(zoo_model *m, zoo_graph *g, int l, zoo_tensor *x,
                                int64_t pos_offset, zoo_kv_cache *cache);

int llama_cache_new(zoo_model *m, int64_t B, int64_t max_len, void **cache);
void llama_cache_free(zoo_model *m, void *cache);
int llama_decode_step(zoo_model *m, zoo_graph *g, void *cache, const int32_t *ids, int64_t B,
                      zoo_tensor **logits);

/* silu(a) * b, fused, with its backward: a, b [..., H] -> [..., H]. */
zoo_tensor *llama_swiglu(zoo_graph *g, zoo_tensor *a, zoo_tensor *b);

/* The "llama_bytes" tokenizer type. */
extern const zoo_tokenizer_def llama_bytes_type;

#endif
