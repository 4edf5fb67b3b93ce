/* zoo list [--check] [--json]: the plugins found, from the registry alone;
 * with --check every library is opened and checked against its entry. */
#include <cjson/cJSON.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "zoo/status.h"

/* The library-level error of an entry, or its mismatches, from malloc; NULL when fine. */
static char *check_library(const zoo_reg_entry *e) {
    zoo_loaded *p = NULL;
    if (zoo_plugin_load(e, &p) != ZOO_OK) return strdup(zoo_error_message());
    char *problems = zoo_plugin_mismatches(p);
    for (int i = 0; i < p->n_extras; i++) /* a disabled extra is reported, not fatal */
        if (p->extras[i].error) {
            char *more = NULL;
            if (asprintf(&more, "%s%s\n", problems ? problems : "", p->extras[i].error) >= 0) {
                free(problems);
                problems = more;
            }
        }
    zoo_plugin_unload(p);
    if (problems && problems[strlen(problems) - 1] == '\n') problems[strlen(problems) - 1] = '\0';
    return problems;
}

/* A path as shown: resolved (no "dir/../", no links) where the file exists,
 * else as the registry gives it. From malloc. */
static char *shown_path(const char *path) {
    if (!path) return NULL;
    char *real = realpath(path, NULL);
    return real ? real : strdup(path);
}

/* The source of the entry that shadows entry i: the winner of its name. */
static const char *shadowing_source(const zoo_registry *r, int i) {
    const zoo_reg_entry *w = r->entries[i].name ? zoo_registry_find(r, r->entries[i].name) : NULL;
    return w && w != &r->entries[i] && w->source ? w->source : "?";
}

/* The source of the first entry that entry i shadows (same name, later). */
static const char *shadowed_source(const zoo_registry *r, int i) {
    for (int j = i + 1; r->entries[i].name && j < r->count; j++)
        if (r->entries[j].shadowed && r->entries[j].name &&
            strcmp(r->entries[j].name, r->entries[i].name) == 0)
            return r->entries[j].source ? r->entries[j].source : "?";
    return "?";
}

