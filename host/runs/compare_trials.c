#include "compare_trials.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "zoo/io.h"
#include "zoo/status.h"

static const char *const FIELD_NAMES[ZOO_CF_PROBES] = {
    "parameters",           "layers",        "hidden",     "tokens_per_second",
    "peak_memory_mib",      "train_seconds", "final_loss", "heldout_perplexity",
    "heldout_bits_per_char"};

void zoo_compare_field_name(const zoo_compare_summary *s, int field, char *buf, size_t size) {
    if (field < ZOO_CF_PROBES)
        snprintf(buf, size, "%s", FIELD_NAMES[field]);
    else
        snprintf(buf, size, "%s_%s", s->probes[(field - ZOO_CF_PROBES) / 2],
                 (field - ZOO_CF_PROBES) % 2 ? "majority" : "accuracy");
}

void zoo_compare_number(double x, char *buf, size_t size) {
    for (int digits = 15; digits <= 17; digits++) {
        snprintf(buf, size, "%.*g", digits, x);
        if (strtod(buf, NULL) == x) break;
    }
}

char *zoo_compare_trial_dir(const char *out_dir, const char *name, int k, int repeat) {
    char *dir = NULL;
    int n = repeat > 1 ? asprintf(&dir, "%s/%s/repeat-%d", out_dir, name, k)
                       : asprintf(&dir, "%s/%s", out_dir, name);
    return n < 0 ? NULL : dir;
}

/* ---- result.json ----------------------------------------------------------- */

static const cJSON *item(const cJSON *object, const char *key) {
    return cJSON_GetObjectItemCaseSensitive(object, key); /* NULL-safe, NULL for non-objects */
}

