/* zoo eval CHECKPOINT [--data FILE] [--batches N] [--json]: loss and
 * perplexity (and bits per character or byte) of a trained model on held-out
 * text, the run's own held-out split without --data, and the metrics its
 * loss reports, averaged as the loss is (metrics.h). A long evaluation shows
 * its progress on stderr. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "data.h"
#include "metrics.h"
#include "saved_model.h"
#include "zoo/status.h"

typedef struct eval_result {
    double loss; /* mean per target */
    int64_t batches, rows;
    int64_t tokens;      /* the tokens the batches scored: positions with a target (a masked
                          * LM's masked tokens), else the tokens they covered (word vectors) */
    zoo_metrics metrics; /* the plugin's, each averaged as the loss is */
} eval_result;

/* Progress of a long evaluation, on stderr (stdout keeps the result, --json's
 * included): nothing for the first seconds, then a live line on a terminal,
 * or a plain line every PLAIN_S seconds otherwise. */
#define QUIET_S 2.0
#define PLAIN_S 10.0
#define LIVE_S 0.2 /* a live line is redrawn at most this often */

typedef struct eval_progress {
    double start, last;
    bool live, shown;
} eval_progress;

/* done: the share of the evaluation behind us, in (0, 1]. */
static void eval_progress_show(eval_progress *p, int64_t batches, int64_t total, int64_t tokens,
                               double done) {
    double now = zoo_now(), elapsed = now - p->start;
    if (elapsed < QUIET_S || done >= 1) return;
    if (p->shown && now - p->last < (p->live ? LIVE_S : PLAIN_S)) return;
    double eta = done > 0 ? elapsed / done * (1 - done) : 0;
    char line[160];
    snprintf(line, sizeof line, "eval: batch %lld/%lld  %.0f tok/s  ETA %.0fs", (long long)batches,
             (long long)total, (double)tokens / elapsed, eta);
    if (p->live)
        fprintf(stderr, "\r%-79s", line);
    else
        fprintf(stderr, "%s\n", line);
    p->shown = true, p->last = now;
}

static void eval_progress_end(eval_progress *p) {
    if (p->live && p->shown) fprintf(stderr, "\r%-79s\r", "");
}

