/* safetensors: round trips, byte-exact agreement with HuggingFace's writer,
 * dtype conversions, every kind of damaged file, atomic writes, streaming. */
#include <dirent.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_util.h"
#include "zoo/io.h"
#include "zoo/safetensors.h"

/* --- counting allocations ------------------------------------------------
 * Writing and reading must stream and map, never hold a second copy of the
 * tensors. The test binary interposes malloc and friends and adds up the bytes
 * asked for while `counting` is on. AddressSanitizer owns malloc itself, so
 * under it that test is skipped. */
#if defined(__SANITIZE_ADDRESS__)
#define COUNTING_MALLOC 0
#else
#define COUNTING_MALLOC 1
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
static bool counting;
static size_t bytes_allocated;
#define COUNT(n) (counting ? (void)(bytes_allocated += (n)) : (void)0)
void *malloc(size_t n) {
    return COUNT(n), __libc_malloc(n);
}
void *calloc(size_t n, size_t m) {
    return COUNT(n * m), __libc_calloc(n, m);
}
void *realloc(void *p, size_t n) {
    return COUNT(n), __libc_realloc(p, n);
}
void *aligned_alloc(size_t a, size_t n) {
    return COUNT(n), __libc_memalign(a, n);
}
int posix_memalign(void **p, size_t a, size_t n) {
    COUNT(n);
    *p = __libc_memalign(a, n);
    return *p ? 0 : 12;
}
#endif

/* --- helpers ------------------------------------------------------------- */

static char dir[256];

static const char *in_dir(const char *name, char *buf, size_t size) {
    snprintf(buf, size, "%s/%s", dir, name);
    return buf;
}

static void write_bytes(const char *path, const void *data, size_t len) {
    /* a new file rather than a truncated one, which ext4 flushes to disk on close */
    unlink(path);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
}

/* A file from a header's text and the data buffer, nothing padded. */
static void write_raw(const char *path, const char *header, const void *data, size_t data_len) {
    size_t n = strlen(header);
    unsigned char *buf = malloc(8 + n + data_len + 1);
    for (int k = 0; k < 8; k++) buf[k] = (unsigned char)((uint64_t)n >> (8 * k));
    memcpy(buf + 8, header, n);
    if (data_len) memcpy(buf + 8 + n, data, data_len);
    write_bytes(path, buf, 8 + n + data_len);
    free(buf);
}

/* Names in dir that look like the atomic writer's temporary files. */
static int temp_files_left(void) {
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));) n += strstr(e->d_name, ".tmp.") != NULL;
    closedir(d);
    return n;
}

static void assert_file_is(const char *path, const void *bytes, size_t len) {
    size_t got;
    char *data = zoo_read_file(path, &got);
    ck_assert_msg(data, "%s", zoo_error_message());
    ck_assert_uint_eq(got, len);
    ck_assert_msg(memcmp(data, bytes, len) == 0, "%s differs from the expected bytes", path);
    free(data);
}

/* zoo_st_open fails with status and a message that starts with the path and says `what`. */
static void expect_open_error(const char *path, int status, const char *what) {
    zoo_st_file *f = (zoo_st_file *)&f;
    int st = zoo_st_open(path, &f);
    const char *msg = zoo_error_message();
    ck_assert_msg(st == status, "expected status %d for '%s', got %d: %s", status, what, st, msg);
    ck_assert_ptr_null(f);
    ck_assert_msg(strncmp(msg, path, strlen(path)) == 0, "the message names no file: %s", msg);
    ck_assert_msg(strstr(msg, what), "expected '%s' in: %s", what, msg);
}

static bool same_bits(float a, float b) {
    return memcmp(&a, &b, sizeof a) == 0;
}

/* --- round trips ----------------------------------------------------------- */

typedef struct sample {
    float vec[5], mat[2][3], cube[2][1][3], quad[1][2][2][2], scalar;
    int32_t ids[3][2];
} sample;

static void sample_fill(sample *s) {
    float *f = s->vec;
    for (int i = 0; i < 5; i++) f[i] = (float)i * 0.25f - 1.0f;
    f = &s->mat[0][0];
    for (int i = 0; i < 6; i++) f[i] = 1.0f / (float)(i + 3);
    f = &s->cube[0][0][0];
    for (int i = 0; i < 6; i++) f[i] = -(float)i * 1e-30f;
    f = &s->quad[0][0][0][0];
    for (int i = 0; i < 8; i++) f[i] = (float)i * 1e20f;
    s->quad[0][1][1][1] = -0.0f;
    s->scalar = 3.5f;
    int32_t *p = &s->ids[0][0];
    for (int i = 0; i < 6; i++) p[i] = i % 2 ? INT32_MIN + i : INT32_MAX - i;
}

static const char config_json[] = "{\"n_layer\": 2, \"name\": \"tab\\there\"}";
static const char unicode[] = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\xa6\x93"; /* café € 🦓 */

static zoo_st_writer *sample_writer(const sample *s, bool metadata) {
    zoo_st_writer *w = zoo_st_writer_new();
    ck_assert_ptr_nonnull(w);
    ck_assert_int_eq(zoo_st_writer_add(w, "vec", ZOO_F32, 1, ZOO_SHAPE(5), s->vec), ZOO_OK);
    ck_assert_int_eq(zoo_st_writer_add(w, "h.0.mat", ZOO_F32, 2, ZOO_SHAPE(2, 3), s->mat), ZOO_OK);
    ck_assert_int_eq(zoo_st_writer_add(w, "ids", ZOO_I32, 2, ZOO_SHAPE(3, 2), s->ids), ZOO_OK);
    ck_assert_int_eq(zoo_st_writer_add(w, "cube", ZOO_F32, 3, ZOO_SHAPE(2, 1, 3), s->cube), ZOO_OK);
    ck_assert_int_eq(zoo_st_writer_add(w, "quad", ZOO_F32, 4, ZOO_SHAPE(1, 2, 2, 2), s->quad),
                     ZOO_OK);
    ck_assert_int_eq(zoo_st_writer_add(w, "scalar", ZOO_F32, 0, NULL, &s->scalar), ZOO_OK);
    ck_assert_int_eq(zoo_st_writer_add(w, "empty", ZOO_F32, 2, ZOO_SHAPE(0, 3), NULL), ZOO_OK);
    ck_assert_int_eq(zoo_st_writer_add(w, unicode, ZOO_F32, 1, ZOO_SHAPE(1), s->vec), ZOO_OK);
    if (metadata) {
        ck_assert_int_eq(zoo_st_writer_add_metadata(w, "zoo.format", "1"), ZOO_OK);
        ck_assert_int_eq(zoo_st_writer_add_metadata(w, "zoo.config", config_json), ZOO_OK);
        ck_assert_int_eq(zoo_st_writer_add_metadata(w, "quotes \"and\" \\", "line\nbreak\x01\x1f"),
                         ZOO_OK);
        ck_assert_int_eq(zoo_st_writer_add_metadata(w, "zoo.empty", ""), ZOO_OK);
        ck_assert_int_eq(zoo_st_writer_add_metadata(w, unicode, unicode), ZOO_OK);
    }
    return w;
}

