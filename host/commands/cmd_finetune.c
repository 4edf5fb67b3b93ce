/* zoo finetune CONFIG.json: a classification head trained on a pretrained
 * model's pooled output (or the mean of its hidden states, for models
 * without a pooler), the model itself trained too unless finetune.freeze.
 * Reports accuracy on held-out examples beside two yardsticks: always
 * guessing the most frequent class, and a bag-of-words logistic regression
 * trained on the same examples with the same tokenizer.
 *
 * Both classifiers are tasks of the training loop (train.h), so a
 * fine-tuning run is a run as zoo train makes them: progress, metrics.jsonl,
 * step and latest checkpoints (the model with its head, the optimizer state,
 * the generator and the place in the examples), --stop-after, --resume and
 * Ctrl-C. The run directory also holds labels.txt, the label of each row of
 * the head. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "config.h"
#include "labeled_examples.h"
#include "progress.h"
#include "run_lock.h"
#include "saved_model.h"
#include "sequence_summary.h"
#include "text_input.h"
#include "train.h"
#include "zoo/io.h"
#include "zoo/ops.h"
#include "zoo/optim.h"
#include "zoo/status.h"
#include "zoo/threads.h"

typedef struct examples {
    int32_t *ids, *mask, *labels; /* (n,T) (n,T) (n) */
    int64_t n, T;
    int32_t *bytes; /* (n,T,W) token bytes, for a plugin that reads W > 0; else NULL */
    int64_t W;
} examples;

/* The examples of the files at `key` (labeled_examples.h), each encoded,
 * cut at data.seq_len tokens and padded up to it. */
static int read_examples(const zoo_cli *cli, const zoo_config *c, const char *key,
                         const zoo_tokenizer *tok, int32_t W, zoo_labels *ls, bool add_labels,
                         examples *out) {
    const char *format = zoo_config_string(c, "finetune.format");
    bool replace = strcmp(zoo_config_string(c, "data.invalid_utf8"), "replace") == 0;
    int64_t T = zoo_config_int(c, "data.seq_len");
    int32_t pad = zoo_tokenizer_special(tok, ZOO_TOK_PAD);
    memset(out, 0, sizeof *out);
    out->T = T;
    out->W = W > 0 ? W : 0;
    zoo_labeled_examples ex = {0};
    int status = 0;
    for (int f = 0; !status && f < zoo_config_count(c, key); f++)
        if (zoo_labeled_examples_read(&ex, ls, zoo_config_string_at(c, key, f), key, format,
                                      replace ? ZOO_UTF8_REPLACE : ZOO_UTF8_ERROR, add_labels))
            status = zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "%s%s", zoo_error_message(),
                                  strstr(zoo_error_message(), "UTF-8")
                                      ? " (--set data.invalid_utf8=replace reads it)"
                                      : "");
    if (!status && ex.n == 0) status = zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "%s: no examples", key);
    if (!status) {
        out->ids = malloc((size_t)(ex.n * T) * sizeof *out->ids);
        out->mask = malloc((size_t)(ex.n * T) * sizeof *out->mask);
        out->labels = malloc((size_t)ex.n * sizeof *out->labels);
        if (out->W) out->bytes = malloc((size_t)(ex.n * T * W) * sizeof *out->bytes);
        if (!out->ids || !out->mask || !out->labels || (out->W && !out->bytes))
            status = zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "out of memory");
    }
    for (int64_t i = 0; !status && i < ex.n; i++, out->n++) {
        zoo_ids ids = {0};
        int32_t *bytes = NULL;
        status = zoo_encode_with_bytes(cli, tok, ex.texts[i], ex.lens[i], false, W, &ids, &bytes);
        int64_t n = ids.count < T ? ids.count : T; /* truncated at the window, padded up to it */
        for (int64_t t = 0; !status && t < T; t++) {
            out->ids[i * T + t] = t < n ? ids.ids[t] : (pad >= 0 ? pad : 0);
            out->mask[i * T + t] = t < n;
        }
        if (!status && out->W) { /* padding: all -1 */
            int32_t *row = out->bytes + i * T * W;
            memcpy(row, bytes, (size_t)(n * W) * sizeof *row);
            for (int64_t j = n * W; j < T * W; j++) row[j] = -1;
        }
        out->labels[i] = ex.labels[i];
        free(bytes);
        zoo_ids_free(&ids);
    }
    zoo_labeled_examples_free(&ex);
    return status;
}

