/* zoo compare over MPI: the ranks of the job split into groups, each
 * running its share of the comparison's trials (cmd_compare.c).
 *
 * The trials, numbered in the serial order (repeat k outer, model inner:
 * t = (k - 1) * n_models + j), go round-robin to G = min(ranks, trials)
 * groups: trial t to group t mod G. The ranks go to the groups in blocks of
 * consecutive world ranks, as evenly as they divide (the first ranks % G
 * groups have one rank more), so world rank 0 is group 0's rank 0. A group
 * of one rank runs its trials exactly as a serial zoo compare does, each
 * step a child process. In a group of several, rank 0 drives each trial
 * and the group pretrains data-parallel in-process (zoo_train on every
 * rank of the group), the other steps staying children of rank 0. */
#ifndef ZOO_HOST_COMPARE_GROUPS_H
#define ZOO_HOST_COMPARE_GROUPS_H

#include <stdbool.h>

#include "child.h"
#include "cli.h"

/* A failing rank waits this long for the rest of its group to come back
 * from a data-parallel pretraining before it ends the job (zoo_dist_finish):
 * the others are then inside the run, waiting for it in a sum. */
#define ZOO_COMPARE_AGREE_SECONDS 60.0

typedef struct zoo_compare_groups {
    int n_groups;   /* G: min(world_size, n_trials), at least 1 */
    int group;      /* this rank's, 0 <= group < n_groups */
    int group_size; /* ranks in it */
    int first_rank; /* the world rank of its rank 0 */
} zoo_compare_groups;

/* The groups of a job of world_size ranks running n_trials trials, seen
 * from world_rank. ZOO_ERR_ARG (with a message) for sizes out of range. */
int zoo_compare_groups_plan(int world_size, int world_rank, int n_trials, zoo_compare_groups *g);

/* Whether trial t (serial order, 0-based) is this rank's group's. */
bool zoo_compare_groups_runs(const zoo_compare_groups *g, int t);

/* What the ranks of a group share while they train in-process. */
typedef struct zoo_compare_pretrain {
    const zoo_cli *cli;
    bool quiet; /* no progress display on the group's rank 0 */
} zoo_compare_pretrain;

/* The train hook of a trial on a group's rank 0 (zoo_trial.train, ctx a
 * zoo_compare_pretrain): tells the other ranks what to train, trains its
 * share in this process (zoo_train), then learns how the others fared.
 * r->status is 0 when every rank succeeded, 130 when one was interrupted,
 * else 1 with r->last_line the error (this rank's, or a line naming the
 * rank that failed); r->peak_rss_bytes is the largest peak of the group's
 * ranks during the run. A rank that failed and whose group does not come
 * back within ZOO_COMPARE_AGREE_SECONDS ends the whole job. Returns ZOO_OK. */
int zoo_compare_pretrain_lead(void *ctx, const char *config, const char *run_dir,
                              zoo_child_result *r);

/* The other ranks of a group: train what rank 0 says, until it says the
 * group is done (zoo_compare_pretrain_end). Returns ZOO_OK, or a status
 * with a message when the group's messages fail. */
int zoo_compare_pretrain_serve(const zoo_compare_pretrain *p);
/* Rank 0: the group's trials are done; the other ranks leave
 * zoo_compare_pretrain_serve. ZOO_OK or a status with a message. */
int zoo_compare_pretrain_end(void);

#endif
