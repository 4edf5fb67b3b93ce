/* Making tokenizers: training one of a type from a corpus, and defining a
 * type of one's own. The other side, using a tokenizer (encode, decode,
 * look-ups, files), is zoo/tokenizer.h.
 *
 * A plugin that brings a tokenizer type defines its operations table
 * (zoo_tokenizer_ops) and its definition (zoo_tokenizer_def), lists the
 * definition in its descriptor (zoo/plugin.h), and the host registers it when
 * it loads the plugin (docs/plugin-guide.md, "Tokenizer types"). The host
 * trains tokenizers with zoo_tokenizer_train when a run asks for one. */
#ifndef ZOO_TOKENIZER_TYPE_H
#define ZOO_TOKENIZER_TYPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "zoo/corpus.h"
#include "zoo/export.h"
#include "zoo/tokenizer.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Training ------------------------------------------------------------ */

typedef enum zoo_tok_split {
    ZOO_SPLIT_WHITESPACE = 0,
    ZOO_SPLIT_PUNCTUATION = 1,
} zoo_tok_split;

/* How to train a tokenizer. Size-prefixed: set .size = sizeof(zoo_tokenizer_settings)
 * (ZOO_TOKENIZER_SETTINGS_INIT does); fields past a caller's smaller size take
 * their defaults, so fields may be added at the end. NULL settings mean all
 * defaults. */
typedef struct zoo_tokenizer_settings {
    size_t size;
    bool lowercase;      /* default false */
    zoo_tok_split split; /* word only; default whitespace (char refuses punctuation) */
    int64_t min_count;   /* tokens seen fewer times are cut; <= 1 cuts nothing (default) */
    int32_t max_size;    /* total vocabulary size, specials included; 0: no limit (default) */
    /* The special tokens, in this order at ids 0, 1, ...; e.g. BERT-like
     * training lists PAD, UNK, CLS, SEP, MASK. No repeats. */
    const zoo_special *specials;
    int n_specials;
} zoo_tokenizer_settings;

#define ZOO_TOKENIZER_SETTINGS_INIT                                                                \
    { .size = sizeof(zoo_tokenizer_settings), .min_count = 1 }

/* Builds a tokenizer of `type` ("char", "word", "gpt2", "wordpiece", or a
 * registered type) from the corpus. Errors:
 * ZOO_ERR_NOTFOUND "unknown tokenizer type 'x' (known: char, word, gpt2, wordpiece)",
 * the registered types listed after the built-in ones;
 * ZOO_ERR_ARG for a type that is not trained (it has no train operation),
 * settings that do not fit (a repeated special, max_size not above the number
 * of specials, a bad settings.size, split for "char") or a corpus with no
 * tokens; ZOO_ERR_STATE when a registered type's train makes a tokenizer of
 * another type. *out is NULL on failure. */
ZOO_API int zoo_tokenizer_train(const char *type, const zoo_tokenizer_settings *s,
                                const zoo_corpus *c, zoo_tokenizer **out);

/* ---- Word counts: a "word" vocabulary counted in parts -------------------
 * What training a "word" tokenizer counts, kept apart from the corpus so
 * that parts of it can be counted separately (the processes of a
 * data-parallel run each count theirs), merged, and made into the very
 * tokenizer zoo_tokenizer_train("word", s, corpus) makes: the same tokens,
 * ids and counts, whatever the parts, as long as every part starts and ends
 * at a cut (zoo_word_counts_cut) and each piece of the corpus is counted
 * once. zoo_tokenizer_train's word type is built on these. */
typedef struct zoo_word_counts zoo_word_counts;

/* Empty counts for settings s (NULL: the defaults; copied, specials too).
 * Errors as zoo_tokenizer_train's for settings that do not fit; ZOO_ERR_NOMEM. */
ZOO_API int zoo_word_counts_new(const zoo_tokenizer_settings *s, zoo_word_counts **out);
ZOO_API void zoo_word_counts_free(zoo_word_counts *k);

/* Counts the words of text[0, len), a whole file of a corpus or a part of
 * one between two cuts. ZOO_ERR_FORMAT "word tokenizer: invalid UTF-8 at
 * byte offset N" (N from text's start); ZOO_ERR_NOMEM. On failure k may hold
 * part of text's words. */
