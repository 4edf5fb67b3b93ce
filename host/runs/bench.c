#include "bench.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "batcher.h"
#include "clock.h"
#include "model.h"
#include "quantize.h"
#include "synthetic.h"
#include "zoo/flops.h"
#include "zoo/ops.h"
#include "zoo/optim.h"
#include "zoo/status.h"

#define WORD_KINDS 10000  /* a self-updating plugin's synthetic vocabulary, before cuts */
#define MIN_WORDS 200000  /* and its corpus's least length */
#define DEFAULT_VOCAB 256 /* ids of a plugin without vocab_size */
#define LR 1e-3f          /* zoo train's default train.optimizer.lr */
#define GRAD_CLIP 1.0f    /* zoo train's default train.grad_clip */

static zoo_bench_stat stat_of(const double *x, int n) {
    double mean = 0, ss = 0;
    for (int i = 0; i < n; i++) mean += x[i];
    mean /= n;
    for (int i = 0; i < n; i++) ss += (x[i] - mean) * (x[i] - mean);
    return (zoo_bench_stat){mean, n > 1 ? sqrt(ss / (n - 1)) : 0.0};
}

/* tokens/s and GFLOP/s of each run, then their means and deviations. */
static void phase_finish(zoo_bench_phase *ph) {
    double rate[ZOO_BENCH_MAX_REPEAT], gflops[ZOO_BENCH_MAX_REPEAT];
    for (int i = 0; i < ph->runs; i++) {
        rate[i] = (double)ph->tokens[i] / ph->seconds[i];
        gflops[i] = 1e-9 * (double)ph->flops[i] / ph->seconds[i];
    }
    ph->tokens_per_s = stat_of(rate, ph->runs);
    ph->gflops = stat_of(gflops, ph->runs);
}

/* --- one plugin ------------------------------------------------------- */

typedef struct bench {
    zoo_loaded *p;
    const zoo_bench_opts *o;
    zoo_hparams *hp;
    zoo_synthetic data;
    zoo_batcher *batches;
    zoo_host_model *model;
    zoo_graph *g;
    zoo_rng rng;
    zoo_optim_config optim;
    int64_t step;
} bench;

static bool is_set(const zoo_bench_opts *o, const char *name) {
    size_t len = strlen(name);
    for (int i = 0; i < o->n_sets; i++)
        if (strncmp(o->sets[i], name, len) == 0 && o->sets[i][len] == '=') return true;
    return false;
}

static int apply_sets(bench *b) {
    for (int i = 0; i < b->o->n_sets; i++) {
        const char *s = b->o->sets[i], *eq = strchr(s, '=');
        char name[128];
        if (!eq) return zoo_error(ZOO_ERR_ARG, "--set %s: expected NAME=VALUE", s);
        snprintf(name, sizeof name, "%.*s", (int)(eq - s), s);
        if (zoo_hparams_set_text(b->hp, name, eq + 1) != ZOO_OK)
            return zoo_error(ZOO_ERR_ARG, "--set %s: %s", s, zoo_error_message());
    }
    return ZOO_OK;
}

