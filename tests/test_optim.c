#include <math.h>
#include <stdlib.h>

#include "check_util.h"

/* The out-of-memory test asks for an impossible allocation; under
 * AddressSanitizer that must come back as NULL rather than abort. */
const char *__asan_default_options(void);
const char *__asan_default_options(void) {
    return "allocator_may_return_null=1";
}

#define NSTEPS 5
/* Above core's ZOO_PARALLEL_GRAIN (internal.h, 32768), where updates go to the pool. */
#define ZOO_PARALLEL_GRAIN_TEST 32768

/* A parameter with a gradient buffer the test fills itself. */
static zoo_param *param_with_grad(zoo_params *p, zoo_rng *rng, const char *name, int64_t n,
                                  unsigned flags) {
    RAND_PARAM(p, rng, name, -1, 1, n);
    zoo_param *q = zoo_params_find(p, name);
    q->flags |= flags;
    q->value->grad = calloc((size_t)n, sizeof(float));
    ck_assert_ptr_nonnull(q->value->grad);
    return q;
}

/* Double-precision reference of one parameter: weights and optimizer state. */
typedef struct ref {
    double w[16], m[16], v[16];
    int64_t n;
    bool decay;
} ref;

static void ref_init(ref *r, const zoo_param *q) {
    r->n = q->value->numel;
    r->decay = !(q->flags & ZOO_PARAM_NO_DECAY);
    for (int64_t i = 0; i < r->n; i++) r->w[i] = zoo_f32(q->value)[i], r->m[i] = r->v[i] = 0;
}

/* torch.optim's recurrences, written out in double. */
static void ref_step(ref *r, const zoo_optim_config *c, const float *grad, double lr, int step) {
    double wd = r->decay ? c->weight_decay : 0;
    for (int64_t i = 0; i < r->n; i++) {
        double g = grad[i];
        if (c->kind == ZOO_OPTIM_SGD) {
            g += wd * r->w[i];
            if (c->momentum > 0) g = r->m[i] = step == 1 ? g : c->momentum * r->m[i] + g;
            r->w[i] -= lr * g;
            continue;
        }
        if (c->kind == ZOO_OPTIM_ADAMW)
            r->w[i] *= 1 - lr * wd;
        else
            g += wd * r->w[i];
        r->m[i] = c->beta1 * r->m[i] + (1 - c->beta1) * g;
        r->v[i] = c->beta2 * r->v[i] + (1 - c->beta2) * g * g;
        double mhat = r->m[i] / (1 - pow(c->beta1, step));
        double vhat = r->v[i] / (1 - pow(c->beta2, step));
        r->w[i] -= lr * mhat / (sqrt(vhat) + c->eps);
    }
}

static void assert_matches(const zoo_param *q, const ref *r, const zoo_optim_config *c) {
    float w[16], m[16], v[16];
    for (int64_t i = 0; i < r->n; i++)
        w[i] = (float)r->w[i], m[i] = (float)r->m[i], v[i] = (float)r->v[i];
    ck_assert_floats_close(zoo_f32(q->value), w, r->n, 1e-6, 1e-5);
    bool has_m = c->kind != ZOO_OPTIM_SGD || c->momentum > 0;
    if (has_m)
        ck_assert_floats_close(q->m, m, r->n, 1e-7, 1e-5);
    else
        ck_assert_ptr_null(q->m);
    if (c->kind != ZOO_OPTIM_SGD)
        ck_assert_floats_close(q->v, v, r->n, 1e-9, 1e-5);
    else
        ck_assert_ptr_null(q->v);
}

/* A decayed and a NO_DECAY parameter stepped NSTEPS times with a new fixed
 * gradient each step, against the double-precision recurrences. */
