/* The host's SVG plots (host/runs/svg_plot.h): every document is read back by
 * a strict XML well-formedness parser (xml_reader.h; no XML library is a
 * dependency), and its elements counted and compared with the input: one
 * curve per series that has points, legend entries equal to the names,
 * nice ticks that cover the data, log scales, bars and baseline markers,
 * identical bytes for identical input, and the errors. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_util.h"
#include "svg_plot.h"
#include "xml_reader.h"
#include "zoo/io.h"
#include "zoo/status.h"

/* ---- Inputs ------------------------------------------------------------------------ */

/* Four models' loss against tokens: exponential decay toward different floors, with wiggles. */
#define STEPS 60
static double tok[4][STEPS], loss[4][STEPS], held_tok[4][6], held_loss[4][6];
static const char *model_names[4] = {"word2vec", "elmo", "gpt", "bert"};

static void make_curves(void) {
    for (int m = 0; m < 4; m++) {
        for (int i = 0; i < STEPS; i++) {
            tok[m][i] = (i + 1) * 8192.0;
            loss[m][i] = (3.2 + 0.4 * m) + 5.5 * exp(-i / (8.0 + 3 * m)) + 0.05 * sin(i * 1.7 + m);
        }
        for (int k = 0; k < 6; k++) {
            held_tok[m][k] = (k + 1) * 10 * 8192.0;
            held_loss[m][k] = loss[m][(k + 1) * 10 - 1] + 0.15;
        }
    }
}

static zoo_line_chart loss_chart(zoo_plot_series *series) {
    make_curves();
    for (int m = 0; m < 4; m++)
        series[m] = (zoo_plot_series){.name = model_names[m],
                                      .x = tok[m],
                                      .y = loss[m],
                                      .n = STEPS,
                                      .dashed_x = held_tok[m],
                                      .dashed_y = held_loss[m],
                                      .dashed_n = 6};
    return (zoo_line_chart){.title = "Loss against tokens seen",
                            .x_label = "tokens seen",
                            .y_label = "loss (nats)",
                            .solid_key = "training",
                            .dashed_key = "held-out",
                            .series = series,
                            .count = 4};
}

static char *render_line(const zoo_line_chart *c, size_t *len) {
    char *svg = NULL;
    int st = zoo_line_chart_svg(c, &svg, len);
    ck_assert_msg(st == ZOO_OK, "%s", zoo_error_message());
    ck_assert_uint_eq(strlen(svg), *len);
    return svg;
}

/* A label read back as a number: "250k" -> 250000, "2.5e-5" -> 0.000025. */
static double label_value(const char *s) {
    char *end;
    double v = strtod(s, &end);
    static const char units[] = "kMGT";
    const char *u = *end ? strchr(units, *end) : NULL;
    if (u) v *= pow(1000, (double)(u - units + 1)), end++;
    ck_assert_msg(*end == '\0', "label \"%s\" is not a number", s);
    return v;
}

/* ---- Line chart -------------------------------------------------------------------- */

