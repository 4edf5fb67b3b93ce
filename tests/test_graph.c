/* The graph, its arena and tape, the parameter store and the RNG. */
#include <malloc.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_util.h"

/* --- counting allocations ------------------------------------------------
 * The test binary interposes malloc and friends (the dynamic linker resolves
 * libzoo's calls to these), and counts the calls made from libzoo's own code
 * while `counting` is on. OpenBLAS's internals are not zoo's to count: some
 * of its small-matrix kernels take a scratch buffer per call.
 * AddressSanitizer owns malloc itself, so under it this test is skipped. */
#if defined(__SANITIZE_ADDRESS__)
#define COUNTING_MALLOC 0
#else
#define COUNTING_MALLOC 1
#include <dlfcn.h>
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
static bool counting;
static long allocations;
static void *libzoo_base;

static void count(void *caller) {
    Dl_info info;
    if (counting && dladdr(caller, &info) && info.dli_fbase == libzoo_base) allocations++;
}
#define COUNT() count(__builtin_return_address(0))
void *malloc(size_t n) {
    return COUNT(), __libc_malloc(n);
}
void *calloc(size_t n, size_t m) {
    return COUNT(), __libc_calloc(n, m);
}
void *realloc(void *p, size_t n) {
    return COUNT(), __libc_realloc(p, n);
}
void *aligned_alloc(size_t a, size_t n) {
    return COUNT(), __libc_memalign(a, n);
}
int posix_memalign(void **p, size_t a, size_t n) {
    COUNT();
    *p = __libc_memalign(a, n);
    return *p ? 0 : 12;
}

static void start_counting(void) {
    Dl_info info;
    ck_assert(dladdr((void *)zoo_graph_new, &info));
    libzoo_base = info.dli_fbase;
    allocations = 0;
    counting = true;
}
#endif

typedef struct mlp {
    zoo_params *params;
    zoo_tensor *wte, *w1, *b1, *ln_w, *ln_b, *w2;
} mlp;

static void mlp_init(mlp *m, zoo_rng *rng) {
    m->params = zoo_params_new();
    m->wte = RAND_PARAM(m->params, rng, "wte", -0.1f, 0.1f, 50, 16);
    m->w1 = RAND_PARAM(m->params, rng, "fc.weight", -0.1f, 0.1f, 64, 16);
    m->b1 = RAND_PARAM(m->params, rng, "fc.bias", -0.1f, 0.1f, 64);
    m->ln_w = RAND_PARAM(m->params, rng, "ln.weight", 0.9f, 1.1f, 64);
    m->ln_b = RAND_PARAM(m->params, rng, "ln.bias", -0.1f, 0.1f, 64);
    m->w2 = RAND_PARAM(m->params, rng, "head.weight", -0.1f, 0.1f, 64, 50);
}

/* One training step of a small next-token model: embedding, linear, GELU,
 * dropout, layer norm, projection to the vocabulary, cross-entropy, backward.
 * Returns the loss, or NaN on failure (no Check assertion inside: they allocate). */
static float mlp_step(mlp *m, zoo_graph *g, zoo_rng *rng, int32_t *ids, int32_t *targets) {
    zoo_graph_reset(g);
    zoo_params_zero_grad(m->params);
    zoo_tensor *x = zoo_embedding(g, m->wte, zoo_tensor_wrap(g, ZOO_I32, 2, ZOO_SHAPE(4, 8), ids));
    x = zoo_gelu_tanh(g, zoo_linear(g, x, m->w1, m->b1, ZOO_W_OUT_IN));
    x = zoo_dropout(g, x, 0.1f, rng);
    x = zoo_layernorm(g, x, m->ln_w, m->ln_b, 1e-5f);
    zoo_tensor *logits = zoo_linear(g, x, m->w2, NULL, ZOO_W_IN_OUT);
    zoo_tensor *loss =
        zoo_cross_entropy(g, logits, zoo_tensor_wrap(g, ZOO_I32, 2, ZOO_SHAPE(4, 8), targets), -1);
    if (!loss || zoo_backward(g, loss) != ZOO_OK) return NAN;
    return zoo_f32(loss)[0];
}