/* The labels, one a line, in order. From malloc. */
static char *labels_text(const zoo_labels *ls) {
    size_t len = 1;
    for (int i = 0; i < ls->n; i++) len += strlen(ls->names[i]) + 1;
    char *text = malloc(len), *at = text;
    if (!text) return NULL;
    *at = '\0';
    for (int i = 0; i < ls->n; i++) at += sprintf(at, "%s\n", ls->names[i]);
    return text;
}

/* RUN_DIR/labels.txt: the label of each row of classifier.weight, in order.
 * A resumed run checks that the examples still give the same labels. */
static int save_labels(const zoo_cli *cli, const char *run_dir, const zoo_labels *ls, bool check) {
    char *text = labels_text(ls), path[4200];
    if (!text) return zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "out of memory");
    snprintf(path, sizeof path, "%s/labels.txt", run_dir);
    int status = 0;
    if (check) {
        char *saved = zoo_read_file(path, NULL);
        if (!saved)
            status = zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "%s", zoo_error_message());
        else if (strcmp(saved, text) != 0)
            status = zoo_cli_fail(cli, ZOO_EXIT_FAILURE,
                                  "%s: the run's labels are not the ones finetune.train gives "
                                  "now (were its files changed?)",
                                  path);
        free(saved);
    } else if (zoo_write_file_atomic(path, text, strlen(text)) != ZOO_OK) {
        status = zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "%s", zoo_error_message());
    }
    free(text);
    return status;
}

static void free_examples(examples *e) {
    free(e->ids), free(e->mask), free(e->labels), free(e->bytes);
}

/* Bag-of-words logistic regression: logits = sum over tokens of W[token] + bias. */
static zoo_tensor *bag_of_words(zoo_graph *g, zoo_tensor *W, zoo_tensor *bias, const zoo_batch *b,
                                int64_t L) {
    zoo_tensor *ids = zoo_tensor_wrap(g, ZOO_I32, 2, ZOO_SHAPE(b->B, b->T), (void *)b->ids);
    zoo_tensor *w = zoo_new(g, ZOO_F32, b->B, 1, b->T);
    if (!w) return NULL;
    for (int64_t i = 0; i < b->B * b->T; i++) zoo_f32(w)[i] = (float)b->mask[i];
    zoo_tensor *sum = zoo_matmul(g, w, zoo_embedding(g, W, ids), false, false); // (B,1,L)
    return zoo_bias_add(g, zoo_view(g, sum, b->B, L), bias);
}

/* A classifier as a task of the training loop: the head on the model's
 * sequence summary, or (m NULL) the bag-of-words baseline. */
typedef struct classifier {
    const zoo_saved_model *m;
    zoo_params *params; /* the model's store with the head in it, or the baseline's */
    zoo_tensor *w, *b;  /* classifier.weight (L,C) and .bias (L), or bow.weight (V,L), .bias */
    int64_t L, B;
    float dropout;            /* before the head */
    const examples *train;    /* what batches come from */
    const examples *eval;     /* what evaluation measures: held-out, else the training examples */
    uint64_t seed;            /* orders the passes */
    int64_t *order, pass, at; /* pass `pass` takes the training examples in `order`; `at` taken */
    int32_t *ids, *mask, *y;  /* the batch (B,T) (B,T) (B) */
    int32_t *bytes;           /* (B,T,W) when the examples have token bytes */
    const zoo_metrics *yardsticks;  /* added to every evaluation */
    double accuracy;                /* of the last evaluation */
    const char *config, *tokenizer; /* the base model's, for its checkpoints */
} classifier;

/* Logits (B,L) of a batch. The model runs without its own dropout (the batch
 * carries no generator); only the head drops, and only in training mode. */
