/* The "word" tokenizer: whitespace-separated words, optionally with each
 * punctuation or symbol character split off, optionally lowercased. */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "tok_registry.h"
#include "zoo/tokenizer_type.h"

typedef struct word_state {
    zoo_vocab *vocab;
    int64_t *counts; /* per id; NULL when unknown */
    bool lowercase;
    zoo_tok_split split;
} word_state;

/* Walks a text word by word. The lowercased spelling goes to buf, which
 * grows to the longest word seen and is reused: no allocation per word. */
typedef struct scanner {
    const unsigned char *s;
    size_t len, pos;
    bool lowercase, punct;
    char *buf;
    size_t cap;
} scanner;

typedef struct word {
    const char *raw, *text; /* text: the lowercased spelling, or raw */
    size_t raw_len, len, offset;
    bool changed; /* lowercasing changed it */
} word;

static inline utf8proc_ssize_t next_cp(const unsigned char *s, size_t len, size_t i,
                                       utf8proc_int32_t *cp) {
    if (s[i] < 0x80) {
        *cp = s[i];
        return 1;
    }
    return utf8proc_iterate(s + i, (utf8proc_ssize_t)(len - i < 4 ? len - i : 4), cp);
}

/* Python's str.isspace (category Zs or bidirectional class WS, B or S), and
 * U+0000, so that every token is a C string (JSON cannot carry U+0000). */
static bool is_space(utf8proc_int32_t cp) {
    if (cp == 0) return true;
    const utf8proc_property_t *p = utf8proc_get_property(cp);
    return p->category == UTF8PROC_CATEGORY_ZS || p->bidi_class == UTF8PROC_BIDI_CLASS_WS ||
           p->bidi_class == UTF8PROC_BIDI_CLASS_B || p->bidi_class == UTF8PROC_BIDI_CLASS_S;
}

/* Punctuation (P*) and symbols (S*): the categories are contiguous, Pc..So. */
static bool is_punct(utf8proc_int32_t cp) {
    utf8proc_category_t c = utf8proc_category(cp);
    return c >= UTF8PROC_CATEGORY_PC && c <= UTF8PROC_CATEGORY_SO;
}

static int bad_utf8(size_t at) {
    return zoo_error(ZOO_ERR_FORMAT, "word tokenizer: invalid UTF-8 at byte offset %zu", at);
}

static int lower_into(scanner *sc, word *w) {
    /* An ASCII code point lowercases to ASCII, any other to at most 4 bytes */
    size_t need = w->raw_len * 2 + 4;
    if (need > sc->cap) {
        char *buf = realloc(sc->buf, need);
        if (!buf) return zoo_error(ZOO_ERR_NOMEM, "word tokenizer: out of memory");
        sc->buf = buf;
        sc->cap = need;
    }
    const unsigned char *r = (const unsigned char *)w->raw;
    size_t o = 0;
    w->changed = false;
    for (size_t i = 0; i < w->raw_len;) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t k = next_cp(r, w->raw_len, i, &cp); /* checked by the scan */
        utf8proc_int32_t lo = utf8proc_tolower(cp);
        w->changed |= lo != cp;
        o += (size_t)utf8proc_encode_char(lo, (utf8proc_uint8_t *)sc->buf + o);
        i += (size_t)k;
    }
    w->text = sc->buf;
    w->len = o;
    return ZOO_OK;
}

/* 1 with the next word in w, 0 at the end of the text, or a negative status. */
static int next_word(scanner *sc, word *w) {
    utf8proc_int32_t cp;
    utf8proc_ssize_t k = 0;
    while (sc->pos < sc->len) {
        if ((k = next_cp(sc->s, sc->len, sc->pos, &cp)) < 0) return bad_utf8(sc->pos);
        if (!is_space(cp)) break;
        sc->pos += (size_t)k;
    }
    if (sc->pos == sc->len) return 0;
    size_t start = sc->pos;
    sc->pos += (size_t)k;
    if (!(sc->punct && is_punct(cp)))
        while (sc->pos < sc->len) {
            if ((k = next_cp(sc->s, sc->len, sc->pos, &cp)) < 0) return bad_utf8(sc->pos);
            if (is_space(cp) || (sc->punct && is_punct(cp))) break;
            sc->pos += (size_t)k;
        }
    w->raw = w->text = (const char *)sc->s + start;
    w->raw_len = w->len = sc->pos - start;
    w->offset = start;
    w->changed = false;
    return sc->lowercase ? (lower_into(sc, w) == ZOO_OK ? 1 : ZOO_ERR_NOMEM) : 1;
}

