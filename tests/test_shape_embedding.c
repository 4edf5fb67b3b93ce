#include "check_util.h"

typedef struct {
    zoo_tensor *x, *y, *table, *ids;
    int which, axis;
    int perm[4];
} sh_ctx;

static zoo_tensor *build(zoo_graph *g, void *arg) {
    sh_ctx *c = arg;
    switch (c->which) {
    case 0:
        return zoo_permute(g, c->x, c->perm);
    case 1: { /* concat of x, y, x along axis: x's gradient arrives twice */
        zoo_tensor *parts[3] = {c->x, c->y, c->x};
        return zoo_concat(g, parts, 3, c->axis);
    }
    case 2: { /* split into 3 parts, recombined with different weights */
        zoo_tensor *parts[3];
        int64_t n = c->x->shape[c->axis], sizes[3] = {1, n - 2, 1};
        if (zoo_split(g, c->x, c->axis, sizes, 3, parts)) return NULL;
        return zoo_concat(g, (zoo_tensor *[]){zoo_scale(g, parts[2], 3), parts[0]}, 2, c->axis);
    }
    case 3:
        return zoo_reshape(g, zoo_scale(g, c->x, 2), 1, ZOO_SHAPE(c->x->numel));
    default:
        return zoo_embedding(g, c->table, c->ids);
    }
}

START_TEST(test_permute_values) {
    zoo_graph *g = zoo_graph_new(0);
    zoo_tensor *x = zoo_new(g, ZOO_F32, 2, 3, 4);
    for (int i = 0; i < 24; i++) zoo_f32(x)[i] = (float)i;
    zoo_tensor *y = zoo_permute(g, x, (int[]){2, 0, 1}); /* [4,2,3] */
    ck_assert_int_eq(y->shape[0], 4);
    ck_assert_int_eq(y->shape[1], 2);
    ck_assert_int_eq(y->shape[2], 3);
    for (int a = 0; a < 4; a++)
        for (int b = 0; b < 2; b++)
            for (int c = 0; c < 3; c++)
                ck_assert_float_eq(zoo_f32(y)[(a * 2 + b) * 3 + c],
                                   zoo_f32(x)[(b * 3 + c) * 4 + a]);
    zoo_tensor *t = zoo_transpose(g, zoo_view(g, x, 6, 4), 0, 1);
    ck_assert_float_eq(zoo_f32(t)[1 * 6 + 5], zoo_f32(x)[5 * 4 + 1]);
    ck_assert_ptr_null(zoo_permute(g, x, (int[]){0, 0, 1}));
    ck_assert_str_eq(zoo_graph_error(g), "zoo_permute: not a permutation of 3 axes (axis 0)");
    zoo_graph_free(g);
}
END_TEST

START_TEST(test_concat_slice_values) {
    zoo_graph *g = zoo_graph_new(0);
    zoo_tensor *a = zoo_new(g, ZOO_F32, 2, 2), *b = zoo_new(g, ZOO_F32, 2, 1);
    const float av[4] = {1, 2, 3, 4}, bv[2] = {9, 8};
    memcpy(a->data, av, sizeof av);
    memcpy(b->data, bv, sizeof bv);
    zoo_tensor *c = zoo_concat(g, (zoo_tensor *[]){a, b}, 2, 1);
    const float want[6] = {1, 2, 9, 3, 4, 8};
    ck_assert_floats_close(zoo_f32(c), want, 6, 0, 0);
    zoo_tensor *s = zoo_slice(g, c, 1, 1, 2);
    const float want_s[4] = {2, 9, 4, 8};
    ck_assert_floats_close(zoo_f32(s), want_s, 4, 0, 0);
    ck_assert_ptr_null(zoo_concat(g, (zoo_tensor *[]){a, b}, 2, 0));
    ck_assert_str_eq(zoo_graph_error(g),
                     "zoo_concat: part 1 [2,1] does not fit part 0 [2,2] along axis 0");
    zoo_graph_reset(g);
    zoo_tensor *parts[2];
    c = zoo_zeros(g, ZOO_F32, 2, 3);
    ck_assert_int_eq(zoo_split(g, c, 1, (int64_t[]){1, 1}, 2, parts), ZOO_ERR_ARG);
    ck_assert_str_eq(zoo_graph_error(g), "zoo_split: sizes add up to 2, axis 1 has 3");
    zoo_graph_free(g);
}
END_TEST

