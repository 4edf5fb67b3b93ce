#include "data_parallel.h"

#include <openssl/evp.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "dist.h"
#include "files.h"
#include "zoo/status.h"

struct zoo_dp {
    zoo_params *params;
    zoo_dp_config config;
    bool active, self_updating;
    float *bucket; /* config.bucket_bytes of gradients on their way */
    size_t bucket_len;
    int64_t *flags;           /* per parameter: it took a gradient on this rank */
    int64_t words_since_sync; /* over every rank */
    int64_t syncs;            /* made so far by this process */
    float *base;              /* self-updating: every parameter as of the last sync */
    zoo_rng step_rng;
    zoo_dp_stats stats;
};

zoo_dp *zoo_dp_new(zoo_params *params, const zoo_dp_config *config, bool self_updating) {
    zoo_dp *dp = calloc(1, sizeof *dp);
    if (!dp) {
        zoo_error(ZOO_ERR_NOMEM, "out of memory");
        return NULL;
    }
    dp->params = params;
    dp->config = *config;
    dp->self_updating = self_updating;
    dp->active = zoo_dist_size() > 1;
    if (!dp->active) return dp;
    if (self_updating) {
        int64_t total = zoo_params_numel(params);
        dp->base = malloc((size_t)(total > 0 ? total : 1) * sizeof(float));
        if (!dp->base) {
            zoo_dp_free(dp);
            zoo_error(ZOO_ERR_NOMEM, "out of memory for a copy of the %lld parameters",
                      (long long)total);
            return NULL;
        }
        float *at = dp->base;
        for (int i = 0; i < zoo_params_count(params); i++) {
            zoo_tensor *v = zoo_params_at(params, i)->value;
            memcpy(at, v->data, (size_t)v->numel * sizeof(float));
            at += v->numel;
        }
    }
    dp->bucket_len = config->bucket_bytes / sizeof(float);
    if (dp->bucket_len < 1024) dp->bucket_len = 1024;
    dp->bucket = malloc(dp->bucket_len * sizeof(float));
    dp->flags = calloc((size_t)zoo_params_count(params) + 1, sizeof *dp->flags);
    if (!dp->bucket || !dp->flags) {
        zoo_dp_free(dp);
        zoo_error(ZOO_ERR_NOMEM, "out of memory for a gradient bucket of %zu bytes",
                  config->bucket_bytes);
        return NULL;
    }
    return dp;
}

void zoo_dp_free(zoo_dp *dp) {
    if (!dp) return;
    free(dp->bucket);
    free(dp->flags);
    free(dp->base);
    free(dp);
}

bool zoo_dp_active(const zoo_dp *dp) {
    return dp && dp->active;
}

const zoo_dp_stats *zoo_dp_stats_get(const zoo_dp *dp) {
    return &dp->stats;
}

void zoo_dp_slice(const zoo_batch *batch, zoo_batch *out) {
    *out = *batch;
    int64_t rank = zoo_dist_rank(), size = zoo_dist_size();
    if (size <= 1) return;
    int64_t begin = batch->B * rank / size, end = batch->B * (rank + 1) / size, T = batch->T;
    out->B = end - begin;
    out->ids = batch->ids ? batch->ids + begin * T : NULL;
    out->targets = batch->targets ? batch->targets + begin * T : NULL;
    out->mask = batch->mask ? batch->mask + begin * T : NULL;
    out->types = batch->types ? batch->types + begin * T : NULL;
    out->labels = batch->labels ? batch->labels + begin : NULL;
    if (batch->size >= offsetof(zoo_batch, W) + sizeof batch->W && batch->token_bytes)
        out->token_bytes = batch->token_bytes + begin * T * batch->W;
}

