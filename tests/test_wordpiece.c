/* The wordpiece tokenizer: BERT's FullTokenizer against bert-base-uncased's
 * shared test vectors (plain and HuggingFace's special-token mode) and a
 * whole-corpus anchor, cases found by comparing with google-research/bert's
 * tokenization.py on random text, the basic tokenization by hand (CJK,
 * accents, controls, punctuation, long words, ## continuations), decoding,
 * BERT's input for sentence pairs, the trainer, JSON and vocab.txt round
 * trips, and errors naming the file. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "check_util.h"
#include "corpus_files.h"
#include "zoo/corpus.h"
#include "zoo/io.h"
#include "zoo/tokenizer.h"

static char dir[256];

static const char *temp_dir(void) {
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "/tmp/zoo-wordpiece-test.XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(dir));
    }
    return dir;
}

/* temp_dir()/name (its directory made), written with text; the path. */
static const char *write_temp(const char *name, const char *text) {
    static char path[8][512];
    static int k;
    char *p = path[k++ % 8];
    snprintf(p, 512, "%s/%s", temp_dir(), name);
    char *slash = strrchr(p, '/');
    *slash = '\0';
    mkdir(p, 0700);
    *slash = '/';
    ck_assert_int_eq(zoo_write_file_atomic(p, text, strlen(text)), ZOO_OK);
    return p;
}

/* A small vocabulary, one token a line, covering the cases below. */
static const char *const small_vocab =
    "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nthe\nun\n##want\n##ed\n,\n.\n!\nrunn\n##ing\nstraw\n"
    "##berries\n##berry\n中\n国\n人\ncafe\naa\n##aa\n##a\n[\n]\nmask\nο\n##δ\n##ος\nσ\n##α\n"
    "a\nb\n##b\n";

static zoo_tokenizer *small(int lowercase) {
    const char *path = write_temp("small/vocab.txt", small_vocab);
    zoo_tokenizer *t;
    ck_assert_msg(zoo_tokenizer_load_wordpiece(path, lowercase, &t) == ZOO_OK, "%s",
                  zoo_error_message());
    return t;
}

/* bert-base-uncased from ../shared/data, or NULL with a skip line. */
static zoo_tokenizer *pretrained(const char *test) {
    char buf[512];
    const char *path = shared_data_path("tokenizers/bert-base-uncased", buf, sizeof buf);
    if (!path) {
        printf("SKIP %s: ../shared/data/tokenizers/bert-base-uncased not found\n", test);
        return NULL;
    }
    zoo_tokenizer *t;
    ck_assert_msg(zoo_tokenizer_load_wordpiece(path, 1, &t) == ZOO_OK, "%s", zoo_error_message());
    return t;
}

static zoo_corpus *corpus_of(const char *text) {
    static int serial;
    char name[64];
    snprintf(name, sizeof name, "corpus%d.txt", serial++);
    const char *paths[] = {write_temp(name, text)};
    zoo_corpus *c;
    ck_assert_int_eq(zoo_corpus_open(paths, 1, ZOO_UTF8_ERROR, &c), ZOO_OK);
    return c;
}

/* The tokens of text joined by '|', into a static buffer. */
static const char *join_ids(const zoo_tokenizer *t, const zoo_ids *ids) {
    static char out[8192];
    size_t used = 0;
    out[0] = '\0';
    for (int64_t i = 0; i < ids->count; i++) {
        size_t len;
        const char *tok = zoo_tokenizer_token(t, ids->ids[i], &len);
        ck_assert_ptr_nonnull(tok);
        ck_assert_uint_lt(used + len + 2, sizeof out);
        if (i) out[used++] = '|';
        memcpy(out + used, tok, len);
        out[used += len] = '\0';
    }
    return out;
}

static const char *tokens_n(const zoo_tokenizer *t, const char *text, size_t len, bool special) {
    zoo_ids ids = {0};
    int st = special ? zoo_tokenizer_encode_special(t, text, len, &ids)
                     : zoo_tokenizer_encode(t, text, len, &ids);
    ck_assert_msg(st == ZOO_OK, "%s", zoo_error_message());
    const char *out = join_ids(t, &ids);
    zoo_ids_free(&ids);
    return out;
}

static const char *tokens_of(const zoo_tokenizer *t, const char *text) {
    return tokens_n(t, text, strlen(text), false);
}

