/* The biLM and the three things the host asks of it: forward, the
 * training loss and the embeddings (see elmo_model.h). */
#include "elmo_model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "elmo_chars.h"
#include "elmo_softmax.h"

/* What one pass over a batch computes: the word encoder's output (layer 0)
 * and each LSTM layer's output per direction (the skip included), all
 * [B,T,P] in input order. */
typedef struct elmo_states {
    elmo_words words;
    zoo_tensor *tokens;
    zoo_tensor *fw[ELMO_MAX_LAYERS], *bw[ELMO_MAX_LAYERS];
} elmo_states;

/* The stored bias plus bilm-tf's forget_bias, 1 on the forget gate's block
 * (zoo_lstm's gates: input, forget, cell, output). The parameter holds B as
 * AllenNLP's files do, so that reading and writing them is exact. */
static zoo_tensor *with_forget_bias(zoo_graph *g, zoo_tensor *bias, int64_t H) {
    zoo_tensor *one = zoo_zeros(g, ZOO_F32, 4 * H);
    if (!one) return NULL;
    for (int64_t j = H; j < 2 * H; j++) zoo_f32(one)[j] = 1.0f;
    return zoo_add(g, bias, one);
}

/* One direction's stack over x [B,T,P]; reverse runs it from the last
 * position back. Every row starts from a zero state. */
static void lstm_stack(zoo_model *m, zoo_graph *g, const elmo_lstm_layer *layers, zoo_tensor *x,
                       bool reverse, zoo_rng *rng, zoo_tensor **out) {
    for (int l = 0; l < m->n_layers; l++) {
        zoo_lstm_weights w = {.w_ih = layers[l].w_ih,
                              .w_hh = layers[l].w_hh,
                              .bias = with_forget_bias(g, layers[l].bias, m->H),
                              .w_proj = layers[l].w_proj,
                              .cell_clip = m->cell_clip,
                              .proj_clip = m->proj_clip};
        zoo_tensor *in = zoo_dropout(g, x, m->dropout, rng);
        zoo_tensor *h = zoo_lstm(g, in, &w, NULL, NULL, reverse, NULL, NULL);
        if (l > 0 && m->skip) h = zoo_add(g, h, x);
        out[l] = x = h;
    }
}

/* Rows [B,T,P] with each row's first len[b] positions reversed (the
 * padding after them stays): the backward stack then reads every row from
 * its own last word, never from padding. Its own inverse. */
static zoo_tensor *reverse_rows(zoo_graph *g, zoo_tensor *x, const elmo_words *w) {
    int64_t B = w->B, T = w->T, P = x->shape[2];
    zoo_tensor *idx = zoo_new(g, ZOO_I32, B, T);
    if (!idx) return NULL;
    int32_t *ix = idx->data;
    for (int64_t b = 0; b < B; b++)
        for (int64_t t = 0; t < T; t++)
            ix[b * T + t] = (int32_t)(b * T + (t < w->len[b] ? w->len[b] - 1 - t : t));
    return zoo_embedding(g, zoo_view(g, x, B * T, P), idx);
}

static int bilm(zoo_model *m, zoo_graph *g, const zoo_batch *batch, bool marks, zoo_rng *rng,
                elmo_states *s) {
    memset(s, 0, sizeof *s);
    if (elmo_words_from_batch(m, g, batch, marks, &s->words)) return zoo_graph_status(g);
    const elmo_words *w = &s->words;
    zoo_tensor *encoded = elmo_encode_words(m, g, w->chars, w->U); /* [U,P] */
    zoo_tensor *index = zoo_tensor_wrap(g, ZOO_I32, 2, ZOO_SHAPE(w->B, w->T), w->index);
    s->tokens = zoo_embedding(g, encoded, index); /* [B,T,P] */
    lstm_stack(m, g, m->lstm[0], s->tokens, false, rng, s->fw);
    if (!w->padded) {
        lstm_stack(m, g, m->lstm[1], s->tokens, true, rng, s->bw);
    } else {
        zoo_tensor *bw[ELMO_MAX_LAYERS];
        lstm_stack(m, g, m->lstm[1], reverse_rows(g, s->tokens, w), false, rng, bw);
        for (int l = 0; l < m->n_layers; l++) s->bw[l] = reverse_rows(g, bw[l], w);
    }
    return zoo_graph_status(g);
}

int elmo_forward(zoo_model *m, zoo_graph *g, const zoo_batch *batch, zoo_outputs *out) {
    elmo_states s;
    zoo_rng rng;
    zoo_rng_seed(&rng, 0); /* dropout is off outside training */
    if (bilm(m, g, batch, false, &rng, &s)) return zoo_graph_status(g);
    zoo_tensor *top[2] = {s.fw[m->n_layers - 1], s.bw[m->n_layers - 1]};
    out->hidden = zoo_concat(g, top, 2, 2);
    out->logits =
        m->has_softmax ? zoo_linear(g, top[0], m->softmax_w, m->softmax_b, ZOO_W_OUT_IN) : NULL;
    out->pooled = NULL;
    return zoo_graph_status(g);
}

