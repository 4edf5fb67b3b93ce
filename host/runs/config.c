#include "config.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "files.h"
#include "json_type.h"
#include "zoo/io.h"
#include "zoo/json.h"
#include "zoo/status.h"

typedef enum key_kind {
    K_OBJECT,
    K_INT,
    K_NUMBER,
    K_BOOL,
    K_STRING,
    K_ENUM,  /* a string from choices */
    K_PATH,  /* a string, resolved relative to the file that names it */
    K_PATHS, /* a path or an array of paths */
    K_PAIR,  /* an array of two numbers */
} key_kind;

typedef struct config_key {
    const char *path;
    key_kind kind;
    const char *def; /* default as JSON text; NULL: required (or an object) */
    bool nullable;
    bool has_min, has_max;
    double min, max;
    bool max_exclusive;
    const char *choices; /* K_ENUM: "a|b|c" */
    const char *help;
} config_key;

/* Every key the host understands: the one place each setting lives. */
static const config_key KEYS[] = {
    {"extends", K_PATH, "null", true,
     .help = "a base config merged under this one (relative to this file)"},
    {"model", K_OBJECT, .help = "the plugin and its hyperparameters (see zoo info PLUGIN)"},
    {"model.plugin", K_STRING, NULL, .help = "the plugin's registry name"},
    {"data", K_OBJECT, .help = "corpus, tokenizer and windows"},
    {"data.train", K_PATHS, NULL, .help = "training text: a UTF-8 file or a list of them"},
    {"data.val", K_PATHS, "null", true,
     .help = "validation text; null: the last val_fraction of data.train"},
    {"data.val_fraction", K_NUMBER, "0.1", .has_min = true, .min = 0, .has_max = true, .max = 1,
     .max_exclusive = true, .help = "share of data.train held out when data.val is null"},
    {"data.invalid_utf8", K_ENUM, "\"error\"", .choices = "error|replace",
     .help =
         "invalid UTF-8: an error naming file and byte offset, or replaced by U+FFFD and counted"},
    {"data.tokenizer", K_OBJECT, .help = "how text becomes ids"},
    {"data.tokenizer.type", K_STRING, "\"char\"",
     .help = "char, word, gpt2 (byte-level BPE), wordpiece (BERT's), or a type a plugin provides "
             "(its registry entry lists it under \"tokenizers\"; zoo loads that plugin)"},
    {"data.tokenizer.path", K_PATH, "null", true,
     .help = "pretrained tokenizer files to load instead of training one, for the types that "
             "load from files (gpt2: a directory with vocab.json + merges.txt, or encoder.json + "
             "vocab.bpe; wordpiece: vocab.txt or its directory)"},
    {"data.tokenizer.lowercase", K_BOOL, "false",
     .help = "word tokenizer: lower-case the text first"},
    {"data.tokenizer.split", K_ENUM, "\"punctuation\"", .choices = "whitespace|punctuation",
     .help = "word tokenizer: split on whitespace only, or on punctuation too"},
    {"data.tokenizer.min_count", K_INT, "1", .has_min = true, .min = 1,
     .help = "vocabulary: drop tokens seen fewer times"},
    {"data.tokenizer.max_size", K_INT, "0", .has_min = true, .min = 0,
     .help = "vocabulary: keep at most this many (0: no limit)"},
    {"data.seq_len", K_INT, "64", .has_min = true, .min = 1,
     .help = "training window in tokens; a model's context defaults to it"},
    {"train", K_OBJECT, .help = "the training loop"},
    {"train.steps", K_INT, "null", true, .has_min = true, .min = 1,
     .help = "optimizer steps (exactly one of steps, epochs and tokens)"},
    {"train.epochs", K_INT, "null", true, .has_min = true, .min = 1,
     .help = "passes over the training data (exactly one of steps, epochs and tokens)"},
    {"train.tokens", K_INT, "null", true, .has_min = true, .min = 1,
     .help = "training tokens: steps of batch_size x seq_len tokens (word vectors: seq_len) "
             "to cover them, rounded up (exactly one of steps, epochs and tokens)"},
    {"train.max_seconds", K_NUMBER, "null", true, .has_min = true, .min = 0,
     .help = "stop, evaluated and saved, once training has taken this long; the schedule "
             "stays planned for the whole run (a budget in time is not reproducible)"},
    {"train.batch_size", K_INT, "12", .has_min = true, .min = 1, .help = "sequences per step"},
    {"train.seed", K_INT, "1337", .has_min = true, .min = 0,
     .help = "seeds initialisation, batches and dropout"},
    {"train.init", K_PATH, "null", true,
     .help = "a checkpoint or run directory whose weights start this run (continued training on "
             "new text); its tokenizer is kept"},
    {"train.threads", K_INT, "0", .has_min = true, .min = 0,
     .help = "threads (0: all CPUs); --threads overrides"},
    {"train.optimizer", K_OBJECT, .help = "the optimizer"},
    {"train.optimizer.name", K_ENUM, "\"adamw\"", .choices = "sgd|adam|adamw",
     .help = "sgd, adam or adamw"},
    {"train.optimizer.lr", K_NUMBER, "0.001", .has_min = true, .min = 0,
     .help = "peak learning rate"},
    {"train.optimizer.betas", K_PAIR, "[0.9, 0.999]", .help = "Adam's beta1 and beta2"},
    {"train.optimizer.eps", K_NUMBER, "1e-08", .has_min = true, .min = 0, .help = "Adam's epsilon"},
    {"train.optimizer.weight_decay", K_NUMBER, "0", .has_min = true, .min = 0,
     .help =
         "L2 (sgd, adam) or decoupled (adamw) weight decay; biases and norms are exempt in adamw"},
    {"train.optimizer.momentum", K_NUMBER, "0", .has_min = true, .min = 0, .help = "SGD momentum"},
    {"train.schedule", K_OBJECT, .help = "the learning-rate schedule"},
    {"train.schedule.name", K_ENUM, "\"constant\"", .choices = "constant|cosine|linear",
     .help = "constant, or linear warm-up then cosine or linear decay to min_lr"},
    {"train.schedule.warmup", K_INT, "0", .has_min = true, .min = 0, .help = "warm-up steps"},
    {"train.schedule.min_lr", K_NUMBER, "0", .has_min = true, .min = 0,
     .help = "the floor reached at the last step"},
    {"train.grad_clip", K_NUMBER, "1", .has_min = true, .min = 0,
     .help = "clip gradients to this global L2 norm (0: no clipping)"},
    {"train.eval_every", K_INT, "0", .has_min = true, .min = 0,
     .help = "evaluate on held-out data every N steps (0: only at the end)"},
    {"train.eval_batches", K_INT, "20", .has_min = true, .min = 1,
     .help = "batches per evaluation"},
    {"train.checkpoint_every", K_INT, "0", .has_min = true, .min = 0,
     .help = "save a checkpoint every N steps (0: only at the end)"},
    {"train.keep", K_INT, "3", .has_min = true, .min = 1,
     .help = "step checkpoints to keep (latest is kept too)"},
    {"train.bucket_mb", K_NUMBER, "25", .has_min = true, .min = 0.001,
     .help = "data-parallel runs (MPI): gradients are summed over the processes in pieces of "
             "about this many MiB"},
    {"train.check_every", K_INT, "100", .has_min = true, .min = 0,
     .help = "data-parallel runs: compare a checksum of the parameters across the processes "
             "every N steps (self-updating plugins: after each sync), stopping if they differ "
             "(0: never)"},
    {"train.sync_every", K_INT, "100000", .has_min = true, .min = 0,
     .help = "data-parallel runs of self-updating plugins (word2vec): after each process has "
             "trained on this many words, its parameters become their values at the last sync "
             "plus every process's updates since (0: only to save or evaluate)"},
    {"train.run_dir", K_PATH, "null", true,
     .help = "where the run is written; null: runs/CONFIG_NAME; --out overrides"},
    {"finetune", K_OBJECT, .help = "zoo finetune: a classification head on a pretrained model"},
    {"finetune.base", K_PATH, "null", true,
     .help = "the pretrained model: a checkpoint, run directory or foreign model directory a "
             "plugin imports, such as HuggingFace's (then model and data.train may be left out)"},
    {"finetune.train", K_PATHS, "null", true, .help = "labeled training examples, one per line"},
    {"finetune.eval", K_PATHS, "null", true,
     .help = "labeled held-out examples: accuracy is measured on them"},
    {"finetune.format", K_ENUM, "\"tsv\"", .choices = "tsv|sst|trec",
     .help = "tsv: LABEL<TAB>TEXT; sst: LABEL TEXT (label the first word); trec: COARSE:fine TEXT "
             "(label COARSE)"},
    {"finetune.freeze", K_BOOL, "false",
     .help = "train the head only, the pretrained model frozen"},
    {"finetune.dropout", K_NUMBER, "0.1", .has_min = true, .min = 0, .has_max = true, .max = 1,
     .max_exclusive = true, .help = "dropout before the head"},
    {"finetune.bow_lr", K_NUMBER, "0.01", .has_min = true, .min = 0,
     .help = "learning rate of the bag-of-words logistic-regression baseline (trained from zero)"},
    {"eval", K_OBJECT, .help = "evaluation after training (optional)"},
    {"eval.data", K_PATHS, "null", true, .help = "text to evaluate on; null: the validation split"},
    {"eval.batches", K_INT, "0", .has_min = true, .min = 0,
     .help = "batches to evaluate (0: all of it)"},
};
#define N_KEYS (int)(sizeof KEYS / sizeof KEYS[0])
#define MAX_EXTENDS_DEPTH 16

