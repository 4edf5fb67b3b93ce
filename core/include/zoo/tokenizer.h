/* Tokenizers: text to token ids and back, behind one interface.
 *
 * A zoo_tokenizer is an opaque handle around a table of operations
 * (zoo_tokenizer_ops) and the implementation's own state. Built-in types:
 *
 *   "char"  Unicode code points (so Chinese text works). Vocabulary: the
 *           special tokens asked for, then the distinct code points of the
 *           training corpus sorted by code point; with no specials and no cut,
 *           the ids are those of nanoGPT's shakespeare_char (65 for
 *           tinyshakespeare). An [UNK] exists only when asked for in
 *           settings.specials or when min_count > 1 or max_size > 0 (then it is
 *           added after the listed specials): a cut vocabulary needs one. A code
 *           point with no id encodes to [UNK], or, without one, is an error
 *           naming it. Lowercasing, when asked for, applies here too; without
 *           it, decode(encode(s)) == s.
 *   "word"  words split on whitespace (what Python's str.split() calls
 *           whitespace, plus U+0000), with split = punctuation also every
 *           punctuation (P*) and symbol (S*) code point as a token of its own;
 *           optional lowercasing (full Unicode simple case mapping: "ÉCOLE" →
 *           "école"). Vocabulary: the specials, then the words by descending
 *           count, ties by byte order, cut by min_count and max_size. There is
 *           always an unknown token: [UNK] is added after the listed specials
 *           when not among them. A word equal to a special token's string
 *           ("[MASK]", also when lowercasing; only with split =
 *           whitespace, as punctuation splitting takes it apart) encodes to
 *           that special. Decoding joins tokens with single spaces,
 *           so it is lossy: the original spacing, case and out-of-vocabulary
 *           words are gone.
 *   "gpt2"  GPT-2's byte-level BPE, loaded from OpenAI's or HuggingFace's
 *           files (zoo_tokenizer_load_gpt2) or trained on a corpus. Text is
 *           cut into pieces by GPT-2's pattern, written out by hand over
 *           utf8proc's categories (\s is Unicode White_Space, as in the
 *           regex module GPT-2 used):
 *             's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
 *           then each piece's UTF-8 bytes are merged by rank; the ids match
 *           OpenAI's encoder exactly. Every text encodes (there is no [UNK])
 *           and decode(encode(s)) == s. Token strings are GPT-2's spelling,
 *           one character per byte ("Ġthe" for " the"). "<|endoftext|>" is a
 *           token with the BOS and EOS roles; written in text it is plain text
 *           to zoo_tokenizer_encode (as to GPT-2's encoder) and that token to
 *           zoo_tokenizer_encode_special. Decoding ids that cut a character's
 *           bytes apart puts U+FFFD in their place (GPT-2's errors="replace"),
 *           so the text is always valid UTF-8. Training starts from the 256
 *           bytes (ids 0-255, in GPT-2's order) and adds the merge of the most
 *           frequent adjacent pair within pieces, ties to the pair whose
 *           tokens' bytes sort first (left token, then right), while a pair
 *           occurs at least max(2, min_count) times and the vocabulary is
 *           below max_size (0: no limit). Then come "<|endoftext|>" and a
 *           token of its default string ("[MASK]") for each special in
 *           settings.specials other than UNK (byte-level BPE never needs one),
 *           BOS and EOS (<|endoftext|> has those roles). lowercase is refused;
 *           split does not apply.
 *
 * Text is never normalised (NFC and NFD spellings of "é" are different
 * characters), and special tokens decode to their strings ("[UNK]").
 *
 * A tokenizer serialises to JSON (zoo_tokenizer_to_json) that
 * zoo_tokenizer_from_json restores exactly; checkpoints carry it as
 * zoo.tokenizer. Its form:
 *   {"version": 1, "type": "word", "special": {"unk": 0, "pad": 1, ...},
 *    "model": { ...the type's own fields... }}
 *
 * Thread safety: a tokenizer is immutable once built; encode, decode and the
 * look-ups may run concurrently on one tokenizer. */
