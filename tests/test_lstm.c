#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check_util.h"

/* One LSTM configuration under test. */
typedef struct {
    int64_t B, T, I, H, P;
    bool proj, bias, h0, c0, reverse;
    float cell_clip, proj_clip;
} lstm_cfg;

typedef struct {
    lstm_cfg cfg;
    zoo_params *p;
    zoo_tensor *x, *h0, *c0;
    zoo_lstm_weights w;
} lstm_ctx;

/* Parameters for every input the configuration uses. */
static void lstm_setup(lstm_ctx *c, const lstm_cfg *cfg) {
    memset(c, 0, sizeof *c);
    c->cfg = *cfg;
    int64_t B = cfg->B, T = cfg->T, I = cfg->I, H = cfg->H, P = cfg->proj ? cfg->P : cfg->H;
    c->cfg.P = P;
    c->p = zoo_params_new();
    zoo_rng rng;
    zoo_rng_seed(&rng, 0);
    c->x = RAND_PARAM(c->p, &rng, "x", -1, 1, B, T, I);
    c->w.w_ih = RAND_PARAM(c->p, &rng, "w_ih", -1, 1, 4 * H, I);
    c->w.w_hh = RAND_PARAM(c->p, &rng, "w_hh", -1, 1, 4 * H, P);
    if (cfg->bias) c->w.bias = RAND_PARAM(c->p, &rng, "bias", -1, 1, 4 * H);
    if (cfg->proj) c->w.w_proj = RAND_PARAM(c->p, &rng, "w_proj", -1, 1, P, H);
    if (cfg->h0) c->h0 = RAND_PARAM(c->p, &rng, "h0", -1, 1, B, P);
    if (cfg->c0) c->c0 = RAND_PARAM(c->p, &rng, "c0", -1, 1, B, H);
    c->w.cell_clip = cfg->cell_clip;
    c->w.proj_clip = cfg->proj_clip;
}

/* Redraws every input from `seed`, weights in [-1,1) and x, h0, c0 in [-2,2). */
static void lstm_fill(lstm_ctx *c, uint64_t seed) {
    zoo_rng rng;
    zoo_rng_seed(&rng, seed);
    for (int i = 0; i < zoo_params_count(c->p); i++) {
        zoo_param *par = zoo_params_at(c->p, i);
        bool state =
            !strcmp(par->name, "x") || !strcmp(par->name, "h0") || !strcmp(par->name, "c0");
        zoo_rng_fill_uniform(&rng, zoo_f32(par->value), (size_t)par->value->numel,
                             state ? -2.0f : -1.0f, state ? 2.0f : 1.0f);
    }
}

static zoo_tensor *build_lstm(zoo_graph *g, void *arg) {
    lstm_ctx *c = arg;
    return zoo_lstm(g, c->x, &c->w, c->h0, c->c0, c->cfg.reverse, NULL, NULL);
}

/* What the reference saw of the clips: how many values each clip changed, and
 * how close any value came to a clip boundary (finite differences must not cross one). */
typedef struct {
    int cell_clipped, proj_clipped;
    double margin;
} ref_stats;

static double sigmoid(double v) {
    return 1.0 / (1.0 + exp(-v));
}

static double clip(double v, float lim, int *clipped, double *margin) {
    if (lim <= 0) return v;
    *margin = fmin(*margin, fabs(fabs(v) - lim));
    if (fabs(v) < lim) return v;
    (*clipped)++;
    return v < 0 ? -lim : lim;
}

/* The LSTM cell applied step by step with plain loops, in double. y [B,T,P],
 * h_last [B,P] and c_last [B,H] receive the outputs and the state after the last step. */