typedef struct origin {
    char *path, *file;
} origin;

struct zoo_config {
    cJSON *root;
    char *name;
    origin *origins;
    int n_origins;
};

static const config_key *find_key(const char *path) {
    for (int i = 0; i < N_KEYS; i++)
        if (strcmp(KEYS[i].path, path) == 0) return &KEYS[i];
    return NULL;
}

static void set_origin(zoo_config *c, const char *path, const char *file) {
    for (int i = 0; i < c->n_origins; i++)
        if (strcmp(c->origins[i].path, path) == 0) {
            free(c->origins[i].file);
            c->origins[i].file = strdup(file);
            return;
        }
    origin *grown = realloc(c->origins, (size_t)(c->n_origins + 1) * sizeof *grown);
    if (!grown) return;
    c->origins = grown;
    c->origins[c->n_origins++] = (origin){strdup(path), strdup(file)};
}

const char *zoo_config_origin(const zoo_config *c, const char *path) {
    for (int i = 0; i < c->n_origins; i++)
        if (strcmp(c->origins[i].path, path) == 0) return c->origins[i].file;
    return c->name;
}

const char *zoo_config_name(const zoo_config *c) {
    return c->name;
}

/* What a value looked like, for "got ...": the string quoted, a number, or its type. */
static void describe(const cJSON *v, char *buf, size_t size) {
    if (cJSON_IsString(v))
        snprintf(buf, size, "\"%.200s\"", v->valuestring);
    else if (cJSON_IsNumber(v))
        snprintf(buf, size, "%.17g", v->valuedouble);
    else if (cJSON_IsBool(v))
        snprintf(buf, size, "%s", cJSON_IsTrue(v) ? "true" : "false");
    else
        snprintf(buf, size, "%s", zoo_json_type(v));
}

