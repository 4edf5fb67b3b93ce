#include "compare_config.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "files.h"
#include "json_type.h"
#include "zoo/hparams.h"
#include "zoo/io.h"
#include "zoo/json.h"
#include "zoo/status.h"

/* What reading needs at hand: the file, for messages and relative paths. */
typedef struct reader {
    const char *file; /* as the user named it, for messages */
    const char *base; /* its absolute path, which relative paths resolve against */
    int status;
} reader;

static int bad(reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bad(reader *r, const char *fmt, ...) {
    if (r->status) return r->status; /* the first error is the one reported */
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    r->status = zoo_error(ZOO_ERR_FORMAT, "%s: %s", r->file, msg);
    return r->status;
}

/* Every key of obj must be in known; where is "models[2]." or "". */
static void check_keys(reader *r, const cJSON *obj, const char *const *known, const char *where) {
    int n = 0;
    while (known[n]) n++;
    for (const cJSON *item = obj->child; item; item = item->next) {
        bool ok = false;
        for (int i = 0; i < n && !ok; i++) ok = strcmp(item->string, known[i]) == 0;
        if (ok) continue;
        const char *near = zoo_suggest(item->string, known, n);
        if (near)
            bad(r, "%s%s: unknown key (did you mean '%s'?)", where, item->string, near);
        else
            bad(r, "%s%s: unknown key", where, item->string);
    }
}

static const cJSON *object_at(reader *r, const cJSON *obj, const char *key, const char *where,
                              bool required) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v && required) bad(r, "%s%s: missing", where, key);
    if (v && !cJSON_IsObject(v))
        bad(r, "%s%s: expected an object, got %s", where, key, zoo_json_type(v));
    return cJSON_IsObject(v) ? v : NULL;
}

static char *string_at(reader *r, const cJSON *obj, const char *key, const char *where,
                       bool required) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v && required) bad(r, "%s%s: missing", where, key);
    if (v && !(cJSON_IsString(v) && *v->valuestring))
        bad(r, "%s%s: expected a non-empty string, got %s", where, key,
            cJSON_IsString(v) ? "\"\"" : zoo_json_type(v));
    return cJSON_IsString(v) && *v->valuestring ? strdup(v->valuestring) : NULL;
}

/* A number in [min, max]; *out keeps its default when the key is absent. */
static void number_at(reader *r, const cJSON *obj, const char *key, const char *where, double min,
                      double max, bool integer, double *out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v) return;
    double x = cJSON_IsNumber(v) ? v->valuedouble : NAN;
    if (!cJSON_IsNumber(v) || !(x >= min && x <= max) || (integer && x != floor(x)))
        bad(r, "%s%s: expected %s in [%g, %g], got %s", where, key,
            integer ? "an integer" : "a number", min, max,
            cJSON_IsNumber(v) ? "a number out of range" : zoo_json_type(v));
    else
        *out = x;
}

static void bool_at(reader *r, const cJSON *obj, const char *key, const char *where, bool *out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (v && !cJSON_IsBool(v))
        bad(r, "%s%s: expected true or false, got %s", where, key, zoo_json_type(v));
    if (cJSON_IsBool(v)) *out = cJSON_IsTrue(v);
}

/* Data and probe files are checked before anything runs: a missing one
 * would otherwise fail a comparison after its models have trained. */
static void check_readable(reader *r, const char *abs, const char *where, const char *key,
                           const char *given) {
    if (abs && access(abs, R_OK) != 0) bad(r, "%s%s: %s: %s", where, key, given, strerror(errno));
}

