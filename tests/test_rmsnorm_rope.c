/* RMSNorm and rotary position embeddings: forward against references
 * written here (HuggingFace's and Meta's formulations, in double), the
 * position offset of a cached decode step, gradients by finite differences,
 * errors, and the same bits on any thread count. */
#include <complex.h>
#include <math.h>

#include "check_util.h"

/* --- RMSNorm ------------------------------------------------------------- */

/* Rows chosen so that eps matters (tiny values), and so that it does not. */
static void fill_rms_rows(zoo_rng *rng, float *x, int64_t R, int64_t C) {
    zoo_rng_fill_uniform(rng, x, (size_t)(R * C), -2, 2);
    for (int64_t c = 0; c < C; c++) x[c] *= 1e-3f; /* mean(x^2) ~ 1e-6, eps 1e-5 */
    if (R > 2)
        for (int64_t c = 0; c < C; c++) x[2 * C + c] *= 100; /* large values */
}

START_TEST(test_rmsnorm_forward) {
    const int64_t R = 4, C = 37;
    const float eps = 1e-5f;
    zoo_rng rng;
    zoo_rng_seed(&rng, 1);
    zoo_graph *g = zoo_graph_new(0);
    zoo_tensor *x = zoo_new(g, ZOO_F32, 2, 2, C), *w = zoo_new(g, ZOO_F32, C);
    fill_rms_rows(&rng, x->data, R, C);
    zoo_rng_fill_uniform(&rng, w->data, (size_t)C, -1.5f, 1.5f);
    zoo_tensor *y = zoo_rmsnorm(g, x, w, eps), *y_plain = zoo_rmsnorm(g, x, NULL, eps);
    ck_assert_int_eq(y->ndim, 3);
    ck_assert_int_eq(y->shape[2], C);
    for (int64_t r = 0; r < R; r++) {
        const float *xr = zoo_f32(x) + r * C;
        double ms = 0;
        for (int64_t c = 0; c < C; c++) ms += (double)xr[c] * xr[c] / (double)C;
        double rinv = 1 / sqrt(ms + eps);
        /* LlamaRMSNorm in float32: variance = x.pow(2).mean(-1); x * rsqrt(variance + eps); w *
         * that */
        float variance = (float)ms, r_f = 1.0f / sqrtf(variance + eps);
        for (int64_t c = 0; c < C; c++) {
            float want = (float)(xr[c] * rinv * zoo_f32(w)[c]);
            float want_plain = (float)(xr[c] * rinv);
            float hf = zoo_f32(w)[c] * (xr[c] * r_f);
            ck_assert_floats_close(zoo_f32(y) + r * C + c, &want, 1, 1e-30, 3e-7);
            ck_assert_floats_close(zoo_f32(y_plain) + r * C + c, &want_plain, 1, 1e-30, 2e-7);
            ck_assert_floats_close(zoo_f32(y) + r * C + c, &hf, 1, 1e-30, 3e-7);
        }
    }
    /* eps inside the square root, added to the mean square: the tiny row is scaled by
     * 1/sqrt(~1e-6 + 1e-5), not normalised to unit RMS */
    double ms0 = 0;
    for (int64_t c = 0; c < C; c++) ms0 += zoo_f32(y_plain)[c] * zoo_f32(y_plain)[c] / (double)C;
    ck_assert_msg(ms0 < 0.5, "mean square of the tiny row after the norm: %g", ms0);
    zoo_graph_free(g);
}
END_TEST

typedef struct {
    zoo_tensor *x, *w;
    int n_head;
    int64_t pos_offset;
    float theta;
    bool interleaved;
    int which; /* 0 rmsnorm, 1 rope */
} nr_ctx;

static zoo_tensor *build(zoo_graph *g, void *arg) {
    nr_ctx *c = arg;
    if (c->which == 0) return zoo_rmsnorm(g, c->x, c->w, 1e-5f);
    return zoo_rope(g, c->x, c->n_head, c->pos_offset, c->theta, c->interleaved);
}

