#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batcher.h"
#include "zoo/status.h"

struct zoo_batcher {
    zoo_batcher_config cfg; /* special_ids cleared: `special` replaces it */
    zoo_dataset data;
    int64_t n_units;  /* evaluation: windows, pairs or chunks in one pass; word vectors: chunks */
    uint8_t *special; /* [vocab_size] masked LM: never chosen, never drawn */
    int64_t *pair_lines; /* [n_pairs] nsp: lines i where i and i+1 are both non-empty */
    int64_t n_pairs;
    int64_t *lines; /* [n_nonempty] nsp: the non-empty lines */
    int64_t n_nonempty;
    uint64_t fingerprint;
    zoo_rng rng;
    int64_t cursor; /* next unit: evaluation and word vectors */
    int64_t tokens;
    int32_t *ids, *targets, *mask, *types, *labels; /* [B,T], labels [B] */
    /* token bytes only: [B,T,W], and per position the dataset token it holds,
     * SRC_PAD or SRC_INSERTED */
    int32_t *bytes;
    int64_t *src;
};

#define SRC_PAD (-1)
#define SRC_INSERTED (-2)

static const char *objective_name(zoo_objective o) {
    switch (o) {
    case ZOO_OBJ_CAUSAL_LM:
        return "causal LM";
    case ZOO_OBJ_MASKED_LM:
        return "masked LM";
    case ZOO_OBJ_BIDIRECTIONAL_LM:
        return "bidirectional LM";
    case ZOO_OBJ_WORD_VECTORS:
        return "word vectors";
    }
    return "?";
}

/* ---- datasets ------------------------------------------------------------ */

static int64_t line_start(const zoo_dataset *d, int64_t i) {
    return d->line_starts[i] - d->line_base;
}

static int64_t line_end(const zoo_dataset *d, int64_t i) {
    return i + 1 < d->n_lines ? line_start(d, i + 1) : d->n;
}

static int check_dataset(const zoo_dataset *d) {
    if (d->n < 0) return zoo_error(ZOO_ERR_ARG, "dataset: n = %" PRId64 " is negative", d->n);
    if (d->n > 0 && !d->ids) return zoo_error(ZOO_ERR_ARG, "dataset: ids is NULL");
    if (d->n_lines < 0 || (d->n_lines > 0 && !d->line_starts))
        return zoo_error(ZOO_ERR_ARG, "dataset: %" PRId64 " lines but no line starts", d->n_lines);
    int64_t prev = 0;
    for (int64_t i = 0; i < d->n_lines; i++) {
        int64_t s = line_start(d, i);
        if (s < prev || s > d->n)
            return zoo_error(ZOO_ERR_ARG,
                             "dataset: line %" PRId64 " starts at token %" PRId64
                             ", expected a start in [%" PRId64 ", %" PRId64 "] (starts ascending)",
                             i, s, prev, d->n);
        prev = s;
    }
    return ZOO_OK;
}

/* Spans inside the text (or {-1, -1}); only when token bytes are asked for. */
static int check_spans(const zoo_dataset *d) {
    if (!d->spans) return ZOO_OK;
    if (!d->text && d->text_len != 0)
        return zoo_error(ZOO_ERR_ARG, "dataset: token spans but no text");
    for (int64_t i = 0; i < d->n; i++) {
        zoo_span sp = d->spans[i];
        if (sp.begin == -1 && sp.end == -1) continue;
        if (sp.begin < 0 || sp.end < sp.begin || sp.end > d->text_len)
            return zoo_error(ZOO_ERR_ARG,
                             "dataset: token %" PRId64 " spans bytes [%" PRId64 ", %" PRId64
                             ") of a text of %" PRId64,
                             i, sp.begin, sp.end, d->text_len);
    }
    return ZOO_OK;
}