START_TEST(test_no_allocation_after_first_step) {
#if COUNTING_MALLOC
    zoo_rng rng;
    zoo_rng_seed(&rng, 1);
    mlp m;
    mlp_init(&m, &rng);
    zoo_graph *g = zoo_graph_new(4096); /* small on purpose: the first step must grow it */
    zoo_graph_set_training(g, true);
    int32_t ids[32], targets[32];
    for (int i = 0; i < 32; i++) ids[i] = i % 50, targets[i] = (i * 7) % 50;
    start_counting();
    float first = mlp_step(&m, g, &rng, ids, targets);
    long in_first = allocations;
    float second = mlp_step(&m, g, &rng, ids, targets); /* the reset before it merged the arena */
    allocations = 0;
    float steady = 0;
    for (int s = 0; s < 5; s++) steady += mlp_step(&m, g, &rng, ids, targets);
    counting = false;
    ck_assert(!isnan(first) && !isnan(second) && !isnan(steady));
    ck_assert_int_gt(in_first, 0); /* the counter does see the arena growing */
    ck_assert_msg(allocations == 0, "%ld allocations in 5 steady steps", allocations);
    zoo_graph_free(g);
    zoo_params_free(m.params);
#endif
}
END_TEST

/* A step through the sequence operators: char-CNN and highway over
 * characters, packed attention, an LSTM with projection, then AdamW. */
typedef struct seq_model {
    zoo_params *params;
    zoo_tensor *chars, *conv, *conv_b, *hw, *hw_b, *qkv, *w_ih, *w_hh, *bias, *proj, *head;
} seq_model;

static void seq_init(seq_model *m, zoo_rng *rng) {
    m->params = zoo_params_new();
    m->chars = RAND_PARAM(m->params, rng, "chars", -0.5f, 0.5f, 20, 4);
    m->conv = RAND_PARAM(m->params, rng, "conv.weight", -0.3f, 0.3f, 8, 3, 4);
    m->conv_b = RAND_PARAM(m->params, rng, "conv.bias", -0.1f, 0.1f, 8);
    m->hw = RAND_PARAM(m->params, rng, "highway.weight", -0.3f, 0.3f, 16, 8);
    m->hw_b = RAND_PARAM(m->params, rng, "highway.bias", -0.1f, 0.1f, 16);
    m->qkv = RAND_PARAM(m->params, rng, "attn.weight", -0.3f, 0.3f, 8, 24);
    m->w_ih = RAND_PARAM(m->params, rng, "lstm.w_ih", -0.3f, 0.3f, 24, 8);
    m->w_hh = RAND_PARAM(m->params, rng, "lstm.w_hh", -0.3f, 0.3f, 24, 5);
    m->bias = RAND_PARAM(m->params, rng, "lstm.bias", -0.1f, 0.1f, 24);
    m->proj = RAND_PARAM(m->params, rng, "lstm.proj", -0.3f, 0.3f, 5, 6);
    m->head = RAND_PARAM(m->params, rng, "head.weight", -0.3f, 0.3f, 20, 5);
}

