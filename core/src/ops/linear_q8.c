/* zoo_linear with an int8 weight (zoo/quant.h): the input quantized per row,
 * the products accumulated in int32 by oneDNN's u8s8s32 GEMM or a portable
 * kernel, rescaled to float32 with the bias.
 *
 * oneDNN takes unsigned activations: a row's values q in [-127, 127] are
 * stored as q + 128 and the GEMM's offset for A (128) takes it off again,
 * exactly, inside its int32 sums. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "internal.h"
#include "zoo/fastmath.h"
#include "zoo/quant.h"

#ifdef ZOO_HAVE_ONEDNN
#include <oneapi/dnnl/dnnl.h>
#endif

/* --- choosing the kernel -------------------------------------------------- */

static zoo_q8_kernel kernel = ZOO_Q8_AUTO; /* resolved: ONEDNN or PORTABLE */
static char kernel_name[160];
static pthread_once_t kernel_once = PTHREAD_ONCE_INIT;
#ifdef ZOO_HAVE_ONEDNN
static void (*omp_threads)(int); /* libgomp's omp_set_num_threads, when oneDNN brought it */

/* AVX512-VNNI: the 256-bit AVX-VNNI alone (some client CPUs) is left to the
 * portable kernel, as nothing here measured oneDNN 2.6's gemm on it. */
static bool cpu_has_vnni(void) {
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512vnni");
#else
    return false;
#endif
}
#endif

/* Why oneDNN cannot run here, or NULL when it can. Without VNNI its kernels
 * multiply with vpmaddubsw, whose 16-bit pair sums saturate: wrong results,
 * not just slower ones. */
static const char *onednn_missing(void) {
#ifdef ZOO_HAVE_ONEDNN
    return cpu_has_vnni() ? NULL : "no VNNI on this CPU";
#else
    return "libzoo built without oneDNN";
#endif
}

static void use_portable(const char *why) {
    snprintf(kernel_name, sizeof kernel_name, "portable (%s)", why);
    kernel = ZOO_Q8_PORTABLE;
}

#ifdef ZOO_HAVE_ONEDNN
/* Whether oneDNN's sums are exact here: 255 x 127 twice is past the 16-bit
 * pair sums a kernel without VNNI would saturate, so a CPU whose flags
 * promise VNNI but whose oneDNN takes another path is caught, not trusted. */
static bool onednn_exact(void) {
    const uint8_t a[4] = {255, 255, 255, 255};
    const int8_t b[4] = {127, 127, 127, 127};
    const int32_t no_offset = 0;
    int32_t c = 0;
    return dnnl_gemm_u8s8s32('N', 'N', 'F', 1, 1, 4, 1.0f, a, 4, 128, b, 1, 0, 0.0f, &c, 1,
                             &no_offset) == dnnl_success &&
           c == 4 * 127 * 127;
}
#endif

static void use_onednn(void) {
#ifdef ZOO_HAVE_ONEDNN
    /* oneDNN runs inside zoo's bands, one OpenMP thread each: its own team
     * would put a second pool of spinning threads on the same cores. */
    *(void **)&omp_threads = dlsym(RTLD_DEFAULT, "omp_set_num_threads");
    if (omp_threads) omp_threads(1);
    if (!onednn_exact()) {
        use_portable("oneDNN's int8 sums are not exact on this CPU");
        return;
    }
    const dnnl_version_t *v = dnnl_version();
    snprintf(kernel_name, sizeof kernel_name, "oneDNN %d.%d.%d (u8s8s32 GEMM, VNNI)", v->major,
             v->minor, v->patch);
    kernel = ZOO_Q8_ONEDNN;
#endif
}

static void choose_kernel(void) {
    if (kernel != ZOO_Q8_AUTO) return; /* zoo_q8_set_kernel came first */
    const char *env = getenv("ZOO_INT8_KERNEL"), *missing = onednn_missing();
    if (env && strcmp(env, "portable") == 0)
        use_portable("ZOO_INT8_KERNEL=portable");
    else if (missing)
        use_portable(missing);
    else
        use_onednn();
}