static void expect_tensor(zoo_st_file *f, int i, const char *name, const char *dtype, int ndim,
                          const int64_t *shape) {
    ck_assert_str_eq(zoo_st_name(f, i), name);
    ck_assert_int_eq(zoo_st_find(f, name), i);
    const char *got_dtype;
    int got_ndim;
    int64_t got_shape[ZOO_MAX_DIMS];
    ck_assert_int_eq(zoo_st_info(f, i, &got_dtype, &got_ndim, got_shape), ZOO_OK);
    ck_assert_str_eq(got_dtype, dtype);
    ck_assert_int_eq(got_ndim, ndim);
    int64_t numel = 1;
    for (int d = 0; d < ndim; d++) {
        ck_assert_int_eq(got_shape[d], shape[d]);
        ck_assert_int_eq(zoo_st_shape(f, i)[d], shape[d]);
        numel *= shape[d];
    }
    ck_assert_int_eq(zoo_st_numel(f, i), numel);
    size_t nbytes;
    ck_assert_ptr_nonnull(zoo_st_data(f, i, &nbytes));
    ck_assert_uint_eq(nbytes, (size_t)numel * 4);
}

static void expect_f32(zoo_st_file *f, const char *name, const float *want, int64_t n) {
    float got[16];
    ck_assert_int_eq(zoo_st_read_f32(f, zoo_st_find(f, name), got, n), ZOO_OK);
    for (int64_t i = 0; i < n; i++)
        ck_assert_msg(same_bits(got[i], want[i]), "%s[%lld]: %g, not %g", name, (long long)i,
                      (double)got[i], (double)want[i]);
}

START_TEST(test_round_trip) {
    make_temp_dir(dir, sizeof dir, "zoo-st-test");
    sample s = {0};
    sample_fill(&s);
    char path[320];
    in_dir("ckpt.safetensors", path, sizeof path);
    for (int with_metadata = 0; with_metadata < 2; with_metadata++) {
        zoo_st_writer *w = sample_writer(&s, with_metadata);
        ck_assert_int_eq(zoo_st_writer_write(w, path), ZOO_OK);
        zoo_st_writer_free(w);

        zoo_st_file *f;
        ck_assert_msg(zoo_st_open(path, &f) == ZOO_OK, "%s", zoo_error_message());
        ck_assert_int_eq(zoo_st_count(f), 8);
        expect_tensor(f, 0, "vec", "F32", 1, ZOO_SHAPE(5));
        expect_tensor(f, 1, "h.0.mat", "F32", 2, ZOO_SHAPE(2, 3));
        expect_tensor(f, 2, "ids", "I32", 2, ZOO_SHAPE(3, 2));
        expect_tensor(f, 3, "cube", "F32", 3, ZOO_SHAPE(2, 1, 3));
        expect_tensor(f, 4, "quad", "F32", 4, ZOO_SHAPE(1, 2, 2, 2));
        expect_tensor(f, 5, "scalar", "F32", 0, NULL);
        expect_tensor(f, 6, "empty", "F32", 2, ZOO_SHAPE(0, 3));
        expect_tensor(f, 7, unicode, "F32", 1, ZOO_SHAPE(1));
        ck_assert_int_eq(zoo_st_find(f, "missing"), -1);
        ck_assert_int_eq(zoo_st_find(f, "ve"), -1);
        expect_f32(f, "vec", s.vec, 5);
        expect_f32(f, "h.0.mat", &s.mat[0][0], 6);
        expect_f32(f, "cube", &s.cube[0][0][0], 6);
        expect_f32(f, "quad", &s.quad[0][0][0][0], 8);
        expect_f32(f, "scalar", &s.scalar, 1);
        expect_f32(f, unicode, s.vec, 1);
        float none[1];
        ck_assert_int_eq(zoo_st_read_f32(f, 6, none, 0), ZOO_OK);
        int32_t ids[6];
        ck_assert_int_eq(zoo_st_read_i32(f, 2, ids, 6), ZOO_OK);
        ck_assert_int_eq(memcmp(ids, s.ids, sizeof ids), 0);
        /* the data buffer starts 8-aligned and every tensor's offset is a multiple of 4 */
        for (int i = 0; i < zoo_st_count(f); i++)
            ck_assert_uint_eq((uintptr_t)zoo_st_data(f, i, NULL) % 4, 0);

        if (with_metadata) {
            ck_assert_int_eq(zoo_st_metadata_count(f), 5);
            ck_assert_str_eq(zoo_st_metadata(f, "zoo.format"), "1");
            ck_assert_str_eq(zoo_st_metadata(f, "zoo.config"), config_json);
            ck_assert_str_eq(zoo_st_metadata(f, "quotes \"and\" \\"), "line\nbreak\x01\x1f");
            ck_assert_str_eq(zoo_st_metadata(f, "zoo.empty"), "");
            ck_assert_str_eq(zoo_st_metadata(f, unicode), unicode);
            const char *value;
            ck_assert_str_eq(zoo_st_metadata_at(f, 1, &value), "zoo.config");
            ck_assert_str_eq(value, config_json);
            ck_assert_ptr_null(zoo_st_metadata_at(f, 5, &value));
        } else {
            ck_assert_int_eq(zoo_st_metadata_count(f), 0);
            ck_assert_ptr_null(zoo_st_metadata_at(f, 0, NULL));
        }
        ck_assert_ptr_null(zoo_st_metadata(f, "zoo.step"));
        zoo_st_close(f);

        /* the header: padded with spaces to a multiple of 8, __metadata__ first */
        size_t len;
        char *raw = zoo_read_file(path, &len);
        uint64_t n = 0;
        for (int k = 0; k < 8; k++) n |= (uint64_t)(unsigned char)raw[k] << (8 * k);
        ck_assert_uint_eq(n % 8, 0);
        ck_assert_uint_eq(len, 8 + n + (5 + 6 + 6 + 6 + 8 + 1 + 0 + 1) * 4);
        const char *first = with_metadata
                                ? "{\"__metadata__\":{\"zoo.format\":\"1\",\"zoo.config\":"
                                : "{\"vec\":{\"dtype\":\"F32\",\"shape\":[5],";
        ck_assert_int_eq(strncmp(raw + 8, first, strlen(first)), 0);
        if (with_metadata) /* escaped as serde_json escapes */
            ck_assert(strstr(raw + 8, "\"line\\nbreak\\u0001\\u001f\""));
        free(raw);
    }
    remove_temp_dir(dir);
}
END_TEST

