/* zoo info PLUGIN|MODEL [--json]: what a plugin is and which hyperparameters
 * it takes; for a model (a run, a checkpoint, a foreign directory), which
 * plugin it is, its size, its tokenizer and the values it was built with. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/stat.h>

#include "cli.h"
#include "config.h"
#include "model_card.h"
#include "quantize.h"
#include "saved_model.h"
#include "zoo/status.h"

static const char *objective_name(zoo_objective o) {
    switch (o) {
    case ZOO_OBJ_CAUSAL_LM:
        return "causal language model (next token)";
    case ZOO_OBJ_MASKED_LM:
        return "masked language model";
    case ZOO_OBJ_BIDIRECTIONAL_LM:
        return "bidirectional language model";
    case ZOO_OBJ_WORD_VECTORS:
        return "word vectors (skip-gram / CBOW)";
    }
    return "?";
}

/* The objective as a stable key, for programs that read zoo info --json
 * (zoo compare): the sentence above may be reworded, this may not. */
static const char *objective_key(zoo_objective o) {
    switch (o) {
    case ZOO_OBJ_CAUSAL_LM:
        return "causal_lm";
    case ZOO_OBJ_MASKED_LM:
        return "masked_lm";
    case ZOO_OBJ_BIDIRECTIONAL_LM:
        return "bidirectional_lm";
    case ZOO_OBJ_WORD_VECTORS:
        return "word_vectors";
    }
    return "?";
}

static const char *type_name(zoo_hparam_type t) {
    static const char *names[] = {"int", "float", "bool", "string", "enum"};
    return t <= ZOO_HP_ENUM ? names[t] : "?";
}

/* "[1, 64]", ">= 0", "gelu|relu", "" */
static void range_text(const zoo_hparam_spec *s, char *buf, size_t size) {
    buf[0] = '\0';
    if (s->type == ZOO_HP_ENUM) {
        size_t len = 0;
        for (int i = 0; s->choices && s->choices[i] && len < size; i++)
            len += (size_t)snprintf(buf + len, size - len, "%s%s", i ? "|" : "", s->choices[i]);
    } else if (s->has_min && s->has_max)
        snprintf(buf, size, "[%g, %g]", s->min, s->max);
    else if (s->has_min)
        snprintf(buf, size, ">= %g", s->min);
    else if (s->has_max)
        snprintf(buf, size, "<= %g", s->max);
}

static const char *capability_names[] = {"decode",      "fill-mask", "import",          "export",
                                         "self-update", "tokenizer", "import-tokenizer"};

static void signature(const zoo_extra_decl *x, char *buf, size_t size) {
    size_t len = (size_t)snprintf(buf, size, "%s %s(", zoo_extra_type_name(x->ret), x->name);
    for (int i = 0; i < x->n_args && len < size; i++)
        len += (size_t)snprintf(buf + len, size - len, "%s%s", i ? ", " : "",
                                zoo_extra_type_name(x->args[i]));
    if (len < size) snprintf(buf + len, size - len, ")");
}

/* A model's own part: its size and tokenizer (hp then holds its values). */
static void model_json(cJSON *o, const zoo_saved_model *m) {
    cJSON_AddNumberToObject(o, "parameters", (double)zoo_params_numel(m->model->params));
    cJSON_AddNumberToObject(o, "tensors", zoo_params_count(m->model->params));
    cJSON_AddNumberToObject(o, "int8_tensors", zoo_model_quantized_count(m->model));
    if (!m->tokenizer) {
        cJSON_AddNullToObject(o, "tokenizer");
        return;
    }
    cJSON *t = cJSON_AddObjectToObject(o, "tokenizer");
    cJSON_AddStringToObject(t, "type", zoo_tokenizer_type(m->tokenizer));
    cJSON_AddNumberToObject(t, "size", zoo_tokenizer_vocab_size(m->tokenizer));
}