/* "an integer >= 1", "one of error, replace" */
static void expected(const config_key *k, char *buf, size_t size) {
    static const char *kinds[] = {"an object",
                                  "an integer",
                                  "a number",
                                  "true or false",
                                  "a string",
                                  "",
                                  "a path (string)",
                                  "a path or an array of paths",
                                  "an array of two numbers"};
    if (k->kind == K_ENUM) {
        size_t n = (size_t)snprintf(buf, size, "one of ");
        for (const char *p = k->choices; *p && n + 2 < size; p++) {
            if (*p == '|')
                buf[n++] = ',', buf[n++] = ' ';
            else
                buf[n++] = *p;
        }
        buf[n] = '\0';
        return;
    }
    int n = snprintf(buf, size, "%s", kinds[k->kind]);
    if (k->has_min && k->has_max)
        snprintf(buf + n, size - (size_t)n, " in [%g, %g%s", k->min, k->max,
                 k->max_exclusive ? ")" : "]");
    else if (k->has_min)
        snprintf(buf + n, size - (size_t)n, " >= %g", k->min);
    if (k->nullable) strncat(buf, " or null", size - strlen(buf) - 1);
}

static int fail_value(const char *file, const config_key *k, const cJSON *v) {
    char want[256], got[256];
    expected(k, want, sizeof want);
    describe(v, got, sizeof got);
    return zoo_error(ZOO_ERR_ARG, "%s: %s: expected %s, got %s", file, k->path, want, got);
}

