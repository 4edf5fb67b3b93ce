/* zoo compare CONFIG.json [--out DIR] [--repeat N] [--only NAME,...] [--dry-run] [--quiet]
 * zoo compare --resume DIR
 * Several models trained on the same data and budget, evaluated and probed,
 * each step a child process (compare_run.h), and one report over them all
 * (compare_report.h). Under mpirun the ranks share the trials out in groups
 * (compare_groups.h) and world rank 0 writes the report. docs/compare.md is
 * the guide, docs/distributed.md the MPI part. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "child.h"
#include "cli.h"
#include "clock.h"
#include "compare_config.h"
#include "compare_groups.h"
#include "compare_report.h"
#include "compare_run.h"
#include "data_parallel.h"
#include "dist.h"
#include "run_lock.h"
#include "zoo/io.h"
#include "zoo/status.h"
#include "zoo/threads.h"

#define MAX_SELECTED 256

typedef struct compare_args {
    const char *config, *out, *resume, *only;
    int64_t repeat;
    bool dry_run, quiet;
} compare_args;

static const zoo_option OPTIONS[] = {
    {"CONFIG.json", ZOO_OPT_PATH, offsetof(compare_args, config),
     .help = "the comparison (docs/compare.md)"},
    {"--out", ZOO_OPT_PATH, offsetof(compare_args, out), .value = "DIR",
     .help = "where to write it (default: runs/CONFIG_NAME); never overwritten"},
    {"--resume", ZOO_OPT_PATH, offsetof(compare_args, resume), .value = "DIR",
     .help = "continue a comparison that stopped (Ctrl-C, a crash) where it stopped"},
    {"--repeat", ZOO_OPT_INT, offsetof(compare_args, repeat), .value = "N", .def = "1",
     ZOO_OPT_RANGE(1, 100),
     .help = "train every model N times, seeds SEED..SEED+N-1; the report gives mean ± sd"},
    {"--only", ZOO_OPT_STRING, offsetof(compare_args, only), .value = "NAME,...",
     .help = "run only these models of the config"},
    {"--dry-run", ZOO_OPT_FLAG, offsetof(compare_args, dry_run),
     .help = "train nothing: print each model's parameters (and its published size)"},
    {"--quiet", ZOO_OPT_FLAG, offsetof(compare_args, quiet),
     .help = "no progress from the steps (the summary lines and the table remain)"},
    {0}};

static void duration(double s, char *buf, size_t size) {
    if (s < 60)
        snprintf(buf, size, "%.0fs", s);
    else if (s < 3600)
        snprintf(buf, size, "%dm%02ds", (int)s / 60, (int)s % 60);
    else
        snprintf(buf, size, "%dh%02dm", (int)s / 3600, (int)s % 3600 / 60);
}

/* 116534784 -> "116,534,784" */
static void thousands(long long v, char *buf, size_t size) {
    char digits[32];
    int n = snprintf(digits, sizeof digits, "%lld", v < 0 ? -v : v), at = 0;
    char out[48];
    if (v < 0) out[at++] = '-';
    for (int i = 0; i < n; i++) {
        if (i && (n - i) % 3 == 0) out[at++] = ',';
        out[at++] = digits[i];
    }
    out[at] = '\0';
    snprintf(buf, size, "%s", out);
}

/* --only "a,b" into the models' indices, in the config's order. */
static int select_models(const zoo_cli *cli, const zoo_compare_config *c, const char *only,
                         int *selected, int *n) {
    *n = 0;
    if (!only) {
        for (int i = 0; i < c->n_models; i++) selected[(*n)++] = i;
        return 0;
    }
    char *copy = strdup(only), *save = NULL;
    bool want[MAX_SELECTED] = {false};
    int status = 0;
    for (char *name = strtok_r(copy, ",", &save); name && !status;
         name = strtok_r(NULL, ",", &save)) {
        int found = -1;
        const char *names[MAX_SELECTED];
        for (int i = 0; i < c->n_models && i < MAX_SELECTED; i++) {
            names[i] = c->models[i].name;
            if (strcmp(name, c->models[i].name) == 0) found = i;
        }
        if (found < 0) {
            const char *near = zoo_suggest(name, names, c->n_models);
            status =
                zoo_cli_usage(cli, "--only: %s has no model '%s'%s%s%s", c->path, name,
                              near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "");
        } else {
            want[found] = true;
        }
    }
    free(copy);
    for (int i = 0; i < c->n_models && i < MAX_SELECTED; i++)
        if (want[i]) selected[(*n)++] = i;
    return status;
}