static zoo_tensor *logits_of(classifier *c, zoo_graph *g, const zoo_batch *b, bool training,
                             zoo_rng *rng) {
    if (!c->m) return bag_of_words(g, c->w, c->b, b, c->L);
    zoo_graph_set_training(g, false);
    zoo_tensor *s = zoo_sequence_summary(c->m, g, b);
    zoo_graph_set_training(g, training);
    return zoo_linear(g, training ? zoo_dropout(g, s, c->dropout, rng) : s, c->w, c->b,
                      ZOO_W_OUT_IN);
}

/* Every pass takes the examples in a fresh order, which its number alone
 * decides (so a checkpoint need only say which pass and how far). */
static void order_pass(classifier *c) {
    zoo_rng rng;
    zoo_rng_seed(&rng, c->seed ^ ((uint64_t)c->pass * 0x9E3779B97F4A7C15ULL));
    int64_t n = c->train->n;
    for (int64_t i = 0; i < n; i++) c->order[i] = i;
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)zoo_rng_below(&rng, (uint64_t)i + 1), t = c->order[i];
        c->order[i] = c->order[j], c->order[j] = t;
    }
}

static int cls_next_batch(void *ctx, zoo_batch *batch) {
    classifier *c = ctx;
    const examples *e = c->train;
    for (int64_t r = 0; r < c->B; r++) {
        if (c->at == e->n) c->pass++, order_pass(c), c->at = 0;
        int64_t k = c->order[c->at++];
        memcpy(c->ids + r * e->T, e->ids + k * e->T, (size_t)e->T * sizeof *c->ids);
        memcpy(c->mask + r * e->T, e->mask + k * e->T, (size_t)e->T * sizeof *c->mask);
        if (e->W)
            memcpy(c->bytes + r * e->T * e->W, e->bytes + k * e->T * e->W,
                   (size_t)(e->T * e->W) * sizeof *c->bytes);
        c->y[r] = e->labels[k];
    }
    *batch = (zoo_batch){.size = sizeof *batch,
                         .B = c->B,
                         .T = e->T,
                         .ids = c->ids,
                         .mask = c->mask,
                         .labels = c->y,
                         .token_bytes = e->W ? c->bytes : NULL,
                         .W = e->W};
    return ZOO_OK;
}

static int cls_loss(void *ctx, zoo_graph *g, const zoo_batch *b, zoo_rng *rng, zoo_tensor **loss,
                    zoo_metrics *metrics, int64_t *tokens) {
    (void)metrics;
    classifier *c = ctx;
    *tokens = 0; /* the real ones, not the padding */
    for (int64_t i = 0; i < b->B * b->T; i++) *tokens += b->mask[i];
    zoo_tensor *y = zoo_tensor_wrap(g, ZOO_I32, 1, ZOO_SHAPE(b->B), (void *)b->labels);
    *loss = zoo_cross_entropy(g, logits_of(c, g, b, true, rng), y, ZOO_IGNORE);
    return ZOO_OK;
}

/* Mean cross-entropy and accuracy over every evaluation example. */
static int cls_evaluate(void *ctx, zoo_graph *g, double *loss, zoo_metrics *metrics) {
    classifier *c = ctx;
    const examples *e = c->eval;
    int64_t right = 0;
    double total = 0;
    zoo_graph_set_recording(g, false);
    zoo_graph_set_training(g, false);
    for (int64_t s = 0; s < e->n; s += c->B) {
        int64_t n = e->n - s < c->B ? e->n - s : c->B;
        zoo_graph_reset(g);
        zoo_batch b = {.size = sizeof b,
                       .B = n,
                       .T = e->T,
                       .ids = e->ids + s * e->T,
                       .mask = e->mask + s * e->T,
                       .labels = e->labels + s,
                       .token_bytes = e->W ? e->bytes + s * e->T * e->W : NULL,
                       .W = e->W};
        zoo_tensor *logits = logits_of(c, g, &b, false, NULL);
        zoo_tensor *l = zoo_cross_entropy(
            g, logits, zoo_tensor_wrap(g, ZOO_I32, 1, ZOO_SHAPE(n), (void *)b.labels), ZOO_IGNORE);
        if (!l || zoo_graph_status(g)) {
            char why[1024];
            snprintf(why, sizeof why, "%s",
                     zoo_graph_status(g) ? zoo_graph_error(g) : zoo_error_message());
            return zoo_error(ZOO_ERR_STATE, "evaluation failed: %s", why);
        }
        total += zoo_f32(l)[0] * (double)n;
        for (int64_t r = 0; r < n; r++) {
            const float *row = zoo_f32(logits) + r * c->L;
            int64_t best = 0;
            for (int64_t k = 1; k < c->L; k++)
                if (row[k] > row[best]) best = k;
            right += best == e->labels[s + r];
        }
    }
    *loss = total / (double)e->n;
    c->accuracy = (double)right / (double)e->n;
    zoo_metrics_add(metrics, "accuracy", c->accuracy);
    for (int i = 0; c->yardsticks && i < c->yardsticks->count; i++)
        zoo_metrics_add(metrics, c->yardsticks->items[i].name, c->yardsticks->items[i].value);
    return ZOO_OK;
}

