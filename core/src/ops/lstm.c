/* LSTM (with the optional LSTMP projection and ELMo's clipping): forward and
 * backward through time side by side. The input half of every gate is one
 * product over all B*T rows up front; only the recurrent half runs per step.
 * Every product is shared out over the pool (zoo_gemm), and the gates'
 * nonlinearities are fastmath's, which the compiler vectorises: libm's
 * tanhf and expf were a third of an ELMo forward. */
#include <math.h>

#include "internal.h"
#include "zoo/fastmath.h"
#include "zoo/quant.h"

/* What backward needs beyond the node's inputs (x, w_ih, w_hh, bias). */
typedef struct lstm_saved {
    zoo_tensor *w_proj, *h0, *c0;
    float *gates;  // (B,T,4H) i, f, g, o after their nonlinearities
    float *c;      // (B,T,H) cell state after clipping
    float *tanh_c; // (B,T,H)
    float *hcell;  // (B,T,H) o*tanh(c), the input of the projection; NULL without one
    int64_t B, T, I, H, P;
    float cell_clip, proj_clip;
    bool reverse;
} lstm_saved;

static inline float sigmoidf(float x) {
    return 1.0f / (1.0f + zoo_expf(-x));
}

/* A weight may be float32, or int8 quantized per row (zoo/quant.h): its
 * rows are the outputs of its product. */
static bool check_weight(zoo_graph *g, const zoo_tensor *t, const char *what) {
    int axis = -1;
    if (t->dtype != ZOO_I8) return zoo_check_f32(g, "zoo_lstm", t, what);
    if (zoo_q8_scales(t, &axis) && axis == 0) return true;
    zoo_graph_fail(g, ZOO_ERR_SHAPE, "zoo_lstm: the int8 %s must be quantized per row (axis 0)",
                   what);
    return false;
}

/* Fails the graph unless t is float32 (or, a weight, int8) with exactly the
 * shape [d0] or [d0,d1]. */
static bool check_shape(zoo_graph *g, const zoo_tensor *t, const char *what, const char *dims,
                        int ndim, int64_t d0, int64_t d1) {
    if (ndim == 2 && t->dtype == ZOO_I8 ? !check_weight(g, t, what)
                                        : !zoo_check_f32(g, "zoo_lstm", t, what))
        return false;
    if (t->ndim == ndim && t->shape[0] == d0 && (ndim < 2 || t->shape[1] == d1)) return true;
    char got[64];
    zoo_shape_str(t, got, sizeof got);
    if (ndim == 1)
        zoo_graph_fail(g, ZOO_ERR_SHAPE, "zoo_lstm: %s must be %s = [%lld], got %s", what, dims,
                       (long long)d0, got);
    else
        zoo_graph_fail(g, ZOO_ERR_SHAPE, "zoo_lstm: %s must be %s = [%lld,%lld], got %s", what,
                       dims, (long long)d0, (long long)d1, got);
    return false;
}

static bool lstm_check(zoo_graph *g, const zoo_tensor *x, const zoo_lstm_weights *w,
                       const zoo_tensor *h0, const zoo_tensor *c0) {
    char sx[64], sw[64];
    if (!zoo_check_f32(g, "zoo_lstm", x, "x") || !check_weight(g, w->w_ih, "w_ih")) return false;
    if (x->ndim != 3) {
        zoo_graph_fail(g, ZOO_ERR_SHAPE, "zoo_lstm: x must be [B,T,I], got %s",
                       zoo_shape_str(x, sx, sizeof sx));
        return false;
    }
    const zoo_tensor *wi = w->w_ih;
    if (wi->ndim != 2 || wi->shape[0] % 4 != 0 || wi->shape[1] != x->shape[2]) {
        zoo_graph_fail(g, ZOO_ERR_SHAPE,
                       "zoo_lstm: w_ih must be [4H,I] with I = %lld (x is %s), got %s",
                       (long long)x->shape[2], zoo_shape_str(x, sx, sizeof sx),
                       zoo_shape_str(wi, sw, sizeof sw));
        return false;
    }
    int64_t B = x->shape[0], H = wi->shape[0] / 4, P = H;
    if (w->w_proj) {
        if (!check_weight(g, w->w_proj, "w_proj")) return false;
        if (w->w_proj->ndim != 2 || w->w_proj->shape[1] != H) {
            zoo_graph_fail(g, ZOO_ERR_SHAPE, "zoo_lstm: w_proj must be [P,H] with H = %lld, got %s",
                           (long long)H, zoo_shape_str(w->w_proj, sw, sizeof sw));
            return false;
        }
        P = w->w_proj->shape[0];
    }
    if (!check_shape(g, w->w_hh, "w_hh", "[4H,P]", 2, 4 * H, P)) return false;
    if (w->bias && !check_shape(g, w->bias, "bias", "[4H]", 1, 4 * H, 0)) return false;
    if (h0 && !check_shape(g, h0, "h0", "[B,P]", 2, B, P)) return false;
    if (c0 && !check_shape(g, c0, "c0", "[B,H]", 2, B, H)) return false;
    return true;
}

