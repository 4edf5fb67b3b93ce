/* zoo_gradcheck itself: it passes a right backward, catches a wrong one and
 * says where, and keeps its contract on options, reports and failures. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>

#include "check_util.h"

typedef struct {
    zoo_tensor *x, *w, *z; /* z: a parameter outside the product */
    int mode;
} case_ctx;

enum {
    RIGHT,       /* tanh(x w): a correct backward */
    DOUBLED,     /* 2 x computed behind the tape's back: backward gives half */
    OFF_TAPE,    /* a value of z copied into a tensor the tape does not know */
    FAILS,       /* the build fails */
    WRONG_DTYPE, /* an int32 output */
    GROWS_LATER, /* the output changes shape after the first pass */
    KINK,        /* relu(x) with x[0] closer to its kink than eps */
    KINKS,       /* relu(x - 1e-4) + relu(x + 3e-4): two kinks near 0 */
};

static int calls;

static zoo_tensor *build(zoo_graph *g, void *arg) {
    case_ctx *c = arg;
    calls++;
    switch (c->mode) {
    case RIGHT:
        return zoo_tanh(g, zoo_matmul(g, c->x, c->w, false, false)); // (2,3)
    case DOUBLED: {
        zoo_tensor *y = zoo_scale(g, c->x, 1.0f);
        for (int64_t i = 0; y && i < y->numel; i++) zoo_f32(y)[i] *= 2;
        return y;
    }
    case OFF_TAPE: {
        zoo_tensor *y = zoo_new(g, ZOO_F32, 1, 4);
        for (int i = 0; y && i < 4; i++)
            zoo_f32(y)[i] = zoo_f32(c->z)[i % 3] * zoo_f32(c->z)[i % 3];
        return zoo_add(g, y, zoo_slice(g, c->x, 0, 0, 1)); // (1,4)
    }
    case FAILS:
        return zoo_add(g, c->x, c->w); /* [2,4] + [4,3]: a shape error */
    case WRONG_DTYPE:
        return zoo_new(g, ZOO_I32, 2);
    case KINK:
        return zoo_relu(g, c->x);
    case KINKS: {
        zoo_tensor *a = zoo_new(g, ZOO_F32, 4), *b = zoo_new(g, ZOO_F32, 4);
        for (int i = 0; a && b && i < 4; i++) zoo_f32(a)[i] = -1e-4f, zoo_f32(b)[i] = 3e-4f;
        return zoo_add(g, zoo_relu(g, zoo_add(g, c->x, a)), zoo_relu(g, zoo_add(g, c->x, b)));
    }
    default:
        return calls == 1 ? zoo_scale(g, c->x, 2) : zoo_scale(g, c->w, 2);
    }
}

static zoo_params *setup(case_ctx *c, int mode) {
    zoo_rng rng;
    zoo_rng_seed(&rng, 7);
    zoo_params *p = zoo_params_new();
    *c = (case_ctx){.mode = mode};
    c->x = RAND_PARAM(p, &rng, "x", -1, 1, 2, 4);
    c->w = RAND_PARAM(p, &rng, "w", -1, 1, 4, 3);
    c->z = RAND_PARAM(p, &rng, "z", 0.5f, 1, 3);
    calls = 0;
    return p;
}

START_TEST(test_right_backward_passes_and_reports) {
    case_ctx c;
    zoo_params *p = setup(&c, RIGHT);
    zoo_gradcheck_report rep = {.size = sizeof rep};
    ck_assert_int_eq(zoo_gradcheck(p, build, &c, NULL, &rep), ZOO_OK);
    /* every element of x (8), w (12) and z (3, never reached: a zero gradient) */
    ck_assert_int_eq(rep.params, 3);
    ck_assert_int_eq(rep.elements, 23);
    ck_assert_int_eq(calls, 1 + 2 * 23);
    ck_assert(rep.max_abs_error > 0 && rep.max_abs_error < 1e-4);
    ck_assert(rep.max_rel_error < 1e-3);
    ck_assert_ptr_nonnull(rep.worst_param);
    ck_assert(rep.worst_index >= 0 && rep.worst_index < 12);
    /* the analytic gradient stays in the parameters, their values untouched */
    ck_assert_ptr_nonnull(c.x->grad);
    zoo_rng rng;
    zoo_rng_seed(&rng, 7);
    float x0[8];
    zoo_rng_fill_uniform(&rng, x0, 8, -1, 1);
    ck_assert_mem_eq(c.x->data, x0, sizeof x0);
    zoo_params_free(p);
}
END_TEST

