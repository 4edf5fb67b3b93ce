#include "train.h"

#include <cjson/cJSON.h>

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "checkpoint.h"
#include "clock.h"
#include "config.h"
#include "data.h"
#include "dist.h"
#include "metrics.h"
#include "model_card.h"
#include "progress.h"
#include "run_lock.h"
#include "zoo/flops.h"
#include "zoo/io.h"
#include "zoo/optim.h"
#include "zoo/status.h"
#include "zoo/threads.h"

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig) {
    (void)sig;
    interrupted = 1;
}

static bool exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

/* --- the loop ---------------------------------------------------------- */

/* One loop in progress. */
typedef struct loop {
    const zoo_cli *cli;
    const zoo_train_task *task;
    const zoo_train_plan *plan;
    zoo_progress *progress;
    zoo_run_state *state;
    zoo_graph *graph;
    zoo_dp *dp;         /* the other ranks of a data-parallel run (a no-op alone) */
    int64_t last_saved; /* the step of the run's newest checkpoint; -1: none yet */
} loop;

static int loop_fail(const loop *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int loop_fail(const loop *l, const char *fmt, ...) {
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    zoo_progress_end_line(l->progress); /* the message on a line of its own */
    return zoo_cli_fail(l->cli, ZOO_EXIT_FAILURE, "%s", msg);
}

static int save_checkpoint(loop *l) {
    const char *dir = l->plan->run_dir;
    if (!dir || !l->task->save) return ZOO_OK; /* a run that keeps nothing */
    /* the ranks of a self-updating task agree on one set of parameters; rank 0 writes it */
    if (zoo_dp_sync_parameters(l->dp) != ZOO_OK) return loop_fail(l, "%s", zoo_error_message());
    l->state->world_size = zoo_dist_size();
    if (!zoo_dist_writer()) {
        l->last_saved = l->state->step;
        return ZOO_OK;
    }
    char path[4200], latest[4200], tmp[4300];
    snprintf(path, sizeof path, "%s/step-%08lld.safetensors", dir, (long long)l->state->step);
    snprintf(latest, sizeof latest, "%s/latest.safetensors", dir);
    l->task->save_cursor(l->task->ctx, l->state->data_cursor, sizeof l->state->data_cursor);
    if (l->task->save(l->task->ctx, path, l->state)) {
        /* A full disk: the step files past keep - 1 make room for this one, and the
         * save is tried once more. latest, the last good checkpoint, stays. */
        char why[1024];
        snprintf(why, sizeof why, "%s", zoo_error_message());
        if (zoo_checkpoint_prune(dir, l->plan->keep - 1) == 0 ||
            l->task->save(l->task->ctx, path, l->state))
            return l->last_saved >= 0
                       ? loop_fail(l, "%s (the last good checkpoint, step %lld, stays in %s)", why,
                                   (long long)l->last_saved, dir)
                       : loop_fail(l, "%s", why);
        zoo_progress_note(l->progress,
                          "step %lld: the first try to save failed (%s); saved after removing "
                          "older step checkpoints",
                          (long long)l->state->step, why);
    }
    /* latest is a second name for the same file, switched atomically (and
     * durably: the directory is synced after the rename) */
    snprintf(tmp, sizeof tmp, "%s.tmp", latest);
    unlink(tmp);
    if (link(path, tmp) != 0 || zoo_rename_synced(tmp, latest) != ZOO_OK) {
        unlink(tmp);
        if (l->task->save(l->task->ctx, latest, l->state))
            return loop_fail(l, "%s", zoo_error_message());
    }
    zoo_checkpoint_prune(dir, l->plan->keep);
    l->last_saved = l->state->step;
    return ZOO_OK;
}

/* One optimizer step; *loss_out gets the loss. */
/* A self-updating task's step: with N ranks each updates with its own of
 * the next N batches, so the data cursor moves as one process's would over
 * N steps. */
static int update_step(loop *l, double lr, double *loss_out, double *grad_norm, int64_t *tokens) {
    const zoo_train_task *t = l->task;
    zoo_run_state *s = l->state;
    int rank = zoo_dist_rank(), size = zoo_dist_size();
    zoo_batch batch = {.size = sizeof batch};
    for (int i = 0; i <= rank; i++) /* a batch stays valid until the next call */
        if (t->next_batch(t->ctx, &batch))
            return loop_fail(l, "step %lld: %s", (long long)s->step + 1, zoo_error_message());
    zoo_step_stats stats = {.size = sizeof stats};
    if (t->update(t->ctx, &batch, (float)lr, zoo_dp_step_rng(l->dp, &s->rng), &stats))
        return loop_fail(l, "step %lld: %s", (long long)s->step + 1, zoo_error_message());
    for (int i = rank + 1; i < size; i++)
        if (t->next_batch(t->ctx, &batch))
            return loop_fail(l, "step %lld: %s", (long long)s->step + 1, zoo_error_message());
    if (zoo_dp_after_update(l->dp, &stats) != ZOO_OK)
        return loop_fail(l, "step %lld: %s", (long long)s->step + 1, zoo_error_message());
    *loss_out = stats.loss, *grad_norm = NAN, *tokens = stats.tokens;
    return ZOO_OK;
}

/* One optimizer step on this rank's slice of the batch; *loss_out gets the
 * whole batch's loss. */
static int train_step(loop *l, const zoo_batch *batch, double lr, double *loss_out,
                      double *grad_norm, zoo_metrics *metrics, int64_t *tokens) {
    const zoo_train_task *t = l->task;
    zoo_run_state *s = l->state;
    zoo_graph *g = l->graph;
    zoo_graph_reset(g);
    zoo_graph_set_recording(g, true);
    zoo_graph_set_training(g, true);
    zoo_params_zero_grad(t->params);
    zoo_tensor *loss = NULL;
    zoo_batch mine;
    zoo_dp_slice(batch, &mine);
    zoo_dp_begin_step(l->dp, g);
    int st = t->loss(t->ctx, g, &mine, zoo_dp_step_rng(l->dp, &s->rng), &loss, metrics, tokens);
    zoo_dp_end_step(l->dp, g);
    if (st || !loss || zoo_graph_status(g))
        return loop_fail(l, "step %lld: %s", (long long)s->step + 1,
                         zoo_graph_status(g) ? zoo_graph_error(g) : zoo_error_message());
    *loss_out = zoo_f32(loss)[0];
    if (!zoo_dp_active(l->dp) && !isfinite(*loss_out)) return ZOO_OK; /* the caller stops */
    if (zoo_backward(g, loss) != ZOO_OK) return loop_fail(l, "backward: %s", zoo_graph_error(g));
    /* the ranks' shares and gradients summed: the global batch's, on every rank */
    if (zoo_dp_sum_gradients(l->dp, loss_out) != ZOO_OK ||
        zoo_dp_mean_metrics(l->dp, metrics) != ZOO_OK)
        return loop_fail(l, "step %lld: %s", (long long)s->step + 1, zoo_error_message());
    if (!isfinite(*loss_out)) return ZOO_OK; /* every rank stops */
    /* clipping folded into the update: one pass over the gradients fewer */
    *grad_norm = zoo_grad_norm(t->params);
    float clip = zoo_clip_factor(*grad_norm, l->plan->grad_clip);
    if (zoo_optim_step_scaled(t->params, &l->plan->optim, (float)lr, s->step + 1, clip) != ZOO_OK)
        return loop_fail(l, "optimizer: %s", zoo_error_message());
    return ZOO_OK;
}

static int evaluate(loop *l) {
    if (!l->task->evaluate) return ZOO_OK;
    if (zoo_dp_sync_parameters(l->dp) != ZOO_OK) return loop_fail(l, "%s", zoo_error_message());
    if (!zoo_dist_writer()) return ZOO_OK; /* rank 0 evaluates for the run */
    double val_loss = NAN;
    zoo_metrics vm = {.size = sizeof vm};
    if (l->task->evaluate(l->task->ctx, l->graph, &val_loss, &vm))
        return loop_fail(l, "%s", zoo_error_message());
    zoo_step_report at = {.step = l->state->step,
                          .elapsed = l->state->elapsed,
                          .tokens = l->state->tokens,
                          .metrics = &vm};
    zoo_progress_eval(l->progress, &at, val_loss);
    return ZOO_OK;
}

static int run_loop(loop *l) {
    const zoo_train_plan *p = l->plan;
    zoo_run_state *s = l->state;
    double start = zoo_now() - s->elapsed;
    /* SIGUSR1 stops as Ctrl-C does: mpirun forwards it to every rank (Ctrl-C
     * on mpirun kills them), as Slurm's scancel --signal=USR1 does */
    struct sigaction sa = {.sa_handler = on_sigint}, old, old_usr1;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old);
    sigaction(SIGUSR1, &sa, &old_usr1);
    interrupted = 0;
    int status = 0;
    bool paused = false, stop = false; /* stop: Ctrl-C, agreed by every rank */
    while (s->step < p->total_steps && !stop && !paused) {
        double lr = zoo_schedule_lr(&p->schedule, s->step), loss = 0, grad_norm = NAN;
        zoo_metrics metrics = {.size = sizeof metrics};
        int64_t tokens = 0;
        double t0 = zoo_now(), comm0 = zoo_dp_stats_get(l->dp)->reduce_seconds;
        if (l->task->update) {
            if ((status = update_step(l, lr, &loss, &grad_norm, &tokens))) break;
        } else {
            zoo_batch batch = {.size = sizeof batch};
            if (l->task->next_batch(l->task->ctx, &batch)) {
                status = loop_fail(l, "step %lld: %s", (long long)s->step + 1, zoo_error_message());
                break;
            }
            if ((status = train_step(l, &batch, lr, &loss, &grad_norm, &metrics, &tokens))) break;
        }
        if (!isfinite(loss)) { /* said once; a checkpoint named only when one was written */
            if (l->last_saved >= 0)
                status =
                    loop_fail(l,
                              "step %lld: the loss is %g; stopping (the last good checkpoint, "
                              "step %lld, stays in %s)",
                              (long long)s->step + 1, loss, (long long)l->last_saved, p->run_dir);
            else
                status =
                    loop_fail(l, "step %lld: the loss is %g; stopping (no checkpoint was saved)",
                              (long long)s->step + 1, loss);
            break;
        }
        s->step++;
        s->elapsed = zoo_now() - start;
        s->tokens += tokens;
        zoo_step_report rep = {.step = s->step,
                               .loss = loss,
                               .lr = lr,
                               .grad_norm = grad_norm,
                               .tokens_per_s = (double)tokens / (zoo_now() - t0),
                               .elapsed = s->elapsed,
                               .tokens = s->tokens,
                               .metrics = &metrics,
                               .world_size = zoo_dist_size(),
                               .comm_s = zoo_dp_stats_get(l->dp)->reduce_seconds - comm0};
        zoo_progress_step(l->progress, &rep);
        /* what ends the run is decided by every rank at once: one that
         * stopped alone would leave the others waiting in a sum */
        bool flags[2] = {p->max_seconds > 0 && s->elapsed >= p->max_seconds, interrupted};
        if (zoo_dp_any(l->dp, flags, 2) != ZOO_OK ||
            zoo_dp_check_parameters(l->dp, s->step) != ZOO_OK) {
            status = loop_fail(l, "%s", zoo_error_message());
            break;
        }
        bool out_of_time = flags[0];
        stop = flags[1];
        bool last = s->step == p->total_steps || out_of_time;
        if ((p->eval_every > 0 && s->step % p->eval_every == 0) || last)
            if ((status = evaluate(l))) break;
        paused = p->stop_after > 0 && s->step >= p->stop_after && !last;
        if ((p->checkpoint_every > 0 && s->step % p->checkpoint_every == 0) || last || paused)
            if ((status = save_checkpoint(l))) break;
        if (out_of_time && s->step < p->total_steps) {
            zoo_progress_note(l->progress,
                              "stopped after step %lld of %lld: the run's %g seconds are spent",
                              (long long)s->step, (long long)p->total_steps, p->max_seconds);
            break;
        }
    }
    if (paused && !status && p->run_dir)
        zoo_progress_note(l->progress,
                          "stopped after step %lld as asked; continue with %s --resume %s",
                          (long long)s->step, p->command, p->run_dir);
    sigaction(SIGINT, &old, NULL);
    sigaction(SIGUSR1, &old_usr1, NULL);
    if (stop && !status) {
        status = save_checkpoint(l);
        if (!status) {
            if (p->run_dir)
                zoo_progress_note(
                    l->progress,
                    "interrupted at step %lld: checkpoint saved; continue with %s --resume %s",
                    (long long)s->step, p->command, p->run_dir);
            status = 130;           /* as a shell reports a SIGINT */
            zoo_dist_exit_agreed(); /* every rank stops here: no need to abort the job */
        }
    }
    return status;
}

