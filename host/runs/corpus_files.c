/* Corpus files (corpus_files.h): mapped, checked for UTF-8, and handed
 * out as the zoo_corpus view a tokenizer trainer reads. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utf8proc.h>

#include "corpus_files.h"
#include "zoo/io.h"
#include "zoo/status.h"

typedef struct corpus_file {
    char *path;
    const char *text; /* the mapping, the repaired copy, or "" */
    size_t len;
    void *map; /* NULL when the file was empty or has been replaced by `repaired` */
    size_t map_len;
    char *repaired;
    int64_t replacements;
} corpus_file;

/* zoo_corpus first, so that the pointer handed out converts back */
typedef struct corpus {
    zoo_corpus view;
    int n;
    corpus_file *files;
    const char **paths, **texts; /* the view's arrays */
    size_t *lens;
    int64_t bytes, replacements;
} corpus;

static corpus *impl(const zoo_corpus *c) {
    return (corpus *)c;
}

typedef enum { REASON_START, REASON_INCOMPLETE, REASON_TRUNCATED } invalid_reason;

static const char *const reason_text[] = {"invalid start byte", "invalid continuation byte",
                                          "truncated at end of file"};

/* Length of the maximal subpart at p: the longest prefix of an ill-formed
 * sequence that could begin a well-formed one (Unicode ch. 3, table 3-7), at
 * least 1. Only called where utf8proc has already found the sequence invalid;
 * this is the replacement unit, one U+FFFD per subpart. */
static size_t maximal_subpart(const unsigned char *p, size_t avail, invalid_reason *why) {
    unsigned char lo = 0x80, hi = 0xBF;
    size_t need;
    if (p[0] >= 0xC2 && p[0] <= 0xDF)
        need = 2;
    else if (p[0] >= 0xE0 && p[0] <= 0xEF) {
        need = 3;
        if (p[0] == 0xE0) lo = 0xA0; /* overlong below */
        if (p[0] == 0xED) hi = 0x9F; /* surrogates above */
    } else if (p[0] >= 0xF0 && p[0] <= 0xF4) {
        need = 4;
        if (p[0] == 0xF0) lo = 0x90; /* overlong below */
        if (p[0] == 0xF4) hi = 0x8F; /* beyond U+10FFFF above */
    } else {
        *why = REASON_START; /* a continuation byte, C0, C1 or F5..FF */
        return 1;
    }
    size_t k = 1;
    for (; k < need && k < avail; k++) {
        if (p[k] < lo || p[k] > hi) break;
        lo = 0x80, hi = 0xBF; /* only the second byte has a narrower range */
    }
    *why = k < avail ? REASON_INCOMPLETE : REASON_TRUNCATED;
    return k;
}

/* The length of the valid UTF-8 run at the start of s (ASCII checked eight
 * bytes at a time, everything else decoded by utf8proc). */
static size_t valid_prefix(const unsigned char *s, size_t len) {
    size_t i = 0;
    while (i < len) {
        if (s[i] < 0x80) {
            uint64_t w;
            while (i + 8 <= len && (memcpy(&w, s + i, 8), (w & 0x8080808080808080ull) == 0)) i += 8;
            while (i < len && s[i] < 0x80) i++;
            continue;
        }
        utf8proc_int32_t cp;
        utf8proc_ssize_t k =
            utf8proc_iterate(s + i, (utf8proc_ssize_t)(len - i < 4 ? len - i : 4), &cp);
        if (k < 0) return i;
        i += (size_t)k;
    }
    return len;
}

static int64_t line_of(const unsigned char *s, size_t offset) {
    int64_t line = 1;
    const unsigned char *p = s, *end = s + offset;
    while ((p = memchr(p, '\n', (size_t)(end - p)))) line++, p++;
    return line;
}

/* Checks f's mapping; under REPLACE swaps it for one repaired copy: a first
 * pass sizes the copy exactly, a second fills it. */
static int check_file(corpus_file *f, zoo_utf8_policy policy) {
    const unsigned char *s = (const unsigned char *)f->text;
    size_t len = f->len, at = valid_prefix(s, len);
    if (at == len) return ZOO_OK;
    invalid_reason why;
    if (policy == ZOO_UTF8_ERROR) {
        maximal_subpart(s + at, len - at, &why);
        return zoo_error(ZOO_ERR_FORMAT,
                         "%s: invalid UTF-8 at byte offset %zu (line %lld, byte 0x%02X, %s)",
                         f->path, at, (long long)line_of(s, at), s[at], reason_text[why]);
    }
    size_t out_len = at;
    for (size_t i = at; i < len;) {
        size_t ok = valid_prefix(s + i, len - i);
        out_len += ok, i += ok;
        if (i == len) break;
        i += maximal_subpart(s + i, len - i, &why);
        out_len += 3, f->replacements++;
    }
    char *copy = malloc(out_len + 1);
    if (!copy) return zoo_error(ZOO_ERR_NOMEM, "%s: no memory for a repaired copy", f->path);
    char *o = copy;
    for (size_t i = 0; i < len;) {
        size_t ok = valid_prefix(s + i, len - i);
        memcpy(o, s + i, ok);
        o += ok, i += ok;
        if (i == len) break;
        i += maximal_subpart(s + i, len - i, &why);
        memcpy(o, "\xEF\xBF\xBD", 3);
        o += 3;
    }
    *o = '\0';
    munmap(f->map, f->map_len); /* the copy replaces the mapping: never both kept */
    f->map = NULL;
    f->repaired = copy;
    f->text = copy;
    f->len = out_len;
    return ZOO_OK;
}