static void check_closed_form(const zoo_optim_config *c, float lr, uint64_t seed) {
    zoo_rng rng;
    zoo_rng_seed(&rng, seed);
    zoo_params *p = zoo_params_new();
    zoo_param *qs[2] = {param_with_grad(p, &rng, "w", 7, 0),
                        param_with_grad(p, &rng, "b", 3, ZOO_PARAM_NO_DECAY)};
    ref refs[2];
    for (int k = 0; k < 2; k++) ref_init(&refs[k], qs[k]);
    for (int step = 1; step <= NSTEPS; step++) {
        for (int k = 0; k < 2; k++) {
            zoo_rng_fill_normal(&rng, qs[k]->value->grad, (size_t)refs[k].n, 0, 1);
            ref_step(&refs[k], c, qs[k]->value->grad, lr, step);
        }
        ck_assert_int_eq(zoo_optim_step(p, c, lr, step), ZOO_OK);
        for (int k = 0; k < 2; k++) assert_matches(qs[k], &refs[k], c);
    }
    zoo_params_free(p);
}

START_TEST(test_defaults) {
    zoo_optim_config c = zoo_optim_defaults(ZOO_OPTIM_ADAMW);
    ck_assert_int_eq(c.kind, ZOO_OPTIM_ADAMW);
    ck_assert_float_eq(c.momentum, 0);
    ck_assert_float_eq(c.beta1, 0.9f);
    ck_assert_float_eq(c.beta2, 0.999f);
    ck_assert_float_eq(c.eps, 1e-8f);
    ck_assert_float_eq(c.weight_decay, 0);
    ck_assert_int_eq(zoo_optim_defaults(ZOO_OPTIM_SGD).kind, ZOO_OPTIM_SGD);
}
END_TEST

START_TEST(test_sgd_closed_form) {
    const float momenta[] = {0, 0.9f}, decays[] = {0, 0.1f};
    for (int a = 0; a < 2; a++)
        for (int b = 0; b < 2; b++) {
            zoo_optim_config c = zoo_optim_defaults(ZOO_OPTIM_SGD);
            c.momentum = momenta[a];
            c.weight_decay = decays[b];
            check_closed_form(&c, 0.05f, (uint64_t)(10 + 2 * a + b));
        }
}
END_TEST

START_TEST(test_adam_closed_form) {
    zoo_optim_config c = zoo_optim_defaults(ZOO_OPTIM_ADAM);
    check_closed_form(&c, 0.01f, 20);
    c.weight_decay = 0.1f;
    check_closed_form(&c, 0.01f, 21);
    c.beta1 = 0.8f, c.beta2 = 0.95f, c.eps = 1e-3f; /* eps large enough to matter */
    check_closed_form(&c, 0.02f, 22);
}
END_TEST

START_TEST(test_adamw_closed_form) {
    zoo_optim_config c = zoo_optim_defaults(ZOO_OPTIM_ADAMW);
    c.weight_decay = 0.1f;
    check_closed_form(&c, 0.01f, 30);
    c.weight_decay = 0.5f, c.beta2 = 0.95f;
    check_closed_form(&c, 0.05f, 31);
}
END_TEST

/* Frozen parameters (even holding a stale gradient) and parameters without a
 * gradient keep their weights and get no state. */
START_TEST(test_skips_frozen_and_gradless) {
    const zoo_optim_kind kinds[] = {ZOO_OPTIM_SGD, ZOO_OPTIM_ADAM, ZOO_OPTIM_ADAMW};
    for (int k = 0; k < 3; k++) {
        zoo_rng rng;
        zoo_rng_seed(&rng, 40 + (uint64_t)k);
        zoo_params *p = zoo_params_new();
        zoo_param *live = param_with_grad(p, &rng, "live", 4, 0);
        zoo_param *frozen = param_with_grad(p, &rng, "frozen", 4, 0);
        zoo_params_set_frozen(frozen, true);
        RAND_PARAM(p, &rng, "nograd", -1, 1, 4);
        zoo_param *nograd = zoo_params_find(p, "nograd");
        float before[3][4];
        zoo_param *qs[3] = {live, frozen, nograd};
        for (int i = 0; i < 3; i++) {
            memcpy(before[i], qs[i]->value->data, sizeof before[i]);
            if (qs[i]->value->grad) zoo_rng_fill_normal(&rng, qs[i]->value->grad, 4, 0, 1);
        }
        zoo_optim_config c = zoo_optim_defaults(kinds[k]);
        c.momentum = 0.9f;
        c.weight_decay = 0.1f;
        for (int step = 1; step <= 3; step++)
            ck_assert_int_eq(zoo_optim_step(p, &c, 0.1f, step), ZOO_OK);
        ck_assert_mem_ne(before[0], live->value->data, sizeof before[0]);
        ck_assert_ptr_nonnull(live->m);
        for (int i = 1; i < 3; i++) {
            ck_assert_mem_eq(before[i], qs[i]->value->data, sizeof before[i]);
            ck_assert_ptr_null(qs[i]->m);
            ck_assert_ptr_null(qs[i]->v);
        }
        zoo_params_free(p);
    }
}
END_TEST

