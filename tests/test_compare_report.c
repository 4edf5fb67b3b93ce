/* zoo compare's report (host/runs/compare_report.h), from trial directories
 * written here as the orchestrator would leave them: every file is written
 * and read back (the CSV by an RFC 4180 reader, the JSON by cJSON, the SVGs
 * by the strict XML reader), the numbers in each compared with the inputs,
 * mean ± sd over repeats computed by hand, a failed model's row and error, a
 * trial that never ran or left garbage, long runs thinned, and the errors. */
#include <cjson/cJSON.h>
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_util.h"
#include "compare_report.h"
#include "xml_reader.h"
#include "zoo/io.h"
#include "zoo/status.h"

/* ---- fixtures ---------------------------------------------------------------------- */

static char out_dir[64];

static void make_out(void) {
    snprintf(out_dir, sizeof out_dir, "/tmp/zoo-compare-test.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(out_dir));
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void remove_out(void) {
    nftw(out_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Writes OUT/rel, making its directories. */
static void put(const char *rel, const char *content) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", out_dir, rel);
    char *slash = strrchr(path, '/');
    *slash = '\0';
    ck_assert_msg(zoo_make_dirs(path) == ZOO_OK, "%s", zoo_error_message());
    *slash = '/';
    ck_assert_int_eq(zoo_write_file_atomic(path, content, strlen(content)), ZOO_OK);
}

/* OUT/name's content, or NULL when it does not exist. */
static char *get(const char *name) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", out_dir, name);
    return access(path, F_OK) == 0 ? zoo_read_file(path, NULL) : NULL;
}

/* A trial that succeeded; bpc < 0 writes null; probe accuracies < 0 leave the probe out. */
static void put_ok(const char *dir, const char *plugin, double params, double tps,
                   double peak_bytes, double seconds, double final_loss, double ppl, double bpc,
                   double testament, double book) {
    char json[4096], probes[1024] = "", path[256], bpc_text[32] = "null";
    if (bpc >= 0) snprintf(bpc_text, sizeof bpc_text, "%.17g", bpc);
    if (testament >= 0)
        snprintf(probes, sizeof probes,
                 "{\"name\":\"testament\",\"method\":\"linear probe\",\"accuracy\":%.17g,"
                 "\"majority\":0.741,\"classes\":2}",
                 testament);
    if (book >= 0) {
        size_t n = strlen(probes);
        snprintf(probes + n, sizeof probes - n,
                 "%s{\"name\":\"book\",\"method\":\"fine-tuned\",\"accuracy\":%.17g,"
                 "\"majority\":0.3,\"classes\":7}",
                 n ? "," : "", book);
    }
    snprintf(json, sizeof json,
             "{\"model\":\"%s\",\"plugin\":\"%s\",\"seed\":1,\"status\":\"ok\",\"error\":null,"
             "\"failed_step\":null,\"card\":{\"parameters\":%.17g,\"layers\":4,\"hidden\":128,"
             "\"sees\":\"left only\",\"inputs\":\"token + position\","
             "\"pretraining\":\"next-token language model\"},"
             "\"train\":{\"steps\":300,\"tokens\":460800,\"seconds\":%.17g,"
             "\"tokens_per_second\":%.17g,\"peak_memory_bytes\":%.17g,\"final_loss\":%.17g},"
             "\"heldout\":{\"loss\":3.4,\"perplexity\":%.17g,\"bits_per_char\":%s,\"metrics\":{}},"
             "\"probes\":[%s]}",
             dir, plugin, params, seconds, tps, peak_bytes, final_loss, ppl, bpc_text, probes);
    snprintf(path, sizeof path, "%s/result.json", dir);
    put(path, json);
}

/* n training lines (tokens 1000 * (i + 1), elapsed 0.5 * (i + 1)) and an
 * evaluation after every fifth, with a broken line in the middle. */
static void put_metrics(const char *dir, int n) {
    size_t cap = (size_t)n * 160 + 64, len = 0;
    char *text = malloc(cap), path[256];
    for (int i = 0; i < n; i++) {
        len += (size_t)snprintf(text + len, cap - len,
                                "{\"step\":%d,\"loss\":%.6f,\"lr\":0.001,\"grad_norm\":1.5,"
                                "\"tokens_per_s\":9000,\"elapsed_s\":%.2f,\"tokens\":%d}\n",
                                i + 1, 5.0 - i * 0.5 / n, 0.5 * (i + 1), 1000 * (i + 1));
        if (i % 5 == 4)
            len += (size_t)snprintf(text + len, cap - len,
                                    "{\"step\":%d,\"val_loss\":%.3f,\"tokens\":%d,"
                                    "\"elapsed_s\":%.2f,\"val_perplexity\":30}\n",
                                    i + 1, 4.9 - i * 0.5 / n, 1000 * (i + 1), 0.5 * (i + 1));
        if (i == n / 2) len += (size_t)snprintf(text + len, cap - len, "{\"step\": 12, \"lo\n");
    }
    snprintf(path, sizeof path, "%s/run/metrics.jsonl", dir);
    put(path, text);
    free(text);
}

/* ---- readers ------------------------------------------------------------------------ */

/* RFC 4180: rows of fields, "" inside quotes a quote, CRLF between rows. */
typedef struct csv {
    int rows, cols[16];
    char *cell[16][64];
} csv;

static csv parse_csv(const char *s) {
    csv c = {0};
    char buf[4096];
    size_t n = 0;
    int quoted = 0;
    for (const char *p = s; *p; p++) {
        if (quoted) {
            if (*p == '"' && p[1] == '"')
                buf[n++] = '"', p++;
            else if (*p == '"')
                quoted = 0;
            else
                buf[n++] = *p;
        } else if (*p == '"') {
            ck_assert_msg(n == 0, "a quote inside an unquoted field");
            quoted = 1;
        } else if (*p == ',' || (*p == '\r' && p[1] == '\n')) {
            buf[n] = '\0';
            c.cell[c.rows][c.cols[c.rows]++] = strdup(buf);
            n = 0;
            if (*p == '\r') c.rows++, p++;
        } else {
            ck_assert_msg(*p != '\n' && *p != '\r', "a bare line break outside quotes");
            buf[n++] = *p;
        }
    }
    ck_assert_msg(!quoted && n == 0, "the CSV does not end with CRLF");
    return c;
}

static void csv_free(csv *c) {
    for (int r = 0; r < c->rows; r++)
        for (int i = 0; i < c->cols[r]; i++) free(c->cell[r][i]);
}

static int csv_column(const csv *c, const char *name) {
    for (int i = 0; i < c->cols[0]; i++)
        if (strcmp(c->cell[0][i], name) == 0) return i;
    ck_abort_msg("no column %s", name);
    return -1;
}

static const char *csv_value(const csv *c, int row, const char *column) {
    return c->cell[row][csv_column(c, column)];
}

static cJSON *model_json(cJSON *root, int i) {
    return cJSON_GetArrayItem(cJSON_GetObjectItem(root, "models"), i);
}

static double json_number(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItem(o, key);
    ck_assert_msg(cJSON_IsNumber(v), "%s is not a number", key);
    return v->valuedouble;
}

/* The line of text that starts with `start`, from malloc; the test fails without one. */
static char *line_starting(const char *text, const char *start) {
    for (const char *p = text; p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
        if (strncmp(p, start, strlen(start)) == 0) return strndup(p, strcspn(p, "\n"));
    ck_abort_msg("no line starting with \"%s\" in:\n%s", start, text);
    return NULL;
}

static xdoc parse_svg(const char *name, char **text) {
    *text = get(name);
    ck_assert_msg(*text != NULL, "no %s", name);
    return xml_parse(*text, strlen(*text));
}

/* Solid (not dashed) curves of a loss chart. */
static int solid_curves(const xdoc *d) {
    return xml_count(d, "polyline", NULL) - xml_count(d, "polyline", "dashed");
}

static int code_points(const char *s, size_t n) {
    int k = 0;
    for (size_t i = 0; i < n; i++) k += ((unsigned char)s[i] & 0xC0) != 0x80;
    return k;
}

/* ---- one trial per model ------------------------------------------------------------ */

static const char *models3[] = {"gpt", "bert", "elmo"};
static const char *probes2[] = {"testament", "book"};

static void put_three_models(void) {
    put_ok("gpt", "gpt", 1234567, 8347.8, 412345678, 55.24, 3.21, 29.96, 1.2341, 0.912, 0.61);
    put_metrics("gpt", 12);
    put_ok("bert", "bert", 2345678, 4100.2, 512 * 1048576.0, 80.0, 2.5, 12.34, -1, 0.93, -1);
    put_metrics("bert", 7);
    put("elmo/result.json",
        "{\"model\":\"elmo\",\"plugin\":\"elmo\",\"status\":\"failed\","
        "\"error\":\"out of memory, \\\"big\\\" batch\",\"failed_step\":\"train\","
        "\"card\":{\"parameters\":999,\"layers\":2,\"hidden\":null,\"sees\":\"both sides\","
        "\"inputs\":\"characters\",\"pretraining\":\"forward and backward language model\"},"
        "\"train\":null,\"heldout\":null,\"probes\":[]}");
}

static zoo_compare_summary three_models(void) {
    return (zoo_compare_summary){.out_dir = out_dir,
                                 .title = "compare-test",
                                 .budget = "30 seconds per model",
                                 .reproducible = false,
                                 .models = models3,
                                 .n_models = 3,
                                 .probes = probes2,
                                 .n_probes = 2,
                                 .repeat = 1};
}

START_TEST(test_files_and_csv) {
    make_out();
    put_three_models();
    zoo_compare_summary s = three_models();
    ck_assert_msg(zoo_compare_report(&s, NULL) == ZOO_OK, "%s", zoo_error_message());
    static const char *files[] = {"report.md",       "results.json",     "results.csv",
                                  "loss-tokens.svg", "loss-seconds.svg", "probes.svg"};
    for (int i = 0; i < 6; i++) {
        char *f = get(files[i]);
        ck_assert_msg(f && *f, "%s missing or empty", files[i]);
        free(f);
    }
    char *text = get("results.csv");
    char *first_line = strndup(text, strcspn(text, "\r\n"));
    ck_assert_str_eq(first_line,
                     "model,plugin,status,parameters,layers,hidden,sees,inputs,pretraining,"
                     "tokens_per_second,peak_memory_mib,train_seconds,final_loss,"
                     "heldout_perplexity,heldout_bits_per_char,testament_accuracy,"
                     "testament_majority,book_accuracy,book_majority,error");
    free(first_line);
    csv c = parse_csv(text);
    ck_assert_int_eq(c.rows, 4);
    for (int r = 0; r < 4; r++) ck_assert_int_eq(c.cols[r], 20);
    for (int m = 0; m < 3; m++) ck_assert_str_eq(c.cell[m + 1][0], models3[m]);
    ck_assert_str_eq(csv_value(&c, 1, "status"), "ok");
    ck_assert_str_eq(csv_value(&c, 1, "parameters"), "1234567"); /* raw, no separators */
    ck_assert_str_eq(csv_value(&c, 1, "tokens_per_second"), "8347.8");
    ck_assert_double_eq_tol(atof(csv_value(&c, 1, "peak_memory_mib")), 412345678 / 1048576.0, 1e-9);
    ck_assert_str_eq(csv_value(&c, 1, "sees"), "left only");
    ck_assert_str_eq(csv_value(&c, 1, "testament_accuracy"), "0.912");
    ck_assert_str_eq(csv_value(&c, 1, "book_majority"), "0.3");
    ck_assert_str_eq(csv_value(&c, 1, "error"), "");
    ck_assert_str_eq(csv_value(&c, 2, "heldout_bits_per_char"), ""); /* null */
    ck_assert_str_eq(csv_value(&c, 2, "book_accuracy"), "");         /* no such probe */
    ck_assert_str_eq(csv_value(&c, 3, "status"), "failed");
    ck_assert_str_eq(csv_value(&c, 3, "parameters"), "999"); /* what the failed one has */
    ck_assert_str_eq(csv_value(&c, 3, "hidden"), "");
    ck_assert_str_eq(csv_value(&c, 3, "final_loss"), "");
    ck_assert_str_eq(csv_value(&c, 3, "error"),
                     "elmo failed in train: out of memory, \"big\" batch");
    ck_assert_ptr_nonnull(
        strstr(text, ",\"elmo failed in train: out of memory, \"\"big\"\" batch\""));
    csv_free(&c);
    free(text);
    remove_out();
}
END_TEST

START_TEST(test_json) {
    make_out();
    put_three_models();
    zoo_compare_summary s = three_models();
    ck_assert_int_eq(zoo_compare_report(&s, NULL), ZOO_OK);
    char *text = get("results.json");
    cJSON *root = cJSON_Parse(text);
    ck_assert_ptr_nonnull(root);
    ck_assert_str_eq(cJSON_GetObjectItem(root, "title")->valuestring, "compare-test");
    ck_assert_str_eq(cJSON_GetObjectItem(root, "budget")->valuestring, "30 seconds per model");
    ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(root, "reproducible")));
    ck_assert_double_eq(json_number(root, "repeat"), 1);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(root, "models")), 3);
    cJSON *gpt = model_json(root, 0), *bert = model_json(root, 1), *elmo = model_json(root, 2);
    ck_assert_str_eq(cJSON_GetObjectItem(gpt, "name")->valuestring, "gpt");
    ck_assert_str_eq(cJSON_GetObjectItem(gpt, "status")->valuestring, "ok");
    ck_assert(cJSON_IsNull(cJSON_GetObjectItem(gpt, "error")));
    cJSON *trials = cJSON_GetObjectItem(gpt, "trials");
    ck_assert_int_eq(cJSON_GetArraySize(trials), 1);
    cJSON *card = cJSON_GetObjectItem(cJSON_GetArrayItem(trials, 0), "card");
    ck_assert_double_eq(json_number(card, "parameters"), 1234567); /* the trial as read */
    cJSON *mean = cJSON_GetObjectItem(gpt, "mean"), *sd = cJSON_GetObjectItem(gpt, "sd");
    ck_assert_double_eq(json_number(mean, "final_loss"), 3.21);
    ck_assert_double_eq(json_number(mean, "testament_accuracy"), 0.912);
    ck_assert_double_eq(json_number(mean, "book_majority"), 0.3);
    ck_assert_double_eq(json_number(mean, "heldout_bits_per_char"), 1.2341);
    ck_assert(cJSON_IsNull(cJSON_GetObjectItem(sd, "final_loss"))); /* one trial: no sd */
    ck_assert(cJSON_IsNull(
        cJSON_GetObjectItem(cJSON_GetObjectItem(bert, "mean"), "heldout_bits_per_char")));
    ck_assert_str_eq(cJSON_GetObjectItem(elmo, "status")->valuestring, "failed");
    ck_assert_str_eq(cJSON_GetObjectItem(elmo, "error")->valuestring,
                     "elmo failed in train: out of memory, \"big\" batch");
    ck_assert(
        cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetObjectItem(elmo, "mean"), "tokens_per_second")));
    cJSON_Delete(root);
    free(text);
    remove_out();
}
END_TEST