static int map_file(corpus_file *f) {
    int fd;
    uint64_t size;
    int status = zoo_open_regular(f->path, UINT64_MAX, &fd, &size); /* mapped: no cap */
    if (status != ZOO_OK) return status;
    f->text = "";
    f->len = 0;
    if (size > 0) { /* mmap refuses a length of 0 */
        void *map = mmap(NULL, (size_t)size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (map == MAP_FAILED) {
            int e = errno;
            close(fd);
            return zoo_error(ZOO_ERR_IO, "%s: cannot map: %s", f->path, strerror(e));
        }
        madvise(map, (size_t)size, MADV_SEQUENTIAL);
        f->map = map;
        f->map_len = (size_t)size;
        f->text = map;
        f->len = (size_t)size;
    }
    close(fd); /* the mapping outlives the descriptor */
    return ZOO_OK;
}

static int empty_error(const corpus *c) {
    char list[768];
    size_t used = 0;
    int shown = 0;
    for (; shown < c->n && used < 600; shown++) {
        int w = snprintf(list + used, sizeof list - used, "%s%s", shown ? ", " : "",
                         c->files[shown].path);
        if (w < 0) break;
        used += (size_t)w < sizeof list - used ? (size_t)w : sizeof list - used - 1;
    }
    if (shown < c->n) snprintf(list + used, sizeof list - used, " and %d more", c->n - shown);
    return zoo_error(ZOO_ERR_ARG, "corpus is empty: %s %s", list,
                     c->n == 1 ? "has no text" : "have no text");
}

int zoo_corpus_open(const char *const *paths, int n, zoo_utf8_policy policy, zoo_corpus **out) {
    *out = NULL;
    if (n < 1 || !paths) return zoo_error(ZOO_ERR_ARG, "corpus: no files given");
    if (policy != ZOO_UTF8_ERROR && policy != ZOO_UTF8_REPLACE)
        return zoo_error(ZOO_ERR_ARG, "corpus: unknown invalid-UTF-8 policy %d", (int)policy);
    corpus *c = calloc(1, sizeof *c);
    if (c) {
        c->files = calloc((size_t)n, sizeof *c->files);
        c->paths = calloc((size_t)n, sizeof *c->paths);
        c->texts = calloc((size_t)n, sizeof *c->texts);
        c->lens = calloc((size_t)n, sizeof *c->lens);
    }
    if (!c || !c->files || !c->paths || !c->texts || !c->lens) {
        if (c) free(c->files), free(c->paths), free(c->texts), free(c->lens);
        free(c);
        return zoo_error(ZOO_ERR_NOMEM, "corpus: out of memory");
    }
    c->n = n;
    int st = ZOO_OK;
    for (int i = 0; i < n && st == ZOO_OK; i++) {
        corpus_file *f = &c->files[i];
        if (!paths[i]) {
            st = zoo_error(ZOO_ERR_ARG, "corpus: path %d is NULL", i);
            break;
        }
        f->path = strdup(paths[i]);
        if (!f->path) st = zoo_error(ZOO_ERR_NOMEM, "corpus: out of memory");
        if (st == ZOO_OK) st = map_file(f);
        if (st == ZOO_OK) st = check_file(f, policy);
        c->bytes += (int64_t)f->len;
        c->replacements += f->replacements;
    }
    if (st == ZOO_OK && c->bytes == 0) st = empty_error(c);
    if (st != ZOO_OK) {
        zoo_corpus_close(&c->view);
        return st;
    }
    for (int i = 0; i < n; i++)
        c->paths[i] = c->files[i].path, c->texts[i] = c->files[i].text,
        c->lens[i] = c->files[i].len;
    c->view = (zoo_corpus){
        .size = sizeof c->view, .count = n, .paths = c->paths, .texts = c->texts, .lens = c->lens};
    *out = &c->view;
    return ZOO_OK;
}

void zoo_corpus_close(zoo_corpus *view) {
    if (!view) return;
    corpus *c = impl(view);
    for (int i = 0; i < c->n; i++) {
        corpus_file *f = &c->files[i];
        if (f->map) munmap(f->map, f->map_len);
        free(f->repaired);
        free(f->path);
    }
    free(c->files), free(c->paths), free(c->texts), free(c->lens);
    free(c);
}

int64_t zoo_corpus_bytes(const zoo_corpus *c) {
    return impl(c)->bytes;
}

int64_t zoo_corpus_replacements(const zoo_corpus *c) {
    return impl(c)->replacements;
}

int64_t zoo_corpus_file_replacements(const zoo_corpus *c, int i) {
    return i >= 0 && i < c->count ? impl(c)->files[i].replacements : 0;
}
