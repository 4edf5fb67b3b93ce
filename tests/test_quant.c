/* int8 weights (zoo/quant.h): quantization per channel, the int8 linear
 * against a reference in double from the same int8 weights and quantized
 * activations, both kernels (bit for bit), lookups in an int8 table, which
 * parameters a forward allows to quantize, and the refusals. */
#include <math.h>
#include <stdio.h>

#include "check_util.h"
#include "zoo/quant.h"
#include "zoo/rng.h"

static zoo_param *random_param(zoo_params *p, const char *name, int64_t rows, int64_t cols,
                               zoo_rng *rng) {
    zoo_params_add_normal(p, name, 2, ZOO_SHAPE(rows, cols), 0, rng, 1.0f);
    return zoo_params_find(p, name);
}

START_TEST(test_quantize_per_channel) {
    zoo_rng rng;
    zoo_rng_seed(&rng, 1);
    for (int axis = 0; axis < 2; axis++) {
        zoo_params *p = zoo_params_new();
        zoo_param *w = random_param(p, "w", 6, 9, &rng);
        float *v = zoo_f32(w->value);
        for (int64_t c = 0; c < 9; c++) v[2 * 9 + c] = 0; /* a zero row */
        for (int64_t r = 0; r < 6; r++) v[r * 9 + 4] = 0; /* and a zero column */
        v[1 * 9 + 3] = 50.0f;                             /* one large value */
        float copy[54];
        memcpy(copy, v, sizeof copy);
        uint64_t before = zoo_params_bytes(p);
        ck_assert_int_eq(zoo_params_quantize(p, w, axis), ZOO_OK);
        ck_assert_int_eq(w->value->dtype, ZOO_I8);
        ck_assert(!w->value->requires_grad && (w->flags & ZOO_PARAM_FROZEN));
        ck_assert_int_eq(zoo_params_bytes(p), before - 54 * 4 + 54 + (axis ? 9 : 6) * 4);
        int got_axis = -1;
        const float *s = zoo_q8_scales(w->value, &got_axis);
        ck_assert_int_eq(got_axis, axis);
        const int8_t *q = zoo_i8(w->value);
        int64_t channels = axis ? 9 : 6;
        for (int64_t ch = 0; ch < channels; ch++) {
            double max = 0;
            int qmax = 0;
            for (int64_t i = 0; i < (axis ? 6 : 9); i++) {
                int64_t e = axis ? i * 9 + ch : ch * 9 + i;
                max = fmax(max, fabs(copy[e]));
                qmax = abs(q[e]) > qmax ? abs(q[e]) : qmax;
                ck_assert(fabs(q[e] * (double)s[ch] - copy[e]) <= s[ch] / 2 * (1 + 1e-6));
            }
            ck_assert(fabs(s[ch] - max / 127) <= 1e-7 * max);
            ck_assert_int_eq(qmax, max > 0 ? 127 : 0);
        }
        if (axis == 0) ck_assert(s[2] == 0.0f);
        if (axis == 1) ck_assert(s[4] == 0.0f);
        zoo_params_free(p);
    }
}
END_TEST

/* y = x . w (+ b) in double from the quantized operands, as zoo/quant.h defines it. */
static void reference(const float *x, int64_t R, int64_t K, const zoo_tensor *w, bool in_out,
                      const float *bias, double *y, double *magnitude) {
    int64_t N = w->shape[in_out ? 1 : 0];
    const float *sw = zoo_q8_scales(w, NULL);
    int8_t *q = malloc((size_t)K);
    for (int64_t r = 0; r < R; r++) {
        double sx = zoo_q8_quantize_row(x + r * K, K, q);
        for (int64_t n = 0; n < N; n++) {
            double sum = 0; /* exact: integers well below 2^53 */
            for (int64_t k = 0; k < K; k++)
                sum += (double)q[k] * zoo_i8(w)[in_out ? k * N + n : n * K + k];
            y[r * N + n] = sum * sx * sw[n] + (bias ? bias[n] : 0);
            magnitude[r * N + n] = fabs(sum * sx * sw[n]) + (bias ? fabs(bias[n]) : 0);
        }
    }
    free(q);
}

