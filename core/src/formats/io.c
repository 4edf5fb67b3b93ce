#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <openssl/evp.h>
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

char *zoo_path_relative_to(const char *base_file, const char *rel) {
    if (rel[0] == '/') return strdup(rel);
    const char *slash = strrchr(base_file, '/');
    if (!slash) return strdup(rel);
    size_t dir_len = (size_t)(slash - base_file);
    char *out = malloc(dir_len + 1 + strlen(rel) + 1);
    if (out) sprintf(out, "%.*s/%s", (int)dir_len, base_file, rel);
    return out;
}

/* --- .npy ---------------------------------------------------------------- */

int zoo_npy_write(const char *path, const zoo_tensor *t) {
    char header[256];
    int n = snprintf(header, sizeof header, "{'descr': '%s', 'fortran_order': False, 'shape': (",
                     t->dtype == ZOO_F32 ? "<f4" : "<i4");
    for (int i = 0; i < t->ndim; i++)
        n += snprintf(header + n, sizeof header - (size_t)n, "%lld,%s", (long long)t->shape[i],
                      i + 1 < t->ndim ? " " : "");
    if (t->ndim > 1) n--; /* a 1-tuple keeps its comma, others do not */
    n += snprintf(header + n, sizeof header - (size_t)n, "), }");
    /* magic (6) + version (2) + length (2) + header + padding + '\n', a multiple of 64 */
    size_t total_header = ((size_t)(10 + n + 1) + 63) / 64 * 64;
    size_t body = (size_t)t->numel * 4;
    unsigned char *buf = malloc(total_header + body);
    if (!buf) return zoo_error(ZOO_ERR_NOMEM, "%s: out of memory", path);
    memcpy(buf, "\x93NUMPY\x01\x00", 8);
    size_t hlen = total_header - 10;
    buf[8] = (unsigned char)(hlen & 0xff), buf[9] = (unsigned char)(hlen >> 8);
    memcpy(buf + 10, header, (size_t)n);
    memset(buf + 10 + n, ' ', hlen - (size_t)n - 1);
    buf[total_header - 1] = '\n';
    memcpy(buf + total_header, t->data, body); /* x86-64 and ARM64 are little-endian */
    int st = zoo_write_file_atomic(path, buf, total_header + body);
    free(buf);
    return st;
}

zoo_tensor *zoo_npy_read(zoo_graph *g, const char *path) {
    size_t len;
    char *data = zoo_read_file(path, &len);
    if (!data) return NULL;
    zoo_tensor *t = NULL;
    const char *why = NULL;
    if (len < 10 || memcmp(data, "\x93NUMPY", 6) != 0)
        why = "not a .npy file (no \\x93NUMPY magic)";
    size_t hlen = 0, start = 0;
    if (!why) {
        if (data[6] == 1)
            hlen = (unsigned char)data[8] | (size_t)(unsigned char)data[9] << 8, start = 10;
        else if (data[6] == 2 || data[6] == 3)
            hlen = (unsigned char)data[8] | (size_t)(unsigned char)data[9] << 8 |
                   (size_t)(unsigned char)data[10] << 16 | (size_t)(unsigned char)data[11] << 24,
            start = 12;
        else
            why = "unsupported .npy version";
    }
    if (!why && start + hlen > len) why = "truncated header";
    int64_t shape[ZOO_MAX_DIMS];
    int ndim = 0;
    zoo_dtype dtype = ZOO_F32;
    if (!why) {
        char *header = strndup(data + start, hlen);
        if (strstr(header, "'descr': '<f4'"))
            dtype = ZOO_F32;
        else if (strstr(header, "'descr': '<i4'"))
            dtype = ZOO_I32;
        else
            why = "dtype is not <f4 or <i4";
        if (!why && !strstr(header, "'fortran_order': False"))
            why = "Fortran order is not supported";
        char *p = strstr(header, "'shape': (");
        if (!why && !p) why = "no shape in the header";
        for (p = p ? p + 10 : NULL; !why && p && *p != ')';) {
            char *end;
            long long d = strtoll(p, &end, 10);
            if (end == p) break;
            if (ndim == ZOO_MAX_DIMS || d < 1)
                why = "shape has more than 4 dimensions or an empty one";
            else
                shape[ndim++] = d;
            p = end;
            while (*p == ',' || *p == ' ') p++;
        }
        if (!why && ndim == 0) why = "a 0-dimensional array";
        free(header);
    }
    if (!why) {
        int64_t numel = zoo_shape_numel(ndim, shape);
        if ((size_t)numel * 4 != len - start - hlen)
            why = "the data size does not match the shape";
        else if ((t = zoo_tensor_new(g, dtype, ndim, shape)))
            memcpy(t->data, data + start + hlen, (size_t)numel * 4);
    }
    if (why) zoo_error(ZOO_ERR_FORMAT, "%s: %s", path, why);
    free(data);
    return t;
}

int zoo_sha256_file(const char *path, char hex[65]) {
    FILE *f = fopen(path, "rb");
    if (!f) return zoo_error(ZOO_ERR_IO, "%s: %s", path, strerror(errno));
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
        EVP_MD_CTX_free(ctx);
        fclose(f);
        return zoo_error(ZOO_ERR_STATE, "%s: SHA-256 unavailable", path);
    }
    unsigned char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) EVP_DigestUpdate(ctx, buf, n);
    bool failed = ferror(f);
    fclose(f);
    unsigned char digest[32];
    unsigned int dlen = 0;
    EVP_DigestFinal_ex(ctx, digest, &dlen);
    EVP_MD_CTX_free(ctx);
    if (failed) return zoo_error(ZOO_ERR_IO, "%s: read error", path);
    for (int i = 0; i < 32; i++) sprintf(hex + 2 * i, "%02x", digest[i]);
    return ZOO_OK;
}
