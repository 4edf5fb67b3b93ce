/* Word vectors in word2vec's text and binary formats and the lookups. The public struct has no room
 * for an index, so every zoo_word_vectors handed out is the first member of a `vectors` carrying
 * two hash tables: exact words, and their lower-cased forms. The evaluations on analogy and
 * word-pair files are the host's (host/runs/word_vector_eval.c). */
#include "zoo/word_vectors.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "zoo/fastmath.h"
#include "zoo/io.h"
#include "zoo/status.h"

#define MAX_DIM (INT64_C(1) << 20)

/* Open addressing with linear probing over row numbers; the keys are the
 * strings of `keys[row]`, so the table itself holds only rows. */
typedef struct table {
    int64_t *slots; /* -1 = empty; a power of two, at least twice the rows */
    size_t mask;
} table;

typedef struct vectors {
    zoo_word_vectors pub; /* first, so that the public pointer converts back */
    table exact, lower;
    char **lowered; /* [count] lower-cased words; == words[r] when unchanged */
} vectors;

static vectors *impl(const zoo_word_vectors *v) {
    return (vectors *)v;
}

/* FNV-1a: words are short. */
static uint64_t hash_str(const char *s) {
    uint64_t h = 14695981039346656037u;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211u;
    return h;
}

static bool table_init(table *t, int64_t rows) {
    size_t n = 16;
    while (n < (size_t)rows * 2) n *= 2;
    t->slots = malloc(n * sizeof *t->slots);
    if (!t->slots) return false;
    memset(t->slots, 0xff, n * sizeof *t->slots);
    t->mask = n - 1;
    return true;
}

/* The row holding key, or -1; *slot is where key would go. */
static int64_t table_find(const table *t, char *const *keys, const char *key, size_t *slot) {
    size_t i = hash_str(key) & t->mask;
    for (; t->slots[i] >= 0; i = (i + 1) & t->mask)
        if (strcmp(keys[t->slots[i]], key) == 0) return t->slots[i];
    if (slot) *slot = i;
    return -1;
}

/* ---- UTF-8 -------------------------------------------------------------- */

static bool valid_utf8(const char *s, size_t len) {
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
    while (len > 0) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t k = utf8proc_iterate(p, (utf8proc_ssize_t)len, &cp);
        if (k <= 0) return false;
        p += k;
        len -= (size_t)k;
    }
    return true;
}

/* s with every code point through utf8proc_tolower, from malloc; NULL when s
 * is not valid UTF-8 or memory runs out (*nomem tells which). A lower-cased
 * code point may take more bytes than the original (U+023A, 2 bytes, lowers
 * to U+2C65, 3), never more than 4 per input byte. */
static char *lower_utf8(const char *s, bool *nomem) {
    size_t len = strlen(s);
    *nomem = false;
    utf8proc_uint8_t *out = malloc(4 * len + 1), *o = out;
    if (!out) {
        *nomem = true;
        return NULL;
    }
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
    while (len > 0) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t k = utf8proc_iterate(p, (utf8proc_ssize_t)len, &cp);
        if (k <= 0) {
            free(out);
            return NULL;
        }
        o += utf8proc_encode_char(utf8proc_tolower(cp), o);
        p += k;
        len -= (size_t)k;
    }
    *o = '\0';
    return (char *)out;
}

/* ---- construction ------------------------------------------------------- */

void zoo_word_vectors_free(zoo_word_vectors *v) {
    if (!v) return;
    vectors *w = impl(v);
    for (int64_t r = 0; r < v->count && v->words; r++) {
        if (w->lowered && w->lowered[r] != v->words[r]) free(w->lowered[r]);
        free(v->words[r]);
    }
    free(w->lowered);
    free(v->words);
    free(v->data);
    free(v->unit);
    free(w->exact.slots);
    free(w->lower.slots);
    free(w);
}

