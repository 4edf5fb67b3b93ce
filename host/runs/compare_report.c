#include "compare_report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "compare_tables.h"
#include "compare_trials.h"
#include "svg_plot.h"
#include "zoo/io.h"
#include "zoo/status.h"

/* Text assembled in memory (open_memstream), then written atomically to
 * OUT/name. */
typedef struct text {
    FILE *f;
    char *data;
    size_t len;
} text;

static int text_open(text *t) {
    *t = (text){0};
    t->f = open_memstream(&t->data, &t->len);
    return t->f ? ZOO_OK : zoo_error(ZOO_ERR_NOMEM, "compare report: out of memory");
}

/* Closes t and writes it to OUT/name; frees it either way. */
static int text_write(text *t, const char *out_dir, const char *name) {
    bool failed = ferror(t->f) != 0;
    failed |= fclose(t->f) != 0;
    char *path = NULL;
    int st = failed || asprintf(&path, "%s/%s", out_dir, name) < 0
                 ? zoo_error(ZOO_ERR_NOMEM, "compare report: out of memory")
                 : zoo_write_file_atomic(path, t->data, t->len);
    free(path);
    free(t->data);
    return st;
}

/* The trials' errors joined with "; ", or NULL when there is none; from malloc. */
static char *model_error(const zoo_compare_data *d, const zoo_compare_model *m) {
    text t;
    if (text_open(&t)) return NULL;
    bool first = true;
    for (int k = 0; k < d->s->repeat; k++)
        if (m->trials[k].error) {
            fprintf(t.f, "%s%s", first ? "" : "; ", m->trials[k].error);
            first = false;
        }
    fclose(t.f);
    if (first) free(t.data), t.data = NULL;
    return t.data;
}

/* ---- results.json --------------------------------------------------------------- */

static cJSON *field_object(const zoo_compare_data *d, const double *v) {
    cJSON *o = cJSON_CreateObject();
    char name[512];
    for (int f = 0; o && f < d->n_fields; f++) {
        zoo_compare_field_name(d->s, f, name, sizeof name);
        if (!(isfinite(v[f]) ? cJSON_AddNumberToObject(o, name, v[f])
                             : cJSON_AddNullToObject(o, name)))
            return cJSON_Delete(o), NULL;
    }
    return o;
}

static cJSON *string_or_null(const char *s) {
    return s ? cJSON_CreateString(s) : cJSON_CreateNull();
}

static int write_json(const zoo_compare_data *d) {
    const zoo_compare_summary *s = d->s;
    cJSON *root = cJSON_CreateObject(), *models = cJSON_CreateArray();
    bool ok = root && models && cJSON_AddItemToObject(root, "title", string_or_null(s->title)) &&
              cJSON_AddItemToObject(root, "budget", string_or_null(s->budget)) &&
              cJSON_AddBoolToObject(root, "reproducible", s->reproducible) &&
              cJSON_AddNumberToObject(root, "repeat", s->repeat) &&
              cJSON_AddItemToObject(root, "models", models);
    if (!ok) cJSON_Delete(models);
    for (int i = 0; ok && i < s->n_models; i++) {
        const zoo_compare_model *m = &d->models[i];
        cJSON *o = cJSON_CreateObject(), *trials = cJSON_CreateArray();
        char *error = model_error(d, m);
        ok = o && trials && cJSON_AddItemToArray(models, o) &&
             cJSON_AddItemToObject(o, "name", cJSON_CreateString(m->name)) &&
             cJSON_AddItemToObject(o, "plugin", string_or_null(m->plugin)) &&
             cJSON_AddItemToObject(o, "status", cJSON_CreateString(m->status)) &&
             cJSON_AddItemToObject(o, "error", string_or_null(error)) &&
             cJSON_AddNumberToObject(o, "succeeded", m->succeeded) &&
             cJSON_AddItemToObject(o, "trials", trials);
        free(error);
        for (int k = 0; ok && k < s->repeat; k++) {
            const cJSON *r = m->trials[k].result;
            ok = cJSON_AddItemToArray(trials, r ? cJSON_Duplicate(r, true) : cJSON_CreateNull());
        }
        ok = ok && cJSON_AddItemToObject(o, "mean", field_object(d, m->mean)) &&
             cJSON_AddItemToObject(o, "sd", field_object(d, m->sd));
    }
    char *printed = ok ? cJSON_Print(root) : NULL;
    cJSON_Delete(root);
    if (!printed) return zoo_error(ZOO_ERR_NOMEM, "compare report: out of memory");
    text t;
    int st = text_open(&t);
    if (!st) {
        fprintf(t.f, "%s\n", printed);
        st = text_write(&t, s->out_dir, "results.json");
    }
    free(printed);
    return st;
}

/* ---- results.csv ------------------------------------------------------------------ */

/* A field as RFC 4180 has it: quoted, with quotes doubled, when it holds a
 * comma, a quote or a line break. NULL: an empty field. */
