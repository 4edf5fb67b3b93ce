/* add, sub, mul, div (broadcasting), scale, bias-add, clamp: forward and
 * backward side by side. The arithmetic on every residual path splits its
 * loops over the thread pool. */
#include "internal.h"
#include "zoo/fastmath.h"
#include "zoo/threads.h"

typedef enum binop { OP_ADD, OP_SUB, OP_MUL, OP_DIV } binop;

/* out[i] (+)= a[i] * (b ? b[i] : s): the one loop behind add, mul and scale,
 * forward and backward. */
typedef struct axpy_args {
    float *out;
    const float *a, *b;
    float s;
    bool accumulate;
} axpy_args;

static void axpy_range(void *ctx, int64_t begin, int64_t end) {
    const axpy_args *x = ctx;
    float *out = x->out;
    const float *a = x->a, *b = x->b;
    if (b && x->accumulate)
        for (int64_t i = begin; i < end; i++) out[i] += a[i] * b[i];
    else if (b)
        for (int64_t i = begin; i < end; i++) out[i] = a[i] * b[i];
    else if (x->accumulate)
        for (int64_t i = begin; i < end; i++) out[i] += a[i] * x->s;
    else
        for (int64_t i = begin; i < end; i++) out[i] = a[i] * x->s;
}

static void axpy(int64_t n, float *out, const float *a, const float *b, float s, bool accumulate) {
    axpy_args x = {out, a, b, s, accumulate};
    zoo_parallel_for(n, ZOO_PARALLEL_GRAIN, axpy_range, &x);
}

typedef struct add_args {
    float *out;
    const float *a, *b;
} add_args;

static void add_range(void *ctx, int64_t begin, int64_t end) {
    const add_args *x = ctx;
    for (int64_t i = begin; i < end; i++) x->out[i] = x->a[i] + x->b[i];
}

static bool check_pair(zoo_graph *g, const char *op, const zoo_tensor *a, const zoo_tensor *b) {
    return zoo_check_f32(g, op, a, "a") && zoo_check_f32(g, op, b, "b");
}

static zoo_tensor *broadcast_op(zoo_graph *g, binop op, zoo_tensor *a, zoo_tensor *b);

/* --- add: out = a + b ------------------------------------------------- */
/* Equal shapes take the loops below, as before broadcasting existed; other
 * shapes go to broadcast_op (at the end of the file). */

static void add_backward(zoo_graph *g, zoo_node *n) {
    for (int k = 0; k < 2; k++) {
        bool fresh;
        float *d = zoo_grad_write(g, n->in[k], &fresh);
        if (d) axpy(n->out->numel, d, n->out->grad, NULL, 1.0f, !fresh);
    }
}

zoo_tensor *zoo_add(zoo_graph *g, zoo_tensor *a, zoo_tensor *b) {
    if (!a || !b || g->status || !check_pair(g, "zoo_add", a, b)) return NULL;
    if (!zoo_tensor_same_shape(a, b)) return broadcast_op(g, OP_ADD, a, b);
    zoo_tensor *out = zoo_like(g, a);
    if (!out) return NULL;
    add_args x = {out->data, a->data, b->data};
    zoo_parallel_for(a->numel, ZOO_PARALLEL_GRAIN, add_range, &x);
    if (zoo_wants_grad(g, a, b, NULL, NULL)) zoo_record(g, out, add_backward, a, b, NULL, NULL);
    return out;
}

/* --- mul: out = a * b (equal shapes; others broadcast) ----------------- */

static void mul_backward(zoo_graph *g, zoo_node *n) {
    float *dx = zoo_grad(g, n->in[0]), *dy = zoo_grad(g, n->in[1]);
    if (dx) axpy(n->out->numel, dx, n->out->grad, n->in[1]->data, 0, true);
    if (dy) axpy(n->out->numel, dy, n->out->grad, n->in[0]->data, 0, true);
}