int zoo_train_loop(const zoo_cli *cli, const zoo_train_task *task, const zoo_train_plan *plan,
                   zoo_progress *progress, zoo_run_state *state) {
    loop l = {.cli = cli,
              .task = task,
              .plan = plan,
              .progress = progress,
              .state = state,
              .graph = zoo_graph_new(0),
              .dp = zoo_dp_new(task->params, &plan->parallel, task->update != NULL),
              /* a resumed run continues from its checkpoint */
              .last_saved = plan->run_dir && task->save && state->step > 0 ? state->step : -1};
    int status = l.graph && l.dp ? run_loop(&l) : loop_fail(&l, "%s", zoo_error_message());
    zoo_dp_free(l.dp);
    zoo_graph_free(l.graph);
    return status;
}

int zoo_train_resume(const zoo_train_task *task, const zoo_checkpoint *ck, zoo_run_state *state) {
    int st = zoo_checkpoint_trainable(ck);
    if (!st) st = zoo_checkpoint_load_params(ck, task->params, true, NULL);
    if (!st && ck->state.data_cursor[0])
        st = task->restore_cursor(task->ctx, ck->state.data_cursor);
    if (!st) *state = ck->state;
    return st;
}

/* runs/NAME for configs/NAME.json */
static char *default_run_dir(const char *config_path) {
    const char *base = strrchr(config_path, '/');
    base = base ? base + 1 : config_path;
    size_t len = strlen(base);
    if (len > 5 && strcmp(base + len - 5, ".json") == 0) len -= 5;
    char *dir = NULL;
    if (asprintf(&dir, "runs/%.*s", (int)len, base) < 0) return NULL;
    return dir;
}