/* The id of w in v: a special token's own spelling wins over lowercasing
 * ("[UNK]" stays [UNK]); -1 when neither is there. `special` tells the
 * special ids apart. */
static int32_t word_id(const zoo_vocab *v, const word *w, bool (*special)(const void *, int32_t),
                       const void *ctx) {
    if (w->changed) {
        int32_t raw = zoo_vocab_find(v, w->raw, w->raw_len);
        if (raw >= 0 && special(ctx, raw)) return raw;
    }
    return zoo_vocab_find(v, w->text, w->len);
}

static bool special_of_tokenizer(const void *t, int32_t id) {
    return zoo_tokenizer_is_special(t, id);
}

/* Encodes text; with spans, each word's raw bytes as well. */
static int word_encode_into(const zoo_tokenizer *t, const char *text, size_t len, zoo_ids *out,
                            zoo_spans *spans) {
    const word_state *s = zoo_tokenizer_state(t);
    int32_t unk = zoo_tokenizer_special(t, ZOO_TOK_UNK);
    scanner sc = {.s = (const unsigned char *)text,
                  .len = len,
                  .lowercase = s->lowercase,
                  .punct = s->split == ZOO_SPLIT_PUNCTUATION};
    word w;
    int r;
    while ((r = next_word(&sc, &w)) > 0) {
        int32_t id = word_id(s->vocab, &w, special_of_tokenizer, t);
        if (id < 0 && (id = unk) < 0) {
            r = zoo_error(ZOO_ERR_NOTFOUND,
                          "word tokenizer: '%.*s' at byte offset %zu is not in the vocabulary, "
                          "and there is no [UNK]",
                          (int)(w.raw_len < 64 ? w.raw_len : 64), w.raw, w.offset);
            break;
        }
        if ((r = zoo_ids_push(out, id)) != ZOO_OK) break;
        if (spans && (r = zoo_spans_push(spans, (int64_t)w.offset,
                                         (int64_t)(w.offset + w.raw_len))) != ZOO_OK)
            break;
    }
    free(sc.buf);
    return r;
}

static int word_encode(const zoo_tokenizer *t, const char *text, size_t len, zoo_ids *out) {
    return word_encode_into(t, text, len, out, NULL);
}

static int word_encode_spans(const zoo_tokenizer *t, const char *text, size_t len, zoo_ids *out,
                             zoo_spans *spans) {
    return word_encode_into(t, text, len, out, spans);
}

static char *word_decode(const zoo_tokenizer *t, const int32_t *ids, int64_t n, size_t *len) {
    const word_state *s = zoo_tokenizer_state(t);
    size_t total = n > 0 ? (size_t)n - 1 : 0, k;
    for (int64_t i = 0; i < n; i++) {
        zoo_vocab_token(s->vocab, ids[i], &k);
        total += k;
    }
    char *text = malloc(total + 1), *o = text;
    if (!text) {
        zoo_error(ZOO_ERR_NOMEM, "word tokenizer: no memory for %zu bytes of text", total);
        return NULL;
    }
    for (int64_t i = 0; i < n; i++) {
        const char *tok = zoo_vocab_token(s->vocab, ids[i], &k);
        if (i > 0) *o++ = ' ';
        memcpy(o, tok, k);
        o += k;
    }
    *o = '\0';
    if (len) *len = total;
    return text;
}

static int32_t word_vocab_size(const zoo_tokenizer *t) {
    return zoo_vocab_size(((const word_state *)zoo_tokenizer_state(t))->vocab);
}

static const char *word_token(const zoo_tokenizer *t, int32_t id, size_t *len) {
    return zoo_vocab_token(((const word_state *)zoo_tokenizer_state(t))->vocab, id, len);
}

