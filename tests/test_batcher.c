/* Batching for each objective: windows, masking, sentence pairs, the word
 * stream, the split, evaluation passes and resumable state. */
#include <math.h>

#include "batcher.h"
#include "check_util.h"

enum { PAD = 0, UNK = 1, CLS = 2, SEP = 3, MASK = 4 };
static const int32_t unk_only[] = {UNK};

static int32_t *arange(int64_t n) {
    int32_t *ids = malloc((size_t)n * sizeof *ids);
    for (int64_t i = 0; i < n; i++) ids[i] = (int32_t)i;
    return ids;
}

static zoo_batcher_config mlm_config(int32_t vocab, int64_t B, int64_t T, bool nsp) {
    zoo_batcher_config c = zoo_batcher_defaults(ZOO_OBJ_MASKED_LM);
    c.B = B;
    c.T = T;
    c.seed = 1;
    c.vocab_size = vocab;
    c.mask_id = MASK;
    c.cls_id = CLS;
    c.sep_id = SEP;
    c.pad_id = PAD;
    c.special_ids = unk_only;
    c.n_special = 1;
    c.nsp = nsp;
    return c;
}

static zoo_batcher *must_new(const zoo_dataset *d, const zoo_batcher_config *c) {
    zoo_batcher *b = zoo_batcher_new(d, c);
    ck_assert_msg(b != NULL, "zoo_batcher_new: %s", zoo_error_message());
    return b;
}

static void next_batch(zoo_batcher *b, zoo_batch *batch, zoo_batch_info *info) {
    int rc = zoo_batcher_next(b, batch, info);
    ck_assert_msg(rc == 1, "zoo_batcher_next returned %d: %s", rc, zoo_error_message());
}

static bool same_array(const int32_t *a, const int32_t *b, int64_t n) {
    if (!a || !b) return a == b;
    return memcmp(a, b, (size_t)n * sizeof *a) == 0;
}

static bool same_batch(const zoo_batch *a, const zoo_batch *b) {
    int64_t n = a->B * a->T;
    return a->B == b->B && a->T == b->T && same_array(a->ids, b->ids, n) &&
           same_array(a->targets, b->targets, n) && same_array(a->mask, b->mask, n) &&
           same_array(a->types, b->types, n) && same_array(a->labels, b->labels, a->B);
}

/* ---- the corpus of lines used by the sentence-pair tests ----------------- */

/* Line i has line_len(i) tokens (every 7th line blank); token j of line i is
 * 5 + 64 i + j, so any token names its line and position. */
enum { N_LINES = 300, PAIR_VOCAB = 20000 };
static int64_t line_len(int64_t i) {
    return i % 7 == 3 ? 0 : 1 + (i * 37) % 45;
}

static int32_t *line_corpus(int64_t *starts, int64_t *n) {
    int64_t total = 0;
    for (int64_t i = 0; i < N_LINES; i++) total += line_len(i);
    int32_t *ids = malloc((size_t)total * sizeof *ids);
    int64_t t = 0;
    for (int64_t i = 0; i < N_LINES; i++) {
        starts[i] = t;
        for (int64_t j = 0; j < line_len(i); j++) ids[t++] = (int32_t)(5 + 64 * i + j);
    }
    *n = total;
    return ids;
}

/* BERT's truncate_seq_pair, literally. */
static void truncate_reference(int64_t *la, int64_t *lb, int64_t max) {
    while (*la + *lb > max) {
        if (*la > *lb)
            --*la;
        else
            --*lb;
    }
}

/* ---- tests --------------------------------------------------------------- */

START_TEST(test_split_is_nanogpts) {
    /* tinyshakespeare as characters: 1,115,394 -> 1,003,854 / 111,540 */
    const int64_t n = 1115394;
    int32_t *ids = arange(n);
    zoo_dataset all = {.ids = ids, .n = n}, train, val;
    ck_assert_int_eq(zoo_dataset_split(&all, 0.1, &train, &val), ZOO_OK);
    ck_assert_int_eq(train.n, 1003854);
    ck_assert_int_eq(val.n, 111540);
    ck_assert_ptr_eq(train.ids, ids);
    ck_assert_ptr_eq(val.ids, ids + 1003854);
    ck_assert_int_eq(zoo_dataset_split(&all, 0, &train, &val), ZOO_OK);
    ck_assert_int_eq(train.n, n);
    ck_assert_int_eq(val.n, 0);
    ck_assert_int_eq(zoo_dataset_split(&all, 1, &train, &val), ZOO_ERR_ARG);
    ck_assert_str_eq(zoo_error_message(), "val_fraction: expected a number in [0, 1), got 1");
    ck_assert_int_eq(zoo_dataset_split(&all, NAN, &train, &val), ZOO_ERR_ARG);
    ck_assert_int_eq(zoo_dataset_split(&all, -0.1, &train, &val), ZOO_ERR_ARG);
    free(ids);

    /* With lines the cut moves forward to the next line start. */
    int32_t *hundred = arange(100);
    const int64_t starts[] = {0, 10, 25, 40, 70, 95};
    zoo_dataset lined = {.ids = hundred, .n = 100, .line_starts = starts, .n_lines = 6};
    ck_assert_int_eq(zoo_dataset_split(&lined, 0.25, &train, &val), ZOO_OK); /* cut 75 -> 95 */
    ck_assert_int_eq(train.n, 95);
    ck_assert_int_eq(train.n_lines, 5);
    ck_assert_int_eq(val.n, 5);
    ck_assert_int_eq(val.n_lines, 1);
    ck_assert_int_eq(val.line_starts[0] - val.line_base, 0);
    ck_assert_int_eq(val.ids[0], 95);
    ck_assert_int_eq(zoo_dataset_split(&lined, 0.6, &train, &val), ZOO_OK); /* cut 40, a start */
    ck_assert_int_eq(train.n, 40);
    ck_assert_int_eq(train.n_lines, 3);
    ck_assert_int_eq(val.n_lines, 3);
    ck_assert_int_eq(val.line_starts[1] - val.line_base, 30);
    const int64_t bad[] = {0, 30, 20};
    lined.line_starts = bad;
    lined.n_lines = 3;
    ck_assert_int_eq(zoo_dataset_split(&lined, 0.1, &train, &val), ZOO_ERR_ARG);
    ck_assert_str_eq(zoo_error_message(),
                     "dataset: line 2 starts at token 20, expected a start in [30, 100] "
                     "(starts ascending)");
    free(hundred);
}
END_TEST