/* OUT/compare.json: what --resume needs to continue. */
static int write_state(const zoo_cli *cli, const char *out, const zoo_compare_config *c,
                       int64_t repeat, const char *only) {
    cJSON *o = cJSON_CreateObject();
    char *abs = realpath(c->path, NULL);
    cJSON_AddStringToObject(o, "config", abs ? abs : c->path);
    free(abs);
    cJSON_AddNumberToObject(o, "repeat", (double)repeat);
    if (only)
        cJSON_AddStringToObject(o, "only", only);
    else
        cJSON_AddNullToObject(o, "only");
    char *text = cJSON_Print(o), path[4096];
    cJSON_Delete(o);
    snprintf(path, sizeof path, "%s/compare.json", out);
    int st = text ? zoo_write_file_atomic(path, text, strlen(text)) : ZOO_ERR_NOMEM;
    free(text);
    return st ? zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "%s", zoo_error_message()) : 0;
}

typedef struct resumed {
    char *config, *only;
    int64_t repeat;
} resumed;

static int read_state(const zoo_cli *cli, const char *out, resumed *r) {
    char path[4096];
    snprintf(path, sizeof path, "%s/compare.json", out);
    size_t len = 0;
    char *text = zoo_read_file(path, &len);
    if (!text)
        return zoo_cli_fail(cli, ZOO_EXIT_FAILURE,
                            "--resume %s: %s (not a comparison's directory?)", out,
                            zoo_error_message());
    cJSON *o = cJSON_ParseWithLength(text, len);
    free(text);
    const char *config = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "config"));
    const cJSON *repeat = cJSON_GetObjectItemCaseSensitive(o, "repeat");
    const char *only = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "only"));
    int status = 0;
    if (!config || !cJSON_IsNumber(repeat) ||
        !(repeat->valuedouble >= 1 && repeat->valuedouble <= 1e6))
        status =
            zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "%s: expected \"config\" and \"repeat\"", path);
    else {
        r->config = strdup(config);
        r->only = only ? strdup(only) : NULL;
        r->repeat = (int64_t)repeat->valuedouble;
    }
    cJSON_Delete(o);
    return status;
}

/* Writes TRIAL/config.json, model i's run config, unless it is there. */
static int write_trial_config(const zoo_compare_config *c, int i, int64_t seed, const char *dir) {
    char path[4400];
    snprintf(path, sizeof path, "%s/config.json", dir);
    if (access(path, F_OK) == 0) return ZOO_OK;
    zoo_config *rc = zoo_compare_model_config(c, i, seed);
    if (!rc) return ZOO_ERR_ARG;
    char *text = zoo_config_text(rc);
    zoo_config_free(rc);
    int st = text ? zoo_write_file_atomic(path, text, strlen(text)) : ZOO_ERR_NOMEM;
    free(text);
    return st;
}

/* A trial that failed before any step ran: its result.json says why. */
static void write_failure(const char *dir, const zoo_compare_model *m, int64_t seed,
                          const char *error) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "model", m->name);
    cJSON_AddNumberToObject(o, "seed", (double)seed);
    cJSON_AddStringToObject(o, "status", "failed");
    cJSON_AddStringToObject(o, "error", error);
    cJSON_AddStringToObject(o, "failed_step", "config");
    cJSON_AddArrayToObject(o, "probes");
    char *text = cJSON_Print(o), path[4096];
    snprintf(path, sizeof path, "%s/result.json", dir);
    if (text) zoo_write_file_atomic(path, text, strlen(text));
    free(text);
    cJSON_Delete(o);
}