static int32_t word_tok_id(const zoo_tokenizer *t, const char *token, size_t len) {
    return zoo_vocab_find(((const word_state *)zoo_tokenizer_state(t))->vocab, token, len);
}

static int64_t word_count(const zoo_tokenizer *t, int32_t id) {
    const word_state *s = zoo_tokenizer_state(t);
    return s->counts ? s->counts[id] : -1;
}

static const char *const split_names[] = {"whitespace", "punctuation"};

static char *word_to_json(const zoo_tokenizer *t) {
    const word_state *s = zoo_tokenizer_state(t);
    int32_t n = zoo_vocab_size(s->vocab);
    cJSON *m = cJSON_CreateObject();
    bool ok = m && cJSON_AddBoolToObject(m, "lowercase", s->lowercase) &&
              cJSON_AddStringToObject(m, "split", split_names[s->split]);
    cJSON *tokens = ok ? cJSON_AddArrayToObject(m, "tokens") : NULL;
    for (int32_t i = 0; tokens && i < n && ok; i++)
        ok = cJSON_AddItemToArray(tokens, cJSON_CreateString(zoo_vocab_token(s->vocab, i, NULL)));
    cJSON *counts = ok && tokens && s->counts ? cJSON_AddArrayToObject(m, "counts") : NULL;
    for (int32_t i = 0; counts && i < n && ok; i++)
        ok = cJSON_AddItemToArray(counts, cJSON_CreateNumber((double)s->counts[i]));
    char *text = ok && tokens && (counts || !s->counts) ? cJSON_PrintUnformatted(m) : NULL;
    cJSON_Delete(m);
    if (!text) zoo_error(ZOO_ERR_NOMEM, "word tokenizer: out of memory writing JSON");
    return text;
}

static void word_free(void *p) {
    word_state *s = p;
    if (!s) return;
    zoo_vocab_free(s->vocab);
    free(s->counts);
    free(s);
}

static const zoo_tokenizer_ops word_ops = {
    .size = sizeof(zoo_tokenizer_ops),
    .type = "word",
    .encode = word_encode,
    .decode = word_decode,
    .vocab_size = word_vocab_size,
    .token = word_token,
    .id = word_tok_id,
    .to_json = word_to_json,
    .free = word_free,
    .count = word_count,
    .encode_spans = word_encode_spans,
};

/* ---- training: counts, then the vocabulary ---------------------------- */

struct zoo_word_counts {
    zoo_tokenizer_settings set; /* complete; set.specials points at roles */
    zoo_special roles[ZOO_TOK_N_SPECIAL];
    int32_t n_special;  /* the listed specials, then [UNK] when not among them */
    zoo_vocab *special; /* their strings, at ids 0 .. n_special - 1 */
    int64_t special_counts[ZOO_TOK_N_SPECIAL];
    zoo_vocab *words; /* every distinct word seen, as spelled after lowercasing */
    int64_t *counts;  /* per word */
    int32_t cap;
};

static bool below(const void *n_special, int32_t id) {
    return id < *(const int32_t *)n_special;
}

int zoo_word_counts_new(const zoo_tokenizer_settings *settings, zoo_word_counts **out) {
    *out = NULL;
    zoo_word_counts *k = calloc(1, sizeof *k);
    if (!k) return zoo_error(ZOO_ERR_NOMEM, "word tokenizer: out of memory");
    int st = zoo_tok_complete_settings(settings, &k->set);
    bool has_unk = false;
    for (int i = 0; st == ZOO_OK && i < k->set.n_specials; i++) {
        k->roles[k->n_special++] = k->set.specials[i];
        has_unk |= k->set.specials[i] == ZOO_TOK_UNK;
    }
    if (st == ZOO_OK && !has_unk) k->roles[k->n_special++] = ZOO_TOK_UNK; /* always one */
    k->set.specials = k->roles, k->set.n_specials = k->n_special;
    if (st == ZOO_OK && k->set.max_size > 0 && k->set.max_size <= k->n_special)
        st = zoo_error(ZOO_ERR_ARG,
                       "word tokenizer: max_size %d leaves no room beside the %d special tokens",
                       (int)k->set.max_size, (int)k->n_special);
    if (st == ZOO_OK && (!(k->special = zoo_vocab_new()) || !(k->words = zoo_vocab_new())))
        st = zoo_error(ZOO_ERR_NOMEM, "word tokenizer: out of memory");
    for (int32_t i = 0; i < k->n_special && st == ZOO_OK; i++) {
        const char *tok = zoo_special_token(k->roles[i]);
        if (zoo_vocab_intern(k->special, tok, strlen(tok)) < 0)
            st = zoo_error(ZOO_ERR_NOMEM, "word tokenizer: out of memory");
    }
    if (st != ZOO_OK) {
        zoo_word_counts_free(k);
        return st;
    }
    *out = k;
    return ZOO_OK;
}