/* "examples1 N PASS AT": N examples (a check), the pass and how far it got. */
static void cls_save_cursor(void *ctx, char *text, size_t cap) {
    const classifier *c = ctx;
    snprintf(text, cap, "examples1 %lld %lld %lld", (long long)c->train->n, (long long)c->pass,
             (long long)c->at);
}

static int cls_restore_cursor(void *ctx, const char *text) {
    classifier *c = ctx;
    long long n, pass, at;
    int used = 0;
    if (sscanf(text, "examples1 %lld %lld %lld%n", &n, &pass, &at, &used) != 3 || text[used] ||
        n != c->train->n || pass < 0 || at < 0 || at > n)
        return zoo_error(ZOO_ERR_FORMAT,
                         "zoo.data_cursor: \"%s\" is not a place in these %lld training examples",
                         text, (long long)c->train->n);
    c->pass = pass, c->at = at;
    order_pass(c);
    return ZOO_OK;
}

/* The base model (its config, as the plugin rebuilds it from) with the head,
 * and the optimizer state of both. */
static int cls_save(void *ctx, const char *path, const zoo_run_state *state) {
    const classifier *c = ctx;
    return zoo_checkpoint_save(path, c->m->model, c->config, c->tokenizer, state, true);
}

static int classifier_init(classifier *c, const examples *train, int64_t B) {
    c->train = train, c->B = B;
    c->order = malloc((size_t)train->n * sizeof *c->order);
    c->ids = malloc((size_t)(B * train->T) * sizeof *c->ids);
    c->mask = malloc((size_t)(B * train->T) * sizeof *c->mask);
    c->y = malloc((size_t)B * sizeof *c->y);
    if (train->W) c->bytes = malloc((size_t)(B * train->T * train->W) * sizeof *c->bytes);
    if (!c->order || !c->ids || !c->mask || !c->y || (train->W && !c->bytes))
        return zoo_error(ZOO_ERR_NOMEM, "out of memory");
    order_pass(c);
    return ZOO_OK;
}

static void classifier_free(classifier *c) {
    free(c->order), free(c->ids), free(c->mask), free(c->y), free(c->bytes);
}

static zoo_train_task classifier_task(classifier *c) {
    return (zoo_train_task){.ctx = c,
                            .params = c->params,
                            .next_batch = cls_next_batch,
                            .loss = cls_loss,
                            .evaluate = cls_evaluate,
                            .save_cursor = cls_save_cursor,
                            .restore_cursor = cls_restore_cursor,
                            .save = c->m ? cls_save : NULL};
}

typedef struct finetune_opts {
    const char *config, *resume, *out;
    const char *sets[64];
    int n_sets;
    int64_t stop_after;
    bool quiet;
} finetune_opts;

