/* The conformance checks (see conformance.h for what each one holds a
 * plugin to). Each makes its own model from the suite's seed and frees
 * everything it made before it reports. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "conformance_suite.h"
#include "tokenizers.h"
#include "zoo/zoo.h"

#define PASS(s, check, ...) suite_report((s), (check), ZOO_CHECK_PASS, __VA_ARGS__)
#define FAIL(s, check, ...) suite_report((s), (check), ZOO_CHECK_FAIL, __VA_ARGS__)
#define SKIP(s, check, ...) suite_report((s), (check), ZOO_CHECK_SKIP, __VA_ARGS__)

#define LOSS_SEED 0x1055 /* the rng a training check hands to loss and train_step */

/* Why the last operation on g failed: the graph's error, or the plugin's message. */
static const char *reason(const zoo_graph *g) {
    const char *why = g && zoo_graph_status(g) ? zoo_graph_error(g) : zoo_error_message();
    return *why ? why : "no message given";
}

static zoo_host_model *model_new(suite *s, uint64_t seed) {
    zoo_hparams *hp = zoo_hparams_clone(s->hp);
    if (!hp) return zoo_error(ZOO_ERR_NOMEM, "out of memory"), NULL;
    zoo_host_model *m = NULL;
    zoo_host_model_create(s->p, hp, seed, s->tok, &m);
    return m;
}

/* forward on a fresh step of g, without tape or dropout, as zoo forward runs it. */
static int run_forward(suite *s, zoo_host_model *m, zoo_graph *g, const zoo_batch *b,
                       zoo_outputs *out) {
    zoo_graph_reset(g);
    zoo_graph_set_recording(g, false);
    zoo_graph_set_training(g, false);
    *out = (zoo_outputs){.size = sizeof *out};
    zoo_error_clear();
    int st = s->ops->forward(m->model, g, b, out);
    return st ? st : zoo_graph_status(g);
}

/* loss on a fresh step of g as zoo train runs it: tape on, training mode,
 * a generator from a fixed seed. */
static int run_loss(suite *s, zoo_host_model *m, zoo_graph *g, const zoo_batch *b,
                    zoo_tensor **loss, zoo_metrics *metrics) {
    zoo_graph_reset(g);
    zoo_graph_set_recording(g, true);
    zoo_graph_set_training(g, true);
    zoo_rng rng;
    zoo_rng_seed(&rng, s->seed ^ LOSS_SEED);
    *loss = NULL;
    zoo_error_clear();
    int st = s->ops->loss(m->model, g, b, &rng, loss, metrics);
    if (!st) st = zoo_graph_status(g);
    if (!st && !*loss) st = zoo_error(ZOO_ERR_STATE, "loss returned no tensor");
    if (!st && ((*loss)->numel != 1 || (*loss)->dtype != ZOO_F32))
        st = zoo_error(ZOO_ERR_SHAPE, "the loss is not one float32 value (%lld elements)",
                       (long long)(*loss)->numel);
    return st;
}

static int64_t first_nonfinite(const zoo_tensor *t) {
    for (int64_t i = 0; i < t->numel; i++)
        if (!isfinite(zoo_f32(t)[i])) return i;
    return -1;
}

/* --- snapshots: named float arrays compared bit for bit ----------------- */

typedef struct named {
    char name[160];
    float *v;
    int64_t n;
} named;

typedef struct snapshot {
    named *items;
    int count, cap;
    bool failed; /* out of memory: not comparable */
} snapshot;

static void snap_add(snapshot *sn, const char *name, const float *v, int64_t n) {
    if (sn->count == sn->cap) {
        int cap = sn->cap ? 2 * sn->cap : 64;
        named *grown = realloc(sn->items, (size_t)cap * sizeof *grown);
        if (!grown) {
            sn->failed = true;
            return;
        }
        sn->items = grown, sn->cap = cap;
    }
    named *it = &sn->items[sn->count];
    snprintf(it->name, sizeof it->name, "%s", name);
    it->n = n;
    it->v = malloc((size_t)(n > 0 ? n : 1) * sizeof *it->v);
    if (!it->v) {
        sn->failed = true;
        return;
    }
    if (v)
        memcpy(it->v, v, (size_t)n * sizeof *it->v);
    else /* a gradient backward never reached */
        memset(it->v, 0, (size_t)n * sizeof *it->v);
    sn->count++;
}

static void snap_outputs(snapshot *sn, const zoo_outputs *o) {
    const zoo_tensor *t[3] = {o->logits, o->hidden, o->pooled};
    const char *names[3] = {"logits", "hidden", "pooled"};
    for (int k = 0; k < 3; k++)
        if (t[k]) snap_add(sn, names[k], zoo_f32(t[k]), t[k]->numel);
}

static void snap_params(snapshot *sn, zoo_params *params, bool grads) {
    for (int i = 0; i < zoo_params_count(params); i++) {
        const zoo_param *p = zoo_params_at(params, i);
        if (grads && !p->value->requires_grad) continue;
        snap_add(sn, p->name, grads ? p->value->grad : zoo_f32(p->value), p->value->numel);
    }
}

static void snap_free(snapshot *sn) {
    for (int i = 0; i < sn->count; i++) free(sn->items[i].v);
    free(sn->items);
    *sn = (snapshot){0};
}

/* True when a and b hold the same arrays, bit for bit; otherwise says where
 * they first differ into msg (la, lb: what a and b were). */