/* --dry-run: each model's resolved config through zoo train --dry-run --cost. */
static int dry_run(const zoo_cli *cli, const zoo_compare_config *c, const int *selected, int n) {
    char tmp[] = "/tmp/zoo-compare-dry.XXXXXX";
    if (!mkdtemp(tmp)) return zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "mkdtemp: %s", strerror(errno));
    char budget[128];
    zoo_compare_budget_text(c, budget, sizeof budget);
    cJSON *doc = cli->json ? cJSON_CreateObject() : NULL, *rows = NULL;
    if (doc) {
        cJSON_AddStringToObject(doc, "title", c->name);
        cJSON_AddStringToObject(doc, "budget", budget);
        rows = cJSON_AddArrayToObject(doc, "models");
    } else {
        printf("%s: %d model%s, %s; nothing is trained\n\n", c->name, n, n == 1 ? "" : "s", budget);
        printf("| model | plugin | parameters | without pretraining heads | published | training "
               "FLOPs per token | memory of a training step |\n"
               "|---|---|---:|---:|---:|---:|---|\n");
    }
    int failures = 0;
    for (int k = 0; k < n; k++) {
        const zoo_compare_model *m = &c->models[selected[k]];
        char dir[4200], config[4300], out[4300];
        snprintf(dir, sizeof dir, "%s/%d", tmp, k);
        snprintf(config, sizeof config, "%s/config.json", dir);
        snprintf(out, sizeof out, "%s/dry-run.txt", dir);
        long long params = -1, encoder = -1, batch = 0;
        double flops = NAN, memory = NAN;
        char plugin[64] = "?", error[1100] = "";
        zoo_child_result r = {0};
        if (zoo_make_dirs(dir) || write_trial_config(c, selected[k], c->seed, dir)) {
            snprintf(error, sizeof error, "%s", zoo_error_message());
        } else {
            char *argv[] = {"zoo", "train", config, "--dry-run", "--cost", NULL};
            if (zoo_child_run(argv, out, NULL, true, &r) != ZOO_OK || r.status != 0)
                snprintf(error, sizeof error, "%s",
                         r.last_line[0] ? r.last_line : zoo_error_message());
            FILE *f = fopen(out, "r");
            char line[4096];
            while (f && fgets(line, sizeof line, f)) {
                sscanf(line, "parameters: %lld", &params);
                sscanf(line, "parameters without the pretraining heads (%*[^)]): %lld", &encoder);
                sscanf(line, "training FLOPs per token: %lf", &flops);
                sscanf(line, "training step memory at batch %lld: %lf MiB", &batch, &memory);
                sscanf(line, " \"plugin\": \"%63[^\"]\"", plugin);
            }
            if (f) fclose(f);
            remove(out);
        }
        remove(config);
        rmdir(dir);
        char count[64] = "failed", without[64] = "", cost[64] = "n/a", mem[96] = "n/a";
        if (!error[0]) thousands(params, count, sizeof count);
        thousands(encoder >= 0 ? encoder : params, without, sizeof without);
        if (isfinite(flops)) snprintf(cost, sizeof cost, "%.3g", flops);
        if (isfinite(memory))
            snprintf(mem, sizeof mem, "%.1f GiB at batch %lld", memory / 1024, batch);
        if (doc) { /* a row: numbers as numbers, null where the table says n/a */
            cJSON *row = cJSON_CreateObject();
            cJSON_AddStringToObject(row, "model", m->name);
            cJSON_AddStringToObject(row, "plugin", plugin);
            if (error[0]) {
                cJSON_AddStringToObject(row, "error", error);
            } else {
                cJSON_AddNumberToObject(row, "parameters", (double)params);
                cJSON_AddNumberToObject(row, "parameters_without_heads",
                                        (double)(encoder >= 0 ? encoder : params));
            }
            m->published ? cJSON_AddStringToObject(row, "published", m->published)
                         : cJSON_AddNullToObject(row, "published");
            isfinite(flops) ? cJSON_AddNumberToObject(row, "flops_per_token", flops)
                            : cJSON_AddNullToObject(row, "flops_per_token");
            isfinite(memory) ? cJSON_AddNumberToObject(row, "step_memory_mib", memory)
                             : cJSON_AddNullToObject(row, "step_memory_mib");
            cJSON_AddNumberToObject(row, "batch_size", (double)batch);
            cJSON_AddItemToArray(rows, row);
        } else {
            printf("| %s | %s | %s | %s | %s | %s | %s |\n", m->name, plugin, count,
                   error[0] ? "" : without, m->published ? m->published : "", cost, mem);
        }
        if (error[0]) {
            fprintf(stderr, "zoo compare: %s: %s\n", m->name, error);
            failures++;
        }
    }
    rmdir(tmp);
    if (doc) {
        char *text = cJSON_Print(doc);
        if (text) puts(text);
        free(text);
        cJSON_Delete(doc);
        return failures ? ZOO_EXIT_FAILURE : 0;
    }
    printf("\nFLOPs: the products of one training step (forward and backward) on one sequence of "
           "data.seq_len tokens, per token (zoo train --dry-run --cost). Memory: parameters, "
           "gradients and optimizer state, plus train.batch_size times that sequence's graph.\n");
    return failures ? ZOO_EXIT_FAILURE : 0;
}