/* An empty set of count rows (words NULL until filled in), or NULL. */
static vectors *alloc_vectors(int64_t count, int64_t dim) {
    vectors *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    w->pub.count = count;
    w->pub.dim = dim;
    size_t n = (size_t)count * (size_t)dim;
    w->pub.words = calloc((size_t)count, sizeof *w->pub.words);
    w->lowered = calloc((size_t)count, sizeof *w->lowered);
    w->pub.data = malloc(n * sizeof(float));
    w->pub.unit = malloc(n * sizeof(float));
    if (!w->pub.words || !w->lowered || !w->pub.data || !w->pub.unit) {
        zoo_word_vectors_free(&w->pub);
        return NULL;
    }
    return w;
}

/* Fills unit and both tables once words and data are in place. `what`
 * prefixes errors (the file's path, or "word vectors"). A repeated word is
 * an error because find could only ever return one of its rows. */
static int finish(vectors *w, const char *what) {
    zoo_word_vectors *v = &w->pub;
    for (int64_t r = 0; r < v->count; r++) {
        const float *x = v->data + r * v->dim;
        float *u = v->unit + r * v->dim;
        double ss = 0;
        for (int64_t j = 0; j < v->dim; j++) ss += (double)x[j] * x[j];
        float scale = ss > 0 ? (float)(1 / sqrt(ss)) : 0.0f;
        for (int64_t j = 0; j < v->dim; j++) u[j] = x[j] * scale;
    }
    if (!table_init(&w->exact, v->count) || !table_init(&w->lower, v->count))
        return zoo_error(ZOO_ERR_NOMEM, "%s: out of memory for the word index", what);
    for (int64_t r = 0; r < v->count; r++) {
        size_t slot;
        int64_t prev = table_find(&w->exact, v->words, v->words[r], &slot);
        if (prev >= 0)
            return zoo_error(ZOO_ERR_FORMAT, "%s: duplicate word \"%s\" in rows %lld and %lld",
                             what, v->words[r], (long long)prev, (long long)r);
        w->exact.slots[slot] = r;
    }
    for (int64_t r = 0; r < v->count; r++) {
        bool nomem;
        char *low = lower_utf8(v->words[r], &nomem);
        if (!low) /* the words were checked to be UTF-8 */
            return zoo_error(ZOO_ERR_NOMEM, "%s: out of memory for the word index", what);
        if (strcmp(low, v->words[r]) == 0) {
            free(low);
            low = v->words[r];
        }
        w->lowered[r] = low;
        size_t slot;
        if (table_find(&w->lower, w->lowered, low, &slot) < 0) w->lower.slots[slot] = r;
    }
    return ZOO_OK;
}

/* Whether word can be written in either format and read back as itself. */
static bool storable_word(const char *word) {
    size_t len = strlen(word);
    return len > 0 && strcspn(word, " \t\r\n") == len && valid_utf8(word, len);
}

zoo_word_vectors *zoo_word_vectors_new(int64_t count, int64_t dim, const char *const *words,
                                       const float *data) {
    if (count <= 0 || dim <= 0 || dim > MAX_DIM || !words || !data) {
        zoo_error(ZOO_ERR_ARG, "word vectors: need count > 0, 0 < dim <= %lld, words and data",
                  (long long)MAX_DIM);
        return NULL;
    }
    vectors *w = alloc_vectors(count, dim);
    if (!w) {
        zoo_error(ZOO_ERR_NOMEM, "word vectors: out of memory for %lld x %lld", (long long)count,
                  (long long)dim);
        return NULL;
    }
    for (int64_t r = 0; r < count; r++) {
        if (!words[r] || !storable_word(words[r])) {
            zoo_error(ZOO_ERR_ARG,
                      "word vectors: word %lld is empty, not UTF-8 or contains white space",
                      (long long)r);
            zoo_word_vectors_free(&w->pub);
            return NULL;
        }
        w->pub.words[r] = strdup(words[r]);
        if (!w->pub.words[r]) {
            zoo_error(ZOO_ERR_NOMEM, "word vectors: out of memory");
            zoo_word_vectors_free(&w->pub);
            return NULL;
        }
    }
    for (int64_t k = 0; k < count * dim; k++)
        if (!isfinite(data[k])) {
            zoo_error(ZOO_ERR_ARG, "word vectors: \"%s\": number %lld of %lld is %s",
                      words[k / dim], (long long)(k % dim) + 1, (long long)dim,
                      isnan(data[k]) ? "NaN" : "infinite");
            zoo_word_vectors_free(&w->pub);
            return NULL;
        }
    memcpy(w->pub.data, data, (size_t)count * (size_t)dim * sizeof(float));
    if (finish(w, "word vectors") != ZOO_OK) {
        zoo_word_vectors_free(&w->pub);
        return NULL;
    }
    return &w->pub;
}

