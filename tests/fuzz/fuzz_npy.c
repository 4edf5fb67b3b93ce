/* NumPy .npy arrays (host/runs/files.c), as zoo forward and zoo embed read them. */
#include "files.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    zoo_graph *g = zoo_graph_new(0);
    if (!g) return 0;
    zoo_npy_read(g, fuzz_write("a.npy", data, size));
    zoo_graph_free(g);
    return 0;
}
