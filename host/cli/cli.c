#include "cli.h"

#include <cjson/cJSON.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zoo/status.h"

static int vfail(const zoo_cli *cli, int code, const char *fmt, va_list ap) {
    fprintf(stderr, "zoo%s%s: ", cli && cli->command ? " " : "",
            cli && cli->command ? cli->command : "");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    return code;
}

int zoo_cli_fail(const zoo_cli *cli, int code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vfail(cli, code, fmt, ap);
    va_end(ap);
    return code;
}

int zoo_cli_usage(const zoo_cli *cli, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vfail(cli, ZOO_EXIT_USAGE, fmt, ap);
    va_end(ap);
    return ZOO_EXIT_USAGE;
}

static char *exe_dir(void) {
    char buf[4096];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0) return NULL;
    buf[n] = '\0';
    char *slash = strrchr(buf, '/');
    if (slash) *slash = '\0';
    return strdup(buf);
}

char *zoo_cli_default_registry(void) {
    char *dir = exe_dir();
    if (!dir) return NULL;
    /* the build tree keeps it beside the executable, the install tree in share/zoo */
    const char *candidates[] = {"%s/registry/registry.json", "%s/../share/zoo/registry.json"};
    char *found = NULL;
    for (int i = 0; i < 2 && !found; i++) {
        char path[4200];
        snprintf(path, sizeof path, candidates[i], dir);
        struct stat st;
        if (stat(path, &st) == 0) found = strdup(path);
    }
    free(dir);
    return found;
}

zoo_registry *zoo_cli_registry(const zoo_cli *cli) {
    char *def = zoo_cli_default_registry();
    zoo_registry_sources src = {
        .registry_files = cli->registry_files,
        .n_registry_files = cli->n_registry_files,
        .env_registry = getenv("ZOO_REGISTRY"),
        .env_plugin_path = getenv("ZOO_PLUGIN_PATH"),
        .default_registry = def,
    };
    zoo_registry *r = zoo_registry_load(&src);
    free(def);
    if (!r) zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "out of memory");
    return r;
}

const char *zoo_cli_plugin_not_found(const zoo_registry *r, const char *name) {
    static char msg[4096];
    const char *names[256];
    int n = 0;
    for (int i = 0; i < r->count && n < 256; i++)
        if (!r->entries[i].shadowed) names[n++] = r->entries[i].name;
    const char *near = zoo_suggest(name, names, n);
    int at = snprintf(msg, sizeof msg, "no plugin named '%s'", name);
    if (near) at += snprintf(msg + at, sizeof msg - (size_t)at, " (did you mean '%s'?)", near);
    at += snprintf(msg + at, sizeof msg - (size_t)at, "; looked in ");
    for (int i = 0; i < r->n_files && at < (int)sizeof msg; i++)
        at += snprintf(msg + at, sizeof msg - (size_t)at, "%s%s", i ? ", " : "", r->files[i]);
    const char *path = getenv("ZOO_PLUGIN_PATH");
    if (at < (int)sizeof msg)
        at += snprintf(msg + at, sizeof msg - (size_t)at, "%sZOO_PLUGIN_PATH (%s)",
                       r->n_files ? " and " : "", path && *path ? path : "unset");
    if (at < (int)sizeof msg)
        snprintf(msg + at, sizeof msg - (size_t)at,
                 ". Add a plugin with --registry FILE (or ZOO_REGISTRY) holding its entry, or put "
                 "NAME.so and its manifest NAME.json in a directory on ZOO_PLUGIN_PATH; zoo list "
                 "shows what was found");
    return msg;
}

zoo_loaded *zoo_cli_load_plugin(const zoo_cli *cli, const zoo_registry *r, const char *name) {
    const zoo_reg_entry *e = zoo_registry_find(r, name);
    if (!e) {
        zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "%s", zoo_cli_plugin_not_found(r, name));
        return NULL;
    }
    zoo_loaded *p = NULL;
    if (zoo_plugin_load(e, &p) != ZOO_OK)
        zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "%s", zoo_error_message());
    return p;
}

bool zoo_cli_value(const zoo_cli *cli, int argc, char **argv, int i, const char *flag,
                   int *status) {
    if (strcmp(argv[i], flag) != 0) return false;
    if (i + 1 >= argc) {
        *status = zoo_cli_usage(cli, "%s needs a value", flag);
        return false;
    }
    return true;
}

int zoo_cli_model_option(const zoo_cli *cli, zoo_model_opts *o, int argc, char **argv, int *i) {
    const char *a = argv[*i];
    if (strcmp(a, "--set") != 0 && strcmp(a, "--seed") != 0) return 0;
    if (*i + 1 >= argc) return zoo_cli_usage(cli, "%s needs a value", a), -1;
    const char *v = argv[++*i];
    if (strcmp(a, "--seed") == 0) {
        char *end;
        errno = 0;
        unsigned long long seed = strtoull(v, &end, 10);
        if (end == v || *end || errno || v[0] == '-')
            return zoo_cli_usage(cli, "--seed: expected a non-negative integer, got \"%s\"", v), -1;
        o->seed = seed;
        return 1;
    }
    if (!strchr(v, '=')) return zoo_cli_usage(cli, "--set: expected NAME=VALUE, got \"%s\"", v), -1;
    if (o->n_sets == (int)(sizeof o->sets / sizeof o->sets[0]))
        return zoo_cli_usage(cli, "--set: too many"), -1;
    o->sets[o->n_sets++] = v;
    return 1;
}

zoo_host_model *zoo_cli_fresh_model(const zoo_cli *cli, zoo_loaded *p, const zoo_model_opts *o) {
    zoo_hparams *hp = zoo_hparams_new(p->plugin->hparams, p->plugin->n_hparams);
    if (!hp) {
        zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "%s", zoo_error_message());
        return NULL;
    }
    for (int i = 0; i < o->n_sets; i++) {
        const char *eq = strchr(o->sets[i], '=');
        char name[128];
        snprintf(name, sizeof name, "%.*s", (int)(eq - o->sets[i]), o->sets[i]);
        if (zoo_hparams_set_text(hp, name, eq + 1) != ZOO_OK) {
            zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "--set %s: %s", o->sets[i], zoo_error_message());
            zoo_hparams_free(hp);
            return NULL;
        }
    }
    zoo_host_model *m = NULL;
    if (zoo_host_model_create(p, hp, o->seed, NULL, &m) != ZOO_OK)
        zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "%s", zoo_error_message());
    return m;
}

void zoo_print_json_string(FILE *f, const char *s) {
    cJSON *str = cJSON_CreateString(s);
    char *text = str ? cJSON_PrintUnformatted(str) : NULL;
    fputs(text ? text : "\"\"", f);
    free(text);
    cJSON_Delete(str);
}