START_TEST(test_one_curve_per_series) {
    zoo_plot_series series[4];
    zoo_line_chart c = loss_chart(series);
    size_t len;
    char *svg = render_line(&c, &len);
    xdoc d = xml_parse(svg, len);
    ck_assert_str_eq(d.nodes[0].name, "svg");
    ck_assert_str_eq(xml_attr(&d.nodes[0], "version"), "1.1");
    ck_assert_str_eq(xml_attr(&d.nodes[0], "width"), "760");
    ck_assert_str_eq(xml_attr(&d.nodes[0], "height"), "440");
    ck_assert_str_eq(xml_attr(&d.nodes[0], "viewBox"), "0 0 760 440");
    ck_assert_str_eq(xml_attr(&d.nodes[0], "xmlns"), "http://www.w3.org/2000/svg");
    /* 4 solid and 4 dashed curves, and no other path-like element */
    ck_assert_int_eq(xml_count(&d, "polyline", NULL), 8);
    ck_assert_int_eq(xml_count(&d, "polyline", "dashed"), 4);
    ck_assert_int_eq(xml_count(&d, "path", NULL), 0);
    ck_assert_int_eq(xml_count(&d, "circle", "point"), 4 * 6); /* a dot on each held-out point */
    /* the curves' colours are distinct, and each solid curve has all its points */
    for (int i = 0; i < 8; i++) {
        const xnode *a = xml_nth_in(&d, "polyline", "curves", i);
        ck_assert_ptr_nonnull(a);
        ck_assert_int_eq(xml_count_points(xml_attr(a, "points")),
                         xml_has_class(a, "dashed") ? 6 : STEPS);
        for (int j = 0; j < i; j++) {
            const xnode *b = xml_nth_in(&d, "polyline", "curves", j);
            ck_assert_int_eq(strcmp(xml_attr(a, "stroke"), xml_attr(b, "stroke")) == 0,
                             i % 4 == j % 4);
        }
    }
    /* the legend: one entry per model, named, then the key to the styles */
    ck_assert_int_eq(xml_count(&d, "g", "legend-entry"), 4);
    for (int m = 0; m < 4; m++)
        ck_assert_str_eq(xml_nth_in(&d, "text", "legend-entry", m)->text, model_names[m]);
    ck_assert_str_eq(xml_nth_in(&d, "text", "legend-key", 0)->text, "training");
    ck_assert_str_eq(xml_nth_in(&d, "text", "legend-key", 1)->text, "held-out");
    ck_assert_str_eq(xml_first(&d, "title")->text, "Loss against tokens seen");
    ck_assert_int_eq(xml_count(&d, "text", "title"), 1);
    xdoc_free(&d);
    free(svg);
}
END_TEST

/* Names come back as given however hostile; bytes that are not UTF-8 and
 * control characters become U+FFFD instead of breaking the document. */
START_TEST(test_text_is_escaped) {
    double x[2] = {0, 1}, y[2] = {1, 2};
    zoo_plot_series s[3] = {{.name = "<&\"'> model", .x = x, .y = y, .n = 2},
                            {.name = "caf\xc3\xa9 ]]> \xe2\x80\x94", .x = x, .y = y, .n = 2},
                            {.name = "bad \xff\xc3 and \x01 here", .x = x, .y = y, .n = 2}};
    zoo_line_chart c = {
        .title = "a < b & c", .x_label = "x \"quoted\"", .y_label = "<y>", .series = s, .count = 3};
    size_t len;
    char *svg = render_line(&c, &len);
    xdoc d = xml_parse(svg, len);
    ck_assert_str_eq(xml_nth_in(&d, "text", "legend-entry", 0)->text, "<&\"'> model");
    ck_assert_str_eq(xml_nth_in(&d, "text", "legend-entry", 1)->text,
                     "caf\xc3\xa9 ]]> \xe2\x80\x94");
    ck_assert_str_eq(xml_nth_in(&d, "text", "legend-entry", 2)->text,
                     "bad \xef\xbf\xbd\xef\xbf\xbd and \xef\xbf\xbd here");
    ck_assert_str_eq(xml_first(&d, "title")->text, "a < b & c");
    int labels = 0;
    for (int i = 0; i < d.count; i++) {
        if (xml_has_class(&d.nodes[i], "x-label")) {
            ck_assert_str_eq(d.nodes[i].text, "x \"quoted\"");
            labels++;
        }
        if (xml_has_class(&d.nodes[i], "y-label")) {
            ck_assert_str_eq(d.nodes[i].text, "<y>");
            labels++;
        }
    }
    ck_assert_int_eq(labels, 2);
    xdoc_free(&d);
    free(svg);
}
END_TEST

/* NaN and infinite points are left out; a series with nothing left draws no
 * curve but stays in the legend, marked; dashed points without solid ones
 * still make a curve. */
