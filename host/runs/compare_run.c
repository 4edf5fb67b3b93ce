#include "compare_run.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "child.h"
#include "config.h"
#include "zoo/io.h"
#include "zoo/status.h"

#define FINAL_LOSS_STEPS 10 /* the final training loss: the mean of the last this many steps */

static bool exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

static char *join(const char *dir, const char *name) {
    char *p = NULL;
    return asprintf(&p, "%s/%s", dir, name) < 0 ? NULL : p;
}

static cJSON *read_json(const char *path) {
    size_t len = 0;
    char *text = zoo_read_file(path, &len);
    cJSON *doc = text ? cJSON_ParseWithLength(text, len) : NULL;
    free(text);
    return doc;
}

static double number_of(const cJSON *obj, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* A number, or null when it is not finite (JSON has no NaN). */
static void add_number(cJSON *o, const char *key, double v) {
    if (isfinite(v))
        cJSON_AddNumberToObject(o, key, v);
    else
        cJSON_AddNullToObject(o, key);
}

/* The state of one trial while it runs. */
typedef struct trial_state {
    const zoo_trial *t;
    const zoo_compare_model *m;
    char *run_dir;
    cJSON *result;
    int64_t peak_rss;
    const char *failed_step;
    char error[1024];
    bool interrupted;
} trial_state;

/* Judges a step that ran (or could not start: started false); false (and
 * the error kept) when it failed or was interrupted. */
static bool judge(trial_state *s, const char *name, bool started, const zoo_child_result *r) {
    if (!started) {
        s->failed_step = name;
        snprintf(s->error, sizeof s->error, "%s", zoo_error_message());
        return false;
    }
    if (r->peak_rss_bytes > s->peak_rss) s->peak_rss = r->peak_rss_bytes;
    if (r->status == 0) return true;
    if (r->interrupted || r->status == 130) {
        s->interrupted = true;
        return false;
    }
    s->failed_step = name;
    if (r->status > 128)
        snprintf(s->error, sizeof s->error, "killed by signal %d%s%s", r->status - 128,
                 r->status - 128 == 9 ? " (out of memory?)" : "",
                 r->last_line[0] ? "; last words: " : "");
    if (r->last_line[0])
        snprintf(s->error + strlen(s->error), sizeof s->error - strlen(s->error), "%s",
                 r->last_line);
    else if (r->status <= 128)
        snprintf(s->error, sizeof s->error, "exit status %d", r->status);
    return false;
}

/* Runs one step as a child; false (and the error kept) when it failed or was interrupted. */
static bool step(trial_state *s, const char *name, char *const argv[], const char *stdout_path) {
    char prefix[160];
    snprintf(prefix, sizeof prefix, "  %s | ", s->m->name);
    char threads[32], *with[96];
    char *const *args = argv;
    if (s->t->threads > 0) { /* zoo --threads=N COMMAND ... */
        snprintf(threads, sizeof threads, "--threads=%d", s->t->threads);
        int n = 0;
        with[n++] = argv[0], with[n++] = threads;
        for (int i = 1; argv[i] && n < 95; i++) with[n++] = argv[i];
        with[n] = NULL;
        args = with;
    }
    zoo_child_result r;
    bool started = zoo_child_run(args, stdout_path, prefix, s->t->quiet, &r) == ZOO_OK;
    return judge(s, name, started, &r);
}

/* zoo train CONFIG --out RUN_DIR, or with config NULL zoo train --resume
 * RUN_DIR: a child, or in this process when the trial says so. */
static bool train_step(trial_state *s, char *config) {
    if (s->t->train) {
        zoo_child_result r;
        bool started = s->t->train(s->t->train_ctx, config, s->run_dir, &r) == ZOO_OK;
        return judge(s, "train", started, &r);
    }
    char *fresh[] = {"zoo", "train", config, "--out", s->run_dir, NULL};
    char *resume[] = {"zoo", "train", "--resume", s->run_dir, NULL};
    return step(s, "train", config ? fresh : resume, NULL);
}

/* ---- metrics.jsonl ---------------------------------------------------------- */

typedef struct run_metrics {
    int64_t steps, tokens;
    double elapsed, final_loss;
    cJSON *last_eval; /* the last evaluation line, or NULL */
} run_metrics;

static void read_metrics(const char *run_dir, run_metrics *out) {
    memset(out, 0, sizeof *out);
    out->final_loss = NAN;
    char *path = join(run_dir, "metrics.jsonl");
    FILE *f = path ? fopen(path, "r") : NULL;
    free(path);
    if (!f) return;
    double recent[FINAL_LOSS_STEPS];
    int64_t n = 0;
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, f) > 0) {
        cJSON *o = cJSON_Parse(line);
        if (!o) continue;
        if (cJSON_GetObjectItemCaseSensitive(o, "val_loss")) {
            cJSON_Delete(out->last_eval);
            out->last_eval = o;
            continue;
        }
        double loss = number_of(o, "loss");
        if (isfinite(loss)) {
            recent[n++ % FINAL_LOSS_STEPS] = loss;
            out->steps = (int64_t)number_of(o, "step");
            out->tokens = (int64_t)number_of(o, "tokens");
            out->elapsed = number_of(o, "elapsed_s");
        }
        cJSON_Delete(o);
    }
    free(line);
    fclose(f);
    int64_t k = n < FINAL_LOSS_STEPS ? n : FINAL_LOSS_STEPS;
    double sum = 0;
    for (int64_t i = 0; i < k; i++) sum += recent[i];
    if (k) out->final_loss = sum / (double)k;
}

