/* A main() for the fuzz targets in the normal build: feeds each file named
 * on the command line (or each file of each directory named) to
 * LLVMFuzzerTestOneInput once, so that the seed corpora and the committed
 * crashers replay in ctest under the ordinary and the sanitizer builds.
 * A crash fails the test by itself; the exit status is 0 otherwise. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_util.h"

static int replay_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return 1;
    }
    size_t cap = 4096, n = 0, got;
    uint8_t *buf = malloc(cap);
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            uint8_t *bigger = realloc(buf, cap *= 2);
            if (!bigger) free(buf);
            buf = bigger;
        }
    }
    fclose(f);
    if (!buf) {
        fprintf(stderr, "%s: out of memory\n", path);
        return 1;
    }
    zoo_error_clear();
    LLVMFuzzerTestOneInput(buf, n);
    if (getenv("ZOO_FUZZ_VERBOSE")) {
        const char *why = zoo_error_message();
        printf("%s: %s\n", path, why && *why ? why : "(no error)");
    }
    free(buf);
    return 0;
}

static int by_name(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv) {
    int failed = 0, files = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) continue; /* a target without regressions yet */
        if (!S_ISDIR(st.st_mode)) {
            failed |= replay_file(argv[i]), files++;
            continue;
        }
        DIR *d = opendir(argv[i]);
        if (!d) {
            perror(argv[i]);
            return 1;
        }
        char *names[4096];
        int n = 0;
        for (struct dirent *e; (e = readdir(d)) && n < 4096;)
            if (e->d_name[0] != '.') names[n++] = strdup(e->d_name);
        closedir(d);
        qsort(names, (size_t)n, sizeof *names, by_name);
        for (int k = 0; k < n; k++) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", argv[i], names[k]);
            failed |= replay_file(path), files++;
            free(names[k]);
        }
    }
    printf("%d files replayed\n", files);
    return failed;
}
