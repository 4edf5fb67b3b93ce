/* Broadcasting add, sub, mul and div: every pattern against a double loop
 * written here, the error for shapes that do not broadcast, gradients by
 * finite differences, and results that do not move with the thread count. */
#include <math.h>

#include "check_util.h"

typedef zoo_tensor *(*binary_op)(zoo_graph *, zoo_tensor *, zoo_tensor *);

static const struct {
    const char *name;
    binary_op op;
} OPS[] = {{"add", zoo_add}, {"sub", zoo_sub}, {"mul", zoo_mul}, {"div", zoo_div}};
#define N_OPS 4

static double ref_op(int which, double x, double y) {
    switch (which) {
    case 0:
        return x + y;
    case 1:
        return x - y;
    case 2:
        return x * y;
    default:
        return x / y;
    }
}

typedef struct pattern {
    int na;
    int64_t a[4];
    int nb;
    int64_t b[4];
    int nout;
    int64_t out[4];
} pattern;

/* Every pattern supported: (a shape, b shape, the broadcast shape). */
static const pattern PATTERNS[] = {
    {3, {2, 3, 4}, 1, {4}, 3, {2, 3, 4}},                /* row */
    {1, {4}, 3, {2, 3, 4}, 3, {2, 3, 4}},                /* row, a repeated */
    {2, {3, 4}, 2, {3, 1}, 2, {3, 4}},                   /* column */
    {2, {3, 1}, 2, {3, 4}, 2, {3, 4}},                   /* column, a repeated */
    {3, {2, 3, 4}, 1, {1}, 3, {2, 3, 4}},                /* scalar */
    {1, {1}, 3, {2, 3, 4}, 3, {2, 3, 4}},                /* scalar first */
    {3, {1, 3, 4}, 3, {2, 3, 4}, 3, {2, 3, 4}},          /* leading 1 */
    {3, {2, 3, 4}, 4, {1, 1, 3, 4}, 4, {1, 2, 3, 4}},    /* leading 1s, longer b */
    {3, {2, 1, 4}, 3, {2, 3, 4}, 3, {2, 3, 4}},          /* a middle axis */
    {2, {3, 1}, 2, {1, 4}, 2, {3, 4}},                   /* both repeated: outer */
    {4, {2, 1, 3, 1}, 4, {1, 4, 1, 5}, 4, {2, 4, 3, 5}}, /* both, alternating */
    {3, {2, 1, 4}, 2, {3, 1}, 3, {2, 3, 4}},             /* both, different ndim */
    {3, {2, 3, 4}, 3, {2, 3, 4}, 3, {2, 3, 4}},          /* equal */
    {2, {1, 4}, 1, {4}, 2, {1, 4}},                      /* same numel, different ndim */
    {2, {1, 1}, 1, {1}, 2, {1, 1}},                      /* one element */
    {2, {5, 7}, 2, {5, 7}, 2, {5, 7}},                   /* equal, odd sizes */
};
#define N_PATTERNS (int)(sizeof PATTERNS / sizeof PATTERNS[0])

/* Index of out position (i0..i3) in an operand of ndim n, shape s, aligned at the last axis. */
static int64_t ref_index(int n, const int64_t *s, int nout, const int64_t *idx) {
    int64_t off = 0;
    for (int d = 0; d < n; d++) {
        int64_t i = idx[nout - n + d];
        off = off * s[d] + (s[d] == 1 ? 0 : i);
    }
    return off;
}

/* out[i] = a[.] op b[.] in double, by explicit index arithmetic over the output. */
static void ref_broadcast(int which, const pattern *p, const float *a, const float *b,
                          double *out) {
    int64_t n = zoo_shape_numel(p->nout, p->out);
    for (int64_t flat = 0; flat < n; flat++) {
        int64_t idx[4], rest = flat;
        for (int d = p->nout - 1; d >= 0; d--) idx[d] = rest % p->out[d], rest /= p->out[d];
        out[flat] = ref_op(which, a[ref_index(p->na, p->a, p->nout, idx)],
                           b[ref_index(p->nb, p->b, p->nout, idx)]);
    }
}

static void fill(zoo_rng *rng, zoo_tensor *t, float lo, float hi) {
    zoo_rng_fill_uniform(rng, t->data, (size_t)t->numel, lo, hi);
}

START_TEST(test_forward_every_pattern) {
    zoo_rng rng;
    zoo_rng_seed(&rng, 1);
    for (int k = 0; k < N_PATTERNS; k++) {
        const pattern *p = &PATTERNS[k];
        zoo_graph *g = zoo_graph_new(0);
        zoo_tensor *a = zoo_tensor_new(g, ZOO_F32, p->na, p->a);
        zoo_tensor *b = zoo_tensor_new(g, ZOO_F32, p->nb, p->b);
        fill(&rng, a, -2, 2);
        fill(&rng, b, 0.5f, 2); /* away from 0: div */
        double want[256];
        for (int which = 0; which < N_OPS; which++) {
            zoo_tensor *y = OPS[which].op(g, a, b);
            ck_assert_msg(y, "%s pattern %d: %s", OPS[which].name, k, zoo_graph_error(g));
            ck_assert_int_eq(y->ndim, p->nout);
            for (int d = 0; d < p->nout; d++) ck_assert_int_eq(y->shape[d], p->out[d]);
            ref_broadcast(which, p, a->data, b->data, want);
            /* one IEEE operation: the float result is the double one rounded */
            for (int64_t i = 0; i < y->numel; i++)
                ck_assert_msg(zoo_f32(y)[i] == (float)want[i], "%s pattern %d [%lld]: %.9g vs %.9g",
                              OPS[which].name, k, (long long)i, zoo_f32(y)[i], want[i]);
        }
        zoo_graph_free(g);
    }
}
END_TEST

