/* The tokenizer type this plugin brings, "llama_bytes": one token for each
 * byte value, ids 0-255, so every text encodes and nothing is unknown. The
 * vocabulary is fixed: training reads nothing from the corpus and takes no
 * settings (a request for [UNK], which the host makes by default, is met by
 * the bytes themselves). Decoding puts U+FFFD where the ids do not spell valid UTF-8 (a
 * character cut by a generation's end), so decoded text is always UTF-8. */
#include <stdlib.h>
#include <string.h>

#include "llama.h"
#include "zoo/tokenizer_type.h"

#define N_BYTES 256

/* token strings: byte b is the one-byte string {b, NUL}, constant data */
#define T4(b)                                                                                      \
    {b, 0}, {b + 1, 0}, {b + 2, 0}, {                                                              \
        b + 3, 0                                                                                   \
    }
#define T16(b) T4(b), T4(b + 4), T4(b + 8), T4(b + 12)
#define T64(b) T16(b), T16(b + 16), T16(b + 32), T16(b + 48)
static const unsigned char byte_tokens[N_BYTES][2] = {T64(0), T64(64), T64(128), T64(192)};

static int bytes_encode(const zoo_tokenizer *t, const char *text, size_t len, zoo_ids *out) {
    (void)t;
    int st = zoo_ids_reserve(out, (int64_t)len);
    if (st) return st;
    for (size_t i = 0; i < len; i++) out->ids[out->count++] = (unsigned char)text[i];
    return ZOO_OK;
}

/* The length of the valid UTF-8 sequence at s[0..n), or 0 when it is not one. */
static size_t utf8_sequence(const unsigned char *s, size_t n) {
    size_t need = s[0] < 0x80                    ? 1
                  : s[0] >= 0xC2 && s[0] <= 0xDF ? 2
                  : s[0] >= 0xE0 && s[0] <= 0xEF ? 3
                  : s[0] >= 0xF0 && s[0] <= 0xF4 ? 4
                                                 : 0;
    if (need == 0 || need > n) return 0;
    for (size_t i = 1; i < need; i++)
        if ((s[i] & 0xC0) != 0x80) return 0;
    /* no overlong forms, no surrogates, nothing past U+10FFFF */
    if ((s[0] == 0xE0 && s[1] < 0xA0) || (s[0] == 0xED && s[1] > 0x9F) ||
        (s[0] == 0xF0 && s[1] < 0x90) || (s[0] == 0xF4 && s[1] > 0x8F))
        return 0;
    return need;
}

static char *bytes_decode(const zoo_tokenizer *t, const int32_t *ids, int64_t n, size_t *len) {
    (void)t;
    unsigned char *raw = malloc((size_t)n + 1);
    char *text = malloc(3 * (size_t)n + 1); /* each invalid byte becomes the 3 bytes of U+FFFD */
    if (!raw || !text) {
        free(raw), free(text);
        zoo_error(ZOO_ERR_NOMEM, "llama_bytes: out of memory");
        return NULL;
    }
    for (int64_t i = 0; i < n; i++) raw[i] = (unsigned char)ids[i];
    size_t at = 0;
    for (size_t i = 0; i < (size_t)n;) {
        size_t k = utf8_sequence(raw + i, (size_t)n - i);
        if (k) {
            memcpy(text + at, raw + i, k), at += k, i += k;
        } else {
            memcpy(text + at, "\xEF\xBF\xBD", 3), at += 3, i++;
        }
    }
    text[at] = '\0';
    free(raw);
    if (len) *len = at;
    return text;
}

static int32_t bytes_vocab_size(const zoo_tokenizer *t) {
    (void)t;
    return N_BYTES;
}

static const char *bytes_token(const zoo_tokenizer *t, int32_t id, size_t *len) {
    (void)t;
    if (len) *len = 1;
    return (const char *)byte_tokens[id];
}

static int32_t bytes_id(const zoo_tokenizer *t, const char *token, size_t len) {
    (void)t;
    return len == 1 ? (unsigned char)token[0] : -1;
}

static char *bytes_to_json(const zoo_tokenizer *t) {
    (void)t;
    char *json = malloc(3);
    if (json) memcpy(json, "{}", 3);
    return json;
}

static void bytes_free(void *state) {
    (void)state;
}

static const zoo_tokenizer_ops bytes_ops = {
    .size = sizeof(zoo_tokenizer_ops),
    .type = "llama_bytes",
    .encode = bytes_encode,
    .decode = bytes_decode,
    .vocab_size = bytes_vocab_size,
    .token = bytes_token,
    .id = bytes_id,
    .to_json = bytes_to_json,
    .free = bytes_free,
};

static int bytes_new(zoo_tokenizer **out) {
    return zoo_tokenizer_new(&bytes_ops, NULL, out);
}

static int bytes_train(const zoo_tokenizer_settings *s, const zoo_corpus *c, zoo_tokenizer **out) {
    (void)c;
    *out = NULL;
    /* [UNK] is asked for by default; every byte has a token, so none is needed */
    bool others = false;
    for (int i = 0; i < s->n_specials; i++) others |= s->specials[i] != ZOO_TOK_UNK;
    if (s->lowercase || s->min_count > 1 || s->max_size > 0 || others)
        return zoo_error(ZOO_ERR_ARG, "llama_bytes: the vocabulary is the 256 byte values; it "
                                      "takes no lowercase, min_count, max_size or special tokens");
    return bytes_new(out);
}

static int bytes_from_json(const char *model_json, zoo_tokenizer **out) {
    *out = NULL;
    const char *p = model_json;
    while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r') p++;
    if (*p++ != '{') return zoo_error(ZOO_ERR_FORMAT, "tokenizer JSON: model: not an object");
    while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r') p++;
    if (*p != '}')
        return zoo_error(ZOO_ERR_FORMAT,
                         "tokenizer JSON: model: llama_bytes has no settings, expected {}");
    return bytes_new(out);
}

const zoo_tokenizer_def llama_bytes_type = {
    .size = sizeof(zoo_tokenizer_def),
    .name = "llama_bytes",
    .train = bytes_train,
    .from_json = bytes_from_json,
};
