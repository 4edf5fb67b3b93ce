#include "labeled_examples.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zoo/status.h"

void zoo_labels_free(zoo_labels *ls) {
    for (int i = 0; i < ls->n; i++) free(ls->names[i]);
    ls->n = 0;
}

/* The label's number; -1 when it is new and may not be added (or there is no room). */
static int label_id(zoo_labels *ls, const char *name, size_t len, bool add) {
    for (int i = 0; i < ls->n; i++)
        if (strlen(ls->names[i]) == len && strncmp(ls->names[i], name, len) == 0) return i;
    if (!add || ls->n == ZOO_MAX_LABELS) return -1;
    if (!(ls->names[ls->n] = strndup(name, len))) return -1;
    return ls->n++;
}

/* The file as NUL-terminated text into *text, kept in ex (its lines are cut in place). */
static int read_file(zoo_labeled_examples *ex, const char *path, const char *what,
                     zoo_utf8_policy policy, char **text, size_t *len) {
    zoo_corpus *corpus = NULL;
    int st = zoo_corpus_open(&path, 1, policy, &corpus);
    if (st) {
        char why[1024];
        snprintf(why, sizeof why, "%s", zoo_error_message());
        return zoo_error(st, "%s: %s", what, why);
    }
    const char *bytes = zoo_corpus_file(corpus, 0, len);
    char **files = realloc(ex->files, (size_t)(ex->n_files + 1) * sizeof *files);
    if (files) ex->files = files;
    *text = files ? malloc(*len + 1) : NULL;
    if (*text) {
        memcpy(*text, bytes, *len), (*text)[*len] = '\0';
        ex->files[ex->n_files++] = *text;
    } else {
        st = zoo_error(ZOO_ERR_NOMEM, "%s: out of memory", path);
    }
    zoo_corpus_close(corpus);
    return st;
}

static int grow(zoo_labeled_examples *ex) {
    if (ex->n < ex->cap) return ZOO_OK;
    int64_t cap = ex->cap ? 2 * ex->cap : 1024;
    const char **texts = realloc(ex->texts, (size_t)cap * sizeof *texts);
    if (texts) ex->texts = texts;
    size_t *lens = realloc(ex->lens, (size_t)cap * sizeof *lens);
    if (lens) ex->lens = lens;
    int32_t *labels = realloc(ex->labels, (size_t)cap * sizeof *labels);
    if (labels) ex->labels = labels;
    if (!texts || !lens || !labels)
        return zoo_error(ZOO_ERR_NOMEM, "out of memory for %lld examples", (long long)cap);
    ex->cap = cap;
    return ZOO_OK;
}

int zoo_labeled_examples_read(zoo_labeled_examples *ex, zoo_labels *ls, const char *path,
                              const char *what, const char *format, zoo_utf8_policy policy,
                              bool add_labels) {
    bool tsv = strcmp(format, "tsv") == 0, trec = strcmp(format, "trec") == 0;
    if (!tsv && !trec && strcmp(format, "sst") != 0)
        return zoo_error(ZOO_ERR_ARG, "format: expected tsv, sst or trec, got '%s'", format);
    size_t len;
    char *text;
    int st = read_file(ex, path, what, policy, &text, &len);
    if (st) return st;
    int64_t line_no = 0;
    for (size_t at = 0; at < len;) {
        char *line = text + at, *end = memchr(line, '\n', len - at);
        size_t n = end ? (size_t)(end - line) : len - at;
        at += n + 1;
        line_no++;
        if (n && line[n - 1] == '\r') n--;
        line[n] = '\0';
        if (!n) continue;
        const char *sep = memchr(line, tsv ? '\t' : ' ', n);
        size_t label_len = sep ? (size_t)(sep - line) : 0;
        if (sep && trec) { /* COARSE:fine -> COARSE */
            const char *colon = memchr(line, ':', label_len);
            if (colon) label_len = (size_t)(colon - line);
        }
        int y = sep && label_len ? label_id(ls, line, label_len, add_labels) : -2;
        if (y < 0)
            return zoo_error(
                ZOO_ERR_FORMAT, "%s:%lld: %s", path, (long long)line_no,
                y == -2 ? "expected a label, then the text"
                        : "a label the training examples do not have (or more than 64 labels)");
        if ((st = grow(ex))) return st;
        ex->texts[ex->n] = sep + 1;
        ex->lens[ex->n] = n - (size_t)(sep + 1 - line);
        ex->labels[ex->n++] = y;
    }
    return ZOO_OK;
}

void zoo_labeled_examples_free(zoo_labeled_examples *ex) {
    for (int i = 0; i < ex->n_files; i++) free(ex->files[i]);
    free(ex->files), free(ex->texts), free(ex->lens), free(ex->labels);
    memset(ex, 0, sizeof *ex);
}
