/* Batching: turns a stream of token ids into the batches each training
 * objective needs (zoo_objective in plugin.h), deterministically for a seed.
 *
 * A dataset is a view of token ids the caller owns (a tokenizer's output),
 * optionally with the offsets where each corpus line starts; masked-LM
 * batches with next-sentence prediction draw their sentence pairs from lines.
 * zoo_dataset_split cuts one dataset into a training and a validation view
 * without copying.
 *
 * A batcher owns its batch arrays (allocated once, at creation) and one
 * zoo_rng. In training mode it samples forever; in evaluation mode it walks
 * its split once, in order, and the same windows come out for every seed.
 * Its whole position (rng, cursor, counters) fits in a zoo_batcher_state,
 * which a checkpoint stores so that a resumed run gets exactly the batches it
 * would have got.
 *
 * The batches, per objective (B rows of T positions, row-major int32):
 *
 * ZOO_OBJ_CAUSAL_LM: each row is a window of T+1 consecutive tokens starting
 *   uniformly at random in [0, n-T-1] (as nanoGPT's get_batch):
 *   ids = window[0:T], targets = window[1:T+1]. mask, types, labels are NULL.
 *
 * ZOO_OBJ_BIDIRECTIONAL_LM: the same windows and arrays as the causal LM;
 *   targets are the forward LM's (the next token). The backward LM's target
 *   at position t is the previous token, ids[t-1], which the plugin reads
 *   from ids; position 0 has no backward target. (Both directions therefore
 *   see the same T tokens; the forward direction also predicts window[T].)
 *
 * ZOO_OBJ_MASKED_LM without next-sentence prediction: each row is
 *   "[CLS] w [SEP]" for a window w of T-2 consecutive tokens; mask is all 1,
 *   types all 0, labels NULL. Lines are not used.
 *
 * ZOO_OBJ_MASKED_LM with next-sentence prediction (nsp): each row is
 *   "[CLS] A [SEP] B [SEP] [PAD]...", A a non-empty line i of the split.
 *   With probability 1/2 B is line i+1 and labels[row] = 0 ("B follows A",
 *   HuggingFace's convention), otherwise B is a non-empty line drawn
 *   uniformly from the split's lines other than i and i+1 and labels[row] = 1.
 *   A is drawn among the lines i whose next line i+1 is also non-empty (blank
 *   lines separate documents, and a pair never spans one). When the pair is
 *   longer than T-3 tokens the longer sentence loses tokens from its end, one
 *   at a time (ties: B), as BERT's truncate_seq_pair. types = 0 for [CLS], A
 *   and the first [SEP], 1 for B and the second [SEP], 0 on padding; mask = 1
 *   on real tokens, 0 on padding, where ids = pad_id.
 *
 *   In both masked-LM forms every position whose id is not special (the
 *   special list, plus cls, sep, pad and mask ids) is chosen independently
 *   with probability mask_prob (BERT: 0.15); a row where none was chosen gets
 *   one eligible position chosen uniformly, so every row takes an MLM loss.
 *   Of the chosen positions 80% become mask_id, 10% a token drawn uniformly
 *   from the non-special ids of [0, vocab_size), 10% keep their token.
 *   targets = the original id at chosen positions, ZOO_IGNORE elsewhere.
 *
 * ZOO_OBJ_WORD_VECTORS: the split in order, in chunks of T tokens (the last
 *   chunk of a pass is shorter): B = 1, ids = the chunk. When the dataset
 *   has lines (sentences), types[i] is the line of token i counted from the
 *   chunk's first line, empty lines included (0, 0, 1, 1, 3 ...: a context
 *   window stops where it changes); otherwise types is NULL. targets, mask and labels are NULL.
 *   Each pass (epoch) covers every token exactly once, and the next pass
 *   starts again at the first token.
 *
 * Evaluation mode (cfg.eval): the split's windows in order, without overlap,
 *   from its start: causal and bidirectional windows start at k*T (k = 0 ..
 *   floor((n-1)/T)-1), masked-LM windows at k*(T-2), sentence pairs take A =
 *   each eligible line in order, word vectors the same chunks as training.
 *   The last batch of a pass may hold fewer than B rows (batch->B says how
 *   many). Masking and random second sentences come from the rng, which
 *   zoo_batcher_rewind re-seeds, so every pass of one seed is identical.
 *
 * Thread safety: a batcher is used by one thread at a time; datasets are
 * read-only and may be shared by any number of batchers. */
#ifndef ZOO_BATCHER_H
#define ZOO_BATCHER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "zoo/plugin.h"
#include "zoo/rng.h"
#include "zoo/tokenizer.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A view of token ids; nothing is owned. Line i (when lines are given) is
 * ids[line_starts[i] - line_base, line_starts[i+1] - line_base), the last
 * one ending at n; the starts never decrease. A caller building a dataset
 * sets line_base = 0; zoo_dataset_split sets it so that a view can point into
 * its parent's line array. Tokens before the first line belong to no line. */
typedef struct zoo_dataset {
    const int32_t *ids;         /* [n] */
    int64_t n;                  /* tokens */
    const int64_t *line_starts; /* [n_lines], or NULL */
    int64_t n_lines;
    int64_t line_base;
    /* Optional, for token bytes (zoo_batcher_config.token_bytes): the text the
     * ids were encoded from and, per token, its span in it
     * (zoo_tokenizer_encode_spans, offsets made relative to text); a span
     * {-1, -1} means the token has no text of its own. spans [n] is cut by
     * zoo_dataset_split as ids is; text is shared. */
    const char *text;
    int64_t text_len;
    const zoo_span *spans;
} zoo_dataset;

