#include <math.h>

#include "check_util.h"

typedef struct {
    zoo_tensor *x, *w, *b, *targets;
    int which; /* 0 layernorm, 1 softmax, 2 log_softmax, 3 cross-entropy */
    int32_t ignore;
} ns_ctx;

static zoo_tensor *build(zoo_graph *g, void *arg) {
    ns_ctx *c = arg;
    switch (c->which) {
    case 0:
        return zoo_layernorm(g, c->x, c->w, c->b, 1e-5f);
    case 1:
        return zoo_softmax(g, c->x);
    case 2:
        return zoo_log_softmax(g, c->x);
    default:
        return zoo_cross_entropy(g, c->x, c->targets, c->ignore);
    }
}

START_TEST(test_layernorm_forward) {
    zoo_graph *g = zoo_graph_new(0);
    zoo_tensor *x = zoo_new(g, ZOO_F32, 2, 4), *w = zoo_new(g, ZOO_F32, 4),
               *b = zoo_new(g, ZOO_F32, 4);
    const float xs[8] = {1, 2, 3, 4, -1, -1, -1, 5};
    memcpy(x->data, xs, sizeof xs);
    for (int i = 0; i < 4; i++) zoo_f32(w)[i] = (float)(i + 1), zoo_f32(b)[i] = 0.5f;
    zoo_tensor *y = zoo_layernorm(g, x, w, b, 1e-5f);
    for (int r = 0; r < 2; r++) {
        double m = 0, v = 0;
        for (int c = 0; c < 4; c++) m += xs[r * 4 + c] / 4.0;
        for (int c = 0; c < 4; c++) v += (xs[r * 4 + c] - m) * (xs[r * 4 + c] - m) / 4.0;
        for (int c = 0; c < 4; c++) {
            float want = (float)((xs[r * 4 + c] - m) / sqrt(v + 1e-5) * (c + 1) + 0.5);
            ck_assert_floats_close(zoo_f32(y) + r * 4 + c, &want, 1, 1e-6, 1e-6);
        }
    }
    zoo_graph_free(g);
}
END_TEST

START_TEST(test_softmax_forward) {
    zoo_graph *g = zoo_graph_new(0);
    zoo_tensor *x = zoo_new(g, ZOO_F32, 2, 3);
    const float xs[6] = {1, 2, 3, 1000, 1000, 1000}; /* the second row would overflow naively */
    memcpy(x->data, xs, sizeof xs);
    zoo_tensor *p = zoo_softmax(g, x), *lp = zoo_log_softmax(g, x);
    double z = exp(1) + exp(2) + exp(3);
    const float want[6] = {
        (float)(exp(1) / z), (float)(exp(2) / z), (float)(exp(3) / z), 1 / 3.f, 1 / 3.f, 1 / 3.f};
    ck_assert_floats_close(zoo_f32(p), want, 6, 1e-7, 1e-6);
    for (int i = 0; i < 6; i++) {
        float l = logf(want[i]);
        ck_assert_floats_close(zoo_f32(lp) + i, &l, 1, 1e-6, 1e-5);
    }
    zoo_graph_free(g);
}
END_TEST

START_TEST(test_cross_entropy_forward) {
    zoo_graph *g = zoo_graph_new(0);
    zoo_tensor *x = zoo_new(g, ZOO_F32, 3, 4);
    zoo_tensor *t = zoo_new(g, ZOO_I32, 3);
    for (int i = 0; i < 12; i++) zoo_f32(x)[i] = 0.25f * (float)(i % 5);
    const int32_t ts[3] = {2, -100, 0};
    memcpy(t->data, ts, sizeof ts);
    zoo_tensor *loss = zoo_cross_entropy(g, x, t, -100);
    double want = 0;
    for (int r = 0; r < 3; r += 2) {
        double z = 0;
        for (int v = 0; v < 4; v++) z += exp(zoo_f32(x)[r * 4 + v]);
        want += log(z) - zoo_f32(x)[r * 4 + ts[r]];
    }
    float wantf = (float)(want / 2); /* the mean over the two targets that count */
    ck_assert_floats_close(zoo_f32(loss), &wantf, 1, 1e-6, 1e-6);
    /* all targets ignored: loss 0, no gradient */
    const int32_t none[3] = {-100, -100, -100};
    memcpy(t->data, none, sizeof none);
    ck_assert_float_eq(zoo_f32(zoo_cross_entropy(g, x, t, -100))[0], 0.0f);
    /* out-of-range target */
    zoo_i32(t)[1] = 4;
    ck_assert_ptr_null(zoo_cross_entropy(g, x, t, -100));
    ck_assert_str_eq(zoo_graph_error(g),
                     "zoo_cross_entropy: target 4 at position 1 is outside [0, 4)");
    zoo_graph_free(g);
}
END_TEST

/* Rows of every length the vectorised log-sum-exp splits differently
 * (under a lane, across lanes and blocks, a vocabulary), with a large
 * offset, against a double reference. */