static float seq_step(seq_model *m, zoo_graph *g, int32_t *chars, int32_t *targets, int64_t step) {
    const int B = 2, T = 6, W = 5; /* 12 words of 5 characters */
    zoo_graph_reset(g);
    zoo_params_zero_grad(m->params);
    zoo_tensor *c =
        zoo_embedding(g, m->chars, zoo_tensor_wrap(g, ZOO_I32, 2, ZOO_SHAPE(B * T, W), chars));
    zoo_tensor *words =
        zoo_highway(g, zoo_conv1d_maxpool(g, c, m->conv, m->conv_b), m->hw, m->hw_b);
    zoo_tensor *x = zoo_view(g, words, B, T, 8);
    x = zoo_add(
        g, x,
        zoo_attention(g, zoo_linear(g, x, m->qkv, NULL, ZOO_W_IN_OUT), NULL, NULL, 2, true, NULL));
    zoo_lstm_weights lw = {m->w_ih, m->w_hh, m->bias, m->proj, 3.0f, 3.0f};
    zoo_tensor *h = zoo_lstm(g, x, &lw, NULL, NULL, false, NULL, NULL);
    zoo_tensor *logits = zoo_linear(g, h, m->head, NULL, ZOO_W_OUT_IN);
    zoo_tensor *loss =
        zoo_cross_entropy(g, logits, zoo_tensor_wrap(g, ZOO_I32, 2, ZOO_SHAPE(B, T), targets), -1);
    if (!loss || zoo_backward(g, loss) != ZOO_OK) return NAN;
    zoo_clip_grad_norm(m->params, 1.0f);
    zoo_optim_config adamw = zoo_optim_defaults(ZOO_OPTIM_ADAMW);
    adamw.weight_decay = 0.1f;
    if (zoo_optim_step(m->params, &adamw, 5e-2f, step) != ZOO_OK) return NAN;
    return zoo_f32(loss)[0];
}

START_TEST(test_sequence_step_allocates_nothing_and_learns) {
    zoo_rng rng;
    zoo_rng_seed(&rng, 3);
    seq_model m;
    seq_init(&m, &rng);
    zoo_graph *g = zoo_graph_new(1024);
    int32_t chars[60], targets[12];
    for (int i = 0; i < 60; i++) chars[i] = (i * 7 + i / 5) % 20;
    for (int i = 0; i < 12; i++) targets[i] = (i * 3) % 20;
#if COUNTING_MALLOC
    start_counting();
#endif
    float first = seq_step(&m, g, chars, targets, 1);
    seq_step(&m, g, chars, targets, 2);
#if COUNTING_MALLOC
    allocations = 0;
#endif
    float last = 0;
    for (int s = 3; s <= 60; s++) last = seq_step(&m, g, chars, targets, s);
#if COUNTING_MALLOC
    counting = false;
    ck_assert_msg(allocations == 0, "%ld allocations in 58 steady steps", allocations);
#endif
    ck_assert_msg(!isnan(first) && !isnan(last), "step failed: %s", zoo_graph_error(g));
    ck_assert_msg(last < 0.5f * first, "loss %g -> %g", first, last);
    zoo_graph_free(g);
    zoo_params_free(m.params);
}
END_TEST

START_TEST(test_inference_records_no_tape) {
    zoo_rng rng;
    zoo_rng_seed(&rng, 1);
    mlp m;
    mlp_init(&m, &rng);
    zoo_graph *g = zoo_graph_new(0);
    zoo_graph_set_recording(g, false);
    zoo_tensor *x =
        zoo_linear(g, zoo_tensor_zeros(g, ZOO_F32, 2, ZOO_SHAPE(3, 16)), m.w1, m.b1, ZOO_W_OUT_IN);
    ck_assert_ptr_nonnull(x);
    ck_assert(!x->requires_grad);
    ck_assert_ptr_null(x->node);
    size_t inference = zoo_graph_used(g);
    zoo_graph_reset(g);
    zoo_graph_set_recording(g, true);
    x = zoo_linear(g, zoo_tensor_zeros(g, ZOO_F32, 2, ZOO_SHAPE(3, 16)), m.w1, m.b1, ZOO_W_OUT_IN);
    ck_assert(x->requires_grad);
    ck_assert_ptr_nonnull(x->node);
    ck_assert_uint_gt(zoo_graph_used(g), inference);
    zoo_graph_free(g);
    zoo_params_free(m.params);
}
END_TEST

