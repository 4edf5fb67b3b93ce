/* The linear probe (zoo/probe.h): a standardised, scalar-mixed softmax
 * classifier fitted by L-BFGS with hand-written gradients. */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "zoo/probe.h"

struct zoo_probe {
    int K;
    int64_t L, C;
    bool mix;
    double l2;
    double *theta; /* [K*C + K + L]: W, b, s */
    double *mean;  /* [L, C] */
    double *std;   /* [L, C] */
    zoo_probe_fit_info info;
};

zoo_probe_options zoo_probe_defaults(void) {
    return (zoo_probe_options){.l2 = 1e-3, .max_iter = 200, .tol = 1e-5, .history = 10};
}

static int64_t n_params(int K, int64_t L, int64_t C) {
    return (int64_t)K * C + K + L;
}

/* ---- blocks of examples ------------------------------------------------------
 * The cut depends on N alone: OpenBLAS rounds an element at the edge of a call
 * differently from inside it, and the block sums are added in block order. */
enum { MIN_BLOCK = 256, MAX_BLOCKS = 64 };

static int64_t block_rows(int64_t n) {
    int64_t rows = (n + MAX_BLOCKS - 1) / MAX_BLOCKS;
    return rows < MIN_BLOCK ? MIN_BLOCK : rows;
}

/* One pass over the data: logits, and with y the loss and its gradient. */
typedef struct pass {
    const zoo_probe *p;
    const float *x;   /* [n, L, C] */
    const int32_t *y; /* [n] or NULL: logits only */
    int64_t n, rows, blocks;
    float *w;      /* [K, C]: W in float for sgemm */
    double *c;     /* [L]: softmax(s) */
    float *logits; /* [n, K] or NULL */
    bool want_grad;
    /* per block, summed afterwards in block order */
    double *loss; /* [blocks] */
    double *gb;   /* [blocks, K] */
    double *gc;   /* [blocks, L]: dJ/dc_j */
    float *gw;    /* [blocks, K, C] */
    int *failed;  /* [blocks]: scratch allocation failed */
} pass;

static void pass_blocks(void *ctx, int64_t begin, int64_t end) {
    pass *ps = ctx;
    const zoo_probe *p = ps->p;
    const int K = p->K;
    const int64_t L = p->L, C = p->C, LC = L * C;
    const double *b = p->theta + (int64_t)K * C;
    /* per range: the block's standardised features, its per-layer logits, dZ;
     * a row's logits and the block's sums in double */
    float *xs = malloc((size_t)(ps->rows * LC + L * ps->rows * K + ps->rows * K) * sizeof *xs);
    double *z = malloc((size_t)(2 * K + L) * sizeof *z), *gb = z + K, *gc = gb + K;
    for (int64_t blk = begin; blk < end; blk++) {
        if (!xs || !z) {
            ps->failed[blk] = 1;
            continue;
        }
        int64_t r0 = blk * ps->rows, r = ps->rows < ps->n - r0 ? ps->rows : ps->n - r0;
        float *pl = xs + ps->rows * LC;    /* [L, r, K] */
        float *dz = pl + L * ps->rows * K; /* [r, K] */
        const float *x = ps->x + r0 * LC;
        for (int64_t i = 0; i < r; i++)
            for (int64_t j = 0; j < LC; j++)
                xs[i * LC + j] = (float)(((double)x[i * LC + j] - p->mean[j]) / p->std[j]);
        zoo_flops_add(2 * L * r * K * C);
        for (int64_t l = 0; l < L; l++) /* P_l [r,K] = X~_l [r,C] W^T */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (blasint)r, K, (blasint)C, 1.0f,
                        xs + l * C, (blasint)LC, ps->w, (blasint)C, 0.0f, pl + l * ps->rows * K, K);
        double loss = 0;
        memset(gb, 0, (size_t)(K + L) * sizeof *gb);
        for (int64_t i = 0; i < r; i++) {
            double mx = -INFINITY;
            for (int k = 0; k < K; k++) {
                z[k] = b[k];
                for (int64_t l = 0; l < L; l++) z[k] += ps->c[l] * pl[(l * ps->rows + i) * K + k];
                if (z[k] > mx) mx = z[k];
                if (ps->logits) ps->logits[(r0 + i) * K + k] = (float)z[k];
            }
            if (!ps->y) continue;
            double sum = 0;
            for (int k = 0; k < K; k++) sum += exp(z[k] - mx);
            int32_t yi = ps->y[r0 + i];
            loss += mx + log(sum) - z[yi];
            if (!ps->want_grad) continue;
            for (int k = 0; k < K; k++) {
                double d = (exp(z[k] - mx) / sum - (k == yi)) / (double)ps->n;
                dz[i * K + k] = (float)d;
                gb[k] += d;
                for (int64_t l = 0; l < L; l++) gc[l] += d * pl[(l * ps->rows + i) * K + k];
            }
        }
        ps->loss[blk] = loss;
        if (!ps->want_grad) continue;
        memcpy(ps->gb + blk * K, gb, (size_t)K * sizeof *gb);
        memcpy(ps->gc + blk * L, gc, (size_t)L * sizeof *gc);
        zoo_flops_add(2 * L * r * K * C);
        for (int64_t l = 0; l < L; l++) /* dW [K,C] += c_l dZ^T [K,r] X~_l [r,C] */
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, K, (blasint)C, (blasint)r,
                        (float)ps->c[l], dz, K, xs + l * C, (blasint)LC, l ? 1.0f : 0.0f,
                        ps->gw + blk * K * C, (blasint)C);
    }
    free(xs);
    free(z);
}

