/* Training GPT-2's byte-level BPE on a corpus. The corpus is cut into the
 * pieces of GPT-2's pattern and each distinct piece counted once; merges
 * never cross pieces. Pair counts are kept up to date as merges rewrite the
 * pieces that hold the pair (each pair lists them), and a heap gives the most
 * frequent pair: counts of old pairs only fall, so an entry whose count is
 * out of date is put back with the true one when it comes up. */
#include <stdlib.h>
#include <string.h>

#include "tok_gpt2.h"

typedef struct piece {
    const unsigned char *text; /* in the corpus, which outlives training */
    uint32_t len, hash;
    int64_t count;
    int64_t off; /* its symbols: sym[off .. off + n) */
    int32_t n, stamp;
} piece;

typedef struct pair {
    int32_t left, right;
    int64_t count;
    int32_t *pieces; /* where it occurs (maybe no longer), each at most once in a row */
    int32_t n_pieces, cap_pieces, stamp;
} pair;

typedef struct heap_entry {
    int64_t count;
    int32_t pair;
} heap_entry;

typedef struct trainer {
    piece *pieces;
    int32_t n_pieces, cap_pieces;
    int32_t *piece_slots; /* distinct pieces by content; -1 empty */
    size_t piece_mask;
    int32_t *sym;
    pair *pairs;
    int32_t n_pairs, cap_pairs;
    struct {
        uint64_t key;
        int32_t pair;
    } * pair_slots; /* key 0: empty */
    size_t pair_mask;
    heap_entry *heap;
    size_t n_heap, cap_heap;
    int32_t *touched; /* pairs that gained in the current merge */
    int32_t n_touched, cap_touched, stamp;
    zoo_vocab *raw; /* each token's bytes, in id order */
    int32_t (*merges)[2];
    int32_t n_merges, cap_merges;
    bool nomem;
} trainer;

static bool grow(void **p, int32_t *cap, size_t elem, int32_t need) {
    if (need <= *cap) return true;
    int32_t c = *cap ? *cap : 16;
    while (c < need) c = c > INT32_MAX / 2 ? INT32_MAX : 2 * c;
    void *q = realloc(*p, (size_t)c * elem);
    if (!q) return false;
    *p = q, *cap = c;
    return true;
}

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
    if (!grow((void **)&tr->pieces, &tr->cap_pieces, sizeof *tr->pieces, tr->n_pieces + 1))
        return false;
    tr->pieces[tr->n_pieces] =
        (piece){.text = text, .len = len, .hash = h, .count = 1, .stamp = -1};
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

/* ---- pairs -------------------------------------------------------------- */

static inline uint64_t pair_key(int32_t l, int32_t r) {
    return (uint64_t)(uint32_t)(l + 1) << 32 | (uint32_t)r;
}

static bool pair_slots_grow(trainer *tr) {
    size_t n_slots = tr->pair_slots ? 2 * (tr->pair_mask + 1) : 4096;
    void *slots = calloc(n_slots, sizeof *tr->pair_slots);
    if (!slots) return false;
    free(tr->pair_slots);
    tr->pair_slots = slots, tr->pair_mask = n_slots - 1;
    for (int32_t p = 0; p < tr->n_pairs; p++) {
        uint64_t key = pair_key(tr->pairs[p].left, tr->pairs[p].right);
        size_t i = (size_t)((key * 0x9E3779B97F4A7C15ull) >> 32) & tr->pair_mask;
        while (tr->pair_slots[i].key) i = (i + 1) & tr->pair_mask;
        tr->pair_slots[i].key = key, tr->pair_slots[i].pair = p;
    }
    return true;
}

/* The pair (l, r), created when `create`; -1 when absent or out of memory. */
static int32_t pair_of(trainer *tr, int32_t l, int32_t r, bool create) {
    uint64_t key = pair_key(l, r);
    size_t i = (size_t)((key * 0x9E3779B97F4A7C15ull) >> 32) & tr->pair_mask;
    for (; tr->pair_slots[i].key; i = (i + 1) & tr->pair_mask)
        if (tr->pair_slots[i].key == key) return tr->pair_slots[i].pair;
    if (!create) return -1;
    if (!grow((void **)&tr->pairs, &tr->cap_pairs, sizeof *tr->pairs, tr->n_pairs + 1)) {
        tr->nomem = true;
        return -1;
    }
    int32_t p = tr->n_pairs++;
    tr->pairs[p] = (pair){.left = l, .right = r, .stamp = -1};
    tr->pair_slots[i].key = key, tr->pair_slots[i].pair = p;
    if ((size_t)tr->n_pairs * 2 > tr->pair_mask + 1 && !pair_slots_grow(tr)) tr->nomem = true;
    return p;
}