/* The registry's card with its sizes for hp (a plugin's defaults, or a model's values). */
static void card_json(cJSON *o, const zoo_loaded *p, const zoo_hparams *hp) {
    const zoo_model_card *c = &p->entry->card;
    zoo_card_sizes sizes;
    if (zoo_card_sizes_of(p->entry, hp, &sizes) != ZOO_OK) sizes = (zoo_card_sizes){-1, -1, 0};
    cJSON *card = cJSON_AddObjectToObject(o, "card");
    const char *names[] = {"sees", "inputs", "pretraining"};
    const char *texts[] = {c->sees, c->inputs, c->pretraining};
    for (int i = 0; i < 3; i++)
        if (texts[i])
            cJSON_AddStringToObject(card, names[i], texts[i]);
        else
            cJSON_AddNullToObject(card, names[i]);
    int64_t values[] = {sizes.layers, sizes.width};
    const char *size_names[] = {"layers", "width"};
    for (int i = 0; i < 2; i++)
        if (values[i] >= 0)
            cJSON_AddNumberToObject(card, size_names[i], (double)values[i]);
        else
            cJSON_AddNullToObject(card, size_names[i]);
    cJSON_AddNumberToObject(card, "context", (double)sizes.context);
}

/* The card as a line or two of text, when the registry has one. */
static void card_text(const zoo_loaded *p, const zoo_hparams *hp) {
    const zoo_model_card *c = &p->entry->card;
    zoo_card_sizes sz;
    if (zoo_card_sizes_of(p->entry, hp, &sz) != ZOO_OK) sz = (zoo_card_sizes){-1, -1, 0};
    if (c->sees || c->inputs || c->pretraining)
        printf("each position sees: %s; inputs: %s; pretraining: %s\n", c->sees ? c->sees : "?",
               c->inputs ? c->inputs : "?", c->pretraining ? c->pretraining : "?");
    if (sz.layers >= 0 || sz.width >= 0 || sz.context > 0) {
        char layers[32] = "?", width[32] = "?", context[32] = "any length";
        if (sz.layers >= 0) snprintf(layers, sizeof layers, "%lld", (long long)sz.layers);
        if (sz.width >= 0) snprintf(width, sizeof width, "%lld", (long long)sz.width);
        if (sz.context > 0)
            snprintf(context, sizeof context, "%lld positions", (long long)sz.context);
        printf("layers: %s; hidden size: %s; context: %s\n", layers, width, context);
    }
}

static int print_json(const zoo_loaded *p, const zoo_hparams *hp, const zoo_saved_model *m) {
    const zoo_plugin *d = p->plugin;
    cJSON *o = cJSON_CreateObject();
    if (m) model_json(o, m);
    card_json(o, p, hp);
    cJSON_AddStringToObject(o, "name", d->name);
    cJSON_AddStringToObject(o, "version", d->version ? d->version : "");
    cJSON_AddStringToObject(o, "summary", d->summary ? d->summary : "");
    cJSON_AddStringToObject(o, "objective", objective_name(d->objective));
    cJSON_AddStringToObject(o, "objective_key", objective_key(d->objective));
    cJSON *caps = cJSON_AddArrayToObject(o, "capabilities");
    for (int i = 0; i < (int)(sizeof capability_names / sizeof *capability_names); i++)
        if (d->capabilities & (1u << i))
            cJSON_AddItemToArray(caps, cJSON_CreateString(capability_names[i]));
    cJSON *formats = cJSON_AddArrayToObject(o, "formats");
    for (int i = 0; d->formats && d->formats[i]; i++)
        cJSON_AddItemToArray(formats, cJSON_CreateString(d->formats[i]));
    cJSON *types = cJSON_AddArrayToObject(o, "tokenizers");
    for (int i = 0; p->tokenizers && p->tokenizers[i]; i++)
        cJSON_AddItemToArray(types, cJSON_CreateString(p->tokenizers[i]->name));
    cJSON *list = cJSON_AddArrayToObject(o, "hyperparameters");
    for (int i = 0; i < zoo_hparams_count(hp); i++) {
        const zoo_hparam_spec *s = zoo_hparams_spec(hp, i);
        cJSON *h = cJSON_CreateObject();
        char buf[256];
        cJSON_AddStringToObject(h, "name", s->name);
        cJSON_AddStringToObject(h, "type", type_name(s->type));
        cJSON_AddStringToObject(h, m ? "value" : "default",
                                zoo_hparams_text(hp, i, buf, sizeof buf));
        range_text(s, buf, sizeof buf);
        cJSON_AddStringToObject(h, "range", buf);
        cJSON_AddStringToObject(h, "help", s->help ? s->help : "");
        cJSON_AddItemToArray(list, h);
    }
    cJSON *extras = cJSON_AddArrayToObject(o, "extras");
    for (int i = 0; i < p->n_extras; i++) {
        char sig[512];
        signature(p->extras[i].decl, sig, sizeof sig);
        cJSON *x = cJSON_CreateObject();
        cJSON_AddStringToObject(x, "signature", sig);
        if (p->extras[i].error) cJSON_AddStringToObject(x, "error", p->extras[i].error);
        cJSON_AddItemToArray(extras, x);
    }
    char *text = cJSON_Print(o);
    puts(text);
    free(text);
    cJSON_Delete(o);
    return 0;
}

