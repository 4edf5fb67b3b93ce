#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zoo/io.h"
#include "zoo/status.h"

/* What a file that is not a regular one is, for messages. */
static const char *file_kind(mode_t mode) {
    if (S_ISDIR(mode)) return "a directory";
    if (S_ISCHR(mode)) return "a character device";
    if (S_ISBLK(mode)) return "a block device";
    if (S_ISFIFO(mode)) return "a FIFO";
    if (S_ISSOCK(mode)) return "a socket";
    if (S_ISLNK(mode)) return "a symbolic link";
    return "not a regular file";
}

static int not_regular(const char *path, mode_t mode) {
    const char *kind = file_kind(mode);
    if (strcmp(kind, "not a regular file") == 0)
        return zoo_error(ZOO_ERR_IO, "%s: not a regular file", path);
    return zoo_error(ZOO_ERR_IO, "%s: is %s, not a regular file", path, kind);
}

/* "64 MiB" for a cap that is a whole number of them, else bytes */
static void format_bytes(char *buf, size_t n, uint64_t bytes) {
    static const char *units[] = {"bytes", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (u < 4 && bytes >= 1024 && bytes % 1024 == 0) bytes /= 1024, u++;
    snprintf(buf, n, "%llu %s", (unsigned long long)bytes, units[u]);
}

static int too_large(const char *path, uint64_t size, uint64_t max_bytes) {
    char cap[32];
    format_bytes(cap, sizeof cap, max_bytes);
    return zoo_error(ZOO_ERR_FORMAT,
                     "%s: %llu bytes, more than the %s a file of this kind can need", path,
                     (unsigned long long)size, cap);
}

int zoo_open_regular(const char *path, uint64_t max_bytes, int *fd, uint64_t *size) {
    *fd = -1;
    int d = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (d < 0) return zoo_error(ZOO_ERR_IO, "%s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(d, &st) != 0) {
        int e = errno;
        close(d);
        return zoo_error(ZOO_ERR_IO, "%s: %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(d);
        return not_regular(path, st.st_mode);
    }
    if ((uint64_t)st.st_size > max_bytes) {
        close(d);
        return too_large(path, (uint64_t)st.st_size, max_bytes);
    }
    int flags = fcntl(d, F_GETFL);
    if (flags >= 0) fcntl(d, F_SETFL, flags & ~O_NONBLOCK);
    *fd = d;
    if (size) *size = (uint64_t)st.st_size;
    return ZOO_OK;
}

char *zoo_read_file_max(const char *path, size_t *len, uint64_t max_bytes) {
    int fd;
    uint64_t expect;
    if (zoo_open_regular(path, max_bytes, &fd, &expect) != ZOO_OK) return NULL;
    if (expect > SIZE_MAX - 2) {
        close(fd);
        zoo_error(ZOO_ERR_NOMEM, "%s: too large to hold in memory", path);
        return NULL;
    }
    /* sized by fstat, grown only if the file grows while it is read; a
     * file grown past the cap is refused like one that was too large */
    size_t size = 0, cap = (size_t)expect + 2;
    char *data = malloc(cap);
    for (;;) {
        if (!data) {
            close(fd);
            zoo_error(ZOO_ERR_NOMEM, "%s: out of memory reading it", path);
            return NULL;
        }
        if (size == cap - 1) {
            if ((uint64_t)size > max_bytes) {
                close(fd);
                free(data);
                too_large(path, (uint64_t)size, max_bytes);
                return NULL;
            }
            size_t more = cap < SIZE_MAX / 2 ? cap * 2 : SIZE_MAX;
            char *grown = realloc(data, more);
            if (!grown) free(data);
            data = grown, cap = more;
            continue;
        }
        ssize_t got = read(fd, data + size, cap - size - 1);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) {
            int e = errno;
            close(fd);
            free(data);
            zoo_error(ZOO_ERR_IO, "%s: read error: %s", path, strerror(e));
            return NULL;
        }
        if (got == 0) break;
        size += (size_t)got;
    }
    close(fd);
    if ((uint64_t)size > max_bytes) {
        free(data);
        too_large(path, (uint64_t)size, max_bytes);
        return NULL;
    }
    data[size] = '\0';
    if (len) *len = size;
    return data;
}

char *zoo_read_file(const char *path, size_t *len) {
    return zoo_read_file_max(path, len, ZOO_READ_MAX_FILE);
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
    char *path, *target, *tmp; /* target: path, or the file a link at path names */
    int fd;
    int err;          /* the errno of the first failure, 0 while all is well */
    const char *what; /* the call that failed: "write", "fsync", "close", "rename" */
    size_t used;
    unsigned char buffer[ATOMIC_BUFFER];
};

/* The file the rename will replace: path itself, or for a symbolic link the
 * file it finally names (written through, the link kept). *target from
 * malloc. Refused: an existing target that is not a regular file, a dangling
 * link. */
static int atomic_target(const char *path, char **target) {
    *target = NULL;
    struct stat st;
    if (lstat(path, &st) != 0) {
        /* a new file; where one cannot be made, the temporary file's creation says why */
        if (errno != ENOENT && errno != ENOTDIR)
            return zoo_error(ZOO_ERR_IO, "%s: %s", path, strerror(errno));
        *target = strdup(path);
    } else if (S_ISLNK(st.st_mode)) {
        char *real = realpath(path, NULL);
        if (!real)
            return zoo_error(ZOO_ERR_IO, "%s: a symbolic link that cannot be followed: %s", path,
                             strerror(errno));
        int bad = stat(real, &st) != 0 ? zoo_error(ZOO_ERR_IO, "%s: %s", real, strerror(errno))
                  : !S_ISREG(st.st_mode)
                      ? zoo_error(ZOO_ERR_IO,
                                  "%s: a symbolic link to %s, which is %s, not a regular file: "
                                  "not replaced",
                                  path, real, file_kind(st.st_mode))
                      : ZOO_OK;
        if (bad != ZOO_OK) {
            free(real);
            return bad;
        }
        *target = real;
    } else if (!S_ISREG(st.st_mode)) {
        return zoo_error(ZOO_ERR_IO, "%s: is %s, not a regular file: not replaced", path,
                         file_kind(st.st_mode));
    } else {
        *target = strdup(path);
    }
    return *target ? ZOO_OK : zoo_error(ZOO_ERR_NOMEM, "%s: out of memory", path);
}

int zoo_atomic_file_open(const char *path, zoo_atomic_file **out) {
    *out = NULL;
    char *target;
    int status = atomic_target(path, &target);
    if (status != ZOO_OK) return status;
    size_t tlen = strlen(target);
    zoo_atomic_file *f = malloc(sizeof *f);
    char *copy = strdup(path), *tmp = malloc(tlen + 16);
    if (!f || !copy || !tmp) {
        free(f), free(copy), free(tmp), free(target);
        return zoo_error(ZOO_ERR_NOMEM, "%s: out of memory", path);
    }
    snprintf(tmp, tlen + 16, "%s.tmp.XXXXXX", target);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        int st = zoo_error(ZOO_ERR_IO, "%s: cannot create a temporary file beside it: %s", target,
                           strerror(errno));
        free(f), free(copy), free(tmp), free(target);
        return st;
    }
    f->path = copy, f->target = target, f->tmp = tmp, f->fd = fd, f->err = 0, f->used = 0;
    f->what = "write";
    *out = f;
    return ZOO_OK;
}

