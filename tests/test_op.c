/* The public operator API (zoo/op.h), exercised as a plugin would use it:
 * two operators defined here, recorded on the tape, checked against finite
 * differences and against core's own operators. */
#include <math.h>

#include "check_util.h"
#include "zoo/op.h"

/* y = cap * tanh(x / cap), the example of zoo/op.h. */
typedef struct {
    float cap;
} softcap_saved;

static void softcap_backward(zoo_graph *g, zoo_node *n) {
    const softcap_saved *s = zoo_op_saved(n);
    zoo_tensor *x = zoo_op_input(n, 0), *y = zoo_op_output(n);
    float *dx = zoo_op_grad(g, x);
    if (!dx) return;
    for (int64_t i = 0; i < x->numel; i++) {
        float t = zoo_f32(y)[i] / s->cap;
        dx[i] += y->grad[i] * (1 - t * t);
    }
}

static zoo_tensor *softcap(zoo_graph *g, zoo_tensor *x, float cap) {
    if (!zoo_op_begin(g, "softcap", &x, 1)) return NULL;
    zoo_tensor *y = zoo_tensor_new(g, ZOO_F32, x->ndim, x->shape);
    if (!y) return NULL;
    for (int64_t i = 0; i < x->numel; i++) zoo_f32(y)[i] = cap * tanhf(zoo_f32(x)[i] / cap);
    if (zoo_op_needs_grad(g, &x, 1)) {
        zoo_node *n = zoo_op_record(g, y, softcap_backward, &x, 1, sizeof(softcap_saved));
        if (!n) return NULL;
        ((softcap_saved *)zoo_op_saved(n))->cap = cap;
    }
    return y;
}

/* a * b + c, three inputs, the gradient of a written fresh (every element). */
static void fma_backward(zoo_graph *g, zoo_node *n) {
    zoo_tensor *a = zoo_op_input(n, 0), *b = zoo_op_input(n, 1), *c = zoo_op_input(n, 2);
    const float *dy = zoo_op_output(n)->grad;
    bool fresh;
    float *da = zoo_op_grad_fresh(g, a, &fresh), *db = zoo_op_grad(g, b), *dc = zoo_op_grad(g, c);
    for (int64_t i = 0; i < a->numel; i++) {
        if (da) da[i] = (fresh ? 0 : da[i]) + dy[i] * zoo_f32(b)[i];
        if (db) db[i] += dy[i] * zoo_f32(a)[i];
        if (dc) dc[i] += dy[i];
    }
}

static zoo_tensor *fused_fma(zoo_graph *g, zoo_tensor *a, zoo_tensor *b, zoo_tensor *c) {
    zoo_tensor *in[3] = {a, b, c};
    if (!zoo_op_begin(g, "fma", in, 3)) return NULL;
    zoo_tensor *y = zoo_tensor_new(g, ZOO_F32, a->ndim, a->shape);
    if (!y) return NULL;
    for (int64_t i = 0; i < a->numel; i++)
        zoo_f32(y)[i] = zoo_f32(a)[i] * zoo_f32(b)[i] + zoo_f32(c)[i];
    if (zoo_op_needs_grad(g, in, 3) && !zoo_op_record(g, y, fma_backward, in, 3, 0)) return NULL;
    return y;
}

typedef struct {
    zoo_tensor *a, *b, *c;
} op_ctx;

/* The ops composed with core's: a gradient must flow through both kinds. */
static zoo_tensor *build_softcap(zoo_graph *g, void *arg) {
    op_ctx *c = arg;
    return zoo_tanh(g, softcap(g, zoo_add(g, zoo_mul(g, c->a, c->b), c->c), 1.5f));
}

static zoo_tensor *build_fma(zoo_graph *g, void *arg) {
    op_ctx *c = arg;
    zoo_tensor *x = zoo_scale(g, c->a, 2); /* an activation: its gradient buffer is fresh */
    return fused_fma(g, x, c->b, c->c);
}

