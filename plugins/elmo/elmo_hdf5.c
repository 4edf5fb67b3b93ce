/* weights.hdf5 <-> the parameters (elmo_allennlp.h): bilm-tf's datasets,
 * read and written with libhdf5, and the conversions of their layout to the
 * model's (elmo.h); import_weights. */
#include <errno.h>
#include <hdf5.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "elmo_allennlp.h"

/* HDF5 prints its error stack to stderr unless told not to: each entry point
 * silences it for its own duration and puts the caller's handler back. */
typedef struct h5_quiet {
    H5E_auto2_t func;
    void *data;
} h5_quiet;

static h5_quiet h5_silence(void) {
    h5_quiet q = {0};
    H5Eget_auto2(H5E_DEFAULT, &q.func, &q.data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    return q;
}

static void h5_restore(h5_quiet q) {
    H5Eset_auto2(H5E_DEFAULT, q.func, q.data);
}

enum { H5_WHY = 200 };

static herr_t innermost(unsigned n, const H5E_error2_t *e, void *buf) {
    if (n == 0 && e->desc) snprintf(buf, H5_WHY, "%s", e->desc);
    return 0;
}

/* HDF5's own words for the failure just seen ("truncated file: eof = ..."). */
static const char *h5_reason(char *buf) {
    buf[0] = '\0';
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, innermost, buf);
    return buf[0] ? buf : "HDF5 gave no reason";
}

static const char *dims_str(char *buf, size_t size, int ndim, const hsize_t *dims) {
    size_t used = (size_t)snprintf(buf, size, "[");
    for (int i = 0; i < ndim && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, "%s%llu", i ? ", " : "",
                                 (unsigned long long)dims[i]);
    if (used < size) snprintf(buf + used, size - used, "]");
    return buf;
}

static hid_t h5_access(void) {
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
#if H5_VERSION_GE(1, 10, 7)
    /* lock where the file system can, go on where it cannot (NFS) */
    if (fapl >= 0) H5Pset_file_locking(fapl, true, true);
#endif
    return fapl;
}

static int h5_open(const char *file, hid_t *out) {
    char why[H5_WHY];
    struct stat sb;
    *out = -1;
    if (stat(file, &sb) != 0) return zoo_error(ZOO_ERR_IO, "%s: %s", file, strerror(errno));
    if (!S_ISREG(sb.st_mode)) return zoo_error(ZOO_ERR_IO, "%s: not a file", file);
    hid_t fapl = h5_access();
#if H5_VERSION_GE(1, 12, 0)
    htri_t is = H5Fis_accessible(file, fapl);
#else
    htri_t is = H5Fis_hdf5(file);
#endif
    hid_t f = is > 0 ? H5Fopen(file, H5F_ACC_RDONLY, fapl) : -1;
    if (is > 0 && f < 0) h5_reason(why); /* before the next call clears it */
    if (fapl >= 0) H5Pclose(fapl);
    if (is <= 0) return zoo_error(ZOO_ERR_FORMAT, "%s: not an HDF5 file", file);
    if (f < 0)
        return zoo_error(ZOO_ERR_FORMAT,
                         "%s: cannot open this HDF5 file, truncated or damaged (%s)", file, why);
    *out = f;
    return ZOO_OK;
}

/* Whether the dataset `name` ("CNN/W_cnn_0") is in f, looking at each group
 * on the way (H5Lexists wants the groups to be there). */
static int h5_has(hid_t f, const char *file, const char *name, bool *has) {
    char prefix[128], why[H5_WHY];
    *has = false;
    if (strlen(name) >= sizeof prefix)
        return zoo_error(ZOO_ERR_ARG, "%s: %s: name too long", file, name);
    for (const char *slash = name;; slash++) {
        slash = strchr(slash, '/');
        size_t len = slash ? (size_t)(slash - name) : strlen(name);
        memcpy(prefix, name, len);
        prefix[len] = '\0';
        htri_t e = H5Lexists(f, prefix, H5P_DEFAULT);
        if (e < 0)
            return zoo_error(ZOO_ERR_FORMAT, "%s: %s: cannot look it up (%s)", file, name,
                             h5_reason(why));
        if (e == 0 || !slash) {
            *has = e > 0;
            return ZOO_OK;
        }
    }
}

/* The dataset `name`, opened, with its shape; a missing one, a group, or one
 * that does not hold numbers is an error naming the file and the dataset. */
