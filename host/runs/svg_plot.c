/* Line and bar charts as SVG text (svg_plot.h). Numbers are formatted from
 * integers (llround, then %lld), never with printf's %f or %g, whose decimal
 * point follows the locale and which print "-0". */
#include "svg_plot.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "zoo/io.h"
#include "zoo/status.h"

/* Okabe-Ito without its yellow, darkest first so that two models read apart
 * even in grey. */
static const char *const palette[] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7",
                                      "#E69F00", "#56B4E9", "#000000"};
#define PALETTE_SIZE ((int)(sizeof palette / sizeof palette[0]))

#define FONT_SIZE 12
#define GLYPH_WIDTH 7.0 /* a generous average advance of a 12px sans-serif glyph */

/* ---- Output buffer: grows; a failed allocation is sticky ------------------- */

typedef struct svgbuf {
    char *data;
    size_t len, cap;
    int nomem;
} svgbuf;

static void put_n(svgbuf *b, const char *s, size_t n) {
    if (b->nomem) return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 8192;
        while (cap < b->len + n + 1) cap *= 2;
        char *p = realloc(b->data, cap);
        if (!p) {
            b->nomem = 1;
            return;
        }
        b->data = p;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

static void put(svgbuf *b, const char *s) {
    put_n(b, s, strlen(s));
}

/* printf for the integers and literal strings of markup only: no %f or %g here. */
__attribute__((format(printf, 2, 3))) static void putf(svgbuf *b, const char *fmt, ...) {
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof tmp) {
        b->nomem = 1; /* never happens with the formats below; fail rather than cut */
        return;
    }
    put_n(b, tmp, (size_t)n);
}

/* Text as XML character data: markup characters as entities, and U+FFFD for
 * bytes that are not UTF-8 and for characters XML 1.0 does not allow. */
static void put_text(svgbuf *b, const char *s) {
    static const char replacement[] = "\xEF\xBF\xBD";
    size_t n = strlen(s);
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80) {
            const char *entity = c == '&'    ? "&amp;"
                                 : c == '<'  ? "&lt;"
                                 : c == '>'  ? "&gt;"
                                 : c == '"'  ? "&quot;"
                                 : c == '\'' ? "&apos;"
                                             : NULL;
            if (entity)
                put(b, entity);
            else if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
                put(b, replacement);
            else
                put_n(b, s + i, 1);
            i++;
            continue;
        }
        utf8proc_int32_t cp;
        utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)s + i,
                                              (utf8proc_ssize_t)(n - i < 4 ? n - i : 4), &cp);
        if (k <= 0 || cp == 0xFFFE || cp == 0xFFFF) {
            put(b, replacement);
            i++;
        } else {
            put_n(b, s + i, (size_t)k);
            i += (size_t)k;
        }
    }
}

/* The width a text will take, roughly: its characters times an average advance. */
static double text_width(const char *s) {
    double chars = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80) chars++;
    return chars * GLYPH_WIDTH;
}

/* ---- Numbers ----------------------------------------------------------------- */