static void softmax_s(const zoo_probe *p, double *a) {
    const double *s = p->theta + (int64_t)p->K * p->C + p->K;
    double mx = -INFINITY, sum = 0;
    for (int64_t l = 0; l < p->L; l++) mx = s[l] > mx ? s[l] : mx;
    for (int64_t l = 0; l < p->L; l++) sum += a[l] = exp(s[l] - mx);
    for (int64_t l = 0; l < p->L; l++) a[l] /= sum;
}

/* Runs the blocks; fills *loss (when y) and grad (when non-NULL) of J. */
static int run_pass(const zoo_probe *p, const float *x, const int32_t *y, int64_t n, float *logits,
                    double *loss, double *grad) {
    const int K = p->K;
    const int64_t L = p->L, C = p->C, KC = (int64_t)K * C;
    pass ps = {.p = p,
               .x = x,
               .y = y,
               .n = n,
               .rows = block_rows(n),
               .logits = logits,
               .want_grad = grad != NULL};
    ps.blocks = (n + ps.rows - 1) / ps.rows;
    int64_t B = ps.blocks;
    /* softmax(s) [L], dJ/dc [L], then per block: loss, gb [K], gc [L] */
    double *a = malloc((size_t)(2 * L + B * (1 + K + L)) * sizeof *a);
    ps.w = malloc((size_t)(KC + (grad ? B * KC : 0)) * sizeof *ps.w);
    ps.failed = calloc((size_t)B, sizeof *ps.failed);
    if (!a || !ps.w || !ps.failed) {
        free(a), free(ps.w), free(ps.failed);
        return zoo_error(ZOO_ERR_NOMEM, "zoo_probe: out of memory for %lld examples", (long long)n);
    }
    ps.c = a;
    ps.loss = a + 2 * L;
    ps.gb = ps.loss + B;
    ps.gc = ps.gb + B * K;
    ps.gw = ps.w + KC;
    softmax_s(p, ps.c);
    for (int64_t i = 0; i < KC; i++) ps.w[i] = (float)p->theta[i];

    zoo_parallel_for(B, 1, pass_blocks, &ps);

    int rc = ZOO_OK;
    for (int64_t blk = 0; blk < B; blk++)
        if (ps.failed[blk])
            rc = zoo_error(ZOO_ERR_NOMEM, "zoo_probe: out of memory for a block of %lld examples",
                           (long long)ps.rows);
    if (rc == ZOO_OK && y) {
        const double *W = p->theta, *s = p->theta + KC + K;
        double l = 0, pen = 0;
        for (int64_t blk = 0; blk < B; blk++) l += ps.loss[blk];
        for (int64_t i = 0; i < KC; i++) pen += W[i] * W[i];
        if (p->mix)
            for (int64_t j = 0; j < L; j++) pen += s[j] * s[j];
        *loss = l / (double)n + 0.5 * p->l2 * pen;
    }
    if (rc == ZOO_OK && grad) {
        memset(grad, 0, (size_t)n_params(K, L, C) * sizeof *grad);
        double *gW = grad, *gb = grad + KC, *gs = gb + K, *gc = a + L;
        for (int64_t blk = 0; blk < B; blk++) {
            for (int64_t i = 0; i < KC; i++) gW[i] += ps.gw[blk * KC + i];
            for (int k = 0; k < K; k++) gb[k] += ps.gb[blk * K + k];
        }
        for (int64_t i = 0; i < KC; i++) gW[i] += p->l2 * p->theta[i];
        if (p->mix) {
            /* c = softmax(s): ds_j = c_j (dc_j - sum_i c_i dc_i) */
            for (int64_t j = 0; j < L; j++) {
                gc[j] = 0;
                for (int64_t blk = 0; blk < B; blk++) gc[j] += ps.gc[blk * L + j];
            }
            double dot = 0;
            for (int64_t j = 0; j < L; j++) dot += ps.c[j] * gc[j];
            for (int64_t j = 0; j < L; j++)
                gs[j] = ps.c[j] * (gc[j] - dot) + p->l2 * p->theta[KC + K + j];
        }
    }
    free(a), free(ps.w), free(ps.failed);
    return rc;
}

