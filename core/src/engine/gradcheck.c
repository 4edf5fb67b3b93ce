/* zoo_gradcheck: backward against central differences (see zoo/gradcheck.h). */
#include "zoo/gradcheck.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "zoo/rng.h"
#include "zoo/status.h"

/* The caller's options over the defaults: a field that is 0, or past the
 * caller's size, keeps its default. */
static zoo_gradcheck_opts resolve(const zoo_gradcheck_opts *given) {
    zoo_gradcheck_opts o = {0};
    if (given) memcpy(&o, given, given->size < sizeof o ? given->size : sizeof o);
    o.size = sizeof o;
    if (!(o.eps > 0)) o.eps = 5e-3;
    if (!(o.atol > 0)) o.atol = 1e-3;
    if (!(o.rtol > 0)) o.rtol = 5e-3;
    if (o.max_checks <= 0) o.max_checks = 256;
    if (o.seed == 0) o.seed = 12345;
    return o;
}

/* The build's failure as one message: the graph's error, or what the
 * build itself left with zoo_error. */
static int build_failed(zoo_graph *g, const char *pass) {
    int st = zoo_graph_status(g);
    const char *why = st ? zoo_graph_error(g) : zoo_error_message();
    return zoo_error(st ? st : ZOO_ERR_STATE, "zoo_gradcheck: the %s pass failed: %s", pass,
                     *why ? why : "build returned no tensor");
}

/* *sum = L = sum(w * y) in double, from a fresh non-recording pass. */
static int weighted_sum(zoo_graph *g, zoo_gradcheck_build_fn build, void *ctx, const float *w,
                        int64_t n, double *sum) {
    zoo_graph_reset(g);
    zoo_graph_set_recording(g, false);
    zoo_tensor *y = build(g, ctx);
    if (!y || zoo_graph_status(g)) return build_failed(g, "finite-difference");
    if (y->numel != n || y->dtype != ZOO_F32)
        return zoo_error(ZOO_ERR_SHAPE, "zoo_gradcheck: the output changed shape between passes");
    double s = 0;
    const float *v = y->data;
    for (int64_t i = 0; i < n; i++) s += (double)w[i] * v[i];
    *sum = s;
    return ZOO_OK;
}

/* Backward's a and a finite difference agree within the tolerances. */
static bool agrees(double a, double numeric, const zoo_gradcheck_opts *o) {
    return fabs(numeric - a) <= o->atol + o->rtol * fmax(fabs(numeric), fabs(a));
}

/* L at element xi moved by +step and -step (the element restored). */
static int perturbed(zoo_graph *g, zoo_gradcheck_build_fn build, void *ctx, const float *w,
                     int64_t n_out, float *xi, double step, double *up, double *down) {
    float saved = *xi;
    *xi = (float)(saved + step);
    int st = weighted_sum(g, build, ctx, w, n_out, up);
    *xi = (float)(saved - step);
    if (!st) st = weighted_sum(g, build, ctx, w, n_out, down);
    *xi = saved;
    return st;
}

