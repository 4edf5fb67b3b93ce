/* The char-CNN operator (see elmo_charcnn.h), one tape entry per filter
 * bank. A word of ELMo's is mostly padding: "the" fills 5 of its 50
 * character slots, so most of a bank's windows lie wholly in the padding,
 * and every such window has the same value for a filter, whatever the
 * word. Each bank computes that value once, and its product only over the
 * windows that touch a real character (about a sixth of them for English
 * words): the same maximum as the dense convolution, at a sixth of the work. */
#include "elmo_charcnn.h"

#include <float.h>
#include <string.h>

#include "zoo/fastmath.h"
#include "zoo/op.h"
#include "zoo/threads.h"

typedef struct bank_saved {
    const int32_t *ids; /* [U, MC] the character ids (the graph holds them) */
    int32_t *arg;       /* [U, F] the winning window, -1: a padding window */
    int64_t U, MC;
} bank_saved;

/* The first padding slot of each word: its windows at t < len touch a real character. */
static void word_lengths(const int32_t *ids, int64_t U, int64_t MC, int64_t *len) {
    for (int64_t u = 0; u < U; u++) {
        int64_t n = MC;
        while (n > 0 && ids[u * MC + n - 1] == ELMO_CHAR_PAD) n--;
        len[u] = n;
    }
}

typedef struct bank_grad {
    const bank_saved *s;
    const float *table, *w, *dout;
    float *dw, *dtable_parts; /* dtable_parts: [tasks, 261, E] */
    int64_t F, K, E, tasks;
} bank_grad;

/* Filter groups [begin, end): each (word, filter) adds its winning
 * window's product into dw[f] and the characters' rows into its group's
 * part of the table's gradient. */
static void bank_grad_groups(void *ctx, int64_t begin, int64_t end) {
    const bank_grad *j = ctx;
    const bank_saved *s = j->s;
    int64_t K = j->K, E = j->E, KE = K * E, per = (j->F + j->tasks - 1) / j->tasks;
    for (int64_t task = begin; task < end; task++) {
        float *dtable = j->dtable_parts ? j->dtable_parts + task * ELMO_N_CHARS * E : NULL;
        int64_t f_end = (task + 1) * per < j->F ? (task + 1) * per : j->F;
        for (int64_t f = task * per; f < f_end; f++) {
            const float *wf = j->w + f * KE;
            float *dwf = j->dw ? j->dw + f * KE : NULL;
            for (int64_t u = 0; u < s->U; u++) {
                float d = j->dout[u * j->F + f];
                if (d == 0.0f) continue;
                int32_t t = s->arg[u * j->F + f];
                for (int64_t k = 0; k < K; k++) {
                    int32_t c = t >= 0 ? s->ids[u * s->MC + t + k] : ELMO_CHAR_PAD;
                    const float *x = j->table + (int64_t)c * E;
                    if (dwf)
                        for (int64_t e = 0; e < E; e++) dwf[k * E + e] += d * x[e];
                    if (dtable)
                        for (int64_t e = 0; e < E; e++) dtable[c * E + e] += d * wf[k * E + e];
                }
            }
        }
    }
}

