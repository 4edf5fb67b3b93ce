#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "check_util.h"

/* The definition, one score at a time in double, for queries that may be
 * fewer than the keys: query row i of q [B,Tq,ldq] sits at position off+i
 * and sees key j of k, v [B,Tk,ldkv] when j < L, j <= off+i (causal) and
 * mask[b,j] != 0; out[b,i,h*hs+d] = sum_j softmax_j(q_i . k_j / sqrt(hs)) v_j[d],
 * zero when no j is visible. Head h sits at columns h*hs. */
static void reference_general(float *out, const float *q, int ldq, const float *k, const float *v,
                              int ldkv, const int32_t *mask, int B, int Tq, int Tk, int L, int off,
                              int C, int NH, bool causal) {
    int hs = C / NH;
    double *w = malloc((size_t)L * sizeof *w);
    for (int b = 0; b < B; b++)
        for (int h = 0; h < NH; h++)
            for (int t = 0; t < Tq; t++) {
                const float *qt = q + ((int64_t)b * Tq + t) * ldq + h * hs;
                double maxv = -INFINITY;
                for (int j = 0; j < L; j++) {
                    bool visible = (!causal || j <= off + t) && (!mask || mask[b * Tk + j]);
                    w[j] = NAN;
                    if (!visible) continue;
                    const float *kj = k + ((int64_t)b * Tk + j) * ldkv + h * hs;
                    double s = 0;
                    for (int d = 0; d < hs; d++) s += (double)qt[d] * kj[d];
                    w[j] = s / sqrt((double)hs);
                    if (w[j] > maxv) maxv = w[j];
                }
                double sum = 0;
                for (int j = 0; j < L; j++)
                    if (!isnan(w[j])) sum += w[j] = exp(w[j] - maxv);
                float *ot = out + ((int64_t)b * Tq + t) * C + h * hs;
                for (int d = 0; d < hs; d++) {
                    double acc = 0;
                    for (int j = 0; j < L; j++)
                        if (!isnan(w[j]))
                            acc += w[j] / sum * v[((int64_t)b * Tk + j) * ldkv + h * hs + d];
                    ot[d] = (float)acc;
                }
            }
    free(w);
}

/* Self-attention: q, k, v all [B,T,ld]. */
static void reference_attention(float *out, const float *q, const float *k, const float *v, int ld,
                                const int32_t *mask, int B, int T, int C, int NH, bool causal) {
    reference_general(out, q, ld, k, v, ld, mask, B, T, T, T, 0, C, NH, causal);
}

/* q|k|v along the last axis, as GPT-2's c_attn writes them. */
static void pack_qkv(float *packed, const float *q, const float *k, const float *v, int64_t rows,
                     int C) {
    for (int64_t r = 0; r < rows; r++) {
        memcpy(packed + r * 3 * C, q + r * C, (size_t)C * sizeof(float));
        memcpy(packed + r * 3 * C + C, k + r * C, (size_t)C * sizeof(float));
        memcpy(packed + r * 3 * C + 2 * C, v + r * C, (size_t)C * sizeof(float));
    }
}

/* A padding mask with about a third of the keys hidden; with B > 1 the last
 * sequence is hidden entirely, so its rows have no visible key. */
static void random_mask(int32_t *mask, zoo_rng *rng, int B, int T) {
    for (int i = 0; i < B * T; i++) mask[i] = zoo_rng_below(rng, 3) != 0;
    if (B > 1)
        for (int t = 0; t < T; t++) mask[(B - 1) * T + t] = 0;
}

static void check_forward(zoo_rng *rng, int B, int T, int NH, int hs, bool causal, bool masked) {
    int C = NH * hs;
    int64_t n = (int64_t)B * T * C;
    zoo_graph *g = zoo_graph_new(0);
    zoo_tensor *q = zoo_new(g, ZOO_F32, B, T, C), *k = zoo_new(g, ZOO_F32, B, T, C),
               *v = zoo_new(g, ZOO_F32, B, T, C), *qkv = zoo_new(g, ZOO_F32, B, T, 3 * C);
    zoo_rng_fill_uniform(rng, zoo_f32(q), (size_t)n, -2, 2);
    zoo_rng_fill_uniform(rng, zoo_f32(k), (size_t)n, -2, 2);
    zoo_rng_fill_uniform(rng, zoo_f32(v), (size_t)n, -2, 2);
    pack_qkv(zoo_f32(qkv), zoo_f32(q), zoo_f32(k), zoo_f32(v), (int64_t)B * T, C);
    zoo_tensor *mask = NULL;
    if (masked) {
        mask = zoo_new(g, ZOO_I32, B, T);
        random_mask(zoo_i32(mask), rng, B, T);
    }
    zoo_tensor *sep = zoo_attention(g, q, k, v, NH, causal, mask);
    zoo_tensor *pk = zoo_attention(g, qkv, NULL, NULL, NH, causal, mask);
    ck_assert_msg(sep && pk, "%s", zoo_graph_error(g));
    ck_assert_int_eq(sep->ndim, 3);
    ck_assert(sep->shape[0] == B && sep->shape[1] == T && sep->shape[2] == C);
    ck_assert(zoo_tensor_same_shape(sep, pk));

    float *want = malloc((size_t)n * sizeof *want);
    reference_attention(want, zoo_f32(q), zoo_f32(k), zoo_f32(v), C, mask ? zoo_i32(mask) : NULL, B,
                        T, C, NH, causal);
    ck_assert_floats_close(zoo_f32(sep), want, n, 1e-5, 1e-5);
    reference_attention(want, zoo_f32(qkv), zoo_f32(qkv) + C, zoo_f32(qkv) + 2 * C, 3 * C,
                        mask ? zoo_i32(mask) : NULL, B, T, C, NH, causal);
    ck_assert_floats_close(zoo_f32(pk), want, n, 1e-5, 1e-5);
    ck_assert_msg(memcmp(sep->data, pk->data, (size_t)n * sizeof(float)) == 0,
                  "packed and separate differ: B=%d T=%d NH=%d hs=%d causal=%d masked=%d", B, T, NH,
                  hs, causal, masked);
    free(want);
    zoo_graph_free(g);
}