int zoo_q8_set_kernel(zoo_q8_kernel k) {
    const char *missing = onednn_missing();
    if (k == ZOO_Q8_ONEDNN && missing)
        return zoo_error(ZOO_ERR_ARG, "the oneDNN int8 kernel cannot run here: %s", missing);
    if (k == ZOO_Q8_PORTABLE)
        use_portable("chosen");
    else if (k == ZOO_Q8_ONEDNN || !missing)
        use_onednn();
    else
        use_portable(missing);
    pthread_once(&kernel_once, choose_kernel); /* so that a later first product keeps this */
    if (k == ZOO_Q8_ONEDNN && kernel != ZOO_Q8_ONEDNN)
        return zoo_error(ZOO_ERR_ARG, "the oneDNN int8 kernel cannot run here: %s", kernel_name);
    return ZOO_OK;
}

const char *zoo_q8_kernel_name(void) {
    pthread_once(&kernel_once, choose_kernel);
    return kernel_name;
}

/* --- the product ---------------------------------------------------------- */

typedef struct q8_job {
    const uint8_t *xq; /* [R,K]: quantized rows + 128 */
    const float *sx;   /* [R] */
    const int8_t *w;   /* [K,N] (in_out) or [N,K] */
    const float *sw;   /* [N] */
    const float *bias; /* [N] or NULL */
    int32_t *acc;      /* [R,N] (row stride N): the int32 sums; may be c's own memory */
    float *c;          /* [R,N], row stride ldc */
    int64_t R, K, N, ldc, band;
    bool in_out, by_columns, add; /* add: c += the product, else c = bias + it */
} q8_job;

/* acc[m,n] (row stride N) = the int32 products of rows xq[m,K] and the
 * weight's columns c0 .. c0+n. Four rows at a time, so that each weight
 * byte loaded serves four of them (one row at a time streamed the whole
 * weight from memory for every row); [K,N] weights a tile of Q8_TILE
 * columns at a time, so that four rows' sums stay in L1. */
#define Q8_ROWS 4
#define Q8_TILE 256
ZOO_VECTOR_CLONES static void portable_gemm(const q8_job *j, const uint8_t *xq, int64_t m,
                                            int64_t c0, int64_t n, int32_t *acc) {
    int64_t K = j->K, N = j->N;
    for (int64_t r0 = 0; r0 < m; r0 += Q8_ROWS) {
        int rows = m - r0 < Q8_ROWS ? (int)(m - r0) : Q8_ROWS;
        const uint8_t *a[Q8_ROWS];
        int32_t *out[Q8_ROWS];
        for (int i = 0; i < Q8_ROWS; i++) { /* a short group repeats its last row */
            int64_t r = r0 + (i < rows ? i : rows - 1);
            a[i] = xq + r * K, out[i] = acc + r * N;
        }
        if (j->in_out) { /* w [K,N]: along the rows of outputs */
            for (int64_t t0 = 0; t0 < n; t0 += Q8_TILE) {
                int64_t tn = n - t0 < Q8_TILE ? n - t0 : Q8_TILE;
                int32_t s0[Q8_TILE], s1[Q8_TILE], s2[Q8_TILE], s3[Q8_TILE];
                for (int64_t c = 0; c < tn; c++) s0[c] = s1[c] = s2[c] = s3[c] = 0;
                for (int64_t k = 0; k < K; k++) {
                    const int8_t *restrict wk = j->w + k * N + c0 + t0;
                    int32_t x0 = a[0][k] - 128, x1 = a[1][k] - 128, x2 = a[2][k] - 128,
                            x3 = a[3][k] - 128;
                    for (int64_t c = 0; c < tn; c++) {
                        int32_t w = wk[c];
                        s0[c] += x0 * w, s1[c] += x1 * w, s2[c] += x2 * w, s3[c] += x3 * w;
                    }
                }
                const int32_t *sums[Q8_ROWS] = {s0, s1, s2, s3};
                for (int i = 0; i < rows; i++)
                    memcpy(out[i] + t0, sums[i], (size_t)tn * sizeof(int32_t));
            }
        } else { /* w [N,K]: dot products, each weight row against four input rows */
            for (int64_t c = 0; c < n; c++) {
                const int8_t *restrict wc = j->w + (c0 + c) * K;
                int32_t d0 = 0, d1 = 0, d2 = 0, d3 = 0;
                for (int64_t k = 0; k < K; k++) {
                    int16_t w = wc[k];
                    d0 += (int16_t)(a[0][k] - 128) * w, d1 += (int16_t)(a[1][k] - 128) * w;
                    d2 += (int16_t)(a[2][k] - 128) * w, d3 += (int16_t)(a[3][k] - 128) * w;
                }
                int32_t d[Q8_ROWS] = {d0, d1, d2, d3};
                for (int i = 0; i < rows; i++) out[i][c] = d[i];
            }
        }
    }
}