/* ---- the held-out text -------------------------------------------------------- */

/* Bytes and characters (UTF-8 code points) of the comparison's held-out files. */
static void count_text(const char *paths_json, int64_t *bytes, int64_t *chars) {
    *bytes = *chars = 0;
    cJSON *paths = cJSON_Parse(paths_json);
    const cJSON *p;
    cJSON_ArrayForEach(p, paths) {
        FILE *f = fopen(p->valuestring, "rb");
        int ch;
        while (f && (ch = getc(f)) != EOF) {
            (*bytes)++;
            *chars += (ch & 0xC0) != 0x80;
        }
        if (f) fclose(f);
    }
    cJSON_Delete(paths);
}

/* result.heldout from zoo eval's JSON (or the run's last evaluation). Bits
 * per character only for models that score the text itself: causal and
 * bidirectional language models with no token of the text unknown. */
static cJSON *heldout_json(trial_state *s, const cJSON *eval, const cJSON *info,
                           const run_metrics *rm) {
    cJSON *h = cJSON_CreateObject();
    const cJSON *source = eval ? eval : rm->last_eval;
    double loss = number_of(source, eval ? "loss" : "val_loss");
    add_number(h, "loss", loss);
    bool lm = cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(eval, "perplexity")) ||
              (!eval && rm->last_eval);
    const char *objective =
        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(info, "objective_key"));
    bool word_vectors = objective && strcmp(objective, "word_vectors") == 0;
    add_number(h, "perplexity", lm && !word_vectors ? exp(loss) : NAN);
    double bpc = NAN;
    bool scores_text = objective && (strcmp(objective, "causal_lm") == 0 ||
                                     strcmp(objective, "bidirectional_lm") == 0);
    if (eval && scores_text && number_of(eval, "unknown_tokens") == 0) {
        int64_t bytes, chars;
        count_text(s->t->c->data_val, &bytes, &chars);
        double per_char = number_of(eval, "bits_per_char");
        double per_byte = number_of(eval, "bits_per_byte");
        bpc = isfinite(per_char) ? per_char
                                 : (chars ? per_byte * (double)bytes / (double)chars : NAN);
    }
    add_number(h, "bits_per_char", bpc);
    const cJSON *metrics = eval ? cJSON_GetObjectItemCaseSensitive(eval, "metrics") : rm->last_eval;
    cJSON *m = cJSON_AddObjectToObject(h, "metrics");
    const cJSON *item;
    cJSON_ArrayForEach(item, metrics) {
        if (!cJSON_IsNumber(item) || !strcmp(item->string, "step") ||
            !strcmp(item->string, "val_loss") || !strcmp(item->string, "tokens") ||
            !strcmp(item->string, "elapsed_s"))
            continue;
        cJSON_AddNumberToObject(m, item->string, item->valuedouble);
    }
    return h;
}

/* ---- the card ------------------------------------------------------------------- */

static cJSON *card_json(const cJSON *info) {
    cJSON *card = cJSON_CreateObject();
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(info, "card");
    add_number(card, "parameters", number_of(info, "parameters"));
    const char *sizes[][2] = {{"layers", "layers"}, {"hidden", "width"}};
    for (int i = 0; i < 2; i++) add_number(card, sizes[i][0], number_of(c, sizes[i][1]));
    const char *texts[] = {"sees", "inputs", "pretraining"};
    for (int i = 0; i < 3; i++) {
        const char *v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, texts[i]));
        if (v)
            cJSON_AddStringToObject(card, texts[i], v);
        else
            cJSON_AddNullToObject(card, texts[i]);
    }
    return card;
}