START_TEST(test_rmsnorm_backward) {
    const int64_t shapes[][3] = {{1, 1, 2}, {2, 3, 5}, {3, 1, 7}};
    for (int s = 0; s < 3; s++)
        for (int mode = 0; mode < 3; mode++) { /* no w; w; w with x a constant */
            zoo_rng rng;
            zoo_rng_seed(&rng, (uint64_t)(10 * s + mode));
            const int64_t *sh = shapes[s];
            zoo_params *p = zoo_params_new();
            zoo_graph *holder = zoo_graph_new(0);
            nr_ctx c = {.which = 0};
            if (mode == 2) {
                c.x = zoo_new(holder, ZOO_F32, sh[0], sh[1], sh[2]);
                zoo_rng_fill_uniform(&rng, c.x->data, (size_t)c.x->numel, -2, 2);
            } else {
                c.x = RAND_PARAM(p, &rng, "x", -2, 2, sh[0], sh[1], sh[2]);
            }
            if (mode > 0) c.w = RAND_PARAM(p, &rng, "w", 0.5f, 1.5f, sh[2]);
            gradcheck(p, build, &c, NULL);
            zoo_graph_free(holder);
            zoo_params_free(p);
        }
}
END_TEST

START_TEST(test_rmsnorm_errors) {
    zoo_graph *g = zoo_graph_new(0);
    zoo_tensor *x = zoo_zeros(g, ZOO_F32, 2, 4), *w = zoo_zeros(g, ZOO_F32, 3);
    ck_assert_ptr_null(zoo_rmsnorm(g, x, w, 1e-5f));
    ck_assert_int_eq(zoo_graph_status(g), ZOO_ERR_SHAPE);
    ck_assert_str_eq(zoo_graph_error(g), "zoo_rmsnorm: weight has 3 elements, x's last axis 4");
    zoo_graph_reset(g);
    x = zoo_zeros(g, ZOO_F32, 2, 4);
    ck_assert_ptr_null(zoo_rmsnorm(g, x, NULL, -1e-6f));
    ck_assert_int_eq(zoo_graph_status(g), ZOO_ERR_ARG);
    ck_assert_str_eq(zoo_graph_error(g), "zoo_rmsnorm: eps must be finite and >= 0, not -1e-06");
    zoo_graph_free(g);
}
END_TEST

static float seed_at(int64_t i) {
    return (float)((i * 37) % 11) / 5.0f - 1;
}

/* Run `c` forward and backward with a fixed seed gradient; copies of the
 * output and of each gradient (x, then w if any). */
static void run_copy(nr_ctx *c, float **out, float **gx, float **gw) {
    zoo_graph *g = zoo_graph_new(0);
    zoo_tensor *y = build(g, c);
    ck_assert_ptr_nonnull(y);
    float *seed = malloc((size_t)y->numel * sizeof *seed);
    for (int64_t i = 0; i < y->numel; i++) seed[i] = seed_at(i);
    ck_assert_int_eq(zoo_backward_from(g, y, seed), ZOO_OK);
    *out = malloc((size_t)y->numel * 4);
    memcpy(*out, y->data, (size_t)y->numel * 4);
    *gx = malloc((size_t)c->x->numel * 4);
    memcpy(*gx, c->x->grad, (size_t)c->x->numel * 4);
    if (gw) {
        *gw = malloc((size_t)c->w->numel * 4);
        memcpy(*gw, c->w->grad, (size_t)c->w->numel * 4);
    }
    free(seed);
    zoo_graph_free(g);
}

/* Rows over the pool and dw summed in parts: 1 and 3 threads give the same
 * bits, and both gradients equal the formulas evaluated in double. */
START_TEST(test_rmsnorm_threads) {
    zoo_rng rng;
    zoo_rng_seed(&rng, 17);
    zoo_params *p = zoo_params_new();
    nr_ctx c = {.which = 0};
    c.x = RAND_PARAM(p, &rng, "x", -2, 2, 301, 129);
    c.w = RAND_PARAM(p, &rng, "w", 0.5f, 1.5f, 129);
    float *out[2], *gx[2], *gw[2];
    for (int run = 0; run < 2; run++) {
        zoo_threads_set(run ? 3 : 1);
        zoo_params_zero_grad(p);
        run_copy(&c, &out[run], &gx[run], &gw[run]);
    }
    ck_assert_int_eq(memcmp(out[0], out[1], 301 * 129 * 4), 0);
    ck_assert_int_eq(memcmp(gx[0], gx[1], 301 * 129 * 4), 0);
    ck_assert_int_eq(memcmp(gw[0], gw[1], 129 * 4), 0);
    /* n = x r, dn = dy w: dx = r (dn - n mean(dn n)), dw = sum over rows of dy n */
    const int64_t R = 301, C = 129;
    double *dw = calloc(C, sizeof *dw);
    for (int64_t r = 0; r < R; r++) {
        const float *xr = zoo_f32(c.x) + r * C, *w = zoo_f32(c.w);
        double ms = 0, dot = 0;
        for (int64_t k = 0; k < C; k++) ms += (double)xr[k] * xr[k] / (double)C;
        double rinv = 1 / sqrt(ms + 1e-5);
        for (int64_t k = 0; k < C; k++) dot += seed_at(r * C + k) * w[k] * xr[k] * rinv / (double)C;
        for (int64_t k = 0; k < C; k++) {
            double dy = seed_at(r * C + k), n = xr[k] * rinv;
            float want = (float)(rinv * (dy * w[k] - n * dot));
            ck_assert_floats_close(gx[0] + r * C + k, &want, 1, 1e-5, 1e-5);
            dw[k] += dy * n;
        }
    }
    for (int64_t k = 0; k < C; k++) {
        float want = (float)dw[k];
        ck_assert_floats_close(gw[0] + k, &want, 1, 1e-4, 1e-5);
    }
    free(dw);
    for (int run = 0; run < 2; run++) free(out[run]), free(gx[run]), free(gw[run]);
    zoo_params_free(p);
    zoo_threads_set(1);
}
END_TEST

