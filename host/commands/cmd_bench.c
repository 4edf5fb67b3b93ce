/* zoo bench [PLUGIN...] [--batch B] [--seq-len T] [--repeat N] [--warmup N]
 * [--set model.KEY=VALUE | PLUGIN.KEY=VALUE]... [--json]: each plugin's
 * forward and training throughput at its default hyperparameters, beside
 * the machine's sgemm measured in the same run (host/runs/bench.h says what
 * is measured and how), as a Markdown table or one JSON document. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "cli.h"
#include "clock.h"
#include "zoo/flops.h"
#include "zoo/status.h"
#include "zoo/threads.h"
#include "zoo/zoo.h"

#define MAX_PLUGINS 64

typedef struct bench_args {
    const char *plugins[MAX_PLUGINS];
    int n_plugins;
    int64_t batch, seq_len, repeat, warmup, sgemm;
    bool int8;
    zoo_model_opts model;
} bench_args;

static const zoo_option OPTIONS[] = {
    {"PLUGIN", ZOO_OPT_STRING, offsetof(bench_args, plugins), ZOO_OPT_REPEAT,
     ZOO_OPT_ARRAY(bench_args, plugins, n_plugins),
     .help = "plugins to measure, in this order (default: every plugin zoo list shows)"},
    {"--batch", ZOO_OPT_INT, offsetof(bench_args, batch), .value = "B", .def = "8",
     ZOO_OPT_RANGE(1, 1 << 20), .help = "sequences per batch (default 8)"},
    {"--seq-len", ZOO_OPT_INT, offsetof(bench_args, seq_len), .value = "T", .def = "128",
     ZOO_OPT_RANGE(1, 1 << 20),
     .help = "positions per sequence (default 128); block_size follows it,\n"
             "as zoo train sets it from data.seq_len"},
    {"--repeat", ZOO_OPT_INT, offsetof(bench_args, repeat), .value = "N", .def = "5",
     ZOO_OPT_RANGE(1, ZOO_BENCH_MAX_REPEAT),
     .help = "timed passes of each phase (default 5): mean ± sample sd"},
    {"--warmup", ZOO_OPT_INT, offsetof(bench_args, warmup), .value = "N", .def = "2",
     ZOO_OPT_RANGE(0, 100),
     .help = "untimed passes before them (default 2: the first grows the graph's\n"
             "arena, the second runs in it merged into one block)"},
    {"--sgemm", ZOO_OPT_INT, offsetof(bench_args, sgemm), .value = "N", .def = "1024",
     ZOO_OPT_RANGE(0, 8192),
     .help = "size of the square product that measures the machine (default 1024;\n"
             "0: none, and no percentages)"},
    {"--int8", ZOO_OPT_FLAG, offsetof(bench_args, int8),
     .help = "also each plugin's forward with int8 weights (as zoo quantize makes\n"
             "them, docs/quantization.md): a row NAME (int8) after its own"},
    {"--set", ZOO_OPT_ASSIGN, offsetof(bench_args, model.sets), ZOO_OPT_REPEAT,
     .value = "model.KEY=VALUE", ZOO_OPT_ARRAY(bench_args, model.sets, model.n_sets),
     .help = "\na hyperparameter of every plugin that has KEY; PLUGIN.KEY=VALUE:\n"
             "of that plugin alone (repeatable)"},
    {"--seed", ZOO_OPT_UINT, offsetof(bench_args, model.seed), .value = "N",
     .help = "seed of the models, the synthetic data and the batches (default 0)"},
    {0}};

/* --- the plugins and their overrides ------------------------------------ */

typedef struct row {
    const char *name;
    zoo_loaded *p;
    const char *sets[64]; /* KEY=VALUE, pointing into argv */
    int n_sets;
    char *error; /* from malloc, or NULL */
    zoo_bench_result result;
} row;

static bool has_hparam(const zoo_plugin *d, const char *key, size_t len) {
    for (int i = 0; i < d->n_hparams; i++)
        if (strlen(d->hparams[i].name) == len && strncmp(d->hparams[i].name, key, len) == 0)
            return true;
    return false;
}

/* Hands each --set to the rows it names. Usage errors: a set without a
 * prefix, a PLUGIN not measured, a model.KEY that no loaded plugin has. */