START_TEST(test_forward_matches_reference) {
    const int Bs[] = {1, 2, 3}, Ts[] = {1, 5, 7}, NHs[] = {1, 2, 3}, hss[] = {1, 2, 5, 8};
    zoo_rng rng;
    zoo_rng_seed(&rng, 7);
    for (int bi = 0; bi < 3; bi++)
        for (int ti = 0; ti < 3; ti++)
            for (int ni = 0; ni < 3; ni++)
                for (int si = 0; si < 4; si++)
                    for (int variant = 0; variant < 4; variant++)
                        check_forward(&rng, Bs[bi], Ts[ti], NHs[ni], hss[si], variant & 1,
                                      variant & 2);
}
END_TEST

/* Causal rows are processed in blocks; T = 130 crosses two block edges. */
START_TEST(test_forward_long_causal) {
    zoo_rng rng;
    zoo_rng_seed(&rng, 8);
    check_forward(&rng, 2, 130, 2, 3, true, false);
    check_forward(&rng, 1, 130, 1, 4, true, true);
    check_forward(&rng, 1, 65, 3, 2, false, true);
}
END_TEST

/* Output of a fresh separate (packed = false) or packed attention over copies of q, k, v. */
static float *run_attention(const float *q, const float *k, const float *v, const int32_t *mask,
                            int B, int T, int NH, int hs, bool causal, bool packed) {
    int C = NH * hs;
    int64_t n = (int64_t)B * T * C;
    zoo_graph *g = zoo_graph_new(0);
    zoo_tensor *m = mask ? zoo_tensor_wrap(g, ZOO_I32, 2, ZOO_SHAPE(B, T), (void *)mask) : NULL;
    zoo_tensor *out;
    if (packed) {
        zoo_tensor *qkv = zoo_new(g, ZOO_F32, B, T, 3 * C);
        pack_qkv(zoo_f32(qkv), q, k, v, (int64_t)B * T, C);
        out = zoo_attention(g, qkv, NULL, NULL, NH, causal, m);
    } else {
        zoo_tensor *tq = zoo_new(g, ZOO_F32, B, T, C), *tk = zoo_new(g, ZOO_F32, B, T, C),
                   *tv = zoo_new(g, ZOO_F32, B, T, C);
        memcpy(tq->data, q, (size_t)n * sizeof(float));
        memcpy(tk->data, k, (size_t)n * sizeof(float));
        memcpy(tv->data, v, (size_t)n * sizeof(float));
        out = zoo_attention(g, tq, tk, tv, NH, causal, m);
    }
    ck_assert_msg(out != NULL, "%s", zoo_graph_error(g));
    float *copy = malloc((size_t)n * sizeof *copy);
    memcpy(copy, out->data, (size_t)n * sizeof *copy);
    zoo_graph_free(g);
    return copy;
}

/* Masked keys get exactly zero weight: rewriting their k and v changes no output bit. */
START_TEST(test_masked_keys_have_no_effect) {
    enum { B = 2, T = 7, NH = 2, HS = 3, C = NH * HS, N = B * T * C };
    const int32_t mask[B * T] = {1, 1, 0, 1, 1, 0, 1, /**/ 0, 1, 1, 1, 1, 1, 1};
    zoo_rng rng;
    zoo_rng_seed(&rng, 9);
    float q[N], k[N], v[N], k2[N], v2[N];
    zoo_rng_fill_uniform(&rng, q, N, -2, 2);
    zoo_rng_fill_uniform(&rng, k, N, -2, 2);
    zoo_rng_fill_uniform(&rng, v, N, -2, 2);
    for (int packed = 0; packed < 2; packed++) {
        /* padding: every masked key of every sequence rewritten with large values */
        memcpy(k2, k, sizeof k), memcpy(v2, v, sizeof v);
        for (int i = 0; i < B * T; i++)
            if (!mask[i])
                for (int c = 0; c < C; c++)
                    k2[i * C + c] = 50.0f + (float)c, v2[i * C + c] = -30.0f * (float)(c + 1);
        for (int causal = 0; causal < 2; causal++) {
            float *a = run_attention(q, k, v, mask, B, T, NH, HS, causal, packed);
            float *b = run_attention(q, k2, v2, mask, B, T, NH, HS, causal, packed);
            ck_assert_msg(memcmp(a, b, sizeof q) == 0, "masked keys changed the output (packed %d)",
                          packed);
            free(a), free(b);
        }
        /* the same change without the mask must show: the check above can fail */
        float *a = run_attention(q, k, v, NULL, B, T, NH, HS, false, packed);
        float *b = run_attention(q, k2, v2, NULL, B, T, NH, HS, false, packed);
        ck_assert(memcmp(a, b, sizeof q) != 0);
        free(a), free(b);

        /* causality: the last position's key is invisible to every earlier row */
        memcpy(k2, k, sizeof k), memcpy(v2, v, sizeof v);
        for (int b2 = 0; b2 < B; b2++)
            for (int c = 0; c < C; c++) {
                int64_t i = ((int64_t)b2 * T + T - 1) * C + c;
                k2[i] = 40.0f, v2[i] = 25.0f - (float)c;
            }
        a = run_attention(q, k, v, NULL, B, T, NH, HS, true, packed);
        b = run_attention(q, k2, v2, NULL, B, T, NH, HS, true, packed);
        for (int b2 = 0; b2 < B; b2++) {
            int64_t row0 = (int64_t)b2 * T * C;
            ck_assert_msg(memcmp(a + row0, b + row0, (size_t)(T - 1) * C * sizeof(float)) == 0,
                          "a future key changed an earlier row (packed %d)", packed);
            ck_assert(memcmp(a + row0 + (T - 1) * C, b + row0 + (T - 1) * C, C * sizeof(float)));
        }
        free(a), free(b);
    }
}
END_TEST

