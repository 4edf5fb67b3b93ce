/* params_diff A.safetensors B.safetensors [TOLERANCE]: how far the
 * parameters of two zoo checkpoints are apart (the MPI tests: a
 * data-parallel run against one process). Prints the relative difference
 * of all the model's parameters together, ||a - b||_2 / ||a||_2, and the
 * largest of one tensor's (with its name); with TOLERANCE, exits 1 when
 * the first exceeds it, and with TOLERANCE 0 when any bit of any tensor,
 * optimizer state included, differs. One tensor's can be far larger than
 * the whole's: an attention key bias has a gradient of round-off only (the
 * softmax does not see it), which Adam scales up to full steps. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zoo/safetensors.h"
#include "zoo/status.h"

static float *read_all(const zoo_st_file *f, int i, int64_t n) {
    float *v = malloc((size_t)(n > 0 ? n : 1) * sizeof *v);
    if (v && zoo_st_read_f32(f, i, v, n) != ZOO_OK) {
        free(v);
        return NULL;
    }
    return v;
}

int main(int argc, char **argv) {
    if (argc != 3 && argc != 4) {
        fprintf(stderr, "usage: params_diff A.safetensors B.safetensors [TOLERANCE]\n");
        return 2;
    }
    zoo_st_file *a = NULL, *b = NULL;
    if (zoo_st_open(argv[1], &a) || zoo_st_open(argv[2], &b)) {
        fprintf(stderr, "params_diff: %s\n", zoo_error_message());
        return 2;
    }
    double worst = 0, diff_all = 0, norm_all = 0;
    const char *worst_name = "(none)";
    int64_t differing_bits = 0, tensors = 0;
    for (int i = 0; i < zoo_st_count(a); i++) {
        const char *name = zoo_st_name(a, i), *dtype = NULL;
        int j = zoo_st_find(b, name), ndim = 0;
        int64_t shape[ZOO_MAX_DIMS];
        if (zoo_st_info(a, i, &dtype, &ndim, shape) || strcmp(dtype, "F32") != 0) continue;
        int64_t n = zoo_st_numel(a, i);
        if (j < 0 || zoo_st_numel(b, j) != n) {
            fprintf(stderr, "params_diff: %s: missing or of another size in %s\n", name, argv[2]);
            return 2;
        }
        float *x = read_all(a, i, n), *y = read_all(b, j, n);
        if (!x || !y) {
            fprintf(stderr, "params_diff: %s: %s\n", name, zoo_error_message());
            return 2;
        }
        double diff = 0, norm = 0;
        for (int64_t k = 0; k < n; k++) {
            diff += ((double)x[k] - y[k]) * ((double)x[k] - y[k]);
            norm += (double)x[k] * x[k];
            differing_bits += memcmp(x + k, y + k, sizeof *x) != 0;
        }
        if (strncmp(name, "optim.", 6) != 0) diff_all += diff, norm_all += norm;
        double rel = norm > 0 ? sqrt(diff / norm) : sqrt(diff);
        if (rel > worst || isnan(rel)) worst = rel, worst_name = name;
        tensors++;
        free(x);
        free(y);
    }
    double all = norm_all > 0 ? sqrt(diff_all / norm_all) : sqrt(diff_all);
    printf("%lld tensors; relative difference of the parameters %.3g, of one tensor at most %.3g "
           "(%s); %lld values differ in any bit\n",
           (long long)tensors, all, worst, worst_name, (long long)differing_bits);
    if (argc == 4) {
        double tol = strtod(argv[3], NULL);
        if (tol == 0 ? differing_bits > 0 : !(all <= tol)) return 1;
    }
    zoo_st_close(a);
    zoo_st_close(b);
    return 0;
}
