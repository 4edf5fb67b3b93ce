/* What the fuzz targets share: a private scratch directory for parsers that
 * take a path, and the split of one input into two files.
 *
 * Every target defines LLVMFuzzerTestOneInput and nothing else global; it is
 * linked either with libFuzzer (-fsanitize=fuzzer, ZOO_FUZZ=ON) or with
 * replay.c, a main() that feeds it files (the normal build's ctest). A target
 * must leave nothing behind per input: every parse result is freed, so that
 * LeakSanitizer's report names the parser that leaked. */
#ifndef ZOO_FUZZ_UTIL_H
#define ZOO_FUZZ_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "zoo/status.h"

/* The scratch directory (mode 0700, made once per process under $TMPDIR or
 * /tmp, removed at exit with what is in it): a directory of our own, so that
 * the permission checks a parser makes (no group- or world-writable files)
 * see an ordinary private file. */
static char fuzz_dir_path[256];
static char fuzz_written[8][300];
static int fuzz_n_written;

static inline void fuzz_cleanup(void) {
    for (int i = 0; i < fuzz_n_written; i++) unlink(fuzz_written[i]);
    if (fuzz_dir_path[0]) rmdir(fuzz_dir_path);
}

static inline const char *fuzz_dir(void) {
    if (!fuzz_dir_path[0]) {
        const char *tmp = getenv("TMPDIR");
        snprintf(fuzz_dir_path, sizeof fuzz_dir_path, "%s/zoo-fuzz.XXXXXX",
                 tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(fuzz_dir_path)) {
            perror("fuzz: mkdtemp");
            abort();
        }
        atexit(fuzz_cleanup);
    }
    return fuzz_dir_path;
}

/* Writes data[0..size) to DIR/name (replacing it) and returns its path, valid
 * until the next call with the same name. Aborts when it cannot: the fuzzer
 * would otherwise test nothing. */
static inline const char *fuzz_write(const char *name, const void *data, size_t size) {
    static char path[8][300];
    int slot = -1;
    for (int i = 0; i < fuzz_n_written; i++)
        if (strcmp(strrchr(fuzz_written[i], '/') + 1, name) == 0) slot = i;
    if (slot < 0) {
        if (fuzz_n_written == 8) abort();
        slot = fuzz_n_written++;
        snprintf(fuzz_written[slot], sizeof fuzz_written[slot], "%s/%s", fuzz_dir(), name);
    }
    snprintf(path[slot], sizeof path[slot], "%s", fuzz_written[slot]);
    FILE *f = fopen(path[slot], "wb");
    if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0) {
        perror(path[slot]);
        abort();
    }
    return path[slot];
}

/* Where a two-file input (GPT-2's vocab.json + merges.txt) is cut: the first
 * FUZZ_SEPARATOR; without one, everything is the first file and the second
 * is empty. */
#define FUZZ_SEPARATOR "\n#####\n"

static inline void fuzz_split(const uint8_t *data, size_t size, size_t *first,
                              const uint8_t **second, size_t *second_size) {
    size_t n = sizeof FUZZ_SEPARATOR - 1;
    *first = size, *second = data + size, *second_size = 0;
    for (size_t i = 0; i + n <= size; i++)
        if (memcmp(data + i, FUZZ_SEPARATOR, n) == 0) {
            *first = i, *second = data + i + n, *second_size = size - i - n;
            return;
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
