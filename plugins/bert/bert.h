/* The bert plugin's model: BERT, a post-LayerNorm transformer encoder over
 * token + position + segment embeddings, with the pooler and the two
 * pretraining heads (masked LM, tied to the word embeddings; next sentence).
 * Parameters carry HuggingFace BertForPreTraining's names without the
 * "bert." prefix (cls.* as on the hub); dense weights are [out,in]. */
#ifndef ZOO_BERT_H
#define ZOO_BERT_H

#include "zoo/zoo.h"

typedef struct bert_layer {
    zoo_tensor *q_w, *q_b, *k_w, *k_b, *v_w, *v_b; // (H,H) (H)   attention.self.{query,key,value}
    zoo_tensor *ao_w, *ao_b, *ao_ln_w, *ao_ln_b;   // (H,H) (H)   attention.output.{dense,LayerNorm}
    zoo_tensor *i_w, *i_b;                         // (I,H) (I)   intermediate.dense
    zoo_tensor *o_w, *o_b, *o_ln_w, *o_ln_b;       // (H,I) (H)   output.{dense,LayerNorm}
} bert_layer;

struct zoo_model {
    int64_t n_layer, n_head, H, I, max_pos, n_types, V;
    float dropout, eps;
    bool nsp;
    zoo_tensor *word, *pos, *type, *emb_ln_w, *emb_ln_b; // (V,H) (P,H) (TV,H) (H) (H)
    bert_layer *layer;
    zoo_tensor *pool_w, *pool_b;                 // (H,H) (H)
    zoo_tensor *tr_w, *tr_b, *tr_ln_w, *tr_ln_b; // cls.predictions.transform
    zoo_tensor *mlm_b;                           // (V) cls.predictions.bias
    zoo_tensor *nsp_w, *nsp_b;                   // (2,H) (2) cls.seq_relationship
};

int bert_import_config(const char *path, zoo_hparams *hp);
int bert_import_weights(zoo_model *m, zoo_params *params, const char *path);
int bert_export(zoo_model *m, const zoo_params *params, const zoo_hparams *hp, const char *format,
                const char *path);
int bert_import_tokenizer(const char *path, zoo_tokenizer **out);

#endif
