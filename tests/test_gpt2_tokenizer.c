/* The gpt2 tokenizer: GPT-2's byte-level BPE against OpenAI's encoder (the
 * shared test vectors and whole-corpus anchors, and cases found by comparing
 * with openai/gpt-2's src/encoder.py on random text), round trips, both file
 * namings, special tokens, the trainer, JSON, and errors naming the file. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "check_util.h"
#include "corpus_files.h"
#include "zoo/corpus.h"
#include "zoo/io.h"
#include "zoo/rng.h"
#include "zoo/tokenizer.h"

#define EOT_ID 50256

static char dir[256];

static const char *temp_dir(void) {
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "/tmp/zoo-gpt2-test.XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(dir));
    }
    return dir;
}

/* path = temp_dir()/name, written with text[0..len). */
static const char *write_temp(const char *name, const char *text, size_t len) {
    static char path[8][512];
    static int k;
    char *p = path[k++ % 8];
    snprintf(p, 512, "%s/%s", temp_dir(), name);
    char *slash = strrchr(p, '/');
    *slash = '\0';
    mkdir(p, 0700);
    *slash = '/';
    FILE *f = fopen(p, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(text, 1, len, f), len);
    fclose(f);
    return p;
}

/* The pretrained GPT-2 tokenizer from ../shared/data, or NULL with a skip line. */
static zoo_tokenizer *pretrained(const char *test) {
    char buf[512];
    const char *path = shared_data_path("tokenizers/gpt2", buf, sizeof buf);
    if (!path) {
        printf("SKIP %s: ../shared/data/tokenizers/gpt2 not found\n", test);
        return NULL;
    }
    zoo_tokenizer *t;
    ck_assert_msg(zoo_tokenizer_load_gpt2(path, &t) == ZOO_OK, "%s", zoo_error_message());
    return t;
}

static zoo_corpus *corpus_of(const char *text, size_t len) {
    static int serial;
    char name[64];
    snprintf(name, sizeof name, "corpus%d.txt", serial++);
    const char *paths[] = {write_temp(name, text, len)};
    zoo_corpus *c;
    ck_assert_int_eq(zoo_corpus_open(paths, 1, ZOO_UTF8_ERROR, &c), ZOO_OK);
    return c;
}

static zoo_tokenizer *train(const char *text, int32_t max_size) {
    zoo_corpus *c = corpus_of(text, strlen(text));
    zoo_tokenizer_settings s = ZOO_TOKENIZER_SETTINGS_INIT;
    s.max_size = max_size;
    zoo_tokenizer *t;
    ck_assert_msg(zoo_tokenizer_train("gpt2", &s, c, &t) == ZOO_OK, "%s", zoo_error_message());
    zoo_corpus_close(c);
    return t;
}

static void assert_ids(const zoo_tokenizer *t, const char *text, size_t len, const int32_t *want,
                       int64_t n, const char *what) {
    zoo_ids ids = {0};
    ck_assert_msg(zoo_tokenizer_encode(t, text, len, &ids) == ZOO_OK, "%s: %s", what,
                  zoo_error_message());
    int64_t diff = 0;
    while (diff < ids.count && diff < n && ids.ids[diff] == want[diff]) diff++;
    ck_assert_msg(ids.count == n && diff == n,
                  "%s: %lld ids, expected %lld; first difference at %lld", what,
                  (long long)ids.count, (long long)n, (long long)diff);
    zoo_ids_free(&ids);
}

static void assert_round_trip(const zoo_tokenizer *t, const char *text, size_t len) {
    zoo_ids ids = {0};
    ck_assert_msg(zoo_tokenizer_encode(t, text, len, &ids) == ZOO_OK, "%s", zoo_error_message());
    size_t back_len;
    char *back = zoo_tokenizer_decode(t, ids.ids, ids.count, &back_len);
    ck_assert_ptr_nonnull(back);
    ck_assert_uint_eq(back_len, len);
    ck_assert_msg(memcmp(back, text, len) == 0, "decode(encode(s)) != s");
    ck_assert_int_eq(back[len], '\0');
    free(back);
    zoo_ids_free(&ids);
}

/* The tokens of text joined by '|' (GPT-2's spellings), into a static buffer. */
static const char *tokens_of(const zoo_tokenizer *t, const char *text) {
    static char out[4096];
    zoo_ids ids = {0};
    ck_assert_msg(zoo_tokenizer_encode(t, text, strlen(text), &ids) == ZOO_OK, "%s",
                  zoo_error_message());
    size_t used = 0;
    out[0] = '\0';
    for (int64_t i = 0; i < ids.count; i++) {
        size_t len;
        const char *tok = zoo_tokenizer_token(t, ids.ids[i], &len);
        ck_assert_uint_lt(used + len + 2, sizeof out);
        if (i) out[used++] = '|';
        memcpy(out + used, tok, len);
        out[used += len] = '\0';
    }
    zoo_ids_free(&ids);
    return out;
}

static double ms_since(const struct timespec *t0) {
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

/* ---- against OpenAI's encoder ------------------------------------------- */

/* gpt2_test_vectors.jsonl: {"text", "ids"} per line. */
START_TEST(test_shared_vectors) {
    char buf[512];
    const char *path = shared_data_path("tokenizers/gpt2/gpt2_test_vectors.jsonl", buf, sizeof buf);
    zoo_tokenizer *t = path ? pretrained("test_shared_vectors") : NULL;
    if (!path) printf("SKIP test_shared_vectors: gpt2_test_vectors.jsonl not found\n");
    if (!t) return;
    ck_assert_int_eq(zoo_tokenizer_vocab_size(t), 50257);
    char *text = zoo_read_file(path, NULL);
    ck_assert_ptr_nonnull(text);
    int cases = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        cJSON *v = cJSON_Parse(line);
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(v, "text");
        const cJSON *ids = cJSON_GetObjectItemCaseSensitive(v, "ids");
        ck_assert(cJSON_IsString(s) && cJSON_IsArray(ids));
        int n = cJSON_GetArraySize(ids);
        int32_t *want = malloc(((size_t)n + 1) * sizeof *want);
        for (int i = 0; i < n; i++) want[i] = cJSON_GetArrayItem(ids, i)->valueint;
        assert_ids(t, s->valuestring, strlen(s->valuestring), want, n, s->valuestring);
        assert_round_trip(t, s->valuestring, strlen(s->valuestring));
        free(want);
        cJSON_Delete(v);
        cases++;
    }
    ck_assert_int_eq(cases, 33);
    free(text);
    zoo_tokenizer_free(t);
}
END_TEST

/* Found by comparing with openai/gpt-2's src/encoder.py (Python's regex
 * module) on random and adversarial text; the ids are that encoder's. They
 * pin down what \s, \p{L} and \p{N} mean and what the vectors above leave
 * out: U+0085 is white space to GPT-2 (not to JavaScript's \s), U+001C..1F
 * are not (Python's str.isspace says they are), nor U+FEFF (JavaScript says
 * it is); contractions are lowercase only; a combining mark is "other". */