/* --- RoPE ------------------------------------------------------------------ */

/* HuggingFace's apply_rotary_pos_emb, literally: cos and sin of
 * cat(freqs, freqs), and x * cos + rotate_half(x) * sin with
 * rotate_half(x) = cat(-x2, x1). */
static void ref_rotate_half(const float *x, float *y, int64_t B, int64_t T, int64_t C, int n_head,
                            int64_t pos_offset, double theta) {
    int64_t hs = C / n_head, half = hs / 2;
    for (int64_t b = 0; b < B; b++)
        for (int64_t t = 0; t < T; t++)
            for (int h = 0; h < n_head; h++) {
                const float *xh = x + (b * T + t) * C + h * hs;
                float *yh = y + (b * T + t) * C + h * hs;
                for (int64_t d = 0; d < hs; d++) {
                    int64_t i = d % half;
                    double freq = 1 / pow(theta, (double)(2 * i) / (double)hs);
                    double angle = (double)(pos_offset + t) * freq;
                    double rot = d < half ? -(double)xh[d + half] : (double)xh[d - half];
                    yh[d] = (float)(xh[d] * cos(angle) + rot * sin(angle));
                }
            }
}

/* Meta's apply_rotary_emb: pairs (2i, 2i+1) as complex numbers, times
 * polar(1, angle). */
static void ref_interleaved(const float *x, float *y, int64_t B, int64_t T, int64_t C, int n_head,
                            int64_t pos_offset, double theta) {
    int64_t hs = C / n_head;
    for (int64_t b = 0; b < B; b++)
        for (int64_t t = 0; t < T; t++)
            for (int h = 0; h < n_head; h++) {
                const float *xh = x + (b * T + t) * C + h * hs;
                float *yh = y + (b * T + t) * C + h * hs;
                for (int64_t i = 0; i < hs / 2; i++) {
                    double freq = 1 / pow(theta, (double)(2 * i) / (double)hs);
                    double complex z =
                        (xh[2 * i] + I * xh[2 * i + 1]) * cexp(I * (double)(pos_offset + t) * freq);
                    yh[2 * i] = (float)creal(z);
                    yh[2 * i + 1] = (float)cimag(z);
                }
            }
}

START_TEST(test_rope_forward) {
    static const struct {
        int64_t B, T, C;
        int n_head;
        int64_t pos_offset;
        float theta;
    } cases[] = {
        {2, 5, 16, 2, 0, 10000},      {1, 3, 12, 3, 7, 10000}, {2, 4, 8, 1, 0, 500000},
        {1, 2, 64, 4, 100000, 10000}, /* far positions: angles in double */
        {3, 1, 2, 1, 0, 10000},       /* head size 2 */
        {1, 70, 8, 1, 13, 10000},     /* across several blocks of the table */
        {1, 3, 192, 1, 4093, 10000},  /* 96 pairs: more than the table steps at once */
    };
    zoo_rng rng;
    zoo_rng_seed(&rng, 2);
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++)
        for (int interleaved = 0; interleaved < 2; interleaved++) {
            zoo_graph *g = zoo_graph_new(0);
            zoo_tensor *x = zoo_new(g, ZOO_F32, cases[k].B, cases[k].T, cases[k].C);
            zoo_rng_fill_uniform(&rng, x->data, (size_t)x->numel, -1, 1);
            zoo_tensor *y =
                zoo_rope(g, x, cases[k].n_head, cases[k].pos_offset, cases[k].theta, interleaved);
            ck_assert_msg(y, "%s", zoo_graph_error(g));
            float *want = malloc((size_t)x->numel * sizeof *want);
            (interleaved ? ref_interleaved : ref_rotate_half)(x->data, want, cases[k].B, cases[k].T,
                                                              cases[k].C, cases[k].n_head,
                                                              cases[k].pos_offset, cases[k].theta);
            ck_assert_floats_close(zoo_f32(y), want, x->numel, 1e-6, 1e-6);
            free(want);
            zoo_graph_free(g);
        }
}
END_TEST