/* A row with no visible key outputs exact zeros and passes back exact zeros. */
START_TEST(test_fully_masked_rows_are_zero) {
    enum { B = 2, T = 5, NH = 2, HS = 2, C = NH * HS };
    /* sequence 1 hidden entirely; in sequence 0 key 0 is hidden, so causal row 0 sees nothing */
    int32_t mask[B * T] = {0, 1, 1, 0, 1, /**/ 0, 0, 0, 0, 0};
    for (int packed = 0; packed < 2; packed++)
        for (int causal = 0; causal < 2; causal++) {
            zoo_rng rng;
            zoo_rng_seed(&rng, 10);
            zoo_params *p = zoo_params_new();
            zoo_tensor *q, *k = NULL, *v = NULL;
            if (packed) {
                q = RAND_PARAM(p, &rng, "qkv", -2, 2, B, T, 3 * C);
            } else {
                q = RAND_PARAM(p, &rng, "q", -2, 2, B, T, C);
                k = RAND_PARAM(p, &rng, "k", -2, 2, B, T, C);
                v = RAND_PARAM(p, &rng, "v", -2, 2, B, T, C);
            }
            zoo_graph *g = zoo_graph_new(0);
            zoo_tensor *m = zoo_tensor_wrap(g, ZOO_I32, 2, ZOO_SHAPE(B, T), mask);
            zoo_tensor *out = zoo_attention(g, q, k, v, NH, causal, m);
            ck_assert_msg(out != NULL, "%s", zoo_graph_error(g));
            const float *y = out->data;
            for (int i = T * C; i < B * T * C; i++)
                ck_assert_msg(y[i] == 0.0f, "out[%d] = %g", i, y[i]);
            if (causal)
                for (int c = 0; c < C; c++) ck_assert(y[c] == 0.0f);
            int nonzero = 0;
            for (int i = 0; i < T * C; i++) nonzero += y[i] != 0.0f;
            ck_assert_int_gt(nonzero, 0);

            float seed[B * T * C];
            for (int i = 0; i < B * T * C; i++) seed[i] = 1.0f + 0.1f * (float)i;
            ck_assert_int_eq(zoo_backward_from(g, out, seed), ZOO_OK);
            /* sequence 1: nothing attends and nothing is attended, so no gradient at all */
            int64_t w = packed ? 3 * C : C;
            for (int pi = 0; pi < zoo_params_count(p); pi++) {
                zoo_tensor *x = zoo_params_at(p, pi)->value;
                for (int64_t i = T * w; i < 2 * T * w; i++) ck_assert(x->grad[i] == 0.0f);
                if (causal && x == q) /* row 0's query of sequence 0 */
                    for (int c = 0; c < C; c++) ck_assert(x->grad[c] == 0.0f);
            }
            zoo_graph_free(g);
            zoo_params_free(p);
        }
}
END_TEST

/* With recording off nothing is kept for backward: same output, no [B,NH,T,T] weights. */
START_TEST(test_inference_keeps_no_weights) {
    enum { B = 3, T = 16, NH = 4, HS = 2, C = NH * HS };
    zoo_rng rng;
    zoo_rng_seed(&rng, 11);
    zoo_params *p = zoo_params_new();
    zoo_tensor *qkv = RAND_PARAM(p, &rng, "qkv", -1, 1, B, T, 3 * C);
    zoo_graph *train = zoo_graph_new(0), *infer = zoo_graph_new(0);
    zoo_graph_set_recording(infer, false);
    zoo_tensor *a = zoo_attention(train, qkv, NULL, NULL, NH, true, NULL);
    zoo_tensor *b = zoo_attention(infer, qkv, NULL, NULL, NH, true, NULL);
    ck_assert(a && b);
    ck_assert(a->requires_grad && !b->requires_grad && b->node == NULL);
    ck_assert(memcmp(a->data, b->data, sizeof(float) * B * T * C) == 0);
    size_t weights = sizeof(float) * B * NH * T * T;
    ck_assert_uint_ge(zoo_graph_used(train), weights);
    ck_assert_uint_lt(zoo_graph_used(infer), weights);
    zoo_graph_free(train), zoo_graph_free(infer);
    zoo_params_free(p);
}
END_TEST

/* Heads are shared out over the pool's threads: 1 and 3 threads give the
 * same output and gradients to the bit, with and without kept weights. */
