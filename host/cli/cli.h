/* What every command shares: how it is declared and run (its option table,
 * options.h), the options every command takes (--registry, --threads,
 * --json, --require-pinned, --help), the registry they select, and how a command reports
 * failure (one line on stderr, a non-zero exit). */
#ifndef ZOO_HOST_CLI_H
#define ZOO_HOST_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "loader.h"
#include "model.h"
#include "options.h"
#include "registry.h"

#define ZOO_EXIT_FAILURE 1 /* the command ran and failed */
#define ZOO_EXIT_USAGE 2   /* bad command line */

typedef struct zoo_cli {
    const char *registry_files[32]; /* --registry FILE, in order */
    int n_registry_files;
    int threads; /* --threads N; 0 = all CPUs */
    bool json;   /* --json */
    const char *command;
    const char *tokenizer; /* --tokenizer DIR (commands with takes_tokenizer); NULL: the model's */
    const char *quantize;  /* --quantize SCHEME (commands with takes_quantize); NULL: as saved */
} zoo_cli;

/* A command: its option table, and what runs with the values it parsed.
 * Its --help is generated: usage, summary, the table's entries, what --json
 * prints, the notes, and a pointer to the common options. */
typedef struct zoo_command {
    const char *name;
    int (*run)(zoo_cli *cli, void *opts); /* opts: the struct `options` filled */
    const zoo_option *options;            /* ended by an entry with a NULL name */
    size_t opts_size;                     /* sizeof that struct */
    const char *usage;                    /* "zoo train CONFIG.json ..."; NULL: from the table */
    const char *summary;                  /* one line */
    const char *json_help;                /* what --json prints; NULL: not listed */
    const char *notes;                    /* text after the options, or NULL */
    /* --tokenizer DIR: the tokenizer files zoo_cli_open_model reads
     * instead of the model's own (a HuggingFace directory without them) */
    bool takes_tokenizer;
    /* --quantize int8: zoo_cli_open_model quantizes the model's linear
     * weights as it loads them (docs/quantization.md) */
    bool takes_quantize;
} zoo_command;

/* One per command file; main.c lists them. */
extern const zoo_command zoo_cmd_list, zoo_cmd_info, zoo_cmd_call, zoo_cmd_registry,
    zoo_cmd_forward, zoo_cmd_train, zoo_cmd_eval, zoo_cmd_generate, zoo_cmd_embed,
    zoo_cmd_fill_mask, zoo_cmd_run, zoo_cmd_export, zoo_cmd_tokenize, zoo_cmd_finetune,
    zoo_cmd_classify, zoo_cmd_similar, zoo_cmd_analogy, zoo_cmd_eval_analogy, zoo_cmd_eval_pairs,
    zoo_cmd_check_plugin, zoo_cmd_compare, zoo_cmd_probe, zoo_cmd_bench, zoo_cmd_quantize;

/* Runs c on argv (argv[0] is its name): argv is parsed against c's table
 * and the common options (into a copy of cli; --threads also calls
 * zoo_threads_set, --require-pinned or ZOO_REQUIRE_PINNED=1 set the
 * loader's policy, zoo_plugin_set_policy, and notices of unpinned drop-ins
 * go to stderr), and c runs. --help or -h prints c's help instead, even
 * when the rest of argv is wrong; a usage error is printed as "zoo COMMAND:
 * message". Returns the exit status. */
int zoo_command_invoke(const zoo_cli *cli, const zoo_command *c, int argc, char **argv);
/* The options every command takes, one per line, for zoo --help. */
void zoo_cli_common_help(FILE *f);

/* "zoo COMMAND: message" on stderr; returns code. */
int zoo_cli_fail(const zoo_cli *cli, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int zoo_cli_usage(const zoo_cli *cli, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The message of the last zoo_cli_fail or zoo_cli_usage of this process
 * (without "zoo COMMAND: "), "" before the first: what a command run in
 * this process (zoo compare's data-parallel pretraining) failed with. */
const char *zoo_cli_last_failure(void);

/* The registry from --registry, ZOO_REGISTRY, ZOO_PLUGIN_PATH and the
 * default one beside the executable. */
zoo_registry *zoo_cli_registry(const zoo_cli *cli);
/* The default registry's path (build tree or install tree), from malloc. */
char *zoo_cli_default_registry(void);

/* "no plugin named 'x' (did you mean 'y'?); looked in FILES and
 * ZOO_PLUGIN_PATH (...) (unread: WHY). Add a plugin with ...": where the
 * host looked, why a registry file could not be read (when one could not),
 * and how to add one. Static storage, valid until the next call. */
const char *zoo_cli_plugin_not_found(const zoo_registry *r, const char *name);

/* Finds and loads a plugin by name; prints the error and returns NULL. */
zoo_loaded *zoo_cli_load_plugin(const zoo_cli *cli, const zoo_registry *r, const char *name);
/* The same for a name read from a file: where ("run.json: model.plugin")
 * begins the error. */
zoo_loaded *zoo_cli_load_plugin_at(const zoo_cli *cli, const zoo_registry *r, const char *name,
                                   const char *where);

/* Options of a fresh model: --set model.KEY=VALUE (repeatable; KEY=VALUE
 * alone is the same, as train's --set model.KEY is) and --seed N. */
typedef struct zoo_model_opts {
    const char *sets[64];
    int n_sets;
    uint64_t seed;
} zoo_model_opts;

/* The table entries of a zoo_model_opts `member` of the options struct `type`. */
#define ZOO_MODEL_OPTIONS(type, member, set_help, seed_help)                                       \
    {"--set",                                                                                      \
     ZOO_OPT_ASSIGN,                                                                               \
     offsetof(type, member.sets),                                                                  \
     ZOO_OPT_REPEAT,                                                                               \
     .value = "model.KEY=VALUE",                                                                   \
     ZOO_OPT_ARRAY(type, member.sets, member.n_sets),                                              \
     .help = (set_help)},                                                                          \
    {                                                                                              \
        "--seed", ZOO_OPT_UINT, offsetof(type, member.seed), .value = "N", .help = (seed_help)     \
    }
/* "KEY=VALUE" of --set model.KEY=VALUE or --set KEY=VALUE: set itself
 * without the "model." prefix. */
const char *zoo_cli_model_set(const char *set);
/* A model of plugin p with default hyperparameters overridden by --set. */
zoo_host_model *zoo_cli_fresh_model(const zoo_cli *cli, zoo_loaded *p, const zoo_model_opts *o);

/* s as a JSON string literal (quoted, escaped). */
void zoo_print_json_string(FILE *f, const char *s);
/* v printed with format ("%.6f") when finite; null otherwise (NaN and the
 * infinities are no JSON numbers: an accuracy of nothing asked, a perplexity
 * past the double range). */
void zoo_print_json_number(FILE *f, const char *format, double v);

#endif