static const zoo_option OPTIONS[] = {
    {"CONFIG.json", ZOO_OPT_PATH, offsetof(finetune_opts, config),
     .help = "finetune.base (the pretrained model), finetune.train / finetune.eval\n"
             "(labeled files), finetune.format (tsv, sst, trec), finetune.freeze, and\n"
             "the usual data.seq_len, train.epochs or train.steps, batch_size,\n"
             "optimizer, grad_clip, eval_every, checkpoint_every, keep, seed"},
    {"--set", ZOO_OPT_ASSIGN, offsetof(finetune_opts, sets), ZOO_OPT_REPEAT, .value = "KEY=VALUE",
     ZOO_OPT_ARRAY(finetune_opts, sets, n_sets), .help = "override any config key"},
    {"--out", ZOO_OPT_PATH, offsetof(finetune_opts, out), .value = "RUN_DIR",
     .help = "where to write the run (default: train.run_dir, or runs/CONFIG_NAME):\n"
             "config.json, labels.txt, metrics.jsonl, step-N and latest checkpoints\n"
             "(the model with its head and the optimizer state)"},
    {"--resume", ZOO_OPT_PATH, offsetof(finetune_opts, resume), .value = "RUN_DIR",
     .help = "continue a stopped run exactly where its last checkpoint left it"},
    {"--stop-after", ZOO_OPT_INT, offsetof(finetune_opts, stop_after), .value = "N", ZOO_OPT_MIN(1),
     .help = "stop once step N is done, with a checkpoint (resume it later)"},
    {"--quiet", ZOO_OPT_FLAG, offsetof(finetune_opts, quiet),
     .help = "no progress display (metrics.jsonl is still written)"},
    {0}};

static int check_args(zoo_cli *cli, const finetune_opts *o) {
    if (!o->config == !o->resume)
        return zoo_cli_usage(cli,
                             "give a CONFIG.json, or --resume RUN_DIR (see zoo finetune --help)");
    if (o->resume && o->out)
        return zoo_cli_usage(cli, "--resume continues in its own directory (no --out)");
    return 0;
}

/* Everything one fine-tuning holds. */
typedef struct finetune {
    zoo_cli *cli;
    finetune_opts o;
    zoo_config *c;
    zoo_saved_model m; /* zoo_cli_open_model's (zeroed until then) */
    zoo_labels ls;
    examples train, held;
    zoo_params *bow_params;
    classifier head, bow;
    zoo_progress *progress;
    char *config_path, *run_dir, *config_text, *base_config, *tokenizer;
    int lock; /* the run directory's (run_lock.h), -1: none */
    int64_t C, steps;
} finetune;

static void finetune_free(finetune *f) {
    zoo_progress_close(f->progress);
    classifier_free(&f->head), classifier_free(&f->bow);
    zoo_labels_free(&f->ls);
    free_examples(&f->train), free_examples(&f->held);
    zoo_params_free(f->bow_params);
    zoo_cli_close_model(&f->m);
    zoo_config_free(f->c);
    free(f->config_path), free(f->run_dir), free(f->config_text), free(f->base_config),
        free(f->tokenizer);
    zoo_run_unlock(f->lock);
}

/* The config, the model (the base, or the run's checkpoint when resuming) and the examples. */
static int open_inputs(finetune *f) {
    const finetune_opts *o = &f->o;
    if (o->resume ? asprintf(&f->config_path, "%s/config.json", o->resume) < 0
                  : !(f->config_path = strdup(o->config)))
        return zoo_cli_fail(f->cli, ZOO_EXIT_FAILURE, "out of memory");
    if (!(f->c = zoo_config_load(f->config_path, o->sets, o->n_sets)))
        return zoo_cli_fail(f->cli, ZOO_EXIT_FAILURE, "%s", zoo_error_message());
    const zoo_config *c = f->c;
    if (zoo_config_is_null(c, "finetune.base") || zoo_config_is_null(c, "finetune.train"))
        return zoo_cli_fail(f->cli, ZOO_EXIT_FAILURE,
                            "%s: finetune.base and finetune.train are needed", f->config_path);
    int64_t threads = zoo_config_int(c, "train.threads");
    if (f->cli->threads == 0 && threads > 0) zoo_threads_set((int)threads); /* --threads wins */
    const char *model = o->resume ? o->resume : zoo_config_string(c, "finetune.base");
    int status = zoo_cli_open_model(f->cli, model, ZOO_NEEDS_TOKENIZER, &f->m);
    if (status) return status;
    if (f->m.checkpoint && zoo_checkpoint_trainable(f->m.checkpoint) != ZOO_OK)
        return zoo_cli_fail(f->cli, ZOO_EXIT_FAILURE, "%s", zoo_error_message());
    int32_t W = zoo_plugin_token_bytes(f->m.plugin->plugin);
    if ((status = read_examples(f->cli, c, "finetune.train", f->m.tokenizer, W, &f->ls, true,
                                &f->train)))
        return status;
    if (!zoo_config_is_null(c, "finetune.eval") &&
        (status =
             read_examples(f->cli, c, "finetune.eval", f->m.tokenizer, W, &f->ls, false, &f->held)))
        return status;
    /* the summary's width, from one example */
    zoo_graph *g = zoo_graph_new(0);
    zoo_graph_set_recording(g, false);
    zoo_batch b = {.size = sizeof b,
                   .B = 1,
                   .T = f->train.T,
                   .ids = f->train.ids,
                   .mask = f->train.mask,
                   .token_bytes = f->train.bytes,
                   .W = f->train.W};
    zoo_tensor *s = zoo_sequence_summary(&f->m, g, &b);
    if (!s)
        status = zoo_cli_fail(f->cli, ZOO_EXIT_FAILURE, "forward: %s", zoo_graph_error(g));
    else
        f->C = s->shape[1];
    zoo_graph_free(g);
    return status;
}