/* The two layouts are different functions: the same x gives different outputs. */
START_TEST(test_rope_layouts_differ) {
    zoo_graph *g = zoo_graph_new(0);
    zoo_tensor *x = zoo_new(g, ZOO_F32, 1, 2, 8);
    for (int i = 0; i < 16; i++) zoo_f32(x)[i] = (float)(i % 5) - 2;
    zoo_tensor *a = zoo_rope(g, x, 1, 0, 10000, false), *b = zoo_rope(g, x, 1, 0, 10000, true);
    ck_assert_int_eq(memcmp(a->data, x->data, 8 * 4), 0); /* position 0: the identity */
    ck_assert_int_eq(memcmp(b->data, x->data, 8 * 4), 0);
    ck_assert_int_ne(memcmp(a->data, b->data, 16 * 4), 0);
    zoo_graph_free(g);
}
END_TEST

/* A decode step: rows t0.. of a sequence rotated with pos_offset t0 equal
 * those rows of the whole sequence rotated from 0, bit for bit. */
START_TEST(test_rope_pos_offset_is_a_slice) {
    const int64_t B = 2, T1 = 19, C = 12;
    zoo_rng rng;
    zoo_rng_seed(&rng, 3);
    for (int interleaved = 0; interleaved < 2; interleaved++)
        for (int64_t t0 = 1; t0 <= 21; t0 = t0 * 4 + 1) { /* 1, 5, 21 */
            zoo_graph *g = zoo_graph_new(0);
            zoo_tensor *x = zoo_new(g, ZOO_F32, B, t0 + T1, C);
            zoo_rng_fill_uniform(&rng, x->data, (size_t)x->numel, -1, 1);
            zoo_tensor *whole = zoo_rope(g, x, 3, 0, 10000, interleaved);
            zoo_tensor *step = zoo_rope(g, zoo_slice(g, x, 1, t0, T1), 3, t0, 10000, interleaved);
            zoo_tensor *tail = zoo_slice(g, whole, 1, t0, T1);
            ck_assert_msg(step && tail, "%s", zoo_graph_error(g));
            ck_assert_int_eq(memcmp(step->data, tail->data, (size_t)(B * T1 * C) * 4), 0);
            /* one new position at a time, as a cached decode does */
            for (int64_t t = 0; t < t0 + T1; t++) {
                zoo_tensor *one = zoo_rope(g, zoo_slice(g, x, 1, t, 1), 3, t, 10000, interleaved);
                zoo_tensor *row = zoo_slice(g, whole, 1, t, 1);
                ck_assert_int_eq(memcmp(one->data, row->data, (size_t)(B * C) * 4), 0);
            }
            zoo_graph_free(g);
        }
}
END_TEST

START_TEST(test_rope_backward) {
    static const struct {
        int64_t B, T, C;
        int n_head;
        int64_t pos_offset;
    } cases[] = {{1, 1, 2, 1, 0}, {2, 3, 8, 2, 0}, {2, 3, 12, 3, 5}, {1, 4, 16, 1, 1000}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++)
        for (int interleaved = 0; interleaved < 2; interleaved++) {
            zoo_rng rng;
            zoo_rng_seed(&rng, 40 + k);
            zoo_params *p = zoo_params_new();
            nr_ctx c = {.which = 1,
                        .n_head = cases[k].n_head,
                        .pos_offset = cases[k].pos_offset,
                        .theta = 10000,
                        .interleaved = interleaved};
            c.x = RAND_PARAM(p, &rng, "x", -1, 1, cases[k].B, cases[k].T, cases[k].C);
            gradcheck(p, build, &c, NULL);
            zoo_params_free(p);
        }
}
END_TEST