/* ---- probes --------------------------------------------------------------------- */

static char *int_text(int64_t v) {
    char *p = NULL;
    return asprintf(&p, "%lld", (long long)v) < 0 ? NULL : p;
}

/* A fine-tuning run's config: the model with a task head, trained on the probe's train file. */
static char *finetune_config(trial_state *s, const zoo_compare_probe *p) {
    const zoo_compare_config *c = s->t->c;
    char *config_path = join(s->t->dir, "config.json");
    zoo_config *rc = config_path ? zoo_config_load(config_path, NULL, 0) : NULL;
    free(config_path);
    int64_t seq_len = rc ? zoo_config_int(rc, "data.seq_len") : 64;
    zoo_config_free(rc);
    cJSON *o = cJSON_CreateObject();
    cJSON *ft = cJSON_AddObjectToObject(o, "finetune");
    char *base = realpath(s->run_dir, NULL); /* the config's paths resolve against its own folder */
    cJSON_AddStringToObject(ft, "base", base ? base : s->run_dir);
    free(base);
    cJSON_AddStringToObject(ft, "train", p->train);
    cJSON_AddStringToObject(ft, "eval", p->test);
    cJSON_AddStringToObject(ft, "format", p->format);
    cJSON_AddNumberToObject(cJSON_AddObjectToObject(o, "data"), "seq_len", (double)seq_len);
    cJSON *train = cJSON_AddObjectToObject(o, "train");
    cJSON_AddNumberToObject(train, "epochs", (double)c->finetune_epochs);
    cJSON_AddNumberToObject(train, "batch_size", 32);
    cJSON_AddNumberToObject(train, "seed", (double)s->t->seed);
    cJSON *opt = cJSON_AddObjectToObject(train, "optimizer");
    cJSON_AddStringToObject(opt, "name", "adamw");
    cJSON_AddNumberToObject(opt, "lr", c->finetune_lr);
    char *text = cJSON_Print(o);
    cJSON_Delete(o);
    char name[300];
    snprintf(name, sizeof name, "finetune-%s.json", p->name);
    char *path = join(s->t->dir, name);
    int st = text && path ? zoo_write_file_atomic(path, text, strlen(text)) : ZOO_ERR_NOMEM;
    free(text);
    if (st) free(path), path = NULL;
    return path;
}

