/* zoo export MODEL --format FORMAT --out PATH: a model written in another
 * tool's format by its plugin (hf: a HuggingFace directory with the
 * tokenizer files when zoo can write them). A fine-tuned classifier's head
 * (classifier_head.h) goes with it where the format has a place for it
 * (the HuggingFace architecture its registry card names as hf_classifier: bert's
 * BertForSequenceClassification); elsewhere export refuses
 * rather than drop it. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "classifier_head.h"
#include "saved_model.h"
#include "zoo/io.h"
#include "zoo/status.h"

/* DIR/model.safetensors, as the plugin wrote it, with the head's two
 * tensors added under their HuggingFace names (the same as zoo's). */
static int add_head_weights(const zoo_head_file *h, const char *dir) {
    char path[4200];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    zoo_st_file *f = NULL;
    zoo_st_writer *w = zoo_st_writer_new();
    int st = w ? zoo_st_open(path, &f) : ZOO_ERR_NOMEM;
    for (int i = 0; !st && i < zoo_st_count(f); i++) {
        const char *dtype = NULL;
        int ndim = 0;
        int64_t shape[ZOO_MAX_DIMS];
        if ((st = zoo_st_info(f, i, &dtype, &ndim, shape))) break;
        zoo_dtype dt = strcmp(dtype, "F32") == 0 ? ZOO_F32 : ZOO_I32;
        if (strcmp(dtype, "F32") != 0 && strcmp(dtype, "I32") != 0)
            st = zoo_error(ZOO_ERR_FORMAT, "%s: %s: %s, which zoo does not rewrite", path,
                           zoo_st_name(f, i), dtype);
        else
            st = zoo_st_writer_add(w, zoo_st_name(f, i), dt, ndim, shape, zoo_st_data(f, i, NULL));
    }
    for (int i = 0; !st && i < zoo_st_metadata_count(f); i++) {
        const char *value, *key = zoo_st_metadata_at(f, i, &value);
        st = zoo_st_writer_add_metadata(w, key, value);
    }
    const int idx[2] = {h->weight, h->bias};
    for (int k = 0; !st && k < 2; k++) {
        const char *dtype = NULL;
        int ndim = 0;
        int64_t shape[ZOO_MAX_DIMS];
        if (!(st = zoo_st_info(h->file, idx[k], &dtype, &ndim, shape)) && strcmp(dtype, "F32"))
            st = zoo_error(ZOO_ERR_FORMAT, "%s: not F32", zoo_st_name(h->file, idx[k]));
        if (!st)
            st = zoo_st_writer_add(w, zoo_st_name(h->file, idx[k]), ZOO_F32, ndim, shape,
                                   zoo_st_data(h->file, idx[k], NULL));
    }
    if (!st) st = zoo_st_writer_write(w, path); /* replaces the file by rename: f stays valid */
    zoo_st_close(f);
    zoo_st_writer_free(w);
    return st;
}

/* DIR/config.json with the head's architecture and its labels: id2label
 * and label2id (labels.txt's lines; HuggingFace's LABEL_i without one). */
static int add_head_config(const zoo_head_file *h, const char *architecture, int64_t L,
                           const char *dir) {
    char path[4200];
    snprintf(path, sizeof path, "%s/config.json", dir);
    char *text = zoo_read_file(path, NULL);
    if (!text) return zoo_error(ZOO_ERR_IO, "%s", zoo_error_message());
    cJSON *root = cJSON_Parse(text);
    free(text);
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return zoo_error(ZOO_ERR_FORMAT, "%s: not a JSON object", path);
    }
    char *labels = h->labels ? strdup(h->labels) : NULL, *save = NULL;
    cJSON *id2label = cJSON_CreateObject(), *label2id = cJSON_CreateObject();
    char *line = labels ? strtok_r(labels, "\n", &save) : NULL;
    int st = ZOO_OK;
    for (int64_t i = 0; i < L; i++, line = line ? strtok_r(NULL, "\n", &save) : NULL) {
        char id[24], numbered[32];
        snprintf(id, sizeof id, "%lld", (long long)i);
        snprintf(numbered, sizeof numbered, "LABEL_%lld", (long long)i);
        if (h->labels && !line) break;
        const char *name = line ? line : numbered;
        if (cJSON_GetObjectItemCaseSensitive(label2id, name))
            st = zoo_error(ZOO_ERR_FORMAT, "%s: the label '%s' twice", h->labels_from, name);
        cJSON_AddStringToObject(id2label, id, name);
        cJSON_AddNumberToObject(label2id, name, (double)i);
    }
    if (!st && h->labels && (cJSON_GetArraySize(id2label) != L || line))
        st = zoo_error(ZOO_ERR_FORMAT, "%s: not one label for each of the head's %lld rows",
                       h->labels_from, (long long)L);
    free(labels);
    const char *arch[] = {architecture};
    cJSON_ReplaceItemInObjectCaseSensitive(root, "architectures", cJSON_CreateStringArray(arch, 1));
    cJSON_DeleteItemFromObjectCaseSensitive(root, "id2label");
    cJSON_DeleteItemFromObjectCaseSensitive(root, "label2id");
    cJSON_AddItemToObject(root, "id2label", id2label);
    cJSON_AddItemToObject(root, "label2id", label2id);
    char *out = st ? NULL : cJSON_Print(root), *ended = NULL;
    if (out && asprintf(&ended, "%s\n", out) < 0) ended = NULL;
    free(out);
    out = ended;
    if (!st && !out) st = zoo_error(ZOO_ERR_NOMEM, "out of memory");
    if (!st) st = zoo_write_file_atomic(path, out, strlen(out));
    free(out);
    cJSON_Delete(root);
    return st;
}