static double number(const cJSON *object, const char *key) {
    const cJSON *v = item(object, key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static const char *string(const cJSON *object, const char *key) {
    const cJSON *v = item(object, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void read_values(const zoo_compare_summary *s, const cJSON *r, double *v) {
    const cJSON *card = item(r, "card"), *train = item(r, "train"), *held = item(r, "heldout");
    v[ZOO_CF_PARAMETERS] = number(card, "parameters");
    v[ZOO_CF_LAYERS] = number(card, "layers");
    v[ZOO_CF_HIDDEN] = number(card, "hidden");
    v[ZOO_CF_TOKENS_PER_SECOND] = number(train, "tokens_per_second");
    v[ZOO_CF_PEAK_MEMORY_MIB] = number(train, "peak_memory_bytes") / (1024.0 * 1024.0);
    v[ZOO_CF_TRAIN_SECONDS] = number(train, "seconds");
    v[ZOO_CF_FINAL_LOSS] = number(train, "final_loss");
    v[ZOO_CF_HELDOUT_PERPLEXITY] = number(held, "perplexity");
    v[ZOO_CF_HELDOUT_BPC] = number(held, "bits_per_char");
    const cJSON *probes = item(r, "probes"), *p;
    if (!cJSON_IsArray(probes)) probes = NULL;
    for (int i = 0; i < s->n_probes; i++) {
        v[ZOO_CF_ACCURACY(i)] = v[ZOO_CF_MAJORITY(i)] = NAN;
        cJSON_ArrayForEach(p, probes) {
            const char *name = string(p, "name");
            if (!name || strcmp(name, s->probes[i]) != 0) continue;
            v[ZOO_CF_ACCURACY(i)] = number(p, "accuracy");
            v[ZOO_CF_MAJORITY(i)] = number(p, "majority");
            break;
        }
    }
}

/* Error texts are one line: a message with a line break would break the
 * Markdown list and the terminal table. */
static char *one_line(char *s) {
    for (char *c = s; c && *c; c++)
        if (*c == '\n' || *c == '\r' || *c == '\t') *c = ' ';
    return s;
}

static int read_trial(const zoo_compare_data *d, const char *model, int k, zoo_compare_trial *t) {
    const zoo_compare_summary *s = d->s;
    char label[512], *dir = zoo_compare_trial_dir(s->out_dir, model, k, s->repeat), *path = NULL;
    t->values = malloc((size_t)d->n_fields * sizeof *t->values);
    if (!dir || !t->values || asprintf(&path, "%s/result.json", dir) < 0) {
        free(dir);
        return ZOO_ERR_NOMEM;
    }
    for (int f = 0; f < d->n_fields; f++) t->values[f] = NAN;
    if (s->repeat > 1)
        snprintf(label, sizeof label, "%s (repeat %d)", model, k);
    else
        snprintf(label, sizeof label, "%s", model);
    int n = 0;
    struct stat st;
    size_t len;
    char *text = NULL;
    if (stat(path, &st) != 0 && errno == ENOENT) {
        t->state = ZOO_TRIAL_NOT_RUN;
        n = asprintf(&t->error, "%s was not run (no result.json in %s)", label, dir);
    } else if (!(text = zoo_read_file(path, &len))) {
        t->state = ZOO_TRIAL_UNREADABLE;
        n = asprintf(&t->error, "%s: cannot read its result: %s", label, zoo_error_message());
    } else {
        const char *end = NULL;
        t->result = cJSON_ParseWithLengthOpts(text, len + 1, &end, true);
        if (!cJSON_IsObject(t->result)) {
            t->state = ZOO_TRIAL_UNREADABLE;
            n = t->result ? asprintf(&t->error, "%s: %s is not a JSON object", label, path)
                          : asprintf(&t->error, "%s: %s is not JSON (at byte %td)", label, path,
                                     end ? end - text : (ptrdiff_t)0);
            cJSON_Delete(t->result);
            t->result = NULL;
        } else {
            read_values(s, t->result, t->values);
            const char *status = string(t->result, "status"), *step,
                       *message = string(t->result, "error");
            char where[256] = "";
            if ((step = string(t->result, "failed_step")))
                snprintf(where, sizeof where, " in %s", step);
            if (status && strcmp(status, "ok") == 0) {
                t->state = ZOO_TRIAL_OK;
            } else if (status && strcmp(status, "failed") == 0) {
                t->state = ZOO_TRIAL_FAILED;
                n = asprintf(&t->error, "%s failed%s%s%s", label, where, message ? ": " : "",
                             message ? message : "");
            } else {
                t->state = ZOO_TRIAL_FAILED;
                n = asprintf(&t->error, "%s: %s has status %s%s%s", label, path, status ? "\"" : "",
                             status ? status : "none", status ? "\"" : "");
            }
        }
    }
    free(text);
    free(path);
    free(dir);
    if (n < 0) t->error = NULL; /* asprintf leaves it undefined */
    one_line(t->error);
    return n < 0 ? ZOO_ERR_NOMEM : ZOO_OK;
}

/* ---- metrics.jsonl ----------------------------------------------------------- */

/* Appends the point (a, b, y) to three arrays that grow together. */
static int push(double **as, double **bs, double **ys, int *n, int *cap, double a, double b,
                double y) {
    if (*n == *cap) {
        size_t grown = *cap ? 2 * (size_t)*cap : 256;
        double *p;
        if (!(p = realloc(*as, grown * sizeof *p))) return ZOO_ERR_NOMEM;
        *as = p;
        if (!(p = realloc(*bs, grown * sizeof *p))) return ZOO_ERR_NOMEM;
        *bs = p;
        if (!(p = realloc(*ys, grown * sizeof *p))) return ZOO_ERR_NOMEM;
        *ys = p;
        *cap = (int)grown;
    }
    (*as)[*n] = a, (*bs)[*n] = b, (*ys)[*n] = y;
    ++*n;
    return ZOO_OK;
}

/* A training curve of every step is noise over the trend (one batch's loss
 * against the next), and a long run's would carry tens of thousands of
 * points: consecutive steps are averaged in blocks of k, each drawn at its
 * last step, so that at most ZOO_CURVE_MAX_POINTS remain (the last block may
 * be shorter; the run's last step is always a point's). Held-out points are
 * few and all kept. */
static void smooth(zoo_compare_curve *c) {
    if (c->n <= ZOO_CURVE_MAX_POINTS) return;
    int k = (c->n + ZOO_CURVE_MAX_POINTS - 1) / ZOO_CURVE_MAX_POINTS, m = 0;
    for (int start = 0; start < c->n; start += k, m++) {
        int end = start + k < c->n ? start + k : c->n;
        double sum = 0;
        for (int i = start; i < end; i++) sum += c->loss[i];
        c->tokens[m] = c->tokens[end - 1], c->seconds[m] = c->seconds[end - 1];
        c->loss[m] = sum / (end - start);
    }
    c->n = m;
}

/* Read line by line: a long run's file has many thousands of lines. A line
 * that is not a JSON object (cut short when a run was killed) is skipped, and
 * so is every key but the ones plotted. */
static int read_curve(const zoo_compare_summary *s, const char *model, zoo_compare_curve *c) {
    char *dir = zoo_compare_trial_dir(s->out_dir, model, 1, s->repeat), *path = NULL;
    if (!dir || asprintf(&path, "%s/run/metrics.jsonl", dir) < 0) {
        free(dir);
        return ZOO_ERR_NOMEM;
    }
    free(dir);
    FILE *f = fopen(path, "r");
    free(path);
    if (!f) return ZOO_OK;
    char *line = NULL;
    size_t size = 0;
    int cap = 0, val_cap = 0, st = ZOO_OK;
    while (st == ZOO_OK && getline(&line, &size, f) > 0) {
        cJSON *o = cJSON_Parse(line);
        double tokens = number(o, "tokens"), seconds = number(o, "elapsed_s");
        double val = number(o, "val_loss"), loss = number(o, "loss");
        cJSON_Delete(o);
        if (!isnan(val))
            st = push(&c->val_tokens, &c->val_seconds, &c->val_loss, &c->val_n, &val_cap, tokens,
                      seconds, val);
        else if (!isnan(loss))
            st = push(&c->tokens, &c->seconds, &c->loss, &c->n, &cap, tokens, seconds, loss);
    }
    free(line);
    fclose(f);
    smooth(c);
    return st;
}

/* ---- statistics ------------------------------------------------------------- */

static void model_stats(const zoo_compare_data *d, zoo_compare_model *m) {
    for (int f = 0; f < d->n_fields; f++) {
        double sum = 0, sq = 0;
        int n = 0;
        for (int k = 0; k < d->s->repeat; k++) {
            const zoo_compare_trial *t = &m->trials[k];
            if ((m->succeeded > 0 && t->state != ZOO_TRIAL_OK) || !isfinite(t->values[f])) continue;
            sum += t->values[f], n++;
        }
        double mean = n ? sum / n : NAN;
        for (int k = 0; n > 1 && k < d->s->repeat; k++) {
            const zoo_compare_trial *t = &m->trials[k];
            if ((m->succeeded > 0 && t->state != ZOO_TRIAL_OK) || !isfinite(t->values[f])) continue;
            sq += (t->values[f] - mean) * (t->values[f] - mean);
        }
        m->mean[f] = mean;
        m->sd[f] = n > 1 ? sqrt(sq / (n - 1)) : NAN;
        m->count[f] = n;
    }
}

static int read_model(zoo_compare_data *d, zoo_compare_model *m) {
    const zoo_compare_summary *s = d->s;
    m->trials = calloc((size_t)s->repeat, sizeof *m->trials);
    m->mean = malloc((size_t)d->n_fields * sizeof *m->mean);
    m->sd = malloc((size_t)d->n_fields * sizeof *m->sd);
    m->count = malloc((size_t)d->n_fields * sizeof *m->count);
    if (!m->trials || !m->mean || !m->sd || !m->count) return ZOO_ERR_NOMEM;
    for (int k = 0; k < s->repeat; k++) {
        zoo_compare_trial *t = &m->trials[k];
        int st = read_trial(d, m->name, k + 1, t);
        if (st) return st;
        m->succeeded += t->state == ZOO_TRIAL_OK;
        if (!t->result) continue;
        const cJSON *card = item(t->result, "card");
        if (!m->plugin) m->plugin = string(t->result, "plugin");
        if (!m->sees) m->sees = string(card, "sees");
        if (!m->inputs) m->inputs = string(card, "inputs");
        if (!m->pretraining) m->pretraining = string(card, "pretraining");
    }
    bool none_tried = true;
    for (int k = 0; k < s->repeat; k++) none_tried &= m->trials[k].state == ZOO_TRIAL_NOT_RUN;
    m->status = m->succeeded == s->repeat ? "ok" : none_tried ? "not run" : "failed";
    model_stats(d, m);
    return read_curve(s, m->name, &m->curve);
}

int zoo_compare_data_read(zoo_compare_data *d, const zoo_compare_summary *s) {
    *d = (zoo_compare_data){.s = s, .n_fields = ZOO_CF_PROBES + 2 * s->n_probes};
    d->models = calloc((size_t)s->n_models, sizeof *d->models);
    if (!d->models) return zoo_error(ZOO_ERR_NOMEM, "compare report: out of memory");
    for (int i = 0; i < s->n_models; i++) {
        d->models[i].name = s->models[i];
        if (read_model(d, &d->models[i]))
            return zoo_error(ZOO_ERR_NOMEM, "compare report: out of memory reading %s",
                             s->models[i]);
    }
    return ZOO_OK;
}

void zoo_compare_data_free(zoo_compare_data *d) {
    for (int i = 0; d->models && i < d->s->n_models; i++) {
        zoo_compare_model *m = &d->models[i];
        for (int k = 0; m->trials && k < d->s->repeat; k++) {
            cJSON_Delete(m->trials[k].result);
            free(m->trials[k].error);
            free(m->trials[k].values);
        }
        free(m->trials);
        free(m->mean);
        free(m->sd);
        free(m->count);
        zoo_compare_curve *c = &m->curve;
        free(c->tokens), free(c->seconds), free(c->loss);
        free(c->val_tokens), free(c->val_seconds), free(c->val_loss);
    }
    free(d->models);
    d->models = NULL;
}
