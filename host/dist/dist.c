#include "dist.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "zoo/status.h"
#include "zoo/threads.h"

#ifdef ZOO_HAVE_MPI
#include <limits.h>
#include <mpi.h>

static bool running;                   /* MPI_Init done, MPI_Finalize not yet */
static MPI_Comm group = MPI_COMM_NULL; /* the current group; MPI_COMM_WORLD or a split */
static MPI_Comm side = MPI_COMM_NULL;  /* the same ranks, for the idle waits alone */
static int group_rank, group_size = 1, world_rank, world_size = 1;
static bool agreed; /* zoo_dist_exit_agreed: every rank exits with the same status */

bool zoo_dist_built(void) {
    return true;
}

/* The variables the launchers we know set in the processes they start:
 * Open MPI's mpirun, PMIx (Open MPI 4, srun --mpi=pmix), PMI (MPICH's
 * hydra, srun --mpi=pmi2). */
static bool launched(void) {
    const char *off = getenv("ZOO_MPI");
    if (off && strcmp(off, "0") == 0) return false;
    return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMIX_RANK") || getenv("PMI_RANK") ||
           getenv("PMI_SIZE");
}

static int mpi_fail(int code, const char *call) {
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(code, text, &len) != MPI_SUCCESS)
        snprintf(text, sizeof text, "code %d", code);
    return zoo_error(ZOO_ERR_IO, "%s (rank %d of %d): %s", call, world_rank, world_size, text);
}

/* Threads per rank: the node's cores shared among the ranks on it, so two
 * ranks on a 2-core machine do not run four threads. */
static void share_cores(void) {
    MPI_Comm node;
    if (MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node) !=
        MPI_SUCCESS)
        return;
    int local = 1;
    MPI_Comm_size(node, &local);
    MPI_Comm_free(&node);
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    int n = (int)(cpus > 0 ? cpus : 1) / (local > 0 ? local : 1);
    zoo_threads_set(n > 0 ? n : 1);
}

int zoo_dist_init(int *argc, char ***argv) {
    if (!launched()) return 0;
    int provided = 0, rc = MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
    if (rc != MPI_SUCCESS) {
        fprintf(stderr,
                "zoo: MPI_Init failed (error %d): started by a launcher, but MPI could "
                "not start\n",
                rc);
        return ZOO_EXIT_FAILURE;
    }
    running = true;
    /* errors come back as codes, each reported with the call that failed */
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &world_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &world_size);
    group = MPI_COMM_WORLD, group_rank = world_rank, group_size = world_size;
    if ((rc = MPI_Comm_dup(MPI_COMM_WORLD, &side)) != MPI_SUCCESS) {
        mpi_fail(rc, "MPI_Comm_dup");
        fprintf(stderr, "zoo: %s\n", zoo_error_message());
        return ZOO_EXIT_FAILURE;
    }
    share_cores();
    /* the zoo processes this one starts (zoo compare's steps) are not ranks */
    setenv("ZOO_MPI", "0", 1);
    return 0;
}

int zoo_dist_finish(int status) {
    if (!running) return status;
    if (status != 0 && world_size > 1 && !agreed) {
        fflush(stdout);
        fflush(stderr);
        MPI_Abort(MPI_COMM_WORLD, status); /* does not return */
    }
    if (group != MPI_COMM_WORLD && group != MPI_COMM_NULL) MPI_Comm_free(&group);
    if (side != MPI_COMM_NULL) MPI_Comm_free(&side);
    MPI_Finalize();
    running = false;
    return status;
}

int zoo_dist_rank(void) {
    return group_rank;
}
int zoo_dist_size(void) {
    return group_size;
}
int zoo_dist_world_rank(void) {
    return world_rank;
}
int zoo_dist_world_size(void) {
    return world_size;
}

