/* Tokenizers: the char and word types, the interface, JSON, the vocabulary. */
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "check_util.h"
#include "corpus_files.h"
#include "zoo/corpus.h"
#include "zoo/rng.h"
#include "zoo/tokenizer.h"
#include "zoo/tokenizer_type.h"

static char dir[256];

/* A corpus of one file holding text. */
static zoo_corpus *corpus_of(const char *text, size_t len) {
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "/tmp/zoo-tokenizer-test.XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(dir));
    }
    static int serial;
    char path[300];
    snprintf(path, sizeof path, "%s/corpus%d.txt", dir, serial++);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(text, 1, len, f), len);
    fclose(f);
    const char *paths[] = {path};
    zoo_corpus *c;
    ck_assert_int_eq(zoo_corpus_open(paths, 1, ZOO_UTF8_ERROR, &c), ZOO_OK);
    return c;
}

static zoo_tokenizer *train(const char *type, const zoo_tokenizer_settings *s, const char *text) {
    zoo_corpus *c = corpus_of(text, strlen(text));
    zoo_tokenizer *t;
    ck_assert_msg(zoo_tokenizer_train(type, s, c, &t) == ZOO_OK, "%s", zoo_error_message());
    zoo_corpus_close(c);
    return t;
}

/* The tokens of text joined by '|' (into a static buffer). */
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
        ck_assert_ptr_nonnull(tok);
        ck_assert_uint_lt(used + len + 2, sizeof out);
        if (i) out[used++] = '|';
        memcpy(out + used, tok, len);
        used += len;
        out[used] = '\0';
    }
    zoo_ids_free(&ids);
    return out;
}

static void assert_round_trip(const zoo_tokenizer *t, const char *text, size_t len) {
    zoo_ids ids = {0};
    ck_assert_msg(zoo_tokenizer_encode(t, text, len, &ids) == ZOO_OK, "%s", zoo_error_message());
    size_t back_len;
    char *back = zoo_tokenizer_decode(t, ids.ids, ids.count, &back_len);
    ck_assert_ptr_nonnull(back);
    ck_assert_uint_eq(back_len, len);
    ck_assert_int_eq(memcmp(back, text, len), 0);
    ck_assert_int_eq(back[len], '\0');
    free(back);
    zoo_ids_free(&ids);
}

/* ---- char ---------------------------------------------------------------- */

static const char mixed[] =
    "Hello, 世界! 中文测试。 😀👍🏽 👩‍👩‍👧 e\xCC\x81 é ÅΩ\tend\n";

START_TEST(test_char_round_trips_any_text) {
    zoo_tokenizer *t = train("char", NULL, mixed);
    ck_assert_str_eq(zoo_tokenizer_type(t), "char");
    assert_round_trip(t, mixed, strlen(mixed));
    /* one id per code point, even inside emoji sequences and combining marks */
    ck_assert_str_eq(tokens_of(t, "e\xCC\x81👍🏽"), "e|\xCC\x81|👍|🏽");
    ck_assert_int_eq(zoo_tokenizer_special(t, ZOO_TOK_UNK), -1); /* none asked for */
    /* the vocabulary is sorted by code point */
    for (int32_t id = 1; id < zoo_tokenizer_vocab_size(t); id++) {
        const char *a = zoo_tokenizer_token(t, id - 1, NULL), *b = zoo_tokenizer_token(t, id, NULL);
        ck_assert_int_lt(strcmp(a, b), 0); /* UTF-8 byte order is code point order */
    }
    ck_assert_int_eq(zoo_tokenizer_id(t, "\t", 1), 0); /* the lowest code point, then \n */
    ck_assert_int_eq(zoo_tokenizer_id(t, "\n", 1), 1);
    ck_assert_int_eq(zoo_tokenizer_id(t, "😀", strlen("😀")), zoo_tokenizer_vocab_size(t) - 1);
    ck_assert_int_eq(zoo_tokenizer_id(t, "xy", 2), -1);
    zoo_tokenizer_free(t);
}
END_TEST

/* Random valid UTF-8 over the whole code space (no surrogates), U+0000 included. */
START_TEST(test_char_round_trips_random_code_points) {
    zoo_rng rng;
    zoo_rng_seed(&rng, 42 + (uint64_t)_i);
    size_t cap = 40000, len = 0;
    char *text = malloc(cap);
    while (len + 4 < cap) {
        uint64_t r = zoo_rng_below(&rng, 4);
        int32_t cp = (int32_t)zoo_rng_below(&rng, r == 0 ? 0x80 : r == 1 ? 0x800 : 0x110000);
        if (cp >= 0xD800 && cp <= 0xDFFF) continue;
        char *o = text + len;
        if (cp < 0x80)
            o[0] = (char)cp, len += 1;
        else if (cp < 0x800)
            o[0] = (char)(0xC0 | cp >> 6), o[1] = (char)(0x80 | (cp & 63)), len += 2;
        else if (cp < 0x10000)
            o[0] = (char)(0xE0 | cp >> 12), o[1] = (char)(0x80 | (cp >> 6 & 63)),
            o[2] = (char)(0x80 | (cp & 63)), len += 3;
        else
            o[0] = (char)(0xF0 | cp >> 18), o[1] = (char)(0x80 | (cp >> 12 & 63)),
            o[2] = (char)(0x80 | (cp >> 6 & 63)), o[3] = (char)(0x80 | (cp & 63)), len += 4;
    }
    zoo_corpus *c = corpus_of(text, len);
    zoo_tokenizer *t;
    ck_assert_int_eq(zoo_tokenizer_train("char", NULL, c, &t), ZOO_OK);
    assert_round_trip(t, text, len);
    char *json = zoo_tokenizer_to_json(t); /* U+0000 survives JSON too */
    zoo_tokenizer *back;
    ck_assert_msg(zoo_tokenizer_from_json(json, &back) == ZOO_OK, "%s", zoo_error_message());
    assert_round_trip(back, text, len);
    ck_assert_int_eq(zoo_tokenizer_vocab_size(back), zoo_tokenizer_vocab_size(t));
    free(json);
    zoo_tokenizer_free(back);
    zoo_tokenizer_free(t);
    zoo_corpus_close(c);
    free(text);
}
END_TEST

START_TEST(test_char_unknown_characters) {
    zoo_tokenizer *t = train("char", NULL, "abc");
    zoo_ids ids = {0};
    ck_assert_int_eq(zoo_tokenizer_encode(t, "ab", 2, &ids), ZOO_OK);
    ck_assert_int_eq(ids.count, 2);
    ck_assert_int_eq(zoo_tokenizer_encode(t, "ab中", 5, &ids), ZOO_ERR_NOTFOUND);
    ck_assert_str_eq(zoo_error_message(), "char tokenizer: U+4E2D '中' at byte offset 2 is not in "
                                          "the vocabulary, and there is no [UNK]");
    ck_assert_int_eq(ids.count, 2); /* unchanged by the failure */
    ck_assert_int_eq(zoo_tokenizer_encode(t, "a\xE4\xB8", 3, &ids), ZOO_ERR_FORMAT);
    ck_assert_str_eq(zoo_error_message(), "char tokenizer: invalid UTF-8 at byte offset 1");
    zoo_tokenizer_free(t);

    const zoo_special sp[] = {ZOO_TOK_PAD, ZOO_TOK_UNK};
    zoo_tokenizer_settings s = ZOO_TOKENIZER_SETTINGS_INIT;
    s.specials = sp, s.n_specials = 2;
    t = train("char", &s, "abc");
    ck_assert_int_eq(zoo_tokenizer_vocab_size(t), 5);
    ck_assert_int_eq(zoo_tokenizer_special(t, ZOO_TOK_PAD), 0);
    ck_assert_int_eq(zoo_tokenizer_special(t, ZOO_TOK_UNK), 1);
    ck_assert(zoo_tokenizer_is_special(t, 1) && !zoo_tokenizer_is_special(t, 2));
    ck_assert_str_eq(tokens_of(t, "a中c"), "a|[UNK]|c");
    int32_t pad_a[] = {0, 2, 1};
    char *text = zoo_tokenizer_decode(t, pad_a, 3, NULL);
    ck_assert_str_eq(text, "[PAD]a[UNK]");
    free(text);
    int32_t bad[] = {2, 5};
    ck_assert_ptr_null(zoo_tokenizer_decode(t, bad, 2, NULL));
    ck_assert_str_eq(zoo_error_message(), "tokenizer: id 5 at position 1 is outside [0, 5)");
    zoo_ids_free(&ids);
    zoo_tokenizer_free(t);
}
END_TEST

