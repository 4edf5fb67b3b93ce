/* Training a WordPiece vocabulary, as HuggingFace's WordPieceTrainer does:
 * byte-pair-style merges over the pieces of BERT's basic tokenization, with
 * every character after a piece's first spelled "##c".
 *
 * The corpus is cut into pieces exactly as encoding cuts it (so training and
 * encoding agree on lowercasing, accents, punctuation and CJK), and each
 * distinct piece is counted once; pieces longer than max_chars characters
 * are left out (they encode to [UNK] whatever the vocabulary). The
 * vocabulary starts with the specials, then every character seen first in a
 * piece, then every character seen later in one as "##c" (each set in code
 * point order), so every piece of the corpus encodes without [UNK]. Then,
 * while the vocabulary is below max_size (0: no limit), the most frequent
 * adjacent pair of tokens within pieces, counted over piece occurrences, is
 * merged (ties to the pair whose tokens' bytes sort first, left then right),
 * as long as it occurs max(2, min_count) times: "un" + "##able" gives
 * "unable", "##ab" + "##le" gives "##able". Pair counts are kept up to date
 * as merges rewrite the pieces that hold the pair (each pair lists them),
 * and a heap gives the most frequent: counts of old pairs only fall, so an
 * entry whose count is out of date is put back with the true one when it
 * comes up. The result is deterministic. */
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "tok_wordpiece.h"

typedef struct word {
    int64_t count;
    int64_t off; /* its symbols: sym[off .. off + n) */
    int32_t n, stamp;
} word;

typedef struct pair {
    int32_t left, right;
    int64_t count;
    int32_t *words; /* where it occurs (maybe no longer), each at most once in a row */
    int32_t n_words, cap_words, stamp;
} pair;

typedef struct heap_entry {
    int64_t count;
    int32_t pair;
} heap_entry;

typedef struct trainer {
    zoo_vocab *pieces; /* the distinct pieces */
    word *words;       /* by piece id */
    int32_t n_words, cap_words;
    int32_t *sym;
    zoo_vocab *v; /* the vocabulary being built */
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
    bool nomem;
} trainer;

static int nomem(void) {
    return zoo_error(ZOO_ERR_NOMEM, "wordpiece tokenizer: out of memory while training");
}

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

static int count_corpus(trainer *tr, const zoo_corpus *c, bool lowercase) {
    int r = ZOO_OK;
    for (int f = 0; f < zoo_corpus_count(c) && r >= 0; f++) {
        zoo_wp_scan sc = {.lowercase = lowercase};
        sc.s = (const unsigned char *)zoo_corpus_file(c, f, &sc.len);
        zoo_wp_piece p;
        while ((r = zoo_wp_next(&sc, &p)) > 0) {
            if (p.n_chars > ZOO_WP_MAX_CHARS) continue;
            int32_t id = zoo_vocab_intern(tr->pieces, p.text, p.len);
            if (id < 0 || !grow((void **)&tr->words, &tr->cap_words, sizeof *tr->words, id + 1)) {
                r = nomem();
                break;
            }
            if (id == tr->n_words) tr->words[tr->n_words++] = (word){.n = p.n_chars, .stamp = -1};
            tr->words[id].count++;
        }
        zoo_wp_scan_free(&sc);
        if (r == ZOO_ERR_FORMAT) /* a corpus is valid UTF-8; this is a guard, not a policy */
            r = zoo_error(ZOO_ERR_FORMAT, "%s: %s", zoo_corpus_path(c, f), zoo_error_message());
    }
    if (r < 0) return r;
    if (tr->n_words == 0)
        return zoo_error(ZOO_ERR_ARG, "wordpiece tokenizer: the corpus has no words");
    return ZOO_OK;
}