START_TEST(test_bad_arguments) {
    zoo_rng rng;
    zoo_rng_seed(&rng, 50);
    zoo_params *p = zoo_params_new();
    zoo_param *q = param_with_grad(p, &rng, "w", 4, 0);
    zoo_rng_fill_normal(&rng, q->value->grad, 4, 0, 1);
    float before[4];
    memcpy(before, q->value->data, sizeof before);
    zoo_optim_config adam = zoo_optim_defaults(ZOO_OPTIM_ADAM);

    zoo_error_clear();
    ck_assert_int_eq(zoo_optim_step(p, &adam, 0.1f, 0), ZOO_ERR_ARG);
    ck_assert_str_eq(zoo_error_message(), "zoo_optim_step: step counts from 1, got 0");
    ck_assert_int_eq(zoo_optim_step(p, &adam, -0.1f, 1), ZOO_ERR_ARG);
    ck_assert_int_eq(zoo_optim_step(p, &adam, NAN, 1), ZOO_ERR_ARG);
    ck_assert_int_eq(zoo_optim_step(NULL, &adam, 0.1f, 1), ZOO_ERR_ARG);
    ck_assert_int_eq(zoo_optim_step(p, NULL, 0.1f, 1), ZOO_ERR_ARG);
    zoo_optim_config bad = adam;
    bad.kind = (zoo_optim_kind)42;
    ck_assert_int_eq(zoo_optim_step(p, &bad, 0.1f, 1), ZOO_ERR_ARG);
    ck_assert_str_eq(zoo_error_message(), "zoo_optim_step: unknown optimizer kind 42");
    bad = adam, bad.beta1 = 1;
    ck_assert_int_eq(zoo_optim_step(p, &bad, 0.1f, 1), ZOO_ERR_ARG);
    bad = adam, bad.beta2 = -0.5f;
    ck_assert_int_eq(zoo_optim_step(p, &bad, 0.1f, 1), ZOO_ERR_ARG);
    bad = adam, bad.eps = -1;
    ck_assert_int_eq(zoo_optim_step(p, &bad, 0.1f, 1), ZOO_ERR_ARG);
    bad = adam, bad.weight_decay = -0.1f;
    ck_assert_int_eq(zoo_optim_step(p, &bad, 0.1f, 1), ZOO_ERR_ARG);
    bad = zoo_optim_defaults(ZOO_OPTIM_SGD), bad.momentum = -0.9f;
    ck_assert_int_eq(zoo_optim_step(p, &bad, 0.1f, 1), ZOO_ERR_ARG);
    ck_assert_mem_eq(before, q->value->data, sizeof before);
    ck_assert_ptr_null(q->m);
    zoo_params_free(p);
}
END_TEST

/* State for a parameter too large to allocate: ZOO_ERR_NOMEM naming it, and
 * no parameter updated, not even the ones before it. */
START_TEST(test_out_of_memory) {
    zoo_rng rng;
    zoo_rng_seed(&rng, 60);
    zoo_params *p = zoo_params_new();
    zoo_param *small = param_with_grad(p, &rng, "small", 4, 0);
    zoo_param *huge = param_with_grad(p, &rng, "huge", 4, 0);
    zoo_rng_fill_normal(&rng, small->value->grad, 4, 0, 1);
    float before[4];
    memcpy(before, small->value->data, sizeof before);
    huge->value->numel = (int64_t)1 << 60; /* a lie the optimizer cannot allocate for */
    zoo_optim_config c = zoo_optim_defaults(ZOO_OPTIM_ADAMW);
    ck_assert_int_eq(zoo_optim_step(p, &c, 0.1f, 1), ZOO_ERR_NOMEM);
    ck_assert_ptr_nonnull(strstr(zoo_error_message(), "'huge'"));
    ck_assert_mem_eq(before, small->value->data, sizeof before);
    ck_assert_ptr_null(huge->m);
    huge->value->numel = 4;
    zoo_params_free(p);
}
END_TEST