zoo_tensor *zoo_mul(zoo_graph *g, zoo_tensor *a, zoo_tensor *b) {
    if (!a || !b || g->status || !check_pair(g, "zoo_mul", a, b)) return NULL;
    if (!zoo_tensor_same_shape(a, b)) return broadcast_op(g, OP_MUL, a, b);
    zoo_tensor *out = zoo_like(g, a);
    if (!out) return NULL;
    axpy(a->numel, out->data, a->data, b->data, 0, false);
    if (zoo_wants_grad(g, a, b, NULL, NULL)) zoo_record(g, out, mul_backward, a, b, NULL, NULL);
    return out;
}

/* --- scale: out = s * x ----------------------------------------------- */

static void scale_backward(zoo_graph *g, zoo_node *n) {
    bool fresh;
    float *dx = zoo_grad_write(g, n->in[0], &fresh);
    if (dx) axpy(n->out->numel, dx, n->out->grad, NULL, n->farg[0], !fresh);
}

zoo_tensor *zoo_scale(zoo_graph *g, zoo_tensor *x, float s) {
    if (!x || g->status || !zoo_check_f32(g, "zoo_scale", x, "x")) return NULL;
    zoo_tensor *out = zoo_like(g, x);
    if (!out) return NULL;
    axpy(x->numel, out->data, x->data, NULL, s, false);
    if (zoo_wants_grad(g, x, NULL, NULL, NULL)) {
        zoo_node *n = zoo_record(g, out, scale_backward, x, NULL, NULL, NULL);
        if (n) n->farg[0] = s;
    }
    return out;
}

/* --- bias_add: out[r,c] = x[r,c] + b[c] ------------------------------- */

static void bias_add_backward(zoo_graph *g, zoo_node *n) {
    const float *dout = n->out->grad;
    int64_t C = n->in[1]->numel, rows = n->out->numel / C;
    float *dx = zoo_grad(g, n->in[0]), *db = zoo_grad(g, n->in[1]);
    if (dx)
        for (int64_t i = 0; i < n->out->numel; i++) dx[i] += dout[i];
    if (db)
        for (int64_t r = 0; r < rows; r++)
            for (int64_t c = 0; c < C; c++) db[c] += dout[r * C + c];
}

zoo_tensor *zoo_bias_add(zoo_graph *g, zoo_tensor *x, zoo_tensor *b) {
    if (!x || !b || g->status) return NULL;
    if (!zoo_check_f32(g, "zoo_bias_add", x, "x") || !zoo_check_f32(g, "zoo_bias_add", b, "bias"))
        return NULL;
    int64_t C = x->shape[x->ndim - 1];
    if (b->numel != C) {
        zoo_graph_fail(g, ZOO_ERR_SHAPE, "zoo_bias_add: bias has %lld elements, x's last axis %lld",
                       (long long)b->numel, (long long)C);
        return NULL;
    }
    zoo_tensor *out = zoo_like(g, x);
    if (!out) return NULL;
    const float *in = x->data, *bias = b->data;
    float *y = out->data;
    for (int64_t r = 0; r < x->numel / C; r++)
        for (int64_t c = 0; c < C; c++) y[r * C + c] = in[r * C + c] + bias[c];
    if (zoo_wants_grad(g, x, b, NULL, NULL))
        zoo_record(g, out, bias_add_backward, x, b, NULL, NULL);
    return out;
}

/* --- clamp: out = min(max(x, lo), hi) --------------------------------- */

static void clamp_backward(zoo_graph *g, zoo_node *n) {
    float *dx = zoo_grad(g, n->in[0]);
    if (!dx) return;
    const float *x = n->in[0]->data, *dout = n->out->grad;
    float lo = n->farg[0], hi = n->farg[1];
    for (int64_t i = 0; i < n->out->numel; i++)
        if (x[i] > lo && x[i] < hi) dx[i] += dout[i];
}

