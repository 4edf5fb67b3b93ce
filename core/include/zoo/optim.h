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

/* One update of every parameter that has a gradient and is not frozen, with
 * learning rate lr. `step` counts updates from 1 (Adam's bias correction).
 * Allocates optimizer state on first use. Returns ZOO_OK or ZOO_ERR_NOMEM/ARG. */
ZOO_API int zoo_optim_step(zoo_params *p, const zoo_optim_config *cfg, float lr, int64_t step);

/* The global L2 norm of all gradients; if it exceeds max_norm (> 0) every
 * gradient is scaled by max_norm / norm. Returns the norm before clipping. */
ZOO_API float zoo_clip_grad_norm(zoo_params *p, float max_norm);

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

/* Learning rate for the 0-based step: during warm-up lr*(step+1)/warmup;
 * then decay from lr at step warmup to min_lr at step total_steps (and
 * min_lr after). Constant ignores warmup and min_lr. */
ZOO_API float zoo_schedule_lr(const zoo_schedule *s, int64_t step);

#ifdef __cplusplus
}
#endif
#endif