/* One linear of shape R x K -> N in each layout, with and without bias,
 * on the current kernel; every output within float rounding of the
 * reference. Returns the outputs (caller frees) for kernel comparisons. */
static float *check_linear(int64_t R, int64_t K, int64_t N, bool in_out, bool with_bias,
                           uint64_t seed) {
    zoo_rng rng;
    zoo_rng_seed(&rng, seed);
    zoo_params *p = zoo_params_new();
    zoo_param *w = random_param(p, "w", in_out ? K : N, in_out ? N : K, &rng);
    zoo_tensor *b = zoo_params_add_normal(p, "b", 1, ZOO_SHAPE(N), 0, &rng, 1.0f);
    if (N > 2) /* a zero output channel */
        for (int64_t k = 0; k < K; k++) zoo_f32(w->value)[in_out ? k * N + 1 : 1 * K + k] = 0;
    ck_assert_int_eq(zoo_params_quantize(p, w, in_out ? 1 : 0), ZOO_OK);
    zoo_graph *g = zoo_graph_new(0);
    zoo_graph_set_recording(g, false);
    zoo_tensor *x = zoo_new(g, ZOO_F32, R, K);
    zoo_rng_fill_normal(&rng, x->data, (size_t)(R * K), 0, 3.0f);
    if (R > 2) memset(zoo_f32(x) + K, 0, (size_t)K * sizeof(float)); /* a zero row */
    zoo_tensor *y =
        zoo_linear(g, x, w->value, with_bias ? b : NULL, in_out ? ZOO_W_IN_OUT : ZOO_W_OUT_IN);
    ck_assert_msg(y, "%s", zoo_graph_error(g));
    double *want = malloc((size_t)(R * N) * sizeof(double)),
           *magnitude = malloc((size_t)(R * N) * sizeof(double));
    reference(x->data, R, K, w->value, in_out, with_bias ? b->data : NULL, want, magnitude);
    for (int64_t i = 0; i < R * N; i++) {
        /* three roundings (the sum to float, sx sw, the product) and the bias's addition */
        ck_assert_msg(fabs(zoo_f32(y)[i] - want[i]) <= 4e-7 * magnitude[i],
                      "R%lld K%lld N%lld %s: y[%lld] = %.9g, want %.9g", (long long)R, (long long)K,
                      (long long)N, in_out ? "[in,out]" : "[out,in]", (long long)i, zoo_f32(y)[i],
                      want[i]);
    }
    if (R > 2) /* the zero row gives the bias exactly */
        for (int64_t n = 0; n < N; n++)
            ck_assert(zoo_f32(y)[N + n] == (with_bias ? zoo_f32(b)[n] : 0.0f));
    float *copy = malloc((size_t)(R * N) * sizeof(float));
    memcpy(copy, y->data, (size_t)(R * N) * sizeof(float));
    free(want);
    free(magnitude);
    zoo_graph_free(g);
    zoo_params_free(p);
    return copy;
}

static const int64_t shapes[][3] = {{1, 1, 1},       {1, 768, 2304}, {3, 5, 7},     {37, 33, 64},
                                    {130, 300, 513}, {64, 128, 96},  {2, 3072, 40}, {257, 64, 3}};

START_TEST(test_linear_matches_reference) {
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++)
        for (int in_out = 0; in_out < 2; in_out++) {
            float *y = check_linear(shapes[s][0], shapes[s][1], shapes[s][2], in_out, s % 2, s);
            free(y);
        }
}
END_TEST

/* The portable kernel and oneDNN's give the same bits (the int32 sums are
 * exact), and neither depends on the thread count. */
