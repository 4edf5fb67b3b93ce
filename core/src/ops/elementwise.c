/* add, mul, scale, bias-add, clamp: forward and backward side by side.
 * The three that appear on every residual path (add, mul, scale) split their
 * loops over the thread pool. */
#include "internal.h"
#include "zoo/threads.h"

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
    if (!zoo_check_f32(g, op, a, "a") || !zoo_check_f32(g, op, b, "b")) return false;
    if (zoo_tensor_same_shape(a, b)) return true;
    char sa[64], sb[64];
    zoo_graph_fail(g, ZOO_ERR_SHAPE, "%s: shapes differ: %s and %s", op,
                   zoo_shape_str(a, sa, sizeof sa), zoo_shape_str(b, sb, sizeof sb));
    return false;
}

/* --- add: out = a + b ------------------------------------------------- */

static void add_backward(zoo_graph *g, zoo_node *n) {
    for (int k = 0; k < 2; k++) {
        bool fresh;
        float *d = zoo_grad_write(g, n->in[k], &fresh);
        if (d) axpy(n->out->numel, d, n->out->grad, NULL, 1.0f, !fresh);
    }
}

zoo_tensor *zoo_add(zoo_graph *g, zoo_tensor *a, zoo_tensor *b) {
    if (!a || !b || g->status || !check_pair(g, "zoo_add", a, b)) return NULL;
    zoo_tensor *out = zoo_like(g, a);
    if (!out) return NULL;
    add_args x = {out->data, a->data, b->data};
    zoo_parallel_for(a->numel, ZOO_PARALLEL_GRAIN, add_range, &x);
    if (zoo_wants_grad(g, a, b, NULL, NULL)) zoo_record(g, out, add_backward, a, b, NULL, NULL);
    return out;
}

/* --- mul: out = a * b ------------------------------------------------- */

static void mul_backward(zoo_graph *g, zoo_node *n) {
    float *dx = zoo_grad(g, n->in[0]), *dy = zoo_grad(g, n->in[1]);
    if (dx) axpy(n->out->numel, dx, n->out->grad, n->in[1]->data, 0, true);
    if (dy) axpy(n->out->numel, dy, n->out->grad, n->in[0]->data, 0, true);
}

zoo_tensor *zoo_mul(zoo_graph *g, zoo_tensor *a, zoo_tensor *b) {
    if (!a || !b || g->status || !check_pair(g, "zoo_mul", a, b)) return NULL;
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
