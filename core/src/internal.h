/* What operators share inside core: the tape entry, the graph, and the
 * helpers every operator uses to allocate, check and record. */
#ifndef ZOO_INTERNAL_H
#define ZOO_INTERNAL_H

#include <stdarg.h>
#include <stdatomic.h>
#include <string.h>

#include "zoo/op.h"
#include "zoo/ops.h"
#include "zoo/params.h"
#include "zoo/status.h"
#include "zoo/tensor.h"
#include "zoo/threads.h"

typedef zoo_op_backward_fn zoo_backward_fn;

/* One tape entry. `saved` and the arguments are whatever the operator's
 * backward needs; all of it lives in the graph's arena. */
struct zoo_node {
    zoo_node *prev;
    zoo_backward_fn backward;
    zoo_tensor *out;
    zoo_tensor *in[ZOO_OP_MAX_INPUTS];
    void *saved;
    void *saved2;
    int64_t iarg[4];
    float farg[4];
};

typedef struct zoo_arena_block zoo_arena_block;

struct zoo_graph {
    zoo_arena_block *blocks; /* newest first */
    size_t used_total;       /* bytes handed out since the last reset */
    zoo_node *tape;          /* newest entry */
    bool recording;
    bool training;
    zoo_count_sum_fn count_sum; /* zoo_graph_set_count_sum */
    void *count_sum_ctx;
    int status;
    char error[512];
};

/* Records a failure in vformat; first one wins. */
int zoo_graph_vfail(zoo_graph *g, int status, const char *fmt, va_list ap);

/* True when an operator over these inputs must record itself: the graph is
 * recording and one of them (NULLs ignored) requires a gradient. */
bool zoo_wants_grad(const zoo_graph *g, const zoo_tensor *a, const zoo_tensor *b,
                    const zoo_tensor *c, const zoo_tensor *d);

/* Adds a tape entry producing `out` and marks out as requiring a gradient. */
zoo_node *zoo_record(zoo_graph *g, zoo_tensor *out, zoo_backward_fn fn, zoo_tensor *a,
                     zoo_tensor *b, zoo_tensor *c, zoo_tensor *d);

/* The gradient buffer of t, allocated and zeroed on first use; NULL when t
 * takes no gradient (or on allocation failure, recorded in the graph). */
float *zoo_grad(zoo_graph *g, zoo_tensor *t);
/* As zoo_grad, for a backward that writes every element of the gradient:
 * when the buffer is new it is not zeroed and *fresh is set, and the
 * backward stores instead of adding (no pass over memory to clear it). */
float *zoo_grad_write(zoo_graph *g, zoo_tensor *t, bool *fresh);

/* Argument checks that fail the graph with "op: ..." and return false. */
bool zoo_check_f32(zoo_graph *g, const char *op, const zoo_tensor *t, const char *what);
bool zoo_check_i32(zoo_graph *g, const char *op, const zoo_tensor *t, const char *what);
/* Normalises a possibly negative axis; fails the graph when out of range. */
bool zoo_check_axis(zoo_graph *g, const char *op, const zoo_tensor *t, int *axis);

/* The machine's online CPUs: a constant, where a work split must not depend
 * on the thread count the user chose. */
int zoo_cpu_count(void);

/* C[M,N] (row stride ldc) = op(A) op(B) + beta C with op(A) [M,K] and op(B)
 * [K,N] stored with row strides lda and ldb (0: packed): OpenBLAS sgemm,
 * cut into bands shared out over the pool as zoo_matmul's products are (by
 * the CPU count, so the result does not depend on the thread count). Every
 * operator's product goes through here or zoo_gemm_grad: OpenBLAS itself
 * runs single-threaded. */
void zoo_gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, const float *A, int64_t lda,
              const float *B, int64_t ldb, float beta, float *C, int64_t ldc);
/* The same for a weight's gradient, packed operands, whose K (the batch's
 * rows) dwarfs M and N: split along K into parts summed in order, with
 * scratch from g's arena. */
void zoo_gemm_grad(zoo_graph *g, bool ta, bool tb, int64_t M, int64_t N, int64_t K,
                   const float *A, const float *B, float beta, float *C);

/* zoo_flops()'s count (zoo/flops.h). Every product adds its operations
 * once, where it starts (zoo_gemm, zoo_gemm_grad, and the operators that
 * call OpenBLAS themselves), never per band: one relaxed atomic add. */
extern _Atomic uint64_t zoo_flop_count;
static inline void zoo_flops_add(int64_t n) {
    atomic_fetch_add_explicit(&zoo_flop_count, (uint64_t)n, memory_order_relaxed);
}

/* The backwards of zoo_linear, zoo_embedding and zoo_lstm: zoo_quant_axes
 * tells their tape entries from every other operator's by them. */
void zoo_linear_backward(zoo_graph *g, zoo_node *n);
void zoo_embedding_backward(zoo_graph *g, zoo_node *n);
void zoo_lstm_backward(zoo_graph *g, zoo_node *n);
/* The projection weight of a zoo_lstm tape entry, or NULL (it is not one of
 * the entry's inputs). */
const zoo_tensor *zoo_lstm_projection(const zoo_node *n);

/* zoo_linear with a quantized weight (ops/linear_q8.c): x checked float32,
 * w ZOO_I8 [in,out] or [out,in] per layout, bias NULL or [out]. */
zoo_tensor *zoo_linear_q8(zoo_graph *g, zoo_tensor *x, zoo_tensor *w, zoo_tensor *bias,
                          zoo_weight_layout layout);
/* Scratch of zoo_gemm_q8 for products of at most M rows, K inputs and N
 * outputs: xq M*K bytes, sx M floats, acc M*N int32 (64-byte aligned). */
typedef struct zoo_q8_scratch {
    uint8_t *xq;
    float *sx;
    int32_t *acc;
} zoo_q8_scratch;
/* C[M,N] (row stride ldc) = A[M,K] (row stride lda, float32) times an int8
 * weight w ([N,K] quantized along axis 0, or [K,N] along axis 1 when
 * in_out), the input quantized per row as zoo_linear's is: C = bias (or 0)
 * + the product, or with add C += it. scratch: NULL takes it from g's arena.
 * false, with the graph's error, when w's axis is not its output one or
 * memory runs out. */
bool zoo_gemm_q8(zoo_graph *g, int64_t M, int64_t N, int64_t K, const float *A, int64_t lda,
                 const zoo_tensor *w, bool in_out, const float *bias, bool add, float *C,
                 int64_t ldc, zoo_q8_scratch *scratch);
/* zoo_q8_quantize_row's values + 128, as oneDNN's u8 activations. */
float zoo_q8_quantize_row_u8(const float *x, int64_t n, uint8_t *q);
/* Frees a parameter's data, a quantized one's whole block included. */
void zoo_q8_free_data(zoo_tensor *t);
/* Moves a store's count of bytes by delta: a parameter changed its storage. */
void zoo_params_adjust_bytes(zoo_params *p, int64_t delta);

/* x[0..n) = 0, shared out over the pool when long. */
void zoo_zero_floats(float *x, int64_t n);

/* A new float tensor shaped like t. */
zoo_tensor *zoo_like(zoo_graph *g, const zoo_tensor *t);

/* Element-wise loops are split over the pool once they are this long. */
#define ZOO_PARALLEL_GRAIN 32768

/* Product of shape[from..to). */
static inline int64_t zoo_dims(const zoo_tensor *t, int from, int to) {
    int64_t n = 1;
    for (int i = from; i < to; i++) n *= t->shape[i];
    return n;
}

#endif