START_TEST(test_kernels_agree) {
    bool onednn = zoo_q8_set_kernel(ZOO_Q8_ONEDNN) == ZOO_OK;
    if (!onednn)
        fprintf(stderr, "test_quant: oneDNN kernel unavailable here (%s)\n", zoo_q8_kernel_name());
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++)
        for (int in_out = 0; in_out < 2; in_out++) {
            int64_t n = shapes[s][0] * shapes[s][2];
            zoo_q8_set_kernel(ZOO_Q8_PORTABLE);
            ck_assert_ptr_nonnull(strstr(zoo_q8_kernel_name(), "portable"));
            zoo_threads_set(1);
            float *a = check_linear(shapes[s][0], shapes[s][1], shapes[s][2], in_out, true, s);
            zoo_threads_set(2);
            float *b = check_linear(shapes[s][0], shapes[s][1], shapes[s][2], in_out, true, s);
            ck_assert_mem_eq(a, b, (size_t)n * sizeof(float));
            if (onednn) {
                zoo_q8_set_kernel(ZOO_Q8_ONEDNN);
                ck_assert_ptr_nonnull(strstr(zoo_q8_kernel_name(), "oneDNN"));
                float *c = check_linear(shapes[s][0], shapes[s][1], shapes[s][2], in_out, true, s);
                ck_assert_mem_eq(a, c, (size_t)n * sizeof(float));
                free(c);
            }
            free(a);
            free(b);
        }
    zoo_q8_set_kernel(ZOO_Q8_AUTO);
}
END_TEST

START_TEST(test_embedding_of_int8_table) {
    zoo_rng rng;
    zoo_rng_seed(&rng, 3);
    zoo_params *p = zoo_params_new();
    zoo_param *t = random_param(p, "t", 10, 6, &rng);
    ck_assert_int_eq(zoo_params_quantize(p, t, 0), ZOO_OK);
    zoo_graph *g = zoo_graph_new(0);
    int32_t ids[4] = {9, 0, 3, 9};
    zoo_tensor *y = zoo_embedding(g, t->value, zoo_tensor_wrap(g, ZOO_I32, 1, ZOO_SHAPE(4), ids));
    ck_assert_msg(y, "%s", zoo_graph_error(g));
    const float *s = zoo_q8_scales(t->value, NULL);
    for (int i = 0; i < 4; i++)
        for (int c = 0; c < 6; c++)
            ck_assert(zoo_f32(y)[i * 6 + c] == zoo_i8(t->value)[ids[i] * 6 + c] * s[ids[i]]);
    zoo_graph_free(g);
    zoo_params_free(p);
}
END_TEST

/* A tiny model: a tied table (lookup + [out,in] head), an [in,out] layer,
 * a weight used by another operator too, a lookup-only table. */
START_TEST(test_quant_axes) {
    zoo_rng rng;
    zoo_rng_seed(&rng, 4);
    zoo_params *p = zoo_params_new();
    zoo_tensor *tied = zoo_params_add_normal(p, "tied", 2, ZOO_SHAPE(11, 4), 0, &rng, 1);
    zoo_tensor *pos = zoo_params_add_normal(p, "pos", 2, ZOO_SHAPE(3, 4), 0, &rng, 1);
    zoo_tensor *up = zoo_params_add_normal(p, "up", 2, ZOO_SHAPE(4, 8), 0, &rng, 1);
    zoo_tensor *down = zoo_params_add_normal(p, "down", 2, ZOO_SHAPE(4, 8), 0, &rng, 1);
    zoo_tensor *both = zoo_params_add_normal(p, "both", 2, ZOO_SHAPE(4, 4), 0, &rng, 1);
    zoo_tensor *bias = zoo_params_add_normal(p, "bias", 1, ZOO_SHAPE(8), 0, &rng, 1);
    zoo_graph *g = zoo_graph_new(0);
    int32_t ids[3] = {1, 2, 3}, at[3] = {0, 1, 2};
    zoo_tensor *x =
        zoo_add(g, zoo_embedding(g, tied, zoo_tensor_wrap(g, ZOO_I32, 1, ZOO_SHAPE(3), ids)),
                zoo_embedding(g, pos, zoo_tensor_wrap(g, ZOO_I32, 1, ZOO_SHAPE(3), at)));
    x = zoo_linear(g, x, both, NULL, ZOO_W_OUT_IN);
    x = zoo_add(g, x, zoo_matmul(g, x, both, false, false));
    x = zoo_linear(g, zoo_linear(g, x, up, bias, ZOO_W_IN_OUT), down, NULL, ZOO_W_OUT_IN);
    zoo_tensor *logits = zoo_linear(g, x, tied, NULL, ZOO_W_OUT_IN);
    ck_assert_msg(logits, "%s", zoo_graph_error(g));
    int axes[6];
    ck_assert_int_eq(zoo_quant_axes(g, p, axes), 3);
    int want[6] = {0, -1, 1, 0, -1, -1}; /* tied, pos, up, down, both, bias */
    ck_assert_mem_eq(axes, want, sizeof want);
    zoo_graph_free(g);
    zoo_params_free(p);
}
END_TEST