static const struct {
    const char *text;
    size_t len;
    int32_t ids[24];
    int n;
} fixed[] = {
    {"a\xc2\x85"
     "b \xc2\x85 c\xc2\x85\xc2\x85"
     "d",
     14,
     {64, 126, 227, 65, 1587, 227, 269, 126, 227, 126, 227, 67},
     12},
    {"a\x1c"
     "b \x1f c\x1d\x1e",
     9,
     {64, 216, 65, 220, 219, 269, 217, 218},
     8},
    {"a\xef\xbb\xbf"
     "b \xef\xbb\xbf c",
     11,
     {64, 171, 119, 123, 65, 27332, 119, 123, 269},
     9},
    {"a\xe1\xa0\x8e"
     "b \xe2\x80\x8b c",
     11,
     {64, 157, 254, 236, 65, 20126, 269},
     7},
    {"x\xc2\xa0y \xc2\xa0z\xe3\x80\x80\xe3\x80\x80w",
     15,
     {87, 1849, 88, 220, 1849, 89, 5099, 222, 5099, 222, 86},
     11},
    {"\xe2\x80\xa8line\xe2\x80\xa9para\xe2\x80\xa8",
     17,
     {447, 101, 1370, 447, 102, 1845, 64, 447, 101},
     9},
    {"He'S they'LL I'M we'Ve 'tis ''s '",
     33,
     {1544, 6, 50, 484, 6, 3069, 314, 6, 44, 356, 6, 26979, 705, 48010, 10148, 82, 705},
     17},
    {"  'll x   's\n'd", 15, {220, 705, 297, 2124, 220, 220, 705, 82, 198, 1549}, 10},
    {"e\xcc\x81 \xcc\x81x \xcc\x81\xcc\x81",
     12,
     {68, 136, 223, 220, 136, 223, 87, 220, 136, 223, 136, 223},
     12},
    {"\xd9\xa3\xd9\xa4 \xef\xbc\x99 \xc2\xb2\xc2\xb3 \xc2\xbd \xe2\x85\xab \xe2\x91\xa0",
     24,
     {149, 96, 149, 97, 27332, 120, 247, 1587, 110, 126, 111, 25208, 2343, 227, 104, 2343, 239,
      254},
     18},
    {"\xc7\x85 \xca\xb0 \xc2\xaa \xe3\x80\x87",
     12,
     {131, 227, 220, 134, 108, 1587, 103, 220, 5099, 229},
     10},
    {"a\0b \0 \0\0", 8, {64, 188, 65, 220, 188, 220, 188, 188}, 8},
    {"\r\n\r\n  \r\n\t\t x \t\n",
     15,
     {201, 198, 201, 198, 220, 220, 201, 198, 197, 197, 2124, 220, 197, 198},
     14},
    {"end with spaces   ", 18, {437, 351, 9029, 220, 220, 220}, 6},
    {"tab\t word\t\tword \t\tword", 22, {8658, 197, 1573, 197, 197, 4775, 220, 197, 197, 4775}, 10},
    {"   !!!   \x3f\x3f\x3f   ...",
     18,
     {220, 220, 220, 10185, 220, 220, 34913, 220, 220, 2644},
     10},
    {"...and---then\x3f\x3f\x3f (yes)", 22, {986, 392, 6329, 8524, 28358, 357, 8505, 8}, 8},
    {"1,000,000.50 3.14159 0x1F 1e-9 \xc2\xbd",
     33,
     {16,    11,  830, 11, 830, 13,  1120, 513, 13, 1415,
      19707, 657, 87,  16, 37,  352, 68,   12,  24, 25208},
     20},
    {"\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x91\xa7 "
     "\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd \xf0\x9f\x87\xab\xf0\x9f\x87\xb7",
     36,
     {41840, 101,  447, 235, 41840, 102, 447, 235,  41840, 100, 50169,
      235,   8582, 237, 121, 12520, 229, 104, 8582, 229,   115},
     21},
    {"\xed\x95\x9c\xea\xb5\xad\xec\x96\xb4 \xe1\x84\x80\xe1\x85\xa1\xe1\x86\xa8",
     19,
     {47991, 250, 166, 113, 255, 168, 244, 112, 28053, 226, 222, 157, 227, 94, 157, 228, 101},
     17},
    {"<|endoftext|> <|endoftext|>x<|endoftext|>",
     41,
     {27,   91, 437, 1659, 5239, 91, 29,  1279, 91,   437, 1659,
      5239, 91, 29,  87,   27,   91, 437, 1659, 5239, 91,  29},
     22},
    {" \n \n", 4, {220, 198, 220, 198}, 4},
    /* each of these changes if one of the choices above is made otherwise */
    {" \xc2\x85"
     "2",
     4,
     {220, 126, 227, 17},
     4},
    {"\n\n\x1f", 3, {198, 198, 219}, 3},
    {"x\xef\xbb\xbf \xef\xbb\xbfn", 9, {87, 171, 119, 123, 27332, 119, 123, 77}, 8},
    {"\xcc\x88"
     "b.",
     4,
     {136, 230, 65, 13},
     4},
    {"t\xc2\xaa", 3, {83, 126, 103}, 3},
    {"'SL", 3, {6, 8634}, 2},
};

START_TEST(test_fixed_vectors) {
    zoo_tokenizer *t = pretrained("test_fixed_vectors");
    if (!t) return;
    char what[64];
    snprintf(what, sizeof what, "fixed[%d]", _i);
    assert_ids(t, fixed[_i].text, fixed[_i].len, fixed[_i].ids, fixed[_i].n, what);
    assert_round_trip(t, fixed[_i].text, fixed[_i].len);
    zoo_tokenizer_free(t);
}
END_TEST

/* The pieces GPT-2's pattern cuts, seen through the tokens. */
START_TEST(test_pieces) {
    zoo_tokenizer *t = pretrained("test_pieces");
    if (!t) return;
    ck_assert_str_eq(tokens_of(t, "Hello world"), "Hello|Ġworld");
    ck_assert_str_eq(tokens_of(t, "I'll don't"), "I|'ll|Ġdon|'t");
    ck_assert_str_eq(tokens_of(t, "a  b"), "a|Ġ|Ġb");     /* the last space joins "b" */
    ck_assert_str_eq(tokens_of(t, "a\n\nb"), "a|Ċ|Ċ|b");  /* \s+(?!\S) leaves one for \s+ */
    ck_assert_str_eq(tokens_of(t, "a\n\n"), "a|ĊĊ");      /* a run at the end stays whole */
    ck_assert_str_eq(tokens_of(t, "a \n b"), "a|Ġ|Ċ|Ġb"); /* \s+(?!\S) then " b" */
    ck_assert_str_eq(tokens_of(t, "x   "), "x|Ġ|Ġ|Ġ");    /* the run to the end */
    ck_assert_str_eq(tokens_of(t, "2024 is 10x"),
                     "20|24|Ġis|Ġ10|x"); /* digits apart from letters */
    zoo_tokenizer_free(t);
}
END_TEST

/* The same choices seen without GPT-2's files: trained on a corpus that
 * repeats each text, a tokenizer learns every piece of it whole, so the
 * tokens of a text are its pieces. */
START_TEST(test_pieces_learned) {
    static const struct {
        const char *text, *pieces;
    } cases[] = {
        {"Hello world's end, He'S they'RE 'll", "Hello|Ġworld|'s|Ġend|,|ĠHe|'|S|Ġthey|'|RE|Ġ'|ll"},
        {"a \xc2\x85"
         "b c\xc2\x85"
         "\xc2\x85"
         "d",
         "a|Ġ|Âħ|b|Ġc|Âħ|Âħ|d"},
        {"a \x1c"
         "b \x1f"
         "c",
         "a|ĠĜ|b|Ġğ|c"},
        {"a \xef\xbb\xbf"
         "b \xe2\x80\x8b"
         "c",
         "a|Ġï»¿|b|ĠâĢĭ|c"},
        {"x \xc2\xa0"
         "y \xe3\x80\x80"
         "z",
         "x|Ġ|Âł|y|Ġ|ãĢĢ|z"},
        {"e\xcc\x81"
         " \xcc\x81"
         "x",
         "e|Ìģ|ĠÌģ|x"},
        {"1½ Ⅷ① x²", "1Â½|Ġâħ§âĳł|Ġx|Â²"},
        {"tª ʰǅ", "tÂª|ĠÊ°Çħ"},
        {"a  b\n\n\nc \t d", "a|Ġ|Ġb|ĊĊ|Ċ|c|Ġĉ|Ġd"},
        {"2024abc!!\x3f\x3f $5", "2024|abc|!!??|Ġ$|5"},
    };
    const size_t n = sizeof cases / sizeof cases[0];
    char corpus[4096] = "";
    for (int rep = 0; rep < 3; rep++)
        for (size_t i = 0; i < n; i++) {
            strcat(corpus, cases[i].text);
            strcat(corpus, "\n");
        }
    zoo_tokenizer *t = train(corpus, 0);
    for (size_t i = 0; i < n; i++) ck_assert_str_eq(tokens_of(t, cases[i].text), cases[i].pieces);
    zoo_tokenizer_free(t);
}
END_TEST

