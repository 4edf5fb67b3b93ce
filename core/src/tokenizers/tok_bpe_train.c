/* Training GPT-2's byte-level BPE on a corpus. The corpus is cut into the
 * pieces of GPT-2's pattern and each distinct piece counted once; merges
 * never cross pieces. The pair counts and the choice of the next merge are
 * merge_stats.c's: the most frequent pair, ties to the pair whose tokens'
 * bytes sort first (left token, then right). */
#include <stdlib.h>
#include <string.h>

#include "merge_stats.h"
#include "tok_gpt2.h"

typedef struct piece {
    const unsigned char *text; /* in the corpus, which outlives training */
    uint32_t len, hash;
    int64_t count;
} piece;

typedef struct trainer {
    piece *pieces;
    int32_t n_pieces, cap_pieces;
    int32_t *piece_slots; /* distinct pieces by content; -1 empty */
    size_t piece_mask;
    zoo_merge_stats *stats; /* over the pieces, as byte tokens at first */
    zoo_vocab *raw;         /* each token's bytes, in id order */
    int32_t (*merges)[2];
    int32_t n_merges, cap_merges;
} trainer;

/* ---- counting the pieces ------------------------------------------------ */

static uint32_t hash_bytes(const unsigned char *s, size_t len) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++) h = (h ^ s[i]) * 16777619u;
    return h;
}

static bool count_piece(trainer *tr, const unsigned char *text, uint32_t len) {
    uint32_t h = hash_bytes(text, len);
    size_t i = h & tr->piece_mask;
    for (int32_t id; (id = tr->piece_slots[i]) >= 0; i = (i + 1) & tr->piece_mask) {
        piece *p = &tr->pieces[id];
        if (p->hash == h && p->len == len && memcmp(p->text, text, len) == 0) {
            p->count++;
            return true;
        }
    }
    if (!zoo_grow_array((void **)&tr->pieces, &tr->cap_pieces, sizeof *tr->pieces,
                        tr->n_pieces + 1))
        return false;
    tr->pieces[tr->n_pieces] = (piece){.text = text, .len = len, .hash = h, .count = 1};
    tr->piece_slots[i] = tr->n_pieces++;
    if ((size_t)tr->n_pieces * 2 > tr->piece_mask + 1) {
        size_t n_slots = 2 * (tr->piece_mask + 1);
        int32_t *slots = malloc(n_slots * sizeof *slots);
        if (!slots) return false;
        memset(slots, 0xff, n_slots * sizeof *slots);
        for (int32_t id = 0; id < tr->n_pieces; id++) {
            size_t j = tr->pieces[id].hash & (n_slots - 1);
            while (slots[j] >= 0) j = (j + 1) & (n_slots - 1);
            slots[j] = id;
        }
        free(tr->piece_slots);
        tr->piece_slots = slots, tr->piece_mask = n_slots - 1;
    }
    return true;
}

static int count_corpus(trainer *tr, const zoo_corpus *c) {
    tr->piece_slots = malloc(1024 * sizeof *tr->piece_slots);
    if (!tr->piece_slots) return zoo_error(ZOO_ERR_NOMEM, "gpt2 tokenizer: out of memory");
    memset(tr->piece_slots, 0xff, 1024 * sizeof *tr->piece_slots);
    tr->piece_mask = 1023;
    for (int f = 0; f < zoo_corpus_count(c); f++) {
        size_t len;
        const unsigned char *s = (const unsigned char *)zoo_corpus_file(c, f, &len);
        for (size_t i = 0, end; i < len; i = end) {
            int st = zoo_gpt2_next_piece(s, len, i, &end);
            if (st != ZOO_OK)
                return zoo_error(st, "%s: %s", zoo_corpus_path(c, f), zoo_error_message());
            if (end - i > INT32_MAX)
                return zoo_error(ZOO_ERR_ARG,
                                 "%s: a piece of %zu bytes at byte offset %zu is too long",
                                 zoo_corpus_path(c, f), end - i, i);
            if (!count_piece(tr, s + i, (uint32_t)(end - i)))
                return zoo_error(ZOO_ERR_NOMEM, "gpt2 tokenizer: out of memory");
        }
    }
    return ZOO_OK;
}

/* ---- merging ------------------------------------------------------------ */

