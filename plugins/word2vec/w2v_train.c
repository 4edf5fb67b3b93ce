/* word2vec's training: the update of one centre word, and a step over a
 * chunk of the corpus shared among threads. */
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "word2vec.h"
#include "zoo/fastmath.h"

/* Everything below train_pieces is inlined into it, so that its AVX2 clone
 * holds AVX2 code throughout. */
#define HOT static inline __attribute__((always_inline))

/* Eight lanes: a 256-bit register with AVX2, two 128-bit ones without. */
typedef float v8 __attribute__((vector_size(32)));

HOT v8 load8(const float *p) {
    v8 v;
    memcpy(&v, p, sizeof v);
    return v;
}

HOT void store8(float *p, v8 v) {
    memcpy(p, &v, sizeof v);
}

HOT float dot(const float *a, const float *b, int64_t n) {
    v8 s0 = {0}, s1 = {0}; /* two chains, so additions overlap */
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        s0 += load8(a + i) * load8(b + i);
        s1 += load8(a + i + 8) * load8(b + i + 8);
    }
    for (; i + 8 <= n; i += 8) s0 += load8(a + i) * load8(b + i);
    s0 += s1;
    float s = ((s0[0] + s0[4]) + (s0[1] + s0[5])) + ((s0[2] + s0[6]) + (s0[3] + s0[7]));
    for (; i < n; i++) s += a[i] * b[i];
    return s;
}

/* error += g * row; row += g * x: one prediction's two updates in one pass. */
HOT void learn(float *restrict error, float *restrict row, const float *restrict x, float g,
               int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        v8 r = load8(row + i);
        store8(error + i, load8(error + i) + g * r);
        store8(row + i, r + g * load8(x + i));
    }
    for (; i < n; i++) {
        error[i] += g * row[i];
        row[i] += g * x[i];
    }
}

HOT void add(float *restrict y, const float *restrict x, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) store8(y + i, load8(y + i) + load8(x + i));
    for (; i < n; i++) y[i] += x[i];
}

/* One binary prediction of label from x against row: the SGD step on row
 * and on error (x's), and, when asked, the loss -log P(label) (0 otherwise:
 * a logarithm per prediction would cost a fifth of training). */
HOT double predict(float *error, float *row, const float *x, int label, float alpha, bool want_loss,
                   int64_t n) {
    float f = dot(x, row, n);
    float p = 1.0f / (1.0f + zoo_expf(-f)); /* P(label 1) */
    learn(error, row, x, alpha * ((float)label - p), n);
    if (!want_loss) return 0;
    /* -log P(label) = log(1 + e^(-f)) or log(1 + e^f), exact for large |f| too */
    float z = label ? -f : f;
    return z > 15.0f ? (double)z : (double)log1pf(expf(z));
}

/* The predictions of one input vector x (a context word, or CBOW's
 * context) for the centre: its Huffman path, then its negatives. The
 * predictions whose loss was taken are counted in *predictions. */
HOT double predict_centre(const w2v_update *u, const float *x, float *error, int32_t centre,
                          const int32_t *neg, int n_neg, float alpha, bool want_loss,
                          int64_t *predictions) {
    int64_t n = u->dim, made = 0;
    double loss = 0;
    if (u->tree) {
        const w2v_huffman *h = u->tree;
        const int32_t *points = h->points + h->offset[centre];
        const uint8_t *codes = h->codes + h->offset[centre];
        for (int32_t k = 0; k < h->length[centre]; k++)
            loss += predict(error, u->output_hs + (int64_t)points[k] * n, x, 1 - codes[k], alpha,
                            want_loss, n);
        made += h->length[centre];
    }
    if (u->output) {
        loss += predict(error, u->output + (int64_t)centre * n, x, 1, alpha, want_loss, n);
        made++;
        for (int k = 0; k < n_neg; k++) {
            if (neg[k] == centre) continue;
            loss += predict(error, u->output + (int64_t)neg[k] * n, x, 0, alpha, want_loss, n);
            made++;
        }
    }
    if (want_loss) *predictions += made;
    return loss;
}

HOT double update_centre(const w2v_update *u, int32_t centre, const int32_t *context, int n_context,
                         const int32_t *neg, int n_neg, float alpha, bool want_loss, float *work,
                         int64_t *predictions) {
    int64_t n = u->dim;
    float *error = work, *mixed = work + n;
    double loss = 0;
    if (!u->cbow) {
        for (int j = 0; j < n_context; j++) {
            float *x = u->input + (int64_t)context[j] * n;
            memset(error, 0, (size_t)n * sizeof *error);
            loss += predict_centre(u, x, error, centre, neg + j * n_neg, n_neg, alpha, want_loss,
                                   predictions);
            add(x, error, n);
        }
        return loss;
    }
    memset(mixed, 0, (size_t)n * sizeof *mixed);
    for (int j = 0; j < n_context; j++) add(mixed, u->input + (int64_t)context[j] * n, n);
    if (u->cbow_mean)
        for (int64_t i = 0; i < n; i++) mixed[i] /= (float)n_context;
    memset(error, 0, (size_t)n * sizeof *error);
    loss += predict_centre(u, mixed, error, centre, neg, n_neg, alpha, want_loss, predictions);
    for (int j = 0; j < n_context; j++) add(u->input + (int64_t)context[j] * n, error, n);
    return loss;
}