START_TEST(test_lm_windows_lie_in_the_split_and_shift_by_one) {
    const zoo_objective objectives[] = {ZOO_OBJ_CAUSAL_LM, ZOO_OBJ_BIDIRECTIONAL_LM};
    int32_t *ids = arange(50);
    zoo_dataset all = {.ids = ids, .n = 50}, train, val;
    ck_assert_int_eq(zoo_dataset_split(&all, 0.2, &train, &val), ZOO_OK);
    ck_assert_int_eq(train.n, 40);
    for (int o = 0; o < 2; o++) {
        zoo_batcher_config c = zoo_batcher_defaults(objectives[o]);
        c.B = 4;
        c.T = 8;
        c.seed = 3;
        c.vocab_size = 50;
        zoo_batcher *b = must_new(&train, &c);
        bool hit[40] = {false};
        for (int step = 1; step <= 300; step++) {
            zoo_batch batch;
            zoo_batch_info info;
            next_batch(b, &batch, &info);
            ck_assert_uint_eq(batch.size, sizeof(zoo_batch));
            ck_assert_int_eq(batch.B, 4);
            ck_assert_int_eq(batch.T, 8);
            ck_assert(!batch.mask && !batch.types && !batch.labels);
            for (int r = 0; r < 4; r++) {
                int32_t s = batch.ids[r * 8];
                ck_assert_msg(s >= 0 && s + 8 + 1 <= 40, "window at %d leaves the split", s);
                hit[s] = true;
                for (int t = 0; t < 8; t++) {
                    ck_assert_int_eq(batch.ids[r * 8 + t], s + t);
                    ck_assert_int_eq(batch.targets[r * 8 + t], s + t + 1);
                }
            }
            /* 32 target tokens a batch over a split of 40 */
            ck_assert_int_eq(info.tokens, 32 * step);
            ck_assert_int_eq(info.epoch, 32 * step / 40);
            ck_assert(info.epoch_end == (32 * (step - 1) / 40 != 32 * step / 40));
        }
        for (int s = 0; s < 40; s++) ck_assert_msg(hit[s] == (s <= 31), "start %d", s);
        zoo_batcher_free(b);
    }
    free(ids);
}
END_TEST

/* A batcher for each objective over `lm` (a plain stream) or `lines`. */
static zoo_batcher *any_batcher(int kind, uint64_t seed, const zoo_dataset *lm,
                                const zoo_dataset *lines) {
    zoo_batcher_config c;
    switch (kind) {
    case 0:
        c = zoo_batcher_defaults(ZOO_OBJ_CAUSAL_LM);
        break;
    case 1:
        c = zoo_batcher_defaults(ZOO_OBJ_BIDIRECTIONAL_LM);
        break;
    case 2:
        c = mlm_config(PAIR_VOCAB, 4, 16, false);
        break;
    case 3:
        c = mlm_config(PAIR_VOCAB, 4, 24, true);
        break;
    default:
        c = zoo_batcher_defaults(ZOO_OBJ_WORD_VECTORS);
        break;
    }
    if (kind < 2) c.B = 4, c.T = 16;
    if (kind == 4) c.B = 1, c.T = 100;
    c.seed = seed;
    return must_new(kind == 3 ? lines : lm, &c);
}

START_TEST(test_same_seed_same_batches) {
    int64_t starts[N_LINES], n;
    int32_t *corpus = line_corpus(starts, &n);
    zoo_dataset lines = {.ids = corpus, .n = n, .line_starts = starts, .n_lines = N_LINES};
    zoo_dataset lm = {.ids = corpus, .n = n};
    for (int kind = 0; kind < 5; kind++) {
        zoo_batcher *a = any_batcher(kind, 7, &lm, &lines), *b = any_batcher(kind, 7, &lm, &lines);
        zoo_batcher *other = any_batcher(kind, 8, &lm, &lines);
        int differ = 0;
        for (int step = 0; step < 30; step++) {
            zoo_batch x, y, z;
            next_batch(a, &x, NULL);
            next_batch(b, &y, NULL);
            next_batch(other, &z, NULL);
            ck_assert_msg(same_batch(&x, &y), "objective %d, batch %d", kind, step);
            differ += !same_batch(&x, &z);
        }
        /* The word stream is the corpus in order: no randomness to differ in. */
        if (kind == 4)
            ck_assert_int_eq(differ, 0);
        else
            ck_assert_msg(differ == 30, "objective %d: %d of 30 batches differ", kind, differ);
        zoo_batcher_free(a);
        zoo_batcher_free(b);
        zoo_batcher_free(other);
    }
    free(corpus);
}
END_TEST