static void check_anchor_ids(const cJSON *anchor, const char *key, const zoo_ids *ids) {
    const cJSON *first = cJSON_GetObjectItemCaseSensitive(anchor, key);
    ck_assert_int_eq(cJSON_GetArraySize(first), 100);
    for (int i = 0; i < 100; i++)
        ck_assert_msg(ids->ids[i] == cJSON_GetArrayItem(first, i)->valueint,
                      "%s[%d]: %d, expected %d", key, i, ids->ids[i],
                      cJSON_GetArrayItem(first, i)->valueint);
}

static cJSON *anchors(const char *test) {
    char buf[512];
    const char *path =
        shared_data_path("tokenizers/gpt2/gpt2_corpus_anchors.json", buf, sizeof buf);
    if (!path) {
        printf("SKIP %s: gpt2_corpus_anchors.json not found\n", test);
        return NULL;
    }
    char *text = zoo_read_file(path, NULL);
    ck_assert_ptr_nonnull(text);
    cJSON *a = cJSON_Parse(text);
    ck_assert_ptr_nonnull(a);
    free(text);
    return a;
}

/* nanoGPT's shakespeare: the first 90% of the characters and the rest, each
 * encoded on its own (301,966 and 36,059 tokens in nanoGPT's prepare.py). */
START_TEST(test_anchor_tinyshakespeare) {
    char buf[512];
    cJSON *a = anchors("test_anchor_tinyshakespeare");
    const char *path = a ? shared_data_path("corpus/tinyshakespeare.txt", buf, sizeof buf) : NULL;
    zoo_tokenizer *t = path ? pretrained("test_anchor_tinyshakespeare") : NULL;
    if (a && !path) printf("SKIP test_anchor_tinyshakespeare: tinyshakespeare.txt not found\n");
    if (!t) {
        cJSON_Delete(a);
        return;
    }
    const cJSON *ts = cJSON_GetObjectItemCaseSensitive(a, "tinyshakespeare");
    int64_t chars = (int64_t)cJSON_GetObjectItemCaseSensitive(ts, "chars")->valuedouble;
    size_t len;
    char *text = zoo_read_file(path, &len);
    ck_assert_ptr_nonnull(text);
    int64_t n_train_chars = (int64_t)(0.9 * (double)chars), seen = 0;
    ck_assert_int_eq(n_train_chars, 1003854);
    size_t cut = 0; /* the byte where character n_train_chars starts */
    for (; cut < len && seen < n_train_chars; cut++)
        seen += ((unsigned char)text[cut] & 0xC0) != 0x80;
    while (cut < len && ((unsigned char)text[cut] & 0xC0) == 0x80) cut++;
    zoo_ids train = {0}, val = {0};
    ck_assert_int_eq(zoo_tokenizer_encode(t, text, cut, &train), ZOO_OK);
    ck_assert_int_eq(zoo_tokenizer_encode(t, text + cut, len - cut, &val), ZOO_OK);
    ck_assert_int_eq(train.count,
                     (int64_t)cJSON_GetObjectItemCaseSensitive(ts, "n_train_tokens")->valuedouble);
    ck_assert_int_eq(val.count,
                     (int64_t)cJSON_GetObjectItemCaseSensitive(ts, "n_val_tokens")->valuedouble);
    ck_assert_int_eq(train.count, 301966);
    ck_assert_int_eq(val.count, 36059);
    check_anchor_ids(ts, "first_100_train_ids", &train);
    assert_round_trip(t, text, len);
    zoo_ids_free(&train);
    zoo_ids_free(&val);
    free(text);
    cJSON_Delete(a);
    zoo_tokenizer_free(t);
}
END_TEST

/* The King James Bible, 4 MB in one call: 1,024,544 tokens. The time is
 * information only. */
START_TEST(test_anchor_kjv) {
    char buf[512];
    cJSON *a = anchors("test_anchor_kjv");
    const char *path = a ? shared_data_path("corpus/kjv.txt", buf, sizeof buf) : NULL;
    zoo_tokenizer *t = path ? pretrained("test_anchor_kjv") : NULL;
    if (a && !path) printf("SKIP test_anchor_kjv: corpus/kjv.txt not found\n");
    if (!t) {
        cJSON_Delete(a);
        return;
    }
    const cJSON *kjv = cJSON_GetObjectItemCaseSensitive(a, "kjv");
    size_t len;
    char *text = zoo_read_file(path, &len);
    ck_assert_ptr_nonnull(text);
    zoo_ids ids = {0};
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ck_assert_int_eq(zoo_tokenizer_encode(t, text, len, &ids), ZOO_OK);
    double encode_ms = ms_since(&t0);
    ck_assert_int_eq(
        ids.count,
        (int64_t)cJSON_GetObjectItemCaseSensitive(kjv, "n_tokens_whole_file")->valuedouble);
    ck_assert_int_eq(ids.count, 1024544);
    check_anchor_ids(kjv, "first_100_ids", &ids);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    size_t back_len;
    char *back = zoo_tokenizer_decode(t, ids.ids, ids.count, &back_len);
    double decode_ms = ms_since(&t0);
    ck_assert(back && back_len == len && memcmp(back, text, len) == 0);
    printf("kjv: gpt2 encoded %zu bytes into %lld tokens in %.0f ms, decoded in %.0f ms\n", len,
           (long long)ids.count, encode_ms, decode_ms);
    free(back);
    zoo_ids_free(&ids);
    free(text);
    cJSON_Delete(a);
    zoo_tokenizer_free(t);
}
END_TEST

/* ---- round trips ------------------------------------------------------------ */

/* Random valid UTF-8 made of the byte-level edge cases: characters of 1 to 4
 * bytes (which BPE tokens cut apart), emoji sequences, Korean, combining
 * marks, every kind of white space alone and in runs, \r\n, NUL,
 * contractions, and any code point at all. */