char *zoo_run_dir_choose(const char *out, const zoo_config *c, const char *config_path) {
    const char *dir = out ? out : zoo_config_string(c, "train.run_dir");
    return dir ? strdup(dir) : default_run_dir(config_path);
}

int zoo_run_dir_lock(const zoo_cli *cli, const char *run_dir, int *lock) {
    if (zoo_run_lock(run_dir, lock) != ZOO_OK)
        return zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "%s", zoo_error_message());
    zoo_checkpoint_remove_temporaries(run_dir); /* no save of ours runs: any is stale */
    return 0;
}

int zoo_run_dir_create(const zoo_cli *cli, const char *run_dir, const char *config_text,
                       int *lock) {
    *lock = -1;
    if (zoo_make_dirs(run_dir) != ZOO_OK)
        return zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "%s", zoo_error_message());
    /* locked before looking: two new runs in one directory, one goes on */
    int status = zoo_run_dir_lock(cli, run_dir, lock);
    if (status) return status;
    status = ZOO_EXIT_FAILURE;
    /* never overwrite a run by accident */
    char path[4200];
    snprintf(path, sizeof path, "%s/latest.safetensors", run_dir);
    struct stat st;
    if (exists(path))
        zoo_cli_fail(cli, ZOO_EXIT_FAILURE,
                     "%s already holds a run; continue it with --resume %s, or choose "
                     "another --out",
                     run_dir, run_dir);
    /* a run stopped before its first checkpoint: nothing to resume, but its metrics.jsonl
     * would be appended to */
    else if (snprintf(path, sizeof path, "%s/metrics.jsonl", run_dir),
             stat(path, &st) == 0 && st.st_size > 0)
        zoo_cli_fail(cli, ZOO_EXIT_FAILURE,
                     "%s already holds the metrics of a run stopped before its first "
                     "checkpoint; remove it, or choose another --out",
                     run_dir);
    else if (snprintf(path, sizeof path, "%s/config.json", run_dir),
             zoo_write_file_atomic(path, config_text, strlen(config_text)) != ZOO_OK)
        zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "%s", zoo_error_message());
    else
        status = 0;
    if (status) {
        zoo_run_unlock(*lock);
        *lock = -1;
    }
    return status;
}

/* --- zoo train: a plugin's own objective --------------------------------- */

/* Everything one run holds. */
typedef struct run {
    const zoo_cli *cli;
    zoo_config *config;
    zoo_registry *registry;
    zoo_loaded *plugin;
    zoo_host_model *model;
    zoo_data *data;
    zoo_batcher *train_batches, *eval_batches;
    zoo_progress *progress;
    char *run_dir, *config_text, *tokenizer_json;
    int lock; /* the run directory's (run_lock.h), -1: none */
    zoo_run_state state;
    int64_t total_steps, tokens_per_step;
    zoo_train_plan plan;
} run;

