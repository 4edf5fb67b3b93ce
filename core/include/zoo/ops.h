/* The shared operators. Each takes the graph first, returns a new tensor in
 * that graph (or NULL: see tensor.h for the sticky error convention), and, when
 * the graph is recording and an input requires a gradient, records what its
 * backward needs on the tape. Shapes use B (batch), T (time), C (channels),
 * NH (heads), V (vocabulary); "[..., C]" is any leading shape. */
#ifndef ZOO_OPS_H
#define ZOO_OPS_H

#include "zoo/rng.h"
#include "zoo/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* --- products (OpenBLAS sgemm) ----------------------------------------- */

/* a [M,K] (or [K,M] with trans_a) times b [K,N] (or [N,K] with trans_b) -> [M,N].
 * Batched: a [Bt,M,K] with b [Bt,K,N] (each batch its own b) or b [K,N]
 * (shared) -> [Bt,M,N]. */
ZOO_API zoo_tensor *zoo_matmul(zoo_graph *g, zoo_tensor *a, zoo_tensor *b, bool trans_a,
                               bool trans_b);

typedef enum zoo_weight_layout {
    ZOO_W_OUT_IN = 0, /* [out,in]: PyTorch nn.Linear, BERT */
    ZOO_W_IN_OUT = 1, /* [in,out]: GPT-2's Conv1D */
} zoo_weight_layout;

/* x [..., in] · w + bias [out] (bias may be NULL) -> [..., out]. */
ZOO_API zoo_tensor *zoo_linear(zoo_graph *g, zoo_tensor *x, zoo_tensor *w, zoo_tensor *bias,
                               zoo_weight_layout layout);

/* --- element-wise and reductions --------------------------------------- */

/* a + b, a - b, a * b, a / b, broadcasting as NumPy does: the shapes are
 * aligned at their last axis (the shorter one padded with leading 1s), each
 * axis must be equal or 1 in one of the two, and the output has the longer
 * ndim and the larger size on each axis. So [B,T,C] op [C] (a row, the common
 * case), [R,C] op [R,1] (a column), x op [1] (a scalar), [1,T,C] op [B,T,C],
 * and [R,1] op [1,C] (both repeated: an outer product) all work.
 * Equal shapes and the row case are fast paths (plain vectorised loops over
 * rows, no index arithmetic per element). Backward sums each operand's
 * gradient over the axes it was repeated along; how that sum is split
 * depends on the shapes and the machine's CPU count, never on the thread
 * count. Arithmetic is IEEE single precision (x / 0 is +-inf, 0 / 0 NaN).
 * Errors: shapes that do not broadcast fail the graph with ZOO_ERR_SHAPE,
 * "zoo_add: shapes [2,3] and [3,2] do not broadcast". */
ZOO_API zoo_tensor *zoo_add(zoo_graph *g, zoo_tensor *a, zoo_tensor *b);
ZOO_API zoo_tensor *zoo_sub(zoo_graph *g, zoo_tensor *a, zoo_tensor *b);
ZOO_API zoo_tensor *zoo_mul(zoo_graph *g, zoo_tensor *a, zoo_tensor *b);
ZOO_API zoo_tensor *zoo_div(zoo_graph *g, zoo_tensor *a, zoo_tensor *b);
ZOO_API zoo_tensor *zoo_scale(zoo_graph *g, zoo_tensor *x, float s);
/* x [..., C] + b [C] (b of any shape with C elements) */
ZOO_API zoo_tensor *zoo_bias_add(zoo_graph *g, zoo_tensor *x, zoo_tensor *b);
/* Sum or mean over one axis (negative counts from the end); the axis is
 * removed, and reducing a 1-D tensor gives shape [1]. */
ZOO_API zoo_tensor *zoo_sum(zoo_graph *g, zoo_tensor *x, int axis);
ZOO_API zoo_tensor *zoo_mean(zoo_graph *g, zoo_tensor *x, int axis);
/* min(max(x, lo), hi); the gradient passes where lo < x < hi. */
ZOO_API zoo_tensor *zoo_clamp(zoo_graph *g, zoo_tensor *x, float lo, float hi);

/* --- activations ------------------------------------------------------- */