/* The pieces as byte tokens, and every adjacent pair counted; pairs seen
 * fewer than `threshold` times are never merged. */
static int start(trainer *tr, int64_t threshold) {
    int64_t total = 0;
    for (int32_t w = 0; w < tr->n_pieces; w++) total += tr->pieces[w].len;
    int32_t id_of_byte[256];
    for (int b = 0; b < 256; b++) id_of_byte[b] = zoo_gpt2_byte_rank(b);
    tr->stats = zoo_merge_stats_new(tr->n_pieces, total, zoo_merge_stats_vocab_order, tr->raw);
    if (!tr->stats) return zoo_error(ZOO_ERR_NOMEM, "gpt2 tokenizer: out of memory");
    for (int32_t w = 0; w < tr->n_pieces; w++) {
        const piece *p = &tr->pieces[w];
        int32_t *sym = zoo_merge_stats_add(tr->stats, p->count, (int32_t)p->len);
        for (uint32_t i = 0; i < p->len; i++) sym[i] = id_of_byte[p->text[i]];
    }
    return zoo_merge_stats_start(tr->stats, threshold) == ZOO_OK
               ? ZOO_OK
               : zoo_error(ZOO_ERR_NOMEM, "gpt2 tokenizer: out of memory");
}

/* Learns merges until the vocabulary has `new_tokens` more tokens or no pair
 * occurs often enough. */
static int learn(trainer *tr, int32_t new_tokens) {
    int32_t added = 0, l, r;
    char *buf = NULL;
    size_t cap_buf = 0;
    int st = ZOO_OK;
    while (added < new_tokens && (st = zoo_merge_stats_top(tr->stats, &l, &r)) > 0) {
        size_t nl, nr;
        zoo_vocab_token(tr->raw, l, &nl);
        zoo_vocab_token(tr->raw, r, &nr);
        if (nl + nr > cap_buf) {
            char *grown = realloc(buf, 2 * (nl + nr));
            if (!grown) {
                st = ZOO_ERR_NOMEM;
                break;
            }
            buf = grown, cap_buf = 2 * (nl + nr);
        }
        memcpy(buf, zoo_vocab_token(tr->raw, l, NULL), nl);
        memcpy(buf + nl, zoo_vocab_token(tr->raw, r, NULL), nr);
        int32_t before = zoo_vocab_size(tr->raw);
        /* two merges may spell the same bytes: the second reuses the token */
        int32_t merged = zoo_vocab_intern(tr->raw, buf, nl + nr);
        if (merged < 0 || !zoo_grow_array((void **)&tr->merges, &tr->cap_merges, sizeof *tr->merges,
                                          tr->n_merges + 1)) {
            st = ZOO_ERR_NOMEM;
            break;
        }
        added += merged == before;
        tr->merges[tr->n_merges][0] = l;
        tr->merges[tr->n_merges][1] = r;
        tr->n_merges++;
        if ((st = zoo_merge_stats_merge(tr->stats, merged)) < 0) break;
    }
    free(buf);
    return st < 0 ? zoo_error(ZOO_ERR_NOMEM, "gpt2 tokenizer: out of memory while training")
                  : ZOO_OK;
}

