/* sqrt, rsqrt, exp, log and SiLU: values against libm in double, the
 * documented IEEE edges, gradients by finite differences, and the same bits
 * on any thread count. */
#include <float.h>
#include <math.h>

#include "check_util.h"

typedef zoo_tensor *(*unary_op)(zoo_graph *, zoo_tensor *);

static double ref_rsqrt(double x) {
    return 1 / sqrt(x);
}
static double ref_silu(double x) {
    return x / (1 + exp(-x));
}

static const struct {
    const char *name;
    unary_op op;
    double (*ref)(double);
    double lo, hi; /* the sweep, and the gradient check's range */
    double rtol;   /* against the double reference */
} OPS[] = {
    {"sqrt", zoo_sqrt, sqrt, 1e-3, 100, 0},             /* correctly rounded: exact */
    {"rsqrt", zoo_rsqrt, ref_rsqrt, 1e-3, 100, 1.5e-7}, /* two roundings */
    {"exp", zoo_exp, exp, -87, 88.7, 3e-7},
    {"log", zoo_log, log, 1e-3, 100, 1.5e-7},
    {"silu", zoo_silu, ref_silu, -30, 30, 6e-7},
};
#define N_OPS (int)(sizeof OPS / sizeof OPS[0])

START_TEST(test_forward_against_libm) {
    const int64_t n = 200001;
    for (int k = 0; k < N_OPS; k++) {
        zoo_graph *g = zoo_graph_new(0);
        zoo_tensor *x = zoo_new(g, ZOO_F32, n);
        for (int64_t i = 0; i < n; i++)
            zoo_f32(x)[i] =
                (float)(OPS[k].lo + (OPS[k].hi - OPS[k].lo) * (double)i / (double)(n - 1));
        zoo_tensor *y = OPS[k].op(g, x);
        ck_assert_msg(y, "%s: %s", OPS[k].name, zoo_graph_error(g));
        double worst = 0;
        for (int64_t i = 0; i < n; i++) {
            double v = zoo_f32(x)[i], want = OPS[k].ref(v), got = zoo_f32(y)[i];
            double err = fabs(got - want);
            if (OPS[k].rtol == 0)
                ck_assert_msg(got == (float)want, "%s(%.9g) = %.9g, want %.9g", OPS[k].name, v, got,
                              want);
            else
                worst = fmax(worst, err / fmax(fabs(want), 1e-30));
        }
        ck_assert_msg(worst <= OPS[k].rtol, "%s: worst relative error %g", OPS[k].name, worst);
        zoo_graph_free(g);
    }
}
END_TEST

static float run1(unary_op op, float v) {
    zoo_graph *g = zoo_graph_new(0);
    zoo_tensor *x = zoo_new(g, ZOO_F32, 1);
    zoo_f32(x)[0] = v;
    float y = zoo_f32(op(g, x))[0];
    zoo_graph_free(g);
    return y;
}

/* What the header promises outside each domain: IEEE's values, as libm's. */
START_TEST(test_domain_edges) {
    ck_assert(isnan(run1(zoo_sqrt, -1)));
    ck_assert(run1(zoo_sqrt, 0) == 0 && !signbit(run1(zoo_sqrt, 0)));
    ck_assert(run1(zoo_sqrt, -0.0f) == 0 && signbit(run1(zoo_sqrt, -0.0f)));
    ck_assert(isinf(run1(zoo_sqrt, INFINITY)));
    ck_assert(isnan(run1(zoo_rsqrt, -1)));
    ck_assert(isinf(run1(zoo_rsqrt, 0)) && run1(zoo_rsqrt, 0) > 0);
    ck_assert(isinf(run1(zoo_rsqrt, -0.0f)) && run1(zoo_rsqrt, -0.0f) < 0);
    ck_assert(run1(zoo_rsqrt, INFINITY) == 0);
    ck_assert(isnan(run1(zoo_log, -1)));
    ck_assert(isinf(run1(zoo_log, 0)) && run1(zoo_log, 0) < 0);
    ck_assert(isinf(run1(zoo_log, -0.0f)) && run1(zoo_log, -0.0f) < 0);
    ck_assert(isinf(run1(zoo_log, INFINITY)) && run1(zoo_log, INFINITY) > 0);
    ck_assert(run1(zoo_log, 1) == 0);
    ck_assert(isnan(run1(zoo_log, NAN)) && isnan(run1(zoo_sqrt, NAN)) && isnan(run1(zoo_exp, NAN)));
    /* exp: overflow to inf, subnormals, 0, infinities */
    const float edges[] = {88.72f,  88.7228f, 88.7229f, 89,      1000, -87.33f,
                           -87.34f, -88,      -100,     -103.9f, -104, -1000};
    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++) {
        float got = run1(zoo_exp, edges[i]), want = expf(edges[i]);
        double exact = exp((double)edges[i]);
        if (isinf(want) || want < FLT_MIN)
            ck_assert_msg(got == want, "exp(%.9g) = %.9g, want %.9g", edges[i], got, want);
        else
            ck_assert_msg(fabs(got - exact) <= 3e-7 * exact, "exp(%.9g) = %.9g, want %.9g",
                          edges[i], got, exact);
    }
    ck_assert(isinf(run1(zoo_exp, 89)) && run1(zoo_exp, -88) > 0 && run1(zoo_exp, -88) < FLT_MIN);
    ck_assert(run1(zoo_exp, -104) == 0);
    ck_assert(isinf(run1(zoo_exp, INFINITY)) && run1(zoo_exp, -INFINITY) == 0);
    ck_assert(run1(zoo_silu, 0) == 0 && run1(zoo_silu, 50) == 50);
    ck_assert(isnan(run1(zoo_silu, NAN)));
}
END_TEST