int zoo_dataset_split(const zoo_dataset *all, double val_fraction, zoo_dataset *train,
                      zoo_dataset *val) {
    if (!all || !train || !val) return zoo_error(ZOO_ERR_ARG, "zoo_dataset_split: NULL argument");
    if (!(val_fraction >= 0 && val_fraction < 1))
        return zoo_error(ZOO_ERR_ARG, "val_fraction: expected a number in [0, 1), got %g",
                         val_fraction);
    int rc = check_dataset(all);
    if (rc) return rc;
    /* nanoGPT: n = len(data); train = data[:int(n*0.9)] */
    int64_t cut = (int64_t)floor((double)all->n * (1.0 - val_fraction));
    if (cut > all->n) cut = all->n;
    int64_t k = all->n_lines; /* the first line of val */
    if (all->n_lines > 0) {
        int64_t lo = 0, hi = all->n_lines;
        while (lo < hi) {
            int64_t mid = lo + (hi - lo) / 2;
            if (line_start(all, mid) < cut)
                lo = mid + 1;
            else
                hi = mid;
        }
        k = lo;
        cut = k < all->n_lines ? line_start(all, k) : all->n;
    }
    *train = (zoo_dataset){all->ids,
                           cut,
                           all->n_lines ? all->line_starts : NULL,
                           k,
                           all->line_base,
                           all->text,
                           all->text_len,
                           all->spans};
    *val = (zoo_dataset){all->ids ? all->ids + cut : NULL,
                         all->n - cut,
                         k < all->n_lines ? all->line_starts + k : NULL,
                         all->n_lines - k,
                         all->line_base + cut,
                         all->text,
                         all->text_len,
                         all->spans ? all->spans + cut : NULL};
    return ZOO_OK;
}

/* ---- creation ------------------------------------------------------------ */

zoo_batcher_config zoo_batcher_defaults(zoo_objective objective) {
    return (zoo_batcher_config){.objective = objective,
                                .mask_prob = 0.15,
                                .mask_id = -1,
                                .cls_id = -1,
                                .sep_id = -1,
                                .pad_id = -1};
}

static uint64_t fingerprint(const zoo_batcher *b) {
    const int64_t fields[] = {b->cfg.objective, b->cfg.B,  b->cfg.T,        b->cfg.eval,
                              b->cfg.nsp,       b->data.n, b->data.n_lines, b->cfg.vocab_size};
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        for (int byte = 0; byte < 8; byte++) {
            h ^= ((uint64_t)fields[i] >> (8 * byte)) & 0xff;
            h *= 0x100000001b3ull;
        }
    return h;
}

static int check_id(const char *what, int32_t id, int32_t vocab) {
    if (id < 0 || id >= vocab)
        return zoo_error(ZOO_ERR_ARG,
                         "masked LM: %s = %" PRId32 " is outside the vocabulary [0, %" PRId32 ")",
                         what, id, vocab);
    return ZOO_OK;
}

/* The special-id bitmap and its checks. */
static int setup_masking(zoo_batcher *b, const zoo_batcher_config *cfg) {
    int32_t V = cfg->vocab_size;
    if (V <= 0) return zoo_error(ZOO_ERR_ARG, "masked LM: vocab_size must be > 0");
    if (!(cfg->mask_prob > 0 && cfg->mask_prob <= 1))
        return zoo_error(ZOO_ERR_ARG, "masked LM: mask_prob: expected a number in (0, 1], got %g",
                         cfg->mask_prob);
    int rc;
    if ((rc = check_id("mask_id", cfg->mask_id, V)) || (rc = check_id("cls_id", cfg->cls_id, V)) ||
        (rc = check_id("sep_id", cfg->sep_id, V)) || (rc = check_id("pad_id", cfg->pad_id, V)))
        return rc;
    if (cfg->n_special < 0 || (cfg->n_special > 0 && !cfg->special_ids))
        return zoo_error(ZOO_ERR_ARG, "masked LM: %d special ids but no list", cfg->n_special);
    b->special = calloc((size_t)V, 1);
    if (!b->special) return zoo_error(ZOO_ERR_NOMEM, "masked LM: out of memory");
    for (int i = 0; i < cfg->n_special; i++) {
        if ((rc = check_id("a special id", cfg->special_ids[i], V))) return rc;
        b->special[cfg->special_ids[i]] = 1;
    }
    b->special[cfg->mask_id] = b->special[cfg->cls_id] = 1;
    b->special[cfg->sep_id] = b->special[cfg->pad_id] = 1;
    int32_t plain = 0;
    for (int32_t v = 0; v < V; v++) plain += !b->special[v];
    if (plain == 0)
        return zoo_error(ZOO_ERR_ARG, "masked LM: every id of the vocabulary is special");
    return ZOO_OK;
}

