/* What the "wordpiece" tokenizer's two files share (tok_wordpiece.c: BERT's
 * basic tokenization, WordPiece encoding, loading, JSON; tok_wordpiece_train.c:
 * training a vocabulary). */
#ifndef ZOO_TOK_WORDPIECE_H
#define ZOO_TOK_WORDPIECE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "zoo/tokenizer_type.h"

#define ZOO_WP_MAX_CHARS 100 /* BERT's max_input_chars_per_word */

/* Walks a text piece by piece as BERT's BasicTokenizer cuts it: words
 * (split on white space and around CJK characters, control characters
 * removed), each normalised (lowercased, NFD, Mn dropped, when lowercase)
 * and cut again around punctuation. Start from {.s, .len, .lowercase};
 * release with zoo_wp_scan_free. Nothing is allocated per word once the
 * buffers have grown to the longest word. */
typedef struct zoo_wp_scan {
    const unsigned char *s;
    size_t len, pos;
    bool lowercase;
    /* the current word after normalisation */
    int32_t *cps;     /* its code points */
    uint32_t *off;    /* char i is bytes[off[i] .. off[i + 1]) */
    char *bytes;      /* UTF-8 */
    int32_t n, next;  /* chars, and the next one to hand out */
    size_t word_at;   /* where the word starts in s */
    int32_t *scratch; /* decomposition */
    size_t cap, cap_scratch;
} zoo_wp_scan;

/* One piece: text[0..len) with n_chars characters, off[0..n_chars] the
 * offsets of its characters relative to text (off[0] == 0 is not promised:
 * subtract it). `at` is its word's byte offset in the text. */
typedef struct zoo_wp_piece {
    const char *text;
    size_t len;
    const uint32_t *off;
    int32_t n_chars;
    size_t at;
} zoo_wp_piece;

/* 1 with the next piece, 0 at the end, or a negative status
 * (ZOO_ERR_FORMAT "invalid UTF-8 at byte offset N", ZOO_ERR_NOMEM). */
int zoo_wp_next(zoo_wp_scan *sc, zoo_wp_piece *p);
void zoo_wp_scan_free(zoo_wp_scan *sc);

/* A tokenizer over vocab (taken, also on failure) whose specials are those
 * roles whose default strings ([UNK], [PAD], ...) the vocabulary holds. */
int zoo_wp_build(zoo_vocab *vocab, bool lowercase, int32_t max_chars, zoo_tokenizer **out);

/* Training (tok_wordpiece_train.c); settings complete. */
int zoo_wp_train(const zoo_tokenizer_settings *s, const zoo_corpus *c, zoo_tokenizer **out);

#endif
