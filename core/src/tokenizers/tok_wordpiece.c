/* The "wordpiece" tokenizer: BERT's FullTokenizer (google-research/bert
 * tokenization.py), its vocab.txt, JSON, and BERT's input for a text or a
 * sentence pair. Training lives in tok_wordpiece_train.c. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <utf8proc.h>

#include "tok_wordpiece.h"
#include "zoo/io.h"

/* ---- BERT's character classes ------------------------------------------- */

/* BERT's _is_chinese_char: the CJK Unified Ideographs blocks and their
 * extensions, and the compatibility ideographs. Hangul, kana and CJK
 * punctuation are not among them (BERT tokenizes those as other text). */
static inline bool is_cjk(int32_t cp) {
    return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
           (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0x2A700 && cp <= 0x2B73F) ||
           (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B820 && cp <= 0x2CEAF) ||
           (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

enum { CH_WORD, CH_SPACE, CH_DROP, CH_CJK };

/* _clean_text drops U+0000, U+FFFD and controls (Cc, Cf, but not \t \n \r)
 * and turns white space (\t \n \r ' ' and Zs) into ' '; whitespace_tokenize
 * then splits on what Python's str.split() calls white space, of which only
 * Zl and Zp are left. */
static inline int char_class(int32_t cp) {
    if (cp < 0x80) {
        if (cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r') return CH_SPACE;
        return cp < 0x20 || cp == 0x7F ? CH_DROP : CH_WORD;
    }
    if (cp == 0xFFFD) return CH_DROP;
    switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_CC:
    case UTF8PROC_CATEGORY_CF:
        return CH_DROP;
    case UTF8PROC_CATEGORY_ZS:
    case UTF8PROC_CATEGORY_ZL:
    case UTF8PROC_CATEGORY_ZP:
        return CH_SPACE;
    default:
        return is_cjk(cp) ? CH_CJK : CH_WORD;
    }
}

/* _is_punctuation: all of ASCII's non-alphanumeric printable characters
 * (so $ + < = > ^ ` | ~ too), and every P* character. */
static inline bool is_punct(int32_t cp) {
    if (cp < 0x80)
        return (cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) ||
               (cp >= 123 && cp <= 126);
    utf8proc_category_t c = utf8proc_category(cp);
    return c >= UTF8PROC_CATEGORY_PC && c <= UTF8PROC_CATEGORY_PO;
}

/* ---- lowercasing as Python's str.lower() -------------------------------- */

/* Unicode's Cased: Lu Ll Lt, and the others with a case mapping (Roman
 * numerals, circled letters). The few Other_Lowercase/Other_Uppercase
 * characters with no mapping and not case-ignorable (ª º, the squared and
 * negative enclosed capitals U+1F130..1F189) count as uncased here: utf8proc
 * does not carry those properties. */
static bool is_cased(int32_t cp) {
    utf8proc_category_t c = utf8proc_category(cp);
    return c == UTF8PROC_CATEGORY_LU || c == UTF8PROC_CATEGORY_LL || c == UTF8PROC_CATEGORY_LT ||
           utf8proc_tolower(cp) != cp || utf8proc_toupper(cp) != cp;
}

/* Unicode's Case_Ignorable is Mn Me Cf Lm Sk plus the Word_Break classes
 * MidLetter, MidNumLet and Single_Quote (' . : and a few more). utf8proc has
 * no Word_Break, and zoo carries no hand-made Unicode tables, so those are
 * left out: the only text this changes is a capital sigma followed by such a
 * character and then a letter inside one word ("ΟΣ.Α"), where Python keeps σ
 * and zoo writes ς. */
static bool is_case_ignorable(int32_t cp) {
    switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_ME:
    case UTF8PROC_CATEGORY_CF:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_SK:
        return true;
    default:
        return false;
    }
}

/* Python lowercases a capital sigma to the final form ς when a cased letter
 * precedes it and none follows (case-ignorable characters skipped both ways). */
static int32_t lower_sigma(const int32_t *cps, int32_t n, int32_t i) {
    int32_t j = i - 1;
    while (j >= 0 && is_case_ignorable(cps[j])) j--;
    if (j < 0 || !is_cased(cps[j])) return 0x3C3;
    j = i + 1;
    while (j < n && is_case_ignorable(cps[j])) j++;
    return j < n && is_cased(cps[j]) ? 0x3C3 : 0x3C2;
}

/* ---- the basic tokenizer ------------------------------------------------ */

static bool grow_word(zoo_wp_scan *sc, size_t need) {
    if (need <= sc->cap) return true;
    size_t cap = sc->cap ? sc->cap : 64;
    while (cap < need) cap *= 2;
    int32_t *cps = realloc(sc->cps, cap * sizeof *cps);
    if (cps) sc->cps = cps;
    uint32_t *off = realloc(sc->off, (cap + 1) * sizeof *off);
    if (off) sc->off = off;
    char *bytes = realloc(sc->bytes, 4 * cap);
    if (bytes) sc->bytes = bytes;
    if (!cps || !off || !bytes) return false;
    sc->cap = cap;
    return true;
}

static inline utf8proc_ssize_t next_cp(const unsigned char *s, size_t len, size_t i,
                                       utf8proc_int32_t *cp) {
    if (s[i] < 0x80) {
        *cp = s[i];
        return 1;
    }
    return utf8proc_iterate(s + i, (utf8proc_ssize_t)(len - i < 4 ? len - i : 4), cp);
}

static int bad_utf8(size_t at) {
    return zoo_error(ZOO_ERR_FORMAT, "wordpiece tokenizer: invalid UTF-8 at byte offset %zu", at);
}

static int nomem(void) {
    return zoo_error(ZOO_ERR_NOMEM, "wordpiece tokenizer: out of memory");
}

/* Lowercase, NFD (canonical decomposition, then combining marks in
 * canonical order), drop Mn: BERT's lower() and _run_strip_accents. */
static int normalize(zoo_wp_scan *sc) {
    bool ascii = true;
    for (int32_t i = 0; i < sc->n; i++) {
        int32_t c = sc->cps[i];
        if (c < 0x80) {
            if (c >= 'A' && c <= 'Z') sc->cps[i] = c + 32;
            continue;
        }
        ascii = false;
        /* casedness survives lowercasing, so the sigma test may look back at
         * characters already lowered */
        sc->cps[i] = c == 0x3A3 ? lower_sigma(sc->cps, sc->n, i) : utf8proc_tolower(c);
    }
    if (ascii) return ZOO_OK;                       /* ASCII has no decompositions and no marks */
    if (sc->cap_scratch < 2 * (size_t)sc->n + 16) { /* most decompositions are short */
        int32_t *grown = realloc(sc->scratch, (2 * (size_t)sc->n + 16) * sizeof *grown);
        if (!grown) return nomem();
        sc->scratch = grown, sc->cap_scratch = 2 * (size_t)sc->n + 16;
    }
    size_t w = 0;
    for (int32_t i = 0; i < sc->n; i++) {
        for (;;) {
            utf8proc_int32_t *dst = sc->scratch + w;
            utf8proc_ssize_t room = (utf8proc_ssize_t)(sc->cap_scratch - w);
            int bc = 0;
            utf8proc_ssize_t k =
                utf8proc_decompose_char(sc->cps[i], dst, room, UTF8PROC_DECOMPOSE, &bc);
            if (k < 0)
                return zoo_error(ZOO_ERR_FORMAT, "wordpiece tokenizer: %s",
                                 utf8proc_errmsg(k)); /* the code points came from valid UTF-8 */
            if (k <= room) {
                w += (size_t)k;
                break;
            }
            size_t cap = 2 * sc->cap_scratch;
            while (cap < w + (size_t)k) cap *= 2;
            int32_t *grown = realloc(sc->scratch, cap * sizeof *grown);
            if (!grown) return nomem();
            sc->scratch = grown, sc->cap_scratch = cap;
        }
    }
    /* canonical ordering, as utf8proc_decompose does it */
    int32_t *d = sc->scratch;
    for (size_t p = 0; p + 1 < w;) {
        int c1 = utf8proc_get_property(d[p])->combining_class,
            c2 = utf8proc_get_property(d[p + 1])->combining_class;
        if (c1 > c2 && c2 > 0) {
            int32_t t = d[p];
            d[p] = d[p + 1], d[p + 1] = t;
            p = p > 0 ? p - 1 : p + 1;
        } else {
            p++;
        }
    }
    if (!grow_word(sc, w)) return nomem();
    int32_t n = 0;
    for (size_t p = 0; p < w; p++)
        if (utf8proc_category(d[p]) != UTF8PROC_CATEGORY_MN) sc->cps[n++] = d[p];
    sc->n = n;
    return ZOO_OK;
}

/* The next word's cleaned code points into sc->cps; 0 at the end of the text. */
static int read_word(zoo_wp_scan *sc) {
    utf8proc_int32_t cp;
    utf8proc_ssize_t k = 0;
    int cls = CH_SPACE;
    while (sc->pos < sc->len) {
        if ((k = next_cp(sc->s, sc->len, sc->pos, &cp)) < 0) return bad_utf8(sc->pos);
        cls = char_class(cp);
        if (cls == CH_WORD || cls == CH_CJK) break;
        sc->pos += (size_t)k;
    }
    if (sc->pos == sc->len) return 0;
    sc->word_at = sc->pos;
    sc->n = 0;
    if (!grow_word(sc, 1)) return nomem();
    sc->cps[sc->n++] = cp;
    sc->pos += (size_t)k;
    if (cls == CH_CJK) return 1; /* a word of its own */
    while (sc->pos < sc->len) {
        if ((k = next_cp(sc->s, sc->len, sc->pos, &cp)) < 0) return bad_utf8(sc->pos);
        cls = char_class(cp);
        if (cls == CH_SPACE || cls == CH_CJK) break;
        sc->pos += (size_t)k;
        if (cls == CH_DROP) continue; /* removed without a trace: "a\0b" is "ab" */
        if ((size_t)sc->n == sc->cap && !grow_word(sc, (size_t)sc->n + 1)) return nomem();
        sc->cps[sc->n++] = cp;
    }
    return 1;
}

int zoo_wp_next(zoo_wp_scan *sc, zoo_wp_piece *p) {
    while (sc->next >= sc->n) {
        int r = read_word(sc);
        if (r <= 0) return r;
        if (sc->lowercase && (r = normalize(sc)) != ZOO_OK) return r;
        uint32_t o = 0;
        for (int32_t i = 0; i < sc->n; i++) {
            sc->off[i] = o;
            o += (uint32_t)utf8proc_encode_char(sc->cps[i], (utf8proc_uint8_t *)sc->bytes + o);
        }
        sc->off[sc->n] = o;
        sc->next = 0;
    }
    int32_t i = sc->next, j = i + 1;
    if (!is_punct(sc->cps[i]))
        while (j < sc->n && !is_punct(sc->cps[j])) j++;
    sc->next = j;
    p->text = sc->bytes + sc->off[i];
    p->len = sc->off[j] - sc->off[i];
    p->off = sc->off + i;
    p->n_chars = j - i;
    p->at = sc->word_at;
    return 1;
}

void zoo_wp_scan_free(zoo_wp_scan *sc) {
    free(sc->cps);
    free(sc->off);
    free(sc->bytes);
    free(sc->scratch);
    sc->cps = sc->scratch = NULL, sc->off = NULL, sc->bytes = NULL;
    sc->cap = sc->cap_scratch = 0;
}

/* ---- the state ---------------------------------------------------------- */

typedef struct wp_state {
    zoo_vocab *vocab;
    bool lowercase;
    int32_t max_chars; /* a longer piece is [UNK] */
    size_t max_len;    /* the longest token, in bytes: no longer look-up can succeed */
} wp_state;

static void wp_free(void *p) {
    wp_state *s = p;
    if (!s) return;
    zoo_vocab_free(s->vocab);
    free(s);
}

/* ---- encoding ----------------------------------------------------------- */

/* BERT's WordpieceTokenizer on one piece: the longest token that starts it,
 * then the longest "##" token that continues it, and so on; a piece with a
 * rest that no token starts, or longer than max_chars, is [UNK] as a whole.
 * key has room for p->len + 2 bytes. */
static int wordpiece(const zoo_tokenizer *t, const wp_state *s, const zoo_wp_piece *p, char *key,
                     zoo_ids *out) {
    int64_t before = out->count;
    if (p->n_chars <= s->max_chars) {
        /* key = "##" + text; the look-up for a piece starting at byte a
         * writes "##" over the two bytes before it, which are done with */
        memcpy(key + 2, p->text, p->len);
        uint32_t base = p->off[0];
        int32_t i = 0;
        while (i < p->n_chars) {
            size_t a = p->off[i] - base, extra = i ? 2 : 0;
            if (i) key[a] = key[a + 1] = '#';
            const char *k = i ? key + a : p->text;
            int32_t id = -1, j = p->n_chars;
            for (; j > i; j--) {
                size_t n = p->off[j] - base - a + extra;
                if (n <= s->max_len && (id = zoo_vocab_find(s->vocab, k, n)) >= 0) break;
            }
            if (id < 0) break;
            int st = zoo_ids_push(out, id);
            if (st != ZOO_OK) return st;
            i = j;
        }
        if (i == p->n_chars) return ZOO_OK;
    }
    out->count = before;
    int32_t unk = zoo_tokenizer_special(t, ZOO_TOK_UNK);
    if (unk < 0)
        return zoo_error(ZOO_ERR_NOTFOUND,
                         "wordpiece tokenizer: '%.*s' in the word at byte offset %zu has no "
                         "tokens, and there is no [UNK]",
                         (int)(p->len < 64 ? p->len : 64), p->text, p->at);
    return zoo_ids_push(out, unk);
}

static int wp_encode(const zoo_tokenizer *t, const char *text, size_t len, zoo_ids *out) {
    const wp_state *s = zoo_tokenizer_state(t);
    zoo_wp_scan sc = {.s = (const unsigned char *)text, .len = len, .lowercase = s->lowercase};
    char stack[512], *key = stack;
    size_t cap_key = sizeof stack;
    zoo_wp_piece p;
    int r;
    while ((r = zoo_wp_next(&sc, &p)) > 0) {
        if (p.len + 2 > cap_key) {
            char *grown = malloc(p.len + 2);
            if (!grown) {
                r = nomem();
                break;
            }
            if (key != stack) free(key);
            key = grown, cap_key = p.len + 2;
        }
        if ((r = wordpiece(t, s, &p, key, out)) != ZOO_OK) break;
    }
    if (key != stack) free(key);
    zoo_wp_scan_free(&sc);
    return r < 0 ? r : ZOO_OK;
}

/* Python's str.isspace, for strip(). */
static bool py_space(int32_t cp) {
    const utf8proc_property_t *p = utf8proc_get_property(cp);
    return p->category == UTF8PROC_CATEGORY_ZS || p->bidi_class == UTF8PROC_BIDI_CLASS_WS ||
           p->bidi_class == UTF8PROC_BIDI_CLASS_B || p->bidi_class == UTF8PROC_BIDI_CLASS_S;
}

/* HuggingFace's convert_tokens_to_string: " ".join(tokens).replace(" ##", "").strip() */
static char *wp_decode(const zoo_tokenizer *t, const int32_t *ids, int64_t n, size_t *len) {
    const wp_state *s = zoo_tokenizer_state(t);
    size_t total = n > 0 ? (size_t)n - 1 : 0, k;
    for (int64_t i = 0; i < n; i++) {
        zoo_vocab_token(s->vocab, ids[i], &k);
        total += k;
    }
    char *text = malloc(total + 1);
    if (!text) {
        zoo_error(ZOO_ERR_NOMEM, "wordpiece tokenizer: no memory for %zu bytes of text", total);
        return NULL;
    }
    size_t o = 0;
    for (int64_t i = 0; i < n; i++) {
        const char *tok = zoo_vocab_token(s->vocab, ids[i], &k);
        if (i > 0) text[o++] = ' ';
        memcpy(text + o, tok, k);
        o += k;
    }
    size_t w = 0; /* every " ##" out, left to right, as str.replace */
    for (size_t r = 0; r < o;) {
        if (r + 3 <= o && text[r] == ' ' && text[r + 1] == '#' && text[r + 2] == '#')
            r += 3;
        else
            text[w++] = text[r++];
    }
    size_t from = 0, to = w;
    while (from < to) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t m = utf8proc_iterate((const utf8proc_uint8_t *)text + from,
                                              (utf8proc_ssize_t)(to - from), &cp);
        if (m < 0 || !py_space(cp)) break;
        from += (size_t)m;
    }
    while (to > from) {
        size_t b = to - 1;
        while (b > from && ((unsigned char)text[b] & 0xC0) == 0x80) b--;
        utf8proc_int32_t cp;
        utf8proc_ssize_t m =
            utf8proc_iterate((const utf8proc_uint8_t *)text + b, (utf8proc_ssize_t)(to - b), &cp);
        if (m != (utf8proc_ssize_t)(to - b) || !py_space(cp)) break;
        to = b;
    }
    memmove(text, text + from, to - from);
    text[to - from] = '\0';
    if (len) *len = to - from;
    return text;
}