static void onednn_gemm(const q8_job *j, const uint8_t *xq, int64_t m, int64_t c0, int64_t n,
                        int32_t *acc) {
#ifdef ZOO_HAVE_ONEDNN
    static _Thread_local bool single;
    if (!single && omp_threads) omp_threads(1);
    single = true;
    const int32_t no_offset = 0;
    const int8_t *w = j->in_out ? j->w + c0 : j->w + c0 * j->K;
    dnnl_gemm_u8s8s32('N', j->in_out ? 'N' : 'T', 'F', m, n, j->K, 1.0f, xq, j->K, 128, w,
                      j->in_out ? j->N : j->K, 0, 0.0f, acc, j->N, &no_offset);
#else
    (void)j, (void)xq, (void)m, (void)c0, (void)n, (void)acc;
#endif
}

/* c = (add ? c : bias) + acc * (sx sw), row by row; acc may lie under c
 * (the same element, read before it is written). */
ZOO_VECTOR_CLONES static void rescale(const q8_job *j, int64_t r0, int64_t m, int64_t c0,
                                      int64_t n) {
    for (int64_t r = r0; r < r0 + m; r++) {
        float *y = j->c + r * j->ldc + c0;
        const int32_t *acc = j->acc + r * j->N + c0;
        const float *restrict sw = j->sw + c0, *restrict b = j->bias ? j->bias + c0 : NULL;
        float sx = j->sx[r];
        for (int64_t c = 0; c < n; c++) {
            float v = (float)acc[c] * (sx * sw[c]);
            y[c] = j->add ? y[c] + v : b ? v + b[c] : v;
        }
    }
}

static void q8_band(void *ctx, int64_t begin, int64_t end) {
    const q8_job *j = ctx;
    for (int64_t index = begin; index < end; index++) {
        int64_t total = j->by_columns ? j->N : j->R, first = index * j->band;
        int64_t size = total - first < j->band ? total - first : j->band;
        if (size <= 0) continue;
        int64_t r0 = j->by_columns ? 0 : first, m = j->by_columns ? j->R : size;
        int64_t c0 = j->by_columns ? first : 0, n = j->by_columns ? size : j->N;
        int32_t *acc = j->acc + r0 * j->N + c0;
        if (kernel == ZOO_Q8_ONEDNN)
            onednn_gemm(j, j->xq + r0 * j->K, m, c0, n, acc);
        else
            portable_gemm(j, j->xq + r0 * j->K, m, c0, n, acc);
        rescale(j, r0, m, c0, n);
    }
}

typedef struct quantize_job {
    const float *x;
    int64_t ldx;
    uint8_t *xq;
    float *sx;
    int64_t K;
} quantize_job;

static void quantize_rows(void *ctx, int64_t begin, int64_t end) {
    const quantize_job *j = ctx;
    for (int64_t r = begin; r < end; r++)
        j->sx[r] = zoo_q8_quantize_row_u8(j->x + r * j->ldx, j->K, j->xq + r * j->K);
}

#define Q8_PARALLEL_OPS (1 << 22) /* below this, one thread is faster than waking another */
#define Q8_MIN_BAND 32

