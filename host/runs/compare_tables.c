#include "compare_tables.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "zoo/status.h"

/* ---- cells ------------------------------------------------------------------ */

enum { INTEGER, DECIMALS_1, DECIMALS_2, DECIMALS_3 };

/* v rounded to an integer, with thousands separators: "1,234,567". */
static void format_integer(double v, char *buf, size_t size) {
    char digits[64];
    int n = snprintf(digits, sizeof digits, "%.0f", fabs(round(v)));
    size_t j = 0;
    if (round(v) < 0 && j + 1 < size) buf[j++] = '-';
    for (int i = 0; i < n && j + 2 < size; i++) {
        if (i > 0 && (n - i) % 3 == 0) buf[j++] = ',';
        buf[j++] = digits[i];
    }
    buf[j] = '\0';
}

static void format_value(double v, int kind, char *buf, size_t size) {
    if (!isfinite(v))
        snprintf(buf, size, "n/a");
    else if (kind == INTEGER)
        format_integer(v, buf, size);
    else
        snprintf(buf, size, "%.*f", kind - DECIMALS_1 + 1, v);
}

/* A model's value of field f: "n/a", the mean, or "mean ± sd" for a
 * measurement that two or more trials gave. */
static void format_cell(const zoo_compare_model *m, int f, int kind, char *buf, size_t size) {
    if (m->count[f] == 0) {
        snprintf(buf, size, "n/a");
        return;
    }
    format_value(m->mean[f], kind, buf, size);
    if (f >= ZOO_CF_CARD_END && m->count[f] >= 2) {
        size_t n = strlen(buf);
        snprintf(buf + n, size - n, " \u00b1 ");
        n = strlen(buf);
        format_value(m->sd[f], kind, buf + n, size - n);
    }
}

/* ---- the table ---------------------------------------------------------------- */

static const struct {
    const char *header;
    int field, kind; /* field -1: a string column */
} MEASURES[] = {
    {"tokens/s", ZOO_CF_TOKENS_PER_SECOND, INTEGER},
    {"peak MiB", ZOO_CF_PEAK_MEMORY_MIB, INTEGER},
    {"train s", ZOO_CF_TRAIN_SECONDS, DECIMALS_1},
    {"final loss", ZOO_CF_FINAL_LOSS, DECIMALS_3},
    {"held-out ppl", ZOO_CF_HELDOUT_PERPLEXITY, DECIMALS_2},
    {"held-out bpc", ZOO_CF_HELDOUT_BPC, DECIMALS_3},
};
#define N_MEASURES (int)(sizeof MEASURES / sizeof MEASURES[0])
static const char *const CARD_HEADERS[] = {"parameters", "layers", "hidden"};
static const char *const CARD_STRING_HEADERS[] = {"sees", "inputs", "pretraining"};

/* Cell text is one line. */
static char *cell_dup(const char *s) {
    char *c = strdup(s ? s : "n/a");
    for (char *p = c; p && *p; p++)
        if (*p == '\n' || *p == '\r' || *p == '\t') *p = ' ';
    return c;
}

int zoo_compare_table_build(const zoo_compare_data *d, zoo_compare_table *t) {
    const zoo_compare_summary *s = d->s;
    *t = (zoo_compare_table){.rows = s->n_models, .cols = 2 + 3 + 3 + N_MEASURES + s->n_probes};
    t->cells = calloc((size_t)(t->rows + 1) * (size_t)t->cols, sizeof *t->cells);
    t->right = calloc((size_t)t->cols, sizeof *t->right);
    if (!t->cells || !t->right) return zoo_error(ZOO_ERR_NOMEM, "compare report: out of memory");
    char buf[256];
    for (int r = 0; r <= t->rows; r++) {
        const zoo_compare_model *m = r ? &d->models[r - 1] : NULL;
        char **cell = t->cells + (size_t)r * (size_t)t->cols;
        int c = 0;
        cell[c++] = cell_dup(m ? m->name : "model");
        if (m && s->repeat > 1 && strcmp(m->status, "failed") == 0)
            snprintf(buf, sizeof buf, "failed (%d/%d ok)", m->succeeded, s->repeat);
        else
            snprintf(buf, sizeof buf, "%s", m ? m->status : "status");
        cell[c++] = cell_dup(buf);
        for (int f = 0; f < ZOO_CF_CARD_END; f++) {
            if (m) format_cell(m, f, INTEGER, buf, sizeof buf);
            t->right[c] = true;
            cell[c++] = cell_dup(m ? buf : CARD_HEADERS[f]);
        }
        const char *strings[3] = {m ? m->sees : NULL, m ? m->inputs : NULL,
                                  m ? m->pretraining : NULL};
        for (int i = 0; i < 3; i++) cell[c++] = cell_dup(m ? strings[i] : CARD_STRING_HEADERS[i]);
        for (int i = 0; i < N_MEASURES; i++) {
            if (m) format_cell(m, MEASURES[i].field, MEASURES[i].kind, buf, sizeof buf);
            t->right[c] = true;
            cell[c++] = cell_dup(m ? buf : MEASURES[i].header);
        }
        for (int p = 0; p < s->n_probes; p++) {
            if (m) {
                format_cell(m, ZOO_CF_ACCURACY(p), DECIMALS_3, buf, sizeof buf);
                if (m->count[ZOO_CF_MAJORITY(p)] > 0) {
                    size_t n = strlen(buf);
                    snprintf(buf + n, sizeof buf - n, " (maj %.3f)", m->mean[ZOO_CF_MAJORITY(p)]);
                }
            }
            t->right[c] = true;
            cell[c++] = cell_dup(m ? buf : s->probes[p]);
        }
    }
    for (int i = 0; i < (t->rows + 1) * t->cols; i++)
        if (!t->cells[i]) return zoo_error(ZOO_ERR_NOMEM, "compare report: out of memory");
    return ZOO_OK;
}

