#include "check_util.h"

typedef struct {
    zoo_tensor *a, *b;
    int which;
} pair_ctx;

static zoo_tensor *build_pair(zoo_graph *g, void *arg) {
    pair_ctx *c = arg;
    switch (c->which) {
    case 0:
        return zoo_add(g, c->a, c->b);
    case 1:
        return zoo_mul(g, c->a, c->b);
    case 2:
        return zoo_scale(g, c->a, -1.75f);
    case 3:
        return zoo_bias_add(g, c->a, c->b);
    default:
        return zoo_clamp(g, c->a, -0.5f, 0.5f);
    }
}

START_TEST(test_forward_values) {
    zoo_graph *g = zoo_graph_new(0);
    zoo_tensor *a = zoo_new(g, ZOO_F32, 2, 3), *b = zoo_new(g, ZOO_F32, 2, 3);
    zoo_tensor *bias = zoo_new(g, ZOO_F32, 3);
    for (int i = 0; i < 6; i++) zoo_f32(a)[i] = (float)i - 2, zoo_f32(b)[i] = 0.5f * (float)i;
    for (int i = 0; i < 3; i++) zoo_f32(bias)[i] = 10.0f * (float)i;
    const float add[6] = {-2, -0.5f, 1, 2.5f, 4, 5.5f}, mul[6] = {0, -0.5f, 0, 1.5f, 4, 7.5f};
    const float sc[6] = {4, 2, 0, -2, -4, -6}, ba[6] = {-2, 9, 20, 1, 12, 23};
    const float cl[6] = {-1, -1, 0, 1, 1, 1};
    ck_assert_floats_close(zoo_f32(zoo_add(g, a, b)), add, 6, 0, 0);
    ck_assert_floats_close(zoo_f32(zoo_mul(g, a, b)), mul, 6, 0, 0);
    ck_assert_floats_close(zoo_f32(zoo_scale(g, a, -2)), sc, 6, 0, 0);
    ck_assert_floats_close(zoo_f32(zoo_bias_add(g, a, bias)), ba, 6, 0, 0);
    ck_assert_floats_close(zoo_f32(zoo_clamp(g, a, -1, 1)), cl, 6, 0, 0);
    zoo_graph_free(g);
}
END_TEST

START_TEST(test_shape_mismatch_is_sticky) {
    zoo_graph *g = zoo_graph_new(0);
    zoo_tensor *a = zoo_zeros(g, ZOO_F32, 2, 3), *b = zoo_zeros(g, ZOO_F32, 3, 2);
    ck_assert_ptr_null(zoo_add(g, a, b));
    ck_assert_int_eq(zoo_graph_status(g), ZOO_ERR_SHAPE);
    ck_assert_str_eq(zoo_graph_error(g), "zoo_add: shapes [2,3] and [3,2] do not broadcast");
    ck_assert_ptr_null(zoo_mul(g, a, a)); /* later operators refuse until reset */
    zoo_graph_reset(g);
    ck_assert_int_eq(zoo_graph_status(g), ZOO_OK);
    zoo_graph_free(g);
}
END_TEST

/* Backward of each operator against finite differences, on shapes with odd sizes and size 1. */
START_TEST(test_backward) {
    const int64_t shapes[][3] = {{1, 1, 1}, {3, 5, 7}, {2, 1, 9}};
    for (int which = 0; which < 5; which++) {
        for (int s = 0; s < 3; s++) {
            zoo_rng rng;
            zoo_rng_seed(&rng, (uint64_t)(which * 10 + s));
            zoo_params *p = zoo_params_new();
            const int64_t *sh = shapes[s];
            pair_ctx c = {.which = which};
            c.a = RAND_PARAM(p, &rng, "a", -1, 1, sh[0], sh[1], sh[2]);
            if (which == 3)
                c.b = RAND_PARAM(p, &rng, "b", -1, 1, sh[2]);
            else if (which != 2 && which != 4)
                c.b = RAND_PARAM(p, &rng, "b", -1, 1, sh[0], sh[1], sh[2]);
            if (which == 4) /* keep clear of the kinks at +-0.5 */
                for (int64_t i = 0; i < c.a->numel; i++) {
                    float *v = zoo_f32(c.a) + i;
                    if (*v > 0.45f && *v < 0.55f) *v = 0.3f;
                    if (*v < -0.45f && *v > -0.55f) *v = -0.3f;
                }
            gradcheck(p, build_pair, &c, NULL);
            zoo_params_free(p);
        }
    }
}
END_TEST

/* Long enough to be split over 3 threads: forward and backward equal the plain loops. */
START_TEST(test_large_tensors_over_the_pool) {
    zoo_threads_set(3);
    zoo_rng rng;
    zoo_rng_seed(&rng, 5);
    zoo_params *p = zoo_params_new();
    zoo_tensor *a = RAND_PARAM(p, &rng, "a", -1, 1, 200003),
               *b = RAND_PARAM(p, &rng, "b", -1, 1, 200003);
    zoo_graph *g = zoo_graph_new(0);
    zoo_tensor *sum = zoo_add(g, a, b), *prod = zoo_mul(g, a, b), *sc = zoo_scale(g, a, 3);
    zoo_tensor *total = zoo_add(g, zoo_add(g, sum, prod), sc);
    const float *x = a->data, *y = b->data;
    float *seed = malloc(200003 * sizeof *seed);
    for (int64_t i = 0; i < 200003; i++) {
        ck_assert_float_eq(zoo_f32(sum)[i], x[i] + y[i]);
        ck_assert_float_eq(zoo_f32(prod)[i], x[i] * y[i]);
        ck_assert_float_eq(zoo_f32(sc)[i], x[i] * 3);
        seed[i] = (float)(i % 7) - 3;
    }
    ck_assert_int_eq(zoo_backward_from(g, total, seed), ZOO_OK);
    for (int64_t i = 0; i < 200003; i++) { /* d/da = seed (1 + b + 3), d/db = seed (1 + a) */
        float da = seed[i] * (1 + y[i] + 3), db = seed[i] * (1 + x[i]);
        ck_assert_floats_close(a->grad + i, &da, 1, 1e-6, 1e-6);
        ck_assert_floats_close(b->grad + i, &db, 1, 1e-6, 1e-6);
    }
    free(seed);
    zoo_graph_free(g);
    zoo_params_free(p);
    zoo_threads_set(1);
}
END_TEST

Suite *make_suite(void) {
    Suite *s = suite_create("elementwise");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_forward_values);
    tcase_add_test(tc, test_shape_mismatch_is_sticky);
    tcase_add_test(tc, test_backward);
    tcase_add_test(tc, test_large_tensors_over_the_pool);
    suite_add_tcase(s, tc);
    return s;
}