static double ms_since(const struct timespec *t0) {
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

static int32_t *int_array(const cJSON *a, int *n) {
    *n = cJSON_GetArraySize(a);
    int32_t *v = malloc(((size_t)*n + 1) * sizeof *v);
    for (int i = 0; i < *n; i++) v[i] = cJSON_GetArrayItem(a, i)->valueint;
    return v;
}

static void assert_same_ids(const zoo_ids *got, const int32_t *want, int n, const char *what) {
    int64_t diff = 0;
    while (diff < got->count && diff < n && got->ids[diff] == want[diff]) diff++;
    ck_assert_msg(got->count == n && diff == n,
                  "%s: %lld ids, expected %d; first difference at %lld", what,
                  (long long)got->count, n, (long long)diff);
}

/* ---- against BERT's reference ------------------------------------------- */

/* cJSON's strings end at their first NUL, and one case holds U+0000: each
 * "\u0000" of line becomes U+E000 (which no case holds) before parsing, and
 * back into a NUL in the parsed text (restore_nul gives its length). */
static void protect_nul(char *line) {
    ck_assert_ptr_null(strstr(line, "\\ue000"));
    ck_assert_ptr_null(strstr(line, "\xee\x80\x80"));
    for (char *p = line; (p = strstr(p, "\\u0000"));) memcpy(p, "\\ue000", 6);
}

static size_t restore_nul(char *text) {
    size_t o = 0, len = strlen(text);
    for (size_t i = 0; i < len; i++)
        if (i + 3 <= len && memcmp(text + i, "\xee\x80\x80", 3) == 0)
            text[o++] = '\0', i += 2;
        else
            text[o++] = text[i];
    return o;
}

/* bert_test_vectors.jsonl: {"text", "tokens", "ids", "ids_with_special"},
 * and "hf_ids_with_special" where HuggingFace differs ([MASK] in text).
 * Plain mode is BERT's FullTokenizer; special mode HuggingFace's. */
static void shared_vectors(bool special) {
    const char *test = special ? "test_shared_vectors_special" : "test_shared_vectors_plain";
    char buf[512];
    const char *path =
        shared_data_path("tokenizers/bert-base-uncased/bert_test_vectors.jsonl", buf, sizeof buf);
    zoo_tokenizer *t = path ? pretrained(test) : NULL;
    if (!path) printf("SKIP %s: bert_test_vectors.jsonl not found\n", test);
    if (!t) return;
    ck_assert_int_eq(zoo_tokenizer_vocab_size(t), 30522);
    ck_assert_int_eq(zoo_tokenizer_special(t, ZOO_TOK_PAD), 0);
    ck_assert_int_eq(zoo_tokenizer_special(t, ZOO_TOK_UNK), 100);
    ck_assert_int_eq(zoo_tokenizer_special(t, ZOO_TOK_CLS), 101);
    ck_assert_int_eq(zoo_tokenizer_special(t, ZOO_TOK_SEP), 102);
    ck_assert_int_eq(zoo_tokenizer_special(t, ZOO_TOK_MASK), 103);
    char *text = zoo_read_file(path, NULL);
    ck_assert_ptr_nonnull(text);
    int cases = 0, hf_cases = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        protect_nul(line);
        cJSON *v = cJSON_Parse(line);
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(v, "text");
        const cJSON *tokens = cJSON_GetObjectItemCaseSensitive(v, "tokens");
        const cJSON *ids = cJSON_GetObjectItemCaseSensitive(v, "ids");
        const cJSON *with = cJSON_GetObjectItemCaseSensitive(v, "ids_with_special");
        const cJSON *hf = cJSON_GetObjectItemCaseSensitive(v, "hf_ids_with_special");
        ck_assert(cJSON_IsString(s) && cJSON_IsArray(tokens) && cJSON_IsArray(ids) &&
                  cJSON_IsArray(with));
        size_t len = restore_nul(s->valuestring);
        int n;
        int32_t *want = int_array(ids, &n);
        zoo_ids got = {0};
        if (!special) { /* the bare ids, and their tokens' strings */
            ck_assert_int_eq(zoo_tokenizer_encode(t, s->valuestring, len, &got), ZOO_OK);
            assert_same_ids(&got, want, n, s->valuestring);
            for (int i = 0; i < n; i++)
                ck_assert_str_eq(zoo_tokenizer_token(t, got.ids[i], NULL),
                                 cJSON_GetArrayItem(tokens, i)->valuestring);
            got.count = 0;
        }
        free(want);
        const cJSON *expect = special && hf ? hf : with;
        hf_cases += special && hf;
        want = int_array(expect, &n);
        zoo_pair_settings ps = ZOO_PAIR_SETTINGS_INIT;
        ps.special = special;
        ck_assert_int_eq(
            zoo_tokenizer_encode_pair(t, s->valuestring, len, NULL, 0, &ps, &got, NULL, NULL),
            ZOO_OK);
        assert_same_ids(&got, want, n, s->valuestring);
        free(want);
        zoo_ids_free(&got);
        cJSON_Delete(v);
        cases++;
    }
    ck_assert_int_eq(cases, 35);
    if (special) ck_assert_int_ge(hf_cases, 1);
    free(text);
    zoo_tokenizer_free(t);
}

START_TEST(test_shared_vectors_plain) {
    shared_vectors(false);
}
END_TEST

START_TEST(test_shared_vectors_special) {
    shared_vectors(true);
}
END_TEST

/* Found by comparing with google-research/bert's tokenization.py
 * (do_lower_case=True, max_input_chars_per_word=100) on random text; the
 * ids are that tokenizer's with bert-base-uncased's vocabulary. They pin
 * down Python's lowercasing (final sigma, İ), what is white space (Zl, Zp,
 * NBSP, U+3000) and what is removed (ZWSP, \f, U+0085), NFD turning U+1FEF
 * into the punctuation '`', and CJK compatibility ideographs. */
static const struct {
    const char *text;
    int32_t ids[16];
    int n;
} fixed[] = {
    {"\xce\x9f\xce\x94\xce\x9f\xce\xa3 \xce\x9f\xce\x94\xce\x9f\xce\xa3. \xce\xa3\xce\x91 "
     "\xce\xa3",
     {1169, 29722, 15297, 1169, 29722, 15297, 1012, 1173, 14608, 1173},
     10},
    {"\xc4\xb0stanbul", {9960}, 1},
    {"a\xe2\x80\xa8"
     "b\xe2\x80\xa9"
     "c",
     {1037, 1038, 1039},
     3},
    {"a\xc2\xa0"
     "b\xe3\x80\x80"
     "c",
     {1037, 1038, 1039},
     3},
    {"zero\xe2\x80\x8bwidth", {5717, 9148, 11927, 2232}, 4},
    {"x\xe1\xbf\xafy", {1060, 1036, 1061}, 3},
    {"\xef\xa4\x80 \xe4\xb8\xad\xe5\x9c\x8b\xe4\xba\xba", {100, 1746, 1800, 1756}, 4},
    {"\xf0\xa0\x80\x80x", {100, 1060}, 2},
    {"Kelvin \xe2\x84\xaa", {24810, 1047}, 2},
    {"\xe6\x88\x91\xe7\x88\xb1\xe5\x8c\x97\xe4\xba\xac\xe5\xa4\xa9\xe5\xae\x89\xe9\x97\xa8",
     {1855, 100, 1781, 1755, 1811, 1820, 100},
     7},
    {"x\x0cy\xc2\x85z", {1060, 2100, 2480}, 3},
    {"\xe2\x82\xac"
     "100 \xc2\xa9"
     "2020",
     {1574, 18613, 1075, 11387, 11387},
     5},
    {"\xc3\x9f stra\xc3\x9f"
     "e",
     {1096, 2358, 27807},
     3},
};

START_TEST(test_fixed_vectors) {
    zoo_tokenizer *t = pretrained("test_fixed_vectors");
    if (!t) return;
    zoo_ids got = {0};
    ck_assert_int_eq(zoo_tokenizer_encode(t, fixed[_i].text, strlen(fixed[_i].text), &got), ZOO_OK);
    assert_same_ids(&got, fixed[_i].ids, fixed[_i].n, fixed[_i].text);
    zoo_ids_free(&got);
    zoo_tokenizer_free(t);
}
END_TEST