/* ---- loading ------------------------------------------------------------ */

/* The file being read: a cursor over its bytes (NUL-terminated past end). */
typedef struct reader {
    const char *path;
    const char *p, *end;
    int64_t count, dim;
    int64_t line; /* text format: the current line, from 1 */
} reader;

static void skip_blanks(reader *rd) {
    while (rd->p < rd->end && (*rd->p == ' ' || *rd->p == '\t')) rd->p++;
}

/* Past optional blanks and '\r', at '\n' or the end: consumes them. */
static bool end_of_line(reader *rd) {
    skip_blanks(rd);
    if (rd->p < rd->end && *rd->p == '\r') rd->p++;
    if (rd->p == rd->end) return true;
    if (*rd->p != '\n') return false;
    rd->p++;
    return true;
}

static bool read_int(reader *rd, int64_t *out) {
    skip_blanks(rd);
    if (rd->p == rd->end || !isdigit((unsigned char)*rd->p)) return false;
    int64_t n = 0;
    for (; rd->p < rd->end && isdigit((unsigned char)*rd->p); rd->p++) {
        if (n > (INT64_MAX - 9) / 10) return false;
        n = n * 10 + (*rd->p - '0');
    }
    *out = n;
    return true;
}

static int read_header(reader *rd) {
    if (!read_int(rd, &rd->count) || !read_int(rd, &rd->dim) || !end_of_line(rd))
        return zoo_error(ZOO_ERR_FORMAT, "%s: line 1: expected a header \"COUNT DIM\"", rd->path);
    if (rd->count <= 0 || rd->dim <= 0 || rd->dim > MAX_DIM)
        return zoo_error(ZOO_ERR_FORMAT,
                         "%s: header: count %lld and dim %lld must be positive, dim at most %lld",
                         rd->path, (long long)rd->count, (long long)rd->dim, (long long)MAX_DIM);
    rd->line = 2;
    return ZOO_OK;
}

/* Whether the first row is text: the rest of its line after the word holds
 * only characters of numbers and blanks, at least dim of them and a digit.
 * A binary row's float bytes almost never do (the length requirement rules
 * out a stray '\n' among the first float's bytes). */
static bool looks_like_text(const reader *rd) {
    const char *p = rd->p, *end = rd->end;
    while (p < end && *p != ' ' && *p != '\t' && *p != '\n') p++;
    if (p == end || *p == '\n') return false;
    const char *start = p;
    bool digit = false;
    for (; p < end && *p != '\n'; p++) {
        unsigned char c = (unsigned char)*p;
        if (isdigit(c))
            digit = true;
        else if (!strchr(" \t\r+-.eExXpPaAfFiInNtTyY", c) || c == '\0')
            return false;
    }
    return digit && p - start >= rd->dim;
}

/* Copies [from, to) as row r's word, checked: non-empty UTF-8. */
static int take_word(reader *rd, zoo_word_vectors *v, int64_t r, const char *from, const char *to) {
    size_t len = (size_t)(to - from);
    if (len == 0 || !valid_utf8(from, len) || memchr(from, '\0', len))
        return zoo_error(ZOO_ERR_FORMAT, "%s: row %lld: the word is empty or not valid UTF-8",
                         rd->path, (long long)r);
    v->words[r] = strndup(from, len);
    if (!v->words[r]) return zoo_error(ZOO_ERR_NOMEM, "%s: out of memory", rd->path);
    return ZOO_OK;
}