static bool in_choices(const char *choices, const char *s) {
    size_t len = strlen(s);
    for (const char *p = choices; p && *p;) {
        const char *bar = strchr(p, '|');
        size_t n = bar ? (size_t)(bar - p) : strlen(p);
        if (n == len && strncmp(p, s, n) == 0) return true;
        p = bar ? bar + 1 : NULL;
    }
    return false;
}

static bool number_fits(const config_key *k, double v) {
    if (!isfinite(v)) return false;
    if (k->kind == K_INT && (v != floor(v) || fabs(v) > 9007199254740992.0)) return false;
    if (k->has_min && v < k->min) return false;
    if (k->has_max && (k->max_exclusive ? v >= k->max : v > k->max)) return false;
    return true;
}

/* Checks v against k; rewrites paths relative to file. */
static int check_value(const char *file, const config_key *k, cJSON *v) {
    if (cJSON_IsNull(v)) return k->nullable ? ZOO_OK : fail_value(file, k, v);
    switch (k->kind) {
    case K_OBJECT:
        return cJSON_IsObject(v) ? ZOO_OK : fail_value(file, k, v);
    case K_INT:
    case K_NUMBER:
        return cJSON_IsNumber(v) && number_fits(k, v->valuedouble) ? ZOO_OK
                                                                   : fail_value(file, k, v);
    case K_BOOL:
        return cJSON_IsBool(v) ? ZOO_OK : fail_value(file, k, v);
    case K_STRING:
        return cJSON_IsString(v) && *v->valuestring ? ZOO_OK : fail_value(file, k, v);
    case K_ENUM:
        return cJSON_IsString(v) && in_choices(k->choices, v->valuestring) ? ZOO_OK
                                                                           : fail_value(file, k, v);
    case K_PAIR:
        if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) != 2 || !cJSON_IsNumber(v->child) ||
            !cJSON_IsNumber(v->child->next))
            return fail_value(file, k, v);
        return ZOO_OK;
    case K_PATH:
    case K_PATHS: {
        if (cJSON_IsString(v) && *v->valuestring) {
            /* absolute, so the resolved config in a run directory still finds it */
            char *resolved = zoo_path_relative_to(file, v->valuestring), cwd[4096],
                 *absolute = NULL;
            if (resolved && resolved[0] != '/' && getcwd(cwd, sizeof cwd) &&
                asprintf(&absolute, "%s/%s", cwd,
                         resolved[0] == '.' && resolved[1] == '/' ? resolved + 2 : resolved) >= 0) {
                free(resolved);
                resolved = absolute;
            }
            cJSON_SetValuestring(v, resolved);
            free(resolved);
            return ZOO_OK;
        }
        if (k->kind == K_PATH || !cJSON_IsArray(v) || !v->child) return fail_value(file, k, v);
        for (cJSON *p = v->child; p; p = p->next)
            if (check_value(file, k, p) != ZOO_OK || !cJSON_IsString(p))
                return fail_value(file, k, v);
        return ZOO_OK;
    }
    }
    return fail_value(file, k, v);
}

/* The known key closest to `name` among the children of `parent` ("" for the top). */
static const char *suggest(const char *parent, const char *name) {
    const char *children[N_KEYS];
    int n = 0;
    size_t plen = strlen(parent);
    for (int i = 0; i < N_KEYS; i++) {
        const char *p = KEYS[i].path;
        if (plen ? strncmp(p, parent, plen) != 0 || p[plen] != '.' : false) continue;
        const char *child = plen ? p + plen + 1 : p;
        if (!strchr(child, '.')) children[n++] = child;
    }
    return zoo_suggest(name, children, n);
}

