#include <math.h>
#include <stdlib.h>

#include "check_util.h"

typedef struct {
    zoo_params *p;
    zoo_tensor *x, *w, *bias;
    bool highway;
} cnn_ctx;

static zoo_tensor *build(zoo_graph *g, void *arg) {
    cnn_ctx *c = arg;
    return c->highway ? zoo_highway(g, c->x, c->w, c->bias)
                      : zoo_conv1d_maxpool(g, c->x, c->w, c->bias);
}

static void fill(cnn_ctx *c, uint64_t seed) {
    zoo_rng rng;
    zoo_rng_seed(&rng, seed);
    for (int i = 0; i < zoo_params_count(c->p); i++) {
        zoo_tensor *t = zoo_params_at(c->p, i)->value;
        zoo_rng_fill_uniform(&rng, zoo_f32(t), (size_t)t->numel, -1.0f, 1.0f);
    }
}

/* --- conv1d_maxpool ------------------------------------------------------ */

/* Every window's score in double: scores [N,F,W-K+1]. */
static void ref_scores(const cnn_ctx *c, double *scores) {
    int64_t N = c->x->shape[0], W = c->x->shape[1], E = c->x->shape[2];
    int64_t F = c->w->shape[0], K = c->w->shape[1], L = W - K + 1;
    const float *x = zoo_f32(c->x), *w = zoo_f32(c->w);
    for (int64_t n = 0; n < N; n++)
        for (int64_t f = 0; f < F; f++)
            for (int64_t t = 0; t < L; t++) {
                double acc = c->bias ? zoo_f32(c->bias)[f] : 0.0;
                for (int64_t j = 0; j < K; j++)
                    for (int64_t e = 0; e < E; e++)
                        acc += (double)w[(f * K + j) * E + e] * x[(n * W + t + j) * E + e];
                scores[(n * F + f) * L + t] = acc;
            }
}

/* The smallest gap between the best and the second-best window of any output
 * (infinite with a single window). */
static double ref_maxpool(const cnn_ctx *c, float *out) {
    int64_t N = c->x->shape[0], W = c->x->shape[1], F = c->w->shape[0], K = c->w->shape[1];
    int64_t L = W - K + 1;
    double *s = malloc((size_t)(N * F * L) * sizeof *s), gap = INFINITY;
    ref_scores(c, s);
    for (int64_t i = 0; i < N * F; i++) {
        double best = -INFINITY, second = -INFINITY;
        for (int64_t t = 0; t < L; t++) {
            double v = s[i * L + t];
            if (v > best)
                second = best, best = v;
            else if (v > second)
                second = v;
        }
        out[i] = (float)best;
        gap = fmin(gap, best - second);
    }
    free(s);
    return gap;
}

static const int64_t conv_shapes[][5] = {
    /* N, W, E, F, K */
    {1, 1, 1, 1, 1}, {3, 7, 4, 5, 3}, {2, 5, 3, 1, 5},
    {1, 6, 1, 2, 2}, {4, 9, 3, 7, 1}, {2, 4, 2, 3, 4},
};

static cnn_ctx conv_setup(const int64_t *sh, bool bias) {
    cnn_ctx c = {.p = zoo_params_new()};
    zoo_rng rng;
    zoo_rng_seed(&rng, 0);
    c.x = RAND_PARAM(c.p, &rng, "x", -1, 1, sh[0], sh[1], sh[2]);
    c.w = RAND_PARAM(c.p, &rng, "w", -1, 1, sh[3], sh[4], sh[2]);
    if (bias) c.bias = RAND_PARAM(c.p, &rng, "bias", -1, 1, sh[3]);
    return c;
}

START_TEST(test_conv_forward) {
    for (size_t s = 0; s < sizeof conv_shapes / sizeof *conv_shapes; s++) {
        for (int with_bias = 0; with_bias < 2; with_bias++) {
            cnn_ctx c = conv_setup(conv_shapes[s], with_bias);
            fill(&c, 10 * s + (uint64_t)with_bias);
            int64_t N = conv_shapes[s][0], F = conv_shapes[s][3];
            float *ref = malloc((size_t)(N * F) * sizeof *ref);
            ref_maxpool(&c, ref);
            zoo_graph *g = zoo_graph_new(0);
            zoo_tensor *out = zoo_conv1d_maxpool(g, c.x, c.w, c.bias);
            ck_assert_msg(out != NULL, "%s", zoo_graph_error(g));
            ck_assert(out->ndim == 2 && out->shape[0] == N && out->shape[1] == F);
            ck_assert_floats_close(zoo_f32(out), ref, N * F, 1e-5, 1e-5);
            zoo_graph_free(g);
            free(ref);
            zoo_params_free(c.p);
        }
    }
}
END_TEST