/* Runs this rank's trials not done yet (every trial in a job of one);
 * *failures counts those that failed. Returns 0, 130 after Ctrl-C, or an
 * exit status. */
static int run_trials(const zoo_cli *cli, const zoo_compare_config *c, const char *out,
                      int64_t repeat, const int *selected, int n, bool quiet,
                      const zoo_compare_groups *g, int *failures) {
    int total = (int)repeat * n, mine = 0, passed = 0, ran = 0, status = 0;
    for (int t = 0; t < total; t++) mine += zoo_compare_groups_runs(g, t);
    bool speaks = zoo_dist_world_rank() == 0; /* the other ranks print errors alone */
    /* under MPI a rank's children use its share of the node's cores, not all of them */
    int threads = zoo_dist_world_size() > 1 ? zoo_threads_count() : 0;
    zoo_compare_pretrain pretrain = {.cli = cli, .quiet = quiet || !speaks};
    double started = zoo_now(), spent = 0;
    for (int t = 0; t < total && !status; t++) {
        if (!zoo_compare_groups_runs(g, t)) continue;
        passed++;
        int j = t % n;
        int64_t k = 1 + t / n;
        const zoo_compare_model *m = &c->models[selected[j]];
        int64_t seed = c->seed + k - 1;
        char *dir = zoo_compare_trial_dir(out, m->name, (int)k, (int)repeat);
        char result[4200];
        snprintf(result, sizeof result, "%s/result.json", dir ? dir : "");
        if (!dir || zoo_make_dirs(dir)) {
            status = zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "%s", zoo_error_message());
            free(dir);
            break;
        }
        if (access(result, F_OK) == 0) { /* done before a --resume */
            free(dir);
            continue;
        }
        char eta[32] = "", elapsed[32];
        duration(zoo_now() - started, elapsed, sizeof elapsed);
        if (ran) duration(spent / ran * (mine - passed + 1), eta, sizeof eta);
        if (speaks)
            fprintf(stderr, "zoo compare: [%d/%d] %s (seed %lld)  %s elapsed%s%s\n", t + 1, total,
                    m->name, (long long)seed, elapsed, ran ? ", ETA " : "", eta);
        double t0 = zoo_now();
        char summary[2048];
        zoo_trial_outcome outcome;
        if (write_trial_config(c, selected[j], seed, dir) != ZOO_OK) {
            write_failure(dir, m, seed, zoo_error_message());
            snprintf(summary, sizeof summary, "failed in config: %s", zoo_error_message());
            outcome = ZOO_TRIAL_FAILED;
        } else {
            zoo_trial trial = {.c = c,
                               .model = selected[j],
                               .seed = seed,
                               .dir = dir,
                               .quiet = quiet || !speaks,
                               .threads = threads};
            if (g->group_size > 1) /* the group pretrains data-parallel, in-process */
                trial.train = zoo_compare_pretrain_lead, trial.train_ctx = &pretrain;
            outcome = zoo_trial_run(&trial, summary, sizeof summary);
        }
        spent += zoo_now() - t0, ran++;
        if (speaks)
            fprintf(stderr, "zoo compare: %s: %s\n", m->name, summary);
        else if (outcome == ZOO_TRIAL_FAILED)
            fprintf(stderr, "zoo compare: rank %d of %d: %s (seed %lld): %s\n",
                    zoo_dist_world_rank(), zoo_dist_world_size(), m->name, (long long)seed,
                    summary);
        if (outcome == ZOO_TRIAL_FAILED) (*failures)++;
        if (outcome == ZOO_TRIAL_INTERRUPTED) {
            fprintf(stderr,
                    "zoo compare: interrupted; what is done is kept: continue with zoo "
                    "compare --resume %s\n",
                    out);
            status = 130;
        }
        free(dir);
    }
    return status;
}

