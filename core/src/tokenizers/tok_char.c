/* The "char" tokenizer: one token per Unicode code point. */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "zoo/tokenizer_type.h"

#define N_CODE_POINTS 0x110000

typedef struct char_state {
    zoo_vocab *vocab; /* every token's string: the specials, then one per code point */
    int32_t n_special;
    int32_t *cps; /* sorted; cps[i] has id n_special + i */
    int32_t n_cps;
    int64_t *counts; /* per id; NULL when unknown */
    bool lowercase;
    int32_t ascii[128]; /* the id of each ASCII code point, -1 when none */
} char_state;

static void char_free(void *p) {
    char_state *s = p;
    if (!s) return;
    zoo_vocab_free(s->vocab);
    free(s->cps);
    free(s->counts);
    free(s);
}

static int32_t id_of_cp(const char_state *s, int32_t cp) {
    if (cp < 128) return s->ascii[cp];
    int32_t lo = 0, hi = s->n_cps;
    while (lo < hi) {
        int32_t mid = lo + (hi - lo) / 2;
        if (s->cps[mid] < cp)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < s->n_cps && s->cps[lo] == cp ? s->n_special + lo : -1;
}

/* The code point at s[i] and its length, or a negative length when invalid. */
static inline utf8proc_ssize_t next_cp(const unsigned char *s, size_t len, size_t i,
                                       utf8proc_int32_t *cp) {
    if (s[i] < 0x80) {
        *cp = s[i];
        return 1;
    }
    return utf8proc_iterate(s + i, (utf8proc_ssize_t)(len - i < 4 ? len - i : 4), cp);
}

/* Encodes text; with spans, each code point's bytes as well. */
static int char_encode_into(const zoo_tokenizer *t, const char *text, size_t len, zoo_ids *out,
                            zoo_spans *spans) {
    const char_state *s = zoo_tokenizer_state(t);
    const unsigned char *u = (const unsigned char *)text;
    int32_t unk = zoo_tokenizer_special(t, ZOO_TOK_UNK);
    int st = zoo_ids_reserve(out, (int64_t)len); /* never more tokens than bytes */
    if (st == ZOO_OK && spans) st = zoo_spans_reserve(spans, (int64_t)len);
    if (st != ZOO_OK) return st;
    zoo_span *sp = spans ? spans->spans + spans->count : NULL;
    int32_t *ids = out->ids + out->count;
    for (size_t i = 0; i < len;) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t k = next_cp(u, len, i, &cp);
        if (k < 0)
            return zoo_error(ZOO_ERR_FORMAT, "char tokenizer: invalid UTF-8 at byte offset %zu", i);
        if (s->lowercase) cp = utf8proc_tolower(cp);
        int32_t id = id_of_cp(s, cp);
        if (id < 0) id = unk;
        if (id < 0)
            return zoo_error(ZOO_ERR_NOTFOUND,
                             "char tokenizer: U+%04X '%.*s' at byte offset %zu is not in the "
                             "vocabulary, and there is no [UNK]",
                             (unsigned)cp, (int)k, text + i, i);
        *ids++ = id;
        if (sp) *sp++ = (zoo_span){(int64_t)i, (int64_t)(i + (size_t)k)};
        i += (size_t)k;
    }
    out->count = ids - out->ids;
    if (sp) spans->count = sp - spans->spans;
    return ZOO_OK;
}

static int char_encode(const zoo_tokenizer *t, const char *text, size_t len, zoo_ids *out) {
    return char_encode_into(t, text, len, out, NULL);
}

static int char_encode_spans(const zoo_tokenizer *t, const char *text, size_t len, zoo_ids *out,
                             zoo_spans *spans) {
    return char_encode_into(t, text, len, out, spans);
}