#ifndef ZOO_TOKENIZER_H
#define ZOO_TOKENIZER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "zoo/corpus.h"
#include "zoo/export.h"
#include "zoo/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A growing buffer of token ids. Start from {0}; encode appends to it;
 * release with zoo_ids_free (the array is from malloc). */
typedef struct zoo_ids {
    int32_t *ids;
    int64_t count, cap;
} zoo_ids;

/* Makes room for `extra` more ids (capacity grows geometrically). */
ZOO_API int zoo_ids_reserve(zoo_ids *ids, int64_t extra);
ZOO_API void zoo_ids_free(zoo_ids *ids); /* frees the array and zeroes the struct */

static inline int zoo_ids_push(zoo_ids *ids, int32_t id) {
    if (ids->count == ids->cap) {
        int st = zoo_ids_reserve(ids, 1);
        if (st != ZOO_OK) return st;
    }
    ids->ids[ids->count++] = id;
    return ZOO_OK;
}

/* The roles a token can play besides text. The default strings of the
 * built-in types are "[UNK]", "[PAD]", "[MASK]", "[CLS]", "[SEP]", "[BOS]",
 * "[EOS]"; in JSON the roles are named "unk", "pad", ... */
typedef enum zoo_special {
    ZOO_TOK_UNK,
    ZOO_TOK_PAD,
    ZOO_TOK_MASK,
    ZOO_TOK_CLS,
    ZOO_TOK_SEP,
    ZOO_TOK_BOS,
    ZOO_TOK_EOS,
    ZOO_TOK_N_SPECIAL
} zoo_special;

/* "[UNK]" for ZOO_TOK_UNK, ...; NULL out of range. */
ZOO_API const char *zoo_special_token(zoo_special s);
/* The role whose default string is `token` ("[SEP]" → ZOO_TOK_SEP), or -1. */
ZOO_API int zoo_special_from_token(const char *token);

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

typedef struct zoo_tokenizer zoo_tokenizer;

/* Builds a tokenizer of `type` ("char", "word") from the corpus. Errors:
 * ZOO_ERR_NOTFOUND "unknown tokenizer type 'x' (known: char, word)";
 * ZOO_ERR_ARG for settings that do not fit (a repeated special, max_size not
 * above the number of specials, a bad settings.size, split for "char") or a
 * corpus with no tokens. *out is NULL on failure. */
ZOO_API int zoo_tokenizer_train(const char *type, const zoo_tokenizer_settings *s,
                                const zoo_corpus *c, zoo_tokenizer **out);

/* Restores a tokenizer from zoo_tokenizer_to_json's text. ZOO_ERR_FORMAT with
 * a message naming the JSON path that is wrong; ZOO_ERR_NOTFOUND for an
 * unknown type. */
ZOO_API int zoo_tokenizer_from_json(const char *json, zoo_tokenizer **out);

/* JSON text (from malloc) that zoo_tokenizer_from_json turns back into a
 * tokenizer with the same type, vocabulary, settings and specials; NULL with
 * a message on failure. */
ZOO_API char *zoo_tokenizer_to_json(const zoo_tokenizer *t);

ZOO_API void zoo_tokenizer_free(zoo_tokenizer *t); /* NULL is ignored */

/* Appends the ids of text[0..len) (UTF-8, need not be NUL-terminated) to
 * out. Errors: ZOO_ERR_FORMAT "invalid UTF-8 at byte offset N" for invalid
 * text, ZOO_ERR_NOTFOUND naming a character or word that has no id when the
 * tokenizer has no [UNK], ZOO_ERR_NOMEM; on failure out->count is unchanged. */
ZOO_API int zoo_tokenizer_encode(const zoo_tokenizer *t, const char *text, size_t len,
                                 zoo_ids *out);

/* zoo_tokenizer_encode, except that the strings of the tokenizer's special
 * tokens (those holding a role: "<|endoftext|>", "[MASK]") written in the
 * text become those tokens, the longest first where two start at the same
 * byte; the text between them is encoded as usual. Errors as for
 * zoo_tokenizer_encode. */