static int h5_dataset(hid_t f, const char *file, const char *name, hid_t *out, int *ndim,
                      hsize_t dims[H5S_MAX_RANK]) {
    char why[H5_WHY];
    bool has;
    int st = h5_has(f, file, name, &has);
    if (st) return st;
    if (!has) return zoo_error(ZOO_ERR_FORMAT, "%s: %s: no such dataset", file, name);
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    if (d < 0)
        return zoo_error(ZOO_ERR_FORMAT, "%s: %s: not a readable dataset (%s)", file, name,
                         h5_reason(why));
    hid_t space = H5Dget_space(d), type = H5Dget_type(d);
    *ndim = space >= 0 ? H5Sget_simple_extent_ndims(space) : -1;
    if (*ndim >= 0 && H5Sget_simple_extent_dims(space, dims, NULL) < 0) *ndim = -1;
    H5T_class_t cls = type >= 0 ? H5Tget_class(type) : H5T_NO_CLASS;
    if (space >= 0) H5Sclose(space);
    if (type >= 0) H5Tclose(type);
    if (*ndim < 0)
        st = zoo_error(ZOO_ERR_FORMAT, "%s: %s: unreadable shape (%s)", file, name, h5_reason(why));
    else if (cls != H5T_FLOAT && cls != H5T_INTEGER)
        st = zoo_error(ZOO_ERR_FORMAT, "%s: %s: holds neither floats nor integers", file, name);
    if (st)
        H5Dclose(d);
    else
        *out = d;
    return st;
}

/* --- the layout: bilm-tf's datasets and the model's tensors --------------- */

enum { C_COPY, C_CNN, C_HIGHWAY_W, C_HIGHWAY_B, C_TRANSPOSE, C_LSTM_W, C_LSTM_B };

/* One dataset of the file and where its values live in the model. */
typedef struct dataset {
    char name[64];
    int ndim, conv;
    hsize_t dims[4];
    zoo_tensor *t, *t2; /* t2: W_0's hidden rows (w_hh) */
    int part;           /* highway: 0 transform, 1 carry */
} dataset;

/* char_embed, the banks (2 each), the highways (4), the projection (2), the
 * LSTM cells (3 each of two directions), the softmax (2) */
#define ELMO_MAX_DATASETS                                                                          \
    (1 + 2 * ELMO_MAX_FILTERS + 4 * ELMO_MAX_LAYERS + 2 + 6 * ELMO_MAX_LAYERS + 2)

static int64_t ds_numel(const dataset *d) {
    int64_t n = 1;
    for (int i = 0; i < d->ndim; i++) n *= (int64_t)d->dims[i];
    return n;
}

static dataset *ds_add(dataset *ds, int *n, int conv, zoo_tensor *t, int ndim, const hsize_t *dims,
                       const char *name) {
    dataset *d = &ds[(*n)++];
    *d = (dataset){.ndim = ndim, .conv = conv, .t = t};
    snprintf(d->name, sizeof d->name, "%s", name);
    memcpy(d->dims, dims, (size_t)ndim * sizeof *dims);
    return d;
}

#define DIMS(...)                                                                                  \
    ZOO_NDIM(__VA_ARGS__), (const hsize_t[]) {                                                     \
        __VA_ARGS__                                                                                \
    }

