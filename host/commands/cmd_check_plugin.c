/* zoo check-plugin NAME [--set model.KEY=VALUE]... [--seed N] [--json]: the
 * conformance suite (conformance.h) on one plugin, one line per check. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "conformance.h"
#include "zoo/status.h"

typedef struct printer {
    bool json;
    cJSON *checks; /* --json: collected, printed at the end */
} printer;

static void on_check(void *ctx, const char *check, zoo_check_outcome outcome, const char *detail) {
    printer *pr = ctx;
    if (!pr->json) {
        printf("%s %s%s%s\n", zoo_check_outcome_name(outcome), check, *detail ? ": " : "", detail);
        fflush(stdout); /* a check that crashes shows after the last one that finished */
        return;
    }
    cJSON *c = cJSON_CreateObject();
    char result[8];
    snprintf(result, sizeof result, "%s", zoo_check_outcome_name(outcome));
    for (char *r = result; *r; r++) *r = (char)(*r - 'A' + 'a');
    cJSON_AddStringToObject(c, "name", check);
    cJSON_AddStringToObject(c, "result", result);
    cJSON_AddStringToObject(c, "detail", detail);
    cJSON_AddItemToArray(pr->checks, c);
}

static void print_json(const zoo_loaded *p, const zoo_conformance_summary *sum, cJSON *checks) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "plugin", p->plugin->name);
    cJSON_AddStringToObject(o, "version", p->plugin->version ? p->plugin->version : "");
    cJSON_AddStringToObject(o, "config", sum->config);
    cJSON_AddItemToObject(o, "checks", checks);
    cJSON_AddNumberToObject(o, "passed", sum->passed);
    cJSON_AddNumberToObject(o, "failed", sum->failed);
    cJSON_AddNumberToObject(o, "skipped", sum->skipped);
    char *text = cJSON_Print(o);
    puts(text ? text : "{}");
    free(text);
    cJSON_Delete(o);
}

typedef struct check_args {
    const char *plugin;
    zoo_model_opts model;
} check_args;

static const zoo_option OPTIONS[] = {
    {"PLUGIN", ZOO_OPT_STRING, offsetof(check_args, plugin), ZOO_OPT_REQUIRED,
     .help = "the plugin's name (zoo list shows them)"},
    ZOO_MODEL_OPTIONS(check_args, model,
                      "override a hyperparameter of that configuration (repeatable;\n"
                      "KEY=VALUE alone is the same)",
                      "seed of the models, the synthetic corpus and the batches (default 0)"),
    {0}};

static int cmd_check_plugin(zoo_cli *cli, void *args) {
    const check_args *a = args;
    const char *name = a->plugin;
    const zoo_model_opts *mo = &a->model;
    zoo_registry *r = zoo_cli_registry(cli);
    if (!r) return ZOO_EXIT_FAILURE;
    zoo_loaded *p = zoo_cli_load_plugin(cli, r, name);
    if (!p) {
        zoo_registry_free(r);
        return ZOO_EXIT_FAILURE;
    }
    printer pr = {.json = cli->json, .checks = cli->json ? cJSON_CreateArray() : NULL};
    const char *sets[64]; /* KEY=VALUE, model.KEY=VALUE as train spells it */
    for (int i = 0; i < mo->n_sets; i++) sets[i] = zoo_cli_model_set(mo->sets[i]);
    zoo_conformance_opts opts = {
        .size = sizeof opts, .sets = sets, .n_sets = mo->n_sets, .seed = mo->seed};
    zoo_conformance_summary sum;
    int status = 0;
    if (zoo_conformance_run(p, &opts, on_check, &pr, &sum) != ZOO_OK) {
        status = zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "%s", zoo_error_message());
        cJSON_Delete(pr.checks);
    } else {
        if (pr.json)
            print_json(p, &sum, pr.checks);
        else
            printf("# %s %s: %d passed, %d failed, %d skipped; tiny configuration: %s\n",
                   p->plugin->name, p->plugin->version ? p->plugin->version : "", sum.passed,
                   sum.failed, sum.skipped, sum.config);
        status = sum.failed ? ZOO_EXIT_FAILURE : 0;
    }
    zoo_plugin_unload(p);
    zoo_registry_free(r);
    return status;
}

const zoo_command zoo_cmd_check_plugin = {
    .name = "check-plugin",
    .run = cmd_check_plugin,
    .options = OPTIONS,
    .opts_size = sizeof(check_args),
    .summary =
        "runs the conformance suite on a plugin: shapes, loss, gradients, decode, export, threads",
    .json_help = "print {\"plugin\", \"config\", \"checks\": [{\"name\", \"result\",\n"
                 "\"detail\"}], \"passed\", \"failed\", \"skipped\"} instead",
    .notes =
        "\n  prints one line per check, `PASS name: what it saw`, `FAIL name: why` or\n"
        "  `SKIP name: why`, then a `#` line with the counts and the configuration used; exits 1\n"
        "  when any check fails. The checks (docs/plugin-guide.md, Conformance):\n"
        "    create, forward, embed, loss, gradients (finite differences), decode (equals\n"
        "    forward), fill-mask, export-import (round trip), threads-forward, threads-loss,\n"
        "    threads-gradients (bitwise equal on 1 and 3 threads), train-step, "
        "threads-train-step,\n"
        "    arena (no growth after the second training step)\n"
        "  The model is tiny: the hyperparameters' defaults, every integer above 16 halved while\n"
        "  it stays above 16 and even, vocab_size from the suite's tokenizer, block_size 16.\n"
        "  --threads N       threads for every check but the thread checks (1 and 3)\n"};