static char *char_decode(const zoo_tokenizer *t, const int32_t *ids, int64_t n, size_t *len) {
    const char_state *s = zoo_tokenizer_state(t);
    size_t total = 0, k;
    for (int64_t i = 0; i < n; i++) {
        zoo_vocab_token(s->vocab, ids[i], &k);
        total += k;
    }
    char *text = malloc(total + 1), *o = text;
    if (!text) {
        zoo_error(ZOO_ERR_NOMEM, "char tokenizer: no memory for %zu bytes of text", total);
        return NULL;
    }
    for (int64_t i = 0; i < n; i++) {
        const char *tok = zoo_vocab_token(s->vocab, ids[i], &k);
        memcpy(o, tok, k);
        o += k;
    }
    *o = '\0';
    if (len) *len = total;
    return text;
}

static int32_t char_vocab_size(const zoo_tokenizer *t) {
    return zoo_vocab_size(((const char_state *)zoo_tokenizer_state(t))->vocab);
}

static const char *char_token(const zoo_tokenizer *t, int32_t id, size_t *len) {
    return zoo_vocab_token(((const char_state *)zoo_tokenizer_state(t))->vocab, id, len);
}

static int32_t char_id(const zoo_tokenizer *t, const char *token, size_t len) {
    return zoo_vocab_find(((const char_state *)zoo_tokenizer_state(t))->vocab, token, len);
}

static int64_t char_count(const zoo_tokenizer *t, int32_t id) {
    const char_state *s = zoo_tokenizer_state(t);
    return s->counts ? s->counts[id] : -1;
}

static char *char_to_json(const zoo_tokenizer *t) {
    const char_state *s = zoo_tokenizer_state(t);
    cJSON *m = cJSON_CreateObject();
    bool ok = m && cJSON_AddBoolToObject(m, "lowercase", s->lowercase);
    cJSON *specials = ok ? cJSON_AddArrayToObject(m, "specials") : NULL;
    for (int32_t i = 0; specials && i < s->n_special && ok; i++)
        ok = cJSON_AddItemToArray(specials, cJSON_CreateString(zoo_vocab_token(s->vocab, i, NULL)));
    /* code points as numbers: JSON text (and cJSON) cannot carry U+0000 in a string */
    cJSON *cps = ok && specials ? cJSON_AddArrayToObject(m, "code_points") : NULL;
    for (int32_t i = 0; cps && i < s->n_cps && ok; i++)
        ok = cJSON_AddItemToArray(cps, cJSON_CreateNumber(s->cps[i]));
    cJSON *counts = ok && cps && s->counts ? cJSON_AddArrayToObject(m, "counts") : NULL;
    for (int32_t i = 0; counts && i < s->n_special + s->n_cps && ok; i++)
        ok = cJSON_AddItemToArray(counts, cJSON_CreateNumber((double)s->counts[i]));
    char *text = ok && cps && (counts || !s->counts) ? cJSON_PrintUnformatted(m) : NULL;
    cJSON_Delete(m);
    if (!text) zoo_error(ZOO_ERR_NOMEM, "char tokenizer: out of memory writing JSON");
    return text;
}

static const zoo_tokenizer_ops char_ops = {
    .size = sizeof(zoo_tokenizer_ops),
    .type = "char",
    .encode = char_encode,
    .decode = char_decode,
    .vocab_size = char_vocab_size,
    .token = char_token,
    .id = char_id,
    .to_json = char_to_json,
    .free = char_free,
    .count = char_count,
    .encode_spans = char_encode_spans,
};

/* A tokenizer over the given special strings and sorted code points; takes
 * cps and counts (either way). */