/* Every dataset of m's file, in bilm-tf's order; the count. */
static int layout(zoo_model *m, dataset *ds) {
    hsize_t E = (hsize_t)m->E, D = (hsize_t)m->D, P = (hsize_t)m->P, H = (hsize_t)m->H;
    char name[64];
    int n = 0;
    ds_add(ds, &n, C_COPY, m->char_embed, DIMS(ELMO_N_CHARS, E), "char_embed");
    for (int i = 0; i < m->n_filters; i++) {
        hsize_t K = (hsize_t)m->widths[i], F = (hsize_t)m->counts[i];
        snprintf(name, sizeof name, "CNN/W_cnn_%d", i);
        ds_add(ds, &n, C_CNN, m->cnn_w[i], DIMS(1, K, E, F), name);
        snprintf(name, sizeof name, "CNN/b_cnn_%d", i);
        ds_add(ds, &n, C_COPY, m->cnn_b[i], DIMS(F), name);
    }
    static const char *const hw[4] = {"W_carry", "b_carry", "W_transform", "b_transform"};
    for (int k = 0; k < m->n_highway; k++)
        for (int j = 0; j < 4; j++) {
            snprintf(name, sizeof name, "CNN_high_%d/%s", k, hw[j]);
            bool w = j % 2 == 0;
            dataset *d = w ? ds_add(ds, &n, C_HIGHWAY_W, m->highway_w[k], DIMS(D, D), name)
                           : ds_add(ds, &n, C_HIGHWAY_B, m->highway_b[k], DIMS(D), name);
            d->part = j < 2; /* carry: zoo_highway's keep-x half, negated */
        }
    ds_add(ds, &n, C_TRANSPOSE, m->proj_w, DIMS(D, P), "CNN_proj/W_proj");
    ds_add(ds, &n, C_COPY, m->proj_b, DIMS(P), "CNN_proj/b_proj");
    for (int dir = 0; dir < 2; dir++)
        for (int l = 0; l < m->n_layers; l++) {
            const elmo_lstm_layer *L = &m->lstm[dir][l];
            hsize_t in = (hsize_t)L->w_ih->shape[1];
            int k = snprintf(name, sizeof name, "RNN_%d/RNN/MultiRNNCell/Cell%d/LSTMCell/", dir, l);
            snprintf(name + k, sizeof name - (size_t)k, "W_0");
            ds_add(ds, &n, C_LSTM_W, L->w_ih, DIMS(in + P, 4 * H), name)->t2 = L->w_hh;
            snprintf(name + k, sizeof name - (size_t)k, "B");
            ds_add(ds, &n, C_LSTM_B, L->bias, DIMS(4 * H), name);
            snprintf(name + k, sizeof name - (size_t)k, "W_P_0");
            ds_add(ds, &n, C_TRANSPOSE, L->w_proj, DIMS(H, P), name);
        }
    if (m->has_softmax) {
        ds_add(ds, &n, C_COPY, m->softmax_w, DIMS((hsize_t)m->V, P), "softmax/W");
        ds_add(ds, &n, C_COPY, m->softmax_b, DIMS((hsize_t)m->V), "softmax/b");
    }
    return n;
}

/* model = s * file on import, file = s * model on export (s is 1 or -1):
 * exact inverses, -0 included. */
static inline void xfer(float *model, float *file, float s, bool import) {
    if (import)
        *model = s * *file;
    else
        *file = s * *model;
}

/* zoo's gate block g (i, f, g, o) is TensorFlow's block tf_block[g] (i, j, f, o) */
static const int tf_block[4] = {0, 2, 1, 3};

/* Moves one dataset's values between the file's layout (file, ds_numel
 * floats) and the model's tensors, either way. */
static void convert(const dataset *d, float *file, bool import) {
    float *t = zoo_f32(d->t);
    int64_t n = ds_numel(d);
    switch (d->conv) {
    case C_COPY:
        for (int64_t i = 0; i < n; i++) xfer(&t[i], &file[i], 1, import);
        break;
    case C_CNN: { /* file [1, K, E, F] <-> t [F, K, E] */
        int64_t K = (int64_t)d->dims[1], E = (int64_t)d->dims[2], F = (int64_t)d->dims[3];
        for (int64_t k = 0; k < K; k++)
            for (int64_t e = 0; e < E; e++)
                for (int64_t f = 0; f < F; f++)
                    xfer(&t[(f * K + k) * E + e], &file[(k * E + e) * F + f], 1, import);
        break;
    }
    case C_HIGHWAY_W: { /* file [D in, D out] <-> rows part*D.. of t [2D out, D in] */
        int64_t D = (int64_t)d->dims[0];
        float s = d->part ? -1 : 1;
        for (int64_t i = 0; i < D; i++)
            for (int64_t j = 0; j < D; j++)
                xfer(&t[(d->part * D + j) * D + i], &file[i * D + j], s, import);
        break;
    }
    case C_HIGHWAY_B: {
        float s = d->part ? -1 : 1;
        for (int64_t j = 0; j < n; j++) xfer(&t[d->part * n + j], &file[j], s, import);
        break;
    }
    case C_TRANSPOSE: { /* file [R, C] <-> t [C, R] */
        int64_t R = (int64_t)d->dims[0], C = (int64_t)d->dims[1];
        for (int64_t r = 0; r < R; r++)
            for (int64_t c = 0; c < C; c++) xfer(&t[c * R + r], &file[r * C + c], 1, import);
        break;
    }
    case C_LSTM_W: { /* file [in + P, 4H], TF blocks <-> w_ih [4H, in], w_hh [4H, P] */
        int64_t in = d->t->shape[1], P = d->t2->shape[1], H4 = (int64_t)d->dims[1], H = H4 / 4;
        for (int64_t r = 0; r < in + P; r++) {
            float *w = zoo_f32(r < in ? d->t : d->t2);
            int64_t cols = r < in ? in : P, i = r < in ? r : r - in;
            for (int g = 0; g < 4; g++)
                for (int64_t h = 0; h < H; h++)
                    xfer(&w[(g * H + h) * cols + i], &file[r * H4 + tf_block[g] * H + h], 1,
                         import);
        }
        break;
    }
    case C_LSTM_B: { /* B as the file has it, the blocks reordered */
        int64_t H = n / 4;
        for (int g = 0; g < 4; g++)
            for (int64_t h = 0; h < H; h++)
                xfer(&t[g * H + h], &file[tf_block[g] * H + h], 1, import);
        break;
    }
    }
}