static bool snap_equal(const snapshot *a, const snapshot *b, const char *la, const char *lb,
                       char *msg, size_t size) {
    if (a->failed || b->failed) return snprintf(msg, size, "out of memory"), false;
    if (a->count != b->count)
        return snprintf(msg, size, "%d arrays %s, %d %s", a->count, la, b->count, lb), false;
    for (int i = 0; i < a->count; i++) {
        const named *x = &a->items[i], *y = &b->items[i];
        if (strcmp(x->name, y->name) != 0 || x->n != y->n)
            return snprintf(msg, size, "%s [%lld] %s, %s [%lld] %s", x->name, (long long)x->n, la,
                            y->name, (long long)y->n, lb),
                   false;
        for (int64_t e = 0; e < x->n; e++)
            if (memcmp(&x->v[e], &y->v[e], sizeof *x->v) != 0)
                return snprintf(msg, size, "%s[%lld]: %.9g %s, %.9g %s", x->name, (long long)e,
                                x->v[e], la, y->v[e], lb),
                       false;
    }
    return true;
}

/* --- create ------------------------------------------------------------- */

static void check_create(suite *s) {
    const char *name = "create";
    zoo_host_model *a = model_new(s, s->seed), *b = a ? model_new(s, s->seed) : NULL;
    if (!a || !b) {
        s->no_model = true;
        FAIL(s, name, "%s", reason(NULL));
        zoo_host_model_destroy(a);
        return;
    }
    snapshot *x = calloc(2, sizeof *x);
    char msg[512] = "out of memory";
    bool same = x;
    if (x) {
        snap_params(&x[0], a->params, false);
        snap_params(&x[1], b->params, false);
        same = snap_equal(&x[0], &x[1], "in one", "in the other", msg, sizeof msg);
    }
    int n = zoo_params_count(a->params);
    long long scalars = (long long)zoo_params_numel(a->params);
    if (x) snap_free(&x[0]), snap_free(&x[1]);
    free(x);
    zoo_host_model_destroy(a);
    zoo_host_model_destroy(b);
    if (!same)
        FAIL(s, name, "two models from seed %llu differ: %s (initialise only from the rng given)",
             (unsigned long long)s->seed, msg);
    else
        PASS(s, name, "%d parameter%s, %lld scalars", n, n == 1 ? "" : "s", scalars);
}

/* --- forward and embed --------------------------------------------------- */

/* Checks one output against [dims...] (a dim of -1: any), float32 and
 * finite; appends "what [shape]" to desc, or says what is wrong in msg. */
static bool output_ok(const zoo_tensor *t, const char *what, int ndim, const int64_t *dims,
                      char *msg, size_t size, char *desc, size_t dsize) {
    char shape[64];
    zoo_shape_str(t, shape, sizeof shape);
    bool fits = t->ndim == ndim && t->dtype == ZOO_F32;
    for (int k = 0; fits && k < ndim; k++) fits = dims[k] < 0 || t->shape[k] == dims[k];
    if (!fits) {
        char want[96] = "[";
        for (int k = 0; k < ndim; k++) {
            size_t len = strlen(want);
            if (dims[k] < 0)
                snprintf(want + len, sizeof want - len, "%s*", k ? "," : "");
            else
                snprintf(want + len, sizeof want - len, "%s%lld", k ? "," : "", (long long)dims[k]);
        }
        snprintf(msg, size, "%s is %s%s, expected float32 %s]", what,
                 t->dtype == ZOO_F32 ? "" : "int32 ", shape, want);
        return false;
    }
    int64_t bad = first_nonfinite(t);
    if (bad >= 0) {
        snprintf(msg, size, "%s[%lld] is %g", what, (long long)bad, zoo_f32(t)[bad]);
        return false;
    }
    size_t len = strlen(desc);
    snprintf(desc + len, dsize - len, "%s%s %s", len ? ", " : "", what, shape);
    return true;
}

static void check_forward(suite *s) {
    const char *name = "forward";
    zoo_host_model *m = model_new(s, s->seed);
    zoo_graph *g = zoo_graph_new(0);
    const zoo_batch *b = &s->small.b;
    zoo_outputs o;
    char msg[512] = "", desc[256] = "";
    bool ok = false;
    if (!m || !g)
        snprintf(msg, sizeof msg, "%s", reason(NULL));
    else if (run_forward(s, m, g, b, &o) != ZOO_OK)
        snprintf(msg, sizeof msg, "%s", reason(g));
    else if (!o.logits && !o.hidden && !o.pooled)
        snprintf(msg, sizeof msg, "no output: logits, hidden and pooled are all NULL");
    else {
        int64_t C = o.hidden && o.hidden->ndim == 3 ? o.hidden->shape[2] : -1;
        ok = (!o.logits ||
              output_ok(o.logits, "logits", 3, (int64_t[]){b->B, b->T, s->V > 0 ? s->V : -1}, msg,
                        sizeof msg, desc, sizeof desc)) &&
             (!o.hidden || output_ok(o.hidden, "hidden", 3, (int64_t[]){b->B, b->T, -1}, msg,
                                     sizeof msg, desc, sizeof desc)) &&
             (!o.pooled || output_ok(o.pooled, "pooled", 2, (int64_t[]){b->B, C}, msg, sizeof msg,
                                     desc, sizeof desc));
    }
    zoo_graph_free(g);
    zoo_host_model_destroy(m);
    if (ok)
        PASS(s, name, "%s", desc);
    else
        FAIL(s, name, "%s", msg);
}