/* The KJV line by line, as the runtime encodes a masked-LM corpus: the
 * number of ids and a hash of them from the reference tokenizer, the same
 * ids as the whole file at once, and the time (information only). */
START_TEST(test_anchor_kjv) {
    char buf[512];
    const char *path = shared_data_path("corpus/kjv.txt", buf, sizeof buf);
    zoo_tokenizer *t = path ? pretrained("test_anchor_kjv") : NULL;
    if (!path) printf("SKIP test_anchor_kjv: corpus/kjv.txt not found\n");
    if (!t) return;
    const char *paths[] = {path};
    zoo_corpus *c;
    ck_assert_int_eq(zoo_corpus_open(paths, 1, ZOO_UTF8_ERROR, &c), ZOO_OK);
    size_t len;
    const char *text = zoo_corpus_file(c, 0, &len);
    zoo_ids lines = {0}, whole = {0};
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int64_t n_lines = 0;
    for (size_t at = 0; at < len; n_lines++) {
        const char *nl = memchr(text + at, '\n', len - at);
        size_t end = nl ? (size_t)(nl - text) + 1 : len;
        ck_assert_int_eq(zoo_tokenizer_encode(t, text + at, end - at, &lines), ZOO_OK);
        at = end;
    }
    double ms = ms_since(&t0);
    printf("wordpiece: KJV (%zu bytes, %lld lines) line by line in %.0f ms, %.1f MB/s\n", len,
           (long long)n_lines, ms, (double)len / 1e3 / ms);
    ck_assert_int_eq(lines.count, 1005183);
    uint64_t h = 0xcbf29ce484222325ull;
    for (int64_t i = 0; i < lines.count; i++)
        for (int b = 0; b < 4; b++)
            h = (h ^ (((uint32_t)lines.ids[i] >> (8 * b)) & 0xFF)) * 0x100000001b3ull;
    ck_assert_msg(h == 0x5447ec23af93fefcull, "hash of the ids %016llx", (unsigned long long)h);
    ck_assert_int_eq(zoo_tokenizer_encode(t, text, len, &whole), ZOO_OK);
    ck_assert_int_eq(whole.count, lines.count);
    ck_assert(memcmp(whole.ids, lines.ids, (size_t)lines.count * sizeof *lines.ids) == 0);
    zoo_ids_free(&lines);
    zoo_ids_free(&whole);
    zoo_corpus_close(c);
    zoo_tokenizer_free(t);
}
END_TEST

/* ---- the basic tokenization and WordPiece, by hand ---------------------- */

START_TEST(test_wordpiece_by_hand) {
    zoo_tokenizer *t = small(1);
    ck_assert_str_eq(zoo_tokenizer_type(t), "wordpiece");
    ck_assert_int_eq(zoo_tokenizer_special(t, ZOO_TOK_UNK), 1);
    ck_assert_int_eq(zoo_tokenizer_special(t, ZOO_TOK_MASK), 4);
    ck_assert_int_eq(zoo_tokenizer_special(t, ZOO_TOK_BOS), -1);
    /* ## continuations, longest match first */
    ck_assert_str_eq(tokens_of(t, "UNwantéd,running"), "un|##want|##ed|,|runn|##ing");
    ck_assert_str_eq(tokens_of(t, "strawberries strawberry"), "straw|##berries|straw|##berry");
    /* a rest no token starts makes the whole piece [UNK], not just the rest */
    ck_assert_str_eq(tokens_of(t, "strawberryz the"), "[UNK]|the");
    ck_assert_str_eq(tokens_of(t, "abb ab b"), "a|##b|##b|a|##b|b");
    /* punctuation is a piece of its own; BERT counts ASCII symbols too */
    ck_assert_str_eq(tokens_of(t, "the,the.the!"), "the|,|the|.|the|!");
    ck_assert_str_eq(tokens_of(t, "a$b"), "a|[UNK]|b");
    /* white space of every kind, controls removed without a trace */
    ck_assert_str_eq(tokens_of(t, " \t\nthe\r\n\xe3\x80\x80the\xc2\xa0the "), "the|the|the");
    ck_assert_str_eq(tokens_of(t, "th\x01"
                                  "e t\xe2\x80\x8bhe\x7f t\xef\xbf\xbdhe"),
                     "the|the|the");
    ck_assert_str_eq(tokens_n(t, "th\0e", 4, false), "the");
    /* lowercasing strips accents (NFD, then no Mn) */
    ck_assert_str_eq(tokens_of(t, "CAFÉ Café cafe\xcc\x81"), "cafe|cafe|cafe");
    /* Chinese: each CJK character is a word of its own, even inside others */
    ck_assert_str_eq(tokens_of(t, "中国人"), "中|国|人");
    ck_assert_str_eq(tokens_of(t, "the中the国"), "the|中|the|国");
    ck_assert_str_eq(tokens_of(t, "中华"), "中|[UNK]");
    /* Python's final sigma */
    ck_assert_str_eq(tokens_of(t, "ΟΔΟΣ ΣΑ"), "ο|##δ|##ος|σ|##α");
    /* BERT's limit: 100 characters a piece */
    char word[128];
    memset(word, 'a', sizeof word);
    ck_assert_str_eq(tokens_n(t, word, 100, false),
                     "aa|##aa|##aa|##aa|##aa|##aa|##aa|##aa|##aa|##aa|##aa|##aa|##aa|##aa|##aa|"
                     "##aa|##aa|##aa|##aa|##aa|##aa|##aa|##aa|##aa|##aa|##aa|##aa|##aa|##aa|##aa|"
                     "##aa|##aa|##aa|##aa|##aa|##aa|##aa|##aa|##aa|##aa|##aa|##aa|##aa|##aa|##aa|"
                     "##aa|##aa|##aa|##aa|##aa");
    ck_assert_str_eq(tokens_n(t, word, 101, false), "[UNK]");
    /* "[MASK]" is text to encode (BERT's FullTokenizer), a token to
     * encode_special (HuggingFace) */
    ck_assert_str_eq(tokens_of(t, "the [MASK]."), "the|[|mask|]|.");
    ck_assert_str_eq(tokens_n(t, "the [MASK].", 11, true), "the|[MASK]|.");
    ck_assert_str_eq(tokens_of(t, ""), "");
    ck_assert_str_eq(tokens_of(t, " \x01\xcc\x81 "), ""); /* a lone mark strips to nothing */
    zoo_tokenizer_free(t);

    t = small(0); /* cased: no lowercasing, no accent stripping */
    ck_assert_str_eq(tokens_of(t, "the The café cafe"), "the|[UNK]|[UNK]|cafe");
    ck_assert_str_eq(tokens_of(t, "the [MASK]."), "the|[|[UNK]|]|.");
    zoo_tokenizer_free(t);
}
END_TEST