/* The lines a sentence pair can use. */
static int setup_pairs(zoo_batcher *b) {
    const zoo_dataset *d = &b->data;
    if (d->n_lines == 0)
        return zoo_error(ZOO_ERR_ARG, "masked LM: next-sentence pairs need the corpus lines, and "
                                      "the split has none");
    b->lines = malloc((size_t)d->n_lines * sizeof *b->lines);
    b->pair_lines = malloc((size_t)d->n_lines * sizeof *b->pair_lines);
    if (!b->lines || !b->pair_lines) return zoo_error(ZOO_ERR_NOMEM, "masked LM: out of memory");
    for (int64_t i = 0; i < d->n_lines; i++) {
        if (line_end(d, i) == line_start(d, i)) continue;
        b->lines[b->n_nonempty++] = i;
        if (i + 1 < d->n_lines && line_end(d, i + 1) > line_start(d, i + 1))
            b->pair_lines[b->n_pairs++] = i;
    }
    if (b->n_pairs == 0 || b->n_nonempty < 3)
        return zoo_error(ZOO_ERR_ARG,
                         "masked LM: next-sentence pairs need two consecutive non-empty lines and "
                         "a third to draw from; the split has %" PRId64 " non-empty of %" PRId64
                         " lines",
                         b->n_nonempty, d->n_lines);
    return ZOO_OK;
}

/* Checks that T fits the split and counts the units of one ordered pass. */
static int setup_units(zoo_batcher *b) {
    const char *obj = objective_name(b->cfg.objective);
    int64_t n = b->data.n, T = b->cfg.T;
    switch (b->cfg.objective) {
    case ZOO_OBJ_CAUSAL_LM:
    case ZOO_OBJ_BIDIRECTIONAL_LM:
        if (n < T + 1)
            return zoo_error(ZOO_ERR_ARG,
                             "%s: a window needs T+1 = %" PRId64
                             " tokens, the split holds %" PRId64,
                             obj, T + 1, n);
        b->n_units = (n - 1) / T;
        break;
    case ZOO_OBJ_MASKED_LM:
        if (b->cfg.nsp) {
            b->n_units = b->n_pairs;
        } else {
            if (n < T - 2)
                return zoo_error(ZOO_ERR_ARG,
                                 "%s: a window needs T-2 = %" PRId64
                                 " tokens, the split holds %" PRId64,
                                 obj, T - 2, n);
            b->n_units = n / (T - 2);
        }
        break;
    case ZOO_OBJ_WORD_VECTORS:
        b->n_units = (n + T - 1) / T;
        break;
    }
    return ZOO_OK;
}

