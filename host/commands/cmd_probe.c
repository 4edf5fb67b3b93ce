/* zoo probe MODEL --train FILE --test FILE [--format tsv|sst|trec]
 *           [--pool mean|last|cls|pooler] [--layer N|all|mix] [--l2 X] [--max-iter N]
 *           [--window N] [--json]:
 * what a frozen model's vectors hold, measured as linear probes measure it.
 * One vector per labeled example (text_vectors.h: pooled over the tokens,
 * in windows when a text is longer than --window), a softmax classifier
 * fitted on the training file's (zoo/probe.h), and its accuracy on the test
 * file beside the majority class's. zoo compare runs it in a child process
 * and reads its --json. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "labeled_examples.h"
#include "model_card.h"
#include "text_input.h"
#include "text_vectors.h"
#include "zoo/plugin.h"
#include "zoo/probe.h"
#include "zoo/status.h"

typedef struct probe_args {
    const char *model, *train, *test, *format, *pool, *invalid_utf8;
    zoo_int_choice layer;
    double l2;
    int64_t max_iter, window;
} probe_args;

static const zoo_option OPTIONS[] = {
    {"MODEL", ZOO_OPT_PATH, offsetof(probe_args, model), ZOO_OPT_REQUIRED,
     .help = "a checkpoint, run directory or foreign model directory (HuggingFace,\n"
             "AllenNLP ELMo), or a word2vec file; it is not trained"},
    {"--train", ZOO_OPT_PATH, offsetof(probe_args, train), ZOO_OPT_REQUIRED, .value = "FILE",
     .help = "labeled examples the probe is fitted on, one a line (--format)"},
    {"--test", ZOO_OPT_PATH, offsetof(probe_args, test), ZOO_OPT_REQUIRED, .value = "FILE",
     .help = "labeled examples it is measured on, with labels the training file has"},
    {"--format", ZOO_OPT_CHOICE, offsetof(probe_args, format), .def = "tsv",
     .choices = "tsv|sst|trec",
     .help = "tsv: LABEL<TAB>TEXT (default); sst: LABEL TEXT; trec: COARSE:fine TEXT\n"
             "(the label is COARSE), as zoo finetune reads them"},
    {"--invalid-utf8", ZOO_OPT_CHOICE, offsetof(probe_args, invalid_utf8), .def = "error",
     .choices = "error|replace",
     .help = "bytes that are not UTF-8 in the files: an error naming the place\n"
             "(default), or each replaced by U+FFFD (TREC.train has one)"},
    {"--pool", ZOO_OPT_CHOICE, offsetof(probe_args, pool), .def = "mean",
     .choices = "mean|last|cls|pooler",
     .help = "an example's vector: the mean over its tokens, [CLS] and [SEP] included\n"
             "(default); the last token's (what a left-to-right model has read it all\n"
             "by); the first token's (BERT's [CLS]); the model's pooled output (BERT's\n"
             "[CLS] through its pooler; not with --layer). A word2vec file: the mean,\n"
             "first or last of the words it knows (unknown words skipped; an example\n"
             "with none is zeros, and counted)"},
    {"--layer", ZOO_OPT_INT_CHOICE, offsetof(probe_args, layer), .value = "N", .def = "-1",
     ZOO_OPT_MIN(-1), .choices = "all|mix",
     .help = "layer N of a model with several (default -1: the model's choice);\n"
             "all or mix: every layer, mixed by weights the probe learns with its\n"
             "classifier (ELMo's scalar mix)"},
    {"--l2", ZOO_OPT_FLOAT, offsetof(probe_args, l2), .value = "X", .def = "-1", ZOO_OPT_MIN(0),
     .help = "the penalty (l2/2)|W|^2 beside the mean loss (default: the probe's, 1e-3)"},
    {"--max-iter", ZOO_OPT_INT, offsetof(probe_args, max_iter), .value = "N", .def = "-1",
     ZOO_OPT_RANGE(1, 1e8), .help = "L-BFGS iterations at most (default: the probe's, 200)"},
    {"--window", ZOO_OPT_INT, offsetof(probe_args, window), .value = "N", .def = "-1",
     ZOO_OPT_MIN(0),
     .help = "the most tokens one pass of the model takes, [CLS] and [SEP] included:\n"
             "a longer example is embedded in windows of N overlapping by half, each\n"
             "token's vector from the window where it is farthest from an edge\n"
             "(default: the model's context, from its registry card; 0: every\n"
             "example whole)"},
    {0}};

/* What one run of the command holds. */
typedef struct probe_run {
    zoo_cli *cli;
    const probe_args *a;
    zoo_labels ls;
    zoo_labeled_examples train, test;
    zoo_text_source src;
    zoo_pooled xtrain, xtest;
    zoo_probe *probe;
    double accuracy, majority, train_accuracy, embed_seconds, fit_seconds;
    int64_t window; /* the window used: --window, else the model's context; 0: whole */
} probe_run;

