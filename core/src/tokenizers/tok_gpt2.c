/* The "gpt2" tokenizer: GPT-2's byte-level BPE (OpenAI's src/encoder.py),
 * loaded from its files or from zoo's JSON. Training lives in tok_bpe_train.c. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <utf8proc.h>

#include "tok_gpt2.h"
#include "zoo/io.h"
#include "zoo/json.h"

/* ---- bytes as characters ------------------------------------------------ */

/* GPT-2 spells each byte as one printable character: the printable Latin-1
 * bytes stand for themselves, the 68 others (controls, space, DEL, NBSP,
 * soft hyphen) become U+0100, U+0101, ... in byte order. */
static bool byte_is_printable(int b) {
    return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
}

static int32_t char_of_byte(int b) {
    if (byte_is_printable(b)) return b;
    return 0x100 + (b <= 0x20 ? b : b <= 0xA0 ? 33 + (b - 0x7F) : 67);
}

/* The byte a character stands for, or -1. */
static int byte_of_char(int32_t cp) {
    if (cp < 0x100) return byte_is_printable(cp) ? cp : -1;
    int k = cp - 0x100;
    return k < 33 ? k : k < 67 ? 0x7F + (k - 33) : k == 67 ? 0xAD : -1;
}

int32_t zoo_gpt2_byte_rank(int b) {
    int below = 0; /* printable bytes below b */
    for (int x = 0; x < b; x++) below += byte_is_printable(x);
    return byte_is_printable(b) ? below : 188 + (b - below);
}

size_t zoo_gpt2_spell(const unsigned char *raw, size_t len, char *out) {
    size_t o = 0;
    for (size_t i = 0; i < len; i++)
        o += (size_t)utf8proc_encode_char(char_of_byte(raw[i]), (utf8proc_uint8_t *)out + o);
    return o;
}

/* The bytes GPT-2's spelling s[0..len) stands for, into out (at most len
 * bytes); false when a character stands for no byte. */
static bool unspell(const char *s, size_t len, unsigned char *out, size_t *out_len) {
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t k =
            utf8proc_iterate((const utf8proc_uint8_t *)s + i, (utf8proc_ssize_t)(len - i), &cp);
        int b = k > 0 ? byte_of_char(cp) : -1;
        if (b < 0) return false;
        out[o++] = (unsigned char)b;
        i += (size_t)k;
    }
    *out_len = o;
    return true;
}

/* ---- the state ---------------------------------------------------------- */

typedef struct merge_slot {
    uint64_t key; /* (left + 1) << 32 | right; 0 = empty */
    int32_t rank, merged;
} merge_slot;

struct zoo_gpt2_state {
    zoo_vocab *vocab; /* GPT-2's spellings, in id order */
    unsigned char *raw;
    size_t *raw_off; /* token id's bytes: raw[raw_off[id] .. raw_off[id + 1]) */
    int32_t byte_id[256];
    merge_slot *slots;
    size_t mask;
    int32_t (*merges)[2]; /* (left, right) by rank */
    int32_t n_merges, cap_merges;
};

static inline uint64_t merge_key(int32_t left, int32_t right) {
    return (uint64_t)(uint32_t)(left + 1) << 32 | (uint32_t)right;
}

static inline size_t merge_hash(uint64_t key, size_t mask) {
    return (size_t)((key * 0x9E3779B97F4A7C15ull) >> 32) & mask;
}

static inline const merge_slot *merge_find(const zoo_gpt2_state *s, int32_t left, int32_t right) {
    uint64_t key = merge_key(left, right);
    for (size_t i = merge_hash(key, s->mask);; i = (i + 1) & s->mask) {
        if (s->slots[i].key == key) return &s->slots[i];
        if (!s->slots[i].key) return NULL;
    }
}

void zoo_gpt2_state_free(zoo_gpt2_state *s) {
    if (!s) return;
    zoo_vocab_free(s->vocab);
    free(s->raw);
    free(s->raw_off);
    free(s->slots);
    free(s->merges);
    free(s);
}

static void gpt2_free(void *p) {
    zoo_gpt2_state_free(p);
}