/* --- forward ------------------------------------------------------------ */

/* One row's cell update; with_prev is a constant at each call, so the
 * compiler makes two branch-free loops and vectorises both. */
static inline __attribute__((always_inline)) void
lstm_cell_row(float *restrict gt, float *restrict ct, float *restrict tc, float *restrict ht,
              const float *restrict cp, bool with_prev, int64_t H, float clip) {
    for (int64_t j = 0; j < H; j++) {
        float i = sigmoidf(gt[j]), f = sigmoidf(gt[H + j]);
        float gg = zoo_tanhf(gt[2 * H + j]), o = sigmoidf(gt[3 * H + j]);
        float cv = i * gg + (with_prev ? f * cp[j] : 0.0f);
        cv = cv < -clip ? -clip : cv > clip ? clip : cv;
        gt[j] = i, gt[H + j] = f, gt[2 * H + j] = gg, gt[3 * H + j] = o;
        ct[j] = cv;
        tc[j] = zoo_tanhf(cv);
        ht[j] = o * tc[j];
    }
}

/* One step's cell update for every batch row. Row strides (ld*) let the
 * step's slices live inside the (B,T,...) buffers without copies. */
ZOO_VECTOR_CLONES static void lstm_cell_forward(float *h, int64_t ldh, float *c, float *tanh_c,
                                                int64_t ldtc, float *gates, const float *c_prev,
                                                int64_t ldcp, int64_t B, int64_t T, int64_t H,
                                                float cell_clip) {
    float clip = cell_clip > 0 ? cell_clip : INFINITY;
    for (int64_t b = 0; b < B; b++) {
        float *gt = gates + b * T * 4 * H; // (4H) pre-activations in, activations out
        float *ct = c + b * T * H, *tc = tanh_c + b * ldtc, *ht = h + b * ldh; // (H)
        if (c_prev) // (H) the previous cell state; none (zeros) at the first step
            lstm_cell_row(gt, ct, tc, ht, c_prev + b * ldcp, true, H, clip);
        else
            lstm_cell_row(gt, ct, tc, ht, NULL, false, H, clip);
    }
}

void zoo_lstm_backward(zoo_graph *g, zoo_node *n);

const zoo_tensor *zoo_lstm_projection(const zoo_node *n) {
    return ((const lstm_saved *)n->saved)->w_proj;
}

