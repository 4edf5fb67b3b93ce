#include "text_vectors.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text_input.h"
#include "token_windows.h"
#include "vectors_source.h"
#include "zoo/ops.h"
#include "zoo/status.h"

#define CHUNK 512    /* texts encoded at a time: their windows are sorted by length */
#define MAX_BATCH 64 /* windows per embed */
#define BATCH_TOKENS                                                                               \
    16384 /* positions per embed, padding included (a window longer goes alone)                    \
           */

int zoo_text_source_open(const zoo_cli *cli, const char *path, zoo_text_source *out) {
    memset(out, 0, sizeof *out);
    out->cli = cli;
    if (zoo_is_word2vec_file(path))
        return (out->v = zoo_vectors_open(cli, path)) ? 0 : ZOO_EXIT_FAILURE;
    int status = zoo_cli_open_model(cli, path, ZOO_NEEDS_TOKENIZER, &out->model);
    if (!status) out->m = &out->model;
    return status;
}

void zoo_text_source_close(zoo_text_source *s) {
    if (s->v) zoo_word_vectors_free(s->v);
    if (s->m) zoo_cli_close_model(s->m);
    s->v = NULL, s->m = NULL;
}

int zoo_text_source_embed(const zoo_text_source *s, zoo_graph *g, const zoo_batch *b, int layer,
                          zoo_tensor **x) {
    const zoo_plugin *d = s->m->plugin->plugin;
    zoo_tensor *v = NULL;
    int st = d->ops->embed(s->m->model->model, g, b, layer, &v);
    char why[1024];
    if (st || !v || zoo_graph_status(g)) {
        snprintf(why, sizeof why, "%s",
                 zoo_graph_status(g) ? zoo_graph_error(g) : zoo_error_message());
        return zoo_error(st ? st : ZOO_ERR_STATE, "embed: %s", why);
    }
    /* every layer: [L,B,T,C], or [B,T,C] from a plugin that has one, or does
     * not know ZOO_EMBED_ALL_LAYERS; one layer: B*T*C values */
    int64_t C = v->shape[v->ndim - 1];
    int64_t L = layer == ZOO_EMBED_ALL_LAYERS && v->ndim == 4 ? v->shape[0] : 1;
    if (C < 1 || L < 1 || v->numel != L * b->B * b->T * C) {
        zoo_shape_str(v, why, sizeof why);
        return zoo_error(ZOO_ERR_SHAPE, "embed: plugin '%s' returned %s for %lld positions%s",
                         d->name, why, (long long)(b->B * b->T),
                         layer == ZOO_EMBED_ALL_LAYERS ? " (every layer)" : "");
    }
    if (!(*x = zoo_view(g, v, L, b->B, b->T, C))) {
        snprintf(why, sizeof why, "%s", zoo_graph_error(g));
        return zoo_error(ZOO_ERR_STATE, "embed: %s", why);
    }
    return ZOO_OK;
}

int zoo_word_rows(const zoo_word_vectors *v, const char *text, size_t len, int64_t **rows,
                  int64_t *n, void (*unknown)(void *ctx, const char *word), void *ctx) {
    static const char *const space = " \t\r\n\f\v";
    *rows = NULL, *n = 0;
    char *copy = strndup(text, len);
    if (!copy) return zoo_error(ZOO_ERR_NOMEM, "out of memory");
    int64_t cap = 0;
    char *save = NULL;
    for (char *w = strtok_r(copy, space, &save); w; w = strtok_r(NULL, space, &save)) {
        if (*n == cap) {
            cap = cap ? 2 * cap : 16;
            int64_t *grown = realloc(*rows, (size_t)cap * sizeof *grown);
            if (!grown) {
                free(copy), free(*rows), *rows = NULL, *n = 0;
                return zoo_error(ZOO_ERR_NOMEM, "out of memory");
            }
            *rows = grown;
        }
        int64_t row = zoo_word_vectors_find(v, w, 0, true);
        if (row < 0 && unknown) unknown(ctx, w);
        (*rows)[(*n)++] = row;
    }
    free(copy);
    return ZOO_OK;
}

void zoo_pooled_free(zoo_pooled *p) {
    free(p->x);
    memset(p, 0, sizeof *p);
}

