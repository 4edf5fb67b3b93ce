/* A linear probe: a softmax classifier trained on frozen features, as a
 * comparison of models measures what their vectors hold.
 *
 * Features are float32 [N, L, C], row-major: N examples, L layers per example
 * (1 for most models; ELMo gives 3), C channels. Labels are int32 [N] in
 * [0, K). The model, for one example x [L, C]:
 *
 *   x~_j  = (x_j - mean_j) / std_j               standardised per layer and channel
 *   h     = sum_j softmax(s)_j x~_j               the scalar mix (ELMo's)     [C]
 *   z     = W h + b                               logits                      [K]
 *
 * mean and std [L, C] are the training set's (population std, over N; a
 * channel with std 0 keeps std 1) and are applied unchanged to any later set.
 * With `mix` off, s = 0 stays fixed: the classifier sees the layers' plain
 * mean (L = 1: the standardised features themselves). ELMo's mix also has a
 * scale gamma; a linear probe leaves it out, because gamma W is all the
 * logits see: a learned gamma would only grow to shrink W and so weaken the
 * penalty, and a mixed probe would be regularised less than an unmixed one.
 *
 * Training minimises, full batch and deterministically,
 *
 *   J = (1/N) sum_n -log softmax(z_n)[y_n] + (l2/2) (|W|^2 + |s|^2)
 *
 * (|s|^2 only with `mix`, keeping s finite when one layer takes all the
 * weight; b is not penalised). l2 weighs the penalty against the mean loss:
 * it is scikit-learn's 1/(C N), so the default 1e-3 at N = 10,000 is its
 * C = 0.1. Without mix J is convex (strictly in W); with it, it is not, and
 * the fit finds a local minimum.
 *
 * The optimiser is L-BFGS over all parameters in double precision, starting
 * at 0 (so the mix starts even), with a backtracking (Armijo) line search; an
 * update whose curvature y.s is not positive is skipped. It stops when
 * max|dJ| <= tol (converged), after max_iter iterations, or when the line
 * search finds no decrease (the objective's float rounding reached).
 *
 * The examples are cut into blocks fixed by N alone (at least 256 rows, at
 * most 64 blocks), shared out over zoo's pool. Within a block the products
 * run in float32 (OpenBLAS sgemm), the loss and softmax in double; the
 * blocks' sums are added in double, in block order: the result does not
 * depend on the thread count, to the bit.
 * Standardisation happens per block, so no copy of the features is made;
 * L-BFGS keeps 2 * history vectors of zoo_probe_param_count() doubles.
 *
 * Errors come back as a status with a message (zoo_error_message): shapes
 * that are empty or do not match the probe, labels out of [0, K), fewer than
 * two classes, non-finite features or options out of range (checked before
 * any work). Predicting does not modify the probe. */
#ifndef ZOO_PROBE_H
#define ZOO_PROBE_H

#include <stdbool.h>
#include <stdint.h>

#include "zoo/export.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct zoo_probe zoo_probe;

typedef struct zoo_probe_options {
    double l2;    /* > 0 or 0: the penalty above (default 1e-3) */
    int max_iter; /* L-BFGS iterations, >= 1 (default 200) */
    double tol;   /* stop when max |dJ/dparameter| <= tol, >= 0 (default 1e-5) */
    int history;  /* L-BFGS memory, >= 1 (default 10) */
    bool mix;     /* learn s with the classifier (default false) */
} zoo_probe_options;

/* How the fit went. */
typedef struct zoo_probe_fit_info {
    int iterations;   /* L-BFGS iterations taken */
    int evaluations;  /* objective + gradient evaluations (each a pass over the data) */
    double loss;      /* J at the end */
    double grad_max;  /* max |dJ| at the end */
    bool converged;   /* grad_max <= tol */
    const char *stop; /* "converged", "max_iter" or "line search made no progress" */
} zoo_probe_fit_info;

ZOO_API zoo_probe_options zoo_probe_defaults(void);

/* Trains a probe on x [n, layers, dim] with labels y [n] in [0, n_classes)
 * (opts NULL: the defaults) and stores it in *out (NULL on failure). */
ZOO_API int zoo_probe_fit(zoo_probe **out, const float *x, const int32_t *y, int64_t n,
                          int64_t layers, int64_t dim, int n_classes,
                          const zoo_probe_options *opts);
ZOO_API void zoo_probe_free(zoo_probe *p);

ZOO_API zoo_probe_fit_info zoo_probe_info(const zoo_probe *p);
ZOO_API int zoo_probe_classes(const zoo_probe *p);
ZOO_API int64_t zoo_probe_layers(const zoo_probe *p);
ZOO_API int64_t zoo_probe_dim(const zoo_probe *p);

/* logits [n, K] of x [n, layers, dim] (the probe's layers and dim). */
ZOO_API int zoo_probe_logits(const zoo_probe *p, float *logits, const float *x, int64_t n,
                             int64_t layers, int64_t dim);
/* labels [n]: each example's arg max (the lowest class on a tie). */
ZOO_API int zoo_probe_predict(const zoo_probe *p, int32_t *labels, const float *x, int64_t n,
                              int64_t layers, int64_t dim);
/* *accuracy: the fraction of x [n, layers, dim] predicted as y [n]. */
ZOO_API int zoo_probe_accuracy(const zoo_probe *p, double *accuracy, const float *x,
                               const int32_t *y, int64_t n, int64_t layers, int64_t dim);

/* The baseline a probe must beat: the most frequent class of train [n_train]
 * (the lowest on a tie) into *majority (may be NULL), and the fraction of
 * eval [n_eval] that has it into *accuracy. Labels in [0, n_classes). */
ZOO_API int zoo_majority_baseline(double *accuracy, int *majority, const int32_t *train,
                                  int64_t n_train, const int32_t *eval, int64_t n_eval,
                                  int n_classes);

/* The parameters, packed in double: W [K, C] (row k: class k), b [K], s [L];
 * zoo_probe_param_count() = K C + K + L. The vector is the
 * probe's own: writing it changes the probe (a checkpoint restored, a
 * gradient checked). The layer weights softmax(s) [L] into `weights`. */
ZOO_API int64_t zoo_probe_param_count(const zoo_probe *p);
ZOO_API double *zoo_probe_params(zoo_probe *p);
ZOO_API void zoo_probe_layer_weights(const zoo_probe *p, double *weights);
/* The standardisation: mean and std [L, C], as the fit computed them. */
ZOO_API const double *zoo_probe_mean(const zoo_probe *p);
ZOO_API const double *zoo_probe_std(const zoo_probe *p);

/* J above at the probe's current parameters over x [n, layers, dim], y [n]
 * (any set, standardised with the probe's mean and std), into *loss, and
 * dJ [zoo_probe_param_count()] into grad unless it is NULL (0 for s when the
 * probe was fitted without mix). */
ZOO_API int zoo_probe_objective(const zoo_probe *p, double *loss, double *grad, const float *x,
                                const int32_t *y, int64_t n, int64_t layers, int64_t dim);

#ifdef __cplusplus
}
#endif
#endif
