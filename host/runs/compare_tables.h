/* zoo compare's table of results, as report.md and the terminal show it
 * (the cells' formats are in compare_report.h), and the report's "who won"
 * paragraph. Part of the report (compare_report.c). */
#ifndef ZOO_HOST_COMPARE_TABLES_H
#define ZOO_HOST_COMPARE_TABLES_H

#include "compare_trials.h"

/* rows + 1 lines of cols cells each, line 0 the header; a cell is one line of
 * UTF-8 text. right[c]: column c holds numbers (aligned right). */
typedef struct zoo_compare_table {
    int rows, cols;
    char **cells; /* (rows + 1) * cols, line by line */
    bool *right;
} zoo_compare_table;

/* A row per model in d's order. ZOO_ERR_NOMEM; free *t either way. */
int zoo_compare_table_build(const zoo_compare_data *d, zoo_compare_table *t);
void zoo_compare_table_free(zoo_compare_table *t);

/* As a Markdown (GitHub) table, '|' in a cell escaped. */
void zoo_compare_table_markdown(const zoo_compare_table *t, FILE *out);
/* As plain text columns two spaces apart, under a rule of dashes; widths
 * counted in code points, so that "±" is one column. */
void zoo_compare_table_print(const zoo_compare_table *t, FILE *out);

/* Who won, in one paragraph of Markdown: the best accuracy of each probe and
 * its margin over the majority baseline, the fastest training, the lowest
 * held-out bits per character among the models that report it, and the
 * warning that losses of different objectives are not comparable. */
void zoo_compare_who_won(const zoo_compare_data *d, FILE *out);

#endif