static int32_t wp_vocab_size(const zoo_tokenizer *t) {
    return zoo_vocab_size(((const wp_state *)zoo_tokenizer_state(t))->vocab);
}

static const char *wp_token(const zoo_tokenizer *t, int32_t id, size_t *len) {
    return zoo_vocab_token(((const wp_state *)zoo_tokenizer_state(t))->vocab, id, len);
}

static int32_t wp_id(const zoo_tokenizer *t, const char *token, size_t len) {
    return zoo_vocab_find(((const wp_state *)zoo_tokenizer_state(t))->vocab, token, len);
}

/* {"lowercase": bool, "max_chars": 100, "vocab": [tokens in id order]} */
static char *wp_to_json(const zoo_tokenizer *t) {
    const wp_state *s = zoo_tokenizer_state(t);
    cJSON *m = cJSON_CreateObject();
    bool ok = m && cJSON_AddBoolToObject(m, "lowercase", s->lowercase) &&
              cJSON_AddNumberToObject(m, "max_chars", s->max_chars);
    cJSON *vocab = ok ? cJSON_AddArrayToObject(m, "vocab") : NULL;
    ok = vocab != NULL;
    for (int32_t id = 0; ok && id < zoo_vocab_size(s->vocab); id++)
        ok = cJSON_AddItemToArray(vocab, cJSON_CreateString(zoo_vocab_token(s->vocab, id, NULL)));
    char *text = ok ? cJSON_PrintUnformatted(m) : NULL;
    cJSON_Delete(m);
    if (!text) zoo_error(ZOO_ERR_NOMEM, "wordpiece tokenizer: out of memory writing JSON");
    return text;
}

