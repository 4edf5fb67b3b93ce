/* zoo_flops (zoo/flops.h): every product of every operator adds exactly its
 * 2·M·N·K, forward and backward, once per product however it is shared out
 * over the pool. Each expected count is written out from the operator's
 * definition here, product by product. */
#include "check_util.h"

/* The operations a build adds, and those its backward adds (seed: ones). */
typedef struct counted {
    uint64_t forward, backward;
} counted;

static counted count(zoo_tensor *(*build)(zoo_graph *, void *), void *ctx) {
    zoo_graph *g = zoo_graph_new(0);
    uint64_t before = zoo_flops();
    zoo_tensor *out = build(g, ctx);
    ck_assert_msg(out, "%s", zoo_graph_error(g));
    counted c = {.forward = zoo_flops() - before};
    float *seed = malloc((size_t)out->numel * sizeof *seed);
    for (int64_t i = 0; i < out->numel; i++) seed[i] = 1.0f;
    before = zoo_flops();
    ck_assert_int_eq(zoo_backward_from(g, out, seed), ZOO_OK);
    c.backward = zoo_flops() - before;
    free(seed);
    zoo_graph_free(g);
    return c;
}

typedef struct mm {
    zoo_tensor *a, *b, *bias;
    bool ta, tb;
} mm;

static zoo_tensor *build_matmul(zoo_graph *g, void *arg) {
    mm *m = arg;
    return zoo_matmul(g, m->a, m->b, m->ta, m->tb);
}

static zoo_tensor *build_linear(zoo_graph *g, void *arg) {
    mm *m = arg;
    return zoo_linear(g, m->a, m->b, m->bias, ZOO_W_OUT_IN);
}

/* 2-D, batched with its own b and with a shared b, every transpose: forward
 * 2·Bt·M·N·K, backward twice that (dA and dB). */
START_TEST(test_matmul_counts) {
    zoo_rng rng;
    zoo_rng_seed(&rng, 1);
    const int64_t Bt = 3, M = 5, N = 7, K = 4;
    for (int mode = 0; mode < 3; mode++) /* 0: 2-D, 1: batched, 2: batched with shared b */
        for (int t = 0; t < 4; t++) {
            mm m = {.ta = t & 1, .tb = t & 2};
            zoo_params *p = zoo_params_new();
            int64_t bt = mode ? Bt : 1;
            int64_t sa[3] = {bt, m.ta ? K : M, m.ta ? M : K},
                    sb[3] = {bt, m.tb ? N : K, m.tb ? K : N};
            m.a = mode ? rand_param(p, &rng, "a", 3, sa, -1, 1)
                       : rand_param(p, &rng, "a", 2, sa + 1, -1, 1);
            m.b = mode == 1 ? rand_param(p, &rng, "b", 3, sb, -1, 1)
                            : rand_param(p, &rng, "b", 2, sb + 1, -1, 1);
            counted c = count(build_matmul, &m);
            uint64_t want = (uint64_t)(2 * bt * M * N * K);
            ck_assert_msg(c.forward == want, "mode %d t %d: forward %llu, want %llu", mode, t,
                          (unsigned long long)c.forward, (unsigned long long)want);
            ck_assert_msg(c.backward == 2 * want, "mode %d t %d: backward %llu, want %llu", mode, t,
                          (unsigned long long)c.backward, (unsigned long long)(2 * want));
            zoo_params_free(p);
        }
}
END_TEST

/* A gradient nobody wants is not computed, and not counted. */
START_TEST(test_matmul_one_gradient) {
    zoo_rng rng;
    zoo_rng_seed(&rng, 2);
    zoo_params *p = zoo_params_new();
    zoo_graph *constants = zoo_graph_new(0);
    mm m = {.a = RAND_PARAM(p, &rng, "a", -1, 1, 6, 3), .b = zoo_new(constants, ZOO_F32, 3, 8)};
    for (int64_t i = 0; i < m.b->numel; i++) zoo_f32(m.b)[i] = 0.5f;
    counted c = count(build_matmul, &m);
    ck_assert_uint_eq(c.forward, 2 * 6 * 8 * 3);
    ck_assert_uint_eq(c.backward, 2 * 6 * 8 * 3);
    zoo_graph_free(constants);
    zoo_params_free(p);
}
END_TEST

/* Products big enough to be cut into bands over the pool, and a weight
 * gradient split along K (zoo_gemm_grad): still one count each, exact. */