START_TEST(test_ieee_division) {
    zoo_graph *g = zoo_graph_new(0);
    zoo_tensor *a = zoo_new(g, ZOO_F32, 3), *z = zoo_zeros(g, ZOO_F32, 1);
    const float xs[3] = {1, -1, 0};
    memcpy(a->data, xs, sizeof xs);
    zoo_tensor *y = zoo_div(g, a, z);
    ck_assert(isinf(zoo_f32(y)[0]) && zoo_f32(y)[0] > 0);
    ck_assert(isinf(zoo_f32(y)[1]) && zoo_f32(y)[1] < 0);
    ck_assert(isnan(zoo_f32(y)[2]));
    zoo_graph_free(g);
}
END_TEST

START_TEST(test_shapes_that_do_not_broadcast) {
    static const struct {
        int which, na, nb;
        int64_t a[3], b[3];
        const char *msg;
    } cases[] = {
        {0, 2, 2, {2, 3}, {3, 2}, "zoo_add: shapes [2,3] and [3,2] do not broadcast"},
        {1, 1, 1, {4}, {3}, "zoo_sub: shapes [4] and [3] do not broadcast"},
        {2, 3, 2, {2, 3, 4}, {2, 4}, "zoo_mul: shapes [2,3,4] and [2,4] do not broadcast"},
        {3, 2, 3, {5, 1}, {2, 3, 1}, "zoo_div: shapes [5,1] and [2,3,1] do not broadcast"},
    };
    for (int k = 0; k < 4; k++) {
        zoo_graph *g = zoo_graph_new(0);
        zoo_tensor *a = zoo_tensor_zeros(g, ZOO_F32, cases[k].na, cases[k].a);
        zoo_tensor *b = zoo_tensor_zeros(g, ZOO_F32, cases[k].nb, cases[k].b);
        ck_assert_ptr_null(OPS[cases[k].which].op(g, a, b));
        ck_assert_int_eq(zoo_graph_status(g), ZOO_ERR_SHAPE);
        ck_assert_str_eq(zoo_graph_error(g), cases[k].msg);
        zoo_graph_free(g);
    }
    zoo_graph *g = zoo_graph_new(0);
    zoo_tensor *ids = zoo_zeros(g, ZOO_I32, 4), *x = zoo_zeros(g, ZOO_F32, 4);
    ck_assert_ptr_null(zoo_div(g, x, ids));
    ck_assert_str_eq(zoo_graph_error(g), "zoo_div: b must be float32");
    zoo_graph_free(g);
}
END_TEST

typedef struct {
    zoo_tensor *a, *b;
    int which;
} bin_ctx;

static zoo_tensor *build(zoo_graph *g, void *arg) {
    bin_ctx *c = arg;
    return OPS[c->which].op(g, c->a, c->b);
}

/* Every operator on every pattern: both operands take gradients. */
START_TEST(test_backward_every_pattern) {
    for (int which = 0; which < N_OPS; which++)
        for (int k = 0; k < N_PATTERNS; k++) {
            const pattern *p = &PATTERNS[k];
            zoo_rng rng;
            zoo_rng_seed(&rng, (uint64_t)(100 * which + k));
            zoo_params *ps = zoo_params_new();
            bin_ctx c = {.which = which};
            c.a = rand_param(ps, &rng, "a", p->na, p->a, -1, 1);
            c.b = rand_param(ps, &rng, "b", p->nb, p->b, 0.5f, 1.5f);
            gradcheck(ps, build, &c, NULL);
            zoo_params_free(ps);
        }
}
END_TEST

/* One operand a constant (no gradient), each side, and an operand used twice. */
START_TEST(test_backward_constant_and_aliased) {
    zoo_rng rng;
    zoo_rng_seed(&rng, 7);
    float constant[12];
    zoo_rng_fill_uniform(&rng, constant, 12, 0.5f, 1.5f);
    for (int which = 0; which < N_OPS; which++)
        for (int side = 0; side < 3; side++) {
            zoo_params *ps = zoo_params_new();
            zoo_graph *holder = zoo_graph_new(0);
            bin_ctx c = {.which = which};
            if (side == 0) { /* a constant [3,4], b [4] takes the gradient */
                c.a = zoo_tensor_wrap(holder, ZOO_F32, 2, ZOO_SHAPE(3, 4), constant);
                c.b = RAND_PARAM(ps, &rng, "b", 0.5f, 1.5f, 4);
            } else if (side == 1) { /* a [3,1] takes it, b constant [3,4] */
                c.a = RAND_PARAM(ps, &rng, "a", -1, 1, 3, 1);
                c.b = zoo_tensor_wrap(holder, ZOO_F32, 2, ZOO_SHAPE(3, 4), constant);
            } else { /* x op x */
                c.a = c.b = RAND_PARAM(ps, &rng, "x", 0.5f, 1.5f, 3, 4);
            }
            gradcheck(ps, build, &c, NULL);
            zoo_graph_free(holder);
            zoo_params_free(ps);
        }
}
END_TEST