/* ---- argument checks ---------------------------------------------------------- */

static int check_x(const char *fn, const float *x, int64_t n, int64_t L, int64_t C) {
    if (!x) return zoo_error(ZOO_ERR_ARG, "%s: features are NULL", fn);
    if (n <= 0) return zoo_error(ZOO_ERR_SHAPE, "%s: no examples (n = %lld)", fn, (long long)n);
    if (L <= 0 || C <= 0)
        return zoo_error(ZOO_ERR_SHAPE, "%s: features [%lld, %lld, %lld] have an empty axis", fn,
                         (long long)n, (long long)L, (long long)C);
    for (int64_t i = 0; i < n * L * C; i++)
        if (!isfinite(x[i]))
            return zoo_error(ZOO_ERR_ARG, "%s: feature [%lld, %lld, %lld] is %s", fn,
                             (long long)(i / (L * C)), (long long)(i / C % L), (long long)(i % C),
                             isnan(x[i]) ? "NaN" : "infinite");
    return ZOO_OK;
}

static int check_y(const char *fn, const int32_t *y, int64_t n, int K) {
    if (!y) return zoo_error(ZOO_ERR_ARG, "%s: labels are NULL", fn);
    if (n <= 0) return zoo_error(ZOO_ERR_SHAPE, "%s: no labels (n = %lld)", fn, (long long)n);
    for (int64_t i = 0; i < n; i++)
        if (y[i] < 0 || y[i] >= K)
            return zoo_error(ZOO_ERR_ARG, "%s: label %lld is %d, outside [0, %d)", fn, (long long)i,
                             (int)y[i], K);
    return ZOO_OK;
}

static int check_probe_x(const char *fn, const zoo_probe *p, const float *x, int64_t n, int64_t L,
                         int64_t C) {
    if (!p) return zoo_error(ZOO_ERR_ARG, "%s: probe is NULL", fn);
    if (L != p->L || C != p->C)
        return zoo_error(ZOO_ERR_SHAPE,
                         "%s: features have %lld layers of %lld channels, the probe was fitted "
                         "on %lld of %lld",
                         fn, (long long)L, (long long)C, (long long)p->L, (long long)p->C);
    return check_x(fn, x, n, L, C);
}

/* ---- L-BFGS ------------------------------------------------------------------ */