/* The head (in the model's store, so that it is saved with the model) and the baseline. */
static int make_classifiers(finetune *f) {
    const zoo_config *c = f->c;
    int64_t L = f->ls.n, V = zoo_tokenizer_vocab_size(f->m.tokenizer);
    int64_t B = zoo_config_int(c, "train.batch_size");
    uint64_t seed = (uint64_t)zoo_config_int(c, "train.seed");
    zoo_params *params = f->m.model->params;
    f->bow_params = zoo_params_new();
    zoo_rng rng;
    zoo_rng_seed(&rng, seed);
    f->head = (classifier){.m = &f->m, .params = params, .L = L, .seed = seed};
    f->bow = (classifier){.params = f->bow_params, .L = L, .seed = seed};
    f->head.w =
        zoo_params_add_normal(params, "classifier.weight", 2, ZOO_SHAPE(L, f->C), 0, &rng, 0.02f);
    f->head.b = zoo_params_add(params, "classifier.bias", 1, ZOO_SHAPE(L), ZOO_PARAM_NO_DECAY);
    f->bow.w =
        f->bow_params ? zoo_params_add(f->bow_params, "bow.weight", 2, ZOO_SHAPE(V, L), 0) : NULL;
    f->bow.b = f->bow_params
                   ? zoo_params_add(f->bow_params, "bow.bias", 1, ZOO_SHAPE(L), ZOO_PARAM_NO_DECAY)
                   : NULL;
    if (!f->head.w || !f->head.b || !f->bow.w || !f->bow.b)
        return zoo_cli_fail(f->cli, ZOO_EXIT_FAILURE, "%s", zoo_error_message());
    for (int i = 0; zoo_config_bool(c, "finetune.freeze") && i < zoo_params_count(params); i++) {
        zoo_param *p = zoo_params_at(params, i);
        if (strncmp(p->name, "classifier.", 11) != 0) zoo_params_set_frozen(p, true);
    }
    f->head.dropout = (float)zoo_config_number(c, "finetune.dropout");
    f->head.eval = f->bow.eval = f->held.n ? &f->held : &f->train;
    if (classifier_init(&f->head, &f->train, B) || classifier_init(&f->bow, &f->train, B))
        return zoo_cli_fail(f->cli, ZOO_EXIT_FAILURE, "%s", zoo_error_message());
    int64_t epochs = zoo_config_is_null(c, "train.epochs") ? 0 : zoo_config_int(c, "train.epochs");
    if (epochs)
        f->steps = epochs * ((f->train.n + B - 1) / B);
    else if (!zoo_config_is_null(c, "train.tokens")) /* each step counts as B full windows */
        f->steps = (zoo_config_int(c, "train.tokens") + B * f->train.T - 1) / (B * f->train.T);
    else
        f->steps = zoo_config_int(c, "train.steps");
    return 0;
}