static double grad_norm(zoo_param *const *qs, int n) {
    double s = 0;
    for (int k = 0; k < n; k++)
        for (int64_t i = 0; i < qs[k]->value->numel; i++)
            s += (double)qs[k]->value->grad[i] * qs[k]->value->grad[i];
    return sqrt(s);
}

START_TEST(test_clip_grad_norm) {
    zoo_rng rng;
    zoo_rng_seed(&rng, 70);
    zoo_params *p = zoo_params_new();
    zoo_param *qs[2] = {param_with_grad(p, &rng, "a", 9, 0), param_with_grad(p, &rng, "b", 5, 0)};
    zoo_param *frozen = param_with_grad(p, &rng, "frozen", 3, 0);
    zoo_params_set_frozen(frozen, true);
    RAND_PARAM(p, &rng, "nograd", -1, 1, 2);
    for (int k = 0; k < 2; k++)
        zoo_rng_fill_normal(&rng, qs[k]->value->grad, (size_t)qs[k]->value->numel, 0, 2);
    const float frozen_grad[3] = {100, -200, 300}; /* would dominate the norm if counted */
    memcpy(frozen->value->grad, frozen_grad, sizeof frozen_grad);
    double norm = grad_norm(qs, 2);
    float ga[9], gb[5];
    memcpy(ga, qs[0]->value->grad, sizeof ga);
    memcpy(gb, qs[1]->value->grad, sizeof gb);

    /* Below the threshold, and with clipping off: measured, nothing changes. */
    ck_assert_double_eq_tol(zoo_clip_grad_norm(p, (float)(2 * norm)), norm, 1e-5 * norm);
    ck_assert_double_eq_tol(zoo_clip_grad_norm(p, 0), norm, 1e-5 * norm);
    ck_assert_mem_eq(ga, qs[0]->value->grad, sizeof ga);
    ck_assert_mem_eq(gb, qs[1]->value->grad, sizeof gb);

    /* Above: every gradient scaled by max/(norm + 1e-6), the frozen one left alone. */
    float max_norm = (float)(norm / 3);
    ck_assert_double_eq_tol(zoo_clip_grad_norm(p, max_norm), norm, 1e-5 * norm);
    double c = max_norm / (norm + 1e-6);
    for (int i = 0; i < 9; i++) ga[i] = (float)(ga[i] * c);
    for (int i = 0; i < 5; i++) gb[i] = (float)(gb[i] * c);
    ck_assert_floats_close(qs[0]->value->grad, ga, 9, 0, 1e-6);
    ck_assert_floats_close(qs[1]->value->grad, gb, 5, 0, 1e-6);
    ck_assert_double_eq_tol(grad_norm(qs, 2), max_norm, 1e-5 * max_norm);
    ck_assert_mem_eq(frozen->value->grad, frozen_grad, sizeof frozen_grad);
    zoo_params_free(p);
}
END_TEST

/* Gradients larger than the pool's split (blocks of 65536, 256 blocks a
 * group) give the same norm, to the bit, on 1 and 3 threads, and the scaling
 * reaches every element. */
