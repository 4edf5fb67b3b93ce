#include "data.h"

#include <stdlib.h>
#include <string.h>

#include "corpus_files.h"
#include "dist.h"
#include "tokenizers.h"
#include "zoo/corpus.h"
#include "zoo/status.h"
#include "zoo/tokenizer_type.h"

static int add_line(zoo_text_ids *t) {
    if (t->n_lines == t->cap_lines) {
        int64_t cap = t->cap_lines ? 2 * t->cap_lines : 1024;
        int64_t *grown = realloc(t->lines, (size_t)cap * sizeof *grown);
        if (!grown) return zoo_error(ZOO_ERR_NOMEM, "out of memory for line offsets");
        t->lines = grown, t->cap_lines = cap;
    }
    t->lines[t->n_lines++] = t->ids.count;
    return ZOO_OK;
}

/* Encodes text[0..len) and, when t keeps text, appends the text and the
 * tokens' spans, made relative to t's whole text. */
static int encode_chunk(const zoo_tokenizer *tok, const char *text, size_t len, zoo_text_ids *t) {
    if (!t->keep_text) return zoo_tokenizer_encode(tok, text, len, &t->ids);
    int64_t first = t->spans.count;
    int st = zoo_tokenizer_encode_spans(tok, text, len, &t->ids, &t->spans);
    if (st) return st;
    for (int64_t i = first; i < t->spans.count; i++)
        if (t->spans.spans[i].begin >= 0)
            t->spans.spans[i].begin += t->text_len, t->spans.spans[i].end += t->text_len;
    if (t->text_len + (int64_t)len > t->text_cap) {
        int64_t cap = t->text_cap ? t->text_cap : 65536;
        while (cap < t->text_len + (int64_t)len) cap *= 2;
        char *grown = realloc(t->text, (size_t)cap);
        if (!grown) return zoo_error(ZOO_ERR_NOMEM, "out of memory keeping the text");
        t->text = grown, t->text_cap = cap;
    }
    if (len) memcpy(t->text + t->text_len, text, len);
    t->text_len += (int64_t)len;
    return ZOO_OK;
}

zoo_dataset zoo_text_dataset(const zoo_text_ids *t, bool lines) {
    return (zoo_dataset){.ids = t->ids.ids,
                         .n = t->ids.count,
                         .line_starts = lines ? t->lines : NULL,
                         .n_lines = lines ? t->n_lines : 0,
                         .text = t->keep_text ? t->text : NULL,
                         .text_len = t->keep_text ? t->text_len : 0,
                         .spans = t->keep_text ? t->spans.spans : NULL};
}

/* Encodes every file of c; with lines, line by line, recording where each
 * starts (sentence pairs need them). Without, a file is encoded whole, as
 * GPT-2's encoder would (white space before a newline groups differently). */
static int encode_corpus(const zoo_tokenizer *tok, const zoo_corpus *c, bool lines,
                         zoo_text_ids *out) {
    for (int f = 0; f < zoo_corpus_count(c); f++) {
        size_t len;
        const char *text = zoo_corpus_file(c, f, &len);
        if (!lines) {
            int st = encode_chunk(tok, text, len, out);
            if (st) return zoo_error(st, "%s: %s", zoo_corpus_path(c, f), zoo_error_message());
            out->bytes += (int64_t)len;
            continue;
        }
        for (size_t at = 0; at < len;) {
            const char *nl = memchr(text + at, '\n', len - at);
            size_t end = nl ? (size_t)(nl - text) + 1 : len; /* the newline is the line's */
            int st = add_line(out);
            if (!st) st = encode_chunk(tok, text + at, end - at, out);
            if (st) return zoo_error(st, "%s: %s", zoo_corpus_path(c, f), zoo_error_message());
            at = end;
        }
        out->bytes += (int64_t)len;
    }
    out->replacements += zoo_corpus_replacements(c);
    return ZOO_OK;
}

static zoo_utf8_policy policy_of(const zoo_config *c) {
    const char *p = zoo_config_string(c, "data.invalid_utf8");
    return p && strcmp(p, "replace") == 0 ? ZOO_UTF8_REPLACE : ZOO_UTF8_ERROR;
}

int zoo_text_encode_files(const zoo_tokenizer *tok, const char *const *paths, int n,
                          zoo_utf8_policy policy, bool lines, zoo_text_ids *out) {
    zoo_corpus *corpus = NULL;
    int st = zoo_corpus_open(paths, n, policy, &corpus);
    if (!st) st = encode_corpus(tok, corpus, lines, out);
    zoo_corpus_close(corpus);
    return st;
}

void zoo_text_ids_free(zoo_text_ids *t) {
    zoo_ids_free(&t->ids);
    free(t->lines);
    free(t->text);
    zoo_spans_free(&t->spans);
    memset(t, 0, sizeof *t);
}

/* The paths of a config key (a path or a list of them). */
static int config_paths(const zoo_config *c, const char *key, const char **paths, int max) {
    int n = zoo_config_count(c, key);
    for (int i = 0; i < n && i < max; i++) paths[i] = zoo_config_string_at(c, key, i);
    return n < max ? n : max;
}