START_TEST(test_markdown_and_terminal) {
    make_out();
    put_three_models();
    zoo_compare_summary s = three_models();
    char *printed = NULL;
    size_t printed_len = 0;
    FILE *terminal = open_memstream(&printed, &printed_len);
    ck_assert_int_eq(zoo_compare_report(&s, terminal), ZOO_OK);
    fclose(terminal);
    char *md = get("report.md");
    ck_assert_ptr_nonnull(strstr(md, "# compare-test\n"));
    ck_assert_ptr_nonnull(
        strstr(md, "Budget: 30 seconds per model (not reproducible: budget in seconds)."));
    char *header = line_starting(md, "| model |");
    ck_assert_str_eq(header, "| model | status | parameters | layers | hidden | sees | inputs | "
                             "pretraining | tokens/s | peak MiB | train s | final loss | "
                             "held-out ppl | held-out bpc | testament | book |");
    char *gpt = line_starting(md, "| gpt |"), *bert = line_starting(md, "| bert |"),
         *elmo = line_starting(md, "| elmo |");
    ck_assert_str_eq(gpt, "| gpt | ok | 1,234,567 | 4 | 128 | left only | token + position | "
                          "next-token language model | 8,348 | 393 | 55.2 | 3.210 | 29.96 | "
                          "1.234 | 0.912 (maj 0.741) | 0.610 (maj 0.300) |");
    ck_assert_ptr_nonnull(strstr(bert, "| 512 | 80.0 | 2.500 | 12.34 | n/a | 0.930 (maj 0.741) | "
                                       "n/a |"));
    ck_assert_ptr_nonnull(strstr(elmo, "| elmo | failed | 999 | 2 | n/a | both sides |"));
    /* the alignment row: text left, numbers right */
    ck_assert_ptr_nonnull(strstr(md, "\n|---|---|---:|---:|---:|---|---|---|---:|"));
    ck_assert_ptr_nonnull(strstr(md, "\n- elmo failed in train: out of memory, \"big\" batch\n"));
    ck_assert_ptr_nonnull(strstr(md, "![Loss against tokens seen](loss-tokens.svg)"));
    ck_assert_ptr_nonnull(strstr(md, "](loss-seconds.svg)"));
    ck_assert_ptr_nonnull(strstr(md, "](probes.svg)"));
    /* who won, from the numbers */
    ck_assert_ptr_nonnull(strstr(
        md, "On the probe testament, bert is best at 0.930, 0.189 over the majority baseline "
            "(0.741)."));
    ck_assert_ptr_nonnull(strstr(md, "On the probe book, gpt is best at 0.610, 0.310 over"));
    ck_assert_ptr_nonnull(strstr(md, "gpt trained fastest, at 8,348 tokens/s (2.0\u00d7 bert"));
    ck_assert_ptr_nonnull(strstr(md, "lowest held-out bits per character: gpt, 1.234."));
    ck_assert_ptr_nonnull(strstr(md, "not comparable"));
    /* in order: who won, table, charts, errors */
    ck_assert(strstr(md, "Who won") < strstr(md, "| model |"));
    ck_assert(strstr(md, "| elmo |") < strstr(md, "(loss-tokens.svg)"));
    ck_assert(strstr(md, "(probes.svg)") < strstr(md, "- elmo failed"));

    /* the terminal: the same cells in columns that line up */
    char *t_header = line_starting(printed, "model"), *t_gpt = line_starting(printed, "gpt ");
    char *rule = line_starting(printed, "---");
    ck_assert_int_eq(code_points(t_header, strlen(t_header)), (int)strlen(rule));
    ck_assert_int_eq(code_points(t_gpt, strlen(t_gpt)), (int)strlen(rule));
    ck_assert_ptr_nonnull(strstr(t_gpt, "0.912 (maj 0.741)"));
    ck_assert_ptr_nonnull(strstr(t_gpt, "1,234,567"));
    ck_assert_ptr_null(strchr(t_gpt, '|'));
    /* the right ends of "tokens/s" and of gpt's 8,348 are in one column */
    ck_assert_int_eq(strstr(t_header, "tokens/s") - t_header + 8,
                     strstr(t_gpt, "8,348") - t_gpt + 5);
    ck_assert_ptr_nonnull(strstr(printed, "\nelmo failed in train: out of memory"));
    free(t_header), free(t_gpt), free(rule);
    free(header), free(gpt), free(bert), free(elmo);
    free(md);
    free(printed);
    remove_out();
}
END_TEST