/* Shapes long enough for the pool and for the repeated operand's sum to be
 * cut into parts: the forward equals the double loop, the gradients equal a
 * double reference, and 1 and 3 threads give the same bits. */
START_TEST(test_large_over_the_pool) {
    const int64_t R = 301, C = 1000;
    static const struct {
        int which, nb;
        int64_t b[2];
    } cases[] = {{0, 1, {C}}, {2, 2, {R, 1}}, {3, 1, {1}}, {1, 2, {1, C}}};
    for (int k = 0; k < 4; k++) {
        float *grads[2][2], *outs[2];
        for (int run = 0; run < 2; run++) {
            zoo_threads_set(run ? 3 : 1);
            zoo_rng rng;
            zoo_rng_seed(&rng, 9);
            zoo_params *ps = zoo_params_new();
            bin_ctx c = {.which = cases[k].which};
            c.a = RAND_PARAM(ps, &rng, "a", -1, 1, R, C);
            c.b = rand_param(ps, &rng, "b", cases[k].nb, cases[k].b, 0.5f, 1.5f);
            zoo_graph *g = zoo_graph_new(0);
            zoo_tensor *y = build(g, &c);
            ck_assert_ptr_nonnull(y);
            float *seed = malloc((size_t)y->numel * sizeof *seed);
            zoo_rng_fill_uniform(&rng, seed, (size_t)y->numel, -1, 1);
            ck_assert_int_eq(zoo_backward_from(g, y, seed), ZOO_OK);
            /* b's gradient: the sum over the repeated positions of dy * d(a op b)/db */
            const pattern p = {2, {R, C}, cases[k].nb, {cases[k].b[0], cases[k].b[1]}, 2, {R, C}};
            double *want_db = calloc((size_t)c.b->numel, sizeof *want_db);
            for (int64_t r = 0; r < R; r++)
                for (int64_t col = 0; col < C; col++) {
                    int64_t idx[2] = {r, col}, i = r * C + col;
                    int64_t j = ref_index(p.nb, p.b, 2, idx);
                    double x = zoo_f32(c.a)[i], z = zoo_f32(c.b)[j];
                    double want = ref_op(c.which, x, z);
                    ck_assert_msg(zoo_f32(y)[i] == (float)want, "case %d [%lld]", k, (long long)i);
                    double d = c.which == 0   ? 1
                               : c.which == 1 ? -1
                               : c.which == 2 ? x
                                              : -x / (z * z);
                    want_db[j] += seed[i] * d;
                }
            for (int64_t j = 0; j < c.b->numel; j++) {
                double tol = 1e-4 * (1 + fabs(want_db[j]));
                ck_assert_msg(fabs(c.b->grad[j] - want_db[j]) <= tol, "case %d db[%lld]: %g vs %g",
                              k, (long long)j, c.b->grad[j], want_db[j]);
            }
            outs[run] = malloc((size_t)y->numel * 4);
            memcpy(outs[run], y->data, (size_t)y->numel * 4);
            zoo_tensor *ts[2] = {c.a, c.b};
            for (int t = 0; t < 2; t++) {
                grads[run][t] = malloc((size_t)ts[t]->numel * 4);
                memcpy(grads[run][t], ts[t]->grad, (size_t)ts[t]->numel * 4);
            }
            free(want_db);
            free(seed);
            zoo_graph_free(g);
            zoo_params_free(ps);
        }
        ck_assert_int_eq(memcmp(outs[0], outs[1], (size_t)(R * C) * 4), 0);
        ck_assert_int_eq(memcmp(grads[0][0], grads[1][0], (size_t)(R * C) * 4), 0);
        int64_t nb = cases[k].nb == 1 ? cases[k].b[0] : cases[k].b[0] * cases[k].b[1];
        ck_assert_int_eq(memcmp(grads[0][1], grads[1][1], (size_t)nb * 4), 0);
        for (int run = 0; run < 2; run++) {
            free(outs[run]);
            for (int t = 0; t < 2; t++) free(grads[run][t]);
        }
    }
    zoo_threads_set(1);
}
END_TEST

Suite *make_suite(void) {
    Suite *s = suite_create("broadcast");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_forward_every_pattern);
    tcase_add_test(tc, test_ieee_division);
    tcase_add_test(tc, test_shapes_that_do_not_broadcast);
    tcase_add_test(tc, test_backward_every_pattern);
    tcase_add_test(tc, test_backward_constant_and_aliased);
    tcase_add_test(tc, test_large_over_the_pool);
    suite_add_tcase(s, tc);
    return s;
}
