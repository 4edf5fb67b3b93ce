/* Counts of adjacent token pairs over a set of weighted sequences of token
 * ids, the most frequent pair first, kept up to date as pairs are merged:
 * what byte-pair-style trainers share (tok_bpe_train.c for "gpt2",
 * tok_wordpiece_train.c for "wordpiece"). The trainer owns the tokens and
 * decides what a merge makes and when to stop; the statistics only see ids.
 *
 * Use: zoo_merge_stats_new with room for the sequences, zoo_merge_stats_add
 * each one and write its ids, zoo_merge_stats_start once, then repeatedly
 * zoo_merge_stats_top and zoo_merge_stats_merge.
 *
 * The result is deterministic: equally frequent pairs are ordered by the
 * caller's token order (left token first, then right), and merges never
 * cross sequences. No function sets an error message (the trainer names
 * itself in its own); an object is used by one thread at a time. */
#ifndef ZOO_MERGE_STATS_H
#define ZOO_MERGE_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

typedef struct zoo_merge_stats zoo_merge_stats;

/* <0, 0 or >0 as token a sorts before, with or after token b; a total order
 * of the ids that does not change while tokens are added. */
typedef int (*zoo_token_order)(const void *ctx, int32_t a, int32_t b);

/* The order of the tokens' bytes in the zoo_vocab `vocab` (a token that is
 * a prefix of another sorts first). */
int zoo_merge_stats_vocab_order(const void *vocab, int32_t a, int32_t b);

/* Statistics over at most n_seqs sequences of n_syms token ids in all
 * (ids >= 0). `order` is called with ctx, which must outlive the
 * statistics. NULL when out of memory. */
zoo_merge_stats *zoo_merge_stats_new(int32_t n_seqs, int64_t n_syms, zoo_token_order order,
                                     const void *ctx);
void zoo_merge_stats_free(zoo_merge_stats *ms); /* NULL is ignored */

/* The next sequence: n token ids occurring `count` times, which the caller
 * writes to the n slots returned. NULL past the room given to
 * zoo_merge_stats_new or after zoo_merge_stats_start (a caller's error). */
int32_t *zoo_merge_stats_add(zoo_merge_stats *ms, int64_t count, int32_t n);

/* Counts every adjacent pair of the sequences added; once, after the last
 * zoo_merge_stats_add. Pairs that occur fewer than min_count times are
 * never offered. ZOO_OK, ZOO_ERR_NOMEM, ZOO_ERR_STATE when called again. */
int zoo_merge_stats_start(zoo_merge_stats *ms, int64_t min_count);

/* The most frequent pair, occurring at least min_count times, in *left and
 * *right: 1 with it, 0 when there is none, ZOO_ERR_NOMEM. Asking again
 * without a merge gives the same pair. */
int zoo_merge_stats_top(zoo_merge_stats *ms, int32_t *left, int32_t *right);

/* Replaces the pair zoo_merge_stats_top last gave, everywhere, by the token
 * `merged` (left to right within a sequence: (a, a) in a a a merges once)
 * and moves the counts of its neighbours. ZOO_OK; ZOO_ERR_STATE when top
 * gave no pair since the last merge; ZOO_ERR_NOMEM, after which only
 * zoo_merge_stats_free is of use. */
int zoo_merge_stats_merge(zoo_merge_stats *ms, int32_t merged);

/* Grows the array *p of *cap elements of `elem` bytes to hold at least
 * `need` (doubling from 16); false when out of memory, *p unchanged. The
 * trainers' own arrays grow as the statistics' do; inline, as it is called
 * for every pair a merge touches. */
static inline bool zoo_grow_array(void **p, int32_t *cap, size_t elem, int32_t need) {
    if (need <= *cap) return true;
    int32_t c = *cap ? *cap : 16;
    while (c < need) c = c > INT32_MAX / 2 ? INT32_MAX : 2 * c;
    void *q = realloc(*p, (size_t)c * elem);
    if (!q) return false;
    *p = q, *cap = c;
    return true;
}

#endif
