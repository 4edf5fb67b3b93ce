/* zoo finetune CONFIG.json: a classification head trained on a pretrained
 * model's pooled output (or the mean of its hidden states, for models
 * without a pooler), the model itself trained too unless finetune.freeze.
 * Reports accuracy on held-out examples beside two yardsticks: always
 * guessing the most frequent class, and a bag-of-words logistic regression
 * trained on the same examples with the same tokenizer. The head is saved
 * with the model in RUN_DIR/latest.safetensors, its labels in labels.txt. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "checkpoint.h"
#include "config.h"
#include "saved_model.h"
#include "sequence_summary.h"
#include "text_input.h"
#include "zoo/corpus.h"
#include "zoo/io.h"
#include "zoo/ops.h"
#include "zoo/optim.h"
#include "zoo/status.h"

#define MAX_LABELS 64

typedef struct examples {
    int32_t *ids, *mask, *labels; /* (n,T) (n,T) (n) */
    int64_t n, T;
} examples;

typedef struct labels {
    char *names[MAX_LABELS];
    int n;
} labels;

static int label_id(labels *ls, const char *name, size_t len, bool add) {
    for (int i = 0; i < ls->n; i++)
        if (strlen(ls->names[i]) == len && strncmp(ls->names[i], name, len) == 0) return i;
    if (!add || ls->n == MAX_LABELS) return -1;
    ls->names[ls->n] = strndup(name, len);
    return ls->n++;
}

/* The file as NUL-terminated UTF-8, invalid bytes refused or replaced as data.invalid_utf8 says. */
static char *read_text(const char *path, const zoo_config *c) {
    zoo_corpus *corpus = NULL;
    bool replace = strcmp(zoo_config_string(c, "data.invalid_utf8"), "replace") == 0;
    if (zoo_corpus_open(&path, 1, replace ? ZOO_UTF8_REPLACE : ZOO_UTF8_ERROR, &corpus))
        return NULL;
    size_t len;
    const char *bytes = zoo_corpus_file(corpus, 0, &len);
    char *text = malloc(len + 1);
    if (text) memcpy(text, bytes, len), text[len] = '\0';
    zoo_corpus_close(corpus);
    return text;
}

/* One example a line: its label and text, as the format says. */
static int read_examples(const zoo_cli *cli, const zoo_config *c, const char *key,
                         const zoo_tokenizer *tok, labels *ls, bool add_labels, examples *out) {
    const char *format = zoo_config_string(c, "finetune.format");
    int64_t T = zoo_config_int(c, "data.seq_len"), cap = 0;
    int32_t pad = zoo_tokenizer_special(tok, ZOO_TOK_PAD);
    memset(out, 0, sizeof *out);
    out->T = T;
    for (int f = 0; f < zoo_config_count(c, key); f++) {
        const char *path = zoo_config_string_at(c, key, f);
        char *text = read_text(path, c);
        if (!text)
            return zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "%s: %s%s", key, zoo_error_message(),
                                strstr(zoo_error_message(), "UTF-8")
                                    ? " (--set data.invalid_utf8=replace reads it)"
                                    : "");
        int64_t line_no = 0;
        char *save = NULL;
        for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
            line_no++;
            size_t len = strlen(line);
            if (len && line[len - 1] == '\r') line[--len] = '\0';
            if (!len) continue;
            const char *sep = strcmp(format, "tsv") == 0 ? strchr(line, '\t') : strchr(line, ' ');
            size_t label_len = sep ? (size_t)(sep - line) : 0;
            if (sep && strcmp(format, "trec") == 0) { /* COARSE:fine -> COARSE */
                const char *colon = memchr(line, ':', label_len);
                if (colon) label_len = (size_t)(colon - line);
            }
            int y = sep && label_len ? label_id(ls, line, label_len, add_labels) : -2;
            if (y < 0) {
                free(text);
                return zoo_cli_fail(
                    cli, ZOO_EXIT_FAILURE, "%s:%lld: %s", path, (long long)line_no,
                    y == -2 ? "expected a label, then the text"
                            : "a label the training examples do not have (or more than 64 labels)");
            }
            if (out->n == cap) {
                cap = cap ? 2 * cap : 1024;
                out->ids = realloc(out->ids, (size_t)(cap * T) * sizeof *out->ids);
                out->mask = realloc(out->mask, (size_t)(cap * T) * sizeof *out->mask);
                out->labels = realloc(out->labels, (size_t)cap * sizeof *out->labels);
            }
            zoo_ids ids = {0};
            int st = zoo_encode_for_model(cli, tok, sep + 1, strlen(sep + 1), false, &ids);
            if (st) {
                free(text);
                zoo_ids_free(&ids);
                return st;
            }
            int64_t n =
                ids.count < T ? ids.count : T; /* truncated at the window, padded up to it */
            for (int64_t t = 0; t < T; t++) {
                out->ids[out->n * T + t] = t < n ? ids.ids[t] : (pad >= 0 ? pad : 0);
                out->mask[out->n * T + t] = t < n;
            }
            out->labels[out->n++] = y;
            zoo_ids_free(&ids);
        }
        free(text);
    }
    if (out->n == 0) return zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "%s: no examples", key);
    return 0;
}

