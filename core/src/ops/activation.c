/* Point-wise functions: the activations and sqrt, rsqrt, exp, log. Each one
 * is a forward and a backward range kernel; unary() runs them over the
 * thread pool and records the tape entry. */
#include <math.h>

#include "internal.h"
#include "zoo/fastmath.h"
#include "zoo/threads.h"

typedef void (*fwd_kernel)(const float *x, float *y, int64_t n);
/* dx += dy * f'(x), given x and y = f(x). */
typedef void (*bwd_kernel)(const float *x, const float *y, const float *dy, float *dx, int64_t n);

typedef struct activation {
    const char *name;
    fwd_kernel forward;
    bwd_kernel backward;
} activation;

#define SQRT_2_OVER_PI 0.7978845608028654f
#define GELU_CUBIC 0.044715f

ZOO_MATH_CLONES static void gelu_tanh_fwd(const float *x, float *y, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        float u = SQRT_2_OVER_PI * (x[i] + GELU_CUBIC * x[i] * x[i] * x[i]);
        y[i] = 0.5f * x[i] * (1.0f + zoo_tanhf(u));
    }
}

ZOO_MATH_CLONES static void gelu_tanh_bwd(const float *x, const float *y, const float *dy,
                                          float *dx, int64_t n) {
    (void)y;
    for (int64_t i = 0; i < n; i++) {
        float v = x[i], u = SQRT_2_OVER_PI * (v + GELU_CUBIC * v * v * v);
        float t = zoo_tanhf(u), sech2 = 1.0f - t * t;
        float du = SQRT_2_OVER_PI * (1.0f + 3.0f * GELU_CUBIC * v * v);
        dx[i] += dy[i] * (0.5f * (1.0f + t) + 0.5f * v * sech2 * du);
    }
}

/* The normal CDF Phi(x) = (1 + erf(x / sqrt 2)) / 2 from the erfc tail on
 * the whole line: its 1.5e-7 is an absolute error, which the GELU x Phi(x)
 * keeps below 1e-7 |x| (erf's accurate polynomial near 0 buys nothing
 * here), and the e^{-x^2/2} it needs is the backward's density too. */
static inline float normal_cdf(float x, float *e) {
    *e = zoo_expf(-0.5f * x * x);
    float half_tail = 0.5f * zoo_erfc_given_exp((x < 0 ? -x : x) * (float)M_SQRT1_2, *e);
    return x < 0 ? half_tail : 1.0f - half_tail;
}

ZOO_MATH_CLONES static void gelu_erf_fwd(const float *x, float *y, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        float e;
        y[i] = x[i] * normal_cdf(x[i], &e);
    }
}

ZOO_MATH_CLONES static void gelu_erf_bwd(const float *x, const float *y, const float *dy, float *dx,
                                         int64_t n) {
    (void)y;
    const float inv_sqrt_2pi = 0.3989422804014327f;
    for (int64_t i = 0; i < n; i++) {
        float v = x[i], e, cdf = normal_cdf(v, &e);
        dx[i] += dy[i] * (cdf + v * inv_sqrt_2pi * e);
    }
}

ZOO_MATH_CLONES static void tanh_fwd(const float *x, float *y, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] = zoo_tanhf(x[i]);
}

ZOO_VECTOR_CLONES static void tanh_bwd(const float *x, const float *y, const float *dy, float *dx,
                                       int64_t n) {
    (void)x;
    for (int64_t i = 0; i < n; i++) dx[i] += dy[i] * (1.0f - y[i] * y[i]);
}

ZOO_MATH_CLONES static void sigmoid_fwd(const float *x, float *y, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] = 1.0f / (1.0f + zoo_expf(-x[i]));
}

ZOO_VECTOR_CLONES static void sigmoid_bwd(const float *x, const float *y, const float *dy,
                                          float *dx, int64_t n) {
    (void)x;
    for (int64_t i = 0; i < n; i++) dx[i] += dy[i] * y[i] * (1.0f - y[i]);
}