int zoo_gpt2_state_new(zoo_vocab *vocab, int32_t max_merges, const char *where,
                       zoo_gpt2_state **out) {
    *out = NULL;
    zoo_gpt2_state *s = calloc(1, sizeof *s);
    if (!s) {
        zoo_vocab_free(vocab);
        return zoo_error(ZOO_ERR_NOMEM, "%s: out of memory", where);
    }
    s->vocab = vocab;
    int32_t n = zoo_vocab_size(vocab);
    size_t total = 0, slots = 16;
    for (int32_t id = 0; id < n; id++) {
        size_t len;
        zoo_vocab_token(vocab, id, &len);
        total += len;
    }
    while (slots < 2 * (size_t)(max_merges > 0 ? max_merges : 1)) slots *= 2;
    s->raw = malloc(total + 1);
    s->raw_off = malloc(((size_t)n + 1) * sizeof *s->raw_off);
    s->slots = calloc(slots, sizeof *s->slots);
    s->mask = slots - 1;
    s->merges = malloc(((size_t)max_merges + 1) * sizeof *s->merges);
    s->cap_merges = max_merges;
    if (!s->raw || !s->raw_off || !s->slots || !s->merges) {
        zoo_gpt2_state_free(s);
        return zoo_error(ZOO_ERR_NOMEM, "%s: out of memory", where);
    }
    for (int b = 0; b < 256; b++) s->byte_id[b] = -1;
    size_t used = 0;
    for (int32_t id = 0; id < n; id++) {
        size_t len, k;
        const char *tok = zoo_vocab_token(vocab, id, &len);
        s->raw_off[id] = used;
        if (!unspell(tok, len, s->raw + used, &k)) {
            int st = zoo_error(ZOO_ERR_FORMAT,
                               "%s: token %d \"%.*s\" has a character that stands for no byte "
                               "(GPT-2 spells bytes as '!'..'~', '¡'..'¬', '®'..'ÿ', 'Ā'..'Ń')",
                               where, (int)id, (int)(len < 64 ? len : 64), tok);
            zoo_gpt2_state_free(s); /* it owns the vocabulary tok is in */
            return st;
        }
        if (k == 1 && s->byte_id[s->raw[used]] < 0) s->byte_id[s->raw[used]] = id;
        used += k;
    }
    s->raw_off[n] = used;
    for (int b = 0; b < 256; b++)
        if (s->byte_id[b] < 0) {
            utf8proc_uint8_t spelled[4];
            utf8proc_ssize_t k = utf8proc_encode_char(char_of_byte(b), spelled);
            zoo_gpt2_state_free(s);
            return zoo_error(ZOO_ERR_FORMAT, "%s: no token for the byte 0x%02X (\"%.*s\")", where,
                             b, (int)k, (const char *)spelled);
        }
    *out = s;
    return ZOO_OK;
}

int zoo_gpt2_add_merge(zoo_gpt2_state *s, int32_t left, int32_t right) {
    if (s->n_merges == s->cap_merges) return ZOO_GPT2_MERGE_FULL;
    /* the merged token's spelling is the two spellings joined */
    size_t sl, sr;
    const char *a = zoo_vocab_token(s->vocab, left, &sl),
               *b = zoo_vocab_token(s->vocab, right, &sr);
    char stack[256], *joined = sl + sr <= sizeof stack ? stack : malloc(sl + sr);
    if (!joined) return ZOO_GPT2_MERGE_NOMEM;
    memcpy(joined, a, sl);
    memcpy(joined + sl, b, sr);
    int32_t merged = zoo_vocab_find(s->vocab, joined, sl + sr);
    if (joined != stack) free(joined);
    if (merged < 0) return ZOO_GPT2_MERGE_NO_RESULT;
    uint64_t key = merge_key(left, right);
    size_t i = merge_hash(key, s->mask);
    for (; s->slots[i].key; i = (i + 1) & s->mask)
        if (s->slots[i].key == key) return ZOO_GPT2_MERGE_REPEATED;
    s->slots[i] = (merge_slot){key, s->n_merges, merged};
    s->merges[s->n_merges][0] = left;
    s->merges[s->n_merges][1] = right;
    s->n_merges++;
    return ZOO_GPT2_MERGE_OK;
}

/* ---- pre-tokenization --------------------------------------------------- */

enum { CL_LETTER, CL_NUMBER, CL_SPACE, CL_OTHER };

/* \s of the regex module GPT-2 used is Unicode's White_Space: the Z*
 * categories and, among controls, \t..\r and U+0085 (not U+001C..U+001F,
 * which Python's str.isspace adds). utf8proc has no White_Space property. */
static int class_of(int32_t cp) {
    switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
        return CL_LETTER;
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO:
        return CL_NUMBER;
    case UTF8PROC_CATEGORY_ZS:
    case UTF8PROC_CATEGORY_ZL:
    case UTF8PROC_CATEGORY_ZP:
        return CL_SPACE;
    default:
        return (cp >= 0x09 && cp <= 0x0D) || cp == 0x85 ? CL_SPACE : CL_OTHER;
    }
}

/* The class of the code point at s[i] and its length; -1 for invalid UTF-8.
 * ASCII, most of most texts, is told apart without decoding or a look-up;
 * the answers are class_of's (both were compared with GPT-2's encoder over
 * every code point). */
static inline int class_at(const unsigned char *s, size_t len, size_t i, int *cls) {
    if (s[i] < 0x80) {
        unsigned char c = s[i];
        *cls = (c | 0x20) >= 'a' && (c | 0x20) <= 'z' ? CL_LETTER
               : c >= '0' && c <= '9'                 ? CL_NUMBER
               : c == ' ' || (c >= 0x09 && c <= 0x0D) ? CL_SPACE
                                                      : CL_OTHER;
        return 1;
    }
    utf8proc_int32_t cp;
    utf8proc_ssize_t k =
        utf8proc_iterate(s + i, (utf8proc_ssize_t)(len - i < 4 ? len - i : 4), &cp);
    if (k < 0) return -1;
    *cls = class_of(cp);
    return (int)k;
}

/* The end of the run of class cls starting at i; *bad gets the offset of
 * invalid UTF-8 (and the run ends there). */
static size_t run_end(const unsigned char *s, size_t len, size_t i, int cls, size_t *bad) {
    while (i < len) {
        int c, k = class_at(s, len, i, &c);
        if (k < 0) {
            *bad = i;
            return i;
        }
        if (c != cls) break;
        i += (size_t)k;
    }
    return i;
}