static char *random_text(zoo_rng *rng, size_t cap, size_t *len) {
    static const char *const pool[] = {"the",
                                       " the",
                                       "The",
                                       "a",
                                       " ",
                                       "  ",
                                       "   ",
                                       "\t",
                                       "\n",
                                       "\r\n",
                                       "\n\n",
                                       " \n",
                                       "\t ",
                                       "\v",
                                       "\f",
                                       "\r",
                                       "'s",
                                       "'t",
                                       "'re",
                                       "'ve",
                                       "'m",
                                       "'ll",
                                       "'d",
                                       "'S",
                                       "'",
                                       "''",
                                       "0",
                                       "42",
                                       " 1999",
                                       "3.14",
                                       ",",
                                       ".",
                                       "!",
                                       "?!",
                                       "...",
                                       "--",
                                       "(",
                                       ")",
                                       "\"",
                                       "é",
                                       "e\xcc\x81",
                                       "\xcc\x81",
                                       "\xcc\x88\xcc\x81",
                                       "ß",
                                       "Ω",
                                       "жизнь",
                                       "中文",
                                       "测试",
                                       "한국어",
                                       "\xe1\x84\x80\xe1\x85\xa1",
                                       "😀",
                                       "👋",
                                       "❤️",
                                       "👨\u200d👩\u200d👧",
                                       "👍🏽",
                                       "🇫🇷",
                                       "\xe2\x80\x8d",
                                       "\xef\xb8\x8f",
                                       "\xc2\x85",
                                       "\xc2\xa0",
                                       "\xe2\x80\xa8",
                                       "\xe3\x80\x80",
                                       "\x1c",
                                       "\x1f",
                                       "\xef\xbb\xbf",
                                       "\xe2\x80\x8b",
                                       "\0",
                                       "\x7f",
                                       "\xc2\xad",
                                       "<|endoftext|>",
                                       "٣",
                                       "½",
                                       "Ⅻ",
                                       "ʰ",
                                       "ǅ"};
    const size_t n_pool = sizeof pool / sizeof pool[0];
    char *text = malloc(cap + 64);
    size_t used = 0;
    while (used < cap) {
        uint64_t r = zoo_rng_below(rng, 10);
        if (r < 8) {
            const char *p = pool[zoo_rng_below(rng, n_pool)];
            size_t k = *p ? strlen(p) : 1; /* "\0" is one NUL */
            memcpy(text + used, p, k);
            used += k;
        } else {
            uint64_t range = zoo_rng_below(rng, 4);
            int32_t cp = (int32_t)zoo_rng_below(rng, range == 0   ? 0x80
                                                     : range == 1 ? 0x800
                                                     : range == 2 ? 0x10000
                                                                  : 0x110000);
            if (cp >= 0xD800 && cp <= 0xDFFF) continue;
            unsigned char *o = (unsigned char *)text + used;
            if (cp < 0x80)
                o[0] = (unsigned char)cp, used += 1;
            else if (cp < 0x800)
                o[0] = (unsigned char)(0xC0 | cp >> 6), o[1] = (unsigned char)(0x80 | (cp & 63)),
                used += 2;
            else if (cp < 0x10000)
                o[0] = (unsigned char)(0xE0 | cp >> 12),
                o[1] = (unsigned char)(0x80 | (cp >> 6 & 63)),
                o[2] = (unsigned char)(0x80 | (cp & 63)), used += 3;
            else
                o[0] = (unsigned char)(0xF0 | cp >> 18),
                o[1] = (unsigned char)(0x80 | (cp >> 12 & 63)),
                o[2] = (unsigned char)(0x80 | (cp >> 6 & 63)),
                o[3] = (unsigned char)(0x80 | (cp & 63)), used += 4;
        }
    }
    *len = used;
    return text;
}

/* A small corpus for training: English, a little of other scripts, so that
 * learned tokens end inside multibyte characters. */
static const char corpus_text[] =
    "The quick brown fox jumps over the lazy dog. The dog sleeps; the fox runs.\n"
    "It's the fox's den, and they're sure it'll rain. We've seen 3 foxes in 2024.\n"
    "Café, naïve, résumé: é è ê. Ελληνικά και русский язык. 中文测试, 中文字.\n"
    "한국어 텍스트 한국어. Emoji 😀😀 👍🏽 ❤️ and more emoji 😀.\n"
    "    indented line\n\ttabbed line\r\nwindows line\n\n\nthe end   \n";

START_TEST(test_round_trip_random) {
    zoo_tokenizer *trained = train(corpus_text, 400);
    zoo_tokenizer *gpt2 = _i == 0 ? pretrained("test_round_trip_random (pretrained)") : NULL;
    zoo_rng rng;
    zoo_rng_seed(&rng, 1000 + (uint64_t)_i);
    for (int round = 0; round < 20; round++) {
        size_t len;
        char *text = random_text(&rng, 200 + 300 * (size_t)round, &len);
        assert_round_trip(trained, text, len);
        if (gpt2) assert_round_trip(gpt2, text, len);
        free(text);
    }
    assert_round_trip(trained, corpus_text, strlen(corpus_text));
    zoo_tokenizer_free(trained);
    zoo_tokenizer_free(gpt2);
}
END_TEST

/* Decoding ids that cut a character apart gives U+FFFD for each maximal
 * invalid part, as GPT-2's errors="replace" does; whole sequences come back. */
START_TEST(test_decode_cut_characters) {
    zoo_tokenizer *t = train("plain ascii text only", 0);
    zoo_ids ids = {0};
    ck_assert_int_eq(zoo_tokenizer_encode(t, "€", 3, &ids), ZOO_OK); /* E2 82 AC: three bytes */
    ck_assert_int_eq(ids.count, 3);
    size_t len;
    char *s = zoo_tokenizer_decode(t, ids.ids, 2, &len);
    ck_assert_str_eq(s, "\xEF\xBF\xBD"); /* E2 82 is one maximal part */
    free(s);
    int32_t swapped[] = {ids.ids[1], ids.ids[0], ids.ids[2]}; /* 82 E2 AC */
    s = zoo_tokenizer_decode(t, swapped, 3, &len);
    ck_assert_str_eq(s, "\xEF\xBF\xBD\xEF\xBF\xBD"); /* 82, then E2 AC */
    free(s);
    s = zoo_tokenizer_decode(t, ids.ids, 3, &len);
    ck_assert_str_eq(s, "€");
    ck_assert_uint_eq(len, 3);
    free(s);
    int32_t bad = zoo_tokenizer_vocab_size(t);
    ck_assert_ptr_null(zoo_tokenizer_decode(t, &bad, 1, NULL));
    zoo_ids_free(&ids);
    zoo_tokenizer_free(t);
}
END_TEST

START_TEST(test_invalid_utf8) {
    zoo_tokenizer *t = train("abc abc", 0);
    zoo_ids ids = {0};
    ck_assert_int_eq(zoo_tokenizer_encode(t, "ab", 2, &ids), ZOO_OK);
    int64_t before = ids.count;
    ck_assert_int_eq(zoo_tokenizer_encode(t, "ok \xC3(", 5, &ids), ZOO_ERR_FORMAT);
    ck_assert_str_eq(zoo_error_message(), "gpt2 tokenizer: invalid UTF-8 at byte offset 3");
    ck_assert_int_eq(ids.count, before); /* unchanged */
    ck_assert_int_eq(zoo_tokenizer_encode(t, "  \xED\xA0\x80", 5, &ids), ZOO_ERR_FORMAT);
    ck_assert_str_eq(zoo_error_message(), "gpt2 tokenizer: invalid UTF-8 at byte offset 2");
    ck_assert_int_eq(zoo_tokenizer_encode(t, "x\xF0\x9F\x98", 4, &ids), ZOO_ERR_FORMAT);
    ck_assert_str_eq(zoo_error_message(), "gpt2 tokenizer: invalid UTF-8 at byte offset 1");
    ck_assert_int_eq(ids.count, before);
    zoo_ids_free(&ids);
    zoo_tokenizer_free(t);
}
END_TEST

/* ---- special tokens ---------------------------------------------------------- */