/* A word2vec file: each text's known words, pooled. */
static int pool_words(const zoo_text_source *s, const char *const *texts, const size_t *lens,
                      const zoo_pool_plan *plan, const char *what, zoo_pooled *out) {
    const zoo_word_vectors *v = s->v;
    int64_t C = v->dim;
    out->L = 1, out->C = C;
    if (!(out->x = calloc((size_t)(out->n * C), sizeof *out->x)))
        return zoo_cli_fail(s->cli, ZOO_EXIT_FAILURE, "%s: out of memory", what);
    for (int64_t i = 0; i < out->n; i++) {
        int64_t *rows, n, known = 0;
        if (zoo_word_rows(v, texts[i], lens[i], &rows, &n, NULL, NULL))
            return zoo_cli_fail(s->cli, ZOO_EXIT_FAILURE, "%s: %s", what, zoo_error_message());
        float *x = out->x + i * C;
        for (int64_t t = 0; t < n; t++) {
            if (rows[t] < 0) continue;
            const float *row = v->data + rows[t] * C;
            if (plan->pool == ZOO_POOL_MEAN)
                for (int64_t c = 0; c < C; c++) x[c] += row[c];
            else if (plan->pool == ZOO_POOL_LAST || known == 0)
                memcpy(x, row, (size_t)C * sizeof *x);
            known++;
        }
        if (known && plan->pool == ZOO_POOL_MEAN)
            for (int64_t c = 0; c < C; c++) x[c] /= (float)known;
        out->empty += known == 0;
        free(rows);
    }
    return 0;
}

/* One text of a chunk, encoded. */
typedef struct encoded {
    zoo_ids ids;
    int32_t *bytes; /* [T,W] or NULL */
} encoded;

/* One window of one text: content tokens [start, start + len) of the text's
 * tokens between [CLS] and [SEP] (all of them when the tokenizer adds
 * neither), supplying the span [from, to). */
typedef struct piece {
    int64_t text, k, count;
    int64_t start, len, from, to;
    int64_t T; /* its positions: len, plus [CLS] and [SEP]; a text in one window: all of it */
} piece;

/* What every window of a pooling shares. */
typedef struct pooling {
    const zoo_text_source *s;
    const zoo_pool_plan *plan;
    const char *what;
    zoo_pooled *out;
    int64_t wrap;                /* 1 when the tokenizer adds [CLS] and [SEP], else 0 */
    int32_t W;                   /* token bytes per position, 0 for none */
    int32_t pad;                 /* the id of padding positions */
    int32_t *ids, *mask, *bytes; /* the batch: [cap] positions ([cap,W] bytes) */
    int64_t cap;
} pooling;

/* Longest first; a text's windows (all of one length) stay in order. */
static int longest_first(const void *a, const void *b) {
    const piece *p = a, *q = b;
    if (p->T != q->T) return p->T > q->T ? -1 : 1;
    if (p->text != q->text) return p->text < q->text ? -1 : 1;
    return (p->k > q->k) - (p->k < q->k);
}

/* The text position that window position t of p holds. */
static int64_t source_of(const pooling *P, const piece *p, const encoded *e, int64_t t) {
    if (p->count == 1) return t;
    if (P->wrap && t == 0) return 0;
    if (P->wrap && t == p->T - 1) return e->ids.count - 1;
    return p->start + t; /* content token start + t - wrap, after the wrap of [CLS] */
}

/* The window positions p adds to its text's vector, in order, into pos; their count. */
static int64_t positions(const pooling *P, const piece *p, int64_t *pos) {
    int64_t n = 0, last = p->k == p->count - 1;
    if (P->plan->pool == ZOO_POOL_FIRST || P->plan->pool == ZOO_POOL_POOLER) {
        if (p->k == 0) pos[n++] = 0;
    } else if (P->plan->pool == ZOO_POOL_LAST) {
        if (last) pos[n++] = p->T - 1;
    } else if (p->count == 1) {
        for (int64_t t = 0; t < p->T; t++) pos[n++] = t;
    } else { /* [CLS] from the first window, the span, [SEP] from the last */
        if (P->wrap && p->k == 0) pos[n++] = 0;
        for (int64_t j = p->from; j < p->to; j++) pos[n++] = P->wrap + j - p->start;
        if (P->wrap && last) pos[n++] = p->T - 1;
    }
    return n;
}

/* The model's pooled output of a batch, [1,B,1,C], for ZOO_POOL_POOLER. */
static int pooled_output(pooling *P, zoo_graph *g, const zoo_batch *b, zoo_tensor **x) {
    const zoo_saved_model *m = P->s->m;
    zoo_outputs out = {.size = sizeof out};
    if (m->plugin->plugin->ops->forward(m->model->model, g, b, &out) != ZOO_OK ||
        zoo_graph_status(g))
        return zoo_cli_fail(P->s->cli, ZOO_EXIT_FAILURE, "%s: forward: %s", P->what,
                            zoo_graph_status(g) ? zoo_graph_error(g) : zoo_error_message());
    if (!out.pooled)
        return zoo_cli_fail(P->s->cli, ZOO_EXIT_FAILURE,
                            "--pool pooler: a %s model has no pooled output (BERT's [CLS] "
                            "through its pooler); take --pool cls or mean",
                            m->plugin->plugin->name);
    *x = zoo_view(g, out.pooled, 1, b->B, 1, out.pooled->shape[1]);
    return *x ? 0 : zoo_cli_fail(P->s->cli, ZOO_EXIT_FAILURE, "%s: %s", P->what,
                                 zoo_graph_error(g));
}