static const zoo_tokenizer_ops wp_ops = {
    .size = sizeof(zoo_tokenizer_ops),
    .type = "wordpiece",
    .encode = wp_encode,
    .decode = wp_decode,
    .vocab_size = wp_vocab_size,
    .token = wp_token,
    .id = wp_id,
    .to_json = wp_to_json,
    .free = wp_free,
};

int zoo_wp_build(zoo_vocab *vocab, bool lowercase, int32_t max_chars, zoo_tokenizer **out) {
    *out = NULL;
    wp_state *s = calloc(1, sizeof *s);
    if (!s) {
        zoo_vocab_free(vocab);
        return nomem();
    }
    s->vocab = vocab;
    s->lowercase = lowercase;
    s->max_chars = max_chars;
    for (int32_t id = 0; id < zoo_vocab_size(vocab); id++) {
        size_t len;
        zoo_vocab_token(vocab, id, &len);
        if (len > s->max_len) s->max_len = len;
    }
    int st = zoo_tokenizer_new(&wp_ops, s, out);
    if (st != ZOO_OK) wp_free(s);
    return st;
}

/* ---- vocab.txt ---------------------------------------------------------- */

/* dir/name into out; ZOO_ERR_ARG when it does not fit. */
static int join_path(char *out, size_t size, const char *dir, const char *name) {
    int n = snprintf(out, size, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= size)
        return zoo_error(ZOO_ERR_ARG, "%.200s...: the path is too long", dir);
    return ZOO_OK;
}

