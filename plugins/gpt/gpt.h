/* The gpt plugin's model: GPT-2, a pre-LayerNorm transformer decoder with
 * learned positions, causal self-attention and an output head tied to the
 * token embedding. Parameters carry HuggingFace GPT2Model's names (without
 * the "transformer." prefix), Conv1D weights stored [in,out].
 *
 * layer_norm_position "post" builds GPT-1's blocks instead (OpenAI's
 * finetune-transformer-lm, HuggingFace OpenAIGPTModel): ln_1(x + attn(x)),
 * then ln_2(x + mlp(x)), the same tanh GELU, and no final layer norm, so such
 * a model registers no ln_f (ln_f_w and ln_f_b stay NULL); every other
 * parameter keeps its GPT-2 name and shape. */
#ifndef ZOO_GPT_H
#define ZOO_GPT_H

#include "zoo/zoo.h"

typedef struct gpt_block {
    zoo_tensor *ln_1_w, *ln_1_b; // (C)
    zoo_tensor *attn_w, *attn_b; // (C,3C) (3C)  c_attn
    zoo_tensor *proj_w, *proj_b; // (C,C) (C)    attn.c_proj
    zoo_tensor *ln_2_w, *ln_2_b; // (C)
    zoo_tensor *fc_w, *fc_b;     // (C,4C) (4C)  mlp.c_fc
    zoo_tensor *mlp_w, *mlp_b;   // (4C,C) (C)   mlp.c_proj
} gpt_block;

struct zoo_model {
    int64_t n_layer, n_head, C, block_size, V;
    float dropout, eps;
    bool bias, post_ln;          // post_ln: layer_norm_position "post"
    zoo_tensor *wte, *wpe;       // (V,C) (block_size,C)
    gpt_block *h;                // n_layer
    zoo_tensor *ln_f_w, *ln_f_b; // (C); NULL when post_ln
};

/* x (B,T,C) through block l (pre- or post-LN as the model is), for training, inference and decoding
 * alike; rng drives dropout. Without a cache the T positions are the whole sequence (key_mask (B,T)
 * or NULL). With one, they are the T positions after those it holds: their keys and values are
 * stored in layer l and they attend over every cached position (key_mask is not used: decoding pads
 * nothing). */
zoo_tensor *gpt_block_forward(zoo_model *m, zoo_graph *g, int l, zoo_tensor *x,
                              const zoo_tensor *key_mask, zoo_kv_cache *cache, zoo_rng *rng);

/* The residual stream of ids (B,T) after `layers` blocks (all of them when
 * < 0), before ln_f; positions start at the cache's length (0 without one). */
zoo_tensor *gpt_trunk(zoo_model *m, zoo_graph *g, const int32_t *ids, const int32_t *mask,
                      int64_t B, int64_t T, zoo_kv_cache *cache, zoo_rng *rng, int layers);

/* The last hidden state from the trunk's output (...,C): ln_f of it, or
 * the output itself for a post-LN model, whose blocks end in a layer norm. */
zoo_tensor *gpt_final(zoo_model *m, zoo_graph *g, zoo_tensor *x);

/* The output head, tied to wte: hidden (...,C) from gpt_final -> logits (...,V). */
zoo_tensor *gpt_head(zoo_model *m, zoo_graph *g, zoo_tensor *hidden);

/* ZOO_CAP_DECODE; the cache is a zoo_kv_cache of n_layer layers. */
int gpt_cache_new(zoo_model *m, int64_t B, int64_t max_len, void **cache);
void gpt_cache_free(zoo_model *m, void *cache);
int gpt_decode_step(zoo_model *m, zoo_graph *g, void *cache, const int32_t *ids, int64_t B,
                    zoo_tensor **logits);
/* T positions (B,T) after those cached, at once (a prompt's prefill; decode_step
 * is T = 1) -> logits (B,T,V); the cache then holds them too. */
int gpt_decode(zoo_model *m, zoo_graph *g, zoo_kv_cache *cache, const int32_t *ids, int64_t B,
               int64_t T, zoo_tensor **logits);

/* ZOO_CAP_IMPORT / ZOO_CAP_EXPORT: HuggingFace GPT-2 directories (pre-LN
 * only: export refuses a post-LN model, which GPT-2's format cannot hold) */
int gpt_import_config(const char *path, zoo_hparams *hp);
int gpt_import_weights(zoo_model *m, zoo_params *params, const char *path);
int gpt_export(zoo_model *m, const zoo_params *params, const zoo_hparams *hp, const char *format,
               const char *path);
/* ZOO_CAP_IMPORT_TOKENIZER: GPT-2's tokenizer files in such a directory */
int gpt_import_tokenizer(const char *path, zoo_tokenizer **out);

#endif