ZOO_API int zoo_word_counts_add_text(zoo_word_counts *k, const char *text, size_t len);

/* The first offset p >= at where text[0, len) may be cut between two parts
 * without cutting a word: p = 0, p = len, or text[p] is an ASCII
 * white-space byte (space, \t, \n, \v, \f, \r; never inside a UTF-8
 * sequence). */
ZOO_API size_t zoo_word_counts_cut(const char *text, size_t len, size_t at);

/* k as bytes, for another process: *bytes (malloc'ed, the caller frees it)
 * of *n bytes. ZOO_ERR_NOMEM. */
ZOO_API int zoo_word_counts_pack(const zoo_word_counts *k, void **bytes, size_t *n);

/* Adds the counts packed in bytes[0, n) to k. ZOO_ERR_FORMAT when the bytes
 * are not packed counts (truncated, or a count or length out of range),
 * ZOO_ERR_ARG when they were counted with other settings (lowercase, split,
 * specials); k is unchanged on failure. */
ZOO_API int zoo_word_counts_merge(zoo_word_counts *k, const void *bytes, size_t n);

/* The "word" tokenizer of the counts, cut by the settings' min_count and
 * max_size. Errors as zoo_tokenizer_train's for a corpus with no words or a
 * min_count that leaves none; ZOO_ERR_NOMEM. *out is NULL on failure. */
ZOO_API int zoo_word_counts_tokenizer(const zoo_word_counts *k, zoo_tokenizer **out);

/* ---- Implementing a tokenizer type -------------------------------------
 * A type supplies a table of operations and builds its tokenizers with
 * zoo_tokenizer_new. The table is size-prefixed and only ever grows at its
 * end: an operation past a table's .size is taken as absent. Every
 * operation receives the tokenizer; zoo_tokenizer_state gives the type's own
 * state. The wrapper checks arguments first (ids in range, valid pointers),
 * and restores out->count when encode fails. Operations must not modify the
 * state (see thread safety above). */
typedef struct zoo_tokenizer_ops {
    size_t size;      /* sizeof(zoo_tokenizer_ops) as the type was compiled */
    const char *type; /* "char", "word", "gpt2", ... */
    int (*encode)(const zoo_tokenizer *t, const char *text, size_t len, zoo_ids *out);
    /* ids already checked to be in range; returns malloc'ed, NUL-terminated text */
    char *(*decode)(const zoo_tokenizer *t, const int32_t *ids, int64_t n, size_t *len);
    int32_t (*vocab_size)(const zoo_tokenizer *t);
    const char *(*token)(const zoo_tokenizer *t, int32_t id, size_t *len); /* id in range */
    int32_t (*id)(const zoo_tokenizer *t, const char *token, size_t len);
    /* The "model" member of the JSON form, as malloc'ed JSON text (an object). */
    char *(*to_json)(const zoo_tokenizer *t);
    void (*free)(void *state);
    /* Optional: training counts, or -1 (id in range). */
    int64_t (*count)(const zoo_tokenizer *t, int32_t id);
    /* Optional (libzoo 0.2, plugin ABI 1.3): encode, appending as well one
     * span of text per id appended (zoo_tokenizer_encode_spans,
     * zoo_spans_push); the wrapper refuses a result with another number of
     * spans than ids. Absent: the wrapper encodes and gives {-1, -1} spans. */
    int (*encode_spans)(const zoo_tokenizer *t, const char *text, size_t len, zoo_ids *out,
                        zoo_spans *spans);
} zoo_tokenizer_ops;

/* A type: its name and how its tokenizers are made. The built-in types have
 * one each; a plugin lists its own in its descriptor (zoo/plugin.h) and the
 * host registers them. Size-prefixed: set .size = sizeof(zoo_tokenizer_def);
 * an operation past a definition's size is taken as absent, so operations
 * are added only at the end. Every tokenizer an operation makes must be of
 * this type (its ops' type string is the name), or the call fails. */