/* A NaN or infinite weight is refused when read into a model's tensor, naming
 * the file, the tensor and the element; the plain read keeps such values. */
START_TEST(test_non_finite_weights_refused) {
    make_temp_dir(dir, sizeof dir, "zoo-st-test");
    char path[320];
    in_dir("nan.safetensors", path, sizeof path);
    float w[4] = {1, NAN, 3, 4}, b[3] = {0, 0, -INFINITY}, ok[2] = {1, 2};
    zoo_st_writer *wr = zoo_st_writer_new();
    ck_assert_int_eq(zoo_st_writer_add(wr, "w", ZOO_F32, 2, ZOO_SHAPE(2, 2), w), ZOO_OK);
    ck_assert_int_eq(zoo_st_writer_add(wr, "b", ZOO_F32, 1, ZOO_SHAPE(3), b), ZOO_OK);
    ck_assert_int_eq(zoo_st_writer_add(wr, "ok", ZOO_F32, 1, ZOO_SHAPE(2), ok), ZOO_OK);
    ck_assert_int_eq(zoo_st_writer_write(wr, path), ZOO_OK);
    zoo_st_writer_free(wr);
    zoo_st_file *f;
    ck_assert_msg(zoo_st_open(path, &f) == ZOO_OK, "%s", zoo_error_message());
    float raw[4];
    ck_assert_int_eq(zoo_st_read_f32(f, zoo_st_find(f, "w"), raw, 4), ZOO_OK);
    ck_assert(isnan(raw[1]));
    zoo_graph *g = zoo_graph_new(0);
    zoo_tensor *tw = zoo_new(g, ZOO_F32, 2, 2), *tb = zoo_new(g, ZOO_F32, 3),
               *tok = zoo_new(g, ZOO_F32, 2);
    char want[512];
    ck_assert_int_eq(zoo_st_read_into(f, zoo_st_find(f, "w"), tw), ZOO_ERR_FORMAT);
    snprintf(want, sizeof want,
             "%s: tensor 'w': element 1 is NaN; a model's weights must be finite", path);
    ck_assert_str_eq(zoo_error_message(), want);
    ck_assert_int_eq(zoo_st_read_into(f, zoo_st_find(f, "b"), tb), ZOO_ERR_FORMAT);
    snprintf(want, sizeof want,
             "%s: tensor 'b': element 2 is infinite; a model's weights must be finite", path);
    ck_assert_str_eq(zoo_error_message(), want);
    ck_assert_int_eq(zoo_st_read_into(f, zoo_st_find(f, "ok"), tok), ZOO_OK);
    ck_assert(zoo_f32(tok)[1] == 2);
    zoo_graph_free(g);
    zoo_st_close(f);
}
END_TEST

START_TEST(test_output_is_deterministic) {
    make_temp_dir(dir, sizeof dir, "zoo-st-test");
    sample s = {0};
    sample_fill(&s);
    char a[320], b[320];
    in_dir("a.safetensors", a, sizeof a);
    in_dir("b.safetensors", b, sizeof b);
    zoo_st_writer *w = sample_writer(&s, true);
    ck_assert_int_eq(zoo_st_writer_write(w, a), ZOO_OK);
    zoo_st_writer_free(w);
    w = sample_writer(&s, true); /* built again from the same input */
    ck_assert_int_eq(zoo_st_writer_write(w, b), ZOO_OK);
    size_t len;
    char *first = zoo_read_file(a, &len);
    assert_file_is(b, first, len);
    ck_assert_int_eq(zoo_st_writer_write(w, b), ZOO_OK); /* written again over itself */
    assert_file_is(b, first, len);
    s.vec[2] = 7; /* the writer references the data: a later write sees the change */
    ck_assert_int_eq(zoo_st_writer_write(w, b), ZOO_OK);
    size_t len2;
    char *second = zoo_read_file(b, &len2);
    ck_assert_uint_eq(len2, len);
    ck_assert_int_ne(memcmp(first, second, len), 0);
    free(first);
    free(second);
    zoo_st_writer_free(w);
    ck_assert_int_eq(temp_files_left(), 0);
    remove_temp_dir(dir);
}
END_TEST

/* --- agreement with HuggingFace's writer ----------------------------------- */

/* Expected bytes from safetensors' own serialization tests (tensor.rs:
 * test_serialization, test_serialization_forced_alignement, test_empty). */
static const float zero_to_five[6] = {0, 1, 2, 3, 4, 5};
#define F32_0_TO_5                                                                                 \
    "\0\0\0\0"                                                                                     \
    "\0\0\x80\x3f"                                                                                 \
    "\0\0\0\x40"                                                                                   \
    "\0\0\x40\x40"                                                                                 \
    "\0\0\x80\x40"                                                                                 \
    "\0\0\xa0\x40"
static const char hf_attn_dot_0[] = "\x40\0\0\0\0\0\0\0"
                                    "{\"attn.0\":{\"dtype\":\"F32\",\"shape\":[1,2,3],"
                                    "\"data_offsets\":[0,24]}}" F32_0_TO_5;
static const char hf_attn0[] = "\x48\0\0\0\0\0\0\0"
                               "{\"attn0\":{\"dtype\":\"F32\",\"shape\":[1,1,2,3],"
                               "\"data_offsets\":[0,24]}}       " F32_0_TO_5;