START_TEST(test_encode_errors) {
    zoo_tokenizer *t = small(1);
    zoo_ids ids = {0};
    ck_assert_int_eq(zoo_ids_push(&ids, 7), ZOO_OK);
    ck_assert_int_eq(zoo_tokenizer_encode(t, "the \xff the", 9, &ids), ZOO_ERR_FORMAT);
    ck_assert_str_eq(zoo_error_message(), "wordpiece tokenizer: invalid UTF-8 at byte offset 4");
    ck_assert_int_eq(ids.count, 1); /* unchanged on failure */
    ck_assert_int_eq(zoo_tokenizer_encode(t, "the\xe4\xb8", 5, &ids), ZOO_ERR_FORMAT);
    ck_assert_str_eq(zoo_error_message(), "wordpiece tokenizer: invalid UTF-8 at byte offset 3");
    /* without [UNK] (taken away) a piece with no tokens is an error */
    ck_assert_int_eq(zoo_tokenizer_set_special(t, ZOO_TOK_UNK, -1), ZOO_OK);
    ck_assert_int_eq(zoo_tokenizer_encode(t, "the zebra", 9, &ids), ZOO_ERR_NOTFOUND);
    ck_assert_str_eq(zoo_error_message(), "wordpiece tokenizer: 'zebra' in the word at byte "
                                          "offset 4 has no tokens, and there is no [UNK]");
    ck_assert_int_eq(ids.count, 1);
    zoo_ids_free(&ids);
    zoo_tokenizer_free(t);
}
END_TEST

/* ---- decoding ----------------------------------------------------------- */

START_TEST(test_decode) {
    zoo_tokenizer *t = small(1);
    const char *text = "[CLS] UNwantéd, STRAWBERRIES! 中国 [SEP]";
    zoo_ids ids = {0};
    ck_assert_int_eq(zoo_tokenizer_encode_special(t, text, strlen(text), &ids), ZOO_OK);
    size_t len;
    char *back = zoo_tokenizer_decode(t, ids.ids, ids.count, &len);
    /* lossy: case, accents and the spacing of punctuation are gone */
    ck_assert_str_eq(back, "[CLS] unwanted , strawberries ! 中 国 [SEP]");
    ck_assert_uint_eq(len, strlen(back));
    free(back);
    /* " ##" goes wherever it is, as str.replace; a leading "##" stays */
    int32_t odd[] = {7, 8, 6, 7};
    back = zoo_tokenizer_decode(t, odd, 4, NULL);
    ck_assert_str_eq(back, "##wanted unwant");
    free(back);
    back = zoo_tokenizer_decode(t, NULL, 0, &len);
    ck_assert_str_eq(back, "");
    ck_assert_uint_eq(len, 0);
    free(back);
    int32_t bad[] = {5, 999};
    ck_assert_ptr_null(zoo_tokenizer_decode(t, bad, 2, NULL));
    zoo_ids_free(&ids);
    zoo_tokenizer_free(t);
}
END_TEST

/* ---- BERT's input ------------------------------------------------------- */

static void assert_array(const zoo_ids *got, const int32_t *want, int n) {
    assert_same_ids(got, want, n, "array");
}

START_TEST(test_pairs) {
    zoo_tokenizer *t = small(1);
    zoo_ids ids = {0}, types = {0}, mask = {0};
    const char *a = "the strawberries", *b = "unwanted";
    ck_assert_int_eq(
        zoo_tokenizer_encode_pair(t, a, strlen(a), b, strlen(b), NULL, &ids, &types, &mask),
        ZOO_OK);
    /* [CLS] the straw ##berries [SEP] un ##want ##ed [SEP] */
    assert_array(&ids, (int32_t[]){2, 5, 14, 15, 3, 6, 7, 8, 3}, 9);
    assert_array(&types, (int32_t[]){0, 0, 0, 0, 0, 1, 1, 1, 1}, 9);
    assert_array(&mask, (int32_t[]){1, 1, 1, 1, 1, 1, 1, 1, 1}, 9);
    /* truncated to 7: the longer loses tokens from its end, ties B; padded */
    zoo_pair_settings s = ZOO_PAIR_SETTINGS_INIT;
    s.max_len = 7;
    ids.count = types.count = mask.count = 0;
    ck_assert_int_eq(
        zoo_tokenizer_encode_pair(t, a, strlen(a), b, strlen(b), &s, &ids, &types, &mask), ZOO_OK);
    assert_array(&ids, (int32_t[]){2, 5, 14, 3, 6, 7, 3}, 7);
    s.max_len = 12;
    s.pad = true;
    ids.count = types.count = mask.count = 0;
    ck_assert_int_eq(
        zoo_tokenizer_encode_pair(t, a, strlen(a), b, strlen(b), &s, &ids, &types, &mask), ZOO_OK);
    assert_array(&ids, (int32_t[]){2, 5, 14, 15, 3, 6, 7, 8, 3, 0, 0, 0}, 12);
    assert_array(&types, (int32_t[]){0, 0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0}, 12);
    assert_array(&mask, (int32_t[]){1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0}, 12);
    /* one text, truncated and padded; results are appended */
    s.max_len = 4;
    ck_assert_int_eq(zoo_tokenizer_encode_pair(t, a, strlen(a), NULL, 0, &s, &ids, NULL, NULL),
                     ZOO_OK);
    ck_assert_int_eq(ids.count, 16);
    ck_assert_int_eq(ids.ids[12], 2);
    ck_assert_int_eq(ids.ids[13], 5);
    ck_assert_int_eq(ids.ids[14], 14);
    ck_assert_int_eq(ids.ids[15], 3);
    /* errors leave everything as it was */
    s.max_len = 2;
    ck_assert_int_eq(
        zoo_tokenizer_encode_pair(t, a, strlen(a), b, strlen(b), &s, &ids, &types, &mask),
        ZOO_ERR_ARG);
    ck_assert_str_eq(zoo_error_message(),
                     "pair settings: max_len 2 leaves no room beside the 3 special tokens");
    s.max_len = 0;
    ck_assert_int_eq(zoo_tokenizer_encode_pair(t, a, strlen(a), NULL, 0, &s, &ids, NULL, NULL),
                     ZOO_ERR_ARG);
    ck_assert_str_eq(zoo_error_message(), "pair settings: padding needs a max_len");
    ck_assert_int_eq(zoo_tokenizer_encode_pair(t, "\xff", 1, NULL, 0, NULL, &ids, &types, &mask),
                     ZOO_ERR_FORMAT);
    ck_assert_int_eq(ids.count, 16);
    ck_assert_int_eq(types.count, 12);
    ck_assert_int_eq(zoo_tokenizer_set_special(t, ZOO_TOK_CLS, -1), ZOO_OK);
    ck_assert_int_eq(zoo_tokenizer_encode_pair(t, a, strlen(a), NULL, 0, NULL, &ids, NULL, NULL),
                     ZOO_ERR_ARG);
    ck_assert_str_eq(zoo_error_message(),
                     "tokenizer 'wordpiece': BERT's input needs [CLS] and [SEP] tokens");
    zoo_ids_free(&ids);
    zoo_ids_free(&types);
    zoo_ids_free(&mask);
    zoo_tokenizer_free(t);
}
END_TEST