/* Where the corpus (its files one after the other) is cut for the part
 * that ends near byte `at`: at moved forward to a cut between words
 * (zoo_word_counts_cut: a file's start, its end or white space). Every
 * process computes the same cuts, so the parts meet exactly. */
static int64_t corpus_cut(const zoo_corpus *c, int64_t at) {
    int64_t start = 0;
    for (int f = 0; f < zoo_corpus_count(c); f++) {
        size_t len;
        const char *text = zoo_corpus_file(c, f, &len);
        if (at < start + (int64_t)len)
            return start + (int64_t)zoo_word_counts_cut(text, len, (size_t)(at - start));
        start += (int64_t)len;
    }
    return start;
}

/* A word vocabulary counted in parallel: each process of a data-parallel
 * run counts its share of the corpus's bytes (cut between words), the
 * counts are gathered and merged on every process, and each builds the
 * tokenizer from them: the one a single process makes (the vocabulary
 * depends on the counts alone, zoo/tokenizer_type.h). */
static int train_word_parallel(const zoo_tokenizer_settings *s, const zoo_corpus *c,
                               zoo_tokenizer **out) {
    int rank = zoo_dist_rank(), size = zoo_dist_size();
    int64_t total = 0;
    for (int f = 0; f < zoo_corpus_count(c); f++) {
        size_t len;
        zoo_corpus_file(c, f, &len);
        total += (int64_t)len;
    }
    int64_t begin = corpus_cut(c, total * rank / size),
            end = corpus_cut(c, total * (rank + 1) / size);
    zoo_word_counts *mine = NULL, *all = NULL;
    int st = zoo_word_counts_new(s, &mine);
    int64_t start = 0;
    for (int f = 0; st == ZOO_OK && f < zoo_corpus_count(c); f++) {
        size_t len;
        const char *text = zoo_corpus_file(c, f, &len);
        int64_t from = begin > start ? begin : start,
                to = end < start + (int64_t)len ? end : start + (int64_t)len;
        if (from < to)
            st = zoo_word_counts_add_text(mine, text + (from - start), (size_t)(to - from));
        if (st == ZOO_ERR_FORMAT)
            st = zoo_error(st, "%s: %s", zoo_corpus_path(c, f), zoo_error_message());
        start += (int64_t)len;
    }
    void *packed = NULL;
    size_t n = 0;
    if (st == ZOO_OK) st = zoo_word_counts_pack(mine, &packed, &n);
    /* every process's counts, padded to the longest */
    int64_t *sizes = st == ZOO_OK ? calloc((size_t)size, sizeof *sizes) : NULL;
    int64_t mine_size = (int64_t)n, longest = 0;
    if (st == ZOO_OK && !sizes) st = zoo_error(ZOO_ERR_NOMEM, "out of memory");
    if (st == ZOO_OK) st = zoo_dist_all_gather(&mine_size, sizes, sizeof mine_size);
    for (int r = 0; st == ZOO_OK && r < size; r++)
        longest = sizes[r] > longest ? sizes[r] : longest;
    char *padded = st == ZOO_OK ? calloc(1, (size_t)longest) : NULL;
    char *gathered = padded ? malloc((size_t)longest * (size_t)size) : NULL;
    if (st == ZOO_OK && !gathered)
        st = zoo_error(ZOO_ERR_NOMEM, "out of memory for %d x %lld bytes of word counts", size,
                       (long long)longest);
    if (st == ZOO_OK) {
        memcpy(padded, packed, n);
        st = zoo_dist_all_gather(padded, gathered, (size_t)longest);
    }
    if (st == ZOO_OK) st = zoo_word_counts_new(s, &all);
    for (int r = 0; st == ZOO_OK && r < size; r++)
        st = zoo_word_counts_merge(all, gathered + (size_t)longest * (size_t)r, (size_t)sizes[r]);
    if (st == ZOO_OK) st = zoo_word_counts_tokenizer(all, out);
    free(packed), free(sizes), free(padded), free(gathered);
    zoo_word_counts_free(mine);
    zoo_word_counts_free(all);
    return st;
}