START_TEST(test_missing_points_and_empty_series) {
    double x[6] = {0, 1, 2, 3, 4, 5}, y[6] = {5, NAN, 4, INFINITY, 3, 2};
    double xn[3] = {0, NAN, 2}, yn[3] = {NAN, 1, -INFINITY};
    double hx[2] = {1, 4}, hy[2] = {4.5, 2.5};
    zoo_plot_series s[4] = {
        {.name = "gaps", .x = x, .y = y, .n = 6},
        {.name = "all missing", .x = xn, .y = yn, .n = 3},
        {.name = "none", .n = 0},
        {.name = "held-out only", .dashed_x = hx, .dashed_y = hy, .dashed_n = 2}};
    zoo_line_chart c = {.series = s, .count = 4, .solid_key = "training", .dashed_key = "held-out"};
    size_t len;
    char *svg = render_line(&c, &len);
    xdoc d = xml_parse(svg, len);
    ck_assert_int_eq(xml_count(&d, "polyline", NULL), 2);
    ck_assert_int_eq(xml_count_points(xml_attr(xml_nth_in(&d, "polyline", "curves", 0), "points")),
                     2); /* dashed first */
    ck_assert_int_eq(xml_count_points(xml_attr(xml_nth_in(&d, "polyline", "curves", 1), "points")),
                     4);
    ck_assert_ptr_null(strstr(svg, "nan"));
    ck_assert_ptr_null(strstr(svg, "inf"));
    ck_assert_int_eq(xml_count(&d, "g", "legend-entry"), 4);
    ck_assert_int_eq(xml_count(&d, "tspan", NULL), 2); /* "(no data)" twice */
    ck_assert_str_eq(xml_nth_in(&d, "text", "legend-entry", 1)->text, "all missing");
    ck_assert_int_eq(xml_count(&d, "text", "no-data"), 0);
    xdoc_free(&d);
    free(svg);

    /* nothing at all to draw: axes over [0, 1], and the chart says so */
    zoo_line_chart none = {.title = "nothing", .series = s + 1, .count = 2};
    svg = render_line(&none, &len);
    d = xml_parse(svg, len);
    ck_assert_int_eq(xml_count(&d, "polyline", NULL), 0);
    ck_assert_int_eq(xml_count(&d, "text", "no-data"), 1);
    xdoc_free(&d);
    free(svg);
    zoo_line_chart zero = {0};
    svg = render_line(&zero, &len);
    d = xml_parse(svg, len);
    ck_assert_int_eq(xml_count(&d, "polyline", NULL), 0);
    ck_assert_int_eq(xml_count(&d, "g", "legend-entry"), 0);
    xdoc_free(&d);
    free(svg);
}
END_TEST

/* The tick labels in the document are the axis' ticks, they cover every
 * point, and every point lies inside the frame. */
START_TEST(test_axes_cover_the_data) {
    zoo_plot_series series[4];
    zoo_line_chart c = loss_chart(series);
    size_t len;
    char *svg = render_line(&c, &len);
    xdoc d = xml_parse(svg, len);
    zoo_plot_axis x, y;
    ck_assert_int_eq(zoo_plot_axis_fit(&x, 8192, 60 * 8192, 0), ZOO_OK);
    double y_min = INFINITY, y_max = -INFINITY;
    for (int m = 0; m < 4; m++)
        for (int i = 0; i < STEPS; i++)
            y_min = fmin(y_min, loss[m][i]), y_max = fmax(y_max, loss[m][i]);
    for (int m = 0; m < 4; m++)
        for (int k = 0; k < 6; k++)
            y_min = fmin(y_min, held_loss[m][k]), y_max = fmax(y_max, held_loss[m][k]);
    ck_assert_int_eq(zoo_plot_axis_fit(&y, y_min, y_max, 0), ZOO_OK);
    ck_assert_int_eq(xml_count(&d, "text", NULL), 0 + x.count + y.count + 4 + 2 + 3);
    for (int i = 0; i < x.count; i++)
        ck_assert_str_eq(xml_nth_in(&d, "text", "x-ticks", i)->text, x.labels[i]);
    for (int i = 0; i < y.count; i++)
        ck_assert_str_eq(xml_nth_in(&d, "text", "y-ticks", i)->text, y.labels[i]);
    ck_assert_str_eq(x.labels[0], "0");
    ck_assert_str_eq(x.labels[x.count - 1], "500k");
    /* every point inside the frame */
    const xnode *frame = xml_with_class(&d, "frame");
    double fx = atof(xml_attr(frame, "x")), fy = atof(xml_attr(frame, "y"));
    double fw = atof(xml_attr(frame, "width")), fh = atof(xml_attr(frame, "height"));
    for (int i = 0; i < 8; i++) {
        const char *p = xml_attr(xml_nth_in(&d, "polyline", "curves", i), "points");
        double px, py;
        int used;
        while (sscanf(p, "%lf,%lf%n", &px, &py, &used) == 2) {
            ck_assert(px >= fx && px <= fx + fw && py >= fy && py <= fy + fh);
            p += used;
        }
    }
    xdoc_free(&d);
    free(svg);
}
END_TEST