static int char_build(bool lowercase, const char *const *specials, int32_t n_special, int32_t *cps,
                      int32_t n_cps, int64_t *counts, zoo_tokenizer **out) {
    char_state *s = calloc(1, sizeof *s);
    if (!s) {
        free(cps);
        free(counts);
        return zoo_error(ZOO_ERR_NOMEM, "char tokenizer: out of memory");
    }
    s->lowercase = lowercase;
    s->n_special = n_special;
    s->cps = cps;
    s->n_cps = n_cps;
    s->counts = counts;
    for (int c = 0; c < 128; c++) s->ascii[c] = -1;
    int st = (s->vocab = zoo_vocab_new()) ? ZOO_OK : ZOO_ERR_NOMEM;
    for (int32_t i = 0; i < n_special && st == ZOO_OK; i++) {
        int32_t id = zoo_vocab_intern(s->vocab, specials[i], strlen(specials[i]));
        if (id < 0) st = ZOO_ERR_NOMEM;
        if (id >= 0 && id != i)
            st = zoo_error(ZOO_ERR_FORMAT, "char tokenizer: special token '%s' is listed twice",
                           specials[i]);
    }
    for (int32_t i = 0; i < n_cps && st == ZOO_OK; i++) {
        utf8proc_uint8_t buf[4];
        utf8proc_ssize_t k = utf8proc_encode_char(cps[i], buf);
        int32_t id = zoo_vocab_intern(s->vocab, (const char *)buf, (size_t)k);
        if (id < 0) st = ZOO_ERR_NOMEM;
        if (id >= 0 && id != n_special + i)
            st = zoo_error(ZOO_ERR_FORMAT,
                           "char tokenizer: special token '%s' is also the character U+%04X",
                           zoo_vocab_token(s->vocab, id, NULL), (unsigned)cps[i]);
        if (cps[i] < 128) s->ascii[cps[i]] = n_special + i;
    }
    if (st == ZOO_OK) st = zoo_tokenizer_new(&char_ops, s, out);
    if (st != ZOO_OK) char_free(s);
    return st;
}

static int cmp_count_desc(const void *a, const void *b, void *counts_) {
    const int64_t *counts = counts_;
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    if (counts[x] != counts[y]) return counts[x] > counts[y] ? -1 : 1;
    return (x > y) - (x < y);
}