/* The index of the first NaN or infinity of v[0..n), or -1. */
static int64_t first_nonfinite(const float *v, int64_t n) {
    for (int64_t k = 0; k < n; k++)
        if (!isfinite(v[k])) return k;
    return -1;
}

static float *grow(float **buf, size_t *cap, int64_t n) {
    if ((size_t)n > *cap) {
        float *b = realloc(*buf, (size_t)n * sizeof *b);
        if (!b) return NULL;
        *buf = b, *cap = (size_t)n;
    }
    return *buf;
}

int elmo_import_weights(zoo_model *m, zoo_params *params, const char *path) {
    (void)params; /* m holds the tensors */
    char file[PATH_MAX], why[H5_WHY], want[96], got[96];
    int st = elmo_path(file, sizeof file, path, "weights.hdf5");
    dataset *ds = st ? NULL : malloc(ELMO_MAX_DATASETS * sizeof *ds);
    if (!st && !ds) st = zoo_error(ZOO_ERR_NOMEM, "%s: out of memory", file);
    if (st) return st;
    int n = layout(m, ds);
    h5_quiet q = h5_silence();
    hid_t f = -1;
    st = h5_open(file, &f);
    /* every dataset with its shape first, so that the usual faults leave the
     * model as it was */
    for (int i = 0; !st && i < n; i++) {
        hid_t d;
        int nd;
        hsize_t dims[H5S_MAX_RANK];
        st = h5_dataset(f, file, ds[i].name, &d, &nd, dims);
        if (st) break;
        H5Dclose(d);
        if (nd != ds[i].ndim || memcmp(dims, ds[i].dims, (size_t)nd * sizeof *dims) != 0)
            st = zoo_error(ZOO_ERR_SHAPE, "%s: %s: expected shape %s, got %s", file, ds[i].name,
                           dims_str(want, sizeof want, ds[i].ndim, ds[i].dims),
                           dims_str(got, sizeof got, nd, dims));
    }
    float *buf = NULL;
    size_t cap = 0;
    int64_t bad;
    for (int i = 0; !st && i < n; i++) {
        hid_t d;
        int nd;
        hsize_t dims[H5S_MAX_RANK];
        st = h5_dataset(f, file, ds[i].name, &d, &nd, dims);
        if (st) break;
        if (!grow(&buf, &cap, ds_numel(&ds[i])))
            st = zoo_error(ZOO_ERR_NOMEM, "%s: %s: out of memory", file, ds[i].name);
        else if (H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0)
            st = zoo_error(ZOO_ERR_FORMAT, "%s: %s: cannot read it (%s)", file, ds[i].name,
                           h5_reason(why));
        else if ((bad = first_nonfinite(buf, ds_numel(&ds[i]))) >= 0) /* NaN poisons every output */
            st = zoo_error(ZOO_ERR_FORMAT,
                           "%s: %s: element %lld is %s; a model's weights must be finite", file,
                           ds[i].name, (long long)bad, isnan(buf[bad]) ? "NaN" : "infinite");
        else
            convert(&ds[i], buf, true);
        H5Dclose(d);
    }
    free(buf);
    if (f >= 0) H5Fclose(f);
    h5_restore(q);
    free(ds);
    return st;
}

