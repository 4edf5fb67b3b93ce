/* The linear probe (zoo/probe.h): its objective against a double-precision
 * reference and central differences, its fit against a Newton minimiser
 * written here, separable and noisy data, the scalar mix, thread-count
 * independence and the errors. */
#include <math.h>

#include "check_util.h"

/* ---- data ---------------------------------------------------------------------- */

typedef struct dataset {
    float *x;   /* [n, L, C] */
    int32_t *y; /* [n] */
    int64_t n, L, C;
    int K;
} dataset;

static void dataset_free(dataset *d) {
    free(d->x), free(d->y);
}

static int draw_class(zoo_rng *rng, const double *prior, int K) {
    double u = zoo_rng_uniform(rng), acc = 0;
    for (int k = 0; k < K; k++)
        if (u < (acc += prior[k])) return k;
    return K - 1;
}

/* A Gaussian mixture: class k's mean means[k] [C] in layer `signal`, noise
 * of standard deviation `noise` around it; every other layer pure noise.
 * Each channel then gets its own offset and scale, for standardisation to undo. */
static dataset gaussian_mixture(uint64_t seed, int64_t n, int64_t L, int64_t C, int K,
                                const double *prior, const float *means, float noise,
                                int64_t signal) {
    zoo_rng rng;
    zoo_rng_seed(&rng, seed);
    dataset d = {malloc((size_t)(n * L * C) * sizeof(float)),
                 malloc((size_t)n * sizeof(int32_t)),
                 n,
                 L,
                 C,
                 K};
    for (int64_t i = 0; i < n; i++) {
        d.y[i] = draw_class(&rng, prior, K);
        for (int64_t l = 0; l < L; l++)
            for (int64_t c = 0; c < C; c++) {
                float v = noise * zoo_rng_normal(&rng);
                if (l == signal) v += means[d.y[i] * C + c];
                float scale = 0.5f + (float)((c * 7 + l * 3) % 5), offset = (float)(c % 4) - 1.5f;
                d.x[(i * L + l) * C + c] = offset + scale * v;
            }
    }
    return d;
}

static float *random_means(uint64_t seed, int K, int64_t C, float spread) {
    zoo_rng rng;
    zoo_rng_seed(&rng, seed);
    float *m = malloc((size_t)(K * C) * sizeof *m);
    zoo_rng_fill_normal(&rng, m, (size_t)(K * C), 0.0f, spread);
    return m;
}

/* ---- the reference, in double -------------------------------------------------- */

/* Population mean and std per (layer, channel), std 0 kept as 1. */
static void standardisation(const dataset *d, double *mean, double *std) {
    const int64_t LC = d->L * d->C;
    for (int64_t j = 0; j < LC; j++) {
        double s = 0, v = 0;
        for (int64_t i = 0; i < d->n; i++) s += d->x[i * LC + j];
        mean[j] = s / (double)d->n;
        for (int64_t i = 0; i < d->n; i++) {
            double e = d->x[i * LC + j] - mean[j];
            v += e * e;
        }
        std[j] = v > 0 ? sqrt(v / (double)d->n) : 1;
    }
}

/* J of probe.h at theta (W, b, s packed as the probe packs them). */
static double reference_objective(const dataset *d, const double *mean, const double *std,
                                  const double *theta, double l2, bool mix, double *logits) {
    const int K = d->K;
    const int64_t L = d->L, C = d->C, KC = K * C;
    const double *s = theta + KC + K;
    double a[8], mx = -INFINITY, sum = 0, loss = 0, pen = 0;
    for (int64_t l = 0; l < L; l++) mx = fmax(mx, s[l]);
    for (int64_t l = 0; l < L; l++) sum += a[l] = exp(s[l] - mx);
    for (int64_t i = 0; i < d->n; i++) {
        double z[16], zmax = -INFINITY, se = 0;
        for (int k = 0; k < K; k++) {
            z[k] = theta[KC + k];
            for (int64_t l = 0; l < L; l++)
                for (int64_t c = 0; c < C; c++) {
                    int64_t j = l * C + c;
                    double h = a[l] / sum * (d->x[i * L * C + j] - mean[j]) / std[j];
                    z[k] += theta[k * C + c] * h;
                }
            if (logits) logits[i * K + k] = z[k];
            zmax = fmax(zmax, z[k]);
        }
        for (int k = 0; k < K; k++) se += exp(z[k] - zmax);
        loss += zmax + log(se) - z[d->y[i]];
    }
    for (int64_t i = 0; i < KC; i++) pen += theta[i] * theta[i];
    if (mix)
        for (int64_t l = 0; l < L; l++) pen += s[l] * s[l];
    return loss / (double)d->n + 0.5 * l2 * pen;
}

