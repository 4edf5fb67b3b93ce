#include "synthetic.h"

#include <stdlib.h>
#include <string.h>

#include "zoo/corpus.h"
#include "zoo/rng.h"
#include "zoo/status.h"
#include "zoo/tokenizer_type.h"

int zoo_synthetic_spell(int64_t v, char *buf) {
    char rev[16];
    int n = 0;
    for (v += 1; v > 0 && n < 15; v = (v - 1) / 26) rev[n++] = (char)('a' + (v - 1) % 26);
    for (int i = 0; i < n; i++) buf[i] = rev[n - 1 - i];
    buf[n] = '\0';
    return n;
}

/* Appends len bytes to s's text. */
static int text_add(zoo_synthetic *s, int64_t *cap, const char *bytes, int64_t len) {
    if (s->text_len + len > *cap) {
        int64_t want = *cap ? 2 * *cap : 1 << 16;
        while (want < s->text_len + len) want *= 2;
        char *grown = realloc(s->text, (size_t)want);
        if (!grown) return zoo_error(ZOO_ERR_NOMEM, "synthetic text: out of memory");
        s->text = grown, *cap = want;
    }
    memcpy(s->text + s->text_len, bytes, (size_t)len);
    s->text_len += len;
    return ZOO_OK;
}

static int line_add(zoo_synthetic *s, int64_t *cap) {
    if (s->n_lines == *cap) {
        int64_t want = *cap ? 2 * *cap : 1024;
        int64_t *grown = realloc(s->lines, (size_t)want * sizeof *grown);
        if (!grown) return zoo_error(ZOO_ERR_NOMEM, "synthetic lines: out of memory");
        s->lines = grown, *cap = want;
    }
    s->lines[s->n_lines++] = s->ids.count;
    return ZOO_OK;
}

static void make_dataset(zoo_synthetic *s) {
    s->data = (zoo_dataset){.ids = s->ids.ids,
                            .n = s->ids.count,
                            .line_starts = s->lines,
                            .n_lines = s->n_lines,
                            .text = s->text,
                            .text_len = s->text ? s->text_len : 0,
                            .spans = s->text ? s->spans.spans : NULL};
}

int zoo_synthetic_ids(zoo_synthetic *s, int32_t V, int32_t first, int64_t n, int64_t line_len,
                      bool spell, uint64_t seed) {
    memset(s, 0, sizeof *s);
    if (first < 0 || first >= V || n < 1 || line_len < 1)
        return zoo_error(ZOO_ERR_ARG, "synthetic ids: [%d, %d) holds no id, or n %lld < 1", first,
                         V, (long long)n);
    zoo_rng rng;
    zoo_rng_seed(&rng, seed);
    int64_t text_cap = 0, lines_cap = 0;
    int st = zoo_ids_reserve(&s->ids, n);
    if (!st && spell) st = zoo_spans_reserve(&s->spans, n);
    for (int64_t i = 0; !st && i < n; i++) {
        if (i % line_len == 0 && (st = line_add(s, &lines_cap))) break;
        int32_t id = first + (int32_t)zoo_rng_below(&rng, (uint64_t)(V - first));
        zoo_ids_push(&s->ids, id); /* reserved: cannot fail */
        if (!spell) continue;
        char word[16];
        int len = zoo_synthetic_spell(id, word);
        int64_t at = s->text_len;
        bool ends_line = (i + 1) % line_len == 0 || i + 1 == n;
        if (!(st = text_add(s, &text_cap, word, len)))
            st = text_add(s, &text_cap, ends_line ? "\n" : " ", 1);
        if (!st) zoo_spans_push(&s->spans, at, at + len);
    }
    if (st) {
        zoo_synthetic_free(s);
        return st;
    }
    make_dataset(s);
    return ZOO_OK;
}

/* Rank k (0-based) drawn with weight 1/(k+1): a binary search of the cumulative weights. */
static int32_t draw_rank(const double *cumulative, int32_t kinds, zoo_rng *rng) {
    double u = zoo_rng_uniform(rng) * cumulative[kinds - 1];
    int32_t lo = 0, hi = kinds - 1;
    while (lo < hi) {
        int32_t mid = lo + (hi - lo) / 2;
        if (cumulative[mid] <= u)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The text: lines of 5 to 25 words until there are at least n. */
static int write_words(zoo_synthetic *s, int32_t kinds, int64_t n, uint64_t seed) {
    double *cumulative = malloc((size_t)kinds * sizeof *cumulative);
    if (!cumulative) return zoo_error(ZOO_ERR_NOMEM, "synthetic words: out of memory");
    double total = 0;
    for (int32_t k = 0; k < kinds; k++) cumulative[k] = total += 1.0 / (k + 1);
    zoo_rng rng;
    zoo_rng_seed(&rng, seed);
    int64_t cap = 0;
    int st = ZOO_OK;
    for (int64_t words = 0; !st && words < n;) {
        int len = 5 + (int)zoo_rng_below(&rng, 21);
        for (int j = 0; !st && j < len; j++, words++) {
            char word[16];
            int wl = zoo_synthetic_spell(draw_rank(cumulative, kinds, &rng), word);
            st = text_add(s, &cap, word, wl);
            if (!st) st = text_add(s, &cap, j + 1 < len ? " " : "\n", 1);
        }
    }
    free(cumulative);
    return st;
}

/* Encodes s->text line by line, as zoo train does, with spans made
 * relative to the whole text. */
static int encode_lines(zoo_synthetic *s) {
    int64_t lines_cap = 0;
    for (int64_t at = 0; at < s->text_len;) {
        const char *nl = memchr(s->text + at, '\n', (size_t)(s->text_len - at));
        int64_t end = nl ? nl - s->text + 1 : s->text_len, from = s->spans.count;
        int st = line_add(s, &lines_cap);
        if (!st)
            st = zoo_tokenizer_encode_spans(s->tok, s->text + at, (size_t)(end - at), &s->ids,
                                            &s->spans);
        if (st) return st;
        for (int64_t i = from; i < s->spans.count; i++)
            if (s->spans.spans[i].begin >= 0)
                s->spans.spans[i].begin += at, s->spans.spans[i].end += at;
        at = end;
    }
    return ZOO_OK;
}

int zoo_synthetic_words(zoo_synthetic *s, int32_t kinds, int64_t n, const zoo_special *specials,
                        int n_specials, uint64_t seed) {
    memset(s, 0, sizeof *s);
    if (kinds < 1 || n < 1)
        return zoo_error(ZOO_ERR_ARG, "synthetic words: %d kinds, %lld words", kinds, (long long)n);
    int st = write_words(s, kinds, n, seed);
    if (!st) {
        const char *path = "(synthetic Zipf corpus)";
        size_t len = (size_t)s->text_len;
        zoo_corpus corpus = {.size = sizeof corpus,
                             .count = 1,
                             .paths = &path,
                             .texts = (const char *const *)&s->text,
                             .lens = &len};
        zoo_tokenizer_settings ts = ZOO_TOKENIZER_SETTINGS_INIT;
        ts.specials = specials, ts.n_specials = n_specials;
        st = zoo_tokenizer_train("word", &ts, &corpus, &s->tok);
    }
    if (!st) st = encode_lines(s);
    if (st) {
        zoo_synthetic_free(s);
        return st;
    }
    make_dataset(s);
    return ZOO_OK;
}

void zoo_synthetic_free(zoo_synthetic *s) {
    zoo_tokenizer_free(s->tok);
    zoo_ids_free(&s->ids);
    zoo_spans_free(&s->spans);
    free(s->lines);
    free(s->text);
    memset(s, 0, sizeof *s);
}