static void print_text(const zoo_loaded *p, const zoo_hparams *hp, const zoo_saved_model *m) {
    const zoo_plugin *d = p->plugin;
    if (m) {
        printf("%s model: %lld parameters in %d tensors", d->name,
               (long long)zoo_params_numel(m->model->params), zoo_params_count(m->model->params));
        if (zoo_model_quantized_count(m->model))
            printf(" (%d of them int8)", zoo_model_quantized_count(m->model));
        printf("; tokenizer: ");
        if (m->tokenizer)
            printf("%s, %d tokens\n\n", zoo_tokenizer_type(m->tokenizer),
                   zoo_tokenizer_vocab_size(m->tokenizer));
        else
            printf("none\n\n");
    }
    printf("%s %s — %s\n", d->name, d->version ? d->version : "", d->summary ? d->summary : "");
    printf("objective: %s\n", objective_name(d->objective));
    card_text(p, hp);
    printf("library: %s (ABI %u.%u)\n", p->entry->library, d->abi_major, d->abi_minor);
    printf("capabilities:");
    bool any = false;
    for (int i = 0; i < (int)(sizeof capability_names / sizeof *capability_names); i++)
        if (d->capabilities & (1u << i)) printf(" %s", capability_names[i]), any = true;
    printf("%s\n", any ? "" : " none");
    if (d->formats && d->formats[0]) { /* what import and export read and write */
        printf("formats:");
        for (int i = 0; d->formats[i]; i++) printf(" %s", d->formats[i]);
        printf("\n");
    }
    if (p->tokenizers) { /* the tokenizer types it provides (data.tokenizer.type) */
        printf("tokenizers:");
        for (int i = 0; p->tokenizers[i]; i++) printf(" %s", p->tokenizers[i]->name);
        printf("\n");
    }
    printf("\nhyperparameters:\n  %-20s %-7s %-12s %-16s %s\n", "NAME", "TYPE",
           m ? "VALUE" : "DEFAULT", "RANGE", "HELP");
    for (int i = 0; i < zoo_hparams_count(hp); i++) {
        const zoo_hparam_spec *s = zoo_hparams_spec(hp, i);
        char value[128], range[256];
        range_text(s, range, sizeof range);
        printf("  %-20s %-7s %-12s %-16s %s\n", s->name, type_name(s->type),
               zoo_hparams_text(hp, i, value, sizeof value), range, s->help ? s->help : "");
    }
    if (p->n_extras) printf("\nextra functions (zoo call %s.NAME ARG...):\n", d->name);
    for (int i = 0; i < p->n_extras; i++) {
        char sig[512];
        signature(p->extras[i].decl, sig, sizeof sig);
        printf("  %s\n", sig);
        if (p->extras[i].error)
            printf("      disabled: %s\n", p->extras[i].error);
        else if (p->extras[i].decl->help)
            printf("      %s\n", p->extras[i].decl->help);
    }
}