/* Splits `all` by position, as nanoGPT does: train is the first
 * floor(n * (1 - val_fraction)) tokens, val the rest. When `all` has lines the
 * cut moves forward to the next line start (or to n), so no line is split and
 * each view holds whole lines. val_fraction in [0, 1); val may come back
 * empty (n = 0). The views point into `all`'s arrays. Errors: ZOO_ERR_ARG. */
int zoo_dataset_split(const zoo_dataset *all, double val_fraction, zoo_dataset *train,
                      zoo_dataset *val);

typedef struct zoo_batcher_config {
    zoo_objective objective;
    int64_t B;     /* rows per batch, >= 1 (word vectors: exactly 1) */
    int64_t T;     /* positions per row (word vectors: tokens per chunk) */
    uint64_t seed; /* the rng's seed */
    bool eval;     /* walk the split once in order (see above) instead of sampling */
    /* Token ids are checked against [0, vocab_size) at creation when
     * vocab_size > 0; the masked LM requires it. */
    int32_t vocab_size;
    /* Masked LM only. */
    double mask_prob; /* in (0, 1]; default 0.15 */
    int32_t mask_id, cls_id, sep_id, pad_id;
    const int32_t *special_ids; /* [n_special] never chosen, never drawn; read at creation only */
    int n_special;
    bool nsp; /* sentence pairs from lines (the dataset must have lines) */
    /* Token bytes (a plugin's descriptor asks for them, plugin.h): when > 0,
     * every batch carries token_bytes [B,T,W] with W = token_bytes, each
     * position's bytes as zoo_token_bytes_fill gives them (its text from the
     * dataset's spans; otherwise tok's vocabulary string, or all -1 without
     * tok). Tokens the batcher inserts ([CLS], [SEP]) or the masked LM
     * replaces with another id get their vocabulary string; padding is all
     * -1. 0: no token bytes and no cost. */
    int32_t token_bytes;
    const zoo_tokenizer *tok; /* may be NULL; must outlive the batcher */
} zoo_batcher_config;

/* A config for `objective` with mask_prob 0.15, every id -1 (unset) and the
 * rest zero: set B, T, seed and, for the masked LM, the vocabulary ids. */
zoo_batcher_config zoo_batcher_defaults(zoo_objective objective);

typedef struct zoo_batcher zoo_batcher;

/* The token bytes of n tokens into out [n,W]: for token i the bytes of
 * text[spans[i].begin, spans[i].end) when spans is given and the span is not
 * {-1, -1}, else the vocabulary string of ids[i] when tok is given (ids in
 * range), else nothing; truncated to W and padded with -1. Spans are trusted
 * (zoo_batcher_new checks a dataset's). */
void zoo_token_bytes_fill(const zoo_tokenizer *tok, const int32_t *ids, const char *text,
                          const zoo_span *spans, int64_t n, int64_t W, int32_t *out);

/* A batcher over `data` (which must outlive it). Checks everything once:
 * the config against the split (e.g. "causal LM: T+1 = 129 tokens do not fit
 * in a split of 100 tokens"), token ids against the vocabulary, the lines.
 * NULL with a message on error (ZOO_ERR_ARG, or ZOO_ERR_NOMEM). */
zoo_batcher *zoo_batcher_new(const zoo_dataset *data, const zoo_batcher_config *cfg);
void zoo_batcher_free(zoo_batcher *b);

/* What a batch covered. */
typedef struct zoo_batch_info {
    int64_t tokens; /* corpus tokens delivered so far, this batch included (causal and
                       bidirectional: positions with a target; masked LM: tokens of
                       windows or of A and B after truncation; word vectors: chunk tokens) */
    int64_t epoch;  /* passes over the split completed: tokens / n (whole passes for word
                       vectors and evaluation) */
    bool epoch_end; /* this batch completed a pass (training samplers: tokens crossed a
                       multiple of n) */
} zoo_batch_info;

/* The next batch into *batch (size, B, T and the arrays the objective uses;
 * the rest NULL). The arrays belong to the batcher and stay valid until the
 * next call to next, rewind or free. info may be NULL. Allocates nothing.
 * Returns 1 with a batch, 0 when an evaluation pass is over (batch untouched;
 * zoo_batcher_rewind starts another), never 0 in training mode. */
int zoo_batcher_next(zoo_batcher *b, zoo_batch *batch, zoo_batch_info *info);

/* Back to the state right after creation (rng re-seeded, cursor and
 * counters zero). */
void zoo_batcher_rewind(zoo_batcher *b);

/* The batcher's whole position: rng, cursor, counters and a fingerprint of
 * what the position is valid for (objective, B, T, mode, split size, lines,
 * vocabulary size). Restoring it into a batcher built from the same data and
 * config continues with exactly the batches the saved one would have
 * produced next; the seed in the new config does not matter. */
#define ZOO_BATCHER_STATE_WORDS 8
typedef struct zoo_batcher_state {
    uint64_t words[ZOO_BATCHER_STATE_WORDS];
} zoo_batcher_state;

void zoo_batcher_save(const zoo_batcher *b, zoo_batcher_state *out);
/* ZOO_ERR_STATE, batcher unchanged, when the state was saved by a batcher of
 * another kind or is out of range for this one. */
int zoo_batcher_restore(zoo_batcher *b, const zoo_batcher_state *st);

/* The state as text for checkpoint metadata (safetensors metadata values are
 * strings): "batcher1" and the words as 16 hex digits, space-separated. */
#define ZOO_BATCHER_STATE_TEXT 160
void zoo_batcher_state_format(const zoo_batcher_state *st, char text[ZOO_BATCHER_STATE_TEXT]);
/* ZOO_ERR_FORMAT with a message when text is not what format wrote. */
int zoo_batcher_state_parse(const char *text, zoo_batcher_state *out);

#ifdef __cplusplus
}
#endif
#endif
