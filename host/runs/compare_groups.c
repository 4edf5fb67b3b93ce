#include "compare_groups.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "dist.h"
#include "train.h"
#include "zoo/status.h"
#include "zoo/threads.h"

int zoo_compare_groups_plan(int world_size, int world_rank, int n_trials, zoo_compare_groups *g) {
    if (world_size < 1 || world_rank < 0 || world_rank >= world_size || n_trials < 0)
        return zoo_error(ZOO_ERR_ARG, "compare groups: rank %d of %d, %d trials", world_rank,
                         world_size, n_trials);
    int G = n_trials < world_size ? n_trials : world_size;
    if (G < 1) G = 1;
    /* the first `extra` groups have base + 1 ranks, the others base */
    int base = world_size / G, extra = world_size % G, big = extra * (base + 1);
    g->n_groups = G;
    if (world_rank < big) {
        g->group = world_rank / (base + 1);
        g->group_size = base + 1;
        g->first_rank = g->group * (base + 1);
    } else {
        g->group = extra + (world_rank - big) / base;
        g->group_size = base;
        g->first_rank = big + (g->group - extra) * base;
    }
    return ZOO_OK;
}

bool zoo_compare_groups_runs(const zoo_compare_groups *g, int t) {
    return t >= 0 && t % g->n_groups == g->group;
}

/* ---- data-parallel pretraining in a group -------------------------------- */

/* What rank 0 tells the others, all the same size (one broadcast each). */
enum { ORDER_END, ORDER_TRAIN, ORDER_RESUME };
typedef struct order {
    int32_t what;
    char config[4096], run_dir[4096];
} order;

/* The peak resident memory of this process is set back to what it holds
 * now (Linux: clear_refs 5), so that the peak after a run is the run's
 * own; where that is refused, the peak stays the process's since it began. */
static void reset_peak(void) {
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (f) {
        fputs("5", f);
        fclose(f);
    }
}

static int64_t peak_bytes(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long long kib = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmHWM: %lld kB", &kib) == 1) break;
    if (f) fclose(f);
    if (kib >= 0) return (int64_t)kib * 1024;
    struct rusage u = {0};
    getrusage(RUSAGE_SELF, &u);
    return (int64_t)u.ru_maxrss * 1024; /* Linux reports KiB */
}

/* Every rank of the group trains its share of the order, then they agree on
 * how it went; *r as zoo_compare_pretrain_lead says. */
static int train_share(const zoo_compare_pretrain *p, const order *o, bool quiet,
                       zoo_child_result *r) {
    memset(r, 0, sizeof *r);
    bool resume = o->what == ORDER_RESUME;
    zoo_train_opts opts = {.config = resume ? NULL : o->config,
                           .resume = resume ? o->run_dir : NULL,
                           .out = resume ? NULL : o->run_dir,
                           .quiet = quiet};
    zoo_train_result result;
    reset_peak();
    int threads = zoo_threads_count(); /* a model's train.threads is its run's alone */
    int status = zoo_train(p->cli, &opts, &result);
    zoo_threads_set(threads);
    free(result.run_dir), free(result.checkpoint);
    int world = zoo_dist_world_size(), me = zoo_dist_world_rank();
    bool failed = status != 0 && status != 130;
    /* failed, interrupted, peak, and the lowest failing rank as world - rank */
    int64_t v[4] = {failed, status == 130, peak_bytes(), failed ? world - me : 0};
    /* a rank that failed alone would wait forever for the others, who wait
     * for it in one of the run's sums: it ends the job instead */
    if (zoo_dist_max_i64_idle(v, 4, status ? ZOO_COMPARE_AGREE_SECONDS : 0) != ZOO_OK) {
        fprintf(stderr,
                "zoo compare: %s; its pretraining failed while the rest of its group still "
                "trains: stopping the job (zoo compare --resume continues it)\n",
                zoo_error_message());
        exit(zoo_dist_finish(ZOO_EXIT_FAILURE));
    }
    r->status = v[0] ? ZOO_EXIT_FAILURE : v[1] ? 130 : 0;
    r->interrupted = !v[0] && v[1];
    r->peak_rss_bytes = v[2];
    if (failed) /* as a child's last line reads */
        snprintf(r->last_line, sizeof r->last_line, "zoo train: %s", zoo_cli_last_failure());
    else if (v[0])
        snprintf(r->last_line, sizeof r->last_line,
                 "pretraining failed on rank %lld of the job (its error is above)",
                 (long long)(world - v[3]));
    return ZOO_OK;
}

int zoo_compare_pretrain_lead(void *ctx, const char *config, const char *run_dir,
                              zoo_child_result *r) {
    const zoo_compare_pretrain *p = ctx;
    order o = {.what = config ? ORDER_TRAIN : ORDER_RESUME};
    if (snprintf(o.config, sizeof o.config, "%s", config ? config : "") >= (int)sizeof o.config ||
        snprintf(o.run_dir, sizeof o.run_dir, "%s", run_dir) >= (int)sizeof o.run_dir)
        return zoo_error(ZOO_ERR_ARG, "%s: a path too long to send to the group", run_dir);
    int st = zoo_dist_broadcast_idle(&o, sizeof o);
    return st ? st : train_share(p, &o, p->quiet, r);
}

int zoo_compare_pretrain_serve(const zoo_compare_pretrain *p) {
    for (;;) {
        order o;
        int st = zoo_dist_broadcast_idle(&o, sizeof o);
        if (st) return st;
        if (o.what == ORDER_END) return ZOO_OK;
        o.config[sizeof o.config - 1] = o.run_dir[sizeof o.run_dir - 1] = '\0';
        zoo_child_result r;
        train_share(p, &o, true, &r); /* rank 0 records the outcome */
    }
}

int zoo_compare_pretrain_end(void) {
    order o = {.what = ORDER_END};
    return zoo_dist_broadcast_idle(&o, sizeof o);
}
