/* What a run reports: metrics.jsonl in the run directory (one JSON object
 * per training step or evaluation, appended, so a resumed run continues the
 * same file), and a progress display on stderr: a live line on a terminal,
 * plain periodic lines otherwise, nothing with --quiet. */
#ifndef ZOO_HOST_PROGRESS_H
#define ZOO_HOST_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "zoo/plugin.h"

typedef struct zoo_progress zoo_progress;

/* Appends to RUN_DIR/metrics.jsonl; run_dir NULL: no metrics file, the
 * display only (a run that is not kept). NULL with a message. Each line is
 * appended whole by one write(2): a process killed between lines leaves
 * whole lines; a write failing part-way (a full disk) is cut off again. */
zoo_progress *zoo_progress_open(const char *run_dir, int64_t total_steps, bool quiet);
void zoo_progress_close(zoo_progress *p);

/* Makes RUN_DIR/metrics.jsonl the log of the run a resume continues from a
 * checkpoint of `step`: the lines of later steps (written after that
 * checkpoint, before the process stopped; the resumed run writes them again)
 * and a torn last line are removed, by an atomic rewrite. Other lines stay.
 * Returns how many lines were removed (0: the file is untouched, or absent),
 * -1 with a message naming the file. Call it holding the run's lock. */
int zoo_metrics_log_trim(const char *run_dir, int64_t step);

typedef struct zoo_step_report {
    int64_t step; /* steps completed */
    double loss, lr;
    double grad_norm; /* NaN: none (self-updating plugins) -> null */
    double tokens_per_s;
    double elapsed;             /* seconds since the run began (resumes included) */
    int64_t tokens;             /* training tokens seen since the run began */
    const zoo_metrics *metrics; /* the plugin's own, or NULL (metrics.jsonl: with perplexities) */
    int world_size;             /* > 1: the processes that trained the step (metrics.jsonl) */
    double comm_s;              /* with world_size > 1: seconds the step spent in sums over them */
} zoo_step_report;

void zoo_progress_step(zoo_progress *p, const zoo_step_report *r);
/* An evaluation line: step, val_loss, the training tokens and seconds so far
 * (r's loss, lr, grad_norm and tokens_per_s are not used) plus the plugin's
 * metrics, each PREFIX_loss with its PREFIX_perplexity (metrics.h), in
 * metrics.jsonl; the note on stderr shows val_loss, those losses and
 * perplexities, and every metric named ...accuracy (BERT's mlm_accuracy and
 * nsp_accuracy beside majority_accuracy, a classifier's accuracy beside its
 * baselines'). */
void zoo_progress_eval(zoo_progress *p, const zoo_step_report *r, double val_loss);
/* Ends a live progress line, if one is on screen, so that what is printed
 * next (an error) starts a line of its own. p may be NULL. */
void zoo_progress_end_line(zoo_progress *p);
/* A line for the user (not the metrics file), clearing a live progress line first. */
void zoo_progress_note(zoo_progress *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