static bool is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool is_file(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* One token a line, the id its line number from 0; a last newline ends the
 * last line, and a "\r" before a newline belongs to the newline. */
static int read_vocab_txt(const char *path, zoo_vocab **out) {
    *out = NULL;
    size_t len;
    char *text = zoo_read_file(path, &len);
    if (!text) return zoo_error(ZOO_ERR_IO, "%s", zoo_error_message());
    zoo_vocab *v = zoo_vocab_new();
    int st = v ? ZOO_OK : ZOO_ERR_NOMEM;
    int64_t line = 1;
    for (size_t at = 0; at < len && st == ZOO_OK; line++) {
        const char *nl = memchr(text + at, '\n', len - at);
        size_t end = nl ? (size_t)(nl - text) : len, n = end - at;
        if (n && text[at + n - 1] == '\r') n--;
        const char *tok = text + at;
        at = end + 1;
        if (memchr(tok, '\0', n)) {
            st = zoo_error(ZOO_ERR_FORMAT, "%s: line %lld holds a NUL byte", path, (long long)line);
        } else if (utf8proc_decompose((const utf8proc_uint8_t *)tok, (utf8proc_ssize_t)n, NULL, 0,
                                      0) < 0) {
            st = zoo_error(ZOO_ERR_FORMAT, "%s: line %lld is not valid UTF-8", path,
                           (long long)line);
        } else {
            int32_t before = zoo_vocab_size(v), id = zoo_vocab_intern(v, tok, n);
            if (id < 0)
                st = ZOO_ERR_NOMEM;
            else if (id != before)
                st = zoo_error(ZOO_ERR_FORMAT, "%s: line %lld: \"%.*s\" is also line %d", path,
                               (long long)line, (int)(n < 64 ? n : 64), tok, (int)id + 1);
        }
    }
    if (st == ZOO_OK && zoo_vocab_size(v) == 0)
        st = zoo_error(ZOO_ERR_FORMAT, "%s: the vocabulary is empty", path);
    free(text);
    if (st != ZOO_OK) {
        zoo_vocab_free(v);
        return st;
    }
    *out = v;
    return ZOO_OK;
}

/* tokenizer_config.json's do_lower_case beside the vocabulary: 1, 0, or -1
 * when there is no such file or key. */
static int config_lowercase(const char *dir, int *out) {
    char path[4200];
    *out = -1;
    int st = join_path(path, sizeof path, dir, "tokenizer_config.json");
    if (st != ZOO_OK) return st;
    if (!is_file(path)) return ZOO_OK;
    char *text = zoo_read_file(path, NULL);
    if (!text) return zoo_error(ZOO_ERR_IO, "%s", zoo_error_message());
    cJSON *root = cJSON_Parse(text);
    free(text);
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return zoo_error(ZOO_ERR_FORMAT, "%s: not a JSON object", path);
    }
    const cJSON *lower = cJSON_GetObjectItemCaseSensitive(root, "do_lower_case");
    if (cJSON_IsBool(lower))
        *out = cJSON_IsTrue(lower);
    else if (lower && !cJSON_IsNull(lower))
        st = zoo_error(ZOO_ERR_FORMAT, "%s: do_lower_case: expected true or false", path);
    cJSON_Delete(root);
    return st;
}