static int read_text_row(reader *rd, zoo_word_vectors *v, int64_t r) {
    const char *from = rd->p;
    while (rd->p < rd->end && !strchr(" \t\r\n", *rd->p)) rd->p++;
    int st = take_word(rd, v, r, from, rd->p);
    if (st != ZOO_OK) return st;
    float *x = v->data + r * v->dim;
    for (int64_t j = 0; j < v->dim; j++) {
        skip_blanks(rd);
        if (rd->p == rd->end || *rd->p == '\n' || *rd->p == '\r')
            return zoo_error(ZOO_ERR_FORMAT, "%s: line %lld (\"%s\"): %lld numbers, expected %lld",
                             rd->path, (long long)rd->line, v->words[r], (long long)j,
                             (long long)v->dim);
        char *after;
        x[j] = strtof(rd->p, &after); /* the buffer is NUL-terminated */
        if (after == rd->p || !strchr(" \t\r\n", *after))
            return zoo_error(ZOO_ERR_FORMAT, "%s: line %lld (\"%s\"): number %lld does not parse",
                             rd->path, (long long)rd->line, v->words[r], (long long)j + 1);
        if (!isfinite(x[j])) /* "nan", "inf", or past float's range */
            return zoo_error(ZOO_ERR_FORMAT,
                             "%s: line %lld (\"%s\"): number %lld of %lld is %s; vectors must be "
                             "finite",
                             rd->path, (long long)rd->line, v->words[r], (long long)j + 1,
                             (long long)v->dim, isnan(x[j]) ? "NaN" : "infinite");
        rd->p = after;
    }
    if (!end_of_line(rd))
        return zoo_error(ZOO_ERR_FORMAT, "%s: line %lld (\"%s\"): more than %lld numbers", rd->path,
                         (long long)rd->line, v->words[r], (long long)v->dim);
    rd->line++;
    return ZOO_OK;
}

/* word2vec.c ends each binary row with '\n'; gensim and others do not. */
static int read_binary_row(reader *rd, zoo_word_vectors *v, int64_t r) {
    if (rd->p < rd->end && *rd->p == '\n') rd->p++;
    const char *from = rd->p;
    const char *space = memchr(from, ' ', (size_t)(rd->end - from));
    if (!space)
        return zoo_error(ZOO_ERR_FORMAT, "%s: row %lld: truncated (no word)", rd->path,
                         (long long)r);
    int st = take_word(rd, v, r, from, space);
    if (st != ZOO_OK) return st;
    size_t need = (size_t)v->dim * 4, left = (size_t)(rd->end - space - 1);
    if (left < need)
        return zoo_error(ZOO_ERR_FORMAT,
                         "%s: row %lld (\"%s\"): truncated, %zu bytes left of %zu needed", rd->path,
                         (long long)r, v->words[r], left, need);
    const unsigned char *b = (const unsigned char *)space + 1;
    float *x = v->data + r * v->dim;
    for (int64_t j = 0; j < v->dim; j++, b += 4) {
        uint32_t bits = b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
        memcpy(&x[j], &bits, 4);
        if (!isfinite(x[j])) /* would make every cosine with this row NaN */
            return zoo_error(ZOO_ERR_FORMAT,
                             "%s: row %lld (\"%s\"): number %lld of %lld is %s; vectors must be "
                             "finite",
                             rd->path, (long long)r, v->words[r], (long long)j + 1,
                             (long long)v->dim, isnan(x[j]) ? "NaN" : "infinite");
    }
    rd->p = (const char *)b;
    return ZOO_OK;
}

/* The fewest bytes a row can take: refusing a header whose rows cannot fit
 * keeps a corrupt count from allocating more than the file's size. */