/* Linear ticks: a step of 1, 2 or 5 times a power of ten, every tick a
 * multiple of it, the ends covering [min, max], labels that read back as
 * the ticks, and no "-0". */
START_TEST(test_linear_ticks_are_nice) {
    static const double ranges[][2] = {{0, 1},          {2.31, 9.87},       {-3.7, 12.2},
                                       {0.3, 0.7},      {1e-7, 3.3e-7},     {-1, 1},
                                       {1e5, 9e6},      {1234, 1240},       {5, 5},
                                       {0, 0},          {-0.0, 0.0},        {-42, -41.5},
                                       {3e14, 7e17},    {0.99999, 1.00001}, {1e15, 1e15 + 2},
                                       {-7.2e-4, 2e-4}, {0, 524288},        {2.7, 3.3}};
    for (size_t r = 0; r < sizeof ranges / sizeof ranges[0]; r++) {
        double lo = ranges[r][0], hi = ranges[r][1];
        zoo_plot_axis a;
        ck_assert_msg(zoo_plot_axis_fit(&a, lo, hi, 0) == ZOO_OK, "%g..%g: %s", lo, hi,
                      zoo_error_message());
        ck_assert_int_eq(a.log, 0);
        ck_assert_msg(a.count >= 3 && a.count <= 12, "%g..%g: %d ticks", lo, hi, a.count);
        ck_assert(a.lo <= lo && a.hi >= hi && a.lo == a.ticks[0] && a.hi == a.ticks[a.count - 1]);
        double step = a.ticks[1] - a.ticks[0];
        double e = floor(log10(step) + 1e-9), m = step / pow(10, e);
        ck_assert_msg(fabs(m - 1) < 1e-6 || fabs(m - 2) < 1e-6 || fabs(m - 5) < 1e-6,
                      "%g..%g: step %g", lo, hi, step);
        for (int i = 0; i < a.count; i++) {
            double nice = round(m) * pow(10, e), k = round(a.ticks[i] / nice);
            ck_assert_msg(fabs(a.ticks[i] - k * nice) <= 1e-9 * fmax(fabs(a.ticks[i]), nice),
                          "%g..%g: tick %.17g is not a multiple of %g", lo, hi, a.ticks[i], nice);
            if (i > 0) ck_assert_double_eq_tol(a.ticks[i] - a.ticks[i - 1], step, step * 1e-6);
            ck_assert_msg(fabs(label_value(a.labels[i]) - a.ticks[i]) <= step * 1e-6,
                          "%g..%g: label %s for %g", lo, hi, a.labels[i], a.ticks[i]);
            ck_assert_str_ne(a.labels[i], "-0");
            ck_assert(!signbit(a.ticks[i]) || a.ticks[i] != 0);
            for (int j = 0; j < i; j++) ck_assert_str_ne(a.labels[i], a.labels[j]);
        }
    }
    zoo_plot_axis a;
    ck_assert_int_eq(zoo_plot_axis_fit(&a, 2.31, 9.87, 0), ZOO_OK);
    ck_assert_int_eq(a.count, 5); /* 2, 4, 6, 8, 10 */
    ck_assert_str_eq(a.labels[4], "10");
    ck_assert_int_eq(zoo_plot_axis_fit(&a, 0.3, 0.7, 0), ZOO_OK);
    ck_assert_str_eq(a.labels[0], "0.3");
    ck_assert(a.ticks[0] == 0.3); /* 3 / 10, not 3 * 0.1 */
    ck_assert_int_eq(zoo_plot_axis_fit(&a, 1e5, 9e6, 0), ZOO_OK);
    ck_assert_str_eq(a.labels[1], "2M");
    ck_assert_int_eq(zoo_plot_axis_fit(&a, -7.2e-4, 2e-4, 0), ZOO_OK);
    ck_assert_str_eq(a.labels[0], "-8e-4");
}
END_TEST

