#include "cli.h"

#include <cjson/cJSON.h>

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dist.h"
#include "zoo/status.h"
#include "zoo/threads.h"

/* --require-pinned or ZOO_REQUIRE_PINNED: the loader's policy for this
 * process, passed on to the processes it starts (zoo compare's trials)
 * through the environment. ZOO_EXIT_USAGE for a value that is neither 0 nor 1. */
static int set_trust_policy(const zoo_cli *cli, bool flag) {
    const char *env = getenv("ZOO_REQUIRE_PINNED");
    bool on = flag;
    if (env && *env && strcmp(env, "0") != 0 && strcmp(env, "1") != 0)
        return zoo_cli_usage(cli, "ZOO_REQUIRE_PINNED: expected 1 or 0, got '%s'", env);
    if (env && strcmp(env, "1") == 0) on = true;
    if (on) setenv("ZOO_REQUIRE_PINNED", "1", 1);
    zoo_plugin_set_policy(on, stderr);
    return 0;
}

static char last_failure[2048]; /* zoo_cli_last_failure */

static int vfail(const zoo_cli *cli, int code, const char *fmt, va_list ap) {
    vsnprintf(last_failure, sizeof last_failure, fmt, ap);
    fprintf(stderr, "zoo%s%s: ", cli && cli->command ? " " : "",
            cli && cli->command ? cli->command : "");
    if (zoo_dist_world_size() > 1) /* which process of an MPI job says it */
        fprintf(stderr, "rank %d of %d: ", zoo_dist_world_rank(), zoo_dist_world_size());
    fprintf(stderr, "%s\n", last_failure);
    return code;
}

const char *zoo_cli_last_failure(void) {
    return last_failure;
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

/* The options every command takes; zoo_command_invoke moves them into the zoo_cli. */
typedef struct common_opts {
    const char *registry_files[32];
    int n_registry_files;
    int64_t threads; /* -1: not given */
    bool json, help, require_pinned;
} common_opts;

static const zoo_option COMMON[] = {
    {"--registry", ZOO_OPT_PATH, offsetof(common_opts, registry_files), ZOO_OPT_REPEAT,
     .value = "FILE", ZOO_OPT_ARRAY(common_opts, registry_files, n_registry_files),
     .help = "read plugins from this registry first (repeatable)"},
    {"--threads", ZOO_OPT_INT, offsetof(common_opts, threads), .value = "N", .def = "-1",
     ZOO_OPT_RANGE(0, 1024), .help = "threads for zoo and OpenBLAS (default: all CPUs)"},
    {"--json", ZOO_OPT_FLAG, offsetof(common_opts, json),
     .help = "print results as JSON (commands that print results)"},
    {"--require-pinned", ZOO_OPT_FLAG, offsetof(common_opts, require_pinned),
     .help = "open only plugin libraries whose sha256 a registry file pins and\n"
             "that match it (also ZOO_REQUIRE_PINNED=1; see docs/security.md)"},
    {"--help", ZOO_OPT_FLAG, offsetof(common_opts, help), .alias = "-h"},
    {0}};

/* --tokenizer, for the commands that open a model with its tokenizer. */
typedef struct tokenizer_opts {
    const char *dir;
} tokenizer_opts;

static const zoo_option TOKENIZER[] = {
    {"--tokenizer", ZOO_OPT_PATH, offsetof(tokenizer_opts, dir), .value = "DIR",
     .help = "read the tokenizer from DIR's files (vocab.json + merges.txt, vocab.txt, ...)\n"
             "instead of the model's own: for a HuggingFace directory without them"},
    {0}};

/* --quantize, for the inference commands. */
typedef struct quantize_opts {
    const char *scheme;
} quantize_opts;

static const zoo_option QUANTIZE[] = {
    {"--quantize", ZOO_OPT_CHOICE, offsetof(quantize_opts, scheme), .value = "SCHEME",
     .choices = "int8",
     .help = "int8: quantize the model's linear weights as it loads (per output channel,\n"
             "activations per token; docs/quantization.md)"},
    {0}};

void zoo_cli_common_help(FILE *f) {
    const zoo_option *tables[] = {COMMON, NULL};
    zoo_options_print_help(f, tables);
}

/* c's --help text. */
static void command_help(FILE *f, const zoo_command *c) {
    const zoo_option json[] = {{"--json", ZOO_OPT_FLAG, .help = c->json_help}, {0}};
    const zoo_option *tables[5] = {c->options}, **t = tables + 1;
    if (c->takes_tokenizer) *t++ = TOKENIZER;
    if (c->takes_quantize) *t++ = QUANTIZE;
    *t = json;
    if (c->usage) {
        fprintf(f, "usage: %s\n", c->usage);
    } else {
        char synopsis[1024];
        zoo_options_synopsis(tables, synopsis, sizeof synopsis);
        fprintf(f, "usage: zoo %s%s%s\n", c->name, *synopsis ? " " : "", synopsis);
    }
    fprintf(f, "\n%s\n\n", c->summary);
    zoo_options_print_help(f, tables);
    if (c->notes) fputs(c->notes, f);
    fputs("\n  --registry FILE, --threads N, --json, --require-pinned: see zoo --help\n", f);
}

/* Whether argv asks for --help (or -h) before "--", whatever else it holds. */
static bool asks_for_help(int argc, char **argv) {
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) return true;
    return false;
}