START_TEST(test_charts) {
    make_out();
    put_three_models();
    zoo_compare_summary s = three_models();
    ck_assert_int_eq(zoo_compare_report(&s, NULL), ZOO_OK);
    char *text;
    xdoc d = parse_svg("loss-tokens.svg", &text);
    /* gpt and bert have points, elmo none: a solid and a dashed curve each */
    ck_assert_int_eq(solid_curves(&d), 2);
    ck_assert_int_eq(xml_count(&d, "polyline", "dashed"), 2);
    ck_assert_int_eq(xml_count(&d, "g", "legend-entry"), 3);
    ck_assert_str_eq(xml_nth_in(&d, "text", "legend-entry", 0)->text,
                     "gpt: next-token language model");
    int counts[4], k = 0;
    for (int i = 0; i < 4; i++) {
        const xnode *p = xml_nth_in(&d, "polyline", "curves", i);
        counts[k++] = xml_count_points(xml_attr(p, "points"));
    }
    /* gpt: 12 lines (the broken one skipped), 2 evaluations; bert: 7 and 1 */
    int total = counts[0] + counts[1] + counts[2] + counts[3];
    ck_assert_int_eq(total, 12 + 2 + 7 + 1);
    ck_assert_ptr_nonnull(strstr(xml_first(&d, "title")->text, "own objective"));
    xdoc_free(&d);
    free(text);
    d = parse_svg("loss-seconds.svg", &text);
    ck_assert_int_eq(solid_curves(&d), 2);
    xdoc_free(&d);
    free(text);
    d = parse_svg("probes.svg", &text);
    /* testament: gpt, bert; book: gpt; elmo n/a in both */
    ck_assert_int_eq(xml_count(&d, "rect", "bar"), 3);
    ck_assert_int_eq(xml_count(&d, "line", "baseline"), 2);
    ck_assert_str_eq(xml_nth_in(&d, "text", "baselines", 0)->text, "0.741");
    int na = 0;
    for (int i = 0; i < d.count; i++) na += d.nodes[i].text && strcmp(d.nodes[i].text, "n/a") == 0;
    ck_assert_int_eq(na, 3);
    xdoc_free(&d);
    free(text);
    remove_out();
}
END_TEST

