/* Plots as SVG text, for the reports the host writes (zoo compare's
 * report.md embeds them): a line chart of curves on shared axes (loss against
 * tokens seen or seconds, one colour per model, its training curve solid and
 * its held-out points dashed) and a grouped bar chart (probe accuracy per
 * model, with each probe's majority baseline marked).
 *
 * The output is a standalone SVG 1.1 document (XML declaration, width, height
 * and viewBox in pixels) that is the same byte for byte for the same input:
 * numbers are formatted without printf's floating point (no locale, no "-0"),
 * and nothing depends on the time or the machine. Every text given (titles,
 * labels, names) is UTF-8 and escaped for XML; an invalid byte or a character
 * XML forbids becomes U+FFFD. Curves are <polyline> elements, one for each
 * series that has a point to draw, and nothing else in a chart is a
 * <polyline> or <path>, so a reader (or a test) can count curves.
 *
 * Colours come from the Okabe-Ito palette (readable with the common colour
 * vision deficiencies), in a fixed order, its yellow left out as too light on
 * white: series i gets colour i % 7.
 *
 * docs/plots/ shows a chart of each kind.
 *
 * Nothing here keeps a pointer to its input after returning; the functions
 * are reentrant. Errors come back as a zoo_status with a message (zoo_error). */
#ifndef ZOO_HOST_SVG_PLOT_H
#define ZOO_HOST_SVG_PLOT_H

#include <stddef.h>

/* ---- Axes ---------------------------------------------------------------- */

#define ZOO_PLOT_MAX_TICKS 24

/* An axis fitted to a data range: its ends are ticks, and every tick is a
 * "nice" number with its label. Linear: multiples of a step of 1, 2 or 5
 * times a power of ten. Log (base 10): 1, 2 and 5 (or 1 to 9, when the range
 * is narrow) times powers of ten, or every k-th power of ten over a wide
 * range. Labels have as many decimals as the step needs and no trailing
 * zeros; large values are shortened with k, M, G, T ("250k", "1.5M"), and
 * values below 0.001 or from 1e15 up are written as "2.5e-05"-like
 * mantissa-exponent pairs. */
typedef struct zoo_plot_axis {
    int log;       /* 1: base-10 log scale */
    double lo, hi; /* the axis' ends, lo < hi; lo = ticks[0], hi = ticks[count - 1] */
    int count;     /* 2 to ZOO_PLOT_MAX_TICKS */
    double ticks[ZOO_PLOT_MAX_TICKS];
    char labels[ZOO_PLOT_MAX_TICKS][24];
} zoo_plot_axis;

/* Fits *axis to cover [min, max] (min <= max, both finite; for log both > 0).
 * A single value (min == max) gets a range around it. ZOO_ERR_ARG when the
 * range is not finite, empty for log, or too wide or small to represent
 * (beyond about 1e±300). */
int zoo_plot_axis_fit(zoo_plot_axis *axis, double min, double max, int log);

/* ---- Line chart ------------------------------------------------------------ */

/* One model's curves: its solid series (x[i], y[i]) for i < n, and an optional
 * second kind drawn dashed, with a dot at each point, in the same colour
 * (held-out evaluations). A point with a NaN or infinite coordinate, or
 * y <= 0 on a log y axis, is left out (the line joins its neighbours). A
 * series with no point left draws nothing but keeps its legend entry, marked
 * "(no data)". Points are drawn in the order given. */
typedef struct zoo_plot_series {
    const char *name; /* the legend's text; required */
    const double *x, *y;
    int n; /* >= 0; x and y may be NULL when n is 0 */
    const double *dashed_x, *dashed_y;
    int dashed_n; /* >= 0; the dashed arrays may be NULL when it is 0 */
} zoo_plot_series;

typedef struct zoo_line_chart {
    const char *title, *x_label, *y_label; /* each may be NULL (left out) */
    /* The legend's key to the two line styles ("training", "held-out"),
     * shown when both are set and some series has dashed points. */
    const char *solid_key, *dashed_key;
    int y_log;         /* 1: y on a base-10 log scale */
    int width, height; /* the whole document in pixels; 0: 760 x 440. The
                        * legend takes the right side; 320 x 200 at least,
                        * 10000 at most. */
    const zoo_plot_series *series;
    int count; /* >= 0; x and y axes are shared by all series, both kinds */
} zoo_line_chart;

/* The chart as an SVG document into *svg (NUL-terminated, from malloc; the
 * caller frees it) and its length into *len (may be NULL). With no point to
 * draw at all the axes span [0, 1] ([1, 10] for log y) and say "no data".
 * ZOO_ERR_ARG names the series or field that is wrong (a NULL name, a
 * negative count, a NULL array with a positive count, a size out of range);
 * ZOO_ERR_NOMEM. *svg is NULL on error. */
int zoo_line_chart_svg(const zoo_line_chart *chart, char **svg, size_t *len);

/* ---- Bar chart -------------------------------------------------------------- */

/* One group of bars (a probe): values[j] is bar j's height (bar j is
 * zoo_bar_chart.bar_names[j]); a NaN or infinite value draws no bar but the
 * label "n/a" (a model that failed). baseline is drawn as a dashed line
 * across the group with its value beside it; NaN: none. */
typedef struct zoo_bar_group {
    const char *name;     /* under the group on the x axis; required */
    const double *values; /* bar_count values */
    double baseline;
} zoo_bar_group;

typedef struct zoo_bar_chart {
    const char *title, *y_label;  /* may be NULL */
    const char *baseline_key;     /* the legend's name for the baseline lines
                                   * ("majority baseline"); NULL: no key */
    const char *const *bar_names; /* bar_count names: legend and colours */
    int bar_count;                /* >= 1 */
    const zoo_bar_group *groups;
    int group_count;   /* >= 1 */
    int width, height; /* as for zoo_line_chart; 0: 760 x 440 */
} zoo_bar_chart;

/* The chart as an SVG document, as zoo_line_chart_svg gives it. Bars start at
 * 0; the y axis covers 0, every finite value and every baseline. Each bar is
 * labelled with its value to 3 significant digits. */
int zoo_bar_chart_svg(const zoo_bar_chart *chart, char **svg, size_t *len);

/* ---- Files ----------------------------------------------------------------- */

/* The chart's SVG written to path atomically (zoo_write_file_atomic): path
 * holds its old content or all of the new. */
int zoo_line_chart_write(const zoo_line_chart *chart, const char *path);
int zoo_bar_chart_write(const zoo_bar_chart *chart, const char *path);

#endif