static int cmp_cp(const void *a, const void *b) {
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* The distinct values of a[0..n) in order, in place; their number. */
static int32_t sort_unique(int32_t *a, int32_t n) {
    qsort(a, (size_t)n, sizeof *a, cmp_cp);
    int32_t k = 0;
    for (int32_t i = 0; i < n; i++)
        if (k == 0 || a[k - 1] != a[i]) a[k++] = a[i];
    return k;
}

/* The characters, first and later in a piece, as the vocabulary's next
 * tokens, and every piece as those tokens. */
static int alphabet(trainer *tr) {
    int64_t total = 0;
    for (int32_t w = 0; w < tr->n_words; w++) total += tr->words[w].n;
    int32_t *first = malloc((size_t)tr->n_words * sizeof *first);
    int32_t *later = malloc(((size_t)total + 1) * sizeof *later);
    tr->sym = malloc(((size_t)total + 1) * sizeof *tr->sym);
    int st = first && later && tr->sym ? ZOO_OK : nomem();
    int32_t n_first = 0, n_later = 0;
    for (int32_t w = 0; w < tr->n_words && st == ZOO_OK; w++) {
        size_t len;
        const utf8proc_uint8_t *s = (const utf8proc_uint8_t *)zoo_vocab_token(tr->pieces, w, &len);
        for (size_t i = 0; i < len;) {
            utf8proc_int32_t cp;
            bool cont = i > 0;
            i += (size_t)utf8proc_iterate(s + i, (utf8proc_ssize_t)(len - i), &cp);
            if (cont)
                later[n_later++] = cp;
            else
                first[n_first++] = cp;
        }
    }
    if (st == ZOO_OK) {
        n_first = sort_unique(first, n_first);
        n_later = sort_unique(later, n_later);
    }
    int32_t first_id = zoo_vocab_size(tr->v);
    for (int32_t i = 0; i < n_first + n_later && st == ZOO_OK; i++) {
        char buf[8] = "##";
        bool cont = i >= n_first;
        char *tok = cont ? buf : buf + 2;
        size_t k = (size_t)utf8proc_encode_char(cont ? later[i - n_first] : first[i],
                                                (utf8proc_uint8_t *)buf + 2) +
                   (cont ? 2 : 0);
        int32_t id = zoo_vocab_intern(tr->v, tok, k);
        if (id < 0)
            st = ZOO_ERR_NOMEM;
        else if (id != first_id + i)
            st = zoo_error(ZOO_ERR_ARG,
                           "wordpiece tokenizer: the character token \"%.*s\" is also a special "
                           "token",
                           (int)k, tok);
    }
    /* every piece as its character tokens */
    int64_t at = 0;
    for (int32_t w = 0; w < tr->n_words && st == ZOO_OK; w++) {
        size_t len;
        const utf8proc_uint8_t *s = (const utf8proc_uint8_t *)zoo_vocab_token(tr->pieces, w, &len);
        tr->words[w].off = at;
        for (size_t i = 0; i < len;) {
            utf8proc_int32_t cp;
            bool cont = i > 0;
            i += (size_t)utf8proc_iterate(s + i, (utf8proc_ssize_t)(len - i), &cp);
            const int32_t *set = cont ? later : first;
            int32_t n = cont ? n_later : n_first;
            const int32_t *hit = bsearch(&cp, set, (size_t)n, sizeof *set, cmp_cp);
            tr->sym[at++] = first_id + (cont ? n_first : 0) + (int32_t)(hit - set);
        }
    }
    free(first);
    free(later);
    return st == ZOO_ERR_NOMEM ? nomem() : st;
}

/* ---- pairs -------------------------------------------------------------- */

static inline uint64_t pair_key(int32_t l, int32_t r) {
    return (uint64_t)(uint32_t)(l + 1) << 32 | (uint32_t)r;
}

static inline size_t pair_hash(uint64_t key, size_t mask) {
    return (size_t)((key * 0x9E3779B97F4A7C15ull) >> 32) & mask;
}

static bool pair_slots_grow(trainer *tr) {
    size_t n_slots = tr->pair_slots ? 2 * (tr->pair_mask + 1) : 4096;
    void *slots = calloc(n_slots, sizeof *tr->pair_slots);
    if (!slots) return false;
    free(tr->pair_slots);
    tr->pair_slots = slots, tr->pair_mask = n_slots - 1;
    for (int32_t p = 0; p < tr->n_pairs; p++) {
        uint64_t key = pair_key(tr->pairs[p].left, tr->pairs[p].right);
        size_t i = pair_hash(key, tr->pair_mask);
        while (tr->pair_slots[i].key) i = (i + 1) & tr->pair_mask;
        tr->pair_slots[i].key = key, tr->pair_slots[i].pair = p;
    }
    return true;
}

/* The pair (l, r), created when `create`; -1 when absent or out of memory. */
static int32_t pair_of(trainer *tr, int32_t l, int32_t r, bool create) {
    uint64_t key = pair_key(l, r);
    size_t i = pair_hash(key, tr->pair_mask);
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

/* Counts `delta` more of (l, r) in word w (a gain also lists w there and
 * marks the pair as touched by this merge). */
static void pair_add(trainer *tr, int32_t l, int32_t r, int64_t delta, int32_t w) {
    int32_t p = pair_of(tr, l, r, delta > 0);
    if (p < 0) return;
    pair *pr = &tr->pairs[p];
    pr->count += delta;
    if (delta <= 0) return;
    if (!pr->n_words || pr->words[pr->n_words - 1] != w) {
        if (!grow((void **)&pr->words, &pr->cap_words, sizeof *pr->words, pr->n_words + 1)) {
            tr->nomem = true;
            return;
        }
        pr->words[pr->n_words++] = w;
    }
    if (pr->stamp != tr->stamp) {
        pr->stamp = tr->stamp;
        if (!grow((void **)&tr->touched, &tr->cap_touched, sizeof *tr->touched, tr->n_touched + 1))
            tr->nomem = true;
        else
            tr->touched[tr->n_touched++] = p;
    }
}

/* ---- the heap: most frequent first, ties by the tokens' bytes ----------- */

static int cmp_tokens(const trainer *tr, int32_t a, int32_t b) {
    size_t na, nb;
    const char *sa = zoo_vocab_token(tr->v, a, &na), *sb = zoo_vocab_token(tr->v, b, &nb);
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

/* Rewrites every (l, r) in word w as merged, left to right, moving the
 * counts of the neighbouring pairs. */
static void merge_word(trainer *tr, int32_t w, int32_t l, int32_t r, int32_t merged) {
    word *p = &tr->words[w];
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

/* Every adjacent pair counted, and into the heap. */
static int start(trainer *tr) {
    if (!pair_slots_grow(tr)) return nomem();
    tr->stamp = 0;
    for (int32_t w = 0; w < tr->n_words && !tr->nomem; w++) {
        const word *p = &tr->words[w];
        const int32_t *sym = tr->sym + p->off;
        for (int32_t i = 0; i + 1 < p->n; i++) pair_add(tr, sym[i], sym[i + 1], p->count, w);
    }
    for (int32_t p = 0; p < tr->n_pairs && !tr->nomem; p++)
        if (!heap_push(tr, (heap_entry){tr->pairs[p].count, p})) tr->nomem = true;
    return tr->nomem ? nomem() : ZOO_OK;
}

/* Merges until the vocabulary holds max_size tokens (0: no limit) or no
 * pair occurs `threshold` times. */
static int learn(trainer *tr, int32_t max_size, int64_t threshold) {
    char *buf = NULL;
    size_t cap_buf = 0;
    while ((max_size == 0 || zoo_vocab_size(tr->v) < max_size) && tr->n_heap && !tr->nomem) {
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
        const char *sl = zoo_vocab_token(tr->v, l, &nl), *sr = zoo_vocab_token(tr->v, r, &nr);
        if (nl + nr > cap_buf) {
            char *grown = realloc(buf, 2 * (nl + nr));
            if (!grown) {
                tr->nomem = true;
                break;
            }
            buf = grown, cap_buf = 2 * (nl + nr);
        }
        /* the right token always continues a piece: its "##" goes */
        memcpy(buf, sl, nl);
        memcpy(buf + nl, sr + 2, nr - 2);
        /* two merges may spell the same token ("a" "##bc", "ab" "##c"): the
         * second reuses it */
        int32_t merged = zoo_vocab_intern(tr->v, buf, nl + nr - 2);
        if (merged < 0) {
            tr->nomem = true;
            break;
        }
        tr->stamp++;
        tr->n_touched = 0;
        for (int32_t k = 0; k < tr->pairs[e.pair].n_words && !tr->nomem; k++) {
            int32_t w = tr->pairs[e.pair].words[k];
            if (tr->words[w].stamp == tr->stamp) continue;
            tr->words[w].stamp = tr->stamp;
            merge_word(tr, w, l, r, merged);
        }
        pr = &tr->pairs[e.pair];
        pr->count = 0;
        free(pr->words);
        pr->words = NULL, pr->n_words = pr->cap_words = 0;
        for (int32_t k = 0; k < tr->n_touched && !tr->nomem; k++) {
            const pair *t = &tr->pairs[tr->touched[k]];
            if (t->count >= threshold && !heap_push(tr, (heap_entry){t->count, tr->touched[k]}))
                tr->nomem = true;
        }
    }
    free(buf);
    return tr->nomem ? nomem() : ZOO_OK;
}

static void trainer_free(trainer *tr) {
    zoo_vocab_free(tr->pieces);
    free(tr->words);
    free(tr->sym);
    zoo_vocab_free(tr->v);
    for (int32_t p = 0; p < tr->n_pairs; p++) free(tr->pairs[p].words);
    free(tr->pairs);
    free(tr->pair_slots);
    free(tr->heap);
    free(tr->touched);
}

int zoo_wp_train(const zoo_tokenizer_settings *set, const zoo_corpus *c, zoo_tokenizer **out) {
    *out = NULL;
    zoo_special roles[ZOO_TOK_N_SPECIAL];
    int32_t n_special = 0;
    bool has_unk = false;
    for (int i = 0; i < set->n_specials; i++) {
        roles[n_special++] = set->specials[i];
        has_unk |= set->specials[i] == ZOO_TOK_UNK;
    }
    if (!has_unk) roles[n_special++] = ZOO_TOK_UNK; /* for pieces no token starts */
    trainer tr = {0};
    int st = (tr.pieces = zoo_vocab_new()) && (tr.v = zoo_vocab_new()) ? ZOO_OK : nomem();
    for (int32_t i = 0; i < n_special && st == ZOO_OK; i++) {
        const char *tok = zoo_special_token(roles[i]);
        if (zoo_vocab_intern(tr.v, tok, strlen(tok)) < 0) st = nomem();
    }
    if (st == ZOO_OK) st = count_corpus(&tr, c, set->lowercase);
    if (st == ZOO_OK) st = alphabet(&tr);
    if (st == ZOO_OK && set->max_size > 0 && zoo_vocab_size(tr.v) > set->max_size)
        st = zoo_error(ZOO_ERR_ARG,
                       "wordpiece tokenizer: max_size %d is below the %d special tokens and the "
                       "%d character tokens of the corpus (%d in all)",
                       (int)set->max_size, (int)n_special, (int)(zoo_vocab_size(tr.v) - n_special),
                       (int)zoo_vocab_size(tr.v));
    if (st == ZOO_OK) st = start(&tr);
    if (st == ZOO_OK) st = learn(&tr, set->max_size, set->min_count > 2 ? set->min_count : 2);
    if (st == ZOO_OK) {
        st = zoo_wp_build(tr.v, set->lowercase, ZOO_WP_MAX_CHARS, out);
        tr.v = NULL; /* taken */
    }
    for (int32_t i = 0; i < n_special && st == ZOO_OK; i++)
        st = zoo_tokenizer_set_special(*out, roles[i], i);
    if (st != ZOO_OK) {
        zoo_tokenizer_free(*out);
        *out = NULL;
    }
    trainer_free(&tr);
    return st;
}