/* embed(ZOO_EMBED_ALL_LAYERS): [B,T,C] (one layer, or a plugin that does not
 * know the value) or [L,B,T,C] whose layer i is embed(i), bit for bit. */
static bool all_layers_ok(suite *s, zoo_host_model *m, zoo_graph *g, int64_t C, char *msg,
                          size_t size, char *desc, size_t dsize) {
    const zoo_batch *b = &s->small.b;
    zoo_tensor *all = NULL;
    zoo_error_clear();
    int st = s->ops->embed(m->model, g, b, ZOO_EMBED_ALL_LAYERS, &all);
    if (!st) st = zoo_graph_status(g);
    if (st || !all) {
        snprintf(msg, size, "embed(ZOO_EMBED_ALL_LAYERS): %s",
                 st ? reason(g) : "no tensor returned");
        return false;
    }
    if (all->ndim == 3)
        return output_ok(all, "every layer (one)", 3, (int64_t[]){b->B, b->T, C}, msg, size, desc,
                         dsize);
    if (all->ndim != 4 || all->shape[0] < 1) {
        char shape[64];
        zoo_shape_str(all, shape, sizeof shape);
        snprintf(msg, size, "embed(ZOO_EMBED_ALL_LAYERS) is %s, expected [L,%lld,%lld,%lld]", shape,
                 (long long)b->B, (long long)b->T, (long long)C);
        return false;
    }
    if (!output_ok(all, "every layer", 4, (int64_t[]){-1, b->B, b->T, C}, msg, size, desc, dsize))
        return false;
    int64_t L = all->shape[0], n = b->B * b->T * C;
    for (int64_t l = 0; l < L; l++) {
        zoo_tensor *one = NULL;
        zoo_error_clear();
        st = s->ops->embed(m->model, g, b, (int)l, &one);
        if (!st) st = zoo_graph_status(g);
        if (st || !one || one->numel != n) {
            snprintf(msg, size, "embed(layer = %lld) of %lld layers: %s", (long long)l,
                     (long long)L,
                     st    ? reason(g)
                     : one ? "not as many values as a layer of the stack"
                           : "no tensor");
            return false;
        }
        if (memcmp(zoo_f32(all) + l * n, zoo_f32(one), (size_t)n * sizeof(float)) != 0) {
            snprintf(msg, size,
                     "layer %lld of embed(ZOO_EMBED_ALL_LAYERS) differs from embed(layer = %lld)",
                     (long long)l, (long long)l);
            return false;
        }
    }
    size_t len = strlen(desc);
    snprintf(desc + len, dsize - len, ", each equal to embed(layer = i)");
    return true;
}

static void check_embed(suite *s) {
    const char *name = "embed";
    zoo_host_model *m = model_new(s, s->seed);
    zoo_graph *g = zoo_graph_new(0);
    const zoo_batch *b = &s->small.b;
    char msg[512] = "", desc[256] = "";
    bool ok = false;
    zoo_tensor *out = NULL;
    if (!m || !g) {
        snprintf(msg, sizeof msg, "%s", reason(NULL));
    } else {
        zoo_graph_set_recording(g, false);
        zoo_error_clear();
        int st = s->ops->embed(m->model, g, b, -1, &out);
        if (!st) st = zoo_graph_status(g);
        if (st)
            snprintf(msg, sizeof msg, "%s", reason(g));
        else if (!out)
            snprintf(msg, sizeof msg, "embed returned no tensor");
        else
            ok = output_ok(out, "vectors", 3, (int64_t[]){b->B, b->T, -1}, msg, sizeof msg, desc,
                           sizeof desc) &&
                 all_layers_ok(s, m, g, out->shape[2], msg, sizeof msg, desc, sizeof desc);
    }
    zoo_graph_free(g);
    zoo_host_model_destroy(m);
    if (ok)
        PASS(s, name, "%s", desc);
    else
        FAIL(s, name, "%s", msg);
}

/* --- loss and gradients -------------------------------------------------- */

static void check_loss(suite *s) {
    const char *name = "loss";
    zoo_host_model *m = model_new(s, s->seed);
    zoo_graph *g = zoo_graph_new(0);
    char msg[512] = "", desc[512] = "";
    float first = 0, second = 0;
    zoo_tensor *loss = NULL;
    zoo_metrics metrics = {.size = sizeof metrics};
    if (!m || !g) {
        snprintf(msg, sizeof msg, "%s", reason(NULL));
    } else if (run_loss(s, m, g, &s->small.b, &loss, &metrics) != ZOO_OK) {
        snprintf(msg, sizeof msg, "%s", reason(g));
    } else if (!isfinite(first = zoo_f32(loss)[0])) {
        snprintf(msg, sizeof msg, "the loss is %g", first);
    } else if (metrics.count < 0 || metrics.count > ZOO_MAX_METRICS) {
        snprintf(msg, sizeof msg, "metrics count %d is outside [0, %d]", metrics.count,
                 ZOO_MAX_METRICS);
    } else {
        snprintf(desc, sizeof desc, "%.6g", first);
        for (int k = 0; k < metrics.count && !*msg; k++)
            if (!metrics.items[k].name)
                snprintf(msg, sizeof msg, "metric %d has no name", k);
            else
                snprintf(desc + strlen(desc), sizeof desc - strlen(desc), "%s%s %.4g",
                         k ? ", " : " (", metrics.items[k].name, metrics.items[k].value);
        if (metrics.count) snprintf(desc + strlen(desc), sizeof desc - strlen(desc), ")");
        if (!*msg && run_loss(s, m, g, &s->small.b, &loss, NULL) != ZOO_OK)
            snprintf(msg, sizeof msg, "the second time: %s", reason(g));
        if (!*msg) second = zoo_f32(loss)[0];
        if (!*msg && memcmp(&first, &second, sizeof first) != 0)
            snprintf(msg, sizeof msg,
                     "not deterministic: %.9g, then %.9g on the same batch and rng seed", first,
                     second);
    }
    zoo_graph_free(g);
    zoo_host_model_destroy(m);
    if (*msg)
        FAIL(s, name, "%s", msg);
    else
        PASS(s, name, "%s", desc);
}