/* ---- repeats ------------------------------------------------------------------------ */

START_TEST(test_repeat_mean_and_sd) {
    make_out();
    static const char *models[] = {"gpt", "bert"}, *probes[] = {"testament"};
    put_ok("gpt/repeat-1", "gpt", 1000, 1000, 1048576, 10, 3.0, 20, 1.0, 0.9, -1);
    put_ok("gpt/repeat-2", "gpt", 1000, 1200, 3 * 1048576.0, 12, 3.5, 22, 1.5, 0.8, -1);
    put_metrics("gpt/repeat-1", 3);
    put_metrics("gpt/repeat-2", 9); /* curves come from repeat 1 */
    put_ok("bert/repeat-1", "bert", 500, 2000, 1048576, 20, 2.0, 10, -1, 0.95, -1);
    put("bert/repeat-2/result.json", /* failed in a probe: its training numbers not counted */
        "{\"model\":\"bert\",\"plugin\":\"bert\",\"status\":\"failed\",\"error\":\"no labels\","
        "\"failed_step\":\"probe testament\",\"card\":{\"parameters\":500},"
        "\"train\":{\"tokens_per_second\":3000,\"final_loss\":1.0}}");
    zoo_compare_summary s = {.out_dir = out_dir,
                             .title = "repeats",
                             .budget = "300 steps per model",
                             .reproducible = true,
                             .models = models,
                             .n_models = 2,
                             .probes = probes,
                             .n_probes = 1,
                             .repeat = 2};
    ck_assert_msg(zoo_compare_report(&s, NULL) == ZOO_OK, "%s", zoo_error_message());
    char *md = get("report.md");
    ck_assert_ptr_null(strstr(md, "not reproducible"));
    char *gpt = line_starting(md, "| gpt |"), *bert = line_starting(md, "| bert |");
    /* tokens/s 1000, 1200: mean 1100, sd sqrt(2 * 100^2 / 1) = 141.4; peak 1 and 3 MiB;
     * loss 3.0, 3.5: 3.25 ± 0.354; accuracy 0.9, 0.8: 0.85 ± 0.0707 */
    ck_assert_str_eq(gpt, "| gpt | ok | 1,000 | 4 | 128 | left only | token + position | "
                          "next-token language model | 1,100 \u00b1 141 | 2 \u00b1 1 | "
                          "11.0 \u00b1 1.4 | 3.250 \u00b1 0.354 | 21.00 \u00b1 1.41 | "
                          "1.250 \u00b1 0.354 | 0.850 \u00b1 0.071 (maj 0.741) |");
    ck_assert_str_eq(bert, "| bert | failed (1/2 ok) | 500 | 4 | 128 | left only | "
                           "token + position | next-token language model | 2,000 | 1 | 20.0 | "
                           "2.000 | 10.00 | n/a | 0.950 (maj 0.741) |");
    ck_assert_ptr_nonnull(strstr(md, "\n- bert (repeat 2) failed in probe testament: no labels\n"));
    ck_assert_ptr_nonnull(strstr(md, "2 trials per model"));

    char *text = get("results.csv");
    csv c = parse_csv(text);
    ck_assert_int_eq(c.rows, 3);
    ck_assert_int_eq(csv_column(&c, "tokens_per_second_sd"),
                     csv_column(&c, "tokens_per_second") + 1);
    ck_assert_int_eq(csv_column(&c, "parameters_sd"), csv_column(&c, "parameters") + 1);
    ck_assert_int_eq(csv_column(&c, "error"), c.cols[0] - 1);
    ck_assert_double_eq(atof(csv_value(&c, 1, "tokens_per_second")), 1100);
    ck_assert_double_eq_tol(atof(csv_value(&c, 1, "tokens_per_second_sd")), sqrt(20000), 1e-9);
    ck_assert_double_eq_tol(atof(csv_value(&c, 1, "testament_accuracy_sd")), sqrt(0.005), 1e-12);
    ck_assert_str_eq(csv_value(&c, 1, "parameters_sd"), "0");
    ck_assert_str_eq(csv_value(&c, 2, "tokens_per_second_sd"), ""); /* one trial counted */
    ck_assert_str_eq(csv_value(&c, 2, "status"), "failed");
    csv_free(&c);
    free(text);

    text = get("results.json");
    cJSON *root = cJSON_Parse(text);
    cJSON *m = model_json(root, 0);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(m, "trials")), 2);
    ck_assert_double_eq(json_number(cJSON_GetObjectItem(m, "mean"), "final_loss"), 3.25);
    ck_assert_double_eq_tol(json_number(cJSON_GetObjectItem(m, "sd"), "final_loss"), sqrt(0.125),
                            1e-12);
    ck_assert_double_eq(json_number(model_json(root, 1), "succeeded"), 1);
    cJSON_Delete(root);
    free(text);

    xdoc d = parse_svg("loss-tokens.svg", &text);
    const xnode *solid = NULL;
    for (int i = 0; !solid; i++) {
        const xnode *p = xml_nth_in(&d, "polyline", "curves", i);
        ck_assert_ptr_nonnull(p);
        if (!xml_has_class(p, "dashed")) solid = p;
    }
    ck_assert_int_eq(xml_count_points(xml_attr(solid, "points")), 3); /* repeat 1's */
    xdoc_free(&d);
    free(text);
    free(gpt), free(bert), free(md);
    remove_out();
}
END_TEST