START_TEST(test_clip_grad_norm_threads) {
    zoo_rng rng;
    zoo_rng_seed(&rng, 71);
    zoo_params *p = zoo_params_new();
    zoo_param *qs[2] = {param_with_grad(p, &rng, "big", 17000001, 0),
                        param_with_grad(p, &rng, "small", 7, 0)};
    for (int k = 0; k < 2; k++)
        zoo_rng_fill_normal(&rng, qs[k]->value->grad, (size_t)qs[k]->value->numel, 0, 1);
    double norm = grad_norm(qs, 2);
    float last = qs[0]->value->grad[17000000];
    float by[2];
    for (int k = 0; k < 2; k++) {
        zoo_threads_set(k ? 3 : 1);
        by[k] = zoo_clip_grad_norm(p, 0);
    }
    ck_assert_mem_eq(&by[0], &by[1], sizeof by[0]);
    ck_assert_double_eq_tol(by[0], norm, 1e-6 * norm);
    zoo_threads_set(3);
    zoo_clip_grad_norm(p, (float)(norm / 2));
    zoo_threads_set(1);
    ck_assert_float_eq_tol(qs[0]->value->grad[17000000], last * 0.5f, 1e-6f);
    ck_assert_double_eq_tol(grad_norm(qs, 2), norm / 2, 1e-5 * norm);
    zoo_params_free(p);
}
END_TEST

/* Clipping folded into the update moves the weights exactly as clipping
 * and then stepping, leaves the gradients alone, and the factor is 1 when
 * there is nothing to clip. */
START_TEST(test_step_scaled_equals_clip_then_step) {
    zoo_params *stores[2];
    for (int k = 0; k < 2; k++) {
        zoo_rng rng;
        zoo_rng_seed(&rng, 72);
        stores[k] = zoo_params_new();
        zoo_param *a = param_with_grad(stores[k], &rng, "a", 100000, 0);
        zoo_param *b = param_with_grad(stores[k], &rng, "b", 5, ZOO_PARAM_NO_DECAY);
        zoo_rng_fill_normal(&rng, a->value->grad, 100000, 0, 1);
        zoo_rng_fill_normal(&rng, b->value->grad, 5, 0, 1);
    }
    zoo_optim_config cfg = zoo_optim_defaults(ZOO_OPTIM_ADAMW);
    cfg.weight_decay = 0.1f;
    float kept[5];
    memcpy(kept, zoo_params_find(stores[1], "b")->value->grad, sizeof kept);
    float norm = zoo_clip_grad_norm(stores[0], 2.0f);
    ck_assert_int_eq(zoo_optim_step(stores[0], &cfg, 1e-2f, 1), ZOO_OK);
    float c = zoo_clip_factor(zoo_grad_norm(stores[1]), 2.0f);
    ck_assert_float_eq(zoo_grad_norm(stores[1]), norm);
    ck_assert_float_eq_tol(c, 2.0 / (norm + 1e-6), 1e-6);
    ck_assert_int_eq(zoo_optim_step_scaled(stores[1], &cfg, 1e-2f, 1, c), ZOO_OK);
    for (int i = 0; i < 2; i++) {
        const char *name = i ? "b" : "a";
        zoo_tensor *x = zoo_params_find(stores[0], name)->value,
                   *y = zoo_params_find(stores[1], name)->value;
        ck_assert_mem_eq(x->data, y->data, (size_t)x->numel * sizeof(float));
    }
    ck_assert_mem_eq(zoo_params_find(stores[1], "b")->value->grad, kept, sizeof kept);
    ck_assert_float_eq(zoo_clip_factor(norm, 2 * norm), 1.0f);
    ck_assert_float_eq(zoo_clip_factor(norm, 0), 1.0f);
    ck_assert_float_eq(zoo_clip_factor(INFINITY, 1), 1.0f);
    ck_assert_float_eq(zoo_clip_factor(NAN, 1), 1.0f);
    ck_assert_int_eq(zoo_optim_step_scaled(stores[1], &cfg, 1e-2f, 2, NAN), ZOO_ERR_ARG);
    for (int k = 0; k < 2; k++) zoo_params_free(stores[k]);
}
END_TEST

