/* zoo train CONFIG.json [--set a.b=v]... [--out RUN_DIR] [--dry-run] [--quiet]
 * zoo train --resume RUN_DIR [--set a.b=v]... [--quiet] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "train.h"

static int cmd_train(zoo_cli *cli, int argc, char **argv) {
    zoo_train_opts o = {0};
    const char *sets[64];
    int status = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--dry-run") == 0)
            o.dry_run = true;
        else if (strcmp(argv[i], "--quiet") == 0)
            o.quiet = true;
        else if (zoo_cli_value(cli, argc, argv, i, "--set", &status)) {
            if (o.n_sets == 64) return zoo_cli_usage(cli, "too many --set");
            sets[o.n_sets++] = argv[++i];
        } else if (zoo_cli_value(cli, argc, argv, i, "--out", &status))
            o.out = argv[++i];
        else if (zoo_cli_value(cli, argc, argv, i, "--resume", &status))
            o.resume = argv[++i];
        else if (zoo_cli_value(cli, argc, argv, i, "--stop-after", &status)) {
            char *end;
            o.stop_after = strtoll(argv[++i], &end, 10);
            if (*end || o.stop_after < 1)
                return zoo_cli_usage(cli, "--stop-after: expected a step number >= 1, got \"%s\"",
                                     argv[i]);
        } else if (status)
            return status;
        else if (argv[i][0] == '-')
            return zoo_cli_usage(cli, "unknown option '%s' (see zoo train --help)", argv[i]);
        else if (o.config)
            return zoo_cli_usage(cli, "one config at a time ('%s' and '%s')", o.config, argv[i]);
        else
            o.config = argv[i];
    }
    if (!o.config == !o.resume)
        return zoo_cli_usage(cli, "give a CONFIG.json, or --resume RUN_DIR");
    if (o.resume && (o.out || o.dry_run))
        return zoo_cli_usage(cli,
                             "--resume continues in its own directory (no --out, no --dry-run)");
    o.sets = sets;
    zoo_train_result result;
    status = zoo_train(cli, &o, &result);
    if (status == 0 && !o.quiet && result.run_dir)
        fprintf(stderr, "zoo train: done; the run is in %s\n", result.run_dir);
    free(result.run_dir);
    free(result.checkpoint);
    return status;
}

const zoo_command zoo_cmd_train = {
    .name = "train",
    cmd_train,
    "zoo train CONFIG.json [--set KEY=VALUE]... [--out RUN_DIR] [--stop-after N] [--dry-run] "
    "[--quiet]\n"
    "       zoo train --resume RUN_DIR [--stop-after N] [--quiet]",
    "train a model from a run config; writes metrics.jsonl, checkpoints and the resolved config",
    "  --set KEY=VALUE  override any config key (a.b.c=VALUE, typed by the schema;\n"
    "                   model.NAME=VALUE for the plugin's hyperparameters)\n"
    "  --out RUN_DIR    where to write the run (default: train.run_dir, or runs/CONFIG_NAME)\n"
    "  --resume RUN_DIR continue a stopped run exactly where its last checkpoint left it\n"
    "  --stop-after N   stop once step N is done, with a checkpoint (resume it later)\n"
    "  --dry-run        print the resolved config and the parameter count, and exit\n"
    "  --quiet          no progress display (metrics.jsonl is still written)\n"
    "\n"
    "Ctrl-C saves a checkpoint and stops; a NaN or infinite loss stops the run and keeps\n"
    "the last good checkpoint. docs/config-reference.md lists every config key.\n"};