/* ---- what is missing ------------------------------------------------------------------ */

START_TEST(test_not_run_and_unreadable) {
    make_out();
    static const char *models[] = {"word2vec", "broken", "gpt"};
    put("broken/result.json", "{\"model\": \"broken\", \"status\": ");
    put_ok("gpt", "gpt", 10, 100, 1048576, 1, 4.0, 50, 2.0, -1, -1);
    zoo_compare_summary s = {.out_dir = out_dir,
                             .title = "missing",
                             .budget = "1 step",
                             .reproducible = true,
                             .models = models,
                             .n_models = 3,
                             .repeat = 1};
    char *printed = NULL;
    size_t len = 0;
    FILE *terminal = open_memstream(&printed, &len);
    ck_assert_msg(zoo_compare_report(&s, terminal) == ZOO_OK, "%s", zoo_error_message());
    fclose(terminal);
    char *md = get("report.md");
    char *w2v = line_starting(md, "| word2vec |"), *broken = line_starting(md, "| broken |");
    ck_assert_ptr_nonnull(strstr(w2v, "| word2vec | not run | n/a | n/a |"));
    ck_assert_ptr_nonnull(strstr(broken, "| broken | failed | n/a |"));
    ck_assert_ptr_nonnull(strstr(md, "- word2vec was not run (no result.json in "));
    ck_assert_ptr_nonnull(strstr(md, "broken/result.json is not JSON"));
    /* no probes: no probe chart, none embedded, no probe column */
    ck_assert_ptr_null(strstr(md, "probes.svg"));
    char *probes_svg = get("probes.svg");
    ck_assert_ptr_null(probes_svg);
    char *header = line_starting(md, "| model |");
    ck_assert_str_eq(header + strlen(header) - strlen("| held-out bpc |"), "| held-out bpc |");
    free(header);
    ck_assert_ptr_nonnull(strstr(printed, "word2vec  not run"));

    char *text = get("results.json");
    cJSON *root = cJSON_Parse(text);
    cJSON *m = model_json(root, 0);
    ck_assert_str_eq(cJSON_GetObjectItem(m, "status")->valuestring, "not run");
    ck_assert(cJSON_IsNull(cJSON_GetArrayItem(cJSON_GetObjectItem(m, "trials"), 0)));
    ck_assert_str_eq(cJSON_GetObjectItem(model_json(root, 1), "status")->valuestring, "failed");
    cJSON_Delete(root);
    free(text);
    /* no model has a curve: the charts are still whole documents */
    xdoc d = parse_svg("loss-seconds.svg", &text);
    ck_assert_int_eq(xml_count(&d, "polyline", NULL), 0);
    xdoc_free(&d);
    free(text);
    free(w2v), free(broken), free(md), free(printed);
    remove_out();
}
END_TEST