/* Solves A x = b in place for symmetric positive definite A [P, P] (Cholesky). */
static void cholesky_solve(double *A, double *b, int64_t P) {
    for (int64_t j = 0; j < P; j++) {
        double s = A[j * P + j];
        for (int64_t k = 0; k < j; k++) s -= A[j * P + k] * A[j * P + k];
        ck_assert_msg(s > 0, "reference Hessian not positive definite");
        A[j * P + j] = sqrt(s);
        for (int64_t i = j + 1; i < P; i++) {
            double t = A[i * P + j];
            for (int64_t k = 0; k < j; k++) t -= A[i * P + k] * A[j * P + k];
            A[i * P + j] = t / A[j * P + j];
        }
    }
    for (int64_t i = 0; i < P; i++) { /* L y = b */
        for (int64_t k = 0; k < i; k++) b[i] -= A[i * P + k] * b[k];
        b[i] /= A[i * P + i];
    }
    for (int64_t i = P - 1; i >= 0; i--) { /* L^T x = y */
        for (int64_t k = i + 1; k < P; k++) b[i] -= A[k * P + i] * b[k];
        b[i] /= A[i * P + i];
    }
}

/* The minimiser of J for L = 1 without mix by damped Newton steps in double:
 * W [K, C] then b [K] into theta (the probe's packing; s = 0). */
static void reference_minimiser(const dataset *d, double l2, double *theta) {
    const int K = d->K;
    const int64_t C = d->C, C1 = C + 1, P = K * C1; /* own order: (k, c), c == C the bias */
    double *mean = malloc((size_t)C * sizeof *mean), *std = malloc((size_t)C * sizeof *std);
    double *w = calloc((size_t)P, sizeof *w), *g = malloc((size_t)P * sizeof *g);
    double *H = malloc((size_t)(P * P) * sizeof *H), *h = malloc((size_t)C1 * sizeof *h);
    double *trial = malloc((size_t)P * sizeof *trial);
    standardisation(d, mean, std);
    double p[16];
    for (int it = 0; it < 100; it++) {
        memset(g, 0, (size_t)P * sizeof *g);
        memset(H, 0, (size_t)(P * P) * sizeof *H);
        for (int64_t i = 0; i < d->n; i++) {
            for (int64_t c = 0; c < C; c++) h[c] = (d->x[i * C + c] - mean[c]) / std[c];
            h[C] = 1;
            double mx = -INFINITY, se = 0;
            for (int k = 0; k < K; k++) {
                p[k] = 0;
                for (int64_t c = 0; c < C1; c++) p[k] += w[k * C1 + c] * h[c];
                mx = fmax(mx, p[k]);
            }
            for (int k = 0; k < K; k++) se += p[k] = exp(p[k] - mx);
            for (int k = 0; k < K; k++) p[k] /= se;
            for (int k = 0; k < K; k++)
                for (int64_t c = 0; c < C1; c++) {
                    g[k * C1 + c] += (p[k] - (k == d->y[i])) * h[c] / (double)d->n;
                    for (int k2 = 0; k2 < K; k2++)
                        for (int64_t c2 = 0; c2 < C1; c2++)
                            H[(k * C1 + c) * P + k2 * C1 + c2] +=
                                (p[k] * (k == k2) - p[k] * p[k2]) * h[c] * h[c2] / (double)d->n;
                }
        }
        double gmax = 0;
        for (int k = 0; k < K; k++)
            for (int64_t c = 0; c < C1; c++) {
                int64_t q = k * C1 + c;
                if (c < C) g[q] += l2 * w[q], H[q * P + q] += l2;
                H[q * P + q] += 1e-9; /* b's shared shift changes nothing: no gradient along it */
                gmax = fmax(gmax, fabs(g[q]));
            }
        if (gmax < 1e-13) break;
        cholesky_solve(H, g, P); /* g is now the Newton step, to subtract */
        double f0 = 0, f1;
        for (int k = 0; k < K; k++)
            for (int64_t c = 0; c < C1; c++) {
                theta[c < C ? k * C + c : K * C + k] = w[k * C1 + c];
            }
        theta[K * C + K] = 0; /* s */
        f0 = reference_objective(d, mean, std, theta, l2, false, NULL);
        for (double step = 1; step > 1e-6; step *= 0.5) {
            for (int64_t q = 0; q < P; q++) trial[q] = w[q] - step * g[q];
            for (int k = 0; k < K; k++)
                for (int64_t c = 0; c < C1; c++)
                    theta[c < C ? k * C + c : K * C + k] = trial[k * C1 + c];
            f1 = reference_objective(d, mean, std, theta, l2, false, NULL);
            if (f1 <= f0) break;
        }
        memcpy(w, trial, (size_t)P * sizeof *w);
    }
    for (int k = 0; k < K; k++)
        for (int64_t c = 0; c < C1; c++) theta[c < C ? k * C + c : K * C + k] = w[k * C1 + c];
    theta[K * C + K] = 0; /* s */
    free(mean), free(std), free(w), free(g), free(H), free(h), free(trial);
}