ZOO_API zoo_tensor *zoo_gelu_tanh(zoo_graph *g, zoo_tensor *x); /* GPT-2 */
ZOO_API zoo_tensor *zoo_gelu_erf(zoo_graph *g, zoo_tensor *x);  /* BERT */
ZOO_API zoo_tensor *zoo_tanh(zoo_graph *g, zoo_tensor *x);
ZOO_API zoo_tensor *zoo_sigmoid(zoo_graph *g, zoo_tensor *x);
ZOO_API zoo_tensor *zoo_relu(zoo_graph *g, zoo_tensor *x);
/* x * sigmoid(x) (SiLU, swish): SwiGLU's gate, silu(x W_gate) * (x W_up). */
ZOO_API zoo_tensor *zoo_silu(zoo_graph *g, zoo_tensor *x);

/* --- unary math -------------------------------------------------------- *
 * Element-wise, any shape, output shaped like x. Outside a function's domain
 * the result is what IEEE single precision gives, as C's sqrtf/logf/expf
 * give it: sqrt(-x) and log(-x) are NaN, sqrt(+-0) is +-0, rsqrt(+0) is
 * +inf, log(0) is -inf, exp overflows to +inf and underflows through the
 * subnormals to 0, NaN stays NaN. Gradients follow the same arithmetic, as
 * PyTorch's do: d sqrt at 0 is dy * inf (NaN where dy is 0), d log at 0 is
 * +-inf. sqrt is correctly rounded (sqrtf), rsqrt is 1 / sqrtf (two
 * roundings), log is libm's logf, exp is within 2 ulp of e^x (zoo_expf, with
 * libm's expf outside [-87.33, 88.3]). */
ZOO_API zoo_tensor *zoo_sqrt(zoo_graph *g, zoo_tensor *x);
ZOO_API zoo_tensor *zoo_rsqrt(zoo_graph *g, zoo_tensor *x); /* 1 / sqrt(x) */
ZOO_API zoo_tensor *zoo_exp(zoo_graph *g, zoo_tensor *x);
ZOO_API zoo_tensor *zoo_log(zoo_graph *g, zoo_tensor *x); /* natural logarithm */

/* --- normalisation and softmax ----------------------------------------- */

/* Over the last axis: (x - mean) / sqrt(var + eps) * w + b; w and b [C] (either may be NULL). */
ZOO_API zoo_tensor *zoo_layernorm(zoo_graph *g, zoo_tensor *x, zoo_tensor *w, zoo_tensor *b,
                                  float eps);
/* RMS norm over the last axis, as HuggingFace's LlamaRMSNorm computes it in
 * float: y = (x * r) * w with r = 1 / sqrt(mean(x^2) + eps) per row; x
 * [..., C], w [C] or NULL (no scale; Gemma's (1 + w) is w + 1 here). The
 * mean of squares is summed in double. Keeps r per row for backward.
 * Errors: w not [C] (ZOO_ERR_SHAPE), eps negative, NaN or infinite
 * (ZOO_ERR_ARG); with eps 0 a row of zeros gives NaN. */
ZOO_API zoo_tensor *zoo_rmsnorm(zoo_graph *g, zoo_tensor *x, zoo_tensor *w, float eps);
ZOO_API zoo_tensor *zoo_softmax(zoo_graph *g, zoo_tensor *x);     /* last axis */
ZOO_API zoo_tensor *zoo_log_softmax(zoo_graph *g, zoo_tensor *x); /* last axis */
/* Fused softmax cross-entropy: logits [..., V], targets int32 [...] with the
 * same leading shape. Returns [1]: the mean of -log p(target) over the
 * positions whose target is not ignore_index (0 when there are none). A
 * target outside [0, V) that is not ignore_index is an error. */
ZOO_API zoo_tensor *zoo_cross_entropy(zoo_graph *g, zoo_tensor *logits, zoo_tensor *targets,
                                      int32_t ignore_index);

/* --- lookup, dropout, shape -------------------------------------------- */

/* table [V,C], ids int32 [...] -> [..., C]. Backward adds into the rows used
 * only. An id outside [0, V) is an error. */
ZOO_API zoo_tensor *zoo_embedding(zoo_graph *g, zoo_tensor *table, zoo_tensor *ids);

/* Zeroes each element with probability p and scales the rest by 1/(1-p),
 * drawing from rng; the identity (the same tensor) outside training mode or when p == 0. */
ZOO_API zoo_tensor *zoo_dropout(zoo_graph *g, zoo_tensor *x, float p, zoo_rng *rng);