static int check_config(const zoo_dataset *data, const zoo_batcher_config *cfg) {
    const char *obj = objective_name(cfg->objective);
    if (cfg->objective < ZOO_OBJ_CAUSAL_LM || cfg->objective > ZOO_OBJ_WORD_VECTORS)
        return zoo_error(ZOO_ERR_ARG, "batcher: unknown objective %d", (int)cfg->objective);
    if (cfg->B < 1)
        return zoo_error(ZOO_ERR_ARG, "%s: B (rows per batch) must be >= 1, got %" PRId64, obj,
                         cfg->B);
    if (cfg->objective == ZOO_OBJ_WORD_VECTORS && cfg->B != 1)
        return zoo_error(
            ZOO_ERR_ARG,
            "word vectors: B must be 1 (one chunk of T tokens per batch), got %" PRId64, cfg->B);
    int64_t min_T = cfg->objective != ZOO_OBJ_MASKED_LM ? 1 : cfg->nsp ? 5 : 3;
    if (cfg->T < min_T)
        return zoo_error(ZOO_ERR_ARG, "%s%s: T must be >= %" PRId64 ", got %" PRId64, obj,
                         cfg->nsp && cfg->objective == ZOO_OBJ_MASKED_LM ? " with sentence pairs"
                                                                         : "",
                         min_T, cfg->T);
    if (cfg->T > (int64_t)(SIZE_MAX / sizeof(int32_t)) / cfg->B)
        return zoo_error(ZOO_ERR_ARG, "%s: B*T = %" PRId64 "*%" PRId64 " is too large", obj, cfg->B,
                         cfg->T);
    if (cfg->vocab_size < 0)
        return zoo_error(ZOO_ERR_ARG, "%s: vocab_size must be >= 0, got %" PRId32, obj,
                         cfg->vocab_size);
    if (cfg->token_bytes < 0)
        return zoo_error(ZOO_ERR_ARG, "%s: token_bytes must be >= 0, got %" PRId32, obj,
                         cfg->token_bytes);
    if (cfg->token_bytes > 0 &&
        cfg->T > (int64_t)(SIZE_MAX / sizeof(int32_t)) / cfg->B / cfg->token_bytes)
        return zoo_error(ZOO_ERR_ARG, "%s: B*T*token_bytes is too large", obj);
    int rc = check_dataset(data);
    if (rc) return rc;
    if (cfg->token_bytes > 0 && (rc = check_spans(data))) return rc;
    if (data->n == 0) return zoo_error(ZOO_ERR_ARG, "%s: empty split: no tokens to batch", obj);
    if (cfg->vocab_size > 0)
        for (int64_t i = 0; i < data->n; i++)
            if (data->ids[i] < 0 || data->ids[i] >= cfg->vocab_size)
                return zoo_error(ZOO_ERR_ARG,
                                 "%s: token id %" PRId32 " at position %" PRId64
                                 " is outside the vocabulary [0, %" PRId32 ")",
                                 obj, data->ids[i], i, cfg->vocab_size);
    return ZOO_OK;
}

zoo_batcher *zoo_batcher_new(const zoo_dataset *data, const zoo_batcher_config *cfg) {
    if (!data || !cfg) {
        zoo_error(ZOO_ERR_ARG, "zoo_batcher_new: NULL argument");
        return NULL;
    }
    if (check_config(data, cfg)) return NULL;
    zoo_batcher *b = calloc(1, sizeof *b);
    if (!b) {
        zoo_error(ZOO_ERR_NOMEM, "zoo_batcher_new: out of memory");
        return NULL;
    }
    b->cfg = *cfg;
    b->cfg.special_ids = NULL;
    b->data = *data;
    bool masked = cfg->objective == ZOO_OBJ_MASKED_LM;
    if (!masked) b->cfg.nsp = false;
    int rc = ZOO_OK;
    if (masked) rc = setup_masking(b, cfg);
    if (!rc && b->cfg.nsp) rc = setup_pairs(b);
    if (!rc) rc = setup_units(b);
    if (rc) {
        zoo_batcher_free(b);
        return NULL;
    }
    size_t cells = (size_t)(cfg->B * cfg->T);
    b->ids = malloc(cells * sizeof *b->ids);
    bool lm = cfg->objective != ZOO_OBJ_WORD_VECTORS;
    if (lm) b->targets = malloc(cells * sizeof *b->targets);
    if (masked) {
        b->mask = malloc(cells * sizeof *b->mask);
        b->types = malloc(cells * sizeof *b->types);
    }
    bool sentences = cfg->objective == ZOO_OBJ_WORD_VECTORS && data->n_lines > 0;
    if (sentences) b->types = malloc(cells * sizeof *b->types);
    if (b->cfg.nsp) b->labels = malloc((size_t)cfg->B * sizeof *b->labels);
    bool bytes = cfg->token_bytes > 0;
    if (bytes) {
        b->bytes = malloc(cells * (size_t)cfg->token_bytes * sizeof *b->bytes);
        b->src = malloc(cells * sizeof *b->src);
    }
    if (!b->ids || (lm && !b->targets) || (masked && (!b->mask || !b->types)) ||
        (sentences && !b->types) || (b->cfg.nsp && !b->labels) ||
        (bytes && (!b->bytes || !b->src))) {
        zoo_error(ZOO_ERR_NOMEM, "zoo_batcher_new: out of memory for [%" PRId64 ",%" PRId64 "]",
                  cfg->B, cfg->T);
        zoo_batcher_free(b);
        return NULL;
    }
    b->fingerprint = fingerprint(b);
    zoo_batcher_rewind(b);
    return b;
}