ZOO_VECTOR_CLONES static void relu_fwd(const float *x, float *y, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

ZOO_VECTOR_CLONES static void relu_bwd(const float *x, const float *y, const float *dy, float *dx,
                                       int64_t n) {
    (void)y;
    for (int64_t i = 0; i < n; i++)
        if (x[i] > 0.0f) dx[i] += dy[i];
}

/* zoo_expf's argument with NaN replaced by 0: zoo_expf would turn NaN into
 * an out-of-range shift (undefined behaviour); the NaN still reaches the
 * result through the other factor. */
static inline float not_nan(float x) {
    return x == x ? x : 0.0f;
}

/* silu(x) = x sigmoid(x); silu' = s (1 + x (1 - s)) */
ZOO_MATH_CLONES static void silu_fwd(const float *x, float *y, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] = x[i] / (1.0f + zoo_expf(-not_nan(x[i])));
}

ZOO_MATH_CLONES static void silu_bwd(const float *x, const float *y, const float *dy, float *dx,
                                     int64_t n) {
    (void)y;
    for (int64_t i = 0; i < n; i++) {
        float s = 1.0f / (1.0f + zoo_expf(-not_nan(x[i])));
        dx[i] += dy[i] * s * (1.0f + x[i] * (1.0f - s));
    }
}

/* sqrtf is one instruction (IEEE, correctly rounded), so these vectorise. */
ZOO_VECTOR_CLONES static void sqrt_fwd(const float *x, float *y, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] = sqrtf(x[i]);
}

ZOO_VECTOR_CLONES static void sqrt_bwd(const float *x, const float *y, const float *dy, float *dx,
                                       int64_t n) {
    (void)x;
    for (int64_t i = 0; i < n; i++) dx[i] += 0.5f * dy[i] / y[i];
}

ZOO_VECTOR_CLONES static void rsqrt_fwd(const float *x, float *y, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] = 1.0f / sqrtf(x[i]);
}

ZOO_VECTOR_CLONES static void rsqrt_bwd(const float *x, const float *y, const float *dy, float *dx,
                                        int64_t n) {
    (void)x;
    for (int64_t i = 0; i < n; i++) dx[i] += -0.5f * dy[i] * y[i] * y[i] * y[i];
}

/* zoo_expf is within 2 ulp on [EXP_LO, EXP_HI] (above 88.38 its 2^n is
 * already 2^128, inf; below -87.33 it clamps); the rare element outside
 * (results near overflow, subnormal results, 0, NaN) is redone by libm's
 * expf in a second pass, so the edges are IEEE's. */
#define EXP_LO -87.33f
#define EXP_HI 88.3f

ZOO_MATH_CLONES static void exp_fast(const float *x, float *y, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] = zoo_expf(not_nan(x[i])); /* NaN: redone below */
}

static void exp_fwd(const float *x, float *y, int64_t n) {
    exp_fast(x, y, n);
    for (int64_t i = 0; i < n; i++)
        if (!(x[i] >= EXP_LO && x[i] <= EXP_HI)) y[i] = expf(x[i]);
}

ZOO_VECTOR_CLONES static void exp_bwd(const float *x, const float *y, const float *dy, float *dx,
                                      int64_t n) {
    (void)x;
    for (int64_t i = 0; i < n; i++) dx[i] += dy[i] * y[i];
}

/* libm's logf: log is off every hot path, and libm gives IEEE's edges. */
static void log_fwd(const float *x, float *y, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] = logf(x[i]);
}

ZOO_VECTOR_CLONES static void log_bwd(const float *x, const float *y, const float *dy, float *dx,
                                      int64_t n) {
    (void)y;
    for (int64_t i = 0; i < n; i++) dx[i] += dy[i] / x[i];
}