START_TEST(test_masking_statistics) {
    /* Distinct ids 5 + i, except an [UNK] (special) every 11th position. */
    const int64_t n = 990, B = 16, T = 64, steps = 300;
    int32_t *data = malloc(n * sizeof *data);
    for (int64_t i = 0; i < n; i++) data[i] = i % 11 == 5 ? UNK : (int32_t)(5 + i);
    zoo_dataset d = {.ids = data, .n = n};
    zoo_batcher_config c = mlm_config(1000, B, T, false);
    zoo_batcher *b = must_new(&d, &c);
    int64_t eligible = 0, chosen = 0, masked = 0, randomised = 0, kept = 0;
    int32_t orig[64];
    for (int64_t step = 0; step < steps; step++) {
        zoo_batch batch;
        next_batch(b, &batch, NULL);
        ck_assert(batch.labels == NULL);
        for (int64_t r = 0; r < B; r++) {
            const int32_t *ids = batch.ids + r * T, *tg = batch.targets + r * T;
            ck_assert_int_eq(ids[0], CLS);
            ck_assert_int_eq(ids[T - 1], SEP);
            for (int64_t t = 0; t < T; t++) {
                ck_assert_int_eq(batch.mask[r * T + t], 1);
                ck_assert_int_eq(batch.types[r * T + t], 0);
                orig[t] = tg[t] == ZOO_IGNORE ? ids[t] : tg[t];
            }
            /* Undo the masking and find the window: every unchosen token is untouched. */
            int64_t s = orig[1] != UNK ? orig[1] - 5 : orig[2] - 6;
            ck_assert(s >= 0 && s + T - 2 <= n);
            for (int64_t t = 1; t < T - 1; t++) ck_assert_int_eq(orig[t], data[s + t - 1]);
            for (int64_t t = 0; t < T; t++) {
                bool special = orig[t] < 5;
                eligible += !special;
                if (tg[t] == ZOO_IGNORE) continue;
                ck_assert_msg(!special, "special token %d chosen", orig[t]);
                chosen++;
                if (ids[t] == MASK) {
                    masked++;
                } else if (ids[t] == tg[t]) {
                    kept++;
                } else {
                    ck_assert_msg(ids[t] >= 5 && ids[t] < 1000, "random id %d", ids[t]);
                    randomised++;
                }
            }
        }
    }
    /* Within 5 binomial standard deviations (a random replacement that drew
     * the original token counts as kept: 1 in 995, far inside that). */
    double frac = (double)chosen / (double)eligible;
    double tol = 5 * sqrt(0.15 * 0.85 / (double)eligible);
    ck_assert_msg(fabs(frac - 0.15) < tol, "chosen %.4f of %ld, expected 0.15 +- %.4f", frac,
                  (long)eligible, tol);
    const double want[3] = {0.8, 0.1, 0.1};
    const int64_t got[3] = {masked, randomised, kept};
    for (int k = 0; k < 3; k++) {
        double f = (double)got[k] / (double)chosen;
        double tk = 5 * sqrt(want[k] * (1 - want[k]) / (double)chosen);
        ck_assert_msg(fabs(f - want[k]) < tk, "class %d: %.4f, expected %.2f +- %.4f", k, f,
                      want[k], tk);
    }
    zoo_batcher_free(b);

    /* However small mask_prob is, every row gets one position to predict. */
    c.mask_prob = 1e-12;
    b = must_new(&d, &c);
    zoo_batch batch;
    next_batch(b, &batch, NULL);
    for (int64_t r = 0; r < B; r++) {
        int count = 0;
        for (int64_t t = 0; t < T; t++) count += batch.targets[r * T + t] != ZOO_IGNORE;
        ck_assert_int_eq(count, 1);
    }
    zoo_batcher_free(b);
    free(data);
}
END_TEST