void zoo_batcher_free(zoo_batcher *b) {
    if (!b) return;
    free(b->special);
    free(b->pair_lines);
    free(b->lines);
    free(b->ids);
    free(b->targets);
    free(b->mask);
    free(b->types);
    free(b->labels);
    free(b->bytes);
    free(b->src);
    free(b);
}

void zoo_batcher_rewind(zoo_batcher *b) {
    zoo_rng_seed(&b->rng, b->cfg.seed);
    b->cursor = 0;
    b->tokens = 0;
}

/* ---- rows ---------------------------------------------------------------- */

/* Uniform in [0, 1) with 53 bits, so mask_prob is honoured to double precision. */
static double uniform(zoo_rng *rng) {
    return (double)(zoo_rng_u64(rng) >> 11) * 0x1.0p-53;
}

/* ids [T], targets [T]: a window of T+1 tokens from `start`. */
static void lm_row(zoo_batcher *b, int64_t row, int64_t start) {
    size_t T = (size_t)b->cfg.T;
    const int32_t *w = b->data.ids + start;
    memcpy(b->ids + row * b->cfg.T, w, T * sizeof *w);
    memcpy(b->targets + row * b->cfg.T, w + 1, T * sizeof *w);
    if (b->src)
        for (size_t t = 0; t < T; t++) b->src[row * b->cfg.T + (int64_t)t] = start + (int64_t)t;
}

/* BERT's 80/10/10 on one chosen position. */
static void replace(zoo_batcher *b, int32_t *id) {
    double u = uniform(&b->rng);
    if (u < 0.8) {
        *id = b->cfg.mask_id;
    } else if (u < 0.9) {
        int32_t r;
        do r = (int32_t)zoo_rng_below(&b->rng, (uint64_t)b->cfg.vocab_size);
        while (b->special[r]);
        *id = r;
    }
}

/* Chooses and replaces the positions of one row's first `len` (real) tokens. */
static void mask_row(zoo_batcher *b, int32_t *ids, int32_t *targets, int64_t len) {
    int64_t eligible = 0, chosen = 0;
    for (int64_t t = 0; t < len; t++) {
        targets[t] = ZOO_IGNORE;
        if (b->special[ids[t]]) continue;
        eligible++;
        if (uniform(&b->rng) < b->cfg.mask_prob) {
            targets[t] = ids[t];
            replace(b, &ids[t]);
            chosen++;
        }
    }
    if (chosen > 0 || eligible == 0) return;
    /* Nothing changed above, so the eligible positions are the same ones. */
    int64_t k = (int64_t)zoo_rng_below(&b->rng, (uint64_t)eligible);
    for (int64_t t = 0; t < len; t++) {
        if (b->special[ids[t]] || k-- > 0) continue;
        targets[t] = ids[t];
        replace(b, &ids[t]);
        return;
    }
}

/* "[CLS] w [SEP]" for the T-2 tokens from `start`. */
static int64_t mlm_window_row(zoo_batcher *b, int64_t row, int64_t start) {
    int64_t T = b->cfg.T;
    int32_t *ids = b->ids + row * T;
    ids[0] = b->cfg.cls_id;
    memcpy(ids + 1, b->data.ids + start, (size_t)(T - 2) * sizeof *ids);
    ids[T - 1] = b->cfg.sep_id;
    for (int64_t t = 0; t < T; t++) {
        b->mask[row * T + t] = 1;
        b->types[row * T + t] = 0;
        if (b->src) b->src[row * T + t] = t == 0 || t == T - 1 ? SRC_INSERTED : start + t - 1;
    }
    mask_row(b, ids, b->targets + row * T, T);
    return T - 2;
}

/* BERT's truncate_seq_pair: the longer of the two loses its last token until
 * they fit (ties: the second), in closed form. */