START_TEST(test_special_tokens) {
    zoo_tokenizer *t = pretrained("test_special_tokens");
    if (!t) return;
    ck_assert_int_eq(zoo_tokenizer_special(t, ZOO_TOK_EOS), EOT_ID);
    ck_assert_int_eq(zoo_tokenizer_special(t, ZOO_TOK_BOS), EOT_ID);
    ck_assert_int_eq(zoo_tokenizer_special(t, ZOO_TOK_UNK), -1);
    ck_assert(zoo_tokenizer_is_special(t, EOT_ID));
    ck_assert_str_eq(zoo_tokenizer_token(t, EOT_ID, NULL), "<|endoftext|>");
    const char *text = "Hi<|endoftext|> there<|endoftext|>";
    const int32_t plain[] = {17250, 27, 91, 437, 1659, 5239, 91, 29,
                             612,   27, 91, 437, 1659, 5239, 91, 29};
    assert_ids(t, text, strlen(text), plain, 16, "plain text");
    zoo_ids ids = {0};
    ck_assert_int_eq(zoo_tokenizer_encode_special(t, text, strlen(text), &ids), ZOO_OK);
    const int32_t special[] = {17250, EOT_ID, 612, EOT_ID};
    ck_assert_int_eq(ids.count, 4);
    ck_assert_int_eq(memcmp(ids.ids, special, sizeof special), 0);
    char *back = zoo_tokenizer_decode(t, ids.ids, ids.count, NULL);
    ck_assert_str_eq(back, text);
    free(back);
    ids.count = 0;
    ck_assert_int_eq(zoo_tokenizer_encode_special(t, "<|endoftext|", 12, &ids), ZOO_OK);
    ck_assert_int_eq(ids.count, 6); /* not the whole string: plain text */
    ids.count = 0;
    ck_assert_int_eq(zoo_tokenizer_encode_special(t, "<|endoftext|>\xFF", 14, &ids),
                     ZOO_ERR_FORMAT);
    ck_assert_int_eq(ids.count, 0);
    zoo_ids_free(&ids);
    zoo_tokenizer_free(t);
}
END_TEST

/* encode_special is the interface's: any type, longest string first. */
START_TEST(test_encode_special_other_types) {
    const zoo_special specials[] = {ZOO_TOK_MASK, ZOO_TOK_UNK};
    zoo_tokenizer_settings s = ZOO_TOKENIZER_SETTINGS_INIT;
    s.specials = specials, s.n_specials = 2;
    zoo_corpus *c = corpus_of("ab[M]", 5);
    zoo_tokenizer *t;
    ck_assert_int_eq(zoo_tokenizer_train("char", &s, c, &t), ZOO_OK);
    zoo_ids ids = {0};
    ck_assert_int_eq(zoo_tokenizer_encode_special(t, "a[MASK]b[MASK]", 14, &ids), ZOO_OK);
    int32_t a = zoo_tokenizer_id(t, "a", 1), b = zoo_tokenizer_id(t, "b", 1);
    const int32_t want[] = {a, 0, b, 0};
    ck_assert_int_eq(ids.count, 4);
    ck_assert_int_eq(memcmp(ids.ids, want, sizeof want), 0);
    ids.count = 0;
    ck_assert_int_eq(zoo_tokenizer_encode(t, "[MASK]", 6, &ids), ZOO_OK);
    ck_assert_int_eq(ids.count, 6); /* plain text: each character, [UNK] for the unseen */
    /* a special that is a prefix of another: the longer one wins */
    int32_t bracket = zoo_tokenizer_id(t, "[", 1);
    ck_assert_int_eq(zoo_tokenizer_set_special(t, ZOO_TOK_PAD, bracket), ZOO_OK);
    ids.count = 0;
    ck_assert_int_eq(zoo_tokenizer_encode_special(t, "a[MASK][b", 9, &ids), ZOO_OK);
    const int32_t longest[] = {a, 0, bracket, b};
    ck_assert_int_eq(ids.count, 4);
    ck_assert_int_eq(memcmp(ids.ids, longest, sizeof longest), 0);
    zoo_ids_free(&ids);
    zoo_tokenizer_free(t);
    zoo_corpus_close(c);
}
END_TEST

/* ---- files ------------------------------------------------------------------ */

/* A vocabulary file (JSON object) and a merges file for tokenizer t. */
static void write_files(const zoo_tokenizer *t, const char *vocab_name, const char *merges_name) {
    cJSON *v = cJSON_CreateObject();
    for (int32_t id = 0; id < zoo_tokenizer_vocab_size(t); id++)
        cJSON_AddNumberToObject(v, zoo_tokenizer_token(t, id, NULL), id);
    char *vocab = cJSON_PrintUnformatted(v);
    write_temp(vocab_name, vocab, strlen(vocab));
    free(vocab);
    cJSON_Delete(v);
    /* the merges are in the JSON form, in rank order */
    char *json = zoo_tokenizer_to_json(t);
    cJSON *root = cJSON_Parse(json);
    const cJSON *merges =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(root, "model"), "merges");
    size_t cap = 64 + strlen(json), used = 0;
    char *text = malloc(cap);
    used += (size_t)snprintf(text, cap, "#version: 0.2\n");
    for (const cJSON *m = merges->child; m; m = m->next)
        used += (size_t)snprintf(text + used, cap - used, "%s\n", m->valuestring);
    write_temp(merges_name, text, used);
    free(text);
    cJSON_Delete(root);
    free(json);
}

START_TEST(test_both_file_namings) {
    zoo_tokenizer *t = train(corpus_text, 310);
    write_files(t, "hf/vocab.json", "hf/merges.txt");
    write_files(t, "openai/encoder.json", "openai/vocab.bpe");
    char hf[300], openai[300];
    snprintf(hf, sizeof hf, "%s/hf", temp_dir());
    snprintf(openai, sizeof openai, "%s/openai", temp_dir());
    zoo_tokenizer *a, *b;
    ck_assert_msg(zoo_tokenizer_load_gpt2(hf, &a) == ZOO_OK, "%s", zoo_error_message());
    ck_assert_msg(zoo_tokenizer_load_gpt2(openai, &b) == ZOO_OK, "%s", zoo_error_message());
    ck_assert_str_eq(zoo_tokenizer_type(a), "gpt2");
    ck_assert_int_eq(zoo_tokenizer_vocab_size(a), 310);
    ck_assert_int_eq(zoo_tokenizer_vocab_size(b), 310);
    ck_assert_int_eq(zoo_tokenizer_special(a, ZOO_TOK_EOS), 309); /* <|endoftext|> */
    zoo_ids x = {0}, y = {0}, z = {0};
    ck_assert_int_eq(zoo_tokenizer_encode(t, corpus_text, strlen(corpus_text), &x), ZOO_OK);
    ck_assert_int_eq(zoo_tokenizer_encode(a, corpus_text, strlen(corpus_text), &y), ZOO_OK);
    ck_assert_int_eq(zoo_tokenizer_encode(b, corpus_text, strlen(corpus_text), &z), ZOO_OK);
    ck_assert_int_eq(x.count, y.count);
    ck_assert_int_eq(x.count, z.count);
    ck_assert_int_eq(memcmp(x.ids, y.ids, (size_t)x.count * 4), 0);
    ck_assert_int_eq(memcmp(x.ids, z.ids, (size_t)x.count * 4), 0);
    ck_assert_int_lt(x.count, (int64_t)strlen(corpus_text) - 100); /* the merges are used */
    zoo_ids_free(&x), zoo_ids_free(&y), zoo_ids_free(&z);
    zoo_tokenizer_free(a), zoo_tokenizer_free(b), zoo_tokenizer_free(t);

    /* the shared files under HuggingFace's names too */
    char buf[512];
    const char *path = shared_data_path("tokenizers/gpt2", buf, sizeof buf);
    if (!path) {
        printf("SKIP test_both_file_namings (shared files): ../shared/data/tokenizers/gpt2 not "
               "found\n");
        return;
    }
    char src[600], dst[600];
    snprintf(src, sizeof src, "%s/encoder.json", path);
    snprintf(dst, sizeof dst, "%s/real/vocab.json", temp_dir());
    snprintf(hf, sizeof hf, "%s/real", temp_dir());
    mkdir(hf, 0700);
    ck_assert_int_eq(symlink(src, dst), 0);
    snprintf(src, sizeof src, "%s/vocab.bpe", path);
    snprintf(dst, sizeof dst, "%s/real/merges.txt", temp_dir());
    ck_assert_int_eq(symlink(src, dst), 0);
    ck_assert_int_eq(zoo_tokenizer_load_gpt2(hf, &a), ZOO_OK);
    const int32_t hello[] = {15496, 11, 995, 0};
    assert_ids(a, "Hello, world!", 13, hello, 4, "vocab.json + merges.txt");
    zoo_tokenizer_free(a);
}
END_TEST