int zoo_command_invoke(const zoo_cli *cli, const zoo_command *c, int argc, char **argv) {
    zoo_cli sub = *cli;
    sub.command = c->name;
    common_opts common = {0};
    tokenizer_opts tokenizer = {0};
    quantize_opts quantize = {0};
    void *opts = calloc(1, c->opts_size ? c->opts_size : 1);
    if (!opts) return zoo_cli_fail(&sub, ZOO_EXIT_FAILURE, "out of memory");
    const zoo_option *tables[5] = {c->options, COMMON}, **t = tables + 2;
    void *outs[4] = {opts, &common}, **o = outs + 2;
    if (c->takes_tokenizer) *t++ = TOKENIZER, *o++ = &tokenizer;
    if (c->takes_quantize) *t++ = QUANTIZE, *o++ = &quantize;
    int parsed = zoo_options_parse(tables, outs, c->name, argc, argv), status = 0;
    if (common.help || (parsed != ZOO_OK && asks_for_help(argc, argv))) /* help wins */
        command_help(stdout, c);
    else if (parsed != ZOO_OK)
        status = zoo_cli_usage(&sub, "%s", zoo_error_message());
    else if (sub.n_registry_files + common.n_registry_files > 32)
        status = zoo_cli_usage(&sub, "--registry: given more than 32 times");
    else {
        for (int i = 0; i < common.n_registry_files; i++)
            sub.registry_files[sub.n_registry_files++] = common.registry_files[i];
        sub.json = sub.json || common.json;
        if (tokenizer.dir) sub.tokenizer = tokenizer.dir;
        if (quantize.scheme) sub.quantize = quantize.scheme;
        if (common.threads >= 0) {
            sub.threads = (int)common.threads;
            zoo_threads_set(sub.threads);
        }
        status = set_trust_policy(&sub, common.require_pinned);
        if (status == 0) status = c->run(&sub, opts);
    }
    free(opts);
    return status;
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
    /* a registry that could not be read may be where the plugin was meant to be */
    for (int i = 0; i < r->n_file_errors && at < (int)sizeof msg; i++)
        at += snprintf(msg + at, sizeof msg - (size_t)at, "%s%s",
                       i ? "; " : " (unread: ", r->file_errors[i]);
    if (r->n_file_errors && at < (int)sizeof msg)
        at += snprintf(msg + at, sizeof msg - (size_t)at, ")");
    if (at < (int)sizeof msg)
        snprintf(msg + at, sizeof msg - (size_t)at,
                 ". Add a plugin with --registry FILE (or ZOO_REGISTRY) holding its entry, or put "
                 "NAME.so and its manifest NAME.json in a directory on ZOO_PLUGIN_PATH; zoo list "
                 "shows what was found");
    return msg;
}

zoo_loaded *zoo_cli_load_plugin_at(const zoo_cli *cli, const zoo_registry *r, const char *name,
                                   const char *where) {
    const zoo_reg_entry *e = zoo_registry_find(r, name);
    const char *sep = where ? ": " : "";
    if (!where) where = "";
    if (!e) {
        zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "%s%s%s", where, sep,
                     zoo_cli_plugin_not_found(r, name));
        return NULL;
    }
    zoo_loaded *p = NULL;
    if (zoo_plugin_load(e, &p) != ZOO_OK)
        zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "%s%s%s", where, sep, zoo_error_message());
    return p;
}

zoo_loaded *zoo_cli_load_plugin(const zoo_cli *cli, const zoo_registry *r, const char *name) {
    return zoo_cli_load_plugin_at(cli, r, name, NULL);
}

const char *zoo_cli_model_set(const char *set) {
    return strncmp(set, "model.", 6) == 0 && set[6] != '=' ? set + 6 : set;
}

zoo_host_model *zoo_cli_fresh_model(const zoo_cli *cli, zoo_loaded *p, const zoo_model_opts *o) {
    zoo_hparams *hp = zoo_hparams_new(p->plugin->hparams, p->plugin->n_hparams);
    if (!hp) {
        zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "%s", zoo_error_message());
        return NULL;
    }
    for (int i = 0; i < o->n_sets; i++) {
        const char *set = zoo_cli_model_set(o->sets[i]), *eq = strchr(set, '=');
        char name[128];
        snprintf(name, sizeof name, "%.*s", (int)(eq - set), set);
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

void zoo_print_json_number(FILE *f, const char *format, double v) {
    if (isfinite(v))
        fprintf(f, format, v);
    else
        fputs("null", f);
}

void zoo_print_json_string(FILE *f, const char *s) {
    cJSON *str = cJSON_CreateString(s);
    char *text = str ? cJSON_PrintUnformatted(str) : NULL;
    fputs(text ? text : "\"\"", f);
    free(text);
    cJSON_Delete(str);
}