static zoo_probe *fit(const dataset *d, const zoo_probe_options *o) {
    zoo_probe *p = NULL;
    int rc = zoo_probe_fit(&p, d->x, d->y, d->n, d->L, d->C, d->K, o);
    ck_assert_msg(rc == ZOO_OK, "zoo_probe_fit: %s", zoo_error_message());
    return p;
}

static double accuracy(const zoo_probe *p, const dataset *d) {
    double acc = -1;
    int rc = zoo_probe_accuracy(p, &acc, d->x, d->y, d->n, d->L, d->C);
    ck_assert_msg(rc == ZOO_OK, "zoo_probe_accuracy: %s", zoo_error_message());
    return acc;
}

static double baseline(const dataset *train, const dataset *test) {
    double acc = -1;
    ck_assert_int_eq(
        zoo_majority_baseline(&acc, NULL, train->y, train->n, test->y, test->n, train->K), ZOO_OK);
    return acc;
}

/* ---- the objective ----------------------------------------------------------------- */

/* The probe's J, logits and gradient at random parameters: J and the logits
 * against the reference above, every gradient element against central
 * differences of the probe's own J. */
static void check_objective(bool mix) {
    const double prior[] = {0.3, 0.3, 0.2, 0.2};
    float *means = random_means(11, 4, 5, 1.0f);
    dataset d = gaussian_mixture(12, 37, 3, 5, 4, prior, means, 1.0f, 1);
    zoo_probe_options o = zoo_probe_defaults();
    o.mix = mix, o.max_iter = 1, o.l2 = 0.05;
    zoo_probe *p = fit(&d, &o);
    const int64_t P = zoo_probe_param_count(p);
    ck_assert_int_eq(P, 4 * 5 + 4 + 3);
    double *theta = zoo_probe_params(p);
    zoo_rng rng;
    zoo_rng_seed(&rng, 13);
    for (int64_t i = 0; i < P; i++) theta[i] = zoo_rng_normal(&rng) * 0.7;
    if (!mix) theta[P - 3] = theta[P - 2] = theta[P - 1] = 0;

    double mean[15], std[15], zref[37 * 4], J, Jref, *grad = malloc((size_t)P * sizeof *grad);
    float z[37 * 4];
    standardisation(&d, mean, std);
    for (int64_t j = 0; j < 15; j++)
        ck_assert_msg(fabs(zoo_probe_mean(p)[j] - mean[j]) <= 1e-9 * (1 + fabs(mean[j])) &&
                          fabs(zoo_probe_std(p)[j] - std[j]) <= 1e-9 * std[j],
                      "standardisation of channel %lld", (long long)j);
    Jref = reference_objective(&d, mean, std, theta, o.l2, mix, zref);
    ck_assert_int_eq(zoo_probe_objective(p, &J, grad, d.x, d.y, d.n, d.L, d.C), ZOO_OK);
    ck_assert_msg(fabs(J - Jref) <= 1e-6 * fabs(Jref), "J %.9g, reference %.9g", J, Jref);
    ck_assert_int_eq(zoo_probe_logits(p, z, d.x, d.n, d.L, d.C), ZOO_OK);
    for (int64_t i = 0; i < 37 * 4; i++)
        ck_assert_msg(fabs(z[i] - zref[i]) <= 1e-5 * (1 + fabs(zref[i])), "logit %lld: %g vs %g",
                      (long long)i, z[i], zref[i]);

    const double eps = 1e-2;
    for (int64_t i = 0; i < P; i++) {
        double keep = theta[i], fp, fm;
        theta[i] = keep + eps;
        ck_assert_int_eq(zoo_probe_objective(p, &fp, NULL, d.x, d.y, d.n, d.L, d.C), ZOO_OK);
        theta[i] = keep - eps;
        ck_assert_int_eq(zoo_probe_objective(p, &fm, NULL, d.x, d.y, d.n, d.L, d.C), ZOO_OK);
        theta[i] = keep;
        double fd = (fp - fm) / (2 * eps);
        if (!mix && i >= P - 3) fd = 0; /* s is not trained: its gradient is 0 */
        ck_assert_msg(fabs(grad[i] - fd) <= 2e-4 + 2e-3 * fabs(fd),
                      "parameter %lld: gradient %.8g, central difference %.8g", (long long)i,
                      grad[i], fd);
    }
    free(grad), free(means);
    zoo_probe_free(p);
    dataset_free(&d);
}

