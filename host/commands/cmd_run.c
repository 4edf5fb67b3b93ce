/* zoo run SCRIPT.json: a list of steps run in order, each as the command of
 * the same name would run it:
 *   {"steps": [{"id": "pre", "train": "base.json", "set": {"train.steps": 100}},
 *              {"eval": "${pre.checkpoint}", "data": "held-out.txt"}, ...]}
 * A later string may name what an earlier step produced: ${ID.run_dir},
 * ${ID.checkpoint}. Paths resolve relative to the script. The first error
 * stops the script and names the step.
 *
 * A script can be run again: a train or finetune step whose run directory
 * already holds a run does what its "if_exists" says (or the script's, beside
 * "steps"): "fail" (the default: the step is named and the script stops),
 * "skip" (the run is used as it is) or "resume" (it is continued, as
 * --resume would). */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checkpoint.h"
#include "config.h"
#include "files.h"
#include "saved_model.h"
#include "train.h"
#include "zoo/hparams.h"
#include "zoo/io.h"
#include "zoo/status.h"

/* The steps that are no command of their own: train (which gives the
 * script its run_dir and checkpoint), save and load. Their options, as a
 * command's (options.h); the action's value is the first positional. */
typedef struct train_step {
    const char *config, *out;
    const char *sets[64];
    int n_sets;
    int64_t stop_after;
    bool quiet;
} train_step;

static const zoo_option TRAIN_STEP[] = {
    {"CONFIG.json", ZOO_OPT_PATH, offsetof(train_step, config), ZOO_OPT_REQUIRED, .help = NULL},
    {"--set", ZOO_OPT_ASSIGN, offsetof(train_step, sets), ZOO_OPT_REPEAT, .value = "KEY=VALUE",
     ZOO_OPT_ARRAY(train_step, sets, n_sets)},
    {"--out", ZOO_OPT_PATH, offsetof(train_step, out), .value = "RUN_DIR"},
    {"--stop-after", ZOO_OPT_INT, offsetof(train_step, stop_after), .value = "N", ZOO_OPT_MIN(1)},
    {"--quiet", ZOO_OPT_FLAG, offsetof(train_step, quiet), .help = NULL},
    {0}};

typedef struct model_step {
    const char *model, *to;
} model_step;

static const zoo_option SAVE_STEP[] = {
    {"MODEL", ZOO_OPT_PATH, offsetof(model_step, model), ZOO_OPT_REQUIRED, .help = NULL},
    {"--to", ZOO_OPT_PATH, offsetof(model_step, to), .value = "FILE"},
    {0}};

static const zoo_option LOAD_STEP[] = {
    {"MODEL", ZOO_OPT_PATH, offsetof(model_step, model), ZOO_OPT_REQUIRED, .help = NULL}, {0}};

/* One action: the command a step of it runs, whose options it takes
 * (spelled max_new_tokens for --max-new-tokens; a path option's value
 * resolves relative to the script), or its own. */
typedef struct action {
    const char *name;
    const zoo_command *command;
    const zoo_option *options; /* when command is NULL */
} action;

static const action ACTIONS[] = {
    {"train", NULL, TRAIN_STEP},
    {"eval", &zoo_cmd_eval, NULL},
    {"save", NULL, SAVE_STEP},
    {"load", NULL, LOAD_STEP},
    {"generate", &zoo_cmd_generate, NULL},
    {"fill-mask", &zoo_cmd_fill_mask, NULL},
    {"embed", &zoo_cmd_embed, NULL},
    {"forward", &zoo_cmd_forward, NULL},
    {"call", &zoo_cmd_call, NULL},
    {"finetune", &zoo_cmd_finetune, NULL},
};
#define N_ACTIONS (int)(sizeof ACTIONS / sizeof ACTIONS[0])

static const zoo_option *options_of(const action *a) {
    return a->command ? a->command->options : a->options;
}