/* The examples of path (--train or --test, named `option`). */
static int read_set(probe_run *r, const char *option, const char *path, bool train,
                    zoo_labeled_examples *ex) {
    bool replace = strcmp(r->a->invalid_utf8, "replace") == 0;
    if (zoo_labeled_examples_read(ex, &r->ls, path, option, r->a->format,
                                  replace ? ZOO_UTF8_REPLACE : ZOO_UTF8_ERROR, train))
        return zoo_cli_fail(
            r->cli, ZOO_EXIT_FAILURE, "%s%s", zoo_error_message(),
            strstr(zoo_error_message(), "UTF-8") ? " (--invalid-utf8 replace reads it)" : "");
    if (ex->n == 0)
        return zoo_cli_fail(r->cli, ZOO_EXIT_FAILURE, "%s %s: no examples", option, path);
    if (train && r->ls.n < 2)
        return zoo_cli_fail(r->cli, ZOO_EXIT_FAILURE,
                            "%s %s: every example has the label '%s': a probe needs two "
                            "classes at least",
                            option, path, r->ls.names[0]);
    return 0;
}

/* The pooled vectors of ex. */
static int embed_set(probe_run *r, const zoo_pool_plan *plan, const char *option, const char *path,
                     const zoo_labeled_examples *ex, zoo_pooled *out) {
    char what[4200];
    snprintf(what, sizeof what, "%s %s", option, path);
    return zoo_text_vectors_pool(&r->src, ex->texts, ex->lens, ex->n, plan, what, out);
}

/* The probe on the training vectors (mix: a scalar mix of their layers), and its accuracies. */
static int fit(probe_run *r, bool mix) {
    const zoo_pooled *x = &r->xtrain, *t = &r->xtest;
    zoo_probe_options o = zoo_probe_defaults();
    if (r->a->l2 >= 0) o.l2 = r->a->l2;
    if (r->a->max_iter > 0) o.max_iter = (int)r->a->max_iter;
    o.mix = mix;
    double start = zoo_now();
    int st = zoo_probe_fit(&r->probe, x->x, r->train.labels, x->n, x->L, x->C, r->ls.n, &o);
    r->fit_seconds = zoo_now() - start;
    if (!st)
        st = zoo_probe_accuracy(r->probe, &r->accuracy, t->x, r->test.labels, t->n, t->L, t->C);
    if (!st)
        st = zoo_probe_accuracy(r->probe, &r->train_accuracy, x->x, r->train.labels, x->n, x->L,
                                x->C);
    if (!st)
        st = zoo_majority_baseline(&r->majority, NULL, r->train.labels, x->n, r->test.labels, t->n,
                                   r->ls.n);
    if (st) return zoo_cli_fail(r->cli, ZOO_EXIT_FAILURE, "probe: %s", zoo_error_message());
    return 0;
}

static void print_json(const probe_run *r) {
    const probe_args *a = r->a;
    zoo_probe_fit_info info = zoo_probe_info(r->probe);
    printf("{\"accuracy\": %.10g, \"majority\": %.10g, \"train_accuracy\": %.10g, "
           "\"classes\": %d, \"labels\": [",
           r->accuracy, r->majority, r->train_accuracy, r->ls.n);
    for (int i = 0; i < r->ls.n; i++) {
        if (i) printf(", ");
        zoo_print_json_string(stdout, r->ls.names[i]);
    }
    printf("], \"train_examples\": %lld, \"test_examples\": %lld, \"pool\": ",
           (long long)r->train.n, (long long)r->test.n);
    zoo_print_json_string(stdout, a->pool);
    if (a->layer.choice) {
        printf(", \"layer\": ");
        zoo_print_json_string(stdout, a->layer.choice);
    } else {
        printf(", \"layer\": %lld", (long long)a->layer.n);
    }
    printf(", \"layers\": %lld, \"dim\": %lld, \"iterations\": %d, \"stop\": ",
           (long long)r->xtrain.L, (long long)r->xtrain.C, info.iterations);
    zoo_print_json_string(stdout, info.stop);
    printf(", \"seconds\": %.6f, \"windows\": %lld, \"window\": %lld, \"empty_examples\": %lld, "
           "\"embed_seconds\": %.6f, \"loss\": %.17g}\n",
           r->fit_seconds, (long long)(r->xtrain.windowed + r->xtest.windowed),
           (long long)r->window, (long long)(r->xtrain.empty + r->xtest.empty), r->embed_seconds,
           info.loss);
}

