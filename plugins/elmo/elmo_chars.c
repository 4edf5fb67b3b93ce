/* The word encoder (see elmo_chars.h). */
#include "elmo_chars.h"

#include <string.h>

#include "elmo_charcnn.h"

/* One word's character row from its bytes (n of them, -1 ends them early). */
static void word_row(int32_t *row, int64_t max_chars, const int32_t *bytes, int64_t n) {
    int64_t k = 0;
    row[k++] = ELMO_CHAR_BOW;
    int64_t len = 0;
    while (len < n && bytes[len] >= 0) len++;
    if (len == 3 && bytes[0] == '<' && bytes[1] == 'S' && bytes[2] == '>')
        row[k++] = ELMO_CHAR_BOS;
    else if (len == 4 && bytes[0] == '<' && bytes[1] == '/' && bytes[2] == 'S' && bytes[3] == '>')
        row[k++] = ELMO_CHAR_EOS;
    else
        for (int64_t i = 0; i < len && k < max_chars - 1; i++) row[k++] = bytes[i] & 0xff;
    row[k++] = ELMO_CHAR_EOW;
    while (k < max_chars) row[k++] = ELMO_CHAR_PAD;
}

static void mark_row(int32_t *row, int64_t max_chars, int32_t mark) {
    row[0] = ELMO_CHAR_BOW, row[1] = mark, row[2] = ELMO_CHAR_EOW;
    for (int64_t k = 3; k < max_chars; k++) row[k] = ELMO_CHAR_PAD;
}

static uint64_t row_hash(const int32_t *row, int64_t n) {
    uint64_t h = 1469598103934665603ull;
    for (int64_t i = 0; i < n && row[i] != ELMO_CHAR_PAD; i++)
        h = (h ^ (uint32_t)row[i]) * 1099511628211ull;
    return h;
}

/* Interns the row in `scratch` into out->chars: the index of its distinct row. */
typedef struct interner {
    int32_t *slots; /* open addressing, -1 empty */
    int64_t cap;
} interner;

static int32_t intern(interner *in, elmo_words *w, int64_t max_chars, const int32_t *row) {
    size_t bytes = (size_t)max_chars * sizeof *row;
    for (int64_t s = (int64_t)(row_hash(row, max_chars) & (uint64_t)(in->cap - 1));;
         s = (s + 1) & (in->cap - 1)) {
        int32_t u = in->slots[s];
        if (u < 0) {
            memcpy(w->chars + w->U * max_chars, row, bytes);
            in->slots[s] = (int32_t)w->U;
            return (int32_t)w->U++;
        }
        if (memcmp(w->chars + (int64_t)u * max_chars, row, bytes) == 0) return u;
    }
}

int elmo_words_from_batch(zoo_model *m, zoo_graph *g, const zoo_batch *batch, bool marks,
                          elmo_words *out) {
    int64_t B = batch->B, T0 = batch->T, MC = m->max_chars, T = T0 + (marks ? 2 : 0);
    bool have_bytes = batch->size >= offsetof(zoo_batch, W) + sizeof batch->W &&
                      batch->token_bytes && batch->W > 0;
    if (!have_bytes && !m->tok)
        return zoo_graph_fail(g, ZOO_ERR_ARG,
                              "elmo: the batch carries no token bytes and the model has no "
                              "tokenizer: ELMo reads each word's characters");
    *out = (elmo_words){.B = B, .T = T};
    int64_t N = B * T, cap = 16;
    while (cap < 2 * N + 2) cap *= 2;
    out->chars = zoo_graph_alloc(g, (size_t)(N + 1) * (size_t)MC * sizeof *out->chars);
    out->index = zoo_graph_alloc(g, (size_t)N * sizeof *out->index);
    out->len = zoo_graph_alloc(g, (size_t)B * sizeof *out->len);
    interner in = {.slots = zoo_graph_alloc(g, (size_t)cap * sizeof *in.slots), .cap = cap};
    int32_t *row = zoo_graph_alloc(g, (size_t)MC * sizeof *row);
    int32_t *bytes = zoo_graph_alloc(g, (size_t)(MC + 2) * sizeof *bytes);
    if (!out->chars || !out->index || !out->len || !in.slots || !row || !bytes)
        return zoo_graph_status(g);
    memset(in.slots, 0xff, (size_t)cap * sizeof *in.slots);
    for (int k = 0; k < MC; k++) row[k] = ELMO_CHAR_PAD;
    int32_t pad = intern(&in, out, MC, row);
    for (int64_t b = 0; b < B; b++) {
        int64_t len = 0;
        while (len < T0 && (!batch->mask || batch->mask[b * T0 + len])) len++;
        int32_t *index = out->index + b * T;
        int64_t t = 0;
        if (marks) mark_row(row, MC, ELMO_CHAR_BOS), index[t++] = intern(&in, out, MC, row);
        for (int64_t p = 0; p < len; p++) {
            int64_t pos = b * T0 + p, n = 0;
            if (have_bytes) {
                const int32_t *src = batch->token_bytes + pos * batch->W;
                for (; n < batch->W && n < MC && src[n] >= 0; n++) bytes[n] = src[n];
            } else {
                size_t slen = 0;
                const char *s = zoo_tokenizer_token(m->tok, batch->ids[pos], &slen);
                for (; s && n < (int64_t)slen && n < MC; n++) bytes[n] = (unsigned char)s[n];
            }
            word_row(row, MC, bytes, n);
            index[t++] = intern(&in, out, MC, row);
        }
        if (marks) mark_row(row, MC, ELMO_CHAR_EOS), index[t++] = intern(&in, out, MC, row);
        out->len[b] = t;
        out->padded |= t < T;
        while (t < T) index[t++] = pad;
    }
    return ZOO_OK;
}

zoo_tensor *elmo_encode_words(zoo_model *m, zoo_graph *g, const int32_t *chars, int64_t U) {
    zoo_tensor *ids = zoo_tensor_wrap(g, ZOO_I32, 2, ZOO_SHAPE(U, m->max_chars), (void *)chars);
    zoo_tensor *x = elmo_char_cnn(g, m, ids); /* [U, D] */
    x = m->tanh_activation ? zoo_tanh(g, x) : zoo_relu(g, x);
    for (int k = 0; k < m->n_highway; k++) x = zoo_highway(g, x, m->highway_w[k], m->highway_b[k]);
    return zoo_linear(g, x, m->proj_w, m->proj_b, ZOO_W_OUT_IN);
}
