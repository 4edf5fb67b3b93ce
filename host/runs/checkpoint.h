/* zoo checkpoints: safetensors files holding a model's parameters under
 * their dotted names, optionally the optimizer state (optim.NAME.m/.v), and
 * in __metadata__ everything needed to continue or reuse the run:
 *   zoo.format "1", zoo.plugin, zoo.config (the resolved config as JSON),
 *   zoo.tokenizer (JSON), zoo.step, zoo.rng, zoo.data_cursor, zoo.elapsed.
 * Files are written atomically: a crash leaves the old file or the new one. */
#ifndef ZOO_HOST_CHECKPOINT_H
#define ZOO_HOST_CHECKPOINT_H

#include <stdbool.h>

#include "model.h"
#include "zoo/rng.h"
#include "zoo/safetensors.h"

#define ZOO_CHECKPOINT_FORMAT "1"

/* Where a run stands: what a resumed run needs besides the weights. */
typedef struct zoo_run_state {
    int64_t step;          /* optimizer steps completed */
    zoo_rng rng;           /* the training generator (dropout) */
    char data_cursor[512]; /* zoo_batcher_state_format text, "" when none */
    double elapsed;        /* seconds of training so far */
    int64_t tokens;        /* training tokens seen so far (0 in checkpoints older than it) */
    int64_t world_size;    /* the processes that trained it (1 in checkpoints older than it) */
} zoo_run_state;

/* Writes m's parameters (and, with_optim, their optimizer state) with the
 * metadata. config and tokenizer are JSON texts (tokenizer may be NULL). */
int zoo_checkpoint_save(const char *path, const zoo_host_model *m, const char *config,
                        const char *tokenizer, const zoo_run_state *state, bool with_optim);

typedef struct zoo_checkpoint {
    zoo_st_file *file;
    char *path;
    const char *plugin, *config, *tokenizer; /* from the metadata; tokenizer may be NULL */
    const char *quantization; /* "int8" for a quantized checkpoint (quantize.h), else NULL */
    zoo_run_state state;
} zoo_checkpoint;

/* Opens and checks a checkpoint; `path` may be a run directory (its
 * latest.safetensors). Errors name the file and the missing or bad field. */
int zoo_checkpoint_open(const char *path, zoo_checkpoint **out);
void zoo_checkpoint_close(zoo_checkpoint *ck);

/* Copies every parameter of `params` from the checkpoint (each must be there
 * with the same shape) and, with_optim, the optimizer state that is there.
 * A quantized checkpoint's I8 tensors (quantize.h) are loaded quantized,
 * each along axes[i] for params' parameter i (zoo_model_quant_axes): one
 * whose axis is -1, or whose axes is NULL, is refused, as are scales of
 * the wrong dtype, shape or value. */
int zoo_checkpoint_load_params(const zoo_checkpoint *ck, zoo_params *params, bool with_optim,
                               const int *axes);

/* ZOO_OK, or ZOO_ERR_ARG for a quantized checkpoint, which nothing trains:
 * "CK: a quantized (int8) checkpoint is for inference; train from the
 * float32 checkpoint it was made from". */
int zoo_checkpoint_trainable(const zoo_checkpoint *ck);

/* A run directory's checkpoints: step-NNNNNNNN.safetensors and
 * latest.safetensors, a second name (hard link) of the newest.
 *
 * Removes the temporaries a killed or failed save leaves in run_dir, and
 * only those: zoo_atomic_file_open's NAME.tmp.XXXXXX of step-*.safetensors
 * and latest.safetensors, and latest.safetensors.tmp (the link being
 * switched). Call it holding the run's lock (run_lock.h): a live save's
 * temporary looks the same. Returns how many files were removed. */
int zoo_checkpoint_remove_temporaries(const char *run_dir);
/* Keeps the newest `keep` (>= 0) step checkpoints of run_dir and removes the
 * older ones, and the temporaries as above. The step file latest.safetensors
 * is a name of is never removed: removing it would free nothing, latest
 * holding the same data. Returns how many files were removed. */
int zoo_checkpoint_prune(const char *run_dir, int64_t keep);

#endif
