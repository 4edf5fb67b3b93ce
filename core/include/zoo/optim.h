/* Optimizers, gradient clipping and learning-rate schedules over a zoo_params store. */
#ifndef ZOO_OPTIM_H
#define ZOO_OPTIM_H

#include "zoo/params.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum zoo_optim_kind {
    ZOO_OPTIM_SGD = 0, /* with optional momentum and (L2, coupled) weight decay */
    ZOO_OPTIM_ADAM,    /* weight decay added to the gradient (L2), as torch.optim.Adam */
    ZOO_OPTIM_ADAMW,   /* decoupled weight decay, as torch.optim.AdamW */
} zoo_optim_kind;

typedef struct zoo_optim_config {
    zoo_optim_kind kind;
    float momentum;     /* SGD */
    float beta1, beta2; /* Adam/AdamW */
    float eps;          /* Adam/AdamW */
    float weight_decay; /* skipped for parameters flagged ZOO_PARAM_NO_DECAY */
} zoo_optim_config;

/* Defaults: momentum 0, betas 0.9/0.999, eps 1e-8, weight decay 0. */
ZOO_API zoo_optim_config zoo_optim_defaults(zoo_optim_kind kind);

/* One update of every parameter that has a gradient (value->grad != NULL)
 * and is not frozen, with learning rate lr; the others are left untouched.
 * Matches torch.optim (SGD without dampening or Nesterov), g = value->grad:
 *   SGD:   g += wd*w; with momentum mu > 0: m = mu*m + g (m = g on the first
 *          step); w -= lr*g (lr*m with momentum).
 *   Adam:  g += wd*w; m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g^2;
 *          w -= lr/(1-b1^step) * m / (sqrt(v)/sqrt(1-b2^step) + eps).
 *   AdamW: w *= 1 - lr*wd, then Adam with wd = 0.
 * wd is cfg->weight_decay, 0 for parameters flagged ZOO_PARAM_NO_DECAY.
 * `step` counts updates from 1 and is shared by all parameters (torch keeps a
 * count per parameter: they differ only for a parameter whose first gradient
 * comes after step 1, which here gets the store's bias correction).
 * State (param->m, and param->v for Adam/AdamW: numel floats, zero-filled,
 * freed with the store) is allocated on first use, for every parameter before
 * any is updated. Returns ZOO_OK; ZOO_ERR_NOMEM (message names the parameter,
 * no weight changed); ZOO_ERR_ARG for a NULL store or config, an unknown kind,
 * step < 1, lr or weight_decay negative or not finite, momentum (SGD) negative
 * or not finite, beta1/beta2 outside [0, 1) or eps negative (Adam/AdamW). */
ZOO_API int zoo_optim_step(zoo_params *p, const zoo_optim_config *cfg, float lr, int64_t step);

/* The global L2 norm of the gradients of all non-frozen parameters that have
 * one (squares summed in double), as torch.nn.utils.clip_grad_norm_: when
 * max_norm > 0 and c = max_norm / (norm + 1e-6) is below 1, every such
 * gradient is multiplied by c. max_norm <= 0 only measures; a non-finite norm
 * leaves the gradients as they are (the caller should skip the step).
 * Returns the norm before clipping (0 for a NULL store). */
ZOO_API float zoo_clip_grad_norm(zoo_params *p, float max_norm);

/* The two halves of zoo_clip_grad_norm, for a training loop that folds the
 * clipping into the update (one pass over the gradients fewer):
 *   float c = zoo_clip_factor(zoo_grad_norm(p), max_norm);
 *   zoo_optim_step_scaled(p, cfg, lr, step, c);
 * updates the weights exactly as clipping and then zoo_optim_step would, and
 * leaves the gradients unscaled. zoo_grad_norm measures as zoo_clip_grad_norm
 * and changes nothing; zoo_clip_factor is max_norm / (norm + 1e-6) when that
 * is below 1, max_norm > 0 and norm is finite, and 1 otherwise. */
ZOO_API float zoo_grad_norm(zoo_params *p);
ZOO_API float zoo_clip_factor(float norm, float max_norm);
/* zoo_optim_step with each gradient read as grad_scale * grad; the same
 * errors, and ZOO_ERR_ARG for a non-finite grad_scale. */
ZOO_API int zoo_optim_step_scaled(zoo_params *p, const zoo_optim_config *cfg, float lr,
                                  int64_t step, float grad_scale);

typedef enum zoo_schedule_kind {
    ZOO_SCHEDULE_CONSTANT = 0,
    ZOO_SCHEDULE_COSINE, /* linear warm-up, then cosine decay to min_lr */
    ZOO_SCHEDULE_LINEAR, /* linear warm-up, then linear decay to min_lr */
} zoo_schedule_kind;

typedef struct zoo_schedule {
    zoo_schedule_kind kind;
    float lr;            /* peak learning rate */
    float min_lr;        /* floor reached at total_steps */
    int64_t warmup;      /* steps of linear warm-up from lr/warmup to lr */
    int64_t total_steps; /* length of the run */
} zoo_schedule;

/* Learning rate for the 0-based step (a negative step counts as 0), computed
 * in double. Constant returns lr and ignores everything else. Cosine/linear:
 *   step < warmup:                 lr * (step+1) / warmup  (reaches lr at warmup-1);
 *   warmup <= step < total_steps:  p = (step - warmup) / (total_steps - warmup),
 *     cosine: min_lr + (lr - min_lr) * (1 + cos(pi p)) / 2,
 *     linear: lr + (min_lr - lr) * p   (both lr at step warmup);
 *   step >= total_steps:           min_lr.
 * Warm-up takes precedence: with total_steps <= warmup the rate goes from the
 * warm-up straight to min_lr. warmup <= 0 means none. An unknown kind or a
 * NULL schedule returns NaN with a message (zoo_optim_step refuses NaN). */
ZOO_API float zoo_schedule_lr(const zoo_schedule *s, int64_t step);

#ifdef __cplusplus
}
#endif
#endif
