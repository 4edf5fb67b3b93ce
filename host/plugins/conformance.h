/* The conformance suite: what every plugin should pass, whatever its
 * architecture. `zoo check-plugin NAME` runs it; a plugin's own Check suite
 * can call it too (tests link the host library, zoohost, as tests/ does).
 *
 * The plugin runs on a tiny configuration: its hyperparameters' defaults,
 * with every INT hyperparameter whose default is above 16 halved while it
 * stays above 16, even and within its minimum (128 -> 16, 768 -> 12, 50257
 * stays: widths keep the power-of-two factors a head count divides), then
 * the host's contract names: vocab_size = the suite's tokenizer's size and
 * block_size = T, as `zoo train` sets them; then opts->sets. Floats, bools,
 * enums and strings keep their defaults (dropout stays on: the training
 * checks draw it from a fixed seed).
 *
 * Data: a synthetic corpus (about 7500 words of 40 kinds, Zipf-distributed,
 * in lines, with a blank line between documents), a "word" tokenizer trained
 * on it with the specials `zoo train` gives the plugin's objective, and
 * batches from core's batcher as `zoo train` builds them: a small batch
 * (B = 2, T = 16; word vectors one chunk of 256) for most checks, and a
 * larger one (B = 128, T = 16; word vectors a chunk of 4096) for the thread
 * checks, big enough that operators and plugins actually share it out.
 * Every check creates its own model from the same seed.
 *
 * The checks, in order (the name is what the report says):
 *   create            create and destroy; two models from one seed have
 *                     identical parameters
 *   forward           outputs on the small batch: logits [B,T,V] (V =
 *                     vocab_size when the plugin has one), hidden [B,T,C],
 *                     pooled [B,C], those present, at least one, all finite
 *   embed             embed (default layer) is [B,T,C'], finite; with
 *                     ZOO_EMBED_ALL_LAYERS [B,T,C'] (one layer) or
 *                     [L,B,T,C'] whose layer i is embed(layer = i), bitwise
 *   loss              one finite value; the same twice for one rng seed
 *   gradients         zoo_gradcheck of the loss (training mode, rng reseeded
 *                     each pass) w.r.t. every parameter, after redrawing them
 *                     (matrices N(0, 0.4^2), vectors U[-0.5, 1.5)) so no
 *                     gradient is small enough to hide under the tolerance;
 *                     eps 1e-2, atol 2e-4, rtol 1e-2, 32 elements per
 *                     parameter. SKIP for a self-updating plugin whose loss
 *                     is not on the tape; FAIL for any other such plugin
 *   decode            ZOO_CAP_DECODE: decode_step over the small batch, one
 *                     position at a time, equals the last row of forward on
 *                     the prefix (|d - f| <= 1e-5 + 1e-4 max(|d|, |f|))
 *   fill-mask         ZOO_CAP_FILL_MASK: [N,V] finite for the N [MASK]s
 *   export-import     ZOO_CAP_EXPORT and ZOO_CAP_IMPORT: export in the first
 *                     format to a temporary directory, import into a model
 *                     created from another seed: every output bitwise equal
 *   import-foreign    ZOO_CAP_IMPORT: import_config (and import_tokenizer,
 *                     with ZOO_CAP_IMPORT_TOKENIZER) of a directory holding
 *                     only notes.txt answers ZOO_ERR_NOTFOUND: every importer
 *                     is offered every directory that is not a zoo run
 *   threads-forward, threads-loss, threads-gradients
 *                     the large batch on 1 and on 3 threads, parameters
 *                     redrawn as for gradients (nothing left at zero):
 *                     outputs, loss and every gradient bitwise equal
 *   train-step        ZOO_CAP_SELF_UPDATE: train_step on one thread is
 *                     deterministic (two models, same seed: same parameters
 *                     after), changes the parameters, reports a finite loss
 *   threads-train-step  always SKIP: a self-updating step is Hogwild (its
 *                     threads race on shared rows, so its result depends on
 *                     the thread count by design); otherwise there is none
 *   arena             five training steps (loss + backward) on the same
 *                     batch, in a graph that starts at 4 KiB: the arena's
 *                     capacity after step 2 does not grow through step 5
 *                     (malloc itself is not counted)
 *
 * Thread safety: one run at a time per process (it sets zoo's thread count
 * for the thread checks and restores it after). */
#ifndef ZOO_HOST_CONFORMANCE_H
#define ZOO_HOST_CONFORMANCE_H

#include <stdint.h>

#include "loader.h"

typedef enum zoo_check_outcome {
    ZOO_CHECK_PASS = 0,
    ZOO_CHECK_FAIL = 1,
    ZOO_CHECK_SKIP = 2,
} zoo_check_outcome;

/* "PASS", "FAIL", "SKIP". */
const char *zoo_check_outcome_name(zoo_check_outcome o);

/* Called after each check: its name, outcome and one line of text (the
 * reason for FAIL and SKIP, what was seen for PASS). */
typedef void (*zoo_conformance_fn)(void *ctx, const char *check, zoo_check_outcome outcome,
                                   const char *detail);

typedef struct zoo_conformance_opts {
    uint32_t size;           /* sizeof(zoo_conformance_opts) */
    const char *const *sets; /* "NAME=VALUE" overrides of the tiny configuration */
    int n_sets;
    uint64_t seed;       /* models, corpus and batches */
    const char *tmp_dir; /* where the temporary directory goes; NULL: $TMPDIR or /tmp */
} zoo_conformance_opts;

typedef struct zoo_conformance_summary {
    int passed, failed, skipped;
    char config[1024]; /* the tiny configuration, "n_layer=4 n_embd=16 ..." */
} zoo_conformance_summary;

/* Runs every check on plugin p, calling fn after each. Returns ZOO_OK when
 * the suite ran, whatever the outcomes (summary counts them); a status and
 * a message when it could not start: a --set the schema refuses
 * (ZOO_ERR_ARG / ZOO_ERR_NOTFOUND), the tiny configuration out of the
 * schema's range, no temporary directory (ZOO_ERR_IO). Leaves nothing on
 * disk. */
int zoo_conformance_run(zoo_loaded *p, const zoo_conformance_opts *opts, zoo_conformance_fn fn,
                        void *ctx, zoo_conformance_summary *summary);

#endif