/* Embeds pieces [0, B) (padded to the first one's length) and adds or
 * copies what each supplies into its text's vector. */
static int embed_batch(pooling *P, zoo_graph *g, const piece *pieces, int64_t B,
                       const encoded *chunk, int64_t first_text, int64_t *pos) {
    int64_t T = pieces[0].T, W = P->W;
    for (int64_t b = 0; b < B; b++) {
        const piece *p = &pieces[b];
        const encoded *e = &chunk[p->text];
        for (int64_t t = 0; t < T; t++) {
            int64_t from = t < p->T ? source_of(P, p, e, t) : -1, at = b * T + t;
            P->ids[at] = from >= 0 ? e->ids.ids[from] : P->pad;
            P->mask[at] = from >= 0;
            for (int64_t i = 0; i < W; i++)
                P->bytes[at * W + i] = from >= 0 ? e->bytes[from * W + i] : -1;
        }
    }
    zoo_batch batch = {.size = sizeof batch,
                       .B = B,
                       .T = T,
                       .ids = P->ids,
                       .mask = P->mask,
                       .token_bytes = W ? P->bytes : NULL,
                       .W = W};
    zoo_graph_reset(g);
    zoo_graph_set_recording(g, false);
    zoo_tensor *x;
    if (P->plan->pool == ZOO_POOL_POOLER) { /* [B,C] as [1,B,1,C]: one position a window */
        if (pooled_output(P, g, &batch, &x)) return ZOO_EXIT_FAILURE;
        T = 1;
    } else if (zoo_text_source_embed(P->s, g, &batch, P->plan->layer, &x)) {
        return zoo_cli_fail(P->s->cli, ZOO_EXIT_FAILURE, "%s: %s", P->what, zoo_error_message());
    }
    zoo_pooled *out = P->out;
    int64_t L = x->shape[0], C = x->shape[3];
    if (!out->x) {
        out->L = L, out->C = C;
        if (!(out->x = calloc((size_t)(out->n * L * C), sizeof *out->x)))
            return zoo_cli_fail(P->s->cli, ZOO_EXIT_FAILURE, "%s: out of memory", P->what);
    } else if (L != out->L || C != out->C) {
        return zoo_cli_fail(P->s->cli, ZOO_EXIT_FAILURE,
                            "%s: embed gave [%lld,*,*,%lld] for one batch, [%lld,*,*,%lld] "
                            "for another",
                            P->what, (long long)L, (long long)C, (long long)out->L,
                            (long long)out->C);
    }
    const float *v = zoo_f32(x); // (L,B,T,C)
    for (int64_t b = 0; b < B; b++) {
        const piece *p = &pieces[b];
        int64_t n = positions(P, p, pos);
        float *dst = out->x + (first_text + p->text) * L * C; // (L,C)
        for (int64_t l = 0; l < L; l++)
            for (int64_t i = 0; i < n; i++) {
                const float *src = v + ((l * B + b) * T + pos[i]) * C;
                float *row = dst + l * C;
                if (P->plan->pool == ZOO_POOL_MEAN)
                    for (int64_t c = 0; c < C; c++) row[c] += src[c];
                else
                    memcpy(row, src, (size_t)C * sizeof *row);
            }
    }
    return 0;
}