/* A long run's curve is averaged in blocks of steps, drawn at each block's last. */
START_TEST(test_long_curve_thinned) {
    make_out();
    static const char *models[] = {"gpt"};
    put_ok("gpt", "gpt", 10, 100, 1048576, 1, 4.0, 50, 2.0, -1, -1);
    put_metrics("gpt", 4500);
    zoo_compare_summary s = {
        .out_dir = out_dir, .models = models, .n_models = 1, .budget = "x", .repeat = 1};
    ck_assert_int_eq(zoo_compare_report(&s, NULL), ZOO_OK);
    char *text;
    xdoc d = parse_svg("loss-tokens.svg", &text);
    const xnode *solid = NULL;
    for (int i = 0; !solid; i++) {
        const xnode *p = xml_nth_in(&d, "polyline", "curves", i);
        ck_assert_ptr_nonnull(p);
        if (!xml_has_class(p, "dashed")) solid = p;
    }
    /* k = ceil(4500 / 200) = 23: 195 blocks of 23 steps and one of 15 */
    const char *points = xml_attr(solid, "points");
    ck_assert_int_eq(xml_count_points(points), 196);
    /* the last point is kept: it meets the last held-out point (tokens 4,500,000) */
    const xnode *dashed = xml_nth_in(&d, "polyline", "curves", 0);
    ck_assert(xml_has_class(dashed, "dashed"));
    const char *dashed_points = xml_attr(dashed, "points");
    ck_assert_int_eq(xml_count_points(dashed_points), 900); /* held-out points all kept */
    const char *last = strrchr(points, ' ') + 1, *dashed_last = strrchr(dashed_points, ' ') + 1;
    ck_assert_int_eq(strcspn(last, ","), strcspn(dashed_last, ","));
    ck_assert_msg(strncmp(last, dashed_last, strcspn(last, ",")) == 0, "%s against %s", last,
                  dashed_last);
    ck_assert_ptr_null(strstr(text, "nan"));
    xdoc_free(&d);
    free(text);
    remove_out();
}
END_TEST