static void csv_field(FILE *f, const char *s, bool first) {
    if (!first) fputc(',', f);
    if (!s) return;
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

/* Columns of numbers: the card's, then (after its strings) the measures. */
static void csv_numbers(const zoo_compare_data *d, FILE *f, const zoo_compare_model *m, int from,
                        int to) {
    char buf[512];
    for (int field = from; field < to; field++) {
        for (int sd = 0; sd < (d->s->repeat > 1 ? 2 : 1); sd++) {
            double v = m ? (sd ? m->sd[field] : m->mean[field]) : NAN;
            if (!m) {
                zoo_compare_field_name(d->s, field, buf, sizeof buf);
                if (sd) strncat(buf, "_sd", sizeof buf - strlen(buf) - 1);
            } else if (isfinite(v)) {
                zoo_compare_number(v, buf, sizeof buf);
            }
            csv_field(f, m && !isfinite(v) ? NULL : buf, false);
        }
    }
}

static int write_csv(const zoo_compare_data *d) {
    text t;
    int st = text_open(&t);
    if (st) return st;
    for (int r = 0; r <= d->s->n_models; r++) {
        const zoo_compare_model *m = r ? &d->models[r - 1] : NULL;
        csv_field(t.f, m ? m->name : "model", true);
        csv_field(t.f, m ? m->plugin : "plugin", false);
        csv_field(t.f, m ? m->status : "status", false);
        csv_numbers(d, t.f, m, 0, ZOO_CF_CARD_END);
        csv_field(t.f, m ? m->sees : "sees", false);
        csv_field(t.f, m ? m->inputs : "inputs", false);
        csv_field(t.f, m ? m->pretraining : "pretraining", false);
        csv_numbers(d, t.f, m, ZOO_CF_CARD_END, d->n_fields);
        char *error = m ? model_error(d, m) : NULL;
        csv_field(t.f, m ? error : "error", false);
        free(error);
        fputs("\r\n", t.f);
    }
    return text_write(&t, d->s->out_dir, "results.csv");
}

/* ---- charts -------------------------------------------------------------------------- */

static int write_loss_chart(const zoo_compare_data *d, bool by_seconds, const char *file) {
    const zoo_compare_summary *s = d->s;
    zoo_plot_series *series = calloc((size_t)s->n_models, sizeof *series);
    char **names = calloc((size_t)s->n_models, sizeof *names);
    int st = series && names ? ZOO_OK : zoo_error(ZOO_ERR_NOMEM, "compare report: out of memory");
    for (int i = 0; !st && i < s->n_models; i++) {
        const zoo_compare_model *m = &d->models[i];
        const zoo_compare_curve *c = &m->curve;
        /* the legend names each model's objective: its loss measures that */
        if ((m->pretraining ? asprintf(&names[i], "%s: %s", m->name, m->pretraining)
                            : asprintf(&names[i], "%s", m->name)) < 0) {
            names[i] = NULL;
            st = zoo_error(ZOO_ERR_NOMEM, "compare report: out of memory");
            break;
        }
        series[i] = (zoo_plot_series){.name = names[i],
                                      .x = by_seconds ? c->seconds : c->tokens,
                                      .y = c->loss,
                                      .n = c->n,
                                      .dashed_x = by_seconds ? c->val_seconds : c->val_tokens,
                                      .dashed_y = c->val_loss,
                                      .dashed_n = c->val_n};
    }
    zoo_line_chart chart = {
        .title = by_seconds ? "Loss against training seconds (each model's own objective)"
                            : "Loss against tokens seen (each model's own objective)",
        .x_label = by_seconds ? "training seconds" : "tokens seen",
        .y_label = "loss (nats, log scale)",
        .solid_key = "training",
        .dashed_key = "held-out",
        .y_log = 1,
        .width = 960,
        .height = 480,
        .series = series,
        .count = s->n_models};
    if (!st) {
        char *path = NULL;
        st = asprintf(&path, "%s/%s", s->out_dir, file) < 0
                 ? zoo_error(ZOO_ERR_NOMEM, "compare report: out of memory")
                 : zoo_line_chart_write(&chart, path);
        free(path);
    }
    for (int i = 0; names && i < s->n_models; i++) free(names[i]);
    free(names);
    free(series);
    return st;
}

static int write_probe_chart(const zoo_compare_data *d) {
    const zoo_compare_summary *s = d->s;
    zoo_bar_group *groups = calloc((size_t)s->n_probes, sizeof *groups);
    double *values = calloc((size_t)s->n_probes * (size_t)s->n_models, sizeof *values);
    char *path = NULL;
    int st = !groups || !values || asprintf(&path, "%s/probes.svg", s->out_dir) < 0
                 ? zoo_error(ZOO_ERR_NOMEM, "compare report: out of memory")
                 : ZOO_OK;
    for (int p = 0; !st && p < s->n_probes; p++) {
        double *v = values + (size_t)p * (size_t)s->n_models, majority = NAN;
        for (int i = 0; i < s->n_models; i++) {
            v[i] = d->models[i].mean[ZOO_CF_ACCURACY(p)]; /* NaN: "n/a", no bar */
            if (isnan(majority)) majority = d->models[i].mean[ZOO_CF_MAJORITY(p)];
        }
        groups[p] = (zoo_bar_group){.name = s->probes[p], .values = v, .baseline = majority};
    }
    zoo_bar_chart chart = {.title = "Probe accuracy",
                           .y_label = "test accuracy",
                           .baseline_key = "majority baseline",
                           .bar_names = s->models,
                           .bar_count = s->n_models,
                           .groups = groups,
                           .group_count = s->n_probes};
    if (!st) st = zoo_bar_chart_write(&chart, path);
    free(path);
    free(values);
    free(groups);
    return st;
}

/* ---- report.md and the terminal ------------------------------------------------------------ */

static void budget_line(const zoo_compare_summary *s, FILE *f) {
    fprintf(f, "Budget: %s", s->budget ? s->budget : "n/a");
    if (s->repeat > 1)
        fprintf(f, "; %d trials per model, cells are mean \u00b1 sd over the trials that succeeded",
                s->repeat);
    fprintf(f, "%s.\n", s->reproducible ? "" : " (not reproducible: budget in seconds)");
}

static void errors(const zoo_compare_data *d, FILE *f, const char *bullet) {
    for (int i = 0; i < d->s->n_models; i++)
        for (int k = 0; k < d->s->repeat; k++)
            if (d->models[i].trials[k].error)
                fprintf(f, "%s%s\n", bullet, d->models[i].trials[k].error);
}

static bool any_error(const zoo_compare_data *d) {
    for (int i = 0; i < d->s->n_models; i++)
        if (strcmp(d->models[i].status, "ok") != 0) return true;
    return false;
}

static int write_markdown(const zoo_compare_data *d, const zoo_compare_table *table) {
    const zoo_compare_summary *s = d->s;
    text t;
    int st = text_open(&t);
    if (st) return st;
    fprintf(t.f, "# %s\n\n", s->title ? s->title : "zoo compare");
    budget_line(s, t.f);
    fputc('\n', t.f);
    zoo_compare_who_won(d, t.f);
    fputs("\n## Results\n\n", t.f);
    zoo_compare_table_markdown(table, t.f);
    fputs("\n## Curves\n\n"
          "Training loss (solid; a long run's steps averaged in blocks, at most 200 points) "
          "and held-out loss (dashed), each model's own objective, from the first trial.\n\n"
          "![Loss against tokens seen](loss-tokens.svg)\n\n"
          "![Loss against training seconds](loss-seconds.svg)\n",
          t.f);
    if (s->n_probes > 0) fputs("\n## Probes\n\n![Probe accuracy](probes.svg)\n", t.f);
    if (any_error(d)) {
        fputs("\n## Failures\n\n", t.f);
        errors(d, t.f, "- ");
    }
    return text_write(&t, s->out_dir, "report.md");
}

int zoo_compare_report(const zoo_compare_summary *s, FILE *terminal) {
    if (!s || !s->out_dir || !s->models || s->n_models < 1 || s->repeat < 1 || s->n_probes < 0 ||
        (s->n_probes > 0 && !s->probes))
        return zoo_error(ZOO_ERR_ARG, "compare report: a summary needs an output directory, a "
                                      "model at least and repeat >= 1");
    for (int i = 0; i < s->n_models; i++)
        if (!s->models[i]) return zoo_error(ZOO_ERR_ARG, "compare report: model %d has no name", i);
    for (int p = 0; p < s->n_probes; p++)
        if (!s->probes[p]) return zoo_error(ZOO_ERR_ARG, "compare report: probe %d has no name", p);
    zoo_compare_data d;
    zoo_compare_table table = {0};
    int st = zoo_compare_data_read(&d, s);
    if (!st) st = zoo_compare_table_build(&d, &table);
    if (!st) st = write_json(&d);
    if (!st) st = write_csv(&d);
    if (!st) st = write_loss_chart(&d, false, "loss-tokens.svg");
    if (!st) st = write_loss_chart(&d, true, "loss-seconds.svg");
    if (!st && s->n_probes > 0) st = write_probe_chart(&d);
    if (!st) st = write_markdown(&d, &table);
    if (!st && terminal) {
        fprintf(terminal, "%s\n", s->title ? s->title : "zoo compare");
        budget_line(s, terminal);
        fputc('\n', terminal);
        zoo_compare_table_print(&table, terminal);
        if (any_error(&d)) fputc('\n', terminal);
        errors(&d, terminal, "");
    }
    zoo_compare_table_free(&table);
    zoo_compare_data_free(&d);
    return st;
}