int elmo_softmax_rows(const char *dir, int64_t *rows) {
    char file[PATH_MAX];
    *rows = -1;
    int st = elmo_path(file, sizeof file, dir, "weights.hdf5");
    if (st || !elmo_file_exists(file)) return st;
    h5_quiet q = h5_silence();
    hid_t f, d = -1;
    bool has = false;
    int nd = 0;
    hsize_t dims[H5S_MAX_RANK];
    st = h5_open(file, &f);
    if (!st) st = h5_has(f, file, "softmax/W", &has);
    if (!st && has) st = h5_dataset(f, file, "softmax/W", &d, &nd, dims);
    if (!st && has && nd != 2)
        st =
            zoo_error(ZOO_ERR_SHAPE,
                      "%s: softmax/W: expected 2 dimensions [words, projection], got %d", file, nd);
    if (!st && has) *rows = (int64_t)dims[0];
    if (d >= 0) H5Dclose(d);
    if (f >= 0) H5Fclose(f);
    h5_restore(q);
    return st;
}

/* HDF5 builds the file in memory (its core driver, no file behind it), so
 * that it reaches the disk as the other files do, through zoo_atomic_file;
 * the cost is the file held twice for a moment (HDF5's image and the copy). */
int elmo_weights_image(zoo_model *m, const char *file, void **image, size_t *len) {
    char why[H5_WHY];
    *image = NULL;
    dataset *ds = malloc(ELMO_MAX_DATASETS * sizeof *ds);
    if (!ds) return zoo_error(ZOO_ERR_NOMEM, "%s: out of memory", file);
    int n = layout(m, ds), st = ZOO_OK;
    size_t bytes = 1 << 20; /* HDF5's own structures, generously */
    for (int i = 0; i < n; i++) bytes += (size_t)ds_numel(&ds[i]) * sizeof(float);
    h5_quiet q = h5_silence();
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS), lcpl = H5Pcreate(H5P_LINK_CREATE), f = -1;
    if (fapl >= 0 && lcpl >= 0 && H5Pset_fapl_core(fapl, bytes, false) >= 0 &&
        H5Pset_create_intermediate_group(lcpl, 1) >= 0) /* "CNN/W_cnn_0" makes "CNN" */
        f = H5Fcreate(file, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    if (f < 0) st = zoo_error(ZOO_ERR_IO, "%s: cannot create it (%s)", file, h5_reason(why));
    float *buf = NULL;
    size_t cap = 0;
    for (int i = 0; !st && i < n; i++) {
        if (!grow(&buf, &cap, ds_numel(&ds[i]))) {
            st = zoo_error(ZOO_ERR_NOMEM, "%s: %s: out of memory", file, ds[i].name);
            break;
        }
        convert(&ds[i], buf, false);
        hid_t space = H5Screate_simple(ds[i].ndim, ds[i].dims, NULL), d = -1;
        if (space >= 0)
            d = H5Dcreate2(f, ds[i].name, H5T_IEEE_F32LE, space, lcpl, H5P_DEFAULT, H5P_DEFAULT);
        if (d < 0 || H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0)
            st = zoo_error(ZOO_ERR_IO, "%s: %s: cannot write it (%s)", file, ds[i].name,
                           h5_reason(why));
        if (d >= 0) H5Dclose(d);
        if (space >= 0) H5Sclose(space);
    }
    free(buf);
    free(ds);
    /* the superblock's end of file is written only by a flush */
    ssize_t size = -1;
    if (!st && H5Fflush(f, H5F_SCOPE_GLOBAL) >= 0) size = H5Fget_file_image(f, NULL, 0);
    if (!st && size > 0 && !(*image = malloc((size_t)size)))
        st = zoo_error(ZOO_ERR_NOMEM, "%s: out of memory", file);
    else if (!st && (size <= 0 || H5Fget_file_image(f, *image, (size_t)size) != size))
        st = zoo_error(ZOO_ERR_IO, "%s: cannot finish it (%s)", file, h5_reason(why));
    if (f >= 0) H5Fclose(f);
    if (lcpl >= 0) H5Pclose(lcpl);
    if (fapl >= 0) H5Pclose(fapl);
    h5_restore(q);
    if (st) free(*image), *image = NULL;
    *len = st ? 0 : (size_t)size;
    return st;
}