/* GPT-2's bpe() merges every occurrence of the lowest-ranked pair before it
 * looks at the pairs that makes. That shows with a merge list where a merge
 * comes before the one making its left token ("ab a" before "a b"): "abab"
 * is ab|ab (as openai/gpt-2's encoder.py gives), not aba|b. */
START_TEST(test_merges_in_rounds) {
    zoo_tokenizer *bytes = train("x", 257); /* the 256 byte tokens and <|endoftext|> */
    cJSON *v = cJSON_CreateObject();
    for (int32_t id = 0; id < 256; id++)
        cJSON_AddNumberToObject(v, zoo_tokenizer_token(bytes, id, NULL), id);
    cJSON_AddNumberToObject(v, "ab", 256);
    cJSON_AddNumberToObject(v, "aba", 257);
    char *vocab = cJSON_PrintUnformatted(v);
    write_temp("rounds/vocab.json", vocab, strlen(vocab));
    write_temp("rounds/merges.txt", "ab a\na b\n", 9);
    free(vocab);
    cJSON_Delete(v);
    zoo_tokenizer_free(bytes);
    char path[300];
    snprintf(path, sizeof path, "%s/rounds", temp_dir());
    zoo_tokenizer *t;
    ck_assert_msg(zoo_tokenizer_load_gpt2(path, &t) == ZOO_OK, "%s", zoo_error_message());
    ck_assert_str_eq(tokens_of(t, "abab"), "ab|ab");
    ck_assert_str_eq(tokens_of(t, "ababab"), "ab|ab|ab");
    ck_assert_str_eq(tokens_of(t, "aab"), "a|ab");
    ck_assert_int_eq(zoo_tokenizer_special(t, ZOO_TOK_EOS), -1); /* no <|endoftext|> here */
    zoo_tokenizer_free(t);
}
END_TEST

/* Each broken file gives its own message naming the file. */
START_TEST(test_file_errors) {
    zoo_tokenizer *t = train(corpus_text, 300);
    write_files(t, "good/vocab.json", "good/merges.txt");
    zoo_tokenizer_free(t);
    char good_vocab[300], good_merges[300], path[300];
    snprintf(good_vocab, sizeof good_vocab, "%s/good/vocab.json", temp_dir());
    snprintf(good_merges, sizeof good_merges, "%s/good/merges.txt", temp_dir());
    char *vocab = zoo_read_file(good_vocab, NULL), *merges = zoo_read_file(good_merges, NULL);
    ck_assert(vocab && merges);

    /* no files, or half a pair */
    snprintf(path, sizeof path, "%s/empty", temp_dir());
    mkdir(path, 0700);
    ck_assert_int_eq(zoo_tokenizer_load_gpt2(path, &t), ZOO_ERR_NOTFOUND);
    ck_assert_ptr_null(t);
    char want[1024];
    snprintf(want, sizeof want,
             "%s: no GPT-2 tokenizer files (vocab.json and merges.txt, or encoder.json and "
             "vocab.bpe)",
             path);
    ck_assert_str_eq(zoo_error_message(), want);
    write_temp("half/encoder.json", vocab, strlen(vocab));
    snprintf(path, sizeof path, "%s/half", temp_dir());
    ck_assert_int_eq(zoo_tokenizer_load_gpt2(path, &t), ZOO_ERR_NOTFOUND);
    snprintf(want, sizeof want, "%s: found encoder.json but not vocab.bpe beside it", path);
    ck_assert_str_eq(zoo_error_message(), want);
    snprintf(path, sizeof path, "%s/none.json", temp_dir());
    ck_assert_int_eq(zoo_tokenizer_load_gpt2_files(path, good_merges, &t), ZOO_ERR_IO);
    ck_assert_ptr_nonnull(strstr(zoo_error_message(), path));

    /* broken vocabularies */
    static const struct {
        const char *text, *message;
    } bad_vocab[] = {
        {"{\"a\": 0,", "not valid JSON (at byte 8)"},
        {"[]", "expected a JSON object of token → id"},
        {"{}", "the vocabulary is empty"},
        {"{\"a\": 0, \"b\": 2}", "\"b\": expected an id in [0, 2)"},
        {"{\"a\": 0, \"b\": 0}", "\"a\" and \"b\" both have the id 0"},
        {"{\"a\": 0, \"a\": 1}", "\"a\" is listed twice"},
        {"{\"a\": \"0\"}", "\"a\": expected an id in [0, 1)"},
        {"{\"a\": 0, \"a b\": 1}", "token 1 \"a b\" has a character that stands for no byte "
                                   "(GPT-2 spells bytes as '!'..'~', '¡'..'¬', '®'..'ÿ', "
                                   "'Ā'..'Ń')"},
        {"{\"a\": 0}", "no token for the byte 0x00 (\"Ā\")"},
    };
    for (size_t i = 0; i < sizeof bad_vocab / sizeof bad_vocab[0]; i++) {
        const char *p = write_temp("bad/vocab.json", bad_vocab[i].text, strlen(bad_vocab[i].text));
        ck_assert_int_ne(zoo_tokenizer_load_gpt2_files(p, good_merges, &t), ZOO_OK);
        snprintf(want, sizeof want, "%s: %s", p, bad_vocab[i].message);
        ck_assert_str_eq(zoo_error_message(), want);
        ck_assert_ptr_null(t);
    }

    /* broken merges, appended to the good ones (43 merges, lines 2..44) */
    static const struct {
        const char *line, *message;
    } bad_merges[] = {
        {"h e\n", "line 45: the merge \"h e\" is listed twice"},
        {"Ġt\n", "line 45: expected two tokens separated by one space, got \"Ġt\""},
        {"Ġ  t\n", "line 45: expected two tokens separated by one space, got \"Ġ  t\""},
        {"Ġ zzz\n", "line 45: \"zzz\" is not in the vocabulary"},
        {"x q\n", "line 45: the merged token \"xq\" is not in the vocabulary"},
        {"\nx y\n", "line 45 is empty"},
    };
    t = train(corpus_text, 300);
    char *json = zoo_tokenizer_to_json(t);
    ck_assert_ptr_nonnull(strstr(json, "\"h e\""));
    free(json);
    zoo_tokenizer_free(t);
    size_t n_good = strlen(merges);
    int lines = 0;
    for (size_t i = 0; i < n_good; i++) lines += merges[i] == '\n';
    ck_assert_int_eq(lines, 44);
    for (size_t i = 0; i < sizeof bad_merges / sizeof bad_merges[0]; i++) {
        size_t k = strlen(bad_merges[i].line);
        char *text = malloc(n_good + k);
        memcpy(text, merges, n_good);
        memcpy(text + n_good, bad_merges[i].line, k);
        const char *p = write_temp("bad/merges.txt", text, n_good + k);
        free(text);
        ck_assert_int_eq(zoo_tokenizer_load_gpt2_files(good_vocab, p, &t), ZOO_ERR_FORMAT);
        snprintf(want, sizeof want, "%s: %s", p, bad_merges[i].message);
        ck_assert_str_eq(zoo_error_message(), want);
        ck_assert_ptr_null(t);
    }
    /* blank lines at the end and \r\n endings are fine */
    char *crlf = malloc(2 * n_good + 8);
    size_t used = 0;
    for (size_t i = 0; i < n_good; i++) {
        if (merges[i] == '\n') crlf[used++] = '\r';
        crlf[used++] = merges[i];
    }
    memcpy(crlf + used, "\r\n\n", 3);
    const char *p = write_temp("crlf/merges.txt", crlf, used + 3);
    free(crlf);
    ck_assert_msg(zoo_tokenizer_load_gpt2_files(good_vocab, p, &t) == ZOO_OK, "%s",
                  zoo_error_message());
    zoo_tokenizer_free(t);
    free(vocab);
    free(merges);
}
END_TEST

