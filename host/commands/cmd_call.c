/* zoo call PLUGIN.FUNCTION [--set NAME=VALUE]... [--seed N] [--] ARG...:
 * calls an extra function the plugin declares, through libffi. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "saved_model.h"
#include "zoo/status.h"

static const zoo_extra *find_extra(const zoo_loaded *p, const char *name) {
    for (int i = 0; i < p->n_extras; i++)
        if (strcmp(p->extras[i].decl->name, name) == 0) return &p->extras[i];
    return NULL;
}

static bool takes_model(const zoo_extra *x) {
    for (int i = 0; i < x->decl->n_args; i++)
        if (x->decl->args[i] == ZOO_X_MODEL) return true;
    return false;
}

static int cmd_call(zoo_cli *cli, int argc, char **argv) {
    if (argc < 2 || !strchr(argv[1], '.'))
        return zoo_cli_usage(cli, "expected PLUGIN.FUNCTION (see zoo call --help)");
    zoo_model_opts opts = {0};
    const char *args[64], *checkpoint = NULL;
    int n_args = 0;
    bool options_done = false;
    for (int i = 2; i < argc; i++) {
        int used = options_done ? 0 : zoo_cli_model_option(cli, &opts, argc, argv, &i);
        if (used < 0) return ZOO_EXIT_USAGE;
        if (used) continue;
        if (!options_done && strcmp(argv[i], "--") == 0) {
            options_done = true;
            continue;
        }
        int status = 0;
        if (!options_done && zoo_cli_value(cli, argc, argv, i, "--model", &status)) {
            checkpoint = argv[++i];
            continue;
        }
        if (status) return status;
        if (n_args == 64) return zoo_cli_usage(cli, "too many arguments");
        args[n_args++] = argv[i];
    }
    char plugin_name[128];
    const char *dot = strchr(argv[1], '.');
    snprintf(plugin_name, sizeof plugin_name, "%.*s", (int)(dot - argv[1]), argv[1]);
    const char *function = dot + 1;

    int status = ZOO_EXIT_FAILURE;
    zoo_registry *r = zoo_cli_registry(cli);
    zoo_saved_model saved = {0};
    zoo_loaded *p = NULL;
    if (r && checkpoint) {
        if (zoo_saved_model_open(cli, r, checkpoint, &saved) == ZOO_OK) p = saved.plugin;
        if (p && strcmp(p->plugin->name, plugin_name) != 0) {
            zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "--model %s is a '%s' model, not '%s'", checkpoint,
                         p->plugin->name, plugin_name);
            p = NULL;
        }
    } else if (r) {
        p = zoo_cli_load_plugin(cli, r, plugin_name);
    }
    const zoo_extra *x = p ? find_extra(p, function) : NULL;
    zoo_host_model *m = NULL;
    if (p && !x) {
        zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "plugin '%s' declares no extra function '%s'%s",
                     plugin_name, function, p->n_extras ? " (zoo info lists them)" : "");
    } else if (x && n_args != zoo_extra_text_arity(x)) {
        /* checked before a model is built: a wrong call costs nothing */
        status = zoo_cli_usage(
            cli, "%s.%s takes %d argument(s), got %d (zoo info %s shows its signature)",
            plugin_name, function, zoo_extra_text_arity(x), n_args, plugin_name);
    } else if (x && (!takes_model(x) ||
                     (m = saved.model ? saved.model : zoo_cli_fresh_model(cli, p, &opts)))) {
        char *result = NULL;
        if (zoo_extra_call(x, plugin_name, m ? m->model : NULL, args, n_args, &result) == ZOO_OK) {
            if (*result) puts(result);
            status = 0;
        } else {
            status = zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "%s", zoo_error_message());
        }
        free(result);
    }
    if (saved.checkpoint)
        zoo_saved_model_close(&saved);
    else
        zoo_host_model_destroy(m), zoo_plugin_unload(p);
    zoo_registry_free(r);
    return status;
}

const zoo_command zoo_cmd_call = {
    .name = "call", cmd_call,
    "zoo call PLUGIN.FUNCTION [--model CHECKPOINT | --set NAME=VALUE... --seed N] [--] ARG...",
    "call an extra function a plugin declares (through libffi) and print its result",
    "  ARG...            the function's arguments, converted to its declared types\n"
    "                    (int64, double, bool: true/false, string); `--` ends the options\n"
    "  --model CHECKPOINT  the model passed to functions that take one: a checkpoint or run\n"
    "                    directory of this plugin (without it: a fresh model, below)\n"
    "  --set NAME=VALUE  a hyperparameter of the model passed to functions that take one\n"
    "                    (a fresh model, initialised from --seed, default 0)\n"
    "  --seed N          seed of that model's initialisation\n"};