START_TEST(test_threads_give_identical_results) {
    enum { B = 3, T = 70, NH = 5, HS = 4, C = NH * HS };
    zoo_rng rng;
    zoo_rng_seed(&rng, 12);
    zoo_params *p = zoo_params_new();
    zoo_tensor *qkv = RAND_PARAM(p, &rng, "qkv", -1, 1, B, T, 3 * C);
    int32_t mask[B * T];
    random_mask(mask, &rng, B, T);
    float *seed = malloc(sizeof(float) * B * T * C), *out[2][2], *grad[2];
    zoo_rng_fill_uniform(&rng, seed, B * T * C, -1, 1);
    for (int run = 0; run < 2; run++) {
        zoo_threads_set(run ? 3 : 1);
        for (int recording = 0; recording < 2; recording++) {
            zoo_graph *g = zoo_graph_new(0);
            zoo_graph_set_recording(g, recording);
            zoo_graph *holder = zoo_graph_new(0);
            zoo_tensor *m = zoo_tensor_wrap(holder, ZOO_I32, 2, ZOO_SHAPE(B, T), mask);
            zoo_params_zero_grad(p);
            zoo_tensor *y = zoo_attention(g, qkv, NULL, NULL, NH, true, m);
            ck_assert_msg(y, "%s", zoo_graph_error(g));
            out[run][recording] = malloc(sizeof(float) * B * T * C);
            memcpy(out[run][recording], y->data, sizeof(float) * B * T * C);
            if (recording) {
                ck_assert_int_eq(zoo_backward_from(g, y, seed), ZOO_OK);
                grad[run] = malloc(sizeof(float) * qkv->numel);
                memcpy(grad[run], qkv->grad, sizeof(float) * qkv->numel);
            }
            zoo_graph_free(holder);
            zoo_graph_free(g);
        }
    }
    for (int recording = 0; recording < 2; recording++)
        ck_assert(memcmp(out[0][recording], out[1][recording], sizeof(float) * B * T * C) == 0);
    ck_assert(memcmp(out[0][0], out[0][1], sizeof(float) * B * T * C) == 0);
    ck_assert(memcmp(grad[0], grad[1], sizeof(float) * qkv->numel) == 0);
    for (int run = 0; run < 2; run++) free(out[run][0]), free(out[run][1]), free(grad[run]);
    free(seed);
    zoo_params_free(p);
    zoo_threads_set(1);
}
END_TEST

typedef struct {
    zoo_tensor *q, *k, *v;
    int n_head;
    bool causal;
    const int32_t *mask;
} attn_ctx;

static zoo_tensor *build_attention(zoo_graph *g, void *arg) {
    attn_ctx *c = arg;
    zoo_tensor *m = NULL;
    if (c->mask)
        m = zoo_tensor_wrap(g, ZOO_I32, 2, ZOO_SHAPE(c->q->shape[0], c->q->shape[1]),
                            (void *)c->mask);
    return zoo_attention(g, c->q, c->k, c->v, c->n_head, c->causal, m);
}

typedef struct {
    int B, T, NH, hs;
    bool packed, causal, masked;
} grad_case;

START_TEST(test_backward) {
    const grad_case cases[] = {
        {1, 1, 1, 1, false, false, false}, {2, 5, 2, 3, false, false, false},
        {2, 5, 2, 3, false, true, false},  {3, 7, 3, 2, false, false, true},
        {2, 7, 1, 8, false, true, true},   {1, 1, 1, 1, true, false, false},
        {2, 5, 2, 3, true, false, false},  {2, 7, 3, 2, true, true, false},
        {3, 5, 2, 4, true, false, true},   {2, 7, 2, 3, true, true, true},
        {1, 70, 2, 2, false, true, false}, {1, 70, 1, 3, true, true, true},
    };
    for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
        const grad_case *gc = &cases[ci];
        int C = gc->NH * gc->hs;
        zoo_rng rng;
        zoo_rng_seed(&rng, 100 + ci);
        zoo_params *p = zoo_params_new();
        attn_ctx c = {.n_head = gc->NH, .causal = gc->causal};
        if (gc->packed) {
            c.q = RAND_PARAM(p, &rng, "qkv", -1, 1, gc->B, gc->T, 3 * C);
        } else {
            c.q = RAND_PARAM(p, &rng, "q", -1, 1, gc->B, gc->T, C);
            c.k = RAND_PARAM(p, &rng, "k", -1, 1, gc->B, gc->T, C);
            c.v = RAND_PARAM(p, &rng, "v", -1, 1, gc->B, gc->T, C);
        }
        int32_t *mask = NULL;
        if (gc->masked) {
            mask = malloc((size_t)gc->B * gc->T * sizeof *mask);
            random_mask(mask, &rng, gc->B, gc->T);
            mask[0] = 0; /* with causality, row 0 then sees no key */
            c.mask = mask;
        }
        gradcheck(p, build_attention, &c, &(gradcheck_opts){.max_checks = 128});
        free(mask);
        zoo_params_free(p);
    }
}
END_TEST

/* q = k = v one tensor (self-attention without projections): the three
 * gradients add into one buffer. Also a frozen k takes no gradient. */
