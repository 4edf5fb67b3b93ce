/* zoo classify MODEL --text TEXT | --text-file FILE [--top N]: the labels a
 * model fine-tuned by zoo finetune gives each line of the text, with their
 * probabilities. MODEL is the fine-tuned run directory or checkpoint, or
 * its export to a HuggingFace directory (classifier_head.h): the head is its
 * classifier.weight and classifier.bias, the label names come from
 * labels.txt beside it (config.json's id2label). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "classifier_head.h"
#include "saved_model.h"
#include "sequence_summary.h"
#include "text_input.h"
#include "zoo/io.h"
#include "zoo/ops.h"
#include "zoo/safetensors.h"
#include "zoo/status.h"

typedef struct head {
    zoo_params *params;
    zoo_tensor *w, *b;
    int64_t L;
    zoo_head_file file;
    const char **names; /* into file.labels, each line cut at its newline; NULL: numbered */
} head;

static void head_free(head *h) {
    zoo_params_free(h->params);
    zoo_head_file_close(&h->file);
    free(h->names);
}

/* The head saved with the model (a run's, or an exported HuggingFace
 * directory's), and the labels of its rows. */
static int head_open(const zoo_cli *cli, const char *model, const zoo_saved_model *m, head *h) {
    if (zoo_head_file_open(m, model, &h->file) != ZOO_OK)
        return zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "%s", zoo_error_message());
    const zoo_st_file *f = h->file.file;
    int wi = h->file.weight, bi = h->file.bias;
    int ndim = 0;
    int64_t shape[ZOO_MAX_DIMS] = {0};
    if (!zoo_head_file_found(&h->file))
        return zoo_cli_fail(cli, ZOO_EXIT_FAILURE,
                            "%s: no classifier.weight and classifier.bias (a model saved by zoo "
                            "finetune has them, and its export to hf)",
                            model);
    if (zoo_st_info(f, wi, NULL, &ndim, shape) || ndim != 2 || shape[0] < 1)
        return zoo_cli_fail(cli, ZOO_EXIT_FAILURE,
                            "%s: classifier.weight: expected (labels, width)", model);
    h->L = shape[0];
    h->params = zoo_params_new();
    h->w = zoo_params_add(h->params, "classifier.weight", 2, ZOO_SHAPE(h->L, shape[1]), 0);
    h->b = zoo_params_add(h->params, "classifier.bias", 1, ZOO_SHAPE(h->L), 0);
    if (!h->w || !h->b || zoo_st_read_into(f, wi, h->w) || zoo_st_read_into(f, bi, h->b))
        return zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "%s", zoo_error_message());
    if (!h->file.labels) return 0; /* the rows are numbered instead */
    h->names = calloc((size_t)h->L, sizeof *h->names);
    int64_t n = 0;
    char *save = NULL;
    for (char *line = strtok_r(h->file.labels, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save))
        if (n++ < h->L) h->names[n - 1] = line;
    if (n != h->L)
        return zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "%s: %lld labels for a head of %lld rows",
                            h->file.labels_from, (long long)n, (long long)h->L);
    return 0;
}