START_TEST(test_char_cuts) {
    /* counts: a 5, b 3, c 3, d 1, e 1 */
    const char *text = "aaaaabbbcccde";
    zoo_tokenizer_settings s = ZOO_TOKENIZER_SETTINGS_INIT;
    s.min_count = 2;
    zoo_tokenizer *t = train("char", &s, text);
    ck_assert_int_eq(zoo_tokenizer_vocab_size(t), 4); /* [UNK] added: a cut needs one */
    ck_assert_int_eq(zoo_tokenizer_special(t, ZOO_TOK_UNK), 0);
    ck_assert_str_eq(tokens_of(t, "abcde"), "a|b|c|[UNK]|[UNK]");
    ck_assert_int_eq(zoo_tokenizer_count(t, 0), 2); /* d and e */
    ck_assert_int_eq(zoo_tokenizer_count(t, 1), 5);
    zoo_tokenizer_free(t);

    s.min_count = 1, s.max_size = 3; /* [UNK], a and one of the tied b, c: the lower, b */
    t = train("char", &s, text);
    ck_assert_str_eq(tokens_of(t, "abcde"), "a|b|[UNK]|[UNK]|[UNK]");
    ck_assert_int_eq(zoo_tokenizer_count(t, 0), 5);
    zoo_tokenizer_free(t);

    s.max_size = 0, s.lowercase = true;
    t = train("char", &s, "AbÉé");
    ck_assert_str_eq(tokens_of(t, "ABÉ"), "a|b|é");
    ck_assert_int_eq(zoo_tokenizer_count(t, zoo_tokenizer_id(t, "é", strlen("é"))), 2);
    zoo_tokenizer_free(t);

    s.lowercase = false, s.min_count = 6;
    zoo_corpus *c = corpus_of(text, strlen(text));
    ck_assert_int_eq(zoo_tokenizer_train("char", &s, c, &t), ZOO_ERR_ARG);
    ck_assert_str_eq(zoo_error_message(), "char tokenizer: min_count 6 leaves no characters");
    zoo_corpus_close(c);
}
END_TEST

/* tinyshakespeare: 65 characters, the same ids as nanoGPT's shakespeare_char. */
START_TEST(test_char_tinyshakespeare) {
    char buf[512];
    const char *path = shared_data_path("corpus/tinyshakespeare.txt", buf, sizeof buf);
    if (!path) {
        printf("SKIP test_char_tinyshakespeare: ../shared/data/corpus/tinyshakespeare.txt not "
               "found\n");
        return;
    }
    const char *paths[] = {path};
    zoo_corpus *c;
    ck_assert_int_eq(zoo_corpus_open(paths, 1, ZOO_UTF8_ERROR, &c), ZOO_OK);
    zoo_tokenizer *t;
    ck_assert_int_eq(zoo_tokenizer_train("char", NULL, c, &t), ZOO_OK);
    ck_assert_int_eq(zoo_tokenizer_vocab_size(t), 65);
    zoo_ids ids = {0};
    ck_assert_int_eq(zoo_tokenizer_encode(t, "First Citizen", 13, &ids), ZOO_OK);
    const int32_t nanogpt[] = {18, 47, 56, 57, 58, 1, 15, 47, 58, 47, 64, 43, 52};
    ck_assert_int_eq(ids.count, 13);
    ck_assert_int_eq(memcmp(ids.ids, nanogpt, sizeof nanogpt), 0);
    size_t len;
    const char *text = zoo_corpus_file(c, 0, &len);
    ids.count = 0;
    ck_assert_int_eq(zoo_tokenizer_encode(t, text, len, &ids), ZOO_OK);
    ck_assert_int_eq(ids.count, 1115394);
    assert_round_trip(t, text, len);
    zoo_ids_free(&ids);
    zoo_tokenizer_free(t);
    zoo_corpus_close(c);
}
END_TEST

/* ---- word ---------------------------------------------------------------- */

static const char sentence[] = "Hello, world! It's 3.5 €, \"quoted\" (x+y)=z—done…";

START_TEST(test_word_splits) {
    zoo_tokenizer *t = train("word", NULL, sentence);
    ck_assert_str_eq(tokens_of(t, sentence), "Hello,|world!|It's|3.5|€,|\"quoted\"|(x+y)=z—done…");
    zoo_tokenizer_free(t);
    zoo_tokenizer_settings s = ZOO_TOKENIZER_SETTINGS_INIT;
    s.split = ZOO_SPLIT_PUNCTUATION;
    t = train("word", &s, sentence);
    ck_assert_str_eq(tokens_of(t, sentence),
                     "Hello|,|world|!|It|'|s|3|.|5|€|,|\"|quoted|\"|(|x|+|y|)|=|z|—|done|…");
    zoo_tokenizer_free(t);
    /* Unicode whitespace (no-break space, ideographic space, tab, CR LF, line
     * separator) separates; a zero-width space (a format character) does not */
    const char *spaces = "a\xC2\xA0"
                         "b\xE3\x80\x80"
                         "c\td\r\ne\xE2\x80\xA8"
                         "f\xE2\x80\x8Bg";
    t = train("word", NULL, spaces);
    ck_assert_str_eq(tokens_of(t, spaces), "a|b|c|d|e|f\xE2\x80\x8Bg");
    zoo_tokenizer_free(t);
    /* Chinese punctuation is punctuation */
    const char *zh = "中文，测试。「好」";
    t = train("word", &s, zh);
    ck_assert_str_eq(tokens_of(t, zh), "中文|，|测试|。|「|好|」");
    zoo_tokenizer_free(t);
}
END_TEST

START_TEST(test_word_lowercasing) {
    zoo_tokenizer_settings s = ZOO_TOKENIZER_SETTINGS_INIT;
    s.lowercase = true;
    zoo_tokenizer *t = train("word", &s, "ÉCOLE École école ΣΟΦΊΑ STRAẞE Ⱥ");
    ck_assert_int_eq(zoo_tokenizer_vocab_size(t), 5); /* [UNK], école, σοφία, straße, ⱥ */
    int32_t ecole = zoo_tokenizer_id(t, "école", strlen("école"));
    ck_assert_int_eq(ecole, 1);
    ck_assert_int_eq(zoo_tokenizer_count(t, ecole), 3);
    ck_assert_str_eq(tokens_of(t, "ÉCOLE σοφία StraSSe ȺȺ straẞe"),
                     "école|σοφία|[UNK]|[UNK]|straße");
    zoo_tokenizer_free(t);
}
END_TEST

