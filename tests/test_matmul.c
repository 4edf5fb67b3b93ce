#include <math.h>

#include "check_util.h"

/* Naive reference: C[M,N] = op(A) op(B) for one batch, accumulated in double. */
static void naive_matmul(const float *A, const float *B, float *C, int64_t M, int64_t N, int64_t K,
                         bool ta, bool tb) {
    for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < N; j++) {
            double s = 0;
            for (int64_t k = 0; k < K; k++)
                s +=
                    (double)(ta ? A[k * M + i] : A[i * K + k]) * (tb ? B[j * K + k] : B[k * N + j]);
            C[i * N + j] = (float)s;
        }
}

typedef struct {
    zoo_tensor *a, *b, *bias, *x;
    bool ta, tb;
    zoo_weight_layout layout;
} mm_ctx;

static zoo_tensor *build_matmul(zoo_graph *g, void *arg) {
    mm_ctx *c = arg;
    return zoo_matmul(g, c->a, c->b, c->ta, c->tb);
}

static zoo_tensor *build_linear(zoo_graph *g, void *arg) {
    mm_ctx *c = arg;
    return zoo_linear(g, c->x, c->a, c->bias, c->layout);
}

/* Every combination of transposes, plain and batched (own and shared b), odd sizes and 1. */
START_TEST(test_matmul_forward_backward) {
    const int64_t dims[][4] = {{1, 1, 1, 1}, {1, 3, 5, 7}, {3, 4, 1, 6}, {2, 1, 9, 2}};
    zoo_rng rng;
    zoo_rng_seed(&rng, 7);
    for (int d = 0; d < 4; d++)
        for (int mode = 0; mode < 3; mode++) /* 0: 2-D, 1: batched, 2: batched with shared b */
            for (int t = 0; t < 4; t++) {
                int64_t Bt = mode ? dims[d][0] + 1 : 1, M = dims[d][1], N = dims[d][2],
                        K = dims[d][3];
                mm_ctx c = {.ta = t & 1, .tb = t & 2};
                zoo_params *p = zoo_params_new();
                int64_t sa[3] = {Bt, c.ta ? K : M, c.ta ? M : K},
                        sb[3] = {Bt, c.tb ? N : K, c.tb ? K : N};
                c.a = mode ? rand_param(p, &rng, "a", 3, sa, -1, 1)
                           : rand_param(p, &rng, "a", 2, sa + 1, -1, 1);
                c.b = mode == 1 ? rand_param(p, &rng, "b", 3, sb, -1, 1)
                                : rand_param(p, &rng, "b", 2, sb + 1, -1, 1);
                zoo_graph *g = zoo_graph_new(0);
                zoo_tensor *out = zoo_matmul(g, c.a, c.b, c.ta, c.tb);
                ck_assert_msg(out, "%s", zoo_graph_error(g));
                float *want = malloc((size_t)(Bt * M * N) * sizeof(float));
                for (int64_t i = 0; i < Bt; i++)
                    naive_matmul(zoo_f32(c.a) + i * M * K,
                                 zoo_f32(c.b) + (mode == 1 ? i * K * N : 0), want + i * M * N, M, N,
                                 K, c.ta, c.tb);
                ck_assert_floats_close(zoo_f32(out), want, Bt * M * N, 1e-5, 1e-5);
                free(want);
                zoo_graph_free(g);
                gradcheck(p, build_matmul, &c, NULL);
                zoo_params_free(p);
            }
}
END_TEST

START_TEST(test_linear_both_layouts) {
    zoo_rng rng;
    zoo_rng_seed(&rng, 8);
    const int64_t dims[][4] = {{1, 1, 1, 1}, {2, 3, 5, 4}, {1, 7, 2, 9}}; /* B, T, in, out */
    for (int d = 0; d < 3; d++)
        for (int layout = 0; layout < 2; layout++)
            for (int with_bias = 0; with_bias < 2; with_bias++) {
                int64_t B = dims[d][0], T = dims[d][1], In = dims[d][2], Out = dims[d][3];
                zoo_params *p = zoo_params_new();
                mm_ctx c = {.layout = layout};
                c.x = RAND_PARAM(p, &rng, "x", -1, 1, B, T, In);
                c.a = layout == ZOO_W_IN_OUT ? RAND_PARAM(p, &rng, "w", -1, 1, In, Out)
                                             : RAND_PARAM(p, &rng, "w", -1, 1, Out, In);
                if (with_bias) c.bias = RAND_PARAM(p, &rng, "bias", -1, 1, Out);
                zoo_graph *g = zoo_graph_new(0);
                zoo_tensor *y = zoo_linear(g, c.x, c.a, c.bias, c.layout);
                ck_assert_msg(y, "%s", zoo_graph_error(g));
                ck_assert_int_eq(y->ndim, 3);
                ck_assert_int_eq(y->shape[2], Out);
                const float *x = c.x->data, *w = c.a->data;
                for (int64_t r = 0; r < B * T; r++)
                    for (int64_t o = 0; o < Out; o++) {
                        double s = with_bias ? zoo_f32(c.bias)[o] : 0;
                        for (int64_t i = 0; i < In; i++)
                            s += (double)x[r * In + i] * (layout ? w[i * Out + o] : w[o * In + i]);
                        ck_assert_floats_close(zoo_f32(y) + r * Out + o, &(float){(float)s}, 1,
                                               1e-5, 1e-5);
                    }
                zoo_graph_free(g);
                gradcheck(p, build_linear, &c, NULL);
                zoo_params_free(p);
            }
}
END_TEST

