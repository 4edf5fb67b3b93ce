/* The training loop, one for every command that trains: batch -> the
 * task's loss on the tape -> backward -> gradient clipping folded into the
 * optimizer step -> schedule (or the task's own update, for self-updating
 * plugins), with evaluation cadence, metrics.jsonl, progress, checkpoints
 * every N steps and latest, --stop-after, resume and Ctrl-C.
 *
 * What is trained is a zoo_train_task: a plugin's language model (zoo train,
 * below) or a classification head (zoo finetune). The loop knows no model. */
#ifndef ZOO_HOST_TRAIN_H
#define ZOO_HOST_TRAIN_H

#include "checkpoint.h"
#include "cli.h"
#include "config.h"
#include "data_parallel.h"
#include "progress.h"
#include "zoo/optim.h"

/* A trainable task: callbacks on ctx. Every callback returns ZOO_OK or a
 * status with a message (zoo_error) the loop prints; the loop calls them from
 * one thread. */
typedef struct zoo_train_task {
    void *ctx;
    zoo_params *params; /* what the optimizer steps (frozen parameters skipped) */
    /* The next training batch into *batch; its arrays belong to the task and
     * stay valid until the next call. */
    int (*next_batch)(void *ctx, zoo_batch *batch);
    /* The batch's loss, a one-element tensor recorded on g (reset, recording
     * and in training mode), into *loss; rng is the run's generator (dropout,
     * sampling), restored on resume. metrics: the task's own, logged with the
     * step; *tokens: the tokens the step consumed (tokens/s). A graph error
     * may be left on g instead of a message. */
    int (*loss)(void *ctx, zoo_graph *g, const zoo_batch *batch, zoo_rng *rng, zoo_tensor **loss,
                zoo_metrics *metrics, int64_t *tokens);
    /* Optional: the task updates its own parameters (self-updating plugins);
     * then loss is never called and there is no gradient norm. */
    int (*update)(void *ctx, const zoo_batch *batch, float lr, zoo_rng *rng, zoo_step_stats *stats);
    /* Optional: the mean held-out loss and the task's metrics, on g. */
    int (*evaluate)(void *ctx, zoo_graph *g, double *loss, zoo_metrics *metrics);
    /* The position of next_batch, as text for the checkpoint (at most
     * sizeof zoo_run_state.data_cursor), and back. restore_cursor gets what
     * save_cursor wrote, and fails, changing nothing, on anything else. */
    void (*save_cursor)(void *ctx, char *text, size_t cap);
    int (*restore_cursor)(void *ctx, const char *text);
    /* Optional: writes a checkpoint of the task (parameters, optimizer
     * state, state) to path. NULL: the run keeps nothing. */
    int (*save)(void *ctx, const char *path, const zoo_run_state *state);
} zoo_train_task;

/* How a run goes: its length, optimizer, cadence and where it is written. */
typedef struct zoo_train_plan {
    int64_t total_steps;
    zoo_optim_config optim;
    zoo_schedule schedule;    /* lr of the 0-based step */
    float grad_clip;          /* global L2 norm; 0: none */
    int64_t eval_every;       /* evaluate every N steps and at the end; 0: at the end only */
    int64_t checkpoint_every; /* checkpoint every N steps and at the end; 0: at the end only */
    int64_t keep;             /* >= 1 step-NNNNNNNN.safetensors kept (latest besides) */
    int64_t stop_after;       /* > 0: stop (with a checkpoint) once this step is done */
    double max_seconds;       /* > 0: the step that reaches this much training time is the
                               * last (evaluation, checkpoint); the schedule keeps total_steps */
    const char *run_dir;      /* checkpoints go here; NULL: none (Ctrl-C just stops) */
    const char *command;      /* "zoo train": what the resume hints tell the user to run */
    zoo_dp_config parallel;   /* with more than one process (data_parallel.h) */
} zoo_train_plan;

/* Runs the task from state->step to plan->total_steps, reporting to
 * progress; state (the step, the generator, elapsed seconds) is updated as
 * it goes. Under MPI every rank runs it: each computes the loss of its slice
 * of next_batch's global batch (a self-updating task: each takes its own of
 * the next `size` batches), and only rank 0 evaluates and saves. Prints its
 * own errors. Returns 0 (done, or stopped after
 * plan->stop_after: state->step says which), 130 after Ctrl-C (with a
 * checkpoint when the run has a directory), or an exit status. */
int zoo_train_loop(const zoo_cli *cli, const zoo_train_task *task, const zoo_train_plan *plan,
                   zoo_progress *progress, zoo_run_state *state);

/* Continues from a checkpoint: the task's parameters and optimizer state,
 * its data cursor, and *state. ZOO_OK or a status with a message. */
int zoo_train_resume(const zoo_train_task *task, const zoo_checkpoint *ck, zoo_run_state *state);

/* The optimizer train.optimizer describes (name, betas, eps, weight_decay,
 * momentum). */
zoo_optim_config zoo_optim_from_config(const zoo_config *c);
/* What the ranks of a data-parallel run do (train.bucket_mb, check_every,
 * sync_every). */
zoo_dp_config zoo_dp_config_from(const zoo_config *c);

/* The directory of a new run: out (--out), else train.run_dir, else
 * runs/CONFIG_NAME for config_path. From malloc. */
char *zoo_run_dir_choose(const char *out, const zoo_config *c, const char *config_path);
/* Makes run_dir for a new run, takes its lock (zoo_run_dir_lock) and writes
 * config_text into its config.json, refusing a directory that already holds
 * a run: a checkpoint (continue it with --resume) or a metrics.jsonl that is
 * not empty (a run stopped before its first checkpoint). *lock gets the
 * lock's descriptor (zoo_run_unlock), -1 on failure. Prints its own error;
 * returns 0 or an exit status. */
int zoo_run_dir_create(const zoo_cli *cli, const char *run_dir, const char *config_text, int *lock);
/* Takes the lock of an existing run directory (run_lock.h), refusing one
 * another zoo process holds with its pid, then removes the temporaries of
 * saves that were killed (zoo_checkpoint_remove_temporaries). *lock as in
 * zoo_run_dir_create. Prints its own error; returns 0 or an exit status. */
int zoo_run_dir_lock(const zoo_cli *cli, const char *run_dir, int *lock);

/* zoo train: a plugin's own objective on a run config. */
typedef struct zoo_train_opts {
    const char *config; /* CONFIG.json, or NULL with resume */
    const char *resume; /* RUN_DIR to continue, or NULL */
    const char *out;    /* --out RUN_DIR, or NULL */
    const char *const *sets;
    int n_sets;
    bool dry_run, quiet;
    bool cost;          /* with dry_run: measure one training step (FLOPs, memory) */
    int64_t stop_after; /* > 0: stop (with a checkpoint) once this step is done */
} zoo_train_opts;

/* What a finished run leaves behind (from malloc; either may be NULL). */
typedef struct zoo_train_result {
    char *run_dir, *checkpoint;
} zoo_train_result;

/* Runs one training; prints its own errors. Returns an exit status. */
int zoo_train(const zoo_cli *cli, const zoo_train_opts *o, zoo_train_result *result);

#endif