START_TEST(test_schedules) {
    const double lr = 0.5, min_lr = 0.05;
    zoo_schedule s = {.kind = ZOO_SCHEDULE_COSINE,
                      .lr = (float)lr,
                      .min_lr = (float)min_lr,
                      .warmup = 10,
                      .total_steps = 110};
    const double tol = 1e-7;
    ck_assert_double_eq_tol(zoo_schedule_lr(&s, 0), lr / 10, tol);
    ck_assert_double_eq_tol(zoo_schedule_lr(&s, -3), lr / 10, tol);
    ck_assert_double_eq_tol(zoo_schedule_lr(&s, 4), lr / 2, tol);
    ck_assert_double_eq_tol(zoo_schedule_lr(&s, 9), lr, tol);
    ck_assert_double_eq_tol(zoo_schedule_lr(&s, 10), lr, tol);
    ck_assert_double_eq_tol(zoo_schedule_lr(&s, 35), min_lr + 0.5 * (lr - min_lr) * (1 + sqrt(0.5)),
                            tol);
    ck_assert_double_eq_tol(zoo_schedule_lr(&s, 60), (lr + min_lr) / 2, tol);
    ck_assert_double_eq_tol(zoo_schedule_lr(&s, 109),
                            min_lr + 0.5 * (lr - min_lr) * (1 + cos(M_PI * 0.99)), tol);
    ck_assert_float_eq(zoo_schedule_lr(&s, 110), (float)min_lr);
    ck_assert_float_eq(zoo_schedule_lr(&s, 5000), (float)min_lr);

    s.kind = ZOO_SCHEDULE_LINEAR;
    ck_assert_double_eq_tol(zoo_schedule_lr(&s, 0), lr / 10, tol);
    ck_assert_double_eq_tol(zoo_schedule_lr(&s, 9), lr, tol);
    ck_assert_double_eq_tol(zoo_schedule_lr(&s, 10), lr, tol);
    ck_assert_double_eq_tol(zoo_schedule_lr(&s, 35), lr + (min_lr - lr) * 0.25, tol);
    ck_assert_double_eq_tol(zoo_schedule_lr(&s, 60), (lr + min_lr) / 2, tol);
    ck_assert_float_eq(zoo_schedule_lr(&s, 110), (float)min_lr);
    ck_assert_float_eq(zoo_schedule_lr(&s, 111), (float)min_lr);

    /* No warm-up: the decay starts at lr on step 0. */
    s.warmup = 0;
    ck_assert_double_eq_tol(zoo_schedule_lr(&s, 0), lr, tol);
    ck_assert_double_eq_tol(zoo_schedule_lr(&s, 55), (lr + min_lr) / 2, tol);

    /* total_steps <= warmup: warm-up, then the floor. */
    s.kind = ZOO_SCHEDULE_COSINE, s.warmup = 10, s.total_steps = 5;
    ck_assert_double_eq_tol(zoo_schedule_lr(&s, 6), lr * 7 / 10, tol);
    ck_assert_float_eq(zoo_schedule_lr(&s, 10), (float)min_lr);
    s.total_steps = 10;
    ck_assert_double_eq_tol(zoo_schedule_lr(&s, 9), lr, tol);
    ck_assert_float_eq(zoo_schedule_lr(&s, 10), (float)min_lr);

    s.kind = ZOO_SCHEDULE_CONSTANT;
    for (int64_t step = 0; step < 200; step += 37)
        ck_assert_float_eq(zoo_schedule_lr(&s, step), (float)lr);

    s.kind = (zoo_schedule_kind)9;
    ck_assert(isnan(zoo_schedule_lr(&s, 0)));
    ck_assert_str_eq(zoo_error_message(), "zoo_schedule_lr: unknown schedule kind 9");
}
END_TEST

/* End to end: sum((w - t)^2) through the core operators and backward,
 * minimised by Adam under a warm-up + cosine schedule. */