/* ---- training ----------------------------------------------------------- */

static const zoo_special bert_specials[] = {ZOO_TOK_PAD, ZOO_TOK_UNK, ZOO_TOK_CLS, ZOO_TOK_SEP,
                                            ZOO_TOK_MASK};

static zoo_tokenizer *train(const char *text, int32_t max_size, bool lowercase) {
    zoo_corpus *c = corpus_of(text);
    zoo_tokenizer_settings s = ZOO_TOKENIZER_SETTINGS_INIT;
    s.max_size = max_size;
    s.lowercase = lowercase;
    s.specials = bert_specials;
    s.n_specials = 5;
    zoo_tokenizer *t;
    ck_assert_msg(zoo_tokenizer_train("wordpiece", &s, c, &t) == ZOO_OK, "%s", zoo_error_message());
    zoo_corpus_close(c);
    return t;
}

static const char *vocab_of(const zoo_tokenizer *t) {
    zoo_ids all = {0};
    for (int32_t i = 0; i < zoo_tokenizer_vocab_size(t); i++) zoo_ids_push(&all, i);
    const char *s = join_ids(t, &all);
    zoo_ids_free(&all);
    return s;
}

/* HuggingFace's course example: hug x10, pug x5, pun x12, bun x4, hugs x5. */
static char *hug_corpus(void) {
    static const struct {
        const char *w;
        int n;
    } words[] = {{"hug", 10}, {"pug", 5}, {"pun", 12}, {"bun", 4}, {"hugs", 5}};
    char *text = calloc(1, 1024);
    for (int k = 0; k < 12; k++)
        for (int i = 0; i < 5; i++)
            if (k < words[i].n) strcat(strcat(text, words[i].w), k % 3 ? " " : "\n");
    return text;
}

START_TEST(test_train_by_hand) {
    char *text = hug_corpus();
    zoo_tokenizer *t = train(text, 0, false);
    /* specials, first characters, later ones, then merges: ##u ##g (20),
     * ##u ##n (16), h ##ug (15), p ##un (12), then the ties at 5 by bytes,
     * hug ##s before p ##ug, then b ##un (4) */
    ck_assert_str_eq(vocab_of(t), "[PAD]|[UNK]|[CLS]|[SEP]|[MASK]|b|h|p|##g|##n|##s|##u|##ug|##un|"
                                  "hug|pun|hugs|pug|bun");
    ck_assert_int_eq(zoo_tokenizer_special(t, ZOO_TOK_PAD), 0);
    ck_assert_int_eq(zoo_tokenizer_special(t, ZOO_TOK_MASK), 4);
    ck_assert_str_eq(tokens_of(t, "hugs bun, pug hun gb"), "hugs|bun|[UNK]|pug|h|##un|[UNK]");
    zoo_tokenizer_free(t);
    t = train(text, 15, false); /* stops at the size */
    ck_assert_str_eq(vocab_of(t), "[PAD]|[UNK]|[CLS]|[SEP]|[MASK]|b|h|p|##g|##n|##s|##u|##ug|##un|"
                                  "hug");
    zoo_tokenizer_free(t);
    free(text);

    /* CJK characters are words of their own: no "##中"; lowercasing and
     * accents as in encoding */
    t = train("中文 文本 Café CAFÉ\n中文本 cafe\n", 0, true);
    ck_assert_str_eq(vocab_of(t), "[PAD]|[UNK]|[CLS]|[SEP]|[MASK]|c|中|文|本|##a|##e|##f|##af|"
                                  "##afe|cafe");
    ck_assert_str_eq(tokens_of(t, "中文本 CAFÉ"), "中|文|本|cafe");
    zoo_tokenizer_free(t);

    /* [UNK] comes after the listed specials when not among them */
    zoo_corpus *c = corpus_of("a b a b");
    zoo_tokenizer_settings s = ZOO_TOKENIZER_SETTINGS_INIT;
    zoo_special only_cls[] = {ZOO_TOK_CLS};
    s.specials = only_cls;
    s.n_specials = 1;
    ck_assert_int_eq(zoo_tokenizer_train("wordpiece", &s, c, &t), ZOO_OK);
    ck_assert_str_eq(vocab_of(t), "[CLS]|[UNK]|a|b");
    ck_assert_int_eq(zoo_tokenizer_special(t, ZOO_TOK_UNK), 1);
    zoo_tokenizer_free(t);
    s.max_size = 3;
    ck_assert_int_eq(zoo_tokenizer_train("wordpiece", &s, c, &t), ZOO_ERR_ARG);
    ck_assert_ptr_null(t);
    ck_assert_str_eq(zoo_error_message(),
                     "wordpiece tokenizer: max_size 3 is below the 2 special tokens and the 2 "
                     "character tokens of the corpus (4 in all)");
    zoo_corpus_close(c);
    c = corpus_of(" \x01 , \n");
    s.max_size = 0;
    ck_assert_int_eq(zoo_tokenizer_train("wordpiece", &s, c, &t), ZOO_OK); /* "," is a word */
    zoo_tokenizer_free(t);
    zoo_corpus_close(c);
    c = corpus_of(" \x01 \t\n");
    ck_assert_int_eq(zoo_tokenizer_train("wordpiece", &s, c, &t), ZOO_ERR_ARG);
    ck_assert_str_eq(zoo_error_message(), "wordpiece tokenizer: the corpus has no words");
    zoo_corpus_close(c);
}
END_TEST