START_TEST(test_training_lowers_the_loss) {
    zoo_rng rng;
    zoo_rng_seed(&rng, 2);
    mlp m;
    mlp_init(&m, &rng);
    zoo_graph *g = zoo_graph_new(0);
    int32_t ids[32], targets[32];
    for (int i = 0; i < 32; i++) ids[i] = i % 50, targets[i] = (i * 7) % 50;
    float first = mlp_step(&m, g, &rng, ids, targets), last = first;
    ck_assert(!isnan(first));
    for (int s = 0; s < 30; s++) {
        for (int i = 0; i < zoo_params_count(m.params); i++) { /* plain gradient descent */
            zoo_tensor *t = zoo_params_at(m.params, i)->value;
            for (int64_t k = 0; k < t->numel; k++) zoo_f32(t)[k] -= 0.5f * t->grad[k];
        }
        last = mlp_step(&m, g, &rng, ids, targets);
    }
    ck_assert_msg(last < 0.5f * first, "loss %g -> %g", first, last);
    zoo_graph_free(g);
    zoo_params_free(m.params);
}
END_TEST

START_TEST(test_backward_errors) {
    zoo_graph *g = zoo_graph_new(0);
    zoo_params *p = zoo_params_new();
    zoo_tensor *w = zoo_params_add(p, "w", 1, ZOO_SHAPE(3), 0);
    zoo_tensor *y = zoo_scale(g, w, 2);
    ck_assert_int_eq(zoo_backward(g, y), ZOO_ERR_SHAPE);
    ck_assert_str_eq(zoo_graph_error(g), "zoo_backward: the loss must have one element, not 3");
    zoo_graph_reset(g);
    ck_assert_int_eq(zoo_backward(g, NULL), ZOO_ERR_ARG);
    zoo_graph_free(g);
    zoo_params_free(p);
}
END_TEST

/* Shapes come from files: a product that overflows is an invalid shape, not
 * a wrapped count (a .npy of shape (2^62,) once gave a tensor of 0 bytes). */
START_TEST(test_shape_numel_overflow) {
    ck_assert_int_eq(zoo_shape_numel(2, ZOO_SHAPE(3, 4)), 12);
    ck_assert_int_eq(zoo_shape_numel(1, ZOO_SHAPE(ZOO_MAX_NUMEL)), ZOO_MAX_NUMEL);
    ck_assert_int_eq(zoo_shape_numel(1, ZOO_SHAPE(ZOO_MAX_NUMEL + 1)), 0);
    ck_assert_int_eq(zoo_shape_numel(2, ZOO_SHAPE((int64_t)1 << 62, 4)), 0);
    ck_assert_int_eq(zoo_shape_numel(4, ZOO_SHAPE(1 << 16, 1 << 16, 1 << 16, 1 << 16)), 0);
    ck_assert_int_eq(zoo_shape_numel(2, ZOO_SHAPE(INT64_MAX, INT64_MAX)), 0);
    zoo_graph *g = zoo_graph_new(0);
    ck_assert_ptr_null(zoo_tensor_new(g, ZOO_F32, 1, ZOO_SHAPE((int64_t)1 << 62)));
    ck_assert_int_eq(zoo_graph_status(g), ZOO_ERR_SHAPE);
    zoo_graph_free(g);
}
END_TEST