static int route_sets(const zoo_cli *cli, const zoo_model_opts *mo, row *rows, int n) {
    for (int i = 0; i < mo->n_sets; i++) {
        const char *s = mo->sets[i], *eq = strchr(s, '='); /* the parser saw one */
        const char *dot = memchr(s, '.', (size_t)(eq - s));
        if (!dot)
            return zoo_cli_usage(cli, "--set %s: expected model.KEY=VALUE or PLUGIN.KEY=VALUE", s);
        const char *key = dot + 1;
        size_t prefix = (size_t)(dot - s), key_len = (size_t)(eq - key);
        bool every = prefix == 5 && strncmp(s, "model", 5) == 0, matched = false, loaded = false;
        for (int r = 0; r < n; r++) {
            bool named = strlen(rows[r].name) == prefix && strncmp(rows[r].name, s, prefix) == 0;
            if (!every && !named) continue;
            matched = true;
            loaded = loaded || rows[r].p;
            if (every && !(rows[r].p && has_hparam(rows[r].p->plugin, key, key_len))) continue;
            if (rows[r].n_sets == 64)
                return zoo_cli_usage(cli, "--set: more than 64 for one plugin");
            rows[r].sets[rows[r].n_sets++] = key;
        }
        if (!every && !matched)
            return zoo_cli_usage(cli, "--set %s: '%.*s' is not a plugin being measured (nor model)",
                                 s, (int)prefix, s);
        bool anyone = false;
        for (int r = 0; every && r < n; r++)
            anyone = anyone || (rows[r].p && has_hparam(rows[r].p->plugin, key, key_len));
        if (every && loaded && !anyone)
            return zoo_cli_usage(cli, "--set %s: no plugin measured has a hyperparameter '%.*s'", s,
                                 (int)key_len, key);
    }
    return 0;
}

/* --- the machine --------------------------------------------------------- */

/* /proc/cpuinfo's first "model name", or "unknown CPU". */
static void cpu_model(char *buf, size_t size) {
    snprintf(buf, size, "unknown CPU");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        const char *colon = strchr(line, ':');
        if (strncmp(line, "model name", 10) != 0 || !colon) continue;
        colon++;
        while (*colon == ' ' || *colon == '\t') colon++;
        snprintf(buf, size, "%s", colon);
        buf[strcspn(buf, "\n")] = '\0';
        break;
    }
    fclose(f);
}

typedef struct machine {
    char cpu[256];
    int threads;
    const char *blas, *coretype; /* coretype: OPENBLAS_CORETYPE, or NULL */
    int64_t sgemm_n;
    zoo_bench_phase sgemm;
} machine;

/* --- printing ------------------------------------------------------------ */

/* "12.3 ± 0.4" with as many decimals as the mean's size calls for. */
static void fmt_stat(char *buf, size_t size, zoo_bench_stat s) {
    int dec = s.mean >= 1000 ? 0 : s.mean >= 10 ? 1 : 2;
    snprintf(buf, size, "%.*f ± %.*f", dec, s.mean, dec, s.sd);
}

static void fmt_count(char *buf, size_t size, int64_t n) {
    if (n >= 1000000000)
        snprintf(buf, size, "%.2f B", (double)n / 1e9);
    else if (n >= 1000000)
        snprintf(buf, size, "%.2f M", (double)n / 1e6);
    else if (n >= 1000)
        snprintf(buf, size, "%.2f k", (double)n / 1e3);
    else
        snprintf(buf, size, "%lld", (long long)n);
}

/* The share of the machine's sgemm; negative when there is no yardstick. */
static double percent(const zoo_bench_phase *ph, const machine *m) {
    return m->sgemm.runs ? 100.0 * ph->gflops.mean / m->sgemm.gflops.mean : -1;
}

/* A phase's GFLOP/s and share of sgemm: "—" when it ran no counted product. */
static void fmt_gflops(char *gf, char *pc, size_t size, const zoo_bench_phase *ph,
                       const machine *m) {
    bool counted = false;
    for (int i = 0; i < ph->runs; i++) counted = counted || ph->flops[i] > 0;
    if (!counted) {
        snprintf(gf, size, "—");
        snprintf(pc, size, "—");
        return;
    }
    fmt_stat(gf, size, ph->gflops);
    if (percent(ph, m) < 0)
        snprintf(pc, size, "—");
    else
        snprintf(pc, size, "%.1f", percent(ph, m));
}