/* A view with a new shape and the same data (numel must match). */
ZOO_API zoo_tensor *zoo_reshape(zoo_graph *g, zoo_tensor *x, int ndim, const int64_t *shape);
#define zoo_view(g, x, ...) zoo_reshape((g), (x), ZOO_NDIM(__VA_ARGS__), ZOO_SHAPE(__VA_ARGS__))
/* out.shape[i] = x.shape[perm[i]], copied into a new contiguous tensor. */
ZOO_API zoo_tensor *zoo_permute(zoo_graph *g, zoo_tensor *x, const int *perm);
ZOO_API zoo_tensor *zoo_transpose(zoo_graph *g, zoo_tensor *x, int axis0, int axis1);
/* Concatenation of n tensors that agree on every axis but `axis`. */
ZOO_API zoo_tensor *zoo_concat(zoo_graph *g, zoo_tensor *const *xs, int n, int axis);
/* x[..., start:start+len, ...] along axis, as a new tensor. */
ZOO_API zoo_tensor *zoo_slice(zoo_graph *g, zoo_tensor *x, int axis, int64_t start, int64_t len);
/* Splits x along axis into n parts of the given sizes (summing to the axis
 * length), writing them to out[0..n). Returns ZOO_OK or the graph's status. */
ZOO_API int zoo_split(zoo_graph *g, zoo_tensor *x, int axis, const int64_t *sizes, int n,
                      zoo_tensor **out);

/* --- positions ---------------------------------------------------------- */

/* Rotary position embeddings (RoPE) on x [B,T,C], C = n_head * head_size,
 * head_size even -> [B,T,C]. Row t has position pos_offset + t (a cached
 * decode step passes the number of positions already in the cache); pair i
 * of each head (i < head_size/2) is rotated by the angle
 * position * theta^(-2i/head_size):
 *   (x1, x2) -> (x1 cos - x2 sin, x2 cos + x1 sin)
 * interleaved = false: pairs (i, i + head_size/2), HuggingFace LLaMA's
 * rotate_half; true: pairs (2i, 2i+1), Meta's original LLaMA and GPT-J.
 * theta is the base (10000 in LLaMA 1/2, 500000 in LLaMA 3); no frequency
 * scaling. Angles are computed in double (HuggingFace's, in float32, are
 * off by up to ~1.2e-7 rad times the position). The cos and sin of each (t, i)
 * are computed once per call into a [T, head_size/2] table in the graph's
 * arena, kept for backward (the inverse rotation).
 * x holds q or k alone, with its own heads (k of grouped-query attention:
 * n_kv_head). A packed [B,T,3C] q|k|v cannot be told apart from 3C channels
 * and would be rotated wrongly: split it first (v is not rotated).
 * Errors: x not 3-D or C not n_head times an even head size (ZOO_ERR_SHAPE);
 * pos_offset < 0, theta not finite and > 0 (ZOO_ERR_ARG). */
ZOO_API zoo_tensor *zoo_rope(zoo_graph *g, zoo_tensor *x, int n_head, int64_t pos_offset,
                             float theta, bool interleaved);

/* --- attention --------------------------------------------------------- */

/* Fused multi-head scaled dot-product attention.
 * q, k, v [B,T,C] with C = n_head * head_size; or q = packed [B,T,3C]
 * (q|k|v along the last axis, GPT-2's c_attn output) with k = v = NULL.
 * (k and v may also be longer than q: zoo_attention_ex below, with q_offset = 0.)
 * causal: position t attends to positions <= t only.
 * key_mask: NULL, or int32 [B,T], nonzero = may be attended to (padding = 0).
 * A masked score is excluded inside the softmax and gets exactly zero weight;
 * a row with no visible key outputs zeros. Scale 1/sqrt(head_size).
 * -> [B,T,C], heads concatenated. Keeps the attention weights [B,NH,T,T] for backward. */
ZOO_API zoo_tensor *zoo_attention(zoo_graph *g, zoo_tensor *q, zoo_tensor *k, zoo_tensor *v,
                                  int n_head, bool causal, zoo_tensor *key_mask);