static void truncate_pair(int64_t *la, int64_t *lb, int64_t max) {
    int64_t excess = *la + *lb - max;
    if (excess <= 0) return;
    int64_t *longer = *la > *lb ? la : lb;
    int64_t gap = *la > *lb ? *la - *lb : *lb - *la;
    int64_t d = gap < excess ? gap : excess;
    *longer -= d;
    excess -= d;
    *lb -= (excess + 1) / 2; /* now equal: the second goes first */
    *la -= excess / 2;
}

/* "[CLS] A [SEP] B [SEP] [PAD]..." with A = line a. */
static int64_t nsp_row(zoo_batcher *b, int64_t row, int64_t a) {
    const zoo_dataset *d = &b->data;
    int64_t T = b->cfg.T, second = a + 1;
    int32_t label = (int32_t)zoo_rng_below(&b->rng, 2);
    if (label == 1) {
        do second = b->lines[zoo_rng_below(&b->rng, (uint64_t)b->n_nonempty)];
        while (second == a || second == a + 1);
    }
    int64_t la = line_end(d, a) - line_start(d, a);
    int64_t lb = line_end(d, second) - line_start(d, second);
    truncate_pair(&la, &lb, T - 3);
    int32_t *ids = b->ids + row * T, *mask = b->mask + row * T, *types = b->types + row * T;
    int64_t t = 0;
    ids[t++] = b->cfg.cls_id;
    memcpy(ids + t, d->ids + line_start(d, a), (size_t)la * sizeof *ids);
    t += la;
    ids[t++] = b->cfg.sep_id;
    int64_t first_len = t;
    memcpy(ids + t, d->ids + line_start(d, second), (size_t)lb * sizeof *ids);
    t += lb;
    ids[t++] = b->cfg.sep_id;
    int64_t len = t;
    for (t = 0; t < T; t++) {
        if (t >= len) ids[t] = b->cfg.pad_id;
        mask[t] = t < len;
        types[t] = t >= first_len && t < len;
    }
    if (b->src) { /* [CLS] A [SEP] B [SEP] [PAD]... */
        int64_t *src = b->src + row * T;
        for (t = 0; t < T; t++) src[t] = t < len ? SRC_INSERTED : SRC_PAD;
        for (t = 0; t < la; t++) src[1 + t] = line_start(d, a) + t;
        for (t = 0; t < lb; t++) src[first_len + t] = line_start(d, second) + t;
    }
    mask_row(b, ids, b->targets + row * T, len);
    for (t = len; t < T; t++) b->targets[row * T + t] = ZOO_IGNORE;
    b->labels[row] = label;
    return la + lb;
}

/* Unit k of an ordered pass (evaluation), or a random one when k < 0
 * (training), into row `row`; returns the corpus tokens it used. */
static int64_t fill_row(zoo_batcher *b, int64_t row, int64_t k) {
    int64_t n = b->data.n, T = b->cfg.T;
    switch (b->cfg.objective) {
    case ZOO_OBJ_CAUSAL_LM:
    case ZOO_OBJ_BIDIRECTIONAL_LM:
        /* nanoGPT's torch.randint(len(data) - block_size): starts 0 .. n-T-1 */
        lm_row(b, row, k < 0 ? (int64_t)zoo_rng_below(&b->rng, (uint64_t)(n - T)) : k * T);
        return T;
    case ZOO_OBJ_MASKED_LM:
        if (b->cfg.nsp) {
            if (k < 0) k = (int64_t)zoo_rng_below(&b->rng, (uint64_t)b->n_pairs);
            return nsp_row(b, row, b->pair_lines[k]);
        }
        /* windows of T-2 tokens: starts 0 .. n-(T-2) */
        return mlm_window_row(
            b, row, k < 0 ? (int64_t)zoo_rng_below(&b->rng, (uint64_t)(n - T + 3)) : k * (T - 2));
    case ZOO_OBJ_WORD_VECTORS:
        break; /* chunks are not rows: see next_chunk */
    }
    return 0;
}

/* The line holding token i: the last line starting at or before it (-1
 * before the first line). */