int zoo_gpt2_next_piece(const unsigned char *s, size_t len, size_t i, size_t *end) {
    size_t bad = SIZE_MAX;
    if (s[i] == '\'' && i + 1 < len) { /* 's 't 're 've 'm 'll 'd, lowercase only */
        unsigned char a = s[i + 1], b = i + 2 < len ? s[i + 2] : 0;
        if (a == 's' || a == 't' || a == 'm' || a == 'd') return *end = i + 2, 0;
        if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l'))
            return *end = i + 3, 0;
    }
    int cls, k = class_at(s, len, i, &cls);
    if (k < 0) return zoo_error(ZOO_ERR_FORMAT, "invalid UTF-8 at byte offset %zu", i);
    size_t from = i; /* where the run of letters, digits or others starts */
    if (s[i] == ' ' && i + 1 < len) {
        int next, k2 = class_at(s, len, i + 1, &next);
        if (k2 < 0) return zoo_error(ZOO_ERR_FORMAT, "invalid UTF-8 at byte offset %zu", i + 1);
        if (next != CL_SPACE) cls = next, from = i + 1;
    }
    if (cls != CL_SPACE) {
        *end = run_end(s, len, from, cls, &bad);
    } else {
        /* \s+(?!\S): a run of spaces up to the end of the text, or all but
         * its last character, which then starts the next piece (" ?\p{L}+"
         * takes a last ' '); a single one before text is \s+ on its own */
        size_t last = i, j = i;
        int n = 0;
        while (j < len) {
            int c, kk = class_at(s, len, j, &c);
            if (kk < 0) {
                bad = j;
                break;
            }
            if (c != CL_SPACE) break;
            last = j, j += (size_t)kk, n++;
        }
        *end = j == len || n < 2 || bad != SIZE_MAX ? j : last;
    }
    if (bad != SIZE_MAX && *end == bad)
        return zoo_error(ZOO_ERR_FORMAT, "invalid UTF-8 at byte offset %zu", bad);
    return 0;
}

/* ---- BPE ---------------------------------------------------------------- */

/* A candidate merge of the symbols at pos and its successor. */
typedef struct candidate {
    int32_t rank, pos, left, right, merged;
} candidate;

/* An encode call's scratch: the symbols of the piece being merged as a
 * linked list, the candidates as a heap, and the pieces seen so far with
 * their ids (words repeat: most of a text's pieces are looked up, not merged). */
typedef struct bpe_work {
    const zoo_gpt2_state *s;
    int32_t *id, *next, *prev, *touched;
    size_t cap;
    candidate *heap;
    size_t n_heap, cap_heap;
    struct cache_slot {
        const unsigned char *piece;
        uint32_t len, hash;
        int32_t at, n; /* ids pool[at .. at + n) */
    } * cache;
    size_t cache_mask, cache_used;
    int32_t *pool;
    size_t n_pool, cap_pool;
} bpe_work;

#define CACHE_MAX_ENTRIES (1u << 20) /* then pieces are merged without being kept */

static inline bool cand_before(const candidate *a, const candidate *b) {
    return a->rank != b->rank ? a->rank < b->rank : a->pos < b->pos;
}

static bool heap_push(bpe_work *w, candidate c) {
    if (w->n_heap == w->cap_heap) {
        size_t cap = w->cap_heap ? 2 * w->cap_heap : 64;
        candidate *h = realloc(w->heap, cap * sizeof *h);
        if (!h) return false;
        w->heap = h, w->cap_heap = cap;
    }
    size_t i = w->n_heap++;
    while (i > 0 && cand_before(&c, &w->heap[(i - 1) / 2])) {
        w->heap[i] = w->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    w->heap[i] = c;
    return true;
}

static candidate heap_pop(bpe_work *w) {
    candidate top = w->heap[0], last = w->heap[--w->n_heap];
    size_t i = 0, n = w->n_heap;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && cand_before(&w->heap[c + 1], &w->heap[c])) c++;
        if (!cand_before(&w->heap[c], &last)) break;
        w->heap[i] = w->heap[c];
        i = c;
    }
    if (n) w->heap[i] = last;
    return top;
}

static bool push_pair(bpe_work *w, int32_t pos) {
    int32_t nx = w->next[pos];
    if (nx < 0) return true;
    const merge_slot *m = merge_find(w->s, w->id[pos], w->id[nx]);
    return !m || heap_push(w, (candidate){m->rank, pos, w->id[pos], w->id[nx], m->merged});
}

/* Merges piece[0..n) as GPT-2's bpe() does: the lowest-ranked adjacent pair,
 * every occurrence of it left to right, and again. The heap holds each
 * adjacent pair with a rank; a round takes all candidates of the lowest
 * rank before the pairs they create are offered, as GPT-2 rescans only then.
 * The result is the list from symbol 0. */