/* Parameters of order 0.1 to 1 instead of the plugin's initialisation:
 * gradients large enough that no mistake hides under the tolerance, and no
 * layer left at zero (word2vec's output starts there) where every result
 * would agree trivially. */
static void redraw(suite *s, zoo_host_model *m) {
    zoo_rng rng;
    zoo_rng_seed(&rng, s->seed ^ 0x9aad);
    for (int i = 0; i < zoo_params_count(m->params); i++) {
        zoo_tensor *t = zoo_params_at(m->params, i)->value;
        /* a row wider than the tiny configuration's 16 (a string
         * hyperparameter the suite cannot shrink: elmo's 2048 filters) is
         * drawn narrower, so that its products stay of order 1 and do not
         * saturate every clip and relu behind them */
        double fan = (double)(t->numel / t->shape[0]);
        float std = fan > 16 ? 0.4f * (float)sqrt(16.0 / fan) : 0.4f;
        if (t->ndim >= 2)
            zoo_rng_fill_normal(&rng, zoo_f32(t), (size_t)t->numel, 0.0f, std);
        else
            zoo_rng_fill_uniform(&rng, zoo_f32(t), (size_t)t->numel, -0.5f, 1.5f);
    }
}

typedef struct loss_case {
    suite *s;
    zoo_host_model *m;
    const zoo_batch *b;
} loss_case;

/* The loss as zoo_gradcheck rebuilds it: the same rng seed every pass. */
static zoo_tensor *build_loss(zoo_graph *g, void *ctx) {
    loss_case *c = ctx;
    zoo_graph_set_training(g, true);
    zoo_rng rng;
    zoo_rng_seed(&rng, c->s->seed ^ LOSS_SEED);
    zoo_tensor *loss = NULL;
    zoo_error_clear();
    return c->s->ops->loss(c->m->model, g, c->b, &rng, &loss, NULL) == ZOO_OK ? loss : NULL;
}

/* Whether the loss reaches any parameter through the tape: NULL when it
 * does, else why the gradient checks skip or fail. */
static const char *off_tape(suite *s, zoo_host_model *m, zoo_graph *g, bool *skip) {
    zoo_tensor *loss = NULL;
    *skip = false;
    if (run_loss(s, m, g, &s->small.b, &loss, NULL) != ZOO_OK) return reason(g);
    if (loss->requires_grad) return NULL;
    *skip = s->p->plugin->capabilities & ZOO_CAP_SELF_UPDATE;
    return *skip ? "the loss is not on the autograd tape: a self-updating plugin trains through "
                   "train_step"
                 : "the loss does not reach any parameter through the autograd tape";
}

/* ", and N elements at kinks not judged" (zoo_gradcheck_report.kinks) */
static const char *kinks_note(int64_t kinks) {
    static char note[64];
    snprintf(note, sizeof note, ", and %lld element%s at kinks not judged", (long long)kinks,
             kinks == 1 ? "" : "s");
    return note;
}

static void check_gradients(suite *s) {
    const char *name = "gradients";
    zoo_host_model *m = model_new(s, s->seed);
    zoo_graph *g = zoo_graph_new(0);
    bool skip = false;
    const char *why = !m || !g ? reason(NULL) : off_tape(s, m, g, &skip);
    if (why) {
        suite_report(s, name, skip ? ZOO_CHECK_SKIP : ZOO_CHECK_FAIL, "%s", why);
    } else {
        redraw(s, m);
        zoo_gradcheck_opts o = {.size = sizeof o,
                                .eps = 1e-2,
                                .atol = 2e-4,
                                .rtol = 1e-2,
                                .max_checks = 32,
                                .seed = s->seed ^ 0x5eed};
        zoo_gradcheck_report rep = {.size = sizeof rep};
        loss_case c = {s, m, &s->small.b};
        if (zoo_gradcheck(m->params, build_loss, &c, &o, &rep) != ZOO_OK)
            FAIL(s, name, "%s", zoo_error_message());
        else
            PASS(s, name, "%lld elements of %d parameter%s, worst |error| %.2g at %s[%lld]%s",
                 (long long)rep.elements, rep.params, rep.params == 1 ? "" : "s", rep.max_abs_error,
                 rep.worst_param ? rep.worst_param : "-", (long long)rep.worst_index,
                 rep.kinks ? kinks_note(rep.kinks) : "");
    }
    zoo_graph_free(g);
    zoo_host_model_destroy(m);
}