int zoo_dist_split(int color) {
    if (!running) return ZOO_OK;
    if (group != MPI_COMM_WORLD) MPI_Comm_free(&group);
    if (side != MPI_COMM_NULL) MPI_Comm_free(&side);
    group = MPI_COMM_WORLD, group_rank = world_rank, group_size = world_size;
    MPI_Comm split = MPI_COMM_WORLD;
    if (color >= 0) {
        int rc = MPI_Comm_split(MPI_COMM_WORLD, color, world_rank, &split);
        if (rc != MPI_SUCCESS) return mpi_fail(rc, "MPI_Comm_split");
        MPI_Comm_set_errhandler(split, MPI_ERRORS_RETURN);
    }
    int rc = MPI_Comm_dup(split, &side);
    if (rc != MPI_SUCCESS) return mpi_fail(rc, "MPI_Comm_dup");
    group = split;
    MPI_Comm_rank(group, &group_rank);
    MPI_Comm_size(group, &group_size);
    return ZOO_OK;
}

/* MPI counts are ints: a long buffer goes in pieces. */
static int all_reduce(void *values, size_t n, size_t width, MPI_Datatype type, MPI_Op op,
                      const char *call) {
    if (group_size <= 1) return ZOO_OK;
    char *at = values;
    while (n > 0) {
        int count = n > INT_MAX / 2 ? INT_MAX / 2 : (int)n;
        int rc = MPI_Allreduce(MPI_IN_PLACE, at, count, type, op, group);
        if (rc != MPI_SUCCESS) return mpi_fail(rc, call);
        at += (size_t)count * width, n -= (size_t)count;
    }
    return ZOO_OK;
}

int zoo_dist_sum_f32(float *v, size_t n) {
    return all_reduce(v, n, sizeof *v, MPI_FLOAT, MPI_SUM, "MPI_Allreduce");
}
int zoo_dist_sum_f64(double *v, size_t n) {
    return all_reduce(v, n, sizeof *v, MPI_DOUBLE, MPI_SUM, "MPI_Allreduce");
}
int zoo_dist_sum_i64(int64_t *v, size_t n) {
    return all_reduce(v, n, sizeof *v, MPI_INT64_T, MPI_SUM, "MPI_Allreduce");
}
int zoo_dist_max_i64(int64_t *v, size_t n) {
    return all_reduce(v, n, sizeof *v, MPI_INT64_T, MPI_MAX, "MPI_Allreduce");
}

int zoo_dist_broadcast(void *bytes, size_t n) {
    if (group_size <= 1) return ZOO_OK;
    char *at = bytes;
    while (n > 0) {
        int count = n > INT_MAX / 2 ? INT_MAX / 2 : (int)n;
        int rc = MPI_Bcast(at, count, MPI_BYTE, 0, group);
        if (rc != MPI_SUCCESS) return mpi_fail(rc, "MPI_Bcast");
        at += count, n -= (size_t)count;
    }
    return ZOO_OK;
}

int zoo_dist_all_gather(const void *mine, void *all, size_t each) {
    if (group_size <= 1) {
        memcpy(all, mine, each);
        return ZOO_OK;
    }
    if (each > INT_MAX) return zoo_error(ZOO_ERR_ARG, "zoo_dist_all_gather: %zu bytes each", each);
    int rc = MPI_Allgather(mine, (int)each, MPI_BYTE, all, (int)each, MPI_BYTE, group);
    return rc == MPI_SUCCESS ? ZOO_OK : mpi_fail(rc, "MPI_Allgather");
}

int zoo_dist_barrier(void) {
    if (group_size <= 1) return ZOO_OK;
    int rc = MPI_Barrier(group);
    return rc == MPI_SUCCESS ? ZOO_OK : mpi_fail(rc, "MPI_Barrier");
}

static double seconds_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Waits for req, a millisecond's sleep between looks (each look also lets
 * MPI move the operation on); ZOO_ERR_STATE after timeout_s when > 0. */
static int wait_idle(MPI_Request *req, double timeout_s, const char *call) {
    const struct timespec nap = {0, 1000000};
    double start = seconds_now();
    for (;;) {
        int done = 0, rc = MPI_Test(req, &done, MPI_STATUS_IGNORE);
        if (rc != MPI_SUCCESS) return mpi_fail(rc, call);
        if (done) return ZOO_OK;
        if (timeout_s > 0 && seconds_now() - start >= timeout_s)
            return zoo_error(ZOO_ERR_STATE,
                             "%s (rank %d of %d): the other ranks of its group did not come "
                             "within %g s",
                             call, world_rank, world_size, timeout_s);
        nanosleep(&nap, NULL);
    }
}