/* Products big enough for the pool: bands of the output, and the backward's
 * split along K (weight gradients over many rows; the input gradient of a
 * wide output layer). Gradients equal a double reference and are the same to
 * the bit on 1 and 3 threads. */
START_TEST(test_linear_big_products) {
    const int64_t dims[][3] = {{4096, 64, 64}, {16, 32, 4096}, {512, 128, 256}}; /* rows, in, out */
    for (int d = 0; d < 3; d++)
        for (int layout = 0; layout < 2; layout++) {
            int64_t R = dims[d][0], In = dims[d][1], Out = dims[d][2];
            zoo_rng rng;
            zoo_rng_seed(&rng, 30 + d);
            zoo_params *p = zoo_params_new();
            zoo_tensor *x = RAND_PARAM(p, &rng, "x", -1, 1, R, In);
            zoo_tensor *w = layout == ZOO_W_IN_OUT ? RAND_PARAM(p, &rng, "w", -1, 1, In, Out)
                                                   : RAND_PARAM(p, &rng, "w", -1, 1, Out, In);
            float *dy = malloc((size_t)(R * Out) * sizeof(float));
            zoo_rng_fill_uniform(&rng, dy, (size_t)(R * Out), -1, 1);
            float *got[2][2]; /* [threads][dx, dw] */
            for (int k = 0; k < 2; k++) {
                zoo_threads_set(k ? 3 : 1);
                zoo_params_zero_grad(p);
                zoo_graph *g = zoo_graph_new(0);
                zoo_tensor *y = zoo_linear(g, x, w, NULL, layout);
                ck_assert_int_eq(zoo_backward_from(g, y, dy), ZOO_OK);
                got[k][0] = malloc((size_t)x->numel * sizeof(float));
                got[k][1] = malloc((size_t)w->numel * sizeof(float));
                memcpy(got[k][0], x->grad, (size_t)x->numel * sizeof(float));
                memcpy(got[k][1], w->grad, (size_t)w->numel * sizeof(float));
                zoo_graph_free(g);
            }
            zoo_threads_set(1);
            ck_assert_mem_eq(got[0][0], got[1][0], (size_t)x->numel * sizeof(float));
            ck_assert_mem_eq(got[0][1], got[1][1], (size_t)w->numel * sizeof(float));
            float *want =
                malloc((size_t)(x->numel > w->numel ? x->numel : w->numel) * sizeof(float));
            /* dx = dy op(W), op(W) = W [Out,In] or W^T for [In,Out] */
            naive_matmul(dy, w->data, want, R, In, Out, false, layout == ZOO_W_IN_OUT);
            ck_assert_floats_close(got[0][0], want, x->numel, 1e-4, 1e-4);
            if (layout == ZOO_W_IN_OUT) /* dW = x^T dy */
                naive_matmul(x->data, dy, want, In, Out, R, true, false);
            else /* dW = dy^T x */
                naive_matmul(dy, x->data, want, Out, In, R, true, false);
            ck_assert_floats_close(got[0][1], want, w->numel, 1e-3, 1e-4);
            for (int k = 0; k < 2; k++) free(got[k][0]), free(got[k][1]);
            free(want), free(dy);
            zoo_params_free(p);
        }
}
END_TEST

START_TEST(test_shape_errors) {
    zoo_graph *g = zoo_graph_new(0);
    zoo_tensor *a = zoo_zeros(g, ZOO_F32, 2, 3), *b = zoo_zeros(g, ZOO_F32, 4, 5);
    ck_assert_ptr_null(zoo_matmul(g, a, b, false, false));
    ck_assert_str_eq(zoo_graph_error(g), "zoo_matmul: [2,3] and [4,5] do not multiply");
    zoo_graph_reset(g);
    a = zoo_zeros(g, ZOO_F32, 2, 3);
    zoo_tensor *w = zoo_zeros(g, ZOO_F32, 4, 5);
    ck_assert_ptr_null(zoo_linear(g, a, w, NULL, ZOO_W_OUT_IN));
    ck_assert_str_eq(zoo_graph_error(g),
                     "zoo_linear: weight [4,5] ([out,in]) does not fit input [2,3]");
    zoo_graph_free(g);
}
END_TEST

Suite *make_suite(void) {
    Suite *s = suite_create("matmul");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_matmul_forward_backward);
    tcase_add_test(tc, test_linear_both_layouts);
    tcase_add_test(tc, test_linear_big_products);
    tcase_add_test(tc, test_shape_errors);
    suite_add_tcase(s, tc);
    return s;
}