/* --- decode and fill-mask ----------------------------------------------- */

/* A copy of each row's first n positions of b into buf (3 arrays of B*T,
 * then B*T*W token bytes when b has them). */
static zoo_batch prefix(const zoo_batch *b, int64_t n, int32_t *buf) {
    zoo_batch p = {.size = sizeof p, .B = b->B, .T = n, .W = b->token_bytes ? b->W : 0};
    const int32_t *from[4] = {b->ids, b->mask, b->types, b->token_bytes};
    const int32_t **to[4] = {&p.ids, &p.mask, &p.types, &p.token_bytes};
    int64_t width[4] = {1, 1, 1, p.W};
    for (int k = 0; k < 4; k++) {
        if (!from[k]) continue;
        int32_t *dst = buf + k * b->B * b->T;
        int64_t w = width[k];
        for (int64_t r = 0; r < b->B; r++)
            memcpy(dst + r * n * w, from[k] + r * b->T * w, (size_t)(n * w) * sizeof *dst);
        *to[k] = dst;
    }
    return p;
}

static void check_decode(suite *s) {
    const char *name = "decode";
    if (!(s->p->plugin->capabilities & ZOO_CAP_DECODE)) {
        SKIP(s, name, "the plugin does not set ZOO_CAP_DECODE");
        return;
    }
    const zoo_batch *b = &s->small.b;
    int64_t B = b->B, T = b->T;
    zoo_host_model *m = model_new(s, s->seed);
    zoo_graph *step = zoo_graph_new(0), *full = zoo_graph_new(0);
    int64_t W = b->token_bytes ? b->W : 0;
    int32_t *buf = malloc((size_t)(3 * B * T + B * T * W) * sizeof *buf),
            *col = malloc((size_t)B * sizeof *col);
    void *cache = NULL;
    char msg[512] = "";
    double worst = 0;
    if (!m || !step || !full || !buf || !col)
        snprintf(msg, sizeof msg, "%s", m ? "out of memory" : reason(NULL));
    else if (s->ops->cache_new(m->model, B, T, &cache) != ZOO_OK)
        snprintf(msg, sizeof msg, "cache_new(B = %lld, max_len = %lld): %s", (long long)B,
                 (long long)T, reason(NULL));
    for (int64_t t = 0; !*msg && t < T; t++) {
        for (int64_t r = 0; r < B; r++) col[r] = b->ids[r * T + t];
        zoo_graph_reset(step);
        zoo_graph_set_recording(step, false);
        zoo_tensor *logits = NULL;
        zoo_error_clear();
        int st = s->ops->decode_step(m->model, step, cache, col, B, &logits);
        zoo_batch p = prefix(b, t + 1, buf);
        zoo_outputs o;
        if (st || zoo_graph_status(step)) {
            snprintf(msg, sizeof msg, "step %lld: %s", (long long)t, reason(step));
        } else if (!logits) {
            snprintf(msg, sizeof msg, "step %lld: decode_step returned no logits", (long long)t);
        } else if (run_forward(s, m, full, &p, &o) != ZOO_OK) {
            snprintf(msg, sizeof msg, "forward on %lld positions: %s", (long long)t + 1,
                     reason(full));
        } else if (!o.logits) {
            snprintf(msg, sizeof msg, "forward gives no logits to compare decode_step with");
        } else if (logits->ndim != 2 || logits->shape[0] != B ||
                   logits->shape[1] != o.logits->shape[2]) {
            char shape[64];
            snprintf(msg, sizeof msg, "step %lld: logits are %s, expected [%lld,%lld]",
                     (long long)t, zoo_shape_str(logits, shape, sizeof shape), (long long)B,
                     (long long)o.logits->shape[2]);
        } else {
            int64_t V = logits->shape[1];
            for (int64_t r = 0; r < B && !*msg; r++)
                for (int64_t v = 0; v < V && !*msg; v++) {
                    double d = zoo_f32(logits)[r * V + v],
                           f = zoo_f32(o.logits)[(r * (t + 1) + t) * V + v];
                    double diff = fabs(d - f);
                    worst = diff > worst ? diff : worst;
                    if (!(diff <= 1e-5 + 1e-4 * fmax(fabs(d), fabs(f))))
                        snprintf(msg, sizeof msg,
                                 "step %lld, sequence %lld, token %lld: decode_step gives %.7g, "
                                 "forward %.7g",
                                 (long long)t, (long long)r, (long long)v, d, f);
                }
        }
    }
    if (cache) s->ops->cache_free(m->model, cache);
    free(buf), free(col);
    zoo_graph_free(step), zoo_graph_free(full);
    zoo_host_model_destroy(m);
    if (*msg)
        FAIL(s, name, "%s", msg);
    else
        PASS(s, name, "%lld steps of %lld sequences, worst |difference| %.2g", (long long)T,
             (long long)B, worst);
}