zoo_tensor *zoo_clamp(zoo_graph *g, zoo_tensor *x, float lo, float hi) {
    if (!x || g->status || !zoo_check_f32(g, "zoo_clamp", x, "x")) return NULL;
    if (!(lo <= hi)) {
        zoo_graph_fail(g, ZOO_ERR_ARG, "zoo_clamp: lo %g is above hi %g", lo, hi);
        return NULL;
    }
    zoo_tensor *out = zoo_like(g, x);
    if (!out) return NULL;
    const float *in = x->data;
    float *y = out->data;
    for (int64_t i = 0; i < x->numel; i++) y[i] = in[i] < lo ? lo : in[i] > hi ? hi : in[i];
    if (zoo_wants_grad(g, x, NULL, NULL, NULL)) {
        zoo_node *n = zoo_record(g, out, clamp_backward, x, NULL, NULL, NULL);
        if (n) n->farg[0] = lo, n->farg[1] = hi;
    }
    return out;
}

/* --- broadcasting: add, sub, mul, div over shapes that differ ----------- */

/* The two operands and the output as the loops see them: output axes of
 * size 1 dropped, and neighbouring axes merged wherever all three step
 * through them alike, so [B,T,C] + [C] is [B*T, C] with the bias's outer
 * stride 0, [R,C] * [1] is [R*C] with a stride 0, and equal shapes are one
 * axis. Strides are in elements, 0 on an axis that an operand repeats;
 * stride set A and B are the operands', OUT the output's (contiguous, so a
 * gradient or any out-shaped buffer steps by it). The innermost stride is 1
 * or 0 for every set, so each loop runs over rows of the last axis: the row
 * case [..., C] op [C] is one vectorised loop per row of C, with one division
 * per row to place it (as fast as equal shapes, on [8,128,768]). */
enum { A = 0, B = 1, OUT = 2 };

typedef struct bcast {
    int nd;
    int64_t numel; /* of the output */
    int64_t dim[ZOO_MAX_DIMS];
    int64_t stride[3][ZOO_MAX_DIMS];
} bcast;

/* NumPy's rule (shapes aligned at the last axis; each axis equal, or 1 in
 * one of them): false when a and b do not broadcast, else the output shape
 * in *ndim/shape and its loop form in *bc. */
static bool broadcast_shapes(const zoo_tensor *a, const zoo_tensor *b, int *ndim, int64_t *shape,
                             bcast *bc) {
    int nd = a->ndim > b->ndim ? a->ndim : b->ndim;
    int64_t dims[3][ZOO_MAX_DIMS], steps[3][ZOO_MAX_DIMS];
    const zoo_tensor *in[2] = {a, b};
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < nd; i++) {
            int j = i - (nd - in[k]->ndim);
            dims[k][i] = j >= 0 ? in[k]->shape[j] : 1;
        }
    bc->numel = 1;
    for (int i = 0; i < nd; i++) {
        int64_t x = dims[A][i], y = dims[B][i];
        if (x != y && x != 1 && y != 1) return false;
        shape[i] = dims[OUT][i] = x > y ? x : y;
        bc->numel *= shape[i];
    }
    for (int k = 0; k < 3; k++)
        for (int64_t i = nd - 1, step = 1; i >= 0; step *= dims[k][i], i--)
            steps[k][i] = dims[k][i] == 1 ? 0 : step;
    *ndim = nd;
    bc->nd = 0;
    for (int i = 0; i < nd; i++) {
        if (shape[i] == 1) continue;
        int m = bc->nd - 1;
        bool merge = m >= 0;
        for (int k = 0; k < 3 && merge; k++) merge = bc->stride[k][m] == steps[k][i] * shape[i];
        if (!merge) {
            m = bc->nd++;
            bc->dim[m] = 1;
        }
        bc->dim[m] *= shape[i];
        for (int k = 0; k < 3; k++) bc->stride[k][m] = steps[k][i];
    }
    if (bc->nd == 0) { /* every axis 1: one element */
        bc->nd = 1, bc->dim[0] = 1;
        for (int k = 0; k < 3; k++) bc->stride[k][0] = 1;
    }
    return true;
}