void zoo_word_counts_free(zoo_word_counts *k) {
    if (!k) return;
    zoo_vocab_free(k->special);
    zoo_vocab_free(k->words);
    free(k->counts);
    free(k);
}

/* Adds n to the count of word s[0, len). */
static int count_word(zoo_word_counts *k, const char *s, size_t len, int64_t n) {
    int32_t id = zoo_vocab_intern(k->words, s, len);
    if (id < 0) return zoo_error(ZOO_ERR_NOMEM, "word tokenizer: out of memory");
    if (id == k->cap) {
        int32_t cap = k->cap ? k->cap * 2 : 4096;
        int64_t *grown = realloc(k->counts, (size_t)cap * sizeof *grown);
        if (!grown) return zoo_error(ZOO_ERR_NOMEM, "word tokenizer: out of memory");
        memset(grown + k->cap, 0, (size_t)(cap - k->cap) * sizeof *grown);
        k->counts = grown;
        k->cap = cap;
    }
    k->counts[id] += n;
    return ZOO_OK;
}

/* A word spelled as a special (before lowercasing, as encoding looks it
 * up) counts for the special. */
int zoo_word_counts_add_text(zoo_word_counts *k, const char *text, size_t len) {
    scanner sc = {.s = (const unsigned char *)text,
                  .len = len,
                  .lowercase = k->set.lowercase,
                  .punct = k->set.split == ZOO_SPLIT_PUNCTUATION};
    word w;
    int r;
    while ((r = next_word(&sc, &w)) > 0) {
        int32_t id = word_id(k->special, &w, below, &k->n_special);
        r = id >= 0 ? (k->special_counts[id]++, ZOO_OK) : count_word(k, w.text, w.len, 1);
        if (r != ZOO_OK) break;
    }
    free(sc.buf);
    return r < 0 ? r : ZOO_OK;
}

size_t zoo_word_counts_cut(const char *text, size_t len, size_t at) {
    if (at == 0) return 0;
    /* each of these is white space to the scanner, and a word never holds one */
    while (at < len && !strchr(" \t\n\v\f\r", text[at] ? text[at] : 'x')) at++;
    return at < len ? at : len;
}

/* Packed: "ZWC1", lowercase, split and n_special (one byte each), the
 * specials' roles (a byte each) and counts (int64 each), the number of
 * words (int64), then per word its count (int64), its length (uint32) and
 * its bytes; integers in this machine's byte order (the processes of one
 * job run the same build). */
#define PACK_MAGIC "ZWC1"

int zoo_word_counts_pack(const zoo_word_counts *k, void **bytes, size_t *n) {
    int32_t words = zoo_vocab_size(k->words);
    size_t total = 4 + 3 + (size_t)k->n_special * 9 + 8;
    for (int32_t i = 0; i < words; i++) {
        size_t len;
        zoo_vocab_token(k->words, i, &len);
        total += 12 + len;
    }
    unsigned char *b = malloc(total), *o = b;
    if (!b) return zoo_error(ZOO_ERR_NOMEM, "word tokenizer: out of memory for %zu bytes", total);
    memcpy(o, PACK_MAGIC, 4), o += 4;
    *o++ = k->set.lowercase, *o++ = (unsigned char)k->set.split, *o++ = (unsigned char)k->n_special;
    for (int32_t i = 0; i < k->n_special; i++) *o++ = (unsigned char)k->roles[i];
    memcpy(o, k->special_counts, (size_t)k->n_special * 8), o += (size_t)k->n_special * 8;
    int64_t n_words = words;
    memcpy(o, &n_words, 8), o += 8;
    for (int32_t i = 0; i < words; i++) {
        size_t len;
        const char *s = zoo_vocab_token(k->words, i, &len);
        uint32_t len32 = (uint32_t)len;
        memcpy(o, &k->counts[i], 8), o += 8;
        memcpy(o, &len32, 4), o += 4;
        memcpy(o, s, len), o += len;
    }
    *bytes = b, *n = total;
    return ZOO_OK;
}

