/* zoo forward MODEL --ids FILE [--mask FILE] [--types FILE] --out FILE.npy
 *             [--hidden FILE.npy] [--set model.KEY=VALUE]... [--seed N]
 * A raw forward pass, its outputs written as .npy. MODEL is a checkpoint or
 * run directory, or a plugin name: a fresh model (--set, --seed). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batcher.h"
#include "cli.h"
#include "files.h"
#include "saved_model.h"
#include "zoo/io.h"
#include "zoo/status.h"

/* One sequence per line, integers separated by spaces or commas, every line
 * the same length. Returns a malloc'ed [rows, cols] array, or NULL after printing why. */
static int32_t *read_int_rows(const zoo_cli *cli, const char *path, int64_t *rows, int64_t *cols) {
    char *text = zoo_read_file(path, NULL);
    if (!text) {
        zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "%s", zoo_error_message());
        return NULL;
    }
    int32_t *values = NULL;
    int64_t n = 0, cap = 0, line_no = 0, width = -1, r = 0;
    const char *error = NULL;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line && !error;
         line = strtok_r(NULL, "\n", &save)) {
        line_no++;
        int64_t count = 0;
        for (char *p = line;;) {
            while (*p == ' ' || *p == ',' || *p == '\t' || *p == '\r') p++;
            if (!*p) break;
            char *end;
            errno = 0;
            long long v = strtoll(p, &end, 10);
            if (end == p || errno || v < INT32_MIN || v > INT32_MAX) {
                error = "expected integers separated by spaces or commas";
                break;
            }
            if (n == cap) {
                cap = cap ? 2 * cap : 1024;
                int32_t *grown = realloc(values, (size_t)cap * sizeof *grown);
                if (!grown) {
                    error = "out of memory";
                    break;
                }
                values = grown;
            }
            values[n++] = (int32_t)v, count++;
            p = end;
        }
        if (error || count == 0) continue; /* blank lines are allowed */
        if (width >= 0 && count != width)
            error = "every line must have the same number of ids (pad them and pass --mask)";
        width = count, r++;
    }
    if (!error && r == 0) error = "no ids";
    free(text);
    if (error) {
        zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "%s:%lld: %s", path, (long long)line_no, error);
        free(values);
        return NULL;
    }
    *rows = r, *cols = width;
    return values;
}

/* {"file", "shape"} of an array written to path, or null when none was. */
static void print_written(const char *path, const zoo_tensor *t) {
    if (!path) {
        printf("null");
        return;
    }
    printf("{\"file\": ");
    zoo_print_json_string(stdout, path);
    printf(", \"shape\": [");
    for (int i = 0; i < t->ndim; i++) printf("%s%lld", i ? ", " : "", (long long)t->shape[i]);
    printf("]}");
}

typedef struct forward_args {
    const char *model, *ids, *mask, *types, *out, *hidden;
    zoo_model_opts fresh;
} forward_args;

static const zoo_option OPTIONS[] = {
    /* a path (resolved as one in run scripts), unless it names a plugin */
    {"MODEL", ZOO_OPT_PATH, offsetof(forward_args, model), ZOO_OPT_REQUIRED,
     .help = "a checkpoint (.safetensors) or run directory, or a plugin name\n"
             "for a fresh model with default hyperparameters (--set, --seed)"},
    {"--ids", ZOO_OPT_PATH, offsetof(forward_args, ids), ZOO_OPT_REQUIRED, .value = "FILE",
     .help = "one sequence per line, integers separated by spaces or commas,\n"
             "every line the same length (pad them yourself and pass --mask)"},
    {"--mask", ZOO_OPT_PATH, offsetof(forward_args, mask), .value = "FILE",
     .help = "1 for a real token, 0 for padding, shaped like --ids"},
    {"--types", ZOO_OPT_PATH, offsetof(forward_args, types), .value = "FILE",
     .help = "segment ids, shaped like --ids"},
    {"--out", ZOO_OPT_PATH, offsetof(forward_args, out), .value = "FILE.npy",
     .help = "the logits [B,T,V] (float32)"},
    {"--hidden", ZOO_OPT_PATH, offsetof(forward_args, hidden), .value = "FILE.npy",
     .help = "the last hidden state [B,T,C]"},
    ZOO_MODEL_OPTIONS(forward_args, fresh,
                      "a hyperparameter of the fresh model (repeatable), as\n"
                      "train's --set model.KEY=VALUE; KEY=VALUE alone is the same",
                      "the seed of its initialisation (default 0)"),
    {0}};

