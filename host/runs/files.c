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

/* The shape of a .npy header's "'shape': (2, 3, )" into shape[]; NULL, or
 * what is wrong with it. Each dimension is at least 1 and their product at
 * most `most` (what the file's data can hold), checked as it is formed, so a
 * shape whose product overflows is refused like any other that is too big. */
static const char *npy_shape(const char *header, int64_t most, int64_t shape[ZOO_MAX_DIMS],
                             int *ndim, char *why, size_t size) {
    const char *p = strstr(header, "'shape': (");
    if (!p) return "header: no 'shape'";
    p += 10;
    int64_t numel = 1;
    *ndim = 0;
    while (*p == ' ') p++;
    while (*p != ')') {
        char *end;
        errno = 0;
        long long d = strtoll(p, &end, 10);
        if (end == p || errno == ERANGE) {
            snprintf(why, size, "header: 'shape': dimension %d is not an integer", *ndim);
            return why;
        }
        if (d < 1) {
            snprintf(why, size, "header: 'shape': dimension %d is %lld; each must be at least 1",
                     *ndim, d);
            return why;
        }
        if (*ndim == ZOO_MAX_DIMS) return "header: 'shape': more than 4 dimensions";
        if (d > most / numel) {
            snprintf(why, size,
                     "header: 'shape': dimension %d (%lld) makes more elements than the file's "
                     "%lld bytes of data hold",
                     *ndim, d, (long long)most * 4);
            return why;
        }
        numel *= d;
        shape[(*ndim)++] = d;
        for (p = end; *p == ' ';) p++;
        if (*p == ',')
            for (p++; *p == ' ';) p++;
        else if (*p != ')') {
            snprintf(why, size, "header: 'shape': expected ',' or ')' after dimension %d",
                     *ndim - 1);
            return why;
        }
    }
    return *ndim == 0 ? "header: 'shape': a 0-dimensional array" : NULL;
}

zoo_tensor *zoo_npy_read(zoo_graph *g, const char *path) {
    size_t len;
    char *data = zoo_read_file(path, &len);
    if (!data) return NULL;
    zoo_tensor *t = NULL;
    const char *why = NULL;
    char buf[256];
    if (len < 10 || memcmp(data, "\x93NUMPY", 6) != 0)
        why = "not a .npy file (no \\x93NUMPY magic)";
    size_t hlen = 0, start = 0;
    if (!why) {
        if (data[6] == 1)
            hlen = (unsigned char)data[8] | (size_t)(unsigned char)data[9] << 8, start = 10;
        else if ((data[6] == 2 || data[6] == 3) && len >= 12)
            hlen = (unsigned char)data[8] | (size_t)(unsigned char)data[9] << 8 |
                   (size_t)(unsigned char)data[10] << 16 | (size_t)(unsigned char)data[11] << 24,
            start = 12;
        else
            snprintf(buf, sizeof buf, "version %d.%d: this reader knows 1.0, 2.0 and 3.0",
                     (unsigned char)data[6], (unsigned char)data[7]),
                why = buf;
    }
    if (!why && hlen > len - start) {
        snprintf(buf, sizeof buf, "header: %zu bytes, past the end of the file (%zu bytes follow)",
                 hlen, len - start);
        why = buf;
    }
    int64_t shape[ZOO_MAX_DIMS];
    int ndim = 0;
    zoo_dtype dtype = ZOO_F32;
    size_t body = len - start - hlen; /* when !why */
    if (!why) {
        char *header = strndup(data + start, hlen);
        if (!header)
            why = "out of memory";
        else if (strstr(header, "'descr': '<f4'"))
            dtype = ZOO_F32;
        else if (strstr(header, "'descr': '<i4'"))
            dtype = ZOO_I32;
        else
            why = "header: 'descr' is not '<f4' or '<i4' (float32 or int32, little-endian)";
        if (!why && !strstr(header, "'fortran_order': False"))
            why = "header: 'fortran_order' is not False (Fortran order is not supported)";
        if (!why) why = npy_shape(header, (int64_t)(body / 4), shape, &ndim, buf, sizeof buf);
        free(header);
    }
    if (!why) {
        size_t need = (size_t)zoo_shape_numel(ndim, shape) * 4; /* at most body: no overflow */
        if (need != body) {
            snprintf(buf, sizeof buf, "the shape needs %zu bytes of data, the file has %zu", need,
                     body);
            why = buf;
        } else if ((t = zoo_tensor_new(g, dtype, ndim, shape))) {
            memcpy(t->data, data + start + hlen, need);
        }
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
