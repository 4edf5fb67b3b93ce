/* Fault injection for the save tests (tests/cli/test_saves.sh): a library
 * LD_PRELOADed into zoo that counts the calls a save makes on files under one
 * directory and, at the N-th, kills the process or makes that call and every
 * later one fail. Not part of zoo: built for the tests only.
 *
 * Environment:
 *   ZOO_FAULT_PATH    only calls on paths that start with it count (a write
 *                     or fsync by the path its descriptor has in
 *                     /proc/self/fd); unset: nothing is counted or changed
 *   ZOO_FAULT_CALLS   the kinds counted, comma-separated: write, fsync,
 *                     rename, link, unlink (default: all)
 *   ZOO_FAULT_AT      the counted call that faults (1 is the first); unset or
 *                     0: none does
 *   ZOO_FAULT_ACTION  kill (SIGKILL, before the call is made; default) or
 *                     fail (that call and every later counted one return -1)
 *   ZOO_FAULT_ERRNO   the errno of a failing call: ENOSPC (default), EIO,
 *                     EDQUOT or EFBIG
 *   ZOO_FAULT_CHUNK   a counted write writes at most this many bytes (a
 *                     short write, which POSIX allows): a save makes many
 *                     calls, each a point to fault at
 *   ZOO_FAULT_COUNT   a file that gets the number of counted calls when the
 *                     process exits normally */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { K_WRITE = 1, K_FSYNC = 2, K_RENAME = 4, K_LINK = 8, K_UNLINK = 16 };

static struct {
    int ready;
    const char *prefix;
    size_t prefix_len;
    int kinds;
    long at, count;
    int fail; /* 0: kill; 1: fail; 2: failing from now on */
    int err;
    size_t chunk;
    const char *count_file;
    ssize_t (*write)(int, const void *, size_t);
    int (*fsync)(int);
    int (*fdatasync)(int);
    int (*rename)(const char *, const char *);
    int (*renameat)(int, const char *, int, const char *);
    int (*link)(const char *, const char *);
    int (*unlink)(const char *);
} F;

static void setup(void) {
    if (F.ready) return;
    F.write = (ssize_t(*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
    F.fsync = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
    F.fdatasync = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
    F.rename = (int (*)(const char *, const char *))dlsym(RTLD_NEXT, "rename");
    F.renameat = (int (*)(int, const char *, int, const char *))dlsym(RTLD_NEXT, "renameat");
    F.link = (int (*)(const char *, const char *))dlsym(RTLD_NEXT, "link");
    F.unlink = (int (*)(const char *))dlsym(RTLD_NEXT, "unlink");
    F.prefix = getenv("ZOO_FAULT_PATH");
    F.prefix_len = F.prefix ? strlen(F.prefix) : 0;
    const char *calls = getenv("ZOO_FAULT_CALLS");
    static const struct {
        const char *name;
        int kind;
    } kinds[] = {{"write", K_WRITE},
                 {"fsync", K_FSYNC},
                 {"rename", K_RENAME},
                 {"link", K_LINK},
                 {"unlink", K_UNLINK}};
    for (int i = 0; i < 5; i++)
        if (!calls || strstr(calls, kinds[i].name)) F.kinds |= kinds[i].kind;
    const char *at = getenv("ZOO_FAULT_AT");
    F.at = at ? atol(at) : 0;
    const char *action = getenv("ZOO_FAULT_ACTION");
    F.fail = action && strcmp(action, "fail") == 0;
    const char *e = getenv("ZOO_FAULT_ERRNO");
    F.err = !e                         ? ENOSPC
            : strcmp(e, "EIO") == 0    ? EIO
            : strcmp(e, "EDQUOT") == 0 ? EDQUOT
            : strcmp(e, "EFBIG") == 0  ? EFBIG
                                       : ENOSPC;
    const char *chunk = getenv("ZOO_FAULT_CHUNK");
    F.chunk = chunk ? (size_t)atol(chunk) : 0;
    F.count_file = getenv("ZOO_FAULT_COUNT");
    F.ready = 1;
}

static int under(const char *path) {
    return F.prefix && path && strncmp(path, F.prefix, F.prefix_len) == 0;
}

static int fd_under(int fd) {
    if (!F.prefix) return 0;
    char link[64], path[4096];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof path - 1);
    if (n < 0) return 0;
    path[n] = '\0';
    return under(path);
}

/* A counted call: 0 to make it, -1 (errno set) to fail it; SIGKILL at the chosen one. */
static int fault(int kind, int counted) {
    if (!counted || !(F.kinds & kind)) return 0;
    F.count++;
    if (F.fail == 2) {
        errno = F.err;
        return -1;
    }
    if (F.at <= 0 || F.count != F.at) return 0;
    if (!F.fail) raise(SIGKILL);
    F.fail = 2;
    errno = F.err;
    return -1;
}

ssize_t write(int fd, const void *buf, size_t len) {
    setup();
    int counted = fd > 2 && fd_under(fd);
    if (fault(K_WRITE, counted)) return -1;
    if (counted && F.chunk > 0 && len > F.chunk) len = F.chunk;
    return F.write(fd, buf, len);
}

int fsync(int fd) {
    setup();
    if (fault(K_FSYNC, fd_under(fd))) return -1;
    return F.fsync(fd);
}

int fdatasync(int fd) {
    setup();
    if (fault(K_FSYNC, fd_under(fd))) return -1;
    return F.fdatasync(fd);
}

/* Relative paths are taken from the working directory (the tests pass absolute ones). */
static int path_under(const char *path) {
    if (path[0] == '/') return under(path);
    char cwd[4096], full[8300];
    if (!getcwd(cwd, sizeof cwd)) return 0;
    snprintf(full, sizeof full, "%s/%s", cwd, path);
    return under(full);
}

int rename(const char *from, const char *to) {
    setup();
    if (fault(K_RENAME, path_under(from) || path_under(to))) return -1;
    return F.rename(from, to);
}

int renameat(int dfrom, const char *from, int dto, const char *to) {
    setup();
    if (fault(K_RENAME, path_under(from) || path_under(to))) return -1;
    return F.renameat(dfrom, from, dto, to);
}

int link(const char *from, const char *to) {
    setup();
    if (fault(K_LINK, path_under(from) || path_under(to))) return -1;
    return F.link(from, to);
}

int unlink(const char *path) {
    setup();
    if (fault(K_UNLINK, path_under(path))) return -1;
    return F.unlink(path);
}

__attribute__((destructor)) static void report(void) {
    setup();
    if (!F.count_file) return;
    char text[32];
    int n = snprintf(text, sizeof text, "%ld\n", F.count);
    int fd = open(F.count_file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) return;
    if (F.write(fd, text, (size_t)n) != n) F.count = -1;
    close(fd);
}
