/* SGD, Adam and AdamW over a parameter store, and global gradient-norm
 * clipping, following torch.optim and torch.nn.utils.clip_grad_norm_. */
#include <math.h>
#include <stdlib.h>

#include "internal.h"
#include "zoo/fastmath.h"
#include "zoo/optim.h"
#include "zoo/threads.h"

zoo_optim_config zoo_optim_defaults(zoo_optim_kind kind) {
    return (zoo_optim_config){.kind = kind,
                              .momentum = 0,
                              .beta1 = 0.9f,
                              .beta2 = 0.999f,
                              .eps = 1e-8f,
                              .weight_decay = 0};
}

/* One parameter's update, split over the pool: every element is independent,
 * so the result does not depend on the split. */
typedef struct update {
    float *w;       // (numel)
    const float *g; // (numel)
    float *m;       // (numel) momentum or first moment; NULL for plain SGD
    float *v;       // (numel) second moment (Adam/AdamW)
    float scale;    /* each gradient is read as scale * g (clipping folded in) */
    float lr;
    float wd;    /* coupled (L2) decay added to the gradient, 0 when off */
    float decay; /* AdamW's decoupled factor 1 - lr*wd, 1 when off */
    float mu;
    float b1, b2;
    float step_size; /* lr / (1 - b1^step) */
    float bc2_sqrt;  /* sqrt(1 - b2^step) */
    float eps;
} update;

static void sgd_range(void *ctx, int64_t begin, int64_t end) {
    const update *u = ctx;
    float *w = u->w, *m = u->m;
    const float *grad = u->g;
    for (int64_t i = begin; i < end; i++) {
        float g = grad[i] * u->scale;
        if (u->wd != 0) g += u->wd * w[i];
        /* torch starts the buffer at g; mu*0 + g is exactly g, so a zeroed
         * buffer needs no first-step case. */
        if (m) g = m[i] = u->mu * m[i] + g;
        w[i] -= u->lr * g;
    }
}

/* The settings in locals and the arrays restrict, so that GCC vectorises
 * the loop (AVX2 clone); every element takes the same operations, so the
 * result is the scalar loop's, bit for bit. */
ZOO_VECTOR_CLONES static void adam_range(void *ctx, int64_t begin, int64_t end) {
    const update *u = ctx;
    float *restrict w = u->w, *restrict m = u->m, *restrict v = u->v;
    const float *restrict grad = u->g;
    const float b1 = u->b1, b2 = u->b2, c1 = 1 - b1, c2 = 1 - b2;
    const float decay = u->decay, wd = u->wd, step_size = u->step_size, bc2_sqrt = u->bc2_sqrt,
                eps = u->eps, scale = u->scale;
    for (int64_t i = begin; i < end; i++) {
        float g = grad[i] * scale;
        if (decay != 1) w[i] *= decay;
        if (wd != 0) g += wd * w[i];
        m[i] = b1 * m[i] + c1 * g;
        v[i] = b2 * v[i] + c2 * g * g;
        /* torch's form: the bias corrections fold into the step size and the
         * denominator, so eps is added to sqrt(vhat), not sqrt(v). */
        w[i] -= step_size * m[i] / (sqrtf(v[i]) / bc2_sqrt + eps);
    }
}

static bool takes_update(const zoo_param *q) {
    return !(q->flags & ZOO_PARAM_FROZEN) && q->value->grad != NULL;
}