START_TEST(test_adam_minimises_quadratic) {
    enum { N = 17, STEPS = 300 };
    zoo_rng rng;
    zoo_rng_seed(&rng, 80);
    zoo_params *p = zoo_params_new();
    zoo_tensor *w = RAND_PARAM(p, &rng, "w", -1, 1, N);
    float neg_target[N], ones[N];
    zoo_rng_fill_uniform(&rng, neg_target, N, -2, 2);
    for (int i = 0; i < N; i++) ones[i] = 1;
    zoo_schedule sched = {
        .kind = ZOO_SCHEDULE_COSINE, .lr = 0.1f, .min_lr = 0, .warmup = 10, .total_steps = STEPS};
    zoo_optim_config c = zoo_optim_defaults(ZOO_OPTIM_ADAM);
    zoo_graph *g = zoo_graph_new(0);
    double first_loss = -1, loss = 0;
    for (int step = 0; step < STEPS; step++) {
        zoo_graph_reset(g);
        zoo_tensor *nt = zoo_tensor_wrap(g, ZOO_F32, 1, ZOO_SHAPE(N), neg_target);
        zoo_tensor *d = zoo_add(g, w, nt);
        zoo_tensor *sq = zoo_mul(g, d, d);
        ck_assert_msg(sq != NULL, "%s", zoo_graph_error(g));
        loss = 0;
        for (int i = 0; i < N; i++) loss += zoo_f32(sq)[i];
        if (first_loss < 0) first_loss = loss;
        zoo_params_zero_grad(p);
        ck_assert_int_eq(zoo_backward_from(g, sq, ones), ZOO_OK);
        ck_assert_int_eq(zoo_optim_step(p, &c, zoo_schedule_lr(&sched, step), step + 1), ZOO_OK);
    }
    ck_assert_msg(first_loss > 1, "starting loss %g too small to show anything", first_loss);
    ck_assert_msg(loss < 1e-6 * first_loss, "loss %g after %d steps (from %g)", loss, STEPS,
                  first_loss);
    for (int i = 0; i < N; i++) ck_assert_float_eq_tol(zoo_f32(w)[i], -neg_target[i], 2e-3f);
    zoo_graph_free(g);
    zoo_params_free(p);
}
END_TEST

/* Parameters long enough to be split over the pool give bit-identical results
 * to a single thread: every element's update is independent. */
START_TEST(test_threads_do_not_change_results) {
    enum { N = 3 * ZOO_PARALLEL_GRAIN_TEST + 7 };
    const zoo_optim_kind kinds[] = {ZOO_OPTIM_SGD, ZOO_OPTIM_ADAMW};
    for (int k = 0; k < 2; k++) {
        float *out[2];
        for (int run = 0; run < 2; run++) {
            zoo_threads_set(run == 0 ? 1 : 3);
            zoo_rng rng;
            zoo_rng_seed(&rng, 90 + (uint64_t)k);
            zoo_params *p = zoo_params_new();
            zoo_param *q = param_with_grad(p, &rng, "w", N, 0);
            zoo_optim_config c = zoo_optim_defaults(kinds[k]);
            c.momentum = 0.9f, c.weight_decay = 0.1f;
            for (int step = 1; step <= 3; step++) {
                zoo_rng_fill_normal(&rng, q->value->grad, N, 0, 1);
                ck_assert_int_eq(zoo_optim_step(p, &c, 0.01f, step), ZOO_OK);
            }
            out[run] = malloc(N * sizeof(float));
            memcpy(out[run], q->value->data, N * sizeof(float));
            zoo_params_free(p);
        }
        zoo_threads_set(1);
        ck_assert_mem_eq(out[0], out[1], N * sizeof(float));
        free(out[0]);
        free(out[1]);
    }
}
END_TEST

Suite *make_suite(void) {
    Suite *s = suite_create("optim");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_defaults);
    tcase_add_test(tc, test_sgd_closed_form);
    tcase_add_test(tc, test_adam_closed_form);
    tcase_add_test(tc, test_adamw_closed_form);
    tcase_add_test(tc, test_skips_frozen_and_gradless);
    tcase_add_test(tc, test_bad_arguments);
    tcase_add_test(tc, test_out_of_memory);
    tcase_add_test(tc, test_clip_grad_norm);
    tcase_add_test(tc, test_clip_grad_norm_threads);
    tcase_add_test(tc, test_step_scaled_equals_clip_then_step);
    tcase_add_test(tc, test_schedules);
    tcase_add_test(tc, test_adam_minimises_quadratic);
    tcase_add_test(tc, test_threads_do_not_change_results);
    suite_add_tcase(s, tc);
    return s;
}