static double dot(const double *a, const double *b, int64_t n) {
    double s = 0;
    for (int64_t i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

static double max_abs(const double *a, int64_t n) {
    double m = 0;
    for (int64_t i = 0; i < n; i++) m = fabs(a[i]) > m ? fabs(a[i]) : m;
    return m;
}

static int lbfgs(zoo_probe *p, const float *x, const int32_t *y, int64_t n,
                 const zoo_probe_options *o) {
    const int64_t P = n_params(p->K, p->L, p->C), M = o->history;
    const int64_t active = p->mix ? P : P - p->L; /* without mix, s stays 0 */
    double *buf = malloc((size_t)(5 * P + 2 * M * P + 2 * M) * sizeof *buf);
    if (!buf) return zoo_error(ZOO_ERR_NOMEM, "zoo_probe_fit: out of memory for L-BFGS");
    double *g = buf, *d = g + P, *x0 = d + P, *g0 = x0 + P, *q = g0 + P;
    double *S = q + P, *Y = S + M * P, *rho = Y + M * P, *alpha = rho + M;
    double *th = p->theta, f;
    int64_t stored = 0, head = 0; /* history: a ring of `stored` pairs, newest at head-1 */
    zoo_probe_fit_info *info = &p->info;
    int rc = run_pass(p, x, y, n, NULL, &f, g);
    info->evaluations = 1;
    info->stop = "max_iter";
    for (int it = 0; rc == ZOO_OK && it < o->max_iter; it++) {
        if (max_abs(g, active) <= o->tol) {
            info->stop = "converged";
            break;
        }
        /* d = -H g by the two-loop recursion; H0 = (s.y / y.y) I */
        memcpy(q, g, (size_t)P * sizeof *q);
        for (int64_t k = 0; k < stored; k++) {
            int64_t i = (head - 1 - k + M) % M;
            alpha[i] = rho[i] * dot(S + i * P, q, P);
            for (int64_t j = 0; j < P; j++) q[j] -= alpha[i] * Y[i * P + j];
        }
        double h0 = 1;
        if (stored) {
            int64_t i = (head - 1 + M) % M;
            h0 = 1 / (rho[i] * dot(Y + i * P, Y + i * P, P));
        } else {
            h0 = 1 / fmax(1, sqrt(dot(g, g, P))); /* the first step is at most 1 long */
        }
        for (int64_t j = 0; j < P; j++) q[j] *= h0;
        for (int64_t k = stored - 1; k >= 0; k--) {
            int64_t i = (head - 1 - k + M) % M;
            double beta = rho[i] * dot(Y + i * P, q, P);
            for (int64_t j = 0; j < P; j++) q[j] += (alpha[i] - beta) * S[i * P + j];
        }
        for (int64_t j = 0; j < P; j++) d[j] = j < active ? -q[j] : 0;
        double slope = dot(g, d, P);
        if (slope >= 0) { /* not a descent direction: restart from steepest descent */
            for (int64_t j = 0; j < P; j++) d[j] = j < active ? -g[j] : 0;
            slope = dot(g, d, P);
            stored = 0;
        }
        /* backtracking line search, Armijo's condition with c1 = 1e-4 */
        memcpy(x0, th, (size_t)P * sizeof *x0);
        memcpy(g0, g, (size_t)P * sizeof *g0);
        double f0 = f, step = 1;
        bool found = false;
        for (int tries = 0; tries < 40 && rc == ZOO_OK; tries++, step *= 0.5) {
            for (int64_t j = 0; j < P; j++) th[j] = x0[j] + step * d[j];
            rc = run_pass(p, x, y, n, NULL, &f, g);
            info->evaluations++;
            if (rc == ZOO_OK && f <= f0 + 1e-4 * step * slope) {
                found = true;
                break;
            }
        }
        if (rc != ZOO_OK) break;
        if (!found) {
            memcpy(th, x0, (size_t)P * sizeof *th);
            memcpy(g, g0, (size_t)P * sizeof *g);
            f = f0;
            info->stop = "line search made no progress";
            break;
        }
        info->iterations = it + 1;
        double *s_new = S + head * P, *y_new = Y + head * P;
        for (int64_t j = 0; j < P; j++) s_new[j] = th[j] - x0[j], y_new[j] = g[j] - g0[j];
        double sy = dot(s_new, y_new, P);
        if (sy > 1e-12 * sqrt(dot(y_new, y_new, P) * dot(s_new, s_new, P))) {
            rho[head] = 1 / sy;
            head = (head + 1) % M;
            if (stored < M) stored++;
        }
    }
    if (rc == ZOO_OK) {
        info->loss = f;
        info->grad_max = max_abs(g, active);
        info->converged = info->grad_max <= o->tol;
        if (info->converged) info->stop = "converged";
    }
    free(buf);
    return rc;
}

/* ---- the public API ------------------------------------------------------------ */

int zoo_probe_fit(zoo_probe **out, const float *x, const int32_t *y, int64_t n, int64_t layers,
                  int64_t dim, int n_classes, const zoo_probe_options *opts) {
    static const char fn[] = "zoo_probe_fit";
    if (!out) return zoo_error(ZOO_ERR_ARG, "%s: out is NULL", fn);
    *out = NULL;
    zoo_probe_options o = opts ? *opts : zoo_probe_defaults();
    if (!(o.l2 >= 0) || !isfinite(o.l2))
        return zoo_error(ZOO_ERR_ARG, "%s: l2 is %g, expected a finite value >= 0", fn, o.l2);
    if (!(o.tol >= 0) || !isfinite(o.tol))
        return zoo_error(ZOO_ERR_ARG, "%s: tol is %g, expected a finite value >= 0", fn, o.tol);
    if (o.max_iter < 1 || o.history < 1)
        return zoo_error(ZOO_ERR_ARG, "%s: max_iter %d and history %d must be >= 1", fn, o.max_iter,
                         o.history);
    if (n_classes < 2)
        return zoo_error(ZOO_ERR_ARG, "%s: %d classes, expected at least 2", fn, n_classes);
    int rc = check_x(fn, x, n, layers, dim);
    if (rc == ZOO_OK) rc = check_y(fn, y, n, n_classes);
    if (rc != ZOO_OK) return rc;

    const int64_t L = layers, C = dim, LC = L * C, P = n_params(n_classes, L, C);
    zoo_probe *p = calloc(1, sizeof *p);
    if (p) {
        p->theta = calloc((size_t)P, sizeof *p->theta);
        p->mean = calloc((size_t)LC, sizeof *p->mean);
        p->std = calloc((size_t)LC, sizeof *p->std);
    }
    if (!p || !p->theta || !p->mean || !p->std) {
        zoo_probe_free(p);
        return zoo_error(ZOO_ERR_NOMEM, "%s: out of memory", fn);
    }
    p->K = n_classes, p->L = L, p->C = C, p->mix = o.mix, p->l2 = o.l2;
    /* two passes in example order: the mean, then the spread about it */
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < LC; j++) p->mean[j] += x[i * LC + j];
    for (int64_t j = 0; j < LC; j++) p->mean[j] /= (double)n;
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < LC; j++) {
            double v = x[i * LC + j] - p->mean[j];
            p->std[j] += v * v;
        }
    for (int64_t j = 0; j < LC; j++) {
        p->std[j] = sqrt(p->std[j] / (double)n);
        if (!(p->std[j] > 0)) p->std[j] = 1;
    }
    rc = lbfgs(p, x, y, n, &o);
    if (rc != ZOO_OK) {
        zoo_probe_free(p);
        return rc;
    }
    *out = p;
    return ZOO_OK;
}

