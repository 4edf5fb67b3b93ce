/* SwiGLU's gate, fused, as an operator of this plugin's own, recorded on
 * libzoo's tape through the public operator API (zoo/op.h):
 *
 *     y = silu(a) * b = a * sigmoid(a) * b
 *
 * Composed from core's operators it would be zoo_mul(zoo_silu(a), b): two
 * passes and an intermediate [.., H] tensor kept for backward. Fused, one pass
 * forward, one backward, nothing kept but the inputs. */
#include <math.h>

#include "llama.h"
#include "zoo/fastmath.h"
#include "zoo/op.h"

typedef struct swiglu_range {
    const float *a, *b, *dy;
    float *y, *da, *db; /* forward writes y; backward da, db (either may be NULL) */
    bool da_fresh, db_fresh;
} swiglu_range;

static inline float silu(float a) {
    return a / (1.0f + zoo_expf(-a));
}

/* The loops use zoo_expf (zoo/fastmath.h) and are compiled per vector width:
 * with libm's expf the gate cost a third of a training step. */
ZOO_MATH_CLONES static void swiglu_forward_range(void *ctx, int64_t begin, int64_t end) {
    const swiglu_range *r = ctx;
    const float *restrict a = r->a, *restrict b = r->b;
    float *restrict y = r->y;
    for (int64_t i = begin; i < end; i++) y[i] = silu(a[i]) * b[i];
}

/* d/da = dy b s (1 + a (1 - s)), s = sigmoid(a): stored into a new buffer, added to an old one */
static inline float gate_grad(float a, float b, float dy) {
    float s = 1.0f / (1.0f + zoo_expf(-a));
    return dy * b * s * (1.0f + a * (1.0f - s));
}

ZOO_MATH_CLONES static void gate_grads(const swiglu_range *r, int64_t begin, int64_t end) {
    const float *restrict a = r->a, *restrict b = r->b, *restrict dy = r->dy;
    float *restrict da = r->da;
    if (r->da_fresh)
        for (int64_t i = begin; i < end; i++) da[i] = gate_grad(a[i], b[i], dy[i]);
    else
        for (int64_t i = begin; i < end; i++) da[i] += gate_grad(a[i], b[i], dy[i]);
}

/* d/db = dy silu(a) */
ZOO_MATH_CLONES static void up_grads(const swiglu_range *r, int64_t begin, int64_t end) {
    const float *restrict a = r->a, *restrict dy = r->dy;
    float *restrict db = r->db;
    if (r->db_fresh)
        for (int64_t i = begin; i < end; i++) db[i] = dy[i] * silu(a[i]);
    else
        for (int64_t i = begin; i < end; i++) db[i] += dy[i] * silu(a[i]);
}

static void swiglu_backward_range(void *ctx, int64_t begin, int64_t end) {
    const swiglu_range *r = ctx;
    if (r->da) gate_grads(r, begin, end);
    if (r->db) up_grads(r, begin, end);
}

#define SWIGLU_GRAIN 16384 /* elements per thread before the pool is worth waking */

static void swiglu_backward(zoo_graph *g, zoo_node *n) {
    zoo_tensor *a = zoo_op_input(n, 0), *b = zoo_op_input(n, 1);
    swiglu_range r = {.a = zoo_f32(a), .b = zoo_f32(b), .dy = zoo_op_output(n)->grad};
    r.da = zoo_op_grad_fresh(g, a, &r.da_fresh);
    r.db = zoo_op_grad_fresh(g, b, &r.db_fresh);
    if (r.da || r.db) zoo_parallel_for(a->numel, SWIGLU_GRAIN, swiglu_backward_range, &r);
}

zoo_tensor *llama_swiglu(zoo_graph *g, zoo_tensor *a, zoo_tensor *b) {
    zoo_tensor *in[2] = {a, b};
    if (!zoo_op_begin(g, "llama_swiglu", in, 2)) return NULL;
    if (!zoo_tensor_same_shape(a, b)) {
        char sa[64], sb[64];
        zoo_graph_fail(g, ZOO_ERR_SHAPE, "llama_swiglu: gate %s and up %s differ",
                       zoo_shape_str(a, sa, sizeof sa), zoo_shape_str(b, sb, sizeof sb));
        return NULL;
    }
    zoo_tensor *y = zoo_tensor_new(g, ZOO_F32, a->ndim, a->shape);
    if (!y) return NULL;
    swiglu_range r = {.a = zoo_f32(a), .b = zoo_f32(b), .y = zoo_f32(y)};
    zoo_parallel_for(a->numel, SWIGLU_GRAIN, swiglu_forward_range, &r);
    if (zoo_op_needs_grad(g, in, 2) && !zoo_op_record(g, y, swiglu_backward, in, 2, 0)) return NULL;
    return y;
}