START_TEST(test_backward_shared_and_frozen) {
    zoo_rng rng;
    zoo_rng_seed(&rng, 12);
    zoo_params *p = zoo_params_new();
    zoo_tensor *x = RAND_PARAM(p, &rng, "x", -1, 1, 2, 6, 4);
    attn_ctx c = {.q = x, .k = x, .v = x, .n_head = 2, .causal = true};
    gradcheck(p, build_attention, &c, NULL);
    zoo_params_free(p);

    p = zoo_params_new();
    c.q = RAND_PARAM(p, &rng, "q", -1, 1, 2, 6, 4);
    c.k = RAND_PARAM(p, &rng, "k", -1, 1, 2, 6, 4);
    c.v = RAND_PARAM(p, &rng, "v", -1, 1, 2, 6, 4);
    c.causal = false;
    zoo_params_set_frozen(zoo_params_find(p, "k"), true);
    gradcheck(p, build_attention, &c, NULL);
    ck_assert_ptr_null(c.k->grad);
    zoo_params_free(p);
}
END_TEST

static void expect_error(zoo_tensor *q, zoo_tensor *k, zoo_tensor *v, int n_head, zoo_tensor *mask,
                         zoo_graph *g, int status, const char *message) {
    ck_assert_ptr_null(zoo_attention(g, q, k, v, n_head, false, mask));
    ck_assert_int_eq(zoo_graph_status(g), status);
    ck_assert_str_eq(zoo_graph_error(g), message);
    zoo_graph_reset(g);
}

START_TEST(test_errors) {
    zoo_graph *g = zoo_graph_new(0);
    /* tensors are wrapped over one static buffer so that resets keep them valid */
    static float data[2 * 5 * 12];
    static int32_t ids[2 * 5 * 12];
#define F(...) zoo_tensor_wrap(g, ZOO_F32, ZOO_NDIM(__VA_ARGS__), ZOO_SHAPE(__VA_ARGS__), data)
#define I(...) zoo_tensor_wrap(g, ZOO_I32, ZOO_NDIM(__VA_ARGS__), ZOO_SHAPE(__VA_ARGS__), ids)
    expect_error(F(10, 6), NULL, NULL, 1, NULL, g, ZOO_ERR_SHAPE,
                 "zoo_attention: q must have 3 dimensions [B,T,C], not [10,6]");
    expect_error(F(2, 5, 6), F(2, 5, 6), F(2, 5, 6), 0, NULL, g, ZOO_ERR_ARG,
                 "zoo_attention: n_head must be at least 1, not 0 (q [2,5,6])");
    expect_error(F(2, 5, 6), F(2, 5, 6), F(2, 5, 6), 4, NULL, g, ZOO_ERR_SHAPE,
                 "zoo_attention: C = 6 (q [2,5,6]) is not divisible by n_head = 4");
    expect_error(F(2, 5, 12), NULL, NULL, 3, NULL, g, ZOO_ERR_SHAPE,
                 "zoo_attention: C = 4 (q [2,5,12]) is not divisible by n_head = 3");
    expect_error(F(2, 5, 10), NULL, NULL, 1, NULL, g, ZOO_ERR_SHAPE,
                 "zoo_attention: packed q|k|v [2,5,10]: last axis 10 is not divisible by 3");
    expect_error(F(2, 5, 6), F(2, 5, 6), F(2, 4, 6), 2, NULL, g, ZOO_ERR_SHAPE,
                 "zoo_attention: k [2,5,6] and v [2,4,6] must have the same shape [B,Tk,C]");
    expect_error(F(2, 5, 6), F(2, 5, 3), F(2, 5, 6), 1, NULL, g, ZOO_ERR_SHAPE,
                 "zoo_attention: k [2,5,3] and v [2,5,6] must have the same shape [B,Tk,C]");
    expect_error(F(2, 5, 6), F(10, 6), F(10, 6), 1, NULL, g, ZOO_ERR_SHAPE,
                 "zoo_attention: k [10,6] and v [10,6] must have the same shape [B,Tk,C]");
    expect_error(F(2, 5, 6), F(2, 7, 4), F(2, 7, 4), 1, NULL, g, ZOO_ERR_SHAPE,
                 "zoo_attention: q [2,5,6] does not fit k [2,7,4]: expected [2,Tq,4] (or a "
                 "packed [2,Tq,12])");
    expect_error(F(3, 5, 6), F(2, 5, 6), F(2, 5, 6), 1, NULL, g, ZOO_ERR_SHAPE,
                 "zoo_attention: q [3,5,6] does not fit k [2,5,6]: expected [2,Tq,6] (or a "
                 "packed [2,Tq,18])");
    expect_error(F(2, 5, 6), F(2, 7, 6), F(2, 7, 6), 2, I(2, 5), g, ZOO_ERR_SHAPE,
                 "zoo_attention: key_mask must be [B,T] = [2,7], not [2,5]");
    expect_error(F(2, 5, 6), F(2, 5, 6), NULL, 2, NULL, g, ZOO_ERR_ARG,
                 "zoo_attention: k and v must both be given, or both NULL with packed q|k|v "
                 "(q [2,5,6])");
    expect_error(F(2, 5, 6), NULL, F(2, 5, 6), 2, NULL, g, ZOO_ERR_ARG,
                 "zoo_attention: k and v must both be given, or both NULL with packed q|k|v "
                 "(q [2,5,6])");
    expect_error(F(2, 5, 6), F(2, 5, 6), F(2, 5, 6), 2, I(5, 2), g, ZOO_ERR_SHAPE,
                 "zoo_attention: key_mask must be [B,T] = [2,5], not [5,2]");
    expect_error(F(2, 5, 6), F(2, 5, 6), F(2, 5, 6), 2, I(2, 5, 1), g, ZOO_ERR_SHAPE,
                 "zoo_attention: key_mask must be [B,T] = [2,5], not [2,5,1]");
    expect_error(F(2, 5, 6), F(2, 5, 6), F(2, 5, 6), 2, F(2, 5), g, ZOO_ERR_SHAPE,
                 "zoo_attention: key_mask must be int32");
    expect_error(I(2, 5, 6), NULL, NULL, 2, NULL, g, ZOO_ERR_SHAPE,
                 "zoo_attention: q must be float32");
#undef F
#undef I
    /* a NULL input (an earlier failure) gives NULL and records nothing new */
    ck_assert_ptr_null(zoo_attention(g, NULL, NULL, NULL, 1, false, NULL));
    ck_assert_int_eq(zoo_graph_status(g), ZOO_OK);
    zoo_graph_free(g);
}
END_TEST

