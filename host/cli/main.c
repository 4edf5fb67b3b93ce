/* zoo: the host command line. Each command lives in its own cmd_*.c. */
#include <errno.h>
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
    fputs("\noptions every command takes:\n"
          "  --registry FILE  read plugins from this registry first (repeatable)\n"
          "  --threads N      threads for zoo and OpenBLAS (default: all CPUs)\n"
          "  --json           print results as JSON (commands that print results)\n"
          "\nzoo COMMAND --help describes a command.\n",
          f);
}

static void print_command_help(const zoo_command *c) {
    printf("usage: %s\n\n%s\n\n%s", c->usage, c->summary, c->help);
    printf("\n  --registry FILE, --threads N, --json: see zoo --help\n");
}

/* Takes the global options out of argv (wherever they stand), leaving the command's own. */
static int take_global_options(zoo_cli *cli, int *argc, char **argv) {
    int kept = 0;
    for (int i = 0; i < *argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) { /* everything after belongs to the command */
            while (i < *argc) argv[kept++] = argv[i++];
            break;
        }
        if (strcmp(a, "--json") == 0) {
            cli->json = true;
        } else if (strcmp(a, "--registry") == 0 || strcmp(a, "--threads") == 0) {
            if (i + 1 >= *argc) return zoo_cli_usage(cli, "%s needs a value", a);
            const char *v = argv[++i];
            if (a[2] == 'r') {
                if (cli->n_registry_files == 32) return zoo_cli_usage(cli, "too many --registry");
                cli->registry_files[cli->n_registry_files++] = v;
            } else {
                char *end;
                errno = 0;
                long n = strtol(v, &end, 10);
                if (end == v || *end || errno || n < 0 || n > 1024)
                    return zoo_cli_usage(
                        cli, "--threads: expected an integer from 0 to 1024, got \"%s\"", v);
                cli->threads = (int)n;
            }
        } else {
            argv[kept++] = argv[i];
        }
    }
    *argc = kept;
    return 0;
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
    const zoo_command *command = NULL;
    for (int i = 0; i < N_COMMANDS && !command; i++)
        if (strcmp(commands[i]->name, first) == 0) command = commands[i];
    if (!command) return zoo_cli_usage(&cli, "unknown command '%s' (see zoo --help)", first);
    cli.command = command->name;
    int sub_argc = argc - 1;
    char **sub_argv = argv + 1;
    for (int i = 1; i < sub_argc; i++)
        if (strcmp(sub_argv[i], "--help") == 0 || strcmp(sub_argv[i], "-h") == 0) {
            print_command_help(command);
            return 0;
        } else if (strcmp(sub_argv[i], "--") == 0)
            break;
    int status = take_global_options(&cli, &sub_argc, sub_argv);
    if (status) return status;
    zoo_threads_set(cli.threads);
    return command->run(&cli, sub_argc, sub_argv);
}