/* On a real corpus: the size is reached, the specials come first, every
 * line encodes without [UNK], the same vocabulary on every run, and a
 * vocabulary that uses its merges (fewer tokens than characters). */
START_TEST(test_train_corpus) {
    char buf[512];
    const char *path = shared_data_path("corpus/tinyshakespeare.txt", buf, sizeof buf);
    if (!path) {
        printf("SKIP test_train_corpus: corpus/tinyshakespeare.txt not found\n");
        return;
    }
    const char *paths[] = {path};
    zoo_corpus *c;
    ck_assert_int_eq(zoo_corpus_open(paths, 1, ZOO_UTF8_ERROR, &c), ZOO_OK);
    zoo_tokenizer_settings s = ZOO_TOKENIZER_SETTINGS_INIT;
    s.max_size = 4000;
    s.lowercase = true;
    s.specials = bert_specials;
    s.n_specials = 5;
    zoo_tokenizer *t, *again;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ck_assert_int_eq(zoo_tokenizer_train("wordpiece", &s, c, &t), ZOO_OK);
    printf("wordpiece: trained 4000 tokens on tinyshakespeare in %.0f ms\n", ms_since(&t0));
    ck_assert_int_eq(zoo_tokenizer_train("wordpiece", &s, c, &again), ZOO_OK);
    ck_assert_int_eq(zoo_tokenizer_vocab_size(t), 4000);
    for (int i = 0; i < 5; i++) {
        ck_assert_str_eq(zoo_tokenizer_token(t, i, NULL), zoo_special_token(bert_specials[i]));
        ck_assert_int_eq(zoo_tokenizer_special(t, bert_specials[i]), i);
    }
    char *a = zoo_tokenizer_to_json(t), *b = zoo_tokenizer_to_json(again);
    ck_assert_str_eq(a, b);
    free(a);
    free(b);
    size_t len;
    const char *text = zoo_corpus_file(c, 0, &len);
    zoo_ids ids = {0};
    ck_assert_int_eq(zoo_tokenizer_encode(t, text, len, &ids), ZOO_OK);
    for (int64_t i = 0; i < ids.count; i++) ck_assert_int_ne(ids.ids[i], 1);
    ck_assert_int_lt(ids.count, (int64_t)len / 3);
    ck_assert_str_eq(tokens_of(t, "First Citizen"), "first|citizen");
    zoo_ids_free(&ids);
    zoo_tokenizer_free(t);
    zoo_tokenizer_free(again);
    zoo_corpus_close(c);
}
END_TEST

/* ---- JSON --------------------------------------------------------------- */

static void assert_json_round_trip(const zoo_tokenizer *t) {
    char *json = zoo_tokenizer_to_json(t);
    ck_assert_ptr_nonnull(json);
    zoo_tokenizer *back;
    ck_assert_msg(zoo_tokenizer_from_json(json, &back) == ZOO_OK, "%s", zoo_error_message());
    char *again = zoo_tokenizer_to_json(back);
    ck_assert_str_eq(json, again);
    ck_assert_str_eq(zoo_tokenizer_type(back), "wordpiece");
    ck_assert_int_eq(zoo_tokenizer_vocab_size(back), zoo_tokenizer_vocab_size(t));
    for (int s = 0; s < ZOO_TOK_N_SPECIAL; s++)
        ck_assert_int_eq(zoo_tokenizer_special(back, s), zoo_tokenizer_special(t, s));
    const char *text = "Ünwanted STRAWBERRIES, ΟΔΟΣ 中国人 [MASK]";
    char want[512];
    snprintf(want, sizeof want, "%s", tokens_n(t, text, strlen(text), true));
    ck_assert_str_eq(tokens_n(back, text, strlen(text), true), want);
    free(json);
    free(again);
    zoo_tokenizer_free(back);
}

START_TEST(test_json_round_trip) {
    zoo_tokenizer *t = small(1);
    assert_json_round_trip(t);
    zoo_tokenizer_free(t);
    t = small(0);
    assert_json_round_trip(t);
    char *json = zoo_tokenizer_to_json(t);
    ck_assert_ptr_nonnull(strstr(json, "\"type\":\"wordpiece\""));
    ck_assert_ptr_nonnull(
        strstr(json, "\"lowercase\":false,\"max_chars\":100,\"vocab\":[\"[PAD]\""));
    free(json);
    zoo_tokenizer_free(t);
    char *text = hug_corpus();
    t = train(text, 0, true);
    assert_json_round_trip(t);
    zoo_tokenizer_free(t);
    free(text);
    t = pretrained("test_json_round_trip (bert-base-uncased)");
    if (t) {
        assert_json_round_trip(t);
        zoo_tokenizer_free(t);
    }
}
END_TEST