START_TEST(test_objective_and_gradient_with_mix) {
    check_objective(true);
}
END_TEST

START_TEST(test_objective_and_gradient_without_mix) {
    check_objective(false);
}
END_TEST

/* ---- fitting -------------------------------------------------------------------- */

/* Labels from a random linear map with a margin of at least 1 between the
 * best class's score and the next: a linear classifier can get all right. */
START_TEST(test_separable_set_is_learned_exactly) {
    const int K = 3;
    const int64_t n = 300, C = 8;
    zoo_rng rng;
    zoo_rng_seed(&rng, 21);
    float V[3 * 8];
    zoo_rng_fill_normal(&rng, V, 3 * 8, 0.0f, 1.0f);
    dataset d = {
        malloc((size_t)(n * C) * sizeof(float)), malloc((size_t)n * sizeof(int32_t)), n, 1, C, K};
    for (int64_t i = 0; i < n;) {
        float *x = d.x + i * C;
        zoo_rng_fill_normal(&rng, x, (size_t)C, 0.0f, 1.0f);
        double s[3], top = -INFINITY, second = -INFINITY;
        int best = 0;
        for (int k = 0; k < K; k++) {
            s[k] = 0;
            for (int64_t c = 0; c < C; c++) s[k] += V[k * C + c] * x[c];
            if (s[k] > top)
                second = top, top = s[k], best = k;
            else if (s[k] > second)
                second = s[k];
        }
        if (top - second < 1) continue;                       /* redraw inside the margin */
        for (int64_t c = 0; c < C; c++) x[c] = 10 * x[c] + 3; /* standardisation undoes this */
        d.y[i++] = best;
    }
    zoo_probe_options o = zoo_probe_defaults();
    o.l2 = 1e-4;
    zoo_probe *p = fit(&d, &o);
    ck_assert_double_eq(accuracy(p, &d), 1.0);
    zoo_probe_free(p);
    dataset_free(&d);
}
END_TEST

/* A noisy 4-class mixture: the probe beats the majority class by a wide
 * margin on held-out data and reaches the minimum of J that Newton's method
 * finds in double. */