/* Counts `delta` more of (l, r) in piece w (a gain also lists w there and
 * marks the pair as touched by this merge). */
static void pair_add(trainer *tr, int32_t l, int32_t r, int64_t delta, int32_t w) {
    int32_t p = pair_of(tr, l, r, delta > 0);
    if (p < 0) return;
    pair *pr = &tr->pairs[p];
    pr->count += delta;
    if (delta <= 0) return;
    if (!pr->n_pieces || pr->pieces[pr->n_pieces - 1] != w) {
        if (!grow((void **)&pr->pieces, &pr->cap_pieces, sizeof *pr->pieces, pr->n_pieces + 1)) {
            tr->nomem = true;
            return;
        }
        pr->pieces[pr->n_pieces++] = w;
    }
    if (pr->stamp != tr->stamp) {
        pr->stamp = tr->stamp;
        if (!grow((void **)&tr->touched, &tr->cap_touched, sizeof *tr->touched, tr->n_touched + 1))
            tr->nomem = true;
        else
            tr->touched[tr->n_touched++] = p;
    }
}

/* ---- the heap: most frequent first, ties to the pair whose tokens' bytes
 * sort first (left token, then right) ------------------------------------ */

static int cmp_tokens(const trainer *tr, int32_t a, int32_t b) {
    size_t na, nb;
    const char *sa = zoo_vocab_token(tr->raw, a, &na), *sb = zoo_vocab_token(tr->raw, b, &nb);
    int c = memcmp(sa, sb, na < nb ? na : nb);
    return c ? c : (na > nb) - (na < nb);
}

static bool entry_before(const trainer *tr, const heap_entry *a, const heap_entry *b) {
    if (a->count != b->count) return a->count > b->count;
    const pair *x = &tr->pairs[a->pair], *y = &tr->pairs[b->pair];
    int c = cmp_tokens(tr, x->left, y->left);
    if (!c) c = cmp_tokens(tr, x->right, y->right);
    return c < 0;
}

static bool heap_push(trainer *tr, heap_entry e) {
    if (tr->n_heap == tr->cap_heap) {
        size_t cap = tr->cap_heap ? 2 * tr->cap_heap : 1024;
        heap_entry *h = realloc(tr->heap, cap * sizeof *h);
        if (!h) return false;
        tr->heap = h, tr->cap_heap = cap;
    }
    size_t i = tr->n_heap++;
    while (i > 0 && entry_before(tr, &e, &tr->heap[(i - 1) / 2])) {
        tr->heap[i] = tr->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    tr->heap[i] = e;
    return true;
}

static heap_entry heap_pop(trainer *tr) {
    heap_entry top = tr->heap[0], last = tr->heap[--tr->n_heap];
    size_t i = 0, n = tr->n_heap;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && entry_before(tr, &tr->heap[c + 1], &tr->heap[c])) c++;
        if (!entry_before(tr, &tr->heap[c], &last)) break;
        tr->heap[i] = tr->heap[c];
        i = c;
    }
    if (n) tr->heap[i] = last;
    return top;
}

/* ---- merging ------------------------------------------------------------ */

/* Rewrites every (l, r) in piece w as merged, left to right, moving the
 * counts of the neighbouring pairs. */
static void merge_piece(trainer *tr, int32_t w, int32_t l, int32_t r, int32_t merged) {
    piece *p = &tr->pieces[w];
    int32_t *sym = tr->sym + p->off;
    int64_t c = p->count;
    int32_t o = 0;
    for (int32_t i = 0; i < p->n;) {
        if (i + 1 < p->n && sym[i] == l && sym[i + 1] == r) {
            if (o > 0) {
                pair_add(tr, sym[o - 1], l, -c, w);
                pair_add(tr, sym[o - 1], merged, c, w);
            }
            if (i + 2 < p->n) {
                pair_add(tr, r, sym[i + 2], -c, w);
                pair_add(tr, merged, sym[i + 2], c, w);
            }
            sym[o++] = merged;
            i += 2;
        } else {
            sym[o++] = sym[i++];
        }
    }
    p->n = o;
}

/* Learns merges until the vocabulary has `new_tokens` more tokens or no pair
 * occurs `threshold` times. */