/* docs/config-reference.md: the host's keys, then each plugin's hyperparameters. */
static int config_reference(zoo_cli *cli) {
    puts("# Config reference\n\n"
         "Generated by `zoo info --config-reference` from the schemas themselves (the host's table "
         "in\n"
         "`host/runs/config.c` and each plugin's hyperparameters); regenerate it rather than "
         "editing "
         "it.\n\n"
         "A run config is a JSON object with the sections below. `\"extends\": \"base.json\"` "
         "merges a\n"
         "base under it; paths resolve relative to the file that names them; `--set a.b.c=VALUE` "
         "overrides\n"
         "any key from the command line. An unknown key, a key given twice in one object, text\n"
         "that is not UTF-8 or a NUL byte is an error.\n\n## Keys every config "
         "understands\n");
    fflush(stdout);
    zoo_config_reference(stdout);
    zoo_registry *r = zoo_cli_registry(cli);
    if (!r) return ZOO_EXIT_FAILURE;
    puts("\n## model: each plugin's hyperparameters\n\n"
         "`model.plugin` names the plugin; its other keys are the plugin's hyperparameters. "
         "`vocab_size` is\n"
         "set from the tokenizer and `block_size` defaults to `data.seq_len` when a plugin has "
         "them.");
    for (int i = 0; i < r->count; i++) {
        const zoo_reg_entry *e = &r->entries[i];
        zoo_loaded *p = NULL;
        if (e->shadowed || e->error || zoo_plugin_load(e, &p) != ZOO_OK) continue;
        zoo_hparams *hp = zoo_hparams_new(p->plugin->hparams, p->plugin->n_hparams);
        printf(
            "\n### %s\n\n%s\n\n| key | type | default | range | meaning |\n|---|---|---|---|---|\n",
            e->name, p->plugin->summary);
        for (int k = 0; hp && k < zoo_hparams_count(hp); k++) {
            const zoo_hparam_spec *spec = zoo_hparams_spec(hp, k);
            char value[128], range[256];
            range_text(spec, range, sizeof range);
            printf("| `model.%s` | %s | `%s` | %s | %s |\n", spec->name, type_name(spec->type),
                   zoo_hparams_text(hp, k, value, sizeof value), range,
                   spec->help ? spec->help : "");
        }
        zoo_hparams_free(hp);
        zoo_plugin_unload(p);
    }
    zoo_registry_free(r);
    return 0;
}

typedef struct info_args {
    const char *plugin;
    bool config_reference;
} info_args;

static const zoo_option OPTIONS[] = {
    {"PLUGIN", ZOO_OPT_STRING, offsetof(info_args, plugin),
     .help = "the plugin's name (zoo list shows them), or a model: a run directory,\n"
             "a checkpoint or a foreign directory (HuggingFace, AllenNLP ...), shown\n"
             "with its size, its tokenizer and its hyperparameters' values"},
    {"--config-reference", ZOO_OPT_FLAG, offsetof(info_args, config_reference),
     .help = "print every config key and every plugin's hyperparameters as\n"
             "Markdown (docs/config-reference.md is this output)"},
    {0}};

static int cmd_info(zoo_cli *cli, void *opts) {
    const info_args *a = opts;
    if (a->config_reference && a->plugin)
        return zoo_cli_usage(cli, "--config-reference takes no PLUGIN (see zoo info --help)");
    if (a->config_reference) return config_reference(cli);
    if (!a->plugin) return zoo_cli_usage(cli, "PLUGIN is required (see zoo info --help)");
    struct stat st;
    if (stat(a->plugin, &st) == 0) { /* a model: a path, where a plugin's name never is */
        zoo_saved_model m;
        int status = zoo_cli_open_model(cli, a->plugin, 0, &m);
        if (status) return status;
        if (cli->json)
            print_json(m.plugin, m.model->hp, &m);
        else
            print_text(m.plugin, m.model->hp, &m);
        zoo_cli_close_model(&m);
        return 0;
    }
    zoo_registry *r = zoo_cli_registry(cli);
    if (!r) return ZOO_EXIT_FAILURE;
    zoo_loaded *p = zoo_cli_load_plugin(cli, r, a->plugin);
    zoo_hparams *hp = p ? zoo_hparams_new(p->plugin->hparams, p->plugin->n_hparams) : NULL;
    if (hp) {
        if (cli->json)
            print_json(p, hp, NULL);
        else
            print_text(p, hp, NULL);
    }
    zoo_hparams_free(hp);
    zoo_plugin_unload(p);
    zoo_registry_free(r);
    return hp ? 0 : ZOO_EXIT_FAILURE;
}

const zoo_command zoo_cmd_info = {
    .name = "info",
    .run = cmd_info,
    .options = OPTIONS,
    .opts_size = sizeof(info_args),
    .usage = "zoo info PLUGIN|MODEL [--json]\n       zoo info --config-reference",
    .summary = "a plugin's objective, capabilities, hyperparameters (defaults, ranges, help) and "
               "extras; a model's plugin, size, tokenizer and hyperparameter values",
    .json_help = "print the same as a JSON object",
};