START_TEST(test_refusals) {
    zoo_rng rng;
    zoo_rng_seed(&rng, 5);
    zoo_params *p = zoo_params_new();
    zoo_param *w = random_param(p, "w", 4, 3, &rng);
    zoo_params_add_normal(p, "v", 1, ZOO_SHAPE(4), 0, &rng, 1);
    ck_assert_int_eq(zoo_params_quantize(p, zoo_params_find(p, "v"), 0), ZOO_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(zoo_error_message(), "'v'"));
    ck_assert_int_eq(zoo_params_quantize(p, w, 2), ZOO_ERR_ARG);
    zoo_f32(w->value)[5] = NAN;
    ck_assert_int_eq(zoo_params_quantize(p, w, 0), ZOO_ERR_ARG);
    int8_t values[12] = {0};
    float scales[4] = {1, 1, -1, 1};
    ck_assert_int_eq(zoo_params_set_quantized(p, w, 0, values, scales), ZOO_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(zoo_error_message(), "scale 2"));
    scales[2] = NAN;
    ck_assert_int_eq(zoo_params_set_quantized(p, w, 0, values, scales), ZOO_ERR_ARG);
    scales[2] = 0.5f;
    values[7] = -3;
    ck_assert_int_eq(zoo_params_set_quantized(p, w, 0, values, scales), ZOO_OK);
    ck_assert_int_eq(zoo_i8(w->value)[7], -3);
    ck_assert_int_eq(zoo_params_quantize(p, w, 0), ZOO_ERR_ARG); /* already int8 */

    zoo_graph *g = zoo_graph_new(0);
    zoo_tensor *x = zoo_zeros(g, ZOO_F32, 2, 4);
    /* [4,3] quantized per row is [out,in] with 3 inputs: as [in,out] its axis is wrong */
    ck_assert_ptr_null(zoo_linear(g, x, w->value, NULL, ZOO_W_IN_OUT));
    ck_assert_ptr_nonnull(strstr(zoo_graph_error(g), "quantized along axis 0"));
    zoo_graph_reset(g);
    x = zoo_zeros(g, ZOO_F32, 2, 3);
    x->requires_grad = true; /* recording, and the input takes a gradient */
    ck_assert_ptr_null(zoo_linear(g, x, w->value, NULL, ZOO_W_OUT_IN));
    ck_assert_ptr_nonnull(strstr(zoo_graph_error(g), "no gradient"));
    zoo_graph_reset(g);
    ck_assert_ptr_null(zoo_matmul(g, zoo_zeros(g, ZOO_F32, 2, 3), w->value, false, true));
    ck_assert_ptr_nonnull(strstr(zoo_graph_error(g), "float32"));
    zoo_graph_reset(g); /* an int8 graph tensor would have no scales: refused */
    ck_assert_ptr_null(zoo_tensor_wrap(g, ZOO_I8, 1, ZOO_SHAPE(4), values));
    ck_assert_ptr_nonnull(strstr(zoo_graph_error(g), "float32 or int32"));
    zoo_graph_free(g);
    zoo_params_free(p);
}
END_TEST

/* A NaN or an infinity in a row makes that row's outputs NaN, as float32
 * products would, and leaves the other rows alone. */
START_TEST(test_non_finite_rows) {
    zoo_rng rng;
    zoo_rng_seed(&rng, 6);
    zoo_params *p = zoo_params_new();
    zoo_param *w = random_param(p, "w", 5, 8, &rng);
    ck_assert_int_eq(zoo_params_quantize(p, w, 0), ZOO_OK);
    zoo_graph *g = zoo_graph_new(0);
    zoo_graph_set_recording(g, false);
    zoo_tensor *x = zoo_new(g, ZOO_F32, 3, 8);
    zoo_rng_fill_normal(&rng, x->data, 24, 0, 1);
    zoo_f32(x)[3] = NAN, zoo_f32(x)[8 + 5] = INFINITY;
    zoo_tensor *y = zoo_linear(g, x, w->value, NULL, ZOO_W_OUT_IN);
    ck_assert_msg(y, "%s", zoo_graph_error(g));
    for (int n = 0; n < 5; n++) {
        ck_assert(isnan(zoo_f32(y)[n]) && isnan(zoo_f32(y)[5 + n]));
        ck_assert(isfinite(zoo_f32(y)[10 + n]));
    }
    zoo_graph_free(g);
    zoo_params_free(p);
}
END_TEST