static int fail(const run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(const run *r, const char *fmt, ...) {
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return zoo_cli_fail(r->cli, ZOO_EXIT_FAILURE, "%s", msg);
}

/* The plugin's hyperparameters from the config, the tokenizer and the window. */
static zoo_hparams *resolve_hparams(run *r) {
    const zoo_plugin *d = r->plugin->plugin;
    zoo_hparams *hp = zoo_hparams_new(d->hparams, d->n_hparams);
    if (!hp || zoo_config_apply_model(r->config, hp) != ZOO_OK) {
        fail(r, "%s", zoo_error_message());
        zoo_hparams_free(hp);
        return NULL;
    }
    int32_t V = zoo_tokenizer_vocab_size(r->data->tok);
    if (zoo_hparams_find(hp, "vocab_size")) { /* set from the tokenizer; a config may only agree */
        if (!zoo_config_is_null(r->config, "model.vocab_size") &&
            zoo_hparams_int(hp, "vocab_size") != V) {
            fail(r,
                 "%s: model.vocab_size: %lld, but the tokenizer has %d tokens (leave it out: it is "
                 "set from the tokenizer)",
                 zoo_config_origin(r->config, "model.vocab_size"),
                 (long long)zoo_hparams_int(hp, "vocab_size"), V);
            zoo_hparams_free(hp);
            return NULL;
        }
        if (zoo_hparams_set_int(hp, "vocab_size", V) != ZOO_OK) {
            fail(r, "model.vocab_size: the tokenizer's %d tokens: %s", V, zoo_error_message());
            zoo_hparams_free(hp);
            return NULL;
        }
    }
    int64_t seq_len = zoo_config_int(r->config, "data.seq_len");
    if (zoo_hparams_find(hp, "block_size")) {
        if (zoo_config_is_null(r->config, "model.block_size"))
            zoo_hparams_set_int(hp, "block_size", seq_len);
        else if (zoo_hparams_int(hp, "block_size") < seq_len) {
            fail(r, "%s: model.block_size %lld is shorter than data.seq_len %lld",
                 zoo_config_origin(r->config, "model.block_size"),
                 (long long)zoo_hparams_int(hp, "block_size"), (long long)seq_len);
            zoo_hparams_free(hp);
            return NULL;
        }
    }
    return hp;
}

zoo_optim_config zoo_optim_from_config(const zoo_config *c) {
    const char *name = zoo_config_string(c, "train.optimizer.name");
    zoo_optim_kind kind = strcmp(name, "sgd") == 0    ? ZOO_OPTIM_SGD
                          : strcmp(name, "adam") == 0 ? ZOO_OPTIM_ADAM
                                                      : ZOO_OPTIM_ADAMW;
    zoo_optim_config o = zoo_optim_defaults(kind);
    o.beta1 = (float)zoo_config_number_at(c, "train.optimizer.betas", 0);
    o.beta2 = (float)zoo_config_number_at(c, "train.optimizer.betas", 1);
    o.eps = (float)zoo_config_number(c, "train.optimizer.eps");
    o.weight_decay = (float)zoo_config_number(c, "train.optimizer.weight_decay");
    o.momentum = (float)zoo_config_number(c, "train.optimizer.momentum");
    return o;
}

zoo_dp_config zoo_dp_config_from(const zoo_config *c) {
    return (zoo_dp_config){.bucket_bytes =
                               (size_t)(zoo_config_number(c, "train.bucket_mb") * 1024 * 1024),
                           .check_every = zoo_config_int(c, "train.check_every"),
                           .sync_every = zoo_config_int(c, "train.sync_every")};
}

static void setup_optimizer(run *r) {
    zoo_train_plan *p = &r->plan;
    p->optim = zoo_optim_from_config(r->config);
    const char *sched = zoo_config_string(r->config, "train.schedule.name");
    p->schedule = (zoo_schedule){
        .kind = strcmp(sched, "cosine") == 0   ? ZOO_SCHEDULE_COSINE
                : strcmp(sched, "linear") == 0 ? ZOO_SCHEDULE_LINEAR
                                               : ZOO_SCHEDULE_CONSTANT,
        .lr = (float)zoo_config_number(r->config, "train.optimizer.lr"),
        .min_lr = (float)zoo_config_number(r->config, "train.schedule.min_lr"),
        .warmup = zoo_config_int(r->config, "train.schedule.warmup"),
        .total_steps = r->total_steps,
    };
    p->total_steps = r->total_steps;
    p->grad_clip = (float)zoo_config_number(r->config, "train.grad_clip");
    p->eval_every = zoo_config_int(r->config, "train.eval_every");
    p->checkpoint_every = zoo_config_int(r->config, "train.checkpoint_every");
    if (!zoo_config_is_null(r->config, "train.max_seconds"))
        p->max_seconds = zoo_config_number(r->config, "train.max_seconds");
    p->keep = zoo_config_int(r->config, "train.keep");
    p->run_dir = r->run_dir;
    p->command = "zoo train";
    p->parallel = zoo_dp_config_from(r->config);
}

/* Batches of data; B = 0: train.batch_size sequences each. */
static zoo_batcher *make_batcher(run *r, const zoo_dataset *data, bool eval, int64_t B) {
    zoo_objective obj = r->plugin->plugin->objective;
    zoo_batcher_config bc = zoo_batcher_defaults(obj);
    bc.B = obj == ZOO_OBJ_WORD_VECTORS ? 1 : B ? B : zoo_config_int(r->config, "train.batch_size");
    bc.T = zoo_config_int(r->config, "data.seq_len");
    bc.seed = (uint64_t)zoo_config_int(r->config, "train.seed") + (eval ? 1 : 0);
    bc.eval = eval;
    const zoo_tokenizer *tok = r->data->tok;
    bc.vocab_size = zoo_tokenizer_vocab_size(tok);
    int32_t specials[ZOO_TOK_N_SPECIAL];
    for (int s = 0; s < ZOO_TOK_N_SPECIAL; s++)
        if ((specials[bc.n_special] = zoo_tokenizer_special(tok, (zoo_special)s)) >= 0)
            bc.n_special++;
    bc.special_ids = specials;
    bc.mask_id = zoo_tokenizer_special(tok, ZOO_TOK_MASK);
    bc.cls_id = zoo_tokenizer_special(tok, ZOO_TOK_CLS);
    bc.sep_id = zoo_tokenizer_special(tok, ZOO_TOK_SEP);
    bc.pad_id = zoo_tokenizer_special(tok, ZOO_TOK_PAD);
    bc.nsp = obj == ZOO_OBJ_MASKED_LM && data->line_starts != NULL;
    bc.token_bytes = zoo_plugin_token_bytes(r->plugin->plugin);
    bc.tok = tok;
    zoo_batcher *b = zoo_batcher_new(data, &bc);
    if (!b) fail(r, "%s data: %s", eval ? "validation" : "training", zoo_error_message());
    return b;
}

/* The plugin's language model as a task of the loop. */

static int lm_next_batch(void *ctx, zoo_batch *batch) {
    run *r = ctx;
    zoo_batcher_next(r->train_batches, batch, NULL); /* a training batcher never runs out */
    return ZOO_OK;
}

static int lm_loss(void *ctx, zoo_graph *g, const zoo_batch *batch, zoo_rng *rng, zoo_tensor **loss,
                   zoo_metrics *metrics, int64_t *tokens) {
    run *r = ctx;
    *tokens = r->tokens_per_step;
    return r->plugin->plugin->ops->loss(r->model->model, g, batch, rng, loss, metrics);
}

static int lm_update(void *ctx, const zoo_batch *batch, float lr, zoo_rng *rng,
                     zoo_step_stats *stats) {
    run *r = ctx;
    return r->plugin->plugin->ops->train_step(r->model->model, batch, lr, rng, stats);
}

/* Mean loss (and metrics, each by its name) over up to train.eval_batches
 * batches of the validation split. */
static int lm_evaluate(void *ctx, zoo_graph *g, double *loss, zoo_metrics *metrics) {
    run *r = ctx;
    int64_t n = zoo_config_int(r->config, "train.eval_batches");
    zoo_batcher_rewind(r->eval_batches);
    zoo_rng scratch;
    zoo_rng_seed(&scratch, 0);
    double total = 0;
    int64_t count = 0;
    zoo_batch batch;
    zoo_metric_means means = {0}; /* each batch weighs alike, as in the mean loss */
    /* the yardstick of a masked LM: always guessing the most frequent target */
    bool masked = r->plugin->plugin->objective == ZOO_OBJ_MASKED_LM;
    int64_t V = zoo_tokenizer_vocab_size(r->data->tok), targets = 0;
    int64_t *seen = masked ? calloc((size_t)V, sizeof *seen) : NULL;
    while ((n <= 0 || count < n) && zoo_batcher_next(r->eval_batches, &batch, NULL) == 1) {
        for (int64_t i = 0; seen && batch.targets && i < batch.B * batch.T; i++)
            if (batch.targets[i] >= 0 && batch.targets[i] < V) seen[batch.targets[i]]++, targets++;
        zoo_graph_reset(g);
        zoo_graph_set_recording(g, false);
        zoo_graph_set_training(g, false);
        zoo_tensor *l = NULL;
        zoo_metrics m = {.size = sizeof m};
        int st = r->plugin->plugin->ops->loss(r->model->model, g, &batch, &scratch, &l, &m);
        if (st || !l || zoo_graph_status(g)) {
            free(seen);
            char why[1024];
            snprintf(why, sizeof why, "%s",
                     zoo_graph_status(g) ? zoo_graph_error(g) : zoo_error_message());
            return zoo_error(ZOO_ERR_STATE, "evaluation failed: %s", why);
        }
        total += zoo_f32(l)[0];
        zoo_metric_means_add(&means, &m, 1);
        count++;
    }
    int64_t most = 0;
    for (int64_t v = 0; seen && v < V; v++) most = seen[v] > most ? seen[v] : most;
    free(seen);
    if (count == 0)
        return zoo_error(ZOO_ERR_STATE, "no validation batches (is the validation split empty?)");
    *loss = total / (double)count;
    zoo_metric_means_get(&means, metrics);
    if (masked && targets > 0)
        zoo_metrics_add(metrics, "majority_accuracy", (double)most / (double)targets);
    return ZOO_OK;
}

static void lm_save_cursor(void *ctx, char *text, size_t cap) {
    run *r = ctx;
    zoo_batcher_state bs;
    char cursor[ZOO_BATCHER_STATE_TEXT];
    zoo_batcher_save(r->train_batches, &bs);
    zoo_batcher_state_format(&bs, cursor);
    snprintf(text, cap, "%s", cursor);
}

static int lm_restore_cursor(void *ctx, const char *text) {
    run *r = ctx;
    zoo_batcher_state bs;
    int st = zoo_batcher_state_parse(text, &bs);
    return st ? st : zoo_batcher_restore(r->train_batches, &bs);
}

static int lm_save(void *ctx, const char *path, const zoo_run_state *state) {
    run *r = ctx;
    return zoo_checkpoint_save(path, r->model, r->config_text, r->tokenizer_json, state, true);
}

static void free_run(run *r) {
    zoo_progress_close(r->progress);
    zoo_batcher_free(r->train_batches);
    zoo_batcher_free(r->eval_batches);
    zoo_host_model_destroy(r->model);
    zoo_data_free(r->data);
    zoo_plugin_unload(r->plugin);
    zoo_registry_free(r->registry);
    zoo_config_free(r->config);
    free(r->config_text);
    free(r->tokenizer_json);
}

/* What a training step costs, measured on one sequence of the training
 * data: the products' FLOPs per token (forward and backward, zoo_flops) and
 * the memory a step at train.batch_size needs: the parameters, their
 * gradients and the optimizer's state, plus batch_size times the graph
 * (activations and their gradients) of the one sequence. */
static int print_step_cost(run *r, cJSON *doc) {
    const zoo_plugin *d = r->plugin->plugin;
    if (d->capabilities & ZOO_CAP_SELF_UPDATE) {
        if (doc)
            cJSON_AddNullToObject(doc, "cost"); /* not measured: it updates its own parameters */
        else
            printf("training step cost: not measured (the plugin updates its own parameters)\n");
        return 0;
    }
    zoo_batcher *b = make_batcher(r, &r->data->train, false, 1);
    zoo_graph *g = b ? zoo_graph_new(0) : NULL;
    if (!g) {
        zoo_batcher_free(b);
        return ZOO_EXIT_FAILURE;
    }
    zoo_batch batch;
    zoo_batcher_next(b, &batch, NULL);
    zoo_graph_set_recording(g, true);
    zoo_graph_set_training(g, true);
    zoo_rng rng;
    zoo_rng_seed(&rng, 1);
    zoo_tensor *loss = NULL;
    uint64_t before = zoo_flops();
    int st = d->ops->loss(r->model->model, g, &batch, &rng, &loss, NULL);
    if (!st && loss && !zoo_graph_status(g)) st = zoo_backward(g, loss);
    uint64_t flops = zoo_flops() - before;
    int status = 0;
    if (st || !loss || zoo_graph_status(g)) {
        status = fail(r, "--cost: one training step: %s",
                      zoo_graph_status(g) ? zoo_graph_error(g) : zoo_error_message());
    } else {
        zoo_optim_config o = zoo_optim_from_config(r->config);
        int slots = o.kind == ZOO_OPTIM_SGD ? (o.momentum > 0) : 2;
        double P = (double)zoo_params_numel(r->model->params), MiB = 1024.0 * 1024.0;
        double fixed = P * 4.0 * (2 + slots), graph = (double)zoo_graph_used(g);
        int64_t B = zoo_config_int(r->config, "train.batch_size");
        cJSON *cost = doc ? cJSON_AddObjectToObject(doc, "cost") : NULL;
        if (cost) {
            cJSON_AddNumberToObject(cost, "flops_per_token",
                                    (double)flops / (double)(batch.B * batch.T));
            cJSON_AddNumberToObject(cost, "sequence_tokens", (double)(batch.B * batch.T));
            cJSON_AddNumberToObject(cost, "batch_size", (double)B);
            cJSON_AddNumberToObject(cost, "step_memory_mib", (fixed + (double)B * graph) / MiB);
            cJSON_AddNumberToObject(cost, "state_memory_mib", fixed / MiB);
            cJSON_AddNumberToObject(cost, "sequence_graph_mib", graph / MiB);
        }
        if (!doc) {
            printf(
                "training FLOPs per token: %.4g (forward and backward products over a sequence of "
                "%lld tokens)\n",
                (double)flops / (double)(batch.B * batch.T), (long long)(batch.B * batch.T));
            printf("training step memory at batch %lld: %.0f MiB (parameters, gradients and "
                   "optimizer state %.0f MiB, and %lld x %.1f MiB of one sequence's graph)\n",
                   (long long)B, (fixed + (double)B * graph) / MiB, fixed / MiB, (long long)B,
                   graph / MiB);
        }
    }
    zoo_graph_free(g);
    zoo_batcher_free(b);
    return status;
}

/* The size a model is published with: without the parameters only
 * pretraining uses (the registry card's heads), when it has any. */
static void print_without_heads(const zoo_reg_entry *e, zoo_params *params) {
    if (!e->card.n_heads) return;
    int64_t heads = 0;
    for (int i = 0; i < zoo_params_count(params); i++) {
        zoo_param *p = zoo_params_at(params, i);
        if (zoo_card_is_head(e, p->name)) heads += p->value->numel;
    }
    printf("parameters without the pretraining heads (");
    for (int i = 0; i < e->card.n_heads; i++) printf("%s%s*", i ? ", " : "", e->card.heads[i]);
    printf("): %lld\n", (long long)(zoo_params_numel(params) - heads));
}

/* A data-parallel run's ranks must run the same thing: the same resolved
 * configuration, tokenizer (ids), zoo and plugin library, checked before
 * the first step. A
 * global batch must give every rank a sequence, and a self-updating
 * plugin's steps (one chunk per rank) resume only with as many ranks. */
static int check_ranks(run *r, const zoo_checkpoint *ck, bool self_update) {
    int size = zoo_dist_size();
    /* one process too: a run of two resumed by one would skip every other chunk */
    if (self_update && ck && ck->state.world_size != size)
        return fail(r,
                    "--resume: the run was trained by %lld process(es); a self-updating plugin's "
                    "steps (one chunk for each process) continue only with as many",
                    (long long)ck->state.world_size);
    if (size <= 1) return 0;
    int64_t B = zoo_config_int(r->config, "train.batch_size");
    if (!r->tokenizer_json) return fail(r, "%s", zoo_error_message());
    if (zoo_dp_same_text("resolved configuration", r->config_text) ||
        zoo_dp_same_text("tokenizer", r->tokenizer_json) ||
        zoo_dp_same_file("zoo executable", "/proc/self/exe") ||
        zoo_dp_same_file("plugin library", r->plugin->entry->library))
        return fail(r, "%s", zoo_error_message());
    if (!self_update && B < size)
        return fail(r,
                    "%s: train.batch_size: %lld sequences cannot be shared among %d processes "
                    "(each needs at least one)",
                    zoo_config_origin(r->config, "train.batch_size"), (long long)B, size);
    return 0;
}

int zoo_train(const zoo_cli *cli, const zoo_train_opts *o, zoo_train_result *result) {
    run r = {.cli = cli, .lock = -1};
    int status = ZOO_EXIT_FAILURE;
    zoo_checkpoint *ck = NULL, *init = NULL;
    memset(result, 0, sizeof *result);
    char *config_path = NULL;
    if (o->resume) {
        if (asprintf(&config_path, "%s/config.json", o->resume) < 0) goto done;
        /* locked before its checkpoint is read: another run may be writing it */
        struct stat st;
        if (!o->dry_run && zoo_dist_writer() && stat(o->resume, &st) == 0 && S_ISDIR(st.st_mode) &&
            (status = zoo_run_dir_lock(cli, o->resume, &r.lock)))
            goto done;
        status = ZOO_EXIT_FAILURE;
        if (zoo_checkpoint_open(o->resume, &ck) != ZOO_OK) {
            fail(&r, "--resume %s: %s", o->resume, zoo_error_message());
            goto done;
        }
    } else {
        config_path = strdup(o->config);
    }
    r.config = zoo_config_load(config_path, o->sets, o->n_sets);
    if (!r.config) {
        fail(&r, "%s", zoo_error_message());
        goto done;
    }
    int64_t threads = zoo_config_int(r.config, "train.threads");
    if (cli->threads == 0 && threads > 0) zoo_threads_set((int)threads); /* --threads wins */
    r.registry = zoo_cli_registry(cli);
    char where[4200];
    snprintf(where, sizeof where, "%s: model.plugin", zoo_config_origin(r.config, "model.plugin"));
    if (!r.registry || !(r.plugin = zoo_cli_load_plugin_at(
                             cli, r.registry, zoo_config_string(r.config, "model.plugin"), where)))
        goto done;
    const char *init_path = zoo_config_string(r.config, "train.init");
    if (!ck && init_path) { /* weights and vocabulary from another run */
        if (zoo_checkpoint_open(init_path, &init) != ZOO_OK) {
            fail(&r, "%s: train.init: %s", zoo_config_origin(r.config, "train.init"),
                 zoo_error_message());
            goto done;
        }
        if (strcmp(init->plugin, r.plugin->plugin->name) != 0) {
            fail(&r, "%s: train.init: %s is a '%s' model, this run trains '%s'",
                 zoo_config_origin(r.config, "train.init"), init_path, init->plugin,
                 r.plugin->plugin->name);
            goto done;
        }
    }
    const char *tokenizer = ck ? ck->tokenizer : init ? init->tokenizer : NULL;
    r.data = zoo_data_load(r.config, r.registry, tokenizer, r.plugin->plugin->objective,
                           zoo_plugin_token_bytes(r.plugin->plugin) > 0);
    if (!r.data) {
        fail(&r, "%s", zoo_error_message());
        goto done;
    }
    zoo_hparams *hp = resolve_hparams(&r);
    if (!hp) goto done;
    zoo_config_store_model(r.config, hp);
    int64_t seed = zoo_config_int(r.config, "train.seed");
    if (zoo_host_model_create(r.plugin, hp, (uint64_t)seed, r.data->tok, &r.model) != ZOO_OK) {
        fail(&r, "%s", zoo_error_message());
        goto done;
    }
    if (init && (zoo_checkpoint_trainable(init) != ZOO_OK ||
                 zoo_checkpoint_load_params(init, r.model->params, false, NULL) != ZOO_OK)) {
        fail(&r, "%s: train.init: %s", zoo_config_origin(r.config, "train.init"),
             zoo_error_message());
        goto done;
    }
    r.config_text = zoo_config_text(r.config);
    r.tokenizer_json = zoo_tokenizer_to_json(r.data->tok);
    if (o->dry_run && !zoo_dist_writer()) { /* rank 0 answers for the job */
        status = 0;
        goto done;
    }
    if (o->dry_run && cli->json) { /* the same as one document */
        cJSON *doc = cJSON_CreateObject();
        cJSON_AddItemToObject(doc, "config", cJSON_Parse(r.config_text));
        cJSON_AddNumberToObject(doc, "parameters", (double)zoo_params_numel(r.model->params));
        const zoo_reg_entry *e = r.plugin->entry;
        if (e->card.n_heads) {
            int64_t heads = 0;
            for (int i = 0; i < zoo_params_count(r.model->params); i++) {
                zoo_param *p = zoo_params_at(r.model->params, i);
                if (zoo_card_is_head(e, p->name)) heads += p->value->numel;
            }
            cJSON_AddNumberToObject(doc, "parameters_without_heads",
                                    (double)(zoo_params_numel(r.model->params) - heads));
        }
        cJSON_AddNumberToObject(doc, "vocab_size", zoo_tokenizer_vocab_size(r.data->tok));
        cJSON_AddNumberToObject(doc, "train_tokens", (double)r.data->train.n);
        cJSON_AddNumberToObject(doc, "val_tokens", (double)r.data->val.n);
        status = o->cost ? print_step_cost(&r, doc) : 0;
        char *text = status == 0 ? cJSON_Print(doc) : NULL;
        if (text) puts(text);
        free(text);
        cJSON_Delete(doc);
        goto done;
    }
    if (o->dry_run) {
        printf("%s\n", r.config_text);
        printf("parameters: %lld\n", (long long)zoo_params_numel(r.model->params));
        print_without_heads(r.plugin->entry, r.model->params);
        printf("vocabulary: %d tokens; training split %lld tokens, validation %lld\n",
               zoo_tokenizer_vocab_size(r.data->tok), (long long)r.data->train.n,
               (long long)r.data->val.n);
        status = o->cost ? print_step_cost(&r, NULL) : 0;
        goto done;
    }

    /* values, gradients and two optimizer moments: refused here, with the
     * estimate, rather than by the kernel at the first step */
    double need = 4.0 * (double)zoo_params_bytes(r.model->params);
    if (need > (double)zoo_memory_limit()) {
        char want[32], each[32], have[32];
        fail(&r,
             "training this model needs about %s (its %lld parameters take %s, and "
             "gradients and optimizer state 3 times that again): more than %s (%s)",
             zoo_format_bytes(need, want, sizeof want),
             (long long)zoo_params_numel(r.model->params),
             zoo_format_bytes(need / 4, each, sizeof each), zoo_memory_limit_source(),
             zoo_format_bytes((double)zoo_memory_limit(), have, sizeof have));
        goto done;
    }
    bool self_update = r.plugin->plugin->capabilities & ZOO_CAP_SELF_UPDATE;
    if ((status = check_ranks(&r, ck, self_update))) goto done;
    status = ZOO_EXIT_FAILURE;
    r.run_dir = o->resume ? strdup(o->resume) : zoo_run_dir_choose(o->out, r.config, o->config);
    /* rank 0 alone writes the run directory */
    if (!o->resume && zoo_dist_writer() &&
        (status = zoo_run_dir_create(cli, r.run_dir, r.config_text, &r.lock)))
        goto done;
    status = ZOO_EXIT_FAILURE;

    /* word vectors: one chunk a step, for each process */
    bool chunks = r.plugin->plugin->objective == ZOO_OBJ_WORD_VECTORS;
    r.tokens_per_step = (chunks ? zoo_dist_size() : zoo_config_int(r.config, "train.batch_size")) *
                        zoo_config_int(r.config, "data.seq_len");
    if (!zoo_config_is_null(r.config, "train.steps"))
        r.total_steps = zoo_config_int(r.config, "train.steps");
    else if (!zoo_config_is_null(r.config, "train.tokens"))
        r.total_steps =
            (zoo_config_int(r.config, "train.tokens") + r.tokens_per_step - 1) / r.tokens_per_step;
    else {
        int64_t per_epoch = (r.data->train.n + r.tokens_per_step - 1) / r.tokens_per_step;
        r.total_steps = zoo_config_int(r.config, "train.epochs") * (per_epoch > 0 ? per_epoch : 1);
    }
    setup_optimizer(&r);
    r.plan.stop_after = o->stop_after;
    zoo_rng_seed(&r.state.rng, (uint64_t)seed ^ 0x5eedULL);
    /* no held-out split, no evaluation: a val_loss on training data would pass for one */
    bool held_out = r.data->val.n > 0;
    if (!(r.train_batches = make_batcher(&r, &r.data->train, false, 0)) ||
        (held_out && !(r.eval_batches = make_batcher(&r, &r.data->val, true, 0))))
        goto done;
    zoo_train_task task = {.ctx = &r,
                           .params = r.model->params,
                           .next_batch = lm_next_batch,
                           .loss = lm_loss,
                           .update = self_update ? lm_update : NULL,
                           .evaluate = held_out ? lm_evaluate : NULL,
                           .save_cursor = lm_save_cursor,
                           .restore_cursor = lm_restore_cursor,
                           .save = lm_save};
    /* continue exactly where the checkpoint stopped */
    if (ck && zoo_train_resume(&task, ck, &r.state) != ZOO_OK) {
        fail(&r, "--resume %s: %s", o->resume, zoo_error_message());
        goto done;
    }
    /* the log of the run continued: steps after the checkpoint are trained again */
    int dropped = ck && zoo_dist_writer() ? zoo_metrics_log_trim(r.run_dir, r.state.step) : 0;
    if (dropped < 0) {
        fail(&r, "--resume %s: %s", o->resume, zoo_error_message());
        goto done;
    }
    r.state.world_size = zoo_dist_size();
    /* the other ranks of a data-parallel run write nothing and print only errors */
    r.progress = zoo_dist_writer() ? zoo_progress_open(r.run_dir, r.total_steps, o->quiet)
                                   : zoo_progress_open(NULL, r.total_steps, true);
    if (!r.progress) {
        fail(&r, "%s", zoo_error_message());
        goto done;
    }
    if (dropped > 0)
        zoo_progress_note(r.progress,
                          "resumed from step %lld: %d line(s) of metrics.jsonl written after that "
                          "checkpoint removed (the steps are trained again)",
                          (long long)r.state.step, dropped);
    if (!held_out)
        zoo_progress_note(r.progress,
                          "no held-out split (data.val_fraction 0 and no data.val): the run is not "
                          "evaluated");
    if (r.data->train_text.replacements)
        zoo_progress_note(r.progress, "data: %lld invalid UTF-8 sequence(s) replaced by U+FFFD",
                          (long long)r.data->train_text.replacements);
    status = zoo_train_loop(cli, &task, &r.plan, r.progress, &r.state);
    if (status == 0 || status == 130) {
        result->run_dir = strdup(r.run_dir);
        if (asprintf(&result->checkpoint, "%s/latest.safetensors", r.run_dir) < 0)
            result->checkpoint = NULL;
    }
done:
    zoo_checkpoint_close(ck);
    zoo_checkpoint_close(init);
    free(config_path);
    free(r.run_dir);
    free_run(&r);
    zoo_run_unlock(r.lock);
    return status;
}