static const activation GELU_TANH = {"zoo_gelu_tanh", gelu_tanh_fwd, gelu_tanh_bwd};
static const activation GELU_ERF = {"zoo_gelu_erf", gelu_erf_fwd, gelu_erf_bwd};
static const activation TANH = {"zoo_tanh", tanh_fwd, tanh_bwd};
static const activation SIGMOID = {"zoo_sigmoid", sigmoid_fwd, sigmoid_bwd};
static const activation RELU = {"zoo_relu", relu_fwd, relu_bwd};
static const activation SILU = {"zoo_silu", silu_fwd, silu_bwd};
static const activation SQRT = {"zoo_sqrt", sqrt_fwd, sqrt_bwd};
static const activation RSQRT = {"zoo_rsqrt", rsqrt_fwd, rsqrt_bwd};
static const activation EXP = {"zoo_exp", exp_fwd, exp_bwd};
static const activation LOG = {"zoo_log", log_fwd, log_bwd};

typedef struct range_args {
    const activation *act;
    const float *x, *y, *dy;
    float *out;
    bool fresh; /* backward: out is uninitialised */
} range_args;

static void forward_range(void *ctx, int64_t begin, int64_t end) {
    range_args *a = ctx;
    a->act->forward(a->x + begin, a->out + begin, end - begin);
}

static void backward_range(void *ctx, int64_t begin, int64_t end) {
    range_args *a = ctx;
    /* a new gradient is cleared range by range, just before the kernel adds into it */
    if (a->fresh) memset(a->out + begin, 0, (size_t)(end - begin) * sizeof(float));
    a->act->backward(a->x + begin, a->y + begin, a->dy + begin, a->out + begin, end - begin);
}

static void unary_backward(zoo_graph *g, zoo_node *n) {
    bool fresh;
    float *dx = zoo_grad_write(g, n->in[0], &fresh);
    if (!dx) return;
    range_args a = {n->saved, n->in[0]->data, n->out->data, n->out->grad, dx, fresh};
    zoo_parallel_for(n->out->numel, ZOO_PARALLEL_GRAIN, backward_range, &a);
}

static zoo_tensor *unary(zoo_graph *g, zoo_tensor *x, const activation *act) {
    if (!x || g->status || !zoo_check_f32(g, act->name, x, "x")) return NULL;
    zoo_tensor *out = zoo_like(g, x);
    if (!out) return NULL;
    range_args a = {act, x->data, NULL, NULL, out->data, false};
    zoo_parallel_for(x->numel, ZOO_PARALLEL_GRAIN, forward_range, &a);
    if (zoo_wants_grad(g, x, NULL, NULL, NULL)) {
        zoo_node *n = zoo_record(g, out, unary_backward, x, NULL, NULL, NULL);
        if (n) n->saved = (void *)act;
    }
    return out;
}

zoo_tensor *zoo_gelu_tanh(zoo_graph *g, zoo_tensor *x) {
    return unary(g, x, &GELU_TANH);
}
zoo_tensor *zoo_gelu_erf(zoo_graph *g, zoo_tensor *x) {
    return unary(g, x, &GELU_ERF);
}
zoo_tensor *zoo_tanh(zoo_graph *g, zoo_tensor *x) {
    return unary(g, x, &TANH);
}
zoo_tensor *zoo_sigmoid(zoo_graph *g, zoo_tensor *x) {
    return unary(g, x, &SIGMOID);
}
zoo_tensor *zoo_relu(zoo_graph *g, zoo_tensor *x) {
    return unary(g, x, &RELU);
}
zoo_tensor *zoo_silu(zoo_graph *g, zoo_tensor *x) {
    return unary(g, x, &SILU);
}
zoo_tensor *zoo_sqrt(zoo_graph *g, zoo_tensor *x) {
    return unary(g, x, &SQRT);
}
zoo_tensor *zoo_rsqrt(zoo_graph *g, zoo_tensor *x) {
    return unary(g, x, &RSQRT);
}
zoo_tensor *zoo_exp(zoo_graph *g, zoo_tensor *x) {
    return unary(g, x, &EXP);
}
zoo_tensor *zoo_log(zoo_graph *g, zoo_tensor *x) {
    return unary(g, x, &LOG);
}