/* An uncased vocabulary (bert-base-uncased's) has no letter that
 * lowercases to another outside its bracketed specials ("ℝ" has no
 * lowercase); a cased one has "The". */
static bool vocab_is_uncased(const zoo_vocab *v) {
    for (int32_t id = 0; id < zoo_vocab_size(v); id++) {
        size_t len;
        const char *tok = zoo_vocab_token(v, id, &len);
        if (len >= 2 && tok[0] == '[' && tok[len - 1] == ']') continue;
        for (size_t i = 0; i < len;) {
            utf8proc_int32_t cp;
            utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)tok + i,
                                                  (utf8proc_ssize_t)(len - i), &cp);
            if (k <= 0) break;
            if (utf8proc_tolower(cp) != cp) return false;
            i += (size_t)k;
        }
    }
    return true;
}

int zoo_tokenizer_load_wordpiece(const char *dir_or_vocab_txt, int lowercase, zoo_tokenizer **out) {
    *out = NULL;
    const char *path = dir_or_vocab_txt;
    if (!path) return zoo_error(ZOO_ERR_ARG, "wordpiece tokenizer: no vocabulary path");
    char file[4200], dir[4200];
    int st = ZOO_OK;
    if (strlen(path) >= sizeof dir) {
        return zoo_error(ZOO_ERR_ARG, "%.200s...: the path is too long", path);
    } else if (is_dir(path)) {
        strcpy(dir, path);
        if ((st = join_path(file, sizeof file, path, "vocab.txt")) != ZOO_OK) return st;
        if (!is_file(file))
            return zoo_error(ZOO_ERR_NOTFOUND, "%s: no vocab.txt (a WordPiece vocabulary)", path);
    } else if (is_file(path)) {
        strcpy(file, path);
        strcpy(dir, path);
        char *slash = strrchr(dir, '/');
        if (slash)
            *slash = '\0';
        else
            strcpy(dir, ".");
    } else {
        return zoo_error(ZOO_ERR_NOTFOUND, "%s: no such file or directory", path);
    }
    if (lowercase < 0) st = config_lowercase(dir, &lowercase);
    zoo_vocab *v = NULL;
    if (st == ZOO_OK) st = read_vocab_txt(file, &v);
    if (st != ZOO_OK) return st;
    if (lowercase < 0) lowercase = vocab_is_uncased(v);
    int32_t unk = zoo_vocab_find(v, "[UNK]", 5);
    if (unk < 0) {
        zoo_vocab_free(v);
        return zoo_error(ZOO_ERR_FORMAT,
                         "%s: no [UNK] token (WordPiece needs one for the words it cannot split)",
                         file);
    }
    st = zoo_wp_build(v, lowercase != 0, ZOO_WP_MAX_CHARS, out);
    static const zoo_special roles[] = {ZOO_TOK_UNK, ZOO_TOK_PAD, ZOO_TOK_CLS, ZOO_TOK_SEP,
                                        ZOO_TOK_MASK};
    for (size_t i = 0; i < sizeof roles / sizeof roles[0] && st == ZOO_OK; i++) {
        const char *name = zoo_special_token(roles[i]);
        int32_t id = zoo_tokenizer_id(*out, name, strlen(name));
        if (id >= 0) st = zoo_tokenizer_set_special(*out, roles[i], id);
    }
    if (st != ZOO_OK) {
        zoo_tokenizer_free(*out);
        *out = NULL;
    }
    return st;
}

