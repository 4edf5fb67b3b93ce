/* The processes of one data-parallel job (MPI), seen from the host.
 *
 * zoo links MPI when the build found it (ZOO_MPI) and initialises it only
 * when a launcher (mpirun, srun) started it: a plain zoo command is one
 * process of a job of one, and every function below is then a cheap no-op
 * (a sum over one process is the value itself). Nothing here names an MPI
 * type, so callers compile the same with or without it.
 *
 * The job may be split into groups (zoo compare: one group per model);
 * rank, size and the collectives are those of the current group. */
#ifndef ZOO_HOST_DIST_H
#define ZOO_HOST_DIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Whether this build can run data-parallel at all. */
bool zoo_dist_built(void);

/* Initialises MPI when the environment says a launcher started this process
 * (and ZOO_MPI is not 0), then sets the default number of threads to the
 * node's cores divided by the ranks on it. Prints its own error; returns 0
 * or an exit status. */
int zoo_dist_init(int *argc, char ***argv);

/* Ends the job's part of this process: a rank that exits with a non-zero
 * status takes every other rank down with it (MPI_Abort), so no rank waits
 * forever in a collective; status 0, and 130 (a run every rank agreed to
 * stop), finalise MPI. Returns status. */
int zoo_dist_finish(int status);

/* This process's place in the current group: 0 <= rank < size. */
int zoo_dist_rank(void);
int zoo_dist_size(void);
/* Its place in the whole job. */
int zoo_dist_world_rank(void);
int zoo_dist_world_size(void);
/* Whether this process writes (rank 0 of its group). */
bool zoo_dist_writer(void);

/* Makes the current group the ranks that pass the same color (ranks
 * ordered by their world rank); color < 0 returns to the whole job. Every
 * rank of the current group calls it. ZOO_OK or a status with a message. */
int zoo_dist_split(int color);

/* In-place sums over the current group; every rank calls with the same n.
 * ZOO_OK or a status with a message. */
int zoo_dist_sum_f32(float *values, size_t n);
int zoo_dist_sum_f64(double *values, size_t n);
int zoo_dist_sum_i64(int64_t *values, size_t n);
/* In-place elementwise maximum. */
int zoo_dist_max_i64(int64_t *values, size_t n);
/* Rank 0's bytes into every rank's buffer. */
int zoo_dist_broadcast(void *bytes, size_t n);
/* Every rank's `each` bytes, in rank order, into all (size * each bytes),
 * on every rank. */
int zoo_dist_all_gather(const void *mine, void *all, size_t each);
/* Waits until every rank of the group is here. */
int zoo_dist_barrier(void);

#endif