/* The message of a failed save: the file named, the call that failed and why
 * (the old content is kept, the temporary file removed). */
static int atomic_failed(zoo_atomic_file *f) {
    return zoo_error(ZOO_ERR_IO, "%s: %s failed: %s", f->path, f->what, strerror(f->err));
}

/* Records the first failure only: later calls return its message. */
static void atomic_fail(zoo_atomic_file *f, const char *what, int err) {
    if (f->err) return;
    f->err = err ? err : EIO;
    f->what = what;
}

static void atomic_flush(zoo_atomic_file *f) {
    if (!f->err && f->used > 0 && write_all(f->fd, f->buffer, f->used) != 0)
        atomic_fail(f, "write", errno);
    f->used = 0;
}

int zoo_atomic_file_write(zoo_atomic_file *f, const void *data, size_t len) {
    if (!f->err && len > ATOMIC_BUFFER - f->used) {
        atomic_flush(f);
        if (!f->err && len >= ATOMIC_BUFFER && write_all(f->fd, data, len) != 0)
            atomic_fail(f, "write", errno);
        if (len >= ATOMIC_BUFFER) len = 0;
    }
    if (f->err) return atomic_failed(f);
    if (len > 0) memcpy(f->buffer + f->used, data, len); /* data may be NULL when len is 0 */
    f->used += len;
    return ZOO_OK;
}