zoo_tensor *zoo_lstm(zoo_graph *g, zoo_tensor *x, const zoo_lstm_weights *w, zoo_tensor *h0,
                     zoo_tensor *c0, bool reverse, zoo_tensor **final_h, zoo_tensor **final_c) {
    if (final_h) *final_h = NULL;
    if (final_c) *final_c = NULL;
    if (!x || !w || !w->w_ih || !w->w_hh || g->status) return NULL;
    if (!lstm_check(g, x, w, h0, c0)) return NULL;
    int64_t B = x->shape[0], T = x->shape[1], I = x->shape[2];
    int64_t H = w->w_ih->shape[0] / 4, P = w->w_proj ? w->w_proj->shape[0] : H;
    int64_t G4 = 4 * H;
    bool rec = zoo_wants_grad(g, x, w->w_ih, w->w_hh, w->bias) ||
               zoo_wants_grad(g, w->w_proj, h0, c0, NULL);

    bool int8 = w->w_ih->dtype == ZOO_I8 || w->w_hh->dtype == ZOO_I8 ||
                (w->w_proj && w->w_proj->dtype == ZOO_I8);
    if (int8 && rec) {
        zoo_graph_fail(g, ZOO_ERR_STATE,
                       "zoo_lstm: an int8 weight takes no gradient (quantized models are for "
                       "inference: turn recording off)");
        return NULL;
    }

    zoo_tensor *out = zoo_new(g, ZOO_F32, B, T, P);
    if (!out) return NULL;
    float *y = out->data; // (B,T,P)
    // Without recording, tanh(c) and the pre-projection state are only needed
    // within their step: one (B,H) slice each instead of (B,T,H).
    int64_t keep = rec ? T : 1;
    float *gates = zoo_graph_alloc(g, (size_t)(B * T * G4) * sizeof(float)); // (B,T,4H)
    float *c = zoo_graph_alloc(g, (size_t)(B * T * H) * sizeof(float));      // (B,T,H)
    float *tanh_c = zoo_graph_alloc(g, (size_t)(B * keep * H) * sizeof(float));
    float *hcell = w->w_proj ? zoo_graph_alloc(g, (size_t)(B * keep * H) * sizeof(float)) : NULL;
    if (!gates || !c || !tanh_c || (w->w_proj && !hcell)) return NULL;

    // gates = bias + x w_ih^T for every (b,t) at once
    const float *bias = w->bias ? w->bias->data : NULL;
    if (w->w_ih->dtype == ZOO_I8) {
        if (!zoo_gemm_q8(g, B * T, G4, I, x->data, I, w->w_ih, false, bias, false, gates, G4, NULL))
            return NULL;
    } else {
        if (bias)
            for (int64_t r = 0; r < B * T; r++)
                memcpy(gates + r * G4, bias, (size_t)G4 * sizeof(float));
        zoo_gemm(false, true, B * T, G4, I, x->data, I, w->w_ih->data, I, bias ? 1.0f : 0.0f, gates,
                 G4);
    }
    // the steps' int8 products share one scratch: B rows of at most max(P,H) in, max(4H,P) out
    zoo_q8_scratch step = {0};
    if (int8) {
        int64_t in = P > H ? P : H;
        step.xq = zoo_graph_alloc(g, (size_t)(B * in));
        step.sx = zoo_graph_alloc(g, (size_t)B * sizeof(float));
        int64_t out = G4 > P ? G4 : P;
        step.acc = zoo_graph_alloc(g, (size_t)(B * out) * sizeof(int32_t));
        if (!step.xq || !step.sx || !step.acc) return NULL;
    }

    for (int64_t s = 0; s < T; s++) {
        int64_t t = reverse ? T - 1 - s : s, tp = reverse ? t + 1 : t - 1;
        // h_{t-1} is the previous step's output slice, or h0 (NULL: zeros) at the first step
        const float *h_prev = s > 0 ? y + tp * P : h0 ? h0->data : NULL;
        int64_t ldhp = s > 0 ? T * P : P;
        const float *c_prev = s > 0 ? c + tp * H : c0 ? c0->data : NULL;
        int64_t ldcp = s > 0 ? T * H : H;
        if (h_prev && w->w_hh->dtype == ZOO_I8) {
            if (!zoo_gemm_q8(g, B, G4, P, h_prev, ldhp, w->w_hh, false, NULL, true, gates + t * G4,
                             T * G4, &step))
                return NULL;
        } else if (h_prev) {
            zoo_gemm(false, true, B, G4, P, h_prev, ldhp, zoo_f32(w->w_hh), P, 1.0f, gates + t * G4,
                     T * G4);
        }
        int64_t kt = rec ? t : 0; // slice of the kept per-step buffers
        float *tc = tanh_c + kt * H;
        if (!w->w_proj) {
            lstm_cell_forward(y + t * P, T * P, c + t * H, tc, keep * H, gates + t * G4, c_prev,
                              ldcp, B, T, H, w->cell_clip);
            continue;
        }
        float *hc = hcell + kt * H;
        lstm_cell_forward(hc, keep * H, c + t * H, tc, keep * H, gates + t * G4, c_prev, ldcp, B, T,
                          H, w->cell_clip);
        float *yt = y + t * P; // (B,P) with row stride T*P
        if (w->w_proj->dtype == ZOO_I8) {
            if (!zoo_gemm_q8(g, B, P, H, hc, keep * H, w->w_proj, false, NULL, false, yt, T * P,
                             &step))
                return NULL;
        } else {
            zoo_gemm(false, true, B, P, H, hc, keep * H, w->w_proj->data, H, 0.0f, yt, T * P);
        }
        float clip = w->proj_clip;
        if (clip > 0)
            for (int64_t b = 0; b < B; b++)
                for (int64_t p = 0; p < P; p++) {
                    float *v = yt + b * T * P + p;
                    *v = *v < -clip ? -clip : *v > clip ? clip : *v;
                }
    }

    int64_t t_last = reverse ? 0 : T - 1;
    if (final_h) {
        zoo_tensor *fh = zoo_new(g, ZOO_F32, B, P);
        if (!fh) return NULL;
        for (int64_t b = 0; b < B; b++)
            memcpy(zoo_f32(fh) + b * P, y + (b * T + t_last) * P, (size_t)P * sizeof(float));
        *final_h = fh;
    }
    if (final_c) {
        zoo_tensor *fc = zoo_new(g, ZOO_F32, B, H);
        if (!fc) return NULL;
        for (int64_t b = 0; b < B; b++)
            memcpy(zoo_f32(fc) + b * H, c + (b * T + t_last) * H, (size_t)H * sizeof(float));
        *final_c = fc;
    }

    if (rec) {
        lstm_saved *sv = zoo_graph_alloc(g, sizeof *sv);
        zoo_node *n =
            sv ? zoo_record(g, out, zoo_lstm_backward, x, w->w_ih, w->w_hh, w->bias) : NULL;
        if (!n) return NULL;
        *sv = (lstm_saved){.w_proj = w->w_proj,
                           .h0 = h0,
                           .c0 = c0,
                           .gates = gates,
                           .c = c,
                           .tanh_c = tanh_c,
                           .hcell = hcell,
                           .B = B,
                           .T = T,
                           .I = I,
                           .H = H,
                           .P = P,
                           .cell_clip = w->cell_clip,
                           .proj_clip = w->proj_clip,
                           .reverse = reverse};
        n->saved = sv;
    }
    return out;
}