static ref_stats ref_lstm(const lstm_ctx *c, float *y, float *h_last, float *c_last) {
    int64_t B = c->cfg.B, T = c->cfg.T, I = c->cfg.I, H = c->cfg.H, P = c->cfg.P;
    const float *x = zoo_f32(c->x), *wi = zoo_f32(c->w.w_ih), *wh = zoo_f32(c->w.w_hh);
    const float *bias = c->w.bias ? zoo_f32(c->w.bias) : NULL;
    const float *wp = c->w.w_proj ? zoo_f32(c->w.w_proj) : NULL;
    double *h = malloc((size_t)P * sizeof *h), *cs = malloc((size_t)H * sizeof *cs);
    double *gates = malloc((size_t)(4 * H) * sizeof *gates), *hc = malloc((size_t)H * sizeof *hc);
    ref_stats st = {0, 0, INFINITY};
    for (int64_t b = 0; b < B; b++) {
        for (int64_t p = 0; p < P; p++) h[p] = c->h0 ? zoo_f32(c->h0)[b * P + p] : 0.0;
        for (int64_t j = 0; j < H; j++) cs[j] = c->c0 ? zoo_f32(c->c0)[b * H + j] : 0.0;
        for (int64_t s = 0; s < T; s++) {
            int64_t t = c->cfg.reverse ? T - 1 - s : s;
            for (int64_t k = 0; k < 4 * H; k++) {
                double acc = bias ? bias[k] : 0.0;
                for (int64_t i = 0; i < I; i++)
                    acc += (double)wi[k * I + i] * x[(b * T + t) * I + i];
                for (int64_t p = 0; p < P; p++) acc += (double)wh[k * P + p] * h[p];
                gates[k] = acc;
            }
            for (int64_t j = 0; j < H; j++) {
                double i = sigmoid(gates[j]), f = sigmoid(gates[H + j]);
                double g = tanh(gates[2 * H + j]), o = sigmoid(gates[3 * H + j]);
                cs[j] = clip(f * cs[j] + i * g, c->w.cell_clip, &st.cell_clipped, &st.margin);
                hc[j] = o * tanh(cs[j]);
            }
            for (int64_t p = 0; p < P; p++) {
                if (!wp) {
                    h[p] = hc[p];
                    continue;
                }
                double acc = 0;
                for (int64_t j = 0; j < H; j++) acc += (double)wp[p * H + j] * hc[j];
                h[p] = clip(acc, c->w.proj_clip, &st.proj_clipped, &st.margin);
            }
            for (int64_t p = 0; p < P; p++) y[(b * T + t) * P + p] = (float)h[p];
        }
        for (int64_t p = 0; p < P; p++) h_last[b * P + p] = (float)h[p];
        for (int64_t j = 0; j < H; j++) c_last[b * H + j] = (float)cs[j];
    }
    free(h), free(cs), free(gates), free(hc);
    return st;
}

static const lstm_cfg forward_cfgs[] = {
    {.B = 2, .T = 5, .I = 3, .H = 4, .bias = true, .h0 = true, .c0 = true},
    {.B = 2, .T = 5, .I = 3, .H = 4, .bias = true, .h0 = true, .c0 = true, .reverse = true},
    {.B = 3,
     .T = 6,
     .I = 4,
     .H = 5,
     .P = 3,
     .proj = true,
     .bias = true,
     .h0 = true,
     .c0 = true,
     .cell_clip = 0.6f,
     .proj_clip = 0.3f},
    {.B = 3,
     .T = 6,
     .I = 4,
     .H = 5,
     .P = 3,
     .proj = true,
     .cell_clip = 0.6f,
     .proj_clip = 0.3f,
     .reverse = true},
    {.B = 3, .T = 7, .I = 5, .H = 3, .bias = true, .c0 = true, .cell_clip = 0.5f},
    {.B = 2, .T = 4, .I = 2, .H = 3, .P = 5, .proj = true, .bias = true, .h0 = true},
    {.B = 1, .T = 1, .I = 1, .H = 1, .bias = true, .h0 = true, .c0 = true},
    {.B = 1, .T = 1, .I = 1, .H = 1, .P = 1, .proj = true, .reverse = true},
};

/* The LSTM over a sequence equals the cell applied step by step, and the final
 * state is the state after the last step processed (t = 0 when reversed). */
START_TEST(test_forward_matches_cell) {
    for (size_t k = 0; k < sizeof forward_cfgs / sizeof *forward_cfgs; k++) {
        lstm_ctx c;
        lstm_setup(&c, &forward_cfgs[k]);
        lstm_fill(&c, 100 + k);
        int64_t B = c.cfg.B, T = c.cfg.T, H = c.cfg.H, P = c.cfg.P;
        float *y = malloc((size_t)(B * T * P) * sizeof *y);
        float *hl = malloc((size_t)(B * P) * sizeof *hl),
              *cl = malloc((size_t)(B * H) * sizeof *cl);
        ref_stats st = ref_lstm(&c, y, hl, cl);
        if (c.cfg.cell_clip > 0)
            ck_assert_msg(st.cell_clipped > 0, "config %zu: cell clip idle", k);
        if (c.cfg.proj_clip > 0)
            ck_assert_msg(st.proj_clipped > 0, "config %zu: proj clip idle", k);
        for (int recording = 0; recording < 2; recording++) {
            zoo_graph *g = zoo_graph_new(0);
            zoo_graph_set_recording(g, recording);
            zoo_tensor *fh = NULL, *fc = NULL;
            zoo_tensor *out = zoo_lstm(g, c.x, &c.w, c.h0, c.c0, c.cfg.reverse, &fh, &fc);
            ck_assert_msg(out != NULL, "config %zu: %s", k, zoo_graph_error(g));
            ck_assert_int_eq(out->ndim, 3);
            ck_assert(out->shape[0] == B && out->shape[1] == T && out->shape[2] == P);
            ck_assert(out->requires_grad == (recording == 1));
            ck_assert_floats_close(zoo_f32(out), y, B * T * P, 2e-5, 1e-4);
            ck_assert(fh->shape[0] == B && fh->shape[1] == P && !fh->requires_grad);
            ck_assert(fc->shape[0] == B && fc->shape[1] == H && !fc->requires_grad);
            ck_assert_floats_close(zoo_f32(fh), hl, B * P, 2e-5, 1e-4);
            ck_assert_floats_close(zoo_f32(fc), cl, B * H, 2e-5, 1e-4);
            int64_t t_last = c.cfg.reverse ? 0 : T - 1;
            for (int64_t b = 0; b < B; b++)
                ck_assert_floats_close(zoo_f32(fh) + b * P, zoo_f32(out) + (b * T + t_last) * P, P,
                                       0, 0);
            zoo_graph_free(g);
        }
        free(y), free(hl), free(cl);
        zoo_params_free(c.p);
    }
}
END_TEST

