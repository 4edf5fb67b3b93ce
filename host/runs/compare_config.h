/* A comparison's config (zoo compare CONFIG.json): shared data, one budget,
 * the models and the probes, read and checked before anything runs.
 *
 *   {"name": "compare-kjv", "seed": 1337,
 *    "data": {"train": "pretrain.txt", "val": "heldout.txt"},     (or "val_fraction")
 *    "budget": {"tokens": 500000},               (exactly one of steps, tokens, seconds)
 *    "models": [{"name": "gpt", "config": "gpt-kjv-bpe.json",    (a run config, or one inline)
 *                "set": {"model.n_layer": 2}, "probe": {"pool": "last"}}, ...],
 *    "probes": [{"name": "testament", "train": "t-train.tsv", "test": "t-test.tsv",
 *                "format": "tsv"}],
 *    "probe": {"l2": 0.001, "max_iter": 200, "finetune": false}}
 *
 * Paths resolve relative to the file that names them, as in run configs. An
 * unknown key, a wrong type or a repeated name is an error naming the file
 * and the JSON path; docs/compare.md describes every key. */
#ifndef ZOO_HOST_COMPARE_CONFIG_H
#define ZOO_HOST_COMPARE_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"

#define ZOO_COMPARE_MAX_SETS 64

typedef enum zoo_budget_kind {
    ZOO_BUDGET_STEPS,
    ZOO_BUDGET_TOKENS,
    ZOO_BUDGET_SECONDS
} zoo_budget_kind;

typedef struct zoo_compare_model {
    char *name;
    char *config_path;                /* a run config file (absolute), or NULL for an inline one */
    char *inline_json;                /* the inline config's text, or NULL */
    char *sets[ZOO_COMPARE_MAX_SETS]; /* "KEY=VALUE", from "set" */
    int n_sets;
    char *pool, *layer; /* zoo probe --pool / --layer; NULL: its defaults */
    bool finetune;      /* fine-tune the model with a task head instead of a linear probe */
    bool finetune_set;  /* the model's own probe.finetune, over the comparison's */
    char *published;    /* "117M": the published size shown beside the count (--dry-run) */
} zoo_compare_model;

typedef struct zoo_compare_probe {
    char *name, *train, *test; /* absolute paths */
    char *format;              /* tsv | sst | trec */
} zoo_compare_probe;

typedef struct zoo_compare_config {
    char *path, *name;
    int64_t seed;
    char *data_train; /* a JSON array of absolute paths, as --set takes it */
    char *data_val;   /* likewise, or NULL: val_fraction of the training text */
    double val_fraction;
    zoo_budget_kind budget_kind;
    double budget; /* steps, tokens or seconds */
    zoo_compare_model *models;
    int n_models;
    zoo_compare_probe *probes;
    int n_probes;
    double probe_l2;        /* <= 0: zoo probe's default */
    int64_t probe_max_iter; /* 0: its default */
    int64_t finetune_epochs;
    double finetune_lr;
} zoo_compare_config;

/* Reads and checks path. NULL with a message naming the file and field. */
zoo_compare_config *zoo_compare_config_load(const char *path);
void zoo_compare_config_free(zoo_compare_config *c);

/* The budget in words: "300 steps per model". */
void zoo_compare_budget_text(const zoo_compare_config *c, char *buf, size_t size);

/* Model i's run config for the seed given: its own config with the
 * comparison's data, budget and seed over it, then its "set". The shared
 * keys win over the model's config; its "set" wins over both. NULL with a
 * message naming the comparison's file and the model. */
zoo_config *zoo_compare_model_config(const zoo_compare_config *c, int i, int64_t seed);

#endif