/* Where row `row` of the output (an index over all axes but the last)
 * starts in the buffer that steps by stride set k. */
static inline int64_t row_offset(const bcast *bc, int k, int64_t row) {
    int64_t off = 0;
    for (int d = bc->nd - 2; d >= 0; d--) {
        off += row % bc->dim[d] * bc->stride[k][d];
        row /= bc->dim[d];
    }
    return off;
}

/* y[i] (+)= a[i or 0] op b[i or 0] over n elements: a steps by 1 when sa,
 * else stays on its one element (b likewise). */
#define SPAN_LOOP(EXPR)                                                                            \
    do {                                                                                           \
        if (acc)                                                                                   \
            for (int64_t i = 0; i < n; i++) y[i] += (EXPR);                                        \
        else                                                                                       \
            for (int64_t i = 0; i < n; i++) y[i] = (EXPR);                                         \
    } while (0)
#define SPAN_OP(OP)                                                                                \
    do {                                                                                           \
        if (sa && sb)                                                                              \
            SPAN_LOOP(a[i] OP b[i]);                                                               \
        else if (sa) {                                                                             \
            const float s = b[0];                                                                  \
            SPAN_LOOP(a[i] OP s);                                                                  \
        } else {                                                                                   \
            const float s = a[0];                                                                  \
            SPAN_LOOP(s OP b[i]);                                                                  \
        }                                                                                          \
    } while (0)

ZOO_VECTOR_CLONES static void span(binop op, float *restrict y, const float *a, bool sa,
                                   const float *b, bool sb, int64_t n, bool acc) {
    switch (op) {
    case OP_ADD:
        SPAN_OP(+);
        break;
    case OP_SUB:
        SPAN_OP(-);
        break;
    case OP_MUL:
        SPAN_OP(*);
        break;
    case OP_DIV:
        SPAN_OP(/);
        break;
    }
}

/* y (out-shaped) (+)= x0 op x1, x0 stepping by stride set k0 and x1 by k1. */
typedef struct binary_args {
    const bcast *bc;
    binop op;
    float *y;
    const float *x0, *x1;
    int k0, k1;
    bool accumulate;
} binary_args;

static void binary_range(void *ctx, int64_t begin, int64_t end) {
    const binary_args *r = ctx;
    const bcast *bc = r->bc;
    int last = bc->nd - 1;
    int64_t D = bc->dim[last];
    bool s0 = bc->stride[r->k0][last] != 0, s1 = bc->stride[r->k1][last] != 0;
    for (int64_t i = begin; i < end;) {
        int64_t row = i / D, col = i % D, n = D - col < end - i ? D - col : end - i;
        const float *x0 = r->x0 + row_offset(bc, r->k0, row) + (s0 ? col : 0);
        const float *x1 = r->x1 + row_offset(bc, r->k1, row) + (s1 ? col : 0);
        span(r->op, r->y + i, x0, s0, x1, s1, n, r->accumulate);
        i += n;
    }
}

static void binary_run(const bcast *bc, binop op, float *y, const float *x0, int k0,
                       const float *x1, int k1, bool accumulate) {
    binary_args r = {bc, op, y, x0, x1, k0, k1, accumulate};
    zoo_parallel_for(bc->numel, ZOO_PARALLEL_GRAIN, binary_range, &r);
}

/* --- the gradient of a repeated operand: a sum over the axes it repeats --
 * The output's elements are cut into parts of consecutive elements, each
 * summed into a buffer of its own, and the buffers are then added in part
 * order. The number of parts depends on the shapes and the machine's CPU
 * count only, not on the thread count, so a gradient does not move with
 * --threads; and parts x numel of the operand never exceeds the output's
 * numel, so the buffers cost at most one pass over memory. */

/* Sums of a span into one element, in eight double lanes (so that the loop
 * vectorises and a long span keeps its low bits). */