static void bank_backward(zoo_graph *g, zoo_node *n) {
    const bank_saved *s = zoo_op_saved(n);
    zoo_tensor *table = zoo_op_input(n, 0), *w = zoo_op_input(n, 1), *b = zoo_op_input(n, 2);
    const float *dout = zoo_op_output(n)->grad; /* [U, F] */
    int64_t F = w->shape[0], K = w->shape[1], E = w->shape[2];
    float *db = b ? zoo_op_grad(g, b) : NULL;
    if (db)
        for (int64_t u = 0; u < s->U; u++)
            for (int64_t f = 0; f < F; f++) db[f] += dout[u * F + f];
    float *dw = zoo_op_grad(g, w), *dtable = zoo_op_grad(g, table);
    if (!dw && !dtable) return;
    /* filters in fixed groups, each with its own character-gradient part,
     * summed in group order: the same sums whatever the thread count */
    int64_t tasks = F < 8 ? 1 : 8, per = (F + tasks - 1) / tasks;
    tasks = (F + per - 1) / per;
    float *parts = NULL;
    if (dtable) {
        parts = zoo_graph_alloc(g, (size_t)(tasks * ELMO_N_CHARS * E) * sizeof *parts);
        if (!parts) return;
        memset(parts, 0, (size_t)(tasks * ELMO_N_CHARS * E) * sizeof *parts);
    }
    bank_grad job = {.s = s,
                     .table = zoo_f32(table),
                     .w = zoo_f32(w),
                     .dout = dout,
                     .dw = dw,
                     .dtable_parts = parts,
                     .F = F,
                     .K = K,
                     .E = E,
                     .tasks = tasks};
    zoo_parallel_for(tasks, 1, bank_grad_groups, &job);
    for (int64_t t = 0; parts && t < tasks; t++)
        for (int64_t i = 0; i < ELMO_N_CHARS * E; i++) dtable[i] += parts[t * ELMO_N_CHARS * E + i];
}

typedef struct max_job {
    const float *y, *pad, *bias; /* y [R,F] the real windows' products */
    const int64_t *first;        /* [U+1] each word's first row of y */
    float *out;                  /* [U,F] */
    int32_t *arg;                /* [U,F] or NULL */
    int64_t F, windows;
} max_job;

/* Words [begin, end): the maximum over their windows, the padding ones
 * last (so a real window wins a tie, the first of them, as
 * zoo_conv1d_maxpool picks), then the bias. The winners, when recording,
 * in a second pass: the max itself then vectorises. */
ZOO_VECTOR_CLONES static void max_over_windows(void *ctx, int64_t begin, int64_t end) {
    const max_job *j = ctx;
    int64_t F = j->F;
    for (int64_t u = begin; u < end; u++) {
        int64_t n = j->first[u + 1] - j->first[u];
        const float *rows = j->y + j->first[u] * F;
        float *restrict best = j->out + u * F;
        memcpy(best, n > 0 ? rows : j->pad, (size_t)F * sizeof *best);
        for (int64_t t = 1; t < n; t++)
            for (int64_t f = 0; f < F; f++)
                best[f] = rows[t * F + f] > best[f] ? rows[t * F + f] : best[f];
        if (n > 0 && n < j->windows)
            for (int64_t f = 0; f < F; f++) best[f] = j->pad[f] > best[f] ? j->pad[f] : best[f];
        if (j->arg) {
            int32_t *restrict arg = j->arg + u * F;
            for (int64_t f = 0; f < F; f++) arg[f] = -1;
            for (int64_t t = n - 1; t >= 0; t--) /* backwards: the first maximum stays */
                for (int64_t f = 0; f < F; f++)
                    arg[f] = rows[t * F + f] == best[f] ? (int32_t)t : arg[f];
        }
        if (j->bias)
            for (int64_t f = 0; f < F; f++) best[f] += j->bias[f];
    }
}

