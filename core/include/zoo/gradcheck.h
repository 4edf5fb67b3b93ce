/* The gradient check: a backward held against finite differences, as zoo's
 * own tests hold every operator and model. Plugin authors call it on their
 * operators and whole models; `zoo check-plugin` calls it on a plugin's loss.
 *
 * What is compared. `build` computes an output y from the parameters of
 * `inputs` on a graph. With w a fixed vector of weights drawn uniformly from
 * [-1, 1) (one per element of y, from opts->seed), the scalar
 * L = sum(w * y) is differentiated twice:
 *   analytic: one recording pass of build, then zoo_backward_from(y, w);
 *   numeric:  central differences (L(x + eps) - L(x - eps)) / (2 eps), each
 *             L from a fresh non-recording pass of build, summed in double.
 * for every parameter of `inputs` that takes a gradient (requires_grad; a
 * frozen one is skipped): every element when it has at most max_checks,
 * otherwise max_checks elements drawn at random (with replacement). A
 * parameter that backward never reached counts as a zero gradient, so a
 * path backward forgot shows up as a mismatch. Element i agrees when
 *     |analytic - numeric| <= atol + rtol * max(|analytic|, |numeric|).
 * A piecewise-linear output (relu, max-pooling, a clamp) has kinks, and
 * one between x - eps and x + eps bends the difference away from the
 * derivative at x. So where the two disagree, element i is looked at again:
 * with steps eps/4 and eps/16, and at each step also with the one-sided
 * differences (L(x+h) - L(x)) / h and (L(x) - L(x-h)) / h, which on the
 * kink's other side is still the derivative; a one-sided difference counts
 * only where the two sides disagree with each other (on a linear piece they
 * do not). When nothing agrees and the central differences moved with the
 * step, x sits among kinks (a max over many windows has them densely) and
 * cannot be judged: it is counted in `kinks`, not compared. A wrong backward of a smooth output gives one
 * difference at every step and fails; more than a tenth of the elements
 * at kinks fails the check as unable to judge.
 *
 * build must be deterministic: the same inputs give the same output on every
 * call (reseed any generator it draws from, dropout included, inside build).
 * It is called 1 + 2 * (elements checked) times, each time on a graph that
 * zoo_gradcheck has just reset; it returns NULL on failure, leaving a graph
 * error or a zoo_error message. The parameters are perturbed in place and
 * restored exactly; their gradients are zeroed first and hold the analytic
 * gradient afterwards.
 *
 * Float32 forward passes limit the precision: eps of 1e-3 to 1e-2 and a
 * relative tolerance near 1e-2 suit a whole model; parameters drawn near
 * zero give tiny gradients that pass any absolute tolerance, so give them
 * values of order 0.1 to 1 before checking.
 *
 * Example (docs/plugin-guide.md has a whole one):
 *
 *     static zoo_tensor *build(zoo_graph *g, void *ctx) {
 *         my_case *c = ctx;
 *         return my_op(g, c->x, c->w); // x and w: parameters of c->params
 *     }
 *     zoo_gradcheck_report rep = {.size = sizeof rep};
 *     if (zoo_gradcheck(c.params, build, &c, NULL, &rep) != ZOO_OK)
 *         fprintf(stderr, "%s\n", zoo_error_message());
 *
 * Thread safety: one check at a time per parameter store. */
#ifndef ZOO_GRADCHECK_H
#define ZOO_GRADCHECK_H

#include <stdint.h>

#include "zoo/export.h"
#include "zoo/params.h"
#include "zoo/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Builds the output under test on g from the caller's parameters. */
typedef zoo_tensor *(*zoo_gradcheck_build_fn)(zoo_graph *g, void *ctx);

/* Options; a field left 0 takes its default, and so does every field past
 * `size` (a caller built against an older, shorter struct). */
typedef struct zoo_gradcheck_opts {
    uint32_t size;  /* sizeof(zoo_gradcheck_opts) */
    double eps;     /* central difference step (default 5e-3) */
    double atol;    /* absolute tolerance (default 1e-3) */
    double rtol;    /* relative tolerance (default 5e-3) */
    int max_checks; /* elements checked per parameter (default 256) */
    uint64_t seed;  /* the weights w and the elements chosen (default 12345) */
} zoo_gradcheck_opts;

/* What a check saw, filled as far as it got (also when it fails). */
typedef struct zoo_gradcheck_report {
    uint32_t size;           /* sizeof(zoo_gradcheck_report), set by the caller */
    int params;              /* parameters checked */
    int64_t elements;        /* elements compared */
    double max_abs_error;    /* worst |analytic - numeric| */
    double max_rel_error;    /* worst |analytic - numeric| / max(|analytic|, |numeric|) */
    const char *worst_param; /* the parameter of max_abs_error (a name owned by inputs), or NULL */
    int64_t worst_index;     /* and its element (row-major) */
    int64_t kinks;           /* elements not judged: their differences moved with the step */
} zoo_gradcheck_report;

/* Checks the gradients of every parameter of `inputs` that takes one (see
 * above). opts and report may be NULL. Returns ZOO_OK when every element
 * checked agrees; ZOO_ERR_CHECK at the first one that does not, with the
 * message "NAME[i]: backward gives A, finite differences N (|difference| D
 * > tolerance T)"; the status of a failed build or backward (message: which
 * pass failed and why); ZOO_ERR_ARG for a NULL argument or an output that is
 * not float32; ZOO_ERR_NOMEM. */
ZOO_API int zoo_gradcheck(zoo_params *inputs, zoo_gradcheck_build_fn build, void *ctx,
                          const zoo_gradcheck_opts *opts, zoo_gradcheck_report *report);

#ifdef __cplusplus
}
#endif
#endif