START_TEST(test_trial_dir_and_errors) {
    char *dir = zoo_compare_trial_dir("out", "gpt", 1, 1);
    ck_assert_str_eq(dir, "out/gpt");
    free(dir);
    dir = zoo_compare_trial_dir("out", "gpt", 2, 3);
    ck_assert_str_eq(dir, "out/gpt/repeat-2");
    free(dir);

    static const char *models[] = {"gpt"};
    zoo_compare_summary s = {.out_dir = "/nonexistent-zoo-dir/out",
                             .models = models,
                             .n_models = 1,
                             .budget = "x",
                             .repeat = 1};
    ck_assert_int_eq(zoo_compare_report(NULL, NULL), ZOO_ERR_ARG);
    s.repeat = 0;
    ck_assert_int_eq(zoo_compare_report(&s, NULL), ZOO_ERR_ARG);
    s.repeat = 1, s.n_models = 0;
    ck_assert_int_eq(zoo_compare_report(&s, NULL), ZOO_ERR_ARG);
    s.n_models = 1, s.n_probes = 1;
    ck_assert_int_eq(zoo_compare_report(&s, NULL), ZOO_ERR_ARG); /* probes NULL */
    s.n_probes = 0;
    ck_assert_int_eq(zoo_compare_report(&s, NULL), ZOO_ERR_IO); /* nowhere to write */
    ck_assert_ptr_nonnull(strstr(zoo_error_message(), "/nonexistent-zoo-dir/out"));
}
END_TEST

Suite *make_suite(void) {
    Suite *s = suite_create("compare_report");
    TCase *tc = tcase_create("host");
    tcase_add_test(tc, test_files_and_csv);
    tcase_add_test(tc, test_json);
    tcase_add_test(tc, test_markdown_and_terminal);
    tcase_add_test(tc, test_charts);
    tcase_add_test(tc, test_repeat_mean_and_sd);
    tcase_add_test(tc, test_not_run_and_unreadable);
    tcase_add_test(tc, test_long_curve_thinned);
    tcase_add_test(tc, test_trial_dir_and_errors);
    suite_add_tcase(s, tc);
    return s;
}