/* The data, and vocab_size and block_size as zoo train sets them. */
static int make_data(bench *b) {
    static const zoo_special mlm_specials[] = {ZOO_TOK_PAD, ZOO_TOK_UNK, ZOO_TOK_CLS, ZOO_TOK_SEP,
                                               ZOO_TOK_MASK};
    static const zoo_special unk_only[] = {ZOO_TOK_UNK};
    const zoo_plugin *d = b->p->plugin;
    const zoo_bench_opts *o = b->o;
    bool masked = d->objective == ZOO_OBJ_MASKED_LM;
    bool has_vocab = zoo_hparams_find(b->hp, "vocab_size") != NULL;
    int st;
    if (d->capabilities & ZOO_CAP_SELF_UPDATE) {
        if (is_set(o, "vocab_size"))
            return zoo_error(ZOO_ERR_ARG,
                             "--set vocab_size: a self-updating plugin's vocabulary is its "
                             "tokenizer's, trained on the synthetic corpus");
        int64_t words = 20 * o->B * o->T > MIN_WORDS ? 20 * o->B * o->T : MIN_WORDS;
        st = zoo_synthetic_words(&b->data, WORD_KINDS, words, masked ? mlm_specials : unk_only,
                                 masked ? 5 : 1, o->seed);
        if (!st && has_vocab)
            st = zoo_hparams_set_int(b->hp, "vocab_size", zoo_tokenizer_vocab_size(b->data.tok));
    } else {
        int64_t V = has_vocab ? zoo_hparams_int(b->hp, "vocab_size") : DEFAULT_VOCAB;
        if (V > INT32_MAX)
            return zoo_error(ZOO_ERR_ARG, "vocab_size %lld is too large", (long long)V);
        int32_t first = masked ? 5 : 0; /* [PAD] [UNK] [CLS] [SEP] [MASK] */
        if (V <= first)
            return zoo_error(ZOO_ERR_ARG, "vocab_size %lld leaves no ids past the %d special ones",
                             (long long)V, first);
        int64_t line = o->T / 2 > 0 ? o->T / 2 : 1;
        st = zoo_synthetic_ids(&b->data, (int32_t)V, first, 8 * o->B * (o->T + 1), line,
                               zoo_plugin_token_bytes(d) > 0, o->seed);
    }
    if (st) return st;
    if (zoo_hparams_find(b->hp, "block_size")) {
        if (!is_set(o, "block_size")) {
            if ((st = zoo_hparams_set_int(b->hp, "block_size", o->T)))
                return zoo_error(st, "block_size = --seq-len %lld: %s", (long long)o->T,
                                 zoo_error_message());
        } else if (zoo_hparams_int(b->hp, "block_size") < o->T)
            return zoo_error(ZOO_ERR_ARG, "--set block_size=%lld is shorter than --seq-len %lld",
                             (long long)zoo_hparams_int(b->hp, "block_size"), (long long)o->T);
    }
    return ZOO_OK;
}

/* The batcher zoo train would make for the plugin's objective. */
static int make_batches(bench *b) {
    const zoo_plugin *d = b->p->plugin;
    bool vectors = d->objective == ZOO_OBJ_WORD_VECTORS, masked = d->objective == ZOO_OBJ_MASKED_LM;
    zoo_batcher_config bc = zoo_batcher_defaults(d->objective);
    bc.B = vectors ? 1 : b->o->B;
    bc.T = vectors ? b->o->B * b->o->T : b->o->T;
    bc.seed = b->o->seed;
    const zoo_tokenizer *tok = b->data.tok;
    int32_t specials[ZOO_TOK_N_SPECIAL];
    if (tok) {
        bc.vocab_size = zoo_tokenizer_vocab_size(tok);
        for (int s = 0; s < ZOO_TOK_N_SPECIAL; s++)
            if ((specials[bc.n_special] = zoo_tokenizer_special(tok, (zoo_special)s)) >= 0)
                bc.n_special++;
        bc.mask_id = zoo_tokenizer_special(tok, ZOO_TOK_MASK);
        bc.cls_id = zoo_tokenizer_special(tok, ZOO_TOK_CLS);
        bc.sep_id = zoo_tokenizer_special(tok, ZOO_TOK_SEP);
        bc.pad_id = zoo_tokenizer_special(tok, ZOO_TOK_PAD);
    } else {
        bc.vocab_size = zoo_hparams_find(b->hp, "vocab_size")
                            ? (int32_t)zoo_hparams_int(b->hp, "vocab_size")
                            : DEFAULT_VOCAB;
        if (masked) { /* the ids zoo_synthetic_ids left out */
            bc.pad_id = 0, bc.cls_id = 2, bc.sep_id = 3, bc.mask_id = 4;
            for (int s = 0; s < 5; s++) specials[bc.n_special++] = s;
        }
    }
    bc.special_ids = specials;
    bc.nsp = masked;
    bc.token_bytes = zoo_plugin_token_bytes(d);
    bc.tok = tok;
    b->batches = zoo_batcher_new(&b->data.data, &bc);
    return b->batches ? ZOO_OK : zoo_error(ZOO_ERR_ARG, "the batches: %s", zoo_error_message());
}

static int graph_failed(zoo_graph *g, int st, const char *what) {
    char why[1024];
    snprintf(why, sizeof why, "%s", zoo_graph_status(g) ? zoo_graph_error(g) : zoo_error_message());
    return zoo_error(st ? st : ZOO_ERR_STATE, "%s: %s", what, why);
}

