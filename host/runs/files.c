#include "files.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "zoo/io.h"
#include "zoo/status.h"

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
        if (numel == 0)
            why = "the shape has more elements than fit in memory";
        else if ((size_t)numel * 4 != len - start - hlen)
            why = "the data size does not match the shape";
        else if ((t = zoo_tensor_new(g, dtype, ndim, shape)))
            memcpy(t->data, data + start + hlen, (size_t)numel * 4);
    }
    if (why) zoo_error(ZOO_ERR_FORMAT, "%s: %s", path, why);
    free(data);
    return t;
}

int zoo_sha256_file(const char *path, char hex[65]) {
    int fd;
    int status = zoo_open_regular(path, UINT64_MAX, &fd, NULL);
    if (status != ZOO_OK) return status;
    FILE *f = fdopen(fd, "rb");
    if (!f) {
        close(fd);
        return zoo_error(ZOO_ERR_NOMEM, "%s: %s", path, strerror(errno));
    }
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