/* "zoo compare: 3 processes in 2 groups (ranks 0-1, 2); trial t runs in
 * group t mod 2; a group of several pretrains data-parallel" */
static void print_groups(int world, int total, int n_groups) {
    fprintf(stderr, "zoo compare: %d processes in %d group%s (ranks ", world, n_groups,
            n_groups == 1 ? "" : "s");
    bool several = false;
    for (int r = 0; r < world;) {
        zoo_compare_groups g;
        zoo_compare_groups_plan(world, r, total, &g);
        if (g.group_size > 1)
            fprintf(stderr, "%s%d-%d", r ? ", " : "", r, r + g.group_size - 1);
        else
            fprintf(stderr, "%s%d", r ? ", " : "", r);
        several = several || g.group_size > 1;
        r += g.group_size;
    }
    fprintf(stderr, "); trial t runs in group t mod %d%s\n", n_groups,
            several ? "; a group of several pretrains data-parallel" : "");
}

/* Runs every trial not done yet, then writes the report. Under MPI each
 * group of ranks runs its share (compare_groups.h) and world rank 0 writes
 * the report once every group is done. */
static int run_all(const zoo_cli *cli, const zoo_compare_config *c, const char *out, int64_t repeat,
                   const int *selected, int n, bool quiet) {
    int total = (int)repeat * n, failures = 0, status = 0;
    int world = zoo_dist_world_size(), rank = zoo_dist_world_rank();
    zoo_compare_groups g;
    if (zoo_compare_groups_plan(world, rank, total, &g) != ZOO_OK ||
        (world > 1 && zoo_dist_split(g.group) != ZOO_OK))
        return zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "%s", zoo_error_message());
    char budget[128];
    zoo_compare_budget_text(c, budget, sizeof budget);
    if (rank == 0) {
        fprintf(stderr, "zoo compare: %s: %d model%s x %lld, %s; writing %s\n", c->name, n,
                n == 1 ? "" : "s", (long long)repeat, budget, out);
        if (world > 1) print_groups(world, total, g.n_groups);
    }
    if (zoo_dist_rank() == 0) {
        status = run_trials(cli, c, out, repeat, selected, n, quiet, &g, &failures);
        if (g.group_size > 1 && zoo_compare_pretrain_end() != ZOO_OK && !status)
            status = zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "%s", zoo_error_message());
    } else {
        zoo_compare_pretrain serve = {.cli = cli, .quiet = true};
        if (zoo_compare_pretrain_serve(&serve) != ZOO_OK)
            status = zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "%s", zoo_error_message());
    }
    if (world > 1) { /* every group done: the job agrees on its outcome */
        int64_t agree[3] = {failures, status == 130, status != 0 && status != 130};
        if (zoo_dist_split(-1) != ZOO_OK || zoo_dist_sum_i64_idle(agree, 3, 0) != ZOO_OK)
            return zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "%s", zoo_error_message());
        zoo_dist_exit_agreed();
        failures = (int)agree[0];
        status = agree[2] ? ZOO_EXIT_FAILURE : agree[1] ? 130 : 0;
        if (rank != 0) return status ? status : failures ? ZOO_EXIT_FAILURE : 0;
    }
    /* the report covers what is there, after an interruption too */
    const char *names[MAX_SELECTED], *probes[MAX_SELECTED];
    for (int j = 0; j < n; j++) names[j] = c->models[selected[j]].name;
    for (int p = 0; p < c->n_probes && p < MAX_SELECTED; p++) probes[p] = c->probes[p].name;
    zoo_compare_summary sum = {.out_dir = out,
                               .title = c->name,
                               .budget = budget,
                               .reproducible = c->budget_kind != ZOO_BUDGET_SECONDS,
                               .models = names,
                               .n_models = n,
                               .probes = probes,
                               .n_probes = c->n_probes < MAX_SELECTED ? c->n_probes : MAX_SELECTED,
                               .repeat = (int)repeat};
    if (zoo_compare_report(&sum, cli->json ? NULL : stdout) != ZOO_OK)
        return zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "%s", zoo_error_message());
    if (cli->json) { /* the report's results.json, as written */
        char path[4200];
        snprintf(path, sizeof path, "%s/results.json", out);
        size_t len;
        char *text = zoo_read_file(path, &len);
        if (!text) return zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "%s", zoo_error_message());
        fputs(text, stdout);
        if (len && text[len - 1] != '\n') fputc('\n', stdout);
        free(text);
    }
    fprintf(stderr, "zoo compare: the report is in %s/report.md\n", out);
    if (!status && failures)
        status = zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "%d of %d trial%s failed (see the report)",
                              failures, total, total == 1 ? "" : "s");
    return status;
}