int elmo_loss(zoo_model *m, zoo_graph *g, const zoo_batch *batch, zoo_rng *rng, zoo_tensor **loss,
              zoo_metrics *metrics) {
    *loss = NULL;
    if (!m->has_softmax)
        return zoo_graph_fail(g, ZOO_ERR_STATE,
                              "elmo: this model has no softmax weights (AllenNLP's published "
                              "files have none): it embeds, but cannot be trained or evaluated "
                              "as a language model");
    if (!batch->targets)
        return zoo_graph_fail(g, ZOO_ERR_ARG, "elmo: the batch has no forward targets");
    elmo_states s;
    if (bilm(m, g, batch, false, rng, &s)) return zoo_graph_status(g);
    int64_t B = batch->B, T = batch->T, N = B * T;
    /* the backward LM predicts the word before each position */
    int32_t *bw_targets = zoo_graph_alloc(g, (size_t)N * sizeof *bw_targets);
    if (!bw_targets) return zoo_graph_status(g);
    for (int64_t b = 0; b < B; b++)
        for (int64_t t = 0; t < T; t++) {
            bool real = !batch->mask || batch->mask[b * T + t];
            bw_targets[b * T + t] = t > 0 && real ? batch->ids[b * T + t - 1] : ZOO_IGNORE;
        }
    zoo_tensor *h[2] = {zoo_view(g, s.fw[m->n_layers - 1], N, m->P),
                        zoo_view(g, s.bw[m->n_layers - 1], N, m->P)};
    const int32_t *targets[2] = {batch->targets, bw_targets};
    zoo_tensor *ce[2];
    bool full = !zoo_graph_training(g) || m->samples <= 0 || m->samples >= m->V;
    if (full) {
        for (int d = 0; d < 2; d++) {
            zoo_tensor *logits = zoo_linear(g, h[d], m->softmax_w, m->softmax_b, ZOO_W_OUT_IN);
            zoo_tensor *tg = zoo_tensor_wrap(g, ZOO_I32, 1, ZOO_SHAPE(N), (void *)targets[d]);
            ce[d] = zoo_cross_entropy(g, logits, tg, ZOO_IGNORE);
        }
    } else if (elmo_sampled_softmax(m, g, h, targets, N, rng, ce)) {
        return zoo_graph_status(g);
    }
    *loss = zoo_scale(g, zoo_add(g, ce[0], ce[1]), 0.5f);
    if (zoo_graph_status(g)) return zoo_graph_status(g);
    if (metrics && full) { /* the exact losses (sampled ones are not); the host adds
                            * each one's perplexity */
        zoo_metrics_add(metrics, "forward_loss", zoo_f32(ce[0])[0]);
        zoo_metrics_add(metrics, "backward_loss", zoo_f32(ce[1])[0]);
        zoo_metrics_add(metrics, "mean_loss", zoo_f32(*loss)[0]);
    }
    return ZOO_OK;
}

int elmo_embed(zoo_model *m, zoo_graph *g, const zoo_batch *batch, int layer, zoo_tensor **out) {
    *out = NULL;
    int64_t L = m->n_layers + 1;
    if (layer >= L)
        return zoo_graph_fail(g, ZOO_ERR_ARG, "elmo: layer %d: the model has layers 0..%lld", layer,
                              (long long)(L - 1));
    elmo_states s;
    zoo_rng rng;
    zoo_rng_seed(&rng, 0);
    if (bilm(m, g, batch, true, &rng, &s)) return zoo_graph_status(g);
    int64_t B = batch->B, T = batch->T, C = 2 * m->P;
    zoo_tensor *layers[ELMO_MAX_LAYERS + 1];
    for (int64_t l = 0; l < L; l++) {
        if (layer >= 0 && l != layer) continue;
        zoo_tensor *pair[2] = {l ? s.fw[l - 1] : s.tokens, l ? s.bw[l - 1] : s.tokens};
        /* without the sentence marks */
        layers[l] = zoo_slice(g, zoo_concat(g, pair, 2, 2), 1, 1, T); /* [B,T,2P] */
    }
    if (layer >= 0) {
        *out = layers[layer];
    } else if (layer == ZOO_EMBED_ALL_LAYERS) {
        for (int64_t l = 0; l < L; l++) layers[l] = zoo_view(g, layers[l], 1, B, T, C);
        *out = zoo_concat(g, layers, (int)L, 0); /* [L,B,T,2P] */
    } else {                                     /* the model's default: the layers' mean */
        zoo_tensor *sum = layers[0];
        for (int64_t l = 1; l < L; l++) sum = zoo_add(g, sum, layers[l]);
        *out = zoo_scale(g, sum, 1.0f / (float)L);
    }
    return zoo_graph_status(g);
}
