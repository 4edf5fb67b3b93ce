/* A strict little XML reader for the tests of the host's SVG output
 * (test_svg_plot.c, test_compare_report.c). No XML library is a dependency.
 * Checks: valid UTF-8 of XML characters only; an XML declaration first; one
 * root element; matching start and end tags; attributes quoted, unique per
 * element, free of '<'; '&' only in the five predefined entities or a
 * character reference; no "]]>" in text. Builds a flat tree of elements with
 * decoded attributes and the character data directly inside each. */
#ifndef ZOO_TEST_XML_READER_H
#define ZOO_TEST_XML_READER_H

#include <stddef.h>

#define XML_MAX_ATTRS 16

typedef struct xnode {
    char name[32];
    int parent, depth, nattrs;
    char attr_names[XML_MAX_ATTRS][32];
    char *attr_values[XML_MAX_ATTRS];
    char *text; /* character data directly inside, children's left out */
} xnode;

typedef struct xdoc {
    xnode *nodes;
    int count, cap;
    const char *s, *err;
    size_t pos, len;
} xdoc;

/* Parses s or fails the test (Check) with the reason and the place; free the
 * document with xdoc_free. */
xdoc xml_parse(const char *s, size_t len);
void xdoc_free(xdoc *d);

/* Attribute `name` of n, or NULL. */
const char *xml_attr(const xnode *n, const char *name);
/* Whether n's class attribute holds the word cls. */
int xml_has_class(const xnode *n, const char *cls);
/* Elements `name` (with class cls, unless cls is NULL). */
int xml_count(const xdoc *d, const char *name, const char *cls);
/* The i-th element `name` whose parent has class `parent_cls`, or NULL. */
const xnode *xml_nth_in(const xdoc *d, const char *name, const char *parent_cls, int i);
/* The first element `name`, or the first of class cls; the test fails when there is none. */
const xnode *xml_first(const xdoc *d, const char *name);
const xnode *xml_with_class(const xdoc *d, const char *cls);
/* The points of a polyline's points attribute ("x,y x,y ..."). */
int xml_count_points(const char *points);

#endif
