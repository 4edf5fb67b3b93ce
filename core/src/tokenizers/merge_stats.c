/* Pair counts are kept up to date as merges rewrite the sequences that hold
 * the pair (each pair lists them), and a heap gives the most frequent pair:
 * counts of old pairs only fall, so an entry whose count is out of date is
 * put back with the true one when it comes up. */
#include "merge_stats.h"

#include <stdlib.h>
#include <string.h>

#include "zoo/status.h"
#include "zoo/tokenizer_type.h"

typedef struct seq {
    int64_t count;
    int64_t off; /* its ids: sym[off .. off + n) */
    int32_t n, stamp;
} seq;

typedef struct pair {
    int32_t left, right;
    int64_t count;
    int32_t *seqs; /* where it occurs (maybe no longer), each at most once in a row */
    int32_t n_seqs, cap_seqs, stamp;
} pair;

typedef struct heap_entry {
    int64_t count;
    int32_t pair;
} heap_entry;

struct zoo_merge_stats {
    seq *seqs;
    int32_t n_seqs, max_seqs;
    int32_t *sym;
    int64_t n_sym, max_sym;
    int64_t min_count;
    zoo_token_order order;
    const void *ctx;
    pair *pairs;
    int32_t n_pairs, cap_pairs;
    struct {
        uint64_t key;
        int32_t pair;
    } * pair_slots; /* key 0: empty */
    size_t pair_mask;
    heap_entry *heap;
    size_t n_heap, cap_heap;
    int32_t *touched; /* pairs that gained in the current merge */
    int32_t n_touched, cap_touched, stamp;
    int32_t top; /* the pair top gave and merge takes; -1: none */
    bool started, nomem;
};

int zoo_merge_stats_vocab_order(const void *vocab, int32_t a, int32_t b) {
    size_t na, nb;
    const char *sa = zoo_vocab_token(vocab, a, &na), *sb = zoo_vocab_token(vocab, b, &nb);
    int c = memcmp(sa, sb, na < nb ? na : nb);
    return c ? c : (na > nb) - (na < nb);
}

zoo_merge_stats *zoo_merge_stats_new(int32_t n_seqs, int64_t n_syms, zoo_token_order order,
                                     const void *ctx) {
    zoo_merge_stats *ms = calloc(1, sizeof *ms);
    if (!ms) return NULL;
    ms->seqs = malloc(((size_t)n_seqs + 1) * sizeof *ms->seqs);
    ms->sym = malloc(((size_t)n_syms + 1) * sizeof *ms->sym);
    ms->max_seqs = n_seqs, ms->max_sym = n_syms;
    ms->order = order, ms->ctx = ctx;
    ms->top = -1;
    if (!ms->seqs || !ms->sym) {
        zoo_merge_stats_free(ms);
        return NULL;
    }
    return ms;
}

void zoo_merge_stats_free(zoo_merge_stats *ms) {
    if (!ms) return;
    free(ms->seqs);
    free(ms->sym);
    for (int32_t p = 0; p < ms->n_pairs; p++) free(ms->pairs[p].seqs);
    free(ms->pairs);
    free(ms->pair_slots);
    free(ms->heap);
    free(ms->touched);
    free(ms);
}

int32_t *zoo_merge_stats_add(zoo_merge_stats *ms, int64_t count, int32_t n) {
    if (ms->started || n < 0 || ms->n_seqs == ms->max_seqs || n > ms->max_sym - ms->n_sym)
        return NULL;
    ms->seqs[ms->n_seqs++] = (seq){.count = count, .off = ms->n_sym, .n = n, .stamp = -1};
    ms->n_sym += n;
    return ms->sym + (ms->n_sym - n);
}

/* ---- pairs -------------------------------------------------------------- */

static inline uint64_t pair_key(int32_t l, int32_t r) {
    return (uint64_t)(uint32_t)(l + 1) << 32 | (uint32_t)r;
}

static inline size_t pair_hash(uint64_t key, size_t mask) {
    return (size_t)((key * 0x9E3779B97F4A7C15ull) >> 32) & mask;
}