/* The option entry a step's key names ("max_new_tokens": --max-new-tokens), or NULL. */
static const zoo_option *option_named(const action *a, const char *key) {
    if (strchr(key, '-')) return NULL; /* keys are spelled with '_' */
    for (const zoo_option *o = options_of(a); o->name; o++) {
        if (strncmp(o->name, "--", 2) != 0) continue;
        for (int i = 0; i < 2; i++) { /* its name, or another spelling ("prompt" for "text") */
            const char *x = i ? o->alias : o->name, *k = key;
            if (!x || strncmp(x, "--", 2) != 0) continue;
            for (x += 2; *x && *k && (*x == *k || (*x == '-' && *k == '_'));) x++, k++;
            if (!*x && !*k) return o;
        }
    }
    return NULL;
}

/* The positional a step's "args" fill: a repeated one after the first (call's ARG...). */
static const zoo_option *rest_positional(const action *a) {
    for (const zoo_option *o = options_of(a); o->name; o++)
        if (strncmp(o->name, "--", 2) != 0 && (o->flags & ZOO_OPT_REPEAT)) return o;
    return NULL;
}

/* The steps that make a run directory, and so may find one from an earlier run. */
static bool makes_run(const action *a) {
    return strcmp(a->name, "train") == 0 || strcmp(a->name, "finetune") == 0;
}

static bool known_key(const action *a, const char *key) {
    return strcmp(key, a->name) == 0 || strcmp(key, "id") == 0 || option_named(a, key) ||
           (strcmp(key, "args") == 0 && rest_positional(a)) ||
           (strcmp(key, "if_exists") == 0 && makes_run(a));
}

/* The nearest key of a to `key`, for "did you mean". */
static const char *suggest_key(const action *a, const char *key) {
    static char names[32][32];
    const char *list[33];
    int n = 0;
    for (const zoo_option *o = options_of(a); o->name && n < 32; o++) {
        if (strncmp(o->name, "--", 2) != 0) continue;
        for (int i = 0; i < 2 && n < 32; i++) { /* its name, and another spelling */
            const char *x = i ? o->alias : o->name;
            if (!x || strncmp(x, "--", 2) != 0) continue;
            snprintf(names[n], sizeof names[n], "%s", x + 2);
            for (char *c = names[n]; *c; c++) *c = *c == '-' ? '_' : *c;
            list[n] = names[n], n++;
        }
    }
    if (rest_positional(a)) list[n++] = "args";
    return zoo_suggest(key, list, n);
}

typedef struct produced {
    char *id, *run_dir, *checkpoint;
} produced;

/* What a step does with a run directory that already holds a run. */
typedef enum if_exists { IF_EXISTS_FAIL, IF_EXISTS_SKIP, IF_EXISTS_RESUME } if_exists;

typedef struct script {
    zoo_cli *cli;
    const char *path;
    if_exists if_exists; /* the script's default */
    produced *steps;     /* one per step of the script */
    int n;
    int index; /* the step being run */
    const char *action;
} script;