START_TEST(test_word_vocabulary_order_and_cuts) {
    const char *text = "b a c a b a d d e"; /* a 3, b 2, d 2, c 1, e 1 */
    zoo_tokenizer *t = train("word", NULL, text);
    ck_assert_str_eq(tokens_of(t, "a b c d e"), "a|b|c|d|e");
    const char *order[] = {"[UNK]", "a", "b", "d", "c", "e"}; /* count, then byte order */
    ck_assert_int_eq(zoo_tokenizer_vocab_size(t), 6);
    for (int32_t id = 0; id < 6; id++)
        ck_assert_str_eq(zoo_tokenizer_token(t, id, NULL), order[id]);
    ck_assert_int_eq(zoo_tokenizer_special(t, ZOO_TOK_UNK), 0);
    ck_assert_int_eq(zoo_tokenizer_count(t, 0), 0);
    ck_assert_int_eq(zoo_tokenizer_count(t, 3), 2);
    ck_assert_str_eq(tokens_of(t, "a zebra b"), "a|[UNK]|b"); /* the unknown token */
    zoo_tokenizer_free(t);

    zoo_tokenizer_settings s = ZOO_TOKENIZER_SETTINGS_INIT;
    s.min_count = 2;
    t = train("word", &s, text);
    ck_assert_int_eq(zoo_tokenizer_vocab_size(t), 4);
    ck_assert_str_eq(tokens_of(t, "a b c d e"), "a|b|[UNK]|d|[UNK]");
    ck_assert_int_eq(zoo_tokenizer_count(t, 0), 2); /* c and e were cut */
    zoo_tokenizer_free(t);

    s.min_count = 1, s.max_size = 3;
    t = train("word", &s, text);
    ck_assert_int_eq(zoo_tokenizer_vocab_size(t), 3);
    ck_assert_str_eq(tokens_of(t, "a b c d e"), "a|b|[UNK]|[UNK]|[UNK]");
    ck_assert_int_eq(zoo_tokenizer_count(t, 0), 4);
    zoo_tokenizer_free(t);

    /* BERT-like: [PAD] [UNK] [CLS] [SEP] [MASK] at 0..4, the words after them */
    const zoo_special bert[] = {ZOO_TOK_PAD, ZOO_TOK_UNK, ZOO_TOK_CLS, ZOO_TOK_SEP, ZOO_TOK_MASK};
    s.max_size = 0, s.specials = bert, s.n_specials = 5;
    t = train("word", &s, text);
    ck_assert_int_eq(zoo_tokenizer_vocab_size(t), 10);
    const zoo_special roles[] = {ZOO_TOK_PAD, ZOO_TOK_UNK, ZOO_TOK_CLS, ZOO_TOK_SEP, ZOO_TOK_MASK};
    for (int32_t i = 0; i < 5; i++) {
        ck_assert_int_eq(zoo_tokenizer_special(t, roles[i]), i);
        ck_assert(zoo_tokenizer_is_special(t, i));
    }
    ck_assert(!zoo_tokenizer_is_special(t, 5));
    ck_assert_int_eq(zoo_tokenizer_special(t, ZOO_TOK_BOS), -1);
    ck_assert_str_eq(zoo_tokenizer_token(t, 5, NULL), "a");
    zoo_tokenizer_free(t);

    /* [UNK] is added after the listed specials when they lack it */
    const zoo_special two[] = {ZOO_TOK_PAD, ZOO_TOK_EOS};
    s.specials = two, s.n_specials = 2;
    t = train("word", &s, text);
    ck_assert_int_eq(zoo_tokenizer_special(t, ZOO_TOK_PAD), 0);
    ck_assert_int_eq(zoo_tokenizer_special(t, ZOO_TOK_EOS), 1);
    ck_assert_int_eq(zoo_tokenizer_special(t, ZOO_TOK_UNK), 2);
    ck_assert_str_eq(zoo_tokenizer_token(t, 1, NULL), "[EOS]");
    zoo_tokenizer_free(t);
}
END_TEST

START_TEST(test_word_special_strings_and_decoding) {
    const zoo_special sp[] = {ZOO_TOK_UNK, ZOO_TOK_MASK};
    zoo_tokenizer_settings s = ZOO_TOKENIZER_SETTINGS_INIT;
    s.specials = sp, s.n_specials = 2, s.lowercase = true;
    zoo_tokenizer *t = train("word", &s, "The [MASK] sat on The [MASK]");
    ck_assert_int_eq(zoo_tokenizer_vocab_size(t), 5); /* [UNK] [MASK] the on sat */
    ck_assert_int_eq(zoo_tokenizer_count(t, 1), 2);   /* counted as the special, not a word */
    ck_assert_int_eq(zoo_tokenizer_id(t, "[mask]", 6), -1);
    zoo_ids ids = {0};
    ck_assert_int_eq(zoo_tokenizer_encode(t, "THE  [MASK]\n\tdog", 16, &ids), ZOO_OK);
    ck_assert_int_eq(ids.count, 3);
    ck_assert_int_eq(ids.ids[1], zoo_tokenizer_special(t, ZOO_TOK_MASK));
    size_t len;
    char *text = zoo_tokenizer_decode(t, ids.ids, ids.count, &len);
    ck_assert_str_eq(text, "the [MASK] [UNK]"); /* lossy: spacing, case and the dog are gone */
    ck_assert_uint_eq(len, 16);
    free(text);
    text = zoo_tokenizer_decode(t, ids.ids, 0, &len);
    ck_assert_str_eq(text, "");
    ck_assert_uint_eq(len, 0);
    free(text);
    ck_assert_int_eq(zoo_tokenizer_encode(t, "ok \xC3(", 5, &ids), ZOO_ERR_FORMAT);
    ck_assert_str_eq(zoo_error_message(), "word tokenizer: invalid UTF-8 at byte offset 3");
    ck_assert_int_eq(ids.count, 3);
    zoo_ids_free(&ids);
    zoo_tokenizer_free(t);
}
END_TEST

/* The King James Bible (4 MB): counts from Python's str.split() and a
 * category-based punctuation split; the encoding time is information only. */
/* ---- word counts in parts ------------------------------------------------ */

/* The JSON of the word tokenizer counted from text's parts cut at `cuts`
 * (moved to zoo_word_counts_cut), each part counted apart, packed and merged
 * in the order given by `order` (a permutation of the n + 1 parts). */
static char *json_of_parts(const zoo_tokenizer_settings *s, const char *text, const size_t *cuts,
                           int n, const int *order) {
    size_t len = strlen(text), bounds[10];
    ck_assert_int_lt(n, 9);
    /* every bound a cut, the first and the last too, as a process cuts its share */
    bounds[0] = zoo_word_counts_cut(text, len, 0);
    bounds[n + 1] = zoo_word_counts_cut(text, len, len);
    for (int i = 0; i < n; i++) {
        bounds[i + 1] = zoo_word_counts_cut(text, len, cuts[i]);
        if (bounds[i + 1] < bounds[i]) bounds[i + 1] = bounds[i];
    }
    zoo_word_counts *all;
    ck_assert_int_eq(zoo_word_counts_new(s, &all), ZOO_OK);
    for (int i = 0; i <= n; i++) {
        int part = order ? order[i] : i;
        zoo_word_counts *k;
        ck_assert_int_eq(zoo_word_counts_new(s, &k), ZOO_OK);
        ck_assert_int_eq(
            zoo_word_counts_add_text(k, text + bounds[part], bounds[part + 1] - bounds[part]),
            ZOO_OK);
        void *bytes;
        size_t size;
        ck_assert_int_eq(zoo_word_counts_pack(k, &bytes, &size), ZOO_OK);
        ck_assert_msg(zoo_word_counts_merge(all, bytes, size) == ZOO_OK, "%s", zoo_error_message());
        free(bytes);
        zoo_word_counts_free(k);
    }
    zoo_tokenizer *t;
    ck_assert_msg(zoo_word_counts_tokenizer(all, &t) == ZOO_OK, "%s", zoo_error_message());
    char *json = zoo_tokenizer_to_json(t);
    zoo_tokenizer_free(t);
    zoo_word_counts_free(all);
    return json;
}