/* The packed words of bytes, checked (each seen once) and, with k, added. */
static int merge_words(zoo_word_counts *k, const unsigned char *p, const unsigned char *end,
                       int64_t n_words) {
    for (int64_t i = 0; i < n_words; i++) {
        int64_t count;
        uint32_t len;
        if (end - p < 12)
            return zoo_error(ZOO_ERR_FORMAT, "word counts: truncated at word %lld", (long long)i);
        memcpy(&count, p, 8), memcpy(&len, p + 8, 4), p += 12;
        if (count < 0 || len == 0 || (size_t)(end - p) < len)
            return zoo_error(ZOO_ERR_FORMAT, "word counts: word %lld: count %lld, %u bytes",
                             (long long)i, (long long)count, (unsigned)len);
        int st = k ? count_word(k, (const char *)p, len, count) : ZOO_OK;
        if (st) return st;
        p += len;
    }
    return p == end ? ZOO_OK
                    : zoo_error(ZOO_ERR_FORMAT, "word counts: %zu bytes past the last word",
                                (size_t)(end - p));
}

int zoo_word_counts_merge(zoo_word_counts *k, const void *bytes, size_t n) {
    const unsigned char *p = bytes, *end = p + n;
    if (n < 7 || memcmp(p, PACK_MAGIC, 4) != 0)
        return zoo_error(ZOO_ERR_FORMAT, "word counts: not packed word counts");
    int n_special = p[6];
    if (p[4] != k->set.lowercase || p[5] != (unsigned char)k->set.split ||
        n_special != k->n_special)
        return zoo_error(ZOO_ERR_ARG, "word counts: counted with other settings (lowercase, split "
                                      "or specials differ)");
    p += 7;
    if ((size_t)(end - p) < (size_t)n_special * 9 + 8)
        return zoo_error(ZOO_ERR_FORMAT, "word counts: truncated");
    for (int i = 0; i < n_special; i++)
        if (p[i] != (unsigned char)k->roles[i])
            return zoo_error(ZOO_ERR_ARG, "word counts: counted with other special tokens");
    p += n_special;
    int64_t special_counts[ZOO_TOK_N_SPECIAL], n_words;
    memcpy(special_counts, p, (size_t)n_special * 8), p += (size_t)n_special * 8;
    memcpy(&n_words, p, 8), p += 8;
    for (int i = 0; i < n_special; i++)
        if (special_counts[i] < 0)
            return zoo_error(ZOO_ERR_FORMAT, "word counts: a negative count");
    if (n_words < 0 || n_words > (end - p) / 12)
        return zoo_error(ZOO_ERR_FORMAT, "word counts: %lld words in %zu bytes", (long long)n_words,
                         (size_t)(end - p));
    /* checked whole before anything is added: k stays as it was on failure
     * (but for running out of memory half way) */
    int st = merge_words(NULL, p, end, n_words);
    if (!st) st = merge_words(k, p, end, n_words);
    for (int i = 0; !st && i < n_special; i++) k->special_counts[i] += special_counts[i];
    return st;
}

typedef struct entry {
    int64_t count;
    const char *s;
    size_t len;
} entry;

/* Descending count, then byte order: a total order on distinct words, so
 * the vocabulary depends on the counts alone, not on the order they came in. */
