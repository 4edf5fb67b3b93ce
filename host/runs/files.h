/* The host's file helpers: paths relative to a config file, NumPy .npy
 * arrays for other tools (zoo forward, zoo embed), and SHA-256 for pinned
 * plugin libraries. Errors come back as a zoo_status with a message naming
 * the file. */
#ifndef ZOO_HOST_FILES_H
#define ZOO_HOST_FILES_H

#include "zoo/tensor.h"

/* `rel` resolved against the directory of `base_file` (unchanged when
 * absolute); from malloc. */
char *zoo_path_relative_to(const char *base_file, const char *rel);

/* A float32 or int32 tensor as a NumPy .npy file (version 1.0, little-endian,
 * C order), written atomically. */
int zoo_npy_write(const char *path, const zoo_tensor *t);
/* Reads a .npy of dtype <f4 or <i4 and up to 4 dimensions into a new tensor
 * of g; NULL with a message naming the file, the header's field and what is
 * wrong. The shape is checked against the data the file holds before
 * anything is allocated (a dimension below 1, a product that overflows or
 * exceeds the data, text that is not a shape are refused). */
zoo_tensor *zoo_npy_read(zoo_graph *g, const char *path);

/* SHA-256 of a file as 64 lower-case hex digits plus NUL into hex[65]. */
int zoo_sha256_file(const char *path, char hex[65]);

#endif
