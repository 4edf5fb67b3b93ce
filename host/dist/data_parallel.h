/* Data-parallel training, the loop's side (train.c): every rank holds the
 * same parameters and builds the same global batch; each computes the loss
 * of its slice of it, the gradients are summed over the ranks in buckets,
 * and clipping and the optimizer then run identically everywhere.
 * Self-updating plugins (word2vec) instead train apart and add up their
 * ranks' updates now and then (zoo_dp_sync_parameters). With one process every function is a no-op,
 * so the loop reads the same with or without MPI.
 *
 * Exactness: a slice's cross-entropy divides by the global batch's count of
 * targets (zoo_graph_set_count_sum), so the ranks' losses and gradients add
 * up to the global batch's, whatever the slices hold (BERT's masked
 * positions differ from slice to slice); only the order of the sums
 * differs from one process. */
#ifndef ZOO_HOST_DATA_PARALLEL_H
#define ZOO_HOST_DATA_PARALLEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "zoo/params.h"
#include "zoo/plugin.h"
#include "zoo/rng.h"
#include "zoo/tensor.h"

typedef struct zoo_dp zoo_dp;

/* What a run's ranks do between steps. */
typedef struct zoo_dp_config {
    size_t bucket_bytes; /* gradients summed in pieces of about this many bytes */
    int64_t check_every; /* compare a checksum of the parameters every N steps; 0: never */
    int64_t sync_every;  /* self-updating plugins: sync the parameters after this many
                          * words of each rank's own; 0: only before a save or evaluation */
} zoo_dp_config;

/* Time spent communicating, for the benchmark and the progress line. */
typedef struct zoo_dp_stats {
    double reduce_seconds; /* in the gradient (or parameter) sums */
    double reduced_bytes;  /* bytes each rank contributed to them */
    int64_t reductions;    /* sums made */
} zoo_dp_stats;

/* For a task training params, self_updating when its plugin applies its
 * own updates. NULL with a message on failure; with one process a zoo_dp
 * that does nothing. */
zoo_dp *zoo_dp_new(zoo_params *params, const zoo_dp_config *config, bool self_updating);
void zoo_dp_free(zoo_dp *dp);
bool zoo_dp_active(const zoo_dp *dp); /* more than one rank */
const zoo_dp_stats *zoo_dp_stats_get(const zoo_dp *dp);

/* This rank's rows of a global batch of B sequences (as even as they can
 * be): *out is batch restricted to them. */
void zoo_dp_slice(const zoo_batch *batch, zoo_batch *out);

/* The generator a rank's step draws from (dropout): with one process the
 * run's own; otherwise one derived from it and the rank, the run's then
 * advanced by one draw, so every rank's run state stays the same and a
 * resumed run draws what the uninterrupted one would. */
zoo_rng *zoo_dp_step_rng(zoo_dp *dp, zoo_rng *run_rng);

/* Around a training step's forward: the slice's cross-entropies divide by
 * the global count of targets. */
void zoo_dp_begin_step(zoo_dp *dp, zoo_graph *g);
void zoo_dp_end_step(zoo_dp *dp, zoo_graph *g);

/* After backward: every trainable gradient and *loss (this rank's share,
 * made the global batch's) summed over the ranks; a parameter that took a
 * gradient on any rank takes one (zeros) on all. ZOO_OK or a message. */
int zoo_dp_sum_gradients(zoo_dp *dp, double *loss);

/* Rank 0's metrics become each name's mean over the ranks that report it. */
int zoo_dp_mean_metrics(zoo_dp *dp, zoo_metrics *metrics);

/* A self-updating step's report: the loss averaged, the tokens summed; the
 * parameters synced when this rank's words since the last sync reach
 * sync_every. */
int zoo_dp_after_update(zoo_dp *dp, zoo_step_stats *stats);
/* Syncs a self-updating plugin's parameters now (also before a save or an
 * evaluation): each becomes its value at the last sync (at zoo_dp_new, the
 * same on every rank) plus the sum over the ranks of how far each rank's
 * updates moved it since, as Hogwild threads add theirs into one matrix;
 * every rank ends with the same bits, which it then checks (a checksum
 * against rank 0's, unless check_every is 0). zoo_dp_new keeps that copy
 * (the parameters' size again). Nothing for gradient-based plugins, whose
 * ranks never differ. */
int zoo_dp_sync_parameters(zoo_dp *dp);

/* The ranks agree: each of the n flags is true on every rank when it is
 * true on any. */
int zoo_dp_any(zoo_dp *dp, bool *flags, int n);

/* Every check_every steps: the parameters' checksum on every rank against
 * rank 0's; a difference is an error naming the ranks and the step. A
 * self-updating plugin's ranks train apart between syncs, so each sync
 * compares theirs instead, right after it (check_every 0: never). */
int zoo_dp_check_parameters(zoo_dp *dp, int64_t step);

/* Start-up: every rank's value of `what` (a config's text, a library's
 * file) must be rank 0's; otherwise an error naming the first rank that
 * differs. zoo_dp_same_file hashes a file's bytes (SHA-256). */
int zoo_dp_same_text(const char *what, const char *text);
int zoo_dp_same_file(const char *what, const char *path);

#endif