static const char hf_empty[] = "\x08\0\0\0\0\0\0\0{}      ";
static const char hf_metadata_only[] = "\x28\0\0\0\0\0\0\0{\"__metadata__\":{\"framework\":\"pt\"}}"
                                       "     ";
/* The brief's example: {"a": F32 [2]} with the values 1.5 and -2, padded to 56 bytes. */
static const char small_a[] = "\x38\0\0\0\0\0\0\0"
                              "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}  "
                              "\0\0\xc0\x3f\0\0\0\xc0";

START_TEST(test_matches_huggingface_bytes) {
    make_temp_dir(dir, sizeof dir, "zoo-st-test");
    char path[320];
    in_dir("hf.safetensors", path, sizeof path);
    const struct {
        const char *bytes;
        size_t len;
        const char *name;
        int ndim;
        int64_t shape[4];
        const float *values;
        const char *meta_key, *meta_value;
    } cases[] = {
        {hf_attn_dot_0, sizeof hf_attn_dot_0 - 1, "attn.0", 3, {1, 2, 3}, zero_to_five, NULL, NULL},
        {hf_attn0, sizeof hf_attn0 - 1, "attn0", 4, {1, 1, 2, 3}, zero_to_five, NULL, NULL},
        {hf_empty, sizeof hf_empty - 1, NULL, 0, {0}, NULL, NULL, NULL},
        {hf_metadata_only, sizeof hf_metadata_only - 1, NULL, 0, {0}, NULL, "framework", "pt"},
        {small_a, sizeof small_a - 1, "a", 1, {2}, (const float[]){1.5f, -2.0f}, NULL, NULL},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        /* our writer produces exactly these bytes ... */
        zoo_st_writer *w = zoo_st_writer_new();
        if (cases[c].name)
            ck_assert_int_eq(zoo_st_writer_add(w, cases[c].name, ZOO_F32, cases[c].ndim,
                                               cases[c].shape, cases[c].values),
                             ZOO_OK);
        if (cases[c].meta_key)
            ck_assert_int_eq(zoo_st_writer_add_metadata(w, cases[c].meta_key, cases[c].meta_value),
                             ZOO_OK);
        ck_assert_int_eq(zoo_st_writer_write(w, path), ZOO_OK);
        zoo_st_writer_free(w);
        assert_file_is(path, cases[c].bytes, cases[c].len);

        /* ... and reads them when they come from elsewhere */
        write_bytes(path, cases[c].bytes, cases[c].len);
        zoo_st_file *f;
        ck_assert_msg(zoo_st_open(path, &f) == ZOO_OK, "%s", zoo_error_message());
        ck_assert_int_eq(zoo_st_count(f), cases[c].name ? 1 : 0);
        if (cases[c].name) {
            expect_tensor(f, 0, cases[c].name, "F32", cases[c].ndim, cases[c].shape);
            expect_f32(f, cases[c].name, cases[c].values, zoo_st_numel(f, 0));
        }
        if (cases[c].meta_key)
            ck_assert_str_eq(zoo_st_metadata(f, cases[c].meta_key), cases[c].meta_value);
        zoo_st_close(f);
    }
    remove_temp_dir(dir);
}
END_TEST

/* --- dtype conversions ----------------------------------------------------- */

/* A header and data buffer built one tensor at a time, unpadded and unaligned. */
typedef struct raw_file {
    char header[4096];
    size_t hlen;
    unsigned char data[4096];
    size_t dlen;
} raw_file;

static void raw_add(raw_file *r, const char *name, const char *dtype, const char *shape,
                    const void *bytes, size_t n) {
    r->hlen +=
        (size_t)snprintf(r->header + r->hlen, sizeof r->header - r->hlen,
                         "%s\"%s\":{\"dtype\":\"%s\",\"shape\":%s,\"data_offsets\":[%zu,%zu]}",
                         r->hlen ? "," : "{", name, dtype, shape, r->dlen, r->dlen + n);
    memcpy(r->data + r->dlen, bytes, n);
    r->dlen += n;
}

static void raw_write(raw_file *r, const char *path) {
    snprintf(r->header + r->hlen, sizeof r->header - r->hlen, "}");
    write_raw(path, r->header, r->data, r->dlen);
}