START_TEST(test_sentence_pairs) {
    int64_t starts[N_LINES], n;
    int32_t *corpus = line_corpus(starts, &n);
    zoo_dataset all = {.ids = corpus, .n = n, .line_starts = starts, .n_lines = N_LINES}, train,
                val;
    ck_assert_int_eq(zoo_dataset_split(&all, 0.3, &train, &val), ZOO_OK);
    int64_t first_val_line = N_LINES - val.n_lines;
    const int64_t B = 8, T = 48, steps = 600;
    zoo_batcher_config c = mlm_config(PAIR_VOCAB, B, T, true);
    zoo_batcher *b = must_new(&val, &c); /* the val view: its line_base is not 0 */
    int64_t random_second = 0, truncated = 0;
    int32_t orig[48];
    for (int64_t step = 0; step < steps; step++) {
        zoo_batch batch;
        next_batch(b, &batch, NULL);
        for (int64_t r = 0; r < B; r++) {
            const int32_t *ids = batch.ids + r * T, *tg = batch.targets + r * T;
            const int32_t *mask = batch.mask + r * T, *types = batch.types + r * T;
            int64_t len = 0, first = -1;
            while (len < T && mask[len]) len++;
            for (int64_t t = 0; t < T; t++) {
                orig[t] = tg[t] == ZOO_IGNORE ? ids[t] : tg[t];
                ck_assert_int_eq(mask[t], t < len);
                if (types[t] && first < 0) first = t;
                if (t >= len) {
                    ck_assert_int_eq(ids[t], PAD);
                    ck_assert_int_eq(types[t], 0);
                    ck_assert_int_eq(tg[t], ZOO_IGNORE);
                }
                if (orig[t] < 5) ck_assert_int_eq(tg[t], ZOO_IGNORE); /* specials never chosen */
            }
            /* [CLS] A [SEP] B [SEP]: type 1 exactly on B and the second [SEP] */
            ck_assert(first >= 3 && len - first >= 2);
            ck_assert_int_eq(ids[0], CLS);
            ck_assert_int_eq(ids[first - 1], SEP);
            ck_assert_int_eq(ids[len - 1], SEP);
            for (int64_t t = 0; t < len; t++) ck_assert_int_eq(types[t], t >= first);
            int64_t la = first - 2, lb = len - first - 1;
            int64_t line_a = (orig[1] - 5) / 64, line_b = (orig[first] - 5) / 64;
            for (int64_t j = 0; j < la; j++) ck_assert_int_eq(orig[1 + j], 5 + 64 * line_a + j);
            for (int64_t j = 0; j < lb; j++) ck_assert_int_eq(orig[first + j], 5 + 64 * line_b + j);
            ck_assert(line_a >= first_val_line && line_b >= first_val_line);
            ck_assert(line_a < N_LINES && line_b < N_LINES);
            int64_t want_a = line_len(line_a), want_b = line_len(line_b);
            ck_assert(want_a > 0 && want_b > 0);
            truncated += want_a + want_b > T - 3;
            truncate_reference(&want_a, &want_b, T - 3);
            ck_assert_int_eq(la, want_a);
            ck_assert_int_eq(lb, want_b);
            if (batch.labels[r] == 0) {
                ck_assert_int_eq(line_b, line_a + 1);
            } else {
                ck_assert_int_eq(batch.labels[r], 1);
                ck_assert(line_b != line_a && line_b != line_a + 1);
                random_second++;
            }
        }
    }
    double rows = (double)(steps * B), frac = (double)random_second / rows;
    ck_assert_msg(fabs(frac - 0.5) < 5 * sqrt(0.25 / rows), "%.4f random second sentences", frac);
    ck_assert(truncated > 100); /* the corpus does exercise truncation */
    zoo_batcher_free(b);
    free(corpus);
}
END_TEST

START_TEST(test_word_stream_covers_every_token_once_per_epoch) {
    const int64_t n = 1000, T = 64;
    int32_t *data = malloc(n * sizeof *data);
    for (int64_t i = 0; i < n; i++) data[i] = (int32_t)((i * 31) % 97);
    zoo_dataset d = {.ids = data, .n = n};
    zoo_batcher_config c = zoo_batcher_defaults(ZOO_OBJ_WORD_VECTORS);
    c.B = 1;
    c.T = T;
    c.vocab_size = 97;
    for (int eval = 0; eval < 2; eval++) {
        c.eval = eval;
        zoo_batcher *b = must_new(&d, &c);
        for (int64_t epoch = 0; epoch < (eval ? 1 : 3); epoch++) {
            int64_t pos = 0;
            for (int chunk = 0; chunk < 16; chunk++) { /* 15 x 64 + 40 */
                zoo_batch batch;
                zoo_batch_info info;
                next_batch(b, &batch, &info);
                ck_assert_int_eq(batch.B, 1);
                ck_assert_int_eq(batch.T, chunk < 15 ? 64 : 40);
                ck_assert(!batch.targets && !batch.mask && !batch.types && !batch.labels);
                ck_assert(same_array(batch.ids, data + pos, batch.T));
                pos += batch.T;
                ck_assert_int_eq(info.epoch_end, chunk == 15);
                ck_assert_int_eq(info.epoch, epoch + (chunk == 15));
                ck_assert_int_eq(info.tokens, epoch * n + pos);
            }
            ck_assert_int_eq(pos, n);
        }
        zoo_batch batch = {0};
        if (eval) ck_assert_int_eq(zoo_batcher_next(b, &batch, NULL), 0);
        zoo_batcher_free(b);
    }
    free(data);
}
END_TEST

/* With lines, types numbers each token's line from the chunk's first (an
 * empty line counts): lines start at 0, 3, 3, 7 and 12 of 14 tokens, chunks of 5. */
START_TEST(test_word_stream_marks_sentences) {
    int32_t *ids = arange(14);
    const int64_t starts[] = {0, 3, 3, 7, 12};
    zoo_dataset d = {.ids = ids, .n = 14, .line_starts = starts, .n_lines = 5};
    zoo_batcher_config c = zoo_batcher_defaults(ZOO_OBJ_WORD_VECTORS);
    c.B = 1;
    c.T = 5;
    zoo_batcher *b = must_new(&d, &c);
    const int32_t want[3][5] = {{0, 0, 0, 2, 2}, {0, 0, 1, 1, 1}, {0, 0, 1, 1}};
    for (int chunk = 0; chunk < 3; chunk++) {
        zoo_batch batch;
        next_batch(b, &batch, NULL);
        ck_assert_ptr_nonnull(batch.types);
        ck_assert(same_array(batch.types, want[chunk], batch.T));
    }
    zoo_batcher_free(b);
    d.line_starts = NULL, d.n_lines = 0; /* no lines: no sentence marks */
    b = must_new(&d, &c);
    zoo_batch batch;
    next_batch(b, &batch, NULL);
    ck_assert_ptr_null(batch.types);
    zoo_batcher_free(b);
    free(ids);
}
END_TEST