static int check_room(const reader *rd, bool text) {
    uint64_t left = (uint64_t)(rd->end - rd->p);
    uint64_t row = text ? 2 * (uint64_t)rd->dim + 1 : 4 * (uint64_t)rd->dim + 2;
    if ((uint64_t)rd->count > (left + 1) / row)
        return zoo_error(ZOO_ERR_FORMAT, "%s: %llu bytes cannot hold %lld %s rows of dim %lld",
                         rd->path, (unsigned long long)left, (long long)rd->count,
                         text ? "text" : "binary", (long long)rd->dim);
    return ZOO_OK;
}

static vectors *read_rows(reader *rd) {
    bool text = looks_like_text(rd);
    if (check_room(rd, text) != ZOO_OK) return NULL;
    vectors *w = alloc_vectors(rd->count, rd->dim);
    if (!w) {
        zoo_error(ZOO_ERR_NOMEM, "%s: out of memory for %lld x %lld", rd->path,
                  (long long)rd->count, (long long)rd->dim);
        return NULL;
    }
    for (int64_t r = 0; r < rd->count; r++) {
        int st = text ? read_text_row(rd, &w->pub, r) : read_binary_row(rd, &w->pub, r);
        if (st == ZOO_OK && text && r + 1 < rd->count && rd->p == rd->end)
            st = zoo_error(ZOO_ERR_FORMAT, "%s: ends after %lld of %lld rows", rd->path,
                           (long long)r + 1, (long long)rd->count);
        if (st != ZOO_OK) {
            zoo_word_vectors_free(&w->pub);
            return NULL;
        }
    }
    return w;
}

zoo_word_vectors *zoo_word_vectors_load(const char *path) {
    size_t len;
    char *bytes = zoo_read_file_max(path, &len, ZOO_READ_MAX_VECTORS);
    if (!bytes) return NULL;
    reader rd = {.path = path, .p = bytes, .end = bytes + len};
    vectors *w = read_header(&rd) == ZOO_OK ? read_rows(&rd) : NULL;
    free(bytes);
    if (w && finish(w, path) != ZOO_OK) {
        zoo_word_vectors_free(&w->pub);
        w = NULL;
    }
    return w ? &w->pub : NULL;
}

/* ---- saving ------------------------------------------------------------- */

/* One row in the text format into *buf (grown as needed); its length. */
static size_t format_text_row(const zoo_word_vectors *v, int64_t r, char **buf, size_t *cap) {
    size_t need = strlen(v->words[r]) + (size_t)v->dim * 18 + 2; /* "%.9g" < 17 chars */
    if (need > *cap) {
        char *b = realloc(*buf, need);
        if (!b) return 0;
        *buf = b;
        *cap = need;
    }
    size_t n = (size_t)sprintf(*buf, "%s", v->words[r]);
    const float *x = v->data + r * v->dim;
    for (int64_t j = 0; j < v->dim; j++) n += (size_t)sprintf(*buf + n, " %.9g", (double)x[j]);
    (*buf)[n++] = '\n';
    return n;
}

static size_t format_binary_row(const zoo_word_vectors *v, int64_t r, char **buf, size_t *cap) {
    size_t wl = strlen(v->words[r]), need = wl + 1 + (size_t)v->dim * 4 + 1;
    if (need > *cap) {
        char *b = realloc(*buf, need);
        if (!b) return 0;
        *buf = b;
        *cap = need;
    }
    memcpy(*buf, v->words[r], wl);
    unsigned char *o = (unsigned char *)*buf + wl;
    *o++ = ' ';
    const float *x = v->data + r * v->dim;
    for (int64_t j = 0; j < v->dim; j++) {
        uint32_t bits;
        memcpy(&bits, &x[j], 4);
        for (int k = 0; k < 4; k++) *o++ = (unsigned char)(bits >> (8 * k));
    }
    *o = '\n';
    return need;
}