/* With every window scoring the same, the gradient goes to the first one only. */
START_TEST(test_conv_ties_pick_first) {
    zoo_params *p = zoo_params_new();
    zoo_tensor *x = zoo_params_add(p, "x", 3, ZOO_SHAPE(1, 5, 2), 0);
    zoo_tensor *w = zoo_params_add(p, "w", 3, ZOO_SHAPE(1, 2, 2), 0);
    for (int i = 0; i < 10; i++) zoo_f32(x)[i] = 0.5f;
    for (int i = 0; i < 4; i++) zoo_f32(w)[i] = 1.0f;
    zoo_graph *g = zoo_graph_new(0);
    zoo_tensor *out = zoo_conv1d_maxpool(g, x, w, NULL);
    ck_assert_float_eq(zoo_f32(out)[0], 2.0f);
    ck_assert_int_eq(zoo_backward(g, out), ZOO_OK);
    const float dx[10] = {1, 1, 1, 1, 0, 0, 0, 0, 0, 0};
    ck_assert_floats_close(x->grad, dx, 10, 0, 0);
    zoo_graph_free(g);
    zoo_params_free(p);
}
END_TEST

START_TEST(test_conv_backward) {
    for (size_t s = 0; s < sizeof conv_shapes / sizeof *conv_shapes; s++) {
        for (int with_bias = 0; with_bias < 2; with_bias++) {
            cnn_ctx c = conv_setup(conv_shapes[s], with_bias);
            int64_t N = conv_shapes[s][0], F = conv_shapes[s][3];
            float *ref = malloc((size_t)(N * F) * sizeof *ref);
            /* the arg-max must not change under a finite-difference step */
            uint64_t seed = 100 * s + (uint64_t)with_bias;
            for (int tries = 0;; tries++, seed += 7) {
                ck_assert_msg(tries < 1000, "no inputs with a clear arg-max");
                fill(&c, seed);
                if (ref_maxpool(&c, ref) > 0.05) break;
            }
            free(ref);
            gradcheck(c.p, build, &c, NULL);
            zoo_params_free(c.p);
        }
    }
}
END_TEST

/* --- highway ------------------------------------------------------------- */

/* y = t*x + (1-t)*relu(p[:D]) in double; returns the pre-activation of the
 * relu half closest to 0 (its kink). */
static double ref_highway(const cnn_ctx *c, float *y) {
    int64_t D = c->x->shape[c->x->ndim - 1], R = c->x->numel / D;
    const float *x = zoo_f32(c->x), *w = zoo_f32(c->w);
    double kink = INFINITY;
    for (int64_t r = 0; r < R; r++)
        for (int64_t d = 0; d < D; d++) {
            double ph = c->bias ? zoo_f32(c->bias)[d] : 0.0;
            double pt = c->bias ? zoo_f32(c->bias)[D + d] : 0.0;
            for (int64_t k = 0; k < D; k++) {
                ph += (double)w[d * D + k] * x[r * D + k];
                pt += (double)w[(D + d) * D + k] * x[r * D + k];
            }
            kink = fmin(kink, fabs(ph));
            double h = ph > 0 ? ph : 0, t = 1.0 / (1.0 + exp(-pt));
            y[r * D + d] = (float)(t * x[r * D + d] + (1 - t) * h);
        }
    return kink;
}

typedef struct {
    int ndim;
    int64_t shape[4];
} hw_shape;

static const hw_shape hw_shapes[] = {
    {2, {1, 1}}, {3, {2, 3, 5}}, {1, {7}}, {4, {2, 1, 3, 4}}, {2, {5, 2}},
};

static cnn_ctx hw_setup(const hw_shape *sh, bool bias) {
    cnn_ctx c = {.p = zoo_params_new(), .highway = true};
    int64_t D = sh->shape[sh->ndim - 1];
    zoo_rng rng;
    zoo_rng_seed(&rng, 0);
    c.x = rand_param(c.p, &rng, "x", sh->ndim, sh->shape, -1, 1);
    c.w = RAND_PARAM(c.p, &rng, "w", -1, 1, 2 * D, D);
    if (bias) c.bias = RAND_PARAM(c.p, &rng, "bias", -1, 1, 2 * D);
    return c;
}

START_TEST(test_highway_forward) {
    for (size_t s = 0; s < sizeof hw_shapes / sizeof *hw_shapes; s++) {
        for (int with_bias = 0; with_bias < 2; with_bias++) {
            cnn_ctx c = hw_setup(&hw_shapes[s], with_bias);
            fill(&c, 10 * s + (uint64_t)with_bias);
            float *ref = malloc((size_t)c.x->numel * sizeof *ref);
            ref_highway(&c, ref);
            zoo_graph *g = zoo_graph_new(0);
            zoo_tensor *out = zoo_highway(g, c.x, c.w, c.bias);
            ck_assert_msg(out != NULL, "%s", zoo_graph_error(g));
            ck_assert(zoo_tensor_same_shape(out, c.x));
            ck_assert_floats_close(zoo_f32(out), ref, c.x->numel, 1e-5, 1e-5);
            zoo_graph_free(g);
            free(ref);
            zoo_params_free(c.p);
        }
    }
}
END_TEST