/* Texts [first, first + n) of the pooling: encoded, cut into windows, embedded. */
static int pool_chunk(pooling *P, zoo_graph *g, const char *const *texts, const size_t *lens,
                      int64_t first, int64_t n) {
    const zoo_text_source *s = P->s;
    encoded chunk[CHUNK] = {0};
    piece *pieces = NULL;
    int64_t *pos = NULL, count = 0, cap = 0, longest = 0;
    int status = 0;
    for (int64_t i = 0; !status && i < n; i++) {
        encoded *e = &chunk[i];
        status = zoo_encode_with_bytes(s->cli, s->m->tokenizer, texts[first + i], lens[first + i],
                                       false, P->W, &e->ids, &e->bytes);
        int64_t all = e->ids.count, content = all - 2 * P->wrap;
        if (status || all == 0) {
            P->out->empty += !status;
            continue;
        }
        int64_t size =
            P->plan->window > 0 && all > P->plan->window ? P->plan->window - 2 * P->wrap : 0;
        int64_t windows = zoo_windows_count(content, size);
        P->out->windowed += windows > 1;
        if (count + windows > cap) {
            cap = 2 * (count + windows);
            piece *grown = realloc(pieces, (size_t)cap * sizeof *grown);
            if (!grown)
                status = zoo_cli_fail(s->cli, ZOO_EXIT_FAILURE, "out of memory");
            else
                pieces = grown;
        }
        for (int64_t k = 0; !status && k < windows; k++) {
            if (((P->plan->pool == ZOO_POOL_FIRST || P->plan->pool == ZOO_POOL_POOLER) &&
                 k > 0) ||
                (P->plan->pool == ZOO_POOL_LAST && k < windows - 1))
                continue; /* a window that supplies nothing is not embedded */
            piece *p = &pieces[count++];
            *p = (piece){.text = i, .k = k, .count = windows};
            zoo_window_at(content, size, k, &p->start, &p->len, &p->from, &p->to);
            p->T = windows == 1 ? all : p->len + 2 * P->wrap;
            longest = p->T > longest ? p->T : longest;
        }
    }
    if (!status && count) {
        qsort(pieces, (size_t)count, sizeof *pieces, longest_first);
        if (!(pos = malloc((size_t)longest * sizeof *pos)))
            status = zoo_cli_fail(s->cli, ZOO_EXIT_FAILURE, "out of memory");
    }
    for (int64_t at = 0; !status && at < count;) {
        int64_t T = pieces[at].T, B = 1;
        while (at + B < count && B < MAX_BATCH && (B + 1) * T <= BATCH_TOKENS) B++;
        if (B * T > P->cap) {
            P->cap = B * T;
            free(P->ids), free(P->mask), free(P->bytes);
            P->ids = malloc((size_t)P->cap * sizeof *P->ids);
            P->mask = malloc((size_t)P->cap * sizeof *P->mask);
            P->bytes = malloc((size_t)(P->cap * (P->W ? P->W : 1)) * sizeof *P->bytes);
            if (!P->ids || !P->mask || !P->bytes)
                status = zoo_cli_fail(s->cli, ZOO_EXIT_FAILURE, "out of memory");
        }
        if (!status) status = embed_batch(P, g, pieces + at, B, chunk, first, pos);
        at += B;
    }
    zoo_pooled *out = P->out;
    for (int64_t i = 0; !status && P->plan->pool == ZOO_POOL_MEAN && i < n; i++)
        for (int64_t j = 0; chunk[i].ids.count && j < out->L * out->C; j++)
            out->x[(first + i) * out->L * out->C + j] /= (float)chunk[i].ids.count;
    for (int64_t i = 0; i < n; i++) zoo_ids_free(&chunk[i].ids), free(chunk[i].bytes);
    free(pieces), free(pos);
    return status;
}

int zoo_text_vectors_pool(const zoo_text_source *s, const char *const *texts, const size_t *lens,
                          int64_t n, const zoo_pool_plan *plan, const char *what, zoo_pooled *out) {
    memset(out, 0, sizeof *out);
    out->n = n;
    if (s->v) return pool_words(s, texts, lens, plan, what, out);
    const zoo_tokenizer *tok = s->m->tokenizer;
    pooling P = {.s = s,
                 .plan = plan,
                 .what = what,
                 .out = out,
                 .wrap = zoo_encode_wraps(tok),
                 .W = zoo_plugin_token_bytes(s->m->plugin->plugin),
                 .pad = zoo_tokenizer_special(tok, ZOO_TOK_PAD)};
    if (P.pad < 0) P.pad = 0;
    if (plan->window > 0 && plan->window <= 2 * P.wrap)
        return zoo_cli_fail(s->cli, ZOO_EXIT_FAILURE,
                            "a window of %lld tokens leaves no room for the text beside the "
                            "[CLS] and [SEP] the model adds to each",
                            (long long)plan->window);
    zoo_graph *g = zoo_graph_new(0);
    int status = g ? 0 : zoo_cli_fail(s->cli, ZOO_EXIT_FAILURE, "out of memory");
    for (int64_t first = 0; !status && first < n; first += CHUNK)
        status = pool_chunk(&P, g, texts, lens, first, n - first < CHUNK ? n - first : CHUNK);
    if (!status && !out->x)
        status = zoo_cli_fail(s->cli, ZOO_EXIT_FAILURE, "%s: no text has a token", what);
    free(P.ids), free(P.mask), free(P.bytes);
    zoo_graph_free(g);
    return status;
}