double w2v_update_centre(const w2v_update *u, int32_t centre, const int32_t *context, int n_context,
                         const int32_t *neg, int n_neg, float alpha, float *work,
                         int64_t *predictions) {
    return update_centre(u, centre, context, n_context, neg, n_neg, alpha, true, work, predictions);
}

/* ---- a step over a chunk ------------------------------------------------- */

/* Asks for a row's cache lines ahead of use: the noise words' rows are
 * scattered over the output matrix, and waiting for them was a third of
 * the training time. */
HOT void prefetch_row(const float *row, int64_t n) {
    for (int64_t i = 0; i < n; i += 16) __builtin_prefetch(row + i);
}

/* splitmix64: one word of state, so each thread carries its own cheaply. */
HOT uint64_t next_random(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* A draw from the alias table: the high half of one 64-bit number picks the
 * column, the low half decides between it and its alias. */
HOT int32_t draw_noise(const w2v_alias_table *t, uint64_t *s) {
    uint64_t r = next_random(s);
    int64_t column = (int64_t)(((r >> 32) * (uint64_t)t->n) >> 32);
    float coin = (float)(r & 0xffffffffu) * 0x1p-32f;
    return coin < t->accept[column] ? (int32_t)column : t->alias[column];
}

/* A chunk is cut into pieces, more than threads, that the threads take in
 * turn: on a shared machine one thread may lose its core for a while, and
 * the others then train its pieces instead of waiting at the step's end. */
#define MAX_PIECES 64
#define PIECES_PER_THREAD 4
#define MIN_PIECE 500 /* tokens */

typedef struct chunk_job {
    zoo_model *m;
    const int32_t *ids, *sentence; /* sentence: the batch's types, or NULL */
    int n_pieces;
    int64_t bounds[MAX_PIECES + 1]; /* piece k: [bounds[k], bounds[k+1]) */
    uint64_t seeds[MAX_PIECES];     /* per piece, so one thread is deterministic */
    atomic_int next;                /* the next piece to take */
    float alpha;
    int loss_every; /* the loss of every centre word (1), or of one in loss_every */
    double loss[MAX_PIECES];
    int64_t predictions[MAX_PIECES];
    atomic_int failed;
} chunk_job;

/* Trains sentence ids[0, n): drops the untrained and sub-sampled words
 * (into words), then one update per remaining word with a random reduced
 * window. */
HOT double train_sentence(const zoo_model *m, const w2v_update *u, int32_t *words,
                          const int32_t *ids, int64_t n, float alpha, int loss_every, uint64_t *rng,
                          float *work, int32_t *context, int32_t *neg, int64_t *predictions) {
    int64_t kept = 0;
    for (int64_t i = 0; i < n; i++) {
        uint64_t keep = m->keep[ids[i]];
        if (keep == 0 || (keep < (1ULL << 32) && (next_random(rng) >> 32) >= keep)) continue;
        words[kept++] = ids[i];
    }
    double loss = 0;
    int window = m->window;
    for (int64_t p = 0; p < kept; p++) {
        int64_t reach = window - (int64_t)(next_random(rng) % (uint64_t)window);
        int64_t lo = p - reach < 0 ? 0 : p - reach, hi = p + reach >= kept ? kept - 1 : p + reach;
        int n_context = 0;
        for (int64_t q = lo; q <= hi; q++)
            if (q != p) context[n_context++] = words[q];
        if (n_context == 0) continue;
        int draws = m->cbow ? m->negative : m->negative * n_context;
        for (int k = 0; k < draws; k++) {
            neg[k] = draw_noise(&m->noise, rng);
            prefetch_row(u->output + (int64_t)neg[k] * u->dim, u->dim);
        }
        loss += update_centre(u, words[p], context, n_context, neg, m->negative, alpha,
                              p % loss_every == 0, work, predictions);
    }
    return loss;
}

ZOO_VECTOR_CLONES static void train_pieces(void *ctx, int index, int n_workers) {
    (void)index, (void)n_workers;
    chunk_job *job = ctx;
    const zoo_model *m = job->m;
    int64_t dim = m->dim, longest = 0;
    for (int k = 0; k < job->n_pieces; k++)
        if (job->bounds[k + 1] - job->bounds[k] > longest)
            longest = job->bounds[k + 1] - job->bounds[k];
    int32_t *words = malloc((size_t)(longest > 0 ? longest : 1) * sizeof *words);
    int32_t *context = malloc((size_t)(2 * m->window + 1) * sizeof *context);
    int32_t *neg = malloc((size_t)(2 * m->window * m->negative + 1) * sizeof *neg);
    float *work = malloc((size_t)(2 * dim) * sizeof *work);
    if (!words || !context || !neg || !work) {
        job->failed = 1;
        free(words), free(context), free(neg), free(work);
        return;
    }
    w2v_update u = {.dim = dim,
                    .input = zoo_f32(m->input),
                    .output = m->output ? zoo_f32(m->output) : NULL,
                    .output_hs = m->output_hs ? zoo_f32(m->output_hs) : NULL,
                    .tree = m->hs ? &m->tree : NULL,
                    .cbow = m->cbow,
                    .cbow_mean = m->cbow_mean};
    for (int k; (k = atomic_fetch_add(&job->next, 1)) < job->n_pieces;) {
        uint64_t rng = job->seeds[k];
        double loss = 0;
        int64_t predictions = 0;
        for (int64_t s = job->bounds[k], end = job->bounds[k + 1]; s < end;) { /* a sentence */
            int64_t e = s + 1;
            if (job->sentence)
                while (e < end && job->sentence[e] == job->sentence[s]) e++;
            else
                e = end;
            loss += train_sentence(m, &u, words, job->ids + s, e - s, job->alpha, job->loss_every,
                                   &rng, work, context, neg, &predictions);
            s = e;
        }
        job->loss[k] = loss;
        job->predictions[k] = predictions;
    }
    free(words), free(context), free(neg), free(work);
}

int w2v_train_chunk(zoo_model *m, const zoo_batch *batch, float alpha, zoo_rng *rng, bool update,
                    zoo_step_stats *stats) {
    if (!m->keep)
        return zoo_error(ZOO_ERR_STATE,
                         "word2vec: the model has no vocabulary counts (it needs a word tokenizer "
                         "trained on the corpus)");
    if (batch->B != 1 || !batch->ids)
        return zoo_error(ZOO_ERR_ARG, "word2vec: expected one chunk of ids (B = 1), got B = %lld",
                         (long long)batch->B);
    int64_t T = batch->T;
    for (int64_t i = 0; i < T; i++)
        if (batch->ids[i] < 0 || batch->ids[i] >= m->V)
            return zoo_error(ZOO_ERR_ARG, "word2vec: id %d at position %lld is outside [0, %lld)",
                             batch->ids[i], (long long)i, (long long)m->V);
    chunk_job *job = calloc(1, sizeof *job);
    if (!job) return zoo_error(ZOO_ERR_NOMEM, "word2vec: out of memory");
    *job = (chunk_job){.m = m,
                       .ids = batch->ids,
                       .sentence = batch->types,
                       .alpha = update ? alpha : 0,
                       /* training reports an estimate; evaluation the exact mean */
                       .loss_every = update ? 8 : 1};
    /* Pieces of about T/n tokens, each moved forward to a sentence start so
     * that no window spans two pieces. Each piece draws from its own seed, so
     * an evaluation cuts by T alone: its loss must not move with the thread
     * count. Training cuts by threads (Hogwild depends on them anyway). */
    int threads = zoo_threads_count(), n = update ? threads * PIECES_PER_THREAD : MAX_PIECES;
    if (n > MAX_PIECES) n = MAX_PIECES;
    if (n > T / MIN_PIECE) n = T / MIN_PIECE > 0 ? (int)(T / MIN_PIECE) : 1;
    job->n_pieces = n;
    job->bounds[0] = 0;
    for (int k = 1; k < n; k++) {
        int64_t at = T * k / n;
        if (at < job->bounds[k - 1]) at = job->bounds[k - 1];
        while (batch->types && at > 0 && at < T && batch->types[at] == batch->types[at - 1]) at++;
        job->bounds[k] = at;
    }
    job->bounds[n] = T;
    for (int k = 0; k < n; k++) job->seeds[k] = zoo_rng_u64(rng);
    atomic_init(&job->next, 0);
    atomic_init(&job->failed, 0);
    zoo_parallel_run(threads < n ? threads : n, train_pieces, job);
    int failed = job->failed;
    double loss = 0;
    int64_t predictions = 0;
    for (int k = 0; k < n; k++) loss += job->loss[k], predictions += job->predictions[k];
    free(job);
    if (failed)
        return zoo_error(ZOO_ERR_NOMEM, "word2vec: out of memory for a chunk of %lld",
                         (long long)T);
    stats->loss = predictions ? loss / (double)predictions : 0;
    stats->tokens = T;
    return ZOO_OK;
}