static const struct {
    const char *json, *message;
} bad_model[] = {
    {"{\"version\":1,\"type\":\"wordpiece\",\"model\":{\"lowercase\":true,\"max_chars\":100}}",
     "tokenizer JSON: model: wordpiece needs lowercase, max_chars and vocab"},
    {"{\"version\":1,\"type\":\"wordpiece\",\"model\":{\"lowercase\":1,\"max_chars\":100,"
     "\"vocab\":[]}}",
     "tokenizer JSON: model.lowercase: unknown key or wrong type (wordpiece knows lowercase: bool, "
     "max_chars: number, vocab: array of strings)"},
    {"{\"version\":1,\"type\":\"wordpiece\",\"model\":{\"lowercase\":true,\"max_chars\":0,"
     "\"vocab\":[\"a\"]}}",
     "tokenizer JSON: model.max_chars: expected a count >= 1"},
    {"{\"version\":1,\"type\":\"wordpiece\",\"model\":{\"lowercase\":true,\"max_chars\":100,"
     "\"vocab\":[\"a\",2]}}",
     "tokenizer JSON: model.vocab[1]: not a string"},
    {"{\"version\":1,\"type\":\"wordpiece\",\"model\":{\"lowercase\":true,\"max_chars\":100,"
     "\"vocab\":[\"a\",\"b\",\"a\"]}}",
     "tokenizer JSON: model.vocab[2]: \"a\" is also at 0"},
    {"{\"version\":1,\"type\":\"wordpiece\",\"model\":{\"lowercase\":true,\"max_chars\":100,"
     "\"vocab\":[]}}",
     "tokenizer JSON: model.vocab: empty"},
    {"{\"version\":1,\"type\":\"wordpiece\",\"special\":{\"unk\":3},\"model\":{\"lowercase\":true,"
     "\"max_chars\":100,\"vocab\":[\"[UNK]\"]}}",
     "tokenizer JSON: special.unk: expected an id in [0, 1)"},
};

START_TEST(test_json_errors) {
    zoo_tokenizer *t = (zoo_tokenizer *)1;
    ck_assert_int_eq(zoo_tokenizer_from_json(bad_model[_i].json, &t), ZOO_ERR_FORMAT);
    ck_assert_ptr_null(t);
    ck_assert_str_eq(zoo_error_message(), bad_model[_i].message);
}
END_TEST

/* ---- files -------------------------------------------------------------- */

START_TEST(test_vocab_files) {
    /* the directory or the file; "\r\n" line ends; a trained vocabulary
     * written and read back */
    write_temp("crlf/vocab.txt", "[UNK]\r\n[CLS]\r\nthe\r\n##s\r\n");
    char path[512];
    snprintf(path, sizeof path, "%s/crlf", temp_dir());
    zoo_tokenizer *t;
    ck_assert_int_eq(zoo_tokenizer_load_wordpiece(path, 1, &t), ZOO_OK);
    ck_assert_str_eq(vocab_of(t), "[UNK]|[CLS]|the|##s");
    ck_assert_int_eq(zoo_tokenizer_special(t, ZOO_TOK_CLS), 1);
    ck_assert_int_eq(zoo_tokenizer_special(t, ZOO_TOK_SEP), -1);
    ck_assert_str_eq(tokens_of(t, "THEs"), "the|##s");
    zoo_tokenizer_free(t);

    char *text = hug_corpus();
    t = train(text, 0, true);
    free(text);
    snprintf(path, sizeof path, "%s/saved", temp_dir());
    mkdir(path, 0700);
    ck_assert_int_eq(zoo_tokenizer_save_wordpiece(t, path), ZOO_OK);
    zoo_tokenizer *back;
    ck_assert_int_eq(zoo_tokenizer_load_wordpiece(path, ZOO_WORDPIECE_LOWERCASE_AUTO, &back),
                     ZOO_OK);
    char *a = zoo_tokenizer_to_json(t), *b = zoo_tokenizer_to_json(back);
    ck_assert_str_eq(a, b);
    free(a);
    free(b);
    zoo_tokenizer_free(back);
    zoo_tokenizer_free(t);
    zoo_corpus *c = corpus_of("abc");
    ck_assert_int_eq(zoo_tokenizer_train("char", NULL, c, &t), ZOO_OK);
    ck_assert_int_eq(zoo_tokenizer_save_wordpiece(t, path), ZOO_ERR_ARG);
    zoo_tokenizer_free(t);
    zoo_corpus_close(c);
}
END_TEST

/* lowercase = AUTO: tokenizer_config.json's do_lower_case, else whether the
 * vocabulary has uppercase letters. */