/* RUN_DIR/labels.txt: the label of each row of classifier.weight, in order. */
static int save_labels(const zoo_cli *cli, const char *run_dir, const labels *ls) {
    size_t len = 0;
    for (int i = 0; i < ls->n; i++) len += strlen(ls->names[i]) + 1;
    char *text = malloc(len + 1), path[4200], *at = text;
    if (!text) return zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "out of memory");
    for (int i = 0; i < ls->n; i++) at += sprintf(at, "%s\n", ls->names[i]);
    snprintf(path, sizeof path, "%s/labels.txt", run_dir);
    int st = zoo_write_file_atomic(path, text, len);
    free(text);
    return st ? zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "%s", zoo_error_message()) : 0;
}

static void free_examples(examples *e) {
    free(e->ids), free(e->mask), free(e->labels);
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

typedef struct head {
    zoo_params *params; /* the store the model's own parameters are in */
    zoo_tensor *w, *b;  /* classifier.weight (L,C), classifier.bias (L) */
} head;

/* Accuracy over a set, with the head (or the bag of words when bow). */
static double accuracy(zoo_saved_model *m, zoo_graph *g, const examples *e, int64_t B, head *h,
                       bool bow, zoo_tensor *bw, zoo_tensor *bb, int64_t L) {
    int64_t right = 0;
    zoo_graph_set_recording(g, false);
    zoo_graph_set_training(g, false);
    for (int64_t s = 0; s < e->n; s += B) {
        int64_t n = e->n - s < B ? e->n - s : B;
        zoo_graph_reset(g);
        zoo_batch b = {.size = sizeof b,
                       .B = n,
                       .T = e->T,
                       .ids = e->ids + s * e->T,
                       .mask = e->mask + s * e->T};
        zoo_tensor *logits =
            bow ? bag_of_words(g, bw, bb, &b, L)
                : zoo_linear(g, zoo_sequence_summary(m, g, &b), h->w, h->b, ZOO_W_OUT_IN);
        if (!logits) return NAN;
        for (int64_t r = 0; r < n; r++) {
            const float *row = zoo_f32(logits) + r * L;
            int64_t best = 0;
            for (int64_t k = 1; k < L; k++)
                if (row[k] > row[best]) best = k;
            right += best == e->labels[s + r];
        }
    }
    return (double)right / (double)e->n;
}

static void shuffle(int64_t *order, int64_t n, zoo_rng *rng) {
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)zoo_rng_below(rng, (uint64_t)i + 1), t = order[i];
        order[i] = order[j], order[j] = t;
    }
}