/* Log ticks: 1, 2, 5 or 1 to 9 times powers of ten, or powers of ten, covering
 * the range; a log chart places them evenly by decade and leaves out y <= 0. */
START_TEST(test_log_scale) {
    static const double ranges[][2] = {{1e-3, 1e3},   {2.5, 7.2}, {0.5, 30}, {3, 3},
                                       {1e-12, 1e12}, {0.9, 1.1}, {1, 10},   {123, 4567}};
    for (size_t r = 0; r < sizeof ranges / sizeof ranges[0]; r++) {
        double lo = ranges[r][0], hi = ranges[r][1];
        zoo_plot_axis a;
        ck_assert_msg(zoo_plot_axis_fit(&a, lo, hi, 1) == ZOO_OK, "%g..%g: %s", lo, hi,
                      zoo_error_message());
        ck_assert_int_eq(a.log, 1);
        ck_assert(a.count >= 3 && a.count <= 13);
        ck_assert(a.lo > 0 && a.lo <= lo && a.hi >= hi);
        for (int i = 0; i < a.count; i++) {
            double e = floor(log10(a.ticks[i]) + 1e-9), m = a.ticks[i] / pow(10, e);
            int whole = fabs(m - round(m)) < 1e-9 && round(m) >= 1 && round(m) <= 9;
            if (!(lo == 0.9 &&
                  hi == 1.1)) /* narrower than 1 to 9: linear steps placed on the log scale */
                ck_assert_msg(whole, "%g..%g: tick %g", lo, hi, a.ticks[i]);
            ck_assert_double_eq_tol(label_value(a.labels[i]), a.ticks[i], a.ticks[i] * 1e-9);
            if (i > 0) ck_assert(a.ticks[i] > a.ticks[i - 1]);
        }
    }
    zoo_plot_axis a;
    ck_assert_int_eq(zoo_plot_axis_fit(&a, 1e-3, 1e3, 1), ZOO_OK);
    ck_assert_int_eq(a.count, 7);
    ck_assert_str_eq(a.labels[0], "0.001");
    ck_assert_str_eq(a.labels[6], "1000");
    ck_assert_int_eq(zoo_plot_axis_fit(&a, 1e-12, 1e12, 1), ZOO_OK);
    ck_assert_str_eq(a.labels[0], "1e-12");
    ck_assert_int_eq(zoo_plot_axis_fit(&a, 2.5, 7.2, 1), ZOO_OK);
    ck_assert_str_eq(a.labels[0], "2"); /* 2, 3, ..., 8 */
    ck_assert_str_eq(a.labels[a.count - 1], "8");

    /* in a chart: y = 1, 10, 100 fall evenly; 0 and -1 are left out */
    double x[5] = {0, 1, 2, 3, 4}, y[5] = {1, 10, 0, -1, 100};
    zoo_plot_series s = {.name = "decades", .x = x, .y = y, .n = 5};
    zoo_line_chart c = {.series = &s, .count = 1, .y_log = 1};
    size_t len;
    char *svg = render_line(&c, &len);
    xdoc d = xml_parse(svg, len);
    const char *p = xml_attr(xml_nth_in(&d, "polyline", "curves", 0), "points");
    double px[3], py[3];
    ck_assert_int_eq(
        sscanf(p, "%lf,%lf %lf,%lf %lf,%lf", &px[0], &py[0], &px[1], &py[1], &px[2], &py[2]), 6);
    ck_assert_int_eq(xml_count_points(p), 3);
    ck_assert_double_eq_tol(py[0] - py[1], py[1] - py[2], 0.15);
    ck_assert(py[0] > py[1]);
    xdoc_free(&d);
    free(svg);
}
END_TEST