START_TEST(test_eval_walks_fixed_windows) {
    int32_t *ids = arange(100);
    zoo_dataset d = {.ids = ids, .n = 100};
    zoo_batcher_config c = zoo_batcher_defaults(ZOO_OBJ_CAUSAL_LM);
    c.B = 4;
    c.T = 10;
    c.eval = true;
    c.seed = 1;
    zoo_batcher *b = must_new(&d, &c);
    c.seed = 99;
    zoo_batcher *other = must_new(&d, &c);
    for (int pass = 0; pass < 2; pass++) {
        int64_t window = 0;
        const int64_t rows[] = {4, 4, 1}; /* floor(99 / 10) = 9 windows */
        for (int k = 0; k < 3; k++) {
            zoo_batch batch, same;
            zoo_batch_info info;
            next_batch(b, &batch, &info);
            next_batch(other, &same, NULL);
            ck_assert(same_batch(&batch, &same)); /* the seed does not matter */
            ck_assert_int_eq(batch.B, rows[k]);
            for (int64_t r = 0; r < batch.B; r++, window++)
                for (int t = 0; t < 10; t++) {
                    ck_assert_int_eq(batch.ids[r * 10 + t], window * 10 + t);
                    ck_assert_int_eq(batch.targets[r * 10 + t], window * 10 + t + 1);
                }
            ck_assert_int_eq(info.epoch_end, k == 2);
        }
        zoo_batch batch = {.B = -1};
        ck_assert_int_eq(zoo_batcher_next(b, &batch, NULL), 0);
        ck_assert_int_eq(batch.B, -1); /* untouched */
        ck_assert_int_eq(zoo_batcher_next(other, &batch, NULL), 0);
        zoo_batcher_rewind(b);
        zoo_batcher_rewind(other);
    }
    zoo_batcher_free(b);
    zoo_batcher_free(other);

    /* Masked windows start at k*(T-2); each pass of a seed masks the same way. */
    int64_t starts[N_LINES], n;
    int32_t *corpus = line_corpus(starts, &n);
    zoo_dataset lm = {.ids = corpus, .n = n};
    c = mlm_config(PAIR_VOCAB, 4, 16, false);
    c.eval = true;
    b = must_new(&lm, &c);
    int64_t batches = 0;
    zoo_batch first, again;
    for (int64_t window = 0; zoo_batcher_next(b, &first, NULL) == 1; batches++)
        for (int64_t r = 0; r < first.B; r++, window++)
            for (int64_t t = 1; t < 15; t++) {
                int32_t tg = first.targets[r * 16 + t];
                ck_assert_int_eq(tg == ZOO_IGNORE ? first.ids[r * 16 + t] : tg,
                                 corpus[window * 14 + t - 1]);
            }
    ck_assert_int_eq(batches, (n / 14 + 3) / 4);
    zoo_batcher_rewind(b);
    c.seed = 2;
    other = must_new(&lm, &c);
    next_batch(b, &first, NULL);
    zoo_batch_info info;
    for (int64_t k = 1; k < batches; k++) next_batch(b, &first, &info);
    ck_assert(info.epoch_end);
    zoo_batcher_rewind(b);
    next_batch(b, &first, NULL);
    next_batch(other, &again, NULL);
    ck_assert(!same_batch(&first, &again)); /* masks come from the seed */
    zoo_batcher_free(b);
    zoo_batcher_free(other);
    free(corpus);
    free(ids);
}
END_TEST

START_TEST(test_state_resumes_bit_identically) {
    int64_t starts[N_LINES], n;
    int32_t *corpus = line_corpus(starts, &n);
    zoo_dataset lines = {.ids = corpus, .n = n, .line_starts = starts, .n_lines = N_LINES};
    zoo_dataset lm = {.ids = corpus, .n = n};
    for (int kind = 0; kind < 5; kind++) {
        zoo_batcher *a = any_batcher(kind, 11, &lm, &lines);
        zoo_batch x, y;
        zoo_batch_info xi, yi;
        /* Word vectors: 60 chunks a pass, so the save falls in the third pass. */
        for (int step = 0; step < (kind == 4 ? 130 : 7); step++) next_batch(a, &x, NULL);
        zoo_batcher_state st, parsed;
        zoo_batcher_save(a, &st);
        char text[ZOO_BATCHER_STATE_TEXT];
        zoo_batcher_state_format(&st, text);
        ck_assert_int_eq(zoo_batcher_state_parse(text, &parsed), ZOO_OK);
        ck_assert_mem_eq(&st, &parsed, sizeof st);
        zoo_batcher *resumed = any_batcher(kind, 12345, &lm, &lines);
        ck_assert_int_eq(zoo_batcher_restore(resumed, &parsed), ZOO_OK);
        for (int step = 0; step < 100; step++) {
            next_batch(a, &x, &xi);
            next_batch(resumed, &y, &yi);
            ck_assert_msg(same_batch(&x, &y), "objective %d, batch %d after resume", kind, step);
            ck_assert(xi.tokens == yi.tokens && xi.epoch == yi.epoch &&
                      xi.epoch_end == yi.epoch_end);
        }
        zoo_batcher_free(a);
        zoo_batcher_free(resumed);
    }

    /* A state from another kind of batcher, or malformed text, is refused. */
    zoo_batcher *causal = any_batcher(0, 1, &lm, &lines);
    zoo_batcher *stream = any_batcher(4, 1, &lm, &lines);
    zoo_batcher_state st;
    zoo_batcher_save(causal, &st);
    ck_assert_int_eq(zoo_batcher_restore(stream, &st), ZOO_ERR_STATE);
    ck_assert_str_eq(zoo_error_message(),
                     "batcher state: saved by a different batcher (objective, B, T, mode, split "
                     "size or vocabulary differ)");
    zoo_batcher_save(stream, &st);
    st.words[4] = (uint64_t)(n + 99) / 100; /* one past the last chunk */
    ck_assert_int_eq(zoo_batcher_restore(stream, &st), ZOO_ERR_STATE);
    zoo_batcher_state parsed;
    ck_assert_int_eq(zoo_batcher_state_parse("batcher1 0123", &parsed), ZOO_ERR_FORMAT);
    ck_assert_str_eq(zoo_error_message(), "batcher state: expected \"batcher1\" and 8 words of 16 "
                                          "hex digits, got \"batcher1 0123\"");
    char text[ZOO_BATCHER_STATE_TEXT];
    zoo_batcher_state_format(&st, text);
    strcat(text, " 0");
    ck_assert_int_eq(zoo_batcher_state_parse(text, &parsed), ZOO_ERR_FORMAT);
    zoo_batcher_free(causal);
    zoo_batcher_free(stream);
    free(corpus);
}
END_TEST