/* A path or an array of paths, as a JSON array of absolute paths. */
static char *paths_at(reader *r, const cJSON *obj, const char *key, const char *where,
                      bool required) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v) {
        if (required) bad(r, "%s%s: missing", where, key);
        return NULL;
    }
    cJSON *list = cJSON_CreateArray();
    const cJSON *items = cJSON_IsArray(v) ? v->child : v;
    int n = 0;
    for (const cJSON *p = items; p; p = cJSON_IsArray(v) ? p->next : NULL, n++) {
        if (!cJSON_IsString(p) || !*p->valuestring) {
            bad(r, "%s%s: expected a path or an array of paths", where, key);
            break;
        }
        char *abs = zoo_path_relative_to(r->base, p->valuestring);
        check_readable(r, abs, where, key, p->valuestring);
        cJSON_AddItemToArray(list, cJSON_CreateString(abs ? abs : ""));
        free(abs);
    }
    if (!n && !r->status) bad(r, "%s%s: an empty array", where, key);
    char *text = r->status ? NULL : cJSON_PrintUnformatted(list);
    cJSON_Delete(list);
    return text;
}

static char *path_at(reader *r, const cJSON *obj, const char *key, const char *where) {
    char *rel = string_at(r, obj, key, where, true);
    char *abs = rel ? zoo_path_relative_to(r->base, rel) : NULL;
    check_readable(r, abs, where, key, rel);
    free(rel);
    return abs;
}

/* A model's "set": {"KEY": VALUE} into "KEY=VALUE" texts. */
static void read_sets(reader *r, const cJSON *set, const char *where, zoo_compare_model *m) {
    for (const cJSON *s = set ? set->child : NULL; s; s = s->next) {
        if (m->n_sets == ZOO_COMPARE_MAX_SETS) {
            bad(r, "%sset: more than %d keys", where, ZOO_COMPARE_MAX_SETS);
            return;
        }
        char *value = cJSON_IsString(s) ? strdup(s->valuestring) : cJSON_PrintUnformatted(s);
        if (cJSON_IsObject(s)) {
            bad(r, "%sset.%s: a value, not an object (write \"a.b\": VALUE)", where, s->string);
            free(value);
            return;
        }
        size_t len = strlen(s->string) + strlen(value ? value : "") + 2;
        char *text = malloc(len);
        if (text) snprintf(text, len, "%s=%s", s->string, value ? value : "");
        m->sets[m->n_sets++] = text;
        free(value);
    }
}

static void read_model(reader *r, const cJSON *obj, int i, zoo_compare_model *m) {
    static const char *const known[] = {"name", "config", "set", "probe", "published", NULL};
    static const char *const probe_keys[] = {"pool", "layer", "finetune", NULL};
    char where[64];
    snprintf(where, sizeof where, "models[%d].", i);
    if (!cJSON_IsObject(obj)) {
        bad(r, "models[%d]: expected an object, got %s", i, zoo_json_type(obj));
        return;
    }
    check_keys(r, obj, known, where);
    m->name = string_at(r, obj, "name", where, true);
    if (m->name && strspn(m->name, "abcdefghijklmnopqrstuvwxyz0123456789_-.") != strlen(m->name))
        bad(r,
            "%sname: \"%s\": use lower-case letters, digits, '-', '_' and '.' (it names a "
            "directory)",
            where, m->name);
    if (m->name && m->name[0] == '.') bad(r, "%sname: \"%s\" starts with '.'", where, m->name);
    const cJSON *config = cJSON_GetObjectItemCaseSensitive(obj, "config");
    if (!config)
        bad(r, "%sconfig: missing (a run config's path, or one inline)", where);
    else if (cJSON_IsString(config))
        m->config_path = zoo_path_relative_to(r->base, config->valuestring);
    else if (cJSON_IsObject(config))
        m->inline_json = cJSON_PrintUnformatted(config);
    else
        bad(r, "%sconfig: expected a path or an object, got %s", where, zoo_json_type(config));
    const cJSON *set = object_at(r, obj, "set", where, false);
    read_sets(r, set, where, m);
    char probe_where[80];
    snprintf(probe_where, sizeof probe_where, "%sprobe.", where);
    const cJSON *probe = object_at(r, obj, "probe", where, false);
    if (probe) {
        check_keys(r, probe, probe_keys, probe_where);
        m->pool = string_at(r, probe, "pool", probe_where, false);
        const cJSON *layer = cJSON_GetObjectItemCaseSensitive(probe, "layer");
        if (cJSON_IsNumber(layer) && layer->valuedouble >= 0 && layer->valuedouble <= 1e15 &&
            layer->valuedouble == floor(layer->valuedouble)) {
            char text[32];
            snprintf(text, sizeof text, "%lld", (long long)layer->valuedouble);
            m->layer = strdup(text);
        } else if (layer) {
            m->layer = string_at(r, probe, "layer", probe_where, false);
        }
        m->finetune_set = cJSON_GetObjectItemCaseSensitive(probe, "finetune") != NULL;
        bool_at(r, probe, "finetune", probe_where, &m->finetune);
    }
    m->published = string_at(r, obj, "published", where, false);
}