/* The tokenizer files a HuggingFace directory carries, for the types that
 * have a file form (the others, such as char and word, have none to write). */
static int save_tokenizer(const zoo_tokenizer *t, const char *dir) {
    return zoo_tokenizer_can_save(t) ? zoo_tokenizer_save(t, dir) : ZOO_OK;
}

typedef struct export_args {
    const char *model, *format, *out;
} export_args;

static const zoo_option OPTIONS[] = {
    {"MODEL", ZOO_OPT_PATH, offsetof(export_args, model), ZOO_OPT_REQUIRED,
     .help = "a checkpoint, run directory or foreign model directory"},
    {"--format", ZOO_OPT_STRING, offsetof(export_args, format), ZOO_OPT_REQUIRED, .value = "FORMAT",
     .help = "one of the plugin's formats (zoo info PLUGIN lists them)"},
    {"--out", ZOO_OPT_PATH, offsetof(export_args, out), ZOO_OPT_REQUIRED, .value = "PATH",
     .help = "where to write (hf: a directory, created if needed, with config.json,\n"
             "model.safetensors and the tokenizer: vocab.json + merges.txt for GPT-2's,\n"
             "vocab.txt for WordPiece)"},
    {0}};

static int cmd_export(zoo_cli *cli, void *args) {
    const export_args *a = args;
    const char *model = a->model, *format = a->format, *out = a->out;
    int status = 0;
    zoo_saved_model m;
    if ((status = zoo_cli_open_model(cli, model, 0, &m))) return status;
    if (m.checkpoint && m.checkpoint->quantization) { /* the plugins' writers read float32 */
        status = zoo_cli_fail(cli, ZOO_EXIT_FAILURE,
                              "%s: a quantized (%s) checkpoint cannot be exported; export the "
                              "float32 checkpoint it was made from",
                              model, m.checkpoint->quantization);
        zoo_cli_close_model(&m);
        return status;
    }
    const zoo_plugin *d = m.plugin->plugin;
    zoo_head_file head;
    if (zoo_head_file_open(&m, model, &head) != ZOO_OK) {
        status = zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "%s", zoo_error_message());
        zoo_cli_close_model(&m);
        return status;
    }
    bool with_head = zoo_head_file_found(&head);
    const char *architecture = with_head ? m.plugin->entry->card.hf_classifier : NULL;
    int64_t L = with_head ? zoo_st_shape(head.file, head.weight)[0] : 0;
    bool known = false;
    for (int i = 0; d->formats && d->formats[i]; i++)
        known = known || strcmp(d->formats[i], format) == 0;
    if (!(d->capabilities & ZOO_CAP_EXPORT) || !known)
        status = zoo_cli_fail(
            cli, ZOO_EXIT_FAILURE, "%s: plugin '%s' cannot export to \"%s\"%s", model, d->name,
            format, d->capabilities & ZOO_CAP_EXPORT ? " (zoo info lists its formats)" : "");
    else if (with_head && (strcmp(format, "hf") != 0 || !architecture))
        status = zoo_cli_fail(cli, ZOO_EXIT_FAILURE,
                              "%s: its fine-tuned classifier head (classifier.weight, "
                              "classifier.bias and their labels) has no place in a '%s' model's "
                              "\"%s\" format (its registry card names no hf_classifier "
                              "architecture); nothing was written",
                              model, d->name, format);
    else if (d->ops->export_checkpoint(m.model->model, m.model->params, m.model->hp, format, out) !=
             ZOO_OK)
        status = zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "%s", zoo_error_message());
    else if (strcmp(format, "hf") == 0 && m.tokenizer && save_tokenizer(m.tokenizer, out) != ZOO_OK)
        status = zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "%s", zoo_error_message());
    else if (with_head && (add_head_config(&head, architecture, L, out) != ZOO_OK ||
                           add_head_weights(&head, out) != ZOO_OK))
        status = zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "%s", zoo_error_message());
    zoo_head_file_close(&head);
    if (status == 0 && cli->json) {
        printf("{\"model\": ");
        zoo_print_json_string(stdout, model);
        printf(", \"plugin\": ");
        zoo_print_json_string(stdout, d->name);
        printf(", \"format\": ");
        zoo_print_json_string(stdout, format);
        printf(", \"out\": ");
        zoo_print_json_string(stdout, out);
        printf("}\n");
    }
    zoo_cli_close_model(&m);
    return status;
}

const zoo_command zoo_cmd_export = {
    .name = "export",
    .run = cmd_export,
    .options = OPTIONS,
    .opts_size = sizeof(export_args),
    .summary = "write a model in another tool's format (gpt, bert: hf, a HuggingFace directory)",
    .notes = "\n"
             "A model fine-tuned by zoo finetune goes with its classifier head: bert's as\n"
             "BertForSequenceClassification (classifier.weight, classifier.bias; labels.txt as\n"
             "config.json's id2label and label2id), which zoo classify reads back. A head the\n"
             "format has no place for (gpt's) is refused, not dropped.\n",
    .json_help = "{\"model\", \"plugin\", \"format\", \"out\"} once it is written",
};