int zoo_tokenizer_save_wordpiece(const zoo_tokenizer *t, const char *dir) {
    if (strcmp(zoo_tokenizer_type(t), "wordpiece") != 0)
        return zoo_error(ZOO_ERR_ARG,
                         "%s: only a wordpiece tokenizer is written as vocab.txt, not %s", dir,
                         zoo_tokenizer_type(t));
    const wp_state *s = zoo_tokenizer_state(t);
    size_t total = 0, len;
    for (int32_t id = 0; id < zoo_vocab_size(s->vocab); id++) {
        const char *tok = zoo_vocab_token(s->vocab, id, &len);
        if (memchr(tok, '\n', len) || (len && tok[len - 1] == '\r'))
            return zoo_error(ZOO_ERR_ARG,
                             "%s: token %d holds a line break, which vocab.txt cannot carry", dir,
                             (int)id);
        total += len + 1;
    }
    char *text = malloc(total + 1);
    if (!text) return zoo_error(ZOO_ERR_NOMEM, "%s: out of memory writing vocab.txt", dir);
    size_t o = 0;
    for (int32_t id = 0; id < zoo_vocab_size(s->vocab); id++) {
        const char *tok = zoo_vocab_token(s->vocab, id, &len);
        memcpy(text + o, tok, len);
        o += len;
        text[o++] = '\n';
    }
    char path[4200];
    int st = join_path(path, sizeof path, dir, "vocab.txt");
    if (st == ZOO_OK) st = zoo_write_file_atomic(path, text, o);
    free(text);
    if (st == ZOO_OK) {
        char config[128];
        int n = snprintf(config, sizeof config,
                         "{\"do_lower_case\": %s, \"tokenizer_class\": \"BertTokenizer\"}\n",
                         s->lowercase ? "true" : "false");
        st = join_path(path, sizeof path, dir, "tokenizer_config.json");
        if (st == ZOO_OK) st = zoo_write_file_atomic(path, config, (size_t)n);
    }
    return st;
}

