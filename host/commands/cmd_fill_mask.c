/* zoo fill-mask MODEL TEXT [--top N] [--json]: the likeliest tokens for each
 * [MASK] of TEXT, from a masked language model; --text TEXT, repeatable, for
 * several texts, each filled in turn. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "saved_model.h"
#include "text_input.h"
#include "zoo/status.h"

/* The top n ids of row (V), most probable first, with their softmax probabilities. */
static void top_n(const float *row, int64_t V, int n, int32_t *ids, double *probs) {
    double mx = row[0], sum = 0;
    for (int64_t v = 1; v < V; v++) mx = row[v] > mx ? row[v] : mx;
    for (int64_t v = 0; v < V; v++) sum += exp(row[v] - mx);
    for (int k = 0; k < n; k++) ids[k] = -1;
    for (int64_t v = 0; v < V; v++) {
        int k = n;
        while (k > 0 && (ids[k - 1] < 0 || row[v] > row[ids[k - 1]])) k--;
        if (k == n) continue;
        memmove(ids + k + 1, ids + k, (size_t)(n - k - 1) * sizeof *ids);
        ids[k] = (int32_t)v;
    }
    for (int k = 0; k < n; k++) probs[k] = ids[k] >= 0 ? exp(row[ids[k]] - mx) / sum : 0;
}

typedef struct fill_mask_args {
    const char *model, *text;
    zoo_text_input in;
    int64_t top;
} fill_mask_args;

static const zoo_option OPTIONS[] = {
    {"MODEL", ZOO_OPT_PATH, offsetof(fill_mask_args, model), ZOO_OPT_REQUIRED,
     .help = "a checkpoint or run directory of a model that can fill masks"},
    {"TEXT", ZOO_OPT_STRING, offsetof(fill_mask_args, text),
     .help = "the text, with [MASK] where a token is missing (or --text TEXT,\n"
             "repeatable: each another text, filled in turn; or --text-file FILE,\n"
             "- for standard input: its whole content as one text)"},
    ZOO_TEXT_INPUT_OPTIONS(fill_mask_args, in, NULL),
    {"--top", ZOO_OPT_INT, offsetof(fill_mask_args, top), .value = "N", .def = "5",
     ZOO_OPT_RANGE(1, 1000),
     .help = "how many candidates to show per mask (default 5), with their\n"
             "probabilities (generate's --top-k is another thing: it filters sampling)"},
    {0}};

/* Prints the top candidates for each [MASK] of text: a block of lines, or
 * with --json one object on a line. */
static int fill_one(const zoo_cli *cli, zoo_saved_model *m, const char *text, size_t len, int top) {
    const zoo_plugin *d = m->plugin->plugin;
    zoo_ids ids = {0};
    zoo_graph *g = zoo_graph_new(0);
    zoo_graph_set_recording(g, false);
    int32_t W = zoo_plugin_token_bytes(d), *bytes = NULL;
    int status = zoo_encode_with_bytes(cli, m->tokenizer, text, len, true, W, &ids, &bytes);
    int32_t mask_id = zoo_tokenizer_special(m->tokenizer, ZOO_TOK_MASK);
    int64_t n_masks = 0;
    for (int64_t t = 0; !status && t < ids.count; t++) n_masks += ids.ids[t] == mask_id;
    if (!status && n_masks == 0) status = zoo_cli_usage(cli, "TEXT has no [MASK]");
    zoo_tensor *logits = NULL;
    if (!status) {
        int32_t *attend = malloc((size_t)ids.count * sizeof *attend);
        for (int64_t t = 0; t < ids.count; t++) attend[t] = 1;
        zoo_batch batch = {.size = sizeof batch,
                           .B = 1,
                           .T = ids.count,
                           .ids = ids.ids,
                           .mask = attend,
                           .token_bytes = bytes,
                           .W = bytes ? W : 0};
        if (d->ops->fill_mask(m->model->model, g, &batch, mask_id, &logits) != ZOO_OK || !logits ||
            zoo_graph_status(g))
            status = zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "fill-mask: %s",
                                  zoo_graph_status(g) ? zoo_graph_error(g) : zoo_error_message());
        free(attend);
    }
    if (!status) {
        int64_t V = logits->shape[1];
        int32_t *best = malloc((size_t)top * sizeof *best);
        double *probs = malloc((size_t)top * sizeof *probs);
        if (cli->json) printf("{\"masks\": [");
        for (int64_t k = 0; k < n_masks; k++) {
            top_n(zoo_f32(logits) + k * V, V, top, best, probs);
            if (cli->json)
                printf("%s[", k ? ", " : "");
            else
                printf("[MASK] %lld:", (long long)k + 1);
            for (int j = 0; j < top && best[j] >= 0; j++) {
                size_t n;
                const char *tok = zoo_tokenizer_token(m->tokenizer, best[j], &n);
                char *s = strndup(tok ? tok : "", tok ? n : 0);
                if (cli->json) {
                    printf("%s{\"token\": ", j ? ", " : "");
                    zoo_print_json_string(stdout, s);
                    printf(", \"id\": %d, \"p\": %.6f}", best[j], probs[j]);
                } else {
                    printf("  %s (%.3f)", s, probs[j]);
                }
                free(s);
            }
            printf(cli->json ? "]" : "\n");
        }
        if (cli->json) printf("]}\n");
        free(best), free(probs);
    }
    zoo_graph_free(g);
    zoo_ids_free(&ids);
    free(bytes);
    return status;
}

static int cmd_fill_mask(zoo_cli *cli, void *args) {
    fill_mask_args *a = args;
    const char *model = a->model;
    zoo_text_input *in = &a->in;
    int top = (int)a->top, status = 0;
    if (a->text && (in->n_texts || in->file))
        return zoo_cli_usage(cli, "give the text once: TEXT, --text TEXT or --text-file FILE");
    if (!a->text && !in->n_texts && !in->file)
        return zoo_cli_usage(cli, "TEXT is required (see zoo fill-mask --help)");
    if (a->text) in->texts[in->n_texts++] = a->text;
    if ((status = zoo_text_input_load_each(cli, in))) return status;
    zoo_saved_model m;
    if ((status = zoo_cli_open_model(cli, model, ZOO_NEEDS_FILL_MASK | ZOO_NEEDS_TOKENIZER, &m))) {
        zoo_text_input_free(in);
        return status;
    }
    for (int i = 0; !status && i < zoo_text_input_count(in); i++) { /* each text in turn */
        size_t len;
        const char *text = zoo_text_input_nth(in, i, &len);
        status = fill_one(cli, &m, text, len, top);
    }
    zoo_cli_close_model(&m);
    zoo_text_input_free(in);
    return status;
}

const zoo_command zoo_cmd_fill_mask = {
    .name = "fill-mask",
    .takes_tokenizer = true,
    .takes_quantize = true,
    .run = cmd_fill_mask,
    .options = OPTIONS,
    .opts_size = sizeof(fill_mask_args),
    .usage = "zoo fill-mask MODEL TEXT [--top N] [--json]",
    .summary =
        "the likeliest tokens for each [MASK] in a text, from a masked language model (BERT)",
    .json_help = "one JSON object per text (JSON Lines), in order:\n"
                 "{\"masks\": [[{\"token\", \"id\", \"p\"}...]...]}, one list a [MASK]",
};