static void atomic_free(zoo_atomic_file *f) {
    free(f->path);
    free(f->target);
    free(f->tmp);
    free(f);
}

void zoo_atomic_file_abort(zoo_atomic_file *f) {
    if (!f) return;
    close(f->fd);
    unlink(f->tmp);
    atomic_free(f);
}

/* fsync of the directory holding path: what makes a rename in it (or a new
 * link) durable. Filesystems that cannot sync a directory say EINVAL; that
 * is not a failure of the save. */
static int sync_dir_of(const char *path) {
    char *copy = strdup(path);
    if (!copy) return ENOMEM;
    int dfd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    free(copy);
    if (dfd < 0) return 0; /* an unreadable directory: nothing to sync it through */
    int err = fsync(dfd) != 0 && errno != EINVAL ? errno : 0;
    close(dfd);
    return err;
}

int zoo_atomic_file_commit(zoo_atomic_file *f) {
    atomic_flush(f);
    /* the data on disk before the name: a crash after the rename must not
     * find the new name on a file whose blocks were never written */
    if (!f->err && fsync(f->fd) != 0) atomic_fail(f, "fsync", errno);
    fchmod(f->fd, 0644);
    if (close(f->fd) != 0) atomic_fail(f, "close", errno);
    if (!f->err && rename(f->tmp, f->target) != 0) atomic_fail(f, "rename", errno);
    if (f->err) {
        unlink(f->tmp);
        int st = atomic_failed(f);
        atomic_free(f);
        return st;
    }
    /* the rename itself is durable only once the directory is synced */
    int err = sync_dir_of(f->target);
    int st = err ? zoo_error(ZOO_ERR_IO,
                             "%s: written, but the fsync of its directory failed: %s (the new "
                             "content may not survive a crash)",
                             f->path, strerror(err))
                 : ZOO_OK;
    atomic_free(f);
    return st;
}

int zoo_write_file_atomic(const char *path, const void *data, size_t len) {
    zoo_atomic_file *f;
    int st = zoo_atomic_file_open(path, &f);
    if (st == ZOO_OK) st = zoo_atomic_file_write(f, data, len);
    if (st == ZOO_OK) return zoo_atomic_file_commit(f);
    zoo_atomic_file_abort(f);
    return st;
}

int zoo_rename_synced(const char *from, const char *to) {
    int fd = open(from, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return zoo_error(ZOO_ERR_IO, "%s: %s", from, strerror(errno));
    int err = fsync(fd) != 0 ? errno : 0;
    close(fd);
    if (err) return zoo_error(ZOO_ERR_IO, "%s: fsync failed: %s", from, strerror(err));
    if (rename(from, to) != 0)
        return zoo_error(ZOO_ERR_IO, "%s: rename to %s failed: %s", from, to, strerror(errno));
    if ((err = sync_dir_of(to)))
        return zoo_error(ZOO_ERR_IO,
                         "%s: renamed, but the fsync of its directory failed: %s (the new name "
                         "may not survive a crash)",
                         to, strerror(err));
    return ZOO_OK;
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