/* One probe's entry of result.probes; NULL when its step failed. */
static cJSON *run_probe(trial_state *s, const zoo_compare_probe *p) {
    const zoo_compare_config *c = s->t->c;
    char step_name[300], file[300];
    snprintf(step_name, sizeof step_name, "probe %s", p->name);
    cJSON *entry = NULL;
    if (s->m->finetune) {
        snprintf(file, sizeof file, "finetune-%s", p->name);
        char *out = join(s->t->dir, file);
        char *metrics = out ? join(out, "metrics.jsonl") : NULL;
        char *config = exists(metrics ? metrics : "") ? NULL : finetune_config(s, p);
        if (config && exists(out)) { /* an unfinished fine-tuning: start it again */
            char *argv[] = {"zoo", "finetune", "--resume", out, "--quiet", NULL};
            if (!step(s, step_name, argv, NULL)) goto done;
        } else if (config) {
            char *argv[] = {"zoo", "finetune", config, "--out", out, "--quiet", NULL};
            if (!step(s, step_name, argv, NULL)) goto done;
        }
        run_metrics rm;
        read_metrics(out, &rm);
        if (!rm.last_eval || !isfinite(number_of(rm.last_eval, "accuracy"))) {
            s->failed_step = "probe";
            snprintf(s->error, sizeof s->error, "%s: no accuracy in %s/metrics.jsonl", step_name,
                     out);
        } else {
            entry = cJSON_CreateObject();
            cJSON_AddStringToObject(entry, "name", p->name);
            cJSON_AddStringToObject(entry, "method", "fine-tuned");
            add_number(entry, "accuracy", number_of(rm.last_eval, "accuracy"));
            add_number(entry, "majority", number_of(rm.last_eval, "majority_accuracy"));
            add_number(entry, "seconds", rm.elapsed);
        }
        cJSON_Delete(rm.last_eval);
    done:
        free(config), free(metrics), free(out);
        return entry;
    }
    snprintf(file, sizeof file, "probe-%s.json", p->name);
    char *out = join(s->t->dir, file);
    cJSON *doc = out ? read_json(out) : NULL;
    if (!doc && out) {
        char *l2 = NULL, *iters = NULL;
        char *argv[24] = {"zoo",    "probe", s->run_dir, "--train", p->train,
                          "--test", p->test, "--format", p->format, "--json"};
        int n = 10;
        if (s->m->pool) argv[n++] = "--pool", argv[n++] = s->m->pool;
        if (s->m->layer) argv[n++] = "--layer", argv[n++] = s->m->layer;
        if (c->probe_l2 > 0 && asprintf(&l2, "%.17g", c->probe_l2) > 0)
            argv[n++] = "--l2", argv[n++] = l2;
        if (c->probe_max_iter > 0 && (iters = int_text(c->probe_max_iter)))
            argv[n++] = "--max-iter", argv[n++] = iters;
        char *tmp = NULL;
        if (asprintf(&tmp, "%s.tmp", out) > 0 && step(s, step_name, argv, tmp)) {
            doc = read_json(tmp);
            if (doc) zoo_rename_synced(tmp, out); /* else probed again on --resume */
        }
        if (tmp) remove(tmp);
        free(tmp), free(l2), free(iters);
    }
    if (doc) {
        entry = cJSON_CreateObject();
        cJSON_AddStringToObject(entry, "name", p->name);
        cJSON_AddStringToObject(entry, "method", "linear probe");
        const char *keys[] = {"accuracy", "majority", "classes", "train_examples", "test_examples"};
        for (int i = 0; i < 5; i++) add_number(entry, keys[i], number_of(doc, keys[i]));
        /* the whole probe: embedding the examples and fitting the classifier */
        add_number(entry, "seconds", number_of(doc, "embed_seconds") + number_of(doc, "seconds"));
    } else if (!s->failed_step && !s->interrupted) {
        s->failed_step = "probe";
        snprintf(s->error, sizeof s->error, "%s: zoo probe printed no JSON", step_name);
    }
    cJSON_Delete(doc);
    free(out);
    return entry;
}

/* ---- the trial ------------------------------------------------------------------ */

/* Trains, or resumes a run a Ctrl-C stopped; a run directory left without a
 * checkpoint holds nothing to keep and starts again. */
static bool pretrain(trial_state *s) {
    char *latest = join(s->run_dir, "latest.safetensors");
    char *config = join(s->t->dir, "config.json");
    bool ok;
    if (exists(latest)) {
        ok = train_step(s, NULL);
    } else {
        if (exists(s->run_dir)) {
            char *metrics = join(s->run_dir, "metrics.jsonl");
            char *cfg = join(s->run_dir, "config.json");
            if (metrics) remove(metrics);
            if (cfg) remove(cfg);
            free(metrics), free(cfg);
            rmdir(s->run_dir);
        }
        ok = train_step(s, config);
    }
    free(latest), free(config);
    return ok;
}