START_TEST(test_reshape_is_a_view) {
    zoo_graph *g = zoo_graph_new(0);
    zoo_tensor *x = zoo_zeros(g, ZOO_F32, 2, 6);
    zoo_tensor *v = zoo_view(g, x, 3, 2, 2);
    ck_assert_ptr_eq(v->data, x->data);
    ck_assert_ptr_null(zoo_view(g, x, 5, 2));
    ck_assert_int_eq(zoo_graph_status(g), ZOO_ERR_SHAPE);
    zoo_graph_free(g);
}
END_TEST

START_TEST(test_embedding_values_and_sparse_grad) {
    zoo_params *p = zoo_params_new();
    zoo_rng rng;
    zoo_rng_seed(&rng, 2);
    zoo_tensor *table = RAND_PARAM(p, &rng, "wte", -1, 1, 10, 3);
    zoo_graph *g = zoo_graph_new(0);
    int32_t idv[4] = {7, 2, 7, 0};
    zoo_tensor *ids = zoo_tensor_wrap(g, ZOO_I32, 2, ZOO_SHAPE(2, 2), idv);
    zoo_tensor *y = zoo_embedding(g, table, ids);
    ck_assert_int_eq(y->ndim, 3);
    for (int i = 0; i < 4; i++)
        ck_assert_floats_close(zoo_f32(y) + i * 3, zoo_f32(table) + idv[i] * 3, 3, 0, 0);
    ck_assert_int_eq(zoo_backward(g, zoo_sum(g, zoo_view(g, y, 12), 0)), ZOO_OK);
    for (int r = 0; r < 10; r++) {
        float want = r == 7 ? 2.0f : (r == 2 || r == 0) ? 1.0f : 0.0f;
        for (int c = 0; c < 3; c++) ck_assert_float_eq(table->grad[r * 3 + c], want);
    }
    idv[1] = 10;
    ck_assert_ptr_null(zoo_embedding(g, table, ids));
    ck_assert_str_eq(zoo_graph_error(g), "zoo_embedding: id 10 at position 1 is outside [0, 10)");
    zoo_graph_free(g);
    zoo_params_free(p);
}
END_TEST

START_TEST(test_backward) {
    zoo_rng rng;
    zoo_rng_seed(&rng, 21);
    const int perms[][4] = {{1, 0, 2, 3}, {3, 2, 1, 0}, {0, 2, 3, 1}};
    for (int k = 0; k < 3; k++) {
        zoo_params *p = zoo_params_new();
        sh_ctx c = {.which = 0};
        memcpy(c.perm, perms[k], sizeof c.perm);
        c.x = RAND_PARAM(p, &rng, "x", -1, 1, 2, 1, 3, 5);
        gradcheck(p, build, &c, NULL);
        zoo_params_free(p);
    }
    for (int axis = 0; axis < 3; axis++)
        for (int which = 1; which <= 3; which++) {
            zoo_params *p = zoo_params_new();
            sh_ctx c = {.which = which, .axis = axis};
            c.x = RAND_PARAM(p, &rng, "x", -1, 1, 3, 4, 5);
            int64_t ys[3] = {3, 4, 5};
            ys[axis] = 2;
            if (which == 1) c.y = rand_param(p, &rng, "y", 3, ys, -1, 1);
            gradcheck(p, build, &c, NULL);
            zoo_params_free(p);
        }
    zoo_params *p = zoo_params_new();
    sh_ctx c = {.which = 4};
    c.table = RAND_PARAM(p, &rng, "table", -1, 1, 7, 5);
    zoo_graph *holder = zoo_graph_new(0);
    int32_t ids[6] = {6, 0, 3, 3, 1, 6};
    c.ids = zoo_tensor_wrap(holder, ZOO_I32, 2, ZOO_SHAPE(3, 2), ids);
    gradcheck(p, build, &c, NULL);
    zoo_graph_free(holder);
    zoo_params_free(p);
}
END_TEST

