/* Analogy questions and word-pair similarities over a zoo_word_vectors,
 * through its public lookups only. */
#include "word_vector_eval.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zoo/io.h"
#include "zoo/status.h"

/* Splits the line at *p (ended by '\n' or the end) into at most max blank-
 * separated fields, NUL-terminating them in place; how many there were (also
 * counting those beyond max). Advances *p past the line. */
static int split_line(char **p, char *end, const char *seps, char **fields, int max) {
    char *line = *p, *nl = memchr(line, '\n', (size_t)(end - line));
    char *stop = nl ? nl : end;
    *p = nl ? nl + 1 : end;
    *stop = '\0';
    if (stop > line && stop[-1] == '\r') *--stop = '\0';
    int n = 0;
    for (char *s = line; s < stop;) {
        s += strspn(s, seps);
        if (s >= stop) break;
        size_t len = strcspn(s, seps);
        if (n < max) fields[n] = s;
        n++;
        s += len;
        if (s < stop) *s++ = '\0';
    }
    return n;
}

void zoo_analogy_result_free(zoo_analogy_result *r) {
    if (!r) return;
    for (int i = 0; i < r->n_sections; i++) free(r->sections[i].name);
    free(r->sections);
    memset(r, 0, sizeof *r);
}

static int add_section(zoo_analogy_result *r, const char *name, const char *path, int64_t line) {
    zoo_analogy_section *s = realloc(r->sections, ((size_t)r->n_sections + 1) * sizeof *s);
    if (!s) return zoo_error(ZOO_ERR_NOMEM, "%s:%lld: out of memory", path, (long long)line);
    r->sections = s;
    s += r->n_sections;
    *s = (zoo_analogy_section){.name = strdup(name)};
    if (!s->name) return zoo_error(ZOO_ERR_NOMEM, "%s:%lld: out of memory", path, (long long)line);
    r->n_sections++;
    return ZOO_OK;
}

/* Scores one question into section s: skipped, or asked and maybe correct. */
static int ask(const zoo_word_vectors *v, char **words, int64_t restrict_to,
               zoo_analogy_section *s) {
    int64_t row[4];
    for (int i = 0; i < 4; i++) {
        row[i] = zoo_word_vectors_find(v, words[i], restrict_to, true);
        if (row[i] < 0) {
            s->skipped++;
            return ZOO_OK;
        }
    }
    int64_t best;
    int64_t n = zoo_word_vectors_analogy(v, row[0], row[1], row[2], restrict_to, 1, &best, NULL);
    if (n < 0) return (int)n;
    s->asked++;
    if (n == 1 && best == row[3]) s->correct++;
    return ZOO_OK;
}

static int run_analogies(const zoo_word_vectors *v, const char *path, char *text, size_t len,
                         int64_t restrict_to, zoo_analogy_result *out) {
    char *p = text, *end = text + len;
    for (int64_t line = 1; p < end; line++) {
        char *f[4];
        if (*p == ':') {
            p++;
            int n = split_line(&p, end, " \t", f, 1);
            int st = add_section(out, n > 0 ? f[0] : "", path, line);
            if (st != ZOO_OK) return st;
            continue;
        }
        int n = split_line(&p, end, " \t", f, 4);
        if (n == 0) continue;
        if (n != 4)
            return zoo_error(ZOO_ERR_FORMAT, "%s:%lld: expected four words, found %d", path,
                             (long long)line, n);
        if (out->n_sections == 0)
            return zoo_error(ZOO_ERR_FORMAT, "%s:%lld: a question before any \": section\" line",
                             path, (long long)line);
        int st = ask(v, f, restrict_to, &out->sections[out->n_sections - 1]);
        if (st != ZOO_OK) return st;
    }
    for (int i = 0; i < out->n_sections; i++) {
        out->correct += out->sections[i].correct;
        out->asked += out->sections[i].asked;
        out->skipped += out->sections[i].skipped;
    }
    return ZOO_OK;
}

int zoo_word_vectors_eval_analogy(const zoo_word_vectors *v, const char *path, int64_t restrict_to,
                                  zoo_analogy_result *out) {
    memset(out, 0, sizeof *out);
    size_t len;
    char *text = zoo_read_file(path, &len);
    if (!text) return ZOO_ERR_IO;
    int st = run_analogies(v, path, text, len, restrict_to, out);
    free(text);
    if (st != ZOO_OK) zoo_analogy_result_free(out);
    return st;
}