static int run_eval(const zoo_cli *cli, zoo_saved_model *m, const zoo_dataset *data,
                    int64_t max_batches, eval_result *out) {
    const zoo_plugin *d = m->plugin->plugin;
    zoo_batcher_config bc = zoo_batcher_defaults(d->objective);
    bc.B = d->objective == ZOO_OBJ_WORD_VECTORS ? 1 : zoo_config_int(m->config, "train.batch_size");
    bc.T = zoo_config_int(m->config, "data.seq_len");
    bc.eval = true;
    bc.vocab_size = zoo_tokenizer_vocab_size(m->tokenizer);
    int32_t specials[ZOO_TOK_N_SPECIAL];
    for (int s = 0; s < ZOO_TOK_N_SPECIAL; s++)
        if ((specials[bc.n_special] = zoo_tokenizer_special(m->tokenizer, (zoo_special)s)) >= 0)
            bc.n_special++;
    bc.special_ids = specials;
    bc.mask_id = zoo_tokenizer_special(m->tokenizer, ZOO_TOK_MASK);
    bc.cls_id = zoo_tokenizer_special(m->tokenizer, ZOO_TOK_CLS);
    bc.sep_id = zoo_tokenizer_special(m->tokenizer, ZOO_TOK_SEP);
    bc.pad_id = zoo_tokenizer_special(m->tokenizer, ZOO_TOK_PAD);
    bc.nsp = d->objective == ZOO_OBJ_MASKED_LM && data->line_starts;
    bc.token_bytes = zoo_plugin_token_bytes(d);
    bc.tok = m->tokenizer;
    zoo_batcher *b = zoo_batcher_new(data, &bc);
    if (!b) return zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "%s", zoo_error_message());
    zoo_graph *g = zoo_graph_new(0);
    zoo_graph_set_recording(g, false);
    zoo_rng rng;
    zoo_rng_seed(&rng, 0);
    double total = 0;
    zoo_batch batch;
    zoo_batch_info info = {0};
    zoo_metric_means means = {0};
    *out = (eval_result){0};
    int status = 0;
    /* how many batches there will be, for the progress: a pass without the model costs
     * little beside one with it, and the rewound batcher repeats it exactly */
    int64_t n_batches = 0;
    while ((max_batches <= 0 || n_batches < max_batches) && zoo_batcher_next(b, &batch, NULL) == 1)
        n_batches++;
    zoo_batcher_rewind(b);
    eval_progress progress = {.start = zoo_now(), .live = isatty(STDERR_FILENO)};
    while ((max_batches <= 0 || out->batches < max_batches) &&
           zoo_batcher_next(b, &batch, &info) == 1) {
        zoo_graph_reset(g);
        zoo_tensor *loss = NULL;
        zoo_metrics metrics = {.size = sizeof metrics};
        if (d->ops->loss(m->model->model, g, &batch, &rng, &loss, &metrics) != ZOO_OK || !loss ||
            zoo_graph_status(g)) {
            status = zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "%s",
                                  zoo_graph_status(g) ? zoo_graph_error(g) : zoo_error_message());
            break;
        }
        /* rows weigh alike, in the loss and in each metric; the last batch may be short */
        total += zoo_f32(loss)[0] * (double)batch.B;
        zoo_metric_means_add(&means, &metrics, (double)batch.B);
        out->rows += batch.B;
        out->batches++;
        if (batch.targets) {
            for (int64_t i = 0; i < batch.B * batch.T; i++)
                out->tokens += batch.targets[i] != ZOO_IGNORE;
        } else {
            out->tokens = info.tokens;
        }
        eval_progress_show(&progress, out->batches, n_batches, info.tokens,
                           (double)out->batches / (double)n_batches);
    }
    eval_progress_end(&progress);
    if (!status && out->rows == 0)
        status =
            zoo_cli_fail(cli, ZOO_EXIT_FAILURE,
                         "the text is too short for one window of %lld tokens", (long long)bc.T);
    out->loss = out->rows ? total / (double)out->rows : NAN;
    zoo_metric_means_get(&means, &out->metrics);
    zoo_graph_free(g);
    zoo_batcher_free(b);
    return status;
}

typedef struct metric_printer {
    const zoo_cli *cli;
    int n; /* printed so far */
} metric_printer;

static void print_metric(void *ctx, const char *name, double value) {
    metric_printer *p = ctx;
    const char *sep = p->n++ == 0 ? "" : p->cli->json ? ", " : "  ";
    if (!p->cli->json)
        printf("%s%s %.4f", sep, name, value);
    else if (isfinite(value))
        printf("%s\"%s\": %.6f", sep, name, value);
    else
        printf("%s\"%s\": null", sep, name);
}

/* The plugin's metrics, each PREFIX_loss followed by its perplexity
 * (metrics.h): with --json "metrics": {...} and the object's closing brace;
 * as text, a line of their own when there are any. */
static void print_metrics(const zoo_cli *cli, const zoo_metrics *m) {
    metric_printer p = {.cli = cli};
    if (cli->json) {
        printf(", \"metrics\": {");
        zoo_metrics_each(m, print_metric, &p);
        printf("}}\n");
    } else if (m->count > 0) {
        zoo_metrics_each(m, print_metric, &p);
        putchar('\n');
    }
}

/* How many of the text's tokens are the tokenizer's unknown token: where a
 * model's loss does not score the text itself (zoo compare reports bits per
 * character only when there are none). */