static int forward_pass(bench *b, const zoo_batch *batch, int64_t *tokens) {
    zoo_graph_reset(b->g);
    zoo_graph_set_recording(b->g, false);
    zoo_graph_set_training(b->g, false);
    zoo_outputs out = {.size = sizeof out};
    int st = b->p->plugin->ops->forward(b->model->model, b->g, batch, &out);
    if (st || zoo_graph_status(b->g)) return graph_failed(b->g, st, "forward");
    *tokens = batch->B * batch->T;
    return ZOO_OK;
}

static int training_pass(bench *b, const zoo_batch *batch, int64_t *tokens) {
    const zoo_plugin_ops *ops = b->p->plugin->ops;
    zoo_model *m = b->model->model;
    if (b->p->plugin->capabilities & ZOO_CAP_SELF_UPDATE) {
        zoo_step_stats stats = {.size = sizeof stats};
        if (ops->train_step(m, batch, LR, &b->rng, &stats))
            return zoo_error(ZOO_ERR_STATE, "train_step: %s", zoo_error_message());
        *tokens = stats.tokens;
        return ZOO_OK;
    }
    zoo_graph *g = b->g;
    zoo_graph_reset(g);
    zoo_graph_set_recording(g, true);
    zoo_graph_set_training(g, true);
    zoo_params_zero_grad(b->model->params);
    zoo_tensor *loss = NULL;
    int st = ops->loss(m, g, batch, &b->rng, &loss, NULL);
    if (st || !loss || zoo_graph_status(g)) return graph_failed(g, st, "loss");
    if (zoo_backward(g, loss) != ZOO_OK) return graph_failed(g, 0, "backward");
    float clip = zoo_clip_factor(zoo_grad_norm(b->model->params), GRAD_CLIP);
    if (zoo_optim_step_scaled(b->model->params, &b->optim, LR, ++b->step, clip) != ZOO_OK)
        return zoo_error(ZOO_ERR_STATE, "optimizer: %s", zoo_error_message());
    *tokens = batch->B * batch->T;
    return ZOO_OK;
}

static int run_phase(bench *b, int (*pass)(bench *, const zoo_batch *, int64_t *),
                     zoo_bench_phase *ph) {
    const zoo_bench_opts *o = b->o;
    memset(ph, 0, sizeof *ph);
    for (int i = 0; i < o->warmup + o->repeat; i++) {
        zoo_batch batch;
        zoo_batcher_next(b->batches, &batch, NULL); /* a training batcher never runs out */
        int64_t tokens = 0;
        uint64_t f0 = zoo_flops();
        double t0 = zoo_now();
        int st = pass(b, &batch, &tokens);
        double t1 = zoo_now();
        if (st) return st;
        if (i < o->warmup) continue;
        ph->seconds[ph->runs] = t1 - t0 > 1e-9 ? t1 - t0 : 1e-9;
        ph->flops[ph->runs] = zoo_flops() - f0;
        ph->tokens[ph->runs] = tokens;
        ph->runs++;
    }
    phase_finish(ph);
    return ZOO_OK;
}

static void describe(bench *b, zoo_bench_result *out) {
    size_t len = 0;
    for (int i = 0; i < zoo_hparams_count(b->hp) && len < sizeof out->config; i++) {
        char value[128];
        len += (size_t)snprintf(out->config + len, sizeof out->config - len, "%s%s=%s",
                                i ? " " : "", zoo_hparams_spec(b->hp, i)->name,
                                zoo_hparams_text(b->hp, i, value, sizeof value));
    }
    out->params = zoo_params_numel(b->model->params);
}

static void progress(const bench *b, const char *what) {
    if (b->o->progress) b->o->progress(b->o->ctx, what);
}