static void read_probe(reader *r, const cJSON *obj, int i, zoo_compare_probe *p) {
    static const char *const known[] = {"name", "train", "test", "format", NULL};
    char where[64];
    snprintf(where, sizeof where, "probes[%d].", i);
    if (!cJSON_IsObject(obj)) {
        bad(r, "probes[%d]: expected an object, got %s", i, zoo_json_type(obj));
        return;
    }
    check_keys(r, obj, known, where);
    p->name = string_at(r, obj, "name", where, true);
    if (p->name && strspn(p->name, "abcdefghijklmnopqrstuvwxyz0123456789_-") != strlen(p->name))
        bad(r, "%sname: \"%s\": use lower-case letters, digits, '-' and '_'", where, p->name);
    p->train = path_at(r, obj, "train", where);
    p->test = path_at(r, obj, "test", where);
    p->format = string_at(r, obj, "format", where, false);
    if (!p->format) p->format = strdup("tsv");
    if (p->format && strcmp(p->format, "tsv") && strcmp(p->format, "sst") &&
        strcmp(p->format, "trec"))
        bad(r, "%sformat: \"%s\": expected tsv, sst or trec", where, p->format);
}

static void read_budget(reader *r, const cJSON *budget, zoo_compare_config *c) {
    static const char *const known[] = {"steps", "tokens", "seconds", NULL};
    check_keys(r, budget, known, "budget.");
    int n = 0;
    for (int k = 0; k < 3; k++) {
        if (!cJSON_GetObjectItemCaseSensitive(budget, known[k])) continue;
        n++;
        c->budget_kind = (zoo_budget_kind)k;
        number_at(r, budget, known[k], "budget.", k == 2 ? 1e-3 : 1, 1e15, k != 2, &c->budget);
    }
    if (n != 1)
        bad(r, "budget: set exactly one of steps, tokens and seconds (%s)",
            n ? "more than one is set" : "none is");
}