static int64_t line_of(const zoo_dataset *d, int64_t i) {
    int64_t lo = 0, hi = d->n_lines; /* lines [0, lo) start at or before i */
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (line_start(d, mid) <= i)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo - 1;
}

static int64_t next_chunk(zoo_batcher *b, zoo_batch *batch) {
    int64_t start = b->cursor * b->cfg.T, len = b->data.n - start;
    if (len > b->cfg.T) len = b->cfg.T;
    memcpy(b->ids, b->data.ids + start, (size_t)len * sizeof *b->ids);
    if (b->src)
        for (int64_t i = 0; i < len; i++) b->src[i] = start + i;
    if (b->types) { /* the sentence (line) of each token, counted from the chunk's first */
        const zoo_dataset *d = &b->data;
        int64_t first = line_of(d, start), line = first;
        for (int64_t i = 0; i < len; i++) {
            while (line + 1 < d->n_lines && line_start(d, line + 1) <= start + i) line++;
            b->types[i] = (int32_t)(line - first);
        }
    }
    batch->B = 1;
    batch->T = len;
    b->cursor++;
    return len;
}

static void put_bytes(int32_t *out, int64_t W, const char *s, size_t len) {
    int64_t k = (int64_t)len < W ? (int64_t)len : W;
    for (int64_t i = 0; i < k; i++) out[i] = (unsigned char)s[i];
    for (int64_t i = k; i < W; i++) out[i] = -1;
}

void zoo_token_bytes_fill(const zoo_tokenizer *tok, const int32_t *ids, const char *text,
                          const zoo_span *spans, int64_t n, int64_t W, int32_t *out) {
    for (int64_t i = 0; i < n; i++) {
        const char *s = NULL;
        size_t len = 0;
        if (spans && spans[i].begin >= 0)
            s = text + spans[i].begin, len = (size_t)(spans[i].end - spans[i].begin);
        else if (tok)
            s = zoo_tokenizer_token(tok, ids[i], &len);
        put_bytes(out + i * W, W, s, s ? len : 0);
    }
}

/* The bytes of the positions of rows [0, rows): from each position's source token. */
static void fill_bytes(zoo_batcher *b, int64_t rows, int64_t T) {
    const zoo_dataset *d = &b->data;
    int64_t W = b->cfg.token_bytes;
    for (int64_t i = 0; i < rows * T; i++) {
        int64_t s = b->src[i];
        int32_t *out = b->bytes + i * W;
        if (s == SRC_PAD)
            put_bytes(out, W, NULL, 0);
        else if (s >= 0 && b->ids[i] == d->ids[s]) /* a corpus token, as it was */
            zoo_token_bytes_fill(b->cfg.tok, b->ids + i, d->text, d->spans ? d->spans + s : NULL, 1,
                                 W, out);
        else /* inserted, or replaced by the masked LM: no text of its own */
            zoo_token_bytes_fill(b->cfg.tok, b->ids + i, NULL, NULL, 1, W, out);
    }
}

int zoo_batcher_next(zoo_batcher *b, zoo_batch *batch, zoo_batch_info *info) {
    if (!b || !batch) return zoo_error(ZOO_ERR_ARG, "zoo_batcher_next: NULL argument");
    if (b->cfg.eval && b->cursor >= b->n_units) return 0;
    *batch = (zoo_batch){.size = sizeof(zoo_batch), .B = b->cfg.B, .T = b->cfg.T};
    int64_t before = b->tokens, n = b->data.n;
    bool epoch_end;
    if (b->cfg.objective == ZOO_OBJ_WORD_VECTORS) {
        b->tokens += next_chunk(b, batch);
        epoch_end = b->cursor == b->n_units;
        if (epoch_end && !b->cfg.eval) b->cursor = 0;
    } else if (b->cfg.eval) {
        int64_t rows = b->n_units - b->cursor < b->cfg.B ? b->n_units - b->cursor : b->cfg.B;
        for (int64_t r = 0; r < rows; r++) b->tokens += fill_row(b, r, b->cursor + r);
        b->cursor += rows;
        batch->B = rows;
        epoch_end = b->cursor == b->n_units;
    } else {
        for (int64_t r = 0; r < b->cfg.B; r++) b->tokens += fill_row(b, r, -1);
        epoch_end = before / n != b->tokens / n;
    }
    batch->ids = b->ids;
    batch->targets = b->targets;
    batch->mask = b->mask;
    batch->types = b->types;
    batch->labels = b->labels;
    if (b->bytes) {
        fill_bytes(b, batch->B, batch->T);
        batch->token_bytes = b->bytes;
        batch->W = b->cfg.token_bytes;
    }
    if (info) {
        info->tokens = b->tokens;
        info->epoch = b->cfg.eval ? (int64_t)(b->cursor == b->n_units) : b->tokens / n;
        info->epoch_end = epoch_end;
    }
    return 1;
}