/* Validates the keys of one file's object at `prefix`, recording origins. */
static int check_object(zoo_config *c, const char *file, cJSON *obj, const char *prefix) {
    for (cJSON *item = obj->child; item; item = item->next) {
        char path[256];
        if (snprintf(path, sizeof path, "%s%s%s", prefix, *prefix ? "." : "", item->string) >=
            (int)sizeof path)
            return zoo_error(ZOO_ERR_ARG, "%s: %s.%.40s...: unknown key", file, prefix,
                             item->string);
        const config_key *k = find_key(path);
        bool hyperparameter = strcmp(prefix, "model") == 0 && strcmp(item->string, "plugin") != 0;
        if (hyperparameter) { /* the plugin's schema judges these; only plain values fit */
            if (cJSON_IsObject(item) || cJSON_IsArray(item) || cJSON_IsNull(item))
                return zoo_error(ZOO_ERR_ARG,
                                 "%s: %s: expected a number, true/false or a string, got %s", file,
                                 path, zoo_json_type(item));
            set_origin(c, path, file);
            continue;
        }
        if (!k) {
            const char *near = suggest(prefix, item->string);
            if (near)
                return zoo_error(ZOO_ERR_ARG, "%s: %s: unknown key (did you mean '%s%s%s'?)", file,
                                 path, prefix, *prefix ? "." : "", near);
            return zoo_error(ZOO_ERR_ARG, "%s: %s: unknown key", file, path);
        }
        int st = check_value(file, k, item);
        if (st) return st;
        set_origin(c, path, file);
        if (k->kind == K_OBJECT && (st = check_object(c, file, item, path))) return st;
    }
    return ZOO_OK;
}

static void record_origins(zoo_config *c, const char *file, const cJSON *obj, const char *prefix) {
    for (const cJSON *item = obj->child; item; item = item->next) {
        char path[256];
        if (snprintf(path, sizeof path, "%s%s%s", prefix, *prefix ? "." : "", item->string) >=
            (int)sizeof path)
            continue; /* no key of the schema is that long */
        set_origin(c, path, file);
        if (cJSON_IsObject(item)) record_origins(c, file, item, path);
    }
}

/* Merges src into dst: objects key by key, everything else replaced. Takes src's items. */
static void merge(cJSON *dst, cJSON *src) {
    while (src->child) {
        cJSON *item = cJSON_DetachItemViaPointer(src, src->child);
        cJSON *mine = cJSON_GetObjectItemCaseSensitive(dst, item->string);
        if (mine && cJSON_IsObject(mine) && cJSON_IsObject(item)) {
            merge(mine, item);
            cJSON_Delete(item);
        } else if (mine) {
            cJSON_ReplaceItemViaPointer(dst, mine, item);
        } else {
            cJSON_AddItemToObject(dst, item->string, item);
        }
    }
}

static cJSON *parse_text(const char *text, size_t len, const char *file) {
    if (zoo_json_check_text(file, text, len)) return NULL;
    const char *end = NULL;
    cJSON *doc = cJSON_ParseWithLengthOpts(text, len + 1, &end, true);
    if (doc && zoo_json_check_keys(file, doc)) {
        cJSON_Delete(doc);
        return NULL;
    }
    if (!doc) {
        int line = 1, col = 1;
        for (const char *p = text; end && p < end; p++) col = *p == '\n' ? (line++, 1) : col + 1;
        zoo_error(ZOO_ERR_FORMAT, "%s:%d:%d: malformed JSON", file, line, col);
        return NULL;
    }
    if (!cJSON_IsObject(doc)) {
        zoo_error(ZOO_ERR_FORMAT, "%s: a config is a JSON object, not %s", file,
                  zoo_json_type(doc));
        cJSON_Delete(doc);
        return NULL;
    }
    return doc;
}