/* A frozen parameter is skipped; max_checks draws that many elements. */
START_TEST(test_frozen_and_max_checks) {
    case_ctx c;
    zoo_params *p = setup(&c, RIGHT);
    zoo_params_set_frozen(zoo_params_find(p, "w"), true);
    zoo_gradcheck_opts o = {.size = sizeof o, .max_checks = 5, .seed = 99};
    zoo_gradcheck_report rep = {.size = sizeof rep};
    ck_assert_int_eq(zoo_gradcheck(p, build, &c, &o, &rep), ZOO_OK);
    ck_assert_int_eq(rep.params, 2);
    ck_assert_int_eq(rep.elements, 5 + 3); /* x: 5 of its 8, z: all 3 */
    zoo_params_free(p);
}
END_TEST

/* x[0] = 0.002 with eps 0.005: the central difference straddles relu's
 * kink (0.7 of the slope); the right-hand difference does not (1, where
 * the left-hand one gives 0.4), and agrees. */
START_TEST(test_kink_within_eps_is_looked_at_closer) {
    case_ctx c;
    zoo_params *p = setup(&c, KINK);
    zoo_f32(c.x)[0] = 0.002f;
    zoo_gradcheck_report rep = {.size = sizeof rep};
    ck_assert_msg(zoo_gradcheck(p, build, &c, NULL, &rep) == ZOO_OK, "%s", zoo_error_message());
    ck_assert(rep.max_abs_error < 1e-4);
    ck_assert_int_eq(calls, 1 + 2 * (8 + 12 + 3) + 1); /* and L(x) itself, once */
    zoo_params_free(p);
}
END_TEST

/* x[0] = 0 between two kinks 4e-4 apart: every step straddles one or
 * both, and the differences (1.02, 1.08, 1.32 of the slope) move with the
 * step: not judged, counted. All eight elements of x there: too many. */
START_TEST(test_dense_kinks_are_counted_not_judged) {
    case_ctx c;
    zoo_params *p = setup(&c, KINKS);
    zoo_f32(c.x)[0] = 0;
    zoo_gradcheck_report rep = {.size = sizeof rep};
    ck_assert_msg(zoo_gradcheck(p, build, &c, NULL, &rep) == ZOO_OK, "%s", zoo_error_message());
    ck_assert_int_eq(rep.kinks, 1);
    ck_assert_int_eq(rep.elements, 8 + 12 + 3 - 1);
    for (int i = 0; i < 8; i++) zoo_f32(c.x)[i] = 0;
    ck_assert_int_eq(zoo_gradcheck(p, build, &c, NULL, &rep), ZOO_ERR_CHECK);
    ck_assert_ptr_nonnull(strstr(zoo_error_message(), "8 of 23 elements sit at kinks"));
    zoo_params_free(p);
}
END_TEST

START_TEST(test_wrong_backward_is_named) {
    case_ctx c;
    zoo_params *p = setup(&c, DOUBLED);
    zoo_gradcheck_report rep = {.size = sizeof rep};
    ck_assert_int_eq(zoo_gradcheck(p, build, &c, NULL, &rep), ZOO_ERR_CHECK);
    /* L = sum(w * 2x): numeric 2 w[0], analytic w[0], stopped at the first element */
    const char *msg = zoo_error_message();
    ck_assert_msg(strncmp(msg, "x[0]: backward gives ", 21) == 0, "%s", msg);
    ck_assert_msg(strstr(msg, ", finite differences ") && strstr(msg, "> tolerance"), "%s", msg);
    double analytic = 0, numeric = 0;
    ck_assert_int_eq(
        sscanf(msg, "x[0]: backward gives %lf, finite differences %lf", &analytic, &numeric), 2);
    ck_assert_msg(fabs(numeric - 2 * analytic) < 1e-3 * fabs(numeric), "%s", msg);
    ck_assert_int_eq(rep.params, 1);
    ck_assert_int_eq(rep.elements, 1);
    ck_assert_str_eq(rep.worst_param, "x");
    ck_assert_int_eq(rep.worst_index, 0);
    ck_assert(fabs(rep.max_rel_error - 0.5) < 1e-3);
    zoo_params_free(p);
}
END_TEST