START_TEST(test_lowercase_auto) {
    const char *cased = write_temp("cased/vocab.txt", "[UNK]\nThe\nthe\ncafé\n");
    /* ℝ is uppercase but has no lowercase: bert-base-uncased holds it */
    write_temp("uncased/vocab.txt", "[UNK]\n[CLS]\nthe\ncafe\n\xe2\x84\x9d\n");
    char dir_cased[512], dir_uncased[512];
    snprintf(dir_cased, sizeof dir_cased, "%s/cased", temp_dir());
    snprintf(dir_uncased, sizeof dir_uncased, "%s/uncased", temp_dir());
    zoo_tokenizer *t;
    ck_assert_int_eq(zoo_tokenizer_load_wordpiece(cased, ZOO_WORDPIECE_LOWERCASE_AUTO, &t), ZOO_OK);
    ck_assert_str_eq(tokens_of(t, "The the café"), "The|the|café");
    zoo_tokenizer_free(t);
    ck_assert_int_eq(zoo_tokenizer_load_wordpiece(dir_uncased, ZOO_WORDPIECE_LOWERCASE_AUTO, &t),
                     ZOO_OK);
    ck_assert_str_eq(tokens_of(t, "The the CAFÉ"), "the|the|cafe");
    zoo_tokenizer_free(t);
    write_temp("uncased/tokenizer_config.json", "{\"do_lower_case\": false}");
    ck_assert_int_eq(zoo_tokenizer_load_wordpiece(dir_uncased, ZOO_WORDPIECE_LOWERCASE_AUTO, &t),
                     ZOO_OK);
    ck_assert_str_eq(tokens_of(t, "The the CAFÉ"), "[UNK]|the|[UNK]");
    zoo_tokenizer_free(t);
    ck_assert_int_eq(zoo_tokenizer_load_wordpiece(dir_uncased, 1, &t), ZOO_OK); /* given wins */
    ck_assert_str_eq(tokens_of(t, "The"), "the");
    zoo_tokenizer_free(t);
    write_temp("cased/tokenizer_config.json", "{\"do_lower_case\": true, \"model_max_length\": 9}");
    ck_assert_int_eq(zoo_tokenizer_load_wordpiece(cased, ZOO_WORDPIECE_LOWERCASE_AUTO, &t), ZOO_OK);
    ck_assert_str_eq(tokens_of(t, "The"), "the");
    zoo_tokenizer_free(t);
    const char *bad = write_temp("cased/tokenizer_config.json", "{\"do_lower_case\": \"yes\"}");
    ck_assert_int_eq(zoo_tokenizer_load_wordpiece(cased, ZOO_WORDPIECE_LOWERCASE_AUTO, &t),
                     ZOO_ERR_FORMAT);
    char want[600];
    snprintf(want, sizeof want, "%s: do_lower_case: expected true or false", bad);
    ck_assert_str_eq(zoo_error_message(), want);
    write_temp("cased/tokenizer_config.json", "[1]");
    ck_assert_int_eq(zoo_tokenizer_load_wordpiece(cased, ZOO_WORDPIECE_LOWERCASE_AUTO, &t),
                     ZOO_ERR_FORMAT);
    snprintf(want, sizeof want, "%s: not a JSON object", bad);
    ck_assert_str_eq(zoo_error_message(), want);
    ck_assert_int_eq(zoo_tokenizer_load_wordpiece(cased, 0, &t), ZOO_OK); /* not read then */
    zoo_tokenizer_free(t);
    char buf[512];
    const char *bert = shared_data_path("tokenizers/bert-base-uncased", buf, sizeof buf);
    if (!bert) {
        printf("SKIP test_lowercase_auto (bert-base-uncased): not found\n");
        return;
    }
    ck_assert_int_eq(zoo_tokenizer_load_wordpiece(bert, ZOO_WORDPIECE_LOWERCASE_AUTO, &t), ZOO_OK);
    ck_assert_str_eq(tokens_of(t, "Hello NAÏVE"), "hello|naive");
    zoo_tokenizer_free(t);
}
END_TEST

START_TEST(test_file_errors) {
    zoo_tokenizer *t = (zoo_tokenizer *)1;
    char path[512], want[700];
    snprintf(path, sizeof path, "%s/empty-dir", temp_dir());
    mkdir(path, 0700);
    ck_assert_int_eq(zoo_tokenizer_load_wordpiece(path, 1, &t), ZOO_ERR_NOTFOUND);
    ck_assert_ptr_null(t);
    snprintf(want, sizeof want, "%s: no vocab.txt (a WordPiece vocabulary)", path);
    ck_assert_str_eq(zoo_error_message(), want);
    snprintf(path, sizeof path, "%s/no-such/vocab.txt", temp_dir());
    ck_assert_int_eq(zoo_tokenizer_load_wordpiece(path, 1, &t), ZOO_ERR_NOTFOUND);
    snprintf(want, sizeof want, "%s: no such file or directory", path);
    ck_assert_str_eq(zoo_error_message(), want);

    static const struct {
        const char *text, *message;
    } bad[] = {
        {"[PAD]\nthe\n##s\n", "no [UNK] token (WordPiece needs one for the words it cannot split)"},
        {"", "the vocabulary is empty"},
        {"[UNK]\nthe\na\nthe\n", "line 4: \"the\" is also line 2"},
        {"[UNK]\nth\xff\n", "line 2 is not valid UTF-8"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char name[64];
        snprintf(name, sizeof name, "bad%zu/vocab.txt", i);
        const char *file = write_temp(name, bad[i].text);
        ck_assert_int_eq(zoo_tokenizer_load_wordpiece(file, 1, &t), ZOO_ERR_FORMAT);
        ck_assert_ptr_null(t);
        snprintf(want, sizeof want, "%s: %s", file, bad[i].message);
        ck_assert_str_eq(zoo_error_message(), want);
    }
    snprintf(path, sizeof path, "%s/nul/vocab.txt", temp_dir());
    write_temp("nul/vocab.txt", "");
    FILE *f = fopen(path, "wb");
    fwrite("[UNK]\na\0b\n", 1, 10, f);
    fclose(f);
    ck_assert_int_eq(zoo_tokenizer_load_wordpiece(path, 1, &t), ZOO_ERR_FORMAT);
    snprintf(want, sizeof want, "%s: line 2 holds a NUL byte", path);
    ck_assert_str_eq(zoo_error_message(), want);
}
END_TEST

START_TEST(test_registry) {
    ck_assert_str_eq(zoo_tokenizer_type_name(3), "wordpiece");
    ck_assert_ptr_null(zoo_tokenizer_type_name(4));
    zoo_tokenizer *t;
    ck_assert_int_eq(zoo_tokenizer_train("wordpeice", NULL, NULL, &t), ZOO_ERR_NOTFOUND);
    ck_assert_str_eq(zoo_error_message(),
                     "unknown tokenizer type 'wordpeice' (known: char, word, gpt2, wordpiece)");
}
END_TEST

Suite *make_suite(void) {
    Suite *s = suite_create("wordpiece");
    TCase *tc = tcase_create("wordpiece");
    tcase_add_test(tc, test_shared_vectors_plain);
    tcase_add_test(tc, test_shared_vectors_special);
    tcase_add_loop_test(tc, test_fixed_vectors, 0, (int)(sizeof fixed / sizeof fixed[0]));
    tcase_add_test(tc, test_anchor_kjv);
    tcase_add_test(tc, test_wordpiece_by_hand);
    tcase_add_test(tc, test_encode_errors);
    tcase_add_test(tc, test_decode);
    tcase_add_test(tc, test_pairs);
    tcase_add_test(tc, test_train_by_hand);
    tcase_add_test(tc, test_train_corpus);
    tcase_add_test(tc, test_json_round_trip);
    tcase_add_loop_test(tc, test_json_errors, 0, (int)(sizeof bad_model / sizeof bad_model[0]));
    tcase_add_test(tc, test_vocab_files);
    tcase_add_test(tc, test_lowercase_auto);
    tcase_add_test(tc, test_file_errors);
    tcase_add_test(tc, test_registry);
    suite_add_tcase(s, tc);
    return s;
}