static int check_config(const zoo_optim_config *cfg, float lr, int64_t step) {
    const char *fn = "zoo_optim_step";
    if (cfg->kind != ZOO_OPTIM_SGD && cfg->kind != ZOO_OPTIM_ADAM && cfg->kind != ZOO_OPTIM_ADAMW)
        return zoo_error(ZOO_ERR_ARG, "%s: unknown optimizer kind %d", fn, (int)cfg->kind);
    if (step < 1)
        return zoo_error(ZOO_ERR_ARG, "%s: step counts from 1, got %lld", fn, (long long)step);
    if (!(isfinite(lr) && lr >= 0))
        return zoo_error(ZOO_ERR_ARG, "%s: learning rate must be finite and >= 0, got %g", fn,
                         (double)lr);
    if (!(isfinite(cfg->weight_decay) && cfg->weight_decay >= 0))
        return zoo_error(ZOO_ERR_ARG, "%s: weight_decay must be finite and >= 0, got %g", fn,
                         (double)cfg->weight_decay);
    if (cfg->kind == ZOO_OPTIM_SGD) {
        if (!(isfinite(cfg->momentum) && cfg->momentum >= 0))
            return zoo_error(ZOO_ERR_ARG, "%s: momentum must be finite and >= 0, got %g", fn,
                             (double)cfg->momentum);
        return ZOO_OK;
    }
    if (!(cfg->beta1 >= 0 && cfg->beta1 < 1))
        return zoo_error(ZOO_ERR_ARG, "%s: beta1 must be in [0, 1), got %g", fn,
                         (double)cfg->beta1);
    if (!(cfg->beta2 >= 0 && cfg->beta2 < 1))
        return zoo_error(ZOO_ERR_ARG, "%s: beta2 must be in [0, 1), got %g", fn,
                         (double)cfg->beta2);
    if (!(isfinite(cfg->eps) && cfg->eps >= 0))
        return zoo_error(ZOO_ERR_ARG, "%s: eps must be finite and >= 0, got %g", fn,
                         (double)cfg->eps);
    return ZOO_OK;
}

/* Zero-filled state for q; false (and a message) when out of memory. */
static bool alloc_state(zoo_param *q, float **state, const char *what) {
    if (*state) return true;
    *state = calloc((size_t)q->value->numel, sizeof(float));
    if (*state) return true;
    zoo_error(ZOO_ERR_NOMEM,
              "zoo_optim_step: out of memory for the %s of parameter '%s' (%lld floats)", what,
              q->name, (long long)q->value->numel);
    return false;
}

int zoo_optim_step(zoo_params *p, const zoo_optim_config *cfg, float lr, int64_t step) {
    return zoo_optim_step_scaled(p, cfg, lr, step, 1.0f);
}

int zoo_optim_step_scaled(zoo_params *p, const zoo_optim_config *cfg, float lr, int64_t step,
                          float grad_scale) {
    if (!p || !cfg) return zoo_error(ZOO_ERR_ARG, "zoo_optim_step: NULL parameter store or config");
    int status = check_config(cfg, lr, step);
    if (status) return status;
    if (!isfinite(grad_scale))
        return zoo_error(ZOO_ERR_ARG, "zoo_optim_step: gradient scale must be finite, got %g",
                         (double)grad_scale);
    const bool sgd = cfg->kind == ZOO_OPTIM_SGD;
    const bool momentum = sgd && cfg->momentum > 0;
    int n = zoo_params_count(p);

    /* All state first, so that running out of memory leaves every weight as it was. */
    for (int i = 0; i < n; i++) {
        zoo_param *q = zoo_params_at(p, i);
        if (!takes_update(q)) continue;
        if (sgd) {
            if (momentum && !alloc_state(q, &q->m, "momentum buffer")) return ZOO_ERR_NOMEM;
        } else if (!alloc_state(q, &q->m, "first moment") ||
                   !alloc_state(q, &q->v, "second moment")) {
            return ZOO_ERR_NOMEM;
        }
    }

    update base = {.scale = grad_scale,
                   .lr = lr,
                   .decay = 1,
                   .mu = cfg->momentum,
                   .b1 = cfg->beta1,
                   .b2 = cfg->beta2,
                   .eps = cfg->eps};
    if (!sgd) {
        /* pow in double: 0.999^step in float loses the correction's low bits early. */
        base.step_size = (float)((double)lr / (1.0 - pow(cfg->beta1, (double)step)));
        base.bc2_sqrt = (float)sqrt(1.0 - pow(cfg->beta2, (double)step));
    }
    for (int i = 0; i < n; i++) {
        zoo_param *q = zoo_params_at(p, i);
        if (!takes_update(q)) continue;
        update u = base;
        u.w = zoo_f32(q->value);
        u.g = q->value->grad;
        u.m = sgd && !momentum ? NULL : q->m;
        u.v = q->v;
        if (cfg->weight_decay > 0 && !(q->flags & ZOO_PARAM_NO_DECAY)) {
            if (cfg->kind == ZOO_OPTIM_ADAMW)
                u.decay = (float)(1.0 - (double)lr * cfg->weight_decay);
            else
                u.wd = cfg->weight_decay;
        }
        zoo_parallel_for(q->value->numel, ZOO_PARALLEL_GRAIN, sgd ? sgd_range : adam_range, &u);
    }
    return ZOO_OK;
}

