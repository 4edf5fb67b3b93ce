/* zoo: the host command line. Each command lives in its own cmd_*.c. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "dist.h"
#include "zoo/zoo.h"

/* The sanitizer build (a weak hook, unused outside it): __tls_get_addr is
 * not intercepted. With GCC 12's runtime and glibc 2.36, LeakSanitizer's
 * record of the dynamic TLS of a library loaded with dlopen (a plugin's
 * libhdf5) can be bogus ("DTLS 8 at 0x1f0"), and its tracer then dies at
 * exit ("Tracer caught signal 11") depending only on where the heap happens
 * to put things: a change to how configs are read made zoo train of an ELMo
 * hit it. Static TLS is still scanned, and the loader's own allocations
 * (which hold dynamic TLS) count as reachable, so no leak is hidden. */
const char *__asan_default_options(void);
const char *__asan_default_options(void) {
    return "intercept_tls_get_addr=0";
}

static const zoo_command *const commands[] = {
    &zoo_cmd_train,        &zoo_cmd_finetune,   &zoo_cmd_classify,  &zoo_cmd_run,
    &zoo_cmd_eval,         &zoo_cmd_generate,   &zoo_cmd_fill_mask, &zoo_cmd_embed,
    &zoo_cmd_forward,      &zoo_cmd_list,       &zoo_cmd_similar,   &zoo_cmd_analogy,
    &zoo_cmd_eval_analogy, &zoo_cmd_eval_pairs, &zoo_cmd_info,      &zoo_cmd_call,
    &zoo_cmd_export,       &zoo_cmd_registry,   &zoo_cmd_tokenize,  &zoo_cmd_check_plugin,
    &zoo_cmd_compare,      &zoo_cmd_probe,      &zoo_cmd_bench,     &zoo_cmd_quantize,
};
#define N_COMMANDS (int)(sizeof commands / sizeof commands[0])

static void print_usage(FILE *f) {
    fputs("usage: zoo [--help] [--version] COMMAND [ARGS] [--registry FILE]... [--threads N] "
          "[--json] [--require-pinned]\n"
          "       zoo help COMMAND\n"
          "\n"
          "zoo trains and runs language-model plugins (word2vec, ELMo, GPT, BERT) built on one\n"
          "shared tensor and autograd library, libzoo.\n"
          "\ncommands:\n",
          f);
    int width = 0; /* the longest name sets the column */
    for (int i = 0; i < N_COMMANDS; i++)
        width = (int)strlen(commands[i]->name) > width ? (int)strlen(commands[i]->name) : width;
    for (int i = 0; i < N_COMMANDS; i++)
        fprintf(f, "  %-*s %s\n", width, commands[i]->name, commands[i]->summary);
    fprintf(f, "  %-*s %s\n", width, "help", "zoo help COMMAND prints zoo COMMAND --help");
    fputs("\noptions every command takes (before or after its name; --opt=VALUE is --opt "
          "VALUE):\n",
          f);
    zoo_cli_common_help(f);
    fputs("\nzoo COMMAND --help (or zoo help COMMAND) describes a command.\n", f);
}

/* Whether a is one of the options every command takes (--json,
 * --require-pinned, --threads N, --registry FILE, or their --opt=value
 * forms), and how many arguments it spans. */
static int global_option(int argc, char **argv, int i) {
    const char *a = argv[i];
    if (strcmp(a, "--json") == 0 || strcmp(a, "--require-pinned") == 0) return 1;
    const char *valued[] = {"--threads", "--registry"};
    for (int k = 0; k < 2; k++) {
        size_t n = strlen(valued[k]);
        if (strncmp(a, valued[k], n) != 0) continue;
        if (a[n] == '=') return 1;
        if (a[n] == '\0') return i + 1 < argc ? 2 : 1; /* a missing value: the command says so */
    }
    return 0;
}

static const zoo_command *find_command(zoo_cli *cli, const char *name) {
    const char *names[N_COMMANDS];
    for (int i = 0; i < N_COMMANDS; i++) {
        names[i] = commands[i]->name;
        if (strcmp(commands[i]->name, name) == 0) return commands[i];
    }
    const char *near = zoo_suggest(name, names, N_COMMANDS);
    if (near)
        zoo_cli_usage(cli, "unknown command '%s' (did you mean '%s'?)", name, near);
    else
        zoo_cli_usage(cli, "unknown command '%s' (see zoo --help)", name);
    return NULL;
}

int main(int argc, char **argv) {
    zoo_cli cli = {0};
    /* the options every command takes may come before its name: they are
     * moved after it (zoo --json list is zoo list --json) */
    int n_global = 0;
    while (1 + n_global < argc) {
        int span = global_option(argc, argv, 1 + n_global);
        if (!span) break;
        n_global += span;
    }
    if (argc < 2 + n_global) {
        print_usage(stderr);
        return ZOO_EXIT_USAGE;
    }
    const char *first = argv[1 + n_global];
    if (strcmp(first, "--help") == 0 || strcmp(first, "-h") == 0 ||
        (strcmp(first, "help") == 0 && argc == 2 + n_global)) {
        print_usage(stdout);
        return 0;
    }
    if (strcmp(first, "--version") == 0) {
        printf("zoo %s (libzoo %s, plugin ABI %d.%d)\n", ZOO_VERSION_STRING, zoo_version(),
               ZOO_ABI_MAJOR, ZOO_ABI_MINOR);
        printf("data-parallel training: %s\n",
               zoo_dist_built() ? "MPI (mpirun -np N zoo train ...)" : "not built (no MPI)");
        printf("int8 products (zoo quantize): %s\n", zoo_q8_kernel_name());
        return 0;
    }
    /* zoo help COMMAND is zoo COMMAND --help */
    bool help = strcmp(first, "help") == 0;
    const char *name = help ? argv[2 + n_global] : first;
    const zoo_command *command = find_command(&cli, name);
    if (!command) return ZOO_EXIT_USAGE;
    if (help) {
        char *help_argv[] = {argv[2 + n_global], "--help", NULL};
        return zoo_command_invoke(&cli, command, 2, help_argv);
    }
    /* argv for the command: its name, the global options, then the rest */
    char **sub = malloc((size_t)(argc + 1) * sizeof *sub);
    if (!sub) return zoo_cli_fail(&cli, ZOO_EXIT_FAILURE, "out of memory");
    int n = 0;
    sub[n++] = argv[1 + n_global];
    for (int i = 0; i < n_global; i++) sub[n++] = argv[1 + i];
    for (int i = 2 + n_global; i < argc; i++) sub[n++] = argv[i];
    sub[n] = NULL;
    zoo_threads_set(0); /* all CPUs, unless --threads says otherwise */
    /* one process of an MPI job when a launcher started it (then the
     * node's CPUs are shared among its ranks) */
    int status = zoo_dist_init(&argc, &argv);
    if (status == 0 && zoo_dist_world_size() > 1 && strcmp(command->name, "train") != 0 &&
        strcmp(command->name, "compare") != 0)
        status = zoo_cli_fail(&cli, ZOO_EXIT_USAGE,
                              "zoo %s runs in one process; of the commands, zoo train and zoo "
                              "compare run data-parallel under mpirun",
                              command->name);
    if (status == 0) status = zoo_command_invoke(&cli, command, n, sub);
    free(sub);
    return zoo_dist_finish(status); /* a failing rank stops the others */
}
