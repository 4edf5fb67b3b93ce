/* Tokenizers: text to token ids and back, behind one interface.
 *
 * A zoo_tokenizer is an opaque handle around a table of operations
 * (zoo_tokenizer_ops) and the implementation's own state. A type is a
 * zoo_tokenizer_def: the four below are built in, and more are registered at
 * run time (zoo_tokenizer_register_types: a plugin's, when the host loads
 * it). Every function that takes a type name looks in both. Built-in types:
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
 *   "wordpiece" BERT's WordPiece (google-research/bert's FullTokenizer),
 *           loaded from a vocab.txt (zoo_tokenizer_load_wordpiece) or trained
 *           on a corpus. Basic tokenization as BERT's: U+0000, U+FFFD and
 *           control characters (Cc, Cf; not \t \n \r) are removed, the text
 *           is split on white space (\t \n \r ' ', Zs, and Zl/Zp, which
 *           Python's split() adds) and around every CJK ideograph (BERT's
 *           _is_chinese_char blocks: Chinese is one token a character); with
 *           lowercase (BERT's do_lower_case) each word is lowercased as
 *           Python's str.lower() does (final sigma included), decomposed
 *           (NFD) and stripped of its Mn marks ("Café" → "cafe"); then every
 *           punctuation character (ASCII's non-alphanumeric printables, and
 *           P*) is a piece of its own. Each piece is then cut greedily,
 *           longest match first, into a vocabulary token and "##"
 *           continuations ("strawberries" → "straw" "##berries"); a piece
 *           longer than 100 characters (HuggingFace's limit; Google's
 *           tokenization.py has 200), or one with a rest no token starts, is
 *           [UNK] as a whole. Unicode properties come from utf8proc (a
 *           Unicode version apart from Python's: characters new in Unicode
 *           15 may differ); Cased and Case_Ignorable, for the final sigma,
 *           are derived from its categories and case mappings.
 *           zoo_tokenizer_encode never adds [CLS] or [SEP] (a caller wraps:
 *           zoo_tokenizer_encode_pair); "[MASK]" written in text is plain
 *           text to it ("[" "mask" "]", as BERT's FullTokenizer) and the
 *           mask token to zoo_tokenizer_encode_special (as HuggingFace's).
 *           Decoding is HuggingFace's convert_tokens_to_string, tokens
 *           joined by spaces with " ##" removed, so it is lossy: case,
 *           accents, spacing around punctuation, removed characters and the
 *           words behind [UNK] are gone. Training: the specials in
 *           settings' order ([UNK] added after them when not listed), then
 *           every character seen first in a piece and every character seen
 *           later in one as "##c" (so every character of the corpus
 *           encodes), then byte-pair-style merges of adjacent tokens within
 *           pieces, most frequent first (ties to the bytes of the left, then
 *           the right token), while a pair occurs max(2, min_count) times
 *           and the vocabulary is below max_size (0: no limit; a max_size
 *           below the specials and characters is ZOO_ERR_ARG);
 *           deterministic. lowercase as BERT's do_lower_case
 *           (bert-base-uncased: true); split does not apply (BERT always
 *           splits punctuation). The specials' roles ([UNK] [PAD] [CLS] [SEP]
 *           [MASK]) are those of the vocabulary's entries of those strings.
 *
 * Text is never normalised but by wordpiece's lowercasing (NFC and NFD
 * spellings of "é" are different characters), and special tokens decode to
 * their strings ("[UNK]").
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

typedef struct zoo_tokenizer zoo_tokenizer;

/* Restores a tokenizer from zoo_tokenizer_to_json's text. ZOO_ERR_FORMAT with
 * a message naming the JSON path that is wrong; ZOO_ERR_NOTFOUND for an
 * unknown type (one a plugin provides is known only while it is registered:
 * the host loads that plugin first). */
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

/* Where each token of an encoding came from: bytes [begin, end) of the text
 * given to zoo_tokenizer_encode_spans, or begin = end = -1 when the token
 * has no place in the text of its own (a type that cannot tell). */