/* The gradient at the edge of a domain is IEEE's too: dy * inf. */
START_TEST(test_gradient_at_zero) {
    static const unary_op ops[2] = {zoo_sqrt, zoo_log};
    for (int k = 0; k < 2; k++) {
        zoo_params *p = zoo_params_new();
        zoo_tensor *x = zoo_params_add(p, "x", 1, ZOO_SHAPE(1), 0); /* 0 */
        zoo_graph *g = zoo_graph_new(0);
        const float one = 1;
        ck_assert_int_eq(zoo_backward_from(g, ops[k](g, x), &one), ZOO_OK);
        ck_assert(isinf(x->grad[0]) && x->grad[0] > 0);
        zoo_graph_free(g);
        zoo_params_free(p);
    }
}
END_TEST

typedef struct {
    zoo_tensor *x;
    int which;
} un_ctx;

static zoo_tensor *build(zoo_graph *g, void *arg) {
    un_ctx *c = arg;
    return OPS[c->which].op(g, c->x);
}

START_TEST(test_backward) {
    const int64_t shapes[][2] = {{1, 1}, {3, 7}, {5, 1}};
    const float range[N_OPS][2] = {{0.5f, 2}, {0.5f, 2}, {-2, 2}, {0.5f, 2}, {-4, 4}};
    for (int k = 0; k < N_OPS; k++)
        for (int s = 0; s < 3; s++) {
            zoo_rng rng;
            zoo_rng_seed(&rng, (uint64_t)(10 * k + s));
            zoo_params *p = zoo_params_new();
            un_ctx c = {.which = k};
            c.x = RAND_PARAM(p, &rng, "x", range[k][0], range[k][1], shapes[s][0], shapes[s][1]);
            gradcheck(p, build, &c, NULL);
            zoo_params_free(p);
        }
}
END_TEST

/* Long enough to be split over the pool (exp with elements on both sides of
 * its fast range, redone by libm inside each range): 1 and 3 threads agree. */
START_TEST(test_parallel_matches_serial) {
    zoo_rng rng;
    zoo_rng_seed(&rng, 3);
    for (int k = 0; k < N_OPS; k++) {
        zoo_params *p = zoo_params_new();
        un_ctx c = {.which = k};
        c.x = RAND_PARAM(p, &rng, "x", (float)OPS[k].lo, (float)OPS[k].hi, 3, 100003);
        if (OPS[k].op == zoo_exp)
            for (int64_t i = 0; i < c.x->numel; i += 997) zoo_f32(c.x)[i] = i % 2 ? 95.0f : -120.0f;
        float *out[2], *grad[2];
        for (int run = 0; run < 2; run++) {
            zoo_threads_set(run ? 3 : 1);
            zoo_params_zero_grad(p);
            zoo_graph *g = zoo_graph_new(0);
            zoo_tensor *y = build(g, &c);
            float *seed = malloc((size_t)y->numel * sizeof *seed);
            for (int64_t i = 0; i < y->numel; i++) seed[i] = (float)(i % 5) - 2;
            ck_assert_int_eq(zoo_backward_from(g, y, seed), ZOO_OK);
            out[run] = malloc((size_t)y->numel * 4);
            grad[run] = malloc((size_t)y->numel * 4);
            memcpy(out[run], y->data, (size_t)y->numel * 4);
            memcpy(grad[run], c.x->grad, (size_t)y->numel * 4);
            free(seed);
            zoo_graph_free(g);
        }
        ck_assert_int_eq(memcmp(out[0], out[1], (size_t)c.x->numel * 4), 0);
        ck_assert_int_eq(memcmp(grad[0], grad[1], (size_t)c.x->numel * 4), 0);
        if (OPS[k].op == zoo_exp) {
            ck_assert(isinf(out[0][997]));
            ck_assert(out[0][0] == 0);
        }
        for (int run = 0; run < 2; run++) free(out[run]), free(grad[run]);
        zoo_params_free(p);
    }
    zoo_threads_set(1);
}
END_TEST

Suite *make_suite(void) {
    Suite *s = suite_create("unary");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_forward_against_libm);
    tcase_add_test(tc, test_domain_edges);
    tcase_add_test(tc, test_gradient_at_zero);
    tcase_add_test(tc, test_backward);
    tcase_add_test(tc, test_parallel_matches_serial);
    suite_add_tcase(s, tc);
    return s;
}