static int bpe_merge(bpe_work *w, const unsigned char *piece, size_t n) {
    if (n > w->cap) {
        size_t cap = w->cap ? w->cap : 64;
        while (cap < n) cap *= 2;
        int32_t *buf = malloc(4 * cap * sizeof *buf);
        if (!buf) return zoo_error(ZOO_ERR_NOMEM, "gpt2 tokenizer: out of memory");
        free(w->id);
        w->id = buf, w->next = buf + cap, w->prev = buf + 2 * cap, w->touched = buf + 3 * cap;
        w->cap = cap;
    }
    for (size_t i = 0; i < n; i++) {
        w->id[i] = w->s->byte_id[piece[i]];
        w->next[i] = i + 1 < n ? (int32_t)i + 1 : -1;
        w->prev[i] = (int32_t)i - 1;
    }
    w->n_heap = 0;
    bool ok = true;
    for (size_t i = 0; i + 1 < n && ok; i++) ok = push_pair(w, (int32_t)i);
    while (w->n_heap && ok) {
        int32_t rank = w->heap[0].rank, n_touched = 0;
        while (w->n_heap && w->heap[0].rank == rank) {
            candidate c = heap_pop(w);
            int32_t nx = w->next[c.pos];
            if (w->id[c.pos] != c.left || nx < 0 || w->id[nx] != c.right) continue; /* stale */
            w->id[c.pos] = c.merged;
            w->id[nx] = -1;
            w->next[c.pos] = w->next[nx];
            if (w->next[nx] >= 0) w->prev[w->next[nx]] = c.pos;
            w->touched[n_touched++] = c.pos;
        }
        for (int32_t t = 0; t < n_touched && ok; t++) {
            int32_t pos = w->touched[t];
            if (w->prev[pos] >= 0) ok = push_pair(w, w->prev[pos]);
            if (ok) ok = push_pair(w, pos);
        }
    }
    return ok ? ZOO_OK : zoo_error(ZOO_ERR_NOMEM, "gpt2 tokenizer: out of memory");
}

static uint32_t hash_piece(const unsigned char *p, size_t len) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++) h = (h ^ p[i]) * 16777619u;
    return h;
}

static bool pool_reserve(bpe_work *w, size_t extra) {
    if (w->n_pool + extra <= w->cap_pool) return true;
    size_t cap = w->cap_pool ? 2 * w->cap_pool : 4096;
    while (cap < w->n_pool + extra) cap *= 2;
    int32_t *p = realloc(w->pool, cap * sizeof *p);
    if (!p) return false;
    w->pool = p, w->cap_pool = cap;
    return true;
}

static bool cache_grow(bpe_work *w) {
    size_t n_slots = w->cache ? 2 * (w->cache_mask + 1) : 4096;
    struct cache_slot *slots = calloc(n_slots, sizeof *slots);
    if (!slots) return false;
    for (size_t i = 0; w->cache && i <= w->cache_mask; i++) {
        if (!w->cache[i].piece) continue;
        size_t j = w->cache[i].hash & (n_slots - 1);
        while (slots[j].piece) j = (j + 1) & (n_slots - 1);
        slots[j] = w->cache[i];
    }
    free(w->cache);
    w->cache = slots, w->cache_mask = n_slots - 1;
    return true;
}

/* Appends the ids of one piece. */
static int encode_piece(bpe_work *w, const unsigned char *piece, size_t n, zoo_ids *out) {
    if (n == 1) return zoo_ids_push(out, w->s->byte_id[piece[0]]);
    uint32_t h = hash_piece(piece, n);
    struct cache_slot *slot = NULL;
    if (w->cache) {
        size_t i = h & w->cache_mask;
        for (; w->cache[i].piece; i = (i + 1) & w->cache_mask) {
            struct cache_slot *c = &w->cache[i];
            if (c->hash == h && c->len == n && memcmp(c->piece, piece, n) == 0) {
                int st = zoo_ids_reserve(out, c->n);
                if (st != ZOO_OK) return st;
                memcpy(out->ids + out->count, w->pool + c->at, (size_t)c->n * sizeof(int32_t));
                out->count += c->n;
                return ZOO_OK;
            }
        }
        slot = &w->cache[i];
    }
    int st = bpe_merge(w, piece, n);
    int32_t count = 0;
    for (int32_t i = 0; i >= 0 && st == ZOO_OK; i = w->next[i]) {
        st = zoo_ids_push(out, w->id[i]);
        count++;
    }
    if (st != ZOO_OK || !slot || n > UINT32_MAX || w->cache_used >= CACHE_MAX_ENTRIES ||
        !pool_reserve(w, (size_t)count))
        return st; /* a piece not kept is merged again next time: no error */
    *slot = (struct cache_slot){piece, (uint32_t)n, h, (int32_t)w->n_pool, count};
    memcpy(w->pool + w->n_pool, out->ids + out->count - count, (size_t)count * sizeof(int32_t));
    w->n_pool += (size_t)count;
    if (++w->cache_used * 2 > w->cache_mask + 1 && !cache_grow(w)) {
        slot->piece = NULL; /* keep the table at most half full */
        w->cache_used--;
    }
    return ZOO_OK;
}

static int gpt2_encode(const zoo_tokenizer *t, const char *text, size_t len, zoo_ids *out) {
    bpe_work w = {.s = zoo_tokenizer_state(t)};
    const unsigned char *s = (const unsigned char *)text;
    /* a short text is not worth a cache */
    int st = len > 256 && !cache_grow(&w)
                 ? zoo_error(ZOO_ERR_NOMEM, "gpt2 tokenizer: out of memory")
                 : ZOO_OK;
    for (size_t i = 0, end; i < len && st == ZOO_OK; i = end) {
        if ((st = zoo_gpt2_next_piece(s, len, i, &end)) != ZOO_OK)
            st = zoo_error(st, "gpt2 tokenizer: %s", zoo_error_message());
        else
            st = encode_piece(&w, s + i, end - i, out);
    }
    free(w.id);
    free(w.heap);
    free(w.cache);
    free(w.pool);
    return st;
}