/* One bank: table [261,E], w [F,K,E], b [F] -> [U,F] (the max over windows). */
static zoo_tensor *conv_bank(zoo_graph *g, zoo_tensor *table, zoo_tensor *w, zoo_tensor *b,
                             const int32_t *ids, const int64_t *len, int64_t U, int64_t MC) {
    zoo_tensor *in[3] = {table, w, b};
    if (!zoo_op_begin(g, "elmo_conv_bank", in, 3)) return NULL;
    int64_t F = w->shape[0], K = w->shape[1], E = w->shape[2], KE = K * E, windows = MC - K + 1;
    zoo_tensor *out = zoo_new(g, ZOO_F32, U, F);
    int64_t *first = zoo_graph_alloc(g, (size_t)(U + 1) * sizeof *first); /* rows per word */
    if (!out || !first) return NULL;
    first[0] = 0;
    for (int64_t u = 0; u < U; u++) first[u + 1] = first[u] + (len[u] < windows ? len[u] : windows);
    int64_t R = first[U];
    float *a = zoo_graph_alloc(g, (size_t)(R * KE + 1) * sizeof *a);
    float *pad = zoo_graph_alloc(g, (size_t)F * sizeof *pad);
    if (!a || !pad) return NULL;
    const float *tab = zoo_f32(table), *wt = zoo_f32(w), *bias = b ? zoo_f32(b) : NULL;
    /* the windows that touch a real character, one row each */
    for (int64_t u = 0; u < U; u++)
        for (int64_t t = 0; t < first[u + 1] - first[u]; t++) {
            float *row = a + (first[u] + t) * KE;
            for (int64_t k = 0; k < K; k++)
                memcpy(row + k * E, tab + (int64_t)ids[u * MC + t + k] * E,
                       (size_t)E * sizeof *row);
        }
    /* [R,KE] x [F,KE]^T on core's product (its threads), off the tape:
     * this operator's backward does the gradients */
    zoo_tensor *windows_t = zoo_tensor_wrap(g, ZOO_F32, 2, ZOO_SHAPE(R > 0 ? R : 1, KE), a);
    zoo_tensor *filters_t = zoo_tensor_wrap(g, ZOO_F32, 2, ZOO_SHAPE(F, KE), (void *)wt);
    zoo_tensor *prod = R > 0 ? zoo_matmul(g, windows_t, filters_t, false, true) : NULL;
    if (R > 0 && !prod) return NULL;
    const float *y = prod ? zoo_f32(prod) : NULL;
    /* a window wholly in the padding: the same for every word */
    const float *pad_row = tab + (int64_t)ELMO_CHAR_PAD * E;
    for (int64_t f = 0; f < F; f++) {
        float v = 0;
        for (int64_t k = 0; k < K; k++)
            for (int64_t e = 0; e < E; e++) v += wt[(f * K + k) * E + e] * pad_row[e];
        pad[f] = v;
    }
    bool rec = zoo_op_needs_grad(g, in, 3);
    int32_t *arg = rec ? zoo_graph_alloc(g, (size_t)(U * F) * sizeof *arg) : NULL;
    if (rec && !arg) return NULL;
    max_job mj = {.y = y,
                  .pad = pad,
                  .bias = bias,
                  .first = first,
                  .out = zoo_f32(out),
                  .arg = arg,
                  .F = F,
                  .windows = windows};
    zoo_parallel_for(U, 16, max_over_windows, &mj);
    if (rec) {
        zoo_node *node = zoo_op_record(g, out, bank_backward, in, 3, sizeof(bank_saved));
        if (!node) return NULL;
        *(bank_saved *)zoo_op_saved(node) = (bank_saved){.ids = ids, .arg = arg, .U = U, .MC = MC};
    }
    return out;
}

zoo_tensor *elmo_char_cnn(zoo_graph *g, zoo_model *m, zoo_tensor *ids) {
    if (!ids || zoo_graph_status(g)) return NULL;
    int64_t U = ids->shape[0], MC = ids->shape[1];
    const int32_t *id = ids->data;
    for (int64_t i = 0; i < U * MC; i++)
        if (id[i] < 0 || id[i] >= ELMO_N_CHARS) {
            zoo_graph_fail(g, ZOO_ERR_ARG, "elmo_char_cnn: character id %d outside [0,%d)", id[i],
                           ELMO_N_CHARS);
            return NULL;
        }
    int64_t *len = zoo_graph_alloc(g, (size_t)U * sizeof *len);
    if (!len) return NULL;
    word_lengths(id, U, MC, len);
    zoo_tensor *banks[ELMO_MAX_FILTERS];
    for (int i = 0; i < m->n_filters; i++)
        banks[i] = conv_bank(g, m->char_embed, m->cnn_w[i], m->cnn_b[i], id, len, U, MC);
    return zoo_concat(g, banks, (int)m->n_filters, 1);
}