static int print_json(const zoo_registry *r, char **checked) {
    cJSON *root = cJSON_CreateObject(), *list = cJSON_AddArrayToObject(root, "plugins");
    for (int i = 0; i < r->count; i++) {
        const zoo_reg_entry *e = &r->entries[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", e->name ? e->name : "");
        if (e->version) cJSON_AddStringToObject(o, "version", e->version);
        char abi[32];
        snprintf(abi, sizeof abi, "%d.%d", e->abi_major, e->abi_minor);
        cJSON_AddStringToObject(o, "abi", abi);
        char *library = shown_path(e->library), *source = shown_path(e->source);
        if (library) cJSON_AddStringToObject(o, "library", library);
        if (e->summary) cJSON_AddStringToObject(o, "summary", e->summary);
        if (e->n_tokenizers) {
            cJSON *types = cJSON_AddArrayToObject(o, "tokenizers");
            for (int k = 0; k < e->n_tokenizers; k++)
                cJSON_AddItemToArray(types, cJSON_CreateString(e->tokenizers[k]));
        }
        cJSON_AddStringToObject(o, "source", source ? source : "");
        cJSON_AddBoolToObject(o, "dropin", e->dropin);
        cJSON_AddBoolToObject(o, "pinned", e->pin != NULL);
        if (e->pin_source) {
            char *pin = shown_path(e->pin_source);
            cJSON_AddStringToObject(o, "pinned_by", pin ? pin : e->pin_source);
            free(pin);
        }
        cJSON_AddBoolToObject(o, "shadowed", e->shadowed);
        if (e->shadows) {
            char *over = shown_path(shadowed_source(r, i));
            cJSON_AddStringToObject(o, "shadows", over ? over : "?");
            free(over);
        }
        if (e->shadowed) {
            char *by = shown_path(shadowing_source(r, i));
            cJSON_AddStringToObject(o, "shadowed_by", by ? by : "?");
            free(by);
        }
        free(library), free(source);
        const char *error = e->error ? e->error : checked ? checked[i] : NULL;
        if (error)
            cJSON_AddStringToObject(o, "error", error);
        else
            cJSON_AddNullToObject(o, "error");
        cJSON_AddItemToArray(list, o);
    }
    cJSON *errors = cJSON_AddArrayToObject(root, "errors");
    for (int i = 0; i < r->n_file_errors; i++)
        cJSON_AddItemToArray(errors, cJSON_CreateString(r->file_errors[i]));
    char *text = cJSON_Print(root);
    puts(text);
    free(text);
    cJSON_Delete(root);
    return 0;
}

static void print_table(const zoo_registry *r, char **checked) {
    if (r->count == 0 && r->n_file_errors == 0) {
        puts("no plugins found (see zoo list --help for where zoo looks)");
        return;
    }
    /* every column as wide as its widest cell, however long a path is */
    char **libs = calloc((size_t)r->count + 1, sizeof *libs);
    if (!libs) return;
    int w_name = 4, w_version = 7, w_lib = 7;
    for (int i = 0; i < r->count; i++) {
        const zoo_reg_entry *e = &r->entries[i];
        libs[i] = shown_path(e->library);
        int n = e->name ? (int)strlen(e->name) : 1, v = e->version ? (int)strlen(e->version) : 1,
            l = libs[i] ? (int)strlen(libs[i]) : 1;
        w_name = n > w_name ? n : w_name;
        w_version = v > w_version ? v : w_version;
        w_lib = l > w_lib ? l : w_lib;
    }
    printf("%-*s  %-*s  %-5s  %-*s  %s\n", w_name, "NAME", w_version, "VERSION", "ABI", w_lib,
           "LIBRARY", "SUMMARY");
    for (int i = 0; i < r->count; i++) {
        const zoo_reg_entry *e = &r->entries[i];
        char abi[32];
        snprintf(abi, sizeof abi, "%d.%d", e->abi_major, e->abi_minor);
        printf("%-*s  %-*s  %-5s  %-*s  %s\n", w_name, e->name ? e->name : "?", w_version,
               e->version ? e->version : "-", e->error ? "-" : abi, w_lib, libs[i] ? libs[i] : "-",
               e->summary ? e->summary : "");
        if (e->shadows) {
            char *over = shown_path(shadowed_source(r, i));
            printf("  shadows: the plugin named '%s' in %s%s\n", e->name, over ? over : "?",
                   !e->dropin ? ""
                   : e->pin   ? " (a drop-in, pinned)"
                              : " (a drop-in no registry pins: --require-pinned refuses it)");
            free(over);
        }
        if (e->shadowed) {
            char *by = shown_path(shadowing_source(r, i)), *mine = shown_path(e->source);
            printf("  shadowed: by the plugin named '%s' in %s (this one is from %s)\n", e->name,
                   by ? by : "?", mine ? mine : "?");
            free(by), free(mine);
        }
        const char *error = e->error ? e->error : checked ? checked[i] : NULL;
        if (error)
            printf("  error: %s\n", error);
        else if (checked)
            printf("  ok: library loads and matches its entry\n");
    }
    for (int i = 0; i < r->n_file_errors; i++) printf("error: %s\n", r->file_errors[i]);
    for (int i = 0; i < r->count; i++) free(libs[i]);
    free(libs);
}

typedef struct list_args {
    bool check;
} list_args;

static const zoo_option OPTIONS[] = {
    {"--check", ZOO_OPT_FLAG, offsetof(list_args, check),
     .help = "open every library and report library-level errors and any mismatch\n"
             "with its registry entry; exits 1 if any entry has a problem"},
    {0}};

static int cmd_list(zoo_cli *cli, void *opts) {
    bool check = ((const list_args *)opts)->check;
    zoo_registry *r = zoo_cli_registry(cli);
    if (!r) return ZOO_EXIT_FAILURE;
    char **checked = check ? calloc((size_t)(r->count ? r->count : 1), sizeof *checked) : NULL;
    bool problems = r->n_file_errors > 0;
    for (int i = 0; i < r->count; i++) {
        if (checked && !r->entries[i].error) checked[i] = check_library(&r->entries[i]);
        problems = problems || r->entries[i].error || (checked && checked[i]);
    }
    if (cli->json)
        print_json(r, checked);
    else
        print_table(r, checked);
    for (int i = 0; checked && i < r->count; i++) free(checked[i]);
    free(checked);
    zoo_registry_free(r);
    /* listing broken entries is what plain list is for; --check is a verdict */
    return check && problems ? ZOO_EXIT_FAILURE : 0;
}

const zoo_command zoo_cmd_list = {
    .name = "list",
    .run = cmd_list,
    .options = OPTIONS,
    .opts_size = sizeof(list_args),
    .summary = "list the plugins found, with version, ABI, library and summary",
    .json_help = "print a JSON object {\"plugins\": [...], \"errors\": [...]}; a shadowed\n"
                 "entry's \"shadowed_by\" is the source of the one that wins, the winner's\n"
                 "\"shadows\" the source it wins over; \"dropin\": from ZOO_PLUGIN_PATH;\n"
                 "\"pinned\": a registry file (\"pinned_by\") gives the library's sha256",
    .notes = "\n"
             "Plugins come from, in order (the first of a name wins, later ones are shown as "
             "shadowed):\n"
             "  --registry FILE (repeatable), ZOO_REGISTRY (colon-separated files),\n"
             "  ZOO_PLUGIN_PATH (colon-separated directories of NAME.so + NAME.json),\n"
             "  and the registry installed beside zoo.\n"
             "Paths are shown resolved (realpath) where the file exists. A drop-in that shadows a\n"
             "shipped plugin is marked \"shadows:\"; with --require-pinned, --check reports every\n"
             "library no registry pins as an error (docs/security.md).\n"};