static bool pair_slots_grow(zoo_merge_stats *ms) {
    size_t n_slots = ms->pair_slots ? 2 * (ms->pair_mask + 1) : 4096;
    void *slots = calloc(n_slots, sizeof *ms->pair_slots);
    if (!slots) return false;
    free(ms->pair_slots);
    ms->pair_slots = slots, ms->pair_mask = n_slots - 1;
    for (int32_t p = 0; p < ms->n_pairs; p++) {
        uint64_t key = pair_key(ms->pairs[p].left, ms->pairs[p].right);
        size_t i = pair_hash(key, ms->pair_mask);
        while (ms->pair_slots[i].key) i = (i + 1) & ms->pair_mask;
        ms->pair_slots[i].key = key, ms->pair_slots[i].pair = p;
    }
    return true;
}

/* The pair (l, r), created when `create`; -1 when absent or out of memory. */
static int32_t pair_of(zoo_merge_stats *ms, int32_t l, int32_t r, bool create) {
    uint64_t key = pair_key(l, r);
    size_t i = pair_hash(key, ms->pair_mask);
    for (; ms->pair_slots[i].key; i = (i + 1) & ms->pair_mask)
        if (ms->pair_slots[i].key == key) return ms->pair_slots[i].pair;
    if (!create) return -1;
    if (!zoo_grow_array((void **)&ms->pairs, &ms->cap_pairs, sizeof *ms->pairs, ms->n_pairs + 1)) {
        ms->nomem = true;
        return -1;
    }
    int32_t p = ms->n_pairs++;
    ms->pairs[p] = (pair){.left = l, .right = r, .stamp = -1};
    ms->pair_slots[i].key = key, ms->pair_slots[i].pair = p;
    if ((size_t)ms->n_pairs * 2 > ms->pair_mask + 1 && !pair_slots_grow(ms)) ms->nomem = true;
    return p;
}

/* Counts `delta` more of (l, r) in sequence s (a gain also lists s there and
 * marks the pair as touched by this merge). */
static void pair_add(zoo_merge_stats *ms, int32_t l, int32_t r, int64_t delta, int32_t s) {
    int32_t p = pair_of(ms, l, r, delta > 0);
    if (p < 0) return;
    pair *pr = &ms->pairs[p];
    pr->count += delta;
    if (delta <= 0) return;
    if (!pr->n_seqs || pr->seqs[pr->n_seqs - 1] != s) {
        if (!zoo_grow_array((void **)&pr->seqs, &pr->cap_seqs, sizeof *pr->seqs, pr->n_seqs + 1)) {
            ms->nomem = true;
            return;
        }
        pr->seqs[pr->n_seqs++] = s;
    }
    if (pr->stamp != ms->stamp) {
        pr->stamp = ms->stamp;
        if (!zoo_grow_array((void **)&ms->touched, &ms->cap_touched, sizeof *ms->touched,
                            ms->n_touched + 1))
            ms->nomem = true;
        else
            ms->touched[ms->n_touched++] = p;
    }
}

/* ---- the heap: most frequent first, ties in the caller's order of the
 * left tokens, then the right ones ---------------------------------------- */

static bool entry_before(const zoo_merge_stats *ms, const heap_entry *a, const heap_entry *b) {
    if (a->count != b->count) return a->count > b->count;
    const pair *x = &ms->pairs[a->pair], *y = &ms->pairs[b->pair];
    int c = ms->order(ms->ctx, x->left, y->left);
    if (!c) c = ms->order(ms->ctx, x->right, y->right);
    return c < 0;
}

static bool heap_push(zoo_merge_stats *ms, heap_entry e) {
    if (ms->n_heap == ms->cap_heap) {
        size_t cap = ms->cap_heap ? 2 * ms->cap_heap : 1024;
        heap_entry *h = realloc(ms->heap, cap * sizeof *h);
        if (!h) return false;
        ms->heap = h, ms->cap_heap = cap;
    }
    size_t i = ms->n_heap++;
    while (i > 0 && entry_before(ms, &e, &ms->heap[(i - 1) / 2])) {
        ms->heap[i] = ms->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    ms->heap[i] = e;
    return true;
}

static heap_entry heap_pop(zoo_merge_stats *ms) {
    heap_entry top = ms->heap[0], last = ms->heap[--ms->n_heap];
    size_t i = 0, n = ms->n_heap;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && entry_before(ms, &ms->heap[c + 1], &ms->heap[c])) c++;
        if (!entry_before(ms, &ms->heap[c], &last)) break;
        ms->heap[i] = ms->heap[c];
        i = c;
    }
    if (n) ms->heap[i] = last;
    return top;
}