zoo_rng *zoo_dp_step_rng(zoo_dp *dp, zoo_rng *run_rng) {
    if (!zoo_dp_active(dp)) return run_rng;
    uint64_t draw = zoo_rng_u64(run_rng); /* the same on every rank */
    zoo_rng_seed(&dp->step_rng, draw ^ (0x9E3779B97F4A7C15ULL * (uint64_t)(zoo_dist_rank() + 1)));
    return &dp->step_rng;
}

static int64_t sum_count(void *ctx, int64_t local) {
    (void)ctx;
    return zoo_dist_sum_i64(&local, 1) == ZOO_OK ? local : -1;
}

void zoo_dp_begin_step(zoo_dp *dp, zoo_graph *g) {
    if (zoo_dp_active(dp)) zoo_graph_set_count_sum(g, sum_count, NULL);
}

void zoo_dp_end_step(zoo_dp *dp, zoo_graph *g) {
    if (zoo_dp_active(dp)) zoo_graph_set_count_sum(g, NULL, NULL);
}

static bool trainable(const zoo_param *q) {
    return !(q->flags & ZOO_PARAM_FROZEN);
}

/* Sums values (n floats) over the ranks, timed. */
static int sum_timed(zoo_dp *dp, float *values, size_t n) {
    double t0 = zoo_now();
    int st = zoo_dist_sum_f32(values, n);
    dp->stats.reduce_seconds += zoo_now() - t0;
    dp->stats.reduced_bytes += (double)n * sizeof(float);
    dp->stats.reductions++;
    return st;
}

/* The bucket's pieces back where they came from. */
typedef struct piece {
    float *to;
    size_t n;
} piece;

int zoo_dp_sum_gradients(zoo_dp *dp, double *loss) {
    if (!zoo_dp_active(dp)) return ZOO_OK;
    int n = zoo_params_count(dp->params);
    for (int i = 0; i < n; i++) {
        zoo_param *q = zoo_params_at(dp->params, i);
        dp->flags[i] = trainable(q) && q->value->grad != NULL;
    }
    int st = zoo_dist_max_i64(dp->flags, (size_t)n);
    if (st) return st;
    /* large gradients are summed where they are; small ones gathered in the
     * bucket first, so a step makes few calls; no call sums more than a
     * bucket, which keeps the MPI library's own buffers small */
    piece pieces[256];
    int n_pieces = 0;
    size_t used = 0;
    for (int i = 0; i <= n; i++) {
        zoo_param *q = i < n ? zoo_params_at(dp->params, i) : NULL;
        if (q && !dp->flags[i]) continue;
        if (q && !q->value->grad) { /* reached on another rank only */
            q->value->grad = calloc((size_t)q->value->numel, sizeof(float));
            if (!q->value->grad)
                return zoo_error(ZOO_ERR_NOMEM, "out of memory for the gradient of %s", q->name);
        }
        size_t len = q ? (size_t)q->value->numel : 0;
        bool big = len >= dp->bucket_len;
        if (used > 0 && (!q || big || used + len > dp->bucket_len || n_pieces == 256)) {
            if ((st = sum_timed(dp, dp->bucket, used))) return st;
            float *at = dp->bucket;
            for (int k = 0; k < n_pieces; k++) {
                memcpy(pieces[k].to, at, pieces[k].n * sizeof(float));
                at += pieces[k].n;
            }
            used = 0, n_pieces = 0;
        }
        if (!q) break;
        if (big) { /* in place, a bucket's worth at a time (measured faster than whole) */
            for (size_t at = 0; at < len; at += dp->bucket_len)
                if ((st = sum_timed(dp, q->value->grad + at,
                                    len - at < dp->bucket_len ? len - at : dp->bucket_len)))
                    return st;
            continue;
        }
        memcpy(dp->bucket + used, q->value->grad, len * sizeof(float));
        pieces[n_pieces++] = (piece){q->value->grad, len};
        used += len;
    }
    return zoo_dist_sum_f64(loss, 1);
}

/* A metric on the wire: names are the plugin's static strings, so they
 * travel as text. */