START_TEST(test_linear_counts) {
    zoo_threads_set(2); /* in the forked test: the parent keeps BLAS single-threaded */
    zoo_rng rng;
    zoo_rng_seed(&rng, 3);
    const int64_t shapes[][3] = {{4, 3, 5}, {4096, 16, 16}, {256, 128, 96}}; /* rows, in, out */
    for (int s = 0; s < 3; s++)
        for (int with_bias = 0; with_bias < 2; with_bias++) {
            int64_t R = shapes[s][0], I = shapes[s][1], O = shapes[s][2];
            zoo_params *p = zoo_params_new();
            mm m = {.a = RAND_PARAM(p, &rng, "x", -1, 1, R, I),
                    .b = RAND_PARAM(p, &rng, "w", -1, 1, O, I),
                    .bias = with_bias ? RAND_PARAM(p, &rng, "b", -1, 1, O) : NULL};
            counted c = count(build_linear, &m);
            ck_assert_uint_eq(c.forward, (uint64_t)(2 * R * I * O));
            /* dx and dW, and the bias's column sums as a matrix-vector product */
            ck_assert_uint_eq(c.backward, (uint64_t)(4 * R * I * O + (with_bias ? 2 * R * O : 0)));
            zoo_params_free(p);
        }
}
END_TEST

typedef struct attn {
    zoo_attention_args a;
} attn;

static zoo_tensor *build_attention(zoo_graph *g, void *arg) {
    return zoo_attention_ex(g, &((attn *)arg)->a);
}

/* The keys query row t sees: all L, or (causal) those up to its block's
 * last row, the rows taken in blocks of 64 from the first (attention.c
 * multiplies each block against the keys its last row can see). */
static uint64_t attention_pair_flops(int64_t Tq, int64_t L, int64_t hs, bool causal, int64_t off) {
    int64_t block = causal && Tq > 64 ? 64 : Tq, total = 0;
    for (int64_t t0 = 0; t0 < Tq; t0 += block) {
        int64_t rows = Tq - t0 < block ? Tq - t0 : block, last = off + t0 + rows;
        int64_t cols = causal && last < L ? last : L;
        total += 2 * rows * cols * hs; /* one product of rows x cols x hs */
    }
    return (uint64_t)total;
}

/* Packed q|k|v, plain and causal (one block, and two of 64 and 36 rows):
 * forward QK^T and PV; backward dV, dP, dQ and dK. */
START_TEST(test_attention_counts) {
    zoo_rng rng;
    zoo_rng_seed(&rng, 4);
    const int64_t B = 2, C = 8, NH = 2, hs = C / NH, Ts[] = {5, 100};
    for (int ti = 0; ti < 2; ti++)
        for (int causal = 0; causal < 2; causal++) {
            int64_t T = Ts[ti];
            zoo_params *p = zoo_params_new();
            attn at = {.a = {.size = sizeof at.a,
                             .q = RAND_PARAM(p, &rng, "qkv", -1, 1, B, T, 3 * C),
                             .n_head = (int)NH,
                             .causal = causal}};
            counted c = count(build_attention, &at);
            uint64_t pair = attention_pair_flops(T, T, hs, causal, 0) * (uint64_t)(B * NH);
            ck_assert_uint_eq(c.forward, 2 * pair);
            ck_assert_uint_eq(c.backward, 4 * pair);
            if (causal && T == 100) /* blocks 0-63 see 64 keys, 64-99 all 100 */
                ck_assert_uint_eq(pair, (uint64_t)(2 * (64 * 64 + 36 * 100) * hs * B * NH));
            zoo_params_free(p);
        }
}
END_TEST

/* A decoding step: one query against the first L cached keys
 * (matrix-vector products), and separate k, v of which only v wants a
 * gradient (backward: dV alone). */