START_TEST(test_word_counts_cut) {
    const char *text = "ab cd\téf\n\nghi";
    size_t len = strlen(text);
    ck_assert_uint_eq(zoo_word_counts_cut(text, len, 0), 0); /* the start is a cut */
    ck_assert_uint_eq(zoo_word_counts_cut(text, len, 1), 2); /* inside "ab": to the space */
    ck_assert_uint_eq(zoo_word_counts_cut(text, len, 2), 2); /* already at one */
    ck_assert_uint_eq(zoo_word_counts_cut(text, len, 4), 5); /* the tab */
    ck_assert_uint_eq(zoo_word_counts_cut(text, len, 7), 9); /* inside é's two bytes: past them */
    ck_assert_uint_eq(zoo_word_counts_cut(text, len, 11), len); /* no white space left */
    ck_assert_uint_eq(zoo_word_counts_cut(text, len, len), len);
    ck_assert_uint_eq(zoo_word_counts_cut(text, len, len + 5), len);
    ck_assert_uint_eq(zoo_word_counts_cut("a\0b c", 5, 1), 3); /* a NUL is not a cut here */
}
END_TEST

/* Counted in parts and merged, the vocabulary is the one training on the
 * whole text makes: the same tokens, ids and counts (ties broken alike,
 * min_count and max_size cutting the merged counts, specials' spellings
 * counted for them), wherever the parts are cut and in any order. */
START_TEST(test_word_counts_in_parts_make_the_whole_vocabulary) {
    static const zoo_special mlm[] = {ZOO_TOK_PAD, ZOO_TOK_UNK, ZOO_TOK_CLS, ZOO_TOK_SEP,
                                      ZOO_TOK_MASK};
    const char *text = "The cat sat. The [MASK] sat on THE mat!\nA cat, a dog; a bird?\n"
                       "Dog and cat and bird and ÉCOLE école \t tie1 tie2 tie3 tie2 tie3 zeta\n";
    zoo_tokenizer_settings settings[4] = {ZOO_TOKENIZER_SETTINGS_INIT, ZOO_TOKENIZER_SETTINGS_INIT,
                                          ZOO_TOKENIZER_SETTINGS_INIT, ZOO_TOKENIZER_SETTINGS_INIT};
    settings[1].lowercase = true, settings[1].split = ZOO_SPLIT_PUNCTUATION;
    settings[1].min_count = 2;
    settings[2].lowercase = true, settings[2].specials = mlm, settings[2].n_specials = 5;
    settings[2].max_size = 12; /* cuts among the words seen twice: ties by bytes */
    settings[3].split = ZOO_SPLIT_PUNCTUATION, settings[3].max_size = 9;
    size_t len = strlen(text);
    for (int k = 0; k < 4; k++) {
        zoo_tokenizer *whole = train("word", &settings[k], text);
        char *want = zoo_tokenizer_to_json(whole);
        zoo_tokenizer_free(whole);
        for (size_t at = 0; at <= len; at++) { /* one cut, everywhere */
            size_t cuts[1] = {at};
            char *got = json_of_parts(&settings[k], text, cuts, 1, NULL);
            ck_assert_msg(strcmp(got, want) == 0, "settings %d, cut at %zu:\n%s\n%s", k, at, got,
                          want);
            free(got);
        }
        size_t cuts[4] = {3, 30, 31, 90};
        int order[5] = {4, 2, 0, 3, 1};
        char *got = json_of_parts(&settings[k], text, cuts, 4, order);
        ck_assert_str_eq(got, want);
        free(got);
        free(want);
    }
}
END_TEST

START_TEST(test_word_counts_refused) {
    zoo_tokenizer_settings s = ZOO_TOKENIZER_SETTINGS_INIT, lower = ZOO_TOKENIZER_SETTINGS_INIT;
    lower.lowercase = true;
    zoo_word_counts *k, *other, *empty;
    ck_assert_int_eq(zoo_word_counts_new(&s, &k), ZOO_OK);
    ck_assert_int_eq(zoo_word_counts_new(&lower, &other), ZOO_OK);
    ck_assert_int_eq(zoo_word_counts_new(NULL, &empty), ZOO_OK);
    ck_assert_int_eq(zoo_word_counts_add_text(k, "one two two", 11), ZOO_OK);
    ck_assert_int_eq(zoo_word_counts_add_text(other, "three", 5), ZOO_OK);
    ck_assert_int_eq(zoo_word_counts_add_text(k, "ok \xff", 4), ZOO_ERR_FORMAT);
    ck_assert_str_eq(zoo_error_message(), "word tokenizer: invalid UTF-8 at byte offset 3");

    /* nothing counted: no vocabulary */
    zoo_tokenizer *t;
    ck_assert_int_eq(zoo_word_counts_tokenizer(empty, &t), ZOO_ERR_ARG);
    ck_assert_ptr_null(t);
    ck_assert_str_eq(zoo_error_message(), "word tokenizer: the corpus has no words");

    void *bytes;
    size_t n;
    ck_assert_int_eq(zoo_word_counts_pack(other, &bytes, &n), ZOO_OK);
    ck_assert_int_eq(zoo_word_counts_merge(k, bytes, n), ZOO_ERR_ARG);
    ck_assert_str_eq(zoo_error_message(),
                     "word counts: counted with other settings (lowercase, split or specials "
                     "differ)");
    free(bytes);
    ck_assert_int_eq(zoo_word_counts_merge(k, "nonsense", 8), ZOO_ERR_FORMAT);
    ck_assert_str_eq(zoo_error_message(), "word counts: not packed word counts");

    /* k's own counts, cut short or with bytes past the end: refused, k unchanged */
    ck_assert_int_eq(zoo_word_counts_pack(k, &bytes, &n), ZOO_OK);
    for (size_t cut = 0; cut < n; cut++)
        ck_assert_int_eq(zoo_word_counts_merge(k, bytes, cut), ZOO_ERR_FORMAT);
    unsigned char *longer = malloc(n + 1);
    memcpy(longer, bytes, n), longer[n] = 'x';
    ck_assert_int_eq(zoo_word_counts_merge(k, longer, n + 1), ZOO_ERR_FORMAT);
    ck_assert_str_eq(zoo_error_message(), "word counts: 1 bytes past the last word");
    free(longer);
    ck_assert_int_eq(zoo_word_counts_tokenizer(k, &t), ZOO_OK);
    ck_assert_int_eq(zoo_tokenizer_count(t, zoo_tokenizer_id(t, "two", 3)), 2);
    ck_assert_int_eq(zoo_tokenizer_count(t, zoo_tokenizer_id(t, "one", 3)), 1);
    zoo_tokenizer_free(t);
    /* and merged whole, twice the counts */
    ck_assert_int_eq(zoo_word_counts_merge(k, bytes, n), ZOO_OK);
    free(bytes);
    ck_assert_int_eq(zoo_word_counts_tokenizer(k, &t), ZOO_OK);
    ck_assert_int_eq(zoo_tokenizer_count(t, zoo_tokenizer_id(t, "two", 3)), 4);
    zoo_tokenizer_free(t);

    zoo_tokenizer_settings tight = ZOO_TOKENIZER_SETTINGS_INIT;
    tight.max_size = 1;
    zoo_word_counts *none;
    ck_assert_int_eq(zoo_word_counts_new(&tight, &none), ZOO_ERR_ARG);
    ck_assert_ptr_null(none);
    ck_assert_str_eq(zoo_error_message(),
                     "word tokenizer: max_size 1 leaves no room beside the 1 special tokens");
    zoo_word_counts_free(k);
    zoo_word_counts_free(other);
    zoo_word_counts_free(empty);
}
END_TEST