int zoo_word_vectors_save(const zoo_word_vectors *v, const char *path, bool binary) {
    zoo_atomic_file *f;
    int st = zoo_atomic_file_open(path, &f);
    if (st != ZOO_OK) return st;
    char header[64];
    int hn = snprintf(header, sizeof header, "%lld %lld\n", (long long)v->count, (long long)v->dim);
    st = zoo_atomic_file_write(f, header, (size_t)hn);
    char *buf = NULL;
    size_t cap = 0;
    for (int64_t r = 0; r < v->count && st == ZOO_OK; r++) {
        size_t n = binary ? format_binary_row(v, r, &buf, &cap) : format_text_row(v, r, &buf, &cap);
        st = n ? zoo_atomic_file_write(f, buf, n)
               : zoo_error(ZOO_ERR_NOMEM, "%s: out of memory", path);
    }
    free(buf);
    if (st != ZOO_OK) {
        zoo_atomic_file_abort(f);
        return st;
    }
    return zoo_atomic_file_commit(f);
}

/* ---- queries ------------------------------------------------------------ */

static int64_t rows_in(const zoo_word_vectors *v, int64_t restrict_to) {
    return restrict_to <= 0 || restrict_to > v->count ? v->count : restrict_to;
}

int64_t zoo_word_vectors_find(const zoo_word_vectors *v, const char *word, int64_t restrict_to,
                              bool ignore_case) {
    const vectors *w = impl(v);
    int64_t limit = rows_in(v, restrict_to);
    int64_t r = table_find(&w->exact, v->words, word, NULL);
    if (r >= 0 && r < limit) return r;
    if (!ignore_case) return -1;
    bool nomem;
    char *low = lower_utf8(word, &nomem);
    if (!low) return -1; /* not UTF-8: no word can match */
    /* the table keeps the first row of each lower-cased form, so when that
     * row is past the limit no row within it matches */
    r = table_find(&w->lower, w->lowered, low, NULL);
    free(low);
    return r >= 0 && r < limit ? r : -1;
}

/* unit[0..m) . q into out[m]. Each row is summed by the same code in the
 * same order, so equal rows score bit-equal and ties fall to the row index
 * (a BLAS kernel may treat the last rows of a block differently). */
ZOO_VECTOR_CLONES
static void score_rows(const float *unit, int64_t m, int64_t dim, const float *q, float *out) {
    for (int64_t r = 0; r < m; r++) {
        const float *u = unit + r * dim;
        float acc[8] = {0};
        int64_t j = 0;
        for (; j + 8 <= dim; j += 8)
            for (int k = 0; k < 8; k++) acc[k] += u[j + k] * q[j + k];
        for (; j < dim; j++) acc[j & 7] += u[j] * q[j];
        out[r] = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
    }
}

typedef struct hit {
    float score;
    int64_t row;
} hit;

/* Higher score first, then lower row; NaN scores after every number. */
static bool better(hit a, hit b) {
    if (isnan(a.score) || isnan(b.score)) {
        if (isnan(a.score) != isnan(b.score)) return isnan(b.score);
    } else if (a.score != b.score) {
        return a.score > b.score;
    }
    return a.row < b.row;
}

/* heap[0] is the worst of the k kept. */
static void sift_down(hit *heap, int64_t k, int64_t i) {
    for (;;) {
        int64_t c = 2 * i + 1;
        if (c >= k) return;
        if (c + 1 < k && better(heap[c], heap[c + 1])) c++;
        if (!better(heap[i], heap[c])) return;
        hit t = heap[i];
        heap[i] = heap[c];
        heap[c] = t;
        i = c;
    }
}

static void sift_up(hit *heap, int64_t i) {
    while (i > 0 && better(heap[(i - 1) / 2], heap[i])) {
        hit t = heap[i];
        heap[i] = heap[(i - 1) / 2];
        heap[(i - 1) / 2] = t;
        i = (i - 1) / 2;
    }
}

static int cmp_hits(const void *a, const void *b) {
    return better(*(const hit *)a, *(const hit *)b) ? -1 : 1;
}