static void print_cell_text(const char *s) {
    for (; *s; s++) {
        if (*s == '|') putchar('\\');
        putchar(*s == '\n' ? ' ' : *s);
    }
}

static void print_markdown(const machine *m, const bench_args *a, const row *rows, int n) {
    printf("CPU: %s; threads: %d; BLAS: %s", m->cpu, m->threads, m->blas);
    if (m->coretype) printf("; OPENBLAS_CORETYPE=%s", m->coretype);
    printf("\n\n");
    if (m->sgemm.runs) {
        char sg[64];
        fmt_stat(sg, sizeof sg, m->sgemm.gflops);
        printf("sgemm %lld × %lld × %lld (zoo_matmul, after the plugins): %s GFLOP/s; ",
               (long long)m->sgemm_n, (long long)m->sgemm_n, (long long)m->sgemm_n, sg);
    }
    printf("each figure the mean ± sd of %lld timed passes after %lld warm-up (zoo %s)\n\n",
           (long long)a->repeat, (long long)a->warmup, zoo_version());
    puts("| model | params | batch × len | forward tok/s | training tok/s | forward GFLOP/s | "
         "training GFLOP/s | forward % sgemm | training % sgemm |");
    puts("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (int i = 0; i < n; i++) {
        const row *r = &rows[i];
        printf("| %s | ", r->name);
        if (r->error) {
            fputs("error: ", stdout);
            print_cell_text(r->error);
            puts(" | — | — | — | — | — | — | — |");
            continue;
        }
        const zoo_bench_result *res = &r->result;
        char params[32], ft[64], tt[64], fg[64], tg[64], fp[32], tp[32];
        fmt_count(params, sizeof params, res->params);
        fmt_stat(ft, sizeof ft, res->forward.tokens_per_s);
        fmt_stat(tt, sizeof tt, res->training.tokens_per_s);
        fmt_gflops(fg, fp, sizeof fg, &res->forward, m);
        fmt_gflops(tg, tp, sizeof tg, &res->training, m);
        printf("%s | %lld × %lld | %s | %s | %s | %s | %s | %s |\n", params, (long long)res->B,
               (long long)res->T, ft, tt, fg, tg, fp, tp);
        if (!res->forward_int8.runs) continue;
        fmt_stat(ft, sizeof ft, res->forward_int8.tokens_per_s);
        fmt_gflops(fg, fp, sizeof fg, &res->forward_int8, m);
        printf("| %s (int8) | %s | %lld × %lld | %s | — | %s | — | %s | — |\n", r->name, params,
               (long long)res->B, (long long)res->T, ft, fg, fp);
    }
    for (int i = 0; a->int8 && i < n; i++)
        if (!rows[i].error && rows[i].result.no_int8[0])
            printf("\n%s (int8): %s", rows[i].name, rows[i].result.no_int8);
    if (a->int8)
        printf("\nint8 rows: GFLOP/s and %% of sgemm count integer operations against the "
               "float32 sgemm\n");
}

static cJSON *json_stat(zoo_bench_stat s) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "mean", s.mean);
    cJSON_AddNumberToObject(o, "sd", s.sd);
    return o;
}

static cJSON *json_phase(const zoo_bench_phase *ph, const machine *m, bool tokens) {
    cJSON *o = cJSON_CreateObject();
    if (tokens) cJSON_AddItemToObject(o, "tokens_per_s", json_stat(ph->tokens_per_s));
    cJSON_AddItemToObject(o, "gflops", json_stat(ph->gflops));
    if (m && percent(ph, m) >= 0)
        cJSON_AddNumberToObject(o, "percent_of_sgemm", percent(ph, m));
    else if (m)
        cJSON_AddNullToObject(o, "percent_of_sgemm");
    cJSON *seconds = cJSON_AddArrayToObject(o, "seconds"),
          *flops = cJSON_AddArrayToObject(o, "flops");
    cJSON *toks = tokens ? cJSON_AddArrayToObject(o, "tokens") : NULL;
    for (int i = 0; i < ph->runs; i++) {
        cJSON_AddItemToArray(seconds, cJSON_CreateNumber(ph->seconds[i]));
        cJSON_AddItemToArray(flops, cJSON_CreateNumber((double)ph->flops[i]));
        if (toks) cJSON_AddItemToArray(toks, cJSON_CreateNumber((double)ph->tokens[i]));
    }
    return o;
}