static void expect_refused(const zoo_dataset *d, const zoo_batcher_config *c, const char *message) {
    zoo_error_clear();
    ck_assert_ptr_null(zoo_batcher_new(d, c));
    ck_assert_str_eq(zoo_error_message(), message);
}

/* ---- token bytes --------------------------------------------------------- */

/* Words of which those seen once ("zyzzyva", "Quux" ...) fall out of the
 * vocabulary (min_count 2) and encode to [UNK]. */
static const char bytes_corpus[] =
    "the cat sat on the mat\nthe zyzzyva sat on the cat\n"
    "a dog and the cat on a mat\nQuux the dog sat\n  the   dog and a cat on the mat "
    "extraordinarily the cat\nthe mat sat on a dog\n\nthe cat and the dog sat on a mat\n";

/* The corpus split at white space, independently of the tokenizer. */
static int64_t split_words(char *text, const char **words, int64_t max) {
    int64_t n = 0;
    for (char *w = strtok(text, " \n"); w && n < max; w = strtok(NULL, " \n")) words[n++] = w;
    return n;
}

typedef struct bytes_data {
    zoo_tokenizer *tok;
    zoo_ids ids;
    zoo_spans spans;
    zoo_dataset d;
    char copy[sizeof bytes_corpus];
    const char *words[256];
    int64_t n_words;
} bytes_data;

static void bytes_data_init(bytes_data *bd, bool mlm) {
    static const zoo_special mlm_specials[] = {ZOO_TOK_PAD, ZOO_TOK_UNK, ZOO_TOK_CLS, ZOO_TOK_SEP,
                                               ZOO_TOK_MASK};
    zoo_tokenizer_settings s = ZOO_TOKENIZER_SETTINGS_INIT;
    s.min_count = 2;
    if (mlm) s.specials = mlm_specials, s.n_specials = 5;
    memset(bd, 0, sizeof *bd);
    bd->tok = tokenizer_from_text("word", &s, bytes_corpus);
    ck_assert_ptr_nonnull(bd->tok);
    ck_assert_int_eq(zoo_tokenizer_encode_spans(bd->tok, bytes_corpus, strlen(bytes_corpus),
                                                &bd->ids, &bd->spans),
                     ZOO_OK);
    memcpy(bd->copy, bytes_corpus, sizeof bytes_corpus);
    bd->n_words = split_words(bd->copy, bd->words, 256);
    ck_assert_int_eq(bd->n_words, bd->ids.count);
    bd->d = (zoo_dataset){.ids = bd->ids.ids,
                          .n = bd->ids.count,
                          .text = bytes_corpus,
                          .text_len = (int64_t)strlen(bytes_corpus),
                          .spans = bd->spans.spans};
}

static void bytes_data_free(bytes_data *bd) {
    zoo_ids_free(&bd->ids);
    zoo_spans_free(&bd->spans);
    zoo_tokenizer_free(bd->tok);
}

/* bytes [W] spell s (truncated to W), then -1. */
static void assert_spelled(const int32_t *bytes, int64_t W, const char *s, const char *where) {
    int64_t len = (int64_t)strlen(s);
    for (int64_t k = 0; k < W; k++)
        ck_assert_msg(bytes[k] == (k < len ? (unsigned char)s[k] : -1),
                      "%s: byte %lld is %d, expected the bytes of '%s'", where, (long long)k,
                      bytes[k], s);
}

