#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zoo/io.h"
#include "zoo/status.h"

char *zoo_read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        zoo_error(ZOO_ERR_IO, "%s: %s", path, strerror(errno));
        return NULL;
    }
    char *data = NULL;
    size_t size = 0, cap = 0;
    for (;;) {
        if (cap - size < 65536) {
            cap = cap ? cap * 2 : 65536 + 1;
            char *grown = realloc(data, cap);
            if (!grown) {
                free(data);
                fclose(f);
                zoo_error(ZOO_ERR_NOMEM, "%s: out of memory reading it", path);
                return NULL;
            }
            data = grown;
        }
        size_t got = fread(data + size, 1, cap - size - 1, f);
        size += got;
        if (got == 0) break;
    }
    bool failed = ferror(f);
    fclose(f);
    if (failed) {
        free(data);
        zoo_error(ZOO_ERR_IO, "%s: read error", path);
        return NULL;
    }
    data[size] = '\0';
    if (len) *len = size;
    return data;
}

static int write_all(int fd, const void *data, size_t len) {
    const char *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR) continue;
        if (n == 0) errno = EIO;
        if (n <= 0) return -1;
        p += n, len -= (size_t)n;
    }
    return 0;
}

enum { ATOMIC_BUFFER = 1 << 16 };

struct zoo_atomic_file {
    char *path, *tmp;
    int fd;
    int err; /* the errno of the first failure, 0 while all is well */
    size_t used;
    unsigned char buffer[ATOMIC_BUFFER];
};

int zoo_atomic_file_open(const char *path, zoo_atomic_file **out) {
    *out = NULL;
    size_t plen = strlen(path);
    zoo_atomic_file *f = malloc(sizeof *f);
    char *copy = strdup(path), *tmp = malloc(plen + 16);
    if (!f || !copy || !tmp) {
        free(f), free(copy), free(tmp);
        return zoo_error(ZOO_ERR_NOMEM, "%s: out of memory", path);
    }
    snprintf(tmp, plen + 16, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        int st = zoo_error(ZOO_ERR_IO, "%s: cannot create a temporary file beside it: %s", path,
                           strerror(errno));
        free(f), free(copy), free(tmp);
        return st;
    }
    f->path = copy, f->tmp = tmp, f->fd = fd, f->err = 0, f->used = 0;
    *out = f;
    return ZOO_OK;
}

static int atomic_failed(zoo_atomic_file *f) {
    return zoo_error(ZOO_ERR_IO, "%s: write failed: %s", f->path, strerror(f->err));
}

static void atomic_flush(zoo_atomic_file *f) {
    if (!f->err && f->used > 0 && write_all(f->fd, f->buffer, f->used) != 0) f->err = errno;
    f->used = 0;
}

int zoo_atomic_file_write(zoo_atomic_file *f, const void *data, size_t len) {
    if (!f->err && len > ATOMIC_BUFFER - f->used) {
        atomic_flush(f);
        if (!f->err && len >= ATOMIC_BUFFER && write_all(f->fd, data, len) != 0) f->err = errno;
        if (len >= ATOMIC_BUFFER) len = 0;
    }
    if (f->err) return atomic_failed(f);
    if (len > 0) memcpy(f->buffer + f->used, data, len); /* data may be NULL when len is 0 */
    f->used += len;
    return ZOO_OK;
}

static void atomic_free(zoo_atomic_file *f) {
    free(f->path);
    free(f->tmp);
    free(f);
}

void zoo_atomic_file_abort(zoo_atomic_file *f) {
    if (!f) return;
    close(f->fd);
    unlink(f->tmp);
    atomic_free(f);
}

int zoo_atomic_file_commit(zoo_atomic_file *f) {
    atomic_flush(f);
    if (!f->err && fsync(f->fd) != 0) f->err = errno;
    fchmod(f->fd, 0644);
    if (close(f->fd) != 0 && !f->err) f->err = errno;
    if (!f->err && rename(f->tmp, f->path) != 0) f->err = errno;
    if (f->err) {
        unlink(f->tmp);
        int st = atomic_failed(f);
        atomic_free(f);
        return st;
    }
    /* the rename itself is durable only once the directory is synced */
    int dfd = open(dirname(f->tmp), O_RDONLY | O_DIRECTORY);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    atomic_free(f);
    return ZOO_OK;
}

int zoo_write_file_atomic(const char *path, const void *data, size_t len) {
    zoo_atomic_file *f;
    int st = zoo_atomic_file_open(path, &f);
    if (st == ZOO_OK) st = zoo_atomic_file_write(f, data, len);
    if (st == ZOO_OK) return zoo_atomic_file_commit(f);
    zoo_atomic_file_abort(f);
    return st;
}

int zoo_make_dirs(const char *path) {
    char buf[4096];
    if (!path || !path[0]) return zoo_error(ZOO_ERR_ARG, "zoo_make_dirs: an empty directory name");
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return zoo_error(ZOO_ERR_ARG, "%s: path too long", path);
    for (char *p = buf + 1;; p++) {
        if (*p != '/' && *p != '\0') continue;
        char c = *p;
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return zoo_error(ZOO_ERR_IO, "%s: %s", buf, strerror(errno));
        *p = c;
        if (!c) break;
    }
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        return zoo_error(ZOO_ERR_IO, "%s: not a directory", path);
    return ZOO_OK;
}
