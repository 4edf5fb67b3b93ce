/* The report of `zoo compare`: read back from the trial directories the
 * orchestrator left in OUT (the layout and the result.json schema are the
 * comparison's contract: OUT/NAME, or OUT/NAME/repeat-K with --repeat, each
 * holding result.json and run/metrics.jsonl), and written as
 *
 *   OUT/report.md        title, budget, who won (from the numbers), the table,
 *                        the three charts embedded, then each failure;
 *   OUT/results.json     {"title", "budget", "reproducible", "repeat", "models":
 *                        [{"name", "plugin", "status", "error", "trials": [each
 *                        result.json as read, null when missing or unreadable],
 *                        "succeeded", "mean": {FIELD: x|null}, "sd": {...}}]};
 *   OUT/results.csv      a header row and a row per model (RFC 4180: CRLF line
 *                        ends, a field with a comma, quote or line break quoted);
 *   OUT/loss-tokens.svg, OUT/loss-seconds.svg
 *                        each model's training loss (solid) and held-out
 *                        val_loss (dashed) against tokens seen and training
 *                        seconds, y on a log scale, from repeat 1's
 *                        metrics.jsonl;
 *   OUT/probes.svg       probe accuracy, a group per probe, a bar per model,
 *                        the majority baseline marked (not written, nor
 *                        embedded, when the comparison has no probe);
 *
 * and the table printed as aligned plain text.
 *
 * The FIELDs, in this order, are the columns of the table and of the CSV:
 * parameters, layers, hidden (the model card), tokens_per_second,
 * peak_memory_mib, train_seconds, final_loss, heldout_perplexity,
 * heldout_bits_per_char, then PROBE_accuracy and PROBE_majority for each
 * probe. The CSV's columns are model, plugin, status, the card's numbers and
 * its strings (sees, inputs, pretraining), the measured FIELDs, and error
 * last; with repeat > 1 a FIELD_sd column follows each FIELD. A model's status
 * is "ok" (every trial succeeded), "not run" (no trial has a result.json) or
 * "failed"; its error joins its trials' errors with "; ".
 *
 * Statistics: a model's value of a FIELD is the mean over the trials that
 * succeeded, or over every trial that has the value when none did (so a
 * model that failed in its probes still shows its training numbers); its sd
 * is the sample standard deviation (n - 1), null with fewer than two values.
 * The table shows "mean ± sd" for measurements when two or more trials give
 * the value, the value alone otherwise; the card's numbers are shown alone
 * (they do not change between repeats). Missing values show "n/a".
 *
 * Formats in report.md and on the terminal: parameters, tokens/s and MiB as
 * integers with thousands separators ("1,234,567"), seconds to 1 decimal,
 * losses, accuracies and bits per character to 3, perplexity to 2, a probe's
 * cell as "0.912 (maj 0.741)". The CSV and JSON hold numbers unrounded.
 *
 * Not thread-safe against another report into the same OUT; otherwise
 * reentrant. */
#ifndef ZOO_HOST_COMPARE_REPORT_H
#define ZOO_HOST_COMPARE_REPORT_H

#include <stdbool.h>
#include <stdio.h>

typedef struct zoo_compare_summary {
    const char *out_dir;       /* where the report goes; trial dirs are inside */
    const char *title;         /* e.g. the config's file name without .json: "compare-kjv" */
    const char *budget;        /* human text: "300 steps per model", "2,000,000 tokens per model" */
    bool reproducible;         /* false when the budget was seconds: the report says so */
    const char *const *models; /* model names, config order; at least one */
    int n_models;
    const char *const *probes; /* probe names, config order; may be none */
    int n_probes;
    int repeat; /* trials per model, >= 1 */
} zoo_compare_summary;

/* The trial directory of model `name`, repeat k (1-based) out of `repeat`:
 * OUT/NAME when repeat is 1, OUT/NAME/repeat-K otherwise. From malloc; NULL
 * when out of memory. */
char *zoo_compare_trial_dir(const char *out_dir, const char *name, int k, int repeat);

/* Reads every trial's result.json and repeat 1's run/metrics.jsonl and writes
 * the report files above, each atomically (zoo_write_file_atomic), then
 * prints the title, budget, table and failures to `terminal` (may be NULL:
 * nothing printed). A missing result.json makes a "not run" row, an
 * unreadable one a "failed" row naming the file and what is wrong; a missing
 * or unreadable metrics.jsonl (or line in it) draws no curve; none of these
 * is an error. ZOO_ERR_ARG for a summary out of its ranges, ZOO_ERR_IO naming
 * the file that could not be written, ZOO_ERR_NOMEM; files written before
 * the failure stay. */
int zoo_compare_report(const zoo_compare_summary *s, FILE *terminal);

#endif