/* Trains either the head (and the model) or the bag of words, for the configured epochs. */
static int fit(const zoo_cli *cli, zoo_saved_model *m, const zoo_config *c, const examples *e,
               head *h, bool bow, zoo_params *bow_params, zoo_tensor *bw, zoo_tensor *bb, int64_t L,
               FILE *metrics) {
    int64_t B = zoo_config_int(c, "train.batch_size");
    int64_t epochs = zoo_config_is_null(c, "train.epochs") ? 0 : zoo_config_int(c, "train.epochs");
    int64_t steps = epochs ? epochs * ((e->n + B - 1) / B) : zoo_config_int(c, "train.steps");
    zoo_optim_config opt = zoo_optim_defaults(ZOO_OPTIM_ADAMW);
    opt.weight_decay = (float)zoo_config_number(c, "train.optimizer.weight_decay");
    zoo_schedule sched = {
        .kind = ZOO_SCHEDULE_LINEAR,
        .lr = (float)zoo_config_number(c, bow ? "finetune.bow_lr" : "train.optimizer.lr"),
        .warmup = steps / 10,
        .total_steps = steps};
    zoo_params *params = bow ? bow_params : h->params;
    zoo_rng rng;
    zoo_rng_seed(&rng, (uint64_t)zoo_config_int(c, "train.seed"));
    int64_t *order = malloc((size_t)e->n * sizeof *order), at = e->n;
    int32_t *ids = malloc((size_t)(B * e->T) * sizeof *ids),
            *mask = malloc((size_t)(B * e->T) * sizeof *mask);
    int32_t *y = malloc((size_t)B * sizeof *y);
    for (int64_t i = 0; i < e->n; i++) order[i] = i;
    zoo_graph *g = zoo_graph_new(0);
    int status = 0;
    for (int64_t step = 0; step < steps && !status; step++) {
        for (int64_t r = 0; r < B; r++) { /* a fresh shuffle each pass */
            if (at == e->n) shuffle(order, e->n, &rng), at = 0;
            int64_t k = order[at++];
            memcpy(ids + r * e->T, e->ids + k * e->T, (size_t)e->T * sizeof *ids);
            memcpy(mask + r * e->T, e->mask + k * e->T, (size_t)e->T * sizeof *mask);
            y[r] = e->labels[k];
        }
        zoo_graph_reset(g);
        zoo_graph_set_recording(g, true);
        zoo_params_zero_grad(params);
        zoo_batch b = {.size = sizeof b, .B = B, .T = e->T, .ids = ids, .mask = mask};
        zoo_tensor *logits;
        if (bow)
            logits = bag_of_words(g, bw, bb, &b, L);
        else {
            /* The model runs without its own dropout (the batch carries no generator); only the
             * head drops. */
            zoo_graph_set_training(g, false);
            zoo_tensor *s = zoo_sequence_summary(m, g, &b);
            zoo_graph_set_training(g, true);
            logits = zoo_linear(
                g, zoo_dropout(g, s, (float)zoo_config_number(c, "finetune.dropout"), &rng), h->w,
                h->b, ZOO_W_OUT_IN);
        }
        zoo_tensor *loss = zoo_cross_entropy(
            g, logits, zoo_tensor_wrap(g, ZOO_I32, 1, ZOO_SHAPE(B), y), ZOO_IGNORE);
        if (!loss || zoo_backward(g, loss) != ZOO_OK) {
            status = zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "step %lld: %s", (long long)step + 1,
                                  zoo_graph_error(g));
            break;
        }
        float clip =
            zoo_clip_factor(zoo_grad_norm(params), (float)zoo_config_number(c, "train.grad_clip"));
        if (zoo_optim_step_scaled(params, &opt, zoo_schedule_lr(&sched, step), step + 1, clip)) {
            status = zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "step %lld: optimizer: %s",
                                  (long long)step + 1, zoo_error_message());
            break;
        }
        if (metrics)
            fprintf(metrics, "{\"step\":%lld,\"%s\":%.6g}\n", (long long)step + 1,
                    bow ? "bow_loss" : "loss", zoo_f32(loss)[0]);
    }
    free(order), free(ids), free(mask), free(y);
    zoo_graph_free(g);
    return status;
}

