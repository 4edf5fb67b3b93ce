/* zoo embed MODEL --text TEXT --out FILE.npy [--layer N] [--pool none|cls|mean]:
 * the model's vectors for a text, one row per token or pooled to one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "files.h"
#include "saved_model.h"
#include "text_input.h"
#include "vectors_source.h"
#include "zoo/io.h"
#include "zoo/ops.h"
#include "zoo/status.h"

/* rows [T,C] pooled as asked (cls: `pooled` when the model has one, else the
 * first row) into out_path. */
static int write_pooled(const zoo_cli *cli, zoo_graph *g, zoo_tensor *rows, zoo_tensor *pooled,
                        const char *pool, const char *out_path) {
    zoo_tensor *out = strcmp(pool, "mean") == 0  ? zoo_mean(g, rows, 0)
                      : strcmp(pool, "cls") == 0 ? (pooled ? pooled : zoo_slice(g, rows, 0, 0, 1))
                                                 : rows;
    if (!out || zoo_npy_write(out_path, out) != ZOO_OK)
        return zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "%s",
                            zoo_graph_status(g) ? zoo_graph_error(g) : zoo_error_message());
    return 0;
}

/* VECTORS is a word2vec file: the text's whitespace-separated words looked
 * up as zoo similar does (exactly, else ignoring case); an unknown word gets
 * a zero row, and a note says which. */
static int embed_from_file(const zoo_cli *cli, const char *path, const zoo_text_input *in,
                           const char *pool, const char *out_path) {
    zoo_word_vectors *v = zoo_vectors_open(cli, path);
    if (!v) return ZOO_EXIT_FAILURE;
    char *text = strndup(in->text, in->len);
    int64_t n = 0, unknown = 0;
    for (char *w = strtok(text, " \t\r\n\f\v"); w; w = strtok(NULL, " \t\r\n\f\v")) n++;
    free(text);
    int status = 0;
    zoo_graph *g = zoo_graph_new(0);
    zoo_tensor *rows = n > 0 && g ? zoo_new(g, ZOO_F32, n, v->dim) : NULL;
    if (n == 0)
        status = zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "--text: no words");
    else if (!rows)
        status = zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "out of memory");
    text = status ? NULL : strndup(in->text, in->len);
    int64_t t = 0;
    for (char *w = text ? strtok(text, " \t\r\n\f\v") : NULL; w;
         w = strtok(NULL, " \t\r\n\f\v"), t++) {
        int64_t row = zoo_word_vectors_find(v, w, 0, true);
        float *dst = zoo_f32(rows) + t * v->dim;
        if (row >= 0)
            memcpy(dst, v->data + row * v->dim, (size_t)v->dim * sizeof *dst);
        else {
            memset(dst, 0, (size_t)v->dim * sizeof *dst);
            fprintf(stderr, "%s'%s'",
                    unknown++ ? ", " : "zoo embed: not in VECTORS (zero rows): ", w);
        }
    }
    if (unknown) fputc('\n', stderr);
    free(text);
    if (!status) status = write_pooled(cli, g, rows, NULL, pool, out_path);
    zoo_graph_free(g);
    zoo_word_vectors_free(v);
    return status;
}

typedef struct embed_args {
    const char *model, *out, *pool;
    zoo_text_input in;
    int64_t layer;
} embed_args;

static const zoo_option OPTIONS[] = {
    {"MODEL", ZOO_OPT_PATH, offsetof(embed_args, model), ZOO_OPT_REQUIRED,
     .help = "a checkpoint, run directory or HuggingFace directory, or a word2vec\n"
             "file (its words: the text split at white space, unknown ones zero)"},
    ZOO_TEXT_INPUT_OPTIONS(embed_args, in,
                           "the text (or --text-file FILE); [CLS]/[SEP] are added for\n"
                           "tokenizers that have them"),
    {"--out", ZOO_OPT_PATH, offsetof(embed_args, out), ZOO_OPT_REQUIRED, .value = "FILE.npy",
     .help = "float32 [T,C] with --pool none (default); [1,C] with cls: the pooled [CLS]\n"
             "output of models with a pooler (BERT), else the first position; [C] with mean"},
    {"--layer", ZOO_OPT_INT, offsetof(embed_args, layer), .value = "N", .def = "-1",
     .help = "which layer's vectors, for models with several (default: the model's choice)"},
    {"--pool", ZOO_OPT_CHOICE, offsetof(embed_args, pool), .def = "none",
     .choices = "none|cls|mean", .help = "one row per token, or pooled to one (see --out)"},
    {0}};

static int cmd_embed(zoo_cli *cli, void *args) {
    const embed_args *a = args;
    zoo_text_input in = a->in;
    const char *model = a->model, *out_path = a->out, *pool = a->pool;
    int layer = (int)a->layer, status = 0;
    if ((status = zoo_text_input_load(cli, &in))) return status;
    if (zoo_is_word2vec_file(model)) {
        status = embed_from_file(cli, model, &in, pool, out_path);
        zoo_text_input_free(&in);
        return status;
    }
    zoo_saved_model m;
    if ((status = zoo_cli_open_model(cli, model, ZOO_NEEDS_TOKENIZER, &m))) {
        zoo_text_input_free(&in);
        return status;
    }
    zoo_ids ids = {0};
    int32_t W = zoo_plugin_token_bytes(m.plugin->plugin), *bytes = NULL;
    zoo_graph *g = zoo_graph_new(0);
    zoo_graph_set_recording(g, false);
    status = zoo_encode_with_bytes(cli, m.tokenizer, in.text, in.len, false, W, &ids, &bytes);
    if (!status && ids.count == 0)
        status = zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "--text: no tokens");
    if (!status) {
        int32_t *mask = malloc((size_t)ids.count * sizeof *mask);
        for (int64_t t = 0; t < ids.count; t++) mask[t] = 1;
        zoo_batch batch = {.size = sizeof batch,
                           .B = 1,
                           .T = ids.count,
                           .ids = ids.ids,
                           .mask = mask,
                           .token_bytes = bytes,
                           .W = bytes ? W : 0};
        zoo_tensor *vectors = NULL;
        int st = m.plugin->plugin->ops->embed(m.model->model, g, &batch, layer, &vectors);
        if (st || !vectors || zoo_graph_status(g)) {
            status = zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "embed: %s",
                                  zoo_graph_status(g) ? zoo_graph_error(g) : zoo_error_message());
        } else {
            int64_t T = ids.count, C = vectors->shape[vectors->ndim - 1];
            zoo_tensor *rows = zoo_view(g, vectors, T, C); /* [T,C] */
            zoo_outputs o = {.size = sizeof o};
            if (strcmp(pool, "cls") == 0 && layer < 0) /* a model with a pooler (BERT) */
                m.plugin->plugin->ops->forward(m.model->model, g, &batch, &o);
            status = write_pooled(cli, g, rows, o.pooled, pool, out_path);
        }
        free(mask);
    }
    zoo_graph_free(g);
    zoo_ids_free(&ids);
    free(bytes);
    zoo_cli_close_model(&m);
    zoo_text_input_free(&in);
    return status;
}

const zoo_command zoo_cmd_embed = {
    .name = "embed",
    .run = cmd_embed,
    .options = OPTIONS,
    .opts_size = sizeof(embed_args),
    .usage = "zoo embed MODEL --text TEXT --out FILE.npy [--layer N] [--pool none|cls|mean]",
    .summary = "the model's vectors for a text as .npy: one row per token, or pooled",
};