static int cmd_forward(zoo_cli *cli, void *args) {
    const forward_args *a = args;
    const char *ids_path = a->ids, *mask_path = a->mask, *types_path = a->types, *out_path = a->out,
               *hidden_path = a->hidden;
    int status = 0;
    if (!out_path && !hidden_path)
        return zoo_cli_usage(cli, "nothing to write: give --out and/or --hidden");

    int64_t B = 0, T = 0, rows, cols;
    int32_t *ids = read_int_rows(cli, ids_path, &B, &T), *mask = NULL, *types = NULL;
    const char *extra_paths[2] = {mask_path, types_path};
    int32_t **extra[2] = {&mask, &types};
    for (int k = 0; ids && k < 2; k++) {
        if (!extra_paths[k]) continue;
        *extra[k] = read_int_rows(cli, extra_paths[k], &rows, &cols);
        if (*extra[k] && (rows != B || cols != T)) {
            zoo_cli_fail(cli, ZOO_EXIT_FAILURE,
                         "%s: shape %lldx%lld differs from the ids' %lldx%lld", extra_paths[k],
                         (long long)rows, (long long)cols, (long long)B, (long long)T);
            free(*extra[k]);
            *extra[k] = NULL;
        }
        if (!*extra[k]) status = ZOO_EXIT_FAILURE;
    }
    int32_t *bytes = NULL;  /* token bytes, for a plugin that reads them */
    zoo_registry *r = NULL; /* a fresh model's */
    zoo_saved_model saved = {0};
    zoo_loaded *p = NULL;
    zoo_host_model *m = NULL;
    bool fresh = !zoo_is_checkpoint_path(a->model);
    if (!ids || status)
        ; /* the inputs said why */
    else if (!fresh) {
        if (zoo_cli_open_model(cli, a->model, 0, &saved) == 0) p = saved.plugin, m = saved.model;
    } else if ((r = zoo_cli_registry(cli)) && (p = zoo_cli_load_plugin(cli, r, a->model))) {
        m = zoo_cli_fresh_model(cli, p, &a->fresh);
    }
    status = ZOO_EXIT_FAILURE;
    if (m) {
        zoo_graph *g = zoo_graph_new(0);
        zoo_graph_set_recording(g, false);
        zoo_batch batch = {
            .size = sizeof batch, .B = B, .T = T, .ids = ids, .mask = mask, .types = types};
        int32_t W = zoo_plugin_token_bytes(p->plugin);
        if (W > 0 && (bytes = malloc((size_t)(B * T * W) * sizeof *bytes))) {
            /* ids from a file have no text: their vocabulary strings (a fresh
             * model has no tokenizer: all -1), padding all -1 */
            zoo_token_bytes_fill(fresh ? NULL : saved.tokenizer, ids, NULL, NULL, B * T, W, bytes);
            for (int64_t i = 0; mask && i < B * T; i++)
                if (!mask[i]) zoo_token_bytes_fill(NULL, ids + i, NULL, NULL, 1, W, bytes + i * W);
            batch.token_bytes = bytes, batch.W = W;
        }
        zoo_outputs out = {.size = sizeof out};
        int st = g ? p->plugin->ops->forward(m->model, g, &batch, &out) : ZOO_ERR_NOMEM;
        if (st != ZOO_OK || zoo_graph_status(g) != ZOO_OK)
            zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "forward failed: %s",
                         zoo_graph_status(g) ? zoo_graph_error(g) : zoo_error_message());
        else if (out_path && !out.logits)
            zoo_cli_fail(cli, ZOO_EXIT_FAILURE,
                         "--out: plugin '%s' has no language-model head (no logits)",
                         p->plugin->name);
        else if (hidden_path && !out.hidden)
            zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "--hidden: plugin '%s' gives no hidden state",
                         p->plugin->name);
        else if ((out_path && zoo_npy_write(out_path, out.logits) != ZOO_OK) ||
                 (hidden_path && zoo_npy_write(hidden_path, out.hidden) != ZOO_OK))
            zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "%s", zoo_error_message());
        else
            status = 0;
        if (status == 0 && cli->json) { /* what was written where */
            printf("{\"logits\": ");
            print_written(out_path, out.logits);
            printf(", \"hidden\": ");
            print_written(hidden_path, out.hidden);
            printf("}\n");
        }
        zoo_graph_free(g);
    }
    if (fresh) zoo_host_model_destroy(m), zoo_plugin_unload(p);
    zoo_cli_close_model(&saved);
    zoo_registry_free(r);
    free(ids), free(mask), free(types), free(bytes);
    return status;
}

const zoo_command zoo_cmd_forward = {
    .name = "forward",
    .takes_tokenizer = true,
    .takes_quantize = true,
    .run = cmd_forward,
    .options = OPTIONS,
    .opts_size = sizeof(forward_args),
    .usage = "zoo forward MODEL --ids FILE [--mask FILE] [--types FILE] --out FILE.npy [--hidden "
             "FILE.npy]",
    .summary = "a raw forward pass: the language-model logits [B,T,V] and/or the last hidden "
               "state [B,T,C]",
    .json_help = "{\"logits\", \"hidden\"}: each {\"file\", \"shape\"} written, or null",
};