static void print_text(const probe_run *r) {
    const probe_args *a = r->a;
    zoo_probe_fit_info info = zoo_probe_info(r->probe);
    char layer[32];
    snprintf(layer, sizeof layer, "%lld", (long long)a->layer.n);
    printf("test accuracy %.4f  (majority class %.4f; train accuracy %.4f; %d classes, %lld "
           "train and %lld test examples)\n",
           r->accuracy, r->majority, r->train_accuracy, r->ls.n, (long long)r->train.n,
           (long long)r->test.n);
    printf("layer %s (%lld layer%s of %lld values), pool %s; L-BFGS: %d iterations, %s, %.3f s; "
           "embedding %.3f s; %lld example%s in windows, %lld with no vector\n",
           a->layer.choice ? a->layer.choice : layer, (long long)r->xtrain.L,
           r->xtrain.L == 1 ? "" : "s", (long long)r->xtrain.C, a->pool, info.iterations, info.stop,
           r->fit_seconds, r->embed_seconds, (long long)(r->xtrain.windowed + r->xtest.windowed),
           r->xtrain.windowed + r->xtest.windowed == 1 ? "" : "s",
           (long long)(r->xtrain.empty + r->xtest.empty));
}

static int cmd_probe(zoo_cli *cli, void *args) {
    const probe_args *a = args;
    probe_run r = {.cli = cli, .a = a};
    bool every = a->layer.choice != NULL; /* all or mix: the probe mixes the layers */
    zoo_pool_plan plan = {.layer = every ? ZOO_EMBED_ALL_LAYERS : (int)a->layer.n,
                          .pool = strcmp(a->pool, "last") == 0     ? ZOO_POOL_LAST
                                  : strcmp(a->pool, "cls") == 0    ? ZOO_POOL_FIRST
                                  : strcmp(a->pool, "pooler") == 0 ? ZOO_POOL_POOLER
                                                                   : ZOO_POOL_MEAN,
                          .window = a->window};
    int status = read_set(&r, "--train", a->train, true, &r.train);
    if (!status) status = read_set(&r, "--test", a->test, false, &r.test);
    if (!status) status = zoo_text_source_open(cli, a->model, &r.src);
    if (!status && plan.pool == ZOO_POOL_POOLER && (!r.src.m || every || a->layer.n >= 0))
        status = zoo_cli_usage(cli, "--pool pooler: %s",
                               r.src.m ? "the pooled output is one layer's: no --layer"
                                       : "a word-vector file has no pooled output");
    if (!status && plan.window < 0) { /* the most positions the model takes, or any length */
        zoo_card_sizes sizes = {.context = 0};
        if (r.src.m &&
            zoo_card_sizes_of(r.src.m->plugin->entry, r.src.m->model->hp, &sizes) != ZOO_OK)
            status = zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "%s", zoo_error_message());
        plan.window = sizes.context;
    }
    r.window = plan.window;
    if (!status && r.src.m && plan.window > 0 && plan.window <= 2 &&
        zoo_encode_wraps(r.src.m->tokenizer))
        status = zoo_cli_usage(cli,
                               "--window %lld: each window also holds the [CLS] and [SEP] the "
                               "model adds, so give 3 at least",
                               (long long)plan.window);
    double start = zoo_now();
    if (!status) status = embed_set(&r, &plan, "--train", a->train, &r.train, &r.xtrain);
    if (!status) status = embed_set(&r, &plan, "--test", a->test, &r.test, &r.xtest);
    r.embed_seconds = zoo_now() - start;
    if (!status) status = fit(&r, every);
    if (!status) cli->json ? print_json(&r) : print_text(&r);
    zoo_probe_free(r.probe);
    zoo_pooled_free(&r.xtrain), zoo_pooled_free(&r.xtest);
    zoo_text_source_close(&r.src);
    zoo_labeled_examples_free(&r.train), zoo_labeled_examples_free(&r.test);
    zoo_labels_free(&r.ls);
    return status;
}

const zoo_command zoo_cmd_probe = {
    .name = "probe",
    .takes_tokenizer = true,
    .run = cmd_probe,
    .options = OPTIONS,
    .opts_size = sizeof(probe_args),
    .usage = "zoo probe MODEL --train FILE --test FILE [--format tsv|sst|trec] "
             "[--invalid-utf8 error|replace] [--pool mean|last|cls|pooler] [--layer N|all|mix] "
             "[--l2 X] [--max-iter N] [--window N] [--json]",
    .summary = "a linear probe: a classifier fitted on a frozen model's vectors of labeled "
               "examples, its test accuracy beside the majority class's",
    .json_help = "one object: accuracy, majority, train_accuracy, classes, labels, the\n"
                 "counts and the fit (docs/probe.md lists the fields)",
    .notes =
        "\n"
        "The model is frozen: nothing but the probe learns. Features are standardised on the\n"
        "training examples; the probe is an L2-penalised softmax regression fitted with L-BFGS\n"
        "(docs/probe.md). A text longer than the model reads is an error unless --window\n"
        "splits it: no text is ever cut.\n",
};
