/* The elmo plugin's word encoder: words as character ids, and the char-CNN,
 * highways and projection that turn them into vectors (elmo_chars.c). */
#ifndef ZOO_ELMO_CHARS_H
#define ZOO_ELMO_CHARS_H

#include "elmo.h"

/* A batch's words as character rows. Each distinct spelling is encoded once
 * (a batch of text repeats its words: "the" is one row however often it
 * occurs), and every position points at its row. Arrays live in the graph. */
typedef struct elmo_words {
    int64_t B, T;   /* rows, positions per row (marks included) */
    int64_t U;      /* distinct words */
    int32_t *chars; /* [U, max_chars] character ids 0..260 */
    int32_t *index; /* [B, T] the row of each position */
    int64_t *len;   /* [B] real positions per row (the rest is padding) */
    bool padded;    /* some row is shorter than T */
} elmo_words;

/* The batch's words as character ids: a word is [BOW, its first max_chars-2
 * bytes, EOW, PAD...]; a word spelled exactly "<S>" or "</S>" is that
 * sentence mark. The bytes come from batch->token_bytes, or from the
 * tokenizer's strings when the batch has none. With `marks`, <S> and </S>
 * are put around each row's real positions (T grows by 2). Padding
 * positions (mask 0) point at a row of PAD. Fails the graph on a batch it
 * cannot read. */
int elmo_words_from_batch(zoo_model *m, zoo_graph *g, const zoo_batch *batch, bool marks,
                          elmo_words *out);

/* The word encoder: character rows [U, max_chars] -> [U, P] (char-CNN with
 * max-over-time pooling, activation, highways, projection). */
zoo_tensor *elmo_encode_words(zoo_model *m, zoo_graph *g, const int32_t *chars, int64_t U);

#endif
