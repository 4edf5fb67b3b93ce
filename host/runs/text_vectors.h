/* Vectors of texts, what zoo embed and zoo probe share: MODEL opened as a
 * model (a checkpoint, a run directory or a foreign model directory, with
 * its tokenizer) or as a word2vec file; a model's vectors of a batch through
 * its plugin's embed, their shape checked; the rows of a text's words in a
 * word2vec file; and one vector per text for many texts at once, pooled
 * over windows no longer than the model reads (zoo_text_vectors_pool).
 *
 * Like the rest of the host's openers, zoo_text_source_open and
 * zoo_text_vectors_pool print their error ("zoo COMMAND: ...") and return
 * an exit status (0 when all went well); the others return a library
 * status with its message (zoo_error_message) and print nothing. */
#ifndef ZOO_HOST_TEXT_VECTORS_H
#define ZOO_HOST_TEXT_VECTORS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cli.h"
#include "saved_model.h"
#include "zoo/word_vectors.h"

/* Where the vectors come from: exactly one of m and v. */
typedef struct zoo_text_source {
    const zoo_cli *cli;
    zoo_saved_model *m;  /* a model (pointing at `model`), or NULL */
    zoo_word_vectors *v; /* a word2vec file, or NULL */
    zoo_saved_model model;
} zoo_text_source;

/* path as a word2vec file when it names one (zoo_is_word2vec_file), else
 * as a model that carries its tokenizer (zoo_cli_open_model). */
int zoo_text_source_open(const zoo_cli *cli, const char *path, zoo_text_source *out);
/* Closes what zoo_text_source_open opened; a zeroed s is a no-op. */
void zoo_text_source_close(zoo_text_source *s);

/* The model's vectors of b at `layer` (N, -1 for the model's default, or
 * ZOO_EMBED_ALL_LAYERS) as a view [L,B,T,C] in g: L = 1 unless every layer
 * was asked for (and the plugin has several). ZOO_OK, or a status whose
 * message starts "embed: " and says the plugin's error, or the shape it
 * returned when that is not one of those. */
int zoo_text_source_embed(const zoo_text_source *s, zoo_graph *g, const zoo_batch *b, int layer,
                          zoo_tensor **x);

/* The row in v of each word of text[0, len) (split at white space; looked
 * up as zoo similar does: exactly, else ignoring case), -1 for a word v
 * lacks, into *rows (from malloc; NULL when there is no word) and their
 * count into *n. unknown(ctx, word), when not NULL, hears of each word v
 * lacks, in order. ZOO_OK or ZOO_ERR_NOMEM (a library status: nothing is
 * printed). */
int zoo_word_rows(const zoo_word_vectors *v, const char *text, size_t len, int64_t **rows,
                  int64_t *n, void (*unknown)(void *ctx, const char *word), void *ctx);

/* What one vector per text is. */
typedef enum zoo_pool { ZOO_POOL_MEAN, ZOO_POOL_LAST, ZOO_POOL_FIRST, ZOO_POOL_POOLER } zoo_pool;

typedef struct zoo_pool_plan {
    int layer;      /* embed's layer: N, -1 (the default) or ZOO_EMBED_ALL_LAYERS */
    zoo_pool pool;  /* mean: of every token; last: the last token's; first: the first's ([CLS]);
                     * pooler: the model's pooled output (forward's, BERT's [CLS] through its
                     * pooler) of the first window, layer not used */
    int64_t window; /* the most tokens one embed may take (token_windows.h), 0: no limit */
} zoo_pool_plan;

/* One vector per text, pooled. */
typedef struct zoo_pooled {
    float *x;         /* [n,L,C] from malloc */
    int64_t n, L, C;  /* L: 1 unless plan.layer is ZOO_EMBED_ALL_LAYERS */
    int64_t windowed; /* texts that took more than one window */
    int64_t empty;    /* texts with no vector: zeros (no token; no word the file knows) */
} zoo_pooled;

/* The vectors of texts[i] (lens[i] bytes), i < n, pooled as plan says.
 *
 * A model: each text is encoded as zoo embed encodes it ([CLS] ... [SEP]
 * for tokenizers that have both); a text of more than plan.window tokens is
 * embedded in overlapping windows (token_windows.h) over the tokens between
 * [CLS] and [SEP], each window carrying its own [CLS] and [SEP] (so the
 * window's size counts them); every token then takes its vector from one
 * window, [CLS] from the first and [SEP] from the last. mean averages over
 * every token once, [CLS] and [SEP] included; first is the first window's
 * first token, last the last window's last (and only that window is
 * embedded). Texts are encoded 512 at a time; their windows, longest
 * first, go through embed together, up to 64 a batch and 16384 positions,
 * padded (mask 0) to the longest of the batch. The vectors of a text do not
 * depend on the texts it is batched with, as far as the plugin honours the
 * mask; the sums of mean are taken in the text's token order.
 *
 * A word2vec file: the text's words (zoo_word_rows); mean averages the rows
 * of the words the file knows, first and last take the first and last of
 * them; plan.window and plan.layer do not matter.
 *
 * `what` ("--train FILE") starts every error message. */
int zoo_text_vectors_pool(const zoo_text_source *s, const char *const *texts, const size_t *lens,
                          int64_t n, const zoo_pool_plan *plan, const char *what, zoo_pooled *out);
void zoo_pooled_free(zoo_pooled *p);

#endif