static void read_document(reader *r, const cJSON *doc, zoo_compare_config *c) {
    static const char *const known[] = {"name",   "seed",   "data",  "budget",
                                        "models", "probes", "probe", NULL};
    static const char *const data_keys[] = {"train", "val", "val_fraction", NULL};
    static const char *const probe_keys[] = {
        "l2", "max_iter", "finetune", "finetune_epochs", "finetune_lr", NULL};
    check_keys(r, doc, known, "");
    char *name = string_at(r, doc, "name", "", false);
    if (name) free(c->name), c->name = name;
    double seed = 1337;
    number_at(r, doc, "seed", "", 0, 1e15, true, &seed);
    c->seed = (int64_t)seed;

    const cJSON *data = object_at(r, doc, "data", "", true);
    if (data) {
        check_keys(r, data, data_keys, "data.");
        c->data_train = paths_at(r, data, "train", "data.", true);
        c->data_val = paths_at(r, data, "val", "data.", false);
        c->val_fraction = c->data_val ? 0 : 0.05;
        number_at(r, data, "val_fraction", "data.", 0, 0.5, false, &c->val_fraction);
        if (c->data_val && cJSON_GetObjectItemCaseSensitive(data, "val_fraction"))
            bad(r, "data: set val or val_fraction, not both");
    }
    const cJSON *budget = object_at(r, doc, "budget", "", true);
    if (budget) read_budget(r, budget, c);

    const cJSON *models = cJSON_GetObjectItemCaseSensitive(doc, "models");
    if (!cJSON_IsArray(models) || !cJSON_GetArraySize(models))
        bad(r, "models: %s", models ? "expected a non-empty array" : "missing");
    else {
        c->n_models = cJSON_GetArraySize(models);
        c->models = calloc((size_t)c->n_models, sizeof *c->models);
        int i = 0;
        for (const cJSON *m = models->child; m && c->models; m = m->next, i++)
            read_model(r, m, i, &c->models[i]);
        for (int a = 0; c->models && a < c->n_models; a++)
            for (int b = 0; b < a; b++)
                if (c->models[a].name && c->models[b].name &&
                    strcmp(c->models[a].name, c->models[b].name) == 0)
                    bad(r, "models[%d].name: \"%s\" is also models[%d]'s", a, c->models[a].name, b);
    }
    const cJSON *probes = cJSON_GetObjectItemCaseSensitive(doc, "probes");
    if (probes && !cJSON_IsArray(probes))
        bad(r, "probes: expected an array, got %s", zoo_json_type(probes));
    else if (probes) {
        c->n_probes = cJSON_GetArraySize(probes);
        c->probes = calloc((size_t)(c->n_probes ? c->n_probes : 1), sizeof *c->probes);
        int i = 0;
        for (const cJSON *p = probes->child; p && c->probes; p = p->next, i++)
            read_probe(r, p, i, &c->probes[i]);
        for (int a = 0; c->probes && a < c->n_probes; a++)
            for (int b = 0; b < a; b++)
                if (c->probes[a].name && c->probes[b].name &&
                    strcmp(c->probes[a].name, c->probes[b].name) == 0)
                    bad(r, "probes[%d].name: \"%s\" is also probes[%d]'s", a, c->probes[a].name, b);
    }
    const cJSON *probe = object_at(r, doc, "probe", "", false);
    bool finetune = false;
    double max_iter = 0, epochs = 3;
    c->finetune_lr = 1e-4;
    if (probe) {
        check_keys(r, probe, probe_keys, "probe.");
        number_at(r, probe, "l2", "probe.", 0, 1e6, false, &c->probe_l2);
        number_at(r, probe, "max_iter", "probe.", 1, 1e6, true, &max_iter);
        bool_at(r, probe, "finetune", "probe.", &finetune);
        number_at(r, probe, "finetune_epochs", "probe.", 1, 1e4, true, &epochs);
        number_at(r, probe, "finetune_lr", "probe.", 0, 10, false, &c->finetune_lr);
    }
    c->probe_max_iter = (int64_t)max_iter;
    c->finetune_epochs = (int64_t)epochs;
    for (int i = 0; c->models && i < c->n_models; i++)
        if (!c->models[i].finetune_set) c->models[i].finetune = finetune;
}

zoo_compare_config *zoo_compare_config_load(const char *path) {
    size_t len = 0;
    char *text = zoo_read_file_max(path, &len, ZOO_READ_MAX_JSON);
    if (!text) return NULL;
    char *abs = realpath(path, NULL); /* a trial's configs are read from other folders */
    reader r = {.file = path, .base = abs ? abs : path};
    const char *end = NULL;
    bool checked = !zoo_json_check_text(path, text, len);
    cJSON *doc = checked ? cJSON_ParseWithLengthOpts(text, len + 1, &end, true) : NULL;
    if (doc && zoo_json_check_keys(path, doc)) {
        cJSON_Delete(doc);
        doc = NULL, checked = false;
    }
    zoo_compare_config *c = calloc(1, sizeof *c);
    if (!c) {
        zoo_error(ZOO_ERR_NOMEM, "out of memory");
    } else if (!checked) {
        /* the message is zoo_json_check_*'s */
    } else if (!doc) {
        int line = 1, col = 1;
        for (const char *q = text; end && q < end; q++) col = *q == '\n' ? (line++, 1) : col + 1;
        bad(&r, "%d:%d: malformed JSON", line, col);
    } else if (!cJSON_IsObject(doc)) {
        bad(&r, "a comparison is a JSON object, not %s", zoo_json_type(doc));
    } else {
        c->path = strdup(r.base);
        const char *base = strrchr(path, '/');
        base = base ? base + 1 : path;
        size_t n = strlen(base);
        if (n > 5 && strcmp(base + n - 5, ".json") == 0) n -= 5;
        c->name = strndup(base, n);
        read_document(&r, doc, c);
    }
    cJSON_Delete(doc);
    free(text);
    free(abs);
    if (c && (r.status || !doc || !c->path)) {
        zoo_compare_config_free(c);
        return NULL;
    }
    return c;
}