START_TEST(test_noisy_mixture_matches_reference_minimiser) {
    const double prior[] = {0.4, 0.3, 0.2, 0.1};
    const int K = 4;
    const int64_t C = 16, n = 2000;
    float *means = random_means(31, K, C, 0.5f);
    dataset train = gaussian_mixture(32, n, 1, C, K, prior, means, 1.0f, 0);
    dataset test = gaussian_mixture(33, n, 1, C, K, prior, means, 1.0f, 0);
    zoo_probe_options o = zoo_probe_defaults();
    zoo_probe *p = fit(&train, &o);
    zoo_probe_fit_info info = zoo_probe_info(p);
    ck_assert_msg(info.converged, "stopped: %s after %d iterations, max|dJ| %g", info.stop,
                  info.iterations, info.grad_max);

    const int64_t P = zoo_probe_param_count(p);
    double *ref = calloc((size_t)P, sizeof *ref), mean[16], std[16], Jref, J;
    reference_minimiser(&train, o.l2, ref);
    standardisation(&train, mean, std);
    Jref = reference_objective(&train, mean, std, ref, o.l2, false, NULL);
    J = reference_objective(&train, mean, std, zoo_probe_params(p), o.l2, false, NULL);
    ck_assert_msg(J - Jref <= 1e-8 && J - Jref >= -1e-9, "J %.12g, reference minimum %.12g", J,
                  Jref);
    const double *theta = zoo_probe_params(p);
    for (int64_t i = 0; i < K * C; i++)
        ck_assert_msg(fabs(theta[i] - ref[i]) <= 1e-3 * (1 + fabs(ref[i])),
                      "W[%lld] %.6g, reference %.6g", (long long)i, theta[i], ref[i]);
    double bmean = 0, rmean = 0; /* b is defined up to a shared shift */
    for (int k = 0; k < K; k++) bmean += theta[K * C + k] / K, rmean += ref[K * C + k] / K;
    for (int k = 0; k < K; k++)
        ck_assert_msg(fabs((theta[K * C + k] - bmean) - (ref[K * C + k] - rmean)) <= 1e-3,
                      "b[%d] %.6g, reference %.6g", k, theta[K * C + k], ref[K * C + k]);

    /* held-out logits use the training set's standardisation */
    double *zref = malloc((size_t)(n * K) * sizeof *zref);
    float *z = malloc((size_t)(n * K) * sizeof *z);
    reference_objective(&test, mean, std, theta, o.l2, false, zref);
    ck_assert_int_eq(zoo_probe_logits(p, z, test.x, test.n, 1, C), ZOO_OK);
    for (int64_t i = 0; i < n * K; i++)
        ck_assert_msg(fabs(z[i] - zref[i]) <= 1e-5 * (1 + fabs(zref[i])), "logit %lld: %g vs %g",
                      (long long)i, z[i], zref[i]);
    free(zref), free(z);

    double acc = accuracy(p, &test), base = baseline(&train, &test);
    ck_assert_msg(acc >= base + 0.25, "held-out accuracy %.3f, majority baseline %.3f", acc, base);
    ck_assert_msg(accuracy(p, &train) >= acc - 0.05, "train accuracy below held-out");
    free(ref), free(means);
    zoo_probe_free(p);
    dataset_free(&train);
    dataset_free(&test);
}
END_TEST

/* Three layers of which only the middle one carries the classes: the learned
 * mix puts its weight there, and beats the plain mean of the layers. */
START_TEST(test_scalar_mix_prefers_the_informative_layer) {
    const double prior[] = {0.5, 0.3, 0.2};
    const int K = 3;
    const int64_t C = 12, n = 1500;
    float *means = random_means(41, K, C, 0.5f);
    dataset train = gaussian_mixture(42, n, 3, C, K, prior, means, 1.0f, 1);
    dataset test = gaussian_mixture(43, n, 3, C, K, prior, means, 1.0f, 1);
    zoo_probe_options o = zoo_probe_defaults();
    o.mix = true;
    zoo_probe *p = fit(&train, &o);
    double w[3];
    zoo_probe_layer_weights(p, w);
    ck_assert_msg(w[1] > 0.8, "layer weights %.3f %.3f %.3f", w[0], w[1], w[2]);
    double mixed = accuracy(p, &test), base = baseline(&train, &test);
    o.mix = false;
    zoo_probe *flat = fit(&train, &o);
    double plain = accuracy(flat, &test);
    ck_assert_msg(mixed >= base + 0.25, "mixed accuracy %.3f, majority baseline %.3f", mixed, base);
    ck_assert_msg(mixed > plain + 0.02, "mixed accuracy %.3f, mean of layers %.3f", mixed, plain);
    free(means);
    zoo_probe_free(p);
    zoo_probe_free(flat);
    dataset_free(&train);
    dataset_free(&test);
}
END_TEST