START_TEST(test_same_input_same_bytes) {
    zoo_plot_series series[4];
    zoo_line_chart c = loss_chart(series);
    size_t len1, len2;
    char *a = render_line(&c, &len1), *b = render_line(&c, &len2);
    ck_assert_uint_eq(len1, len2);
    ck_assert(memcmp(a, b, len1) == 0);
    /* the file holds the same bytes */
    char dir[] = "/tmp/zoo-svg-test.XXXXXX", path[64];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/loss.svg", dir);
    ck_assert_int_eq(zoo_line_chart_write(&c, path), ZOO_OK);
    size_t flen;
    char *f = zoo_read_file(path, &flen);
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(flen, len1);
    ck_assert(memcmp(f, a, len1) == 0);
    /* no "-0" anywhere: every "-0" is followed by a decimal point */
    for (const char *p = a; (p = strstr(p, "-0")); p += 2) ck_assert_int_eq(p[2], '.');
    free(f);
    free(a);
    free(b);
    unlink(path);
    rmdir(dir);
}
END_TEST

/* ---- Bar chart --------------------------------------------------------------------- */

START_TEST(test_bars_and_baselines) {
    const char *names[4] = {"word2vec", "elmo", "gpt", "bert & co"};
    double testament[4] = {0.812, 0.874, NAN, 0.9312}, books[4] = {0.41, 0.5567, 0.60, 0.0};
    zoo_bar_group groups[3] = {{.name = "testament", .values = testament, .baseline = 0.768},
                               {.name = "book group", .values = books, .baseline = 0.305},
                               {.name = "no baseline", .values = books, .baseline = NAN}};
    zoo_bar_chart c = {.title = "Probe accuracy",
                       .y_label = "test accuracy",
                       .baseline_key = "majority baseline",
                       .bar_names = names,
                       .bar_count = 4,
                       .groups = groups,
                       .group_count = 3};
    char *svg, *again;
    size_t len, len2;
    ck_assert_int_eq(zoo_bar_chart_svg(&c, &svg, &len), ZOO_OK);
    xdoc d = xml_parse(svg, len);
    ck_assert_int_eq(xml_count(&d, "rect", "bar"), 11); /* 12 values, one NaN */
    ck_assert_int_eq(xml_count(&d, "line", "baseline"), 2);
    ck_assert_int_eq(xml_count(&d, "polyline", NULL) + xml_count(&d, "path", NULL), 0);
    /* value labels to 3 digits, in order; "n/a" for the missing one */
    static const char *values[] = {"0.812", "0.874", "n/a",  "0.931", "0.41", "0.557",
                                   "0.6",   "0",     "0.41", "0.557", "0.6",  "0"};
    ck_assert_int_eq(xml_count(&d, "text", "value"), 12);
    for (int i = 0; i < 12; i++)
        ck_assert_str_eq(xml_nth_in(&d, "text", "bars", i + i / 4)->text, values[i]);
    ck_assert_str_eq(xml_nth_in(&d, "text", "baselines", 0)->text, "0.768");
    ck_assert_str_eq(xml_nth_in(&d, "text", "baselines", 1)->text, "0.305");
    for (int j = 0; j < 4; j++)
        ck_assert_str_eq(xml_nth_in(&d, "text", "legend-entry", j)->text, names[j]);
    ck_assert_str_eq(xml_nth_in(&d, "text", "legend-key", 0)->text, "majority baseline");
    /* bars stand on 0 and reach their values: heights in proportion */
    const xnode *frame = xml_with_class(&d, "frame");
    zoo_plot_axis y;
    ck_assert_int_eq(zoo_plot_axis_fit(&y, 0, 0.9312, 0), ZOO_OK);
    double per_unit = atof(xml_attr(frame, "height")) / (y.hi - y.lo);
    const xnode *first = xml_nth_in(&d, "rect", "bars", 0);
    ck_assert_double_eq_tol(atof(xml_attr(first, "height")), 0.812 * per_unit, 0.1);
    const xnode *base = xml_nth_in(&d, "line", "baselines", 0);
    double bottom = atof(xml_attr(frame, "y")) + atof(xml_attr(frame, "height"));
    ck_assert_double_eq_tol(bottom - atof(xml_attr(base, "y1")), 0.768 * per_unit, 0.1);
    /* the same bytes again */
    ck_assert_int_eq(zoo_bar_chart_svg(&c, &again, &len2), ZOO_OK);
    ck_assert_uint_eq(len, len2);
    ck_assert(memcmp(svg, again, len) == 0);
    xdoc_free(&d);
    free(svg);
    free(again);
}
END_TEST