static int cmp_cp(const void *a, const void *b) {
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

static int char_train(const zoo_tokenizer_settings *set, const zoo_corpus *c, zoo_tokenizer **out) {
    if (set->split != ZOO_SPLIT_WHITESPACE)
        return zoo_error(ZOO_ERR_ARG, "char tokenizer: 'split' applies to the word tokenizer only");
    const char *specials[ZOO_TOK_N_SPECIAL];
    zoo_special roles[ZOO_TOK_N_SPECIAL];
    int32_t n_special = 0;
    bool has_unk = false;
    for (int i = 0; i < set->n_specials; i++) {
        roles[n_special] = set->specials[i];
        specials[n_special++] = zoo_special_token(set->specials[i]);
        has_unk |= set->specials[i] == ZOO_TOK_UNK;
    }
    if (!has_unk && (set->min_count > 1 || set->max_size > 0)) { /* a cut needs somewhere to go */
        roles[n_special] = ZOO_TOK_UNK;
        specials[n_special++] = zoo_special_token(ZOO_TOK_UNK);
    }
    if (set->max_size > 0 && set->max_size <= n_special)
        return zoo_error(ZOO_ERR_ARG,
                         "char tokenizer: max_size %d leaves no room beside the %d special tokens",
                         (int)set->max_size, (int)n_special);

    /* Counting into a table over all code points: calloc hands out untouched
     * zero pages, so only the pages of the scripts present cost memory. */
    int64_t *cp_counts = calloc(N_CODE_POINTS, sizeof *cp_counts);
    if (!cp_counts) return zoo_error(ZOO_ERR_NOMEM, "char tokenizer: out of memory");
    for (int f = 0; f < zoo_corpus_count(c); f++) {
        size_t len;
        const unsigned char *u = (const unsigned char *)zoo_corpus_file(c, f, &len);
        for (size_t i = 0; i < len;) {
            utf8proc_int32_t cp;
            utf8proc_ssize_t k = next_cp(u, len, i, &cp);
            if (k < 0) { /* a corpus is valid UTF-8; this is a guard, not a policy */
                free(cp_counts);
                return zoo_error(ZOO_ERR_FORMAT, "%s: invalid UTF-8 at byte offset %zu",
                                 zoo_corpus_path(c, f), i);
            }
            cp_counts[set->lowercase ? utf8proc_tolower(cp) : cp]++;
            i += (size_t)k;
        }
    }
    int32_t n_seen = 0;
    for (int32_t cp = 0; cp < N_CODE_POINTS; cp++) n_seen += cp_counts[cp] > 0;
    int32_t *cps = malloc(((size_t)n_seen + 1) * sizeof *cps);
    int64_t *counts = NULL;
    if (!cps) {
        free(cp_counts);
        return zoo_error(ZOO_ERR_NOMEM, "char tokenizer: out of memory");
    }
    int32_t n_cps = 0;
    int64_t cut = 0;
    for (int32_t cp = 0; cp < N_CODE_POINTS; cp++)
        if (cp_counts[cp] >= set->min_count)
            cps[n_cps++] = cp;
        else
            cut += cp_counts[cp];
    if (set->max_size > 0 && n_cps > set->max_size - n_special) {
        /* keep the most frequent, ties to the lower code point, then back in code point order */
        qsort_r(cps, (size_t)n_cps, sizeof *cps, cmp_count_desc, cp_counts);
        int32_t keep = set->max_size - n_special;
        for (int32_t i = keep; i < n_cps; i++) cut += cp_counts[cps[i]];
        n_cps = keep;
        qsort(cps, (size_t)n_cps, sizeof *cps, cmp_cp);
    }
    int st = ZOO_OK;
    if (n_cps == 0)
        st = zoo_error(ZOO_ERR_ARG, "char tokenizer: min_count %lld leaves no characters",
                       (long long)set->min_count);
    if (st == ZOO_OK && !(counts = calloc((size_t)(n_special + n_cps), sizeof *counts)))
        st = zoo_error(ZOO_ERR_NOMEM, "char tokenizer: out of memory");
    if (st != ZOO_OK) {
        free(cps);
        free(cp_counts);
        return st;
    }
    for (int32_t i = 0; i < n_special; i++)
        if (roles[i] == ZOO_TOK_UNK) counts[i] = cut;
    for (int32_t i = 0; i < n_cps; i++) counts[n_special + i] = cp_counts[cps[i]];
    free(cp_counts);
    st = char_build(set->lowercase, specials, n_special, cps, n_cps, counts, out);
    for (int32_t i = 0; i < n_special && st == ZOO_OK; i++)
        st = zoo_tokenizer_set_special(*out, roles[i], i);
    if (st != ZOO_OK) {
        zoo_tokenizer_free(*out);
        *out = NULL;
    }
    return st;
}

static int char_from_json(const char *json, zoo_tokenizer **out) {
    cJSON *m = cJSON_Parse(json);
    const cJSON *lowercase = NULL, *specials = NULL, *cps_json = NULL, *counts_json = NULL;
    int st = cJSON_IsObject(m) ? ZOO_OK
                               : zoo_error(ZOO_ERR_FORMAT, "tokenizer JSON: model: not an object");
    for (const cJSON *e = m ? m->child : NULL; e && st == ZOO_OK; e = e->next) {
        if (strcmp(e->string, "lowercase") == 0 && cJSON_IsBool(e))
            lowercase = e;
        else if (strcmp(e->string, "specials") == 0 && cJSON_IsArray(e))
            specials = e;
        else if (strcmp(e->string, "code_points") == 0 && cJSON_IsArray(e))
            cps_json = e;
        else if (strcmp(e->string, "counts") == 0 && cJSON_IsArray(e))
            counts_json = e;
        else
            st = zoo_error(ZOO_ERR_FORMAT,
                           "tokenizer JSON: model.%s: unknown key or wrong type (char knows "
                           "lowercase: bool, specials, code_points, counts: arrays)",
                           e->string);
    }
    if (st == ZOO_OK && (!lowercase || !specials || !cps_json))
        st = zoo_error(ZOO_ERR_FORMAT, "tokenizer JSON: model: char needs lowercase, specials and "
                                       "code_points");
    int32_t n_special = specials ? cJSON_GetArraySize(specials) : 0;
    int32_t n_cps = cps_json ? cJSON_GetArraySize(cps_json) : 0;
    const char *names[ZOO_TOK_N_SPECIAL + 1];
    if (st == ZOO_OK && n_special > ZOO_TOK_N_SPECIAL)
        st = zoo_error(ZOO_ERR_FORMAT, "tokenizer JSON: model.specials: more than %d",
                       ZOO_TOK_N_SPECIAL);
    int32_t i = 0;
    for (const cJSON *e = specials ? specials->child : NULL; e && st == ZOO_OK; e = e->next, i++)
        if (cJSON_IsString(e))
            names[i] = e->valuestring;
        else
            st = zoo_error(ZOO_ERR_FORMAT, "tokenizer JSON: model.specials[%d]: not a string",
                           (int)i);
    if (st == ZOO_OK && counts_json && cJSON_GetArraySize(counts_json) != n_special + n_cps)
        st = zoo_error(ZOO_ERR_FORMAT, "tokenizer JSON: model.counts: %d entries for %d tokens",
                       cJSON_GetArraySize(counts_json), (int)(n_special + n_cps));
    int32_t *cps = st == ZOO_OK ? malloc(((size_t)n_cps + 1) * sizeof *cps) : NULL;
    int64_t *counts = NULL;
    if (st == ZOO_OK && counts_json)
        counts = malloc(((size_t)(n_special + n_cps) + 1) * sizeof *counts);
    if (st == ZOO_OK && (!cps || (counts_json && !counts)))
        st = zoo_error(ZOO_ERR_NOMEM, "char tokenizer: out of memory");
    i = 0;
    for (const cJSON *e = cps_json ? cps_json->child : NULL; e && st == ZOO_OK; e = e->next, i++) {
        double v = cJSON_IsNumber(e) ? e->valuedouble : -1;
        if (!(v >= 0 && v < N_CODE_POINTS) || v != (double)(int32_t)v || /* range first: NaN too */
            (v >= 0xD800 && v <= 0xDFFF))
            st = zoo_error(ZOO_ERR_FORMAT,
                           "tokenizer JSON: model.code_points[%d]: not a Unicode scalar value "
                           "(an integer in [0, 0x10FFFF], not a surrogate)",
                           (int)i);
        else if (i > 0 && v <= cps[i - 1])
            st = zoo_error(ZOO_ERR_FORMAT,
                           "tokenizer JSON: model.code_points[%d]: U+%04X is not above the "
                           "previous one, U+%04X (they are sorted, each once)",
                           (int)i, (unsigned)v, (unsigned)cps[i - 1]);
        else
            cps[i] = (int32_t)v;
    }
    i = 0;
    for (const cJSON *e = counts_json ? counts_json->child : NULL; e && st == ZOO_OK;
         e = e->next, i++) {
        double v = cJSON_IsNumber(e) ? e->valuedouble : -1;
        if (!(v >= 0 && v <= 9007199254740992.0) || v != (double)(int64_t)v) /* range before cast */
            st = zoo_error(ZOO_ERR_FORMAT, "tokenizer JSON: model.counts[%d]: not a count", (int)i);
        else
            counts[i] = (int64_t)v;
    }
    if (st == ZOO_OK)
        st = char_build(cJSON_IsTrue(lowercase), names, n_special, cps, n_cps, counts, out);
    else {
        free(cps);
        free(counts);
    }
    cJSON_Delete(m);
    return st;
}

const zoo_tokenizer_def zoo_tok_char_type = {
    .size = sizeof(zoo_tokenizer_def),
    .name = "char",
    .train = char_train,
    .from_json = char_from_json,
};