/* BERT's fine-tuning recipe: warm-up over the first tenth, then linear decay to zero. */
static zoo_train_plan plan_of(const finetune *f, double lr) {
    const zoo_config *c = f->c;
    return (zoo_train_plan){
        .total_steps = f->steps,
        .optim = zoo_optim_from_config(c),
        .schedule = {.kind = ZOO_SCHEDULE_LINEAR,
                     .lr = (float)lr,
                     .warmup = f->steps / 10,
                     .total_steps = f->steps},
        .grad_clip = (float)zoo_config_number(c, "train.grad_clip"),
        .max_seconds = zoo_config_is_null(c, "train.max_seconds")
                           ? 0
                           : zoo_config_number(c, "train.max_seconds"),
        .command = "zoo finetune",
    };
}

/* The share of the evaluation examples whose label is the most frequent training label. */
static double majority_accuracy(const finetune *f) {
    int64_t count[ZOO_MAX_LABELS] = {0}, most = 0, right = 0;
    for (int64_t i = 0; i < f->train.n; i++) count[f->train.labels[i]]++;
    for (int k = 1; k < f->ls.n; k++) most = count[k] > count[most] ? k : most;
    const examples *e = f->head.eval;
    for (int64_t i = 0; i < e->n; i++) right += e->labels[i] == most;
    return (double)right / (double)e->n;
}

