/* zoo export MODEL --format FORMAT --out PATH: a model written in another
 * tool's format by its plugin (hf: a HuggingFace directory with the
 * tokenizer files when zoo can write them). */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "saved_model.h"
#include "zoo/status.h"

/* The tokenizer files a HuggingFace directory carries, for the types that
 * have a file form (the others, such as char and word, have none to write). */
static int save_tokenizer(const zoo_tokenizer *t, const char *dir) {
    return zoo_tokenizer_can_save(t) ? zoo_tokenizer_save(t, dir) : ZOO_OK;
}

static int cmd_export(zoo_cli *cli, int argc, char **argv) {
    const char *model = NULL, *format = NULL, *out = NULL;
    int status = 0;
    for (int i = 1; i < argc; i++) {
        if (zoo_cli_value(cli, argc, argv, i, "--format", &status))
            format = argv[++i];
        else if (zoo_cli_value(cli, argc, argv, i, "--out", &status))
            out = argv[++i];
        else if (status)
            return status;
        else if (argv[i][0] == '-')
            return zoo_cli_usage(cli, "unknown option '%s' (see zoo export --help)", argv[i]);
        else if (model)
            return zoo_cli_usage(cli, "one MODEL at a time");
        else
            model = argv[i];
    }
    if (!model || !format || !out)
        return zoo_cli_usage(cli, "expected MODEL --format FORMAT --out PATH");
    zoo_registry *r = zoo_cli_registry(cli);
    zoo_saved_model m;
    if (!r || (status = zoo_saved_model_open(cli, r, model, &m))) {
        zoo_registry_free(r);
        return status ? status : ZOO_EXIT_FAILURE;
    }
    const zoo_plugin *d = m.plugin->plugin;
    bool known = false;
    for (int i = 0; d->formats && d->formats[i]; i++)
        known = known || strcmp(d->formats[i], format) == 0;
    if (!(d->capabilities & ZOO_CAP_EXPORT) || !known)
        status = zoo_cli_fail(
            cli, ZOO_EXIT_FAILURE, "plugin '%s' cannot export to \"%s\"%s", d->name, format,
            d->capabilities & ZOO_CAP_EXPORT ? " (zoo info lists its formats)" : "");
    else if (d->ops->export_checkpoint(m.model->model, m.model->params, m.model->hp, format, out) !=
             ZOO_OK)
        status = zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "%s", zoo_error_message());
    else if (strcmp(format, "hf") == 0 && m.tokenizer && save_tokenizer(m.tokenizer, out) != ZOO_OK)
        status = zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "%s", zoo_error_message());
    zoo_saved_model_close(&m);
    zoo_registry_free(r);
    return status;
}

const zoo_command zoo_cmd_export = {
    .name = "export",
    cmd_export,
    "zoo export MODEL --format FORMAT --out PATH",
    "write a model in another tool's format (gpt, bert: hf, a HuggingFace directory)",
    "  MODEL           a checkpoint, run directory or HuggingFace directory\n"
    "  --format FORMAT one of the plugin's formats (zoo info PLUGIN lists them)\n"
    "  --out PATH      where to write (hf: a directory, created if needed, with config.json,\n"
    "                  model.safetensors and the tokenizer: vocab.json + merges.txt for GPT-2's,\n"
    "                  vocab.txt for WordPiece)\n"};
