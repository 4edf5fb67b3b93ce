/* zoo bench's measurements: how fast a plugin runs forward and trains, and
 * how fast the machine multiplies matrices, in one process (cmd_bench.c
 * prints them). Nothing here names a plugin.
 *
 * A plugin runs at its hyperparameters' defaults (its "standard size") with
 * the caller's NAME=VALUE overrides, and the host contract `zoo train` keeps:
 * block_size = T unless overridden (then it must be at least T). Its data is
 * synthetic (synthetic.h), its batches are core's batcher's (batcher.h), as
 * zoo train builds them for its objective:
 *   - a plugin trained by gradients gets ids drawn uniformly from its
 *     vocabulary (vocab_size, or 256 without one; a masked LM keeps ids 0-4
 *     for [PAD] [UNK] [CLS] [SEP] [MASK], as a tokenizer zoo train trains
 *     would), in lines of T/2 ids so that sentence pairs fill their rows,
 *     each id spelled in the text when the plugin reads token bytes; no
 *     tokenizer;
 *   - a self-updating plugin (ZOO_CAP_SELF_UPDATE) gets a Zipf corpus of
 *     10,000 word ranks (at least 200,000 words) with the word tokenizer
 *     trained on it, handed to the model, and vocab_size set from it (an
 *     override of vocab_size is refused); its batches, one chunk of B·T
 *     words as zoo train reads a word-vector corpus (B = 1, T = B·T).
 *
 * A pass: forward is ops->forward outside training, no tape. Training is one
 * step as zoo train takes it: zero the gradients, the loss on the tape
 * (training mode: dropout on), backward, the gradient norm and AdamW
 * (zoo train's defaults: lr 1e-3, betas 0.9/0.999, no weight decay) with
 * clipping at 1.0 folded in; a self-updating plugin's train_step at lr 1e-3.
 * Each phase runs `warmup` passes, then `repeat` timed ones, each on the
 * batcher's next batch (made before the clock starts). A pass's tokens are
 * its batch's B·T positions (a self-updating step: the words it reports);
 * its operations the difference of zoo_flops() (zoo/flops.h) around it. */
#ifndef ZOO_HOST_BENCH_H
#define ZOO_HOST_BENCH_H

#include <stdint.h>

#include "loader.h"

#define ZOO_BENCH_MAX_REPEAT 100

/* A mean and its sample standard deviation (0 for one value). */
typedef struct zoo_bench_stat {
    double mean, sd;
} zoo_bench_stat;

/* One phase of a benchmark: each timed pass, and what follows from them. */
typedef struct zoo_bench_phase {
    int runs;
    double seconds[ZOO_BENCH_MAX_REPEAT];
    uint64_t flops[ZOO_BENCH_MAX_REPEAT];
    int64_t tokens[ZOO_BENCH_MAX_REPEAT];
    zoo_bench_stat tokens_per_s, gflops; /* over the runs, each run's own ratio */
} zoo_bench_phase;

typedef struct zoo_bench_opts {
    int64_t B, T;            /* >= 1 */
    int warmup, repeat;      /* warmup >= 0, 1 <= repeat <= ZOO_BENCH_MAX_REPEAT */
    uint64_t seed;           /* the model's, the data's and the batches' */
    const char *const *sets; /* NAME=VALUE overrides of the hyperparameters */
    int n_sets;
    /* Also the forward with int8 weights (zoo quantize's), after training. */
    bool int8;
    /* Optional: told what starts ("forward", "training", "int8 forward"), for progress. */
    void (*progress)(void *ctx, const char *what);
    void *ctx;
} zoo_bench_opts;

typedef struct zoo_bench_result {
    int64_t params;
    int64_t B, T;      /* the batches' */
    char config[2048]; /* the hyperparameters used, "NAME=VALUE NAME=VALUE ..." */
    zoo_bench_phase forward, training;
    /* with opts.int8: the int8 forward, or runs 0 and why not ("nothing to quantize") */
    zoo_bench_phase forward_int8;
    char no_int8[256];
} zoo_bench_result;

/* Measures plugin p. ZOO_OK, or a status with a message (an override that
 * does not apply, a model that cannot be created, a pass that fails). */
int zoo_bench_plugin(zoo_loaded *p, const zoo_bench_opts *o, zoo_bench_result *out);

/* The machine's product speed as zoo's operators get it: an n x n x n
 * zoo_matmul (OpenBLAS sgemm on the pool's threads, in bands), no tape:
 * warmup passes, and more until settle_s seconds have passed (a fresh
 * process's pool threads share one core for its first tenth of a second
 * or so: on 2 cores sgemm ran at half speed), then repeat timed ones. */
int zoo_bench_sgemm(int64_t n, int warmup, double settle_s, int repeat, zoo_bench_phase *out);

#endif
