/* What the conformance suite's two halves share: conformance.c sets a run
 * up (tiny configuration, tokenizer, batches), conformance_checks.c runs
 * the checks on it. Not part of conformance.h's contract. */
#ifndef ZOO_HOST_CONFORMANCE_SUITE_H
#define ZOO_HOST_CONFORMANCE_SUITE_H

#include <stdbool.h>

#include "conformance.h"
#include "model.h"

/* A batch that owns its arrays (one block). */
typedef struct owned_batch {
    zoo_batch b;
    int32_t *data;
} owned_batch;

typedef struct suite {
    zoo_loaded *p;
    const zoo_plugin_ops *ops;
    uint64_t seed;
    zoo_hparams *hp;    /* the tiny configuration */
    zoo_tokenizer *tok; /* trained on the synthetic corpus */
    int64_t V;          /* vocab_size, when the plugin has one; else 0 */
    owned_batch small;  /* most checks */
    owned_batch big;    /* the thread checks */
    char dir[4096];     /* the temporary directory */
    bool no_model;      /* create failed: the checks after it skip */
    zoo_conformance_fn fn;
    void *ctx;
    zoo_conformance_summary *sum;
} suite;

/* Counts the outcome and hands it to the caller's fn. */
void suite_report(suite *s, const char *check, zoo_check_outcome o, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Every check, in conformance.h's order. */
void suite_run_checks(suite *s);

/* Removes a file or a directory with everything in it. */
void suite_remove_tree(const char *path);

#endif