/* ---- BERT's input ------------------------------------------------------- */

int zoo_tokenizer_encode_pair(const zoo_tokenizer *t, const char *a, size_t a_len, const char *b,
                              size_t b_len, const zoo_pair_settings *settings, zoo_ids *ids,
                              zoo_ids *types, zoo_ids *mask) {
    zoo_pair_settings set = ZOO_PAIR_SETTINGS_INIT;
    if (settings) {
        if (settings->size < sizeof settings->size || settings->size > sizeof set)
            return zoo_error(ZOO_ERR_ARG,
                             "pair settings: size is %zu; set it to sizeof(zoo_pair_settings) (%zu "
                             "in this libzoo)",
                             settings->size, sizeof set);
        memcpy(&set, settings, settings->size);
    }
    int32_t cls = zoo_tokenizer_special(t, ZOO_TOK_CLS),
            sep = zoo_tokenizer_special(t, ZOO_TOK_SEP),
            pad = zoo_tokenizer_special(t, ZOO_TOK_PAD);
    bool pair = b != NULL;
    int64_t n_special = pair ? 3 : 2;
    if (cls < 0 || sep < 0)
        return zoo_error(ZOO_ERR_ARG, "tokenizer '%s': BERT's input needs [CLS] and [SEP] tokens",
                         zoo_tokenizer_type(t));
    if (set.max_len < 0 || (set.max_len > 0 && set.max_len < n_special))
        return zoo_error(ZOO_ERR_ARG,
                         "pair settings: max_len %lld leaves no room beside the %lld special "
                         "tokens",
                         (long long)set.max_len, (long long)n_special);
    if (set.pad && (set.max_len == 0 || pad < 0))
        return zoo_error(ZOO_ERR_ARG, set.max_len == 0
                                          ? "pair settings: padding needs a max_len"
                                          : "pair settings: padding needs a [PAD] token");
    if (!a && a_len > 0) return zoo_error(ZOO_ERR_ARG, "tokenizer: text is NULL");
    zoo_ids ta = {0}, tb = {0};
    int (*encode)(const zoo_tokenizer *, const char *, size_t, zoo_ids *) =
        set.special ? zoo_tokenizer_encode_special : zoo_tokenizer_encode;
    int st = encode(t, a ? a : "", a_len, &ta);
    if (st == ZOO_OK && pair) st = encode(t, b, b_len, &tb);
    int64_t na = ta.count, nb = tb.count;
    if (set.max_len > 0) /* BERT's _truncate_seq_pair: the longer loses its last token, ties B */
        while (na + nb + n_special > set.max_len) {
            if (na > nb)
                na--;
            else
                nb--;
        }
    int64_t total = na + nb + n_special, padded = set.pad ? set.max_len : total;
    if (st == ZOO_OK) st = zoo_ids_reserve(ids, padded);
    if (st == ZOO_OK && types) st = zoo_ids_reserve(types, padded);
    if (st == ZOO_OK && mask) st = zoo_ids_reserve(mask, padded);
    if (st == ZOO_OK) {
        int32_t *o = ids->ids + ids->count;
        int64_t k = 0;
        o[k++] = cls;
        for (int64_t i = 0; i < na; i++) o[k++] = ta.ids[i];
        o[k++] = sep;
        for (int64_t i = 0; i < nb; i++) o[k++] = tb.ids[i];
        if (pair) o[k++] = sep;
        while (k < padded) o[k++] = pad;
        if (types) {
            int32_t *y = types->ids + types->count;
            for (int64_t i = 0; i < padded; i++) y[i] = i >= na + 2 && i < total;
            types->count += padded;
        }
        if (mask) {
            int32_t *y = mask->ids + mask->count;
            for (int64_t i = 0; i < padded; i++) y[i] = i < total;
            mask->count += padded;
        }
        ids->count += padded;
    }
    zoo_ids_free(&ta);
    zoo_ids_free(&tb);
    return st;
}