START_TEST(test_highway_backward) {
    for (size_t s = 0; s < sizeof hw_shapes / sizeof *hw_shapes; s++) {
        for (int with_bias = 0; with_bias < 2; with_bias++) {
            cnn_ctx c = hw_setup(&hw_shapes[s], with_bias);
            float *ref = malloc((size_t)c.x->numel * sizeof *ref);
            /* keep the relu's pre-activations clear of its kink at 0 */
            uint64_t seed = 100 * s + (uint64_t)with_bias;
            for (int tries = 0;; tries++, seed += 7) {
                ck_assert_msg(tries < 1000, "no inputs clear of the relu kink");
                fill(&c, seed);
                if (ref_highway(&c, ref) > 0.02) break;
            }
            free(ref);
            gradcheck(c.p, build, &c, NULL);
            zoo_params_free(c.p);
        }
    }
}
END_TEST

/* --- errors -------------------------------------------------------------- */

static void expect_error(zoo_tensor *(*op)(zoo_graph *, zoo_tensor *, zoo_tensor *, zoo_tensor *),
                         const int64_t *xs, int xn, const int64_t *ws, int wn, int64_t bn,
                         const char *msg) {
    zoo_graph *g = zoo_graph_new(0);
    zoo_tensor *x = zoo_tensor_zeros(g, ZOO_F32, xn, xs), *w = zoo_tensor_zeros(g, ZOO_F32, wn, ws);
    zoo_tensor *b = bn ? zoo_zeros(g, ZOO_F32, bn) : NULL;
    ck_assert_ptr_null(op(g, x, w, b));
    ck_assert_int_eq(zoo_graph_status(g), ZOO_ERR_SHAPE);
    ck_assert_str_eq(zoo_graph_error(g), msg);
    zoo_graph_free(g);
}

START_TEST(test_errors) {
    expect_error(zoo_conv1d_maxpool, ZOO_SHAPE(2, 3, 5), 3, ZOO_SHAPE(6, 4, 5), 3, 0,
                 "zoo_conv1d_maxpool: filter width 4 exceeds word length 3 (x [2,3,5], w [6,4,5])");
    expect_error(
        zoo_conv1d_maxpool, ZOO_SHAPE(2, 3, 5), 3, ZOO_SHAPE(6, 2, 4), 3, 0,
        "zoo_conv1d_maxpool: x must be [N,W,E] and w [F,K,E], got x [2,3,5] and w [6,2,4]");
    expect_error(zoo_conv1d_maxpool, ZOO_SHAPE(6, 5), 2, ZOO_SHAPE(6, 2, 5), 3, 0,
                 "zoo_conv1d_maxpool: x must be [N,W,E] and w [F,K,E], got x [6,5] and w [6,2,5]");
    expect_error(zoo_conv1d_maxpool, ZOO_SHAPE(2, 3, 5), 3, ZOO_SHAPE(6, 2, 5), 3, 5,
                 "zoo_conv1d_maxpool: bias must be [F] = [6], got [5]");
    expect_error(zoo_highway, ZOO_SHAPE(2, 3, 5), 3, ZOO_SHAPE(10, 4), 2, 0,
                 "zoo_highway: w must be [2D,D] = [10,5] for x [2,3,5], got [10,4]");
    expect_error(zoo_highway, ZOO_SHAPE(2, 3, 5), 3, ZOO_SHAPE(5, 5), 2, 0,
                 "zoo_highway: w must be [2D,D] = [10,5] for x [2,3,5], got [5,5]");
    expect_error(zoo_highway, ZOO_SHAPE(4, 5), 2, ZOO_SHAPE(10, 5), 2, 5,
                 "zoo_highway: bias must be [2D] = [10], got [5]");

    zoo_graph *g = zoo_graph_new(0);
    zoo_tensor *xi = zoo_zeros(g, ZOO_I32, 2, 3, 5), *w = zoo_zeros(g, ZOO_F32, 6, 2, 5);
    ck_assert_ptr_null(zoo_conv1d_maxpool(g, NULL, w, NULL));
    ck_assert_int_eq(zoo_graph_status(g), ZOO_OK);
    ck_assert_ptr_null(zoo_conv1d_maxpool(g, xi, w, NULL));
    ck_assert_str_eq(zoo_graph_error(g), "zoo_conv1d_maxpool: x must be float32");
    zoo_graph_reset(g);
    ck_assert_ptr_null(
        zoo_highway(g, zoo_zeros(g, ZOO_I32, 2, 5), zoo_zeros(g, ZOO_F32, 10, 5), NULL));
    ck_assert_str_eq(zoo_graph_error(g), "zoo_highway: x must be float32");
    zoo_graph_free(g);
}
END_TEST

Suite *make_suite(void) {
    Suite *s = suite_create("charcnn");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_conv_forward);
    tcase_add_test(tc, test_conv_ties_pick_first);
    tcase_add_test(tc, test_conv_backward);
    tcase_add_test(tc, test_highway_forward);
    tcase_add_test(tc, test_highway_backward);
    tcase_add_test(tc, test_errors);
    suite_add_tcase(s, tc);
    return s;
}