static int learn(trainer *tr, int32_t new_tokens, int64_t threshold) {
    int32_t added = 0;
    char *buf = NULL;
    size_t cap_buf = 0;
    while (added < new_tokens && tr->n_heap && !tr->nomem) {
        heap_entry e = heap_pop(tr);
        pair *pr = &tr->pairs[e.pair];
        if (pr->count != e.count) { /* it fell since: back with its true count */
            if (pr->count >= threshold && !heap_push(tr, (heap_entry){pr->count, e.pair}))
                tr->nomem = true;
            continue;
        }
        if (e.count < threshold) break;
        int32_t l = pr->left, r = pr->right;
        size_t nl, nr;
        zoo_vocab_token(tr->raw, l, &nl);
        zoo_vocab_token(tr->raw, r, &nr);
        if (nl + nr > cap_buf) {
            char *grown = realloc(buf, 2 * (nl + nr));
            if (!grown) {
                tr->nomem = true;
                break;
            }
            buf = grown, cap_buf = 2 * (nl + nr);
        }
        memcpy(buf, zoo_vocab_token(tr->raw, l, NULL), nl);
        memcpy(buf + nl, zoo_vocab_token(tr->raw, r, NULL), nr);
        int32_t before = zoo_vocab_size(tr->raw);
        /* two merges may spell the same bytes: the second reuses the token */
        int32_t merged = zoo_vocab_intern(tr->raw, buf, nl + nr);
        if (merged < 0 ||
            !grow((void **)&tr->merges, &tr->cap_merges, sizeof *tr->merges, tr->n_merges + 1)) {
            tr->nomem = true;
            break;
        }
        added += merged == before;
        tr->merges[tr->n_merges][0] = l;
        tr->merges[tr->n_merges][1] = r;
        tr->n_merges++;
        tr->stamp++;
        tr->n_touched = 0;
        for (int32_t k = 0; k < tr->pairs[e.pair].n_pieces && !tr->nomem; k++) {
            int32_t w = tr->pairs[e.pair].pieces[k];
            if (tr->pieces[w].stamp == tr->stamp) continue;
            tr->pieces[w].stamp = tr->stamp;
            merge_piece(tr, w, l, r, merged);
        }
        pr = &tr->pairs[e.pair];
        pr->count = 0;
        free(pr->pieces);
        pr->pieces = NULL, pr->n_pieces = pr->cap_pieces = 0;
        for (int32_t k = 0; k < tr->n_touched && !tr->nomem; k++) {
            const pair *t = &tr->pairs[tr->touched[k]];
            if (t->count >= threshold && !heap_push(tr, (heap_entry){t->count, tr->touched[k]}))
                tr->nomem = true;
        }
    }
    free(buf);
    return tr->nomem ? zoo_error(ZOO_ERR_NOMEM, "gpt2 tokenizer: out of memory while training")
                     : ZOO_OK;
}

/* The pieces as byte tokens, and every adjacent pair counted. */
static int start(trainer *tr) {
    int64_t total = 0;
    for (int32_t w = 0; w < tr->n_pieces; w++) {
        tr->pieces[w].off = total;
        tr->pieces[w].n = (int32_t)tr->pieces[w].len;
        total += tr->pieces[w].len;
    }
    int32_t id_of_byte[256];
    for (int b = 0; b < 256; b++) id_of_byte[b] = zoo_gpt2_byte_rank(b);
    tr->sym = malloc(((size_t)total + 1) * sizeof *tr->sym);
    if (!tr->sym || !pair_slots_grow(tr))
        return zoo_error(ZOO_ERR_NOMEM, "gpt2 tokenizer: out of memory");
    tr->stamp = 0;
    for (int32_t w = 0; w < tr->n_pieces && !tr->nomem; w++) {
        const piece *p = &tr->pieces[w];
        int32_t *sym = tr->sym + p->off;
        for (uint32_t i = 0; i < p->len; i++) sym[i] = id_of_byte[p->text[i]];
        for (int32_t i = 0; i + 1 < p->n; i++) pair_add(tr, sym[i], sym[i + 1], p->count, w);
    }
    for (int32_t p = 0; p < tr->n_pairs && !tr->nomem; p++)
        if (!heap_push(tr, (heap_entry){tr->pairs[p].count, p})) tr->nomem = true;
    return tr->nomem ? zoo_error(ZOO_ERR_NOMEM, "gpt2 tokenizer: out of memory") : ZOO_OK;
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
    free(tr->sym);
    for (int32_t p = 0; p < tr->n_pairs; p++) free(tr->pairs[p].pieces);
    free(tr->pairs);
    free(tr->pair_slots);
    free(tr->heap);
    free(tr->touched);
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
    if (st == ZOO_OK) st = start(&tr);
    if (st == ZOO_OK) st = learn(&tr, new_tokens, set->min_count > 2 ? set->min_count : 2);
    if (st == ZOO_OK) st = finish(&tr, specials, roles, n_special, out);
    trainer_free(&tr);
    return st;
}
