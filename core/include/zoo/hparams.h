/* Hyperparameters: a plugin's schema (name, type, default, range or
 * choices, help) and a bag of values validated against it. The host fills a
 * bag from config files and --set, and hands it to the plugin's create();
 * the plugin reads values by name. Every setter validates and, on failure,
 * returns a status with a message naming the hyperparameter, what it
 * expects and what it got. */
#ifndef ZOO_HPARAMS_H
#define ZOO_HPARAMS_H

#include <stdbool.h>
#include <stdint.h>

#include "zoo/export.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum zoo_hparam_type {
    ZOO_HP_INT = 0,
    ZOO_HP_FLOAT = 1,
    ZOO_HP_BOOL = 2,
    ZOO_HP_STRING = 3,
    ZOO_HP_ENUM = 4, /* a string from `choices` */
} zoo_hparam_type;

/* One hyperparameter of a schema. A schema is an array of these, passed with
 * its length; it is static data owned by the plugin. */
typedef struct zoo_hparam_spec {
    const char *name;
    zoo_hparam_type type;
    const char *help;
    double default_number;      /* INT, FLOAT, BOOL (0 or 1) */
    const char *default_string; /* STRING, ENUM */
    bool has_min, has_max;      /* INT and FLOAT: inclusive bounds */
    double min, max;
    const char *const *choices; /* ENUM: NULL-terminated */
} zoo_hparam_spec;

typedef struct zoo_hparams zoo_hparams;

/* A bag holding every hyperparameter of the schema at its default. The
 * schema must outlive the bag. NULL (and a message) if the schema itself is
 * invalid: a duplicate or empty name, a default outside its own range or
 * choices, an enum without choices. */
ZOO_API zoo_hparams *zoo_hparams_new(const zoo_hparam_spec *schema, int n);
ZOO_API void zoo_hparams_free(zoo_hparams *hp);
ZOO_API zoo_hparams *zoo_hparams_clone(const zoo_hparams *hp);

ZOO_API int zoo_hparams_count(const zoo_hparams *hp);
ZOO_API const zoo_hparam_spec *zoo_hparams_spec(const zoo_hparams *hp, int i);
/* The schema entry of `name`, or NULL. */
ZOO_API const zoo_hparam_spec *zoo_hparams_find(const zoo_hparams *hp, const char *name);
/* The schema name closest to `name` by edit distance (for "did you mean"),
 * or NULL when none is close. */
ZOO_API const char *zoo_hparams_suggest(const zoo_hparams *hp, const char *name);

/* Setters check the type and the range or choices. ZOO_ERR_NOTFOUND for an
 * unknown name, ZOO_ERR_ARG for a value of the wrong type or out of range.
 * set_int also serves FLOAT; set_float serves INT only for whole numbers. */
ZOO_API int zoo_hparams_set_int(zoo_hparams *hp, const char *name, int64_t value);
ZOO_API int zoo_hparams_set_float(zoo_hparams *hp, const char *name, double value);
ZOO_API int zoo_hparams_set_bool(zoo_hparams *hp, const char *name, bool value);
ZOO_API int zoo_hparams_set_string(zoo_hparams *hp, const char *name, const char *value);
/* Parses text as the hyperparameter's type ("12", "0.1", "true", "gelu"). */
ZOO_API int zoo_hparams_set_text(zoo_hparams *hp, const char *name, const char *text);

/* Getters return the value, or 0 / false / NULL for an unknown name or a
 * different type (a plugin reads only names of its own schema). An INT may
 * be read as a float. Strings stay valid until the value is set again. */
ZOO_API int64_t zoo_hparams_int(const zoo_hparams *hp, const char *name);
ZOO_API double zoo_hparams_float(const zoo_hparams *hp, const char *name);
ZOO_API bool zoo_hparams_bool(const zoo_hparams *hp, const char *name);
ZOO_API const char *zoo_hparams_string(const zoo_hparams *hp, const char *name);

/* The candidate closest to `name` (a misspelling within about a third of
 * its length, or one name starting the other), for "did you mean" messages;
 * NULL when none is close. */
ZOO_API const char *zoo_suggest(const char *name, const char *const *candidates, int n);

/* The value of entry i as text ("12", "0.1", "true", "gelu") into buf. */
ZOO_API const char *zoo_hparams_text(const zoo_hparams *hp, int i, char *buf, int size);

#ifdef __cplusplus
}
#endif
#endif