/* One file and, first, its bases: the merged tree. */
static cJSON *load_tree(zoo_config *c, const char *text, size_t len, const char *file, int depth) {
    if (depth > MAX_EXTENDS_DEPTH) {
        zoo_error(ZOO_ERR_FORMAT, "%s: extends: more than %d levels (a cycle?)", file,
                  MAX_EXTENDS_DEPTH);
        return NULL;
    }
    cJSON *doc = parse_text(text, len, file);
    if (!doc || check_object(c, file, doc, "") != ZOO_OK) {
        cJSON_Delete(doc);
        return NULL;
    }
    cJSON *ext = cJSON_DetachItemFromObjectCaseSensitive(doc, "extends");
    if (!ext || cJSON_IsNull(ext)) {
        cJSON_Delete(ext);
        return doc;
    }
    size_t base_len = 0;
    char *base_text = zoo_read_file_max(ext->valuestring, &base_len, ZOO_READ_MAX_JSON);
    cJSON *base = NULL;
    if (!base_text)
        zoo_error(ZOO_ERR_IO, "%s: extends: %s", file, zoo_error_message());
    else
        base = load_tree(c, base_text, base_len, ext->valuestring, depth + 1);
    free(base_text);
    if (base) {
        record_origins(c, file, doc, ""); /* this file's keys override the base's */
        merge(base, doc);
    }
    cJSON_Delete(doc);
    cJSON_Delete(ext);
    return base;
}

/* The node at a dotted path, creating objects on the way when create. */
static cJSON *node_at(cJSON *root, const char *path, bool create, cJSON **parent,
                      const char **leaf) {
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    cJSON *node = root;
    char *save = NULL, *part = strtok_r(buf, ".", &save);
    while (part) {
        char *next = strtok_r(NULL, ".", &save);
        if (!next) {
            if (parent) *parent = node;
            if (leaf) *leaf = path + (part - buf);
            return cJSON_GetObjectItemCaseSensitive(node, part);
        }
        cJSON *child = cJSON_GetObjectItemCaseSensitive(node, part);
        if (!child && create) child = cJSON_AddObjectToObject(node, part);
        if (!cJSON_IsObject(child)) return NULL;
        node = child;
        part = next;
    }
    return NULL;
}

/* --set PATH=TEXT, the text read as the key's type. */
static int apply_set(zoo_config *c, const char *set) {
    const char *eq = strchr(set, '=');
    if (!eq || eq == set) return zoo_error(ZOO_ERR_ARG, "--set %s: expected KEY=VALUE", set);
    char path[256];
    snprintf(path, sizeof path, "%.*s", (int)(eq - set), set);
    const char *text = eq + 1;
    const config_key *k = find_key(path);
    bool hyperparameter = strncmp(path, "model.", 6) == 0 && strcmp(path, "model.plugin") != 0 &&
                          !strchr(path + 6, '.');
    if (!k && !hyperparameter) {
        char parent[256];
        snprintf(parent, sizeof parent, "%s", path);
        char *dot = strrchr(parent, '.');
        const char *leaf = dot ? dot + 1 : parent;
        if (dot)
            *dot = '\0';
        else
            parent[0] = '\0';
        const char *near = suggest(parent, leaf);
        if (near)
            return zoo_error(ZOO_ERR_ARG, "--set %s: unknown key (did you mean '%s%s%s'?)", path,
                             parent, *parent ? "." : "", near);
        return zoo_error(ZOO_ERR_ARG, "--set %s: unknown key", path);
    }
    if (k && k->kind == K_OBJECT)
        return zoo_error(ZOO_ERR_ARG, "--set %s: a section, not a value", path);
    cJSON *value = NULL;
    if (hyperparameter || k->kind == K_STRING || k->kind == K_ENUM || k->kind == K_PATH) {
        value = strcmp(text, "null") == 0 && k && k->nullable ? cJSON_CreateNull()
                                                              : cJSON_CreateString(text);
    } else {
        value = cJSON_Parse(text); /* numbers, true/false, null, [a, b] */
        if (!value && k->kind == K_PATHS) value = cJSON_CreateString(text);
        if (!value) value = cJSON_CreateString(text); /* reported as a wrong type below */
    }
    if (k) {
        char cwd_file[] = "./--set"; /* --set paths resolve against the working directory */
        if (check_value(cwd_file, k, value) != ZOO_OK) {
            char want[256], got[256];
            expected(k, want, sizeof want);
            describe(value, got, sizeof got);
            cJSON_Delete(value);
            return zoo_error(ZOO_ERR_ARG, "--set %s: expected %s, got %s", path, want, got);
        }
    }
    cJSON *parent = NULL;
    const char *leaf = NULL;
    cJSON *old = node_at(c->root, path, true, &parent, &leaf);
    if (!parent) {
        cJSON_Delete(value);
        return zoo_error(ZOO_ERR_ARG, "--set %s: a parent of this key is not a section", path);
    }
    if (old)
        cJSON_ReplaceItemInObjectCaseSensitive(parent, leaf, value); /* sets the key too */
    else
        cJSON_AddItemToObject(parent, leaf, value);
    set_origin(c, path, "--set");
    return ZOO_OK;
}