/* Backward is the inverse rotation: seeding it with the output gives x back. */
START_TEST(test_rope_backward_inverts) {
    for (int interleaved = 0; interleaved < 2; interleaved++) {
        zoo_rng rng;
        zoo_rng_seed(&rng, 5);
        zoo_params *p = zoo_params_new();
        zoo_tensor *x = RAND_PARAM(p, &rng, "x", -1, 1, 2, 7, 24);
        zoo_graph *g = zoo_graph_new(0);
        zoo_tensor *y = zoo_rope(g, x, 4, 3, 10000, interleaved);
        ck_assert_int_eq(zoo_backward_from(g, y, y->data), ZOO_OK);
        ck_assert_floats_close(x->grad, zoo_f32(x), x->numel, 1e-6, 1e-6);
        zoo_graph_free(g);
        zoo_params_free(p);
    }
}
END_TEST

START_TEST(test_rope_errors) {
    static const struct {
        int ndim;
        int64_t shape[3];
        int n_head;
        int64_t pos_offset;
        float theta;
        int status;
        const char *msg;
    } cases[] = {
        {2, {2, 3}, 1, 0, 10000, ZOO_ERR_SHAPE, "zoo_rope: x must be [B,T,C], not [2,3]"},
        {3,
         {1, 2, 12},
         5,
         0,
         10000,
         ZOO_ERR_SHAPE,
         "zoo_rope: C 12 must be n_head (5) times an even head size"},
        {3,
         {1, 2, 12},
         4,
         0,
         10000,
         ZOO_ERR_SHAPE,
         "zoo_rope: C 12 must be n_head (4) times an even head size"},
        {3,
         {1, 2, 12},
         0,
         0,
         10000,
         ZOO_ERR_SHAPE,
         "zoo_rope: C 12 must be n_head (0) times an even head size"},
        {3, {1, 2, 12}, 2, -1, 10000, ZOO_ERR_ARG, "zoo_rope: pos_offset -1 is negative"},
        {3, {1, 2, 12}, 2, 0, 0, ZOO_ERR_ARG, "zoo_rope: theta must be finite and > 0, not 0"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        zoo_graph *g = zoo_graph_new(0);
        zoo_tensor *x = zoo_tensor_zeros(g, ZOO_F32, cases[k].ndim, cases[k].shape);
        ck_assert_ptr_null(
            zoo_rope(g, x, cases[k].n_head, cases[k].pos_offset, cases[k].theta, false));
        ck_assert_int_eq(zoo_graph_status(g), cases[k].status);
        ck_assert_str_eq(zoo_graph_error(g), cases[k].msg);
        zoo_graph_free(g);
    }
}
END_TEST

START_TEST(test_rope_threads) {
    for (int interleaved = 0; interleaved < 2; interleaved++) {
        zoo_rng rng;
        zoo_rng_seed(&rng, 6);
        zoo_params *p = zoo_params_new();
        nr_ctx c = {
            .which = 1, .n_head = 4, .pos_offset = 2, .theta = 10000, .interleaved = interleaved};
        c.x = RAND_PARAM(p, &rng, "x", -1, 1, 4, 64, 256);
        float *out[2], *gx[2];
        for (int run = 0; run < 2; run++) {
            zoo_threads_set(run ? 3 : 1);
            zoo_params_zero_grad(p);
            run_copy(&c, &out[run], &gx[run], NULL);
        }
        ck_assert_int_eq(memcmp(out[0], out[1], (size_t)c.x->numel * 4), 0);
        ck_assert_int_eq(memcmp(gx[0], gx[1], (size_t)c.x->numel * 4), 0);
        for (int run = 0; run < 2; run++) free(out[run]), free(gx[run]);
        zoo_params_free(p);
    }
    zoo_threads_set(1);
}
END_TEST

Suite *make_suite(void) {
    Suite *s = suite_create("rmsnorm_rope");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_rmsnorm_forward);
    tcase_add_test(tc, test_rmsnorm_backward);
    tcase_add_test(tc, test_rmsnorm_errors);
    tcase_add_test(tc, test_rmsnorm_threads);
    tcase_add_test(tc, test_rope_forward);
    tcase_add_test(tc, test_rope_layouts_differ);
    tcase_add_test(tc, test_rope_pos_offset_is_a_slice);
    tcase_add_test(tc, test_rope_backward);
    tcase_add_test(tc, test_rope_backward_inverts);
    tcase_add_test(tc, test_rope_errors);
    tcase_add_test(tc, test_rope_threads);
    suite_add_tcase(s, tc);
    return s;
}
