/* Run configs: JSON files with the sections model, data, train and eval.
 *
 * A config may name a base with "extends" (merged under it: objects merge
 * key by key, anything else is replaced); paths in a file resolve relative
 * to that file; --set a.b.c=VALUE overrides any key, typed by the schema.
 * Every key the host understands is in one table (config.c), which also
 * generates docs/config-reference.md. Errors name the file and the JSON path:
 *   configs/x.json: train.batch_size: expected an integer >= 1, got "four"
 * An unknown key is an error that suggests the closest known one; a key
 * given twice in one object, text that is not UTF-8 and a NUL byte are
 * errors too (zoo_json_check_text, zoo_json_check_keys). Keys under
 * "model" other than "plugin" are the plugin's hyperparameters, checked
 * against its schema by zoo_config_apply_model. */
#ifndef ZOO_HOST_CONFIG_H
#define ZOO_HOST_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "zoo/hparams.h"

typedef struct zoo_config zoo_config;

/* Loads, merges and validates a config and its bases, applies the --set
 * overrides ("a.b.c=VALUE") and fills every default. NULL with a message. */
zoo_config *zoo_config_load(const char *path, const char *const *sets, int n_sets);
/* A config from JSON text (no file: paths resolve against base_dir). */
zoo_config *zoo_config_parse(const char *text, const char *name, const char *base_dir,
                             const char *const *sets, int n_sets);
void zoo_config_free(zoo_config *c);

/* Values by dotted path; the path must be a key of the schema. */
int64_t zoo_config_int(const zoo_config *c, const char *path);
double zoo_config_number(const zoo_config *c, const char *path);
bool zoo_config_bool(const zoo_config *c, const char *path);
const char *zoo_config_string(const zoo_config *c, const char *path); /* NULL when null */
bool zoo_config_is_null(const zoo_config *c, const char *path);
/* An array of strings or numbers: its length, and element i. */
int zoo_config_count(const zoo_config *c, const char *path);
const char *zoo_config_string_at(const zoo_config *c, const char *path, int i);
double zoo_config_number_at(const zoo_config *c, const char *path, int i);

/* The file that gave the key its value (the config itself for defaults). */
const char *zoo_config_origin(const zoo_config *c, const char *path);
/* The config's own file name. */
const char *zoo_config_name(const zoo_config *c);

/* Applies model.* (but plugin) to hp; errors name the file and model.KEY. */
int zoo_config_apply_model(const zoo_config *c, zoo_hparams *hp);
/* Writes the plugin's resolved hyperparameters back into model.*. */
int zoo_config_store_model(zoo_config *c, const zoo_hparams *hp);

/* The resolved config as indented JSON, from malloc. */
char *zoo_config_text(const zoo_config *c);

/* The Markdown reference of every host key (docs/config-reference.md). */
void zoo_config_reference(FILE *out);

#endif