/* The weight's scales, after checking that they run along its output axis. */
static const float *output_scales(zoo_graph *g, const char *op, const zoo_tensor *w, bool in_out) {
    int axis = -1;
    const float *sw = zoo_q8_scales(w, &axis);
    if (!sw || axis != (in_out ? 1 : 0)) {
        zoo_graph_fail(g, ZOO_ERR_SHAPE,
                       "%s: the int8 weight is quantized along axis %d, but its output "
                       "channels are along axis %d (%s)",
                       op, axis, in_out ? 1 : 0, in_out ? "[in,out]" : "[out,in]");
        return NULL;
    }
    return sw;
}

bool zoo_gemm_q8(zoo_graph *g, int64_t M, int64_t N, int64_t K, const float *A, int64_t lda,
                 const zoo_tensor *w, bool in_out, const float *bias, bool add, float *C,
                 int64_t ldc, zoo_q8_scratch *scratch) {
    const float *sw = output_scales(g, "int8 product", w, in_out);
    if (!sw) return false;
    pthread_once(&kernel_once, choose_kernel);
    bool in_place = !add && ldc == N; /* the int32 sums where their floats go */
    zoo_q8_scratch own = {0};
    if (!scratch) {
        own.xq = zoo_graph_alloc(g, (size_t)(M * K));
        own.sx = zoo_graph_alloc(g, (size_t)M * sizeof(float));
        own.acc = in_place ? (int32_t *)C : zoo_graph_alloc(g, (size_t)(M * N) * sizeof(int32_t));
        if (!own.xq || !own.sx || !own.acc) return false;
        scratch = &own;
    }
    quantize_job qj = {A, lda, scratch->xq, scratch->sx, K};
    if (M * K < ZOO_PARALLEL_GRAIN)
        quantize_rows(&qj, 0, M);
    else
        zoo_parallel_for(M, (ZOO_PARALLEL_GRAIN + K - 1) / K, quantize_rows, &qj);

    bool by_columns = N > M;
    int64_t side = by_columns ? N : M, bands = zoo_cpu_count();
    if (bands > side / Q8_MIN_BAND) bands = side / Q8_MIN_BAND;
    if (bands < 1 || M * N * K < Q8_PARALLEL_OPS) bands = 1;
    q8_job j = {
        scratch->xq, scratch->sx, zoo_i8(w), sw, bias, in_place ? (int32_t *)C : scratch->acc,
        C,           M,           K,         N,  ldc,  (side + bands - 1) / bands,
        in_out,      by_columns,  add};
    zoo_flops_add(2 * M * N * K);
    if (bands == 1)
        q8_band(&j, 0, 1);
    else
        zoo_parallel_for(bands, 1, q8_band, &j);
    return true;
}

zoo_tensor *zoo_linear_q8(zoo_graph *g, zoo_tensor *x, zoo_tensor *w, zoo_tensor *bias,
                          zoo_weight_layout layout) {
    bool in_out = layout == ZOO_W_IN_OUT;
    if (!output_scales(g, "zoo_linear", w, in_out)) return NULL;
    if (zoo_wants_grad(g, x, bias, NULL, NULL)) {
        zoo_graph_fail(g, ZOO_ERR_STATE,
                       "zoo_linear: an int8 weight takes no gradient (quantized models are for "
                       "inference: turn recording off)");
        return NULL;
    }
    int64_t K = x->shape[x->ndim - 1], N = w->shape[in_out ? 1 : 0], R = x->numel / K;
    int64_t shape[ZOO_MAX_DIMS];
    memcpy(shape, x->shape, sizeof shape);
    shape[x->ndim - 1] = N;
    zoo_tensor *out = zoo_tensor_new(g, ZOO_F32, x->ndim, shape);
    if (!out || !zoo_gemm_q8(g, R, N, K, x->data, K, w, in_out, bias ? bias->data : NULL, false,
                             out->data, N, NULL))
        return NULL;
    return out;
}
