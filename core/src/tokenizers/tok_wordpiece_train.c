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
 * "unable", "##ab" + "##le" gives "##able". The pair counts and the choice
 * of the next merge are merge_stats.c's. The result is deterministic. */
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "merge_stats.h"
#include "tok_wordpiece.h"

typedef struct word {
    int64_t count;
    int32_t n; /* characters */
} word;

typedef struct trainer {
    zoo_vocab *pieces; /* the distinct pieces */
    word *words;       /* by piece id */
    int32_t n_words, cap_words;
    zoo_vocab *v;           /* the vocabulary being built */
    zoo_merge_stats *stats; /* over the words, as character tokens at first */
} trainer;

static int nomem(void) {
    return zoo_error(ZOO_ERR_NOMEM, "wordpiece tokenizer: out of memory while training");
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
            if (id < 0 ||
                !zoo_grow_array((void **)&tr->words, &tr->cap_words, sizeof *tr->words, id + 1)) {
                r = nomem();
                break;
            }
            if (id == tr->n_words) tr->words[tr->n_words++] = (word){.n = p.n_chars};
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
    tr->stats = zoo_merge_stats_new(tr->n_words, total, zoo_merge_stats_vocab_order, tr->v);
    int st = first && later && tr->stats ? ZOO_OK : nomem();
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
    for (int32_t w = 0; w < tr->n_words && st == ZOO_OK; w++) {
        size_t len;
        const utf8proc_uint8_t *s = (const utf8proc_uint8_t *)zoo_vocab_token(tr->pieces, w, &len);
        int32_t *sym = zoo_merge_stats_add(tr->stats, tr->words[w].count, tr->words[w].n), at = 0;
        for (size_t i = 0; i < len;) {
            utf8proc_int32_t cp;
            bool cont = i > 0;
            i += (size_t)utf8proc_iterate(s + i, (utf8proc_ssize_t)(len - i), &cp);
            const int32_t *set = cont ? later : first;
            int32_t n = cont ? n_later : n_first;
            const int32_t *hit = bsearch(&cp, set, (size_t)n, sizeof *set, cmp_cp);
            sym[at++] = first_id + (cont ? n_first : 0) + (int32_t)(hit - set);
        }
    }
    free(first);
    free(later);
    return st == ZOO_ERR_NOMEM ? nomem() : st;
}

/* Counts the pairs, then merges until the vocabulary holds max_size tokens
 * (0: no limit) or no pair occurs `threshold` times. */
static int learn(trainer *tr, int32_t max_size, int64_t threshold) {
    if (zoo_merge_stats_start(tr->stats, threshold) != ZOO_OK) return nomem();
    char *buf = NULL;
    size_t cap_buf = 0;
    int st = ZOO_OK;
    int32_t l, r;
    while ((max_size == 0 || zoo_vocab_size(tr->v) < max_size) &&
           (st = zoo_merge_stats_top(tr->stats, &l, &r)) > 0) {
        size_t nl, nr;
        const char *sl = zoo_vocab_token(tr->v, l, &nl), *sr = zoo_vocab_token(tr->v, r, &nr);
        if (nl + nr > cap_buf) {
            char *grown = realloc(buf, 2 * (nl + nr));
            if (!grown) {
                st = ZOO_ERR_NOMEM;
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
            st = ZOO_ERR_NOMEM;
            break;
        }
        if ((st = zoo_merge_stats_merge(tr->stats, merged)) < 0) break;
    }
    free(buf);
    return st < 0 ? nomem() : ZOO_OK;
}

static void trainer_free(trainer *tr) {
    zoo_vocab_free(tr->pieces);
    free(tr->words);
    zoo_vocab_free(tr->v);
    zoo_merge_stats_free(tr->stats);
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