START_TEST(test_token_bytes_spell_the_original_words) {
    bytes_data bd;
    bytes_data_init(&bd, false);
    int32_t unk = zoo_tokenizer_special(bd.tok, ZOO_TOK_UNK);
    /* evaluation windows: row r of batch j starts at word (j*B + r)*T */
    zoo_batcher_config c = zoo_batcher_defaults(ZOO_OBJ_CAUSAL_LM);
    c.B = 2, c.T = 5, c.eval = true, c.token_bytes = 8, c.tok = bd.tok;
    zoo_batcher *b = must_new(&bd.d, &c);
    zoo_batch batch;
    int64_t unks = 0, row = 0;
    while (zoo_batcher_next(b, &batch, NULL) == 1) {
        ck_assert_int_eq(batch.W, 8);
        ck_assert_ptr_nonnull(batch.token_bytes);
        for (int64_t r = 0; r < batch.B; r++, row++)
            for (int64_t t = 0; t < c.T; t++) {
                int64_t i = r * c.T + t, w = row * c.T + t;
                assert_spelled(batch.token_bytes + i * 8, 8, bd.words[w], "causal");
                unks += batch.ids[i] == unk;
            }
    }
    ck_assert_int_ge(unks, 3); /* zyzzyva, Quux, extraordinarily (truncated) */
    zoo_batcher_free(b);

    /* the word stream, and a split whose views keep their spans */
    zoo_dataset train, val;
    ck_assert_int_eq(zoo_dataset_split(&bd.d, 0.25, &train, &val), ZOO_OK);
    c = zoo_batcher_defaults(ZOO_OBJ_WORD_VECTORS);
    c.B = 1, c.T = 7, c.token_bytes = 3, c.tok = bd.tok;
    b = must_new(&val, &c);
    for (int64_t done = 0; done < val.n;) {
        next_batch(b, &batch, NULL);
        for (int64_t t = 0; t < batch.T; t++) {
            char prefix[4] = {0};
            strncpy(prefix, bd.words[train.n + done + t], 3);
            assert_spelled(batch.token_bytes + t * 3, 3, prefix, "word stream");
        }
        done += batch.T;
    }
    zoo_batcher_free(b);

    /* no token bytes asked: none given */
    c = zoo_batcher_defaults(ZOO_OBJ_CAUSAL_LM);
    c.B = 2, c.T = 5;
    b = must_new(&bd.d, &c);
    next_batch(b, &batch, NULL);
    ck_assert_ptr_null(batch.token_bytes);
    ck_assert_int_eq(batch.W, 0);
    zoo_batcher_free(b);
    bytes_data_free(&bd);
}
END_TEST

/* Masked LM: [CLS], [SEP] and replaced tokens are spelled as their
 * vocabulary strings, kept tokens as written, padding is -1. */
START_TEST(test_token_bytes_of_masked_rows) {
    bytes_data bd;
    bytes_data_init(&bd, true);
    zoo_batcher_config c = mlm_config(zoo_tokenizer_vocab_size(bd.tok), 3, 6, false);
    c.mask_prob = 0.5, c.eval = true, c.token_bytes = 12, c.tok = bd.tok;
    zoo_batcher *b = must_new(&bd.d, &c);
    zoo_batch batch;
    int64_t row = 0, replaced = 0, kept = 0;
    while (zoo_batcher_next(b, &batch, NULL) == 1)
        for (int64_t r = 0; r < batch.B; r++, row++)
            for (int64_t t = 0; t < c.T; t++) {
                int64_t i = r * c.T + t;
                const int32_t *bytes = batch.token_bytes + i * 12;
                int32_t id = batch.ids[i];
                bool inserted = t == 0 || t == c.T - 1;
                bool changed = batch.targets[i] != ZOO_IGNORE && batch.targets[i] != id;
                if (inserted || changed) {
                    assert_spelled(bytes, 12, zoo_tokenizer_token(bd.tok, id, NULL), "replaced");
                    replaced += changed;
                } else {
                    assert_spelled(bytes, 12, bd.words[row * (c.T - 2) + t - 1], "kept");
                    kept++;
                }
            }
    ck_assert_int_gt(replaced, 0);
    ck_assert_int_gt(kept, 0);
    zoo_batcher_free(b);

    /* sentence pairs: padding is all -1 */
    int64_t starts[16], n_lines = 0;
    for (int64_t i = 0; i < bd.ids.count; i++) /* a line where the text has a newline before */
        if (i == 0 || memchr(bytes_corpus + bd.spans.spans[i - 1].end, '\n',
                             (size_t)(bd.spans.spans[i].begin - bd.spans.spans[i - 1].end)))
            starts[n_lines++] = i;
    bd.d.line_starts = starts, bd.d.n_lines = n_lines;
    c = mlm_config(zoo_tokenizer_vocab_size(bd.tok), 4, 24, true);
    c.token_bytes = 4, c.tok = bd.tok;
    b = must_new(&bd.d, &c);
    next_batch(b, &batch, NULL);
    int64_t pads = 0;
    for (int64_t i = 0; i < batch.B * batch.T; i++)
        if (!batch.mask[i]) assert_spelled(batch.token_bytes + i * 4, 4, "", "padding"), pads++;
    ck_assert_int_gt(pads, 0);
    zoo_batcher_free(b);
    bytes_data_free(&bd);
}
END_TEST

/* Without spans the vocabulary strings, without a tokenizer nothing; spans
 * outside the text are refused. */