static void check_fill_mask(suite *s) {
    const char *name = "fill-mask";
    if (!(s->p->plugin->capabilities & ZOO_CAP_FILL_MASK)) {
        SKIP(s, name, "the plugin does not set ZOO_CAP_FILL_MASK");
        return;
    }
    int32_t mask_id = zoo_tokenizer_special(s->tok, ZOO_TOK_MASK);
    if (mask_id < 0) {
        SKIP(s, name,
             "the suite's tokenizer has no [MASK]: the plugin's objective is not the "
             "masked LM");
        return;
    }
    const zoo_batch *b = &s->small.b;
    int64_t n = b->B * b->T, masks = 0;
    int32_t *ids = malloc((size_t)n * sizeof *ids);
    zoo_host_model *m = model_new(s, s->seed);
    zoo_graph *g = zoo_graph_new(0);
    char msg[512] = "", desc[256] = "";
    if (!ids || !m || !g) {
        snprintf(msg, sizeof msg, "%s", m ? "out of memory" : reason(NULL));
    } else {
        memcpy(ids, b->ids, (size_t)n * sizeof *ids);
        for (int64_t i = 0; i < n; i++) masks += ids[i] == mask_id;
        if (!masks) ids[1] = mask_id, masks = 1; /* the batcher masked none: one after [CLS] */
        zoo_batch mb = *b;
        mb.ids = ids;
        zoo_tensor *out = NULL;
        zoo_graph_set_recording(g, false);
        zoo_error_clear();
        int st = s->ops->fill_mask(m->model, g, &mb, mask_id, &out);
        if (!st) st = zoo_graph_status(g);
        if (st)
            snprintf(msg, sizeof msg, "%s", reason(g));
        else if (!out)
            snprintf(msg, sizeof msg, "fill_mask returned no tensor");
        else
            output_ok(out, "logits", 2, (int64_t[]){masks, s->V > 0 ? s->V : -1}, msg, sizeof msg,
                      desc, sizeof desc);
    }
    free(ids);
    zoo_graph_free(g);
    zoo_host_model_destroy(m);
    if (*msg)
        FAIL(s, name, "%s", msg);
    else
        PASS(s, name, "%lld masked positions: %s", (long long)masks, desc);
}

/* --- export and import --------------------------------------------------- */

static void check_export_import(suite *s) {
    const char *name = "export-import";
    uint32_t caps = s->p->plugin->capabilities;
    if (!(caps & ZOO_CAP_EXPORT) || !(caps & ZOO_CAP_IMPORT)) {
        SKIP(s, name, "needs ZOO_CAP_EXPORT and ZOO_CAP_IMPORT; the plugin sets %s",
             caps & ZOO_CAP_EXPORT   ? "export only"
             : caps & ZOO_CAP_IMPORT ? "import only"
                                     : "neither");
        return;
    }
    const char *const *formats = s->p->plugin->formats;
    if (!formats || !formats[0]) {
        FAIL(s, name, "the plugin sets ZOO_CAP_EXPORT but lists no formats");
        return;
    }
    char path[sizeof s->dir + 16], msg[512] = "";
    snprintf(path, sizeof path, "%s/export", s->dir);
    const zoo_plugin *d = s->p->plugin;
    zoo_host_model *a = model_new(s, s->seed), *b = NULL;
    zoo_hparams *hp = zoo_hparams_new(d->hparams, d->n_hparams);
    zoo_graph *g = zoo_graph_new(0);
    snapshot *x = calloc(2, sizeof *x);
    zoo_error_clear();
    if (!a || !hp || !g || !x) {
        snprintf(msg, sizeof msg, "%s", a ? "out of memory" : reason(NULL));
        zoo_hparams_free(hp);
    } else if (d->ops->export_checkpoint(a->model, a->params, a->hp, formats[0], path) != ZOO_OK) {
        snprintf(msg, sizeof msg, "export as %s: %s", formats[0], reason(NULL));
        zoo_hparams_free(hp);
    } else if (d->ops->import_config(path, hp) != ZOO_OK) {
        snprintf(msg, sizeof msg, "import_config of the %s export: %s", formats[0], reason(NULL));
        zoo_hparams_free(hp);
    } else if (zoo_host_model_create(s->p, hp, s->seed + 1, s->tok, &b) != ZOO_OK) {
        snprintf(msg, sizeof msg, "a model from the imported configuration: %s", reason(NULL));
    } else if (d->ops->import_weights(b->model, b->params, path) != ZOO_OK) {
        snprintf(msg, sizeof msg, "import_weights of the %s export: %s", formats[0], reason(NULL));
    } else {
        zoo_outputs o;
        for (int k = 0; k < 2 && !*msg; k++) {
            if (run_forward(s, k ? b : a, g, &s->small.b, &o) != ZOO_OK)
                snprintf(msg, sizeof msg, "forward of the %s model: %s",
                         k ? "imported" : "exported", reason(g));
            else
                snap_outputs(&x[k], &o);
        }
        if (!*msg) snap_equal(&x[0], &x[1], "exported", "imported", msg, sizeof msg);
    }
    if (x) snap_free(&x[0]), snap_free(&x[1]);
    free(x);
    zoo_graph_free(g);
    zoo_host_model_destroy(a);
    zoo_host_model_destroy(b);
    suite_remove_tree(path);
    if (*msg)
        FAIL(s, name, "%s", msg);
    else
        PASS(s, name, "format %s: every output of forward bitwise equal", formats[0]);
}

/* "import_config of a directory holding only notes.txt answered ZOO_OK, not
 * ZOO_ERR_NOTFOUND ..." into msg, unless st is ZOO_ERR_NOTFOUND. */