/* The clipped configurations need inputs where no value lies within `margin`
 * of a clip boundary, so that finite differences never step across one, and
 * where each clip still changes some values. */
static void fill_clear_of_clips(lstm_ctx *c, uint64_t seed, double margin) {
    int64_t B = c->cfg.B, T = c->cfg.T, H = c->cfg.H, P = c->cfg.P;
    float *y = malloc((size_t)(B * T * P) * sizeof *y);
    float *hl = malloc((size_t)(B * P) * sizeof *hl), *cl = malloc((size_t)(B * H) * sizeof *cl);
    bool found = false;
    for (uint64_t s = seed; s < seed + 5000 && !found; s++) {
        lstm_fill(c, s);
        ref_stats st = ref_lstm(c, y, hl, cl);
        found = st.margin > margin && (c->w.cell_clip <= 0 || st.cell_clipped > 0) &&
                (c->w.proj_clip <= 0 || st.proj_clipped > 0);
    }
    ck_assert_msg(found, "no inputs clear of the clip boundaries");
    free(y), free(hl), free(cl);
}

static const lstm_cfg grad_cfgs[] = {
    {.B = 3, .T = 4, .I = 5, .H = 3, .bias = true, .h0 = true, .c0 = true},
    {.B = 2,
     .T = 5,
     .I = 3,
     .H = 5,
     .P = 3,
     .proj = true,
     .bias = true,
     .h0 = true,
     .c0 = true,
     .reverse = true},
    {.B = 2,
     .T = 3,
     .I = 2,
     .H = 3,
     .P = 2,
     .proj = true,
     .bias = true,
     .h0 = true,
     .c0 = true,
     .cell_clip = 0.5f,
     .proj_clip = 0.25f},
    {.B = 2,
     .T = 3,
     .I = 3,
     .H = 3,
     .bias = true,
     .h0 = true,
     .c0 = true,
     .cell_clip = 0.4f,
     .reverse = true},
    {.B = 3, .T = 5, .I = 3, .H = 5, .P = 3, .proj = true},
    {.B = 1, .T = 1, .I = 1, .H = 1, .bias = true, .h0 = true, .c0 = true},
    {.B = 1, .T = 1, .I = 1, .H = 1, .P = 1, .proj = true, .h0 = true, .c0 = true, .reverse = true},
    {.B = 1, .T = 3, .I = 2, .H = 1, .bias = true, .reverse = true},
};

/* Gradients of x, w_ih, w_hh, bias, w_proj, h0 and c0 against finite differences. */
START_TEST(test_backward) {
    for (size_t k = 0; k < sizeof grad_cfgs / sizeof *grad_cfgs; k++) {
        lstm_ctx c;
        lstm_setup(&c, &grad_cfgs[k]);
        if (c.w.cell_clip > 0 || c.w.proj_clip > 0)
            fill_clear_of_clips(&c, 1000 * k, 0.03);
        else
            lstm_fill(&c, 1000 * k);
        gradcheck(c.p, build_lstm, &c, NULL);
        zoo_params_free(c.p);
    }
}
END_TEST

/* Inputs that take no gradient are skipped: a frozen h0 and frozen weights,
 * with only x (and c0) checked. */
START_TEST(test_backward_partial) {
    lstm_cfg cfg = {
        .B = 2, .T = 4, .I = 3, .H = 3, .P = 2, .proj = true, .bias = true, .h0 = true, .c0 = true};
    lstm_ctx c;
    lstm_setup(&c, &cfg);
    lstm_fill(&c, 7);
    const char *frozen[] = {"w_ih", "w_hh", "bias", "w_proj", "h0"};
    for (int i = 0; i < 5; i++) zoo_params_set_frozen(zoo_params_find(c.p, frozen[i]), true);
    gradcheck(c.p, build_lstm, &c, NULL);
    ck_assert_ptr_nonnull(c.x->grad);
    ck_assert_ptr_null(c.h0->grad);
    ck_assert_ptr_null(c.w.w_hh->grad);
    zoo_params_free(c.p);
}
END_TEST