START_TEST(test_attention_decode_and_partial) {
    zoo_rng rng;
    zoo_rng_seed(&rng, 5);
    const int64_t B = 2, C = 12, NH = 3, hs = C / NH, Tk = 9, L = 7;
    zoo_params *p = zoo_params_new();
    zoo_graph *constants = zoo_graph_new(0);
    zoo_tensor *q = zoo_new(constants, ZOO_F32, B, 1, C),
               *k = zoo_new(constants, ZOO_F32, B, Tk, C);
    for (int64_t i = 0; i < q->numel; i++) zoo_f32(q)[i] = 0.1f * (float)(i % 7);
    for (int64_t i = 0; i < k->numel; i++) zoo_f32(k)[i] = 0.05f * (float)(i % 5);
    attn at = {.a = {.size = sizeof at.a,
                     .q = q,
                     .k = k,
                     .v = RAND_PARAM(p, &rng, "v", -1, 1, B, Tk, C),
                     .n_head = (int)NH,
                     .causal = true,
                     .q_offset = L - 1,
                     .kv_len = L}};
    counted c = count(build_attention, &at);
    ck_assert_uint_eq(c.forward, 2 * 2 * L * hs * B * NH); /* q K^T and p V, each 2·L·hs */
    ck_assert_uint_eq(c.backward, 2 * L * hs * B * NH);    /* dV = p^T dO */
    zoo_graph_free(constants);
    zoo_params_free(p);
}
END_TEST

typedef struct layer {
    zoo_tensor *x, *w, *bias, *h0;
    zoo_lstm_weights lw;
} layer;

static zoo_tensor *build_highway(zoo_graph *g, void *arg) {
    layer *l = arg;
    return zoo_highway(g, l->x, l->w, l->bias);
}

static zoo_tensor *build_conv(zoo_graph *g, void *arg) {
    layer *l = arg;
    return zoo_conv1d_maxpool(g, l->x, l->w, l->bias);
}

static zoo_tensor *build_lstm(zoo_graph *g, void *arg) {
    layer *l = arg;
    return zoo_lstm(g, l->x, &l->lw, l->h0, NULL, false, NULL, NULL);
}

/* Highway: p = x w^T [R,2D]; backward dx = dp w and dW = dp^T x. */
START_TEST(test_highway_counts) {
    zoo_rng rng;
    zoo_rng_seed(&rng, 6);
    const int64_t R = 6, D = 5;
    zoo_params *p = zoo_params_new();
    layer l = {.x = RAND_PARAM(p, &rng, "x", -1, 1, R, D),
               .w = RAND_PARAM(p, &rng, "w", -1, 1, 2 * D, D),
               .bias = RAND_PARAM(p, &rng, "b", -1, 1, 2 * D)};
    counted c = count(build_highway, &l);
    ck_assert_uint_eq(c.forward, 2 * R * 2 * D * D);
    ck_assert_uint_eq(c.backward, 2 * (2 * R * 2 * D * D));
    zoo_params_free(p);
}
END_TEST

/* Char-CNN: one product per filter offset j over the N·W - j rows it
 * reaches; the backward adds along winning windows, which is not a product. */
START_TEST(test_conv_counts) {
    zoo_rng rng;
    zoo_rng_seed(&rng, 7);
    const int64_t N = 3, W = 6, E = 4, F = 5, K = 3;
    zoo_params *p = zoo_params_new();
    layer l = {.x = RAND_PARAM(p, &rng, "x", -1, 1, N, W, E),
               .w = RAND_PARAM(p, &rng, "w", -1, 1, F, K, E),
               .bias = RAND_PARAM(p, &rng, "b", -1, 1, F)};
    counted c = count(build_conv, &l);
    uint64_t want = 0;
    for (int64_t j = 0; j < K; j++) want += (uint64_t)(2 * (N * W - j) * F * E);
    ck_assert_uint_eq(c.forward, want);
    ck_assert_uint_eq(c.backward, 0);
    zoo_params_free(p);
}
END_TEST

/* LSTMP over T steps, with and without h0 (without, the first step has no
 * recurrent product). Forward: the input product for every step at once, the
 * recurrent one per step, the projection per step. Backward: per step the
 * projection's dh and (but for the first step without h0) the recurrent dh;
 * then dW_ih, dx, dW_hh and dW_proj over all B·T rows. */
