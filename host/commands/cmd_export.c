/* zoo export MODEL --format FORMAT --out PATH: a model written in another
 * tool's format by its plugin (hf: a HuggingFace directory with the
 * tokenizer files when zoo can write them). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "saved_model.h"
#include "zoo/status.h"

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
    const zoo_plugin *d = m.plugin->plugin;
    bool known = false;
    for (int i = 0; d->formats && d->formats[i]; i++)
        known = known || strcmp(d->formats[i], format) == 0;
    if (!(d->capabilities & ZOO_CAP_EXPORT) || !known)
        status = zoo_cli_fail(
            cli, ZOO_EXIT_FAILURE, "%s: plugin '%s' cannot export to \"%s\"%s", model, d->name,
            format, d->capabilities & ZOO_CAP_EXPORT ? " (zoo info lists its formats)" : "");
    else if (d->ops->export_checkpoint(m.model->model, m.model->params, m.model->hp, format, out) !=
             ZOO_OK)
        status = zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "%s", zoo_error_message());
    else if (strcmp(format, "hf") == 0 && m.tokenizer && save_tokenizer(m.tokenizer, out) != ZOO_OK)
        status = zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "%s", zoo_error_message());
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
    .json_help = "{\"model\", \"plugin\", \"format\", \"out\"} once it is written",
};