void zoo_compare_config_free(zoo_compare_config *c) {
    if (!c) return;
    for (int i = 0; c->models && i < c->n_models; i++) {
        zoo_compare_model *m = &c->models[i];
        free(m->name), free(m->config_path), free(m->inline_json);
        free(m->pool), free(m->layer), free(m->published);
        for (int s = 0; s < m->n_sets; s++) free(m->sets[s]);
    }
    for (int i = 0; c->probes && i < c->n_probes; i++) {
        zoo_compare_probe *p = &c->probes[i];
        free(p->name), free(p->train), free(p->test), free(p->format);
    }
    free(c->models), free(c->probes);
    free(c->path), free(c->name), free(c->data_train), free(c->data_val);
    free(c);
}

void zoo_compare_budget_text(const zoo_compare_config *c, char *buf, size_t size) {
    static const char *const units[] = {"steps", "training tokens", "seconds of training"};
    if (c->budget_kind == ZOO_BUDGET_SECONDS)
        snprintf(buf, size, "%g %s per model", c->budget, units[c->budget_kind]);
    else
        snprintf(buf, size, "%.0f %s per model", c->budget, units[c->budget_kind]);
}

zoo_config *zoo_compare_model_config(const zoo_compare_config *c, int i, int64_t seed) {
    const zoo_compare_model *m = &c->models[i];
    enum { SHARED = 8 };
    char shared[SHARED][4096];
    const char *sets[SHARED + ZOO_COMPARE_MAX_SETS];
    int n = 0;
    snprintf(shared[n++], sizeof shared[0], "data.train=%s", c->data_train);
    if (c->data_val)
        snprintf(shared[n++], sizeof shared[0], "data.val=%s", c->data_val);
    else {
        snprintf(shared[n++], sizeof shared[0], "data.val=null");
        snprintf(shared[n++], sizeof shared[0], "data.val_fraction=%.17g", c->val_fraction);
    }
    snprintf(shared[n++], sizeof shared[0], "train.seed=%lld", (long long)seed);
    snprintf(shared[n++], sizeof shared[0], "train.run_dir=null");
    if (c->budget_kind == ZOO_BUDGET_SECONDS) {
        snprintf(shared[n++], sizeof shared[0], "train.max_seconds=%.17g", c->budget);
    } else {
        /* the budget replaces whatever length the model's config has */
        bool steps = c->budget_kind == ZOO_BUDGET_STEPS;
        snprintf(shared[n++], sizeof shared[0], "train.epochs=null");
        snprintf(shared[n++], sizeof shared[0], "train.%s=null", steps ? "tokens" : "steps");
        snprintf(shared[n++], sizeof shared[0], "train.%s=%.0f", steps ? "steps" : "tokens",
                 c->budget);
    }
    for (int k = 0; k < n; k++) sets[k] = shared[k];
    for (int k = 0; k < m->n_sets; k++) sets[n + k] = m->sets[k];
    zoo_config *rc = NULL;
    if (m->config_path) {
        rc = zoo_config_load(m->config_path, sets, n + m->n_sets);
    } else { /* its paths resolve as the comparison's do */
        char *dir = zoo_path_relative_to(c->path, ".");
        const char *base = strrchr(c->path, '/');
        char name[512];
        snprintf(name, sizeof name, "%s (models[%d].config)", base ? base + 1 : c->path, i);
        rc = dir ? zoo_config_parse(m->inline_json, name, dir, sets, n + m->n_sets) : NULL;
        free(dir);
    }
    if (!rc)
        zoo_error(ZOO_ERR_ARG, "%s: models[%d] (%s): %s", c->path, i, m->name, zoo_error_message());
    return rc;
}
