/* The training loop, the same for every plugin: batch -> the plugin's loss on
 * the tape -> backward -> gradient clipping -> optimizer step -> schedule
 * (or the plugin's own step, for self-updating plugins), with evaluation,
 * metrics, progress, checkpoints, resume and Ctrl-C. */
#ifndef ZOO_HOST_TRAIN_H
#define ZOO_HOST_TRAIN_H

#include "cli.h"

typedef struct zoo_train_opts {
    const char *config; /* CONFIG.json, or NULL with resume */
    const char *resume; /* RUN_DIR to continue, or NULL */
    const char *out;    /* --out RUN_DIR, or NULL */
    const char *const *sets;
    int n_sets;
    bool dry_run, quiet;
    int64_t stop_after; /* > 0: stop (with a checkpoint) once this step is done */
} zoo_train_opts;

/* What a finished run leaves behind (from malloc; either may be NULL). */
typedef struct zoo_train_result {
    char *run_dir, *checkpoint;
} zoo_train_result;

/* Runs one training; prints its own errors. Returns an exit status. */
int zoo_train(const zoo_cli *cli, const zoo_train_opts *o, zoo_train_result *result);

#endif