/* The same fit on 1, 2 and 3 threads gives the same parameters to the bit. */
START_TEST(test_result_does_not_depend_on_threads) {
    const double prior[] = {0.4, 0.3, 0.3};
    float *means = random_means(51, 3, 40, 0.3f);
    dataset d = gaussian_mixture(52, 3001, 2, 40, 3, prior, means, 1.0f, 0);
    zoo_probe_options o = zoo_probe_defaults();
    o.mix = true, o.max_iter = 30;
    double *first = NULL;
    float *z0 = malloc((size_t)(d.n * 3) * sizeof *z0), *z = malloc((size_t)(d.n * 3) * sizeof *z);
    for (int threads = 1; threads <= 3; threads++) {
        zoo_threads_set(threads);
        zoo_probe *p = fit(&d, &o);
        const int64_t P = zoo_probe_param_count(p);
        ck_assert_int_eq(zoo_probe_logits(p, threads == 1 ? z0 : z, d.x, d.n, d.L, d.C), ZOO_OK);
        if (!first) {
            first = malloc((size_t)P * sizeof *first);
            memcpy(first, zoo_probe_params(p), (size_t)P * sizeof *first);
        } else {
            ck_assert_msg(memcmp(first, zoo_probe_params(p), (size_t)P * sizeof *first) == 0,
                          "parameters differ on %d threads", threads);
            ck_assert_msg(memcmp(z0, z, (size_t)(d.n * 3) * sizeof *z) == 0,
                          "logits differ on %d threads", threads);
        }
        zoo_probe_free(p);
    }
    zoo_threads_set(1);
    free(first), free(means), free(z0), free(z);
    dataset_free(&d);
}
END_TEST

START_TEST(test_majority_baseline) {
    const int32_t train[] = {2, 0, 2, 1, 0, 2}, eval[] = {2, 2, 1, 0};
    double acc;
    int major = -1;
    ck_assert_int_eq(zoo_majority_baseline(&acc, &major, train, 6, eval, 4, 3), ZOO_OK);
    ck_assert_int_eq(major, 2);
    ck_assert_double_eq(acc, 0.5);
    const int32_t tie[] = {1, 0, 0, 1}; /* a tie goes to the lowest class */
    ck_assert_int_eq(zoo_majority_baseline(&acc, &major, tie, 4, eval, 4, 3), ZOO_OK);
    ck_assert_int_eq(major, 0);
    ck_assert_double_eq(acc, 0.25);
    ck_assert_int_eq(zoo_majority_baseline(&acc, &major, train, 0, eval, 4, 3), ZOO_ERR_SHAPE);
    ck_assert_int_eq(zoo_majority_baseline(&acc, &major, train, 6, eval, 4, 2), ZOO_ERR_ARG);
    ck_assert_str_eq(zoo_error_message(), "zoo_majority_baseline: label 0 is 2, outside [0, 2)");
}
END_TEST

/* ---- errors ---------------------------------------------------------------------- */

static void expect_fit_error(const dataset *d, int64_t n, int64_t L, int64_t C, int K,
                             const zoo_probe_options *o, int status, const char *message) {
    zoo_probe *p = (zoo_probe *)d; /* anything non-NULL: a failure sets it to NULL */
    ck_assert_int_eq(zoo_probe_fit(&p, d->x, d->y, n, L, C, K, o), status);
    ck_assert_ptr_null(p);
    ck_assert_str_eq(zoo_error_message(), message);
}

