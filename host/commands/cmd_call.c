/* zoo call PLUGIN.FUNCTION [--set model.KEY=VALUE]... [--seed N] [--] ARG...:
 * calls an extra function the plugin declares, through libffi. */
#include <cjson/cJSON.h>

#include <math.h>
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

/* The --json document of a call: {"plugin", "function", "returns", "result"}
 * with the result as its declared type (a double that JSON cannot hold, inf
 * or nan, as its text; void as null), and "buffer" the text an extra wrote
 * into its buffer argument, when it takes one. `text` is zoo_extra_call's. */
static void print_call_json(const char *plugin, const zoo_extra *x, const char *text) {
    bool buffer = false;
    for (int i = 0; i < x->decl->n_args; i++) buffer = buffer || x->decl->args[i] == ZOO_X_BUFFER;
    const char *nl = strchr(text, '\n');
    char *value = strdup(text); /* the return value's text alone */
    if (!value) return;
    const char *buffer_text = "";
    if (buffer && x->decl->ret == ZOO_X_VOID)
        buffer_text = text, value[0] = '\0';
    else if (buffer && nl)
        buffer_text = nl + 1, value[nl - text] = '\0';
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "plugin", plugin);
    cJSON_AddStringToObject(doc, "function", x->decl->name);
    cJSON_AddStringToObject(doc, "returns", zoo_extra_type_name(x->decl->ret));
    char *end = NULL;
    double d = strtod(value, &end);
    if (x->decl->ret == ZOO_X_VOID)
        cJSON_AddNullToObject(doc, "result");
    else if (x->decl->ret == ZOO_X_BOOL)
        cJSON_AddBoolToObject(doc, "result", strcmp(value, "true") == 0);
    else if (x->decl->ret == ZOO_X_INT64 || (x->decl->ret == ZOO_X_DOUBLE && isfinite(d) && !*end))
        cJSON_AddRawToObject(doc, "result", value); /* the digits as the plugin's value has them */
    else
        cJSON_AddStringToObject(doc, "result", value);
    if (buffer) cJSON_AddStringToObject(doc, "buffer", buffer_text);
    char *out = cJSON_PrintUnformatted(doc);
    if (out) puts(out);
    free(out);
    cJSON_Delete(doc);
    free(value);
}

typedef struct call_args {
    const char *target, *checkpoint;
    const char *args[64];
    int n_args;
    zoo_model_opts model;
} call_args;

static const zoo_option OPTIONS[] = {
    {"PLUGIN.FUNCTION", ZOO_OPT_STRING, offsetof(call_args, target), ZOO_OPT_REQUIRED,
     .help = "an extra function the plugin declares (zoo info PLUGIN lists them)"},
    {"ARG", ZOO_OPT_STRING, offsetof(call_args, args), ZOO_OPT_REPEAT,
     ZOO_OPT_ARRAY(call_args, args, n_args),
     .help = "the function's arguments, converted to its declared types\n"
             "(int64, double, bool: true/false, string); `--` ends the options"},
    {"--model", ZOO_OPT_PATH, offsetof(call_args, checkpoint), .value = "CHECKPOINT",
     .help = "the model passed to functions that take one: a checkpoint or run\n"
             "directory of this plugin (without it: a fresh model, below)"},
    ZOO_MODEL_OPTIONS(call_args, model,
                      "a hyperparameter of the model passed to functions that take one\n"
                      "(a fresh model, initialised from --seed, default 0); KEY=VALUE\n"
                      "alone is the same",
                      "seed of that model's initialisation"),
    {0}};

static int cmd_call(zoo_cli *cli, void *opts_) {
    const call_args *a = opts_;
    const zoo_model_opts *opts = &a->model;
    const char *const *args = a->args, *checkpoint = a->checkpoint;
    int n_args = a->n_args;
    const char *dot = strchr(a->target, '.');
    if (!dot) return zoo_cli_usage(cli, "expected PLUGIN.FUNCTION (see zoo call --help)");
    char plugin_name[128];
    snprintf(plugin_name, sizeof plugin_name, "%.*s", (int)(dot - a->target), a->target);
    const char *function = dot + 1;

    int status = ZOO_EXIT_FAILURE;
    zoo_registry *r = NULL; /* a fresh model's */
    zoo_saved_model saved = {0};
    zoo_loaded *p = NULL;
    if (checkpoint) {
        if (zoo_cli_open_model(cli, checkpoint, 0, &saved) == 0) p = saved.plugin;
        if (p && strcmp(p->plugin->name, plugin_name) != 0) {
            zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "--model %s is a '%s' model, not '%s'", checkpoint,
                         p->plugin->name, plugin_name);
            p = NULL;
        }
    } else if ((r = zoo_cli_registry(cli))) {
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
                     (m = saved.model ? saved.model : zoo_cli_fresh_model(cli, p, opts)))) {
        char *result = NULL;
        if (zoo_extra_call(x, plugin_name, m ? m->model : NULL, args, n_args, &result) == ZOO_OK) {
            if (cli->json)
                print_call_json(plugin_name, x, result);
            else if (*result)
                puts(result);
            status = 0;
        } else {
            status = zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "%s", zoo_error_message());
        }
        free(result);
    }
    if (checkpoint)
        zoo_cli_close_model(&saved);
    else
        zoo_host_model_destroy(m), zoo_plugin_unload(p);
    zoo_registry_free(r);
    return status;
}

const zoo_command zoo_cmd_call = {
    .name = "call",
    .run = cmd_call,
    .options = OPTIONS,
    .opts_size = sizeof(call_args),
    .usage =
        "zoo call PLUGIN.FUNCTION [--model CHECKPOINT | --set model.KEY=VALUE... --seed N] [--] "
        "ARG...",
    .summary = "call an extra function a plugin declares (through libffi) and print its result",
    .json_help = "{\"plugin\", \"function\", \"returns\", \"result\"} with the result as its\n"
                 "declared type (null for void), and \"buffer\" when it takes one",
};
