/* zoo quantize MODEL --out PATH [--scheme int8]: a quantized checkpoint
 * (quantize.h, docs/quantization.md) that every inference command loads as
 * it is. MODEL is anything zoo_cli_open_model opens: a checkpoint, a run,
 * a HuggingFace directory. A fine-tuned classifier's head goes with it in
 * float32, its labels.txt beside PATH. */
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checkpoint.h"
#include "classifier_head.h"
#include "quantize.h"
#include "saved_model.h"
#include "zoo/io.h"
#include "zoo/status.h"
#include "zoo/tokenizer.h"

typedef struct quantize_args {
    const char *model, *out, *scheme;
} quantize_args;

static const zoo_option OPTIONS[] = {
    {"MODEL", ZOO_OPT_PATH, offsetof(quantize_args, model), ZOO_OPT_REQUIRED,
     .help = "a checkpoint, a run directory or a HuggingFace directory"},
    {"--out", ZOO_OPT_PATH, offsetof(quantize_args, out), ZOO_OPT_REQUIRED, .value = "PATH",
     .help = "the quantized checkpoint to write (.safetensors)"},
    {"--scheme", ZOO_OPT_CHOICE, offsetof(quantize_args, scheme), .def = "int8", .choices = "int8",
     .help = "int8: weights per output channel, activations per token (default)"},
    {0}};

/* The fine-tuned head of m, when it has one, as float32 parameters of m
 * (as zoo finetune keeps it), and its labels into *labels. */
static int add_head(zoo_saved_model *m, const char *model, char **labels) {
    char weights[4200]; /* a foreign directory has a head only beside safetensors weights */
    snprintf(weights, sizeof weights, "%s/model.safetensors", model);
    if (!m->checkpoint && access(weights, F_OK) != 0) return ZOO_OK;
    zoo_head_file h;
    int st = zoo_head_file_open(m, model, &h);
    if (st || !zoo_head_file_found(&h)) {
        zoo_head_file_close(&h);
        return st;
    }
    const char *names[2] = {"classifier.weight", "classifier.bias"};
    int index[2] = {h.weight, h.bias};
    for (int k = 0; k < 2 && !st; k++) {
        int ndim = 0;
        int64_t shape[ZOO_MAX_DIMS];
        zoo_st_info(h.file, index[k], NULL, &ndim, shape);
        zoo_tensor *t = zoo_params_add(m->model->params, names[k], ndim, shape, 0);
        st = t ? zoo_st_read_into(h.file, index[k], t) : ZOO_ERR_NOMEM;
    }
    if (!st && h.labels && !(*labels = strdup(h.labels))) st = ZOO_ERR_NOMEM;
    zoo_head_file_close(&h);
    return st;
}

/* labels.txt beside out; one already there must say the same. */
static int write_labels(const char *out, const char *labels) {
    char *copy = strdup(out), path[4200];
    if (!copy) return zoo_error(ZOO_ERR_NOMEM, "out of memory");
    snprintf(path, sizeof path, "%s/labels.txt", dirname(copy));
    free(copy);
    char *there = zoo_read_file(path, NULL);
    int st = ZOO_OK;
    if (there && strcmp(there, labels) != 0)
        st = zoo_error(ZOO_ERR_ARG,
                       "%s holds other labels than the classifier's; write the quantized "
                       "checkpoint into another directory",
                       path);
    else if (!there)
        st = zoo_write_file_atomic(path, labels, strlen(labels));
    free(there);
    return st;
}

/* The size of the file just written, 0 when it cannot be read. */
static double file_bytes(const char *path) {
    struct stat s;
    return stat(path, &s) == 0 ? (double)s.st_size : 0;
}

static int cmd_quantize(zoo_cli *cli, void *args) {
    const quantize_args *a = args;
    zoo_cli sub = *cli;
    sub.quantize = a->scheme;
    zoo_saved_model m;
    int status = zoo_cli_open_model(&sub, a->model, 0, &m);
    if (status) return status;
    char *labels = NULL, *config = zoo_config_text(m.config);
    char *tokenizer = m.tokenizer ? zoo_tokenizer_to_json(m.tokenizer) : NULL;
    zoo_run_state state = {.world_size = 1};
    if (m.checkpoint) state = m.checkpoint->state;
    int st = !config || (m.tokenizer && !tokenizer) ? zoo_error(ZOO_ERR_NOMEM, "out of memory")
                                                    : add_head(&m, a->model, &labels);
    if (!st) st = zoo_checkpoint_save(a->out, m.model, config, tokenizer, &state, false);
    if (!st && labels) st = write_labels(a->out, labels);
    if (st) {
        status = zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "%s", zoo_error_message());
    } else {
        int quantized = zoo_model_quantized_count(m.model), n = zoo_params_count(m.model->params);
        /* the values alone: a small model's file is mostly its metadata */
        double before = 4.0 * (double)zoo_params_numel(m.model->params),
               after = (double)zoo_params_bytes(m.model->params), file = file_bytes(a->out);
        char b0[32], b1[32], b2[32];
        if (cli->json) {
            printf("{\"out\": ");
            zoo_print_json_string(stdout, a->out);
            printf(", \"scheme\": \"%s\", \"quantized\": %d, \"parameters\": %d, \"bytes\": %.0f, "
                   "\"float32_bytes\": %.0f, \"file_bytes\": %.0f}\n",
                   a->scheme, quantized, n, after, before, file);
        } else
            printf("%s: %d of %d parameters quantized (%s); values %s, %.0f%% of float32's %s; "
                   "file %s\n",
                   a->out, quantized, n, a->scheme, zoo_format_bytes(after, b1, sizeof b1),
                   100 * after / before, zoo_format_bytes(before, b0, sizeof b0),
                   zoo_format_bytes(file, b2, sizeof b2));
    }
    free(labels);
    free(config);
    free(tokenizer);
    zoo_cli_close_model(&m);
    return status;
}

const zoo_command zoo_cmd_quantize = {
    .name = "quantize",
    .run = cmd_quantize,
    .options = OPTIONS,
    .opts_size = sizeof(quantize_args),
    .summary = "write an int8 checkpoint of a model for the inference commands",
    .notes = "\n"
             "The weights of the model's linear layers (and a tied output head) become int8\n"
             "with one float32 scale per output channel; norms, biases and lookup tables stay\n"
             "float32. generate, forward, embed, fill-mask, classify and eval load the file as\n"
             "any checkpoint; train and finetune refuse it. --quantize int8 on those commands\n"
             "does the same at load time. docs/quantization.md.\n",
    .takes_tokenizer = true,
    .json_help = "{\"out\", \"scheme\", \"quantized\", \"parameters\", \"bytes\" (the values, "
                 "scales included), \"float32_bytes\" (the same in float32), \"file_bytes\"}",
};