typedef struct wire_metric {
    char name[56];
    double value;
} wire_metric;

int zoo_dp_mean_metrics(zoo_dp *dp, zoo_metrics *metrics) {
    if (!zoo_dp_active(dp)) return ZOO_OK;
    int size = zoo_dist_size();
    wire_metric mine[ZOO_MAX_METRICS];
    memset(mine, 0, sizeof mine);
    for (int i = 0; i < metrics->count && i < ZOO_MAX_METRICS; i++) {
        snprintf(mine[i].name, sizeof mine[i].name, "%s", metrics->items[i].name);
        mine[i].value = metrics->items[i].value;
    }
    wire_metric *all = calloc((size_t)size * ZOO_MAX_METRICS, sizeof *all);
    if (!all) return zoo_error(ZOO_ERR_NOMEM, "out of memory");
    int st = zoo_dist_all_gather(mine, all, sizeof mine);
    for (int i = 0; !st && i < metrics->count; i++) {
        double total = 0;
        int count = 0;
        for (int r = 0; r < size; r++)
            for (int k = 0; k < ZOO_MAX_METRICS; k++)
                if (strcmp(all[r * ZOO_MAX_METRICS + k].name, mine[i].name) == 0) {
                    total += all[r * ZOO_MAX_METRICS + k].value, count++;
                    break;
                }
        metrics->items[i].value = total / count;
    }
    free(all);
    return st;
}

/* A fast checksum of every parameter's bits (four lanes of FNV-style
 * multiply-xor): a drift of one bit anywhere changes it. */
static uint64_t params_checksum(zoo_params *params) {
    uint64_t lane[4] = {1, 2, 3, 4};
    for (int i = 0; i < zoo_params_count(params); i++) {
        zoo_tensor *v = zoo_params_at(params, i)->value;
        const uint32_t *w = v->data;
        int64_t k = 0;
        for (; k + 4 <= v->numel; k += 4)
            for (int j = 0; j < 4; j++) lane[j] = (lane[j] ^ w[k + j]) * 0x100000001b3ULL;
        for (; k < v->numel; k++) lane[0] = (lane[0] ^ w[k]) * 0x100000001b3ULL;
    }
    return lane[0] ^ (lane[1] << 1) ^ (lane[2] << 2) ^ (lane[3] << 3);
}

/* Every rank's checksum against rank 0's; `when` says where, for the message. */
static int compare_parameters(zoo_dp *dp, const char *when) {
    int size = zoo_dist_size();
    uint64_t mine = params_checksum(dp->params), *all = calloc((size_t)size, sizeof *all);
    if (!all) return zoo_error(ZOO_ERR_NOMEM, "out of memory");
    int st = zoo_dist_all_gather(&mine, all, sizeof mine);
    for (int r = 1; !st && r < size; r++)
        if (all[r] != all[0])
            st = zoo_error(ZOO_ERR_STATE,
                           "%s: the parameters of rank %d differ from rank 0's (checksums "
                           "%016llx and %016llx): the ranks drifted apart; stopping",
                           when, r, (unsigned long long)all[r], (unsigned long long)all[0]);
    free(all);
    return st;
}

/* Hogwild across processes: each rank's parameters moved from the last
 * synced ones (base) by its own updates, and the new parameters are base
 * plus every rank's move, as threads sharing one matrix add their updates.
 * Averaging instead would give each word 1/N of its update (a learning
 * rate divided by N): on gutenberg10 with 2 ranks it cost a third of the
 * analogy accuracy (docs/distributed.md). Every rank sums the same
 * moves onto the same base, so all end bit-identical. */