START_TEST(test_params_store) {
    zoo_params *p = zoo_params_new();
    ck_assert_ptr_nonnull(zoo_params_add(p, "h.0.attn.c_attn.weight", 2, ZOO_SHAPE(4, 12), 0));
    ck_assert_ptr_nonnull(
        zoo_params_add(p, "h.0.attn.c_attn.bias", 1, ZOO_SHAPE(12), ZOO_PARAM_NO_DECAY));
    ck_assert_ptr_null(zoo_params_add(p, "h.0.attn.c_attn.bias", 1, ZOO_SHAPE(12), 0));
    ck_assert_str_eq(zoo_error_message(),
                     "zoo_params_add: parameter 'h.0.attn.c_attn.bias' already exists");
    ck_assert_ptr_null(zoo_params_add(p, "bad", 2, ZOO_SHAPE(4, 0), 0));
    ck_assert_ptr_null(zoo_params_add(p, "", 1, ZOO_SHAPE(1), 0));
    ck_assert_int_eq(zoo_params_count(p), 2);
    ck_assert_int_eq(zoo_params_numel(p), 60);
    ck_assert_str_eq(zoo_params_at(p, 1)->name, "h.0.attn.c_attn.bias");
    ck_assert_uint_eq(zoo_params_at(p, 1)->flags, ZOO_PARAM_NO_DECAY);
    ck_assert_ptr_null(zoo_params_at(p, 2));
    zoo_tensor *w = zoo_params_get(p, "h.0.attn.c_attn.weight");
    ck_assert_int_eq(w->shape[1], 12);
    for (int64_t i = 0; i < w->numel; i++) ck_assert_float_eq(zoo_f32(w)[i], 0);
    zoo_params_set_frozen(zoo_params_find(p, "h.0.attn.c_attn.weight"), true);
    ck_assert(!w->requires_grad);
    /* initialised: the draws of the same rng, or one value everywhere */
    zoo_rng a, b;
    zoo_rng_seed(&a, 3), zoo_rng_seed(&b, 3);
    zoo_tensor *n = zoo_params_add_normal(p, "n", 2, ZOO_SHAPE(5, 7), 0, &a, 0.5f);
    float want[35];
    zoo_rng_fill_normal(&b, want, 35, 0, 0.5f);
    ck_assert_mem_eq(n->data, want, sizeof want);
    zoo_tensor *ones =
        zoo_params_add_filled(p, "ln.weight", 1, ZOO_SHAPE(6), ZOO_PARAM_NO_DECAY, 1);
    for (int64_t i = 0; i < ones->numel; i++) ck_assert_float_eq(zoo_f32(ones)[i], 1);
    ck_assert_ptr_null(zoo_params_add_filled(p, "n", 1, ZOO_SHAPE(2), 0, 0)); /* taken */
    zoo_params_free(p);
}
END_TEST

/* Many names (past several rehashes): each is found at its insertion
 * position, a name never added is not, duplicates are still refused, and
 * enumeration keeps insertion order. */
START_TEST(test_params_many_names) {
    enum { N = 5000 };
    zoo_params *p = zoo_params_new();
    char name[64];
    ck_assert_ptr_null(zoo_params_find(p, "h.0.w")); /* empty store */
    for (int i = 0; i < N; i++) {
        snprintf(name, sizeof name, "h.%d.%s", i / 2, i % 2 ? "bias" : "weight");
        ck_assert_ptr_nonnull(zoo_params_add(p, name, 1, ZOO_SHAPE(1 + i % 3), 0));
    }
    ck_assert_int_eq(zoo_params_count(p), N);
    for (int i = 0; i < N; i++) {
        snprintf(name, sizeof name, "h.%d.%s", i / 2, i % 2 ? "bias" : "weight");
        ck_assert_str_eq(zoo_params_at(p, i)->name, name);
        ck_assert_ptr_eq(zoo_params_find(p, name), zoo_params_at(p, i));
        ck_assert_int_eq(zoo_params_get(p, name)->numel, 1 + i % 3);
    }
    ck_assert_ptr_null(zoo_params_find(p, "h.2500.weight"));
    ck_assert_ptr_null(zoo_params_find(p, "h.0.weigh"));
    ck_assert_ptr_null(zoo_params_add(p, "h.1234.bias", 1, ZOO_SHAPE(1), 0));
    ck_assert_int_eq(zoo_params_count(p), N);
    zoo_params_free(p);
}
END_TEST

/* A store refuses, before allocating, the parameter that would take it past
 * the memory limit; the limit comes from zoo_set_memory_limit, else
 * ZOO_MEMORY_LIMIT, else the machine. */