/* --- zoo_lstm with int8 weights ------------------------------------------ */

typedef struct lstm_case {
    zoo_params *p;
    zoo_lstm_weights w;
    zoo_tensor *bias;
} lstm_case;

/* An LSTM of B x T x I, H cells, projection P (0: none), every weight drawn,
 * int8 when quantize says so. */
static lstm_case lstm_make(int64_t I, int64_t H, int64_t P, bool quantize, uint64_t seed) {
    zoo_rng rng;
    zoo_rng_seed(&rng, seed);
    lstm_case c = {.p = zoo_params_new()};
    /* weights of a trained size, std 1/sqrt(fan-in): N(0,1) ones saturate every gate */
    zoo_params_add_normal(c.p, "w_ih", 2, ZOO_SHAPE(4 * H, I), 0, &rng, 1 / sqrtf((float)I));
    zoo_params_add_normal(c.p, "w_hh", 2, ZOO_SHAPE(4 * H, P ? P : H), 0, &rng,
                          1 / sqrtf((float)(P ? P : H)));
    if (P) zoo_params_add_normal(c.p, "w_proj", 2, ZOO_SHAPE(P, H), 0, &rng, 1 / sqrtf((float)H));
    zoo_param *ih = zoo_params_find(c.p, "w_ih"), *hh = zoo_params_find(c.p, "w_hh"),
              *proj = P ? zoo_params_find(c.p, "w_proj") : NULL;
    c.bias = zoo_params_add_normal(c.p, "bias", 1, ZOO_SHAPE(4 * H), 0, &rng, 0.5f);
    if (quantize) {
        ck_assert_int_eq(zoo_params_quantize(c.p, ih, 0), ZOO_OK);
        ck_assert_int_eq(zoo_params_quantize(c.p, hh, 0), ZOO_OK);
        if (proj) ck_assert_int_eq(zoo_params_quantize(c.p, proj, 0), ZOO_OK);
    }
    c.w = (zoo_lstm_weights){ih->value, hh->value, c.bias, proj ? proj->value : NULL, 3.0f, 3.0f};
    return c;
}

static zoo_tensor *lstm_run(zoo_graph *g, lstm_case *c, int64_t B, int64_t T, int64_t I,
                            uint64_t seed) {
    zoo_rng rng;
    zoo_rng_seed(&rng, seed);
    zoo_tensor *x = zoo_new(g, ZOO_F32, B, T, I);
    zoo_rng_fill_normal(&rng, x->data, (size_t)(B * T * I), 0, 1);
    zoo_tensor *y = zoo_lstm(g, x, &c->w, NULL, NULL, false, NULL, NULL);
    ck_assert_msg(y, "%s", zoo_graph_error(g));
    return y;
}

static double sigmoid(double v) {
    return 1 / (1 + exp(-v));
}

/* One step from a zero state, no projection: the gates are exactly an int8
 * zoo_linear of x, so the output is that cell update of them. */
START_TEST(test_lstm_first_step) {
    const int64_t B = 3, I = 7, H = 5;
    lstm_case c = lstm_make(I, H, 0, true, 7);
    zoo_graph *g = zoo_graph_new(0);
    zoo_graph_set_recording(g, false);
    zoo_tensor *y = lstm_run(g, &c, B, 1, I, 8);
    zoo_rng rng;
    zoo_rng_seed(&rng, 8);
    zoo_tensor *x = zoo_new(g, ZOO_F32, B, I);
    zoo_rng_fill_normal(&rng, x->data, (size_t)(B * I), 0, 1);
    zoo_tensor *gates = zoo_linear(g, x, c.w.w_ih, c.bias, ZOO_W_OUT_IN);
    ck_assert_msg(gates, "%s", zoo_graph_error(g));
    for (int64_t b = 0; b < B; b++)
        for (int64_t j = 0; j < H; j++) {
            const float *gt = zoo_f32(gates) + b * 4 * H;
            double i = sigmoid(gt[j]), gg = tanh(gt[2 * H + j]), o = sigmoid(gt[3 * H + j]);
            double cell = fmin(3.0, fmax(-3.0, i * gg));
            double want = o * tanh(cell);
            ck_assert_msg(fabs(zoo_f32(y)[b * H + j] - want) < 2e-6, "h[%lld,%lld] %g, want %g",
                          (long long)b, (long long)j, zoo_f32(y)[b * H + j], want);
        }
    zoo_graph_free(g);
    zoo_params_free(c.p);
}
END_TEST