/* ---- JSON --------------------------------------------------------------- */

static int wp_from_json(const char *json, zoo_tokenizer **out) {
    *out = NULL;
    cJSON *m = cJSON_Parse(json);
    const cJSON *lowercase = NULL, *max_chars = NULL, *vocab = NULL;
    int st = cJSON_IsObject(m) ? ZOO_OK
                               : zoo_error(ZOO_ERR_FORMAT, "tokenizer JSON: model: not an object");
    for (const cJSON *e = m ? m->child : NULL; e && st == ZOO_OK; e = e->next) {
        if (strcmp(e->string, "lowercase") == 0 && cJSON_IsBool(e))
            lowercase = e;
        else if (strcmp(e->string, "max_chars") == 0 && cJSON_IsNumber(e))
            max_chars = e;
        else if (strcmp(e->string, "vocab") == 0 && cJSON_IsArray(e))
            vocab = e;
        else
            st = zoo_error(ZOO_ERR_FORMAT,
                           "tokenizer JSON: model.%s: unknown key or wrong type (wordpiece knows "
                           "lowercase: bool, max_chars: number, vocab: array of strings)",
                           e->string);
    }
    if (st == ZOO_OK && (!lowercase || !max_chars || !vocab))
        st = zoo_error(ZOO_ERR_FORMAT,
                       "tokenizer JSON: model: wordpiece needs lowercase, max_chars and vocab");
    if (st == ZOO_OK && (!(max_chars->valuedouble >= 1 && max_chars->valuedouble <= INT32_MAX) ||
                         max_chars->valuedouble != (double)(int32_t)max_chars->valuedouble))
        st = zoo_error(ZOO_ERR_FORMAT, "tokenizer JSON: model.max_chars: expected a count >= 1");
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
    if (st == ZOO_OK && zoo_vocab_size(v) == 0)
        st = zoo_error(ZOO_ERR_FORMAT, "tokenizer JSON: model.vocab: empty");
    if (st == ZOO_OK)
        st = zoo_wp_build(v, cJSON_IsTrue(lowercase), (int32_t)max_chars->valuedouble, out);
    else
        zoo_vocab_free(v);
    cJSON_Delete(m);
    return st;
}

static int wp_load(const char *path, const zoo_tokenizer_load_opts *opts, zoo_tokenizer **out) {
    return zoo_tokenizer_load_wordpiece(path, opts->lowercase, out);
}

const zoo_tokenizer_def zoo_tok_wordpiece_type = {
    .size = sizeof(zoo_tokenizer_def),
    .name = "wordpiece",
    .train = zoo_wp_train,
    .from_json = wp_from_json,
    .load = wp_load,
    .save = zoo_tokenizer_save_wordpiece,
};
