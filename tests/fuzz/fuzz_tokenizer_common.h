/* What the tokenizer targets do with a tokenizer that loaded: encode and
 * decode a fixed text touching every path of the encoders (ASCII, accents,
 * CJK, punctuation, special-token strings, control characters), and
 * serialise it: what was accepted must work. */
#ifndef ZOO_FUZZ_TOKENIZER_COMMON_H
#define ZOO_FUZZ_TOKENIZER_COMMON_H

#include <stdlib.h>
#include <string.h>

#include "zoo/tokenizer.h"

static const char fuzz_sample_text[] =
    "Hello, World! The café's naïve résumé costs $3.50 -- isn't it?\n"
    "\xe4\xb8\xad\xe6\x96\x87\xe5\xad\x97 strawberries [MASK] [UNK] <|endoftext|> \t\r\n"
    "   \xce\xa3\xce\x99\xce\xa3\xce\xa5\xce\xa6\xce\x9f\xce\xa3 ##ing 'll 've 42 \x01\x7f end";

static inline void fuzz_exercise_tokenizer(const zoo_tokenizer *t) {
    const char *text = fuzz_sample_text;
    size_t len = sizeof fuzz_sample_text - 1;
    zoo_ids ids = {0};
    if (zoo_tokenizer_encode(t, text, len, &ids) == ZOO_OK) {
        char *back = zoo_tokenizer_decode(t, ids.ids, ids.count, NULL);
        free(back);
    }
    zoo_ids_free(&ids);
    if (zoo_tokenizer_encode_special(t, text, len, &ids) == ZOO_OK) {
        char *back = zoo_tokenizer_decode(t, ids.ids, ids.count, NULL);
        free(back);
    }
    zoo_ids_free(&ids);
    zoo_spans spans = {0};
    zoo_tokenizer_encode_spans(t, text, len, &ids, &spans);
    zoo_ids_free(&ids);
    zoo_spans_free(&spans);
    int32_t n = zoo_tokenizer_vocab_size(t);
    for (int32_t id = 0; id < n && id < 64; id++) {
        size_t tlen;
        const char *tok = zoo_tokenizer_token(t, id, &tlen);
        if (tok) zoo_tokenizer_id(t, tok, tlen);
    }
    char *json = zoo_tokenizer_to_json(t);
    if (json) {
        zoo_tokenizer *again = NULL;
        /* what one tokenizer wrote, another must read (checkpoints rely on it) */
        if (zoo_tokenizer_from_json(json, &again) != ZOO_OK) abort();
        zoo_tokenizer_free(again);
        free(json);
    }
}

#endif