zoo_trial_outcome zoo_trial_run(const zoo_trial *t, char *summary, size_t size) {
    trial_state s = {.t = t, .m = &t->c->models[t->model]};
    s.run_dir = join(t->dir, "run");
    char *info_path = join(t->dir, "info.json"), *eval_path = join(t->dir, "eval.json");
    s.result = cJSON_CreateObject();
    cJSON_AddStringToObject(s.result, "model", s.m->name);
    cJSON_AddNumberToObject(s.result, "seed", (double)t->seed);
    cJSON *info = NULL, *eval = NULL;
    run_metrics rm = {0};
    bool ok = pretrain(&s);
    if (ok) {
        char *argv[] = {"zoo", "info", s.run_dir, "--json", NULL};
        ok = step(&s, "info", argv, info_path) && (info = read_json(info_path));
        if (!ok && !s.failed_step && !s.interrupted)
            s.failed_step = "info", snprintf(s.error, sizeof s.error, "no JSON from zoo info");
    }
    read_metrics(s.run_dir, &rm);
    if (ok && t->c->data_val && !(eval = read_json(eval_path))) {
        cJSON *paths = cJSON_Parse(t->c->data_val);
        char *argv[80] = {"zoo", "eval", s.run_dir, "--json"};
        int n = 4;
        const cJSON *p;
        cJSON_ArrayForEach(p, paths) if (n < 76) argv[n++] = "--data", argv[n++] = p->valuestring;
        char *tmp = NULL;
        ok = asprintf(&tmp, "%s.tmp", eval_path) > 0 && step(&s, "eval", argv, tmp) &&
             (eval = read_json(tmp)) && zoo_rename_synced(tmp, eval_path) == ZOO_OK;
        if (!ok && !s.failed_step && !s.interrupted)
            s.failed_step = "eval", snprintf(s.error, sizeof s.error, "no JSON from zoo eval");
        if (tmp) remove(tmp);
        free(tmp);
        cJSON_Delete(paths);
    }
    const char *plugin = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(info, "name"));
    if (plugin) cJSON_AddStringToObject(s.result, "plugin", plugin);
    if (info) cJSON_AddItemToObject(s.result, "card", card_json(info));
    if (rm.steps > 0) {
        cJSON *train = cJSON_AddObjectToObject(s.result, "train");
        cJSON_AddNumberToObject(train, "steps", (double)rm.steps);
        cJSON_AddNumberToObject(train, "tokens", (double)rm.tokens);
        add_number(train, "seconds", rm.elapsed);
        add_number(train, "tokens_per_second",
                   rm.elapsed > 0 ? (double)rm.tokens / rm.elapsed : NAN);
        add_number(train, "final_loss", rm.final_loss);
    }
    if (ok) cJSON_AddItemToObject(s.result, "heldout", heldout_json(&s, eval, info, &rm));
    cJSON *probes = cJSON_AddArrayToObject(s.result, "probes");
    for (int i = 0; ok && i < t->c->n_probes; i++) {
        cJSON *entry = run_probe(&s, &t->c->probes[i]);
        if (entry)
            cJSON_AddItemToArray(probes, entry);
        else
            ok = false;
    }
    cJSON *train = cJSON_GetObjectItemCaseSensitive(s.result, "train");
    if (train) add_number(train, "peak_memory_bytes", s.peak_rss ? (double)s.peak_rss : NAN);
    zoo_trial_outcome outcome = s.interrupted ? ZOO_TRIAL_INTERRUPTED
                                : ok          ? ZOO_TRIAL_OK
                                              : ZOO_TRIAL_FAILED;
    cJSON_AddStringToObject(s.result, "status", ok ? "ok" : "failed");
    if (ok) {
        cJSON_AddNullToObject(s.result, "error");
        cJSON_AddNullToObject(s.result, "failed_step");
    } else {
        cJSON_AddStringToObject(s.result, "error", s.error);
        cJSON_AddStringToObject(s.result, "failed_step", s.failed_step ? s.failed_step : "?");
    }
    if (outcome != ZOO_TRIAL_INTERRUPTED) {
        char *text = cJSON_Print(s.result), *path = join(t->dir, "result.json");
        if (!text || !path || zoo_write_file_atomic(path, text, strlen(text)) != ZOO_OK) {
            outcome = ZOO_TRIAL_FAILED;
            snprintf(s.error, sizeof s.error, "%s/result.json: %s", t->dir, zoo_error_message());
        }
        free(text), free(path);
    }
    /* the line for the user */
    if (outcome == ZOO_TRIAL_FAILED) {
        snprintf(summary, size, "failed in %s: %s", s.failed_step ? s.failed_step : "?", s.error);
    } else if (outcome == ZOO_TRIAL_OK) {
        size_t at = 0;
        const cJSON *h = cJSON_GetObjectItemCaseSensitive(s.result, "heldout");
        double ppl = number_of(h, "perplexity"), bpc = number_of(h, "bits_per_char");
        at += (size_t)snprintf(summary, size, "%lld steps, %.0f tok/s", (long long)rm.steps,
                               rm.elapsed > 0 ? (double)rm.tokens / rm.elapsed : 0.0);
        if (isfinite(ppl) && at < size)
            at += (size_t)snprintf(summary + at, size - at, "; held-out perplexity %.2f", ppl);
        if (isfinite(bpc) && at < size)
            at += (size_t)snprintf(summary + at, size - at, ", %.3f bits/char", bpc);
        const cJSON *p;
        cJSON_ArrayForEach(p, probes) if (at < size) at +=
            (size_t)snprintf(summary + at, size - at, "; %s %.3f (majority %.3f)",
                             cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(p, "name")),
                             number_of(p, "accuracy"), number_of(p, "majority"));
    } else {
        snprintf(summary, size, "interrupted");
    }
    cJSON_Delete(rm.last_eval);
    cJSON_Delete(info), cJSON_Delete(eval), cJSON_Delete(s.result);
    free(info_path), free(eval_path), free(s.run_dir);
    return outcome;
}