/* Attention whose queries may be fewer than its keys: the general form of
 * zoo_attention (which is this call with q_offset = kv_len = 0), so that a
 * decoding step over a key/value cache is a call (see zoo/kv_cache.h).
 * Set size = sizeof(zoo_attention_args); fields past a caller's size read as 0,
 * so the struct may grow at its end.
 *   q         [B,Tq,C]; with k and v given it may also be a packed [B,Tq,3C]
 *             (a c_attn output) of which only the first C columns, the
 *             queries, are read
 *   k, v      [B,Tk,C], only their first kv_len positions used (so a cache
 *             buffer [B,max_len,C] is passed as it is); or both NULL with q a
 *             packed q|k|v [B,T,3C], then Tk = Tq = T
 *   n_head    C = n_head * head_size; scale 1/sqrt(head_size)
 *   causal    query row i sits at absolute position q_offset + i and sees
 *             keys j <= q_offset + i (j < kv_len always)
 *   key_mask  NULL, or int32 [B,Tk], nonzero = may be attended to
 *   q_offset  >= 0; only causality reads it
 *   kv_len    keys used, 1..Tk; 0 means all Tk
 * -> [B,Tq,C]. A row with no visible key outputs zeros. Recording, it keeps
 * the weights [B,NH,Tq,kv_len]; gradients reach q (its query columns) and
 * rows 0..kv_len-1 of k and v, never the rows past kv_len. Errors (shapes,
 * a bad size, kv_len outside [0,Tk], a negative q_offset) fail the graph. */
typedef struct zoo_attention_args {
    size_t size; /* sizeof(zoo_attention_args) */
    zoo_tensor *q, *k, *v;
    int n_head;
    bool causal;
    zoo_tensor *key_mask;
    int64_t q_offset;
    int64_t kv_len;
} zoo_attention_args;
ZOO_API zoo_tensor *zoo_attention_ex(zoo_graph *g, const zoo_attention_args *args);

/* --- recurrent and character encoders ---------------------------------- */

typedef struct zoo_lstm_weights {
    zoo_tensor *w_ih;   /* [4H, I]  gates in the order input, forget, cell, output */
    zoo_tensor *w_hh;   /* [4H, P]  P = projection size, or H without projection */
    zoo_tensor *bias;   /* [4H] or NULL */
    zoo_tensor *w_proj; /* [P, H] or NULL: LSTMP, the hidden state is projected */
    float cell_clip;    /* clip c_t to [-cell_clip, cell_clip]; <= 0: none */
    float proj_clip;    /* clip the projected h_t likewise; <= 0: none */
} zoo_lstm_weights;

/* One LSTM layer over a sequence x [B,T,I] -> [B,T,P] (the hidden state at every step).
 * reverse: run from t = T-1 down to 0 (the output stays in input order).
 * h0 [B,P], c0 [B,H]: initial state, or NULL for zeros; they take gradients if they require them.
 *   gates = x_t w_ih^T + h_{t-1} w_hh^T + bias;  i,f,o = sigmoid, g = tanh
 *   c_t = clip(f*c_{t-1} + i*g);  h_t = o*tanh(c_t);  with w_proj: h_t = clip(h_t w_proj^T)
 * final_h [B,P] / final_c [B,H]: if not NULL, receive the last step's state
 * (forward only: no gradient flows back through them).
 * w_ih, w_hh and w_proj may be int8 weights quantized per row (zoo/quant.h),
 * for inference: their products then run as zoo_linear's int8 ones do. */
ZOO_API zoo_tensor *zoo_lstm(zoo_graph *g, zoo_tensor *x, const zoo_lstm_weights *w, zoo_tensor *h0,
                             zoo_tensor *c0, bool reverse, zoo_tensor **final_h,
                             zoo_tensor **final_c);

/* Char-CNN: a 1-D convolution over each word's character embeddings followed
 * by max-over-time pooling. x [N,W,E] (N words of W characters), w [F,K,E]
 * (F filters of width K <= W), bias [F] or NULL -> [N,F]:
 *   out[n,f] = max_t ( bias[f] + sum_{j,e} w[f,j,e] x[n,t+j,e] ),  t in [0, W-K].
 * Gradient flows through the arg-max position (first one on ties). */
ZOO_API zoo_tensor *zoo_conv1d_maxpool(zoo_graph *g, zoo_tensor *x, zoo_tensor *w,
                                       zoo_tensor *bias);

/* Highway layer (ELMo's): x [..., D], w [2D, D], bias [2D]:
 *   p = x w^T + bias;  h = relu(p[:D]);  t = sigmoid(p[D:]);  y = t*x + (1-t)*h. */
ZOO_API zoo_tensor *zoo_highway(zoo_graph *g, zoo_tensor *x, zoo_tensor *w, zoo_tensor *bias);

#ifdef __cplusplus
}
#endif
#endif