/* The trials are zoo processes of their own: they must find the plugins this
 * one was given. --registry FILE... go ahead of ZOO_REGISTRY in their
 * environment, which keeps the order of precedence (--require-pinned is
 * passed on by the environment too, zoo_command_invoke). */
static int pass_registries(const zoo_cli *cli) {
    if (cli->n_registry_files == 0) return 0;
    const char *env = getenv("ZOO_REGISTRY");
    char *list = strdup(env && *env ? env : "");
    for (int i = cli->n_registry_files - 1; list && i >= 0; i--) {
        char *real = realpath(cli->registry_files[i], NULL), *grown = NULL;
        const char *path = real ? real : cli->registry_files[i];
        if (strchr(path, ':')) {
            free(real), free(list);
            return zoo_cli_fail(cli, ZOO_EXIT_FAILURE,
                                "--registry %s: a path with ':' cannot be passed on to the trials "
                                "(ZOO_REGISTRY separates files with ':')",
                                path);
        }
        if (asprintf(&grown, "%s%s%s", path, *list ? ":" : "", list) < 0) grown = NULL;
        free(real), free(list);
        list = grown;
    }
    int st = list ? setenv("ZOO_REGISTRY", list, 1) : -1;
    free(list);
    return st ? zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "out of memory") : 0;
}

/* Under MPI: world rank 0's status, on every rank, which all then exit
 * with (rank 0 has said what went wrong). */
static int share_status(int status) {
    if (zoo_dist_world_size() <= 1) return status;
    int64_t v = status;
    if (zoo_dist_broadcast_idle(&v, sizeof v) != ZOO_OK) return ZOO_EXIT_FAILURE;
    if (v) zoo_dist_exit_agreed();
    return (int)v;
}

