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
 * node's cores divided by the ranks on it, and ZOO_MPI=0 in the environment:
 * the zoo processes a rank starts (zoo compare's steps) run alone. Prints its own error; returns 0
 * or an exit status. */
int zoo_dist_init(int *argc, char ***argv);

/* Ends the job's part of this process: a rank that exits with a non-zero
 * status takes every other rank down with it (MPI_Abort), so no rank waits
 * forever in a collective; status 0, or any after zoo_dist_exit_agreed,
 * finalises MPI. Returns status. */
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

/* For waits that may be long (zoo compare: the ranks of a group wait while
 * its rank 0 runs child processes on the same cores): the same operations,
 * but a waiting rank sleeps between looks instead of spinning a core. They
 * go over a communicator of their own, apart from the sums above, so a rank
 * may wait in one while others are still inside a training run's sums.
 * zoo_dist_broadcast_idle: rank 0's bytes into every rank's buffer.
 * zoo_dist_sum/max_i64_idle: in-place elementwise sum or maximum. With
 * timeout_s > 0 a rank stops waiting after that long and gets ZOO_ERR_STATE
 * (the others did not come: the caller should end the job, zoo_dist_finish
 * with a non-zero status); 0 waits as long as it takes. */
int zoo_dist_broadcast_idle(void *bytes, size_t n);
int zoo_dist_sum_i64_idle(int64_t *values, size_t n, double timeout_s);
int zoo_dist_max_i64_idle(int64_t *values, size_t n, double timeout_s);

/* Every rank of the job knows its outcome and exits with the same status
 * (zoo compare after its last agreement; a training run the ranks agreed
 * to stop, exiting 130): zoo_dist_finish then finalises MPI for a non-zero
 * status too, instead of aborting the job. */
void zoo_dist_exit_agreed(void);

#endif
