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
 * already taken, empty, or the shape invalid; NULL with ZOO_ERR_NOMEM, before
 * anything is allocated, if the store's values would then take more than
 * zoo_memory_limit() (the message names the parameter, its size, the total
 * and the limit): a model too big for the machine is refused, not killed by
 * the kernel while it is initialised. */
ZOO_API zoo_tensor *zoo_params_add(zoo_params *p, const char *name, int ndim, const int64_t *shape,
                                   unsigned flags);
/* The same, initialised as models usually are: from N(0, std) drawn from
 * rng, or every element `value`. */
ZOO_API zoo_tensor *zoo_params_add_normal(zoo_params *p, const char *name, int ndim,
                                          const int64_t *shape, unsigned flags, zoo_rng *rng,
                                          float std);
ZOO_API zoo_tensor *zoo_params_add_filled(zoo_params *p, const char *name, int ndim,
                                          const int64_t *shape, unsigned flags, float value);
/* While set, zoo_params_add_normal and _filled leave the values zero, as
 * zoo_params_add does: for a model whose every value is about to be read
 * from a checkpoint. The pages of a parameter never written are never
 * touched, so one quantized as it loads (zoo/quant.h) costs no float32
 * memory. */
ZOO_API void zoo_params_skip_init(zoo_params *p, bool skip);
ZOO_API zoo_tensor *zoo_params_get(const zoo_params *p, const char *name);
ZOO_API zoo_param *zoo_params_find(zoo_params *p, const char *name);

/* Enumeration in insertion order. */
ZOO_API int zoo_params_count(const zoo_params *p);
ZOO_API zoo_param *zoo_params_at(zoo_params *p, int i);
/* Total number of scalars across all parameters. */
ZOO_API int64_t zoo_params_numel(const zoo_params *p);
/* Checks, before a model registers anything, that `bytes` more of parameters
 * would fit under the store's limit: ZOO_OK, or ZOO_ERR_NOMEM with "WHAT needs
 * X of parameters: more than LIMIT". For models whose size has a closed form
 * (a stack of layers): refused at once, not after the first layers were
 * allocated and initialised. */
ZOO_API int zoo_params_reserve(zoo_params *p, double bytes, const char *what);
/* The bytes their values take (4 per scalar, a quantized one's 1 plus its
 * scales, zoo/quant.h; gradients and optimizer state
 * come on top: training needs about 4 times this). */
ZOO_API uint64_t zoo_params_bytes(const zoo_params *p);

/* The most memory a model may ask for, in bytes: the limit set by
 * zoo_set_memory_limit, else ZOO_MEMORY_LIMIT from the environment (bytes, or
 * with a K, M, G or T suffix, powers of 1024; for tests, and for containers
 * whose cgroup limit is below the machine's memory; ignored when not such a
 * number), else the memory the machine has available (MemAvailable in
 * /proc/meminfo, at most its physical memory; the physical memory from sysconf
 * where /proc cannot be read). A store reads it once, at its first
 * registration. */
ZOO_API uint64_t zoo_memory_limit(void);
/* Sets the limit for this process (tests); 0 goes back to the default. */
ZOO_API void zoo_set_memory_limit(uint64_t bytes);
/* Where zoo_memory_limit() comes from, for messages: "this machine's available memory",
 * "ZOO_MEMORY_LIMIT" or "the memory limit set for this process". */
ZOO_API const char *zoo_memory_limit_source(void);
/* bytes for people ("512 bytes", "1.5 GiB") in buf; returns buf. */
ZOO_API const char *zoo_format_bytes(double bytes, char *buf, size_t size);

/* Sets every gradient that exists to zero. */
ZOO_API void zoo_params_zero_grad(zoo_params *p);
ZOO_API void zoo_params_set_frozen(zoo_param *param, bool frozen);

#ifdef __cplusplus
}
#endif
#endif