START_TEST(test_errors) {
    const double prior[] = {0.5, 0.5};
    float *means = random_means(61, 2, 3, 1.0f);
    dataset d = gaussian_mixture(62, 10, 2, 3, 2, prior, means, 1.0f, 0);
    zoo_probe_options o = zoo_probe_defaults();
    expect_fit_error(&d, 0, 2, 3, 2, &o, ZOO_ERR_SHAPE, "zoo_probe_fit: no examples (n = 0)");
    expect_fit_error(&d, 10, 0, 3, 2, &o, ZOO_ERR_SHAPE,
                     "zoo_probe_fit: features [10, 0, 3] have an empty axis");
    expect_fit_error(&d, 10, 2, 3, 1, &o, ZOO_ERR_ARG,
                     "zoo_probe_fit: 1 classes, expected at least 2");
    d.y[4] = 2;
    expect_fit_error(&d, 10, 2, 3, 2, &o, ZOO_ERR_ARG,
                     "zoo_probe_fit: label 4 is 2, outside [0, 2)");
    d.y[4] = -1;
    expect_fit_error(&d, 10, 2, 3, 2, &o, ZOO_ERR_ARG,
                     "zoo_probe_fit: label 4 is -1, outside [0, 2)");
    d.y[4] = 0;
    d.x[(7 * 2 + 1) * 3 + 2] = NAN;
    expect_fit_error(&d, 10, 2, 3, 2, &o, ZOO_ERR_ARG, "zoo_probe_fit: feature [7, 1, 2] is NaN");
    d.x[(7 * 2 + 1) * 3 + 2] = -INFINITY;
    expect_fit_error(&d, 10, 2, 3, 2, &o, ZOO_ERR_ARG,
                     "zoo_probe_fit: feature [7, 1, 2] is infinite");
    d.x[(7 * 2 + 1) * 3 + 2] = 0.5f;
    o.l2 = -1;
    expect_fit_error(&d, 10, 2, 3, 2, &o, ZOO_ERR_ARG,
                     "zoo_probe_fit: l2 is -1, expected a finite value >= 0");
    o = zoo_probe_defaults();
    o.history = 0;
    expect_fit_error(&d, 10, 2, 3, 2, &o, ZOO_ERR_ARG,
                     "zoo_probe_fit: max_iter 200 and history 0 must be >= 1");

    zoo_probe *p = fit(&d, NULL);
    int32_t labels[10];
    double acc;
    ck_assert_int_eq(zoo_probe_predict(p, labels, d.x, 10, 1, 6), ZOO_ERR_SHAPE);
    ck_assert_str_eq(zoo_error_message(), "zoo_probe_predict: features have 1 layers of 6 "
                                          "channels, the probe was fitted on 2 of 3");
    ck_assert_int_eq(zoo_probe_predict(p, labels, d.x, 0, 2, 3), ZOO_ERR_SHAPE);
    d.x[5] = NAN;
    ck_assert_int_eq(zoo_probe_accuracy(p, &acc, d.x, d.y, 10, 2, 3), ZOO_ERR_ARG);
    ck_assert_str_eq(zoo_error_message(), "zoo_probe_accuracy: feature [0, 1, 2] is NaN");
    d.x[5] = 0;
    d.y[9] = 7;
    ck_assert_int_eq(zoo_probe_accuracy(p, &acc, d.x, d.y, 10, 2, 3), ZOO_ERR_ARG);
    ck_assert_str_eq(zoo_error_message(), "zoo_probe_accuracy: label 9 is 7, outside [0, 2)");
    ck_assert_int_eq(zoo_probe_predict(p, labels, d.x, 10, 2, 3), ZOO_OK);
    for (int i = 0; i < 10; i++) ck_assert(labels[i] == 0 || labels[i] == 1);
    zoo_probe_free(p);
    zoo_probe_free(NULL);
    free(means);
    dataset_free(&d);
}
END_TEST

Suite *make_suite(void) {
    Suite *s = suite_create("probe");
    TCase *tc = tcase_create("probe");
    tcase_add_test(tc, test_objective_and_gradient_with_mix);
    tcase_add_test(tc, test_objective_and_gradient_without_mix);
    tcase_add_test(tc, test_separable_set_is_learned_exactly);
    tcase_add_test(tc, test_noisy_mixture_matches_reference_minimiser);
    tcase_add_test(tc, test_scalar_mix_prefers_the_informative_layer);
    tcase_add_test(tc, test_result_does_not_depend_on_threads);
    tcase_add_test(tc, test_majority_baseline);
    tcase_add_test(tc, test_errors);
    suite_add_tcase(s, tc);
    return s;
}