/* The tokenizer: the learned tokens in GPT-2's spelling, then the specials. */
static int finish(trainer *tr, const char *const *specials, const zoo_special *roles, int n_special,
                  zoo_tokenizer **out) {
    zoo_vocab *v = zoo_vocab_new();
    if (!v) return ZOO_ERR_NOMEM;
    int st = ZOO_OK;
    char *spelled = NULL;
    size_t cap = 0;
    for (int32_t id = 0; id < zoo_vocab_size(tr->raw) && st == ZOO_OK; id++) {
        size_t len;
        const char *raw = zoo_vocab_token(tr->raw, id, &len);
        if (2 * len > cap) {
            char *grown = realloc(spelled, cap = 2 * len + 64);
            if (!grown) {
                st = zoo_error(ZOO_ERR_NOMEM, "gpt2 tokenizer: out of memory");
                break;
            }
            spelled = grown;
        }
        size_t n = zoo_gpt2_spell((const unsigned char *)raw, len, spelled);
        if (zoo_vocab_intern(v, spelled, n) != id) st = ZOO_ERR_NOMEM; /* spelling is one-to-one */
    }
    free(spelled);
    int32_t first_special = zoo_vocab_size(v);
    for (int i = 0; i < n_special && st == ZOO_OK; i++) {
        int32_t id = zoo_vocab_intern(v, specials[i], strlen(specials[i]));
        if (id != first_special + i)
            st = id < 0 ? ZOO_ERR_NOMEM
                        : zoo_error(ZOO_ERR_ARG,
                                    "gpt2 tokenizer: the special token %s is also a "
                                    "learned token",
                                    specials[i]);
    }
    if (st != ZOO_OK) {
        zoo_vocab_free(v);
        return st;
    }
    zoo_gpt2_state *s;
    st = zoo_gpt2_state_new(v, tr->n_merges, "gpt2 tokenizer", &s);
    for (int32_t m = 0; m < tr->n_merges && st == ZOO_OK; m++)
        if (zoo_gpt2_add_merge(s, tr->merges[m][0], tr->merges[m][1]) != ZOO_GPT2_MERGE_OK)
            st = zoo_error(ZOO_ERR_NOMEM, "gpt2 tokenizer: out of memory");
    if (st == ZOO_OK)
        st = zoo_gpt2_wrap(s, out);
    else if (s)
        zoo_gpt2_state_free(s);
    for (int i = 0; i < n_special && st == ZOO_OK; i++) {
        if (i == 0) { /* <|endoftext|> starts and ends documents */
            zoo_tokenizer_set_special(*out, ZOO_TOK_BOS, first_special);
            zoo_tokenizer_set_special(*out, ZOO_TOK_EOS, first_special);
        } else {
            zoo_tokenizer_set_special(*out, roles[i], first_special + i);
        }
    }
    return st;
}

static void trainer_free(trainer *tr) {
    free(tr->pieces);
    free(tr->piece_slots);
    zoo_merge_stats_free(tr->stats);
    zoo_vocab_free(tr->raw);
    free(tr->merges);
}

int zoo_gpt2_train(const zoo_tokenizer_settings *set, const zoo_corpus *c, zoo_tokenizer **out) {
    *out = NULL;
    if (set->lowercase)
        return zoo_error(ZOO_ERR_ARG, "gpt2 tokenizer: lowercase does not apply (byte-level BPE "
                                      "keeps the text as it is)");
    const char *specials[ZOO_TOK_N_SPECIAL + 1] = {ZOO_GPT2_EOT};
    zoo_special roles[ZOO_TOK_N_SPECIAL + 1] = {ZOO_TOK_EOS};
    int n_special = 1;
    for (int i = 0; i < set->n_specials; i++) {
        zoo_special r = set->specials[i];
        if (r == ZOO_TOK_UNK || r == ZOO_TOK_BOS || r == ZOO_TOK_EOS) continue;
        roles[n_special] = r;
        specials[n_special++] = zoo_special_token(r);
    }
    if (set->max_size > 0 && set->max_size < 256 + n_special)
        return zoo_error(ZOO_ERR_ARG,
                         "gpt2 tokenizer: max_size %d is below the 256 byte tokens and %d special "
                         "token%s",
                         (int)set->max_size, n_special, n_special > 1 ? "s" : "");
    int32_t new_tokens = set->max_size > 0 ? set->max_size - 256 - n_special : INT32_MAX;
    trainer tr = {0};
    int st = (tr.raw = zoo_vocab_new()) ? ZOO_OK : ZOO_ERR_NOMEM;
    int byte_of_rank[256];
    for (int b = 0; b < 256; b++) byte_of_rank[zoo_gpt2_byte_rank(b)] = b;
    for (int k = 0; k < 256 && st == ZOO_OK; k++) {
        char b = (char)byte_of_rank[k];
        if (zoo_vocab_intern(tr.raw, &b, 1) != k) st = ZOO_ERR_NOMEM;
    }
    if (st == ZOO_OK) st = count_corpus(&tr, c);
    if (st == ZOO_OK) st = start(&tr, set->min_count > 2 ? set->min_count : 2);
    if (st == ZOO_OK) st = learn(&tr, new_tokens);
    if (st == ZOO_OK) st = finish(&tr, specials, roles, n_special, out);
    trainer_free(&tr);
    return st;
}