void zoo_compare_table_free(zoo_compare_table *t) {
    for (int i = 0; t->cells && i < (t->rows + 1) * t->cols; i++) free(t->cells[i]);
    free(t->cells);
    free(t->right);
    *t = (zoo_compare_table){0};
}

void zoo_compare_table_markdown(const zoo_compare_table *t, FILE *out) {
    for (int r = 0; r <= t->rows; r++) {
        for (int c = 0; c < t->cols; c++) {
            fputs("| ", out);
            for (const char *p = t->cells[r * t->cols + c]; *p; p++) {
                if (*p == '|') fputc('\\', out);
                fputc(*p, out);
            }
            fputc(' ', out);
        }
        fputs("|\n", out);
        for (int c = 0; r == 0 && c < t->cols; c++) fputs(t->right[c] ? "|---:" : "|---", out);
        if (r == 0) fputs("|\n", out);
    }
}

static int code_points(const char *s) {
    int n = 0;
    for (; *s; s++) n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

void zoo_compare_table_print(const zoo_compare_table *t, FILE *out) {
    int *width = calloc((size_t)t->cols, sizeof *width), total = 0;
    if (!width) return;
    for (int c = 0; c < t->cols; c++) {
        for (int r = 0; r <= t->rows; r++) {
            int w = code_points(t->cells[r * t->cols + c]);
            if (w > width[c]) width[c] = w;
        }
        total += width[c] + (c ? 2 : 0);
    }
    for (int r = 0; r <= t->rows; r++) {
        for (int c = 0; c < t->cols; c++) {
            const char *cell = t->cells[r * t->cols + c];
            int pad = width[c] - code_points(cell);
            bool last = c == t->cols - 1;
            fprintf(out, "%s%*s%s%*s", c ? "  " : "", t->right[c] ? pad : 0, "", cell,
                    t->right[c] || last ? 0 : pad, "");
        }
        fputc('\n', out);
        for (int i = 0; r == 0 && i < total; i++) fputc('-', out);
        if (r == 0) fputc('\n', out);
    }
    free(width);
}

/* ---- who won -------------------------------------------------------------------- */

/* The models whose mean of field f is the best (highest, or lowest when
 * `lowest`), as "a" or "a and b" into names; the best into *best. False when
 * no model has the field. */
static bool best_of(const zoo_compare_data *d, int f, bool lowest, char *names, size_t size,
                    double *best) {
    *best = NAN;
    for (int i = 0; i < d->s->n_models; i++) {
        double v = d->models[i].mean[f];
        if (isfinite(v) && (isnan(*best) || (lowest ? v < *best : v > *best))) *best = v;
    }
    names[0] = '\0';
    for (int i = 0; i < d->s->n_models; i++)
        if (d->models[i].mean[f] == *best) {
            size_t n = strlen(names);
            snprintf(names + n, size - n, "%s%s", n ? " and " : "", d->models[i].name);
        }
    return isfinite(*best);
}

void zoo_compare_who_won(const zoo_compare_data *d, FILE *out) {
    const zoo_compare_summary *s = d->s;
    char names[1024];
    double best;
    fputs("**Who won.**", out);
    for (int p = 0; p < s->n_probes; p++) {
        if (!best_of(d, ZOO_CF_ACCURACY(p), false, names, sizeof names, &best)) {
            fprintf(out, " No model has a result on the probe %s.", s->probes[p]);
            continue;
        }
        fprintf(out, " On the probe %s, %s %s best at %.3f", s->probes[p], names,
                strstr(names, " and ") ? "are" : "is", best);
        double majority = NAN; /* the same for every model: the first one given */
        for (int i = 0; i < s->n_models && isnan(majority); i++)
            if (isfinite(d->models[i].mean[ZOO_CF_MAJORITY(p)]))
                majority = d->models[i].mean[ZOO_CF_MAJORITY(p)];
        if (isfinite(majority))
            fprintf(out, ", %.3f %s the majority baseline (%.3f)", fabs(best - majority),
                    best >= majority ? "over" : "under", majority);
        fputc('.', out);
    }
    if (best_of(d, ZOO_CF_TOKENS_PER_SECOND, false, names, sizeof names, &best)) {
        char a[64];
        format_integer(best, a, sizeof a);
        fprintf(out, " %s trained fastest, at %s tokens/s", names, a);
        char slow_names[1024];
        double slowest;
        best_of(d, ZOO_CF_TOKENS_PER_SECOND, true, slow_names, sizeof slow_names, &slowest);
        if (slowest < best && slowest > 0) {
            char b[64];
            format_integer(slowest, b, sizeof b);
            fprintf(out, " (%.1f\u00d7 %s, the slowest at %s)", best / slowest, slow_names, b);
        }
        fputc('.', out);
    }
    if (best_of(d, ZOO_CF_HELDOUT_BPC, true, names, sizeof names, &best))
        fprintf(out, " The lowest held-out bits per character: %s, %.3f.", names, best);
    else
        fputs(" No model reports held-out bits per character.", out);
    fputs(" Final training losses measure each model's own pretraining objective and are not "
          "comparable between models with different objectives.\n",
          out);
}