static int cmd_finetune(zoo_cli *cli, int argc, char **argv) {
    const char *sets[64], *config_path = NULL, *out_dir = NULL;
    int n_sets = 0, status = 0;
    for (int i = 1; i < argc; i++) {
        if (zoo_cli_value(cli, argc, argv, i, "--set", &status) && n_sets < 64)
            sets[n_sets++] = argv[++i];
        else if (zoo_cli_value(cli, argc, argv, i, "--out", &status))
            out_dir = argv[++i];
        else if (status)
            return status;
        else if (argv[i][0] == '-')
            return zoo_cli_usage(cli, "unknown option '%s' (see zoo finetune --help)", argv[i]);
        else
            config_path = argv[i];
    }
    if (!config_path) return zoo_cli_usage(cli, "expected CONFIG.json (see zoo finetune --help)");
    zoo_config *c = zoo_config_load(config_path, sets, n_sets);
    if (!c) return zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "%s", zoo_error_message());
    if (zoo_config_is_null(c, "finetune.base") || zoo_config_is_null(c, "finetune.train")) {
        zoo_config_free(c);
        return zoo_cli_fail(cli, ZOO_EXIT_FAILURE,
                            "%s: finetune.base and finetune.train are needed", config_path);
    }
    zoo_registry *r = zoo_cli_registry(cli);
    zoo_saved_model m;
    if (!r || (status = zoo_saved_model_open(cli, r, zoo_config_string(c, "finetune.base"), &m))) {
        zoo_registry_free(r);
        zoo_config_free(c);
        return status ? status : ZOO_EXIT_FAILURE;
    }
    labels ls = {0};
    examples train = {0}, held = {0};
    head h = {.params = m.model->params};
    zoo_params *bow_params = zoo_params_new();
    FILE *metrics = NULL;
    if (!m.tokenizer)
        status = zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "the base model has no tokenizer");
    if (!status) status = read_examples(cli, c, "finetune.train", m.tokenizer, &ls, true, &train);
    if (!status && !zoo_config_is_null(c, "finetune.eval"))
        status = read_examples(cli, c, "finetune.eval", m.tokenizer, &ls, false, &held);
    int64_t L = ls.n, V = zoo_tokenizer_vocab_size(m.tokenizer), C = 0;
    if (!status) { /* the summary's width, from one example */
        zoo_graph *g = zoo_graph_new(0);
        zoo_graph_set_recording(g, false);
        zoo_batch b = {
            .size = sizeof b, .B = 1, .T = train.T, .ids = train.ids, .mask = train.mask};
        zoo_tensor *s = zoo_sequence_summary(&m, g, &b);
        if (!s)
            status = zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "forward: %s", zoo_graph_error(g));
        else
            C = s->shape[1];
        zoo_graph_free(g);
    }
    zoo_tensor *bw = NULL, *bb = NULL;
    if (!status) {
        zoo_rng rng;
        zoo_rng_seed(&rng, (uint64_t)zoo_config_int(c, "train.seed"));
        h.w = zoo_params_add(h.params, "classifier.weight", 2, ZOO_SHAPE(L, C), 0);
        h.b = zoo_params_add(h.params, "classifier.bias", 1, ZOO_SHAPE(L), ZOO_PARAM_NO_DECAY);
        bw = zoo_params_add(bow_params, "bow.weight", 2, ZOO_SHAPE(V, L), 0);
        bb = zoo_params_add(bow_params, "bow.bias", 1, ZOO_SHAPE(L), ZOO_PARAM_NO_DECAY);
        if (!h.w || !h.b || !bw || !bb)
            status = zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "%s", zoo_error_message());
        else
            zoo_rng_fill_normal(&rng, h.w->data, (size_t)h.w->numel, 0, 0.02f);
        for (int i = 0;
             !status && zoo_config_bool(c, "finetune.freeze") && i < zoo_params_count(h.params);
             i++) {
            zoo_param *p = zoo_params_at(h.params, i);
            if (strncmp(p->name, "classifier.", 11) != 0) zoo_params_set_frozen(p, true);
        }
    }
    char *run_dir = NULL;
    if (!status) {
        run_dir =
            strdup(out_dir                                 ? out_dir
                   : zoo_config_string(c, "train.run_dir") ? zoo_config_string(c, "train.run_dir")
                                                           : "runs/finetune");
        mkdir(run_dir, 0755);
        char path[4200];
        snprintf(path, sizeof path, "%s/metrics.jsonl", run_dir);
        metrics = fopen(path, "a");
        if (!metrics) status = zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "%s: cannot write", path);
    }
    if (!status) status = fit(cli, &m, c, &train, &h, false, NULL, NULL, NULL, L, metrics);
    if (!status) status = fit(cli, &m, c, &train, &h, true, bow_params, bw, bb, L, metrics);
    if (!status) {
        const examples *e = held.n ? &held : &train;
        int64_t B = zoo_config_int(c, "train.batch_size"), count[MAX_LABELS] = {0}, most = 0;
        for (int64_t i = 0; i < train.n; i++) count[train.labels[i]]++;
        for (int k = 1; k < L; k++) most = count[k] > count[most] ? k : most;
        int64_t majority = 0;
        for (int64_t i = 0; i < e->n; i++) majority += e->labels[i] == most;
        zoo_graph *g = zoo_graph_new(0);
        double acc = accuracy(&m, g, e, B, &h, false, NULL, NULL, L);
        double bow_acc = accuracy(&m, g, e, B, &h, true, bw, bb, L);
        zoo_graph_free(g);
        double maj = (double)majority / (double)e->n;
        fprintf(metrics,
                "{\"accuracy\":%.6f,\"majority_accuracy\":%.6f,\"bow_accuracy\":%.6f,\"examples\":%"
                "lld}\n",
                acc, maj, bow_acc, (long long)e->n);
        printf("%s accuracy %.4f  (majority class %.4f, bag-of-words logistic regression %.4f; "
               "%lld examples, %d labels)\n",
               held.n ? "held-out" : "training", acc, maj, bow_acc, (long long)e->n, ls.n);
        char path[4200], *config = zoo_config_text(m.config),
                         *tok = zoo_tokenizer_to_json(m.tokenizer);
        zoo_run_state state = {.step = 0};
        snprintf(path, sizeof path, "%s/latest.safetensors", run_dir);
        /* the base model's config (what the plugin needs to rebuild it), the head beside it */
        if (zoo_checkpoint_save(path, m.model, config, tok, &state, false))
            status = zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "%s", zoo_error_message());
        if (!status) status = save_labels(cli, run_dir, &ls);
        free(config), free(tok);
    }
    if (metrics) fclose(metrics);
    free(run_dir);
    for (int i = 0; i < ls.n; i++) free(ls.names[i]);
    free_examples(&train), free_examples(&held);
    zoo_params_free(bow_params);
    zoo_saved_model_close(&m);
    zoo_registry_free(r);
    zoo_config_free(c);
    return status;
}

const zoo_command zoo_cmd_finetune = {
    "finetune", cmd_finetune, "zoo finetune CONFIG.json [--set KEY=VALUE]... [--out RUN_DIR]",
    "train a classification head on a pretrained model and report held-out accuracy",
    "  CONFIG.json  finetune.base (the pretrained model), finetune.train / finetune.eval (labeled\n"
    "               files), finetune.format (tsv, sst, trec), finetune.freeze, and the usual\n"
    "               data.seq_len, train.epochs or train.steps, batch_size, optimizer.lr, seed\n"
    "  --out DIR    where the model with its head is saved (latest.safetensors) with "
    "metrics.jsonl\n"
    "Accuracy is printed beside the majority class's and a bag-of-words logistic regression's,\n"
    "trained on the same examples with the same tokenizer.\n"};