/* ---- training ----------------------------------------------------------------- */

/* Pieces "aaab", " aaab", " aab", " ab". Pairs: a a 5, a b 4, Ġ a 3: merge
 * "a a". Then a b 3 (aa+a+b, Ġ+aa+a+b, Ġ+a+b): merge "a b". Then Ġ aa and
 * aa ab both occur twice; Ġ (0x20) sorts before aa: merge "Ġ aa". Every pair
 * left occurs once: training stops there. */
START_TEST(test_train_by_hand) {
    zoo_tokenizer *t = train("aaab aaab aab ab", 0);
    ck_assert_int_eq(zoo_tokenizer_vocab_size(t), 256 + 3 + 1);
    ck_assert_str_eq(zoo_tokenizer_token(t, 256, NULL), "aa");
    ck_assert_str_eq(zoo_tokenizer_token(t, 257, NULL), "ab");
    ck_assert_str_eq(zoo_tokenizer_token(t, 258, NULL), "Ġaa");
    ck_assert_str_eq(zoo_tokenizer_token(t, 259, NULL), "<|endoftext|>");
    ck_assert_int_eq(zoo_tokenizer_special(t, ZOO_TOK_EOS), 259);
    ck_assert_int_eq(zoo_tokenizer_special(t, ZOO_TOK_BOS), 259);
    char *json = zoo_tokenizer_to_json(t);
    ck_assert_ptr_nonnull(strstr(json, "\"merges\":[\"a a\",\"a b\",\"Ġ aa\"]}"));
    free(json);
    ck_assert_str_eq(tokens_of(t, "aaab aaab"), "aa|ab|Ġaa|ab");
    ck_assert_str_eq(tokens_of(t, "aaaa"), "aa|aa");
    ck_assert_str_eq(tokens_of(t, " aaa"), "Ġaa|a");
    ck_assert_str_eq(tokens_of(t, "baab"), "b|aa|b");
    zoo_ids ids = {0}; /* <|endoftext|> is plain text unless asked for */
    ck_assert_int_eq(zoo_tokenizer_encode_special(t, "aa<|endoftext|>ab", 17, &ids), ZOO_OK);
    const int32_t with_eot[] = {256, 259, 257};
    ck_assert_int_eq(ids.count, 3);
    ck_assert_int_eq(memcmp(ids.ids, with_eot, sizeof with_eot), 0);
    ck_assert_str_eq(tokens_of(t, "aa<|endoftext|>ab"), "aa|<|||e|n|d|o|f|t|e|x|t|||>|ab");
    zoo_ids_free(&ids);
    /* the byte tokens are GPT-2's, in GPT-2's order */
    ck_assert_str_eq(zoo_tokenizer_token(t, 0, NULL), "!");
    ck_assert_str_eq(zoo_tokenizer_token(t, 188, NULL), "Ā");
    ck_assert_str_eq(zoo_tokenizer_token(t, 220, NULL), "Ġ");
    zoo_tokenizer_free(t);

    t = train("aaab aaab aab ab", 258); /* room for one merge */
    ck_assert_int_eq(zoo_tokenizer_vocab_size(t), 258);
    ck_assert_str_eq(tokens_of(t, "aaab aaab"), "aa|a|b|Ġ|aa|a|b");
    zoo_tokenizer_free(t);
}
END_TEST

START_TEST(test_train_size_determinism_and_json) {
    const zoo_special mlm[] = {ZOO_TOK_PAD, ZOO_TOK_UNK, ZOO_TOK_CLS, ZOO_TOK_SEP, ZOO_TOK_MASK};
    zoo_tokenizer_settings s = ZOO_TOKENIZER_SETTINGS_INIT;
    s.max_size = 320, s.specials = mlm, s.n_specials = 5;
    zoo_corpus *c = corpus_of(corpus_text, strlen(corpus_text));
    zoo_tokenizer *a, *b;
    ck_assert_int_eq(zoo_tokenizer_train("gpt2", &s, c, &a), ZOO_OK);
    ck_assert_int_eq(zoo_tokenizer_train("gpt2", &s, c, &b), ZOO_OK);
    ck_assert_int_eq(zoo_tokenizer_vocab_size(a), 320);
    /* <|endoftext|>, then the specials asked for; no [UNK]: every text encodes */
    ck_assert_str_eq(zoo_tokenizer_token(a, 315, NULL), "<|endoftext|>");
    ck_assert_int_eq(zoo_tokenizer_special(a, ZOO_TOK_PAD), 316);
    ck_assert_int_eq(zoo_tokenizer_special(a, ZOO_TOK_CLS), 317);
    ck_assert_int_eq(zoo_tokenizer_special(a, ZOO_TOK_SEP), 318);
    ck_assert_int_eq(zoo_tokenizer_special(a, ZOO_TOK_MASK), 319);
    ck_assert_str_eq(zoo_tokenizer_token(a, 319, NULL), "[MASK]");
    ck_assert_int_eq(zoo_tokenizer_special(a, ZOO_TOK_UNK), -1);
    char *ja = zoo_tokenizer_to_json(a), *jb = zoo_tokenizer_to_json(b);
    ck_assert_str_eq(ja, jb); /* deterministic */
    zoo_tokenizer *back;
    ck_assert_int_eq(zoo_tokenizer_from_json(ja, &back), ZOO_OK);
    char *jback = zoo_tokenizer_to_json(back);
    ck_assert_str_eq(ja, jback);
    ck_assert_int_eq(zoo_tokenizer_special(back, ZOO_TOK_MASK), 319);
    ck_assert_int_eq(zoo_tokenizer_special(back, ZOO_TOK_EOS), 315);
    ck_assert_str_eq(tokens_of(back, "The fox's den"), tokens_of(a, "The fox's den"));
    assert_round_trip(back, corpus_text, strlen(corpus_text));
    /* the most frequent pairs of this corpus come first: "he" of "the", then "in" */
    ck_assert_ptr_nonnull(strstr(ja, "\"merges\":[\"h e\",\"i n\",\"t he\","));
    free(ja), free(jb), free(jback);
    zoo_tokenizer_free(back);
    zoo_tokenizer_free(b);

    /* a larger size than the corpus supports stops when every pair is unique */
    s.max_size = 5000;
    ck_assert_int_eq(zoo_tokenizer_train("gpt2", &s, c, &b), ZOO_OK);
    ck_assert_int_gt(zoo_tokenizer_vocab_size(b), 320);
    ck_assert_int_lt(zoo_tokenizer_vocab_size(b), 5000);
    assert_round_trip(b, corpus_text, strlen(corpus_text));
    zoo_tokenizer_free(b);

    /* min_count raises the bar a pair must reach */
    s.max_size = 0, s.min_count = 4, s.n_specials = 0;
    ck_assert_int_eq(zoo_tokenizer_train("gpt2", &s, c, &b), ZOO_OK);
    ck_assert_int_lt(zoo_tokenizer_vocab_size(b), 320);
    zoo_tokenizer_free(b);

    s.min_count = 1, s.max_size = 256;
    ck_assert_int_eq(zoo_tokenizer_train("gpt2", &s, c, &b), ZOO_ERR_ARG);
    ck_assert_str_eq(
        zoo_error_message(),
        "gpt2 tokenizer: max_size 256 is below the 256 byte tokens and 1 special token");
    s.max_size = 0, s.lowercase = true;
    ck_assert_int_eq(zoo_tokenizer_train("gpt2", &s, c, &b), ZOO_ERR_ARG);
    ck_assert_str_eq(zoo_error_message(), "gpt2 tokenizer: lowercase does not apply (byte-level "
                                          "BPE keeps the text as it is)");
    ck_assert_ptr_null(b);
    zoo_tokenizer_free(a);
    zoo_corpus_close(c);
}
END_TEST

