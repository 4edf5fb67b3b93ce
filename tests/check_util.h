/* Helpers shared by the Check suites: random tensors, closeness, and the
 * finite-difference gradient check every operator's backward is held to. */
#ifndef ZOO_CHECK_UTIL_H
#define ZOO_CHECK_UTIL_H

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "zoo/zoo.h"

/* Each test file defines its suite; check_main.c runs it. */
Suite *make_suite(void);

/* A parameter in `p` with the given shape, filled uniformly in [lo, hi). */
zoo_tensor *rand_param(zoo_params *p, zoo_rng *rng, const char *name, int ndim,
                       const int64_t *shape, float lo, float hi);
#define RAND_PARAM(p, rng, name, lo, hi, ...)                                                      \
    rand_param((p), (rng), (name), ZOO_NDIM(__VA_ARGS__), ZOO_SHAPE(__VA_ARGS__), (lo), (hi))

/* Asserts |a[i] - b[i]| <= atol + rtol * max(|a[i]|, |b[i]|) for every i,
 * naming the first index that fails. */
#define ck_assert_floats_close(a, b, n, atol, rtol)                                                \
    assert_floats_close_at(__FILE__, __LINE__, (a), (b), (n), (atol), (rtol))
void assert_floats_close_at(const char *file, int line, const float *a, const float *b, int64_t n,
                            double atol, double rtol);

/* The output under test, built on g from the test's own inputs. */
typedef zoo_gradcheck_build_fn gradcheck_build_fn;

typedef struct gradcheck_opts {
    double eps;     /* central difference step (default 5e-3) */
    double atol;    /* default 1e-3 */
    double rtol;    /* default 5e-3 */
    int max_checks; /* elements checked per input, chosen at random (default 256) */
} gradcheck_opts;

/* zoo_gradcheck (zoo/gradcheck.h) with these options (0: the default),
 * failing the test with its message (the parameter, the element, both
 * values) unless every gradient agrees. */
void gradcheck(zoo_params *inputs, gradcheck_build_fn build, void *ctx, const gradcheck_opts *opts);

/* A plugin of the build tree's registry (the test fails when it does not
 * load), and its release; a model imported from a HuggingFace directory. */
typedef struct zoo_loaded zoo_loaded;
typedef struct zoo_host_model zoo_host_model;
zoo_loaded *load_built_plugin(const char *name);
void unload_built_plugin(zoo_loaded *p);
zoo_host_model *import_hf_model(zoo_loaded *p, const char *dir);

/* A new file under /tmp holding text, its name ("/tmp/STEM.XXXXXX" made
 * unique) into path[size]; the test removes it. */
void write_temp_file(char *path, size_t size, const char *stem, const char *text);

/* A new empty directory "/tmp/STEM.XXXXXX" (made unique) into dir[size];
 * remove_temp_dir removes it and everything under it (links, not their targets). */
void make_temp_dir(char *dir, size_t size, const char *stem);
void remove_temp_dir(const char *dir);

/* dir/name holding text; the path, in one of 8 static buffers used in turn. */
const char *write_in_dir(const char *dir, const char *name, const char *text);

/* A tokenizer of `type` trained on text (through a temporary file); s may be NULL. */
zoo_tokenizer *tokenizer_from_text(const char *type, const zoo_tokenizer_settings *s,
                                   const char *text);

/* ../shared/data/<rel> if it exists (ZOO_SHARED_DATA overrides the root), else NULL. */
const char *shared_data_path(const char *rel, char *buf, size_t size);

#endif