START_TEST(test_params_memory_limit) {
    zoo_set_memory_limit(1000);
    ck_assert_uint_eq(zoo_memory_limit(), 1000);
    zoo_params *p = zoo_params_new();
    ck_assert_int_eq(zoo_params_reserve(p, 1000, "m"), ZOO_OK);
    ck_assert_int_eq(zoo_params_reserve(p, 1001, "m"), ZOO_ERR_NOMEM);
    ck_assert_str_eq(zoo_error_message(), "m needs 1001 bytes of parameters: more than the memory "
                                          "limit set for this process (1000 bytes)");
    ck_assert_int_eq(zoo_params_reserve(p, NAN, "m"), ZOO_ERR_NOMEM);
    ck_assert_ptr_nonnull(zoo_params_add(p, "a", 2, ZOO_SHAPE(10, 20), 0)); /* 800 bytes */
    ck_assert_ptr_null(zoo_params_add(p, "b", 1, ZOO_SHAPE(51), 0));        /* 1004 */
    ck_assert_str_eq(zoo_error_message(),
                     "zoo_params_add: parameter 'b' needs 204 bytes, which would bring the "
                     "parameters to 1004 bytes: more than the memory limit set for this process "
                     "(1000 bytes)");
    ck_assert_int_eq(zoo_params_count(p), 1);
    ck_assert_uint_eq(zoo_params_bytes(p), 800);
    ck_assert_ptr_nonnull(zoo_params_add(p, "b", 1, ZOO_SHAPE(50), 0)); /* exactly 1000 */
    ck_assert_uint_eq(zoo_params_bytes(p), 1000);
    zoo_params_free(p);

    /* a 2^40-token vocabulary of width 2^30: 2^72 bytes, past int64 */
    zoo_set_memory_limit(0);
    p = zoo_params_new();
    ck_assert_ptr_null(
        zoo_params_add(p, "wte.weight", 2, ZOO_SHAPE(INT64_C(1) << 40, INT64_C(1) << 30), 0));
    ck_assert_ptr_nonnull(strstr(zoo_error_message(), "'wte.weight' needs 4096.0 EiB"));
    ck_assert_int_eq(zoo_params_count(p), 0);
    zoo_params_free(p);

    ck_assert_int_eq(setenv("ZOO_MEMORY_LIMIT", "2K", 1), 0);
    ck_assert_uint_eq(zoo_memory_limit(), 2048);
    ck_assert_str_eq(zoo_memory_limit_source(), "ZOO_MEMORY_LIMIT");
    ck_assert_int_eq(setenv("ZOO_MEMORY_LIMIT", "3GB", 1), 0);
    ck_assert_uint_eq(zoo_memory_limit(), UINT64_C(3) << 30);
    ck_assert_int_eq(setenv("ZOO_MEMORY_LIMIT", "lots", 1), 0); /* not a size: the machine */
    ck_assert_str_eq(zoo_memory_limit_source(), "this machine's available memory");
    unsetenv("ZOO_MEMORY_LIMIT");
    uint64_t machine = (uint64_t)sysconf(_SC_PHYS_PAGES) * (uint64_t)sysconf(_SC_PAGESIZE);
    ck_assert_uint_gt(zoo_memory_limit(), 0);
    ck_assert_uint_le(zoo_memory_limit(), machine);
    char buf[32];
    ck_assert_str_eq(zoo_format_bytes(1536.0 * 1024 * 1024, buf, sizeof buf), "1.5 GiB");
}
END_TEST

START_TEST(test_rng) {
    zoo_rng a, b;
    zoo_rng_seed(&a, 42);
    zoo_rng_seed(&b, 42);
    for (int i = 0; i < 100; i++) ck_assert_uint_eq(zoo_rng_u64(&a), zoo_rng_u64(&b));
    zoo_rng_seed(&b, 43);
    ck_assert_uint_ne(zoo_rng_u64(&a), zoo_rng_u64(&b));
    double sum = 0, sq = 0;
    int n = 200000, below[7] = {0};
    for (int i = 0; i < n; i++) {
        double x = zoo_rng_normal(&a);
        sum += x, sq += x * x;
        float u = zoo_rng_uniform(&a);
        ck_assert(u >= 0.0f && u < 1.0f);
        below[zoo_rng_below(&a, 7)]++;
    }
    ck_assert_double_lt(fabs(sum / n), 0.01);
    ck_assert_double_lt(fabs(sq / n - 1), 0.02);
    for (int k = 0; k < 7; k++) ck_assert_int_lt(abs(below[k] - n / 7), n / 70);
}
END_TEST

/* --- fresh gradients --------------------------------------------------
 * The first backward to reach an intermediate tensor stores into its new
 * gradient buffer; later ones add. h = 1.0 * p is an intermediate read by
 * two operators, so one of them takes each path; both orders are checked
 * against finite differences. */