/* Dropout: identity outside training, seeded and deterministic, keeps about 1-p. */
START_TEST(test_dropout) {
    zoo_params *p = zoo_params_new();
    zoo_rng rng;
    zoo_rng_seed(&rng, 1);
    zoo_tensor *x = RAND_PARAM(p, &rng, "x", 1, 2, 100, 100);
    zoo_graph *g = zoo_graph_new(0);
    ck_assert_ptr_eq(zoo_dropout(g, x, 0.3f, &rng), x);
    zoo_graph_set_training(g, true);
    zoo_rng r1, r2;
    zoo_rng_seed(&r1, 99);
    zoo_rng_seed(&r2, 99);
    zoo_tensor *a = zoo_dropout(g, x, 0.3f, &r1), *b = zoo_dropout(g, x, 0.3f, &r2);
    ck_assert_int_eq(memcmp(a->data, b->data, (size_t)x->numel * 4), 0);
    int kept = 0;
    for (int64_t i = 0; i < x->numel; i++) {
        float v = zoo_f32(a)[i];
        if (v != 0) {
            kept++;
            ck_assert_floats_close(&v, &(float){zoo_f32(x)[i] / 0.7f}, 1, 0, 1e-6);
        }
    }
    ck_assert_msg(kept > 6700 && kept < 7300, "kept %d of 10000", kept);
    /* backward: the gradient passes, scaled, exactly where the element was kept */
    float *seed = malloc((size_t)x->numel * 4);
    for (int64_t i = 0; i < x->numel; i++) seed[i] = 1;
    ck_assert_int_eq(zoo_backward_from(g, a, seed), ZOO_OK);
    for (int64_t i = 0; i < x->numel; i++) {
        float want = zoo_f32(a)[i] != 0 ? 1 / 0.7f : 0;
        ck_assert_floats_close(x->grad + i, &want, 1, 0, 1e-6);
    }
    free(seed);
    ck_assert_ptr_null(zoo_dropout(g, x, 1.0f, &rng));
    zoo_graph_free(g);
    zoo_params_free(p);
}
END_TEST

/* The mask is drawn in ranges over the pool: 1 and 3 threads draw the same
 * one, and every element (odd count, several ranges) gets a fair draw. */
START_TEST(test_dropout_threads) {
    zoo_params *p = zoo_params_new();
    zoo_rng rng;
    zoo_rng_seed(&rng, 5);
    zoo_tensor *x = RAND_PARAM(p, &rng, "x", 1, 1, 3, 100001);
    float *out[2];
    for (int k = 0; k < 2; k++) {
        zoo_threads_set(k ? 3 : 1);
        zoo_graph *g = zoo_graph_new(0);
        zoo_graph_set_training(g, true);
        zoo_rng_seed(&rng, 7);
        zoo_tensor *y = zoo_dropout(g, x, 0.25f, &rng);
        ck_assert_ptr_nonnull(y);
        out[k] = malloc((size_t)y->numel * 4);
        memcpy(out[k], y->data, (size_t)y->numel * 4);
        zoo_graph_free(g);
    }
    zoo_threads_set(1);
    ck_assert_int_eq(memcmp(out[0], out[1], (size_t)x->numel * 4), 0);
    int64_t kept = 0, kept_tail = 0;
    for (int64_t i = 0; i < x->numel; i++) {
        kept += out[0][i] != 0;
        kept_tail += i >= x->numel - 1000 && out[0][i] != 0;
    }
    double share = (double)kept / (double)x->numel; /* sd of the share: 0.0008 */
    ck_assert_msg(share > 0.745 && share < 0.755, "kept %.4f, expected 0.75", share);
    ck_assert_msg(kept_tail > 700 && kept_tail < 800, "kept %lld of the last 1000",
                  (long long)kept_tail);
    free(out[0]), free(out[1]);
    zoo_params_free(p);
}
END_TEST

Suite *make_suite(void) {
    Suite *s = suite_create("shape_embedding");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_permute_values);
    tcase_add_test(tc, test_concat_slice_values);
    tcase_add_test(tc, test_reshape_is_a_view);
    tcase_add_test(tc, test_embedding_values_and_sparse_grad);
    tcase_add_test(tc, test_backward);
    tcase_add_test(tc, test_dropout);
    tcase_add_test(tc, test_dropout_threads);
    suite_add_tcase(s, tc);
    return s;
}