/* Compares one parameter's analytic gradient with finite differences. */
static int check_param(zoo_graph *g, zoo_gradcheck_build_fn build, void *ctx, const float *w,
                       int64_t n_out, const zoo_param *p, const zoo_gradcheck_opts *o, zoo_rng *rng,
                       zoo_gradcheck_report *rep) {
    zoo_tensor *x = p->value;
    float *analytic = malloc((size_t)x->numel * sizeof *analytic);
    if (!analytic) return zoo_error(ZOO_ERR_NOMEM, "zoo_gradcheck: out of memory");
    /* never reached by backward: a zero gradient, checked like any other */
    if (x->grad)
        memcpy(analytic, x->grad, (size_t)x->numel * sizeof *analytic);
    else
        memset(analytic, 0, (size_t)x->numel * sizeof *analytic);
    int64_t checks = x->numel < o->max_checks ? x->numel : o->max_checks;
    int st = ZOO_OK;
    for (int64_t c = 0; c < checks && st == ZOO_OK; c++) {
        int64_t i = checks == x->numel ? c : (int64_t)zoo_rng_below(rng, (uint64_t)x->numel);
        float *xi = (float *)x->data + i;
        double a = analytic[i], numeric = 0, lo = INFINITY, hi = -INFINITY, center = NAN;
        bool judged = false;
        /* A piecewise-linear output (relu, a max, a clamp) has kinks. One
         * between x - step and x + step bends the central difference away
         * from the derivative at x: a closer step is unlikely to straddle
         * it, and when it does, the difference on the kink's other side is
         * still the derivative (the one-sided differences then disagree
         * with each other, which they do not on a linear piece). */
        for (double step = o->eps; !st && !judged && step >= o->eps / 16; step /= 4) {
            double up = 0, down = 0;
            st = perturbed(g, build, ctx, w, n_out, xi, step, &up, &down);
            double central = (up - down) / (2 * step);
            if (step == o->eps) numeric = central;
            lo = fmin(lo, central), hi = fmax(hi, central);
            if (!st && agrees(a, central, o)) {
                numeric = central, judged = true;
                break;
            }
            if (!st && isnan(center)) st = weighted_sum(g, build, ctx, w, n_out, &center);
            double right = (up - center) / step, left = (center - down) / step;
            if (!st && !agrees(left, right, o) && (agrees(a, left, o) || agrees(a, right, o)))
                numeric = agrees(a, left, o) ? left : right, judged = true;
        }
        /* None agreed, and the differences moved with the step: there is no
         * linear piece around x to measure, so x cannot be judged. A wrong
         * backward of a smooth output gives the same difference at every
         * step, and fails below. */
        if (!st && !judged && !agrees(lo, hi, o)) {
            rep->kinks++;
            continue;
        }
        if (st) { /* the build's reason, and where it happened */
            st = zoo_error(st, "%s (perturbing %s[%lld])", zoo_error_message(), p->name,
                           (long long)i);
            break;
        }
        double diff = fabs(numeric - a), scale = fmax(fabs(numeric), fabs(a));
        double rel = scale > 0 ? diff / scale : 0;
        rep->elements++;
        if (!(diff <= rep->max_abs_error)) {
            rep->max_abs_error = diff;
            rep->worst_param = p->name, rep->worst_index = i;
        }
        if (!(rel <= rep->max_rel_error)) rep->max_rel_error = rel;
        double tol = o->atol + o->rtol * scale;
        if (!(diff <= tol))
            st = zoo_error(ZOO_ERR_CHECK,
                           "%s[%lld]: backward gives %.6g, finite differences %.6g "
                           "(|difference| %.3g > tolerance %.3g)",
                           p->name, (long long)i, a, numeric, diff, tol);
    }
    free(analytic);
    return st;
}

/* As much of rep as the caller's struct holds, its size field untouched. */
static void copy_report(zoo_gradcheck_report *out, const zoo_gradcheck_report *rep) {
    size_t head = sizeof rep->size, n = out && out->size < sizeof *rep ? out->size : sizeof *rep;
    if (out && n > head) memcpy((char *)out + head, (const char *)rep + head, n - head);
}

int zoo_gradcheck(zoo_params *inputs, zoo_gradcheck_build_fn build, void *ctx,
                  const zoo_gradcheck_opts *opts, zoo_gradcheck_report *report) {
    zoo_gradcheck_report rep = {.size = sizeof rep};
    copy_report(report, &rep); /* the caller sees zeros even if we stop at once */
    if (!inputs || !build) return zoo_error(ZOO_ERR_ARG, "zoo_gradcheck: no parameters or build");
    zoo_gradcheck_opts o = resolve(opts);
    zoo_rng rng;
    zoo_rng_seed(&rng, o.seed);
    zoo_graph *g = zoo_graph_new(0);
    if (!g) return zoo_error(ZOO_ERR_NOMEM, "zoo_gradcheck: out of memory");
    zoo_params_zero_grad(inputs);

    int st = ZOO_OK;
    float *w = NULL;
    zoo_tensor *y = build(g, ctx);
    if (!y || zoo_graph_status(g))
        st = build_failed(g, "analytic");
    else if (y->dtype != ZOO_F32)
        st = zoo_error(ZOO_ERR_ARG, "zoo_gradcheck: the output is not float32");
    int64_t n_out = st ? 0 : y->numel;
    if (!st && !(w = malloc((size_t)n_out * sizeof *w)))
        st = zoo_error(ZOO_ERR_NOMEM, "zoo_gradcheck: out of memory");
    if (!st) {
        zoo_rng_fill_uniform(&rng, w, (size_t)n_out, -1.0f, 1.0f);
        if (zoo_backward_from(g, y, w) != ZOO_OK)
            st = zoo_error(zoo_graph_status(g), "zoo_gradcheck: backward failed: %s",
                           zoo_graph_error(g));
    }
    for (int pi = 0; !st && pi < zoo_params_count(inputs); pi++) {
        const zoo_param *p = zoo_params_at(inputs, pi);
        if (!p->value->requires_grad) continue;
        rep.params++;
        st = check_param(g, build, ctx, w, n_out, p, &o, &rng, &rep);
    }
    /* a few kinks are chance; most elements unjudged is a broken check */
    if (!st && rep.kinks * 10 > rep.elements + rep.kinks)
        st = zoo_error(ZOO_ERR_CHECK,
                       "zoo_gradcheck: %lld of %lld elements sit at kinks (finite differences "
                       "that change with the step): too many to judge the gradient",
                       (long long)rep.kinks, (long long)(rep.elements + rep.kinks));
    free(w);
    zoo_graph_free(g);
    copy_report(report, &rep);
    return st;
}