/* Negative values hang below 0, which the axis includes. */
START_TEST(test_negative_bars) {
    const char *names[2] = {"a", "b"};
    double v[2] = {-0.25, 0.5};
    zoo_bar_group g = {.name = "g", .values = v, .baseline = -0.1};
    zoo_bar_chart c = {.bar_names = names, .bar_count = 2, .groups = &g, .group_count = 1};
    char *svg;
    size_t len;
    ck_assert_int_eq(zoo_bar_chart_svg(&c, &svg, &len), ZOO_OK);
    xdoc d = xml_parse(svg, len);
    const xnode *a = xml_nth_in(&d, "rect", "bars", 0), *b = xml_nth_in(&d, "rect", "bars", 1);
    double a_top = atof(xml_attr(a, "y")),
           b_bottom = atof(xml_attr(b, "y")) + atof(xml_attr(b, "height"));
    ck_assert_double_eq_tol(a_top, b_bottom, 0.1); /* both meet at 0 */
    ck_assert_double_eq_tol(atof(xml_attr(a, "height")) * 2, atof(xml_attr(b, "height")), 0.2);
    ck_assert_str_eq(xml_nth_in(&d, "text", "bars", 0)->text, "-0.25");
    ck_assert_str_eq(xml_nth_in(&d, "text", "y-ticks", 0)->text, "-0.4");
    ck_assert_int_eq(xml_count(&d, "text", "value"), 2);
    ck_assert_int_eq(xml_count(&d, "g", "legend-key"), 0); /* no baseline_key: no key */
    xdoc_free(&d);
    free(svg);
}
END_TEST

/* The charts of docs/plots/ (four models' loss curves, two probes), rebuilt
 * into the build directory so that a change to the drawing can be looked at
 * and copied there. */
START_TEST(test_demo_charts) {
    zoo_plot_series series[4];
    zoo_line_chart c = loss_chart(series);
    c.title = "Loss against tokens seen (an example: made-up numbers)";
    const char *names[4] = {"word2vec", "elmo", "gpt", "bert"};
    double testament[4] = {0.806, 0.871, 0.889, 0.912}, books[4] = {0.462, 0.583, 0.611, 0.655};
    zoo_bar_group groups[2] = {
        {.name = "testament (2 classes)", .values = testament, .baseline = 0.768},
        {.name = "book group (7 classes)", .values = books, .baseline = 0.285}};
    zoo_bar_chart b = {.title = "Probe accuracy (an example: made-up numbers)",
                       .y_label = "test accuracy",
                       .baseline_key = "majority baseline",
                       .bar_names = names,
                       .bar_count = 4,
                       .groups = groups,
                       .group_count = 2};
    char dir[512], path[600];
    snprintf(dir, sizeof dir, "%s/svg_plot_demo", ZOO_BINARY_DIR);
    mkdir(dir, 0755);
    snprintf(path, sizeof path, "%s/loss-tokens.svg", dir);
    ck_assert_int_eq(zoo_line_chart_write(&c, path), ZOO_OK);
    snprintf(path, sizeof path, "%s/probe-accuracy.svg", dir);
    ck_assert_int_eq(zoo_bar_chart_write(&b, path), ZOO_OK);
    size_t len;
    char *svg = zoo_read_file(path, &len);
    xdoc d = xml_parse(svg, len);
    ck_assert_int_eq(xml_count(&d, "rect", "bar"), 8);
    ck_assert_int_eq(xml_count(&d, "line", "baseline"), 2);
    xdoc_free(&d);
    free(svg);
}
END_TEST

/* ---- Errors ------------------------------------------------------------------------ */