static void not_passed_on(const char *op, int st, char *msg, size_t size) {
    if (st == ZOO_ERR_NOTFOUND) return;
    char answer[320];
    if (st == ZOO_OK)
        snprintf(answer, sizeof answer, "ZOO_OK");
    else
        snprintf(answer, sizeof answer, "'%s' (%.280s)", zoo_status_str(st), reason(NULL));
    snprintf(
        msg, size,
        "%.20s of a directory holding only notes.txt answered %.320s, not ZOO_ERR_NOTFOUND (the "
        "host would not ask the next plugin)",
        op, answer);
}

/* Every plugin that imports is offered every directory that is not a zoo
 * run, in registry order: one in another format must be passed on with
 * ZOO_ERR_NOTFOUND (import_config, and import_tokenizer when it has one). */
static void check_import_foreign(suite *s) {
    const char *name = "import-foreign";
    const zoo_plugin *d = s->p->plugin;
    if (!(d->capabilities & ZOO_CAP_IMPORT)) {
        SKIP(s, name, "the plugin does not set ZOO_CAP_IMPORT");
        return;
    }
    char dir[sizeof s->dir + 16], file[sizeof dir + 16], msg[512] = "";
    snprintf(dir, sizeof dir, "%s/foreign", s->dir);
    snprintf(file, sizeof file, "%s/notes.txt", dir);
    FILE *f = NULL;
    zoo_hparams *hp = zoo_hparams_new(d->hparams, d->n_hparams);
    if (!hp || mkdir(dir, 0700) != 0 || !(f = fopen(file, "w")) || fputs("not a model\n", f) < 0) {
        snprintf(msg, sizeof msg, "cannot make a directory with notes.txt in %.400s", s->dir);
    } else {
        fclose(f), f = NULL;
        zoo_error_clear();
        not_passed_on("import_config", d->ops->import_config(dir, hp), msg, sizeof msg);
        zoo_tokenizer *tok = NULL;
        zoo_error_clear();
        if (!*msg)
            not_passed_on("import_tokenizer", zoo_plugin_import_tokenizer(s->p, dir, &tok), msg,
                          sizeof msg);
        zoo_tokenizer_free(tok);
    }
    if (f) fclose(f);
    zoo_hparams_free(hp);
    suite_remove_tree(dir);
    if (*msg)
        FAIL(s, name, "%s", msg);
    else
        PASS(s, name, "a directory holding only notes.txt: ZOO_ERR_NOTFOUND, not the plugin's");
}

/* --- threads -------------------------------------------------------------- */

/* What one thread count computes on the large batch. */
typedef struct threaded {
    snapshot forward, loss, grads;
    char error[3][512]; /* per stage: forward, loss, gradients */
    const char *off_tape;
    bool skip_grads;
} threaded;

static void run_threaded(suite *s, int threads, threaded *r) {
    zoo_threads_set(threads);
    zoo_host_model *m = model_new(s, s->seed);
    zoo_graph *g = zoo_graph_new(0);
    zoo_outputs o;
    zoo_tensor *loss = NULL;
    if (!m || !g) {
        for (int k = 0; k < 3; k++) snprintf(r->error[k], sizeof r->error[k], "%s", reason(NULL));
    } else {
        redraw(s, m);
        if (run_forward(s, m, g, &s->big.b, &o) != ZOO_OK)
            snprintf(r->error[0], sizeof r->error[0], "%s", reason(g));
        else
            snap_outputs(&r->forward, &o);
        if ((r->off_tape = off_tape(s, m, g, &r->skip_grads)) && !r->skip_grads)
            snprintf(r->error[2], sizeof r->error[2], "%s", r->off_tape);
        zoo_params_zero_grad(m->params);
        if (run_loss(s, m, g, &s->big.b, &loss, NULL) != ZOO_OK) {
            snprintf(r->error[1], sizeof r->error[1], "%s", reason(g));
            snprintf(r->error[2], sizeof r->error[2], "%s", reason(g));
        } else {
            snap_add(&r->loss, "loss", zoo_f32(loss), 1);
            if (!r->off_tape && zoo_backward(g, loss) != ZOO_OK)
                snprintf(r->error[2], sizeof r->error[2], "backward: %s", reason(g));
            else if (!r->off_tape)
                snap_params(&r->grads, m->params, true);
        }
    }
    zoo_graph_free(g);
    zoo_host_model_destroy(m);
}

static void check_threads(suite *s) {
    static const char *names[3] = {"threads-forward", "threads-loss", "threads-gradients"};
    int before = zoo_threads_count();
    threaded *r = calloc(2, sizeof *r);
    if (!r) {
        for (int k = 0; k < 3; k++) FAIL(s, names[k], "out of memory");
        return;
    }
    run_threaded(s, 1, &r[0]);
    run_threaded(s, 3, &r[1]);
    zoo_threads_set(before);
    snapshot *got[2][3] = {{&r[0].forward, &r[0].loss, &r[0].grads},
                           {&r[1].forward, &r[1].loss, &r[1].grads}};
    for (int k = 0; k < 3; k++) {
        char msg[512];
        const char *error = *r[0].error[k] ? r[0].error[k] : r[1].error[k];
        if (k == 2 && r[0].skip_grads)
            SKIP(s, names[k], "%s", r[0].off_tape);
        else if (*error)
            FAIL(s, names[k], "%s", error);
        else if (!snap_equal(got[0][k], got[1][k], "on 1 thread", "on 3", msg, sizeof msg))
            FAIL(s, names[k], "%s", msg);
        else
            PASS(s, names[k], "%d array%s bitwise equal on 1 and 3 threads (B = %lld, T = %lld)",
                 got[0][k]->count, got[0][k]->count == 1 ? "" : "s", (long long)s->big.b.B,
                 (long long)s->big.b.T);
    }
    for (int i = 0; i < 2; i++)
        snap_free(&r[i].forward), snap_free(&r[i].loss), snap_free(&r[i].grads);
    free(r);
}