static int64_t unknown_tokens(const zoo_tokenizer *tok, const zoo_dataset *data) {
    int32_t unk = zoo_tokenizer_special(tok, ZOO_TOK_UNK);
    int64_t n = 0;
    for (int64_t i = 0; unk >= 0 && i < data->n; i++) n += data->ids[i] == unk;
    return n;
}

/* The held-out split of the run m comes from, rebuilt as training built it
 * (zoo_data_load: the same files, tokenizer and split). */
static int run_split(const zoo_cli *cli, const char *model, zoo_saved_model *m, zoo_data **out) {
    const zoo_config *c = m->config;
    *out = NULL;
    if (zoo_config_is_null(c, "data.train"))
        return zoo_cli_fail(cli, ZOO_EXIT_FAILURE,
                            "%s: the model's config names no training data, so there is no "
                            "held-out split to evaluate; give --data FILE",
                            model);
    if (zoo_config_is_null(c, "data.val") && zoo_config_number(c, "data.val_fraction") <= 0)
        return zoo_cli_fail(cli, ZOO_EXIT_FAILURE,
                            "%s was trained without a held-out split (data.val_fraction 0 and no "
                            "data.val); give --data FILE",
                            model);
    zoo_registry *reg = m->registry ? NULL : zoo_cli_registry(cli);
    if (!m->registry && !reg) return ZOO_EXIT_FAILURE;
    const zoo_plugin *d = m->plugin->plugin;
    *out = zoo_data_load(c, m->registry ? m->registry : reg, m->checkpoint->tokenizer, d->objective,
                         zoo_plugin_token_bytes(d) > 0);
    zoo_registry_free(reg);
    if (!*out)
        return zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "%s: the run's held-out split: %s", model,
                            zoo_error_message());
    if ((*out)->val.n == 0)
        return zoo_cli_fail(cli, ZOO_EXIT_FAILURE,
                            "%s: the run's held-out split is empty; give --data FILE", model);
    return 0;
}

typedef struct eval_args {
    const char *model;
    const char *data[64];
    int n_data;
    int64_t batches; /* 0: all */
} eval_args;

static const zoo_option OPTIONS[] = {
    {"CHECKPOINT", ZOO_OPT_PATH, offsetof(eval_args, model), ZOO_OPT_REQUIRED,
     .help = "a .safetensors checkpoint or a run directory (its latest)"},
    {"--data", ZOO_OPT_PATH, offsetof(eval_args, data), ZOO_OPT_REPEAT, .value = "FILE",
     ZOO_OPT_ARRAY(eval_args, data, n_data),
     .help = "UTF-8 text to evaluate (repeatable); read with the model's tokenizer\n"
             "(default: the run's own held-out split, data.val or the last\n"
             "data.val_fraction of data.train, rebuilt as training built it)"},
    {"--batches", ZOO_OPT_INT, offsetof(eval_args, batches), .value = "N", ZOO_OPT_MIN(1),
     .help = "at most N batches (default: the whole text, in windows of data.seq_len);\n"
             "\"tokens\" then counts the tokens those batches scored"},
    {0}};