/* ---- the rest of the interface ------------------------------------------ */

/* The length of the valid UTF-8 sequence at s[i], or -(the length of its
 * maximal invalid prefix): Python's errors="replace" puts one U+FFFD for each. */
static int utf8_at(const unsigned char *s, size_t len, size_t i) {
    unsigned char c = s[i];
    if (c < 0x80) return 1;
    int need = c >= 0xC2 && c <= 0xDF   ? 1
               : c >= 0xE0 && c <= 0xEF ? 2
               : c >= 0xF0 && c <= 0xF4 ? 3
                                        : 0;
    if (!need) return -1;
    unsigned char lo = c == 0xE0 ? 0xA0 : c == 0xF0 ? 0x90 : 0x80;
    unsigned char hi = c == 0xED ? 0x9F : c == 0xF4 ? 0x8F : 0xBF;
    for (int k = 1; k <= need; k++) {
        if (i + (size_t)k >= len || s[i + k] < lo || s[i + k] > hi) return -k;
        lo = 0x80, hi = 0xBF;
    }
    return need + 1;
}

static char *gpt2_decode(const zoo_tokenizer *t, const int32_t *ids, int64_t n, size_t *len) {
    const zoo_gpt2_state *s = zoo_tokenizer_state(t);
    size_t total = 0;
    for (int64_t i = 0; i < n; i++) total += s->raw_off[ids[i] + 1] - s->raw_off[ids[i]];
    unsigned char *text = malloc(total + 1);
    if (!text) {
        zoo_error(ZOO_ERR_NOMEM, "gpt2 tokenizer: no memory for %zu bytes of text", total);
        return NULL;
    }
    size_t o = 0;
    for (int64_t i = 0; i < n; i++) {
        size_t k = s->raw_off[ids[i] + 1] - s->raw_off[ids[i]];
        memcpy(text + o, s->raw + s->raw_off[ids[i]], k);
        o += k;
    }
    size_t bad = 0;
    for (size_t i = 0; i < total;) {
        int k = utf8_at(text, total, i);
        bad += k < 0;
        i += (size_t)(k < 0 ? -k : k);
    }
    if (bad) { /* each invalid part (at least 1 byte) becomes the 3 bytes of U+FFFD */
        unsigned char *fixed = malloc(total + 2 * bad + 1);
        if (!fixed) {
            free(text);
            zoo_error(ZOO_ERR_NOMEM, "gpt2 tokenizer: no memory for %zu bytes of text", total);
            return NULL;
        }
        o = 0;
        for (size_t i = 0; i < total;) {
            int k = utf8_at(text, total, i);
            if (k > 0)
                memcpy(fixed + o, text + i, (size_t)k), o += (size_t)k;
            else
                memcpy(fixed + o, "\xEF\xBF\xBD", 3), o += 3;
            i += (size_t)(k < 0 ? -k : k);
        }
        free(text);
        text = fixed;
    }
    text[o] = '\0';
    if (len) *len = o;
    return (char *)text;
}

static int32_t gpt2_vocab_size(const zoo_tokenizer *t) {
    return zoo_vocab_size(((const zoo_gpt2_state *)zoo_tokenizer_state(t))->vocab);
}

static const char *gpt2_token(const zoo_tokenizer *t, int32_t id, size_t *len) {
    return zoo_vocab_token(((const zoo_gpt2_state *)zoo_tokenizer_state(t))->vocab, id, len);
}

static int32_t gpt2_id(const zoo_tokenizer *t, const char *token, size_t len) {
    return zoo_vocab_find(((const zoo_gpt2_state *)zoo_tokenizer_state(t))->vocab, token, len);
}

/* {"vocab": [spellings in id order], "merges": ["LEFT RIGHT" in rank order]} */
static char *gpt2_to_json(const zoo_tokenizer *t) {
    const zoo_gpt2_state *s = zoo_tokenizer_state(t);
    cJSON *m = cJSON_CreateObject();
    cJSON *vocab = m ? cJSON_AddArrayToObject(m, "vocab") : NULL;
    bool ok = vocab != NULL;
    for (int32_t id = 0; ok && id < zoo_vocab_size(s->vocab); id++)
        ok = cJSON_AddItemToArray(vocab, cJSON_CreateString(zoo_vocab_token(s->vocab, id, NULL)));
    cJSON *merges = ok ? cJSON_AddArrayToObject(m, "merges") : NULL;
    ok = merges != NULL;
    char buf[512];
    for (int32_t r = 0; ok && r < s->n_merges; r++) {
        size_t a, b;
        const char *left = zoo_vocab_token(s->vocab, s->merges[r][0], &a);
        const char *right = zoo_vocab_token(s->vocab, s->merges[r][1], &b);
        char *line = a + b + 2 <= sizeof buf ? buf : malloc(a + b + 2);
        if (!line) {
            ok = false;
            break;
        }
        memcpy(line, left, a);
        line[a] = ' ';
        memcpy(line + a + 1, right, b);
        line[a + b + 1] = '\0';
        ok = cJSON_AddItemToArray(merges, cJSON_CreateString(line));
        if (line != buf) free(line);
    }
    char *text = ok ? cJSON_PrintUnformatted(m) : NULL;
    cJSON_Delete(m);
    if (!text) zoo_error(ZOO_ERR_NOMEM, "gpt2 tokenizer: out of memory writing JSON");
    return text;
}

