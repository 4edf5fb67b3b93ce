/* Synthetic corpora for measuring speed (zoo bench): data that costs a model
 * what real text would, made in memory from a seed, so a benchmark needs no
 * file and no trained vocabulary.
 *
 * Two kinds:
 *   - random ids: ids drawn uniformly from [first, V), in lines of a fixed
 *     length (what a gradient-trained model's speed depends on is its
 *     vocabulary size V, not which ids come); optionally each id spelled,
 *     with its span, in a text, for a plugin that reads each token's bytes;
 *   - Zipf words: a text of words whose ranks follow Zipf's law (rank k is
 *     drawn with weight 1/k), in lines of 5 to 25 words, a "word" tokenizer
 *     trained on it (so its corpus counts follow the same law: the sampling
 *     tables of word2vec-like models need them), and the text encoded line
 *     by line, with spans.
 * Either way the result is a batcher dataset (batcher.h) over its lines.
 *
 * Words and ids are spelled in lowercase letters, bijective base 26: 0 "a",
 * 25 "z", 26 "aa", 27 "ab" ... distinct for every value. */
#ifndef ZOO_HOST_SYNTHETIC_H
#define ZOO_HOST_SYNTHETIC_H

#include <stdbool.h>
#include <stdint.h>

#include "batcher.h"
#include "zoo/tokenizer.h"

typedef struct zoo_synthetic {
    zoo_tokenizer *tok; /* the Zipf words' tokenizer; NULL for random ids */
    zoo_ids ids;
    int64_t *lines; /* [n_lines] where each line's ids start */
    int64_t n_lines;
    char *text; /* the spelled text, or NULL */
    int64_t text_len;
    zoo_spans spans; /* [ids.count] each id's bytes in text, when text is kept */
    zoo_dataset data;
} zoo_synthetic;

/* n ids uniform in [first, V) from seed, in lines of line_len ids (the last
 * may be shorter); with spell, the text of the ids spelled and separated by
 * spaces, a newline ending each line, and each id's span. Needs 0 <= first <
 * V and n, line_len >= 1. ZOO_OK, or an error with a message. */
int zoo_synthetic_ids(zoo_synthetic *s, int32_t V, int32_t first, int64_t n, int64_t line_len,
                      bool spell, uint64_t seed);

/* About n words of `kinds` ranks (whole lines: at least n), a word tokenizer
 * with these specials (ids 0, 1, ...) trained on them, and the text encoded
 * line by line with spans. Ranks drawn too rarely to appear are not in the
 * vocabulary. ZOO_OK, or an error with a message. */
int zoo_synthetic_words(zoo_synthetic *s, int32_t kinds, int64_t n, const zoo_special *specials,
                        int n_specials, uint64_t seed);

void zoo_synthetic_free(zoo_synthetic *s);

/* The spelling of v >= 0 into buf (at least 16 bytes), NUL-terminated; its length. */
int zoo_synthetic_spell(int64_t v, char *buf);

#endif