START_TEST(test_token_bytes_fall_back) {
    bytes_data bd;
    bytes_data_init(&bd, false);
    int32_t unk = zoo_tokenizer_special(bd.tok, ZOO_TOK_UNK);
    zoo_dataset no_spans = {.ids = bd.ids.ids, .n = bd.ids.count};
    zoo_batcher_config c = zoo_batcher_defaults(ZOO_OBJ_CAUSAL_LM);
    c.B = 1, c.T = 30, c.eval = true, c.token_bytes = 6, c.tok = bd.tok;
    zoo_batcher *b = must_new(&no_spans, &c);
    zoo_batch batch;
    next_batch(b, &batch, NULL);
    for (int64_t t = 0; t < 30; t++) {
        assert_spelled(batch.token_bytes + t * 6, 6,
                       zoo_tokenizer_token(bd.tok, batch.ids[t], NULL), "vocabulary");
        if (batch.ids[t] == unk) assert_spelled(batch.token_bytes + t * 6, 6, "[UNK]", "unk");
    }
    zoo_batcher_free(b);
    c.tok = NULL;
    b = must_new(&no_spans, &c);
    next_batch(b, &batch, NULL);
    for (int64_t t = 0; t < 30; t++) assert_spelled(batch.token_bytes + t * 6, 6, "", "none");
    zoo_batcher_free(b);
    /* a {-1, -1} span falls back too (a type without encode_spans) */
    bd.spans.spans[0] = (zoo_span){-1, -1};
    c.tok = bd.tok;
    b = must_new(&bd.d, &c);
    next_batch(b, &batch, NULL);
    assert_spelled(batch.token_bytes, 6, zoo_tokenizer_token(bd.tok, batch.ids[0], NULL), "-1");
    assert_spelled(batch.token_bytes + 6, 6, bd.words[1], "after");
    zoo_batcher_free(b);

    bd.spans.spans[3].end = bd.d.text_len + 1;
    ck_assert_ptr_null(zoo_batcher_new(&bd.d, &c));
    ck_assert_str_eq(zoo_error_message(),
                     "dataset: token 3 spans bytes [12, 207) of a text of 206");
    c.token_bytes = -1;
    ck_assert_ptr_null(zoo_batcher_new(&no_spans, &c));
    ck_assert_str_eq(zoo_error_message(), "causal LM: token_bytes must be >= 0, got -1");
    bytes_data_free(&bd);
}
END_TEST

START_TEST(test_errors_say_what_is_wrong) {
    int32_t *ids = arange(100);
    zoo_dataset d = {.ids = ids, .n = 100};
    zoo_batcher_config c = zoo_batcher_defaults(ZOO_OBJ_CAUSAL_LM);
    c.B = 2;
    c.T = 100;
    expect_refused(&d, &c, "causal LM: a window needs T+1 = 101 tokens, the split holds 100");
    c.T = 8;
    c.B = 0;
    expect_refused(&d, &c, "causal LM: B (rows per batch) must be >= 1, got 0");
    c.B = 2;
    c.vocab_size = 50;
    expect_refused(&d, &c,
                   "causal LM: token id 50 at position 50 is outside the vocabulary [0, 50)");
    zoo_dataset train, val;
    ck_assert_int_eq(zoo_dataset_split(&d, 0, &train, &val), ZOO_OK);
    c.vocab_size = 0;
    expect_refused(&val, &c, "causal LM: empty split: no tokens to batch");

    c = zoo_batcher_defaults(ZOO_OBJ_WORD_VECTORS);
    c.B = 4;
    c.T = 10;
    expect_refused(&d, &c, "word vectors: B must be 1 (one chunk of T tokens per batch), got 4");

    c = mlm_config(1000, 2, 16, false);
    c.vocab_size = 0;
    expect_refused(&d, &c, "masked LM: vocab_size must be > 0");
    c.vocab_size = 1000;
    c.mask_id = -1;
    expect_refused(&d, &c, "masked LM: mask_id = -1 is outside the vocabulary [0, 1000)");
    c.mask_id = MASK;
    c.mask_prob = 0;
    expect_refused(&d, &c, "masked LM: mask_prob: expected a number in (0, 1], got 0");
    c.mask_prob = 0.15;
    c.T = 2;
    expect_refused(&d, &c, "masked LM: T must be >= 3, got 2");
    c.T = 200;
    expect_refused(&d, &c, "masked LM: a window needs T-2 = 198 tokens, the split holds 100");
    c.T = 16;
    c.nsp = true;
    expect_refused(&d, &c,
                   "masked LM: next-sentence pairs need the corpus lines, and the split has none");
    const int64_t starts[] = {0, 50};
    zoo_dataset two = {.ids = ids, .n = 100, .line_starts = starts, .n_lines = 2};
    expect_refused(&two, &c,
                   "masked LM: next-sentence pairs need two consecutive non-empty lines and a "
                   "third to draw from; the split has 2 non-empty of 2 lines");
    c.vocab_size = 5;
    c.nsp = false;
    zoo_dataset five = {.ids = ids, .n = 5};
    expect_refused(&five, &c, "masked LM: every id of the vocabulary is special");
    free(ids);
}
END_TEST

Suite *make_suite(void) {
    Suite *s = suite_create("batcher");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_split_is_nanogpts);
    tcase_add_test(tc, test_lm_windows_lie_in_the_split_and_shift_by_one);
    tcase_add_test(tc, test_same_seed_same_batches);
    tcase_add_test(tc, test_masking_statistics);
    tcase_add_test(tc, test_sentence_pairs);
    tcase_add_test(tc, test_word_stream_covers_every_token_once_per_epoch);
    tcase_add_test(tc, test_word_stream_marks_sentences);
    tcase_add_test(tc, test_eval_walks_fixed_windows);
    tcase_add_test(tc, test_state_resumes_bit_identically);
    tcase_add_test(tc, test_errors_say_what_is_wrong);
    tcase_add_test(tc, test_token_bytes_spell_the_original_words);
    tcase_add_test(tc, test_token_bytes_of_masked_rows);
    tcase_add_test(tc, test_token_bytes_fall_back);
    suite_add_tcase(s, tc);
    return s;
}