/* The best n of scores[m] (rows marked in skip left out), best first; how many. */
static int64_t top_n(const float *scores, const unsigned char *skip, int64_t m, int64_t n,
                     hit *heap) {
    int64_t k = 0;
    for (int64_t r = 0; r < m; r++) {
        if (skip[r]) continue;
        hit h = {scores[r], r};
        if (k < n) {
            heap[k] = h;
            sift_up(heap, k++);
        } else if (better(h, heap[0])) {
            heap[0] = h;
            sift_down(heap, k, 0);
        }
    }
    qsort(heap, (size_t)k, sizeof *heap, cmp_hits);
    return k;
}

int64_t zoo_word_vectors_nearest(const zoo_word_vectors *v, const float *query, int64_t restrict_to,
                                 const int64_t *exclude, int n_exclude, int64_t n, int64_t *rows,
                                 float *cosines) {
    if (n <= 0) return 0;
    int64_t m = rows_in(v, restrict_to);
    if (n > m) n = m;
    float *q = malloc((size_t)v->dim * sizeof *q);
    float *scores = malloc((size_t)m * sizeof *scores);
    unsigned char *skip = calloc((size_t)m, 1);
    hit *heap = malloc((size_t)n * sizeof *heap);
    int64_t found = -1;
    if (!q || !scores || !skip || !heap) {
        zoo_error(ZOO_ERR_NOMEM, "word vectors: out of memory for %lld scores", (long long)m);
        goto done;
    }
    double ss = 0;
    for (int64_t j = 0; j < v->dim; j++) ss += (double)query[j] * query[j];
    float scale = ss > 0 ? (float)(1 / sqrt(ss)) : 0.0f; /* a zero query scores 0 everywhere */
    for (int64_t j = 0; j < v->dim; j++) q[j] = query[j] * scale;
    score_rows(v->unit, m, v->dim, q, scores);
    for (int i = 0; i < n_exclude; i++)
        if (exclude[i] >= 0 && exclude[i] < m) skip[exclude[i]] = 1;
    found = top_n(scores, skip, m, n, heap);
    for (int64_t i = 0; i < found; i++) {
        rows[i] = heap[i].row;
        if (cosines) cosines[i] = heap[i].score;
    }
done:
    free(q);
    free(scores);
    free(skip);
    free(heap);
    return found;
}

int64_t zoo_word_vectors_analogy(const zoo_word_vectors *v, int64_t a, int64_t b, int64_t c,
                                 int64_t restrict_to, int64_t n, int64_t *rows, float *cosines) {
    int64_t in[3] = {a, b, c};
    for (int i = 0; i < 3; i++)
        if (in[i] < 0 || in[i] >= v->count)
            return zoo_error(ZOO_ERR_ARG, "word vectors: analogy row %lld is not in [0, %lld)",
                             (long long)in[i], (long long)v->count);
    float *q = malloc((size_t)v->dim * sizeof *q);
    if (!q) return zoo_error(ZOO_ERR_NOMEM, "word vectors: out of memory");
    const float *ua = v->unit + a * v->dim, *ub = v->unit + b * v->dim, *uc = v->unit + c * v->dim;
    for (int64_t j = 0; j < v->dim; j++) q[j] = ub[j] - ua[j] + uc[j];
    int64_t found = zoo_word_vectors_nearest(v, q, restrict_to, in, 3, n, rows, cosines);
    free(q);
    return found;
}

int64_t zoo_word_vectors_query(const zoo_word_vectors *v, const char *const *words, int n_words,
                               int64_t n, int64_t *rows, float *cosines) {
    if (n_words != 1 && n_words != 3)
        return zoo_error(ZOO_ERR_ARG, "a word-vector query takes 1 or 3 words, not %d", n_words);
    int64_t at[3];
    for (int i = 0; i < n_words; i++)
        if ((at[i] = zoo_word_vectors_find(v, words[i], 0, true)) < 0)
            return zoo_error(ZOO_ERR_NOTFOUND, "'%s' is not among the %lld words", words[i],
                             (long long)v->count);
    if (n_words == 3) return zoo_word_vectors_analogy(v, at[0], at[1], at[2], 0, n, rows, cosines);
    return zoo_word_vectors_nearest(v, v->unit + at[0] * v->dim, 0, at, 1, n, rows, cosines);
}