void zoo_probe_free(zoo_probe *p) {
    if (!p) return;
    free(p->theta), free(p->mean), free(p->std), free(p);
}

zoo_probe_fit_info zoo_probe_info(const zoo_probe *p) {
    return p->info;
}
int zoo_probe_classes(const zoo_probe *p) {
    return p->K;
}
int64_t zoo_probe_layers(const zoo_probe *p) {
    return p->L;
}
int64_t zoo_probe_dim(const zoo_probe *p) {
    return p->C;
}
int64_t zoo_probe_param_count(const zoo_probe *p) {
    return n_params(p->K, p->L, p->C);
}
double *zoo_probe_params(zoo_probe *p) {
    return p->theta;
}
void zoo_probe_layer_weights(const zoo_probe *p, double *weights) {
    softmax_s(p, weights);
}
const double *zoo_probe_mean(const zoo_probe *p) {
    return p->mean;
}
const double *zoo_probe_std(const zoo_probe *p) {
    return p->std;
}

int zoo_probe_logits(const zoo_probe *p, float *logits, const float *x, int64_t n, int64_t layers,
                     int64_t dim) {
    int rc = check_probe_x("zoo_probe_logits", p, x, n, layers, dim);
    if (rc != ZOO_OK) return rc;
    if (!logits) return zoo_error(ZOO_ERR_ARG, "zoo_probe_logits: logits are NULL");
    return run_pass(p, x, NULL, n, logits, NULL, NULL);
}

