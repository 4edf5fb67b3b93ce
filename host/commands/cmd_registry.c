/* zoo registry pin [FILE]: writes each plugin library's sha256 into a registry. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "files.h"
#include "zoo/io.h"
#include "zoo/status.h"

/* Pins every entry of `path`; writes the file only if all of them could be
 * hashed, so a failure leaves the registry as it was. */
static int pin(zoo_cli *cli, const char *path) {
    char *text = zoo_read_file_max(path, NULL, ZOO_READ_MAX_JSON);
    if (!text) return zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "%s", zoo_error_message());
    cJSON *doc = cJSON_Parse(text);
    free(text);
    cJSON *plugins = doc ? cJSON_GetObjectItemCaseSensitive(doc, "plugins") : NULL;
    if (!cJSON_IsArray(plugins)) {
        cJSON_Delete(doc);
        return zoo_cli_fail(cli, ZOO_EXIT_FAILURE,
                            "%s: not a registry (zoo list shows what is wrong with it)", path);
    }
    int i = 0, status = 0;
    for (cJSON *p = plugins->child; p; p = p->next, i++) {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(p, "name");
        const cJSON *lib = cJSON_GetObjectItemCaseSensitive(p, "library");
        if (!cJSON_IsString(lib)) {
            status =
                zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "%s: plugins[%d].library: missing", path, i);
            continue;
        }
        char *library = zoo_path_relative_to(path, lib->valuestring);
        char hex[65];
        if (zoo_sha256_file(library, hex) != ZOO_OK) {
            status = zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "%s: plugins[%d].library: %s", path, i,
                                  zoo_error_message());
        } else {
            if (cJSON_GetObjectItemCaseSensitive(p, "sha256"))
                cJSON_ReplaceItemInObjectCaseSensitive(p, "sha256", cJSON_CreateString(hex));
            else
                cJSON_AddStringToObject(p, "sha256", hex);
            if (!cli->json)
                printf("%-14s %s  %s\n", cJSON_IsString(name) ? name->valuestring : "?", hex,
                       library);
        }
        free(library);
    }
    if (status == 0) {
        char *out = cJSON_Print(doc);
        size_t len = strlen(out);
        out[len] = '\n'; /* cJSON_Print's terminator becomes the final newline */
        if (zoo_write_file_atomic(path, out, len + 1) != ZOO_OK)
            status = zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "%s", zoo_error_message());
        free(out);
    } else {
        fprintf(stderr, "zoo registry: %s left unchanged\n", path);
    }
    if (status == 0 && cli->json) { /* the names, digests and libraries, as the table has them */
        cJSON *list = cJSON_CreateObject();
        cJSON_AddStringToObject(list, "file", path);
        cJSON *pinned = cJSON_AddArrayToObject(list, "plugins");
        for (cJSON *p = plugins->child; p; p = p->next) {
            const cJSON *name = cJSON_GetObjectItemCaseSensitive(p, "name");
            const cJSON *lib = cJSON_GetObjectItemCaseSensitive(p, "library");
            const cJSON *sha = cJSON_GetObjectItemCaseSensitive(p, "sha256");
            char *library = zoo_path_relative_to(path, lib->valuestring);
            cJSON *e = cJSON_CreateObject();
            cJSON_AddStringToObject(e, "name", cJSON_IsString(name) ? name->valuestring : "?");
            cJSON_AddStringToObject(e, "sha256", sha->valuestring);
            cJSON_AddStringToObject(e, "library", library ? library : lib->valuestring);
            cJSON_AddItemToArray(pinned, e);
            free(library);
        }
        char *text = cJSON_PrintUnformatted(list);
        if (text) puts(text);
        free(text);
        cJSON_Delete(list);
    }
    cJSON_Delete(doc);
    return status;
}

typedef struct registry_args {
    const char *action, *file;
} registry_args;

/* the notes describe them: there is one action */
static const zoo_option OPTIONS[] = {
    {"ACTION", ZOO_OPT_STRING, offsetof(registry_args, action), .help = NULL},
    {"FILE", ZOO_OPT_PATH, offsetof(registry_args, file), .help = NULL},
    {0}};

static int cmd_registry(zoo_cli *cli, void *opts) {
    const registry_args *a = opts;
    if (!a->action || strcmp(a->action, "pin") != 0)
        return zoo_cli_usage(cli, "expected 'pin' (see zoo registry --help)");
    if (a->file) return pin(cli, a->file);
    char *def = zoo_cli_default_registry();
    if (!def)
        return zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "no default registry beside zoo; name the file");
    int status = pin(cli, def);
    free(def);
    return status;
}

const zoo_command zoo_cmd_registry = {
    .name = "registry",
    .run = cmd_registry,
    .options = OPTIONS,
    .opts_size = sizeof(registry_args),
    .usage = "zoo registry pin [FILE]",
    .summary = "write each plugin library's sha256 into a registry file",
    .json_help = "{\"file\", \"plugins\": [{\"name\", \"sha256\", \"library\"}...]} once written",
    .notes = "  pin [FILE]   hash every library FILE lists (default: the registry beside zoo)\n"
             "               and write the sums into it; a library whose sum no longer\n"
             "               matches is then refused at load\n"};