static int cmp_entry(const void *a, const void *b) {
    const entry *x = a, *y = b;
    if (x->count != y->count) return x->count > y->count ? -1 : 1;
    int c = memcmp(x->s, y->s, x->len < y->len ? x->len : y->len);
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

int zoo_word_counts_tokenizer(const zoo_word_counts *k, zoo_tokenizer **out) {
    *out = NULL;
    const zoo_tokenizer_settings *set = &k->set;
    int32_t n_special = k->n_special, n_words = zoo_vocab_size(k->words);
    if (n_words == 0) return zoo_error(ZOO_ERR_ARG, "word tokenizer: the corpus has no words");
    word_state *s = calloc(1, sizeof *s);
    entry *entries = malloc((size_t)n_words * sizeof *entries);
    int st = s && entries && (s->vocab = zoo_vocab_new())
                 ? ZOO_OK
                 : zoo_error(ZOO_ERR_NOMEM, "word tokenizer: out of memory");
    for (int32_t i = 0; i < n_special && st == ZOO_OK; i++) {
        const char *tok = zoo_special_token(k->roles[i]);
        if (zoo_vocab_intern(s->vocab, tok, strlen(tok)) < 0) st = ZOO_ERR_NOMEM;
    }
    int32_t keep = 0;
    int64_t cut = 0;
    if (st == ZOO_OK) {
        s->lowercase = set->lowercase;
        s->split = set->split;
        for (int32_t i = 0; i < n_words; i++) {
            entries[i].count = k->counts[i];
            entries[i].s = zoo_vocab_token(k->words, i, &entries[i].len);
        }
        qsort(entries, (size_t)n_words, sizeof *entries, cmp_entry);
        int32_t room = set->max_size > 0 ? set->max_size - n_special : n_words;
        while (keep < n_words && keep < room && entries[keep].count >= set->min_count) keep++;
        for (int32_t i = keep; i < n_words; i++) cut += entries[i].count;
        if (keep == 0)
            st = zoo_error(ZOO_ERR_ARG, "word tokenizer: min_count %lld leaves no words",
                           (long long)set->min_count);
    }
    if (st == ZOO_OK && !(s->counts = malloc((size_t)(n_special + keep) * sizeof *s->counts)))
        st = zoo_error(ZOO_ERR_NOMEM, "word tokenizer: out of memory");
    for (int32_t i = 0; i < keep && st == ZOO_OK; i++) {
        if (zoo_vocab_intern(s->vocab, entries[i].s, entries[i].len) < 0)
            st = ZOO_ERR_NOMEM;
        else
            s->counts[n_special + i] = entries[i].count;
    }
    for (int32_t i = 0; i < n_special && st == ZOO_OK; i++)
        s->counts[i] = k->special_counts[i] + (k->roles[i] == ZOO_TOK_UNK ? cut : 0);
    free(entries);
    if (st == ZOO_OK) st = zoo_tokenizer_new(&word_ops, s, out);
    if (st != ZOO_OK) {
        word_free(s);
        return st;
    }
    for (int32_t i = 0; i < n_special && st == ZOO_OK; i++)
        st = zoo_tokenizer_set_special(*out, k->roles[i], i);
    if (st != ZOO_OK) {
        zoo_tokenizer_free(*out);
        *out = NULL;
    }
    return st;
}

static int word_train(const zoo_tokenizer_settings *set, const zoo_corpus *c, zoo_tokenizer **out) {
    zoo_word_counts *k = NULL;
    int st = zoo_word_counts_new(set, &k);
    for (int f = 0; st == ZOO_OK && f < zoo_corpus_count(c); f++) {
        size_t len;
        const char *text = zoo_corpus_file(c, f, &len);
        st = zoo_word_counts_add_text(k, text, len);
        if (st == ZOO_ERR_FORMAT) /* a corpus is valid UTF-8; this is a guard, not a policy */
            st = zoo_error(ZOO_ERR_FORMAT, "%s: %s", zoo_corpus_path(c, f), zoo_error_message());
    }
    if (st == ZOO_OK) st = zoo_word_counts_tokenizer(k, out);
    zoo_word_counts_free(k);
    return st;
}

/* ---- JSON --------------------------------------------------------------- */

static int word_from_json(const char *json, zoo_tokenizer **out) {
    cJSON *m = cJSON_Parse(json);
    const cJSON *lowercase = NULL, *split = NULL, *tokens = NULL, *counts = NULL;
    int st = cJSON_IsObject(m) ? ZOO_OK
                               : zoo_error(ZOO_ERR_FORMAT, "tokenizer JSON: model: not an object");
    for (const cJSON *e = m ? m->child : NULL; e && st == ZOO_OK; e = e->next) {
        if (strcmp(e->string, "lowercase") == 0 && cJSON_IsBool(e))
            lowercase = e;
        else if (strcmp(e->string, "split") == 0 && cJSON_IsString(e))
            split = e;
        else if (strcmp(e->string, "tokens") == 0 && cJSON_IsArray(e))
            tokens = e;
        else if (strcmp(e->string, "counts") == 0 && cJSON_IsArray(e))
            counts = e;
        else
            st = zoo_error(ZOO_ERR_FORMAT,
                           "tokenizer JSON: model.%s: unknown key or wrong type (word knows "
                           "lowercase: bool, split: string, tokens, counts: arrays)",
                           e->string);
    }
    if (st == ZOO_OK && (!lowercase || !split || !tokens))
        st = zoo_error(ZOO_ERR_FORMAT,
                       "tokenizer JSON: model: word needs lowercase, split and tokens");
    word_state *s = st == ZOO_OK ? calloc(1, sizeof *s) : NULL;
    if (st == ZOO_OK && (!s || !(s->vocab = zoo_vocab_new())))
        st = zoo_error(ZOO_ERR_NOMEM, "word tokenizer: out of memory");
    if (st == ZOO_OK) {
        s->lowercase = cJSON_IsTrue(lowercase);
        if (strcmp(split->valuestring, "whitespace") == 0)
            s->split = ZOO_SPLIT_WHITESPACE;
        else if (strcmp(split->valuestring, "punctuation") == 0)
            s->split = ZOO_SPLIT_PUNCTUATION;
        else
            st = zoo_error(ZOO_ERR_FORMAT,
                           "tokenizer JSON: model.split: expected whitespace or punctuation, got "
                           "'%s'",
                           split->valuestring);
    }
    int32_t i = 0;
    for (const cJSON *e = tokens ? tokens->child : NULL; e && st == ZOO_OK; e = e->next, i++) {
        if (!cJSON_IsString(e) || !e->valuestring[0]) {
            st = zoo_error(ZOO_ERR_FORMAT, "tokenizer JSON: model.tokens[%d]: not a token", (int)i);
            break;
        }
        int32_t id = zoo_vocab_intern(s->vocab, e->valuestring, strlen(e->valuestring));
        if (id < 0)
            st = ZOO_ERR_NOMEM;
        else if (id != i)
            st = zoo_error(ZOO_ERR_FORMAT,
                           "tokenizer JSON: model.tokens[%d]: '%s' is already token %d", (int)i,
                           e->valuestring, (int)id);
    }
    if (st == ZOO_OK && i == 0)
        st = zoo_error(ZOO_ERR_FORMAT, "tokenizer JSON: model.tokens: empty");
    if (st == ZOO_OK && counts) {
        if (cJSON_GetArraySize(counts) != i)
            st = zoo_error(ZOO_ERR_FORMAT, "tokenizer JSON: model.counts: %d entries for %d tokens",
                           cJSON_GetArraySize(counts), (int)i);
        else if (!(s->counts = malloc(((size_t)i + 1) * sizeof *s->counts)))
            st = zoo_error(ZOO_ERR_NOMEM, "word tokenizer: out of memory");
        int32_t j = 0;
        for (const cJSON *e = counts->child; e && st == ZOO_OK; e = e->next, j++) {
            double v = cJSON_IsNumber(e) ? e->valuedouble : -1;
            if (!(v >= 0 && v <= 9007199254740992.0) || v != (double)(int64_t)v) /* range first */
                st = zoo_error(ZOO_ERR_FORMAT, "tokenizer JSON: model.counts[%d]: not a count",
                               (int)j);
            else
                s->counts[j] = (int64_t)v;
        }
    }
    cJSON_Delete(m);
    if (st == ZOO_OK) st = zoo_tokenizer_new(&word_ops, s, out);
    if (st != ZOO_OK) word_free(s);
    return st;
}

const zoo_tokenizer_def zoo_tok_word_type = {
    .size = sizeof(zoo_tokenizer_def),
    .name = "word",
    .train = word_train,
    .from_json = word_from_json,
};