START_TEST(test_log_softmax_long_rows) {
    zoo_rng rng;
    zoo_rng_seed(&rng, 5);
    const int64_t lengths[] = {1, 7, 8, 9, 255, 257, 30522};
    for (int k = 0; k < 7; k++) {
        int64_t V = lengths[k];
        zoo_graph *g = zoo_graph_new(0);
        zoo_graph_set_recording(g, false);
        zoo_tensor *x = zoo_new(g, ZOO_F32, 2, V);
        zoo_rng_fill_uniform(&rng, x->data, (size_t)x->numel, -8, 8);
        zoo_f32(x)[V + V / 2] = 60; /* a dominant logit in the second row */
        zoo_tensor *y = zoo_log_softmax(g, x);
        for (int64_t r = 0; r < 2; r++) {
            const float *row = zoo_f32(x) + r * V;
            double mx = row[0], sum = 0;
            for (int64_t v = 1; v < V; v++) mx = row[v] > mx ? row[v] : mx;
            for (int64_t v = 0; v < V; v++) sum += exp(row[v] - mx);
            for (int64_t v = 0; v < V; v++) {
                double want = row[v] - mx - log(sum);
                ck_assert_msg(fabs(zoo_f32(y)[r * V + v] - want) <= 2e-6 * fmax(1, fabs(want)),
                              "V %lld row %lld [%lld]: %g, want %g", (long long)V, (long long)r,
                              (long long)v, zoo_f32(y)[r * V + v], want);
            }
        }
        zoo_graph_free(g);
    }
}
END_TEST

START_TEST(test_backward) {
    zoo_rng rng;
    zoo_rng_seed(&rng, 11);
    const int64_t shapes[][3] = {{1, 1, 2}, {2, 3, 5}, {3, 1, 7}};
    for (int which = 0; which < 4; which++)
        for (int s = 0; s < 3; s++)
            for (int affine = 0; affine < (which == 0 ? 2 : 1); affine++) {
                zoo_params *p = zoo_params_new();
                const int64_t *sh = shapes[s];
                ns_ctx c = {.which = which, .ignore = -1};
                c.x = RAND_PARAM(p, &rng, "x", -2, 2, sh[0], sh[1], sh[2]);
                if (affine) {
                    c.w = RAND_PARAM(p, &rng, "w", 0.5f, 1.5f, sh[2]);
                    c.b = RAND_PARAM(p, &rng, "b", -1, 1, sh[2]);
                }
                int32_t targets[64];
                if (which == 3) {
                    for (int64_t i = 0; i < sh[0] * sh[1]; i++)
                        targets[i] =
                            i % 3 == 1 ? -1 : (int32_t)zoo_rng_below(&rng, (uint64_t)sh[2]);
                    c.targets = NULL;
                }
                zoo_graph *holder = zoo_graph_new(0);
                if (which == 3) c.targets = zoo_tensor_wrap(holder, ZOO_I32, 2, sh, targets);
                gradcheck(p, build, &c, NULL);
                zoo_graph_free(holder);
                zoo_params_free(p);
            }
}
END_TEST

/* Rows shared over 3 threads: the same output, and gradients equal up to the
 * order in which the workers' sums of dw and db are added. */
START_TEST(test_layernorm_threads) {
    zoo_rng rng;
    zoo_rng_seed(&rng, 17);
    float *grads[2][3];
    float *outs[2];
    for (int run = 0; run < 2; run++) {
        zoo_threads_set(run ? 3 : 1);
        zoo_rng_seed(&rng, 17);
        zoo_params *p = zoo_params_new();
        ns_ctx c = {.which = 0};
        c.x = RAND_PARAM(p, &rng, "x", -2, 2, 301, 129);
        c.w = RAND_PARAM(p, &rng, "w", 0.5f, 1.5f, 129);
        c.b = RAND_PARAM(p, &rng, "b", -1, 1, 129);
        zoo_graph *g = zoo_graph_new(0);
        zoo_tensor *y = build(g, &c);
        float *seed = malloc((size_t)y->numel * sizeof *seed);
        zoo_rng_fill_uniform(&rng, seed, (size_t)y->numel, -1, 1);
        ck_assert_int_eq(zoo_backward_from(g, y, seed), ZOO_OK);
        outs[run] = malloc((size_t)y->numel * 4);
        memcpy(outs[run], y->data, (size_t)y->numel * 4);
        zoo_tensor *ts[3] = {c.x, c.w, c.b};
        for (int k = 0; k < 3; k++) {
            grads[run][k] = malloc((size_t)ts[k]->numel * 4);
            memcpy(grads[run][k], ts[k]->grad, (size_t)ts[k]->numel * 4);
        }
        free(seed);
        zoo_graph_free(g);
        zoo_params_free(p);
    }
    ck_assert_int_eq(memcmp(outs[0], outs[1], 301 * 129 * 4), 0);
    ck_assert_int_eq(memcmp(grads[0][0], grads[1][0], 301 * 129 * 4),
                     0); /* dx: per row, identical */
    ck_assert_floats_close(grads[0][1], grads[1][1], 129, 1e-4, 1e-5);
    ck_assert_floats_close(grads[0][2], grads[1][2], 129, 1e-4, 1e-5);
    for (int run = 0; run < 2; run++) {
        free(outs[run]);
        for (int k = 0; k < 3; k++) free(grads[run][k]);
    }
    zoo_threads_set(1);
}
END_TEST