static int step_fail(script *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int step_fail(script *s, const char *fmt, ...) {
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return zoo_cli_fail(s->cli, ZOO_EXIT_FAILURE, "%s: steps[%d]%s%s%s: %s", s->path, s->index,
                        s->action ? " (" : "", s->action ? s->action : "", s->action ? ")" : "",
                        msg);
}

/* text with every ${ID.FIELD} replaced; NULL after reporting an error. */
static char *substitute(script *s, const char *text) {
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    for (const char *p = text; *p;) {
        const char *open = strstr(p, "${");
        if (!open) {
            fputs(p, f);
            break;
        }
        fwrite(p, 1, (size_t)(open - p), f);
        const char *close = strchr(open, '}'), *dot = strchr(open, '.');
        if (!close || !dot || dot > close) {
            fclose(f);
            free(out);
            step_fail(s, "\"%s\": expected ${ID.run_dir} or ${ID.checkpoint}", text);
            return NULL;
        }
        char id[128], field[64];
        snprintf(id, sizeof id, "%.*s", (int)(dot - open - 2), open + 2);
        snprintf(field, sizeof field, "%.*s", (int)(close - dot - 1), dot + 1);
        const char *value = NULL;
        bool known = false;
        for (int i = 0; i < s->n; i++)
            if (s->steps[i].id && strcmp(s->steps[i].id, id) == 0) {
                known = true;
                value = strcmp(field, "run_dir") == 0      ? s->steps[i].run_dir
                        : strcmp(field, "checkpoint") == 0 ? s->steps[i].checkpoint
                                                           : NULL;
            }
        if (!value) {
            fclose(f);
            free(out);
            if (!known)
                step_fail(s, "${%s.%s}: no earlier step has the id '%s'", id, field, id);
            else if (strcmp(field, "run_dir") && strcmp(field, "checkpoint"))
                step_fail(s, "${%s.%s}: a step produces run_dir and checkpoint, not '%s'", id,
                          field, field);
            else
                step_fail(s, "${%s.%s}: step '%s' produced no %s", id, field, id, field);
            return NULL;
        }
        fputs(value, f);
        p = close + 1;
    }
    fclose(f);
    return out;
}

/* A JSON scalar as command-line text; paths resolved against the script. */
static char *value_text(script *s, const cJSON *v, bool path) {
    char buf[64];
    if (cJSON_IsString(v)) {
        char *text = substitute(s, v->valuestring);
        if (text && path && text[0] != '/' && strncmp(v->valuestring, "${", 2) != 0) {
            char *resolved = zoo_path_relative_to(s->path, text);
            free(text);
            return resolved;
        }
        return text;
    }
    if (cJSON_IsNumber(v))
        snprintf(buf, sizeof buf, "%.17g", v->valuedouble);
    else if (cJSON_IsBool(v))
        snprintf(buf, sizeof buf, "%s", cJSON_IsTrue(v) ? "true" : "false");
    else if (cJSON_IsNull(v))
        snprintf(buf, sizeof buf, "null");
    else {
        step_fail(s, "expected a string, number or boolean");
        return NULL;
    }
    return strdup(buf);
}

/* Whether a step's key (or "", the action's own value: the first positional) is a path. */
static bool is_path(const action *a, const char *key) {
    const zoo_option *o = NULL;
    if (*key)
        o = option_named(a, key);
    else
        for (o = options_of(a); o->name && strncmp(o->name, "--", 2) == 0;) o++;
    return o && o->name && o->type == ZOO_OPT_PATH;
}

/* An argv under construction, as long as the step needs (a fixed one
 * dropped what did not fit); every string is owned, v[n] is NULL. nomem
 * records a string or a slot that could not be allocated. */
typedef struct args {
    char **v;
    int n, cap;
    bool nomem;
} args;

static void push(args *a, char *s) {
    if (s && a->n + 1 >= a->cap) {
        int cap = a->cap ? 2 * a->cap : 16;
        char **v = realloc(a->v, (size_t)cap * sizeof *v);
        if (!v)
            free(s), s = NULL;
        else
            a->v = v, a->cap = cap;
    }
    if (!s) {
        a->nomem = true;
        return;
    }
    a->v[a->n++] = s;
    a->v[a->n] = NULL;
}

static void free_args(args *a) {
    for (int i = 0; i < a->n; i++) free(a->v[i]);
    free(a->v);
}

/* "--max-new-tokens" for "max_new_tokens" */
static char *flag_of(const char *option) {
    char *f = malloc(strlen(option) + 3);
    sprintf(f, "--%s", option);
    for (char *c = f + 2; *c; c++)
        if (*c == '_') *c = '-';
    return f;
}

/* Options of the step (but the action and id) as --flag value pairs; arrays repeat the flag. */
static int options_to_args(script *s, const action *a, const cJSON *step, args *out) {
    for (const cJSON *o = step->child; o; o = o->next) {
        if (strcmp(o->string, a->name) == 0 || strcmp(o->string, "id") == 0 ||
            strcmp(o->string, "if_exists") == 0)
            continue;
        if (strcmp(o->string, "set") == 0 && cJSON_IsObject(o)) {
            for (const cJSON *kv = o->child; kv; kv = kv->next) {
                char *value = value_text(s, kv, false), *pair = NULL;
                if (!value || asprintf(&pair, "%s=%s", kv->string, value) < 0)
                    return free(value), ZOO_EXIT_FAILURE;
                free(value);
                push(out, strdup("--set"));
                push(out, pair);
            }
            continue;
        }
        if (strcmp(o->string, "args") == 0) continue; /* call's positional arguments, added last */
        const zoo_option *flag = option_named(a, o->string);
        if (cJSON_IsBool(o) && flag && flag->type == ZOO_OPT_FLAG) {
            if (cJSON_IsTrue(o)) push(out, flag_of(o->string));
            continue;
        }
        const cJSON *items = cJSON_IsArray(o) ? o->child : o;
        for (const cJSON *it = items; it; it = cJSON_IsArray(o) ? it->next : NULL) {
            char *value = value_text(s, it, is_path(a, o->string));
            if (!value) return ZOO_EXIT_FAILURE;
            push(out, flag_of(o->string));
            push(out, value);
        }
    }
    return 0;
}

static int run_train(script *s, const train_step *t, produced *p) {
    zoo_train_opts o = {.config = t->config,
                        .out = t->out,
                        .sets = t->sets,
                        .n_sets = t->n_sets,
                        .stop_after = t->stop_after,
                        .quiet = t->quiet};
    zoo_cli cli = *s->cli;
    cli.command = "train";
    zoo_train_result result;
    int status = zoo_train(&cli, &o, &result);
    if (status == 0)
        p->run_dir = result.run_dir, p->checkpoint = result.checkpoint;
    else
        free(result.run_dir), free(result.checkpoint);
    return status;
}

/* load: the model opens (plugin, tokenizer, weights); save: its weights, written elsewhere. */
static int run_load_save(script *s, const char *model, const char *to, produced *p) {
    zoo_saved_model m;
    int status = zoo_cli_open_model(s->cli, model, 0, &m);
    if (status) return status;
    if (to && !m.checkpoint)
        status = step_fail(s,
                           "%s is not a zoo checkpoint; save copies zoo checkpoints (zoo export "
                           "writes other formats)",
                           model);
    else if (to) {
        char *tokenizer = m.tokenizer ? zoo_tokenizer_to_json(m.tokenizer) : NULL;
        if (zoo_checkpoint_save(to, m.model, m.checkpoint->config, tokenizer, &m.checkpoint->state,
                                false) != ZOO_OK)
            status = step_fail(s, "%s", zoo_error_message());
        free(tokenizer);
    }
    if (!status) {
        p->checkpoint = strdup(to ? to : m.checkpoint ? m.checkpoint->path : model);
        if (!to && m.checkpoint && strcmp(model, m.checkpoint->path) != 0)
            p->run_dir = strdup(model);
    }
    zoo_cli_close_model(&m);
    return status;
}

/* A policy's name, or -1. */
static int if_exists_of(const char *name) {
    return !strcmp(name, "fail")     ? IF_EXISTS_FAIL
           : !strcmp(name, "skip")   ? IF_EXISTS_SKIP
           : !strcmp(name, "resume") ? IF_EXISTS_RESUME
                                     : -1;
}

static bool file_exists(const char *dir, const char *name) {
    char path[4200];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return stat(path, &st) == 0;
}

/* The run directory a train or finetune step's argv ("train" CONFIG
 * options...) writes, as the command chooses it; NULL when its config does
 * not load (the command then says why). */
static char *run_dir_of(int argc, char **argv) {
    train_step t = {0};
    const zoo_option *tables[] = {TRAIN_STEP, NULL};
    void *outs[] = {&t};
    if (zoo_options_parse(tables, outs, NULL, argc, argv) != ZOO_OK) return NULL;
    zoo_config *c = zoo_config_load(t.config, t.sets, t.n_sets);
    char *dir = c ? zoo_run_dir_choose(t.out, c, t.config) : NULL;
    zoo_config_free(c);
    return dir;
}

/* A finetune step produces its run directory and its latest checkpoint. */
static void finetune_produced(int argc, char **argv, produced *p) {
    if ((p->run_dir = run_dir_of(argc, argv)) &&
        asprintf(&p->checkpoint, "%s/latest.safetensors", p->run_dir) < 0)
        p->checkpoint = NULL;
}

/* A train or finetune step whose run directory already holds a run (a
 * checkpoint or metrics.jsonl): fails naming the step, skips it (*done, the
 * run produced as it is) or continues the run (*done). */
static int existing_run(script *s, const cJSON *step, args *argv, produced *p, bool *done) {
    char *dir = run_dir_of(argv->n, argv->v);
    if (!dir || !(file_exists(dir, "latest.safetensors") || file_exists(dir, "metrics.jsonl"))) {
        free(dir);
        return 0;
    }
    int policy = s->if_exists, status = 0;
    const cJSON *key = cJSON_GetObjectItemCaseSensitive(step, "if_exists");
    if (key && (!cJSON_IsString(key) || (policy = if_exists_of(key->valuestring)) < 0)) {
        free(dir);
        return step_fail(s, "if_exists: expected \"fail\", \"skip\" or \"resume\"");
    }
    *done = true;
    if (policy == IF_EXISTS_FAIL) {
        status = step_fail(s,
                           "%s already holds a run (from an earlier run of the script?); set "
                           "\"if_exists\" to \"resume\" or \"skip\" on the step or the script, "
                           "or choose another \"out\"",
                           dir);
    } else if (policy == IF_EXISTS_SKIP) {
        fprintf(stderr, "zoo run: %s: steps[%d] (%s): skipped, %s already holds a run\n", s->path,
                s->index, s->action, dir);
        p->run_dir = dir, dir = NULL;
        if (file_exists(p->run_dir, "latest.safetensors") &&
            asprintf(&p->checkpoint, "%s/latest.safetensors", p->run_dir) < 0)
            p->checkpoint = NULL;
    } else { /* the step's options but a new run's CONFIG and --out */
        train_step t = {0};
        const zoo_option *tables[] = {TRAIN_STEP, NULL};
        void *outs[] = {&t};
        zoo_options_parse(tables, outs, NULL, argv->n, argv->v); /* run_dir_of parsed it */
        fprintf(stderr, "zoo run: %s: steps[%d] (%s): continuing the run in %s\n", s->path,
                s->index, s->action, dir);
        if (strcmp(s->action, "train") == 0) {
            zoo_train_opts o = {.resume = dir,
                                .sets = t.sets,
                                .n_sets = t.n_sets,
                                .stop_after = t.stop_after,
                                .quiet = t.quiet};
            zoo_cli cli = *s->cli;
            cli.command = "train";
            zoo_train_result result;
            status = zoo_train(&cli, &o, &result);
            if (status == 0)
                p->run_dir = result.run_dir, p->checkpoint = result.checkpoint;
            else
                free(result.run_dir), free(result.checkpoint);
        } else {
            args r = {0};
            char number[32];
            push(&r, strdup("finetune"));
            push(&r, strdup("--resume"));
            push(&r, strdup(dir));
            for (int i = 0; i < t.n_sets; i++)
                push(&r, strdup("--set")), push(&r, strdup(t.sets[i]));
            snprintf(number, sizeof number, "%lld", (long long)t.stop_after);
            if (t.stop_after) push(&r, strdup("--stop-after")), push(&r, strdup(number));
            if (t.quiet) push(&r, strdup("--quiet"));
            zoo_cli cli = *s->cli;
            cli.command = "finetune";
            status = r.nomem ? step_fail(s, "out of memory")
                             : zoo_command_invoke(&cli, &zoo_cmd_finetune, r.n, r.v);
            free_args(&r);
            if (status)
                step_fail(s, "failed (exit %d)", status);
            else {
                p->run_dir = strdup(dir);
                if (asprintf(&p->checkpoint, "%s/latest.safetensors", dir) < 0)
                    p->checkpoint = NULL;
            }
        }
    }
    free(dir);
    return status;
}

static int run_step(script *s, const cJSON *step, produced *p) {
    if (!cJSON_IsObject(step)) return step_fail(s, "expected an object");
    const action *a = NULL;
    for (int i = 0; i < N_ACTIONS; i++)
        if (cJSON_GetObjectItemCaseSensitive(step, ACTIONS[i].name)) {
            if (a)
                return step_fail(s, "two actions in one step ('%s' and '%s')", a->name,
                                 ACTIONS[i].name);
            a = &ACTIONS[i];
        }
    if (!a)
        return step_fail(s, "no action (train, eval, save, load, generate, fill-mask, embed, "
                            "forward, call or finetune)");
    s->action = a->name;
    for (const cJSON *o = step->child; o; o = o->next) { /* every key known, as in configs */
        if (!known_key(a, o->string)) {
            const char *near = suggest_key(a, o->string);
            return near ? step_fail(s, "%s: unknown option (did you mean '%s'?)", o->string, near)
                        : step_fail(s, "%s: unknown option of %s", o->string, a->name);
        }
    }
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(step, "id");
    if (id) {
        bool ok = cJSON_IsString(id) && *id->valuestring;
        for (const char *c = ok ? id->valuestring : ""; *c && ok; c++)
            ok = isalnum((unsigned char)*c) || *c == '_';
        if (!ok) return step_fail(s, "id: expected letters, digits and '_'");
        for (int i = 0; i < s->n; i++)
            if (s->steps[i].id && strcmp(s->steps[i].id, id->valuestring) == 0)
                return step_fail(s, "id: '%s' is already the id of steps[%d]", id->valuestring, i);
        p->id = strdup(id->valuestring);
    }
    args opts = {0}, argv = {0};
    int status = options_to_args(s, a, step, &opts);
    push(&argv, strdup(a->name)); /* the action's argv, as its command reads it */
    char *target =
        status ? NULL
               : value_text(s, cJSON_GetObjectItemCaseSensitive(step, a->name), is_path(a, ""));
    if (!target)
        status = ZOO_EXIT_FAILURE;
    else
        push(&argv, target);
    for (int i = 0; i < opts.n; i++) push(&argv, strdup(opts.v[i]));
    const cJSON *positional = cJSON_GetObjectItemCaseSensitive(step, "args");
    if (positional) {
        push(&argv, strdup("--"));
        for (const cJSON *v = cJSON_IsArray(positional) ? positional->child : positional;
             v && !status; v = cJSON_IsArray(positional) ? v->next : NULL) {
            char *text = value_text(s, v, false);
            if (!text)
                status = ZOO_EXIT_FAILURE;
            else
                push(&argv, text);
        }
    }
    if (!status && (opts.nomem || argv.nomem)) status = step_fail(s, "out of memory");
    bool done = false; /* the run directory's policy settled the step */
    if (!status && makes_run(a) && !cJSON_GetObjectItemCaseSensitive(step, "resume"))
        status = existing_run(s, step, &argv, p, &done);
    if (done) /* skipped, resumed or refused: said so */
        ;
    else if (!status && a->command) {
        zoo_cli cli = *s->cli;
        cli.command = a->command->name;
        status = zoo_command_invoke(&cli, a->command, argv.n, argv.v);
        if (status) step_fail(s, "failed (exit %d)", status);
        if (!status && strcmp(a->name, "finetune") == 0) finetune_produced(argv.n, argv.v, p);
    } else if (!status) {
        train_step t = {0};
        model_step m = {0};
        const zoo_option *tables[] = {a->options, NULL};
        void *outs[] = {a->options == TRAIN_STEP ? (void *)&t : (void *)&m};
        if (zoo_options_parse(tables, outs, NULL, argv.n, argv.v) != ZOO_OK)
            status = step_fail(s, "%s", zoo_error_message());
        else if (a->options == TRAIN_STEP)
            status = run_train(s, &t, p);
        else if (a->options == SAVE_STEP && !m.to)
            status = step_fail(s, "save needs \"to\": the file to write");
        else
            status = run_load_save(s, m.model, m.to, p);
    }
    free_args(&argv);
    free_args(&opts);
    return status;
}

/* What run --json makes of a step: stdout, while the step runs, goes to a
 * temporary file, whose content becomes the step's "result" (the step's own
 * --json document) or "output" (text); then one line
 *   {"step", "id", "action", "run_dir", "checkpoint", "result"}
 * is printed, so that the script's output is JSON Lines. */
typedef struct step_capture {
    FILE *file;
    int saved; /* the real stdout */
} step_capture;

static bool capture_begin(step_capture *c) {
    fflush(stdout);
    c->file = tmpfile();
    c->saved = c->file ? dup(STDOUT_FILENO) : -1;
    if (c->saved < 0 || dup2(fileno(c->file), STDOUT_FILENO) < 0) {
        if (c->saved >= 0) close(c->saved);
        if (c->file) fclose(c->file);
        return false;
    }
    return true;
}

static void capture_end(step_capture *c, const script *s, const produced *p, int status) {
    fflush(stdout);
    dup2(c->saved, STDOUT_FILENO);
    close(c->saved);
    long len = ftell(c->file);
    char *text = len >= 0 ? calloc(1, (size_t)len + 1) : NULL;
    rewind(c->file);
    if (text && fread(text, 1, (size_t)len, c->file) != (size_t)len) text[0] = '\0';
    fclose(c->file);
    cJSON *line = cJSON_CreateObject();
    cJSON_AddNumberToObject(line, "step", s->index);
    p->id ? cJSON_AddStringToObject(line, "id", p->id) : cJSON_AddNullToObject(line, "id");
    s->action ? cJSON_AddStringToObject(line, "action", s->action)
              : cJSON_AddNullToObject(line, "action");
    cJSON_AddBoolToObject(line, "ok", status == 0);
    if (p->run_dir) cJSON_AddStringToObject(line, "run_dir", p->run_dir);
    if (p->checkpoint) cJSON_AddStringToObject(line, "checkpoint", p->checkpoint);
    cJSON *result = text && *text ? cJSON_Parse(text) : NULL;
    if (result)
        cJSON_AddItemToObject(line, "result", result);
    else if (text && *text)
        cJSON_AddStringToObject(line, "output", text);
    char *out = cJSON_PrintUnformatted(line);
    if (out) puts(out);
    fflush(stdout);
    free(out);
    free(text);
    cJSON_Delete(line);
}

typedef struct run_args {
    const char *script;
} run_args;

static const zoo_option OPTIONS[] = {
    {"SCRIPT.json", ZOO_OPT_PATH, offsetof(run_args, script), ZOO_OPT_REQUIRED,
     .help = "{\"steps\": [STEP, ...]}; a step is one action and its options, e.g."},
    {0}};

static int cmd_run(zoo_cli *cli, void *opts) {
    const char *path = ((const run_args *)opts)->script;
    script s = {.cli = cli, .path = path};
    size_t len;
    char *text = zoo_read_file_max(path, &len, ZOO_READ_MAX_JSON);
    if (!text) return zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "%s", zoo_error_message());
    cJSON *doc = cJSON_Parse(text);
    free(text);
    const cJSON *steps = cJSON_GetObjectItemCaseSensitive(doc, "steps");
    const cJSON *policy = cJSON_GetObjectItemCaseSensitive(doc, "if_exists");
    int status = 0;
    if (!doc)
        status = zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "%s: malformed JSON", path);
    else if (!cJSON_IsObject(doc) || !cJSON_IsArray(steps) ||
             cJSON_GetArraySize(doc) != 1 + (policy != NULL))
        status = zoo_cli_fail(cli, ZOO_EXIT_FAILURE,
                              "%s: a script is {\"steps\": [ ... ]}, with \"if_exists\" beside "
                              "it or not",
                              path);
    else if (policy && (!cJSON_IsString(policy) || if_exists_of(policy->valuestring) < 0))
        status = zoo_cli_fail(cli, ZOO_EXIT_FAILURE,
                              "%s: if_exists: expected \"fail\", \"skip\" or \"resume\"", path);
    else if (policy)
        s.if_exists = (if_exists)if_exists_of(policy->valuestring);
    if (!status && !(s.steps = calloc((size_t)cJSON_GetArraySize(steps) + 1, sizeof *s.steps)))
        status = zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "%s: out of memory", path);
    for (const cJSON *step = steps ? steps->child : NULL; step && !status; step = step->next) {
        s.index = s.n;
        s.action = NULL;
        step_capture c;
        bool captured = cli->json && capture_begin(&c);
        if (cli->json && !captured) {
            status = zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "--json: no temporary file for a step");
            break;
        }
        status = run_step(&s, step, &s.steps[s.n]);
        if (captured) capture_end(&c, &s, &s.steps[s.n], status);
        s.n++;
    }
    for (int i = 0; i < s.n; i++)
        free(s.steps[i].id), free(s.steps[i].run_dir), free(s.steps[i].checkpoint);
    free(s.steps);
    cJSON_Delete(doc);
    return status;
}

