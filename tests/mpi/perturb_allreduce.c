/* LD_PRELOADed into one rank of an MPI test (test_mpi.sh): after its
 * ZOO_PERTURB_AT-th MPI_Allreduce of floats, adds 1e-3 to the first value
 * summed, as a flipped bit or a broken reduction would, so this rank's
 * parameters drift from the others' and zoo's checksum must notice. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <mpi.h>
#include <stdlib.h>

typedef int (*allreduce_fn)(const void *, void *, int, MPI_Datatype, MPI_Op, MPI_Comm);

int MPI_Allreduce(const void *send, void *recv, int count, MPI_Datatype type, MPI_Op op,
                  MPI_Comm comm) {
    static allreduce_fn real;
    static long calls;
    if (!real) real = (allreduce_fn)dlsym(RTLD_NEXT, "MPI_Allreduce");
    int rc = real(send, recv, count, type, op, comm);
    const char *at = getenv("ZOO_PERTURB_AT");
    if (type == MPI_FLOAT && count > 0 && at && ++calls == atol(at)) ((float *)recv)[0] += 1e-3f;
    return rc;
}