int zoo_bench_plugin(zoo_loaded *p, const zoo_bench_opts *o, zoo_bench_result *out) {
    memset(out, 0, sizeof *out);
    if (o->B < 1 || o->T < 1 || o->warmup < 0 || o->repeat < 1 || o->repeat > ZOO_BENCH_MAX_REPEAT)
        return zoo_error(ZOO_ERR_ARG, "zoo_bench_plugin: bad options");
    const zoo_plugin *d = p->plugin;
    bench b = {.p = p, .o = o, .optim = zoo_optim_defaults(ZOO_OPTIM_ADAMW)};
    zoo_rng_seed(&b.rng, o->seed ^ 0x5eedULL);
    b.hp = zoo_hparams_new(d->hparams, d->n_hparams);
    int st = b.hp ? apply_sets(&b) : ZOO_ERR_ARG;
    if (!st) st = make_data(&b);
    zoo_hparams *hp = NULL;
    if (!st && !(hp = zoo_hparams_clone(b.hp))) st = zoo_error(ZOO_ERR_NOMEM, "out of memory");
    if (!st) st = zoo_host_model_create(p, hp, o->seed, b.data.tok, &b.model); /* takes hp */
    if (!st) st = make_batches(&b);
    if (!st && !(b.g = zoo_graph_new(0))) st = ZOO_ERR_NOMEM;
    if (!st) {
        describe(&b, out);
        out->B = d->objective == ZOO_OBJ_WORD_VECTORS ? 1 : o->B;
        out->T = d->objective == ZOO_OBJ_WORD_VECTORS ? o->B * o->T : o->T;
        progress(&b, "forward");
        st = run_phase(&b, forward_pass, &out->forward);
    }
    if (!st) {
        progress(&b, "training");
        st = run_phase(&b, training_pass, &out->training);
    }
    if (!st &&
        o->int8) { /* the trained model quantized: a plugin without linear weights has none */
        if (zoo_model_quantize(b.model) != ZOO_OK) {
            snprintf(out->no_int8, sizeof out->no_int8, "%s", zoo_error_message());
        } else {
            progress(&b, "int8 forward");
            st = run_phase(&b, forward_pass, &out->forward_int8);
        }
    }
    zoo_graph_free(b.g);
    zoo_batcher_free(b.batches);
    zoo_host_model_destroy(b.model);
    zoo_synthetic_free(&b.data);
    zoo_hparams_free(b.hp);
    return st;
}

/* --- the machine ------------------------------------------------------ */

int zoo_bench_sgemm(int64_t n, int warmup, double settle_s, int repeat, zoo_bench_phase *out) {
    memset(out, 0, sizeof *out);
    if (n < 1 || warmup < 0 || repeat < 1 || repeat > ZOO_BENCH_MAX_REPEAT)
        return zoo_error(ZOO_ERR_ARG, "zoo_bench_sgemm: bad options");
    /* the operands in one graph; the product in another, made big enough at
     * once and reset every pass, so that its pages are touched once, in the warm-up */
    zoo_graph *operands = zoo_graph_new(0),
              *g = zoo_graph_new((size_t)(n * n) * sizeof(float) + 65536);
    zoo_tensor *a = operands ? zoo_new(operands, ZOO_F32, n, n) : NULL;
    zoo_tensor *b = operands ? zoo_new(operands, ZOO_F32, n, n) : NULL;
    int st =
        a && b && g ? ZOO_OK : zoo_error(ZOO_ERR_NOMEM, "sgemm %lld: out of memory", (long long)n);
    for (int64_t i = 0; !st && i < n * n; i++) /* values that neither vanish nor overflow */
        zoo_f32(a)[i] = (float)((i * 7) % 13) / 13.0f,
        zoo_f32(b)[i] = (float)((i * 5) % 11) / 11.0f;
    double settled = zoo_now() + settle_s;
    for (int i = 0; !st && out->runs < repeat; i++) {
        zoo_graph_reset(g);
        zoo_graph_set_recording(g, false);
        uint64_t f0 = zoo_flops();
        double t0 = zoo_now();
        zoo_tensor *c = zoo_matmul(g, a, b, false, false);
        double t1 = zoo_now();
        if (!c) {
            st = zoo_error(ZOO_ERR_STATE, "sgemm %lld: %s", (long long)n, zoo_graph_error(g));
            break;
        }
        if (i < warmup || t0 < settled) continue;
        out->seconds[out->runs] = t1 - t0 > 1e-9 ? t1 - t0 : 1e-9;
        out->flops[out->runs] = zoo_flops() - f0;
        out->runs++;
    }
    zoo_graph_free(g);
    zoo_graph_free(operands);
    if (!st) phase_finish(out);
    return st;
}