const zoo_command zoo_cmd_run = {
    .name = "run",
    .run = cmd_run,
    .options = OPTIONS,
    .opts_size = sizeof(run_args),
    .summary = "run a script of steps: train, eval, save, load, generate, fill-mask, embed, "
               "forward, call, finetune",
    .json_help =
        "JSON Lines: one {\"step\", \"id\", \"action\", \"ok\", \"run_dir\", \"checkpoint\",\n"
        "\"result\"} a step, \"result\" the step's own --json document (\"output\": its\n"
        "text, for a step that prints no JSON)",
    .notes =
        "      {\"id\": \"pre\", \"train\": \"config.json\", \"set\": {\"train.steps\": 100}, "
        "\"out\": "
        "\"runs/pre\"}\n"
        "      {\"eval\": \"${pre.checkpoint}\", \"data\": \"held-out.txt\", \"batches\": 10}\n"
        "      {\"save\": \"${pre.checkpoint}\", \"to\": \"model.safetensors\"}   (weights only)\n"
        "      {\"load\": \"runs/pre\"}   (checks the model opens; ${ID.checkpoint} names it)\n"
        "      {\"generate\": MODEL, \"prompt\": \"...\", \"max_new_tokens\": 50, \"seed\": 1}\n"
        "      {\"fill-mask\": MODEL, \"text\": \"... [MASK] ...\"}  {\"embed\": MODEL, \"text\": "
        "\"...\", \"out\": \"x.npy\"}\n"
        "      {\"forward\": MODEL, \"ids\": \"ids.txt\", \"out\": \"logits.npy\"}\n"
        "      {\"call\": \"PLUGIN.FUNCTION\", \"model\": MODEL, \"args\": [5]}\n"
        "      {\"finetune\": \"sst2.json\", \"set\": {\"finetune.base\": \"${pre.run_dir}\"}}\n"
        "  Options are the command's own, without the dashes (max_new_tokens for "
        "--max-new-tokens).\n"
        "  ${ID.run_dir} and ${ID.checkpoint} name what an earlier step with that id produced;\n"
        "  paths resolve relative to the script. The first error stops the script.\n"
        "  A train or finetune step whose run directory already holds a run (a script run\n"
        "  again) does what its \"if_exists\" says, or the script's beside \"steps\": \"fail\"\n"
        "  (the default), \"skip\" (the run is used as it is) or \"resume\" (it continues).\n"};