START_TEST(test_conversions) {
    make_temp_dir(dir, sizeof dir, "zoo-st-test");
    char path[320];
    in_dir("dtypes.safetensors", path, sizeof path);
    static const uint16_t f16[] = {0x3c00, 0xc000, 0x7bff, 0x0001, 0x03ff, 0x0400, 0x3555,
                                   0x7c00, 0xfc00, 0x8000, 0x8001, 0x0000, 0x7e00};
    const float f16_want[] = {1.0f,        -2.0f,    65504.0f,  0x1p-24f, 1023 * 0x1p-24f, 0x1p-14f,
                              0x1.554p-2f, INFINITY, -INFINITY, -0.0f,    -0x1p-24f,       0.0f};
    static const uint16_t bf16[] = {0x3f80, 0xc0a0, 0x7f80, 0xff80, 0x0001, 0x7f7f};
    const float bf16_want[] = {1.0f, -5.0f, INFINITY, -INFINITY, 0x1p-133f, 0x1.fep127f};
    const double f64[] = {1.0 / 3,         -0.0,      0x1p-149, 1e-50, 0x1.fffffep127,
                          0x1.fffffe8p127, -INFINITY, NAN};
    const float f64_want[] = {(float)(1.0 / 3), -0.0f,           0x1p-149f, 0.0f,
                              0x1.fffffep127f,  0x1.fffffep127f, -INFINITY};
    const double f64_big[] = {1.0, -1e300};
    const double f64_halfway[] = {0x1.ffffffp127};
    const int64_t i64[] = {5, -7, INT32_MAX, INT32_MIN};
    const int64_t i64_wide[] = {0, (int64_t)INT32_MAX + 1};
    const int32_t i32[] = {-1, 123456789};
    const unsigned char u8[] = {1, 2, 3};
    raw_file r = {0};
    raw_add(&r, "u8", "U8", "[3]", u8, sizeof u8); /* puts everything after it off alignment */
    raw_add(&r, "f16", "F16", "[13]", f16, sizeof f16);
    raw_add(&r, "bf16", "BF16", "[2,3]", bf16, sizeof bf16);
    raw_add(&r, "f64", "F64", "[8]", f64, sizeof f64);
    raw_add(&r, "f64_big", "F64", "[2]", f64_big, sizeof f64_big);
    raw_add(&r, "f64_halfway", "F64", "[1]", f64_halfway, sizeof f64_halfway);
    raw_add(&r, "i64", "I64", "[2,2]", i64, sizeof i64);
    raw_add(&r, "i64_wide", "I64", "[2]", i64_wide, sizeof i64_wide);
    raw_add(&r, "i32", "I32", "[2]", i32, sizeof i32);
    raw_add(&r, "six_d", "U8", "[1,1,1,1,1,3]", u8, sizeof u8); /* the format sets no limit */
    raw_write(&r, path);

    zoo_st_file *f;
    ck_assert_msg(zoo_st_open(path, &f) == ZOO_OK, "%s", zoo_error_message());
    float out[16];
    ck_assert_int_eq(zoo_st_read_f32(f, zoo_st_find(f, "f16"), out, 13), ZOO_OK);
    for (int i = 0; i < 12; i++)
        ck_assert_msg(same_bits(out[i], f16_want[i]), "F16 0x%04x: %a, not %a", f16[i],
                      (double)out[i], (double)f16_want[i]);
    ck_assert(isnan(out[12]));
    ck_assert_int_eq(zoo_st_read_f32(f, zoo_st_find(f, "bf16"), out, 6), ZOO_OK);
    for (int i = 0; i < 6; i++)
        ck_assert_msg(same_bits(out[i], bf16_want[i]), "BF16 0x%04x: %a, not %a", bf16[i],
                      (double)out[i], (double)bf16_want[i]);
    ck_assert_int_eq(zoo_st_read_f32(f, zoo_st_find(f, "f64"), out, 8), ZOO_OK);
    for (int i = 0; i < 7; i++)
        ck_assert_msg(same_bits(out[i], f64_want[i]), "F64 %a: %a, not %a", f64[i], (double)out[i],
                      (double)f64_want[i]);
    ck_assert(isnan(out[7]));
    ck_assert_int_eq(zoo_st_read_f32(f, zoo_st_find(f, "f64_big"), out, 2), ZOO_ERR_FORMAT);
    ck_assert(strstr(zoo_error_message(), "tensor 'f64_big': element 1 (-1e+300) is beyond "
                                          "float32's range"));
    ck_assert_int_eq(zoo_st_read_f32(f, zoo_st_find(f, "f64_halfway"), out, 1), ZOO_ERR_FORMAT);
    ck_assert_int_eq(zoo_st_read_f32(f, zoo_st_find(f, "i32"), out, 2), ZOO_ERR_SHAPE);
    ck_assert(strstr(zoo_error_message(), "tensor 'i32' is I32; float32 can be read from"));

    int32_t ints[4];
    ck_assert_int_eq(zoo_st_read_i32(f, zoo_st_find(f, "i64"), ints, 4), ZOO_OK);
    for (int i = 0; i < 4; i++) ck_assert_int_eq(ints[i], i64[i]);
    ck_assert_int_eq(zoo_st_read_i32(f, zoo_st_find(f, "i32"), ints, 2), ZOO_OK);
    ck_assert_int_eq(ints[0], -1);
    ck_assert_int_eq(ints[1], 123456789);
    ck_assert_int_eq(zoo_st_read_i32(f, zoo_st_find(f, "i64_wide"), ints, 2), ZOO_ERR_FORMAT);
    ck_assert(strstr(zoo_error_message(), "tensor 'i64_wide': element 1 (2147483648) does not "
                                          "fit int32"));
    ck_assert_int_eq(zoo_st_read_i32(f, zoo_st_find(f, "u8"), ints, 3), ZOO_ERR_SHAPE);
    ck_assert(strstr(zoo_error_message(), "tensor 'u8' is U8; int32 can be read from I32 and I64"));
    size_t nbytes;
    const unsigned char *bytes = zoo_st_data(f, zoo_st_find(f, "u8"), &nbytes);
    ck_assert_uint_eq(nbytes, 3);
    ck_assert_int_eq(memcmp(bytes, u8, 3), 0);

    /* the caller's mistakes */
    ck_assert_int_eq(zoo_st_read_f32(f, zoo_st_find(f, "f16"), out, 12), ZOO_ERR_SHAPE);
    ck_assert(strstr(zoo_error_message(), "tensor 'f16' has 13 elements, the buffer 12"));
    ck_assert_int_eq(zoo_st_read_f32(f, -1, out, 1), ZOO_ERR_ARG);
    ck_assert_int_eq(zoo_st_read_i32(f, zoo_st_count(f), ints, 1), ZOO_ERR_ARG);
    ck_assert_int_eq(zoo_st_info(f, 99, NULL, NULL, NULL), ZOO_ERR_ARG);
    int ndim;
    int64_t shape[ZOO_MAX_DIMS] = {0};
    ck_assert_int_eq(zoo_st_info(f, zoo_st_find(f, "six_d"), NULL, &ndim, shape), ZOO_ERR_SHAPE);
    ck_assert(strstr(zoo_error_message(), "tensor 'six_d' has 6 dimensions, more than zoo's 4"));
    ck_assert_int_eq(ndim, 6);
    ck_assert_int_eq(shape[3], 1);
    ck_assert_int_eq(zoo_st_shape(f, zoo_st_find(f, "six_d"))[5], 3);
    ck_assert_int_eq(zoo_st_numel(f, zoo_st_find(f, "six_d")), 3);
    ck_assert_ptr_null(zoo_st_shape(f, -1));
    ck_assert_ptr_null(zoo_st_name(f, 99));
    ck_assert_int_eq(zoo_st_numel(f, -1), -1);
    ck_assert_ptr_null(zoo_st_data(f, 99, NULL));
    zoo_st_close(f);
    remove_temp_dir(dir);
}
END_TEST

/* --- damaged files ------------------------------------------------------- */

#define F32_2 "{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":"