START_TEST(test_errors) {
    double x[2] = {0, 1}, y[2] = {1, 2};
    char *svg = (char *)1;
    zoo_plot_series s = {.name = "ok", .x = x, .y = y, .n = 2};
    zoo_line_chart c = {.series = &s, .count = 1};
    ck_assert_int_eq(zoo_line_chart_svg(NULL, &svg, NULL), ZOO_ERR_ARG);
    ck_assert_ptr_null(svg);
    ck_assert_int_eq(zoo_line_chart_svg(&c, NULL, NULL), ZOO_ERR_ARG);
    s.name = NULL;
    ck_assert_int_eq(zoo_line_chart_svg(&c, &svg, NULL), ZOO_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(zoo_error_message(), "series 0 has no name"));
    s = (zoo_plot_series){.name = "short", .x = x, .y = NULL, .n = 2};
    ck_assert_int_eq(zoo_line_chart_svg(&c, &svg, NULL), ZOO_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(zoo_error_message(), "\"short\""));
    s = (zoo_plot_series){.name = "neg", .dashed_n = -1};
    ck_assert_int_eq(zoo_line_chart_svg(&c, &svg, NULL), ZOO_ERR_ARG);
    s = (zoo_plot_series){.name = "ok", .x = x, .y = y, .n = 2};
    c.count = -1;
    ck_assert_int_eq(zoo_line_chart_svg(&c, &svg, NULL), ZOO_ERR_ARG);
    c.count = 1;
    c.width = 100, c.height = 100;
    ck_assert_int_eq(zoo_line_chart_svg(&c, &svg, NULL), ZOO_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(zoo_error_message(), "100x100"));
    c.width = 0, c.height = 0;
    /* a range past what doubles subtract */
    double huge[2] = {-1e308, 1e308};
    s.y = huge;
    ck_assert_int_eq(zoo_line_chart_svg(&c, &svg, NULL), ZOO_ERR_ARG);
    ck_assert_ptr_null(svg);

    zoo_plot_axis a;
    ck_assert_int_eq(zoo_plot_axis_fit(&a, 0, 10, 1), ZOO_ERR_ARG); /* log of 0 */
    ck_assert_int_eq(zoo_plot_axis_fit(&a, 2, 1, 0), ZOO_ERR_ARG);
    ck_assert_int_eq(zoo_plot_axis_fit(&a, NAN, 1, 0), ZOO_ERR_ARG);
    ck_assert_int_eq(zoo_plot_axis_fit(&a, 1e-320, 1e-320, 0), ZOO_ERR_ARG);

    const char *names[1] = {"m"};
    double v[1] = {0.5};
    zoo_bar_group g = {.name = "g", .values = v, .baseline = NAN};
    zoo_bar_chart b = {.bar_names = names, .bar_count = 0, .groups = &g, .group_count = 1};
    ck_assert_int_eq(zoo_bar_chart_svg(&b, &svg, NULL), ZOO_ERR_ARG);
    b.bar_count = 1, b.group_count = 0;
    ck_assert_int_eq(zoo_bar_chart_svg(&b, &svg, NULL), ZOO_ERR_ARG);
    b.group_count = 1, g.values = NULL;
    ck_assert_int_eq(zoo_bar_chart_svg(&b, &svg, NULL), ZOO_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(zoo_error_message(), "\"g\""));
    g.values = v, g.name = NULL;
    ck_assert_int_eq(zoo_bar_chart_svg(&b, &svg, NULL), ZOO_ERR_ARG);
    g.name = "g";
    ck_assert_int_eq(zoo_bar_chart_write(&b, "/nonexistent-dir/probes.svg"), ZOO_ERR_IO);
    ck_assert_int_eq(zoo_bar_chart_write(&b, NULL), ZOO_ERR_ARG);
}
END_TEST

Suite *make_suite(void) {
    Suite *s = suite_create("svg_plot");
    TCase *tc = tcase_create("host");
    tcase_add_test(tc, test_one_curve_per_series);
    tcase_add_test(tc, test_text_is_escaped);
    tcase_add_test(tc, test_missing_points_and_empty_series);
    tcase_add_test(tc, test_axes_cover_the_data);
    tcase_add_test(tc, test_linear_ticks_are_nice);
    tcase_add_test(tc, test_log_scale);
    tcase_add_test(tc, test_same_input_same_bytes);
    tcase_add_test(tc, test_bars_and_baselines);
    tcase_add_test(tc, test_negative_bars);
    tcase_add_test(tc, test_demo_charts);
    tcase_add_test(tc, test_errors);
    suite_add_tcase(s, tc);
    return s;
}