/* 10^e, exact for 0 <= e <= 22. */
static double p10(int e) {
    static const double exact[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                   1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                   1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    return e >= 0 && e <= 22 ? exact[e] : pow(10, e);
}

/* s * 10^e, as exact as doubles allow (a negative power divides by an exact one). */
static double scaled(double s, int e) {
    return e >= 0 ? s * p10(e) : s / p10(-e);
}

/* floor(log10(v)) for v > 0, immune to log10 landing just below an integer. */
static int exponent_of(double v) {
    int e = (int)floor(log10(v));
    while (scaled(1, e) > v) e--;
    while (scaled(1, e + 1) <= v) e++;
    return e;
}

/* v rounded to `decimals` decimals (0 to 17), trailing zeros dropped; "0",
 * never "-0", when it rounds to zero (fewer decimals where |v| * 10^decimals
 * would not fit a long long). */
static void fmt_fixed(char *out, size_t size, double v, int decimals) {
    v = v < -1e18  ? -1e18
        : v > 1e18 ? 1e18
                   : v; /* callers stay far inside; llround must not overflow */
    while (decimals > 0 && fabs(v * p10(decimals)) >= 9e18) decimals--;
    long long r = llround(v * p10(decimals));
    if (r == 0) {
        snprintf(out, size, "0");
        return;
    }
    unsigned long long u = r < 0 ? 0ULL - (unsigned long long)r : (unsigned long long)r;
    unsigned long long unit = 1;
    for (int i = 0; i < decimals; i++) unit *= 10;
    unsigned long long frac = u % unit;
    while (decimals > 0 && frac % 10 == 0) {
        frac /= 10;
        decimals--;
    }
    if (decimals > 0) /* at most 17 digits: the bound tells the compiler so */
        snprintf(out, size, "%s%llu.%0*llu", r < 0 ? "-" : "", u / unit, decimals & 31, frac);
    else
        snprintf(out, size, "%s%llu", r < 0 ? "-" : "", u / unit);
}

/* A label for v on a scale whose finest digit is 10^step_exp, the unit chosen
 * by `magnitude` (the largest |value| the labels beside it show): plain up to
 * 9999, then k, M, G, T, and mantissa-exponent from 1e15 and below 0.001. */
static void fmt_label(char *out, size_t size, double v, int step_exp, double magnitude) {
    if (v == 0 || !(magnitude > 0)) {
        snprintf(out, size, "0");
        return;
    }
    int unit = 0, scientific = 0;
    const char *suffix = "";
    if (magnitude >= 1e15 || magnitude < 1e-3)
        unit = exponent_of(magnitude), scientific = 1;
    else if (magnitude >= 1e12)
        unit = 12, suffix = "T";
    else if (magnitude >= 1e9)
        unit = 9, suffix = "G";
    else if (magnitude >= 1e6)
        unit = 6, suffix = "M";
    else if (magnitude >= 1e4)
        unit = 3, suffix = "k";
    int decimals = unit - step_exp;
    decimals = decimals < 0 ? 0 : decimals > 15 ? 15 : decimals;
    char digits[40], label[64];
    fmt_fixed(digits, sizeof digits, scaled(v, -unit), decimals);
    if (scientific)
        snprintf(label, sizeof label, "%se%d", digits, unit);
    else
        snprintf(label, sizeof label, "%s%s", digits, suffix);
    size_t n =
        strlen(label); /* at most 23 characters: a sign, 4 digits, a point, 15 decimals, 2 more */
    n = n < size ? n : size - 1;
    memcpy(out, label, n);
    out[n] = '\0';
}

/* A pixel coordinate, to a tenth of a pixel. */
static void fmt_px(char *out, size_t size, double v) {
    v = v < -1e7 ? -1e7 : v > 1e7 ? 1e7 : v;
    fmt_fixed(out, size, v, 1);
}

/* ---- Axes ---------------------------------------------------------------------- */

static int fit_linear(zoo_plot_axis *a, double min, double max) {
    double magnitude = fmax(fabs(min), fabs(max));
    if (!isfinite(max - min))
        return zoo_error(ZOO_ERR_ARG, "plot axis: the range [%g, %g] is too wide to plot", min,
                         max);
    if (max - min <= magnitude * 1e-9) { /* one value: a range around it */
        double mid = 0.5 * (min + max), half = magnitude * 0.1;
        if (magnitude == 0)
            min = 0, max = 1;
        else
            min = mid - half, max = mid + half;
    }
    double raw = (max - min) / 5;
    if (!(raw > 0) || !isfinite(raw))
        return zoo_error(ZOO_ERR_ARG, "plot axis: the range [%g, %g] cannot be divided", min, max);
    int e = exponent_of(raw);
    if (e < -300 || e > 300)
        return zoo_error(ZOO_ERR_ARG, "plot axis: the range [%g, %g] is beyond what a plot shows",
                         min, max);
    double f = scaled(raw, -e), m = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10;
    if (m == 10) m = 1, e++;
    /* tick k is k * m * 10^e, computed so that 3 * 0.1 comes out as 0.3 */
    double k_lo = floor(scaled(min, -e) / m + 1e-9), k_hi = ceil(scaled(max, -e) / m - 1e-9);
    if (scaled(k_lo * m, e) > min) k_lo--;
    if (scaled(k_hi * m, e) < max) k_hi++;
    if (k_hi - k_lo + 1 > ZOO_PLOT_MAX_TICKS)
        return zoo_error(ZOO_ERR_ARG, "plot axis: [%g, %g] needs too many ticks", min, max);
    a->log = 0;
    a->count = (int)(k_hi - k_lo) + 1;
    double top = fmax(fabs(scaled(k_lo * m, e)), fabs(scaled(k_hi * m, e)));
    for (int i = 0; i < a->count; i++) {
        a->ticks[i] = scaled((k_lo + i) * m, e) + 0.0; /* + 0.0: no -0 */
        fmt_label(a->labels[i], sizeof a->labels[i], a->ticks[i], e, top);
    }
    a->lo = a->ticks[0];
    a->hi = a->ticks[a->count - 1];
    return ZOO_OK;
}

/* Log ticks from the mantissas in `set` (1, 2, 5 or 1 to 9), every `every`-th
 * power of ten when set is {1}: the largest tick at or below min to the
 * smallest at or above max. Returns the count, or more than the maximum. */
static int log_ticks(zoo_plot_axis *a, double min, double max, const int *set, int set_n, int every,
                     int e_lo, int e_hi) {
    int count = 0;
    e_lo = (int)floor((double)e_lo / every) * every;
    for (int e = e_lo; e <= e_hi; e += every) {
        for (int j = 0; j < set_n; j++) {
            double t = scaled(set[j], e);
            int after_min =
                j + 1 < set_n ? scaled(set[j + 1], e) > min : scaled(1, e + every) > min;
            if (!after_min) continue; /* a later tick is still at or below min */
            if (count == ZOO_PLOT_MAX_TICKS) return count + 1;
            a->ticks[count] = t;
            fmt_label(a->labels[count], sizeof a->labels[count], t, e, t);
            count++;
            if (t >= max) return count;
        }
    }
    return count;
}

static int fit_log(zoo_plot_axis *a, double min, double max) {
    if (!(min > 0))
        return zoo_error(ZOO_ERR_ARG, "plot axis: a log scale needs values above 0, not %g", min);
    if (max / min < 1 + 1e-9) min /= 2, max *= 2; /* one value: a range around it */
    int e_lo = exponent_of(min), e_hi = exponent_of(max);
    if (scaled(1, e_hi) < max) e_hi++;
    if (e_lo < -300 || e_hi > 300)
        return zoo_error(ZOO_ERR_ARG, "plot axis: [%g, %g] is beyond what a plot shows", min, max);
    static const int ones[] = {1}, one_two_five[] = {1, 2, 5}, all[] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    int decades = e_hi - e_lo, count;
    if (decades >= 3) {
        int every = (decades + 9) / 10; /* at most about 11 ticks */
        count = log_ticks(a, min, max, ones, 1, every, e_lo, e_hi + every);
    } else {
        count = log_ticks(a, min, max, one_two_five, 3, 1, e_lo, e_hi);
        if (count < 4) count = log_ticks(a, min, max, all, 9, 1, e_lo, e_hi);
        if (count < 4) { /* narrower than 1 to 9 resolves: linear ticks, placed on the log scale */
            zoo_plot_axis linear;
            if (fit_linear(&linear, min, max) == ZOO_OK && linear.lo > 0) {
                *a = linear;
                a->log = 1;
                return ZOO_OK;
            }
            count = log_ticks(a, min, max, all, 9, 1, e_lo, e_hi);
        }
    }
    if (count > ZOO_PLOT_MAX_TICKS || count < 2)
        return zoo_error(ZOO_ERR_ARG, "plot axis: no log ticks fit [%g, %g]", min, max);
    a->log = 1;
    a->count = count;
    a->lo = a->ticks[0];
    a->hi = a->ticks[count - 1];
    return ZOO_OK;
}

int zoo_plot_axis_fit(zoo_plot_axis *axis, double min, double max, int log) {
    if (!axis) return zoo_error(ZOO_ERR_ARG, "zoo_plot_axis_fit: axis is NULL");
    if (!isfinite(min) || !isfinite(max) || min > max)
        return zoo_error(ZOO_ERR_ARG, "plot axis: [%g, %g] is not a finite range", min, max);
    memset(axis, 0, sizeof *axis);
    return log ? fit_log(axis, min, max) : fit_linear(axis, min, max);
}

/* Where v falls on the axis, 0 at lo to 1 at hi. */
static double axis_frac(const zoo_plot_axis *a, double v) {
    if (a->log) return (log10(v) - log10(a->lo)) / (log10(a->hi) - log10(a->lo));
    return (v - a->lo) / (a->hi - a->lo);
}

/* ---- Shared drawing ---------------------------------------------------------- */

typedef struct frame {
    double width, height;            /* the document */
    double left, right, top, bottom; /* the plot area */
} frame;

static double px_x(const frame *f, const zoo_plot_axis *a, double v) {
    return f->left + axis_frac(a, v) * (f->right - f->left);
}

static double px_y(const frame *f, const zoo_plot_axis *a, double v) {
    return f->bottom - axis_frac(a, v) * (f->bottom - f->top);
}

/* <text x y attrs>content</text>, content escaped. */
static void text_at(svgbuf *b, double x, double y, const char *attrs, const char *content) {
    char xs[32], ys[32];
    fmt_px(xs, sizeof xs, x);
    fmt_px(ys, sizeof ys, y);
    putf(b, "<text x=\"%s\" y=\"%s\"%s%s>", xs, ys, *attrs ? " " : "", attrs);
    put_text(b, content);
    put(b, "</text>\n");
}

static void line_at(svgbuf *b, double x1, double y1, double x2, double y2, const char *attrs) {
    char a[32], c[32], d[32], e[32];
    fmt_px(a, sizeof a, x1);
    fmt_px(c, sizeof c, y1);
    fmt_px(d, sizeof d, x2);
    fmt_px(e, sizeof e, y2);
    putf(b, "<line x1=\"%s\" y1=\"%s\" x2=\"%s\" y2=\"%s\" %s/>\n", a, c, d, e, attrs);
}

static void rect_at(svgbuf *b, double x, double y, double w, double h, const char *attrs) {
    char a[32], c[32], d[32], e[32];
    fmt_px(a, sizeof a, x);
    fmt_px(c, sizeof c, y);
    fmt_px(d, sizeof d, w);
    fmt_px(e, sizeof e, h);
    putf(b, "<rect x=\"%s\" y=\"%s\" width=\"%s\" height=\"%s\" %s/>\n", a, c, d, e, attrs);
}

static int check_size(const char *what, int *width, int *height) {
    if (*width == 0 && *height == 0) *width = 760, *height = 440;
    if (*width < 320 || *width > 10000 || *height < 200 || *height > 10000)
        return zoo_error(ZOO_ERR_ARG, "%s: size %dx%d is outside 320x200 to 10000x10000", what,
                         *width, *height);
    return ZOO_OK;
}

/* The document's opening (its height may have grown to fit the legend), the
 * white background and the title. */
static void open_document(svgbuf *b, const frame *f, const char *title) {
    int w = (int)f->width, h = (int)f->height;
    put(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    putf(b,
         "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%d\" height=\"%d\" "
         "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"%d\">\n",
         w, h, w, h, FONT_SIZE);
    if (title) {
        put(b, "<title>");
        put_text(b, title);
        put(b, "</title>\n");
    }
    putf(b, "<rect class=\"background\" width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n", w, h);
    if (title)
        text_at(b, f->width / 2, 22,
                "class=\"title\" text-anchor=\"middle\" font-size=\"15\" font-weight=\"bold\"",
                title);
}

/* Gridlines and tick labels of the y axis (and of x when given), the plot's
 * frame and the axis labels. */
static void draw_axes(svgbuf *b, const frame *f, const zoo_plot_axis *x, const zoo_plot_axis *y,
                      const char *x_label, const char *y_label, double y_label_x) {
    put(b, "<g class=\"grid\" stroke=\"#dddddd\" stroke-width=\"1\">\n");
    for (int i = 0; i < y->count; i++)
        line_at(b, f->left, px_y(f, y, y->ticks[i]), f->right, px_y(f, y, y->ticks[i]), "");
    for (int i = 0; x && i < x->count; i++)
        line_at(b, px_x(f, x, x->ticks[i]), f->top, px_x(f, x, x->ticks[i]), f->bottom, "");
    put(b, "</g>\n");
    rect_at(b, f->left, f->top, f->right - f->left, f->bottom - f->top,
            "class=\"frame\" fill=\"none\" stroke=\"#444444\" stroke-width=\"1\"");
    put(b, "<g class=\"y-ticks\" text-anchor=\"end\" fill=\"#333333\">\n");
    for (int i = 0; i < y->count; i++)
        text_at(b, f->left - 6, px_y(f, y, y->ticks[i]) + 4, "", y->labels[i]);
    put(b, "</g>\n");
    if (x) {
        put(b, "<g class=\"x-ticks\" text-anchor=\"middle\" fill=\"#333333\">\n");
        for (int i = 0; i < x->count; i++)
            text_at(b, px_x(f, x, x->ticks[i]), f->bottom + 17, "", x->labels[i]);
        put(b, "</g>\n");
    }
    if (x_label)
        text_at(b, (f->left + f->right) / 2, f->bottom + 38,
                "class=\"x-label\" text-anchor=\"middle\"", x_label);
    if (y_label) {
        char xs[32], ys[32], attrs[160];
        double cy = (f->top + f->bottom) / 2;
        fmt_px(xs, sizeof xs, y_label_x);
        fmt_px(ys, sizeof ys, cy);
        snprintf(attrs, sizeof attrs,
                 "class=\"y-label\" text-anchor=\"middle\" transform=\"rotate(-90 %s %s)\"", xs,
                 ys);
        text_at(b, y_label_x, cy, attrs, y_label);
    }
}

static int finish(svgbuf *b, char **svg, size_t *len) {
    put(b, "</svg>\n");
    if (b->nomem) {
        free(b->data);
        return zoo_error(ZOO_ERR_NOMEM, "svg plot: out of memory");
    }
    *svg = b->data;
    if (len) *len = b->len;
    return ZOO_OK;
}

/* The left margin: room for the widest y tick label and the rotated y label. */
static double left_margin(const zoo_plot_axis *y, const char *y_label) {
    double widest = 0;
    for (int i = 0; i < y->count; i++) widest = fmax(widest, text_width(y->labels[i]));
    return 14 + (y_label ? 20 : 0) + widest;
}

/* ---- Line chart ----------------------------------------------------------------- */

static int usable(double x, double y, int y_log) {
    return isfinite(x) && isfinite(y) && (!y_log || y > 0);
}

/* The points of one kind of a series, as arrays and a count. */
typedef struct run {
    const double *x, *y;
    int n;
} run;

static int drawn_points(run r, int y_log) {
    int k = 0;
    for (int i = 0; i < r.n; i++) k += usable(r.x[i], r.y[i], y_log);
    return k;
}

/* One polyline through r's usable points (a point rounding to the pixel
 * position of the one before it left out), dashed with a dot at each point
 * for the second kind, a dot alone when only one position is left. */
static void draw_run(svgbuf *b, const frame *f, const zoo_plot_axis *x, const zoo_plot_axis *y,
                     run r, int y_log, const char *colour, int dashed) {
    putf(b,
         "<polyline class=\"series%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"%s\" "
         "stroke-linejoin=\"round\"%s points=\"",
         dashed ? " dashed" : "", colour, dashed ? "1.75" : "2",
         dashed ? " stroke-dasharray=\"6,4\"" : "");
    char last[64] = "", cur[64], xs[32], ys[32];
    int positions = 0;
    for (int i = 0; i < r.n; i++) {
        if (!usable(r.x[i], r.y[i], y_log)) continue;
        fmt_px(xs, sizeof xs, px_x(f, x, r.x[i]));
        fmt_px(ys, sizeof ys, px_y(f, y, r.y[i]));
        snprintf(cur, sizeof cur, "%s,%s", xs, ys);
        if (strcmp(cur, last) == 0) continue;
        put(b, positions ? " " : "");
        put(b, cur);
        memcpy(last, cur, sizeof cur);
        positions++;
    }
    put(b, "\"/>\n");
    if (!dashed && positions > 1) return;
    last[0] = '\0';
    for (int i = 0; i < r.n; i++) {
        if (!usable(r.x[i], r.y[i], y_log)) continue;
        fmt_px(xs, sizeof xs, px_x(f, x, r.x[i]));
        fmt_px(ys, sizeof ys, px_y(f, y, r.y[i]));
        snprintf(cur, sizeof cur, "%s,%s", xs, ys);
        if (strcmp(cur, last) == 0) continue;
        memcpy(last, cur, sizeof cur);
        putf(b, "<circle class=\"point\" cx=\"%s\" cy=\"%s\" r=\"3\" fill=\"%s\"/>\n", xs, ys,
             colour);
    }
}

static int check_run(const char *name, const char *kind, const double *x, const double *y, int n) {
    if (n < 0)
        return zoo_error(ZOO_ERR_ARG, "line chart: series \"%s\": %s count %d < 0", name, kind, n);
    if (n > 0 && (!x || !y))
        return zoo_error(ZOO_ERR_ARG, "line chart: series \"%s\": %d %s points but no arrays", name,
                         n, kind);
    return ZOO_OK;
}

int zoo_line_chart_svg(const zoo_line_chart *c, char **svg, size_t *len) {
    if (!svg) return zoo_error(ZOO_ERR_ARG, "zoo_line_chart_svg: svg is NULL");
    *svg = NULL;
    if (!c) return zoo_error(ZOO_ERR_ARG, "zoo_line_chart_svg: chart is NULL");
    int width = c->width, height = c->height, st;
    if ((st = check_size("line chart", &width, &height))) return st;
    if (c->count < 0 || (c->count > 0 && !c->series))
        return zoo_error(ZOO_ERR_ARG, "line chart: %d series at %p", c->count,
                         (const void *)c->series);

    /* the data's extent, over both kinds of every series */
    double x_min = INFINITY, x_max = -INFINITY, y_min = INFINITY, y_max = -INFINITY;
    int any_dashed = 0;
    for (int s = 0; s < c->count; s++) {
        const zoo_plot_series *se = &c->series[s];
        if (!se->name) return zoo_error(ZOO_ERR_ARG, "line chart: series %d has no name", s);
        if ((st = check_run(se->name, "solid", se->x, se->y, se->n)) ||
            (st = check_run(se->name, "dashed", se->dashed_x, se->dashed_y, se->dashed_n)))
            return st;
        run runs[2] = {{se->x, se->y, se->n}, {se->dashed_x, se->dashed_y, se->dashed_n}};
        for (int k = 0; k < 2; k++)
            for (int i = 0; i < runs[k].n; i++) {
                if (!usable(runs[k].x[i], runs[k].y[i], c->y_log)) continue;
                any_dashed |= k;
                x_min = fmin(x_min, runs[k].x[i]), x_max = fmax(x_max, runs[k].x[i]);
                y_min = fmin(y_min, runs[k].y[i]), y_max = fmax(y_max, runs[k].y[i]);
            }
    }
    int empty = x_min > x_max;
    if (empty) x_min = 0, x_max = 1, y_min = c->y_log ? 1 : 0, y_max = c->y_log ? 10 : 1;
    zoo_plot_axis x, y;
    if ((st = zoo_plot_axis_fit(&x, x_min, x_max, 0)) ||
        (st = zoo_plot_axis_fit(&y, y_min, y_max, c->y_log)))
        return st;

    /* layout: the legend on the right, as wide as its longest text */
    int show_key = any_dashed && c->solid_key && c->dashed_key;
    double legend_text = 0;
    for (int s = 0; s < c->count; s++) {
        double w = text_width(c->series[s].name);
        int has =
            drawn_points((run){c->series[s].x, c->series[s].y, c->series[s].n}, c->y_log) +
            drawn_points((run){c->series[s].dashed_x, c->series[s].dashed_y, c->series[s].dashed_n},
                         c->y_log);
        legend_text = fmax(legend_text, w + (has ? 0 : text_width(" (no data)")));
    }
    if (show_key)
        legend_text = fmax(legend_text, fmax(text_width(c->solid_key), text_width(c->dashed_key)));
    double legend_w =
        c->count > 0 || show_key ? fmin(20 + 28 + 6 + legend_text + 8, width * 0.4) : 0;
    int entries = c->count + (show_key ? 3 : 0);
    double legend_bottom = (c->title ? 40 : 16) + 8 + entries * 20 + 10;
    frame f = {.width = width, .height = fmax(height, legend_bottom)};
    f.top = c->title ? 40 : 16;
    f.left = left_margin(&y, c->y_label);
    f.right = f.width - legend_w - 16;
    f.bottom = f.height - (c->x_label ? 50 : 28);
    if (f.right - f.left < 40) f.right = f.left + 40;

    svgbuf b = {0};
    open_document(&b, &f, c->title);
    draw_axes(&b, &f, &x, &y, c->x_label, c->y_label, 18);
    if (empty)
        text_at(&b, (f.left + f.right) / 2, (f.top + f.bottom) / 2,
                "class=\"no-data\" text-anchor=\"middle\" fill=\"#777777\"", "no data");

    /* the dashed kind first, so that the training curves stay on top */
    put(&b, "<g class=\"curves\">\n");
    for (int k = 1; k >= 0; k--)
        for (int s = 0; s < c->count; s++) {
            const zoo_plot_series *se = &c->series[s];
            run r =
                k ? (run){se->dashed_x, se->dashed_y, se->dashed_n} : (run){se->x, se->y, se->n};
            if (drawn_points(r, c->y_log))
                draw_run(&b, &f, &x, &y, r, c->y_log, palette[s % PALETTE_SIZE], k);
        }
    put(&b, "</g>\n");

    put(&b, "<g class=\"legend\">\n");
    double lx = f.right + 20, ly = f.top + 8;
    for (int s = 0; s < c->count; s++, ly += 20) {
        const zoo_plot_series *se = &c->series[s];
        int has = drawn_points((run){se->x, se->y, se->n}, c->y_log) +
                  drawn_points((run){se->dashed_x, se->dashed_y, se->dashed_n}, c->y_log);
        char attrs[96];
        snprintf(attrs, sizeof attrs, "stroke=\"%s\" stroke-width=\"3\"",
                 palette[s % PALETTE_SIZE]);
        put(&b, "<g class=\"legend-entry\">\n");
        line_at(&b, lx, ly, lx + 28, ly, attrs);
        char xs[32], ys[32];
        fmt_px(xs, sizeof xs, lx + 34);
        fmt_px(ys, sizeof ys, ly + 4);
        putf(&b, "<text x=\"%s\" y=\"%s\">", xs, ys);
        put_text(&b, se->name);
        if (!has) put(&b, "<tspan fill=\"#777777\"> (no data)</tspan>");
        put(&b, "</text>\n</g>\n");
    }
    if (show_key) {
        ly += 20;
        put(&b, "<g class=\"legend-key\">\n");
        line_at(&b, lx, ly, lx + 28, ly, "stroke=\"#555555\" stroke-width=\"2\"");
        text_at(&b, lx + 34, ly + 4, "", c->solid_key);
        ly += 20;
        line_at(&b, lx, ly, lx + 28, ly,
                "stroke=\"#555555\" stroke-width=\"1.75\" stroke-dasharray=\"6,4\"");
        char xs[32], ys[32];
        fmt_px(xs, sizeof xs, lx + 14);
        fmt_px(ys, sizeof ys, ly);
        putf(&b, "<circle cx=\"%s\" cy=\"%s\" r=\"3\" fill=\"#555555\"/>\n", xs, ys);
        text_at(&b, lx + 34, ly + 4, "", c->dashed_key);
        put(&b, "</g>\n");
    }
    put(&b, "</g>\n");
    return finish(&b, svg, len);
}

/* ---- Bar chart ------------------------------------------------------------------ */

int zoo_bar_chart_svg(const zoo_bar_chart *c, char **svg, size_t *len) {
    if (!svg) return zoo_error(ZOO_ERR_ARG, "zoo_bar_chart_svg: svg is NULL");
    *svg = NULL;
    if (!c) return zoo_error(ZOO_ERR_ARG, "zoo_bar_chart_svg: chart is NULL");
    int width = c->width, height = c->height, st;
    if ((st = check_size("bar chart", &width, &height))) return st;
    if (c->bar_count < 1 || !c->bar_names)
        return zoo_error(ZOO_ERR_ARG, "bar chart: %d bar names at %p; at least one is needed",
                         c->bar_count, (const void *)c->bar_names);
    if (c->group_count < 1 || !c->groups)
        return zoo_error(ZOO_ERR_ARG, "bar chart: %d groups at %p; at least one is needed",
                         c->group_count, (const void *)c->groups);
    for (int j = 0; j < c->bar_count; j++)
        if (!c->bar_names[j]) return zoo_error(ZOO_ERR_ARG, "bar chart: bar %d has no name", j);

    /* the y range: 0, every finite value and every baseline */
    double lo = 0, hi = 0;
    int any_baseline = 0;
    for (int g = 0; g < c->group_count; g++) {
        const zoo_bar_group *gr = &c->groups[g];
        if (!gr->name) return zoo_error(ZOO_ERR_ARG, "bar chart: group %d has no name", g);
        if (!gr->values)
            return zoo_error(ZOO_ERR_ARG, "bar chart: group \"%s\" has no values", gr->name);
        for (int j = 0; j < c->bar_count; j++)
            if (isfinite(gr->values[j])) lo = fmin(lo, gr->values[j]), hi = fmax(hi, gr->values[j]);
        if (isfinite(gr->baseline)) {
            lo = fmin(lo, gr->baseline), hi = fmax(hi, gr->baseline);
            any_baseline = 1;
        }
    }
    zoo_plot_axis y;
    if ((st = zoo_plot_axis_fit(&y, lo, hi, 0))) return st;

    int show_key = any_baseline && c->baseline_key;
    double legend_text = show_key ? text_width(c->baseline_key) : 0;
    for (int j = 0; j < c->bar_count; j++)
        legend_text = fmax(legend_text, text_width(c->bar_names[j]));
    double legend_w = fmin(20 + 28 + 6 + legend_text + 8, width * 0.4);
    double legend_bottom = (c->title ? 40 : 16) + 8 + (c->bar_count + (show_key ? 2 : 0)) * 20 + 10;
    frame f = {.width = width, .height = fmax(height, legend_bottom)};
    f.top = c->title ? 40 : 16;
    f.left = left_margin(&y, c->y_label);
    f.right = f.width - legend_w - 16;
    f.bottom = f.height - 30;
    if (f.right - f.left < 40) f.right = f.left + 40;

    svgbuf b = {0};
    open_document(&b, &f, c->title);
    draw_axes(&b, &f, NULL, &y, NULL, c->y_label, 18);

    double group_w = (f.right - f.left) / c->group_count, bar_w = group_w * 0.8 / c->bar_count;
    double zero = px_y(&f, &y, 0);
    put(&b, "<g class=\"bars\">\n");
    for (int g = 0; g < c->group_count; g++) {
        const zoo_bar_group *gr = &c->groups[g];
        double gx = f.left + g * group_w;
        for (int j = 0; j < c->bar_count; j++) {
            double v = gr->values[j], bx = gx + group_w * 0.1 + j * bar_w, cx = bx + bar_w / 2;
            char label[32], attrs[200];
            if (!isfinite(v)) {
                text_at(&b, cx, zero - 4,
                        "class=\"value\" text-anchor=\"middle\" font-size=\"10\" fill=\"#777777\"",
                        "n/a");
                continue;
            }
            double top = px_y(&f, &y, v);
            snprintf(attrs, sizeof attrs, "class=\"bar\" fill=\"%s\"", palette[j % PALETTE_SIZE]);
            rect_at(&b, bx + bar_w * 0.05, fmin(top, zero), bar_w * 0.9, fabs(zero - top), attrs);
            if (v == 0)
                snprintf(label, sizeof label, "0");
            else
                fmt_label(label, sizeof label, v, exponent_of(fabs(v)) - 2, fabs(v));
            /* above a bar going up, below one going down; turned upright when
             * wider than its bar */
            double ly = v >= 0 ? fmin(top, zero) - 4 : fmax(top, zero) + 12;
            if (text_width(label) * 10 / FONT_SIZE > bar_w) {
                char xs[32], ys[32];
                fmt_px(xs, sizeof xs, cx + 3);
                fmt_px(ys, sizeof ys, ly);
                snprintf(attrs, sizeof attrs,
                         "class=\"value\" text-anchor=\"%s\" font-size=\"10\" "
                         "transform=\"rotate(-90 %s %s)\"",
                         v >= 0 ? "start" : "end", xs, ys);
                text_at(&b, cx + 3, ly, attrs, label);
            } else {
                text_at(&b, cx, ly, "class=\"value\" text-anchor=\"middle\" font-size=\"10\"",
                        label);
            }
        }
        text_at(&b, gx + group_w / 2, f.bottom + 18, "class=\"group\" text-anchor=\"middle\"",
                gr->name);
    }
    put(&b, "</g>\n");

    /* baselines last, over the bars, their values on a light patch */
    put(&b, "<g class=\"baselines\">\n");
    for (int g = 0; g < c->group_count; g++) {
        const zoo_bar_group *gr = &c->groups[g];
        if (!isfinite(gr->baseline)) continue;
        double gx = f.left + g * group_w, by = px_y(&f, &y, gr->baseline);
        line_at(
            &b, gx + group_w * 0.05, by, gx + group_w * 0.95, by,
            "class=\"baseline\" stroke=\"#000000\" stroke-width=\"1.5\" stroke-dasharray=\"5,3\"");
        char label[32];
        if (gr->baseline == 0)
            snprintf(label, sizeof label, "0");
        else
            fmt_label(label, sizeof label, gr->baseline, exponent_of(fabs(gr->baseline)) - 2,
                      fabs(gr->baseline));
        double tw = text_width(label) * 10 / FONT_SIZE, tx = gx + group_w * 0.95;
        rect_at(&b, tx - tw - 2, by - 13, tw + 4, 11, "fill=\"#ffffff\" fill-opacity=\"0.85\"");
        text_at(&b, tx, by - 4, "class=\"baseline-value\" text-anchor=\"end\" font-size=\"10\"",
                label);
    }
    put(&b, "</g>\n");

    put(&b, "<g class=\"legend\">\n");
    double lx = f.right + 20, ly = f.top + 8;
    for (int j = 0; j < c->bar_count; j++, ly += 20) {
        char attrs[64];
        snprintf(attrs, sizeof attrs, "fill=\"%s\"", palette[j % PALETTE_SIZE]);
        put(&b, "<g class=\"legend-entry\">\n");
        rect_at(&b, lx + 6, ly - 7, 16, 14, attrs);
        text_at(&b, lx + 34, ly + 4, "", c->bar_names[j]);
        put(&b, "</g>\n");
    }
    if (show_key) {
        ly += 20;
        put(&b, "<g class=\"legend-key\">\n");
        line_at(&b, lx, ly, lx + 28, ly,
                "stroke=\"#000000\" stroke-width=\"1.5\" stroke-dasharray=\"5,3\"");
        text_at(&b, lx + 34, ly + 4, "", c->baseline_key);
        put(&b, "</g>\n");
    }
    put(&b, "</g>\n");
    return finish(&b, svg, len);
}

/* ---- Files ---------------------------------------------------------------------- */

static int write_svg(int st, char *svg, size_t len, const char *path) {
    if (st == ZOO_OK) st = zoo_write_file_atomic(path, svg, len);
    free(svg);
    return st;
}

int zoo_line_chart_write(const zoo_line_chart *chart, const char *path) {
    if (!path) return zoo_error(ZOO_ERR_ARG, "zoo_line_chart_write: path is NULL");
    char *svg;
    size_t len;
    int st = zoo_line_chart_svg(chart, &svg, &len);
    return write_svg(st, svg, len, path);
}

int zoo_bar_chart_write(const zoo_bar_chart *chart, const char *path) {
    if (!path) return zoo_error(ZOO_ERR_ARG, "zoo_bar_chart_write: path is NULL");
    char *svg;
    size_t len;
    int st = zoo_bar_chart_svg(chart, &svg, &len);
    return write_svg(st, svg, len, path);
}