#define LANES 8

ZOO_VECTOR_CLONES static double span_sum(const float *t, int64_t n) {
    double lane[LANES] = {0}, s = 0;
    int64_t i = 0;
    for (; i + LANES <= n; i += LANES)
        for (int k = 0; k < LANES; k++) lane[k] += t[i + k];
    for (; i < n; i++) s += t[i];
    for (int k = 0; k < LANES; k++) s += lane[k];
    return s;
}

typedef struct reduce_args {
    const bcast *bc;
    int k;             /* the operand's stride set */
    const float *term; /* out-shaped */
    float sign;        /* +1 or -1 */
    float *dx;         /* one part: straight into the gradient */
    float *partial;    /* (parts, xn) */
    int64_t xn;
} reduce_args;

ZOO_VECTOR_CLONES static void reduce_part(void *ctx, int p, int parts) {
    const reduce_args *r = ctx;
    const bcast *bc = r->bc;
    int last = bc->nd - 1;
    int64_t N = bc->numel, D = bc->dim[last];
    int64_t begin = N / parts * p + (p < N % parts ? p : N % parts);
    int64_t end = begin + N / parts + (p < N % parts);
    bool inner = bc->stride[r->k][last] != 0;
    float *acc = r->dx, sign = r->sign;
    if (parts > 1) {
        acc = r->partial + (int64_t)p * r->xn;
        memset(acc, 0, (size_t)r->xn * sizeof(float));
    }
    for (int64_t i = begin; i < end;) {
        int64_t row = i / D, col = i % D, n = D - col < end - i ? D - col : end - i;
        float *restrict dst = acc + row_offset(bc, r->k, row);
        const float *restrict t = r->term + i;
        if (inner)
            for (int64_t c = 0; c < n; c++) dst[col + c] += sign * t[c];
        else
            dst[0] += sign * (float)span_sum(t, n);
        i += n;
    }
}

/* dx[j] += partial[0][j] + partial[1][j] + ... in part order */
typedef struct combine_args {
    float *dx;
    const float *partial;
    int64_t xn;
    int parts;
} combine_args;

static void combine_range(void *ctx, int64_t begin, int64_t end) {
    const combine_args *c = ctx;
    for (int p = 0; p < c->parts; p++) {
        const float *src = c->partial + (int64_t)p * c->xn;
        for (int64_t j = begin; j < end; j++) c->dx[j] += src[j];
    }
}

/* x's gradient (+)= sign * term, summed over the axes x repeats. */
static void gather_grad(zoo_graph *g, const bcast *bc, int k, zoo_tensor *x, const float *term,
                        float sign) {
    if (!x->requires_grad) return;
    int64_t N = bc->numel;
    if (x->numel == N) { /* not repeated: element by element */
        bool fresh;
        float *dx = zoo_grad_write(g, x, &fresh);
        if (dx) axpy(N, dx, term, NULL, sign, !fresh);
        return;
    }
    float *dx = zoo_grad(g, x);
    if (!dx) return;
    int64_t parts = zoo_cpu_count(), by_size = 1 + N / ZOO_PARALLEL_GRAIN;
    if (parts > by_size) parts = by_size;
    if (parts > N / x->numel) parts = N / x->numel;
    reduce_args r = {bc, k, term, sign, dx, NULL, x->numel};
    if (parts > 1) {
        r.partial = zoo_graph_alloc(g, (size_t)(parts * x->numel) * sizeof(float));
        if (!r.partial) return;
    }
    zoo_parallel_run((int)parts, reduce_part, &r);
    if (parts > 1) {
        combine_args c = {dx, r.partial, x->numel, (int)parts};
        zoo_parallel_for(x->numel, 1 + ZOO_PARALLEL_GRAIN / parts, combine_range, &c);
    }
}

