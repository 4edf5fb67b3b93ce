/* The parameter store: every trainable tensor of a model under a dotted name
 * ("h.0.attn.c_attn.weight"), with its gradient and optimizer state.
 * Checkpoints, optimizers, parameter counts and name mapping to other formats
 * all work by enumerating it. A store owns its tensors; they stay valid (same
 * address) until the store is freed. Names are hashed: adding and looking up
 * a parameter take constant time on average, so building a model is linear in
 * its parameter count. Not thread-safe. */
#ifndef ZOO_PARAMS_H
#define ZOO_PARAMS_H

#include "zoo/rng.h"
#include "zoo/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

enum zoo_param_flags {
    ZOO_PARAM_NO_DECAY = 1u << 0, /* AdamW skips weight decay (biases, norm weights) */
    ZOO_PARAM_FROZEN = 1u << 1,   /* takes no gradient, optimizers skip it */
};

typedef struct zoo_param {
    const char *name;
    zoo_tensor *value; /* .grad is allocated on the first backward that reaches it */
    float *m;          /* optimizer state (first moment / momentum), NULL until used */
    float *v;          /* optimizer state (second moment), NULL until used */
    unsigned flags;
} zoo_param;

typedef struct zoo_params zoo_params;

ZOO_API zoo_params *zoo_params_new(void);
ZOO_API void zoo_params_free(zoo_params *p);

/* Adds a zero-filled float32 parameter. NULL (and a message) if the name is
 * already taken, empty, or the shape invalid. */
ZOO_API zoo_tensor *zoo_params_add(zoo_params *p, const char *name, int ndim, const int64_t *shape,
                                   unsigned flags);
/* The same, initialised as models usually are: from N(0, std) drawn from
 * rng, or every element `value`. */
ZOO_API zoo_tensor *zoo_params_add_normal(zoo_params *p, const char *name, int ndim,
                                          const int64_t *shape, unsigned flags, zoo_rng *rng,
                                          float std);
ZOO_API zoo_tensor *zoo_params_add_filled(zoo_params *p, const char *name, int ndim,
                                          const int64_t *shape, unsigned flags, float value);
ZOO_API zoo_tensor *zoo_params_get(const zoo_params *p, const char *name);
ZOO_API zoo_param *zoo_params_find(zoo_params *p, const char *name);

/* Enumeration in insertion order. */
ZOO_API int zoo_params_count(const zoo_params *p);
ZOO_API zoo_param *zoo_params_at(zoo_params *p, int i);
/* Total number of scalars across all parameters. */
ZOO_API int64_t zoo_params_numel(const zoo_params *p);

/* Sets every gradient that exists to zero. */
ZOO_API void zoo_params_zero_grad(zoo_params *p);
ZOO_API void zoo_params_set_frozen(zoo_param *param, bool frozen);

#ifdef __cplusplus
}
#endif
#endif