/* A dependence the tape does not know: backward leaves z without a
 * gradient, and that zero is compared like any other value. */
START_TEST(test_gradient_never_reached_is_a_zero) {
    case_ctx c;
    zoo_params *p = setup(&c, OFF_TAPE);
    ck_assert_int_eq(zoo_gradcheck(p, build, &c, NULL, NULL), ZOO_ERR_CHECK);
    ck_assert_msg(strncmp(zoo_error_message(), "z[0]: backward gives 0, finite differences ", 43) ==
                      0,
                  "%s", zoo_error_message());
    zoo_params_free(p);
}
END_TEST

START_TEST(test_failures_are_values) {
    case_ctx c;
    zoo_params *p = setup(&c, FAILS);
    zoo_gradcheck_report rep = {.size = sizeof rep, .params = 42};
    ck_assert_int_eq(zoo_gradcheck(p, build, &c, NULL, &rep), ZOO_ERR_SHAPE);
    ck_assert_str_eq(zoo_error_message(),
                     "zoo_gradcheck: the analytic pass failed: zoo_add: shapes [2,4] and [4,3] do "
                     "not broadcast");
    ck_assert_int_eq(rep.params, 0); /* reset, not left as it was */
    c.mode = WRONG_DTYPE;
    ck_assert_int_eq(zoo_gradcheck(p, build, &c, NULL, NULL), ZOO_ERR_ARG);
    ck_assert_str_eq(zoo_error_message(), "zoo_gradcheck: the output is not float32");
    c.mode = GROWS_LATER, calls = 0;
    ck_assert_int_eq(zoo_gradcheck(p, build, &c, NULL, NULL), ZOO_ERR_SHAPE);
    ck_assert_msg(strstr(zoo_error_message(), "the output changed shape between passes"), "%s",
                  zoo_error_message());
    ck_assert_msg(strstr(zoo_error_message(), "(perturbing x[0])"), "%s", zoo_error_message());
    ck_assert_int_eq(zoo_gradcheck(NULL, build, &c, NULL, NULL), ZOO_ERR_ARG);
    ck_assert_int_eq(zoo_gradcheck(p, NULL, &c, NULL, NULL), ZOO_ERR_ARG);
    zoo_params_free(p);
}
END_TEST

/* A caller built against a shorter struct: fields past its size are
 * defaults on the way in, and untouched on the way out. */
START_TEST(test_shorter_structs) {
    case_ctx c;
    zoo_params *p = setup(&c, RIGHT);
    zoo_gradcheck_opts o = {.size = offsetof(zoo_gradcheck_opts, max_checks), .max_checks = 1};
    zoo_gradcheck_report rep = {.size = offsetof(zoo_gradcheck_report, max_abs_error),
                                .max_abs_error = -1,
                                .worst_index = -7};
    ck_assert_int_eq(zoo_gradcheck(p, build, &c, &o, &rep), ZOO_OK);
    ck_assert_int_eq(rep.elements, 23); /* max_checks past the size: the default 256 */
    ck_assert(rep.max_abs_error == -1 && rep.worst_index == -7);
    zoo_params_free(p);
}
END_TEST

Suite *make_suite(void) {
    Suite *s = suite_create("gradcheck");
    TCase *tc = tcase_create("gradcheck");
    tcase_add_test(tc, test_right_backward_passes_and_reports);
    tcase_add_test(tc, test_frozen_and_max_checks);
    tcase_add_test(tc, test_wrong_backward_is_named);
    tcase_add_test(tc, test_kink_within_eps_is_looked_at_closer);
    tcase_add_test(tc, test_dense_kinks_are_counted_not_judged);
    tcase_add_test(tc, test_gradient_never_reached_is_a_zero);
    tcase_add_test(tc, test_failures_are_values);
    tcase_add_test(tc, test_shorter_structs);
    suite_add_tcase(s, tc);
    return s;
}
