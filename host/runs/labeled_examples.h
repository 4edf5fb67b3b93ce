/* Labeled examples, one a line, as zoo finetune (finetune.train,
 * finetune.eval, finetune.format) and zoo probe (--train, --test, --format)
 * read them. A line is a label, then its text:
 *
 *   tsv   LABEL<TAB>TEXT
 *   sst   LABEL TEXT           the first word is the label (SST-2's files)
 *   trec  COARSE:fine TEXT     the label is COARSE (TREC's files)
 *
 * A '\r' before a line's end is cut; empty lines are skipped. Labels are
 * numbered in the order the examples first show them; a set read later (the
 * held-out one) is read against the labels of the first. */
#ifndef ZOO_HOST_LABELED_EXAMPLES_H
#define ZOO_HOST_LABELED_EXAMPLES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "corpus_files.h"

#define ZOO_MAX_LABELS 64

typedef struct zoo_labels {
    char *names[ZOO_MAX_LABELS]; /* from malloc, in the order first seen */
    int n;
} zoo_labels;

void zoo_labels_free(zoo_labels *ls);

/* Examples from one or more files, in the files' order. Start it zeroed. */
typedef struct zoo_labeled_examples {
    int64_t n, cap;
    const char **texts; /* [n] each example's text (the label and its separator left out),
                         * NUL-terminated, pointing into files */
    size_t *lens;       /* [n] the texts' lengths */
    int32_t *labels;    /* [n] in [0, the labels' n) */
    char **files;       /* the files' contents, lines cut at their ends */
    int n_files;
} zoo_labeled_examples;

/* Appends the examples of the file at path, written in format ("tsv",
 * "sst" or "trec"), read as UTF-8 with invalid bytes refused or replaced as
 * policy says. A label not in ls yet is added when add_labels, else
 * refused. ZOO_OK, or a status with one of these messages (the examples
 * read before stay):
 *   "WHAT: " + zoo_corpus_open's message, the file could not be read
 *       (missing, not UTF-8, empty: corpus_files.h); WHAT is `what`
 *   "PATH:LINE: expected a label, then the text"
 *   "PATH:LINE: a label the training examples do not have (or more than 64 labels)"
 *   "format: expected tsv, sst or trec, got 'X'" */
int zoo_labeled_examples_read(zoo_labeled_examples *ex, zoo_labels *ls, const char *path,
                              const char *what, const char *format, zoo_utf8_policy policy,
                              bool add_labels);
void zoo_labeled_examples_free(zoo_labeled_examples *ex);

#endif