/* ---- counting and merging ----------------------------------------------- */

int zoo_merge_stats_start(zoo_merge_stats *ms, int64_t min_count) {
    if (ms->started) return ZOO_ERR_STATE;
    ms->started = true;
    ms->min_count = min_count;
    if (!pair_slots_grow(ms)) ms->nomem = true;
    ms->stamp = 0;
    for (int32_t s = 0; s < ms->n_seqs && !ms->nomem; s++) {
        const seq *q = &ms->seqs[s];
        const int32_t *sym = ms->sym + q->off;
        for (int32_t i = 0; i + 1 < q->n; i++) pair_add(ms, sym[i], sym[i + 1], q->count, s);
    }
    for (int32_t p = 0; p < ms->n_pairs && !ms->nomem; p++)
        if (!heap_push(ms, (heap_entry){ms->pairs[p].count, p})) ms->nomem = true;
    return ms->nomem ? ZOO_ERR_NOMEM : ZOO_OK;
}

int zoo_merge_stats_top(zoo_merge_stats *ms, int32_t *left, int32_t *right) {
    ms->top = -1;
    while (ms->n_heap && !ms->nomem) {
        heap_entry e = ms->heap[0];
        const pair *pr = &ms->pairs[e.pair];
        if (pr->count != e.count) { /* it fell since: back with its true count */
            heap_pop(ms);
            if (pr->count >= ms->min_count && !heap_push(ms, (heap_entry){pr->count, e.pair}))
                ms->nomem = true;
            continue;
        }
        if (e.count < ms->min_count) return 0;
        ms->top = e.pair;
        *left = pr->left, *right = pr->right;
        return 1;
    }
    return ms->nomem ? ZOO_ERR_NOMEM : 0;
}

/* Rewrites every (l, r) in sequence s as merged, left to right, moving the
 * counts of the neighbouring pairs. */
static void merge_seq(zoo_merge_stats *ms, int32_t s, int32_t l, int32_t r, int32_t merged) {
    seq *q = &ms->seqs[s];
    int32_t *sym = ms->sym + q->off;
    int64_t c = q->count;
    int32_t o = 0;
    for (int32_t i = 0; i < q->n;) {
        if (i + 1 < q->n && sym[i] == l && sym[i + 1] == r) {
            if (o > 0) {
                pair_add(ms, sym[o - 1], l, -c, s);
                pair_add(ms, sym[o - 1], merged, c, s);
            }
            if (i + 2 < q->n) {
                pair_add(ms, r, sym[i + 2], -c, s);
                pair_add(ms, merged, sym[i + 2], c, s);
            }
            sym[o++] = merged;
            i += 2;
        } else {
            sym[o++] = sym[i++];
        }
    }
    q->n = o;
}

int zoo_merge_stats_merge(zoo_merge_stats *ms, int32_t merged) {
    if (ms->nomem) return ZOO_ERR_NOMEM;
    if (ms->top < 0) return ZOO_ERR_STATE;
    int32_t p = ms->top;
    ms->top = -1;
    heap_pop(ms); /* top left the pair's entry first */
    int32_t l = ms->pairs[p].left, r = ms->pairs[p].right;
    ms->stamp++;
    ms->n_touched = 0;
    /* pairs may move as merge_seq creates new ones: index, never hold */
    for (int32_t k = 0; k < ms->pairs[p].n_seqs && !ms->nomem; k++) {
        int32_t s = ms->pairs[p].seqs[k];
        if (ms->seqs[s].stamp == ms->stamp) continue;
        ms->seqs[s].stamp = ms->stamp;
        merge_seq(ms, s, l, r, merged);
    }
    pair *pr = &ms->pairs[p];
    pr->count = 0;
    free(pr->seqs);
    pr->seqs = NULL, pr->n_seqs = pr->cap_seqs = 0;
    for (int32_t k = 0; k < ms->n_touched && !ms->nomem; k++) {
        const pair *t = &ms->pairs[ms->touched[k]];
        if (t->count >= ms->min_count && !heap_push(ms, (heap_entry){t->count, ms->touched[k]}))
            ms->nomem = true;
    }
    return ms->nomem ? ZOO_ERR_NOMEM : ZOO_OK;
}