/* tinyshakespeare: a 2,000-token vocabulary; the time is information only. */
START_TEST(test_train_tinyshakespeare) {
    char buf[512];
    const char *path = shared_data_path("corpus/tinyshakespeare.txt", buf, sizeof buf);
    if (!path) {
        printf("SKIP test_train_tinyshakespeare: corpus/tinyshakespeare.txt not found\n");
        return;
    }
    const char *paths[] = {path};
    zoo_corpus *c;
    ck_assert_int_eq(zoo_corpus_open(paths, 1, ZOO_UTF8_ERROR, &c), ZOO_OK);
    zoo_tokenizer_settings s = ZOO_TOKENIZER_SETTINGS_INIT;
    s.max_size = 2000;
    zoo_tokenizer *t;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ck_assert_int_eq(zoo_tokenizer_train("gpt2", &s, c, &t), ZOO_OK);
    double train_ms = ms_since(&t0);
    ck_assert_int_eq(zoo_tokenizer_vocab_size(t), 2000);
    size_t len;
    const char *text = zoo_corpus_file(c, 0, &len);
    zoo_ids ids = {0};
    ck_assert_int_eq(zoo_tokenizer_encode(t, text, len, &ids), ZOO_OK);
    printf("tinyshakespeare: gpt2 vocabulary of 2000 trained in %.0f ms; %lld tokens (%.2f bytes "
           "per token)\n",
           train_ms, (long long)ids.count, (double)len / (double)ids.count);
    ck_assert_int_lt(ids.count, (int64_t)len / 2); /* the merges compress the text */
    assert_round_trip(t, text, len);
    ck_assert_int_ge(zoo_tokenizer_id(t, "Ġthe", strlen("Ġthe")), 256);
    zoo_ids_free(&ids);
    zoo_tokenizer_free(t);
    zoo_corpus_close(c);
}
END_TEST

/* ---- JSON --------------------------------------------------------------------- */

START_TEST(test_json_pretrained) {
    zoo_tokenizer *t = pretrained("test_json_pretrained");
    if (!t) return;
    char *json = zoo_tokenizer_to_json(t);
    ck_assert_ptr_nonnull(json);
    printf("gpt2: the pretrained tokenizer is %zu bytes of JSON\n", strlen(json));
    zoo_tokenizer *back;
    ck_assert_int_eq(zoo_tokenizer_from_json(json, &back), ZOO_OK);
    ck_assert_str_eq(zoo_tokenizer_type(back), "gpt2");
    ck_assert_int_eq(zoo_tokenizer_vocab_size(back), 50257);
    ck_assert_int_eq(zoo_tokenizer_special(back, ZOO_TOK_EOS), EOT_ID);
    ck_assert_int_eq(zoo_tokenizer_special(back, ZOO_TOK_BOS), EOT_ID);
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        assert_ids(back, fixed[i].text, fixed[i].len, fixed[i].ids, fixed[i].n, "from JSON");
    char *again = zoo_tokenizer_to_json(back);
    ck_assert_str_eq(json, again);
    free(again);
    free(json);
    zoo_tokenizer_free(back);
    zoo_tokenizer_free(t);
}
END_TEST

static const struct {
    const char *model, *message;
} bad_model[] = {
    {"[]", "tokenizer JSON: 'model' must be an object"},
    {"{\"vocab\":[]}", "tokenizer JSON: model: gpt2 needs vocab and merges"},
    {"{\"vocab\":[],\"merges\":[],\"extra\":1}",
     "tokenizer JSON: model.extra: unknown key or wrong type (gpt2 knows vocab and merges: arrays "
     "of strings)"},
    {"{\"vocab\":[1],\"merges\":[]}", "tokenizer JSON: model.vocab[0]: not a string"},
    {"{\"vocab\":[\"a\",\"a\"],\"merges\":[]}",
     "tokenizer JSON: model.vocab[1]: \"a\" is also at 0"},
    {"{\"vocab\":[\"a\"],\"merges\":[]}",
     "tokenizer JSON: model.vocab: no token for the byte 0x00 (\"Ā\")"},
};

START_TEST(test_json_errors) {
    char json[512];
    snprintf(json, sizeof json, "{\"version\":1,\"type\":\"gpt2\",\"model\":%s}",
             bad_model[_i].model);
    zoo_tokenizer *t = (zoo_tokenizer *)1;
    ck_assert_int_eq(zoo_tokenizer_from_json(json, &t), ZOO_ERR_FORMAT);
    ck_assert_str_eq(zoo_error_message(), bad_model[_i].message);
    ck_assert_ptr_null(t);
}
END_TEST

/* A bad merge inside a complete vocabulary names its index. */
START_TEST(test_json_bad_merge) {
    zoo_tokenizer *t = train("aaab aaab aab ab", 0);
    char *json = zoo_tokenizer_to_json(t);
    zoo_tokenizer_free(t);
    char *at = strstr(json, "\"a b\"");
    ck_assert_ptr_nonnull(at);
    memcpy(at, "\"a a\"", 5);
    ck_assert_int_eq(zoo_tokenizer_from_json(json, &t), ZOO_ERR_FORMAT);
    ck_assert_str_eq(zoo_error_message(), "tokenizer JSON: model.merges[1]: the merge \"a a\" is "
                                          "listed twice");
    free(json);
    bool listed = false; /* among the built-in types */
    for (int i = 0; zoo_tokenizer_type_name(i); i++)
        listed |= !strcmp(zoo_tokenizer_type_name(i), "gpt2");
    ck_assert(listed);
}
END_TEST

Suite *make_suite(void) {
    Suite *s = suite_create("gpt2_tokenizer");
    TCase *tc = tcase_create("gpt2_tokenizer");
    tcase_add_test(tc, test_shared_vectors);
    tcase_add_loop_test(tc, test_fixed_vectors, 0, (int)(sizeof fixed / sizeof fixed[0]));
    tcase_add_test(tc, test_pieces);
    tcase_add_test(tc, test_pieces_learned);
    tcase_add_test(tc, test_anchor_tinyshakespeare);
    tcase_add_test(tc, test_anchor_kjv);
    tcase_add_loop_test(tc, test_round_trip_random, 0, 4);
    tcase_add_test(tc, test_decode_cut_characters);
    tcase_add_test(tc, test_invalid_utf8);
    tcase_add_test(tc, test_special_tokens);
    tcase_add_test(tc, test_encode_special_other_types);
    tcase_add_test(tc, test_both_file_namings);
    tcase_add_test(tc, test_merges_in_rounds);
    tcase_add_test(tc, test_file_errors);
    tcase_add_test(tc, test_train_by_hand);
    tcase_add_test(tc, test_train_size_determinism_and_json);
    tcase_add_test(tc, test_train_tinyshakespeare);
    tcase_add_test(tc, test_json_pretrained);
    tcase_add_loop_test(tc, test_json_errors, 0, (int)(sizeof bad_model / sizeof bad_model[0]));
    tcase_add_test(tc, test_json_bad_merge);
    suite_add_tcase(s, tc);
    return s;
}