static void expect_error(zoo_tensor *x, const zoo_lstm_weights *w, zoo_tensor *h0, zoo_tensor *c0,
                         const char *msg) {
    zoo_graph *g = zoo_graph_new(0);
    zoo_tensor *fh = (zoo_tensor *)1, *fc = (zoo_tensor *)1;
    ck_assert_ptr_null(zoo_lstm(g, x, w, h0, c0, false, &fh, &fc));
    ck_assert_ptr_null(fh);
    ck_assert_ptr_null(fc);
    ck_assert_int_eq(zoo_graph_status(g), ZOO_ERR_SHAPE);
    ck_assert_str_eq(zoo_graph_error(g), msg);
    zoo_graph_free(g);
}

START_TEST(test_errors) {
    zoo_graph *g = zoo_graph_new(0);
    zoo_tensor *x = zoo_zeros(g, ZOO_F32, 2, 5, 3), *x2 = zoo_zeros(g, ZOO_F32, 2, 3);
    zoo_tensor *xi = zoo_zeros(g, ZOO_I32, 2, 5, 3);
    zoo_tensor *w_ih = zoo_zeros(g, ZOO_F32, 12, 3), *w_hh = zoo_zeros(g, ZOO_F32, 12, 3);
    zoo_lstm_weights w = {.w_ih = w_ih, .w_hh = w_hh};
    zoo_tensor *h0 = zoo_zeros(g, ZOO_F32, 2, 3);

    expect_error(x2, &w, NULL, NULL, "zoo_lstm: x must be [B,T,I], got [2,3]");
    expect_error(xi, &w, NULL, NULL, "zoo_lstm: x must be float32");
    zoo_lstm_weights bad = w;
    bad.w_ih = zoo_zeros(g, ZOO_F32, 10, 3);
    expect_error(x, &bad, NULL, NULL,
                 "zoo_lstm: w_ih must be [4H,I] with I = 3 (x is [2,5,3]), got [10,3]");
    bad.w_ih = zoo_zeros(g, ZOO_F32, 12, 4);
    expect_error(x, &bad, NULL, NULL,
                 "zoo_lstm: w_ih must be [4H,I] with I = 3 (x is [2,5,3]), got [12,4]");
    bad = w, bad.w_hh = zoo_zeros(g, ZOO_F32, 12, 4);
    expect_error(x, &bad, NULL, NULL, "zoo_lstm: w_hh must be [4H,P] = [12,3], got [12,4]");
    bad = w, bad.bias = zoo_zeros(g, ZOO_F32, 8);
    expect_error(x, &bad, NULL, NULL, "zoo_lstm: bias must be [4H] = [12], got [8]");
    bad = w, bad.w_proj = zoo_zeros(g, ZOO_F32, 2, 4);
    expect_error(x, &bad, NULL, NULL, "zoo_lstm: w_proj must be [P,H] with H = 3, got [2,4]");
    bad = w, bad.w_proj = zoo_zeros(g, ZOO_F32, 2, 3); /* w_hh must then be [12,2] */
    expect_error(x, &bad, NULL, NULL, "zoo_lstm: w_hh must be [4H,P] = [12,2], got [12,3]");
    expect_error(x, &w, zoo_zeros(g, ZOO_F32, 2, 2), NULL,
                 "zoo_lstm: h0 must be [B,P] = [2,3], got [2,2]");
    expect_error(x, &w, h0, zoo_zeros(g, ZOO_F32, 3, 3),
                 "zoo_lstm: c0 must be [B,H] = [2,3], got [3,3]");
    expect_error(x, &w, h0, zoo_zeros(g, ZOO_F32, 2, 3, 1),
                 "zoo_lstm: c0 must be [B,H] = [2,3], got [2,3,1]");

    /* a NULL input (an earlier failure) gives NULL; the first error sticks */
    ck_assert_ptr_null(zoo_lstm(g, NULL, &w, NULL, NULL, false, NULL, NULL));
    ck_assert_ptr_null(zoo_lstm(g, x2, &w, NULL, NULL, false, NULL, NULL));
    ck_assert_ptr_null(zoo_lstm(g, x, &w, NULL, NULL, false, NULL, NULL));
    ck_assert_str_eq(zoo_graph_error(g), "zoo_lstm: x must be [B,T,I], got [2,3]");
    zoo_graph_reset(g);
    zoo_graph_free(g);
}
END_TEST

Suite *make_suite(void) {
    Suite *s = suite_create("lstm");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_forward_matches_cell);
    tcase_add_test(tc, test_backward);
    tcase_add_test(tc, test_backward_partial);
    tcase_add_test(tc, test_errors);
    suite_add_tcase(s, tc);
    return s;
}