/* Ranks from 1 of x[n], tied values sharing the average of their ranks. */
static void average_ranks(const double *x, int64_t n, int64_t *order, double *rank) {
    for (int64_t i = 0; i < n; i++) order[i] = i;
    /* insertion sort would be quadratic on WordSim's thousands; shell sort is plenty */
    for (int64_t gap = n / 2; gap > 0; gap /= 2)
        for (int64_t i = gap; i < n; i++)
            for (int64_t j = i; j >= gap && x[order[j - gap]] > x[order[j]]; j -= gap) {
                int64_t t = order[j];
                order[j] = order[j - gap];
                order[j - gap] = t;
            }
    for (int64_t i = 0; i < n;) {
        int64_t j = i;
        while (j + 1 < n && x[order[j + 1]] == x[order[i]]) j++;
        for (int64_t k = i; k <= j; k++) rank[order[k]] = (double)(i + j) / 2 + 1;
        i = j + 1;
    }
}

static double pearson(const double *x, const double *y, int64_t n) {
    double mx = 0, my = 0;
    for (int64_t i = 0; i < n; i++) mx += x[i], my += y[i];
    mx /= (double)n;
    my /= (double)n;
    double sxy = 0, sxx = 0, syy = 0;
    for (int64_t i = 0; i < n; i++) {
        sxy += (x[i] - mx) * (y[i] - my);
        sxx += (x[i] - mx) * (x[i] - mx);
        syy += (y[i] - my) * (y[i] - my);
    }
    return sxx > 0 && syy > 0 ? sxy / sqrt(sxx * syy) : NAN;
}

/* Spearman's rho as the Pearson correlation of average ranks. NaN when it
 * is undefined: fewer than two pairs, or all scores (or cosines) equal. */
static int spearman(const double *a, const double *b, int64_t n, double *rho) {
    *rho = NAN;
    if (n < 2) return ZOO_OK;
    int64_t *order = malloc((size_t)n * sizeof *order);
    double *ra = malloc((size_t)n * sizeof *ra), *rb = malloc((size_t)n * sizeof *rb);
    int st = ZOO_OK;
    if (order && ra && rb) {
        average_ranks(a, n, order, ra);
        average_ranks(b, n, order, rb);
        *rho = pearson(ra, rb, n);
    } else {
        st = zoo_error(ZOO_ERR_NOMEM, "word vectors: out of memory for %lld ranks", (long long)n);
    }
    free(order);
    free(ra);
    free(rb);
    return st;
}

static double row_cosine(const zoo_word_vectors *v, int64_t r1, int64_t r2) {
    const float *x = v->unit + r1 * v->dim, *y = v->unit + r2 * v->dim;
    double s = 0;
    for (int64_t j = 0; j < v->dim; j++) s += (double)x[j] * y[j];
    return s;
}

/* Parses the pairs of text into human[] and model[] (each room for one
 * per line); counts in out. */
static int read_pairs(const zoo_word_vectors *v, const char *path, char *text, size_t len,
                      int64_t restrict_to, double *human, double *model, zoo_pairs_result *out) {
    char *p = text, *end = text + len;
    for (int64_t line = 1; p < end; line++) {
        char *f[3];
        bool comment = *p == '#';
        int n = split_line(&p, end, " \t", f, 3);
        if (comment || n == 0) continue;
        if (n != 3)
            return zoo_error(ZOO_ERR_FORMAT,
                             "%s:%lld: expected \"word1 word2 score\", found %d fields", path,
                             (long long)line, n);
        char *after;
        double score = strtod(f[2], &after);
        if (after == f[2] || *after || !isfinite(score))
            return zoo_error(ZOO_ERR_FORMAT, "%s:%lld: score \"%s\" is not a number", path,
                             (long long)line, f[2]);
        int64_t r1 = zoo_word_vectors_find(v, f[0], restrict_to, true);
        int64_t r2 = zoo_word_vectors_find(v, f[1], restrict_to, true);
        if (r1 < 0 || r2 < 0) {
            out->skipped++;
            continue;
        }
        human[out->used] = score;
        model[out->used++] = row_cosine(v, r1, r2);
    }
    return ZOO_OK;
}

int zoo_word_vectors_eval_pairs(const zoo_word_vectors *v, const char *path, int64_t restrict_to,
                                zoo_pairs_result *out) {
    *out = (zoo_pairs_result){.spearman = NAN};
    size_t len;
    char *text = zoo_read_file(path, &len);
    if (!text) return ZOO_ERR_IO;
    size_t lines = 1;
    for (size_t i = 0; i < len; i++) lines += text[i] == '\n';
    double *human = malloc(lines * sizeof *human), *model = malloc(lines * sizeof *model);
    int st = human && model ? read_pairs(v, path, text, len, restrict_to, human, model, out)
                            : zoo_error(ZOO_ERR_NOMEM, "%s: out of memory", path);
    if (st == ZOO_OK) st = spearman(human, model, out->used, &out->spearman);
    free(text);
    free(human);
    free(model);
    return st;
}