typedef struct zoo_span {
    int64_t begin, end;
} zoo_span;

/* A growing buffer of spans, as zoo_ids: start from {0}, release with zoo_spans_free. */
typedef struct zoo_spans {
    zoo_span *spans;
    int64_t count, cap;
} zoo_spans;

ZOO_API int zoo_spans_reserve(zoo_spans *spans, int64_t extra);
ZOO_API void zoo_spans_free(zoo_spans *spans);

static inline int zoo_spans_push(zoo_spans *spans, int64_t begin, int64_t end) {
    if (spans->count == spans->cap) {
        int st = zoo_spans_reserve(spans, 1);
        if (st != ZOO_OK) return st;
    }
    spans->spans[spans->count++] = (zoo_span){begin, end};
    return ZOO_OK;
}

/* zoo_tokenizer_encode that also appends, for each id it appends to out, the
 * span of the text it encodes (the same ids as zoo_tokenizer_encode). For a
 * word that has no id and encodes to [UNK], the span is the word's own
 * bytes: a caller keeps the characters the vocabulary lost. "word" spans the
 * word as written (before lowercasing), "char" its code point's bytes; a
 * type without the encode_spans operation (zoo/tokenizer_type.h) gives
 * {-1, -1} for every token, and a caller falls back to the token's
 * vocabulary string. Errors as for zoo_tokenizer_encode; on failure neither
 * out->count nor spans->count changes. */
ZOO_API int zoo_tokenizer_encode_spans(const zoo_tokenizer *t, const char *text, size_t len,
                                       zoo_ids *out, zoo_spans *spans);

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

/* The names of the types, i = 0, 1, ...: the built-in ones, then the
 * registered ones in the order they were registered; NULL past the last. A
 * registered type's name is valid while it stays registered. */
ZOO_API const char *zoo_tokenizer_type_name(int i);

/* Whether `name` is a built-in or a registered type. */
ZOO_API bool zoo_tokenizer_type_known(const char *name);

/* ---- Files: loading and saving by type ----------------------------------
 * A type may read its tokenizers from files (gpt2: vocab.json + merges.txt,
 * wordpiece: vocab.txt) and write them back; these dispatch by the type's
 * name, so a caller never needs to know which types have files. */

/* How zoo_tokenizer_load reads files. Size-prefixed as
 * zoo_tokenizer_settings; NULL means the defaults. */
#define ZOO_TOKENIZER_LOWERCASE_AUTO (-1)
typedef struct zoo_tokenizer_load_opts {
    size_t size;
    /* 1 lowercases (wordpiece: BERT's do_lower_case), 0 keeps the case,
     * ZOO_TOKENIZER_LOWERCASE_AUTO (default, any negative) does what the
     * files say. A type without a case setting (gpt2) ignores it. */
    int lowercase;
} zoo_tokenizer_load_opts;

#define ZOO_TOKENIZER_LOAD_OPTS_INIT                                                               \
    { .size = sizeof(zoo_tokenizer_load_opts), .lowercase = ZOO_TOKENIZER_LOWERCASE_AUTO }

/* A tokenizer of `type` read from path (a file or a directory, as the type
 * reads them: gpt2 a directory as zoo_tokenizer_load_gpt2, wordpiece a
 * vocab.txt or its directory). Errors: ZOO_ERR_NOTFOUND for an unknown type
 * (as zoo_tokenizer_train) or for files that are not there; ZOO_ERR_ARG
 * "tokenizer type 'char' does not load from files (types that do: gpt2,
 * wordpiece)" for a type without a load operation, or a bad opts.size; the
 * type's own errors (naming the file) otherwise. *out is NULL on failure. */
ZOO_API int zoo_tokenizer_load(const char *type, const char *path,
                               const zoo_tokenizer_load_opts *opts, zoo_tokenizer **out);

/* Writes t's files into the existing directory dir, as its type's save
 * operation does (gpt2: vocab.json + merges.txt, wordpiece: vocab.txt +
 * tokenizer_config.json); zoo_tokenizer_load of the same type reads them
 * back identically. ZOO_ERR_ARG when the type has no file form (see
 * zoo_tokenizer_can_save). */