/* --- backward ----------------------------------------------------------- */

/* One row's gradients (see lstm_cell_backward); with_prev constant at each call. */
static inline __attribute__((always_inline)) void
lstm_cell_row_backward(float *restrict dg, const float *restrict dht, float *restrict dct,
                       const float *restrict gt, const float *restrict ct, const float *restrict tc,
                       const float *restrict cp, bool with_prev, int64_t H, float clip) {
    for (int64_t j = 0; j < H; j++) {
        float i = gt[j], f = gt[H + j], gg = gt[2 * H + j], o = gt[3 * H + j];
        float d = dct[j] + dht[j] * o * (1.0f - tc[j] * tc[j]);
        // clamp's gradient: nothing passes where the cell state was clipped
        d = clip == INFINITY || fabsf(ct[j]) < clip ? d : 0.0f;
        dg[j] = d * gg * i * (1.0f - i);
        dg[H + j] = with_prev ? d * cp[j] * f * (1.0f - f) : 0.0f;
        dg[2 * H + j] = d * i * (1.0f - gg * gg);
        dg[3 * H + j] = dht[j] * tc[j] * o * (1.0f - o);
        dct[j] = d * f;
    }
}

/* One step's gradients for every batch row: from dh (gradient of o*tanh(c_t))
 * and dc (gradient reaching c_t from step t+1) to the gate pre-activations;
 * dc becomes the gradient of c_{t-1}. */
ZOO_VECTOR_CLONES static void lstm_cell_backward(float *dgates, const float *dh, int64_t lddh,
                                                 float *dc, const float *gates, const float *c,
                                                 const float *tanh_c, const float *c_prev,
                                                 int64_t ldcp, int64_t B, int64_t T, int64_t H,
                                                 float cell_clip) {
    float clip = cell_clip > 0 ? cell_clip : INFINITY;
    for (int64_t b = 0; b < B; b++) {
        float *dg = dgates + b * T * 4 * H;                        // (4H)
        const float *gt = gates + b * T * 4 * H;                   // (4H)
        const float *ct = c + b * T * H, *tc = tanh_c + b * T * H; // (H)
        if (c_prev) // (H) the previous cell state; none (zeros) at the first step
            lstm_cell_row_backward(dg, dh + b * lddh, dc + b * H, gt, ct, tc, c_prev + b * ldcp,
                                   true, H, clip);
        else
            lstm_cell_row_backward(dg, dh + b * lddh, dc + b * H, gt, ct, tc, NULL, false, H, clip);
    }
}