int zoo_tokenizer_save_gpt2(const zoo_tokenizer *t, const char *dir) {
    if (strcmp(zoo_tokenizer_type(t), "gpt2") != 0)
        return zoo_error(ZOO_ERR_ARG,
                         "%s: only a gpt2 tokenizer is written as vocab.json + merges.txt, not %s",
                         dir, zoo_tokenizer_type(t));
    const zoo_gpt2_state *s = zoo_tokenizer_state(t);
    cJSON *vocab = cJSON_CreateObject();
    bool ok = vocab != NULL;
    for (int32_t id = 0; ok && id < zoo_vocab_size(s->vocab); id++)
        ok = cJSON_AddItemToObject(vocab, zoo_vocab_token(s->vocab, id, NULL),
                                   cJSON_CreateNumber(id));
    char *text = ok ? cJSON_PrintUnformatted(vocab) : NULL;
    cJSON_Delete(vocab);
    char *merges = NULL;
    size_t merges_len = 0;
    FILE *f = text ? open_memstream(&merges, &merges_len) : NULL;
    if (f) {
        fputs("#version: 0.2\n", f);
        for (int32_t r = 0; r < s->n_merges; r++)
            fprintf(f, "%s %s\n", zoo_vocab_token(s->vocab, s->merges[r][0], NULL),
                    zoo_vocab_token(s->vocab, s->merges[r][1], NULL));
        fclose(f);
    }
    int st = text && merges
                 ? ZOO_OK
                 : zoo_error(ZOO_ERR_NOMEM, "%s: out of memory writing the tokenizer", dir);
    char path[4096];
    if (!st) {
        snprintf(path, sizeof path, "%s/vocab.json", dir);
        st = zoo_write_file_atomic(path, text, strlen(text));
    }
    if (!st) {
        snprintf(path, sizeof path, "%s/merges.txt", dir);
        st = zoo_write_file_atomic(path, merges, merges_len);
    }
    free(text);
    free(merges);
    return st;
}

static const zoo_tokenizer_ops gpt2_ops = {
    .size = sizeof(zoo_tokenizer_ops),
    .type = "gpt2",
    .encode = gpt2_encode,
    .decode = gpt2_decode,
    .vocab_size = gpt2_vocab_size,
    .token = gpt2_token,
    .id = gpt2_id,
    .to_json = gpt2_to_json,
    .free = gpt2_free,
};

int zoo_gpt2_wrap(zoo_gpt2_state *s, zoo_tokenizer **out) {
    int st = zoo_tokenizer_new(&gpt2_ops, s, out);
    if (st != ZOO_OK) zoo_gpt2_state_free(s);
    return st;
}

/* ---- loading ------------------------------------------------------------ */

/* The merge of "LEFT RIGHT" (line[0..len)); a message naming `where` on failure. */
static int add_merge_line(zoo_gpt2_state *s, const char *line, size_t len, const char *where) {
    const char *space = memchr(line, ' ', len);
    if (!space || space == line || space + 1 == line + len ||
        memchr(space + 1, ' ', (size_t)(line + len - space - 1)))
        return zoo_error(ZOO_ERR_FORMAT,
                         "%s: expected two tokens separated by one space, got \"%.*s\"", where,
                         (int)(len < 80 ? len : 80), line);
    size_t nl = (size_t)(space - line), nr = len - nl - 1;
    int32_t left = zoo_vocab_find(s->vocab, line, nl);
    int32_t right = zoo_vocab_find(s->vocab, space + 1, nr);
    if (left < 0 || right < 0) {
        const char *missing = left < 0 ? line : space + 1;
        size_t n = left < 0 ? nl : nr;
        return zoo_error(ZOO_ERR_FORMAT, "%s: \"%.*s\" is not in the vocabulary", where,
                         (int)(n < 80 ? n : 80), missing);
    }
    switch (zoo_gpt2_add_merge(s, left, right)) {
    case ZOO_GPT2_MERGE_OK:
        return ZOO_OK;
    case ZOO_GPT2_MERGE_NO_RESULT:
        return zoo_error(ZOO_ERR_FORMAT,
                         "%s: the merged token \"%.*s%.*s\" is not in the vocabulary", where,
                         (int)nl, line, (int)nr, space + 1);
    case ZOO_GPT2_MERGE_REPEATED:
        return zoo_error(ZOO_ERR_FORMAT, "%s: the merge \"%.*s\" is listed twice", where,
                         (int)(len < 80 ? len : 80), line);
    case ZOO_GPT2_MERGE_NOMEM:
        return zoo_error(ZOO_ERR_NOMEM, "%s: out of memory", where);
    default:
        return zoo_error(ZOO_ERR_FORMAT, "%s: more merges than expected", where);
    }
}

