/* What the "gpt2" tokenizer's two files share (tok_gpt2.c: the state,
 * pre-tokenization, encoding, loading; tok_bpe_train.c: training). */
#ifndef ZOO_TOK_GPT2_H
#define ZOO_TOK_GPT2_H

#include <stddef.h>
#include <stdint.h>

#include "zoo/tokenizer_type.h"

#define ZOO_GPT2_EOT "<|endoftext|>"

typedef struct zoo_gpt2_state zoo_gpt2_state;

/* A state over vocab (taken, also on failure): each token's spelling must
 * stand for bytes and every byte must have a token; room for max_merges.
 * Errors name `where` (a file, a JSON path). */
int zoo_gpt2_state_new(zoo_vocab *vocab, int32_t max_merges, const char *where,
                       zoo_gpt2_state **out);
void zoo_gpt2_state_free(zoo_gpt2_state *s);

enum {
    ZOO_GPT2_MERGE_OK,
    ZOO_GPT2_MERGE_NO_RESULT, /* the joined spelling is not a token */
    ZOO_GPT2_MERGE_REPEATED,
    ZOO_GPT2_MERGE_FULL, /* more than max_merges */
    ZOO_GPT2_MERGE_NOMEM,
};
/* Adds the merge of tokens left and right with the next rank; sets no message. */
int zoo_gpt2_add_merge(zoo_gpt2_state *s, int32_t left, int32_t right);

/* Makes the tokenizer (it takes s, also on failure). */
int zoo_gpt2_wrap(zoo_gpt2_state *s, zoo_tokenizer **out);

/* The end of the piece of GPT-2's pattern that starts at s[i] (i < len) in
 * *end; ZOO_ERR_FORMAT "invalid UTF-8 at byte offset N" when the piece
 * runs into invalid UTF-8. */
int zoo_gpt2_next_piece(const unsigned char *s, size_t len, size_t i, size_t *end);

/* The id of byte b's token in a vocabulary laid out as GPT-2's is: the
 * printable bytes in order, then the others. */
int32_t zoo_gpt2_byte_rank(int b);
/* GPT-2's spelling of the bytes raw[0..len) into out (room for 2 * len). */
size_t zoo_gpt2_spell(const unsigned char *raw, size_t len, char *out);

/* Training (tok_bpe_train.c); settings complete. */
int zoo_gpt2_train(const zoo_tokenizer_settings *s, const zoo_corpus *c, zoo_tokenizer **out);

#endif