/* --- queries fewer than keys (zoo_attention_ex) ------------------------- */

/* How q, k and v are laid out for zoo_attention_ex. */
enum q_layout {
    Q_SEPARATE, /* q [B,Tq,C], k and v [B,Tk,C] */
    Q_PACKED,   /* q a packed [B,Tq,3C] whose k|v columns are not read, k and v [B,Tk,C] */
    QKV_PACKED, /* one packed q|k|v [B,T,3C], k = v = NULL (Tq = Tk) */
};

typedef struct ex_case {
    int B, Tq, Tk, kv_len, off, NH, hs;
    bool causal, masked;
    enum q_layout layout;
} ex_case;

/* zoo_attention_ex on random data against reference_general. Everything the
 * call must not read (k and v rows past kv_len, the k|v columns of a packed
 * q used with separate k and v) is NaN, which would reach the output if read. */
static void check_forward_ex(zoo_rng *rng, const ex_case *c) {
    int B = c->B, Tq = c->Tq, Tk = c->Tk, C = c->NH * c->hs;
    int L = c->kv_len ? c->kv_len : Tk;
    bool packed_q = c->layout != Q_SEPARATE, all = c->layout == QKV_PACKED;
    int ldq = packed_q ? 3 * C : C, ldkv = all ? 3 * C : C;
    zoo_graph *g = zoo_graph_new(0);
    zoo_tensor *q = zoo_new(g, ZOO_F32, B, Tq, ldq), *k = NULL, *v = NULL;
    zoo_rng_fill_uniform(rng, zoo_f32(q), (size_t)q->numel, -2, 2);
    const float *kd = zoo_f32(q) + C, *vd = zoo_f32(q) + 2 * C;
    if (!all) {
        k = zoo_new(g, ZOO_F32, B, Tk, C), v = zoo_new(g, ZOO_F32, B, Tk, C);
        zoo_rng_fill_uniform(rng, zoo_f32(k), (size_t)k->numel, -2, 2);
        zoo_rng_fill_uniform(rng, zoo_f32(v), (size_t)v->numel, -2, 2);
        kd = zoo_f32(k), vd = zoo_f32(v);
        if (packed_q)
            for (int64_t r = 0; r < (int64_t)B * Tq; r++)
                for (int i = C; i < 3 * C; i++) zoo_f32(q)[r * 3 * C + i] = NAN;
    }
    for (int b = 0; b < B; b++) /* the rows past kv_len */
        for (int t = L; t < Tk; t++)
            for (int i = 0; i < C; i++) {
                ((float *)kd)[((int64_t)b * Tk + t) * ldkv + i] = NAN;
                ((float *)vd)[((int64_t)b * Tk + t) * ldkv + i] = NAN;
            }
    zoo_tensor *mask = NULL;
    if (c->masked) {
        mask = zoo_new(g, ZOO_I32, B, Tk);
        random_mask(zoo_i32(mask), rng, B, Tk);
    }
    zoo_attention_args a = {.size = sizeof a,
                            .q = q,
                            .k = k,
                            .v = v,
                            .n_head = c->NH,
                            .causal = c->causal,
                            .key_mask = mask,
                            .q_offset = c->off,
                            .kv_len = c->kv_len};
    zoo_tensor *out = zoo_attention_ex(g, &a);
    ck_assert_msg(out, "%s", zoo_graph_error(g));
    ck_assert(out->ndim == 3 && out->shape[0] == B && out->shape[1] == Tq && out->shape[2] == C);
    float *want = malloc((size_t)out->numel * sizeof *want);
    reference_general(want, zoo_f32(q), ldq, kd, vd, ldkv, mask ? zoo_i32(mask) : NULL, B, Tq, Tk,
                      L, c->off, C, c->NH, c->causal);
    ck_assert_floats_close(zoo_f32(out), want, out->numel, 1e-5, 1e-5);
    free(want);
    zoo_graph_free(g);
}