static void print_json(const machine *m, const bench_args *a, const row *rows, int n) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "zoo", zoo_version());
    cJSON_AddStringToObject(o, "cpu", m->cpu);
    cJSON_AddNumberToObject(o, "threads", m->threads);
    cJSON_AddStringToObject(o, "blas", m->blas);
    if (m->coretype)
        cJSON_AddStringToObject(o, "openblas_coretype", m->coretype);
    else
        cJSON_AddNullToObject(o, "openblas_coretype");
    cJSON_AddNumberToObject(o, "batch", (double)a->batch);
    cJSON_AddNumberToObject(o, "seq_len", (double)a->seq_len);
    cJSON_AddNumberToObject(o, "warmup", (double)a->warmup);
    cJSON_AddNumberToObject(o, "repeat", (double)a->repeat);
    cJSON_AddNumberToObject(o, "seed", (double)a->model.seed);
    if (m->sgemm.runs) {
        cJSON *sg = json_phase(&m->sgemm, NULL, false);
        cJSON_AddNumberToObject(sg, "n", (double)m->sgemm_n);
        cJSON_AddItemToObject(o, "sgemm", sg);
    } else {
        cJSON_AddNullToObject(o, "sgemm");
    }
    cJSON *results = cJSON_AddArrayToObject(o, "results");
    for (int i = 0; i < n; i++) {
        const row *r = &rows[i];
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "plugin", r->name);
        if (r->p && r->p->plugin->version)
            cJSON_AddStringToObject(e, "version", r->p->plugin->version);
        if (r->error) {
            cJSON_AddStringToObject(e, "error", r->error);
        } else {
            const zoo_bench_result *res = &r->result;
            cJSON_AddNullToObject(e, "error");
            cJSON_AddNumberToObject(e, "parameters", (double)res->params);
            cJSON_AddNumberToObject(e, "batch", (double)res->B);
            cJSON_AddNumberToObject(e, "seq_len", (double)res->T);
            cJSON_AddStringToObject(e, "config", res->config);
            cJSON_AddItemToObject(e, "forward", json_phase(&res->forward, m, true));
            cJSON_AddItemToObject(e, "training", json_phase(&res->training, m, true));
            if (a->int8 && res->forward_int8.runs)
                cJSON_AddItemToObject(e, "forward_int8", json_phase(&res->forward_int8, m, true));
            else if (a->int8)
                cJSON_AddStringToObject(e, "int8_error", res->no_int8);
        }
        cJSON_AddItemToArray(results, e);
    }
    char *text = cJSON_Print(o);
    puts(text ? text : "{}");
    free(text);
    cJSON_Delete(o);
}

/* --- the command --------------------------------------------------------- */

/* ctx: the plugin's name */
static void on_progress(void *ctx, const char *what) {
    fprintf(stderr, "zoo bench: %s: %s\n", (const char *)ctx, what);
}

/* How long after its start the process's threads have spread over the cores. */
#define SETTLE_S 0.5