/* Every missing key gets its default; a required one missing is an error. */
static int fill_defaults(zoo_config *c) {
    for (int i = 0; i < N_KEYS; i++) {
        const config_key *k = &KEYS[i];
        if (strcmp(k->path, "extends") == 0) continue;
        cJSON *parent = NULL;
        const char *leaf = NULL;
        cJSON *v = node_at(c->root, k->path, true, &parent, &leaf);
        if (v) continue;
        if (k->kind == K_OBJECT) {
            cJSON_AddObjectToObject(parent, leaf);
            continue;
        }
        /* a fine-tuning config takes its model and tokenizer from finetune.base; the key
         * stays absent (reading as null), so that the resolved config loads again */
        bool from_base =
            (strcmp(k->path, "model.plugin") == 0 || strcmp(k->path, "data.train") == 0) &&
            !zoo_config_is_null(c, "finetune.base");
        if (!k->def && from_base) continue;
        if (!k->def)
            return zoo_error(ZOO_ERR_ARG, "%s: %s: missing (%s)", c->name, k->path, k->help);
        cJSON_AddItemToObject(parent, leaf, cJSON_Parse(k->def));
    }
    const char *lengths[] = {"train.steps", "train.epochs", "train.tokens"};
    int n_set = 0, first = -1, second = -1;
    for (int i = 0; i < 3; i++)
        if (!zoo_config_is_null(c, lengths[i])) {
            n_set++;
            if (first < 0)
                first = i;
            else if (second < 0)
                second = i;
        }
    if (n_set != 1)
        return zoo_error(ZOO_ERR_ARG,
                         "%s: train: set exactly one of train.steps, train.epochs and "
                         "train.tokens (%s)",
                         zoo_config_origin(c, n_set ? lengths[second] : "train"),
                         n_set ? "more than one is set" : "none is");
    return ZOO_OK;
}

static zoo_config *finish(zoo_config *c, cJSON *root, const char *const *sets, int n_sets) {
    c->root = root;
    int st = root ? ZOO_OK : ZOO_ERR_FORMAT;
    for (int i = 0; st == ZOO_OK && i < n_sets; i++) st = apply_set(c, sets[i]);
    if (st == ZOO_OK) st = fill_defaults(c);
    if (st == ZOO_OK) return c;
    zoo_config_free(c);
    return NULL;
}

zoo_config *zoo_config_load(const char *path, const char *const *sets, int n_sets) {
    size_t len = 0;
    char *text = zoo_read_file_max(path, &len, ZOO_READ_MAX_JSON);
    if (!text) return NULL;
    zoo_config *c = calloc(1, sizeof *c);
    if (!c) {
        free(text);
        return NULL;
    }
    c->name = strdup(path);
    cJSON *root = load_tree(c, text, len, path, 0);
    free(text);
    return finish(c, root, sets, n_sets);
}

zoo_config *zoo_config_parse(const char *text, const char *name, const char *base_dir,
                             const char *const *sets, int n_sets) {
    zoo_config *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    char file[1024];
    snprintf(file, sizeof file, "%s/%s", base_dir, name);
    c->name = strdup(file);
    return finish(c, load_tree(c, text, strlen(text), file, 0), sets, n_sets);
}

void zoo_config_free(zoo_config *c) {
    if (!c) return;
    cJSON_Delete(c->root);
    for (int i = 0; i < c->n_origins; i++) free(c->origins[i].path), free(c->origins[i].file);
    free(c->origins);
    free(c->name);
    free(c);
}

static const cJSON *get(const zoo_config *c, const char *path) {
    return node_at(c->root, path, false, NULL, NULL);
}

int64_t zoo_config_int(const zoo_config *c, const char *path) {
    const cJSON *v = get(c, path);
    return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : 0;
}