START_TEST(test_damaged_files) {
    make_temp_dir(dir, sizeof dir, "zoo-st-test");
    char path[320];
    in_dir("bad.safetensors", path, sizeof path);
    static const unsigned char zeros[64];
    static const struct {
        const char *header;
        size_t data_len;
        const char *what;
    } cases[] = {
        {"", 0, "the header is empty"},
        {"{\"a\": ", 0, "the header is not valid JSON (at byte"},
        {"{} x", 0, "the header is not valid JSON: text after the object at byte 3"},
        {"[1,2]", 0, "the header is not a JSON object but an array"},
        {"\"a\"", 0, "the header is not a JSON object but a string"},
        {"{\"\xff\":1}", 0, "the header is not valid UTF-8 (byte 2 of 7)"},
        {"{\"\xed\xa0\x80\":1}", 0, "not valid UTF-8"}, /* a surrogate */
        {"{\"\xc0\xaf\":1}", 0, "not valid UTF-8"},     /* an overlong '/' */
        {"{\"a\x01\":{}}", 0, "control character 0x01 at byte 3"},
        {"{\"a\":1}", 0,
         "tensor 'a': expected an object with dtype, shape and data_offsets, "
         "found a number"},
        {"{\"a\":{\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "tensor 'a': no dtype"},
        {"{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}}", 8, "tensor 'a': no shape"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8, "tensor 'a': no data_offsets"},
        {"{\"a\":{\"dtype\":4,\"shape\":[2],\"data_offsets\":[0,8]}}", 8,
         "tensor 'a': dtype must be a string, found a number"},
        {"{\"a\":{\"dtype\":\"F12\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8,
         "tensor 'a': unknown dtype \"F12\""},
        {"{\"a\":{\"dtype\":\"f32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8,
         "tensor 'a': unknown dtype \"f32\""},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":2,\"data_offsets\":[0,8]}}", 8,
         "tensor 'a': shape must be an array of integers >= 0, found a number"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8,
         "tensor 'a': shape must be an array of integers >= 0, found an invalid number in it"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2.5],\"data_offsets\":[0,8]}}", 8,
         "found an invalid number in it"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[\"2\"],\"data_offsets\":[0,8]}}", 8,
         "found a string in it"},
        {"{\"a\":" F32_2 "[0]}}", 8, "tensor 'a': data_offsets must be [begin, end]"},
        {"{\"a\":" F32_2 "[0,8,8]}}", 8, "tensor 'a': data_offsets must be [begin, end]"},
        {"{\"a\":" F32_2 "[8,0]}}", 8, "tensor 'a': data_offsets must be [begin, end]"},
        {"{\"a\":" F32_2 "[-1,7]}}", 8, "tensor 'a': data_offsets must be [begin, end]"},
        {"{\"a\":" F32_2 "[0,\"8\"]}}", 8, "tensor 'a': data_offsets must be [begin, end]"},
        {"{\"a\":" F32_2 "{\"0\":8}}}", 8, "tensor 'a': data_offsets must be [begin, end]"},
        {"{\"x\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,20]}}", 20,
         "tensor 'x': shape [2,3] of F32 needs 24 bytes, data_offsets give 20"},
        {"{\"x\":{\"dtype\":\"BF16\",\"shape\":[],\"data_offsets\":[0,4]}}", 4,
         "tensor 'x': shape [] of BF16 needs 2 bytes, data_offsets give 4"},
        {"{\"x\":{\"dtype\":\"U8\",\"shape\":[4294967296,4294967296,16],"
         "\"data_offsets\":[0,8]}}",
         8, "tensor 'x': shape [4294967296,4294967296,16] has too many elements"},
        {"{\"a\":" F32_2 "[0,8]}}", 4,
         "truncated: tensor 'a' ends at byte 8 of the data buffer, which has 4"},
        {"{\"a\":" F32_2 "[0,8]},\"b\":" F32_2 "[4,12]}}", 12,
         "tensors 'a' and 'b' overlap: bytes [0,8) and [4,12)"},
        {"{\"b\":" F32_2 "[4,12]},\"a\":" F32_2 "[0,8]}}", 12,
         "tensors 'a' and 'b' overlap: bytes [0,8) and [4,12)"},
        {"{\"a\":" F32_2 "[0,8]},\"b\":" F32_2 "[0,8]}}", 8, "tensors 'a' and 'b' overlap"},
        {"{\"a\":" F32_2 "[0,8]},\"b\":" F32_2 "[12,20]}}", 20,
         "bytes [8,12) of the data buffer belong to no tensor"},
        {"{\"a\":" F32_2 "[4,12]}}", 12, "bytes [0,4) of the data buffer belong to no tensor"},
        {"{\"a\":" F32_2 "[0,8]}}", 12,
         "bytes [8,12) at the end of the data buffer belong to no "
         "tensor"},
        {"{}", 4, "bytes [0,4) at the end of the data buffer belong to no tensor"},
        {"{\"a\":" F32_2 "[0,8]},\"a\":" F32_2 "[8,16]}}", 16,
         "tensor 'a' appears twice in the header"},
        {"{\"__metadata__\":{\"k\":1}}", 0,
         "__metadata__ 'k': values must be strings, found a "
         "number"},
        {"{\"__metadata__\":{\"k\":\"v\",\"n\":null}}", 0,
         "__metadata__ 'n': values must be strings, found null"},
        {"{\"__metadata__\":\"v\"}", 0,
         "__metadata__ must be an object of strings, found a "
         "string"},
        {"{\"__metadata__\":{\"k\":\"v\",\"k\":\"w\"}}", 0, "__metadata__ 'k' appears twice"},
        {"{\"__metadata__\":{},\"__metadata__\":{}}", 0, "__metadata__ appears twice"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        write_raw(path, cases[c].header, zeros, cases[c].data_len);
        expect_open_error(path, ZOO_ERR_FORMAT, cases[c].what);
    }

    /* the length field itself */
    write_bytes(path, "\x08\0\0\0\0", 5);
    expect_open_error(path, ZOO_ERR_FORMAT, "not a safetensors file: 5 bytes, fewer than the 8");
    write_bytes(path, "", 0);
    expect_open_error(path, ZOO_ERR_FORMAT, "not a safetensors file: 0 bytes");
    write_bytes(path, "\xe8\x03\0\0\0\0\0\0{}", 10);
    expect_open_error(path, ZOO_ERR_FORMAT,
                      "truncated: the header says 1000 bytes, the file has 2 after its length");
    write_bytes(path, "PK\x03\x04\x14\0\0\0\0\0", 10); /* a zip file */
    expect_open_error(path, ZOO_ERR_FORMAT,
                      "not a safetensors file: its first 8 bytes give a "
                      "header of 85966670672 bytes");
    /* what cannot be read at all */
    in_dir("missing.safetensors", path, sizeof path);
    expect_open_error(path, ZOO_ERR_IO, "No such file or directory");
    expect_open_error(dir, ZOO_ERR_IO, "is a directory, not a regular file");
    in_dir("fifo.safetensors", path, sizeof path);
    ck_assert_int_eq(mkfifo(path, 0600), 0);
    alarm(10); /* no writer: a blocking open would wait forever */
    expect_open_error(path, ZOO_ERR_IO, "is a FIFO, not a regular file");
    alarm(0);
    remove_temp_dir(dir);
}
END_TEST

/* A valid file cut at every length, and with header bytes overwritten: every
 * one fails cleanly or reads (the sanitizer build watches for the rest). */
START_TEST(test_truncated_and_scrambled) {
    make_temp_dir(dir, sizeof dir, "zoo-st-test");
    char path[320], cut[320];
    in_dir("whole.safetensors", path, sizeof path);
    in_dir("cut.safetensors", cut, sizeof cut);
    sample s = {0};
    sample_fill(&s);
    zoo_st_writer *w = sample_writer(&s, true);
    ck_assert_int_eq(zoo_st_writer_write(w, path), ZOO_OK);
    zoo_st_writer_free(w);
    size_t len;
    char *whole = zoo_read_file(path, &len);
    uint64_t n = 0;
    for (int k = 0; k < 8; k++) n |= (uint64_t)(unsigned char)whole[k] << (8 * k);
    for (size_t at = 0; at < len; at++) {
        write_bytes(cut, whole, at);
        const char *what = at < 8       ? "fewer than the 8 of its header length"
                           : at < 8 + n ? "truncated: the header says"
                                        : "truncated: tensor '";
        expect_open_error(cut, ZOO_ERR_FORMAT, what);
    }
    static const char replacements[] = {'\0', '"', '{', '}', '[', ',', '9', '-', ' ', '\xff'};
    int opened = 0;
    for (size_t at = 0; at < 8 + n; at++)
        for (size_t r = 0; r < sizeof replacements; r++) {
            if (whole[at] == replacements[r]) continue;
            char saved = whole[at];
            whole[at] = replacements[r];
            write_bytes(cut, whole, len);
            whole[at] = saved;
            zoo_st_file *f;
            int st = zoo_st_open(cut, &f);
            if (st != ZOO_OK) {
                ck_assert_int_eq(st, ZOO_ERR_FORMAT);
                ck_assert_int_eq(strncmp(zoo_error_message(), cut, strlen(cut)), 0);
                continue;
            }
            opened++; /* a change inside a name or a metadata string, say */
            for (int i = 0; i < zoo_st_count(f); i++) {
                int64_t numel = zoo_st_numel(f, i);
                if (numel <= 16) {
                    float out[16];
                    zoo_st_read_f32(f, i, out, numel);
                }
            }
            zoo_st_close(f);
        }
    ck_assert_int_gt(opened, 0);
    free(whole);
    remove_temp_dir(dir);
}
END_TEST

/* --- the writer's own checks and atomic writes ---------------------------- */

START_TEST(test_writer_refuses) {
    zoo_st_writer *w = zoo_st_writer_new();
    float x[2] = {1, 2};
    ck_assert_int_eq(zoo_st_writer_add(w, "x", ZOO_F32, 1, ZOO_SHAPE(2), x), ZOO_OK);
    ck_assert_int_eq(zoo_st_writer_add(w, "x", ZOO_F32, 1, ZOO_SHAPE(2), x), ZOO_ERR_ARG);
    ck_assert_str_eq(zoo_error_message(), "zoo_st_writer_add: tensor 'x' was already added");
    ck_assert_int_eq(zoo_st_writer_add(w, "", ZOO_F32, 1, ZOO_SHAPE(2), x), ZOO_ERR_ARG);
    ck_assert_int_eq(zoo_st_writer_add(w, "__metadata__", ZOO_F32, 1, ZOO_SHAPE(2), x),
                     ZOO_ERR_ARG);
    ck_assert_int_eq(zoo_st_writer_add(w, "bad\xff", ZOO_F32, 1, ZOO_SHAPE(2), x), ZOO_ERR_ARG);
    ck_assert_int_eq(zoo_st_writer_add(w, "y", (zoo_dtype)7, 1, ZOO_SHAPE(2), x), ZOO_ERR_ARG);
    ck_assert_int_eq(zoo_st_writer_add(w, "y", ZOO_F32, 5, ZOO_SHAPE(1, 1, 1, 1, 2), x),
                     ZOO_ERR_ARG);
    ck_assert_int_eq(zoo_st_writer_add(w, "y", ZOO_F32, 1, ZOO_SHAPE(-2), x), ZOO_ERR_ARG);
    ck_assert_int_eq(zoo_st_writer_add(w, "y", ZOO_F32, 1, ZOO_SHAPE(2), NULL), ZOO_ERR_ARG);
    ck_assert_int_eq(zoo_st_writer_add_metadata(w, "k", "v"), ZOO_OK);
    ck_assert_int_eq(zoo_st_writer_add_metadata(w, "k", "w"), ZOO_ERR_ARG);
    ck_assert_str_eq(zoo_error_message(), "zoo_st_writer_add_metadata: key 'k' was already added");
    ck_assert_int_eq(zoo_st_writer_add_metadata(w, "k2", "\xc3"), ZOO_ERR_ARG);
    ck_assert_int_eq(zoo_st_writer_add_metadata(w, "k3", NULL), ZOO_ERR_ARG);
    zoo_st_writer_free(w);
}
END_TEST

/* Writes a checkpoint of one tensor of n floats, all equal to value, with
 * files limited to max_bytes (0: no limit) during the write. Check reports
 * through a file of its own, so nothing asserts while the limit holds. */
static int write_filled(const char *path, int64_t n, float value, rlim_t max_bytes) {
    float *data = malloc(sizeof(float) * (size_t)n);
    for (int64_t i = 0; i < n; i++) data[i] = value;
    zoo_st_writer *w = zoo_st_writer_new();
    ck_assert_int_eq(zoo_st_writer_add(w, "w", ZOO_F32, 1, &n, data), ZOO_OK);
    struct rlimit old_limit, limit;
    getrlimit(RLIMIT_FSIZE, &old_limit);
    limit = old_limit;
    limit.rlim_cur = max_bytes;
    if (max_bytes) setrlimit(RLIMIT_FSIZE, &limit);
    int st = zoo_st_writer_write(w, path);
    if (max_bytes) setrlimit(RLIMIT_FSIZE, &old_limit);
    zoo_st_writer_free(w);
    free(data);
    return st;
}

static void expect_filled(const char *path, int64_t n, float value) {
    zoo_st_file *f;
    ck_assert_msg(zoo_st_open(path, &f) == ZOO_OK, "%s", zoo_error_message());
    float *out = malloc(sizeof(float) * (size_t)n);
    ck_assert_int_eq(zoo_st_read_f32(f, 0, out, n), ZOO_OK);
    for (int64_t i = 0; i < n; i++) ck_assert_float_eq(out[i], value);
    free(out);
    zoo_st_close(f);
}

START_TEST(test_failed_write_keeps_the_old_file) {
    make_temp_dir(dir, sizeof dir, "zoo-st-test");
    char path[320];
    in_dir("ckpt.safetensors", path, sizeof path);
    ck_assert_int_eq(write_filled(path, 100, 1.0f, 0), ZOO_OK);

    /* the file system refuses the data half-way (a file size limit, which binds root
     * too): small pieces fail when the buffer is flushed, large ones straight away */
    signal(SIGXFSZ, SIG_IGN);
    const int64_t sizes[] = {1000, 100000};
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(write_filled(path, sizes[i], 2.0f, 2000), ZOO_ERR_IO);
        ck_assert_msg(strstr(zoo_error_message(), "ckpt.safetensors: write failed: File too large"),
                      "%s", zoo_error_message());
        expect_filled(path, 100, 1.0f);
        ck_assert_int_eq(temp_files_left(), 0);
    }

    /* a directory where the file should go: refused before any temporary file */
    char taken[320];
    in_dir("taken", taken, sizeof taken);
    ck_assert_int_eq(mkdir(taken, 0700), 0);
    ck_assert_int_eq(write_filled(taken, 10, 2.0f, 0), ZOO_ERR_IO);
    ck_assert_msg(
        strstr(zoo_error_message(), "taken: is a directory, not a regular file: not replaced"),
        "%s", zoo_error_message());
    struct stat st;
    ck_assert_int_eq(stat(taken, &st), 0);
    ck_assert(S_ISDIR(st.st_mode));
    ck_assert_int_eq(temp_files_left(), 0);

    /* a regular file where the directory should be: no temporary file can be made */
    char inside[340];
    snprintf(inside, sizeof inside, "%s/x.safetensors", path);
    ck_assert_int_eq(write_filled(inside, 10, 2.0f, 0), ZOO_ERR_IO);
    ck_assert(strstr(zoo_error_message(), "cannot create a temporary file beside it: Not a "
                                          "directory"));
    expect_filled(path, 100, 1.0f);

    /* a directory without write permission (root ignores it; then the write succeeds) */
    chmod(dir, 0500);
    int result = write_filled(path, 10, 3.0f, 0);
    chmod(dir, 0700);
    if (geteuid() != 0) {
        ck_assert_int_eq(result, ZOO_ERR_IO);
        expect_filled(path, 100, 1.0f);
    } else {
        ck_assert_int_eq(result, ZOO_OK);
        expect_filled(path, 10, 3.0f);
    }
    ck_assert_int_eq(temp_files_left(), 0);
    remove_temp_dir(dir);
}
END_TEST