static int cmd_bench(zoo_cli *cli, void *args) {
    double start = zoo_now();
    const bench_args *a = args;
    zoo_registry *reg = zoo_cli_registry(cli);
    if (!reg) return ZOO_EXIT_FAILURE;
    row *rows = calloc(MAX_PLUGINS, sizeof *rows);
    int n = 0, status = 0;
    if (!rows) {
        zoo_registry_free(reg);
        return zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "out of memory");
    }
    if (a->n_plugins == 0) /* every plugin found, broken ones included: their rows say why */
        for (int i = 0; i < reg->count && n < MAX_PLUGINS; i++) {
            if (!reg->entries[i].shadowed) rows[n++].name = reg->entries[i].name;
        }
    else
        for (int i = 0; i < a->n_plugins; i++) {
            if (!zoo_registry_find(reg, a->plugins[i])) {
                status = zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "%s",
                                      zoo_cli_plugin_not_found(reg, a->plugins[i]));
                goto done;
            }
            rows[n++].name = a->plugins[i];
        }
    if (n == 0) {
        status = zoo_cli_fail(cli, ZOO_EXIT_FAILURE,
                              "no plugins found (zoo list shows where it looked)");
        goto done;
    }
    for (int i = 0; i < n; i++) {
        const zoo_reg_entry *e = zoo_registry_find(reg, rows[i].name);
        if (e->error)
            rows[i].error = strdup(e->error);
        else if (zoo_plugin_load(e, &rows[i].p) != ZOO_OK)
            rows[i].error = strdup(zoo_error_message());
    }
    if ((status = route_sets(cli, &a->model, rows, n))) goto done;

    machine m = {.threads = zoo_threads_count(), .blas = zoo_blas_config(), .sgemm_n = a->sgemm};
    cpu_model(m.cpu, sizeof m.cpu);
    m.coretype = getenv("OPENBLAS_CORETYPE");
    if (m.coretype && !*m.coretype) m.coretype = NULL;
    for (int i = 0; i < n; i++) {
        row *r = &rows[i];
        if (r->error) {
            fprintf(stderr, "zoo bench: %s: %s\n", r->name, r->error);
            continue;
        }
        zoo_bench_opts o = {.B = a->batch,
                            .T = a->seq_len,
                            .warmup = (int)a->warmup,
                            .repeat = (int)a->repeat,
                            .int8 = a->int8,
                            .seed = a->model.seed,
                            .sets = r->sets,
                            .n_sets = r->n_sets,
                            .progress = on_progress,
                            .ctx = (void *)r->name};
        if (zoo_bench_plugin(r->p, &o, &r->result) != ZOO_OK) {
            r->error = strdup(zoo_error_message());
            fprintf(stderr, "zoo bench: %s: %s\n", r->name, r->error);
        }
    }
    /* the machine after the plugins, which warmed it up; in a young process
     * it warms up first (zoo_bench_sgemm) */
    if (a->sgemm > 0) {
        fprintf(stderr, "zoo bench: sgemm %lld on %d thread(s)\n", (long long)a->sgemm, m.threads);
        double settle = SETTLE_S - (zoo_now() - start);
        if (zoo_bench_sgemm(a->sgemm, 1, settle > 0 ? settle : 0, (int)a->repeat, &m.sgemm) !=
            ZOO_OK) {
            status = zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "%s", zoo_error_message());
            goto done;
        }
    }
    if (cli->json)
        print_json(&m, a, rows, n);
    else
        print_markdown(&m, a, rows, n);
    for (int i = 0; i < n; i++)
        if (rows[i].error) status = ZOO_EXIT_FAILURE;
done:
    for (int i = 0; i < n; i++) {
        if (rows[i].p) zoo_plugin_unload(rows[i].p);
        free(rows[i].error);
    }
    free(rows);
    zoo_registry_free(reg);
    return status;
}

const zoo_command zoo_cmd_bench = {
    .name = "bench",
    .run = cmd_bench,
    .options = OPTIONS,
    .opts_size = sizeof(bench_args),
    .summary = "forward and training throughput of plugins, beside the machine's sgemm",
    .json_help =
        "print one JSON document instead: {\"cpu\", \"threads\", \"blas\",\n"
        "\"openblas_coretype\", \"sgemm\": {\"n\", \"gflops\": {\"mean\", \"sd\"}, ...} or null,\n"
        "\"results\": [{\"plugin\", \"error\", \"parameters\", \"batch\", \"seq_len\",\n"
        "\"config\", \"forward\" and \"training\": {\"tokens_per_s\", \"gflops\",\n"
        "\"percent_of_sgemm\", \"seconds\", \"flops\", \"tokens\"}; with --int8 also\n"
        "\"forward_int8\" (the same) or \"int8_error\" (why not)}]}",
    .notes =
        "\n  Each plugin runs at its hyperparameters' defaults (zoo info PLUGIN shows them: they\n"
        "  are its standard size), --set overrides aside, on synthetic data: ids drawn from its\n"
        "  vocabulary (spelled, for a plugin that reads token bytes), or for a self-updating\n"
        "  plugin a Zipf-distributed word corpus and the word tokenizer trained on it, one chunk\n"
        "  of B·T words a step. forward: the forward pass, no tape; training: a step as zoo\n"
        "  train takes it (loss, backward, clipping, AdamW; or the plugin's own train_step).\n"
        "  tok/s counts B·T positions a pass; GFLOP/s counts libzoo's products (zoo/flops.h;\n"
        "  \"—\" where a plugin runs none), against an N×N×N zoo_matmul timed after them.\n"
        "  Progress goes to stderr. A plugin that fails gets a row with its error, and zoo\n"
        "  bench exits 1 after the table.\n"};
