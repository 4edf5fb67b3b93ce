/* npy_read FILE: reads FILE with zoo_npy_read (host/runs/files.c), the .npy
 * reader the host and the plugins' tests share, and prints its shape; on
 * failure, the one-line message "npy_read: MESSAGE" and exit status 1. It
 * lets the malformed-file corpus (tests/malformed/) reach a parser that no
 * zoo command reads untrusted input with. */
#include <stdio.h>

#include "files.h"
#include "zoo/status.h"

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: npy_read FILE\n");
        return 2;
    }
    zoo_graph *g = zoo_graph_new(0);
    zoo_tensor *t = g ? zoo_npy_read(g, argv[1]) : NULL;
    if (!t) {
        fprintf(stderr, "npy_read: %s\n", zoo_error_message());
        zoo_graph_free(g);
        return 1;
    }
    printf("(");
    for (int i = 0; i < t->ndim; i++) printf("%s%lld", i ? ", " : "", (long long)t->shape[i]);
    printf(")\n");
    zoo_graph_free(g);
    return 0;
}