ZOO_API int zoo_tokenizer_save(const zoo_tokenizer *t, const char *dir);
/* Whether t's type has a save operation. */
ZOO_API bool zoo_tokenizer_can_save(const zoo_tokenizer *t);

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

/* BERT's WordPiece tokenizer from a vocab.txt (one token a line, the id its
 * line number from 0; a "\r" before a newline is dropped), given as the
 * file or as the directory holding it. lowercase: 1 lowercases and strips
 * accents (BERT's do_lower_case), 0 keeps the text as it is,
 * ZOO_WORDPIECE_LOWERCASE_AUTO (any negative) takes do_lower_case from a
 * tokenizer_config.json beside the vocabulary and, without one, lowercases
 * when no token but the bracketed specials has a letter with a lowercase
 * form (an uncased vocabulary, as bert-base-uncased's). Errors: ZOO_ERR_NOTFOUND
 * naming the path when it is missing or a directory without vocab.txt;
 * ZOO_ERR_IO naming a file that cannot be read; ZOO_ERR_FORMAT naming the
 * file (and line) for an empty vocabulary, a repeated token, a NUL byte or
 * invalid UTF-8, a vocabulary without [UNK], or a tokenizer_config.json that
 * is not a JSON object or whose do_lower_case is not a boolean. */
#define ZOO_WORDPIECE_LOWERCASE_AUTO ZOO_TOKENIZER_LOWERCASE_AUTO
ZOO_API int zoo_tokenizer_load_wordpiece(const char *dir_or_vocab_txt, int lowercase,
                                         zoo_tokenizer **out);

/* Writes a wordpiece tokenizer as vocab.txt and tokenizer_config.json
 * ({"do_lower_case": ..., "tokenizer_class": "BertTokenizer"}) into an
 * existing directory, each file atomically; zoo_tokenizer_load_wordpiece
 * with ZOO_WORDPIECE_LOWERCASE_AUTO reads them back identically. ZOO_ERR_ARG
 * for another type or a token holding a line break. */
ZOO_API int zoo_tokenizer_save_wordpiece(const zoo_tokenizer *t, const char *dir);

/* How zoo_tokenizer_encode_pair builds BERT's input. Size-prefixed as
 * zoo_tokenizer_settings; NULL means the defaults. */
typedef struct zoo_pair_settings {
    size_t size;
    int64_t max_len; /* the longest result, specials included; 0: no limit (default) */
    bool pad;        /* pad with [PAD] up to max_len (default false) */
    bool special;    /* special-token strings in the texts are those tokens
                        (zoo_tokenizer_encode_special; default false) */
} zoo_pair_settings;

#define ZOO_PAIR_SETTINGS_INIT                                                                     \
    { .size = sizeof(zoo_pair_settings) }

/* BERT's input for a text, "[CLS] A [SEP]", or a sentence pair (b not
 * NULL), "[CLS] A [SEP] B [SEP]", appended to ids; its token types appended
 * to types and its attention mask to mask (either may be NULL): types are 0
 * for [CLS], A and the first [SEP], 1 for B and the second [SEP], 0 on
 * padding; mask is 1 on those tokens, 0 on padding. Beyond max_len the
 * longer of A and B loses its last token, one at a time (ties: B), as
 * BERT's _truncate_seq_pair; with pad, [PAD] fills up to max_len. Works for
 * any tokenizer with [CLS] and [SEP]. Errors: ZOO_ERR_ARG for a tokenizer
 * without them, pad without [PAD] or without max_len, max_len below the
 * specials (2, or 3 for a pair); those of zoo_tokenizer_encode. On failure
 * ids, types and mask are unchanged. */
ZOO_API int zoo_tokenizer_encode_pair(const zoo_tokenizer *t, const char *a, size_t a_len,
                                      const char *b, size_t b_len, const zoo_pair_settings *s,
                                      zoo_ids *ids, zoo_ids *types, zoo_ids *mask);

#ifdef __cplusplus
}
#endif
#endif
