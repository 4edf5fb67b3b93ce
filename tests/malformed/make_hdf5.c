/* make_hdf5 FIXTURE OUT_DIR: the HDF5 cases of the malformed-file corpus
 * (tests/malformed/hdf5/), made from a good AllenNLP weights.hdf5 (the elmo
 * plugin's fixture) by replacing one dataset each. make.py builds and runs it
 * when libhdf5's h5cc is there; the files it writes are committed. libhdf5's
 * own parser is trusted (docs/security.md); these are the checks zoo makes
 * around it: a dataset present, of numbers, of the shape options.json gives,
 * before anything is read, and every number finite.
 *
 *   missing_dataset/   CNN/W_cnn_1 removed
 *   group_not_dataset/ CNN/W_cnn_1 a group
 *   string_dtype/      char_embed of fixed-length strings
 *   wrong_shape/       char_embed transposed
 *   zero_dim/          char_embed [0, 4]
 *   nan_weight/        char_embed[3][1] NaN
 *   inf_weight/        CNN_proj/b_proj[0] infinite
 * Each directory gets weights.hdf5; make.py adds options.json. */
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int copy_file(const char *from, const char *to) {
    FILE *in = fopen(from, "rb"), *out = in ? fopen(to, "wb") : NULL;
    char buf[65536];
    size_t n;
    int ok = in && out;
    while (ok && (n = fread(buf, 1, sizeof buf, in)) > 0) ok = fwrite(buf, 1, n, out) == n;
    if (in) fclose(in);
    if (out && fclose(out) != 0) ok = 0;
    return ok ? 0 : -1;
}

/* The float32 contents of dataset name ([*n] values, dims in dims[*nd]). */
static float *read_floats(hid_t f, const char *name, int *nd, hsize_t dims[8], size_t *n) {
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT), s = H5Dget_space(d);
    *nd = H5Sget_simple_extent_dims(s, dims, NULL);
    *n = 1;
    for (int i = 0; i < *nd; i++) *n *= dims[i];
    float *v = malloc(*n * sizeof *v);
    H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v);
    H5Sclose(s);
    H5Dclose(d);
    return v;
}

/* Datasets without their creation time, so that make.py writes the same bytes each time. */
static hid_t untimed(void) {
    hid_t p = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_obj_track_times(p, 0);
    return p;
}

static void write_floats(hid_t f, const char *name, int nd, const hsize_t *dims, const float *v) {
    H5Ldelete(f, name, H5P_DEFAULT);
    hid_t s = H5Screate_simple(nd, dims, NULL);
    hid_t p = untimed(), d = H5Dcreate2(f, name, H5T_IEEE_F32LE, s, H5P_DEFAULT, p, H5P_DEFAULT);
    if (v) H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v);
    H5Dclose(d);
    H5Pclose(p);
    H5Sclose(s);
}

/* OUT_DIR/CASE/weights.hdf5, a copy of the fixture, opened for writing. */
static hid_t open_case(const char *fixture, const char *dir, const char *name) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/%s/weights.hdf5", dir, name);
    if (copy_file(fixture, path)) return -1;
    return H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: make_hdf5 FIXTURE OUT_DIR\n");
        return 2;
    }
    const char *fx = argv[1], *dir = argv[2];
    int nd;
    hsize_t dims[8];
    size_t n;
    hid_t f;

    if ((f = open_case(fx, dir, "missing_dataset")) < 0) return 1;
    H5Ldelete(f, "CNN/W_cnn_1", H5P_DEFAULT);
    H5Fclose(f);

    if ((f = open_case(fx, dir, "group_not_dataset")) < 0) return 1;
    H5Ldelete(f, "CNN/W_cnn_1", H5P_DEFAULT);
    hid_t gp = H5Pcreate(H5P_GROUP_CREATE);
    H5Pset_obj_track_times(gp, 0);
    H5Gclose(H5Gcreate2(f, "CNN/W_cnn_1", H5P_DEFAULT, gp, H5P_DEFAULT));
    H5Pclose(gp);
    H5Fclose(f);

    if ((f = open_case(fx, dir, "string_dtype")) < 0) return 1;
    free(read_floats(f, "char_embed", &nd, dims, &n));
    H5Ldelete(f, "char_embed", H5P_DEFAULT);
    hid_t str = H5Tcopy(H5T_C_S1), s = H5Screate_simple(nd, dims, NULL);
    H5Tset_size(str, 4);
    hid_t p = untimed();
    H5Dclose(H5Dcreate2(f, "char_embed", str, s, H5P_DEFAULT, p, H5P_DEFAULT));
    H5Pclose(p);
    H5Sclose(s);
    H5Tclose(str);
    H5Fclose(f);

    if ((f = open_case(fx, dir, "wrong_shape")) < 0) return 1;
    float *v = read_floats(f, "char_embed", &nd, dims, &n);
    hsize_t t[2] = {dims[1], dims[0]};
    write_floats(f, "char_embed", 2, t, v);
    free(v);
    H5Fclose(f);

    if ((f = open_case(fx, dir, "zero_dim")) < 0) return 1;
    free(read_floats(f, "char_embed", &nd, dims, &n));
    hsize_t z[2] = {0, dims[1]};
    write_floats(f, "char_embed", 2, z, NULL);
    H5Fclose(f);

    if ((f = open_case(fx, dir, "nan_weight")) < 0) return 1;
    v = read_floats(f, "char_embed", &nd, dims, &n);
    v[3 * dims[1] + 1] = NAN;
    write_floats(f, "char_embed", nd, dims, v);
    free(v);
    H5Fclose(f);

    if ((f = open_case(fx, dir, "inf_weight")) < 0) return 1;
    v = read_floats(f, "CNN_proj/b_proj", &nd, dims, &n);
    v[0] = INFINITY;
    write_floats(f, "CNN_proj/b_proj", nd, dims, v);
    free(v);
    H5Fclose(f);
    return 0;
}