START_TEST(test_ops_match_finite_differences) {
    zoo_rng rng;
    zoo_rng_seed(&rng, 5);
    zoo_params *p = zoo_params_new();
    op_ctx c = {RAND_PARAM(p, &rng, "a", -2, 2, 3, 7), RAND_PARAM(p, &rng, "b", -2, 2, 3, 7),
                RAND_PARAM(p, &rng, "c", -1, 1, 3, 7)};
    gradcheck(p, build_softcap, &c, NULL);
    gradcheck(p, build_fma, &c, NULL);
    zoo_params_free(p);
}
END_TEST

START_TEST(test_forward_and_no_tape_without_grad) {
    zoo_graph *g = zoo_graph_new(0);
    zoo_tensor *x = zoo_new(g, ZOO_F32, 4);
    for (int i = 0; i < 4; i++) zoo_f32(x)[i] = (float)i * 3 - 4;
    zoo_tensor *y = softcap(g, x, 2);
    for (int i = 0; i < 4; i++)
        ck_assert_float_eq_tol(zoo_f32(y)[i], 2 * tanhf(zoo_f32(x)[i] / 2), 1e-7);
    ck_assert(!y->requires_grad); /* a graph tensor takes no gradient: nothing recorded */
    ck_assert_ptr_null(y->node);
    zoo_graph_free(g);
}
END_TEST

START_TEST(test_errors_are_sticky) {
    zoo_graph *g = zoo_graph_new(0);
    zoo_tensor *ids = zoo_zeros(g, ZOO_I32, 3);
    ck_assert_ptr_null(softcap(g, ids, 1));
    ck_assert_int_eq(zoo_graph_status(g), ZOO_ERR_SHAPE);
    ck_assert_str_eq(zoo_graph_error(g), "softcap: input 0 is int32, expected float32");
    zoo_tensor *x = zoo_zeros(g, ZOO_F32, 3);
    ck_assert_ptr_null(softcap(g, x, 1)); /* the graph has failed: later ops refuse */
    zoo_graph_reset(g);
    ck_assert_ptr_null(softcap(g, NULL, 1)); /* a failed input: NULL, no new error */
    ck_assert_int_eq(zoo_graph_status(g), ZOO_OK);
    zoo_params *p = zoo_params_new();
    zoo_rng rng;
    zoo_rng_seed(&rng, 1);
    zoo_tensor *w = RAND_PARAM(p, &rng, "w", -1, 1, 3);
    zoo_tensor *five[5] = {w, w, w, w, w};
    ck_assert_ptr_null(zoo_op_record(g, zoo_zeros(g, ZOO_F32, 3), softcap_backward, five, 5, 0));
    ck_assert_str_eq(zoo_graph_error(g), "zoo_op_record: 5 inputs, at most 4 fit a tape entry");
    zoo_params_free(p);
    zoo_graph_free(g);
}
END_TEST

/* A training step built of public ops allocates nothing once the arena has
 * grown to the step's size. */
START_TEST(test_steady_state_arena) {
    zoo_rng rng;
    zoo_rng_seed(&rng, 9);
    zoo_params *p = zoo_params_new();
    op_ctx c = {RAND_PARAM(p, &rng, "a", -2, 2, 64, 33), RAND_PARAM(p, &rng, "b", -2, 2, 64, 33),
                RAND_PARAM(p, &rng, "c", -1, 1, 64, 33)};
    zoo_graph *g = zoo_graph_new(4096); /* small: the first step must grow it */
    size_t capacity[4];
    for (int step = 0; step < 4; step++) {
        zoo_graph_reset(g);
        zoo_tensor *y = zoo_sum(g, zoo_sum(g, build_fma(g, &c), 1), 0);
        ck_assert_int_eq(zoo_backward(g, softcap(g, y, 3)), ZOO_OK);
        capacity[step] = zoo_graph_capacity(g);
    }
    ck_assert_uint_gt(capacity[0], 4096);
    ck_assert_uint_eq(capacity[1], capacity[3]);
    zoo_graph_free(g);
    zoo_params_free(p);
}
END_TEST

Suite *make_suite(void) {
    Suite *s = suite_create("op");
    TCase *tc = tcase_create("public");
    tcase_add_test(tc, test_ops_match_finite_differences);
    tcase_add_test(tc, test_forward_and_no_tape_without_grad);
    tcase_add_test(tc, test_errors_are_sticky);
    tcase_add_test(tc, test_steady_state_arena);
    suite_add_tcase(s, tc);
    return s;
}