START_TEST(test_ex_matches_reference) {
    /* Tq, Tk, kv_len, off: a decoding step, a prefill after a prefix, kv_len < Tk,
     * an offset past the keys (causal then sees them all), no offset */
    const int shapes[][4] = {{1, 1, 0, 0}, {1, 7, 0, 6}, {1, 9, 5, 4}, {3, 7, 0, 4}, {3, 9, 6, 3},
                             {2, 6, 4, 0}, {3, 5, 0, 7}, {5, 5, 0, 0}, {5, 5, 3, 2}, {4, 4, 4, 1}};
    const int heads[][2] = {{1, 1}, {1, 8}, {3, 2}, {2, 5}};
    zoo_rng rng;
    zoo_rng_seed(&rng, 21);
    for (int B = 1; B <= 2; B++)
        for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++)
            for (int hi = 0; hi < 4; hi++)
                for (int variant = 0; variant < 4; variant++)
                    for (int layout = Q_SEPARATE; layout <= QKV_PACKED; layout++) {
                        const int *sh = shapes[si];
                        if (layout == QKV_PACKED && sh[0] != sh[1]) continue;
                        ex_case c = {B,
                                     sh[0],
                                     sh[1],
                                     sh[2],
                                     sh[3],
                                     heads[hi][0],
                                     heads[hi][1],
                                     variant & 1,
                                     variant & 2,
                                     (enum q_layout)layout};
                        check_forward_ex(&rng, &c);
                    }
    /* long enough for causal blocks: rows 0..129 at positions 60..189 over 190 of 200 keys */
    ex_case longer[] = {{1, 130, 200, 190, 60, 2, 4, true, false, Q_SEPARATE},
                        {2, 70, 100, 0, 30, 1, 3, true, true, Q_PACKED},
                        {1, 130, 130, 100, 0, 2, 2, true, true, QKV_PACKED}};
    for (size_t i = 0; i < sizeof longer / sizeof longer[0]; i++)
        check_forward_ex(&rng, &longer[i]);
}
END_TEST

/* A cached decoding step is a slice of full attention: the last Tq rows of
 * attention over T positions equal attention of those Tq queries at
 * q_offset = T-Tq over all T keys. */
START_TEST(test_ex_last_rows_equal_full_attention) {
    const int Ts[] = {9, 150}, Tqs[] = {1, 4, 70};
    zoo_rng rng;
    zoo_rng_seed(&rng, 22);
    for (int ti = 0; ti < 2; ti++)
        for (int qi = 0; qi < 3; qi++)
            for (int variant = 0; variant < 4; variant++) {
                enum { B = 2, NH = 2, HS = 4, C = NH * HS };
                int T = Ts[ti], Tq = Tqs[qi];
                if (Tq > T) continue;
                bool causal = variant & 1, masked = variant & 2;
                zoo_graph *g = zoo_graph_new(0);
                zoo_tensor *q = zoo_new(g, ZOO_F32, B, T, C), *k = zoo_new(g, ZOO_F32, B, T, C),
                           *v = zoo_new(g, ZOO_F32, B, T, C), *mask = NULL;
                zoo_rng_fill_uniform(&rng, zoo_f32(q), (size_t)q->numel, -2, 2);
                zoo_rng_fill_uniform(&rng, zoo_f32(k), (size_t)k->numel, -2, 2);
                zoo_rng_fill_uniform(&rng, zoo_f32(v), (size_t)v->numel, -2, 2);
                if (masked) {
                    mask = zoo_new(g, ZOO_I32, B, T);
                    random_mask(zoo_i32(mask), &rng, B, T);
                }
                zoo_tensor *full = zoo_attention(g, q, k, v, NH, causal, mask);
                zoo_tensor *last = zoo_new(g, ZOO_F32, B, Tq, C);
                for (int b = 0; b < B; b++)
                    memcpy(zoo_f32(last) + (int64_t)b * Tq * C,
                           zoo_f32(q) + ((int64_t)b * T + T - Tq) * C,
                           (size_t)Tq * C * sizeof(float));
                zoo_attention_args a = {.size = sizeof a,
                                        .q = last,
                                        .k = k,
                                        .v = v,
                                        .n_head = NH,
                                        .causal = causal,
                                        .key_mask = mask,
                                        .q_offset = T - Tq};
                zoo_tensor *part = zoo_attention_ex(g, &a);
                ck_assert_msg(full && part, "%s", zoo_graph_error(g));
                for (int b = 0; b < B; b++)
                    ck_assert_floats_close(zoo_f32(part) + (int64_t)b * Tq * C,
                                           zoo_f32(full) + ((int64_t)b * T + T - Tq) * C,
                                           (int64_t)Tq * C, 1e-6, 1e-6);
                zoo_graph_free(g);
            }
}
END_TEST

typedef struct {
    zoo_attention_args a;
    const int32_t *mask; /* [B,Tk] or NULL */
} ex_ctx;

static zoo_tensor *build_attention_ex(zoo_graph *g, void *arg) {
    ex_ctx *c = arg;
    zoo_attention_args a = c->a;
    const zoo_tensor *kt = a.k ? a.k : a.q;
    if (c->mask)
        a.key_mask =
            zoo_tensor_wrap(g, ZOO_I32, 2, ZOO_SHAPE(kt->shape[0], kt->shape[1]), (void *)c->mask);
    return zoo_attention_ex(g, &a);
}

/* Gradients of the general case by finite differences; then the rows past
 * kv_len and the unread columns of a packed q take exactly zero. */
