/* One trial of a comparison: one model, one seed, in its own directory,
 * each step a child process (child.h): pretrain (zoo train, or its
 * --resume), describe (zoo info), evaluate on the held-out text (zoo eval),
 * probe (zoo probe, or zoo finetune for a fine-tuned probe), then
 * result.json (docs/compare.md has its schema). A step that finds its
 * output already there is not run again, which is how a comparison resumes. */
#ifndef ZOO_HOST_COMPARE_RUN_H
#define ZOO_HOST_COMPARE_RUN_H

#include <stdbool.h>
#include <stdint.h>

#include "child.h"
#include "compare_config.h"

typedef struct zoo_trial {
    const zoo_compare_config *c;
    int model;       /* index in c->models */
    int64_t seed;    /* train.seed of this trial */
    const char *dir; /* the trial directory (it exists) */
    bool quiet;      /* no pass-through of the steps' progress */
    int threads;     /* > 0: each child step's --threads (a rank's share of the node's
                      * cores under MPI); 0: the child's own default */
    /* Optional: pretrains in this process instead of a child `zoo train`
     * (a data-parallel group of ranks under MPI, cmd_compare.c): a new run
     * of config into run_dir, or with config NULL the run in run_dir
     * resumed. Fills *r as a child's run would (status 130: interrupted;
     * last_line: the error); ZOO_OK once it ran, whatever its status. */
    int (*train)(void *ctx, const char *config, const char *run_dir, zoo_child_result *r);
    void *train_ctx;
} zoo_trial;

/* What became of a trial. */
typedef enum zoo_trial_outcome {
    ZOO_TRIAL_OK,
    ZOO_TRIAL_FAILED,      /* result.json holds the error */
    ZOO_TRIAL_INTERRUPTED, /* Ctrl-C: no result.json; what is saved stays for --resume */
} zoo_trial_outcome;

/* Runs what is left of the trial and writes its result.json; `summary`
 * gets a line for the user ("held-out perplexity 45.2; testament 0.83
 * (majority 0.70)" or the error). */
zoo_trial_outcome zoo_trial_run(const zoo_trial *t, char *summary, size_t size);

#endif
