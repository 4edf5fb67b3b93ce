/* The tokenizer types inside core (tok_registry.c): finding a type by name,
 * counting the live tokenizers of a registered one, and settings made
 * complete (tokenizer.c). */
#ifndef ZOO_TOK_REGISTRY_H
#define ZOO_TOK_REGISTRY_H

#include <stddef.h>

#include "zoo/tokenizer_type.h"

/* An operation of def, or NULL when def (compiled before it existed) is too
 * short to hold it. */
#define ZOO_TOK_DEF_OP(def, field)                                                                 \
    ((def)->size >= offsetof(zoo_tokenizer_def, field) + sizeof((def)->field) ? (def)->field : NULL)

/* The type called name, built in or registered; NULL with ZOO_ERR_NOTFOUND's
 * message listing the known types. */
const zoo_tokenizer_def *zoo_tok_find_type(const char *name);

/* in with the defaults filled in past the caller's size, then checked
 * (tokenizer.c); ZOO_ERR_ARG naming what does not fit. */
int zoo_tok_complete_settings(const zoo_tokenizer_settings *in, zoo_tokenizer_settings *s);

/* A registered type, as a tokenizer of it holds it. */
typedef struct zoo_tok_type zoo_tok_type;

/* Counts a new tokenizer of the registered type `name` as alive and returns
 * the type; NULL (nothing counted) when no registered type has that name. */
zoo_tok_type *zoo_tok_type_acquire(const char *name);
/* The tokenizer counted by zoo_tok_type_acquire is gone; NULL is ignored. */
void zoo_tok_type_release(zoo_tok_type *ty);

#endif