static int cmd_eval(zoo_cli *cli, void *args) {
    const eval_args *a = args;
    const char *model = a->model, *const *data_paths = a->data;
    int n_data = a->n_data, status = 0;
    int64_t max_batches = a->batches;
    zoo_saved_model m;
    if ((status = zoo_cli_open_model(cli, model, ZOO_NEEDS_TOKENIZER, &m))) return status;
    zoo_text_ids text = {0};
    zoo_data *split = NULL; /* without --data: the run's held-out split */
    zoo_dataset data = {0};
    int64_t bytes = 0, all_tokens = 0; /* of the whole text or split */
    eval_result res = {0};
    text.keep_text = zoo_plugin_token_bytes(m.plugin->plugin) > 0;
    if (n_data == 0) {
        if (!(status = run_split(cli, model, &m, &split)))
            data = split->val, bytes = split->val_bytes;
    } else if (zoo_text_encode_files(m.tokenizer, data_paths, n_data, ZOO_UTF8_ERROR,
                                     m.plugin->plugin->objective == ZOO_OBJ_MASKED_LM,
                                     &text) != ZOO_OK) {
        status = zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "%s", zoo_error_message());
    } else {
        data = zoo_text_dataset(&text, true), bytes = text.bytes;
    }
    all_tokens = data.n;
    if (!status) status = run_eval(cli, &m, &data, max_batches, &res);
    if (!status && m.plugin->plugin->objective == ZOO_OBJ_WORD_VECTORS) {
        /* a mean binary log-loss: no perplexity, no bits per character */
        if (cli->json) {
            printf("{\"loss\": ");
            zoo_print_json_number(stdout, "%.6f", res.loss);
            printf(", \"tokens\": %lld, \"batches\": %lld", (long long)res.tokens,
                   (long long)res.batches);
        } else
            printf("loss %.4f  (mean binary log-loss of the word predictions; %lld tokens, %lld "
                   "batches)\n",
                   res.loss, (long long)res.tokens, (long long)res.batches);
    } else if (!status) {
        bool chars = strcmp(zoo_tokenizer_type(m.tokenizer), "char") == 0;
        double bits_per_token = res.loss / M_LN2;
        /* bits per byte: the text's tokens per byte turn bits per token into it (the scored
         * part of the text taken to have the whole text's tokens per byte) */
        double bits_per_byte = bits_per_token * (double)all_tokens / (double)(bytes ? bytes : 1);
        if (cli->json) {
            /* a loss past exp's range has no perplexity: null, never inf */
            const char *names[] = {"loss", "perplexity", "bits_per_token",
                                   chars ? "bits_per_char" : "bits_per_byte"};
            double values[] = {res.loss, exp(res.loss), bits_per_token,
                               chars ? bits_per_token : bits_per_byte};
            for (int i = 0; i < 4; i++) {
                printf("%s\"%s\": ", i ? ", " : "{", names[i]);
                zoo_print_json_number(stdout, "%.6f", values[i]);
            }
            printf(", \"tokens\": %lld, \"bytes\": %lld, \"unknown_tokens\": %lld, "
                   "\"batches\": %lld",
                   (long long)res.tokens, (long long)bytes,
                   (long long)unknown_tokens(m.tokenizer, &data), (long long)res.batches);
        } else
            printf("loss %.4f  perplexity %.3f  %s %.4f  (%lld tokens, %lld batches)\n", res.loss,
                   exp(res.loss), chars ? "bits/char" : "bits/byte",
                   chars ? bits_per_token : bits_per_byte, (long long)res.tokens,
                   (long long)res.batches);
    }
    if (!status) print_metrics(cli, &res.metrics);
    zoo_text_ids_free(&text);
    zoo_data_free(split);
    zoo_cli_close_model(&m);
    return status;
}

const zoo_command zoo_cmd_eval = {
    .name = "eval",
    .takes_tokenizer = true,
    .takes_quantize = true,
    .run = cmd_eval,
    .options = OPTIONS,
    .opts_size = sizeof(eval_args),
    .usage = "zoo eval CHECKPOINT [--data FILE]... [--batches N] [--json]",
    .summary = "loss, perplexity and bits per character (character models) or per byte on "
               "held-out text, and the model's own metrics",
    .json_help = "print a JSON object (the model's metrics in \"metrics\"; \"tokens\": the tokens\n"
                 "scored, \"bytes\" and \"unknown_tokens\": of the whole text)",
    .notes = "\n"
             "Without --data a run is evaluated on its own held-out split (data.val, or the\n"
             "last data.val_fraction of data.train), rebuilt exactly as training built it;\n"
             "a run trained without one says so. An evaluation that takes more than a few\n"
             "seconds shows its progress on stderr (a live line on a terminal, a line every\n"
             "10 seconds otherwise).\n",
};