int zoo_probe_predict(const zoo_probe *p, int32_t *labels, const float *x, int64_t n,
                      int64_t layers, int64_t dim) {
    int rc = check_probe_x("zoo_probe_predict", p, x, n, layers, dim);
    if (rc != ZOO_OK) return rc;
    if (!labels) return zoo_error(ZOO_ERR_ARG, "zoo_probe_predict: labels are NULL");
    float *z = malloc((size_t)(n * p->K) * sizeof *z);
    if (!z) return zoo_error(ZOO_ERR_NOMEM, "zoo_probe_predict: out of memory");
    rc = run_pass(p, x, NULL, n, z, NULL, NULL);
    for (int64_t i = 0; rc == ZOO_OK && i < n; i++) {
        int best = 0;
        for (int k = 1; k < p->K; k++)
            if (z[i * p->K + k] > z[i * p->K + best]) best = k;
        labels[i] = best;
    }
    free(z);
    return rc;
}

int zoo_probe_accuracy(const zoo_probe *p, double *accuracy, const float *x, const int32_t *y,
                       int64_t n, int64_t layers, int64_t dim) {
    static const char fn[] = "zoo_probe_accuracy";
    if (!accuracy) return zoo_error(ZOO_ERR_ARG, "%s: accuracy is NULL", fn);
    int rc = check_probe_x(fn, p, x, n, layers, dim);
    if (rc == ZOO_OK) rc = check_y(fn, y, n, p->K);
    if (rc != ZOO_OK) return rc;
    int32_t *pred = malloc((size_t)n * sizeof *pred);
    if (!pred) return zoo_error(ZOO_ERR_NOMEM, "%s: out of memory", fn);
    rc = zoo_probe_predict(p, pred, x, n, layers, dim);
    int64_t right = 0;
    for (int64_t i = 0; rc == ZOO_OK && i < n; i++) right += pred[i] == y[i];
    if (rc == ZOO_OK) *accuracy = (double)right / (double)n;
    free(pred);
    return rc;
}

int zoo_probe_objective(const zoo_probe *p, double *loss, double *grad, const float *x,
                        const int32_t *y, int64_t n, int64_t layers, int64_t dim) {
    static const char fn[] = "zoo_probe_objective";
    if (!loss) return zoo_error(ZOO_ERR_ARG, "%s: loss is NULL", fn);
    int rc = check_probe_x(fn, p, x, n, layers, dim);
    if (rc == ZOO_OK) rc = check_y(fn, y, n, p->K);
    if (rc != ZOO_OK) return rc;
    return run_pass(p, x, y, n, NULL, loss, grad);
}

int zoo_majority_baseline(double *accuracy, int *majority, const int32_t *train, int64_t n_train,
                          const int32_t *eval, int64_t n_eval, int n_classes) {
    static const char fn[] = "zoo_majority_baseline";
    if (!accuracy) return zoo_error(ZOO_ERR_ARG, "%s: accuracy is NULL", fn);
    if (n_classes < 1)
        return zoo_error(ZOO_ERR_ARG, "%s: %d classes, expected at least 1", fn, n_classes);
    int rc = check_y(fn, train, n_train, n_classes);
    if (rc == ZOO_OK) rc = check_y(fn, eval, n_eval, n_classes);
    if (rc != ZOO_OK) return rc;
    int64_t *count = calloc((size_t)n_classes, sizeof *count);
    if (!count) return zoo_error(ZOO_ERR_NOMEM, "%s: out of memory", fn);
    for (int64_t i = 0; i < n_train; i++) count[train[i]]++;
    int best = 0;
    for (int k = 1; k < n_classes; k++)
        if (count[k] > count[best]) best = k;
    int64_t right = 0;
    for (int64_t i = 0; i < n_eval; i++) right += eval[i] == best;
    free(count);
    *accuracy = (double)right / (double)n_eval;
    if (majority) *majority = best;
    return ZOO_OK;
}