/* vocab.json / encoder.json: token → id, dense. */
static int read_vocab_file(const char *path, zoo_vocab **out) {
    *out = NULL;
    size_t len;
    char *text = zoo_read_file(path, &len);
    if (!text) return zoo_error(ZOO_ERR_IO, "%s", zoo_error_message());
    if (zoo_json_check_text(path, text, len)) { /* a NUL would cut a token short */
        free(text);
        return ZOO_ERR_FORMAT;
    }
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithOpts(text, &end, true);
    int st = ZOO_OK;
    if (!root)
        st = zoo_error(ZOO_ERR_FORMAT, "%s: not valid JSON (at byte %lld)", path,
                       (long long)(end ? end - text : 0));
    else if (!cJSON_IsObject(root))
        st = zoo_error(ZOO_ERR_FORMAT, "%s: expected a JSON object of token → id", path);
    int32_t n = root ? cJSON_GetArraySize(root) : 0;
    const char **by_id = st == ZOO_OK ? calloc((size_t)n + 1, sizeof *by_id) : NULL;
    if (st == ZOO_OK && !by_id) st = zoo_error(ZOO_ERR_NOMEM, "%s: out of memory", path);
    for (const cJSON *e = root && st == ZOO_OK ? root->child : NULL; e && st == ZOO_OK;
         e = e->next) {
        double v = cJSON_IsNumber(e) ? e->valuedouble : -1;
        if (!(v >= 0 && v < n) || v != (double)(int32_t)v) /* range before the cast */
            st = zoo_error(ZOO_ERR_FORMAT, "%s: \"%s\": expected an id in [0, %d)", path, e->string,
                           (int)n);
        else if (by_id[(int32_t)v])
            st = zoo_error(ZOO_ERR_FORMAT, "%s: \"%s\" and \"%s\" both have the id %d", path,
                           by_id[(int32_t)v], e->string, (int)v);
        else
            by_id[(int32_t)v] = e->string;
    }
    zoo_vocab *v = st == ZOO_OK ? zoo_vocab_new() : NULL;
    if (st == ZOO_OK && !v) st = ZOO_ERR_NOMEM;
    for (int32_t id = 0; id < n && st == ZOO_OK; id++) {
        int32_t got = zoo_vocab_intern(v, by_id[id], strlen(by_id[id]));
        if (got < 0)
            st = ZOO_ERR_NOMEM;
        else if (got != id)
            st = zoo_error(ZOO_ERR_FORMAT, "%s: \"%s\" is listed twice", path, by_id[id]);
    }
    if (st == ZOO_OK && n == 0) st = zoo_error(ZOO_ERR_FORMAT, "%s: the vocabulary is empty", path);
    free(by_id);
    cJSON_Delete(root);
    free(text);
    if (st != ZOO_OK) {
        zoo_vocab_free(v);
        return st;
    }
    *out = v;
    return ZOO_OK;
}

int zoo_tokenizer_load_gpt2_files(const char *vocab_path, const char *merges_path,
                                  zoo_tokenizer **out) {
    *out = NULL;
    if (!vocab_path || !merges_path)
        return zoo_error(ZOO_ERR_ARG, "gpt2 tokenizer: a vocabulary and a merges file are needed");
    zoo_vocab *vocab;
    int st = read_vocab_file(vocab_path, &vocab);
    if (st != ZOO_OK) return st;
    size_t len;
    char *text = zoo_read_file(merges_path, &len);
    if (!text) {
        zoo_vocab_free(vocab);
        return zoo_error(ZOO_ERR_IO, "%s", zoo_error_message());
    }
    if (zoo_json_check_text(merges_path, text, len)) { /* UTF-8 text, as JSON is */
        zoo_vocab_free(vocab);
        free(text);
        return ZOO_ERR_FORMAT;
    }
    int64_t lines = 1;
    for (size_t i = 0; i < len; i++) lines += text[i] == '\n';
    zoo_gpt2_state *s = NULL;
    if (lines >= INT32_MAX) {
        zoo_vocab_free(vocab);
        st = zoo_error(ZOO_ERR_FORMAT, "%s: too many lines", merges_path);
    } else
        st = zoo_gpt2_state_new(vocab, (int32_t)lines, vocab_path, &s);
    size_t at = 0;
    if (st == ZOO_OK && len >= 8 && memcmp(text, "#version", 8) == 0) { /* the header line */
        const char *nl = memchr(text, '\n', len);
        at = nl ? (size_t)(nl - text) + 1 : len;
    }
    for (int64_t line = at ? 2 : 1; at < len && st == ZOO_OK; line++) {
        const char *nl = memchr(text + at, '\n', len - at);
        size_t end = nl ? (size_t)(nl - text) : len, n = end - at;
        if (n && text[at + n - 1] == '\r') n--; /* a file written on Windows */
        if (n == 0) {
            /* blank lines may only end the file */
            size_t k = end;
            while (k < len && (text[k] == '\n' || text[k] == '\r')) k++;
            if (k < len)
                st = zoo_error(ZOO_ERR_FORMAT, "%s: line %lld is empty", merges_path,
                               (long long)line);
            at = k;
            continue;
        }
        char where[4200];
        snprintf(where, sizeof where, "%s: line %lld", merges_path, (long long)line);
        st = add_merge_line(s, text + at, n, where);
        at = end + 1;
    }
    free(text);
    if (st == ZOO_OK)
        st = zoo_gpt2_wrap(s, out);
    else
        zoo_gpt2_state_free(s);
    if (st == ZOO_OK) {
        int32_t eot = zoo_tokenizer_id(*out, ZOO_GPT2_EOT, strlen(ZOO_GPT2_EOT));
        if (eot >= 0) {
            zoo_tokenizer_set_special(*out, ZOO_TOK_BOS, eot);
            zoo_tokenizer_set_special(*out, ZOO_TOK_EOS, eot);
        }
    }
    return st;
}