START_TEST(test_streams_without_copying) {
#if COUNTING_MALLOC
    make_temp_dir(dir, sizeof dir, "zoo-st-test");
    char path[320];
    in_dir("big.safetensors", path, sizeof path);
    const int64_t n = 4 << 20; /* 16 MB of floats */
    float *data = malloc(sizeof(float) * (size_t)n), *out = malloc(sizeof(float) * (size_t)n);
    for (int64_t i = 0; i < n; i++) data[i] = (float)i;
    zoo_st_writer *w = zoo_st_writer_new();
    ck_assert_int_eq(zoo_st_writer_add(w, "big", ZOO_F32, 2, ZOO_SHAPE(1024, n / 1024), data),
                     ZOO_OK);
    ck_assert_int_eq(zoo_st_writer_add(w, "small", ZOO_F32, 1, ZOO_SHAPE(3), data), ZOO_OK);
    ck_assert_int_eq(zoo_st_writer_add_metadata(w, "k", "v"), ZOO_OK);
    bytes_allocated = 0, counting = true;
    int st = zoo_st_writer_write(w, path);
    counting = false;
    ck_assert_int_eq(st, ZOO_OK);
    ck_assert_msg(bytes_allocated < (1 << 20), "writing 16 MB allocated %zu bytes",
                  bytes_allocated);
    zoo_st_writer_free(w);

    zoo_st_file *f;
    bytes_allocated = 0, counting = true;
    st = zoo_st_open(path, &f);
    if (st == ZOO_OK) st = zoo_st_read_f32(f, zoo_st_find(f, "big"), out, n);
    counting = false;
    ck_assert_int_eq(st, ZOO_OK);
    ck_assert_msg(bytes_allocated < (1 << 20), "reading 16 MB allocated %zu bytes",
                  bytes_allocated);
    ck_assert_int_eq(memcmp(out, data, sizeof(float) * (size_t)n), 0);
    zoo_st_close(f);
    free(data);
    free(out);
    remove_temp_dir(dir);
#else
    printf("test_streams_without_copying: skipped under AddressSanitizer (it owns malloc)\n");
#endif
}
END_TEST

Suite *make_suite(void) {
    Suite *s = suite_create("safetensors");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_round_trip);
    tcase_add_test(tc, test_non_finite_weights_refused);
    tcase_add_test(tc, test_output_is_deterministic);
    tcase_add_test(tc, test_matches_huggingface_bytes);
    tcase_add_test(tc, test_conversions);
    tcase_add_test(tc, test_damaged_files);
    tcase_add_test(tc, test_truncated_and_scrambled);
    tcase_add_test(tc, test_writer_refuses);
    tcase_add_test(tc, test_failed_write_keeps_the_old_file);
    tcase_add_test(tc, test_streams_without_copying);
    suite_add_tcase(s, tc);
    return s;
}