START_TEST(test_layernorm_errors) {
    zoo_graph *g = zoo_graph_new(0);
    zoo_tensor *x = zoo_zeros(g, ZOO_F32, 2, 4), *w = zoo_zeros(g, ZOO_F32, 3);
    ck_assert_ptr_null(zoo_layernorm(g, x, w, NULL, 1e-5f));
    ck_assert_str_eq(zoo_graph_error(g), "zoo_layernorm: weight has 3 elements, x's last axis 4");
    zoo_graph_free(g);
}
END_TEST

/* zoo_graph_set_count_sum (data-parallel training): two slices of a batch,
 * each dividing by the count of both, give losses that add up to the whole
 * batch's mean and the whole batch's gradient rows; a failing sum fails the
 * graph. */
static int64_t other_slice_count; /* what "the other process" has */
static int64_t add_other_slice(void *ctx, int64_t local) {
    (void)ctx;
    return local + other_slice_count;
}
static int64_t failing_sum(void *ctx, int64_t local) {
    (void)ctx, (void)local;
    zoo_error(ZOO_ERR_IO, "MPI_Allreduce: connection lost");
    return -1;
}

START_TEST(test_cross_entropy_global_count) {
    zoo_params *p = zoo_params_new();
    zoo_tensor *whole = zoo_params_add(p, "whole", 2, ZOO_SHAPE(6, 5), 0);
    zoo_tensor *half[2] = {zoo_params_add(p, "a", 2, ZOO_SHAPE(3, 5), 0),
                           zoo_params_add(p, "b", 2, ZOO_SHAPE(3, 5), 0)};
    for (int i = 0; i < 30; i++) zoo_f32(whole)[i] = sinf(0.7f * (float)i);
    memcpy(half[0]->data, whole->data, 15 * sizeof(float));
    memcpy(half[1]->data, zoo_f32(whole) + 15, 15 * sizeof(float));
    const int32_t ts[6] = {1, -100, 4,
                           0, 2,    -100}; /* 2 targets in the first half, 2 in the second */
    zoo_graph *g = zoo_graph_new(0);
    zoo_graph_set_recording(g, true);
    zoo_tensor *t = zoo_tensor_wrap(g, ZOO_I32, 1, ZOO_SHAPE(6), (void *)ts);
    zoo_tensor *loss = zoo_cross_entropy(g, whole, t, -100);
    ck_assert_int_eq(zoo_backward(g, loss), ZOO_OK);
    float want = zoo_f32(loss)[0], sum = 0, shares[2];
    for (int h = 0; h < 2; h++) {
        zoo_graph_reset(g);
        zoo_graph_set_count_sum(g, add_other_slice, NULL);
        other_slice_count = 2;
        zoo_tensor *th = zoo_tensor_wrap(g, ZOO_I32, 1, ZOO_SHAPE(3), (void *)(ts + 3 * h));
        zoo_tensor *share = zoo_cross_entropy(g, half[h], th, -100);
        ck_assert_int_eq(zoo_backward(g, share), ZOO_OK);
        sum += shares[h] = zoo_f32(share)[0];
        ck_assert_floats_close(half[h]->grad, whole->grad + 15 * h, 15, 1e-6, 1e-6);
    }
    ck_assert_floats_close(&sum, &want, 1, 1e-6, 1e-6);
    /* the sum over the processes fails: the graph says so */
    zoo_graph_reset(g);
    zoo_graph_set_count_sum(g, failing_sum, NULL);
    t = zoo_tensor_wrap(g, ZOO_I32, 1, ZOO_SHAPE(6), (void *)ts);
    ck_assert_ptr_null(zoo_cross_entropy(g, whole, t, -100));
    ck_assert_str_eq(zoo_graph_error(g), "zoo_cross_entropy: summing the count of targets over "
                                         "the processes: MPI_Allreduce: connection lost");
    /* unset: the slice's own mean again, over its 2 targets of the 4 */
    zoo_graph_reset(g);
    zoo_graph_set_count_sum(g, NULL, NULL);
    zoo_tensor *th = zoo_tensor_wrap(g, ZOO_I32, 1, ZOO_SHAPE(3), (void *)ts);
    float own = zoo_f32(zoo_cross_entropy(g, half[0], th, -100))[0], twice = 2 * shares[0];
    ck_assert_floats_close(&own, &twice, 1, 1e-6, 1e-6);
    zoo_graph_free(g);
    zoo_params_free(p);
}
END_TEST

Suite *make_suite(void) {
    Suite *s = suite_create("norm_softmax");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_layernorm_forward);
    tcase_add_test(tc, test_softmax_forward);
    tcase_add_test(tc, test_cross_entropy_forward);
    tcase_add_test(tc, test_cross_entropy_global_count);
    tcase_add_test(tc, test_log_softmax_long_rows);
    tcase_add_test(tc, test_backward);
    tcase_add_test(tc, test_layernorm_errors);
    tcase_add_test(tc, test_layernorm_threads);
    suite_add_tcase(s, tc);
    return s;
}