START_TEST(test_ex_backward) {
    const ex_case cases[] = {
        {2, 3, 7, 0, 4, 2, 3, true, false, Q_SEPARATE},
        {2, 3, 7, 5, 2, 2, 3, true, true, Q_SEPARATE},
        {1, 2, 6, 4, 3, 1, 4, false, true, Q_SEPARATE},
        {2, 1, 6, 5, 4, 2, 2, true, false, Q_SEPARATE},
        {2, 2, 8, 6, 4, 2, 2, true, false, Q_PACKED},
        {1, 3, 5, 4, 1, 1, 3, false, false, Q_PACKED},
        {2, 5, 5, 3, 1, 2, 2, true, true, QKV_PACKED},
        {1, 70, 80, 75, 5, 1, 2, true, false, Q_SEPARATE},
    };
    for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
        const ex_case *ec = &cases[ci];
        int C = ec->NH * ec->hs, L = ec->kv_len ? ec->kv_len : ec->Tk;
        zoo_rng rng;
        zoo_rng_seed(&rng, 200 + ci);
        zoo_params *p = zoo_params_new();
        ex_ctx c = {.a = {.size = sizeof c.a,
                          .n_head = ec->NH,
                          .causal = ec->causal,
                          .q_offset = ec->off,
                          .kv_len = ec->kv_len}};
        if (ec->layout == QKV_PACKED) {
            c.a.q = RAND_PARAM(p, &rng, "qkv", -1, 1, ec->B, ec->Tq, 3 * C);
        } else {
            c.a.q =
                RAND_PARAM(p, &rng, "q", -1, 1, ec->B, ec->Tq, ec->layout == Q_PACKED ? 3 * C : C);
            c.a.k = RAND_PARAM(p, &rng, "k", -1, 1, ec->B, ec->Tk, C);
            c.a.v = RAND_PARAM(p, &rng, "v", -1, 1, ec->B, ec->Tk, C);
        }
        int32_t *mask = NULL;
        if (ec->masked) {
            mask = malloc((size_t)ec->B * ec->Tk * sizeof *mask);
            random_mask(mask, &rng, ec->B, ec->Tk);
            mask[0] = 0;
            c.mask = mask;
        }
        gradcheck(p, build_attention_ex, &c, &(gradcheck_opts){.max_checks = 128});
        /* gradcheck leaves the analytic gradients in place */
        int ldkv = ec->layout == QKV_PACKED ? 3 * C : C;
        const float *dk = ec->layout == QKV_PACKED ? c.a.q->grad + C : c.a.k->grad;
        const float *dv = ec->layout == QKV_PACKED ? c.a.q->grad + 2 * C : c.a.v->grad;
        int nonzero = 0;
        for (int b = 0; b < ec->B; b++)
            for (int t = 0; t < ec->Tk; t++)
                for (int i = 0; i < C; i++) {
                    int64_t at = ((int64_t)b * ec->Tk + t) * ldkv + i;
                    if (t >= L)
                        ck_assert_msg(dk[at] == 0.0f && dv[at] == 0.0f,
                                      "case %zu: a key past kv_len took a gradient", ci);
                    else
                        nonzero += dv[at] != 0.0f;
                }
        ck_assert_msg(nonzero > 0, "case %zu: no value took a gradient", ci);
        if (ec->layout == Q_PACKED)
            for (int64_t r = 0; r < (int64_t)ec->B * ec->Tq; r++)
                for (int i = C; i < 3 * C; i++) ck_assert(c.a.q->grad[r * 3 * C + i] == 0.0f);
        free(mask);
        zoo_params_free(p);
    }
}
END_TEST

static void expect_ex_error(zoo_graph *g, const zoo_attention_args *a, int status,
                            const char *message) {
    ck_assert_ptr_null(zoo_attention_ex(g, a));
    ck_assert_int_eq(zoo_graph_status(g), status);
    ck_assert_str_eq(zoo_graph_error(g), message);
    zoo_graph_reset(g);
}

START_TEST(test_ex_errors) {
    zoo_graph *g = zoo_graph_new(0);
    static float data[2 * 5 * 6];
    zoo_tensor *x = zoo_tensor_wrap(g, ZOO_F32, 3, ZOO_SHAPE(2, 5, 6), data);
    zoo_attention_args a = {.size = sizeof a, .q = x, .k = x, .v = x, .n_head = 2};
    expect_ex_error(g, NULL, ZOO_ERR_ARG, "zoo_attention_ex: args is NULL");
    a.size = 8;
    char want[160];
    snprintf(want, sizeof want,
             "zoo_attention_ex: args->size is 8, at least %zu expected (set it to "
             "sizeof(zoo_attention_args))",
             sizeof(zoo_attention_args));
    expect_ex_error(g, &a, ZOO_ERR_ARG, want);
    a.size = sizeof a;
    a.kv_len = 6;
    expect_ex_error(g, &a, ZOO_ERR_ARG, "zoo_attention: kv_len 6 is outside [0, 5] (the keys' T)");
    a.kv_len = -1;
    expect_ex_error(g, &a, ZOO_ERR_ARG, "zoo_attention: kv_len -1 is outside [0, 5] (the keys' T)");
    a.kv_len = 5, a.q_offset = -2;
    expect_ex_error(g, &a, ZOO_ERR_ARG,
                    "zoo_attention: q_offset -2 is negative or too large (q [2,5,6])");
    /* the same arguments, corrected, work */
    a.q_offset = 3;
    ck_assert_ptr_nonnull(zoo_attention_ex(g, &a));
    zoo_graph_free(g);
}
END_TEST

Suite *make_suite(void) {
    Suite *s = suite_create("attention");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_forward_matches_reference);
    tcase_add_test(tc, test_forward_long_causal);
    tcase_add_test(tc, test_masked_keys_have_no_effect);
    tcase_add_test(tc, test_fully_masked_rows_are_zero);
    tcase_add_test(tc, test_inference_keeps_no_weights);
    tcase_add_test(tc, test_threads_give_identical_results);
    tcase_add_test(tc, test_backward);
    tcase_add_test(tc, test_backward_shared_and_frozen);
    tcase_add_test(tc, test_errors);
    tcase_add_test(tc, test_ex_matches_reference);
    tcase_add_test(tc, test_ex_last_rows_equal_full_attention);
    tcase_add_test(tc, test_ex_backward);
    tcase_add_test(tc, test_ex_errors);
    suite_add_tcase(s, tc);
    return s;
}