void zoo_lstm_backward(zoo_graph *g, zoo_node *n) {
    const lstm_saved *s = n->saved;
    zoo_tensor *x = n->in[0], *w_ih = n->in[1], *w_hh = n->in[2], *bias = n->in[3];
    int64_t B = s->B, T = s->T, I = s->I, H = s->H, P = s->P, G4 = 4 * H;
    const float *y = n->out->data, *dy = n->out->grad; // (B,T,P)
    float *dx = zoo_grad(g, x), *dw_ih = zoo_grad(g, w_ih), *dw_hh = zoo_grad(g, w_hh);
    float *dbias = zoo_grad(g, bias), *dw_proj = zoo_grad(g, s->w_proj);
    float *dh0 = zoo_grad(g, s->h0), *dc0 = zoo_grad(g, s->c0);
    float *dgates = zoo_graph_alloc(g, (size_t)(B * T * G4) * sizeof(float)); // (B,T,4H)
    float *dh = zoo_graph_alloc(g, (size_t)(B * P) * sizeof(float));          // (B,P)
    float *dc = zoo_graph_alloc(g, (size_t)(B * H) * sizeof(float));          // (B,H)
    // With a projection: its output gradient at every step (for dw_proj at the
    // end) and the step's gradient of o*tanh(c).
    float *dproj = s->w_proj ? zoo_graph_alloc(g, (size_t)(B * T * P) * sizeof(float)) : NULL;
    float *dhcell = s->w_proj ? zoo_graph_alloc(g, (size_t)(B * H) * sizeof(float)) : NULL;
    if (g->status || !dgates || !dh || !dc) return;
    memset(dh, 0, (size_t)(B * P) * sizeof(float));
    memset(dc, 0, (size_t)(B * H) * sizeof(float));

    for (int64_t step = T - 1; step >= 0; step--) {
        int64_t t = s->reverse ? T - 1 - step : step, tp = s->reverse ? t + 1 : t - 1;
        // dh: the gradient of h_t from step t+1 (through w_hh) plus the output's
        for (int64_t b = 0; b < B; b++)
            for (int64_t p = 0; p < P; p++) dh[b * P + p] += dy[(b * T + t) * P + p];
        const float *dcell = dh;
        int64_t lddc = P;
        if (s->w_proj) {
            float *dpt = dproj + t * P; // (B,P) with row stride T*P
            const float *yt = y + t * P;
            for (int64_t b = 0; b < B; b++)
                for (int64_t p = 0; p < P; p++) {
                    bool clipped = s->proj_clip > 0 && !(fabsf(yt[b * T * P + p]) < s->proj_clip);
                    dpt[b * T * P + p] = clipped ? 0.0f : dh[b * P + p];
                }
            zoo_gemm(false, false, B, H, P, dpt, T * P, zoo_f32(s->w_proj), H, 0.0f, dhcell, H);
            dcell = dhcell, lddc = H;
        }
        const float *c_prev = step > 0 ? s->c + tp * H : s->c0 ? zoo_f32(s->c0) : NULL;
        int64_t ldcp = step > 0 ? T * H : H;
        lstm_cell_backward(dgates + t * G4, dcell, lddc, dc, s->gates + t * G4, s->c + t * H,
                           s->tanh_c + t * H, c_prev, ldcp, B, T, H, s->cell_clip);
        if (step > 0 || dh0) // dh = dgates_t w_hh: the gradient of h_{t-1}
            zoo_gemm(false, false, B, P, G4, dgates + t * G4, T * G4, w_hh->data, P, 0.0f, dh, P);
    }
    if (dh0)
        for (int64_t i = 0; i < B * P; i++) dh0[i] += dh[i];
    if (dc0)
        for (int64_t i = 0; i < B * H; i++) dc0[i] += dc[i];

    int64_t M = B * T;
    if (dbias)
        for (int64_t r = 0; r < B * T; r++)
            for (int64_t k = 0; k < G4; k++) dbias[k] += dgates[r * G4 + k];
    if (dw_ih) zoo_gemm_grad(g, true, false, G4, I, M, dgates, x->data, 1.0f, dw_ih);
    if (dx) zoo_gemm(false, false, M, I, G4, dgates, G4, w_ih->data, I, 1.0f, dx, I);
    if (dw_hh) {
        // h_{t-1} for every (b,t), shifted into place so that dw_hh is one sgemm
        float *h_prev = zoo_graph_alloc(g, (size_t)(B * T * P) * sizeof(float)); // (B,T,P)
        if (!h_prev) return;
        int64_t first = s->reverse ? T - 1 : 0; // the step whose h_{t-1} is h0
        for (int64_t b = 0; b < B; b++) {
            float *hp = h_prev + b * T * P;
            const float *yb = y + b * T * P;
            if (s->reverse)
                memcpy(hp, yb + P, (size_t)((T - 1) * P) * sizeof(float));
            else
                memcpy(hp + P, yb, (size_t)((T - 1) * P) * sizeof(float));
            if (s->h0)
                memcpy(hp + first * P, zoo_f32(s->h0) + b * P, (size_t)P * sizeof(float));
            else
                memset(hp + first * P, 0, (size_t)P * sizeof(float));
        }
        zoo_gemm_grad(g, true, false, G4, P, M, dgates, h_prev, 1.0f, dw_hh);
    }
    if (dw_proj) zoo_gemm_grad(g, true, false, P, H, M, dproj, s->hcell, 1.0f, dw_proj);
}