START_TEST(test_word_kjv) {
    char buf[512];
    const char *path = shared_data_path("corpus/kjv.txt", buf, sizeof buf);
    if (!path) {
        printf("SKIP test_word_kjv: ../shared/data/corpus/kjv.txt not found\n");
        return;
    }
    const char *paths[] = {path};
    zoo_corpus *c;
    ck_assert_int_eq(zoo_corpus_open(paths, 1, ZOO_UTF8_ERROR, &c), ZOO_OK);
    size_t len;
    const char *text = zoo_corpus_file(c, 0, &len);
    zoo_tokenizer *t;
    ck_assert_int_eq(zoo_tokenizer_train("word", NULL, c, &t), ZOO_OK);
    ck_assert_int_eq(zoo_tokenizer_vocab_size(t), 1 + 28856);
    zoo_ids ids = {0};
    ck_assert_int_eq(zoo_tokenizer_encode(t, text, len, &ids), ZOO_OK);
    ck_assert_int_eq(ids.count, 789634);
    zoo_tokenizer_free(t);

    zoo_tokenizer_settings s = ZOO_TOKENIZER_SETTINGS_INIT;
    s.lowercase = true, s.split = ZOO_SPLIT_PUNCTUATION;
    struct timespec t0, t1, t2;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ck_assert_int_eq(zoo_tokenizer_train("word", &s, c, &t), ZOO_OK);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ids.count = 0;
    ck_assert_int_eq(zoo_tokenizer_encode(t, text, len, &ids), ZOO_OK);
    clock_gettime(CLOCK_MONOTONIC, &t2);
    printf("kjv: word tokenizer (lowercase, punctuation) trained in %.0f ms, encoded %zu bytes "
           "into %lld tokens in %.0f ms\n",
           (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6, len,
           (long long)ids.count, (t2.tv_sec - t1.tv_sec) * 1e3 + (t2.tv_nsec - t1.tv_nsec) / 1e6);
    ck_assert_int_eq(ids.count, 917240);
    ck_assert_int_eq(zoo_tokenizer_vocab_size(t), 1 + 12554);
    const char *top[] = {",", "the", "and", "of", ".", "to", "that", ":", "in", "he"};
    for (int i = 0; i < 10; i++) ck_assert_str_eq(zoo_tokenizer_token(t, i + 1, NULL), top[i]);
    ck_assert_int_eq(zoo_tokenizer_count(t, 1), 70683);
    zoo_tokenizer_free(t);

    s.min_count = 5;
    ck_assert_int_eq(zoo_tokenizer_train("word", &s, c, &t), ZOO_OK);
    ck_assert_int_eq(zoo_tokenizer_vocab_size(t), 1 + 5288);
    zoo_tokenizer_free(t);
    zoo_ids_free(&ids);
    zoo_corpus_close(c);
}
END_TEST

/* ---- JSON ---------------------------------------------------------------- */

static void assert_same_tokenizer(const zoo_tokenizer *a, const zoo_tokenizer *b,
                                  const char *probe) {
    ck_assert_str_eq(zoo_tokenizer_type(a), zoo_tokenizer_type(b));
    ck_assert_int_eq(zoo_tokenizer_vocab_size(a), zoo_tokenizer_vocab_size(b));
    for (int32_t id = 0; id < zoo_tokenizer_vocab_size(a); id++) {
        size_t la, lb;
        const char *ta = zoo_tokenizer_token(a, id, &la), *tb = zoo_tokenizer_token(b, id, &lb);
        ck_assert_uint_eq(la, lb);
        ck_assert_int_eq(memcmp(ta, tb, la), 0);
        ck_assert_int_eq(zoo_tokenizer_count(a, id), zoo_tokenizer_count(b, id));
    }
    for (int s = 0; s < ZOO_TOK_N_SPECIAL; s++)
        ck_assert_int_eq(zoo_tokenizer_special(a, (zoo_special)s),
                         zoo_tokenizer_special(b, (zoo_special)s));
    zoo_ids ia = {0}, ib = {0};
    ck_assert_int_eq(zoo_tokenizer_encode(a, probe, strlen(probe), &ia), ZOO_OK);
    ck_assert_int_eq(zoo_tokenizer_encode(b, probe, strlen(probe), &ib), ZOO_OK);
    ck_assert_int_eq(ia.count, ib.count);
    ck_assert_int_eq(memcmp(ia.ids, ib.ids, (size_t)ia.count * sizeof *ia.ids), 0);
    zoo_ids_free(&ia);
    zoo_ids_free(&ib);
}

START_TEST(test_json_round_trip) {
    const zoo_special bert[] = {ZOO_TOK_PAD, ZOO_TOK_UNK, ZOO_TOK_CLS, ZOO_TOK_SEP, ZOO_TOK_MASK};
    zoo_tokenizer_settings s = ZOO_TOKENIZER_SETTINGS_INIT;
    s.specials = bert, s.n_specials = 5, s.lowercase = true, s.min_count = 1;
    s.split = _i ? ZOO_SPLIT_PUNCTUATION : ZOO_SPLIT_WHITESPACE;
    const char *type = _i == 2 ? "char" : "word";
    if (_i == 2) s.split = ZOO_SPLIT_WHITESPACE, s.max_size = 30;
    zoo_tokenizer *t = train(type, &s, mixed);
    char *json = zoo_tokenizer_to_json(t);
    ck_assert_ptr_nonnull(json);
    zoo_tokenizer *back;
    ck_assert_msg(zoo_tokenizer_from_json(json, &back) == ZOO_OK, "%s", zoo_error_message());
    assert_same_tokenizer(t, back, mixed);
    assert_same_tokenizer(t, back, "HELLO unseen words, 世界 [MASK] ☃");
    char *again = zoo_tokenizer_to_json(back);
    ck_assert_str_eq(again, json); /* and the same document once more */
    free(again);
    free(json);
    zoo_tokenizer_free(back);
    zoo_tokenizer_free(t);
}
END_TEST

START_TEST(test_json_form) {
    zoo_tokenizer *t = train("word", NULL, "b a a");
    char *json = zoo_tokenizer_to_json(t);
    ck_assert_str_eq(json, "{\"version\":1,\"type\":\"word\",\"special\":{\"unk\":0},\"model\":{"
                           "\"lowercase\":false,\"split\":\"whitespace\",\"tokens\":[\"[UNK]\","
                           "\"a\",\"b\"],\"counts\":[0,2,1]}}");
    free(json);
    zoo_tokenizer_free(t);
    t = train("char", NULL, "ba\n");
    json = zoo_tokenizer_to_json(t);
    ck_assert_str_eq(json, "{\"version\":1,\"type\":\"char\",\"special\":{},\"model\":{"
                           "\"lowercase\":false,\"specials\":[],\"code_points\":[10,97,98],"
                           "\"counts\":[1,1,1]}}");
    free(json);
    zoo_tokenizer_free(t);
}
END_TEST

static const struct {
    const char *json, *message;
    int status;
} bad_json[] = {
    {"{\"version\":1,", "tokenizer JSON: not valid JSON (at byte 13)", ZOO_ERR_FORMAT},
    {"[1]", "tokenizer JSON: expected an object", ZOO_ERR_FORMAT},
    {"{\"version\":2,\"type\":\"word\",\"model\":{}}", "tokenizer JSON: 'version' must be 1",
     ZOO_ERR_FORMAT},
    {"{\"version\":1,\"type\":\"word\",\"model\":{},\"vocab\":[]}",
     "tokenizer JSON: unknown key 'vocab'", ZOO_ERR_FORMAT},
    {"{\"version\":1,\"type\":\"bpe\",\"model\":{}}",
     "unknown tokenizer type 'bpe' (known: char, word, gpt2, wordpiece)", ZOO_ERR_NOTFOUND},
    {"{\"version\":1,\"type\":\"word\",\"model\":{\"lowercase\":false,\"split\":\"comma\","
     "\"tokens\":[\"a\"]}}",
     "tokenizer JSON: model.split: expected whitespace or punctuation, got 'comma'",
     ZOO_ERR_FORMAT},
    {"{\"version\":1,\"type\":\"word\",\"model\":{\"lowercase\":false,\"split\":\"whitespace\","
     "\"tokens\":[\"[UNK]\",\"a\",\"a\"]}}",
     "tokenizer JSON: model.tokens[2]: 'a' is already token 1", ZOO_ERR_FORMAT},
    {"{\"version\":1,\"type\":\"word\",\"model\":{\"lowercase\":false,\"split\":\"whitespace\","
     "\"tokens\":[\"a\"],\"counts\":[1,2]}}",
     "tokenizer JSON: model.counts: 2 entries for 1 tokens", ZOO_ERR_FORMAT},
    {"{\"version\":1,\"type\":\"word\",\"model\":{\"lowercase\":0,\"split\":\"whitespace\","
     "\"tokens\":[\"a\"]}}",
     "tokenizer JSON: model.lowercase: unknown key or wrong type (word knows lowercase: bool, "
     "split: string, tokens, counts: arrays)",
     ZOO_ERR_FORMAT},
    {"{\"version\":1,\"type\":\"word\",\"special\":{\"unk\":1},\"model\":{\"lowercase\":false,"
     "\"split\":\"whitespace\",\"tokens\":[\"a\"]}}",
     "tokenizer JSON: special.unk: expected an id in [0, 1)", ZOO_ERR_FORMAT},
    {"{\"version\":1,\"type\":\"word\",\"special\":{\"oov\":0},\"model\":{\"lowercase\":false,"
     "\"split\":\"whitespace\",\"tokens\":[\"a\"]}}",
     "tokenizer JSON: special.oov: unknown role (known: unk, pad, mask, cls, sep, bos, eos)",
     ZOO_ERR_FORMAT},
    {"{\"version\":1,\"type\":\"char\",\"model\":{\"lowercase\":false,\"specials\":[],"
     "\"code_points\":[98,97]}}",
     "tokenizer JSON: model.code_points[1]: U+0061 is not above the previous one, U+0062 (they "
     "are sorted, each once)",
     ZOO_ERR_FORMAT},
    {"{\"version\":1,\"type\":\"char\",\"model\":{\"lowercase\":false,\"specials\":[],"
     "\"code_points\":[55296]}}",
     "tokenizer JSON: model.code_points[0]: not a Unicode scalar value (an integer in [0, "
     "0x10FFFF], not a surrogate)",
     ZOO_ERR_FORMAT},
    {"{\"version\":1,\"type\":\"char\",\"model\":{\"lowercase\":false,\"specials\":[\"a\"],"
     "\"code_points\":[97]}}",
     "char tokenizer: special token 'a' is also the character U+0061", ZOO_ERR_FORMAT},
    /* numbers past every integer type: refused before any conversion (UBSan's
     * float-cast-overflow checks that no cast comes first) */
    {"{\"version\":1,\"type\":\"word\",\"model\":{\"lowercase\":false,\"split\":\"whitespace\","
     "\"tokens\":[\"a\"],\"counts\":[1e300]}}",
     "tokenizer JSON: model.counts[0]: not a count", ZOO_ERR_FORMAT},
    {"{\"version\":1,\"type\":\"word\",\"model\":{\"lowercase\":false,\"split\":\"whitespace\","
     "\"tokens\":[\"a\"],\"counts\":[1e999]}}",
     "tokenizer JSON: model.counts[0]: not a count", ZOO_ERR_FORMAT},
    {"{\"version\":1,\"type\":\"word\",\"special\":{\"unk\":-1e300},\"model\":{\"lowercase\":"
     "false,\"split\":\"whitespace\",\"tokens\":[\"a\"]}}",
     "tokenizer JSON: special.unk: expected an id in [0, 1)", ZOO_ERR_FORMAT},
    {"{\"version\":1,\"type\":\"char\",\"model\":{\"lowercase\":false,\"specials\":[],"
     "\"code_points\":[1e300]}}",
     "tokenizer JSON: model.code_points[0]: not a Unicode scalar value (an integer in [0, "
     "0x10FFFF], not a surrogate)",
     ZOO_ERR_FORMAT},
    {"{\"version\":1,\"type\":\"char\",\"model\":{\"lowercase\":false,\"specials\":[],"
     "\"code_points\":[97],\"counts\":[1e300]}}",
     "tokenizer JSON: model.counts[0]: not a count", ZOO_ERR_FORMAT},
};

START_TEST(test_json_errors) {
    zoo_tokenizer *t = (zoo_tokenizer *)1;
    ck_assert_int_eq(zoo_tokenizer_from_json(bad_json[_i].json, &t), bad_json[_i].status);
    ck_assert_str_eq(zoo_error_message(), bad_json[_i].message);
    ck_assert_ptr_null(t);
}
END_TEST

/* ---- settings and types --------------------------------------------------- */

START_TEST(test_unknown_type_and_bad_settings) {
    zoo_corpus *c = corpus_of("some text", 9);
    zoo_tokenizer *t;
    ck_assert_int_eq(zoo_tokenizer_train("gpt3", NULL, c, &t), ZOO_ERR_NOTFOUND);
    ck_assert_str_eq(zoo_error_message(),
                     "unknown tokenizer type 'gpt3' (known: char, word, gpt2, wordpiece)");
    ck_assert_ptr_null(t);
    ck_assert_str_eq(zoo_tokenizer_type_name(0), "char");
    ck_assert_str_eq(zoo_tokenizer_type_name(1), "word");
    ck_assert_str_eq(zoo_tokenizer_type_name(3), "wordpiece");
    ck_assert_ptr_null(zoo_tokenizer_type_name(4));

    const zoo_special twice[] = {ZOO_TOK_UNK, ZOO_TOK_PAD, ZOO_TOK_UNK};
    zoo_tokenizer_settings s = ZOO_TOKENIZER_SETTINGS_INIT;
    s.specials = twice, s.n_specials = 3;
    ck_assert_int_eq(zoo_tokenizer_train("word", &s, c, &t), ZOO_ERR_ARG);
    ck_assert_str_eq(zoo_error_message(), "tokenizer settings: [UNK] is listed twice");
    s.n_specials = 0, s.max_size = 1;
    ck_assert_int_eq(zoo_tokenizer_train("word", &s, c, &t), ZOO_ERR_ARG);
    ck_assert_str_eq(zoo_error_message(),
                     "word tokenizer: max_size 1 leaves no room beside the 1 special tokens");
    s.max_size = 0, s.split = ZOO_SPLIT_PUNCTUATION;
    ck_assert_int_eq(zoo_tokenizer_train("char", &s, c, &t), ZOO_ERR_ARG);
    ck_assert_str_eq(zoo_error_message(),
                     "char tokenizer: 'split' applies to the word tokenizer only");
    s.split = ZOO_SPLIT_WHITESPACE, s.size = 4;
    ck_assert_int_eq(zoo_tokenizer_train("word", &s, c, &t), ZOO_ERR_ARG);
    char expected[200];
    snprintf(expected, sizeof expected,
             "tokenizer settings: size is 4; set it to sizeof(zoo_tokenizer_settings) (%zu in "
             "this libzoo)",
             sizeof s);
    ck_assert_str_eq(zoo_error_message(), expected);
    /* a shorter, older settings struct: the fields past it take their defaults */
    s = (zoo_tokenizer_settings){.size = offsetof(zoo_tokenizer_settings, split),
                                 .lowercase = true,
                                 .split = ZOO_SPLIT_PUNCTUATION,
                                 .min_count = 99};
    ck_assert_int_eq(zoo_tokenizer_train("word", &s, c, &t), ZOO_OK);
    ck_assert_str_eq(tokens_of(t, "SOME text."), "some|[UNK]");
    zoo_tokenizer_free(t);
    zoo_corpus_close(c);

    c = corpus_of(" \n\t\xE3\x80\x80", 6);
    ck_assert_int_eq(zoo_tokenizer_train("word", NULL, c, &t), ZOO_ERR_ARG);
    ck_assert_str_eq(zoo_error_message(), "word tokenizer: the corpus has no words");
    zoo_corpus_close(c);
}
END_TEST

/* A type defined outside core plugs into the same interface: one token per
 * byte, its table one operation shorter than today's (no counts). */
static int bytes_encode(const zoo_tokenizer *t, const char *text, size_t len, zoo_ids *out) {
    (void)t;
    for (size_t i = 0; i < len; i++) {
        int st = zoo_ids_push(out, (unsigned char)text[i]);
        if (st != ZOO_OK) return st;
    }
    return ZOO_OK;
}
static char *bytes_decode(const zoo_tokenizer *t, const int32_t *ids, int64_t n, size_t *len) {
    (void)t;
    char *s = malloc((size_t)n + 1);
    for (int64_t i = 0; i < n; i++) s[i] = (char)ids[i];
    s[n] = '\0';
    if (len) *len = (size_t)n;
    return s;
}
static int32_t bytes_vocab_size(const zoo_tokenizer *t) {
    (void)t;
    return 256;
}
static const char *bytes_token(const zoo_tokenizer *t, int32_t id, size_t *len) {
    if (len) *len = 1;
    return (const char *)zoo_tokenizer_state(t) + 2 * id;
}
static int32_t bytes_id(const zoo_tokenizer *t, const char *token, size_t len) {
    (void)t;
    return len == 1 ? (unsigned char)token[0] : -1;
}
static int64_t bytes_count(const zoo_tokenizer *t, int32_t id) {
    (void)t, (void)id;
    ck_abort_msg("an operation past the table's size was called");
    return 0;
}
static char *bytes_to_json(const zoo_tokenizer *t) {
    (void)t;
    return strdup("{}");
}

START_TEST(test_a_type_of_its_own) {
    zoo_tokenizer_ops ops = {.size = offsetof(zoo_tokenizer_ops, count),
                             .type = "bytes",
                             .encode = bytes_encode,
                             .vocab_size = bytes_vocab_size,
                             .token = bytes_token,
                             .id = bytes_id,
                             .to_json = bytes_to_json,
                             .free = free};
    char *table = malloc(512); /* each byte followed by a NUL */
    for (int b = 0; b < 256; b++) table[2 * b] = (char)b, table[2 * b + 1] = '\0';
    zoo_tokenizer *t;
    ck_assert_int_eq(zoo_tokenizer_new(&ops, table, &t), ZOO_ERR_ARG);
    ck_assert_str_eq(zoo_error_message(), "tokenizer 'bytes': the required operation 'decode' is "
                                          "missing");
    ops.decode = bytes_decode;
    ops.count = bytes_count; /* past .size: never called */
    ck_assert_int_eq(zoo_tokenizer_new(&ops, table, &t), ZOO_OK);
    ck_assert_str_eq(zoo_tokenizer_type(t), "bytes");
    assert_round_trip(t, "中\x01", 4);
    ck_assert_int_eq(zoo_tokenizer_count(t, 3), -1);
    ck_assert_int_eq(zoo_tokenizer_set_special(t, ZOO_TOK_EOS, 0), ZOO_OK);
    ck_assert_int_eq(zoo_tokenizer_special(t, ZOO_TOK_EOS), 0);
    ck_assert_int_eq(zoo_tokenizer_set_special(t, ZOO_TOK_PAD, 256), ZOO_ERR_ARG);
    ck_assert_str_eq(zoo_error_message(), "tokenizer: [PAD] id 256 is outside [0, 256)");
    ck_assert_ptr_null(zoo_tokenizer_token(t, -1, NULL));
    ck_assert_str_eq(zoo_error_message(), "tokenizer: id -1 is outside [0, 256)");
    char *json = zoo_tokenizer_to_json(t);
    ck_assert_str_eq(json,
                     "{\"version\":1,\"type\":\"bytes\",\"special\":{\"eos\":0},\"model\":{}}");
    free(json);
    zoo_tokenizer_free(t); /* frees table through ops.free */
}
END_TEST

/* ---- spans ------------------------------------------------------------------ */

/* encode_spans gives the ids of encode and each token's bytes in the text. */
static void assert_spans(const zoo_tokenizer *t, const char *text, const int64_t (*want)[2],
                         int64_t n, bool utf8) {
    zoo_ids ids = {0}, plain = {0};
    zoo_spans spans = {0};
    ck_assert_int_eq(zoo_ids_push(&ids, 7), ZOO_OK); /* both append */
    ck_assert_int_eq(zoo_spans_push(&spans, 100, 101), ZOO_OK);
    ck_assert_int_eq(zoo_tokenizer_encode_spans(t, text, strlen(text), &ids, &spans), ZOO_OK);
    ck_assert_int_eq(zoo_tokenizer_encode(t, text, strlen(text), &plain), ZOO_OK);
    ck_assert_int_eq(ids.count, 1 + n);
    ck_assert_int_eq(spans.count, 1 + n);
    ck_assert_mem_eq(ids.ids + 1, plain.ids, (size_t)n * sizeof *plain.ids);
    for (int64_t i = 0; i < n; i++)
        ck_assert_msg(spans.spans[1 + i].begin == want[i][0] &&
                          spans.spans[1 + i].end == want[i][1],
                      "token %lld of '%s': span [%lld, %lld), expected [%lld, %lld)", (long long)i,
                      text, (long long)spans.spans[1 + i].begin, (long long)spans.spans[1 + i].end,
                      (long long)want[i][0], (long long)want[i][1]);
    /* invalid text (for a type that reads UTF-8): neither buffer moves */
    if (utf8)
        ck_assert_int_eq(zoo_tokenizer_encode_spans(t, "ok \xff", 4, &ids, &spans), ZOO_ERR_FORMAT);
    ck_assert_int_eq(ids.count, 1 + n);
    ck_assert_int_eq(spans.count, 1 + n);
    zoo_ids_free(&ids), zoo_ids_free(&plain), zoo_spans_free(&spans);
}

START_TEST(test_spans_of_words_and_chars) {
    zoo_tokenizer_settings s = ZOO_TOKENIZER_SETTINGS_INIT;
    s.lowercase = true, s.split = ZOO_SPLIT_PUNCTUATION;
    zoo_tokenizer *w = tokenizer_from_text("word", &s, "hello , world ! hello world");
    /* "Zyzzyva" is not in the vocabulary: [UNK], spanning the word as written */
    const char *text = " Hello,  WORLD Zyzzyva!\n";
    const int64_t want_w[][2] = {{1, 6}, {6, 7}, {9, 14}, {15, 22}, {22, 23}};
    assert_spans(w, text, want_w, 5, true);
    zoo_ids ids = {0};
    ck_assert_int_eq(zoo_tokenizer_encode(w, text, strlen(text), &ids), ZOO_OK);
    ck_assert_int_eq(ids.ids[3], zoo_tokenizer_special(w, ZOO_TOK_UNK));
    zoo_ids_free(&ids);
    zoo_tokenizer_free(w);

    zoo_tokenizer_settings cs = ZOO_TOKENIZER_SETTINGS_INIT;
    cs.min_count = 2; /* "q" falls out: [UNK] */
    zoo_tokenizer *c = tokenizer_from_text("char", &cs, "a\u00e9\u6f22b a\u00e9\u6f22b q");
    const int64_t want_c[][2] = {{0, 1}, {1, 3}, {3, 6}, {6, 7}, {7, 8}};
    assert_spans(c, "a\u00e9\u6f22bq", want_c, 5, true);
    zoo_tokenizer_free(c);
}
END_TEST

static int bad_encode_spans(const zoo_tokenizer *t, const char *text, size_t len, zoo_ids *out,
                            zoo_spans *spans) {
    (void)spans;
    return bytes_encode(t, text, len, out); /* forgets the spans */
}

/* A type without encode_spans: every span {-1, -1}; one whose encode_spans
 * miscounts is refused. */
START_TEST(test_spans_of_a_type_that_cannot_tell) {
    zoo_tokenizer_ops ops = {.size = offsetof(zoo_tokenizer_ops, encode_spans),
                             .type = "bytes",
                             .encode = bytes_encode,
                             .decode = bytes_decode,
                             .vocab_size = bytes_vocab_size,
                             .token = bytes_token,
                             .id = bytes_id,
                             .to_json = bytes_to_json,
                             .free = free,
                             .encode_spans = bad_encode_spans}; /* past .size: never called */
    char *table = malloc(512);
    for (int b = 0; b < 256; b++) table[2 * b] = (char)b, table[2 * b + 1] = '\0';
    zoo_tokenizer *t;
    ck_assert_int_eq(zoo_tokenizer_new(&ops, table, &t), ZOO_OK);
    const int64_t none[][2] = {{-1, -1}, {-1, -1}, {-1, -1}};
    assert_spans(t, "ab\x01", none, 3, false);
    zoo_tokenizer_free(t);
    ops.size = sizeof ops;
    table = malloc(512);
    for (int b = 0; b < 256; b++) table[2 * b] = (char)b, table[2 * b + 1] = '\0';
    ck_assert_int_eq(zoo_tokenizer_new(&ops, table, &t), ZOO_OK);
    zoo_ids ids = {0};
    zoo_spans spans = {0};
    ck_assert_int_eq(zoo_tokenizer_encode_spans(t, "ab", 2, &ids, &spans), ZOO_ERR_STATE);
    ck_assert_str_eq(zoo_error_message(), "tokenizer 'bytes': encode_spans gave 0 spans for 2 ids");
    ck_assert_int_eq(ids.count, 0);
    zoo_ids_free(&ids), zoo_spans_free(&spans);
    zoo_tokenizer_free(t);
}
END_TEST

/* ---- helpers: ids, special names, the vocabulary --------------------------- */

START_TEST(test_vocab) {
    zoo_vocab *v = zoo_vocab_new();
    char word[32];
    for (int i = 0; i < 100000; i++) {
        int n = snprintf(word, sizeof word, "w%d", i);
        ck_assert_int_eq(zoo_vocab_intern(v, word, (size_t)n), i);
    }
    ck_assert_int_eq(zoo_vocab_intern(v, "w77", 3), 77); /* already there */
    ck_assert_int_eq(zoo_vocab_size(v), 100000);
    for (int i = 0; i < 100000; i += 997) {
        int n = snprintf(word, sizeof word, "w%d", i);
        ck_assert_int_eq(zoo_vocab_find(v, word, (size_t)n), i);
        size_t len;
        ck_assert_str_eq(zoo_vocab_token(v, i, &len), word);
        ck_assert_uint_eq(len, (size_t)n);
    }
    ck_assert_int_eq(zoo_vocab_find(v, "w100000", 7), -1);
    ck_assert_int_eq(zoo_vocab_find(v, "w1", 1), -1); /* a prefix is not the token */
    /* NUL is a byte like any other, and the empty string a token */
    ck_assert_int_eq(zoo_vocab_intern(v, "a\0b", 3), 100000);
    ck_assert_int_eq(zoo_vocab_intern(v, "a\0c", 3), 100001);
    ck_assert_int_eq(zoo_vocab_intern(v, "", 0), 100002);
    ck_assert_int_eq(zoo_vocab_find(v, "a\0c", 3), 100001);
    ck_assert_int_eq(zoo_vocab_find(v, "a", 1), -1);
    zoo_vocab_free(v);

    zoo_ids ids = {0};
    for (int i = 0; i < 5000; i++) ck_assert_int_eq(zoo_ids_push(&ids, i), ZOO_OK);
    ck_assert_int_eq(ids.count, 5000);
    ck_assert_int_eq(ids.ids[4321], 4321);
    ck_assert_int_eq(zoo_ids_reserve(&ids, -1), ZOO_ERR_ARG);
    zoo_ids_free(&ids);
    ck_assert_ptr_null(ids.ids);
    ck_assert_int_eq(ids.cap, 0);

    ck_assert_str_eq(zoo_special_token(ZOO_TOK_SEP), "[SEP]");
    ck_assert_int_eq(zoo_special_from_token("[MASK]"), ZOO_TOK_MASK);
    ck_assert_int_eq(zoo_special_from_token("[mask]"), -1);
    ck_assert_ptr_null(zoo_special_token(ZOO_TOK_N_SPECIAL));
}
END_TEST

Suite *make_suite(void) {
    Suite *s = suite_create("tokenizer");
    TCase *tc = tcase_create("tokenizer");
    tcase_add_test(tc, test_char_round_trips_any_text);
    tcase_add_loop_test(tc, test_char_round_trips_random_code_points, 0, 4);
    tcase_add_test(tc, test_char_unknown_characters);
    tcase_add_test(tc, test_char_cuts);
    tcase_add_test(tc, test_char_tinyshakespeare);
    tcase_add_test(tc, test_word_splits);
    tcase_add_test(tc, test_word_lowercasing);
    tcase_add_test(tc, test_word_vocabulary_order_and_cuts);
    tcase_add_test(tc, test_word_special_strings_and_decoding);
    tcase_add_test(tc, test_word_kjv);
    tcase_add_test(tc, test_word_counts_cut);
    tcase_add_test(tc, test_word_counts_in_parts_make_the_whole_vocabulary);
    tcase_add_test(tc, test_word_counts_refused);
    tcase_add_loop_test(tc, test_json_round_trip, 0, 3);
    tcase_add_test(tc, test_json_form);
    tcase_add_loop_test(tc, test_json_errors, 0, (int)(sizeof bad_json / sizeof bad_json[0]));
    tcase_add_test(tc, test_unknown_type_and_bad_settings);
    tcase_add_test(tc, test_a_type_of_its_own);
    tcase_add_test(tc, test_spans_of_words_and_chars);
    tcase_add_test(tc, test_spans_of_a_type_that_cannot_tell);
    tcase_add_test(tc, test_vocab);
    suite_add_tcase(s, tc);
    return s;
}