/* ---- state --------------------------------------------------------------- */

/* words: rng s[0..3], cursor, tokens, fingerprint, 0 (reserved) */
void zoo_batcher_save(const zoo_batcher *b, zoo_batcher_state *out) {
    for (int i = 0; i < 4; i++) out->words[i] = b->rng.s[i];
    out->words[4] = (uint64_t)b->cursor;
    out->words[5] = (uint64_t)b->tokens;
    out->words[6] = b->fingerprint;
    out->words[7] = 0;
}

int zoo_batcher_restore(zoo_batcher *b, const zoo_batcher_state *st) {
    const uint64_t *w = st->words;
    if (w[6] != b->fingerprint || w[7] != 0)
        return zoo_error(ZOO_ERR_STATE,
                         "batcher state: saved by a different batcher (objective, B, T, mode, "
                         "split size or vocabulary differ)");
    /* The word-vector stream wraps at the end of a pass; an evaluation pass stops there. */
    int64_t cursor = (int64_t)w[4], tokens = (int64_t)w[5];
    int64_t max_cursor = b->cfg.eval                                ? b->n_units
                         : b->cfg.objective == ZOO_OBJ_WORD_VECTORS ? b->n_units - 1
                                                                    : 0;
    if (cursor < 0 || cursor > max_cursor || tokens < 0 || !(w[0] | w[1] | w[2] | w[3]))
        return zoo_error(ZOO_ERR_STATE,
                         "batcher state: cursor %" PRId64 " (max %" PRId64 "), tokens %" PRId64
                         " or rng out of range",
                         cursor, max_cursor, tokens);
    for (int i = 0; i < 4; i++) b->rng.s[i] = w[i];
    b->cursor = cursor;
    b->tokens = tokens;
    return ZOO_OK;
}

void zoo_batcher_state_format(const zoo_batcher_state *st, char text[ZOO_BATCHER_STATE_TEXT]) {
    int len = snprintf(text, ZOO_BATCHER_STATE_TEXT, "batcher1");
    for (int i = 0; i < ZOO_BATCHER_STATE_WORDS; i++)
        len += snprintf(text + len, (size_t)(ZOO_BATCHER_STATE_TEXT - len), " %016" PRIx64,
                        st->words[i]);
}

static int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

int zoo_batcher_state_parse(const char *text, zoo_batcher_state *out) {
    const char *p = text;
    zoo_batcher_state st;
    if (!text || strncmp(p, "batcher1", 8) != 0) goto bad;
    p += 8;
    for (int i = 0; i < ZOO_BATCHER_STATE_WORDS; i++) {
        if (*p++ != ' ') goto bad;
        st.words[i] = 0;
        for (int j = 0; j < 16; j++, p++) {
            int v = hex_digit(*p);
            if (v < 0) goto bad;
            st.words[i] = st.words[i] << 4 | (uint64_t)v;
        }
    }
    if (*p != '\0') goto bad;
    *out = st;
    return ZOO_OK;
bad:
    return zoo_error(ZOO_ERR_FORMAT,
                     "batcher state: expected \"batcher1\" and %d words of 16 hex digits, got "
                     "\"%.40s%s\"",
                     ZOO_BATCHER_STATE_WORDS, text ? text : "(null)",
                     text && strlen(text) > 40 ? "..." : "");
}
