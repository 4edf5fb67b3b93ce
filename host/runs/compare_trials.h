/* zoo compare's trials read back for its report (compare_report.h): each
 * trial's result.json as numbers and strings, each model's statistics over
 * its trials, and repeat 1's loss curves from run/metrics.jsonl. The
 * report's writers (compare_report.c, compare_tables.c) share this. */
#ifndef ZOO_HOST_COMPARE_TRIALS_H
#define ZOO_HOST_COMPARE_TRIALS_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdio.h>

#include "compare_report.h"

/* The numeric fields of a trial, in column order; two more per probe follow
 * ZOO_CF_PROBES: its accuracy, then its majority baseline. */
enum {
    ZOO_CF_PARAMETERS,
    ZOO_CF_LAYERS,
    ZOO_CF_HIDDEN,
    ZOO_CF_TOKENS_PER_SECOND,
    ZOO_CF_PEAK_MEMORY_MIB,
    ZOO_CF_TRAIN_SECONDS,
    ZOO_CF_FINAL_LOSS,
    ZOO_CF_HELDOUT_PERPLEXITY,
    ZOO_CF_HELDOUT_BPC,
    ZOO_CF_PROBES
};
#define ZOO_CF_ACCURACY(p) (ZOO_CF_PROBES + 2 * (p))
#define ZOO_CF_MAJORITY(p) (ZOO_CF_PROBES + 2 * (p) + 1)
/* The card's fields (parameters, layers, hidden) are < ZOO_CF_CARD_END. */
#define ZOO_CF_CARD_END ZOO_CF_TOKENS_PER_SECOND

typedef enum zoo_trial_state {
    ZOO_TRIAL_OK,
    ZOO_TRIAL_FAILED,     /* result.json says it failed */
    ZOO_TRIAL_NOT_RUN,    /* no result.json */
    ZOO_TRIAL_UNREADABLE, /* result.json is there but not a JSON object */
} zoo_trial_state;

typedef struct zoo_compare_trial {
    zoo_trial_state state;
    cJSON *result;  /* the parsed result.json; NULL unless OK or FAILED */
    char *error;    /* the failure in one line, naming the model ("gpt failed in
                     * train: ..."); NULL when OK */
    double *values; /* one per field, NAN where result.json has none */
} zoo_compare_trial;

/* A model's training and held-out points, in file order, at most about
 * ZOO_CURVE_MAX_POINTS training points (a long run averaged in blocks of steps). */
#define ZOO_CURVE_MAX_POINTS 200
typedef struct zoo_compare_curve {
    double *tokens, *seconds, *loss;
    int n;
    double *val_tokens, *val_seconds, *val_loss;
    int val_n;
} zoo_compare_curve;

typedef struct zoo_compare_model {
    const char *name;
    /* The card's strings and the plugin, from the first trial that has each;
     * NULL when none does. They point into a trial's result. */
    const char *plugin, *sees, *inputs, *pretraining;
    const char *status;        /* "ok", "failed" or "not run" */
    int succeeded;             /* trials in state OK */
    zoo_compare_trial *trials; /* repeat of them */
    /* Per field: the mean, the sample sd (NAN below two values) and how many
     * trials gave a value, over the trials that succeeded, or over every
     * trial when none did. */
    double *mean, *sd;
    int *count;
    zoo_compare_curve curve; /* from repeat 1 */
} zoo_compare_model;

typedef struct zoo_compare_data {
    const zoo_compare_summary *s;
    int n_fields;              /* ZOO_CF_PROBES + 2 * n_probes */
    zoo_compare_model *models; /* s->n_models */
} zoo_compare_data;

/* Reads every trial of s into *d (zeroed first). Only running out of memory
 * is an error (ZOO_ERR_NOMEM); free *d with zoo_compare_data_free either way. */
int zoo_compare_data_read(zoo_compare_data *d, const zoo_compare_summary *s);
void zoo_compare_data_free(zoo_compare_data *d);

/* A field's name in results.json and results.csv ("final_loss",
 * "testament_accuracy") into buf. */
void zoo_compare_field_name(const zoo_compare_summary *s, int field, char *buf, size_t size);

/* x as the shortest decimal that reads back as the same double ("0.912",
 * "1234567"), into buf (at least 32 bytes). */
void zoo_compare_number(double x, char *buf, size_t size);

#endif