static int cmd_finetune(zoo_cli *cli, void *args) {
    finetune f = {.cli = cli, .o = *(const finetune_opts *)args, .lock = -1};
    int status = check_args(cli, &f.o);
    if (status) return status;
    const finetune_opts *o = &f.o;
    if ((status = open_inputs(&f)) || (status = make_classifiers(&f))) goto done;
    f.config_text = zoo_config_text(f.c);
    f.base_config = zoo_config_text(f.m.config);
    f.tokenizer = zoo_tokenizer_to_json(f.m.tokenizer);
    f.head.config = f.base_config, f.head.tokenizer = f.tokenizer;
    f.run_dir = o->resume ? strdup(o->resume) : zoo_run_dir_choose(o->out, f.c, o->config);
    if ((status = o->resume ? zoo_run_dir_lock(cli, f.run_dir, &f.lock)
                            : zoo_run_dir_create(cli, f.run_dir, f.config_text, &f.lock)))
        goto done;
    if ((status = save_labels(cli, f.run_dir, &f.ls, o->resume != NULL))) goto done;

    /* the head's run, continued from its checkpoint when resuming */
    zoo_train_task head = classifier_task(&f.head);
    zoo_train_plan plan = plan_of(&f, zoo_config_number(f.c, "train.optimizer.lr"));
    plan.eval_every = zoo_config_int(f.c, "train.eval_every");
    plan.checkpoint_every = zoo_config_int(f.c, "train.checkpoint_every");
    plan.keep = zoo_config_int(f.c, "train.keep");
    plan.stop_after = o->stop_after;
    plan.run_dir = f.run_dir;
    zoo_run_state state = {0};
    zoo_rng_seed(&state.rng, (uint64_t)zoo_config_int(f.c, "train.seed") ^ 0x5eedULL);
    if (o->resume && zoo_train_resume(&head, f.m.checkpoint, &state) != ZOO_OK) {
        status =
            zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "--resume %s: %s", o->resume, zoo_error_message());
        goto done;
    }
    int dropped = o->resume ? zoo_metrics_log_trim(f.run_dir, state.step) : 0;
    if (dropped < 0) {
        status =
            zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "--resume %s: %s", o->resume, zoo_error_message());
        goto done;
    }
    if (!(f.progress = zoo_progress_open(f.run_dir, f.steps, o->quiet))) {
        status = zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "%s", zoo_error_message());
        goto done;
    }
    if (dropped > 0)
        zoo_progress_note(f.progress,
                          "resumed from step %lld: %d line(s) of metrics.jsonl written after that "
                          "checkpoint removed (the steps are trained again)",
                          (long long)state.step, dropped);

    /* the yardsticks first (they are cheap, and not kept: a resumed run trains the baseline
     * again, to the same weights), so that every evaluation of the head shows them */
    zoo_train_task bow = classifier_task(&f.bow);
    zoo_train_plan bow_plan = plan_of(&f, zoo_config_number(f.c, "finetune.bow_lr"));
    zoo_run_state bow_state = {0};
    zoo_progress *silent = zoo_progress_open(NULL, f.steps, true);
    zoo_progress_note(f.progress, "baseline: a bag-of-words logistic regression, %lld steps",
                      (long long)f.steps);
    status = silent ? zoo_train_loop(cli, &bow, &bow_plan, silent, &bow_state) : ZOO_EXIT_FAILURE;
    zoo_progress_close(silent);
    if (status == 130)
        zoo_progress_note(
            f.progress,
            o->resume ? "interrupted; continue with zoo finetune --resume %s"
                      : "interrupted before the first step, nothing saved in %s: start it again",
            f.run_dir);
    if (status) goto done;
    zoo_metrics yardsticks = {.size = sizeof yardsticks};
    zoo_metrics_add(&yardsticks, "majority_accuracy", majority_accuracy(&f));
    zoo_metrics_add(&yardsticks, "bow_accuracy", f.bow.accuracy);
    f.head.yardsticks = &yardsticks;
    zoo_progress_note(f.progress, "baseline: %s accuracy %.4f (majority class %.4f)",
                      f.held.n ? "held-out" : "training", f.bow.accuracy,
                      yardsticks.items[0].value);

    int64_t from = state.step;
    if ((status = zoo_train_loop(cli, &head, &plan, f.progress, &state)) || state.step < f.steps)
        goto done;            /* interrupted, failed or stopped as asked: the loop said so */
    if (state.step == from) { /* resumed a finished run: nothing evaluated it */
        zoo_graph *g = zoo_graph_new(0);
        double loss;
        zoo_metrics m = {.size = sizeof m};
        if (!g || cls_evaluate(&f.head, g, &loss, &m))
            status = zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "%s", zoo_error_message());
        zoo_graph_free(g);
        if (status) goto done;
    }
    zoo_progress_close(f.progress), f.progress = NULL;
    if (cli->json) { /* the same line as one object, and where the model is */
        printf("{\"split\": \"%s\", \"accuracy\": %.10g, \"majority_accuracy\": %.10g, "
               "\"bow_accuracy\": %.10g, \"examples\": %lld, \"labels\": %d, \"run_dir\": ",
               f.held.n ? "held-out" : "training", f.head.accuracy, yardsticks.items[0].value,
               f.bow.accuracy, (long long)f.head.eval->n, f.ls.n);
        zoo_print_json_string(stdout, f.run_dir);
        printf("}\n");
    } else {
        printf("%s accuracy %.4f  (majority class %.4f, bag-of-words logistic regression %.4f; "
               "%lld examples, %d labels)\n",
               f.held.n ? "held-out" : "training", f.head.accuracy, yardsticks.items[0].value,
               f.bow.accuracy, (long long)f.head.eval->n, f.ls.n);
    }
    if (!o->quiet)
        fprintf(
            stderr,
            "zoo finetune: done; the run is in %s (the model with its head: latest.safetensors, "
            "labels.txt)\n",
            f.run_dir);
done:
    finetune_free(&f);
    return status;
}

const zoo_command zoo_cmd_finetune = {
    .name = "finetune",
    .takes_tokenizer = true,
    .run = cmd_finetune,
    .options = OPTIONS,
    .opts_size = sizeof(finetune_opts),
    .usage =
        "zoo finetune CONFIG.json [--set KEY=VALUE]... [--out RUN_DIR] [--stop-after N] [--quiet]\n"
        "       zoo finetune --resume RUN_DIR [--set KEY=VALUE]... [--stop-after N] [--quiet]",
    .summary = "train a classification head on a pretrained model and report held-out accuracy",
    .json_help =
        "{\"split\", \"accuracy\", \"majority_accuracy\", \"bow_accuracy\", \"examples\",\n"
        "\"labels\", \"run_dir\"} at the end, instead of the accuracy line",
    .notes =
        "\n"
        "The learning rate warms up over the first tenth of the steps, then decays linearly to 0.\n"
        "Accuracy is printed beside the majority class's and a bag-of-words logistic "
        "regression's,\n"
        "trained first on the same examples with the same tokenizer (finetune.bow_lr). Ctrl-C "
        "saves\n"
        "a checkpoint and stops. zoo classify RUN_DIR uses the model.\n",
};
