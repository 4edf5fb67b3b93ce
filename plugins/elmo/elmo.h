/* The elmo plugin's model: ELMo's biLM (Peters et al. 2018, bilm-tf /
 * AllenNLP). A character-level word encoder (char-CNN, highways, projection)
 * feeds two one-direction stacks of LSTMP layers (forward and backward, own
 * weights, a residual around every layer past the first); both directions
 * share the word encoder and one softmax over the word vocabulary.
 *
 * Parameters are stored in the layouts libzoo's operators take; the
 * AllenNLP file layout (elmo_allennlp.h) is converted on import and export:
 *
 *   char_embed          [261, E]        character ids 0..260 (the file's 1..261)
 *   cnn.I.weight        [F_I, K_I, E]   file CNN/W_cnn_I [1, K, E, F] transposed
 *   cnn.I.bias          [F_I]
 *   highway.K.weight    [2D, D]         rows 0..D-1: W_transform^T; rows D..2D-1:
 *                                       -W_carry^T (zoo_highway's gate keeps x)
 *   highway.K.bias      [2D]            b_transform, then -b_carry
 *   proj.weight         [P, D]          CNN_proj/W_proj^T (ZOO_W_OUT_IN)
 *   proj.bias           [P]
 *   lstm.DIR.L.w_ih     [4H, P]         DIR fw|bw; gates i, f, g, o (file: i, j, f, o)
 *   lstm.DIR.L.w_hh     [4H, P]
 *   lstm.DIR.L.bias     [4H]            B as the file stores it; the model adds
 *                                       forget_bias 1 in the cell (elmo_model.c)
 *   lstm.DIR.L.w_proj   [P, H]          W_P_0^T
 *   softmax.weight      [V, P]          absent from published files
 *   softmax.bias        [V]
 *
 * with E = char_dim, D = the filters' total, P = projection_dim, H = dim. */
#ifndef ZOO_ELMO_H
#define ZOO_ELMO_H

#include "zoo/zoo.h"

/* Character ids, before the file's +1 shift. */
enum {
    ELMO_CHAR_BOS = 256, /* the <S> mark's one character */
    ELMO_CHAR_EOS = 257, /* the </S> mark's */
    ELMO_CHAR_BOW = 258,
    ELMO_CHAR_EOW = 259,
    ELMO_CHAR_PAD = 260,
    ELMO_N_CHARS = 261,
};

#define ELMO_MAX_FILTERS 32
#define ELMO_MAX_LAYERS 8

typedef struct elmo_lstm_layer {
    zoo_tensor *w_ih, *w_hh, *bias, *w_proj;
} elmo_lstm_layer;

struct zoo_model {
    int64_t V, E, max_chars, n_filters, D, n_highway, P, H, n_layers;
    int64_t widths[ELMO_MAX_FILTERS], counts[ELMO_MAX_FILTERS];
    bool tanh_activation, skip, has_softmax;
    float cell_clip, proj_clip, dropout;
    int64_t samples; /* sampled softmax candidates in training; 0: full softmax */

    zoo_tensor *char_embed;
    zoo_tensor *cnn_w[ELMO_MAX_FILTERS], *cnn_b[ELMO_MAX_FILTERS];
    zoo_tensor *highway_w[ELMO_MAX_LAYERS], *highway_b[ELMO_MAX_LAYERS];
    zoo_tensor *proj_w, *proj_b;
    elmo_lstm_layer lstm[2][ELMO_MAX_LAYERS]; /* [0] forward, [1] backward */
    zoo_tensor *softmax_w, *softmax_b;
    const zoo_tokenizer *tok; /* its strings and corpus counts; may be NULL */
    double *sample_cdf;       /* the sampled softmax's table, built on first use */
};

/* "1:32,2:32,3:64": the char-CNN's filter banks as width:count pairs.
 * Returns the number of banks (<= ELMO_MAX_FILTERS), or a negative status
 * with a message naming the bad entry. */
int elmo_parse_filters(const char *text, int64_t *widths, int64_t *counts);

/* ZOO_CAP_IMPORT / ZOO_CAP_EXPORT / ZOO_CAP_IMPORT_TOKENIZER: a directory in
 * AllenNLP's layout (options.json, weights.hdf5, optionally vocab.txt). */
int elmo_import_config(const char *path, zoo_hparams *hp);
int elmo_import_weights(zoo_model *m, zoo_params *params, const char *path);
int elmo_export(zoo_model *m, const zoo_params *params, const zoo_hparams *hp, const char *format,
                const char *path);
int elmo_import_tokenizer(const char *path, zoo_tokenizer **out);

#endif