static int cmd_compare(zoo_cli *cli, void *opts) {
    const compare_args *a = opts;
    if (pass_registries(cli)) return ZOO_EXIT_FAILURE;
    if (!a->config == !a->resume) return zoo_cli_usage(cli, "give a CONFIG.json, or --resume DIR");
    if (a->resume && (a->out || a->dry_run || a->only || a->repeat != 1))
        return zoo_cli_usage(cli, "--resume continues as the comparison began (no --out, "
                                  "--only, --repeat or --dry-run)");
    resumed r = {0};
    int status = a->resume ? read_state(cli, a->resume, &r) : 0;
    if (status) return status;
    const char *config_path = a->resume ? r.config : a->config;
    const char *only = a->resume ? r.only : a->only;
    int64_t repeat = a->resume ? r.repeat : a->repeat;
    zoo_compare_config *c = zoo_compare_config_load(config_path);
    int selected[MAX_SELECTED], n = 0;
    char *out = NULL;
    int lock = -1;
    if (!c)
        status = zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "%s", zoo_error_message());
    else if (c->n_models > MAX_SELECTED)
        status =
            zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "%s: more than %d models", c->path, MAX_SELECTED);
    else
        status = select_models(cli, c, only, selected, &n);
    /* under MPI: every rank runs the same comparison with the same zoo */
    bool many = zoo_dist_world_size() > 1, leader = zoo_dist_world_rank() == 0;
    if (!status && many &&
        (zoo_dp_same_file("comparison config", c->path) ||
         zoo_dp_same_file("zoo executable", "/proc/self/exe")))
        status = zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "%s", zoo_error_message());
    if (!status && a->dry_run) {
        if (leader) status = dry_run(cli, c, selected, n);
        status = share_status(status);
    } else if (!status) {
        if (a->resume)
            out = strdup(a->resume);
        else if (a->out)
            out = strdup(a->out);
        else if (asprintf(&out, "runs/%s", c->name) < 0)
            out = NULL;
        struct stat st;
        if (!out)
            status = zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "out of memory");
        else if (!leader) /* world rank 0 alone makes the directory and holds its lock */
            ;
        else if (!a->resume && stat(out, &st) == 0)
            status = zoo_cli_fail(cli, ZOO_EXIT_FAILURE,
                                  "%s exists; a comparison never overwrites one: continue it with "
                                  "--resume %s, or choose another --out",
                                  out, out);
        else if (!a->resume && zoo_make_dirs(out) != ZOO_OK)
            status = zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "%s", zoo_error_message());
        /* one comparison at a time in a directory: a second would interleave its trials */
        else if (zoo_run_lock(out, &lock) != ZOO_OK)
            status = zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "%s", zoo_error_message());
        else if (!a->resume)
            status = write_state(cli, out, c, repeat, only);
        if (out) status = share_status(status);
        if (!status) status = run_all(cli, c, out, repeat, selected, n, a->quiet);
        zoo_run_unlock(lock);
    }
    free(out), free(r.config), free(r.only);
    zoo_compare_config_free(c);
    return status;
}

const zoo_command zoo_cmd_compare = {
    .name = "compare",
    .run = cmd_compare,
    .options = OPTIONS,
    .opts_size = sizeof(compare_args),
    .usage = "zoo compare CONFIG.json [--out DIR] [--repeat N] [--only NAME,...] [--dry-run] "
             "[--quiet]\n"
             "       zoo compare --resume DIR",
    .summary = "train several models on the same data and budget, evaluate and probe each, and "
               "write one report (table, results.json/csv, SVG plots)",
    .json_help =
        "the report's results.json instead of its table (docs/compare.md); with\n"
        "--dry-run {\"title\", \"budget\", \"models\": [{\"model\", \"plugin\",\n"
        "\"parameters\", \"parameters_without_heads\", \"published\", \"flops_per_token\",\n"
        "\"step_memory_mib\", \"batch_size\"} or {..., \"error\"}]}",
    .notes = "\n"
             "Each model's steps run as child processes: one model's crash or out-of-memory\n"
             "leaves the others running, and its row says what happened (the exit status is then\n"
             "1). Ctrl-C keeps what is done; --resume continues. docs/compare.md is the guide.\n"
             "Under mpirun -np N the trials run concurrently, one group of ranks each, a group\n"
             "of several pretraining data-parallel; rank 0 writes the report\n"
             "(docs/distributed.md).\n",
};
