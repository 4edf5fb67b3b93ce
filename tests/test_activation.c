#include <math.h>

#include "check_util.h"
#include "zoo/fastmath.h"

typedef zoo_tensor *(*unary_op)(zoo_graph *, zoo_tensor *);

static double ref_gelu_tanh(double x) {
    return 0.5 * x * (1 + tanh(sqrt(2 / M_PI) * (x + 0.044715 * x * x * x)));
}
static double ref_gelu_erf(double x) {
    return 0.5 * x * (1 + erf(x / sqrt(2)));
}
static double ref_sigmoid(double x) {
    return 1 / (1 + exp(-x));
}
static double ref_relu(double x) {
    return x > 0 ? x : 0;
}

static const struct {
    const char *name;
    unary_op op;
    double (*ref)(double);
} OPS[] = {
    {"gelu_tanh", zoo_gelu_tanh, ref_gelu_tanh},
    {"gelu_erf", zoo_gelu_erf, ref_gelu_erf},
    {"tanh", zoo_tanh, tanh},
    {"sigmoid", zoo_sigmoid, ref_sigmoid},
    {"relu", zoo_relu, ref_relu},
};
#define N_OPS (int)(sizeof OPS / sizeof OPS[0])

typedef struct {
    zoo_tensor *x;
    int which;
    int reduce; /* 0: activation, 1: sum, 2: mean */
    int axis;
} act_ctx;

static zoo_tensor *build(zoo_graph *g, void *arg) {
    act_ctx *c = arg;
    if (c->reduce == 1) return zoo_sum(g, c->x, c->axis);
    if (c->reduce == 2) return zoo_mean(g, c->x, c->axis);
    return OPS[c->which].op(g, c->x);
}

START_TEST(test_forward_matches_libm) {
    zoo_graph *g = zoo_graph_new(0);
    zoo_tensor *x = zoo_new(g, ZOO_F32, 101);
    for (int i = 0; i < 101; i++) zoo_f32(x)[i] = -5.0f + 0.1f * (float)i;
    for (int k = 0; k < N_OPS; k++) {
        zoo_tensor *y = OPS[k].op(g, x);
        ck_assert_msg(y, "%s", OPS[k].name);
        for (int i = 0; i < 101; i++) {
            float want = (float)OPS[k].ref(zoo_f32(x)[i]);
            ck_assert_floats_close(zoo_f32(y) + i, &want, 1, 1e-6, 1e-5);
        }
    }
    zoo_graph_free(g);
}
END_TEST

/* The operators' own exp, tanh and erf (core/include/zoo/fastmath.h) against libm over a
 * dense sweep of the float range that matters, tails included. */
START_TEST(test_fast_exp_tanh_accuracy) {
    zoo_graph *g = zoo_graph_new(0);
    const int64_t n = 400001;
    zoo_tensor *x = zoo_new(g, ZOO_F32, n);
    for (int64_t i = 0; i < n; i++) zoo_f32(x)[i] = -40.0f + 80.0f * (float)i / (float)(n - 1);
    zoo_f32(x)[0] = -1e-30f, zoo_f32(x)[1] = 1e-8f, zoo_f32(x)[2] = -0.6249f,
    zoo_f32(x)[3] = 0.6251f;
    zoo_tensor *t = zoo_tanh(g, x), *s = zoo_sigmoid(g, x);
    double worst_t = 0, worst_s = 0;
    for (int64_t i = 0; i < n; i++) {
        double v = zoo_f32(x)[i], wt = tanh(v), ws = 1 / (1 + exp(-v));
        double et = fabs(zoo_f32(t)[i] - wt) / fmax(fabs(wt), 1e-30),
               es = fabs(zoo_f32(s)[i] - ws) / fmax(ws, 1e-30);
        worst_t = fmax(worst_t, et), worst_s = fmax(worst_s, es);
    }
    ck_assert_msg(worst_t < 4e-7, "tanh: worst relative error %g", worst_t);
    ck_assert_msg(worst_s < 4e-7, "sigmoid (exp): worst relative error %g", worst_s);
    /* x Phi(x), Phi from Abramowitz and Stegun's erfc (1.5e-7 absolute, so 0.75e-7 on Phi) and
     * the float rounding of evaluating it: 3e-7 |x| */
    zoo_tensor *ge = zoo_gelu_erf(g, x);
    double worst_e = 0;
    for (int64_t i = 0; i < n; i++) {
        double v = zoo_f32(x)[i], want = 0.5 * v * (1 + erf(v * M_SQRT1_2));
        worst_e = fmax(worst_e, fabs(zoo_f32(ge)[i] - want) / fmax(fabs(v), 1e-30));
    }
    ck_assert_msg(worst_e < 3e-7, "gelu_erf: worst error over |x| %g", worst_e);
    zoo_graph_free(g);
}
END_TEST

/* NaN in, NaN out, with no undefined conversion on the way (the sanitizer build
 * checks float-cast-overflow); and through the operators built on zoo_expf. */