typedef struct zoo_tokenizer_def {
    size_t size; /* sizeof(zoo_tokenizer_def) */
    /* 1 to 63 of a-z, 0-9, '_' and '-'; unique among all types */
    const char *name;
    /* NULL when the type cannot be trained. s is complete (defaults filled in). */
    int (*train)(const zoo_tokenizer_settings *s, const zoo_corpus *c, zoo_tokenizer **out);
    /* Required: from the "model" member's JSON text; the wrapper then sets
     * the specials (checkpoints restore tokenizers this way). */
    int (*from_json)(const char *model_json, zoo_tokenizer **out);
    /* Optional (libzoo 0.1 with plugin ABI 1.2): reads a tokenizer from
     * files (zoo_tokenizer_load); opts is complete. ZOO_ERR_NOTFOUND when
     * the files are not there. */
    int (*load)(const char *path, const zoo_tokenizer_load_opts *opts, zoo_tokenizer **out);
    /* Optional: writes t (of this type) into the existing directory dir so
     * that load reads it back identically (zoo_tokenizer_save). */
    int (*save)(const zoo_tokenizer *t, const char *dir);
} zoo_tokenizer_def;

/* Registers the types of a NULL-terminated array, all or none, so that every
 * function taking a type name finds them after the built-in ones. owner (may
 * be NULL; copied) names who registers them, for messages: the host passes
 * the plugin's library. Registering a definition that is already registered
 * (the same pointer: a library loaded twice) counts it again; each count is
 * undone by one zoo_tokenizer_unregister_types. Errors: ZOO_ERR_ARG for a
 * definition that is too short, has no from_json, or a name not of the form
 * above; ZOO_ERR_STATE "tokenizer type 'x' is already registered (built into
 * libzoo)" or "... by OWNER" for a name another definition has, and for a
 * name listed twice; ZOO_ERR_NOMEM. Not to be called while another thread
 * uses the types it names. */
ZOO_API int zoo_tokenizer_register_types(const zoo_tokenizer_def *const *types, const char *owner);

/* Undoes one registration of each definition of the array, all or none. A
 * type stays known while it has registrations left; its last one goes only
 * when no tokenizer of the type is alive, because each holds the type's
 * operations (in a plugin: code that dlclose would unmap). Errors:
 * ZOO_ERR_NOTFOUND "tokenizer type 'x' is not registered" (by that
 * definition); ZOO_ERR_STATE "tokenizer type 'x' still has N live
 * tokenizer(s)": free them first. */
ZOO_API int zoo_tokenizer_unregister_types(const zoo_tokenizer_def *const *types);

/* Wraps state. On success t owns state (ops->free releases it); on failure
 * (ZOO_ERR_ARG naming a required operation that is missing) the caller still
 * owns it. ops must outlive t (normally it is static). When ops->type names
 * a registered type, t counts as one of its live tokenizers until
 * zoo_tokenizer_free, which keeps the type (and the library holding ops)
 * from being unregistered under it. */
ZOO_API int zoo_tokenizer_new(const zoo_tokenizer_ops *ops, void *state, zoo_tokenizer **out);
ZOO_API void *zoo_tokenizer_state(const zoo_tokenizer *t);
/* Gives role s to id (in [0, vocab_size)), or takes it away with id = -1. */
ZOO_API int zoo_tokenizer_set_special(zoo_tokenizer *t, zoo_special s, int32_t id);

/* The shared vocabulary: token strings ↔ dense ids 0, 1, ... in insertion
 * order, with a hash table for look-ups (no allocation per look-up). Strings
 * are stored once, NUL-terminated, and may contain NUL. Not thread-safe while
 * being added to; look-ups are read-only. */
typedef struct zoo_vocab zoo_vocab;

ZOO_API zoo_vocab *zoo_vocab_new(void); /* NULL with a message when out of memory */
ZOO_API void zoo_vocab_free(zoo_vocab *v);
/* The id of s[0..len), added at the end when new; -1 when out of memory or
 * the vocabulary is full (INT32_MAX tokens). */
ZOO_API int32_t zoo_vocab_intern(zoo_vocab *v, const char *s, size_t len);
ZOO_API int32_t zoo_vocab_find(const zoo_vocab *v, const char *s, size_t len); /* -1: absent */
ZOO_API int32_t zoo_vocab_size(const zoo_vocab *v);
/* The string of id (0 <= id < size), *len bytes (len may be NULL); valid
 * until the next zoo_vocab_intern or zoo_vocab_free. */
ZOO_API const char *zoo_vocab_token(const zoo_vocab *v, int32_t id, size_t *len);

#ifdef __cplusplus
}
#endif
#endif
