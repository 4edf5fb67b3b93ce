/* The elmo plugin's import of an AllenNLP directory (plugins/elmo):
 * options.json (cJSON), vocab.txt, and zoo's own checks around weights.hdf5
 * (each dataset's presence, type and shape before any is read). libhdf5's
 * parser of the file itself is a trusted dependency of zoo's threat model, so
 * the HDF5 file is never raw fuzz input: it is the fixture elmo-tiny-a's
 * weights.hdf5, changed through libhdf5 by the input's third part.
 *
 * Input: options.json, FUZZ_SEPARATOR, vocab.txt (none when empty),
 * FUZZ_SEPARATOR, then 4-byte edits (dataset, kind, a, b) of the fixture's
 * datasets (in H5Ovisit's order): the dataset is deleted, then kind % 6
 * leaves it deleted (0), puts back floats of rank a % 4 + 1 with every
 * dimension b % 9 (1), integers (2) or strings (3) of its shape, a group in
 * its place (4), or floats of its shape with dimension a set to b (5). The
 * directory is then imported as zoo import does: config, model, weights,
 * tokenizer. Models are capped at 64 MiB of parameters (zoo_set_memory_limit)
 * so that an input asking for a large one is refused quickly. */
#include <hdf5.h>
#include <stdbool.h>

#include "elmo.h"
#include "fuzz_util.h"

/* the plugin's entry point, linked in from its objects */
const zoo_plugin *zoo_plugin_entry(void);

#define MAX_DATASETS 128

static char names[MAX_DATASETS][96];
static int n_names;
static uint8_t *fixture;
static size_t fixture_len;

static herr_t collect(hid_t obj, const char *name, const H5O_info_t *info, void *arg) {
    (void)obj, (void)arg;
    if (info->type == H5O_TYPE_DATASET && n_names < MAX_DATASETS)
        snprintf(names[n_names++], sizeof names[0], "%s", name);
    return 0;
}

static void setup(void) {
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL); /* libhdf5 would print every failure */
    const char *path = ZOO_FUZZ_ELMO_FIXTURE "/weights.hdf5";
    FILE *f = fopen(path, "rb");
    if (!f || fseek(f, 0, SEEK_END) != 0) abort();
    fixture_len = (size_t)ftell(f);
    rewind(f);
    fixture = malloc(fixture_len);
    if (!fixture || fread(fixture, 1, fixture_len, f) != fixture_len) abort();
    fclose(f);
    hid_t h = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (h < 0) abort();
#if H5_VERSION_GE(1, 12, 0)
    H5Ovisit3(h, H5_INDEX_NAME, H5_ITER_INC, collect, NULL, H5O_INFO_BASIC);
#else
    H5Ovisit(h, H5_INDEX_NAME, H5_ITER_INC, collect, NULL);
#endif
    H5Fclose(h);
    if (n_names == 0) abort();
    zoo_set_memory_limit((uint64_t)64 << 20);
}

/* Applies the edits to the copy of the fixture at path. */
static void edit(const char *path, const uint8_t *e, size_t n) {
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    if (f < 0) return;
    for (; n >= 4; e += 4, n -= 4) {
        const char *name = names[e[0] % n_names];
        hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
        if (d < 0) continue; /* deleted by an earlier edit */
        hid_t space = H5Dget_space(d);
        hsize_t dims[4] = {1, 1, 1, 1};
        int rank = H5Sget_simple_extent_dims(space, dims, NULL);
        H5Sclose(space);
        H5Dclose(d);
        if (rank < 1 || rank > 4 || H5Ldelete(f, name, H5P_DEFAULT) < 0) continue;
        hid_t type = H5T_NATIVE_FLOAT;
        switch (e[1] % 6) {
        case 0:
            continue;
        case 1:
            rank = e[2] % 4 + 1;
            for (int i = 0; i < rank; i++) dims[i] = e[3] % 9;
            break;
        case 2:
            type = H5T_NATIVE_INT32;
            break;
        case 3:
            type = H5T_C_S1;
            break;
        case 4:
            H5Gclose(H5Gcreate2(f, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
            continue;
        case 5:
            dims[e[2] % rank] = e[3];
            break;
        }
        space = H5Screate_simple(rank, dims, NULL);
        d = H5Dcreate2(f, name, type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        if (d >= 0) H5Dclose(d);
        H5Sclose(space);
    }
    H5Fclose(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!fixture) setup();
    size_t n_options, n_rest, n_vocab, n_edits;
    const uint8_t *rest, *edits;
    fuzz_split(data, size, &n_options, &rest, &n_rest);
    fuzz_split(rest, n_rest, &n_vocab, &edits, &n_edits);
    char dir[300];
    snprintf(dir, sizeof dir, "%s", fuzz_dir());
    fuzz_write("options.json", data, n_options);
    const char *vocab = fuzz_write("vocab.txt", rest, n_vocab);
    if (n_vocab == 0) unlink(vocab);
    const char *weights = fuzz_write("weights.hdf5", fixture, fixture_len);
    if (n_edits) edit(weights, edits, n_edits);

    const zoo_plugin *p = zoo_plugin_entry();
    zoo_hparams *hp = zoo_hparams_new(p->hparams, p->n_hparams);
    if (hp && elmo_import_config(dir, hp) == ZOO_OK) {
        zoo_params *params = zoo_params_new();
        zoo_rng rng;
        zoo_rng_seed(&rng, 1);
        zoo_model *m = NULL;
        if (params && p->ops->create(hp, params, &rng, &m) == ZOO_OK) {
            elmo_import_weights(m, params, dir);
            p->ops->destroy(m);
        }
        zoo_params_free(params);
    }
    zoo_hparams_free(hp);
    zoo_tokenizer *tok = NULL;
    elmo_import_tokenizer(dir, &tok);
    zoo_tokenizer_free(tok);
    return 0;
}