/* Steps through time with a projection: close to the float32 LSTM of the
 * same (dequantized) weights, up to the activations' quantization; and the
 * two kernels give the same bits. */
START_TEST(test_lstm_through_time) {
    const int64_t B = 4, T = 6, I = 24, H = 16, P = 12;
    lstm_case q = lstm_make(I, H, P, true, 9), f = lstm_make(I, H, P, false, 9);
    zoo_param *names[3] = {zoo_params_find(q.p, "w_ih"), zoo_params_find(q.p, "w_hh"),
                           zoo_params_find(q.p, "w_proj")};
    for (int k = 0; k < 3; k++) { /* f's weights: q's int8 values times their scales */
        zoo_tensor *qt = names[k]->value, *ft = zoo_params_get(f.p, names[k]->name);
        const float *s = zoo_q8_scales(qt, NULL);
        for (int64_t e = 0; e < qt->numel; e++)
            zoo_f32(ft)[e] = zoo_i8(qt)[e] * s[e / qt->shape[1]];
    }
    zoo_graph *g = zoo_graph_new(0);
    zoo_graph_set_recording(g, false);
    zoo_tensor *y8 = lstm_run(g, &q, B, T, I, 10), *y32 = lstm_run(g, &f, B, T, I, 10);
    double worst = 0;
    for (int64_t e = 0; e < y8->numel; e++)
        worst = fmax(worst, fabs(zoo_f32(y8)[e] - zoo_f32(y32)[e]));
    ck_assert_msg(worst < 0.02, "int8 LSTM off float32 by %g", worst); /* outputs are O(1) */
    ck_assert_msg(worst > 0, "the int8 LSTM gave float32's bits: was it int8 at all?");
    bool onednn = zoo_q8_set_kernel(ZOO_Q8_ONEDNN) == ZOO_OK;
    zoo_tensor *a = lstm_run(g, &q, B, T, I, 10);
    zoo_q8_set_kernel(ZOO_Q8_PORTABLE);
    zoo_tensor *b = lstm_run(g, &q, B, T, I, 10);
    ck_assert_mem_eq(a->data, b->data, (size_t)a->numel * sizeof(float));
    ck_assert(onednn || strstr(zoo_q8_kernel_name(), "portable"));
    zoo_q8_set_kernel(ZOO_Q8_AUTO);
    /* recording with an int8 weight is refused */
    zoo_graph_reset(g);
    zoo_graph_set_recording(g, true);
    zoo_tensor *x = zoo_zeros(g, ZOO_F32, B, T, I);
    x->requires_grad = true;
    ck_assert_ptr_null(zoo_lstm(g, x, &q.w, NULL, NULL, false, NULL, NULL));
    ck_assert_ptr_nonnull(strstr(zoo_graph_error(g), "no gradient"));
    zoo_graph_free(g);
    zoo_params_free(q.p);
    zoo_params_free(f.p);
}
END_TEST

Suite *make_suite(void) {
    Suite *s = suite_create("quant");
    TCase *tc = tcase_create("quant");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_quantize_per_channel);
    tcase_add_test(tc, test_linear_matches_reference);
    tcase_add_test(tc, test_kernels_agree);
    tcase_add_test(tc, test_embedding_of_int8_table);
    tcase_add_test(tc, test_quant_axes);
    tcase_add_test(tc, test_refusals);
    tcase_add_test(tc, test_non_finite_rows);
    tcase_add_test(tc, test_lstm_first_step);
    tcase_add_test(tc, test_lstm_through_time);
    suite_add_tcase(s, tc);
    return s;
}
