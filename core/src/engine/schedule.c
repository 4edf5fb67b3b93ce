/* Learning-rate schedules: constant, and linear warm-up followed by cosine or linear decay. */
#include <math.h>

#include "zoo/optim.h"
#include "zoo/status.h"

float zoo_schedule_lr(const zoo_schedule *s, int64_t step) {
    if (!s) {
        zoo_error(ZOO_ERR_ARG, "zoo_schedule_lr: NULL schedule");
        return NAN;
    }
    if (s->kind == ZOO_SCHEDULE_CONSTANT) return s->lr;
    if (s->kind != ZOO_SCHEDULE_COSINE && s->kind != ZOO_SCHEDULE_LINEAR) {
        /* NaN, not a guess: zoo_optim_step refuses it, so the error surfaces at once. */
        zoo_error(ZOO_ERR_ARG, "zoo_schedule_lr: unknown schedule kind %d", (int)s->kind);
        return NAN;
    }
    if (step < 0) step = 0;
    int64_t warmup = s->warmup > 0 ? s->warmup : 0;
    /* step+1 so that the first step already moves and the last warm-up step reaches lr. */
    if (step < warmup) return (float)((double)s->lr * (double)(step + 1) / (double)warmup);
    /* Also covers total_steps <= warmup: no decay phase, straight to the floor. */
    if (step >= s->total_steps) return s->min_lr;
    double progress = (double)(step - warmup) / (double)(s->total_steps - warmup);
    double lr = s->lr, min_lr = s->min_lr;
    if (s->kind == ZOO_SCHEDULE_COSINE)
        return (float)(min_lr + 0.5 * (lr - min_lr) * (1.0 + cos(M_PI * progress)));
    return (float)(lr + (min_lr - lr) * progress);
}