ZOO_API int zoo_tokenizer_encode_special(const zoo_tokenizer *t, const char *text, size_t len,
                                         zoo_ids *out);

/* The text of ids[0..n), NUL-terminated, from malloc (*len, if len is not
 * NULL, excludes the NUL). NULL with ZOO_ERR_ARG's message when an id is
 * outside [0, vocab_size). */
ZOO_API char *zoo_tokenizer_decode(const zoo_tokenizer *t, const int32_t *ids, int64_t n,
                                   size_t *len);

ZOO_API int32_t zoo_tokenizer_vocab_size(const zoo_tokenizer *t);
ZOO_API const char *zoo_tokenizer_type(const zoo_tokenizer *t);

/* The string of token `id` as the tokenizer stores it ("the", "中", "[UNK]"),
 * *len bytes plus a NUL (len may be NULL; a char token may be U+0000, hence
 * the length); owned by t. NULL with a message when id is out of range. */
ZOO_API const char *zoo_tokenizer_token(const zoo_tokenizer *t, int32_t id, size_t *len);

/* The id of the token spelled token[0..len), or -1 when there is none. */
ZOO_API int32_t zoo_tokenizer_id(const zoo_tokenizer *t, const char *token, size_t len);

/* The id playing role `s`, or -1 when the tokenizer has none. */
ZOO_API int32_t zoo_tokenizer_special(const zoo_tokenizer *t, zoo_special s);
ZOO_API bool zoo_tokenizer_is_special(const zoo_tokenizer *t, int32_t id);

/* How often token `id` occurred in the training corpus (word2vec needs the
 * counts). A special's count is how often its own string occurred (normally
 * 0), plus, for [UNK], the occurrences of the tokens that were cut. -1 when
 * the type keeps no counts or id is out of range. */
ZOO_API int64_t zoo_tokenizer_count(const zoo_tokenizer *t, int32_t id);

/* The names of the built-in types, i = 0, 1, ...; NULL past the last. */
ZOO_API const char *zoo_tokenizer_type_name(int i);

/* GPT-2's tokenizer from a directory holding vocab.json and merges.txt
 * (HuggingFace's names, tried first) or encoder.json and vocab.bpe
 * (OpenAI's). ZOO_ERR_NOTFOUND naming the directory when neither pair is
 * there (or only one file of a pair, naming the missing one). */
ZOO_API int zoo_tokenizer_load_gpt2(const char *dir, zoo_tokenizer **out);
/* The same from the two files: vocab (a JSON object, token string → id, the
 * ids 0..n-1 each once, every byte's token among them) and merges (one
 * "LEFT RIGHT" pair a line in rank order, after an optional "#version"
 * line). Errors: ZOO_ERR_IO naming a file that cannot be read,
 * ZOO_ERR_FORMAT naming the file, and the line or token, that is wrong. */
/* Writes a gpt2 tokenizer as vocab.json + merges.txt (HuggingFace's names)
 * into an existing directory, each file atomically; zoo_tokenizer_load_gpt2
 * reads them back identically. ZOO_ERR_ARG for another type. */
ZOO_API int zoo_tokenizer_save_gpt2(const zoo_tokenizer *t, const char *dir);

ZOO_API int zoo_tokenizer_load_gpt2_files(const char *vocab_path, const char *merges_path,
                                          zoo_tokenizer **out);

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
} zoo_tokenizer_ops;

/* A type as the registry in tokenizer.c lists it. */
typedef struct zoo_tokenizer_def {
    size_t size; /* sizeof(zoo_tokenizer_def) */
    const char *name;
    /* NULL when the type cannot be trained. s is complete (defaults filled in). */
    int (*train)(const zoo_tokenizer_settings *s, const zoo_corpus *c, zoo_tokenizer **out);
    /* From the "model" member's JSON text; the wrapper then sets the specials. */
    int (*from_json)(const char *model_json, zoo_tokenizer **out);
} zoo_tokenizer_def;

/* Wraps state. On success t owns state (ops->free releases it); on failure
 * (ZOO_ERR_ARG naming a required operation that is missing) the caller still
 * owns it. ops must outlive t (normally it is static). */
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