static void broadcast_backward(zoo_graph *g, zoo_node *n) {
    const bcast *bc = n->saved;
    zoo_tensor *a = n->in[0], *b = n->in[1];
    const float *dy = n->out->grad;
    binop op = (binop)n->iarg[0];
    if (op == OP_ADD || op == OP_SUB) {
        gather_grad(g, bc, A, a, dy, 1.0f);
        gather_grad(g, bc, B, b, dy, op == OP_SUB ? -1.0f : 1.0f);
        return;
    }
    float *term = NULL; /* out-shaped scratch, for a repeated operand and for div */
    bool repeated =
        (a->requires_grad && a->numel < bc->numel) || (b->requires_grad && b->numel < bc->numel);
    if (repeated || op == OP_DIV) {
        term = zoo_graph_alloc(g, (size_t)bc->numel * sizeof(float));
        if (!term) return;
    }
    if (op == OP_MUL) { /* da = dy * b, db = dy * a */
        for (int k = A; k <= B; k++) {
            zoo_tensor *x = n->in[k], *other = n->in[1 - k];
            if (!x->requires_grad) continue;
            if (x->numel == bc->numel) { /* written straight into the gradient */
                bool fresh;
                float *dx = zoo_grad_write(g, x, &fresh);
                if (dx) binary_run(bc, OP_MUL, dx, dy, OUT, other->data, 1 - k, !fresh);
            } else {
                binary_run(bc, OP_MUL, term, dy, OUT, other->data, 1 - k, false);
                gather_grad(g, bc, k, x, term, 1.0f);
            }
        }
        return;
    }
    /* div: q = dy / b; da = q, db = -q * y (y = a / b) */
    binary_run(bc, OP_DIV, term, dy, OUT, b->data, B, false);
    gather_grad(g, bc, A, a, term, 1.0f);
    if (!b->requires_grad) return;
    axpy(bc->numel, term, term, n->out->data, 0, false); /* in place: axpy's loop allows it */
    gather_grad(g, bc, B, b, term, -1.0f);
}

static const char *const BINOP_NAMES[] = {"zoo_add", "zoo_sub", "zoo_mul", "zoo_div"};

static zoo_tensor *broadcast_op(zoo_graph *g, binop op, zoo_tensor *a, zoo_tensor *b) {
    int ndim;
    int64_t shape[ZOO_MAX_DIMS];
    bcast bc;
    if (!broadcast_shapes(a, b, &ndim, shape, &bc)) {
        char sa[64], sb[64];
        zoo_graph_fail(g, ZOO_ERR_SHAPE, "%s: shapes %s and %s do not broadcast", BINOP_NAMES[op],
                       zoo_shape_str(a, sa, sizeof sa), zoo_shape_str(b, sb, sizeof sb));
        return NULL;
    }
    zoo_tensor *out = zoo_tensor_new(g, ZOO_F32, ndim, shape);
    if (!out) return NULL;
    binary_run(&bc, op, out->data, a->data, A, b->data, B, false);
    if (zoo_wants_grad(g, a, b, NULL, NULL)) {
        bcast *saved = zoo_graph_alloc(g, sizeof bc);
        zoo_node *n = saved ? zoo_record(g, out, broadcast_backward, a, b, NULL, NULL) : NULL;
        if (!n) return NULL;
        *saved = bc;
        n->saved = saved;
        n->iarg[0] = op;
    }
    return out;
}

/* --- sub, div: always through the broadcasting loops (with equal shapes
 * those are one span per thread, the same loop) ------------------------- */

zoo_tensor *zoo_sub(zoo_graph *g, zoo_tensor *a, zoo_tensor *b) {
    if (!a || !b || g->status || !check_pair(g, "zoo_sub", a, b)) return NULL;
    return broadcast_op(g, OP_SUB, a, b);
}

zoo_tensor *zoo_div(zoo_graph *g, zoo_tensor *a, zoo_tensor *b) {
    if (!a || !b || g->status || !check_pair(g, "zoo_div", a, b)) return NULL;
    return broadcast_op(g, OP_DIV, a, b);
}