/* Prints the top labels of one line of text. */
static int classify_line(const zoo_cli *cli, const zoo_saved_model *m, const head *h,
                         const char *text, size_t len, int64_t top) {
    zoo_ids ids = {0};
    int32_t W = zoo_plugin_token_bytes(m->plugin->plugin), *bytes = NULL;
    int status = zoo_encode_with_bytes(cli, m->tokenizer, text, len, false, W, &ids, &bytes);
    int64_t window = zoo_config_int(m->config, "data.seq_len");
    int64_t T = ids.count < window ? ids.count : window;
    int32_t *mask = malloc((size_t)(T ? T : 1) * sizeof *mask);
    for (int64_t t = 0; t < T; t++) mask[t] = 1;
    zoo_graph *g = zoo_graph_new(0);
    zoo_graph_set_recording(g, false);
    zoo_batch b = {.size = sizeof b,
                   .B = 1,
                   .T = T,
                   .ids = ids.ids,
                   .mask = mask,
                   .token_bytes = bytes,
                   .W = bytes ? W : 0};
    zoo_tensor *p = status ? NULL
                           : zoo_softmax(g, zoo_linear(g, zoo_sequence_summary(m, g, &b), h->w,
                                                       h->b, ZOO_W_OUT_IN));
    if (!status && !p)
        status = zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "forward: %s",
                              zoo_graph_status(g) ? zoo_graph_error(g) : zoo_error_message());
    if (!status && cli->json) printf("{\"labels\": [");
    for (int64_t k = 0; !status && k < top && k < h->L; k++) {
        int64_t best = -1; /* the k-th most probable: the best of those not yet printed */
        for (int64_t j = 0; j < h->L; j++)
            if (zoo_f32(p)[j] >= 0 && (best < 0 || zoo_f32(p)[j] > zoo_f32(p)[best])) best = j;
        char number[24];
        snprintf(number, sizeof number, "%lld", (long long)best);
        const char *name = h->names ? h->names[best] : number;
        if (cli->json) {
            printf("%s{\"label\": ", k ? ", " : "");
            zoo_print_json_string(stdout, name);
            printf(", \"probability\": %.6f}", zoo_f32(p)[best]);
        } else
            printf("%s%s (%.3f)", k ? "  " : "", name, zoo_f32(p)[best]);
        zoo_f32(p)[best] = -1;
    }
    if (!status) printf(cli->json ? "]}\n" : "\n");
    zoo_graph_free(g);
    free(mask);
    free(bytes);
    zoo_ids_free(&ids);
    return status;
}

typedef struct classify_args {
    const char *model;
    zoo_text_input in;
    int64_t top;
} classify_args;

static const zoo_option OPTIONS[] = {
    {"MODEL", ZOO_OPT_PATH, offsetof(classify_args, model), ZOO_OPT_REQUIRED,
     .help = "a run directory or checkpoint written by zoo finetune (labels.txt beside it\n"
             "names the labels; without it they are numbered), or its zoo export --format hf"},
    ZOO_TEXT_INPUT_OPTIONS(classify_args, in,
                           "an example (repeatable: one each), or --text-file FILE (- for\n"
                           "standard input): one example a line"),
    {"--top", ZOO_OPT_INT, offsetof(classify_args, top), .value = "N", .def = "1", ZOO_OPT_MIN(1),
     .help = "how many labels to show for each example: the N most probable, with\n"
             "their probabilities (default 1)"},
    {0}};

static int cmd_classify(zoo_cli *cli, void *args) {
    const classify_args *a = args;
    zoo_text_input in = a->in;
    const char *model = a->model;
    int64_t top = a->top;
    int status = zoo_text_input_load(cli, &in);
    if (status) return status;
    zoo_saved_model m;
    if ((status = zoo_cli_open_model(cli, model, ZOO_NEEDS_TOKENIZER, &m))) {
        zoo_text_input_free(&in);
        return status;
    }
    head h = {0};
    status = head_open(cli, model, &m, &h);
    zoo_line_cursor lines = {0};
    const char *line;
    size_t len;
    while (!status && zoo_text_input_next_line(&in, &lines, &line, &len)) /* one example a line */
        status = classify_line(cli, &m, &h, line, len, top);
    head_free(&h);
    zoo_cli_close_model(&m);
    zoo_text_input_free(&in);
    return status;
}

const zoo_command zoo_cmd_classify = {
    .name = "classify",
    .takes_tokenizer = true,
    .takes_quantize = true,
    .run = cmd_classify,
    .options = OPTIONS,
    .opts_size = sizeof(classify_args),
    .usage = "zoo classify MODEL (--text TEXT | --text-file FILE) [--top K] [--json]",
    .summary = "the labels a model fine-tuned by zoo finetune gives each line of a text",
    .json_help = "a {\"labels\": [{\"label\", \"probability\"}...]} object a line",
};