double zoo_config_number(const zoo_config *c, const char *path) {
    const cJSON *v = get(c, path);
    return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

bool zoo_config_bool(const zoo_config *c, const char *path) {
    return cJSON_IsTrue(get(c, path));
}

const char *zoo_config_string(const zoo_config *c, const char *path) {
    const cJSON *v = get(c, path);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

bool zoo_config_is_null(const zoo_config *c, const char *path) {
    const cJSON *v = get(c, path);
    return !v || cJSON_IsNull(v);
}

int zoo_config_count(const zoo_config *c, const char *path) {
    const cJSON *v = get(c, path);
    if (cJSON_IsArray(v)) return cJSON_GetArraySize(v);
    return v && !cJSON_IsNull(v) ? 1 : 0;
}

static const cJSON *element(const zoo_config *c, const char *path, int i) {
    const cJSON *v = get(c, path);
    return cJSON_IsArray(v) ? cJSON_GetArrayItem(v, i) : i == 0 ? v : NULL;
}

const char *zoo_config_string_at(const zoo_config *c, const char *path, int i) {
    const cJSON *v = element(c, path, i);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

double zoo_config_number_at(const zoo_config *c, const char *path, int i) {
    const cJSON *v = element(c, path, i);
    return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

int zoo_config_apply_model(const zoo_config *c, zoo_hparams *hp) {
    const cJSON *model = get(c, "model");
    for (const cJSON *item = model ? model->child : NULL; item; item = item->next) {
        if (strcmp(item->string, "plugin") == 0) continue;
        char path[256];
        snprintf(path, sizeof path, "model.%s", item->string);
        const char *file = zoo_config_origin(c, path);
        int st;
        if (strcmp(file, "--set") == 0)
            st = zoo_hparams_set_text(hp, item->string, item->valuestring);
        else if (cJSON_IsNumber(item))
            st = zoo_hparams_set_float(hp, item->string, item->valuedouble);
        else if (cJSON_IsBool(item))
            st = zoo_hparams_set_bool(hp, item->string, cJSON_IsTrue(item));
        else
            st = zoo_hparams_set_string(hp, item->string, item->valuestring);
        if (st) return zoo_error(st, "%s: model.%s", file, zoo_error_message());
    }
    return ZOO_OK;
}

int zoo_config_store_model(zoo_config *c, const zoo_hparams *hp) {
    cJSON *model = cJSON_GetObjectItemCaseSensitive(c->root, "model");
    for (int i = 0; i < zoo_hparams_count(hp); i++) {
        const zoo_hparam_spec *s = zoo_hparams_spec(hp, i);
        cJSON *v;
        if (s->type == ZOO_HP_INT)
            v = cJSON_CreateNumber((double)zoo_hparams_int(hp, s->name));
        else if (s->type == ZOO_HP_FLOAT)
            v = cJSON_CreateNumber(zoo_hparams_float(hp, s->name));
        else if (s->type == ZOO_HP_BOOL)
            v = cJSON_CreateBool(zoo_hparams_bool(hp, s->name));
        else
            v = cJSON_CreateString(zoo_hparams_string(hp, s->name));
        if (cJSON_GetObjectItemCaseSensitive(model, s->name))
            cJSON_ReplaceItemInObjectCaseSensitive(model, s->name, v);
        else
            cJSON_AddItemToObject(model, s->name, v);
    }
    return ZOO_OK;
}

char *zoo_config_text(const zoo_config *c) {
    return cJSON_Print(c->root);
}

void zoo_config_reference(FILE *out) {
    fputs("| key | type | default | meaning |\n|---|---|---|---|\n", out);
    for (int i = 0; i < N_KEYS; i++) {
        const config_key *k = &KEYS[i];
        if (k->kind == K_OBJECT) {
            fprintf(out, "| **`%s`** | section | | %s |\n", k->path, k->help);
            continue;
        }
        char want[256];
        expected(k, want, sizeof want);
        fprintf(out, "| `%s` | %s | %s%s%s | %s |\n", k->path, want, k->def ? "`" : "",
                k->def ? k->def : "required", k->def ? "`" : "", k->help);
    }
}