/* In eight double lanes so that it vectorises; the order is fixed, so the
 * result depends on the data alone. */
ZOO_VECTOR_CLONES static double sum_squares(const float *g, int64_t n) {
    double lane[8] = {0}, sum = 0;
    int64_t j = 0;
    for (; j + 8 <= n; j += 8)
        for (int k = 0; k < 8; k++) lane[k] += (double)g[j + k] * g[j + k];
    for (; j < n; j++) sum += (double)g[j] * g[j];
    for (int k = 0; k < 8; k++) sum += lane[k];
    return sum;
}

/* The gradients are cut into blocks of fixed size whatever the thread count;
 * the pool sums blocks of squares and the caller adds them in order, so the
 * norm is the same on any number of threads. */
#define NORM_BLOCK 65536
#define NORM_GROUP 256 /* blocks summed per parallel call */

typedef struct norm_blocks {
    const float *start[NORM_GROUP];
    int64_t len[NORM_GROUP];
    double sum[NORM_GROUP];
    int count;
} norm_blocks;

static void sum_blocks(void *ctx, int64_t begin, int64_t end) {
    norm_blocks *b = ctx;
    for (int64_t i = begin; i < end; i++) b->sum[i] = sum_squares(b->start[i], b->len[i]);
}

static double flush_blocks(norm_blocks *b) {
    zoo_parallel_for(b->count, 1, sum_blocks, b);
    double total = 0;
    for (int i = 0; i < b->count; i++) total += b->sum[i];
    b->count = 0;
    return total;
}

typedef struct scale_job {
    float *g;
    float c;
} scale_job;

ZOO_VECTOR_CLONES static void scale_range(void *ctx, int64_t begin, int64_t end) {
    const scale_job *s = ctx;
    float *restrict g = s->g;
    for (int64_t j = begin; j < end; j++) g[j] *= s->c;
}

float zoo_grad_norm(zoo_params *p) {
    if (!p) return 0;
    int n = zoo_params_count(p);
    norm_blocks blocks = {.count = 0};
    double sumsq = 0;
    for (int i = 0; i < n; i++) {
        zoo_param *q = zoo_params_at(p, i);
        if (!takes_update(q)) continue;
        for (int64_t at = 0; at < q->value->numel; at += NORM_BLOCK) {
            if (blocks.count == NORM_GROUP) sumsq += flush_blocks(&blocks);
            int64_t left = q->value->numel - at;
            blocks.start[blocks.count] = q->value->grad + at;
            blocks.len[blocks.count++] = left < NORM_BLOCK ? left : NORM_BLOCK;
        }
    }
    sumsq += flush_blocks(&blocks);
    return (float)sqrt(sumsq);
}

float zoo_clip_factor(float norm, float max_norm) {
    /* torch divides by norm + 1e-6 and scales only when that factor is below 1. */
    double coef = (double)max_norm / ((double)norm + 1e-6);
    return max_norm > 0 && isfinite(norm) && coef < 1 ? (float)coef : 1.0f;
}

float zoo_clip_grad_norm(zoo_params *p, float max_norm) {
    float norm = zoo_grad_norm(p), c = zoo_clip_factor(norm, max_norm);
    for (int i = 0; c != 1.0f && i < zoo_params_count(p); i++) {
        zoo_param *q = zoo_params_at(p, i);
        if (!takes_update(q)) continue;
        scale_job s = {q->value->grad, c};
        zoo_parallel_for(q->value->numel, ZOO_PARALLEL_GRAIN, scale_range, &s);
    }
    return norm;
}