static bool is_file(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int zoo_tokenizer_load_gpt2(const char *dir, zoo_tokenizer **out) {
    *out = NULL;
    if (!dir) return zoo_error(ZOO_ERR_ARG, "gpt2 tokenizer: no directory");
    static const char *const names[2][2] = {{"vocab.json", "merges.txt"},
                                            {"encoder.json", "vocab.bpe"}};
    char paths[2][2][4200];
    bool there[2][2];
    for (int p = 0; p < 2; p++)
        for (int f = 0; f < 2; f++) {
            snprintf(paths[p][f], sizeof paths[p][f], "%s/%s", dir, names[p][f]);
            there[p][f] = is_file(paths[p][f]);
        }
    for (int p = 0; p < 2; p++)
        if (there[p][0] && there[p][1])
            return zoo_tokenizer_load_gpt2_files(paths[p][0], paths[p][1], out);
    for (int p = 0; p < 2; p++)
        if (there[p][0] != there[p][1])
            return zoo_error(ZOO_ERR_NOTFOUND, "%s: found %s but not %s beside it", dir,
                             names[p][there[p][1]], names[p][there[p][0]]);
    return zoo_error(ZOO_ERR_NOTFOUND,
                     "%s: no GPT-2 tokenizer files (vocab.json and merges.txt, or encoder.json "
                     "and vocab.bpe)",
                     dir);
}

/* ---- JSON --------------------------------------------------------------- */

static int gpt2_from_json(const char *json, zoo_tokenizer **out) {
    *out = NULL;
    cJSON *m = cJSON_Parse(json);
    const cJSON *vocab = NULL, *merges = NULL;
    int st = cJSON_IsObject(m) ? ZOO_OK
                               : zoo_error(ZOO_ERR_FORMAT, "tokenizer JSON: model: not an object");
    for (const cJSON *e = m ? m->child : NULL; e && st == ZOO_OK; e = e->next) {
        if (strcmp(e->string, "vocab") == 0 && cJSON_IsArray(e))
            vocab = e;
        else if (strcmp(e->string, "merges") == 0 && cJSON_IsArray(e))
            merges = e;
        else
            st = zoo_error(ZOO_ERR_FORMAT,
                           "tokenizer JSON: model.%s: unknown key or wrong type (gpt2 knows "
                           "vocab and merges: arrays of strings)",
                           e->string);
    }
    if (st == ZOO_OK && (!vocab || !merges))
        st = zoo_error(ZOO_ERR_FORMAT, "tokenizer JSON: model: gpt2 needs vocab and merges");
    zoo_vocab *v = st == ZOO_OK ? zoo_vocab_new() : NULL;
    if (st == ZOO_OK && !v) st = ZOO_ERR_NOMEM;
    int32_t i = 0;
    for (const cJSON *e = vocab ? vocab->child : NULL; e && st == ZOO_OK; e = e->next, i++) {
        if (!cJSON_IsString(e)) {
            st = zoo_error(ZOO_ERR_FORMAT, "tokenizer JSON: model.vocab[%d]: not a string", (int)i);
            break;
        }
        int32_t id = zoo_vocab_intern(v, e->valuestring, strlen(e->valuestring));
        if (id < 0)
            st = ZOO_ERR_NOMEM;
        else if (id != i)
            st = zoo_error(ZOO_ERR_FORMAT, "tokenizer JSON: model.vocab[%d]: \"%s\" is also at %d",
                           (int)i, e->valuestring, (int)id);
    }
    zoo_gpt2_state *s = NULL;
    if (st == ZOO_OK)
        st = zoo_gpt2_state_new(v, cJSON_GetArraySize(merges), "tokenizer JSON: model.vocab", &s);
    else
        zoo_vocab_free(v);
    i = 0;
    for (const cJSON *e = merges ? merges->child : NULL; e && st == ZOO_OK; e = e->next, i++) {
        char where[64];
        snprintf(where, sizeof where, "tokenizer JSON: model.merges[%d]", (int)i);
        st = cJSON_IsString(e) ? add_merge_line(s, e->valuestring, strlen(e->valuestring), where)
                               : zoo_error(ZOO_ERR_FORMAT, "%s: not a string", where);
    }
    cJSON_Delete(m);
    if (st == ZOO_OK) return zoo_gpt2_wrap(s, out);
    zoo_gpt2_state_free(s);
    return st;
}

/* zoo_tokenizer_load: GPT-2 has no case setting to take from the options. */
static int gpt2_load(const char *dir, const zoo_tokenizer_load_opts *opts, zoo_tokenizer **out) {
    (void)opts;
    return zoo_tokenizer_load_gpt2(dir, out);
}

const zoo_tokenizer_def zoo_tok_gpt2_type = {
    .size = sizeof(zoo_tokenizer_def),
    .name = "gpt2",
    .train = zoo_gpt2_train,
    .from_json = gpt2_from_json,
    .load = gpt2_load,
    .save = zoo_tokenizer_save_gpt2,
};