int zoo_dist_broadcast_idle(void *bytes, size_t n) {
    if (group_size <= 1) return ZOO_OK;
    if (n > INT_MAX) return zoo_error(ZOO_ERR_ARG, "zoo_dist_broadcast_idle: %zu bytes", n);
    MPI_Request req;
    int rc = MPI_Ibcast(bytes, (int)n, MPI_BYTE, 0, side, &req);
    return rc == MPI_SUCCESS ? wait_idle(&req, 0, "MPI_Ibcast") : mpi_fail(rc, "MPI_Ibcast");
}

static int reduce_idle(int64_t *v, size_t n, MPI_Op op, double timeout_s) {
    if (group_size <= 1) return ZOO_OK;
    if (n > INT_MAX) return zoo_error(ZOO_ERR_ARG, "MPI_Iallreduce: %zu values", n);
    MPI_Request req;
    int rc = MPI_Iallreduce(MPI_IN_PLACE, v, (int)n, MPI_INT64_T, op, side, &req);
    return rc == MPI_SUCCESS ? wait_idle(&req, timeout_s, "MPI_Iallreduce")
                             : mpi_fail(rc, "MPI_Iallreduce");
}
int zoo_dist_sum_i64_idle(int64_t *v, size_t n, double timeout_s) {
    return reduce_idle(v, n, MPI_SUM, timeout_s);
}
int zoo_dist_max_i64_idle(int64_t *v, size_t n, double timeout_s) {
    return reduce_idle(v, n, MPI_MAX, timeout_s);
}

void zoo_dist_exit_agreed(void) {
    agreed = true;
}

#else /* a build without MPI: a job of one */

bool zoo_dist_built(void) {
    return false;
}

int zoo_dist_init(int *argc, char ***argv) {
    (void)argc, (void)argv;
    const char *off = getenv("ZOO_MPI");
    bool launched = getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMIX_RANK") || getenv("PMI_RANK");
    const char *size = getenv("OMPI_COMM_WORLD_SIZE");
    if (launched && !(off && strcmp(off, "0") == 0) && size && atoi(size) > 1) {
        fprintf(stderr,
                "zoo: started by an MPI launcher with %s processes, but this zoo was "
                "built without MPI (configure with -DZOO_MPI=ON and libopenmpi-dev); "
                "set ZOO_MPI=0 to run each as a separate job\n",
                size);
        return ZOO_EXIT_FAILURE;
    }
    return 0;
}

int zoo_dist_finish(int status) {
    return status;
}
int zoo_dist_rank(void) {
    return 0;
}
int zoo_dist_size(void) {
    return 1;
}
int zoo_dist_world_rank(void) {
    return 0;
}
int zoo_dist_world_size(void) {
    return 1;
}
int zoo_dist_split(int color) {
    (void)color;
    return ZOO_OK;
}
int zoo_dist_sum_f32(float *v, size_t n) {
    (void)v, (void)n;
    return ZOO_OK;
}
int zoo_dist_sum_f64(double *v, size_t n) {
    (void)v, (void)n;
    return ZOO_OK;
}
int zoo_dist_sum_i64(int64_t *v, size_t n) {
    (void)v, (void)n;
    return ZOO_OK;
}
int zoo_dist_max_i64(int64_t *v, size_t n) {
    (void)v, (void)n;
    return ZOO_OK;
}
int zoo_dist_broadcast(void *bytes, size_t n) {
    (void)bytes, (void)n;
    return ZOO_OK;
}
int zoo_dist_all_gather(const void *mine, void *all, size_t each) {
    memcpy(all, mine, each);
    return ZOO_OK;
}
int zoo_dist_barrier(void) {
    return ZOO_OK;
}
int zoo_dist_broadcast_idle(void *bytes, size_t n) {
    (void)bytes, (void)n;
    return ZOO_OK;
}
int zoo_dist_sum_i64_idle(int64_t *v, size_t n, double timeout_s) {
    (void)v, (void)n, (void)timeout_s;
    return ZOO_OK;
}
int zoo_dist_max_i64_idle(int64_t *v, size_t n, double timeout_s) {
    (void)v, (void)n, (void)timeout_s;
    return ZOO_OK;
}
void zoo_dist_exit_agreed(void) {}

#endif

bool zoo_dist_writer(void) {
    return zoo_dist_rank() == 0;
}