START_TEST(test_fast_exp_nan) {
    ck_assert(isnan(zoo_expf(NAN)) && isnan(zoo_expf(-NAN)));
    ck_assert(isnan(zoo_tanhf(NAN)));
    ck_assert(zoo_expf(0) == 1 && zoo_expf(-1000) >= 0 && zoo_expf(-1000) < 1.2e-38f);
    ck_assert(isinf(zoo_expf(INFINITY)));
    zoo_graph *g = zoo_graph_new(0);
    zoo_tensor *x = zoo_new(g, ZOO_F32, 3);
    zoo_f32(x)[0] = NAN, zoo_f32(x)[1] = 0, zoo_f32(x)[2] = NAN;
    zoo_tensor *t = zoo_tanh(g, x), *s = zoo_sigmoid(g, x);
    ck_assert(isnan(zoo_f32(t)[0]) && isnan(zoo_f32(s)[2]));
    ck_assert(zoo_f32(t)[1] == 0 && zoo_f32(s)[1] == 0.5f);
    zoo_graph_free(g);
}
END_TEST

/* Large enough to be split over the thread pool: same result as one thread. */
START_TEST(test_parallel_matches_serial) {
    zoo_rng rng;
    zoo_rng_seed(&rng, 3);
    zoo_graph *g = zoo_graph_new(0);
    zoo_tensor *x = zoo_new(g, ZOO_F32, 3, 100003);
    zoo_rng_fill_uniform(&rng, x->data, (size_t)x->numel, -4, 4);
    zoo_threads_set(1);
    zoo_tensor *serial = zoo_gelu_tanh(g, x);
    zoo_threads_set(3);
    zoo_tensor *parallel = zoo_gelu_tanh(g, x);
    ck_assert_int_eq(memcmp(serial->data, parallel->data, (size_t)x->numel * 4), 0);
    zoo_threads_set(1);
    zoo_graph_free(g);
}
END_TEST

START_TEST(test_activation_backward) {
    zoo_rng rng;
    zoo_rng_seed(&rng, 4);
    const int64_t shapes[][2] = {{1, 1}, {3, 7}, {5, 1}};
    for (int k = 0; k < N_OPS; k++)
        for (int s = 0; s < 3; s++) {
            zoo_params *p = zoo_params_new();
            act_ctx c = {.which = k};
            c.x = RAND_PARAM(p, &rng, "x", -3, 3, shapes[s][0], shapes[s][1]);
            if (OPS[k].op == zoo_relu) /* keep clear of the kink at 0 */
                for (int64_t i = 0; i < c.x->numel; i++)
                    if (fabsf(zoo_f32(c.x)[i]) < 0.05f) zoo_f32(c.x)[i] = 0.5f;
            gradcheck(p, build, &c, NULL);
            zoo_params_free(p);
        }
}
END_TEST

START_TEST(test_sum_mean) {
    zoo_graph *g = zoo_graph_new(0);
    zoo_tensor *x = zoo_new(g, ZOO_F32, 2, 3, 4);
    for (int i = 0; i < 24; i++) zoo_f32(x)[i] = (float)i;
    zoo_tensor *s1 = zoo_sum(g, x, 1); /* [2,4] */
    ck_assert_int_eq(s1->ndim, 2);
    ck_assert_int_eq(s1->shape[1], 4);
    const float want1[8] = {12, 15, 18, 21, 48, 51, 54, 57};
    ck_assert_floats_close(zoo_f32(s1), want1, 8, 0, 0);
    zoo_tensor *m = zoo_mean(g, x, -1); /* [2,3] */
    const float want2[6] = {1.5f, 5.5f, 9.5f, 13.5f, 17.5f, 21.5f};
    ck_assert_floats_close(zoo_f32(m), want2, 6, 0, 1e-7);
    zoo_tensor *all = zoo_sum(g, zoo_view(g, x, 24), 0);
    ck_assert_int_eq(all->ndim, 1);
    ck_assert_int_eq(all->shape[0], 1);
    ck_assert_float_eq(zoo_f32(all)[0], 276.0f);
    ck_assert_ptr_null(zoo_sum(g, x, 3));
    ck_assert_str_eq(zoo_graph_error(g), "zoo_sum: axis 3 out of range for 3 dimensions");
    zoo_graph_free(g);

    zoo_rng rng;
    zoo_rng_seed(&rng, 5);
    for (int axis = -1; axis < 3; axis++)
        for (int reduce = 1; reduce <= 2; reduce++) {
            zoo_params *p = zoo_params_new();
            act_ctx c = {.reduce = reduce, .axis = axis};
            c.x = RAND_PARAM(p, &rng, "x", -1, 1, 3, 1, 5);
            gradcheck(p, build, &c, NULL);
            zoo_params_free(p);
        }
}
END_TEST

Suite *make_suite(void) {
    Suite *s = suite_create("activation");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_forward_matches_libm);
    tcase_add_test(tc, test_fast_exp_tanh_accuracy);
    tcase_add_test(tc, test_fast_exp_nan);
    tcase_add_test(tc, test_parallel_matches_serial);
    tcase_add_test(tc, test_activation_backward);
    tcase_add_test(tc, test_sum_mean);
    suite_add_tcase(s, tc);
    return s;
}