int zoo_dp_sync_parameters(zoo_dp *dp) {
    if (!zoo_dp_active(dp) || !dp->self_updating) return ZOO_OK; /* gradient ranks never differ */
    float *base = dp->base;
    for (int i = 0; i < zoo_params_count(dp->params); i++) {
        zoo_tensor *v = zoo_params_at(dp->params, i)->value;
        float *x = v->data;
        for (int64_t k = 0; k < v->numel; k++) x[k] -= base[k];
        int st = sum_timed(dp, x, (size_t)v->numel);
        if (st) return st;
        for (int64_t k = 0; k < v->numel; k++) x[k] += base[k];
        memcpy(base, x, (size_t)v->numel * sizeof(float));
        base += v->numel;
    }
    dp->words_since_sync = 0;
    dp->syncs++;
    if (dp->config.check_every <= 0) return ZOO_OK;
    /* the ranks now agree bit for bit, or something went wrong */
    char when[64];
    snprintf(when, sizeof when, "sync %lld", (long long)dp->syncs);
    return compare_parameters(dp, when);
}

int zoo_dp_after_update(zoo_dp *dp, zoo_step_stats *stats) {
    if (!zoo_dp_active(dp)) return ZOO_OK;
    double sums[2] = {stats->loss, (double)stats->tokens};
    int st = zoo_dist_sum_f64(sums, 2);
    if (st) return st;
    stats->loss = sums[0] / zoo_dist_size();
    stats->tokens = (int64_t)sums[1];
    dp->words_since_sync += stats->tokens; /* the same count on every rank */
    if (dp->config.sync_every > 0 &&
        dp->words_since_sync >= dp->config.sync_every * (int64_t)zoo_dist_size())
        return zoo_dp_sync_parameters(dp);
    return ZOO_OK;
}

int zoo_dp_any(zoo_dp *dp, bool *flags, int n) {
    if (!zoo_dp_active(dp)) return ZOO_OK;
    int64_t v[8] = {0};
    for (int i = 0; i < n && i < 8; i++) v[i] = flags[i];
    int st = zoo_dist_max_i64(v, (size_t)n);
    for (int i = 0; i < n && i < 8; i++) flags[i] = v[i] != 0;
    return st;
}

int zoo_dp_check_parameters(zoo_dp *dp, int64_t step) {
    /* a self-updating plugin's ranks differ between syncs by design: the
     * sync itself compares them (zoo_dp_sync_parameters) */
    if (!zoo_dp_active(dp) || dp->self_updating || dp->config.check_every <= 0 ||
        step % dp->config.check_every != 0)
        return ZOO_OK;
    char when[64];
    snprintf(when, sizeof when, "step %lld", (long long)step);
    return compare_parameters(dp, when);
}

/* Every rank's SHA-256 of bytes against rank 0's. */
static int same_digest(const char *what, const unsigned char digest[32]) {
    int size = zoo_dist_size();
    unsigned char *all = malloc((size_t)size * 32);
    if (!all) return zoo_error(ZOO_ERR_NOMEM, "out of memory");
    int st = zoo_dist_all_gather(digest, all, 32);
    for (int r = 1; !st && r < size; r++)
        if (memcmp(all + 32 * r, all, 32) != 0)
            st = zoo_error(ZOO_ERR_STATE,
                           "rank %d of %d has a different %s than rank 0: every rank must run "
                           "the same zoo, plugins and configuration",
                           r, size, what);
    free(all);
    return st;
}

int zoo_dp_same_text(const char *what, const char *text) {
    if (zoo_dist_size() <= 1) return ZOO_OK;
    unsigned char digest[32] = {0};
    unsigned len = 0;
    EVP_Digest(text, strlen(text), digest, &len, EVP_sha256(), NULL);
    return same_digest(what, digest);
}

int zoo_dp_same_file(const char *what, const char *path) {
    if (zoo_dist_size() <= 1) return ZOO_OK;
    char hex[65];
    unsigned char digest[32] = {0};
    int st = zoo_sha256_file(path, hex); /* a file this rank cannot read: its own error */
    if (st) return st;
    memcpy(digest, hex, 32); /* the first half of the hex digest: 128 bits */
    return same_digest(what, digest);
}
