/* host/runs/synthetic.c: zoo bench's synthetic corpora. */
#include "check_util.h"
#include "synthetic.h"

START_TEST(test_spelling) {
    const struct {
        int64_t v;
        const char *s;
    } cases[] = {{0, "a"},   {1, "b"},   {25, "z"},   {26, "aa"},   {27, "ab"},
                 {51, "az"}, {52, "ba"}, {701, "zz"}, {702, "aaa"}, {50256, "bvhy"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[16];
        int len = zoo_synthetic_spell(cases[i].v, buf);
        ck_assert_str_eq(buf, cases[i].s);
        ck_assert_int_eq(len, (int)strlen(cases[i].s));
    }
    /* distinct: every value up to 3 letters read back as itself */
    for (int64_t v = 0; v < 26 + 26 * 26 + 26 * 26 * 26; v++) {
        char buf[16];
        zoo_synthetic_spell(v, buf);
        int64_t back = 0;
        for (const char *c = buf; *c; c++) back = back * 26 + (*c - 'a' + 1);
        ck_assert_int_eq(back - 1, v);
    }
}
END_TEST

/* Ids in [first, V), lines of line_len, and each id's span holding its spelling. */
START_TEST(test_random_ids) {
    zoo_synthetic s;
    ck_assert_int_eq(zoo_synthetic_ids(&s, 1000, 5, 1003, 10, true, 7), ZOO_OK);
    ck_assert_int_eq(s.data.n, 1003);
    ck_assert_int_eq(s.data.n_lines, 101);
    ck_assert_ptr_null(s.tok);
    int64_t seen_low = 0;
    for (int64_t i = 0; i < s.data.n; i++) {
        int32_t id = s.data.ids[i];
        ck_assert(id >= 5 && id < 1000);
        seen_low += id < 100;
        char want[16];
        int len = zoo_synthetic_spell(id, want);
        zoo_span sp = s.data.spans[i];
        ck_assert_int_eq(sp.end - sp.begin, len);
        ck_assert(memcmp(s.data.text + sp.begin, want, (size_t)len) == 0);
        char after = s.data.text[sp.end]; /* a space, or a newline ending each line */
        ck_assert_int_eq(after, (i + 1) % 10 == 0 || i + 1 == s.data.n ? '\n' : ' ');
    }
    ck_assert(seen_low > 50 && seen_low < 150); /* uniform: about 95 of 1003 */
    for (int64_t l = 0; l < s.data.n_lines; l++) ck_assert_int_eq(s.data.line_starts[l], 10 * l);
    zoo_synthetic s2;
    ck_assert_int_eq(zoo_synthetic_ids(&s2, 1000, 5, 1003, 10, false, 7), ZOO_OK);
    ck_assert(memcmp(s.data.ids, s2.data.ids, 1003 * sizeof(int32_t)) == 0); /* same seed */
    ck_assert_ptr_null(s2.data.text);
    ck_assert_ptr_null(s2.data.spans);
    zoo_synthetic_free(&s);
    zoo_synthetic_free(&s2);
    ck_assert_int_ne(zoo_synthetic_ids(&s, 5, 5, 10, 2, false, 1), ZOO_OK);
    ck_assert_str_eq(zoo_error_message(), "synthetic ids: [5, 5) holds no id, or n 10 < 1");
}
END_TEST

/* Zipf words: the counts fall with the rank as 1/rank; the specials come
 * first; lines of 5 to 25 words; every span holds its token's string. */
START_TEST(test_zipf_words) {
    static const zoo_special specials[] = {ZOO_TOK_UNK};
    zoo_synthetic s;
    ck_assert_int_eq(zoo_synthetic_words(&s, 1000, 50000, specials, 1, 3), ZOO_OK);
    ck_assert_ptr_nonnull(s.tok);
    ck_assert_int_eq(zoo_tokenizer_special(s.tok, ZOO_TOK_UNK), 0);
    ck_assert(s.data.n >= 50000 && s.data.n < 50025);
    int32_t V = zoo_tokenizer_vocab_size(s.tok);
    ck_assert(V > 500 && V <= 1001);
    int64_t count[3] = {0}; /* of "a", "b", "j": ranks 1, 2, 10 */
    const char *words[3] = {"a", "b", "j"};
    for (int64_t i = 0; i < s.data.n; i++) {
        size_t len;
        const char *tok = zoo_tokenizer_token(s.tok, s.data.ids[i], &len);
        zoo_span sp = s.data.spans[i];
        ck_assert_int_eq(sp.end - sp.begin, (int64_t)len);
        ck_assert(memcmp(s.data.text + sp.begin, tok, len) == 0);
        for (int w = 0; w < 3; w++) count[w] += strcmp(tok, words[w]) == 0;
    }
    /* expected n / (k H_1000), H_1000 = 7.485: 6680, 3340, 668 */
    ck_assert_msg(count[0] > 6200 && count[0] < 7200, "rank 1: %lld", (long long)count[0]);
    ck_assert_msg(count[1] > 3000 && count[1] < 3700, "rank 2: %lld", (long long)count[1]);
    ck_assert_msg(count[2] > 550 && count[2] < 800, "rank 10: %lld", (long long)count[2]);
    ck_assert_int_eq(zoo_tokenizer_count(s.tok, s.data.ids[0]) > 0, 1);
    for (int64_t l = 0; l < s.data.n_lines; l++) {
        int64_t end = l + 1 < s.data.n_lines ? s.data.line_starts[l + 1] : s.data.n;
        ck_assert(end - s.data.line_starts[l] >= 5 && end - s.data.line_starts[l] <= 25);
    }
    zoo_synthetic_free(&s);
}
END_TEST

Suite *make_suite(void) {
    Suite *s = suite_create("synthetic");
    TCase *tc = tcase_create("host");
    tcase_add_test(tc, test_spelling);
    tcase_add_test(tc, test_random_ids);
    tcase_add_test(tc, test_zipf_words);
    suite_add_tcase(s, tc);
    return s;
}