typedef struct fresh_ctx {
    zoo_tensor *w, *targets;
    int op;
    bool op_first;
} fresh_ctx;

enum {
    FRESH_LINEAR,
    FRESH_MATMUL,
    FRESH_GELU,
    FRESH_LAYERNORM,
    FRESH_ADD,
    FRESH_SCALE,
    FRESH_RESHAPE,
    FRESH_DROPOUT,
    FRESH_CROSS_ENTROPY,
    FRESH_OPS
};

static zoo_tensor *fresh_op(zoo_graph *g, const fresh_ctx *c, zoo_tensor *h) {
    zoo_rng rng;
    zoo_rng_seed(&rng, 3); /* the same dropout mask on every evaluation */
    switch (c->op) {
    case FRESH_LINEAR:
        return zoo_linear(g, h, c->w, NULL, ZOO_W_OUT_IN);
    case FRESH_MATMUL:
        return zoo_matmul(g, h, c->w, false, false);
    case FRESH_GELU:
        return zoo_gelu_erf(g, h);
    case FRESH_LAYERNORM:
        return zoo_layernorm(g, h, NULL, NULL, 1e-5f);
    case FRESH_ADD:
        return zoo_add(g, h, h);
    case FRESH_SCALE:
        return zoo_scale(g, h, -0.5f);
    case FRESH_RESHAPE:
        return zoo_view(g, h, h->numel);
    case FRESH_DROPOUT:
        return zoo_dropout(g, h, 0.5f, &rng);
    default:
        return zoo_cross_entropy(g, h, c->targets, 1);
    }
}

static zoo_tensor *build_fresh(zoo_graph *g, void *arg) {
    const fresh_ctx *c = arg;
    zoo_graph_set_training(g, true);
    zoo_tensor *h = zoo_scale(g, c->w, 1.0f); /* [4,4]: an intermediate */
    zoo_tensor *other = c->op == FRESH_CROSS_ENTROPY
                            ? zoo_cross_entropy(g, zoo_scale(g, h, 2.0f), c->targets, 1)
                        : c->op == FRESH_RESHAPE ? zoo_view(g, zoo_gelu_erf(g, h), h->numel)
                                                 : zoo_gelu_erf(g, h);
    zoo_tensor *op = fresh_op(g, c, h);
    return c->op_first ? zoo_add(g, op, other) : zoo_add(g, other, op);
}

START_TEST(test_fresh_gradients) {
    int32_t targets[4] = {0, 1, 3, 2}; /* 1 is ignored */
    for (int op = 0; op < FRESH_OPS; op++)
        for (int first = 0; first < 2; first++) {
            zoo_params *p = zoo_params_new();
            zoo_rng rng;
            zoo_rng_seed(&rng, 40 + op);
            zoo_graph *holder = zoo_graph_new(0);
            fresh_ctx c = {.w = RAND_PARAM(p, &rng, "w", -1, 1, 4, 4),
                           .targets = zoo_tensor_wrap(holder, ZOO_I32, 1, ZOO_SHAPE(4), targets),
                           .op = op,
                           .op_first = first};
            gradcheck(p, build_fresh, &c, NULL);
            zoo_graph_free(holder);
            zoo_params_free(p);
        }
}
END_TEST

Suite *make_suite(void) {
    Suite *s = suite_create("graph");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_no_allocation_after_first_step);
    tcase_add_test(tc, test_sequence_step_allocates_nothing_and_learns);
    tcase_add_test(tc, test_inference_records_no_tape);
    tcase_add_test(tc, test_fresh_gradients);
    tcase_add_test(tc, test_training_lowers_the_loss);
    tcase_add_test(tc, test_backward_errors);
    tcase_add_test(tc, test_shape_numel_overflow);
    tcase_add_test(tc, test_params_store);
    tcase_add_test(tc, test_params_many_names);
    tcase_add_test(tc, test_params_memory_limit);
    tcase_add_test(tc, test_rng);
    suite_add_tcase(s, tc);
    return s;
}