static int train_tokenizer(const zoo_config *c, const zoo_corpus *corpus, zoo_objective objective,
                           zoo_tokenizer **out) {
    static const zoo_special mlm_specials[] = {ZOO_TOK_PAD, ZOO_TOK_UNK, ZOO_TOK_CLS, ZOO_TOK_SEP,
                                               ZOO_TOK_MASK};
    static const zoo_special unk_only[] = {ZOO_TOK_UNK};
    zoo_tokenizer_settings s = ZOO_TOKENIZER_SETTINGS_INIT;
    const char *type = zoo_config_string(c, "data.tokenizer.type");
    const char *path = zoo_config_string(c, "data.tokenizer.path");
    if (path) { /* pretrained files */
        /* files say themselves whether they lowercase (a WordPiece
         * vocabulary: tokenizer_config.json, or its casing); lowercase: true insists */
        zoo_tokenizer_load_opts lo = ZOO_TOKENIZER_LOAD_OPTS_INIT;
        if (zoo_config_bool(c, "data.tokenizer.lowercase")) lo.lowercase = 1;
        int st = zoo_tokenizer_load(type, path, &lo, out);
        if (st)
            return zoo_error(st, "%s: data.tokenizer.path: %s",
                             zoo_config_origin(c, "data.tokenizer.path"), zoo_error_message());
        return ZOO_OK;
    }
    bool word = strcmp(type, "char") != 0;
    s.lowercase = zoo_config_bool(c, "data.tokenizer.lowercase");
    if (word)
        s.split = strcmp(zoo_config_string(c, "data.tokenizer.split"), "whitespace") == 0
                      ? ZOO_SPLIT_WHITESPACE
                      : ZOO_SPLIT_PUNCTUATION;
    s.min_count = zoo_config_int(c, "data.tokenizer.min_count");
    s.max_size = (int32_t)zoo_config_int(c, "data.tokenizer.max_size");
    if (objective == ZOO_OBJ_MASKED_LM)
        s.specials = mlm_specials, s.n_specials = 5;
    else
        s.specials = unk_only, s.n_specials = 1;
    /* a word vocabulary is counted by the processes of a run together */
    int st = strcmp(type, "word") == 0 && zoo_dist_size() > 1
                 ? train_word_parallel(&s, corpus, out)
                 : zoo_tokenizer_train(type, &s, corpus, out);
    if (st)
        return zoo_error(st, "%s: data.tokenizer: %s", zoo_config_origin(c, "data.tokenizer.type"),
                         zoo_error_message());
    return ZOO_OK;
}

zoo_data *zoo_data_load(const zoo_config *c, const zoo_registry *r, const char *tokenizer_json,
                        zoo_objective objective, bool keep_text) {
    zoo_data *d = calloc(1, sizeof *d);
    if (!d) return NULL;
    d->train_text.keep_text = d->val_text.keep_text = keep_text;
    const char *paths[64];
    int n = config_paths(c, "data.train", paths, 64);
    zoo_corpus *corpus = NULL;
    int st = zoo_corpus_open(paths, n, policy_of(c), &corpus);
    if (st) /* the file at fault, and the config that named it */
        st = zoo_error(st, "%s: data.train: %s", zoo_config_origin(c, "data.train"),
                       zoo_error_message());
    if (!st && tokenizer_json) {
        st = zoo_tokenizer_restore(r, tokenizer_json, &d->tok, &d->provider);
    } else if (!st) {
        const char *type = zoo_config_string(c, "data.tokenizer.type");
        if ((st = zoo_tokenizer_provide(r, type, &d->provider)) != ZOO_OK)
            st = zoo_error(st, "%s: data.tokenizer.type: %s",
                           zoo_config_origin(c, "data.tokenizer.type"), zoo_error_message());
        else
            st = train_tokenizer(c, corpus, objective, &d->tok);
    }
    /* only sentence pairs and word vectors (sentence boundaries) need lines;
     * without them the split is exactly by position, as nanoGPT's 90/10, and
     * text is encoded as GPT-2 would */
    bool lines = objective == ZOO_OBJ_MASKED_LM || objective == ZOO_OBJ_WORD_VECTORS;
    if (!st) st = encode_corpus(d->tok, corpus, lines, &d->train_text);
    zoo_corpus_close(corpus);
    if (!st && !zoo_config_is_null(c, "data.val")) {
        n = config_paths(c, "data.val", paths, 64);
        st = zoo_text_encode_files(d->tok, paths, n, policy_of(c), lines, &d->val_text);
        if (st)
            st = zoo_error(st, "%s: data.val: %s", zoo_config_origin(c, "data.val"),
                           zoo_error_message());
    }
    if (!st) {
        zoo_dataset all = zoo_text_dataset(&d->train_text, lines);
        if (zoo_config_is_null(c, "data.val")) {
            st = zoo_dataset_split(&all, zoo_config_number(c, "data.val_fraction"), &d->train,
                                   &d->val);
            double share = (double)d->train.n / (double)(all.n ? all.n : 1);
            d->train_bytes = (int64_t)((double)d->train_text.bytes * share);
            d->val_bytes = d->train_text.bytes - d->train_bytes;
        } else {
            d->train = all;
            d->val = zoo_text_dataset(&d->val_text, lines);
            d->train_bytes = d->train_text.bytes, d->val_bytes = d->val_text.bytes;
        }
    }
    if (st) {
        zoo_data_free(d);
        return NULL;
    }
    return d;
}

void zoo_data_free(zoo_data *d) {
    if (!d) return;
    zoo_tokenizer_free(d->tok);
    zoo_plugin_unload(d->provider); /* after the tokenizer: its type is the plugin's code */
    zoo_text_ids_free(&d->train_text);
    zoo_text_ids_free(&d->val_text);
    free(d);
}