START_TEST(test_lstm_counts) {
    zoo_rng rng;
    zoo_rng_seed(&rng, 8);
    const int64_t B = 2, T = 4, I = 3, H = 5, P = 4, G4 = 4 * H, BT = B * T;
    for (int with_h0 = 0; with_h0 < 2; with_h0++) {
        zoo_params *p = zoo_params_new();
        layer l = {.x = RAND_PARAM(p, &rng, "x", -1, 1, B, T, I),
                   .h0 = with_h0 ? RAND_PARAM(p, &rng, "h0", -1, 1, B, P) : NULL,
                   .lw = {.w_ih = RAND_PARAM(p, &rng, "w_ih", -1, 1, G4, I),
                          .w_hh = RAND_PARAM(p, &rng, "w_hh", -1, 1, G4, P),
                          .bias = RAND_PARAM(p, &rng, "bias", -1, 1, G4),
                          .w_proj = RAND_PARAM(p, &rng, "w_proj", -1, 1, P, H)}};
        counted c = count(build_lstm, &l);
        int64_t recurrent_steps = with_h0 ? T : T - 1;
        int64_t fwd = 2 * BT * G4 * I + recurrent_steps * 2 * B * G4 * P + T * 2 * B * P * H;
        int64_t bwd = T * 2 * B * H * P + recurrent_steps * 2 * B * P * G4 + 2 * G4 * I * BT +
                      2 * BT * I * G4 + 2 * G4 * P * BT + 2 * P * H * BT;
        ck_assert_uint_eq(c.forward, (uint64_t)fwd);
        ck_assert_uint_eq(c.backward, (uint64_t)bwd);
        zoo_params_free(p);
    }
}
END_TEST

/* The linear probe: logits of n examples are L products [n,C] x [C,K]. */
START_TEST(test_probe_counts) {
    const int64_t n = 40, L = 2, C = 3;
    const int K = 2;
    float *x = malloc((size_t)(n * L * C) * sizeof *x);
    int32_t *y = malloc((size_t)n * sizeof *y);
    zoo_rng rng;
    zoo_rng_seed(&rng, 9);
    for (int64_t i = 0; i < n; i++) {
        y[i] = (int32_t)(i % K);
        for (int64_t j = 0; j < L * C; j++) x[i * L * C + j] = zoo_rng_uniform(&rng) + (float)y[i];
    }
    zoo_probe *pr = NULL;
    zoo_probe_options o = zoo_probe_defaults();
    o.max_iter = 3;
    ck_assert_int_eq(zoo_probe_fit(&pr, x, y, n, L, C, K, &o), ZOO_OK);
    float *logits = malloc((size_t)(n * K) * sizeof *logits);
    uint64_t before = zoo_flops();
    ck_assert_int_eq(zoo_probe_logits(pr, logits, x, n, L, C), ZOO_OK);
    ck_assert_uint_eq(zoo_flops() - before, (uint64_t)(2 * L * n * C * K));
    zoo_probe_free(pr);
    free(logits);
    free(x);
    free(y);
}
END_TEST

/* Workers counting at once lose nothing: each runs its own products. */
#define WORKERS 4
#define ROUNDS 300
static void count_worker(void *ctx, int index, int n_workers) {
    (void)ctx, (void)index, (void)n_workers;
    zoo_graph *g = zoo_graph_new(0);
    zoo_tensor *a = zoo_new(g, ZOO_F32, 3, 4), *b = zoo_new(g, ZOO_F32, 4, 5);
    memset(a->data, 0, (size_t)a->numel * sizeof(float));
    memset(b->data, 0, (size_t)b->numel * sizeof(float));
    for (int r = 0; r < ROUNDS; r++) zoo_matmul(g, a, b, false, false);
    zoo_graph_free(g);
}

START_TEST(test_threads_add_up) {
    zoo_threads_set(WORKERS);
    uint64_t before = zoo_flops();
    zoo_parallel_run(WORKERS, count_worker, NULL);
    ck_assert_uint_eq(zoo_flops() - before, (uint64_t)WORKERS * ROUNDS * 2 * 3 * 4 * 5);
}
END_TEST

START_TEST(test_blas_config) {
    const char *s = zoo_blas_config();
    ck_assert_ptr_nonnull(s);
    ck_assert_msg(strstr(s, "OpenBLAS"), "zoo_blas_config: '%s'", s);
}
END_TEST

Suite *make_suite(void) {
    Suite *s = suite_create("flops");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_matmul_counts);
    tcase_add_test(tc, test_matmul_one_gradient);
    tcase_add_test(tc, test_linear_counts);
    tcase_add_test(tc, test_attention_counts);
    tcase_add_test(tc, test_attention_decode_and_partial);
    tcase_add_test(tc, test_highway_counts);
    tcase_add_test(tc, test_conv_counts);
    tcase_add_test(tc, test_lstm_counts);
    tcase_add_test(tc, test_probe_counts);
    tcase_add_test(tc, test_threads_add_up);
    tcase_add_test(tc, test_blas_config);
    suite_add_tcase(s, tc);
    return s;
}
