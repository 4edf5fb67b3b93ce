/* zoo: the host command line. Each command lives in its own cmd_*.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "zoo/zoo.h"

static const zoo_command *const commands[] = {
    &zoo_cmd_train,        &zoo_cmd_finetune,   &zoo_cmd_classify,  &zoo_cmd_run,
    &zoo_cmd_eval,         &zoo_cmd_generate,   &zoo_cmd_fill_mask, &zoo_cmd_embed,
    &zoo_cmd_forward,      &zoo_cmd_list,       &zoo_cmd_similar,   &zoo_cmd_analogy,
    &zoo_cmd_eval_analogy, &zoo_cmd_eval_pairs, &zoo_cmd_info,      &zoo_cmd_call,
    &zoo_cmd_export,       &zoo_cmd_registry,   &zoo_cmd_tokenize,  &zoo_cmd_check_plugin,
    &zoo_cmd_compare,      &zoo_cmd_probe,      &zoo_cmd_bench,
};
#define N_COMMANDS (int)(sizeof commands / sizeof commands[0])

static void print_usage(FILE *f) {
    fputs("usage: zoo [--help] [--version] COMMAND [ARGS] [--registry FILE]... [--threads N] "
          "[--json]\n"
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
    fputs("\noptions every command takes:\n", f);
    zoo_cli_common_help(f);
    fputs("\nzoo COMMAND --help describes a command.\n", f);
}

int main(int argc, char **argv) {
    zoo_cli cli = {0};
    if (argc < 2) {
        print_usage(stderr);
        return ZOO_EXIT_USAGE;
    }
    const char *first = argv[1];
    if (strcmp(first, "--help") == 0 || strcmp(first, "-h") == 0 || strcmp(first, "help") == 0) {
        print_usage(stdout);
        return 0;
    }
    if (strcmp(first, "--version") == 0) {
        printf("zoo %s (libzoo %s, plugin ABI %d.%d)\n", ZOO_VERSION_STRING, zoo_version(),
               ZOO_ABI_MAJOR, ZOO_ABI_MINOR);
        return 0;
    }
    const char *names[N_COMMANDS];
    const zoo_command *command = NULL;
    for (int i = 0; i < N_COMMANDS; i++) {
        names[i] = commands[i]->name;
        if (strcmp(commands[i]->name, first) == 0) command = commands[i];
    }
    if (!command) {
        const char *near = zoo_suggest(first, names, N_COMMANDS);
        return near ? zoo_cli_usage(&cli, "unknown command '%s' (did you mean '%s'?)", first, near)
                    : zoo_cli_usage(&cli, "unknown command '%s' (see zoo --help)", first);
    }
    zoo_threads_set(0); /* all CPUs, unless --threads says otherwise */
    return zoo_command_invoke(&cli, command, argc - 1, argv + 1);
}
