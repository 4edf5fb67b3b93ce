/* zoo train CONFIG.json [--set a.b=v]... [--out RUN_DIR] [--dry-run [--cost]] [--quiet]
 * zoo train --resume RUN_DIR [--set a.b=v]... [--quiet] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "train.h"

typedef struct train_args {
    const char *config, *out, *resume;
    const char *sets[64];
    int n_sets;
    int64_t stop_after;
    bool dry_run, quiet, cost;
} train_args;

static const zoo_option OPTIONS[] = {
    {"CONFIG.json", ZOO_OPT_PATH, offsetof(train_args, config), .help = "the run config"},
    {"--set", ZOO_OPT_ASSIGN, offsetof(train_args, sets), ZOO_OPT_REPEAT, .value = "KEY=VALUE",
     ZOO_OPT_ARRAY(train_args, sets, n_sets),
     .help = "override any config key (a.b.c=VALUE, typed by the schema;\n"
             "model.NAME=VALUE for the plugin's hyperparameters)"},
    {"--out", ZOO_OPT_PATH, offsetof(train_args, out), .value = "RUN_DIR",
     .help = "where to write the run (default: train.run_dir, or runs/CONFIG_NAME)"},
    {"--resume", ZOO_OPT_PATH, offsetof(train_args, resume), .value = "RUN_DIR",
     .help = "continue a stopped run exactly where its last checkpoint left it"},
    {"--stop-after", ZOO_OPT_INT, offsetof(train_args, stop_after), .value = "N", ZOO_OPT_MIN(1),
     .help = "stop once step N is done, with a checkpoint (resume it later)"},
    {"--dry-run", ZOO_OPT_FLAG, offsetof(train_args, dry_run),
     .help = "print the resolved config and the parameter count, and exit"},
    {"--cost", ZOO_OPT_FLAG, offsetof(train_args, cost),
     .help = "with --dry-run: also measure one training step on one sequence: FLOPs per\n"
             "token, and the memory a step at train.batch_size needs"},
    {"--quiet", ZOO_OPT_FLAG, offsetof(train_args, quiet),
     .help = "no progress display (metrics.jsonl is still written)"},
    {0}};

static int cmd_train(zoo_cli *cli, void *args) {
    const train_args *a = args;
    zoo_train_opts o = {.config = a->config,
                        .out = a->out,
                        .resume = a->resume,
                        .sets = a->sets,
                        .n_sets = a->n_sets,
                        .stop_after = a->stop_after,
                        .dry_run = a->dry_run,
                        .cost = a->cost,
                        .quiet = a->quiet};
    if (!o.config == !o.resume)
        return zoo_cli_usage(cli, "give a CONFIG.json, or --resume RUN_DIR");
    if (o.cost && !o.dry_run) return zoo_cli_usage(cli, "--cost goes with --dry-run");
    if (o.resume && (o.out || o.dry_run))
        return zoo_cli_usage(cli,
                             "--resume continues in its own directory (no --out, no --dry-run)");
    zoo_train_result result;
    int status = zoo_train(cli, &o, &result);
    if (status == 0 && !o.quiet && result.run_dir)
        fprintf(stderr, "zoo train: done; the run is in %s\n", result.run_dir);
    if ((status == 0 || status == 130) && cli->json && result.run_dir) {
        fputs("{\"run_dir\": ", stdout);
        zoo_print_json_string(stdout, result.run_dir);
        fputs(", \"checkpoint\": ", stdout);
        zoo_print_json_string(stdout, result.checkpoint ? result.checkpoint : "");
        printf(", \"stopped\": %s}\n", status == 130 ? "true" : "false");
    }
    free(result.run_dir);
    free(result.checkpoint);
    return status;
}

const zoo_command zoo_cmd_train = {
    .name = "train",
    .run = cmd_train,
    .options = OPTIONS,
    .opts_size = sizeof(train_args),
    .usage = "zoo train CONFIG.json [--set KEY=VALUE]... [--out RUN_DIR] [--stop-after N] "
             "[--dry-run [--cost]] [--quiet]\n"
             "       zoo train --resume RUN_DIR [--stop-after N] [--quiet]",
    .summary = "train a model from a run config; writes metrics.jsonl, checkpoints and the "
               "resolved config",
    .json_help = "--dry-run: {\"config\", \"parameters\", \"parameters_without_heads\",\n"
                 "\"vocab_size\", \"train_tokens\", \"val_tokens\", \"cost\" (with --cost)};\n"
                 "a run: {\"run_dir\", \"checkpoint\", \"stopped\"} at its end",
    .notes = "\n"
             "Ctrl-C saves a checkpoint and stops; a NaN or infinite loss stops the run and keeps\n"
             "the last good checkpoint. docs/config-reference.md lists every config key.\n",
};