/* --- train_step ------------------------------------------------------------ */

static void check_train_step(suite *s) {
    const char *name = "train-step";
    if (!(s->p->plugin->capabilities & ZOO_CAP_SELF_UPDATE)) {
        SKIP(s, name,
             "the plugin does not set ZOO_CAP_SELF_UPDATE (the host's step is loss + "
             "backward, checked above)");
        SKIP(s, "threads-train-step", "no train_step");
        return;
    }
    int before = zoo_threads_count();
    zoo_threads_set(1);
    snapshot *x = calloc(3, sizeof *x); /* before the step, after it, after the other model's */
    char msg[1024] = "";
    double loss = 0;
    for (int k = 0; k < 2 && !*msg && x; k++) {
        zoo_host_model *m = model_new(s, s->seed);
        if (!m) {
            snprintf(msg, sizeof msg, "%s", reason(NULL));
            break;
        }
        if (k == 0) snap_params(&x[0], m->params, false);
        zoo_rng rng;
        zoo_rng_seed(&rng, s->seed ^ LOSS_SEED);
        zoo_step_stats stats = {.size = sizeof stats};
        zoo_error_clear();
        if (s->ops->train_step(m->model, &s->big.b, 0.025f, &rng, &stats) != ZOO_OK)
            snprintf(msg, sizeof msg, "%s", reason(NULL));
        else if (!isfinite(stats.loss))
            snprintf(msg, sizeof msg, "the step's loss is %g", stats.loss);
        else
            snap_params(&x[1 + k], m->params, false), loss = stats.loss;
        zoo_host_model_destroy(m);
    }
    zoo_threads_set(before);
    char diff[512];
    if (!x)
        snprintf(msg, sizeof msg, "out of memory");
    else if (!*msg && snap_equal(&x[0], &x[1], "before", "after", diff, sizeof diff))
        snprintf(msg, sizeof msg, "train_step changed no parameter");
    else if (!*msg && !snap_equal(&x[1], &x[2], "after one", "after the other", diff, sizeof diff))
        snprintf(msg, sizeof msg, "two models, one seed, one thread: different steps: %s", diff);
    for (int k = 0; x && k < 3; k++) snap_free(&x[k]);
    free(x);
    if (*msg)
        FAIL(s, name, "%s", msg);
    else
        PASS(s, name, "deterministic on one thread (loss %.6g)", loss);
    SKIP(s, "threads-train-step",
         "Hogwild: a self-updating step's threads update shared rows without locks, so its "
         "result depends on the thread count by design");
}

/* --- the arena ------------------------------------------------------------- */

static void check_arena(suite *s) {
    const char *name = "arena";
    zoo_host_model *m = model_new(s, s->seed);
    zoo_graph *g = zoo_graph_new(4096); /* small, so that the first step has to grow it */
    size_t capacity[6] = {0};
    char msg[512] = "";
    if (!m || !g) snprintf(msg, sizeof msg, "%s", reason(NULL));
    for (int step = 1; step <= 5 && !*msg; step++) { /* as zoo train steps, on one batch */
        zoo_params_zero_grad(m->params);
        zoo_tensor *loss = NULL;
        if (run_loss(s, m, g, &s->small.b, &loss, NULL) != ZOO_OK ||
            (loss->requires_grad && zoo_backward(g, loss) != ZOO_OK))
            snprintf(msg, sizeof msg, "step %d: %s", step, reason(g));
        capacity[step] = zoo_graph_capacity(g);
        if (step > 2 && capacity[step] > capacity[2])
            snprintf(msg, sizeof msg,
                     "the graph's arena grew from %zu bytes after step 2 to %zu at step %d, "
                     "on the same batch",
                     capacity[2], capacity[step], step);
    }
    zoo_graph_free(g);
    zoo_host_model_destroy(m);
    if (*msg)
        FAIL(s, name, "%s", msg);
    else
        PASS(s, name, "%zu bytes after step 1, %zu from step 2 through step 5", capacity[1],
             capacity[2]);
}

void suite_run_checks(suite *s) {
    static void (*const checks[])(suite *) = {
        check_forward, check_embed,      check_loss,          check_gradients,
        check_decode,  check_fill_mask,  check_export_import, check_import_foreign,
        check_threads, check_train_step, check_arena,
    };
    static const char *const names[] = {
        "forward",
        "embed",
        "loss",
        "gradients",
        "decode",
        "fill-mask",
        "export-import",
        "import-foreign",
        "threads-forward",
        "threads-loss",
        "threads-gradients",
        "train-step",
        "threads-train-step",
        "arena",
    };
    check_create(s);
    if (s->no_model) {
        for (size_t k = 0; k < sizeof names / sizeof *names; k++)
            SKIP(s, names[k], "no model: create failed");
        return;
    }
    for (size_t k = 0; k < sizeof checks / sizeof *checks; k++) checks[k](s);
}
